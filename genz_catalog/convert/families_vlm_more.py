"""More vision/multimodal wrappers.

Gemma 4 (text-only configs) and its assistant drafter, Aria, GLM-OCR, Cosmos 3 Omni / Edge,
Granite-Docling, LFM3-VL, MiniCPM-V 4.6 / 4.7 and MiniCPM-OCR, Kimi K2.5, Pix2Struct,
Kosmos-2.5, PP-FormulaNet, UDOP, IDEFICS (v1), Molmo2, Florence-2, Janus, ERNIE-4.5-VL MoE,
Unlimited-OCR and MiniMax-M3-VL.

Each handler counts exactly what transformers 5.24 builds for the family's image-text-to-text
(or causal-LM) class, reusing the shared tower counters (:mod:`vision_towers`) and wrapper
helpers (:mod:`families_vlm`). Parts this module cannot count exactly (a tower without a
counter) make the handler refuse with a :class:`ConversionError` naming the part.
"""

from __future__ import annotations

from collections.abc import Callable

from genz_catalog.convert import counting, families_dense, families_dense_modern
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    QK_NORM_FULL_WIDTH,
    QK_NORM_PER_HEAD_DIM,
    MoeSpec,
    add_attention_kv,
    build_decoder,
    genz_dense_kwargs,
)
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_multimodal import _with_defaults, clip_vision_params
from genz_catalog.convert.families_vlm import Dispatch, _done, text_model, vision_tower
from genz_catalog.convert.vision_towers import (
    TOWERS,
    VISION_DEFAULTS,
    idefics3_vision_params,
    sam_vision_params,
    side,
    siglip2_vision_params,
)


def _refuse_present(reader: ConfigReader, *keys: str) -> None:
    """Refuse when a sub-config this handler has no exact counter for is present."""
    present = [key for key in keys if reader.raw(key) is not None]
    if present:
        raise reader.error(
            f"{', '.join(present)} present: the {reader.family} encoder(s) there have no exact "
            "counter yet; refusing rather than counting the language model alone"
        )


def gemma4(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Gemma 4 / Gemma 4 "unified" wrapper: its Gemma 4 language model (tied head by default).

    transformers builds the vision and audio towers (and their embedders) only when
    ``vision_config`` / ``audio_config`` are set; those towers have no counter here, so such a
    config is refused rather than counted as text only.
    """
    _refuse_present(reader, "vision_config", "audio_config")
    warnings: list[str] = []
    text_type = "gemma4_unified_text" if reader.family == "gemma4_unified" else "gemma4_text"
    arch = text_model(reader, dispatch, text_type, warnings, True)
    return _done(arch, 0, 0, warnings, "none (no vision_config)")


def gemma4_unified_assistant(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Gemma 4 assistant (multi-token-prediction drafter): a Gemma 4 unified text model, its LM
    head (tied by default), projections from twice the backbone width in and back out, and with
    ``use_ordered_embeddings`` a bias-free centroid classifier over ``num_centroids``."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "gemma4_unified_text", warnings, True)
    hidden = arch.hidden_size or 0
    backbone = reader.int("backbone_hidden_size")
    reader.check()
    extra = counting.linear(2 * backbone, hidden) + counting.linear(hidden, backbone)
    if reader.bool("use_ordered_embeddings", default=False):
        extra += counting.linear(hidden, reader.int("num_centroids", default=2048))
    if not arch.kv_groups:
        warnings.append(
            "every layer reads the backbone's K/V (num_kv_shared_layers): the drafter keeps no "
            "cache of its own"
        )
    return _done(arch, 0, extra, warnings, "none (drafter of a Gemma 4 backbone)")


def _multihead_cross_attention(width: int) -> int:
    """``torch.nn.MultiheadAttention(width, heads)``: biased packed in-projection and output."""
    return counting.linear(width, 3 * width, True) + counting.linear(width, width, True)


def aria(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Aria: Idefics3 vision transformer, a cross-attention projector (learned queries, bias-free
    q/k/v, ``nn.MultiheadAttention``, biased output linear, two LayerNorms, LayerNorm and a
    bias-free two-layer MLP to the text width), Aria MoE language model (untied by default)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "aria_text", warnings, False)
    vision, width, _ = vision_tower(reader, "idefics3_vision", warnings)
    queries = reader.optional_int("max_value_projector_patch_to_query_dict", minimum=1)
    if queries is None:
        table = reader.sub("projector_patch_to_query_dict") or {"1225": 128, "4900": 256}
        queries = max(int(value) for value in table.values())
    text_hidden = arch.hidden_size or 0
    cross_attention = (
        3 * counting.linear(width, width)
        + _multihead_cross_attention(width)
        + counting.linear(width, width, True)
        + 2 * counting.layer_norm(width)
    )
    projector = (
        queries * width
        + cross_attention
        + counting.layer_norm(width)
        + counting.linear(width, text_hidden)
        + counting.linear(text_hidden, text_hidden)
    )
    return _done(arch, vision, projector, warnings, "idefics3_vision")


def glm_ocr_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """GLM-OCR ViT: the GLM-4.1V tower without position table or post-conv norm, with biased
    patch conv, q/k RMSNorms, a gated MLP of ``intermediate_size`` (biased with
    ``attention_bias``) and a merger whose gated MLP is ``out_hidden_size * in_channels`` wide.

    Returns the merger's output width (``out_hidden_size``).
    """
    hidden = vision.int("hidden_size")
    depth = vision.int("depth")
    heads = vision.int("num_heads")
    out = vision.int("out_hidden_size")
    intermediate = vision.int("intermediate_size")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("in_channels", default=3)
    temporal = vision.int("temporal_patch_size", default=2)
    merge = vision.int("spatial_merge_size", default=2)
    bias = vision.bool("attention_bias", default=True)
    per_block = (
        2 * hidden  # RMSNorms
        + counting.linear(hidden, 3 * hidden, bias)
        + counting.linear(hidden, hidden, bias)
        + 2 * (hidden // heads)  # q/k RMSNorms
        + counting.mlp(hidden, intermediate, True, bias)
    )
    merger = (
        counting.linear(out, out)
        + counting.layer_norm(out)
        + counting.mlp(out, out * channels, True)
    )
    params = (
        counting.linear(channels * temporal * patch * patch, hidden, True)  # patch conv
        + depth * per_block
        + hidden  # post RMSNorm
        + counting.linear(hidden * merge * merge, out, True)  # downsample conv
        + merger
    )
    return params, out


def glm_ocr_text(reader: ConfigReader) -> Architecture:
    """GLM-OCR language model: the GLM-4.1V text layout without q/k/v biases."""
    arch = build_decoder(reader, norms_per_layer=4, tie_default=False)
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    return arch


def glm_ocr(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """GLM-OCR: GLM-OCR ViT with downsample conv and merger, GLM-OCR language model (untied)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "glm_ocr_text", warnings, False)
    vision, _, _ = vision_tower(reader, "glm_ocr_vision", warnings)
    return _done(arch, vision, 0, warnings, "glm_ocr_vision")


TOWERS.setdefault("glm_ocr_vision", glm_ocr_vision_params)
VISION_DEFAULTS.setdefault(
    "glm_ocr_vision",
    {  # GlmOcrVisionConfig
        "depth": 24,
        "hidden_size": 1024,
        "attention_bias": True,
        "num_heads": 16,
        "in_channels": 3,
        "image_size": 336,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "out_hidden_size": 1536,
        "intermediate_size": 4096,
    },
)


