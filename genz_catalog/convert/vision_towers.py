"""Exact parameter counts of the vision encoders multimodal wrappers embed (units: parameters).

Each counter takes a :class:`ConfigReader` over the (defaults-filled) ``vision_config`` and
returns ``(parameters, output width)``. The output width is what the wrapper's projector reads.
Defaults (:data:`VISION_DEFAULTS`) are the documented defaults of the transformers config class
of each tower, used only for keys a nested ``vision_config`` leaves out (transformers builds the
nested config from its class, so an absent key takes that class default).
"""

from __future__ import annotations

from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_multimodal import (
    VISION_CONFIG_DEFAULTS,
    clip_vision_params,
    siglip_vision_params,
)

# Count-relevant defaults of vision config classes (transformers 5.24 class attributes).
VISION_DEFAULTS: dict[str, dict[str, Any]] = {
    **VISION_CONFIG_DEFAULTS,
    "idefics3_vision": {  # Idefics3VisionConfig / SmolVLMVisionConfig
        "hidden_size": 1152,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 16,
        "num_channels": 3,
        "image_size": 224,
        "patch_size": 32,
    },
    "smolvlm_vision": {
        "hidden_size": 1152,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 16,
        "num_channels": 3,
        "image_size": 224,
        "patch_size": 32,
    },
    "idefics2_vision": {  # Idefics2VisionConfig
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "num_channels": 3,
        "image_size": 224,
        "patch_size": 32,
    },
    "siglip2_vision_model": {  # Siglip2VisionConfig
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "num_channels": 3,
        "patch_size": 16,
        "num_patches": 256,
        "vision_use_head": True,
    },
    "pixtral": {  # PixtralVisionConfig
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "num_channels": 3,
        "image_size": 1024,
        "patch_size": 16,
    },
    "got_ocr2_vision": {  # GotOcr2VisionConfig
        "hidden_size": 768,
        "output_channels": 256,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "num_channels": 3,
        "image_size": 1024,
        "patch_size": 16,
        "qkv_bias": True,
        "use_abs_pos": True,
        "use_rel_pos": True,
        "window_size": 14,
        "global_attn_indexes": [2, 5, 8, 11],
        "mlp_dim": 3072,
    },
    "sam_vision_model": {  # SamVisionConfig
        "hidden_size": 768,
        "output_channels": 256,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "num_channels": 3,
        "image_size": 1024,
        "patch_size": 16,
        "qkv_bias": True,
        "mlp_ratio": 4.0,
        "use_abs_pos": True,
        "use_rel_pos": True,
        "window_size": 14,
        "global_attn_indexes": [2, 5, 8, 11],
    },
    "glm4v": {  # Glm4vVisionConfig
        "depth": 24,
        "hidden_size": 1536,
        "attention_bias": False,
        "num_heads": 12,
        "in_channels": 3,
        "image_size": 336,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "out_hidden_size": 4096,
        "intermediate_size": 13696,
    },
    "blip_2_vision_model": {  # Blip2VisionConfig (InstructBLIP's has the same defaults)
        "hidden_size": 1408,
        "intermediate_size": 6144,
        "num_hidden_layers": 39,
        "num_attention_heads": 16,
        "image_size": 224,
        "patch_size": 14,
        "qkv_bias": True,
    },
    "internvl_vision": {  # InternVLVisionConfig
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "attention_bias": False,
        "use_qk_norm": False,
        "norm_type": "layer_norm",
        "image_size": [448, 448],
        "patch_size": [14, 14],
        "num_channels": 3,
        "use_mask_token": False,
        "use_absolute_position_embeddings": True,
        "use_mean_pooling": True,
    },
}


def side(vision: ConfigReader, name: str) -> int:
    """A square image or patch side in pixels from an int or a ``[height, width]`` pair."""
    value = vision.raw(name)
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or value[0] != value[1]:
            raise vision.error(f"{vision.where}{name} must be square, got {value!r}")
        return vision._as_int(name, value[0], 1)
    return vision.int(name)


def pixtral_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """``PixtralVisionModel``: bias-free patch conv, RMSNorms, gated bias-free MLP, no pos. table."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    per_layer = (
        4 * counting.linear(hidden, hidden)
        + 2 * counting.layer_norm(hidden, bias=False)
        + counting.mlp(hidden, intermediate, True)
    )
    params = channels * patch * patch * hidden + hidden + layers * per_layer
    return params, hidden


def siglip2_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """``Siglip2VisionModel`` (NaViT): linear patch embedding, ``num_patches`` position table."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    patch = side(vision, "patch_size")
    patches = vision.int("num_patches")
    vision.check()
    channels = vision.int("num_channels", default=3)
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    params = (
        counting.linear(channels * patch * patch, hidden, True)
        + patches * hidden
        + layers * per_layer
        + counting.layer_norm(hidden)
    )
    if vision.bool("vision_use_head", default=True):
        params += (
            hidden
            + counting.linear(hidden, 3 * hidden, True)
            + counting.linear(hidden, hidden, True)
            + counting.layer_norm(hidden)
            + counting.mlp(hidden, intermediate, False, True)
        )
    return params, hidden


