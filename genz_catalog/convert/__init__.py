"""Hugging Face ``config.json`` -> catalog record. Pure: no I/O, no GenZ, torch or transformers.

Contract (the rest of the package relies on these keys of the record that
:func:`convert_hf_config` returns; handlers may add more):

- ``model_id`` (str | None): as passed in.
- ``family`` (str): the HF ``model_type`` (e.g. ``"llama"``, ``"deepseek_v3"``).
- ``model_type`` (str): ``"decoder-only"``, ``"encoder-decoder"`` or ``"encoder-only"``.
- ``attention_type`` (str): ``"mha"``, ``"gqa"``, ``"mqa"``, ``"mla"`` or ``"none"``.
- ``is_moe`` (bool).
- ``parameter_count`` (int): unique parameters (tied weights once, no buffers).
- ``active_parameter_count`` (int): parameters touched per token (== total for dense).
- ``text_parameter_count`` (int | None): the language model alone, for multimodal wrappers.
- ``num_layers``, ``hidden_size``, ``intermediate_size``, ``num_attention_heads``,
  ``num_key_value_heads``, ``head_dim``, ``num_experts``, ``experts_per_token``,
  ``context_length``, ``vocab_size`` (int | None).
- ``kv_values_per_token`` (int): cached K/V (or MLA latent) values per token summed over all
  layers at full attention (no sliding window), 0 for pure state-space models.
- ``memory`` (dict, JSON-serialisable): everything :mod:`genz_catalog.memory` needs to compute
  weight, KV-cache and state bytes from the record alone (per-layer windows, SSM state sizes).
- ``genz_kwargs`` (dict, JSON-serialisable): keyword arguments for ``GenZ.Models.ModelConfig``.
- ``warnings`` (list[str]): e.g. "unknown family X converted with the standard decoder handler".
"""

from __future__ import annotations

from typing import Any


class ConversionError(ValueError):
    """A config that cannot be converted; the message names the family and the missing keys."""


def convert_hf_config(config: dict[str, Any], model_id: str | None = None) -> dict[str, Any]:
    """Convert a Hugging Face ``config.json`` dict to a catalog record (see the module docstring).

    Raises :class:`ConversionError` for anything it cannot convert faithfully.
    """
    raise ConversionError("converter not implemented yet")
