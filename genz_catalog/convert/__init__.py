"""Hugging Face ``config.json`` -> catalog record. Pure: no I/O, no GenZ, torch or transformers.

The record is :class:`genz_catalog.record.ModelRecord` (its fields, what each means, and how
each is stored and shown are written down there); :func:`convert_hf_config` returns it as a
plain dict (``ModelRecord.as_dict``: JSON as it is, ``record["parameter_count"]``).

A family without a handler is refused (:class:`UnhandledFamilyError`, naming the keys the generic
decoder could not interpret) unless an exact counter is installed
(:func:`set_unhandled_family_counter`; ``GENZ_CATALOG_EXACT=1`` installs transformers' meta-device
count from :mod:`genz_catalog.exact`, imported only when a family is refused). Its records hold
``None`` for what is not known exactly (KV values, a MoE's active parameters) and
``memory == {"unknown": reason}``.

``memory`` layout: ``{"kv_values_per_token": int, "kv_layers": [{"count", "values_per_token",
"window"}], "ssm": {"layers", "conv_state_values", "ssm_state_values"} | None}`` where values
are per layer, per token (KV) or per sequence (SSM state), and ``window`` is the sliding
window in tokens or ``None`` for full attention.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from genz_catalog.convert import (
    families_dense,
    families_dense_modern,
    families_encoder,
    families_encoder_more,
    families_hybrid,
    families_legacy,
    families_moe,
    families_moe_modern,
    families_multimodal,
    families_multimodal_modern,
    families_seq2seq,
    families_seq2seq_more,
    families_ssm,
    families_text_more,
)
from genz_catalog.convert._arch import Architecture, to_record
from genz_catalog.convert._fallback import (
    EXACT_COUNT_HINT,
    refuse_unknown_family,
    uninterpretable_keys,
)
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert._spelling_table import KEY_ALIASES
from genz_catalog.convert.errors import ConversionError, UnhandledFamilyError
from genz_catalog.record import ModelRecord

__all__ = [
    "ConversionError",
    "ModelRecord",
    "UnhandledFamilyError",
    "convert_hf_config",
    "family_for_architecture",
    "set_unhandled_family_counter",
    "supported_families",
]

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
    "deepseek_v3": families_moe_modern.deepseek_v3,  # MTP modules counted apart
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
    # --- mixture-of-experts families of 2025 (families_moe_modern) ---------------
    "gpt_oss": families_moe_modern.gpt_oss,
    "glm4_moe": families_moe_modern.glm4_moe,
    "glm4_moe_lite": families_moe_modern.glm4_moe_lite,
    "deepseek_v32": families_moe_modern.deepseek_v32,
    # Custom model_type of Kimi K2 (architectures: DeepseekV3ForCausalLM).
    "kimi_k2": families_moe_modern.deepseek_v3,
    "qwen3_next": families_moe_modern.qwen3_next,
    "qwen3_5_moe_text": families_moe_modern.qwen3_5_moe_text,
    "qwen3_vl_moe_text": families_moe_modern.qwen3_vl_moe_text,
    "llama4_text": families_moe_modern.llama4_text,
    "minimax": families_moe_modern.minimax,
    "minimax_m2": families_moe_modern.minimax_m2,
    "ernie4_5_moe": families_moe_modern.ernie4_5_moe,
    "hunyuan_v1_moe": families_moe_modern.hunyuan_v1_moe,
    "olmoe": families_moe_modern.olmoe,
    "flex_olmo": families_moe_modern.olmoe,
    "granitemoeshared": families_moe_modern.granitemoeshared,
    "jetmoe": families_moe_modern.jetmoe,
    "cohere2_moe": families_moe_modern.cohere2_moe,
    "dots1": families_moe_modern.dots1,
    "lfm2_moe": families_moe_modern.lfm2_moe,
    "flint": families_moe_modern.flint,
    # Xiaomi MiMo (custom code, Qwen2 layout) with its MTP layers counted apart.
    "mimo": families_moe_modern.mimo,
    # --- end of families_moe_modern ---------------------------------------------------------
}

# --- newer dense families and legacy (pre-Llama / custom-code) decoders -----------
TEXT_HANDLERS.update(
    {
        "glm": families_dense_modern.glm,
        "glm4": families_dense_modern.glm4,
        "ernie4_5": families_dense_modern.ernie4_5,
        "hunyuan_v1_dense": families_dense_modern.hunyuan_v1_dense,
        "apertus": families_dense_modern.apertus,
        "exaone4": families_dense_modern.exaone4,
        "seed_oss": families_dense_modern.seed_oss,
        "ministral3": families_dense_modern.ministral3,
        "minicpm3": families_dense_modern.minicpm3,
        "qwen3_vl_text": families_dense_modern.qwen3_vl_text,
        "qwen3_5_text": families_dense_modern.qwen3_5_text,
        "gpt_bigcode": families_legacy.gpt_bigcode,
        "gpt_neo": families_legacy.gpt_neo,
        "codegen": families_legacy.codegen,
        "xglm": families_legacy.xglm,
        "qwen": families_legacy.qwen,
        "chatglm": families_legacy.chatglm,
        "internlm2": families_legacy.internlm2,
        "baichuan": families_legacy.baichuan,
        "minicpm": families_legacy.minicpm,
    }
)
# --- more decoder, encoder and seq2seq families (families_*_more.py) ---------------
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
        "laguna": families_text_more.laguna,
        "mimo_v2_flash": families_text_more.mimo_v2_flash,
        "glm_moe_dsa": families_text_more.glm_moe_dsa,
        "hy_v3": families_text_more.hy_v3,
        "kimi_linear": families_text_more.kimi_linear,
        "gemma4_text": families_text_more.gemma4_text,
        "gemma4_unified_text": families_text_more.gemma4_unified_text,
        "aria_text": families_text_more.aria_text,
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
        "switch_transformers": families_seq2seq_more.switch_transformers,
        "nllb-moe": families_seq2seq_more.nllb_moe,
    }
)

WRAPPER_HANDLERS: dict[
    str, Callable[[ConfigReader, Callable[[dict[str, Any], str, str], Architecture]], Architecture]
] = {
    "llava": families_multimodal.llava,
    "llava_next": families_multimodal.llava,
    "qwen2_vl": families_multimodal.qwen2_vl,
    "qwen2_5_vl": families_multimodal.qwen2_5_vl,
    "gemma3": families_multimodal.gemma3,
    "mllama": families_multimodal.mllama,
    # --- families_moe_modern wrappers (issue 11) ---
    "qwen3_vl_moe": families_moe_modern.qwen3_vl_moe,
    "qwen3_5_moe": families_moe_modern.qwen3_5_moe,
    "llama4": families_moe_modern.llama4,
}

# --- wrappers of the newer dense families --------------------------------------------------
WRAPPER_HANDLERS.update(
    {
        "qwen3_vl": families_dense_modern.qwen3_vl,
        "qwen3_5": families_dense_modern.qwen3_5,
        "mistral3": families_dense_modern.mistral3,
    }
)
# --- hybrid state-space / recurrent, encoder-decoder and audio-multimodal families -
TEXT_HANDLERS.update(
    {
        "granitemoehybrid": families_hybrid.granitemoehybrid,
        "nemotron_h": families_hybrid.nemotron_h,
        "falcon_h1": families_hybrid.falcon_h1,
        "bamba": families_hybrid.bamba,
        "zamba": families_hybrid.zamba,
        "zamba2": families_hybrid.zamba2,
        "rwkv": families_hybrid.rwkv,
        "recurrent_gemma": families_hybrid.recurrent_gemma,
        "olmo_hybrid": families_hybrid.olmo_hybrid,
        "xlstm": families_hybrid.xlstm,
        "lfm3": families_hybrid.lfm3,
        "bart": families_seq2seq.bart_like,
        "mbart": families_seq2seq.bart_like,
        "plbart": families_seq2seq.bart_like,
        "pegasus": families_seq2seq.bart_like,
        "marian": families_seq2seq.bart_like,
        "m2m_100": families_seq2seq.bart_like,
        "blenderbot": families_seq2seq.bart_like,
        "blenderbot-small": families_seq2seq.bart_like,
        "whisper": families_seq2seq.whisper,
        "led": families_seq2seq.led,
        "bigbird_pegasus": families_seq2seq.bigbird_pegasus,
        "mvp": families_seq2seq_more.mvp,
        "fsmt": families_seq2seq.fsmt,
        "pegasus_x": families_seq2seq.pegasus_x,
        "prophetnet": families_seq2seq.prophetnet,
        "longt5": families_seq2seq.longt5,
        "t5gemma": families_seq2seq.t5gemma,
        "gemma3n_text": families_multimodal_modern.gemma3n_text,
    }
)
WRAPPER_HANDLERS.update(
    {
        "gemma3n": families_multimodal_modern.gemma3n,
        "phi4_multimodal": families_multimodal_modern.phi4_multimodal,
    }
)

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


#: Legacy ``model_type`` names -> the family transformers uses today. Dispatch keeps the legacy
#: name (its handler reads legacy defaults from it); the record's ``family`` is the modern one and
#: ``hf_model_type`` keeps what the config said.
LEGACY_MODEL_TYPES = {
    "RefinedWeb": "falcon",
    "RefinedWebModel": "falcon",
}

# Suffixes of transformers model classes; what remains names the family (``DeepseekV3``).
_CLASS_SUFFIXES = (
    "ForConditionalGeneration",
    "ForCausalLM",
    "LMHeadModel",
    "ForMaskedLM",
    "ForSeq2SeqLM",
    "Model",
)
_family_by_class_stem: dict[str, str] = {}
#: Class stems the stem rule cannot find. transformers orders the words of the HunYuan classes
#: differently from their model types: Tencent's original Hunyuan-A13B config says
#: ``model_type: "hunyuan"`` (its remote code) with ``HunYuanMoEV1ForCausalLM``. MiniMax's
#: releases ship remote code (``minimax_text_01`` / ``MiniMaxText01ForCausalLM``, ``minimax_m1`` /
#: ``MiniMaxM1ForCausalLM``) for the layout transformers calls ``minimax`` (same weights, same
#: keys). Without these, those release configs were refused.
_FAMILY_BY_CLASS_STEM_EXCEPTIONS = {
    "hunyuanmoev1": "hunyuan_v1_moe",
    "hunyuandensev1": "hunyuan_v1_dense",
    "minimaxtext01": "minimax",
    "minimaxm1": "minimax",
}


def _stem(name: str) -> str:
    return name.replace("_", "").replace("-", "").replace(".", "").lower()


def family_for_architecture(class_name: str) -> str | None:
    """The handled family a transformers class name belongs to (``DeepseekV3ForCausalLM`` ->
    ``deepseek_v3``), or ``None``. Derived from the handler tables, so it needs no transformers
    and grows with every handler: the class name minus its head suffix, compared without case
    or underscores."""
    if not _family_by_class_stem:
        for family in supported_families():
            if family not in LEGACY_MODEL_TYPES:
                _family_by_class_stem.setdefault(_stem(family), family)
        _family_by_class_stem.update(_FAMILY_BY_CLASS_STEM_EXCEPTIONS)
    for suffix in _CLASS_SUFFIXES:
        if class_name.endswith(suffix) and len(class_name) > len(suffix):
            return _family_by_class_stem.get(_stem(class_name[: -len(suffix)]))
    return None


def _dispatch_family(config: dict[str, Any], model_type: str) -> tuple[str, str | None]:
    """The family whose handler converts ``config``, and a note when it is not ``model_type``.

    A ``model_type`` with no handler but a known class in ``architectures`` (``kimi_k2`` with
    ``DeepseekV3ForCausalLM``) is converted by that class's handler, and the record says so.
    """
    if model_type in TEXT_HANDLERS or model_type in WRAPPER_HANDLERS:
        return model_type, None
    architectures = config.get("architectures")
    if isinstance(architectures, list):
        for class_name in architectures:
            if isinstance(class_name, str):
                family = family_for_architecture(class_name)
                if family is not None:
                    return family, (
                        f"model_type {model_type!r} has no handler; converted as {family} "
                        f"because architectures names {class_name}"
                    )
    return model_type, None


def _respelled(config: dict[str, Any], family: str) -> dict[str, Any]:
    """``config`` with the transformers-5 name of every aliased key the family's config class
    accepts (``num_experts`` -> ``num_local_experts`` for Qwen3-MoE): the alias is kept too, so
    handlers reading either spelling work. Returns ``config`` itself when nothing is aliased."""
    aliases = KEY_ALIASES.get(family)
    if aliases is None:
        return config
    respelled = None
    for alias, canonical in aliases.items():
        if alias in config and canonical not in config:
            if respelled is None:
                respelled = dict(config)
            respelled[canonical] = config[alias]
    return config if respelled is None else respelled


def _convert_text(config: dict[str, Any], family: str, where: str) -> Architecture:
    """Convert a language-model config of ``family`` (``where`` prefixes key names in errors)."""
    config = _respelled(config, family)
    handler = TEXT_HANDLERS.get(family)
    reader = ConfigReader(config, family, where)
    if handler is not None:
        return handler(reader)
    # The fallback counts only configs it understands completely: one key it does not know
    # (experts, latent attention, SSM, hybrid layers, extra norms...) could change the count.
    unknown = uninterpretable_keys(config)
    if unknown:
        aliases = KEY_ALIASES.get(family)
        if aliases:  # an alias whose value was copied to its modern name is understood
            unknown = [key for key in unknown if key not in aliases]
        if unknown:
            raise refuse_unknown_family(family, where, unknown)
    missing = [key for key in _STANDARD_DECODER_KEYS if config.get(key) is None]
    if missing:
        raise UnhandledFamilyError(
            f"{family}: unsupported family and the config lacks the standard decoder key(s) "
            f"{', '.join(where + key for key in missing)} ({EXACT_COUNT_HINT})"
        )
    return families_dense.generic_decoder(reader)


UnhandledFamilyCounter = Callable[[dict[str, Any], "str | None", UnhandledFamilyError], dict]

#: Counts a family the converter has no handler for some other exact way (transformers on the
#: meta device: :mod:`genz_catalog.exact`). ``None`` (the default): such a family is refused.
_unhandled_family_counter: UnhandledFamilyCounter | None = None

#: ``GENZ_CATALOG_EXACT=1`` turns exact counting on in every process (import workers included).
EXACT_ENV_VAR = "GENZ_CATALOG_EXACT"


def set_unhandled_family_counter(counter: UnhandledFamilyCounter | None) -> None:
    """Install (or with ``None`` remove) the counter used for families without a handler."""
    global _unhandled_family_counter
    _unhandled_family_counter = counter


def _exact_counter_from_env(
    config: dict[str, Any], model_id: str | None, refusal: UnhandledFamilyError
) -> dict[str, Any]:
    # Imported only when a family is actually refused: torch + transformers cost seconds.
    from genz_catalog.exact import meta_device_record

    return meta_device_record(config, model_id, refusal)


if os.environ.get(EXACT_ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on"):
    _unhandled_family_counter = _exact_counter_from_env


def convert_hf_config(config: dict[str, Any], model_id: str | None = None) -> dict[str, Any]:
    """Convert a Hugging Face ``config.json`` dict to a catalog record (see the module docstring).

    Raises :class:`ConversionError` for anything it cannot convert faithfully: a config lacking
    keys its family needs (the message names the family and the keys), malformed values, or an
    unknown family whose config the generic decoder cannot fully interpret. Never fills core
    dimensions with defaults.
    """
    if not isinstance(config, dict):
        raise ConversionError(f"config must be a JSON object, got {type(config).__name__}")
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise ConversionError(
            "config has no model_type; cannot tell which architecture it describes"
        )
    family, dispatch_note = _dispatch_family(config, model_type)
    try:
        wrapper = WRAPPER_HANDLERS.get(family)
        if wrapper is not None:
            try:
                arch = wrapper(ConfigReader(_respelled(config, family), family), _convert_text)
            except ConversionError as error:
                if str(error).startswith(family + ":"):
                    raise
                raise ConversionError(f"{family}: {error}") from error
        else:
            arch = _convert_text(config, family, "")
        arch.family = LEGACY_MODEL_TYPES.get(family, family)
        if dispatch_note is not None:
            arch.warnings.append(dispatch_note)
        elif arch.family != model_type and not any(model_type in w for w in arch.warnings):
            arch.warnings.append(
                f"model_type {model_type!r} is the legacy name of {arch.family!r}; "
                f"catalogued as {arch.family}"
            )
        record = to_record(arch, model_id)
        record.hf_model_type = model_type
        return record.as_dict()
    except UnhandledFamilyError as error:
        if _unhandled_family_counter is None:
            raise
        return _unhandled_family_counter(config, model_id, error)
    except ConversionError as error:
        if dispatch_note is not None and not str(error).startswith(model_type):
            raise ConversionError(f"{model_type} (as {error})") from error
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
            f"{model_type}: malformed config ({type(error).__name__}: {error})"
        ) from error


# --- vision/audio multimodal wrappers (families_vlm, families_audio) ---------------
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

# --- encoder-decoder compositions, speech and omni models (families_omni_seq2seq) -------------
from genz_catalog.convert import families_omni_seq2seq  # noqa: E402

for _family, _handler in families_omni_seq2seq.TEXT_HANDLERS.items():
    TEXT_HANDLERS.setdefault(_family, _handler)
for _family, _wrapper in families_omni_seq2seq.WRAPPERS.items():
    WRAPPER_HANDLERS.setdefault(_family, _wrapper)
# Qwen3-Omni's thinker language model has the Qwen3-VL-MoE text layout (same keys, same weights).
TEXT_HANDLERS.setdefault("qwen3_omni_moe_text", families_moe_modern.qwen3_vl_moe_text)
# --- more text decoder / MoE families of 2026 (families_text_2026) -------------
from genz_catalog.convert import families_text_2026  # noqa: E402

TEXT_HANDLERS.update(
    {
        "mistral4": families_text_2026.mistral4,
        "axk1": families_text_2026.axk1,
        "dots3_note_text": families_text_2026.dots3_note_text,
        "mistral_large4_text": families_text_2026.mistral_large4_text,
        "hy_v4": families_text_2026.hy_v4,
        "axk2": families_text_2026.axk2,
        "minimax_m3_vl_text": families_text_2026.minimax_m3_vl_text,
        "hrm_text": families_text_2026.hrm_text,
        "dory": families_text_2026.dory,
        "zaya": families_text_2026.zaya,
        "lara_mini": families_text_2026.lara_mini,
        "bailing_hybrid": families_text_2026.bailing_hybrid,
        "step3p5": families_text_2026.step3p5,
        "muse_glimmer_text": families_text_2026.muse_glimmer_text,
    }
)
WRAPPER_HANDLERS["mistral_large4"] = families_text_2026.mistral_large4
WRAPPER_HANDLERS["step3p7"] = families_text_2026.step3p7
WRAPPER_HANDLERS["muse_glimmer"] = families_text_2026.muse_glimmer
# --- more vision/multimodal wrappers (families_vlm_more) -----------------------
from genz_catalog.convert import families_vlm_more  # noqa: E402

WRAPPER_HANDLERS.update(families_vlm_more.WRAPPERS)
for _family, _handler in families_vlm_more.TEXT_HANDLERS.items():
    TEXT_HANDLERS.setdefault(_family, _handler)
