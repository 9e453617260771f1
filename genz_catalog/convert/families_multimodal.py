"""Multimodal wrappers: the language model plus the vision tower and projector.

The language model comes from ``text_config`` (or the top-level text keys); ``parameter_count``
is the whole model a user loads (vision tower, projector, language model and LM head) and
``text_parameter_count`` the language model alone.

Nested sub-configs are instantiated by Hugging Face from their config class, so a key absent
from a nested ``text_config`` / ``vision_config`` takes that class's documented default. The
defaults used are listed in the record's warnings; top-level configs never get defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._reader import ConfigReader

# Documented defaults of the HF config classes that wrappers instantiate for nested configs.
TEXT_CONFIG_DEFAULTS: dict[str, dict[str, Any]] = {
    "llama": {  # LlamaConfig
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "max_position_embeddings": 2048,
    },
    "mistral": {  # MistralConfig
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "max_position_embeddings": 131072,
        "sliding_window": 4096,
    },
    "gemma3_text": {  # Gemma3TextConfig
        "vocab_size": 262208,
        "hidden_size": 2304,
        "intermediate_size": 9216,
        "num_hidden_layers": 26,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "max_position_embeddings": 131072,
        "sliding_window": 4096,
        "hidden_activation": "gelu_pytorch_tanh",
    },
    "mllama_text_model": {  # MllamaTextConfig
        "vocab_size": 128256,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 40,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "max_position_embeddings": 131072,
        "cross_attention_layers": [3, 8, 13, 18, 23, 28, 33, 38],
    },
}

VISION_CONFIG_DEFAULTS: dict[str, dict[str, Any]] = {
    "clip_vision_model": {  # CLIPVisionConfig
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "num_channels": 3,
        "image_size": 224,
        "patch_size": 32,
    },
    "siglip_vision_model": {  # SiglipVisionConfig
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "num_channels": 3,
        "image_size": 224,
        "patch_size": 16,
    },
    "mllama_vision_model": {  # MllamaVisionConfig
        "hidden_size": 1280,
        "intermediate_size": 5120,
        "num_hidden_layers": 32,
        "num_global_layers": 8,
        "num_attention_heads": 16,
        "num_channels": 3,
        "image_size": 448,
        "patch_size": 14,
        "max_num_tiles": 4,
        "vision_output_dim": 7680,
        "supported_aspect_ratios": [[1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [2, 2], [3, 1], [4, 1]],
    },
}

# The default vision config LlavaConfig builds when ``vision_config`` is absent.
LLAVA_DEFAULT_VISION = {
    "model_type": "clip_vision_model",
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "image_size": 336,
    "patch_size": 14,
}


def _with_defaults(
    config: dict[str, Any] | None,
    model_type: str,
    table: dict[str, dict[str, Any]],
    where: str,
    warnings: list[str],
) -> dict[str, Any]:
    """``config`` with its class defaults filled in; records which defaults were used."""
    config = config or {}
    defaults = table.get(model_type)
    if not defaults:
        return config
    # Only absent keys take the class default; an explicit null (e.g. sliding_window: null) stays.
    used = [f"{key}={value}" for key, value in defaults.items() if key not in config]
    if not used:
        return config
    if len(used) > 4:
        shown = ", ".join(used[:4]) + f", ... ({len(used)} keys)"
    else:
        shown = ", ".join(used)
    warnings.append(f"{where} relies on the {model_type} config class defaults: {shown}")
    merged = dict(defaults)
    merged.update(config)
    return merged


def _text_architecture(
    reader: ConfigReader,
    dispatch: Callable[[dict[str, Any], str, str], Architecture],
    default_text_type: str,
) -> tuple[Architecture, list[str]]:
    """Convert the language model of a wrapper (``text_config`` or the top-level keys)."""
    warnings: list[str] = []
    text_config = reader.sub("text_config")
    if text_config is None:
        return dispatch(reader.config, default_text_type, ""), warnings
    text_type = text_config.get("model_type")
    if not isinstance(text_type, str) or not text_type:
        text_type = default_text_type
    text_config = _with_defaults(
        text_config, text_type, TEXT_CONFIG_DEFAULTS, "text_config", warnings
    )
    if (
        text_config.get("tie_word_embeddings") is None
        and reader.raw("tie_word_embeddings") is not None
    ):
        text_config = dict(text_config)
        text_config["tie_word_embeddings"] = reader.raw("tie_word_embeddings")
    return dispatch(text_config, text_type, "text_config."), warnings


def _vision_reader(
    reader: ConfigReader,
    model_type_default: str,
    warnings: list[str],
    absent_default: dict[str, Any] | None = None,
) -> ConfigReader:
    vision_config = reader.sub("vision_config")
    if vision_config is None:
        if absent_default is None:
            reader.require("vision_config")
            reader.check()
        vision_config = dict(absent_default or {})
        warnings.append(f"no vision_config: using {reader.family}'s default vision tower")
    vision_type = vision_config.get("model_type")
    if not isinstance(vision_type, str) or not vision_type:
        vision_type = model_type_default
    merged = _with_defaults(
        vision_config, vision_type, VISION_CONFIG_DEFAULTS, "vision_config", warnings
    )
    return ConfigReader(merged, reader.family, "vision_config.")


def _vit_layers(hidden: int, intermediate: int, layers: int, attention_bias: bool = True) -> int:
    """CLIP/SigLIP-style encoder layers: biased attention and MLP, two LayerNorms each."""
    per_layer = (
        4 * counting.linear(hidden, hidden, attention_bias)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    return layers * per_layer


def clip_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """(parameters, hidden size) of a ``CLIPVisionModel``."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    image = vision.int("image_size")
    patch = vision.int("patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    patches = (image // patch) ** 2
    params = (
        hidden  # class embedding
        + channels * patch * patch * hidden  # patch conv, no bias
        + (patches + 1) * hidden  # position embedding
        + 2 * counting.layer_norm(hidden)  # pre and post LayerNorm
        + _vit_layers(hidden, intermediate, layers)
    )
    return params, hidden


def siglip_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """(parameters, hidden size) of a ``SiglipVisionModel`` (pooling head when ``vision_use_head``)."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    image = vision.int("image_size")
    patch = vision.int("patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    patches = (image // patch) ** 2
    params = (
        channels * patch * patch * hidden
        + hidden  # patch conv with bias
        + patches * hidden
        + counting.layer_norm(hidden)  # post LayerNorm
        + _vit_layers(hidden, intermediate, layers)
    )
    if vision.bool("vision_use_head", default=True):
        params += (
            hidden  # probe
            + counting.linear(hidden, 3 * hidden, True)
            + counting.linear(hidden, hidden, True)
            + counting.layer_norm(hidden)
            + counting.mlp(hidden, intermediate, False, True)
        )
    return params, hidden


def finish_multimodal(
    arch: Architecture,
    text_params: int,
    vision_params: int,
    projector_params: int,
    warnings: list[str],
) -> Architecture:
    """Add a vision tower and projector (parameters) to a language model's figures: the total
    and active counts grow, ``text_parameter_count`` keeps the language model's. Shared by
    every vision-language family's handler."""
    arch.text_parameter_count = text_params
    arch.parameter_count = text_params + vision_params + projector_params
    if arch.active_parameter_count is not None:
        arch.active_parameter_count += vision_params + projector_params
    arch.extra.update(
        {"vision_parameter_count": vision_params, "projector_parameter_count": projector_params}
    )
    arch.warnings.extend(warnings)
    arch.warnings.append(
        "GenZ simulates the language model only (the vision tower is not modelled)"
    )
    return arch


def llava(
    reader: ConfigReader, dispatch: Callable[[dict[str, Any], str, str], Architecture]
) -> Architecture:
    """LLaVA / LLaVA-NeXT: CLIP vision tower + two-layer projector + language model."""
    arch, warnings = _text_architecture(reader, dispatch, "llama")
    text_params = arch.parameter_count
    vision = _vision_reader(
        reader, "clip_vision_model", warnings, absent_default=LLAVA_DEFAULT_VISION
    )
    if vision.config.get("model_type") == "siglip_vision_model":
        vision_params, vision_hidden = siglip_vision_params(vision)
    else:
        vision_params, vision_hidden = clip_vision_params(vision)
    feature_layer = reader.raw("vision_feature_layer")
    feature_layers = len(feature_layer) if isinstance(feature_layer, list) and feature_layer else 1
    bias = reader.bool("multimodal_projector_bias", default=True)
    text_hidden = arch.hidden_size or 0
    projector = counting.linear(
        vision_hidden * feature_layers, text_hidden, bias
    ) + counting.linear(text_hidden, text_hidden, bias)
    if reader.family == "llava_next":
        projector += text_hidden  # image_newline
    return finish_multimodal(arch, text_params, vision_params, projector, warnings)


def gemma3(
    reader: ConfigReader, dispatch: Callable[[dict[str, Any], str, str], Architecture]
) -> Architecture:
    """Gemma 3 multimodal: SigLIP tower + soft-embedding norm and projection + Gemma 3 text model.

    A ``gemma3`` config without ``text_config`` is a text-only model at top level.
    """
    if reader.sub("text_config") is None:
        return dispatch(reader.config, "gemma3_text", "")
    arch, warnings = _text_architecture(reader, dispatch, "gemma3_text")
    text_params = arch.parameter_count
    vision = _vision_reader(reader, "siglip_vision_model", warnings)
    vision_params, vision_hidden = siglip_vision_params(vision)
    projector = vision_hidden * (arch.hidden_size or 0) + vision_hidden
    return finish_multimodal(arch, text_params, vision_params, projector, warnings)


def qwen2_vl(
    reader: ConfigReader, dispatch: Callable[[dict[str, Any], str, str], Architecture]
) -> Architecture:
    """Qwen2-VL: ViT with 3-D patch embedding and patch merger + Qwen2 language model."""
    arch, warnings = _text_architecture(reader, dispatch, "qwen2")
    text_params = arch.parameter_count
    vision = _vision_reader(reader, "qwen2_vl", warnings)
    embed = vision.int("embed_dim")
    depth = vision.int("depth")
    vision.check()
    ratio = vision.number("mlp_ratio", default=4.0)
    channels = vision.int("in_channels", "in_chans", default=3)
    patch = vision.int("patch_size", "spatial_patch_size", default=14)
    temporal = vision.int("temporal_patch_size", default=2)
    merge = vision.int("spatial_merge_size", default=2)
    merger_out = vision.int("hidden_size", default=arch.hidden_size or 1)
    mlp_width = int(embed * ratio)
    per_block = (
        2 * counting.layer_norm(embed)
        + counting.linear(embed, 3 * embed, True)
        + counting.linear(embed, embed, True)
        + counting.mlp(embed, mlp_width, False, True)
    )
    merged = embed * merge * merge
    merger = (
        counting.layer_norm(embed)
        + counting.linear(merged, merged, True)
        + counting.linear(merged, merger_out, True)
    )
    vision_params = channels * temporal * patch * patch * embed + depth * per_block + merger
    return finish_multimodal(arch, text_params, vision_params, 0, warnings)


def qwen2_5_vl(
    reader: ConfigReader, dispatch: Callable[[dict[str, Any], str, str], Architecture]
) -> Architecture:
    """Qwen2.5-VL: ViT with RMSNorm and gated biased MLP, patch merger + Qwen2 language model."""
    arch, warnings = _text_architecture(reader, dispatch, "qwen2")
    text_params = arch.parameter_count
    vision = _vision_reader(reader, "qwen2_5_vl", warnings)
    hidden = vision.int("hidden_size")
    depth = vision.int("depth")
    intermediate = vision.int("intermediate_size")
    vision.check()
    channels = vision.int("in_channels", "in_chans", default=3)
    patch = vision.int("patch_size", default=14)
    temporal = vision.int("temporal_patch_size", default=2)
    merge = vision.int("spatial_merge_size", default=2)
    merger_out = vision.int("out_hidden_size", default=arch.hidden_size or 1)
    per_block = (
        2 * counting.layer_norm(hidden, bias=False)
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, True, True)
    )
    merged = hidden * merge * merge
    merger = (
        counting.layer_norm(hidden, bias=False)
        + counting.linear(merged, merged, True)
        + counting.linear(merged, merger_out, True)
    )
    vision_params = channels * temporal * patch * patch * hidden + depth * per_block + merger
    return finish_multimodal(arch, text_params, vision_params, 0, warnings)


