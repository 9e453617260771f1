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
    families_encoder_more,
    families_moe,
    families_multimodal,
    families_seq2seq_more,
    families_ssm,
    families_text_more,
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

# --- fam-text2: more decoder, encoder and seq2seq families (families_*_more.py) ---------------
TEXT_HANDLERS.update(
    {
        "exaone": families_text_more.llama_renamed,
        "internlm3": families_text_more.llama_renamed,
        "iquestcoder": families_text_more.llama_renamed,
        "helium": families_text_more.helium,
        "arcee": families_text_more.arcee,
        "hyperclovax": families_text_more.hyperclovax,
        "bitnet": families_text_more.bitnet,
        "diffllama": families_text_more.diffllama,
        "nanochat": families_text_more.nanochat,
        "jais2": families_text_more.jais2,
        "persimmon": families_text_more.persimmon,
        "doge": families_text_more.doge,
        "olmo3": families_text_more.olmo3,
        "vaultgemma": families_text_more.vaultgemma,
        "cwm": families_text_more.cwm,
        "granite_swa": families_text_more.granite_swa,
        "granitemoe_swa": families_text_more.granitemoe_swa,
        "apertus1p5_text": families_text_more.apertus1p5_text,
        "mellum": families_text_more.mellum,
        "solar_open": families_text_more.solar_open,
        "kolibri1": families_text_more.kolibri1,
        "sarvam_moe": families_text_more.sarvam_moe,
        "sarvam_mla": families_moe.deepseek,
        "youtu": families_text_more.youtu,
        "gpt-sw3": families_dense.gpt2,
        "ministral": families_text_more.ministral,
        "nemotron": families_text_more.nemotron,
        "exaone_moe": families_text_more.exaone_moe,
        "afmoe": families_text_more.afmoe,
        "lfm3": families_text_more.lfm3,
        "laguna": families_text_more.laguna,
        "rwkv": families_text_more.rwkv,
        "recurrent_gemma": families_text_more.recurrent_gemma,
        "mimo_v2_flash": families_text_more.mimo_v2_flash,
        "glm_moe_dsa": families_text_more.glm_moe_dsa,
        "hy_v3": families_text_more.hy_v3,
        "kimi_linear": families_text_more.kimi_linear,
        "gemma4_text": families_text_more.gemma4_text,
        "gemma4_unified_text": families_text_more.gemma4_unified_text,
        "aria_text": families_text_more.aria_text,
        "olmo_hybrid": families_text_more.olmo_hybrid,
        "cpmant": families_text_more.cpmant,
        "beam": families_text_more.beam,
        "openai-gpt": families_text_more.openai_gpt,
        "ctrl": families_text_more.ctrl,
        "biogpt": families_text_more.biogpt,
        "gpt_neox_japanese": families_text_more.gpt_neox_japanese,
        "camembert": families_encoder_more.bert_same_layout,
        "xlm-roberta": families_encoder_more.bert_same_layout,
        "data2vec-text": families_encoder_more.bert_same_layout,
        "ernie": families_encoder_more.ernie,
        "megatron-bert": families_encoder_more.megatron_bert,
        "xlm-roberta-xl": families_encoder_more.xlm_roberta_xl,
        "roberta-prelayernorm": families_encoder_more.roberta_prelayernorm,
        "xmod": families_encoder_more.xmod,
        "big_bird": families_encoder_more.big_bird,
        "roc_bert": families_encoder_more.roc_bert,
        "bert-generation": families_encoder_more.bert_generation,
        "electra": families_encoder_more.electra,
        "rembert": families_encoder_more.rembert,
        "roformer": families_encoder_more.roformer,
        "modernbert-decoder": families_encoder_more.modernbert_decoder,
        "xlm": families_encoder_more.xlm,
        "xlnet": families_encoder_more.xlnet,
        "longt5": families_seq2seq_more.longt5,
        "switch_transformers": families_seq2seq_more.switch_transformers,
        "plbart": families_seq2seq_more.plbart,
        "blenderbot-small": families_seq2seq_more.blenderbot_small,
        "mvp": families_seq2seq_more.mvp,
        "bigbird_pegasus": families_seq2seq_more.bigbird_pegasus,
        "pegasus_x": families_seq2seq_more.pegasus_x,
        "nllb-moe": families_seq2seq_more.nllb_moe,
    }
)
# --- end fam-text2 ----------------------------------------------------------------------------

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
