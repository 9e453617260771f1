"""Vision-language wrappers beyond LLaVA / Qwen-VL / Gemma 3 / Mllama.

Each wrapper is a vision tower (counted by :mod:`genz_catalog.convert.vision_towers`), a
projector (counted here) and a language model converted by its own text handler. The record's
``parameter_count`` is the whole model transformers loads for the image-text-to-text class,
``text_parameter_count`` the language model alone; attention type, KV cache and GenZ arguments
are the language model's (GenZ simulates the language model only).

A language model whose ``model_type`` has no dedicated handler is refused rather than counted
with the generic Llama-layout fallback: inside a wrapper nobody would notice a wrong guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    add_attention_kv,
    build_decoder,
    derived_head_dim,
    genz_dense_kwargs,
)
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.errors import ConversionError
from genz_catalog.convert.families_multimodal import (
    TEXT_CONFIG_DEFAULTS,
    _with_defaults,
    finish_multimodal,
    gemma3,
)
from genz_catalog.convert.vision_towers import TOWERS, VISION_DEFAULTS

Dispatch = Callable[[dict[str, Any], str, str], Architecture]

# Count-relevant defaults of text config classes nested by these wrappers (transformers 5.24),
# for keys a sparse ``text_config`` leaves out (Qwen2-Audio-7B's lists only six keys). Tying is
# left out on purpose: the wrapper decides it (see :func:`text_model`).
TEXT_DEFAULTS: dict[str, dict[str, Any]] = {
    **TEXT_CONFIG_DEFAULTS,
    "qwen2": {  # Qwen2Config
        "vocab_size": 151936,
        "hidden_size": 4096,
        "intermediate_size": 22016,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "max_position_embeddings": 32768,
    },
    "gemma": {  # GemmaConfig
        "vocab_size": 256000,
        "hidden_size": 3072,
        "intermediate_size": 24576,
        "num_hidden_layers": 28,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "head_dim": 256,
        "max_position_embeddings": 8192,
    },
    "gemma2": {  # Gemma2Config
        "vocab_size": 256000,
        "hidden_size": 2304,
        "intermediate_size": 9216,
        "num_hidden_layers": 26,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "max_position_embeddings": 8192,
        "sliding_window": 4096,
    },
}


def text_model(
    reader: ConfigReader,
    dispatch: Dispatch,
    default_type: str,
    warnings: list[str],
    tie_default: bool | None,
    tie_from_text: bool = False,
) -> Architecture:
    """The wrapper's language model from ``text_config`` (``default_type`` when it names none).

    Whether the LM head shares the embedding is the wrapper's decision in transformers 5: its
    top-level ``tie_word_embeddings`` (``tie_default``, the wrapper config class default, when
    absent), also switched on by ``text_config``'s flag for the families whose config class does
    so for old checkpoints (``tie_from_text``: the LLaVA family). ``tie_default=None``: the
    language model is a complete model class built from ``text_config`` alone, which decides.
    """
    from genz_catalog.convert import TEXT_HANDLERS  # the registry imports this module

    text_config = reader.sub("text_config")
    if text_config is None:
        reader.require("text_config")
        reader.check()
    text_type = text_config.get("model_type") or default_type
    if not isinstance(text_type, str) or text_type not in TEXT_HANDLERS:
        raise ConversionError(
            f"{reader.family}: language model type {text_type!r} (text_config.model_type) has no "
            "exact handler; refusing rather than guessing its parameter count"
        )
    text_config = _with_defaults(text_config, text_type, TEXT_DEFAULTS, "text_config", warnings)
    if tie_default is None:  # a full *ForCausalLM / *ForConditionalGeneration of its own
        return dispatch(text_config, text_type, "text_config.")
    tied = reader.bool("tie_word_embeddings", "tie_embedding", default=tie_default)
    if not tied and tie_from_text:
        text_reader = ConfigReader(text_config, reader.family, "text_config.")
        tied = text_reader.bool("tie_word_embeddings", default=False)
    text_config = dict(text_config)
    text_config["tie_word_embeddings"] = tied
    return dispatch(text_config, text_type, "text_config.")


def vision_tower(
    reader: ConfigReader,
    default_type: str,
    warnings: list[str],
    key: str = "vision_config",
) -> tuple[int, int, ConfigReader]:
    """(parameters, output width, reader) of the vision tower under ``key``."""
    config = reader.sub(key)
    if config is None:
        reader.require(key)
        reader.check()
    vision_type = config.get("model_type") or default_type
    counter = TOWERS.get(vision_type)
    if counter is None:
        raise ConversionError(
            f"{reader.family}: vision tower {vision_type!r} ({key}.model_type) is not supported"
        )
    merged = _with_defaults(config, vision_type, VISION_DEFAULTS, key, warnings)
    vision = ConfigReader(merged, reader.family, key + ".")
    params, width = counter(vision)
    return params, width, vision


def _done(
    arch: Architecture, vision: int, projector: int, warnings: list[str], tower: str
) -> Architecture:
    text = arch.parameter_count
    finish_multimodal(arch, text, vision, projector, warnings)
    arch.extra["vision_tower"] = tower
    return arch


def _feature_layers(reader: ConfigReader, *names: str) -> int:
    value = reader.raw(*names)
    return len(value) if isinstance(value, (list, tuple)) and value else 1


def llava_like(
    default_text: str, default_vision: str, image_newline: bool
) -> Callable[[ConfigReader, Dispatch], Architecture]:
    """LLaVA-family handler: tower, two-layer projector, optional ``image_newline`` row."""

    def handler(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
        warnings: list[str] = []
        arch = text_model(reader, dispatch, default_text, warnings, False, tie_from_text=True)
        vision, width, tower = vision_tower(reader, default_vision, warnings)
        text_hidden = arch.hidden_size or 0
        bias = reader.bool("multimodal_projector_bias", default=True)
        layers = _feature_layers(reader, "vision_feature_layer")
        projector = counting.linear(width * layers, text_hidden, bias) + counting.linear(
            text_hidden, text_hidden, bias
        )
        if image_newline:
            projector += text_hidden
        return _done(arch, vision, projector, warnings, tower.config.get("model_type", ""))

    handler.__doc__ = f"LLaVA-style wrapper (default {default_vision} + {default_text})."
    return handler


llava_onevision = llava_like("qwen2", "siglip_vision_model", image_newline=True)
llava_next_video = llava_like("llama", "clip_vision_model", image_newline=True)


def video_llava(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Video-LLaVA: separate image and video CLIP towers of one ``vision_config``."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "llama", warnings, False)
    vision, width, _ = vision_tower(reader, "clip_vision_model", warnings)
    text_hidden = arch.hidden_size or 0
    bias = reader.bool("multimodal_projector_bias", default=True)
    layers = _feature_layers(reader, "vision_feature_layer")
    projector = counting.linear(width * layers, text_hidden, bias) + counting.linear(
        text_hidden, text_hidden, bias
    )
    return _done(arch, 2 * vision, projector, warnings, "2 x clip_vision_model")


def vipllava(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """ViP-LLaVA: CLIP features of several layers, LayerNorm, two-layer projector."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "llama", warnings, False)
    vision, width, _ = vision_tower(reader, "clip_vision_model", warnings)
    text_hidden = arch.hidden_size or 0
    value = reader.raw("vision_feature_layers", "vision_feature_layer")
    layers = len(value) if isinstance(value, (list, tuple)) and value else 5
    if value is None:
        warnings.append("vision_feature_layers absent: the VipLlavaConfig default (5 layers)")
    stacked = width * layers
    projector = (
        counting.layer_norm(stacked)
        + counting.linear(stacked, text_hidden, True)
        + counting.linear(text_hidden, text_hidden, True)
    )
    return _done(arch, vision, projector, warnings, "clip_vision_model")


