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
  layers at full attention (no sliding window), 0 for pure state-space models and for
  encoder-only models (they keep no cache).
- ``memory`` (dict, JSON-serialisable): everything :mod:`genz_catalog.memory` needs to compute
  weight, KV-cache and state bytes from the record alone (per-layer windows, SSM state sizes).
- ``genz_kwargs`` (dict, JSON-serialisable): keyword arguments for ``GenZ.Models.ModelConfig``.
- ``warnings`` (list[str]): e.g. "unknown family X converted with the standard decoder handler".

Additional keys: ``genz_unsupported`` (str | None): why GenZ cannot simulate this architecture
faithfully (the simulate command raises it); ``architecture`` (dict, optional): family details
such as MLA ranks or vision-tower size.

``memory`` layout: ``{"kv_values_per_token": int, "kv_layers": [{"count", "values_per_token",
"window"}], "ssm": {"layers", "conv_state_values", "ssm_state_values"} | None}`` where values
are per layer, per token (KV) or per sequence (SSM state), and ``window`` is the sliding
window in tokens or ``None`` for full attention.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genz_catalog.convert import (
    families_dense,
    families_encoder,
    families_moe,
    families_multimodal,
    families_ssm,
)
from genz_catalog.convert._arch import Architecture, to_record
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.errors import ConversionError

__all__ = ["ConversionError", "convert_hf_config", "supported_families"]

Handler = Callable[[ConfigReader], Architecture]

# model_type -> handler for language models (usable at top level or inside a wrapper).
TEXT_HANDLERS: dict[str, Handler] = {
    "llama": families_dense.llama,
    "mistral": families_dense.mistral,
    "qwen2": families_dense.qwen2,
    # Text towers of Qwen2-VL / Qwen2.5-VL as nested by recent transformers: Qwen2 layout.
    "qwen2_vl_text": families_dense.qwen2,
    "qwen2_5_vl_text": families_dense.qwen2,
    "qwen3": families_dense.qwen3,
    "gemma": families_dense.gemma,
    "gemma2": families_dense.gemma2,
    "gemma3_text": families_dense.gemma3_text,
    "phi": families_dense.phi,
    "phi3": families_dense.phi3,
    "gpt2": families_dense.gpt2,
    "gpt_neox": families_dense.gpt_neox,
    "gptj": families_dense.gptj,
    "opt": families_dense.opt,
    "falcon": families_dense.falcon,
    "RefinedWeb": families_dense.falcon,
    "RefinedWebModel": families_dense.falcon,
    "bloom": families_dense.bloom,
    "mpt": families_dense.mpt,
    "starcoder2": families_dense.starcoder2,
    "olmo": families_dense.olmo,
    "olmo2": families_dense.olmo2,
    "granite": families_dense.granite,
    "cohere": families_dense.cohere,
    "cohere2": families_dense.cohere2,
    "stablelm": families_dense.stablelm,
    "smollm3": families_dense.smollm3,
    "mixtral": families_moe.mixtral,
    "qwen2_moe": families_moe.qwen2_moe,
    "qwen3_moe": families_moe.qwen3_moe,
    "phimoe": families_moe.phimoe,
    "granitemoe": families_moe.granitemoe,
    "dbrx": families_moe.dbrx,
    "deepseek_v2": families_moe.deepseek,
    "deepseek_v3": families_moe.deepseek,
    "mamba": families_ssm.mamba,
    "falcon_mamba": families_ssm.mamba,
    "mamba2": families_ssm.mamba2,
    "jamba": families_ssm.jamba,
    "lfm2": families_ssm.lfm2,
    "t5": families_encoder.t5,
    "mt5": families_encoder.t5,
    "umt5": families_encoder.t5,
    "bert": families_encoder.bert,
    "roberta": families_encoder.bert,
}

