"""Dense decoder families of 2024-2026 and their multimodal wrappers.

GLM (``glm``, ``glm4``), ERNIE 4.5, Hunyuan dense, Apertus, EXAONE 4, Seed-OSS, MiniCPM3 (latent
attention), Qwen3-VL and Qwen3.5 (gated delta-net linear attention), and the ``qwen3_vl``,
``qwen3_5`` and ``mistral3`` (Pixtral) wrappers. Each count follows the transformers 5.24 modelling
code of the family; the docstrings name the layout differences from Llama.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    QK_NORM_PER_HEAD_DIM,
    add_attention_kv,
    build_decoder,
    checked_attention_type,
    derived_head_dim,
    genz_dense_kwargs,
    pattern_layer_types,
    read_context_length,
    read_layer_types,
)
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_dense import qwen_layer_types
from genz_catalog.convert.families_multimodal import finish_multimodal as finish_wrapper

Dispatch = Callable[[dict[str, Any], str, str], Architecture]


def _kv_values(arch: Architecture) -> int:
    return 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0)


def with_class_defaults(reader: ConfigReader, defaults: dict[str, Any]) -> ConfigReader:
    """A reader over the config with absent keys set to the family's config-class defaults.

    Only for keys whose transformers default is a fixed number rather than derived from other keys
    (GLM's ``head_dim`` is 128 whatever the hidden size): falling back to hidden/heads there would
    count a different model than the one transformers builds. Absent means absent: an explicit
    ``null`` is left for the handler, since several classes derive a value from ``null``.
    """
    absent = {key: value for key, value in defaults.items() if key not in reader.config}
    if not absent:
        return reader
    merged = dict(reader.config)
    merged.update(absent)
    return ConfigReader(merged, reader.family, reader.where)


def _defaults_note(reader: ConfigReader, defaults: dict[str, Any]) -> str | None:
    used = [f"{key}={value}" for key, value in defaults.items() if key not in reader.config]
    if not used:
        return None
    return f"{reader.where or 'config'} relies on the {reader.family} config class defaults: " + (
        ", ".join(used)
    )


def _defaulted_decoder(
    reader: ConfigReader, defaults: dict[str, Any], **kwargs: Any
) -> Architecture:
    """:func:`build_decoder` over the config completed with ``defaults``, noting the ones used."""
    note = _defaults_note(reader, defaults)
    arch = build_decoder(with_class_defaults(reader, defaults), **kwargs)
    if note:
        arch.warnings.append(note)
    return arch


def glm(reader: ConfigReader) -> Architecture:
    """GLM-4 (v1, ``glm``): q/k/v bias, fused gate_up MLP, partial rotary; 2 K/V heads by default."""
    arch = _defaulted_decoder(
        reader,
        {"num_key_value_heads": 2, "head_dim": 128},
        q_bias=reader.bool("attention_bias", default=True),
        kv_bias=reader.bool("attention_bias", default=True),
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def glm4(reader: ConfigReader) -> Architecture:
    """GLM-4-0414 (``glm4``): GLM plus post-attention and post-MLP norms (four per layer)."""
    arch = _defaulted_decoder(
        reader,
        {"num_key_value_heads": 2, "head_dim": 128},
        q_bias=reader.bool("attention_bias", default=True),
        kv_bias=reader.bool("attention_bias", default=True),
        norms_per_layer=4,
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def ministral3(reader: ConfigReader) -> Architecture:
    """Ministral 3 (text model of the Ministral 3 ``mistral3`` wrappers): Mistral layout, a sliding
    window on every layer when ``sliding_window`` is set; 8 K/V heads of 128 by default."""
    defaults = {"num_key_value_heads": 8, **_head_dim_defaults(reader, 128)}
    arch = _defaulted_decoder(reader, defaults, tie_default=False)
    add_attention_kv(arch, None, reader.optional_int("sliding_window", minimum=1), _kv_values(arch))
    return arch


def _head_dim_defaults(reader: ConfigReader, class_default: int) -> dict[str, Any]:
    """``head_dim`` absent takes the class default; an explicit ``null`` means hidden/heads."""
    return {"head_dim": class_default} if "head_dim" not in reader.config else {}


def ernie4_5(reader: ConfigReader) -> Architecture:
    """ERNIE 4.5 dense: ``use_bias`` on every attention and MLP projection; tied by default."""
    bias = reader.bool("use_bias", default=False)
    defaults = {"num_key_value_heads": 2, **_head_dim_defaults(reader, 128)}
    arch = _defaulted_decoder(
        reader,
        defaults,
        q_bias=bias,
        kv_bias=bias,
        o_bias=bias,
        mlp_bias=bias,
        tie_default=True,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def hunyuan_v1_dense(reader: ConfigReader) -> Architecture:
    """Hunyuan dense (v1): per-head query/key RMSNorm on every layer, ``attention_bias`` on q/k/v/o.

    ``head_dim`` has no usable class default (transformers 5.24 crashes on ``None``), so an
    absent one is hidden/heads, which is what the modelling code means by it.
    """
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def apertus(reader: ConfigReader) -> Architecture:
    """Apertus: ungated up/down MLP with the learned xIELU activation (2 scalars per layer when
    ``hidden_act`` is ``xielu``), per-head q/k RMSNorm, ``attention_bias`` on q/k/v/o."""
    attention_bias = reader.bool("attention_bias", default=False)
    activation = reader.str("hidden_act", default="xielu")
    arch = build_decoder(
        reader,
        gated=False,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        tie_default=False,
        extra_params_per_layer=2 if activation == "xielu" else 0,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def _exaone4_layer_types(reader: ConfigReader, layers: int, window: int | None) -> list[str]:
    """``layer_types``, else the sliding pattern (an int period or a string such as ``"LLLG"``)."""
    layer_types = read_layer_types(reader, layers)
    if layer_types is not None:
        return layer_types
    if window is None:
        return ["full_attention"] * layers
    pattern = reader.raw("sliding_window_pattern")
    if pattern is None:
        pattern = 4
    if isinstance(pattern, str) and pattern and set(pattern) <= {"L", "G"}:
        return [
            "sliding_attention" if pattern[index % len(pattern)] == "L" else "full_attention"
            for index in range(layers)
        ]
    period = reader.int("sliding_window_pattern", default=4)
    return pattern_layer_types(layers, period)


def exaone4(reader: ConfigReader) -> Architecture:
    """EXAONE 4: per-head q/k RMSNorm, post-attention and post-MLP norms, local/global layers."""
    arch = build_decoder(reader, qk_norm=QK_NORM_PER_HEAD_DIM, tie_default=False)
    # Absent means the class default (4096); an explicit null switches sliding off.
    if "sliding_window" in reader.config:
        window = reader.optional_int("sliding_window", minimum=1)
    else:
        window = 4096
        arch.warnings.append("sliding_window absent: the exaone4 class default 4096 applies")
    layer_types = _exaone4_layer_types(reader, arch.num_layers or 0, window)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    return arch


def seed_oss(reader: ConfigReader) -> Architecture:
    """Seed-OSS: q/k/v bias (``attention_bias``), separate ``attention_out_bias``, ``mlp_bias``."""
    qkv_bias = reader.bool("attention_bias", default=True)
    defaults = {"num_key_value_heads": 8, **_head_dim_defaults(reader, 128)}
    arch = _defaulted_decoder(
        reader,
        defaults,
        q_bias=qkv_bias,
        kv_bias=qkv_bias,
        o_bias=reader.bool("attention_out_bias", default=False),
        mlp_bias=reader.bool("mlp_bias", default=False),
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def minicpm3(reader: ConfigReader) -> Architecture:
    """MiniCPM3: DeepSeek-style latent attention (MLA) in a dense Llama stack; tied by default.

    ``v_head_dim`` defaults to hidden/heads and ``q_lora_rank`` to 768 (``null``: full-rank query).
    The cache holds the latent (``kv_lora_rank``) plus the shared rotary key per layer.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_lora_rank = reader.int("kv_lora_rank", default=256)
    q_lora_rank = 768 if "q_lora_rank" not in reader.config else reader.int_or_null("q_lora_rank")
    nope_dim = reader.int("qk_nope_head_dim", default=64)
    rope_dim = reader.int("qk_rope_head_dim", default=32)
    v_head_dim = reader.int("v_head_dim", default=0)
    if v_head_dim == 0:
        v_head_dim = derived_head_dim(reader, hidden, heads, head_dim_key="v_head_dim")
    attention_bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool("mlp_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=True)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    checked_attention_type(reader, heads, kv_heads)
    attention = counting.mla_attention(
        hidden, heads, q_lora_rank, kv_lora_rank, nope_dim, rope_dim, v_head_dim, attention_bias
    )
    total = (
        vocab * hidden
        + layers
        * (
            attention
            + counting.mlp(hidden, intermediate, True, mlp_bias)
            + 2 * counting.layer_norm(hidden, bias=False)
        )
        + counting.layer_norm(hidden, bias=False)
    )
    if not tied:
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = nope_dim + rope_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = "mla"
    latent = kv_lora_rank + rope_dim
    arch.add_kv_layers(layers, latent)
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    # GenZ caches 2 * kv_heads * head_dim per layer: one K/V head of latent/2 matches the traffic.
    arch.genz_kwargs["num_key_value_heads"] = 1
    arch.genz_kwargs["head_dim"] = (latent + 1) // 2
    arch.extra.update(
        {
            "q_lora_rank": q_lora_rank,
            "kv_lora_rank": kv_lora_rank,
            "qk_rope_head_dim": rope_dim,
            "qk_nope_head_dim": nope_dim,
            "v_head_dim": v_head_dim,
        }
    )
    arch.warnings.append(
        "GenZ models MLA as one KV head of (kv_lora_rank + qk_rope_head_dim) / 2 so KV traffic "
        "matches; GenZ's attention FLOPs and weights are approximate for MLA"
    )
    return arch


def qwen3_vl_text(reader: ConfigReader) -> Architecture:
    """The Qwen3-VL language model: Qwen3 layout (per-head q/k norm), ``head_dim`` 128 by default."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = _defaulted_decoder(
        reader,
        {"head_dim": 128},
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        tie_default=False,
    )
    layer_types, window = qwen_layer_types(reader, arch.num_layers or 0)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    return arch


def qwen3_5_text(reader: ConfigReader) -> Architecture:
    """The Qwen3.5 language model: gated delta-net linear attention with gated full attention.

    ``layer_types`` (default: every ``full_attention_interval``-th layer, 4, is full attention)
    picks per layer either a gated-query attention (q_proj twice as wide, per-head q/k norm) or a
    gated delta-net (fused q/k/v projection, depthwise causal conv, z/b/a projections, per-head
    ``dt_bias`` and ``A_log``, gated RMSNorm). Linear-attention layers keep a fixed state per
    sequence (conv window and the delta-rule matrix), not a KV cache.
    """
    defaults: dict[str, Any] = {"head_dim": 256, "num_key_value_heads": 4}
    note = _defaults_note(reader, defaults)
    reader = with_class_defaults(reader, defaults)
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_heads = reader.int("num_key_value_heads")
    head_dim = reader.int("head_dim")
    attention_type = checked_attention_type(reader, heads, kv_heads)
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        interval = reader.int("full_attention_interval", default=4)
        layer_types = [
            "linear_attention" if (index + 1) % interval else "full_attention"
            for index in range(layers)
        ]
    unknown = sorted(set(layer_types) - {"linear_attention", "full_attention"})
    if unknown:
        raise reader.error(f"layer_types has unknown entries {unknown}")
    kernel = reader.int("linear_conv_kernel_dim", default=4)
    key_head_dim = reader.int("linear_key_head_dim", default=128)
    value_head_dim = reader.int("linear_value_head_dim", default=128)
    key_heads = reader.int("linear_num_key_heads", default=16)
    value_heads = reader.int("linear_num_value_heads", default=32)
    attention_bias = reader.bool("attention_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)

    key_dim = key_heads * key_head_dim
    value_dim = value_heads * value_head_dim
    conv_dim = 2 * key_dim + value_dim
    linear_attention = (
        counting.linear(hidden, conv_dim)  # in_proj_qkv
        + counting.linear(hidden, value_dim)  # in_proj_z
        + 2 * counting.linear(hidden, value_heads)  # in_proj_b, in_proj_a
        + conv_dim * kernel  # depthwise conv1d, no bias
        + 2 * value_heads  # dt_bias, A_log
        + value_head_dim  # gated RMSNorm
        + counting.linear(value_dim, hidden)  # out_proj
    )
    full_attention = (
        counting.linear(hidden, 2 * heads * head_dim, attention_bias)  # query and its gate
        + 2 * counting.linear(hidden, kv_heads * head_dim, attention_bias)
        + counting.linear(heads * head_dim, hidden, attention_bias)
        + 2 * head_dim  # q_norm, k_norm
    )
    full_layers = layer_types.count("full_attention")
    linear_layers = layers - full_layers
    per_layer = counting.mlp(hidden, intermediate, True) + 2 * counting.layer_norm(hidden, False)
    total = (
        vocab * hidden
        + layers * per_layer
        + full_layers * full_attention
        + linear_layers * linear_attention
        + counting.layer_norm(hidden, False)
    )
    if not tied:
        total += vocab * hidden

    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = attention_type
    arch.add_kv_layers(full_layers, 2 * kv_heads * head_dim)
    if linear_layers:
        arch.ssm = {
            "layers": linear_layers,
            "conv_state_values": conv_dim * kernel,
            "ssm_state_values": value_heads * key_head_dim * value_head_dim,
        }
        arch.genz_unsupported = (
            "GenZ 0.0.16 has no gated delta-net (linear attention) operator; "
            f"{linear_layers} of {layers} layers cannot be simulated"
        )
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    arch.extra.update(
        {
            "linear_attention_layers": linear_layers,
            "linear_num_key_heads": key_heads,
            "linear_num_value_heads": value_heads,
            "linear_key_head_dim": key_head_dim,
            "linear_value_head_dim": value_head_dim,
        }
    )
    mtp_layers = reader.optional_int("mtp_num_hidden_layers", minimum=0)
    if mtp_layers:
        arch.extra["mtp_num_hidden_layers"] = mtp_layers
        arch.warnings.append(
            f"{mtp_layers} multi-token-prediction layer(s) in the checkpoint are not counted "
            "(transformers does not load them)"
        )
    if note:
        arch.warnings.append(note)
    return arch


# --- multimodal wrappers ----------------------------------------------------------------------


def _wrapper_text(
    reader: ConfigReader, dispatch: Dispatch, default_text_type: str, tie_default: bool
) -> Architecture:
    """The language model of a transformers-5 wrapper whose head tying is the wrapper's own flag.

    transformers 5 ties ``lm_head`` by the top-level ``tie_word_embeddings`` (the wrapper class
    default when absent) whatever ``text_config`` says, so that value is handed to the text model.
    """
    text_config = reader.sub("text_config")
    if text_config is None:
        reader.require("text_config")
        reader.check()
    assert text_config is not None
    text_type = text_config.get("model_type")
    if not isinstance(text_type, str) or not text_type:
        text_type = default_text_type
    tied = reader.bool("tie_word_embeddings", default=tie_default)
    text_config = dict(text_config)
    text_config["tie_word_embeddings"] = tied
    arch = dispatch(text_config, text_type, "text_config.")
    if reader.raw("tie_word_embeddings") is None:
        arch.warnings.append(
            f"tie_word_embeddings absent: transformers 5 {'ties' if tied else 'unties'} the LM head "
            f"({reader.family} class default)"
        )
    return arch


def _vision_config(reader: ConfigReader) -> ConfigReader:
    vision_config = reader.sub("vision_config")
    if vision_config is None:
        reader.require("vision_config")
        reader.check()
    return ConfigReader(vision_config or {}, reader.family, "vision_config.")


def _qwen3_vision_params(vision: ConfigReader, text_hidden: int, deepstack: bool) -> int:
    """The Qwen3-VL / Qwen3.5 vision tower: 3-D patch conv, learned positions, biased ViT blocks,
    patch merger (and, for Qwen3-VL, one DeepStack merger per ``deepstack_visual_indexes``)."""
    hidden = vision.int("hidden_size")
    depth = vision.int("depth", "num_hidden_layers")
    intermediate = vision.int("intermediate_size")
    vision.check()
    channels = vision.int("in_channels", default=3)
    patch = vision.int("patch_size", default=16)
    temporal = vision.int("temporal_patch_size", default=2)
    merge = vision.int("spatial_merge_size", default=2)
    positions = vision.int("num_position_embeddings", default=2304)
    out_hidden = vision.int("out_hidden_size", default=text_hidden)
    block = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    merged = hidden * merge * merge
    merger_linears = counting.linear(merged, merged, True) + counting.linear(
        merged, out_hidden, True
    )
    total = (
        channels * temporal * patch * patch * hidden
        + hidden
        + positions * hidden
        + depth * block
        + counting.layer_norm(hidden)
        + merger_linears
    )
    if deepstack:
        indexes = vision.int_list("deepstack_visual_indexes")
        count = 3 if indexes is None else len(indexes)
        total += count * (counting.layer_norm(merged) + merger_linears)
    return total


def qwen3_vl(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Qwen3-VL: ViT with DeepStack mergers + the Qwen3-VL language model."""
    arch = _wrapper_text(reader, dispatch, "qwen3_vl_text", tie_default=False)
    text_params = arch.parameter_count
    vision_params = _qwen3_vision_params(_vision_config(reader), arch.hidden_size or 1, True)
    return finish_wrapper(arch, text_params, vision_params, 0, [])


def qwen3_5(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Qwen3.5 (dense): ViT with patch merger + the Qwen3.5 hybrid linear-attention language model."""
    arch = _wrapper_text(reader, dispatch, "qwen3_5_text", tie_default=False)
    text_params = arch.parameter_count
    vision_params = _qwen3_vision_params(_vision_config(reader), arch.hidden_size or 1, False)
    return finish_wrapper(arch, text_params, vision_params, 0, [])


def mistral3(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Mistral 3 (Mistral Small 3.x, Ministral 3): Pixtral vision tower + patch-merging projector.

    Pixtral: bias-free patch conv, RMSNorm before the blocks, bias-free attention and gated MLP.
    Projector: RMSNorm, a spatial patch merger, then two linears into the text width.
    """
    arch = _wrapper_text(reader, dispatch, "mistral", tie_default=True)
    text_params = arch.parameter_count
    text_hidden = arch.hidden_size or 1
    vision = _vision_config(reader)
    hidden = vision.int("hidden_size")
    intermediate = vision.int("intermediate_size")
    layers = vision.int("num_hidden_layers")
    patch = vision.int("patch_size")
    vision.check()
    channels = vision.int("num_channels", default=3)
    vision_params = (
        channels * patch * patch * hidden
        + hidden
        + layers
        * (
            2 * counting.layer_norm(hidden, False)
            + 4 * counting.linear(hidden, hidden)
            + counting.mlp(hidden, intermediate, True)
        )
    )
    merge = reader.int("spatial_merge_size", default=2)
    feature_layer = reader.raw("vision_feature_layer")
    feature_layers = len(feature_layer) if isinstance(feature_layer, list) and feature_layer else 1
    bias = reader.bool("multimodal_projector_bias", default=False)
    projector = (
        counting.layer_norm(hidden, False)
        + counting.linear(hidden * merge * merge, hidden)
        + counting.linear(hidden * feature_layers, text_hidden, bias)
        + counting.linear(text_hidden, text_hidden, bias)
    )
    return finish_wrapper(arch, text_params, vision_params, projector, [])