def paligemma(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """PaliGemma 1/2: SigLIP tower, one linear projection to ``projection_dim``, Gemma 1/2."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "gemma", warnings, True)
    vision, width, tower = vision_tower(reader, "siglip_vision_model", warnings)
    projection = tower.int("projection_dim", default=0) or reader.int(
        "projection_dim", default=2048
    )
    return _done(
        arch, vision, counting.linear(width, projection, True), warnings, "siglip_vision_model"
    )


def shieldgemma2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """ShieldGemma 2: the Gemma 3 image-text model (same classes)."""
    return gemma3(reader, dispatch)


def idefics3(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Idefics3 / SmolVLM: SigLIP-style tower, pixel shuffle, one bias-free projection."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "llama", warnings, False)
    vision_default = "smolvlm_vision" if reader.family == "smolvlm" else "idefics3_vision"
    vision, width, _ = vision_tower(reader, vision_default, warnings)
    scale = reader.int("scale_factor", default=2)
    projector = counting.linear(width * scale * scale, arch.hidden_size or 0)
    return _done(arch, vision, projector, warnings, vision_default)


def internvl(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """InternVL (transformers-native) and Qianfan-OCR: InternViT, pixel shuffle, LayerNorm +
    two-layer projector."""
    warnings: list[str] = []
    if reader.family == "qianfan_ocr":
        arch = text_model(reader, dispatch, "qwen3", warnings, False)
        vision_default = "qianfan_ocr_vision"
    else:
        arch = text_model(reader, dispatch, "qwen2", warnings, True)
        vision_default = "internvl_vision"
    vision, width, _ = vision_tower(reader, vision_default, warnings)
    ratio = reader.number("downsample_ratio", default=0.5)
    stacked = width * int(1 / ratio) ** 2
    text_hidden = arch.hidden_size or 0
    projector = (
        counting.layer_norm(stacked)
        + counting.linear(stacked, text_hidden, True)
        + counting.linear(text_hidden, text_hidden, True)
    )
    return _done(arch, vision, projector, warnings, vision_default)


def lfm2_vl(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """LFM2-VL: SigLIP2 NaViT tower, pixel unshuffle, (LayerNorm +) two-layer projector, LFM2."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "lfm2", warnings, True)
    vision, width, _ = vision_tower(reader, "siglip2_vision_model", warnings)
    factor = reader.int("downsample_factor", default=2)
    hidden = reader.int("projector_hidden_size", default=2560)
    bias = reader.bool("projector_bias", default=True)
    stacked = width * factor * factor
    projector = counting.linear(stacked, hidden, bias) + counting.linear(
        hidden, arch.hidden_size or 0, bias
    )
    if reader.bool("projector_use_layernorm", default=True):
        projector += counting.layer_norm(stacked)
    return _done(arch, vision, projector, warnings, "siglip2_vision_model")


def cohere2_vision(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Command A Vision: SigLIP tower, pixel shuffle, SwiGLU projector (halves the width)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "cohere2", warnings, True)
    vision, width, _ = vision_tower(reader, "siglip_vision_model", warnings)
    factor = reader.int("downsample_factor", default=2)
    inner = reader.int("alignment_intermediate_size", default=36864)
    projector = counting.linear(width * factor * factor, inner, True) + counting.linear(
        inner // 2, arch.hidden_size or 0, True
    )
    return _done(arch, vision, projector, warnings, "siglip_vision_model")


def lighton_ocr(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """LightOnOCR: Pixtral tower, RMSNorm + patch merger + two bias-free linears, Qwen3."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "qwen3", warnings, True)
    vision, width, _ = vision_tower(reader, "pixtral", warnings)
    merge = reader.int("spatial_merge_size", default=2)
    text_hidden = arch.hidden_size or 0
    projector = (
        width  # RMSNorm
        + counting.linear(width * merge * merge, width)
        + counting.linear(width, text_hidden)
        + counting.linear(text_hidden, text_hidden)
    )
    return _done(arch, vision, projector, warnings, "pixtral")


def deepseek_vl(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """DeepSeek-VL (transformers-native; SigLIP, Llama) and VideoLLaMA3 (rotary SigLIP, Qwen2):
    vision tower, two-layer biased projector, language model."""
    warnings: list[str] = []
    if reader.family == "video_llama_3":
        arch = text_model(reader, dispatch, "qwen2", warnings, False, tie_from_text=True)
        vision_default = "video_llama_3_vision"
    else:
        arch = text_model(reader, dispatch, "llama", warnings, True)
        vision_default = "siglip_vision_model"
    vision, width, _ = vision_tower(reader, vision_default, warnings)
    text_hidden = arch.hidden_size or 0
    projector = counting.linear(width, text_hidden, True) + counting.linear(
        text_hidden, text_hidden, True
    )
    return _done(arch, vision, projector, warnings, vision_default)


def got_ocr2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """GOT-OCR 2.0 and PP-Chart2Table (same classes): SAM encoder with neck, two strided convs
    and a linear, Qwen2."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "qwen2", warnings, True)
    vision_default = reader.family + "_vision"  # got_ocr2_vision, pp_chart2table_vision
    vision, channels, _ = vision_tower(reader, vision_default, warnings)
    text_hidden = arch.hidden_size or 0
    projector = (
        channels * 2 * channels * 9
        + 2 * channels * text_hidden * 9
        + counting.linear(text_hidden, text_hidden, True)
    )
    return _done(arch, vision, projector, warnings, vision_default + " (SAM)")


def deepseek_vl_hybrid(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """DeepSeek-VL hybrid: SigLIP tower plus a SAM high-resolution tower, neck and convs."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "llama", warnings, True)
    vision, width, _ = vision_tower(reader, "siglip_vision_model", warnings)
    high_res, channels, sam = vision_tower(
        reader, "sam_vision_model", warnings, key="high_res_vision_config"
    )
    sam_hidden = sam.int("hidden_size")
    text_hidden = arch.hidden_size or 0
    neck = sam_hidden * channels + channels * channels * 9 + 2 * counting.layer_norm(channels)
    # Two strided convs, and the learned mixing scalar high_res_vision_alpha.
    convs = channels * 2 * channels * 9 + 2 * channels * 4 * channels * 9 + 1
    aligner = (
        counting.linear(width, text_hidden // 2, True)
        + counting.linear(4 * channels, text_hidden // 2, True)
        + counting.linear(text_hidden, text_hidden, True)
    )
    return _done(
        arch, vision + high_res + neck + convs, aligner, warnings, "siglip + sam (high-res)"
    )


def glm4v_text(reader: ConfigReader) -> Architecture:
    """The GLM-4.1V / GLM-4.6V language model: GLM-4 layout (q/k/v bias, fused gate-up MLP,
    four RMSNorms per layer)."""
    arch = build_decoder(reader, q_bias=True, kv_bias=True, norms_per_layer=4, tie_default=False)
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    return arch


def glm4v(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """GLM-4.1V / GLM-4.5V (MoE text, GLM-4.5 layout) / GLM-4.6V / GLM-GA: GLM ViT with merger (counted as the tower), GLM-4 language model."""
    warnings: list[str] = []
    # Glm4vConfig and Glm4vMoeConfig (not Glm46VConfig) forward an old text_config's tying flag.
    from_text = reader.family in ("glm4v", "glm4v_moe")
    text_default = "glm4v_moe_text" if reader.family == "glm4v_moe" else "glm4v_text"
    text_config = reader.sub("text_config")
    if reader.family == "glm4v_moe" and text_config is not None and "head_dim" not in text_config:
        # Glm4vMoe's attention takes getattr(config, "head_dim", hidden_size // heads): the
        # floor division is transformers' own head width for this class, not a guess.
        hidden, heads = text_config.get("hidden_size"), text_config.get("num_attention_heads")
        if isinstance(hidden, int) and isinstance(heads, int) and heads > 0:
            text_config = {**text_config, "head_dim": hidden // heads}
            reader = ConfigReader({**reader.config, "text_config": text_config}, reader.family)
            if hidden % heads:
                warnings.append(
                    f"text_config has no head_dim: {hidden} // {heads} = {hidden // heads}, "
                    "as Glm4vMoe computes it"
                )
    arch = text_model(reader, dispatch, text_default, warnings, False, tie_from_text=from_text)
    vision, _, _ = vision_tower(reader, "glm4v", warnings)
    return _done(arch, vision, 0, warnings, "glm4v vision")


QFORMER_DEFAULTS = {  # Blip2QFormerConfig / InstructBlipQFormerConfig
    "vocab_size": 30522,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "cross_attention_frequency": 2,
    "encoder_hidden_size": 1408,
}


def _qformer_params(qformer: ConfigReader, instruct: bool) -> tuple[int, int]:
    """(parameters, width) of a Q-Former: BERT-style layers whose self-attention runs on the
    query tokens, cross-attention to the image every ``cross_attention_frequency`` layers.

    InstructBLIP's also embeds the instruction text (word and position tables) and always keeps
    the text FFN; BLIP-2's keeps it only with ``use_qformer_text_input``.
    """
    hidden = qformer.int("hidden_size")
    layers = qformer.int("num_hidden_layers")
    intermediate = qformer.int("intermediate_size")
    encoder = qformer.int("encoder_hidden_size")
    frequency = qformer.int("cross_attention_frequency")
    qformer.check()
    attention_output = counting.linear(hidden, hidden, True) + counting.layer_norm(hidden)
    ffn = (
        counting.linear(hidden, intermediate, True)
        + counting.linear(intermediate, hidden, True)
        + counting.layer_norm(hidden)
    )
    text_ffn = instruct or qformer.bool("use_qformer_text_input", default=False)
    params = counting.layer_norm(hidden)
    if instruct:
        vocab = qformer.int("vocab_size")
        positions = qformer.int("max_position_embeddings")
        qformer.check()
        params += (vocab + positions) * hidden
    for index in range(layers):
        params += 3 * counting.linear(hidden, hidden, True) + attention_output + ffn
        if index % frequency == 0:
            params += (
                counting.linear(hidden, hidden, True)
                + 2 * counting.linear(encoder, hidden, True)
                + attention_output
            )
        if text_ffn:
            params += ffn
    return params, hidden


def blip2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """BLIP-2 / InstructBLIP (+Video): EVA ViT, Q-Former with query tokens, linear projection,
    and a complete OPT or T5 language model built from ``text_config``."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "opt", warnings, None)
    vision_type = reader.family.replace("-", "_") + "_vision_model"
    vision, _, _ = vision_tower(reader, vision_type, warnings)
    qformer_config = _with_defaults(
        reader.sub("qformer_config"),
        "qformer",
        {"qformer": QFORMER_DEFAULTS},
        "qformer_config",
        warnings,
    )
    instruct = reader.family != "blip-2"
    qformer, width = _qformer_params(
        ConfigReader(qformer_config, reader.family, "qformer_config."), instruct
    )
    queries = reader.int("num_query_tokens", default=32)
    projector = queries * width + counting.linear(width, arch.hidden_size or 0, True)
    return _done(arch, vision, qformer + projector, warnings, vision_type + " + Q-Former")


PERCEIVER_DEFAULTS = {  # Idefics2PerceiverConfig
    "resampler_n_latents": 64,
    "resampler_depth": 3,
    "resampler_n_heads": 16,
    "resampler_head_dim": 96,
    "num_key_value_heads": 4,
}


def idefics2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Idefics2: SigLIP-style tower, gated MLP projection, Perceiver resampler, Mistral.

    Idefics2Config ignores the nested ``model_type`` keys (remote-code configs on the Hub name
    others) and always sets the resampler width to the language model's.
    """
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "mistral", warnings, False)
    vision_config = reader.sub("vision_config")
    if vision_config is not None:
        vision_config = {**vision_config, "model_type": "idefics2_vision"}
        reader = ConfigReader({**reader.config, "vision_config": vision_config}, reader.family)
    vision, width, _ = vision_tower(reader, "idefics2_vision", warnings)
    text_hidden = arch.hidden_size or 0
    text_intermediate = arch.intermediate_size or 0
    perceiver = ConfigReader(
        _with_defaults(
            reader.sub("perceiver_config"),
            "perceiver",
            {"perceiver": PERCEIVER_DEFAULTS},
            "perceiver_config",
            warnings,
        ),
        reader.family,
        "perceiver_config.",
    )
    latents = perceiver.int("resampler_n_latents")
    depth = perceiver.int("resampler_depth")
    heads = perceiver.int("resampler_n_heads")
    head_dim = perceiver.int("resampler_head_dim")
    kv_heads = perceiver.int("num_key_value_heads")
    perceiver.check()
    per_layer = (
        3 * text_hidden  # latents, context and post-attention RMSNorms
        + counting.attention(text_hidden, heads, kv_heads, head_dim)
        + counting.mlp(text_hidden, 4 * text_hidden, True)
    )
    connector = (
        2 * counting.linear(width, text_intermediate)
        + counting.linear(text_intermediate, text_hidden)  # gated modality projection
        + latents * text_hidden
        + depth * per_layer
        + text_hidden  # final RMSNorm
    )
    return _done(arch, vision, connector, warnings, "idefics2_vision")


def ovis2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Ovis2: visual tokenizer (ViT + visual-word head), a visual embedding table, Qwen2."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "qwen2", warnings, True)
    vision, visual_words, _ = vision_tower(reader, "ovis2_vision", warnings)
    # The table is as wide as the wrapper's own hidden_size (Ovis2Config default 1536).
    width = reader.int("hidden_size", default=1536)
    return _done(arch, vision, visual_words * width, warnings, "ovis2_vision")


KOSMOS2_TEXT_DEFAULTS = {  # Kosmos2TextConfig
    "vocab_size": 65037,
    "max_position_embeddings": 2048,
    "embed_dim": 2048,
    "layers": 24,
    "ffn_dim": 8192,
    "attention_heads": 32,
}


def kosmos2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Kosmos-2: CLIP tower, latent-query cross-attention projection, and a Magneto-style text
    decoder (sub-LayerNorm inside attention and FFN, sinusoidal positions: no table)."""
    warnings: list[str] = []
    text_config = _with_defaults(
        reader.sub("text_config"),
        "kosmos_2_text_model",
        {"kosmos_2_text_model": KOSMOS2_TEXT_DEFAULTS},
        "text_config",
        warnings,
    )
    text = ConfigReader(text_config, reader.family, "text_config.")
    width = text.int("embed_dim")
    layers = text.int("layers")
    heads = text.int("attention_heads")
    ffn = text.int("ffn_dim")
    vocab = text.int("vocab_size")
    text.check()
    head_dim = derived_head_dim(
        text, width, heads, hidden_key="embed_dim", heads_key="attention_heads", head_dim_key=None
    )
    attention = 4 * counting.linear(width, width, True)
    per_layer = (
        attention
        + 3 * counting.layer_norm(width)  # inner attention, self-attention and final LayerNorms
        + counting.mlp(width, ffn, False, True)
        + counting.layer_norm(ffn)
    )
    if text.bool("add_cross_attention", default=False):
        per_layer += attention + counting.layer_norm(width)
    tied = reader.bool("tie_word_embeddings", default=True)
    text_params = (
        vocab * width
        + layers * per_layer
        + counting.layer_norm(width)
        + (0 if tied else vocab * width)
    )
    arch = Architecture(reader.family)
    arch.parameter_count = text_params
    arch.active_parameter_count = text_params
    arch.num_layers = layers
    arch.hidden_size = width
    arch.intermediate_size = ffn
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = text.optional_int("max_position_embeddings", minimum=1)
    arch.vocab_size = vocab
    arch.attention_type = "mha"
    arch.genz_kwargs = genz_dense_kwargs(text, arch, gated=False)
    add_attention_kv(arch, None, None, 2 * width)
    vision, vision_width, _ = vision_tower(reader, "kosmos_2_vision_model", warnings)
    queries = reader.int("latent_query_num", default=64)
    projector = counting.linear(vision_width, width, True) + queries * width + attention
    return _done(arch, vision, projector, warnings, "kosmos_2_vision_model")


BLIP_TEXT_DEFAULTS = {  # BlipTextConfig
    "vocab_size": 30524,
    "hidden_size": 768,
    "encoder_hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 8,
    "max_position_embeddings": 512,
}


def blip(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """BLIP captioning: ViT (fused biased qkv) and a BERT-style text decoder that cross-attends
    to the image in every layer; MLM-style head (dense + LayerNorm, tied decoder, own bias)."""
    warnings: list[str] = []
    text_config = _with_defaults(
        reader.sub("text_config"),
        "blip_text_model",
        {"blip_text_model": BLIP_TEXT_DEFAULTS},
        "text_config",
        warnings,
    )
    text = ConfigReader(text_config, reader.family, "text_config.")
    hidden = text.int("hidden_size")
    encoder = text.int("encoder_hidden_size")
    layers = text.int("num_hidden_layers")
    heads = text.int("num_attention_heads")
    intermediate = text.int("intermediate_size")
    vocab = text.int("vocab_size")
    positions = text.int("max_position_embeddings")
    text.check()
    head_dim = derived_head_dim(text, hidden, heads)
    attention_output = counting.linear(hidden, hidden, True) + counting.layer_norm(hidden)
    per_layer = (
        3 * counting.linear(hidden, hidden, True)
        + attention_output
        + counting.linear(hidden, hidden, True)
        + 2 * counting.linear(encoder, hidden, True)
        + attention_output  # cross-attention
        + counting.linear(hidden, intermediate, True)
        + counting.linear(intermediate, hidden, True)
        + counting.layer_norm(hidden)
    )
    tied = reader.bool("tie_word_embeddings", default=True)
    text_params = (
        (vocab + positions) * hidden
        + counting.layer_norm(hidden)
        + layers * per_layer
        + counting.linear(hidden, hidden, True)
        + counting.layer_norm(hidden)  # head transform
        + (0 if tied else vocab * hidden)
        + vocab  # head bias
    )
    arch = Architecture(reader.family)
    arch.parameter_count = text_params
    arch.active_parameter_count = text_params
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = positions
    arch.vocab_size = vocab
    arch.attention_type = "mha"
    arch.genz_kwargs = genz_dense_kwargs(text, arch, gated=False)
    add_attention_kv(arch, None, None, 2 * hidden)
    warnings.append(
        "every text layer also cross-attends to the image tokens (cached per image, not per "
        "text token); GenZ simulates self-attention only"
    )
    vision, _, _ = vision_tower(reader, "blip_vision_model", warnings)
    return _done(arch, vision, 0, warnings, "blip_vision_model")


def fuyu(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Fuyu: raw image patches through one biased linear layer straight into Persimmon.

    Needs an exact ``persimmon`` text handler; without one the wrapper refuses.
    """
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "persimmon", warnings, False)
    patch = reader.int("patch_size", default=30)
    channels = reader.int("num_channels", default=3)
    projector = counting.linear(patch * patch * channels, arch.hidden_size or 0, True)
    return _done(arch, 0, projector, warnings, "none (linear patch embedding)")


def paddleocr_vl_text(reader: ConfigReader) -> Architecture:
    """PaddleOCR-VL's ERNIE-4.5-style language model: ``use_bias`` on every projection,
    ``head_dim`` 128 unless given."""
    bias = reader.bool("use_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=bias,
        kv_bias=bias,
        o_bias=bias,
        mlp_bias=bias,
        tie_default=True,
        head_dim_default=128,
    )
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    return arch


def paddleocr_vl(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """PaddleOCR-VL: NaViT SigLIP tower (no pooling head), LayerNorm + 2x2 merge projector,
    ERNIE-4.5-style language model. Configs written for the original remote code keep the
    language model's keys at the top level; those are read as its ``text_config``."""
    warnings: list[str] = []
    if reader.sub("text_config") is None:
        text_config = {key: value for key, value in reader.config.items() if key != "vision_config"}
        text_config["model_type"] = "paddleocr_vl_text"
        reader = ConfigReader({**reader.config, "text_config": text_config}, reader.family)
    arch = text_model(reader, dispatch, "paddleocr_vl_text", warnings, True, tie_from_text=True)
    vision, width, tower = vision_tower(reader, "paddleocr_vl_vision", warnings)
    merge = tower.int("spatial_merge_size", default=2)
    merged = width * merge * merge
    projector = (
        counting.layer_norm(width)
        + counting.linear(merged, merged, True)
        + counting.linear(merged, arch.hidden_size or 0, True)
    )
    return _done(arch, vision, projector, warnings, "paddleocr_vl_vision")


def hyperclovax_vision_v2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """HyperCLOVA X SEED Vision v2: Qwen2.5-VL ViT with merger, one biased linear projector,
    HyperCLOVA X language model (needs its ``hyperclovax`` text handler)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "hyperclovax", warnings, True)
    vision, width, _ = vision_tower(reader, "qwen2_5_vl_vision", warnings)
    projector = counting.linear(width, arch.hidden_size or 0, True)
    return _done(arch, vision, projector, warnings, "qwen2_5_vl_vision")


def exaone4_5(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """EXAONE 4.5: Qwen2.5-VL-style ViT with grouped K/V heads and merger, EXAONE 4 text."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "exaone4", warnings, False)
    vision, _, _ = vision_tower(reader, "exaone4_5_vision", warnings)
    return _done(arch, vision, 0, warnings, "exaone4_5_vision")


def git(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """GIT: CLIP-style image encoder, linear + LayerNorm projection, a BERT-style causal text
    decoder (post-LayerNorm, plain GELU FFN, biased projections) and a biased output layer."""
    warnings: list[str] = []
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    intermediate = reader.int("intermediate_size")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    head_dim = derived_head_dim(reader, hidden, heads)
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    tied = reader.bool("tie_word_embeddings", default=False)
    text = (
        (vocab + positions) * hidden
        + counting.layer_norm(hidden)  # embeddings
        + layers * per_layer
        + (0 if tied else vocab * hidden)
        + vocab  # output bias
    )
    vision, width, _ = vision_tower(reader, "git_vision_model", warnings)
    frames = reader.optional_int("num_image_with_embedding", minimum=1) or 0
    projector = counting.linear(width, hidden, True) + counting.layer_norm(hidden) + frames * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = text
    arch.active_parameter_count = text
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = positions
    arch.vocab_size = vocab
    arch.attention_type = "mha"
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, gated=False)
    add_attention_kv(arch, None, None, 2 * hidden)
    warnings.append("GIT layers are post-LayerNorm (BERT style); GenZ simulates them as pre-norm")
    return _done(arch, vision, projector, warnings, "git_vision_model")


WRAPPERS: dict[str, Callable[[ConfigReader, Dispatch], Architecture]] = {
    "llava_onevision": llava_onevision,
    "llava_next_video": llava_next_video,
    "video_llava": video_llava,
    "vipllava": vipllava,
    "paligemma": paligemma,
    "shieldgemma2": shieldgemma2,
    "idefics3": idefics3,
    "smolvlm": idefics3,
    "internvl": internvl,
    "lfm2_vl": lfm2_vl,
    "cohere2_vision": cohere2_vision,
    "lighton_ocr": lighton_ocr,
    "deepseek_vl": deepseek_vl,
    "video_llama_3": deepseek_vl,
    "got_ocr2": got_ocr2,
    "pp_chart2table": got_ocr2,
    "qianfan_ocr": internvl,
    "deepseek_vl_hybrid": deepseek_vl_hybrid,
    "glm4v": glm4v,
    "glm46v": glm4v,
    "glmga": glm4v,
    "glm4v_moe": glm4v,
    "exaone4_5": exaone4_5,
    "hyperclovax_vision_v2": hyperclovax_vision_v2,
    "idefics2": idefics2,
    "git": git,
    "paddleocr_vl": paddleocr_vl,
    "fuyu": fuyu,
    "blip": blip,
    "kosmos-2": kosmos2,
    "ovis2": ovis2,
    "blip-2": blip2,
    "instructblip": blip2,
    "instructblipvideo": blip2,
}

# Language models only these wrappers use (registered as text handlers by convert/__init__).
TEXT_HANDLERS = {"glm4v_text": glm4v_text, "paddleocr_vl_text": paddleocr_vl_text}