WRAPPER_HANDLERS: dict[
    str, Callable[[ConfigReader, Callable[[dict[str, Any], str, str], Architecture]], Architecture]
] = {
    "llava": families_multimodal.llava,
    "llava_next": families_multimodal.llava,
    "qwen2_vl": families_multimodal.qwen2_vl,
    "qwen2_5_vl": families_multimodal.qwen2_5_vl,
    "gemma3": families_multimodal.gemma3,
    "mllama": families_multimodal.mllama,
}

# Keys that make an unknown family convertible with the standard decoder handler.
_STANDARD_DECODER_KEYS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "vocab_size",
    "intermediate_size",
)


def supported_families() -> list[str]:
    """Every HF ``model_type`` with a dedicated handler, sorted."""
    return sorted({*TEXT_HANDLERS, *WRAPPER_HANDLERS})


def _convert_text(config: dict[str, Any], family: str, where: str) -> Architecture:
    """Convert a language-model config of ``family`` (``where`` prefixes key names in errors)."""
    handler = TEXT_HANDLERS.get(family)
    reader = ConfigReader(config, family, where)
    if handler is not None:
        return handler(reader)
    if all(config.get(key) is not None for key in _STANDARD_DECODER_KEYS):
        return families_dense.generic_decoder(reader)
    missing = [key for key in _STANDARD_DECODER_KEYS if config.get(key) is None]
    raise ConversionError(
        f"{family}: unsupported family and the config lacks the standard decoder key(s) "
        f"{', '.join(where + key for key in missing)}"
    )


def convert_hf_config(config: dict[str, Any], model_id: str | None = None) -> dict[str, Any]:
    """Convert a Hugging Face ``config.json`` dict to a catalog record (see the module docstring).

    Raises :class:`ConversionError` for anything it cannot convert faithfully: a config lacking
    keys its family needs (the message names the family and the keys), malformed values, or an
    unknown family without standard decoder keys. Never fills core dimensions with defaults.
    """
    if not isinstance(config, dict):
        raise ConversionError(f"config must be a JSON object, got {type(config).__name__}")
    family = config.get("model_type")
    if not isinstance(family, str) or not family:
        raise ConversionError(
            "config has no model_type; cannot tell which architecture it describes"
        )
    try:
        wrapper = WRAPPER_HANDLERS.get(family)
        if wrapper is not None:
            try:
                arch = wrapper(ConfigReader(config, family), _convert_text)
            except ConversionError as error:
                if str(error).startswith(family + ":"):
                    raise
                raise ConversionError(f"{family}: {error}") from error
            arch.family = family
        else:
            arch = _convert_text(config, family, "")
        return to_record(arch, model_id)
    except ConversionError:
        raise
    except (
        TypeError,
        ValueError,
        KeyError,
        AttributeError,
        IndexError,
        ZeroDivisionError,
        OverflowError,
    ) as error:
        # Malformed values that slipped past validation: still a conversion failure, never a crash.
        raise ConversionError(
            f"{family}: malformed config ({type(error).__name__}: {error})"
        ) from error


# --- fam-vlm: vision/audio multimodal wrappers (families_vlm, families_audio) ---------------
from genz_catalog.convert import families_audio, families_vlm  # noqa: E402

WRAPPER_HANDLERS.update(families_vlm.WRAPPERS)
WRAPPER_HANDLERS.update(families_audio.WRAPPERS)
# Qwen2.5-Omni's thinker text model has the Qwen2 layout; GLM-4.5V's the GLM-4.5 MoE layout
# (transformers builds the same parameters from the same keys).
TEXT_HANDLERS.setdefault("qwen2_5_omni_text", families_dense.qwen2)
if "glm4_moe" in TEXT_HANDLERS:
    TEXT_HANDLERS.setdefault("glm4v_moe_text", TEXT_HANDLERS["glm4_moe"])
for _family, _handler in families_vlm.TEXT_HANDLERS.items():
    TEXT_HANDLERS.setdefault(_family, _handler)
# --- end fam-vlm ------------------------------------------------------------------------------