def granite_docling_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Granite-Docling vision model: SigLIP-style encoder (no pooling head) and its connector:
    input LayerNorm, a coarse (``scale_factor``) and optionally a fine (half scale) pixel-shuffle
    path, each a bias-free projection plus one LayerNorm + two-layer merger per
    ``deepstack_visual_indexes`` entry, then LayerNorm, a bias-free linear and a LayerNorm.

    Returns the connector's output width (``out_hidden_size``).
    """
    encoder, hidden = idefics3_vision_params(vision)
    out = vision.int("out_hidden_size")
    scale = vision.int("scale_factor")
    vision.check()
    deepstack = len(vision.int_list("deepstack_visual_indexes") or [])
    scales = [scale]
    if vision.bool("use_fine_route", default=True):
        scales.append(scale // 2)
    connector = counting.layer_norm(hidden)
    for path_scale in scales:
        merged = hidden * path_scale * path_scale
        merger = (
            counting.layer_norm(merged)
            + counting.linear(merged, out, True)
            + counting.linear(out, out, True)
        )
        connector += counting.linear(merged, out) + deepstack * merger
    connector += 2 * counting.layer_norm(out) + counting.linear(out, out)
    return encoder + connector, out


def granite_docling(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Granite-Docling: SigLIP-style tower with deep-stack connector (counted with the tower),
    an optional density router (``density_router_hidden_size``), Granite language model."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "granite_docling_text", warnings, True)
    vision, _, tower = vision_tower(reader, "granite_docling_vision", warnings)
    router = 0
    router_hidden = reader.optional_int("density_router_hidden_size", minimum=1)
    if router_hidden is not None:
        width = tower.int("hidden_size")
        router = (
            counting.linear(width, 1, True)
            + counting.layer_norm(width)
            + counting.linear(width, router_hidden, True)
            + counting.linear(router_hidden, 1, True)
        )
    return _done(arch, vision, router, warnings, "granite_docling_vision")


TOWERS.setdefault("granite_docling_vision", granite_docling_vision_params)
VISION_DEFAULTS.setdefault(
    "granite_docling_vision",
    {  # GraniteDoclingVisionConfig
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "num_channels": 3,
        "image_size": 512,
        "patch_size": 16,
        "out_hidden_size": 1024,
        "scale_factor": 4,
        "deepstack_visual_indexes": [3, 7, 10],
        "use_fine_route": True,
    },
)


def lfm3_vl_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """LFM3-VL vision model: bias-free linear patch embedding (``in_channels`` x
    ``temporal_patch_size`` x patch²) and RMSNorm, then LFM-style layers, each either a short
    conv block (bias-free in/out projections around a depthwise ``conv_kernel_size``² conv over
    the patch grid) or grouped-query attention with q/k RMSNorms, plus a bias-free SwiGLU FFN."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    heads = vision.int("num_attention_heads")
    patch = side(vision, "patch_size")
    vision.check()
    kv_heads = vision.int("num_key_value_heads", default=heads)
    kernel = vision.int("conv_kernel_size", default=3)
    channels = vision.int("in_channels", default=3)
    temporal = vision.int("temporal_patch_size", default=2)
    # Lfm3VlVisionConfig's default: two conv layers, then attention at every even index.
    kinds = vision.str_list("layer_types") or [
        "conv" if index < 2 or index % 2 else "full_attention" for index in range(layers)
    ]
    if len(kinds) != layers or set(kinds) - {"conv", "full_attention"}:
        raise vision.error(
            f"{vision.where}layer_types must list conv / full_attention for each of {layers} layers"
        )
    head_dim = hidden // heads
    conv = (
        counting.linear(hidden, 3 * hidden)
        + kernel * kernel * hidden
        + counting.linear(hidden, hidden)
    )
    attention = counting.attention(hidden, heads, kv_heads, head_dim) + 2 * head_dim
    common = counting.mlp(hidden, intermediate, True) + 2 * hidden
    params = counting.linear(channels * temporal * patch * patch, hidden) + hidden
    for kind in kinds:
        params += common + (conv if kind == "conv" else attention)
    return params, hidden


def lfm3_vl(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """LFM3-VL: LFM3-VL vision model, per-token LayerNorm + 2x2 merge + two-layer projector,
    LFM3 language model (tied by default)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "lfm3", warnings, True)
    vision, width, tower = vision_tower(reader, "lfm3_vl_vision", warnings)
    merge = tower.int("spatial_merge_size", default=2)
    inner = reader.int("projector_hidden_size", default=4096)
    bias = reader.bool("projector_bias", default=True)
    projector = (
        counting.layer_norm(width)
        + counting.linear(width * merge * merge, inner, bias)
        + counting.linear(inner, arch.hidden_size or 0, bias)
    )
    return _done(arch, vision, projector, warnings, "lfm3_vl_vision")


TOWERS.setdefault("lfm3_vl_vision", lfm3_vl_vision_params)
VISION_DEFAULTS.setdefault(
    "lfm3_vl_vision",
    {  # Lfm3VlVisionConfig
        "hidden_size": 1024,
        "intermediate_size": 2560,
        "num_hidden_layers": 14,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "conv_kernel_size": 3,
        "in_channels": 3,
        "patch_size": 16,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
    },
)


def cosmos3_edge_text(reader: ConfigReader) -> Architecture:
    """Cosmos 3 Edge language model: Llama layout with a two-matrix squared-ReLU MLP (``fc1`` /
    ``fc2``, no gate); biases per ``attention_bias`` / ``mlp_bias``, untied by default."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        gated=False,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        mlp_bias=reader.bool("mlp_bias", default=False),
        tie_default=False,
        head_dim_default=128,
    )
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    return arch


def cosmos3_edge_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Cosmos 3 Edge vision model: the SigLIP2 NaViT encoder without its pooling head."""
    return siglip2_vision_params(
        ConfigReader({**vision.config, "vision_use_head": False}, vision.family, vision.where)
    )


def cosmos3_edge(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Cosmos 3 Edge: SigLIP2 NaViT tower, LayerNorm + 2x2 merge + two-layer biased projector
    (``projector_hidden_size`` wide), Cosmos 3 Edge language model (untied by default)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "cosmos3_edge_text", warnings, False)
    vision, width, tower = vision_tower(reader, "cosmos3_edge_vision", warnings)
    merge = tower.int("spatial_merge_size", default=2)
    inner = reader.int("projector_hidden_size", default=11520)
    projector = (
        counting.layer_norm(width)
        + counting.linear(width * merge * merge, inner, True)
        + counting.linear(inner, arch.hidden_size or 0, True)
    )
    return _done(arch, vision, projector, warnings, "cosmos3_edge_vision")


TOWERS.setdefault("cosmos3_edge_vision", cosmos3_edge_vision_params)
VISION_DEFAULTS.setdefault(
    "cosmos3_edge_vision",
    {  # Cosmos3EdgeVisionConfig
        "hidden_size": 1152,
        "intermediate_size": 4304,
        "num_hidden_layers": 27,
        "num_attention_heads": 16,
        "num_channels": 3,
        "patch_size": 16,
        "num_patches": 256,
        "spatial_merge_size": 2,
    },
)


def minicpmv4_6_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """MiniCPM-V 4.6 / 4.7 / MiniCPM-OCR vision model: SigLIP encoder without pooling head plus
    the window-attention merger inserted after ``insert_layer_id`` (biased self-attention,
    LayerNorm, and a LayerNorm + two-layer MLP over ``window_kernel_size`` merged patches)."""
    encoder, hidden = idefics3_vision_params(vision)
    intermediate = vision.int("intermediate_size")
    kernel = vision.int_list("window_kernel_size") or [2, 2]
    if len(kernel) != 2:
        raise vision.error(f"{vision.where}window_kernel_size must be [height, width]")
    window = kernel[0] * kernel[1]
    merger = (
        4 * counting.linear(hidden, hidden, True)
        + counting.layer_norm(hidden)
        + counting.layer_norm(hidden * window)
        + counting.linear(hidden * window, intermediate * window, True)
        + counting.linear(intermediate * window, hidden, True)
    )
    return encoder + merger, hidden


def minicpmv4_6(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """MiniCPM-V 4.6 / 4.7 and MiniCPM-OCR: MiniCPM-V vision model with window merger, then
    ``merger_times`` downsampling MLPs (LayerNorm + two biased linears over 2x2 merged
    patches; the last one projects to the text width), Qwen3.5 language model."""
    warnings: list[str] = []
    tie_default = reader.family == "minicpm_ocr"  # MiniCPMOcrConfig ties; the V configs do not
    arch = text_model(reader, dispatch, "qwen3_5_text", warnings, tie_default)
    vision, width, _ = vision_tower(reader, reader.family + "_vision", warnings)
    times = reader.int("merger_times", default=1)
    merged = 4 * width  # two successive 2x2 merges: transformers hard-codes the factor 4

    def downsample(out: int) -> int:
        return (
            counting.layer_norm(merged)
            + counting.linear(merged, merged, True)
            + counting.linear(merged, out, True)
        )

    projector = (times - 1) * downsample(width) + downsample(arch.hidden_size or 0)
    return _done(arch, vision, projector, warnings, reader.family + "_vision")


for _tower in ("minicpmv4_6_vision", "minicpmv4_7_vision", "minicpm_ocr_vision"):
    TOWERS.setdefault(_tower, minicpmv4_6_vision_params)
    VISION_DEFAULTS.setdefault(
        _tower,
        {  # MiniCPMV4_6VisionConfig (4.7 and OCR inherit it unchanged)
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "num_channels": 3,
            "image_size": 224,
            "patch_size": 16,
            "window_kernel_size": [2, 2],
        },
    )


def kimi_k25_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Kimi K2.5 MoonViT: biased patch conv, a learned ``pos_emb_height`` x ``pos_emb_width``
    position grid (time positions are a sinusoidal buffer), pre-LayerNorm blocks with biased
    q/k/v/proj and a plain biased MLP, final LayerNorm."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    patch = side(vision, "patch_size")
    grid = vision.int("pos_emb_height") * vision.int("pos_emb_width")
    vision.check()
    channels = vision.int("num_channels", default=3)
    per_layer = (
        2 * counting.layer_norm(hidden)
        + 4 * counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    params = (
        counting.linear(channels * patch * patch, hidden, True)
        + grid * hidden
        + layers * per_layer
        + counting.layer_norm(hidden)
    )
    return params, hidden


def kimi_k25(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Kimi K2.5: MoonViT, LayerNorm + merge (``merge_kernel_size``) + two biased linears,
    DeepSeek-V3 language model (head tied by the wrapper's default)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "deepseek_v3", warnings, True)
    vision, width, tower = vision_tower(reader, "kimi_k25_vision", warnings)
    kernel = tower.int_list("merge_kernel_size") or [2, 2]
    if len(kernel) != 2:
        raise tower.error("vision_config.merge_kernel_size must be [height, width]")
    merged = width * kernel[0] * kernel[1]
    norm_width = reader.int("projection_hidden_size", default=width)
    projector = (
        counting.layer_norm(norm_width)
        + counting.linear(merged, merged, True)
        + counting.linear(merged, arch.hidden_size or 0, True)
    )
    return _done(arch, vision, projector, warnings, "kimi_k25_vision")


TOWERS.setdefault("kimi_k25_vision", kimi_k25_vision_params)
VISION_DEFAULTS.setdefault(
    "kimi_k25_vision",
    {  # Kimi_K25VisionConfig
        "patch_size": 14,
        "pos_emb_height": 64,
        "pos_emb_width": 64,
        "num_attention_heads": 16,
        "num_hidden_layers": 27,
        "hidden_size": 1152,
        "intermediate_size": 4304,
        "merge_kernel_size": [2, 2],
    },
)


PIX2STRUCT_TEXT_DEFAULTS = {  # Pix2StructTextConfig
    "vocab_size": 50244,
    "hidden_size": 768,
    "d_kv": 64,
    "d_ff": 2048,
    "num_layers": 12,
    "num_heads": 12,
    "relative_attention_num_buckets": 32,
}
PIX2STRUCT_VISION_DEFAULTS = {  # Pix2StructVisionConfig
    "hidden_size": 768,
    "patch_embed_hidden_size": 768,
    "d_ff": 2048,
    "d_kv": 64,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "seq_len": 4096,
}


def pix2struct_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Pix2Struct image encoder: linear patch projection, learned row and column tables of
    ``seq_len`` rows, T5-style layers (bias-free attention of ``heads x d_kv``, gated-GELU FFN,
    two RMS LayerNorms), final norm. Returns its width."""
    hidden = vision.int("hidden_size")
    patch_width = vision.int("patch_embed_hidden_size")
    # Kosmos-2.5's copy of this encoder names three keys differently.
    intermediate = vision.int("d_ff", "intermediate_size")
    head_dim = vision.int("d_kv", "head_dim")
    layers = vision.int("num_hidden_layers")
    heads = vision.int("num_attention_heads")
    rows = vision.int("seq_len", "max_num_patches")
    vision.check()
    per_layer = (
        counting.attention(hidden, heads, heads, head_dim)
        + counting.mlp(hidden, intermediate, True)
        + 2 * hidden
    )
    params = (
        counting.linear(patch_width, hidden, True) + 2 * rows * hidden + layers * per_layer + hidden
    )
    return params, hidden