def idefics3_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Idefics2/3 and SmolVLM vision transformers: SigLIP without the pooling head."""
    config = dict(vision.config)
    config["vision_use_head"] = False
    return siglip_vision_params(ConfigReader(config, vision.family, vision.where))


def internvl_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """``InternVLVisionModel`` (InternViT): CLS token, layer scales, optional q/k RMSNorm."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    image = side(vision, "image_size")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    norm = vision.str("norm_type", default="layer_norm")
    if norm not in ("layer_norm", "rms_norm"):
        raise vision.error(f"{vision.where}norm_type {norm!r} is not layer_norm or rms_norm")
    norm_bias = norm == "layer_norm"
    attention_bias = vision.bool("attention_bias", default=False)
    per_layer = (
        3 * counting.linear(hidden, hidden, attention_bias)
        + counting.linear(hidden, hidden, True)
        + (2 * hidden if vision.bool("use_qk_norm", default=False) else 0)
        + counting.mlp(hidden, intermediate, False, True)
        + 2 * counting.layer_norm(hidden, norm_bias)
        + 2 * hidden  # lambda_1, lambda_2 layer scales
    )
    patches = (image // patch) ** 2
    params = hidden + counting.linear(channels * patch * patch, hidden, True) + layers * per_layer
    if vision.bool("use_mask_token", default=False):
        params += hidden
    if vision.bool("use_absolute_position_embeddings", default=True):
        params += (patches + 1) * hidden
    if not vision.bool("use_mean_pooling", default=True):
        params += counting.layer_norm(hidden)
    return params, hidden


def sam_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """SAM ViT image encoder with its conv neck (GOT-OCR2, DeepSeek-VL hybrid high-res tower).

    Windowed layers learn relative positions over the window, global layers
    (``global_attn_indexes``) over the whole patch grid. Returns the neck's output channels.
    """
    hidden = vision.int("hidden_size")
    layers = vision.int("num_hidden_layers")
    heads = vision.int("num_attention_heads")
    out = vision.int("output_channels")
    image = side(vision, "image_size")
    patch = side(vision, "patch_size")
    vision.check()
    mlp_dim = vision.optional_int("mlp_dim", minimum=1) or int(
        hidden * vision.number("mlp_ratio", default=4.0)
    )
    channels = vision.int("num_channels", default=3)
    window = vision.int("window_size", default=0, minimum=0)
    global_layers = set(vision.int_list("global_attn_indexes") or [])
    use_rel_pos = vision.bool("use_rel_pos", default=True)
    grid = image // patch
    head_dim = hidden // heads
    params = counting.linear(channels * patch * patch, hidden, True)
    if vision.bool("use_abs_pos", default=True):
        params += grid * grid * hidden
    qkv_bias = vision.bool("qkv_bias", default=True)
    for index in range(layers):
        params += (
            2 * counting.layer_norm(hidden)
            + counting.linear(hidden, 3 * hidden, qkv_bias)
            + counting.linear(hidden, hidden, True)
            + counting.mlp(hidden, mlp_dim, False, True)
        )
        if use_rel_pos:
            size = grid if (window == 0 or index in global_layers) else window
            params += 2 * (2 * size - 1) * head_dim
    params += hidden * out + out * out * 9 + 2 * counting.layer_norm(out)  # neck
    return params, out


def glm4v_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """GLM-4.1V/4.5V ViT: 3-D patch conv, RMSNorm blocks with a gated MLP of width
    ``out_hidden_size``, a strided downsampling conv and a gated patch merger.

    Returns the merger's output width (``out_hidden_size``).
    """
    hidden = vision.int("hidden_size")
    depth = vision.int("depth")
    out = vision.int("out_hidden_size")
    intermediate = vision.int("intermediate_size")
    image = side(vision, "image_size")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("in_channels", default=3)
    temporal = vision.int("temporal_patch_size", default=2)
    merge = vision.int("spatial_merge_size", default=2)
    qkv_bias = vision.bool("attention_bias", default=False)
    per_block = (
        2 * hidden  # RMSNorms
        + counting.linear(hidden, 3 * hidden, qkv_bias)
        + counting.linear(hidden, hidden)
        + counting.mlp(hidden, out, True)
    )
    merger = (
        counting.linear(out, out) + counting.layer_norm(out) + counting.mlp(out, intermediate, True)
    )
    params = (
        (image // patch) ** 2 * hidden  # position table
        + channels * temporal * patch * patch * hidden
        + hidden  # patch conv
        + depth * per_block
        + 2 * hidden  # post-conv and post RMSNorms
        + hidden * out * merge * merge
        + out  # downsample conv
        + merger
    )
    return params, out


def blip2_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """BLIP / BLIP-2 / InstructBLIP ViT: CLS token, biased patch conv, fused qkv whose bias
    (``qkv_bias``) is stored with zeros for the keys, no pre-LayerNorm, a post-LayerNorm."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    image = side(vision, "image_size")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    per_layer = (
        counting.linear(hidden, 3 * hidden)
        # The q and v biases are stored as one qkv bias with zeros for k: 3 * hidden values.
        + (3 * hidden if vision.bool("qkv_bias", default=True) else 0)
        + counting.linear(hidden, hidden, True)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    params = (
        hidden
        + counting.linear(channels * patch * patch, hidden, True)
        + ((image // patch) ** 2 + 1) * hidden
        + layers * per_layer
        + counting.layer_norm(hidden)
    )
    return params, hidden


def video_llama3_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """VideoLLaMA3 vision encoder: SigLIP layers with a biased patch conv, 2-D rotary positions
    (no position table) and a post-LayerNorm."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    params = (
        counting.linear(channels * patch * patch, hidden, True)
        + _siglip_layers(hidden, intermediate, layers)
        + counting.layer_norm(hidden)
    )
    return params, hidden


def qwen2_5_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Qwen2.5-VL-style ViT (also Qwen2.5-Omni's, EXAONE 4.5's with grouped K/V heads):
    bias-free 3-D patch conv, RMSNorm blocks
    with biased qkv/proj and a gated biased MLP, and the patch merger to ``out_hidden_size``."""
    hidden = vision.int("hidden_size")
    depth = vision.int("depth")
    intermediate = vision.int("intermediate_size")
    out = vision.int("out_hidden_size")
    vision.check()
    channels = vision.int("in_channels", "in_chans", default=3)
    patch = vision.int("patch_size", default=14)
    temporal = vision.int("temporal_patch_size", default=2)
    merge = vision.int("spatial_merge_size", default=2)
    qkv_width = 3 * hidden
    kv_heads = vision.optional_int("num_key_value_heads", minimum=1)
    if kv_heads is not None:  # EXAONE 4.5: grouped K/V heads in the fused qkv
        heads = vision.int("num_heads")
        vision.check()
        qkv_width = hidden + 2 * kv_heads * (hidden // heads)
    per_block = (
        2 * hidden
        + counting.linear(hidden, qkv_width, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, True, True)
    )
    merged = hidden * merge * merge
    merger = hidden + counting.linear(merged, merged, True) + counting.linear(merged, out, True)
    return channels * temporal * patch * patch * hidden + depth * per_block + merger, out


def ovis2_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Ovis2 visual tokenizer: AIMv2-style ViT (RMSNorms, gated MLP) and a head that maps each
    patch to a probability over ``vocab_size`` visual words (minus the indicator tokens).

    Returns the visual vocabulary size (rows of the wrapper's visual embedding table).
    """
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    image = side(vision, "image_size")
    patch = side(vision, "patch_size")
    vocab = vision.int("vocab_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    stride = vision.int("hidden_stride", default=1)
    indicators = vision.int("num_visual_indicator_tokens", default=5, minimum=0)
    qkv_bias = vision.bool("qkv_bias", default=False)
    mlp_bias = vision.bool("mlp_bias", default=False)
    per_layer = (
        2 * hidden
        + 4 * counting.linear(hidden, hidden, qkv_bias)
        + counting.mlp(hidden, intermediate, True, mlp_bias)
    )
    words = vocab - indicators
    params = (
        counting.linear(channels * patch * patch, hidden, True)
        + (image // patch) ** 2 * hidden
        + hidden  # embedding RMSNorm
        + layers * per_layer
        + hidden  # final RMSNorm
        + hidden * stride * stride * words  # head_linear
        + counting.layer_norm(words)
    )
    return params, vocab


def _siglip_layers(hidden: int, intermediate: int, layers: int) -> int:
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    return layers * per_layer


TOWERS = {
    "clip_vision_model": clip_vision_params,
    "git_vision_model": clip_vision_params,
    "kosmos_2_vision_model": clip_vision_params,
    "siglip_vision_model": siglip_vision_params,
    "siglip2_vision_model": siglip2_vision_params,
    "pixtral": pixtral_vision_params,
    "idefics3_vision": idefics3_vision_params,
    "smolvlm_vision": idefics3_vision_params,
    "idefics2_vision": idefics3_vision_params,
    "paddleocr_vl_vision": idefics3_vision_params,
    "internvl_vision": internvl_vision_params,
    "got_ocr2_vision": sam_vision_params,
    "pp_chart2table_vision": sam_vision_params,
    "qianfan_ocr_vision": internvl_vision_params,
    "video_llama_3_vision": video_llama3_vision_params,
    "ovis2_vision": ovis2_vision_params,
    "qwen2_5_omni_vision_encoder": qwen2_5_vision_params,
    "qwen2_5_vl_vision": qwen2_5_vision_params,
    "exaone4_5_vision": qwen2_5_vision_params,
    "sam_vision_model": sam_vision_params,
    "glm4v": glm4v_vision_params,
    "glm4v_vision": glm4v_vision_params,
    "glm4v_moe_vision": glm4v_vision_params,
    "blip_2_vision_model": blip2_vision_params,
    "blip_vision_model": blip2_vision_params,
    "instructblip_vision_model": blip2_vision_params,
    "instructblipvideo_vision_model": blip2_vision_params,
}
VISION_DEFAULTS["glm4v_vision"] = VISION_DEFAULTS["glm4v"]
VISION_DEFAULTS["glm4v_moe_vision"] = VISION_DEFAULTS["glm4v"]
VISION_DEFAULTS["paddleocr_vl_vision"] = {  # PaddleOCRVisionConfig
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_hidden_layers": 27,
    "num_attention_heads": 16,
    "num_channels": 3,
    "image_size": 384,
    "patch_size": 14,
    "spatial_merge_size": 2,
}
VISION_DEFAULTS["blip_vision_model"] = {  # BlipVisionConfig (ViT-B/16 at 384)
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "image_size": 384,
    "patch_size": 16,
    "qkv_bias": True,
}
VISION_DEFAULTS["kosmos_2_vision_model"] = {  # Kosmos2VisionConfig: CLIP ViT-L/14
    **VISION_DEFAULTS["clip_vision_model"],
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "patch_size": 14,
}
VISION_DEFAULTS["ovis2_vision"] = {  # Ovis2VisionConfig
    "hidden_size": 1024,
    "intermediate_size": 2816,
    "num_hidden_layers": 24,
    "num_attention_heads": 8,
    "num_channels": 3,
    "image_size": 224,
    "patch_size": 14,
    "qkv_bias": False,
    "mlp_bias": False,
    "vocab_size": 16384,
    "hidden_stride": 1,
    "num_visual_indicator_tokens": 5,
}
VISION_DEFAULTS["qwen2_5_omni_vision_encoder"] = {  # Qwen2_5OmniVisionEncoderConfig
    "depth": 32,
    "hidden_size": 3584,
    "intermediate_size": 3420,
    "num_heads": 16,
    "in_channels": 3,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "out_hidden_size": 3584,
}
VISION_DEFAULTS["video_llama_3_vision"] = {  # VideoLlama3VisionConfig
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "num_channels": 3,
    "patch_size": 16,
}
VISION_DEFAULTS["git_vision_model"] = {  # GitVisionConfig: CLIP layout, patch 16
    **VISION_DEFAULTS["clip_vision_model"],
    "patch_size": 16,
}
# PPChart2TableVisionConfig has GotOcr2VisionConfig's defaults; QianfanOCRVisionConfig
# InternVLVisionConfig's with biased q/k/v.
VISION_DEFAULTS["pp_chart2table_vision"] = VISION_DEFAULTS["got_ocr2_vision"]
VISION_DEFAULTS["qianfan_ocr_vision"] = {
    **VISION_DEFAULTS["internvl_vision"],
    "attention_bias": True,
}
VISION_DEFAULTS["instructblip_vision_model"] = VISION_DEFAULTS["blip_2_vision_model"]
VISION_DEFAULTS["instructblipvideo_vision_model"] = VISION_DEFAULTS["blip_2_vision_model"]
# Qwen2_5_VLVisionConfig has the same defaults as Qwen2.5-Omni's vision encoder config.
VISION_DEFAULTS["qwen2_5_vl_vision"] = VISION_DEFAULTS["qwen2_5_omni_vision_encoder"]
VISION_DEFAULTS["exaone4_5_vision"] = {  # Exaone4_5_VisionConfig
    **VISION_DEFAULTS["qwen2_5_omni_vision_encoder"],
    "num_key_value_heads": 8,
}
