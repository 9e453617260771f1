"""The converter's exception types."""

from __future__ import annotations


class ConversionError(ValueError):
    """A config that cannot be converted; the message names the family and the missing keys."""


class UnhandledFamilyError(ConversionError):
    """A family with no handler whose config the generic decoder cannot count exactly.

    The one refusal an exact counter (transformers on the meta device, ``import --exact``) or
    the Hub's safetensors total may stand in for; a handled family's error never is.
    """
