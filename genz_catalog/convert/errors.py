"""The converter's one exception type."""

from __future__ import annotations


class ConversionError(ValueError):
    """A config that cannot be converted; the message names the family and the missing keys."""