def _untied_head_of(reader: ConfigReader, text: ConfigReader, text_default: bool) -> bool:
    """Whether the decoder's LM head is tied; refuses when the wrapper and ``text_config`` say
    different things (which flag transformers obeys then is not something to guess)."""
    wrapper = reader.bool("tie_word_embeddings", default=text_default)
    nested = text.bool("tie_word_embeddings", default=text_default)
    if wrapper != nested:
        raise reader.error(
            f"tie_word_embeddings={wrapper} but text_config.tie_word_embeddings={nested}: "
            "cannot tell whether the LM head is tied"
        )
    return wrapper


def pix2struct(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Pix2Struct: image encoder (counted as the vision tower) and a T5-style text decoder
    (gated-GELU FFN, relative position bias in the first layer, untied LM head by default)."""
    warnings: list[str] = []
    text_config = _with_defaults(
        reader.sub("text_config"),
        "pix2struct_text_model",
        {"pix2struct_text_model": PIX2STRUCT_TEXT_DEFAULTS},
        "text_config",
        warnings,
    )
    text = ConfigReader(text_config, reader.family, "text_config.")
    hidden = text.int("hidden_size")
    head_dim = text.int("d_kv")
    intermediate = text.int("d_ff")
    layers = text.int("num_layers")
    heads = text.int("num_heads")
    vocab = text.int("vocab_size")
    buckets = text.int("relative_attention_num_buckets")
    text.check()
    tied = _untied_head_of(reader, text, False)
    attention = counting.attention(hidden, heads, heads, head_dim)
    decoder = (
        vocab * hidden
        + layers * (2 * attention + counting.mlp(hidden, intermediate, True) + 3 * hidden)
        + buckets * heads  # relative position bias of the first layer
        + hidden
        + (0 if tied else vocab * hidden)
    )
    arch = Architecture(reader.family)
    arch.model_type = "encoder-decoder"
    arch.attention_type = "mha"
    arch.parameter_count = decoder
    arch.active_parameter_count = decoder
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.vocab_size = vocab
    arch.add_kv_layers(layers, 2 * heads * head_dim)
    arch.cross_attention_values_per_source_token = layers * 2 * heads * head_dim
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "head_dim": head_dim,
        "hidden_act": "gelu",
    }
    arch.genz_unsupported = (
        "GenZ 0.0.16 simulates decoder stacks only; Pix2Struct's image encoder and the decoder's "
        "cross-attention are not modelled"
    )
    vision, _, tower = vision_tower(reader, "pix2struct_vision_model", warnings)
    arch.genz_kwargs["num_encoder_layers"] = tower.int("num_hidden_layers")
    arch.extra.update({"encoder_layers": tower.int("num_hidden_layers"), "decoder_layers": layers})
    return _done(arch, vision, 0, warnings, "pix2struct_vision_model")


KOSMOS2_5_TEXT_DEFAULTS = {  # Kosmos2_5TextConfig
    "vocab_size": 108481,
    "max_position_embeddings": 4096,
    "embed_dim": 1536,
    "layers": 24,
    "ffn_dim": 6144,
    "attention_heads": 16,
}


def kosmos2_5(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Kosmos-2.5: Pix2Struct-style image encoder, latent-query cross-attention projection, and
    a Magneto-style text decoder (biased attention, LayerNorm inside the FFN, sinusoidal
    positions plus a two-row segment table; head tied by default)."""
    warnings: list[str] = []
    text_config = _with_defaults(
        reader.sub("text_config"),
        "kosmos_2_5_text_model",
        {"kosmos_2_5_text_model": KOSMOS2_5_TEXT_DEFAULTS},
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
    if width % heads:
        raise text.error(f"text_config.embed_dim {width} is not divisible by {heads} heads")
    tied = _untied_head_of(reader, text, True)
    attention = 4 * counting.linear(width, width, True)
    per_layer = (
        attention
        + 2 * counting.layer_norm(width)  # self-attention and final LayerNorms
        + counting.mlp(width, ffn, False, True)
        + counting.layer_norm(ffn)
    )
    text_params = (
        vocab * width
        + 2 * width  # segment embedding
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
    arch.head_dim = width // heads
    arch.context_length = text.optional_int("max_position_embeddings", minimum=1)
    arch.vocab_size = vocab
    arch.attention_type = "mha"
    arch.genz_kwargs = genz_dense_kwargs(text, arch, gated=False)
    add_attention_kv(arch, None, None, 2 * width)
    vision, vision_width, _ = vision_tower(reader, "kosmos_2_5_vision_model", warnings)
    queries = reader.int("latent_query_num", default=2048)
    projector = counting.linear(vision_width, width, True) + queries * width + attention
    return _done(arch, vision, projector, warnings, "kosmos_2_5_vision_model")


TOWERS.setdefault("pix2struct_vision_model", pix2struct_vision_params)
TOWERS.setdefault("kosmos_2_5_vision_model", pix2struct_vision_params)
VISION_DEFAULTS.setdefault(
    "kosmos_2_5_vision_model",
    {  # Kosmos2_5VisionConfig
        "hidden_size": 1536,
        "patch_embed_hidden_size": 768,
        "intermediate_size": 3968,
        "head_dim": 64,
        "num_hidden_layers": 18,
        "num_attention_heads": 24,
        "max_num_patches": 4096,
    },
)
VISION_DEFAULTS.setdefault("pix2struct_vision_model", PIX2STRUCT_VISION_DEFAULTS)


PP_FORMULANET_TEXT_DEFAULTS = {  # PPFormulaNetTextConfig
    "vocab_size": 50000,
    "max_position_embeddings": 2560,
    "decoder_layers": 8,
    "decoder_ffn_dim": 2048,
    "decoder_attention_heads": 16,
    "d_model": 512,
}


def pp_formulanet(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """PP-FormulaNet: SAM image encoder with neck, two bias-free strided convs and two biased
    linears to the decoder width, and an mBART-style decoder (learned positions with the BART
    offset of 2, embedding LayerNorm, final LayerNorm, untied LM head by default)."""
    warnings: list[str] = []
    text_config = _with_defaults(
        reader.sub("text_config"),
        "pp_formulanet_text",
        {"pp_formulanet_text": PP_FORMULANET_TEXT_DEFAULTS},
        "text_config",
        warnings,
    )
    text = ConfigReader(text_config, reader.family, "text_config.")
    width = text.int("d_model")
    layers = text.int("decoder_layers")
    heads = text.int("decoder_attention_heads")
    ffn = text.int("decoder_ffn_dim")
    vocab = text.int("vocab_size")
    positions = text.int("max_position_embeddings")
    text.check()
    if width % heads:
        raise text.error(f"text_config.d_model {width} is not divisible by {heads} heads")
    tied = _untied_head_of(reader, text, False)
    attention = 4 * counting.linear(width, width, True)
    per_layer = (
        2 * attention + 3 * counting.layer_norm(width) + counting.mlp(width, ffn, False, True)
    )
    decoder = (
        vocab * width
        + (positions + 2) * width
        + layers * per_layer
        + 2 * counting.layer_norm(width)
        + (0 if tied else vocab * width)
    )
    head_dim = width // heads
    arch = Architecture(reader.family)
    arch.model_type = "encoder-decoder"
    arch.attention_type = "mha"
    arch.parameter_count = decoder
    arch.active_parameter_count = decoder
    arch.num_layers = layers
    arch.hidden_size = width
    arch.intermediate_size = ffn
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = positions
    arch.vocab_size = vocab
    arch.add_kv_layers(layers, 2 * width)
    arch.cross_attention_values_per_source_token = layers * 2 * width
    vision, channels, tower = vision_tower(reader, "pp_formulanet_vision", warnings)
    mid = tower.int("post_conv_mid_channels")
    out = tower.int("post_conv_out_channels")
    tower.check()
    projector = (
        mid * channels * 9
        + out * mid * 9
        + counting.linear(out, out, True)
        + counting.linear(out, tower.int("decoder_hidden_size", default=width), True)
    )
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": width,
        "intermediate_size": ffn,
        "num_ffi": 1,
        "num_encoder_layers": tower.int("num_hidden_layers"),
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "head_dim": head_dim,
        "hidden_act": "gelu",
        "max_model_len": positions,
    }
    arch.genz_unsupported = (
        "GenZ 0.0.16 simulates decoder stacks only; PP-FormulaNet's SAM image encoder and the "
        "decoder's cross-attention are not modelled"
    )
    return _done(arch, vision, projector, warnings, "pp_formulanet_vision (SAM)")


TOWERS.setdefault("pp_formulanet_vision", sam_vision_params)
VISION_DEFAULTS.setdefault(
    "pp_formulanet_vision",
    {  # PPFormulaNetVisionConfig
        **VISION_DEFAULTS["got_ocr2_vision"],
        "image_size": 512,
        "post_conv_in_channels": 256,
        "post_conv_out_channels": 1024,
        "post_conv_mid_channels": 512,
        "decoder_hidden_size": 512,
    },
)


_UDOP_BIAS_KEYS = frozenset(
    (
        "type",
        "num_heads",
        "relative_attention_num_buckets",
        "bidirectional",
        "scaling_factor",
        "max_distance",
        "level",
        "augmentation",
        "prefix_bucket",
        "expand",
    )
)


def udop(reader: ConfigReader) -> Architecture:
    """UDOP: a T5 encoder-decoder (shared vocabulary, relative position bias in the first block
    of each stack) plus layout parts: a patch embedding at the top and one per stack (the
    encoder's is shared with the top one), 2-D cell position tables in the encoder, and per
    stack the extra relative biases of ``relative_bias_args`` (the first shares the encoder's
    first-block bias). The LM head shares the vocabulary table: transformers 5.24 ties it
    whatever ``tie_word_embeddings`` says (same meta-device count either way)."""
    hidden = reader.int("d_model")
    encoder_layers = reader.int("num_layers")
    heads = reader.int("num_heads")
    head_dim = reader.int("d_kv")
    intermediate = reader.int("d_ff")
    vocab = reader.int("vocab_size")
    reader.check()
    decoder_layers = reader.int("num_decoder_layers", default=encoder_layers)
    buckets = reader.int("relative_attention_num_buckets", default=32)
    cells = reader.int("max_2d_position_embeddings", default=1024)
    patch = reader.int("patch_size", default=16)
    channels = reader.int("num_channels", default=3)
    gated = reader.bool("is_gated_act", default=False)
    bias_args = reader.raw("relative_bias_args")
    if bias_args is None:
        bias_args = [{"type": "1d"}, {"type": "horizontal"}, {"type": "vertical"}]
    if not isinstance(bias_args, list) or not bias_args:
        raise reader.error("relative_bias_args must be a non-empty list (transformers needs one)")
    bias_rows = []
    for entry in bias_args:
        if not isinstance(entry, dict) or set(entry) - _UDOP_BIAS_KEYS:
            raise reader.error(
                f"relative_bias_args entry {entry!r} has keys this handler cannot count"
            )
        rows = entry.get("relative_attention_num_buckets", 32)
        if entry.get("prefix_bucket") and not entry.get("expand"):
            rows += 2
        bias_rows.append(rows)
    if bias_rows[0] != buckets:
        raise reader.error(
            "the first relative_bias_args entry must match relative_attention_num_buckets "
            "(transformers ties it to the encoder's first-block bias)"
        )
    attention = counting.attention(hidden, heads, heads, head_dim)
    ffn = counting.mlp(hidden, intermediate, gated)
    patch_embedding = counting.linear(channels * patch * patch, hidden, True)
    layout_biases = sum(bias_rows[1:]) * heads
    encoder = (
        encoder_layers * (attention + ffn + 2 * hidden)
        + buckets * heads
        + hidden
        + 2 * cells * hidden
        + layout_biases
    )
    decoder = (
        decoder_layers * (2 * attention + ffn + 3 * hidden)
        + buckets * heads
        + hidden
        + layout_biases
        + patch_embedding
    )
    total = vocab * hidden + patch_embedding + encoder + decoder
    arch = Architecture(reader.family)
    arch.model_type = "encoder-decoder"
    arch.attention_type = "mha"
    arch.parameter_count = total
    arch.active_parameter_count = total
    arch.num_layers = encoder_layers + decoder_layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.vocab_size = vocab
    arch.extra.update({"encoder_layers": encoder_layers, "decoder_layers": decoder_layers})
    arch.add_kv_layers(decoder_layers, 2 * heads * head_dim)
    arch.cross_attention_values_per_source_token = decoder_layers * 2 * heads * head_dim
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_ffi": 2 if gated else 1,
        "num_encoder_layers": encoder_layers,
        "num_decoder_layers": decoder_layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "head_dim": head_dim,
        "hidden_act": reader.str("dense_act_fn", default="relu") or "relu",
    }
    arch.genz_unsupported = (
        "GenZ 0.0.16 simulates decoder stacks only; UDOP's encoder (text, layout and image) "
        "and the decoder's cross-attention are not modelled"
    )
    return arch


IDEFICS_VISION_DEFAULTS = {  # IdeficsVisionConfig
    "embed_dim": 768,
    "image_size": 224,
    "intermediate_size": 5120,
    "patch_size": 14,
    "num_hidden_layers": 32,
    "num_attention_heads": 16,
    "num_channels": 3,
}
IDEFICS_PERCEIVER_DEFAULTS = {  # IdeficsPerceiverConfig
    "resampler_n_latents": 64,
    "resampler_depth": 6,
    "resampler_n_heads": 16,
    "resampler_head_dim": 96,
    "qk_layer_norms_perceiver": False,
}


def idefics(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """IDEFICS (v1): a CLIP ViT, an optional Perceiver resampler (``use_resampler``), a Llama
    decoder with ``num_hidden_layers // cross_layer_interval`` gated cross-attention layers
    (bias-free q/o from the text width, k/v from the vision width, optional q/k RMSNorms,
    two RMSNorms, a SwiGLU MLP and two tanh gates of ``alpha_type`` size), and
    ``additional_vocab_size`` extra embedding rows and LM-head outputs."""
    warnings: list[str] = []
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    intermediate = reader.int("intermediate_size")
    reader.check()
    interval = reader.int("cross_layer_interval", default=1)
    additional = reader.int("additional_vocab_size", default=0, minimum=0)
    alpha_type = reader.str("alpha_type", default="float")
    if alpha_type not in ("float", "vector"):
        raise reader.error(f"alpha_type {alpha_type!r} is not float or vector")
    vision_config = _with_defaults(
        reader.sub("vision_config"),
        "idefics_vision",
        {"idefics_vision": IDEFICS_VISION_DEFAULTS},
        "vision_config",
        warnings,
    )
    vision_reader = ConfigReader(
        {**vision_config, "hidden_size": vision_config.get("embed_dim")},
        reader.family,
        "vision_config.",
    )
    vision, vision_width = clip_vision_params(vision_reader)
    head_dim = hidden // heads
    cross_layer = (
        counting.linear(hidden, hidden)  # q
        + 2 * counting.linear(vision_width, hidden)  # k, v from the image features
        + counting.linear(hidden, hidden)  # o
        + (2 * head_dim if reader.bool("qk_layer_norms", default=False) else 0)
        + 2 * hidden  # input and post-attention RMSNorms
        + counting.mlp(hidden, intermediate, True)
        + (2 * hidden if alpha_type == "vector" else 2)
    )
    cross = (layers // interval) * cross_layer
    resampler = 0
    if reader.bool("use_resampler", default=False):
        perceiver = ConfigReader(
            _with_defaults(
                reader.sub("perceiver_config"),
                "idefics_perciever",
                {"idefics_perciever": IDEFICS_PERCEIVER_DEFAULTS},
                "perceiver_config",
                warnings,
            ),
            reader.family,
            "perceiver_config.",
        )
        latents = perceiver.int("resampler_n_latents")
        depth = perceiver.int("resampler_depth")
        p_heads = perceiver.int("resampler_n_heads")
        p_head_dim = perceiver.int("resampler_head_dim")
        perceiver.check()
        inner = p_heads * p_head_dim
        block = (
            2 * counting.layer_norm(vision_width)  # context and latents LayerNorms
            + 3 * counting.linear(vision_width, inner)
            + counting.linear(inner, vision_width)
            + counting.layer_norm(vision_width)  # MLP LayerNorm
            + counting.mlp(vision_width, 4 * vision_width, False)
        )
        if perceiver.bool("qk_layer_norms_perceiver", default=False):
            block += 2 * counting.layer_norm(p_head_dim)
        resampler = latents * vision_width + depth * block + counting.layer_norm(vision_width)
    tied = reader.bool("tie_word_embeddings", default=False)
    arch = build_decoder(reader, tie_default=False)
    add_attention_kv(arch, None, None, 2 * hidden)
    # Extra vocabulary rows in the embedding and (untied) extra LM-head outputs.
    extra_vocab = additional * hidden * (1 if tied else 2)
    arch.parameter_count += cross + extra_vocab
    if arch.active_parameter_count is not None:
        arch.active_parameter_count += cross + extra_vocab
    warnings.append(
        f"{layers // interval} gated cross-attention layers attend to the image features "
        "(cached per image, not per text token); GenZ simulates the Llama layers only"
    )
    arch = _done(arch, vision, resampler, warnings, "idefics_vision (CLIP)")
    arch.text_parameter_count = (arch.text_parameter_count or 0) - cross
    arch.extra["cross_attention_parameter_count"] = cross
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no gated cross-attention layers: an IDEFICS simulation would leave "
        f"out {layers // interval} of its decoder blocks"
    )
    return arch


def molmo2_text(reader: ConfigReader) -> Architecture:
    """Molmo2 language model: Qwen-style decoder (q/k/v bias per ``attention_bias``, bias-free
    output), q/k RMSNorms per head (``qk_norm_type`` qwen3) or over the full width (olmo), an
    embedding with ``additional_vocab_size`` extra rows and an untied LM head over
    ``vocab_size`` only (the two cannot be tied: their shapes differ)."""
    if reader.bool("tie_word_embeddings", default=False):
        raise reader.error(
            "tie_word_embeddings=true: Molmo2's embedding has additional_vocab_size more rows "
            "than its LM head, so the tied count is not defined"
        )
    norm_type = reader.str("qk_norm_type", default="qwen3")
    if norm_type not in ("qwen3", "olmo"):
        raise reader.error(f"qk_norm_type {norm_type!r} is not qwen3 or olmo")
    bias = reader.bool("attention_bias", default=False)
    hidden = reader.int("hidden_size")
    additional = reader.int("additional_vocab_size", default=128, minimum=0)
    arch = build_decoder(
        reader,
        q_bias=bias,
        kv_bias=bias,
        qk_norm=QK_NORM_PER_HEAD_DIM if norm_type == "qwen3" else QK_NORM_FULL_WIDTH,
        tie_default=False,
        extra_params=additional * hidden,
    )
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    return arch


def molmo2_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Molmo2 ViT: linear patch embedding, learned ``num_position_embeddings`` table, SigLIP
    layers with ``heads x head_dim`` attention (biases per ``attention_bias``); no final norm
    (the adapter reads intermediate layers)."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    heads = vision.int("num_attention_heads")
    positions = vision.int("num_position_embeddings")
    patch = side(vision, "patch_size")
    vision.check()
    kv_heads = vision.int("num_key_value_heads", default=heads)
    head_dim = vision.int("head_dim", default=hidden // heads)
    channels = vision.int("num_channels", default=3)
    bias = vision.bool("attention_bias", default=True)
    per_layer = (
        counting.attention(hidden, heads, kv_heads, head_dim, bias, bias, bias)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    params = (
        counting.linear(channels * patch * patch, hidden, True)
        + positions * hidden
        + layers * per_layer
    )
    return params, hidden


MOLMO2_ADAPTER_DEFAULTS = {  # Molmo2AdapterConfig
    "vision_feature_layer": [24, 18],
    "hidden_size": 1152,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "head_dim": 72,
    "attention_bias": True,
    "intermediate_size": 18944,
    "text_hidden_size": 3584,
    "mlp_bias": False,
}


def molmo2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Molmo2: Molmo2 ViT, an adapter (attention pooling over the concatenated feature layers
    and a SwiGLU projector to ``adapter_config.text_hidden_size``), Molmo2 language model."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "molmo2_text", warnings, None)
    vision, _, _ = vision_tower(reader, "molmo2_vision", warnings)
    adapter = ConfigReader(
        _with_defaults(
            reader.sub("adapter_config"),
            "molmo2_adapter",
            {"molmo2_adapter": MOLMO2_ADAPTER_DEFAULTS},
            "adapter_config",
            warnings,
        ),
        reader.family,
        "adapter_config.",
    )
    width = adapter.int("hidden_size")
    heads = adapter.int("num_attention_heads")
    intermediate = adapter.int("intermediate_size")
    out = adapter.int("text_hidden_size")
    adapter.check()
    kv_heads = adapter.int("num_key_value_heads", default=heads)
    head_dim = adapter.int("head_dim", default=width // heads)
    bias = adapter.bool("attention_bias", default=True)
    mlp_bias = adapter.bool("mlp_bias", default=False)
    layers = adapter.raw("vision_feature_layer", "vit_layers")
    stacked = width * (len(layers) if isinstance(layers, list) and layers else 1)
    pooling = (
        counting.linear(stacked, heads * head_dim, bias)
        + 2 * counting.linear(stacked, kv_heads * head_dim, bias)
        + counting.linear(heads * head_dim, width, bias)
    )
    projector = (
        pooling
        + 2 * counting.linear(width, intermediate, mlp_bias)
        + counting.linear(intermediate, out)
    )
    if out != arch.hidden_size:
        warnings.append(
            f"adapter_config.text_hidden_size {out} differs from the language model width "
            f"{arch.hidden_size}: counted as transformers builds it"
        )
    return _done(arch, vision, projector, warnings, "molmo2_vision")


TOWERS.setdefault("molmo2_vision", molmo2_vision_params)
VISION_DEFAULTS.setdefault(
    "molmo2_vision",
    {  # Molmo2VisionConfig
        "hidden_size": 1152,
        "intermediate_size": 4304,
        "num_hidden_layers": 25,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "head_dim": 72,
        "image_size": [378, 378],
        "patch_size": 14,
        "num_position_embeddings": 729,
        "num_channels": 3,
        "attention_bias": True,
    },
)


FLORENCE_VISION_DEFAULTS = {  # Florence2VisionConfig (DaViT)
    "in_channels": 3,
    "depths": [1, 1, 9, 1],
    "patch_size": [7, 3, 3, 3],
    "patch_prenorm": [False, True, True, True],
    "embed_dim": [128, 256, 512, 1024],
    "mlp_ratio": 4.0,
    "qkv_bias": True,
    "projection_dim": 1024,
    "max_position_embeddings": 50,
}


def florence_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Florence-2's DaViT: per stage a strided conv embedding with a LayerNorm (before the conv
    with ``patch_prenorm``, else after), then ``depths[i]`` pairs of spatial (window) and
    channel attention blocks, each with two depthwise 3x3 position convs, two LayerNorms, a
    fused qkv (``qkv_bias``), a biased output and a biased MLP of ``mlp_ratio``.

    Returns the last stage's width."""
    depths = vision.int_list("depths")
    kernels = vision.int_list("patch_size")
    widths = vision.int_list("embed_dim")
    prenorm = vision.raw("patch_prenorm")
    if not (depths and kernels and widths and isinstance(prenorm, list)) or not (
        len(depths) == len(kernels) == len(widths) == len(prenorm)
    ):
        raise vision.error(
            f"{vision.where}depths, patch_size, embed_dim and patch_prenorm must be lists of "
            "one entry per stage"
        )
    ratio = vision.number("mlp_ratio", default=4.0)
    qkv_bias = vision.bool("qkv_bias", default=True)
    previous = vision.int("in_channels", default=3)
    params = 0
    for depth, kernel, width, norm_first in zip(depths, kernels, widths, prenorm, strict=True):
        params += previous * width * kernel * kernel + width
        params += counting.layer_norm(previous if norm_first else width)
        block = (
            2 * (9 * width + width)  # depthwise position convs
            + 2 * counting.layer_norm(width)
            + counting.linear(width, 3 * width, qkv_bias)
            + counting.linear(width, width, True)
            + counting.mlp(width, int(width * ratio), False, True)
        )
        params += depth * 2 * block  # a spatial and a channel block per depth step
        previous = width
    return params, previous


def florence2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Florence-2: DaViT image encoder, a projector (2-D learned position tables, bias-free
    linear to ``projection_dim``, LayerNorm; temporal positions are sinusoidal), and a BART
    encoder-decoder whose LM head is tied by default."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "bart", warnings, True)
    vision, width, tower = vision_tower(reader, "florence_vision", warnings)
    projection = tower.int("projection_dim")
    positions = tower.int("max_position_embeddings")
    tower.check()
    projector = (
        positions * width  # row and column tables, width // 2 and the rest
        + counting.linear(width, projection)
        + counting.layer_norm(projection)
    )
    return _done(arch, vision, projector, warnings, "florence_vision (DaViT)")


TOWERS.setdefault("florence_vision", florence_vision_params)
VISION_DEFAULTS.setdefault("florence_vision", FLORENCE_VISION_DEFAULTS)


JANUS_VISION_DEFAULTS = {  # JanusVisionConfig
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "num_channels": 3,
    "image_size": 384,
    "patch_size": 16,
    "mlp_ratio": 4.0,
    "attention_bias": True,
    "projection_dim": 2048,
    "use_qk_norm": False,
    "depth": 2,
}
JANUS_VQ_DEFAULTS = {  # JanusVQVAEConfig
    "embed_dim": 8,
    "num_embeddings": 16384,
    "double_latent": False,
    "latent_channels": 256,
    "in_channels": 3,
    "base_channels": 128,
    "channel_multiplier": [1, 1, 2, 2, 4],
    "num_res_blocks": 2,
    "out_channels": 3,
    "projection_dim": 2048,
    "num_hidden_layers": 2,
    "image_token_embed_dim": 2048,
}


def janus_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """Janus SigLIP-style ViT: biased patch conv, position table, layers with biased q/k/v
    (``attention_bias``), optional q/k LayerNorms over the full width, a biased output and a
    biased MLP of ``mlp_ratio``; a post-LayerNorm and no pooling head."""
    hidden = vision.int("hidden_size")
    layers = vision.int("num_hidden_layers")
    image = side(vision, "image_size")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    bias = vision.bool("attention_bias", default=True)
    intermediate = int(hidden * vision.number("mlp_ratio", default=4.0))
    per_layer = (
        3 * counting.linear(hidden, hidden, bias)
        + counting.linear(hidden, hidden, True)
        + (2 * counting.layer_norm(hidden) if vision.bool("use_qk_norm", default=False) else 0)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    params = (
        channels * patch * patch * hidden
        + hidden
        + (image // patch) ** 2 * hidden
        + layers * per_layer
        + counting.layer_norm(hidden)
    )
    return params, hidden


def _vq_resnet(channels_in: int, channels_out: int) -> int:
    """A VQ-VAE ResNet block: two GroupNorms, two 3x3 convs, a 1x1 shortcut when widths differ."""
    params = 2 * channels_in + 9 * channels_in * channels_out + channels_out
    params += 2 * channels_out + 9 * channels_out * channels_out + channels_out
    if channels_in != channels_out:
        params += channels_in * channels_out + channels_out
    return params


def _vq_attention(channels: int) -> int:
    """A VQ-VAE attention block: GroupNorm and four biased 1x1 convs."""
    return 2 * channels + 4 * (channels * channels + channels)


def janus_vqvae_params(vq: ConfigReader) -> int:
    """Janus image tokenizer (VQ-VAE): conv encoder with ResNet blocks, attention at the lowest
    resolution and a middle block; the codebook and 1x1 quant convs; the mirrored decoder
    (one more ResNet block per level)."""
    base = vq.int("base_channels")
    multipliers = vq.int_list("channel_multiplier")
    blocks = vq.int("num_res_blocks")
    latent = vq.int("latent_channels")
    embed = vq.int("embed_dim")
    codes = vq.int("num_embeddings")
    vq.check()
    if not multipliers:
        raise vq.error("vq_config.channel_multiplier must list one multiplier per level")
    in_channels = vq.int("in_channels", default=3)
    out_channels = vq.int("out_channels", default=3)
    double = vq.bool("double_latent", default=False)
    levels = len(multipliers)

    def middle(channels: int) -> int:
        return 2 * _vq_resnet(channels, channels) + _vq_attention(channels)

    encoder = 9 * in_channels * base + base
    block_in = base
    for level, multiplier in enumerate(multipliers):
        block_out = base * multiplier
        for _ in range(blocks):
            encoder += _vq_resnet(block_in, block_out)
            block_in = block_out
            if level == levels - 1:
                encoder += _vq_attention(block_in)
        if level != levels - 1:
            encoder += 9 * block_in * block_in + block_in  # strided downsampling conv
    latent_out = 2 * latent if double else latent
    encoder += middle(block_in) + 2 * block_in + 9 * block_in * latent_out + latent_out
    decoder_in = base * multipliers[-1]
    decoder = 9 * latent * decoder_in + decoder_in + middle(decoder_in)
    block_in = decoder_in
    for level in reversed(range(levels)):
        block_out = base * multipliers[level]
        for _ in range(blocks + 1):
            decoder += _vq_resnet(block_in, block_out)
            block_in = block_out
            if level == levels - 1:
                decoder += _vq_attention(block_in)
        if level != 0:
            decoder += 9 * block_in * block_in + block_in  # upsampling conv
    decoder += 2 * block_in + 9 * block_in * out_channels + out_channels
    quantizer = codes * embed + (latent * embed + embed) + (embed * latent + latent)
    return encoder + quantizer + decoder


def janus(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Janus: SigLIP-style understanding encoder with an MLP aligner, a VQ-VAE image tokenizer
    with its own code embedding, aligner and generation head, and a Llama language model (head
    tied by the wrapper's default)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "llama", warnings, True)
    vision, width, tower = vision_tower(reader, "janus_vision_model", warnings)
    projection = tower.int("projection_dim")
    depth = tower.int("depth")
    tower.check()
    aligner = counting.linear(width, projection, True) + (depth - 1) * counting.linear(
        projection, projection, True
    )
    vq = ConfigReader(
        _with_defaults(
            reader.sub("vq_config"),
            "janus_vqgan",
            {"janus_vqgan": JANUS_VQ_DEFAULTS},
            "vq_config",
            warnings,
        ),
        reader.family,
        "vq_config.",
    )
    tokenizer = janus_vqvae_params(vq)
    embed = vq.int("embed_dim")
    codes = vq.int("num_embeddings")
    vq_projection = vq.int("projection_dim")
    vq_layers = vq.int("num_hidden_layers")
    token_width = vq.int("image_token_embed_dim")
    vq.check()
    generation = (
        codes * embed  # generation_embeddings
        + counting.linear(embed, vq_projection, True)
        + (vq_layers - 1) * counting.linear(vq_projection, vq_projection, True)
        + counting.linear(token_width, vq_projection, True)
        + counting.linear(vq_projection, codes, True)  # generation head
    )
    arch = _done(arch, vision + tokenizer, aligner + generation, warnings, "janus_vision_model")
    arch.extra["image_tokenizer_parameter_count"] = tokenizer
    return arch


TOWERS.setdefault("janus_vision_model", janus_vision_params)
VISION_DEFAULTS.setdefault("janus_vision_model", JANUS_VISION_DEFAULTS)


def ernie4_5_vl_moe_text(reader: ConfigReader) -> Architecture:
    """ERNIE-4.5-VL language model: ERNIE-4.5 attention (``use_bias`` on every projection), and
    in each ``sparse`` layer of ``mlp_layer_types`` a text MoE and a vision MoE (gated experts of
    ``moe_intermediate_size[0]`` and ``[1]``, each with a router and a per-expert correction
    bias) beside ``moe_num_shared_experts`` fused shared experts. Active parameters are a text
    token's: the vision experts are not counted as active."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    experts = reader.int("moe_num_experts")
    top_k = reader.int("moe_k")
    widths = reader.int_list("moe_intermediate_size")
    reader.check()
    if not widths or len(widths) != 2:
        raise reader.error("moe_intermediate_size must be [text expert width, vision expert width]")
    kinds = reader.str_list("mlp_layer_types") or ["dense"] + ["sparse"] * (layers - 1)
    if len(kinds) != layers or set(kinds) - {"dense", "sparse"}:
        raise reader.error(f"mlp_layer_types must list dense / sparse for {layers} layers")
    bias = reader.bool("use_bias", default=False)
    shared = widths[0] * reader.int("moe_num_shared_experts", default=2, minimum=0)
    vision_moe = experts * counting.mlp(hidden, widths[1], True) + counting.linear(hidden, experts)
    extra = vision_moe + 2 * experts  # two correction-bias rows
    if bias and shared:
        extra += 2 * shared + hidden  # biases of the shared experts' projections
    moe = MoeSpec(
        num_experts=experts,
        experts_per_token=top_k,
        expert_intermediate_size=widths[0],
        moe_layers=[kind == "sparse" for kind in kinds],
        shared_intermediate_size=shared,
        router_extra_per_layer=extra,
    )
    arch = build_decoder(
        reader, q_bias=bias, kv_bias=bias, o_bias=bias, mlp_bias=bias, tie_default=True, moe=moe
    )
    if arch.active_parameter_count is not None:
        arch.active_parameter_count -= kinds.count("sparse") * vision_moe
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    arch.warnings.append(
        "active parameters are a text token's; image tokens route through the vision experts"
    )
    return arch


def ernie4_5_vl_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """ERNIE-4.5-VL ViT: bias-free linear patch embedding, pre-LayerNorm blocks with a biased
    fused qkv, biased projection and biased plain MLP, final LayerNorm."""
    hidden = vision.int("hidden_size")
    depth = vision.int("depth")
    intermediate = vision.int("intermediate_size")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("in_channels", default=3)
    per_block = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    params = channels * patch * patch * hidden + depth * per_block + counting.layer_norm(hidden)
    return params, hidden


def ernie4_5_vl_moe(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """ERNIE-4.5-VL MoE: ViT, a variable-resolution resampler (spatial and temporal merge MLPs
    with LayerNorms, a linear to the text width and an RMSNorm), ERNIE-4.5-VL MoE text."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "ernie4_5_vl_moe_text", warnings, True)
    vision, width, tower = vision_tower(reader, "ernie4_5_vl_moe_vision", warnings)
    spatial = width * tower.int("spatial_merge_size", default=2) ** 2
    temporal = spatial * tower.int("temporal_merge_size", default=2)
    text_hidden = arch.hidden_size or 0
    projector = (
        counting.linear(spatial, spatial, True) * 2
        + counting.layer_norm(spatial)
        + counting.linear(temporal, spatial, True)
        + counting.linear(spatial, spatial, True)
        + counting.layer_norm(spatial)
        + counting.linear(spatial, text_hidden, True)
        + text_hidden  # RMSNorm
    )
    return _done(arch, vision, projector, warnings, "ernie4_5_vl_moe_vision")


TOWERS.setdefault("ernie4_5_vl_moe_vision", ernie4_5_vl_vision_params)
VISION_DEFAULTS.setdefault(
    "ernie4_5_vl_moe_vision",
    {  # Ernie4_5_VLMoeVisionConfig
        "depth": 32,
        "hidden_size": 1280,
        "num_heads": 16,
        "in_channels": 3,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "intermediate_size": 5120,
        "temporal_merge_size": 2,
    },
)


def unlimited_ocr_text(reader: ConfigReader) -> Architecture:
    """Unlimited-OCR language model: DeepSeek-V2-style MoE without latent attention (q/k/v/o
    biases per ``attention_bias``, ``head_dim`` always hidden/heads), a dense MLP in the
    ``dense`` layers of ``mlp_layer_types`` (default: the first ``first_k_dense_replace``),
    routed experts with a bias-free router and ``n_shared_experts`` fused shared experts in
    the rest. Every layer keeps the prompt plus the last ``sliding_window`` generated tokens."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("n_routed_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("moe_intermediate_size")
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    reader.check()
    first_dense = reader.int("first_k_dense_replace", default=1, minimum=0)
    kinds = reader.str_list("mlp_layer_types") or [
        "sparse" if index >= first_dense else "dense" for index in range(layers)
    ]
    if len(kinds) != layers or set(kinds) - {"dense", "sparse"}:
        raise reader.error(f"mlp_layer_types must list dense / sparse for {layers} layers")
    attention_bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool("mlp_bias", default=False)
    shared = width * reader.int("n_shared_experts", default=2, minimum=0)
    extra = 0
    if mlp_bias and shared:
        extra = 2 * shared + hidden  # the shared experts' projection biases
    config = {**reader.config, "head_dim": hidden // heads}  # transformers overrides head_dim
    moe = MoeSpec(
        num_experts=experts,
        experts_per_token=top_k,
        expert_intermediate_size=width,
        moe_layers=[kind == "sparse" for kind in kinds],
        shared_intermediate_size=shared,
        router_extra_per_layer=extra,
    )
    arch = build_decoder(
        ConfigReader(config, reader.family, reader.where),
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        mlp_bias=mlp_bias,
        tie_default=False,
        moe=moe,
    )
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    window = reader.optional_int("sliding_window", minimum=1)
    if window is not None:
        arch.warnings.append(
            f"reference sliding attention: each layer keeps the whole prompt plus the last "
            f"{window} generated tokens; the KV figures assume the full sequence is kept"
        )
    return arch


UNLIMITED_OCR_ENCODER_DEFAULTS = {  # UnlimitedOcrVisionEncoderConfig (CLIP ViT-L/14)
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "image_size": 224,
    "patch_size": 14,
}
UNLIMITED_OCR_SAM_DEFAULTS = {  # UnlimitedOcrSamVisionConfig
    **VISION_DEFAULTS["sam_vision_model"],
    "mlp_dim": 3072,
    "downsample_channels": [512, 1024],
}


def unlimited_ocr(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Unlimited-OCR: a SAM encoder with neck and two bias-free strided convs, a CLIP ViT-L that
    reads the SAM features (its own patch conv and post-LayerNorm are not built), a linear
    projector of the concatenated features, two learned separator rows, and its MoE text."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "unlimited_ocr_text", warnings, False)
    vision_config = reader.sub("vision_config") or {}
    sam = ConfigReader(
        _with_defaults(
            vision_config.get("sam_config"),
            "unlimited_ocr_sam",
            {"unlimited_ocr_sam": UNLIMITED_OCR_SAM_DEFAULTS},
            "vision_config.sam_config",
            warnings,
        ),
        reader.family,
        "vision_config.sam_config.",
    )
    sam_params, sam_channels = sam_vision_params(sam)
    downsample = sam.int_list("downsample_channels")
    if not downsample or len(downsample) != 2:
        raise sam.error("vision_config.sam_config.downsample_channels must list two widths")
    sam_params += 9 * (sam_channels * downsample[0] + downsample[0] * downsample[1])
    clip = ConfigReader(
        _with_defaults(
            vision_config.get("encoder_config"),
            "unlimited_ocr_encoder",
            {"unlimited_ocr_encoder": UNLIMITED_OCR_ENCODER_DEFAULTS},
            "vision_config.encoder_config",
            warnings,
        ),
        reader.family,
        "vision_config.encoder_config.",
    )
    clip_params, clip_width = clip_vision_params(clip)
    patch = clip.int("patch_size")
    clip_params -= clip.int("num_channels", default=3) * patch * patch * clip_width
    clip_params -= counting.layer_norm(clip_width)  # no post-LayerNorm
    text_hidden = arch.hidden_size or 0
    projector = counting.linear(downsample[1] + clip_width, text_hidden, True) + 2 * text_hidden
    return _done(
        arch, sam_params + clip_params, projector, warnings, "SAM + CLIP (unlimited_ocr_vision)"
    )


def minimax_m3_vl_text(reader: ConfigReader) -> Architecture:
    """MiniMax-M3 language model: GQA with per-head q/k RMSNorms; in ``sparse`` layers of
    ``mlp_layer_types`` a bias-free router over ``num_local_experts`` fused SwiGLU experts and a
    shared expert (``shared_intermediate_size``), else a dense MLP (``dense_intermediate_size``);
    ``minimax_m3_sparse`` layers of ``layer_types`` add a Lightning Indexer (bias-free q over
    ``index_n_heads`` and one k of ``index_head_dim``, two RMSNorms) whose keys are cached too."""
    layers = reader.int("num_hidden_layers")
    hidden = reader.int("hidden_size")
    experts = reader.int("num_local_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("intermediate_size")
    reader.check()
    if reader.raw("layer_types") is None and reader.raw("sparse_attention_config") is not None:
        raise reader.error(
            "sparse_attention_config without layer_types: this handler reads the per-layer "
            "attention kinds from layer_types only"
        )
    kinds = reader.str_list("layer_types") or ["full_attention"] * layers
    if len(kinds) != layers or set(kinds) - {"full_attention", "minimax_m3_sparse"}:
        raise reader.error(
            f"layer_types must list full_attention / minimax_m3_sparse for {layers} layers"
        )
    freq = reader.raw("moe_layer_freq")
    mlp_kinds = reader.str_list("mlp_layer_types") or (
        ["sparse" if flag else "dense" for flag in freq]
        if isinstance(freq, list)
        else ["sparse"] * layers
    )
    if len(mlp_kinds) != layers or set(mlp_kinds) - {"dense", "sparse"}:
        raise reader.error(f"mlp_layer_types must list dense / sparse for {layers} layers")
    indexed = kinds.count("minimax_m3_sparse")
    indexer = 0
    index_dim = 0
    if indexed:
        index_heads = reader.int("index_n_heads")
        index_dim = reader.int("index_head_dim")
        reader.check()
        indexer = (
            counting.linear(hidden, index_heads * index_dim)
            + counting.linear(hidden, index_dim)
            + 2 * index_dim
        )
    moe = MoeSpec(
        num_experts=experts,
        experts_per_token=top_k,
        expert_intermediate_size=width,
        moe_layers=[kind == "sparse" for kind in mlp_kinds],
        dense_intermediate_size=reader.int("dense_intermediate_size", default=12288),
        shared_intermediate_size=reader.int("shared_intermediate_size", default=0, minimum=0),
    )
    arch = build_decoder(
        reader,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        tie_default=False,
        moe=moe,
        extra_params=indexed * indexer,
    )
    per_layer = 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0)
    arch.add_kv_layers(layers - indexed, per_layer)
    arch.add_kv_layers(indexed, per_layer + index_dim)  # the indexer caches its keys
    if indexed:
        arch.warnings.append(
            f"{indexed} layers use block-sparse attention (Lightning Indexer top-"
            f"{reader.int('index_topk_blocks', default=16)} blocks); GenZ simulates dense attention"
        )
    return arch


def minimax_m3_vl_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """MiniMax-M3-VL ViT: bias-free 3-D patch conv, a pre-LayerNorm, CLIP-style layers (biased
    projections and MLP, two LayerNorms), no position table and no post-LayerNorm."""
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    patch = side(vision, "patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    temporal = vision.int("temporal_patch_size", default=2)
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    params = channels * temporal * patch * patch * hidden + counting.layer_norm(hidden)
    return params + layers * per_layer, hidden


def minimax_m3_vl(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """MiniMax-M3-VL: ViT, a projector (per-patch two-layer MLP to the text width and a merge
    MLP over ``merged_hidden_size``), MiniMax-M3 language model (untied by default)."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "minimax_m3_vl_text", warnings, False)
    vision, width, tower = vision_tower(reader, "minimax_m3_vl_vision", warnings)
    text_hidden = arch.hidden_size or 0
    inner = reader.int("projector_hidden_size", default=6144)
    merge = tower.int("spatial_merge_size", default=2)
    merged = reader.int("merged_hidden_size", default=text_hidden * merge * merge)
    projector = (
        counting.linear(width, inner, True)
        + counting.linear(inner, text_hidden, True)
        + counting.linear(merged, inner, True)
        + counting.linear(inner, text_hidden, True)
    )
    return _done(arch, vision, projector, warnings, "minimax_m3_vl_vision")


TOWERS.setdefault("minimax_m3_vl_vision", minimax_m3_vl_vision_params)
VISION_DEFAULTS.setdefault(
    "minimax_m3_vl_vision",
    {  # MiniMaxM3VLVisionConfig
        "hidden_size": 1280,
        "intermediate_size": 5120,
        "num_hidden_layers": 32,
        "num_attention_heads": 16,
        "num_channels": 3,
        "image_size": 2016,
        "patch_size": 14,
        "temporal_patch_size": 2,
        "spatial_merge_size": 2,
    },
)


EVOLLA_PROTEIN_DEFAULTS = {  # EvollaSaProtConfig (SaProt, an ESM-2 650M layout)
    "vocab_size": 446,
    "hidden_size": 1280,
    "num_hidden_layers": 33,
    "intermediate_size": 5120,
    "max_position_embeddings": 1026,
    "position_embedding_type": "rotary",
    "emb_layer_norm_before": False,
}


def evolla(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Evolla: a SaProt (ESM-style, biased, pre-LayerNorm) protein encoder, a Perceiver
    sequence compressor (latents, bias-free attention and feed-forward blocks, projector and
    LayerNorm to the text width), and a Llama decoder in which every
    ``num_hidden_layers // aligner_num_add_layers``-th layer carries a gated cross-attention
    adapter (biased q/k/v from the text width, RMSNorm, output projection, LayerNorm feed-forward
    of ``aligner_ffn_mult``, two scalar gates)."""
    warnings: list[str] = []
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    reader.check()
    add_layers = reader.int("aligner_num_add_layers", default=8)
    ffn_mult = reader.int("aligner_ffn_mult", default=4)
    out_bias = reader.bool("aligner_enable_bias", default=True)
    latents = reader.int("resampler_num_latents", default=64)
    depth = reader.int("resampler_depth", default=6)
    r_heads = reader.int("resampler_heads", default=8)
    r_head_dim = reader.int("resampler_dim_head", default=64)
    r_mult = reader.int("resampler_ff_mult", default=4)
    protein = ConfigReader(
        _with_defaults(
            reader.sub("protein_encoder_config"),
            "evolla_protein",
            {"evolla_protein": EVOLLA_PROTEIN_DEFAULTS},
            "protein_encoder_config",
            warnings,
        ),
        reader.family,
        "protein_encoder_config.",
    )
    p_width = protein.int("hidden_size")
    p_layers = protein.int("num_hidden_layers")
    p_inner = protein.int("intermediate_size")
    p_vocab = protein.int("vocab_size")
    protein.check()
    encoder = p_vocab * p_width
    position_type = protein.str("position_embedding_type", default="absolute")
    if position_type == "absolute":
        encoder += protein.int("max_position_embeddings") * p_width
    elif position_type != "rotary":
        raise protein.error(f"position_embedding_type {position_type!r} is not absolute or rotary")
    if protein.bool("emb_layer_norm_before", default=False):
        encoder += counting.layer_norm(p_width)
    encoder += (
        p_layers
        * (
            4 * counting.linear(p_width, p_width, True)
            + 2 * counting.layer_norm(p_width)
            + counting.mlp(p_width, p_inner, False, True)
        )
        + counting.layer_norm(p_width)  # emb_layer_norm_after
    )

    def feed_forward(width: int, mult: int) -> int:
        return counting.layer_norm(width) + counting.mlp(width, width * mult, False)

    inner = r_heads * r_head_dim
    compressor = (
        latents * p_width
        + depth
        * (
            2 * counting.layer_norm(p_width)
            + counting.linear(p_width, inner)
            + counting.linear(p_width, 2 * inner)
            + counting.linear(inner, p_width)
            + feed_forward(p_width, r_mult)
        )
        + counting.layer_norm(hidden)
        + counting.linear(p_width, hidden, True)
    )
    interval = max(layers // add_layers, 1)
    adapters = sum(1 for index in range(layers) if (index + 1) % interval == 0)
    head_width = heads * (hidden // heads)
    adapter = (
        counting.linear(hidden, head_width, True)  # query
        + 2 * counting.linear(hidden, head_width, True)  # key / value of the protein tokens
        + hidden  # RMSNorm
        + counting.linear(hidden, hidden, out_bias)
        + feed_forward(hidden, ffn_mult)
        + 2  # gates
    )
    bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=bias,
        kv_bias=bias,
        o_bias=bias,
        mlp_bias=reader.bool("mlp_bias", default=False),
        tie_default=False,
    )
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    cross = adapters * adapter
    arch.parameter_count += cross
    if arch.active_parameter_count is not None:
        arch.active_parameter_count += cross
    warnings.append(
        f"{adapters} layers cross-attend to the compressed protein tokens (cached per protein, "
        "not per text token); GenZ simulates the Llama layers only"
    )
    arch = _done(arch, encoder, compressor, warnings, "SaProt protein encoder")
    arch.text_parameter_count = (arch.text_parameter_count or 0) - cross
    arch.extra["cross_attention_parameter_count"] = cross
    arch.genz_unsupported = (
        f"GenZ 0.0.16 has no cross-attention adapters: an Evolla simulation would leave out "
        f"the protein adapters of {adapters} decoder layers"
    )
    return arch


WRAPPERS: dict[str, Callable[[ConfigReader, Dispatch], Architecture]] = {
    "gemma4": gemma4,
    "gemma4_unified": gemma4,
    "gemma4_unified_assistant": gemma4_unified_assistant,
    "aria": aria,
    "glm_ocr": glm_ocr,
    "granite_docling": granite_docling,
    "lfm3_vl": lfm3_vl,
    "cosmos3_edge": cosmos3_edge,
    "minicpmv4_6": minicpmv4_6,
    "minicpmv4_7": minicpmv4_6,
    "minicpm_ocr": minicpmv4_6,
    "kimi_k25": kimi_k25,
    "pix2struct": pix2struct,
    "kosmos-2.5": kosmos2_5,
    "pp_formulanet": pp_formulanet,
    "idefics": idefics,
    "molmo2": molmo2,
    "florence2": florence2,
    "janus": janus,
    "ernie4_5_vl_moe": ernie4_5_vl_moe,
    "unlimited_ocr": unlimited_ocr,
    "minimax_m3_vl": minimax_m3_vl,
    "evolla": evolla,
    # Cosmos 3 Omni builds a Qwen3-VL vision model and Qwen3-VL text model from its nested
    # configs (qwen3_vl_vision / qwen3_vl_text), exactly as Qwen3-VL does.
    "cosmos3_omni": families_dense_modern.qwen3_vl,
}
TEXT_HANDLERS: dict[str, Callable[[ConfigReader], Architecture]] = {
    "glm_ocr_text": glm_ocr_text,
    "cosmos3_edge_text": cosmos3_edge_text,
    "udop": udop,
    "molmo2_text": molmo2_text,
    "ernie4_5_vl_moe_text": ernie4_5_vl_moe_text,
    "unlimited_ocr_text": unlimited_ocr_text,
    "minimax_m3_vl_text": minimax_m3_vl_text,
    # GraniteDoclingTextConfig is GraniteConfig under another name (same classes).
    "granite_docling_text": families_dense.granite,
}