def mllama(
    reader: ConfigReader, dispatch: Callable[[dict[str, Any], str, str], Architecture]
) -> Architecture:
    """Llama 3.2 Vision: tiled ViT (local + gated global layers) + cross-attention Llama."""
    warnings: list[str] = []
    text_config = _with_defaults(
        reader.sub("text_config"),
        "mllama_text_model",
        TEXT_CONFIG_DEFAULTS,
        "text_config",
        warnings,
    )
    text = ConfigReader(text_config, reader.family, "text_config.")
    arch = _mllama_text(text)
    text_params = arch.parameter_count
    vision = _vision_reader(reader, "mllama_vision_model", warnings)
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    global_layers = vision.int("num_global_layers", minimum=0)
    image = vision.int("image_size")
    patch = vision.int("patch_size")
    tiles = vision.int("max_num_tiles")
    output_dim = vision.int("vision_output_dim")
    vision.check()
    channels = vision.int("num_channels", default=3)
    ratios = vision.raw("supported_aspect_ratios")
    aspect_ratio_ids = (len(ratios) if isinstance(ratios, list) else 8) + 1
    patches = (image // patch) ** 2 + 1
    vision_params = (
        channels * patch * patch * hidden  # patch conv, no bias
        + hidden  # class embedding
        + 1
        + patches * hidden
        + aspect_ratio_ids * tiles * patches * hidden  # gated positional
        + 2 * (aspect_ratio_ids * tiles * hidden + 1)  # pre/post tile positional embeddings
        + 2 * counting.layer_norm(hidden)
        + _vit_layers(hidden, intermediate, layers, attention_bias=False)
        + _vit_layers(hidden, intermediate, global_layers, attention_bias=False)
        + 2 * global_layers  # attention and FFN gates
    )
    projector = counting.linear(output_dim, arch.hidden_size or 0, True)
    return finish_multimodal(arch, text_params, vision_params, projector, warnings)


def _mllama_text(text: ConfigReader) -> Architecture:
    """The Mllama language model: Llama self-attention layers plus gated cross-attention layers."""
    from genz_catalog.convert._decoder import build_decoder

    layers = text.int("num_hidden_layers")
    text.check()
    cross_layers = [
        index for index in (text.int_list("cross_attention_layers") or []) if index < layers
    ]
    arch = build_decoder(text, tie_default=False)
    hidden = arch.hidden_size or 0
    head_dim = arch.head_dim or 0
    # Eight extra embedding rows for the image special tokens; cross-attention layers add q/k
    # norms and two gates.
    arch.parameter_count += 8 * hidden + len(cross_layers) * (2 * head_dim + 2)
    arch.active_parameter_count = arch.parameter_count
    self_attention_layers = layers - len(cross_layers)
    arch.add_kv_layers(self_attention_layers, 2 * (arch.num_key_value_heads or 0) * head_dim)
    arch.extra["cross_attention_layers"] = cross_layers
    arch.warnings.append(
        f"{len(cross_layers)} cross-attention layers cache image tokens, not text tokens; "
        "KV per token counts the self-attention layers; GenZ simulates all layers as self-attention"
    )
    return arch


__all__ = [
    "llava",
    "gemma3",
    "qwen2_vl",
    "qwen2_5_vl",
    "mllama",
    "clip_vision_params",
    "siglip_vision_params",
]
