"""``genz-catalog`` commands for the hub feature (registered on :data:`genz_catalog.cli.cli`)."""

from __future__ import annotations
