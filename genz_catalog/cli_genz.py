"""``genz-catalog`` commands for the genz feature (registered on :data:`genz_catalog.cli.cli`)."""

from __future__ import annotations
