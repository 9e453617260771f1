"""Hybrid state-space / attention families: Granite 4 (granitemoehybrid), Nemotron-H, Falcon-H1,
Bamba, Zamba and Zamba2.

Every count follows the transformers 5 implementation parameter by parameter (read
``modeling_<family>.py``); keys are read in both spellings where transformers 4 configs differ
(``hybrid_override_pattern`` strings, ``mamba`` / ``attention`` layer-type names, Nemotron-H's
``mamba_d_conv`` ...). Memory: attention layers cache K/V per token; Mamba layers keep a fixed
convolution and SSM state per sequence (``ssm`` in the record), whatever the context length.

GenZ 0.0.16 builds a model from one repeating layer type; none of these stacks has that shape,
so every handler here names why GenZ cannot simulate it (``genz_unsupported``) and still gives
the attention/FFN dimensions GenZ would need.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    check_top_k,
    checked_attention_type,
    derived_head_dim,
    read_context_length,
)
from genz_catalog.convert._reader import ConfigReader

# Layer-type spellings across transformers 4 and 5 (``_LEGACY_LAYER_TYPE_REMAP`` in transformers 5
# renames ``mamba`` -> ``linear_attention`` and ``attention`` -> ``full_attention``).
_MAMBA_NAMES = frozenset(("mamba", "linear_attention", "M"))
_ATTENTION_NAMES = frozenset(("attention", "full_attention", "*"))
_HYBRID_NAMES = frozenset(("hybrid",))
# Nemotron-H's pattern string (``hybrid_override_pattern``): one character per layer.
_NEMOTRON_PATTERN = {"M": "mamba", "*": "attention", "-": "mlp", "E": "moe"}
_NEMOTRON_NAMES = {
    "mamba": "mamba",
    "linear_attention": "mamba",
    "attention": "attention",
    "full_attention": "attention",
    "mlp": "mlp",
    "moe": "moe",
}


def mamba2_mixer(
    hidden: int,
    inner: int,
    heads: int,
    groups: int,
    state: int,
    conv_kernel: int,
    *,
    in_bias: bool,
    out_bias: bool,
    conv_bias: bool,
    gated_norm: bool,
) -> int:
    """Parameters of a Mamba-2 (SSD) mixer as transformers builds it.

    ``in_proj`` (hidden -> inner + conv_dim + heads), a depthwise ``conv1d`` over conv_dim =
    inner + 2 * groups * state channels, ``dt_bias`` / ``A_log`` / ``D`` (one per head), an
    optional gated RMSNorm over ``inner`` and ``out_proj`` (inner -> hidden).
    """
    conv_dim = inner + 2 * groups * state
    return (
        counting.linear(hidden, inner + conv_dim + heads, in_bias)
        + conv_dim * conv_kernel
        + (conv_dim if conv_bias else 0)
        + 3 * heads
        + (inner if gated_norm else 0)
        + counting.linear(inner, hidden, out_bias)
    )


def mamba2_state(
    inner: int, heads: int, head_dim: int, groups: int, state: int, conv_kernel: int
) -> tuple[int, int]:
    """(convolution state, SSM state) values per Mamba-2 layer and sequence."""
    return (inner + 2 * groups * state) * conv_kernel, heads * head_dim * state


def _normalised_layer_types(reader: ConfigReader, names: list[str], key: str) -> list[str]:
    """``mamba`` / ``attention`` / ``hybrid`` for each entry of a layer-type list, else an error."""
    kinds = []
    for name in names:
        if name in _MAMBA_NAMES:
            kinds.append("mamba")
        elif name in _ATTENTION_NAMES:
            kinds.append("attention")
        elif name in _HYBRID_NAMES:
            kinds.append("hybrid")
        else:
            raise reader.error(f"{reader.where}{key} has an unknown layer type {name!r}")
    return kinds


def _mamba_d_head(reader: ConfigReader, key: str, inner: int, heads: int) -> int:
    """A Mamba-2 head width: the stored integer, or ``"auto"`` (absent) meaning inner / heads."""
    value = reader.raw(key)
    if value is None or value == "auto":
        if inner % heads:
            raise reader.error(f"Mamba width {inner} is not divisible by {heads} SSM heads")
        return inner // heads
    head_dim = reader.int(key)
    if head_dim * heads != inner:
        raise reader.error(
            f"{key} ({head_dim}) x {heads} SSM heads does not equal the Mamba width {inner}"
        )
    return head_dim


def _genz_hybrid_kwargs(
    reader: ConfigReader,
    arch: Architecture,
    *,
    intermediate: int,
    gated: bool,
    state: int,
    conv_kernel: int,
    expand: int,
    attention_layers: int,
) -> dict[str, Any]:
    """The attention/FFN and Mamba dimensions GenZ's ``ModelConfig`` would take."""
    kwargs: dict[str, Any] = {
        "vocab_size": arch.vocab_size,
        "hidden_size": arch.hidden_size,
        "intermediate_size": intermediate,
        "num_ffi": 2 if gated else 1,
        "num_decoder_layers": arch.num_layers,
        "num_attention_heads": arch.num_attention_heads,
        "num_key_value_heads": arch.num_key_value_heads,
        "head_dim": arch.head_dim,
        "hidden_act": reader.str("hidden_act", "mlp_hidden_act", default="silu"),
        "mamba_d_state": state,
        "mamba_d_conv": conv_kernel,
        "mamba_expand": max(expand, 1),
    }
    if arch.experts_per_token:
        kwargs["num_experts"] = arch.num_experts
        kwargs["expert_top_k"] = arch.experts_per_token
        kwargs["moe_intermediate_size"] = intermediate
    if arch.context_length:
        kwargs["max_model_len"] = arch.context_length
    arch.extra["attention_layers"] = attention_layers
    return kwargs


def _hybrid_unsupported(family: str, attention_layers: int, mamba_layers: int) -> str:
    return (
        f"GenZ 0.0.16 cannot simulate hybrid Mamba/attention stacks ({family}: "
        f"{mamba_layers} Mamba-2 layers and {attention_layers} attention layers); its model "
        "builder supports one repeating layer type and has only a Mamba-1 operator"
    )


def _finish_embeddings(reader: ConfigReader, hidden: int, vocab: int, tie_default: bool) -> int:
    """Token embedding, final RMSNorm and (unless tied) the LM head."""
    tied = reader.bool("tie_word_embeddings", default=tie_default)
    return vocab * hidden * (1 if tied else 2) + hidden


# --- Granite 4 hybrids (GraniteMoeHybrid) and Bamba -------------------------------------------


def _granite_like_layer_kinds(reader: ConfigReader, layers: int) -> list[str]:
    """Per-layer ``mamba`` / ``attention`` for granitemoehybrid (``layer_types`` or 4.x names)."""
    names = reader.str_list("layer_types", "layers_block_type")
    if names is None:
        # GraniteMoeHybridConfig's default: every layer is a Mamba layer.
        return ["mamba"] * layers
    if len(names) != layers:
        raise reader.error(f"layer_types has {len(names)} entries for {layers} layers")
    kinds = _normalised_layer_types(
        reader, names, reader.name_of("layer_types", "layers_block_type")
    )
    if "hybrid" in kinds:
        raise reader.error("layer_types: 'hybrid' layers are not a granitemoehybrid layer type")
    return kinds


def _bamba_layer_kinds(reader: ConfigReader, layers: int) -> list[str]:
    """Bamba: attention at ``attn_layer_indices``, Mamba elsewhere."""
    indices = reader.int_list("attn_layer_indices")
    chosen = set(indices or ())
    return ["attention" if index in chosen else "mamba" for index in range(layers)]


def _mamba2_granite_like(
    reader: ConfigReader,
    arch: Architecture,
    *,
    hidden: int,
    kinds: list[str],
    per_layer_ffn: int,
    attention: int,
    kv_heads: int,
    head_dim: int,
) -> tuple[int, int, int]:
    """Mixers of a Bamba-style stack (Mamba-2 keys ``mamba_*``); returns (params, state, conv)."""
    expand = reader.int("mamba_expand", default=2)
    heads = reader.int("mamba_n_heads", default=128)
    groups = reader.int("mamba_n_groups", default=1)
    state = reader.int("mamba_d_state", default=256)
    conv_kernel = reader.int("mamba_d_conv", default=4)
    conv_bias = reader.bool("mamba_conv_bias", default=True)
    proj_bias = reader.bool("mamba_proj_bias", default=False)
    inner = expand * hidden
    ssm_head_dim = _mamba_d_head(reader, "mamba_d_head", inner, heads)
    mixer = mamba2_mixer(
        hidden,
        inner,
        heads,
        groups,
        state,
        conv_kernel,
        in_bias=proj_bias,
        out_bias=proj_bias,
        conv_bias=conv_bias,
        gated_norm=True,
    )
    attention_layers = kinds.count("attention")
    mamba_layers = len(kinds) - attention_layers
    total = (
        attention_layers * attention
        + mamba_layers * mixer
        + len(kinds) * (per_layer_ffn + 2 * counting.layer_norm(hidden, bias=False))
    )
    arch.add_kv_layers(attention_layers, 2 * kv_heads * head_dim)
    conv_state, ssm_state = mamba2_state(inner, heads, ssm_head_dim, groups, state, conv_kernel)
    arch.ssm = {
        "layers": mamba_layers,
        "conv_state_values": conv_state,
        "ssm_state_values": ssm_state,
    }
    arch.extra.update(
        {"mamba_layers": mamba_layers, "ssm_heads": heads, "ssm_head_dim": ssm_head_dim}
    )
    return total, state, conv_kernel


def _attention_dims(reader: ConfigReader, hidden: int, heads: int) -> tuple[int, int, str]:
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = reader.int("head_dim", default=0)
    if head_dim == 0:
        head_dim = derived_head_dim(reader, hidden, heads)
    return kv_heads, head_dim, attention_type


def granitemoehybrid(reader: ConfigReader) -> Architecture:
    """IBM Granite 4 hybrids: Mamba-2 or attention per layer, MoE (optional) plus a shared MLP.

    Every layer has two RMSNorms, a token mixer (``layer_types``), a routed MoE when
    ``num_local_experts`` > 0 (fused gate/up experts, bias-free router) and the always-on
    ``shared_mlp`` of width ``shared_intermediate_size``.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    reader.check()
    experts = reader.int("num_local_experts", default=8, minimum=0)
    shared = reader.int("shared_intermediate_size", default=1024, minimum=0)
    intermediate = reader.int("intermediate_size", default=11008) if experts else 0
    top_k = reader.int("num_experts_per_tok", default=2) if experts else 0
    if experts:
        check_top_k(reader, top_k, experts)
    kv_heads, head_dim, attention_type = _attention_dims(reader, hidden, heads)
    attention_bias = reader.bool("attention_bias", default=False)
    kinds = _granite_like_layer_kinds(reader, layers)
    one_expert = 3 * hidden * intermediate
    moe = experts * one_expert + counting.linear(hidden, experts) if experts else 0
    ffn = moe + 3 * hidden * shared
    attention = counting.attention(
        hidden, heads, kv_heads, head_dim, attention_bias, attention_bias, attention_bias
    )
    arch = Architecture(reader.family)
    body, state, conv_kernel = _mamba2_granite_like(
        reader,
        arch,
        hidden=hidden,
        kinds=kinds,
        per_layer_ffn=ffn,
        attention=attention,
        kv_heads=kv_heads,
        head_dim=head_dim,
    )
    total = body + _finish_embeddings(reader, hidden, vocab, tie_default=False)
    arch.parameter_count = total
    arch.active_parameter_count = total - layers * (experts - top_k) * one_expert
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type
    arch.intermediate_size = intermediate or shared
    if experts:
        arch.num_experts = experts
        arch.experts_per_token = top_k
    arch.extra["shared_intermediate_size"] = shared
    attention_layers = kinds.count("attention")
    arch.genz_kwargs = _genz_hybrid_kwargs(
        reader,
        arch,
        intermediate=intermediate or shared,
        gated=True,
        state=state,
        conv_kernel=conv_kernel,
        expand=reader.int("mamba_expand", default=2),
        attention_layers=attention_layers,
    )
    if experts and shared:
        arch.genz_kwargs.update(
            {
                "n_shared_experts": 1,
                "shared_expert_intermediate_size": shared,
                "ffn_implementation": "deepseek",
            }
        )
    _set_hybrid_status(arch, attention_layers, layers - attention_layers)
    return arch


def bamba(reader: ConfigReader) -> Architecture:
    """IBM Bamba: Mamba-2 layers with attention at ``attn_layer_indices``, SwiGLU FFN every layer."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_heads, head_dim, attention_type = _attention_dims(reader, hidden, heads)
    attention_bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool("mlp_bias", default=False)
    kinds = _bamba_layer_kinds(reader, layers)
    attention = counting.attention(
        hidden, heads, kv_heads, head_dim, attention_bias, attention_bias, attention_bias
    )
    arch = Architecture(reader.family)
    body, state, conv_kernel = _mamba2_granite_like(
        reader,
        arch,
        hidden=hidden,
        kinds=kinds,
        per_layer_ffn=counting.mlp(hidden, intermediate, True, mlp_bias),
        attention=attention,
        kv_heads=kv_heads,
        head_dim=head_dim,
    )
    arch.parameter_count = body + _finish_embeddings(reader, hidden, vocab, tie_default=False)
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type if "attention" in kinds else "none"
    arch.intermediate_size = intermediate
    attention_layers = kinds.count("attention")
    arch.genz_kwargs = _genz_hybrid_kwargs(
        reader,
        arch,
        intermediate=intermediate,
        gated=True,
        state=state,
        conv_kernel=conv_kernel,
        expand=reader.int("mamba_expand", default=2),
        attention_layers=attention_layers,
    )
    _set_hybrid_status(arch, attention_layers, layers - attention_layers)
    return arch


def _fill_attention_fields(
    arch: Architecture,
    reader: ConfigReader,
    layers: int,
    hidden: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    vocab: int,
) -> None:
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.vocab_size = vocab
    arch.context_length = read_context_length(reader)


def _set_hybrid_status(arch: Architecture, attention_layers: int, mamba_layers: int) -> None:
    if not attention_layers:
        arch.attention_type = "none"
    arch.genz_unsupported = _hybrid_unsupported(arch.family, attention_layers, mamba_layers)


# --- Nemotron-H ---------------------------------------------------------------------------------


def _nemotron_layer_kinds(reader: ConfigReader) -> list[str]:
    """Nemotron-H block types from ``layers_block_type`` (5.x) or ``hybrid_override_pattern`` (4.x)."""
    names = reader.str_list("layers_block_type", "layer_types")
    if names is not None:
        kinds = []
        for name in names:
            kind = _NEMOTRON_NAMES.get(name)
            if kind is None:
                raise reader.error(f"layers_block_type has an unknown block type {name!r}")
            kinds.append(kind)
        return kinds
    pattern = reader.str("hybrid_override_pattern")
    if pattern is None:
        reader.require("layers_block_type (or hybrid_override_pattern)")
        reader.check()
        return []
    kinds = []
    for char in pattern:
        kind = _NEMOTRON_PATTERN.get(char)
        if kind is None:
            raise reader.error(f"hybrid_override_pattern has an unknown block code {char!r}")
        kinds.append(kind)
    return kinds


def nemotron_h(reader: ConfigReader) -> Architecture:
    """NVIDIA Nemotron-H / Nemotron Nano 2 / Nemotron 3: one mixer per block (M, *, -, E).

    Each block is an RMSNorm plus one of: a Mamba-2 mixer (width ``mamba_num_heads *
    mamba_head_dim``), bias-free GQA attention, a squared-ReLU MLP (up/down, ``mlp_bias``) or a
    MoE of non-gated experts with a shared expert (optionally through a latent projection).
    ``num_hidden_layers`` is ignored by transformers when the block pattern is given.
    Multi-token-prediction blocks (``num_nextn_predict_layers``) are not loaded by transformers
    and not counted.
    """
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    reader.check()
    kinds = _nemotron_layer_kinds(reader)
    layers = len(kinds)
    if not layers:
        raise reader.error("the block pattern is empty")
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = reader.int("head_dim", default=0) or derived_head_dim(reader, hidden, heads)
    mlp_bias = reader.bool("mlp_bias", default=False)
    counts = {kind: kinds.count(kind) for kind in ("mamba", "attention", "mlp", "moe")}

    ssm_heads = reader.int("mamba_num_heads", default=128)
    ssm_head_dim = reader.int("mamba_head_dim", default=64)
    # transformers 5 lets the 4.x names (mamba_n_groups, mamba_d_conv, mamba_conv_bias) win.
    groups = reader.int("mamba_n_groups", "n_groups", default=8)
    state = reader.int("ssm_state_size", "mamba_d_state", default=128)
    conv_kernel = reader.int("mamba_d_conv", "conv_kernel", default=4)
    conv_bias = reader.bool("mamba_conv_bias", "use_conv_bias", default=True)
    proj_bias = reader.bool("use_bias", default=False)
    inner = ssm_heads * ssm_head_dim
    mixer = mamba2_mixer(
        hidden,
        inner,
        ssm_heads,
        groups,
        state,
        conv_kernel,
        in_bias=proj_bias,
        out_bias=proj_bias,
        conv_bias=conv_bias,
        gated_norm=True,
    )
    attention = counting.attention(hidden, heads, kv_heads, head_dim)
    intermediate = reader.int("intermediate_size", default=21504) if counts["mlp"] else 0
    mlp = counting.mlp(hidden, intermediate, False, mlp_bias) if counts["mlp"] else 0

    experts = top_k = expert_width = one_expert = moe = 0
    if counts["moe"]:
        experts = reader.int("n_routed_experts", "num_local_experts", default=8)
        top_k = reader.int("num_experts_per_tok", default=2)
        check_top_k(reader, top_k, experts)
        expert_width = reader.int("moe_intermediate_size", default=7688)
        shared_width = reader.int("moe_shared_expert_intermediate_size", default=7688)
        latent = reader.optional_int("moe_latent_size", minimum=1)
        expert_in = latent or hidden
        one_expert = 2 * expert_in * expert_width
        moe = (
            experts * one_expert
            + experts * hidden  # router weight (its score-correction bias is a buffer)
            + counting.mlp(hidden, shared_width, False, mlp_bias)
        )
        if latent:
            moe += counting.linear(hidden, latent, mlp_bias) + counting.linear(
                latent, hidden, mlp_bias
            )
    total = (
        counts["mamba"] * mixer
        + counts["attention"] * attention
        + counts["mlp"] * mlp
        + counts["moe"] * moe
        + layers * counting.layer_norm(hidden, bias=False)
        # transformers 5 declares no tie for NemotronH: the LM head is its own matrix always.
        + 2 * vocab * hidden
        + hidden
    )
    arch = Architecture(reader.family)
    if reader.bool("tie_word_embeddings", default=False):
        arch.warnings.append(
            "tie_word_embeddings is set but transformers never ties Nemotron-H's LM head; "
            "counted untied"
        )
    arch.parameter_count = total
    arch.active_parameter_count = total - counts["moe"] * (experts - top_k) * one_expert
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type if counts["attention"] else "none"
    arch.intermediate_size = intermediate or expert_width or None
    if experts:
        arch.num_experts = experts
        arch.experts_per_token = top_k
    arch.add_kv_layers(counts["attention"], 2 * kv_heads * head_dim)
    conv_state, ssm_state = mamba2_state(inner, ssm_heads, ssm_head_dim, groups, state, conv_kernel)
    arch.ssm = {
        "layers": counts["mamba"],
        "conv_state_values": conv_state,
        "ssm_state_values": ssm_state,
    }
    arch.extra.update({f"{kind}_blocks": count for kind, count in counts.items()})
    mtp = reader.int("num_nextn_predict_layers", default=0, minimum=0)
    if mtp:
        arch.extra["mtp_layers"] = mtp
        arch.warnings.append(
            f"{mtp} multi-token-prediction block(s) are in the checkpoint but not counted "
            "(transformers does not load them)"
        )
    arch.genz_kwargs = _genz_hybrid_kwargs(
        reader,
        arch,
        intermediate=intermediate or expert_width,
        gated=False,
        state=state,
        conv_kernel=conv_kernel,
        expand=max(inner // hidden, 1),
        attention_layers=counts["attention"],
    )
    arch.genz_kwargs["hidden_act"] = reader.str("mlp_hidden_act", default="relu2")
    arch.genz_unsupported = (
        f"GenZ 0.0.16 cannot simulate Nemotron-H's mixed block stack ({counts['mamba']} Mamba-2, "
        f"{counts['attention']} attention, {counts['mlp']} MLP and {counts['moe']} MoE blocks); "
        "its model builder supports one repeating layer type"
    )
    return arch


# --- Falcon-H1 ----------------------------------------------------------------------------------


def falcon_h1(reader: ConfigReader) -> Architecture:
    """TII Falcon-H1: attention and a Mamba-2 mixer side by side in every layer, then a SwiGLU FFN.

    The Mamba width is ``mamba_d_ssm`` (else ``mamba_expand * hidden_size``); its gated RMSNorm
    exists only with ``mamba_rms_norm``; ``in_proj`` carries ``mamba_proj_bias`` and ``out_proj``
    ``projectors_bias``.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_heads, head_dim, attention_type = _attention_dims(reader, hidden, heads)
    attention_bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool("mlp_bias", default=False)
    expand = reader.int("mamba_expand", default=2)
    inner = reader.optional_int("mamba_d_ssm", minimum=1) or expand * hidden
    ssm_heads = reader.int("mamba_n_heads", default=128)
    groups = reader.int("mamba_n_groups", default=1)
    state = reader.int("mamba_d_state", default=256)
    conv_kernel = reader.int("mamba_d_conv", default=4)
    ssm_head_dim = _mamba_d_head(reader, "mamba_d_head", inner, ssm_heads)
    mixer = mamba2_mixer(
        hidden,
        inner,
        ssm_heads,
        groups,
        state,
        conv_kernel,
        in_bias=reader.bool("mamba_proj_bias", default=False),
        out_bias=reader.bool("projectors_bias", default=False),
        conv_bias=reader.bool("mamba_conv_bias", default=True),
        gated_norm=reader.bool("mamba_rms_norm", default=False),
    )
    attention = counting.attention(
        hidden, heads, kv_heads, head_dim, attention_bias, attention_bias, attention_bias
    )
    per_layer = (
        attention
        + mixer
        + counting.mlp(hidden, intermediate, True, mlp_bias)
        + 2 * counting.layer_norm(hidden, bias=False)
    )
    arch = Architecture(reader.family)
    arch.parameter_count = layers * per_layer + _finish_embeddings(
        reader, hidden, vocab, tie_default=False
    )
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type
    arch.intermediate_size = intermediate
    arch.add_kv_layers(layers, 2 * kv_heads * head_dim)
    conv_state, ssm_state = mamba2_state(inner, ssm_heads, ssm_head_dim, groups, state, conv_kernel)
    arch.ssm = {"layers": layers, "conv_state_values": conv_state, "ssm_state_values": ssm_state}
    arch.extra.update(
        {"mamba_layers": layers, "ssm_heads": ssm_heads, "ssm_head_dim": ssm_head_dim}
    )
    arch.genz_kwargs = _genz_hybrid_kwargs(
        reader,
        arch,
        intermediate=intermediate,
        gated=True,
        state=state,
        conv_kernel=conv_kernel,
        expand=max(inner // hidden, 1),
        attention_layers=layers,
    )
    arch.genz_unsupported = (
        "GenZ 0.0.16 cannot simulate Falcon-H1's parallel attention + Mamba-2 layers "
        f"({layers} layers, each running both mixers side by side)"
    )
    return arch


# --- Zamba and Zamba2 ---------------------------------------------------------------------------


def _zamba_layer_kinds(reader: ConfigReader, layers: int, default: list[str]) -> list[str]:
    names = reader.str_list("layers_block_type", "layer_types")
    if names is None:
        return default
    if len(names) != layers:
        raise reader.error(f"layers_block_type has {len(names)} entries for {layers} layers")
    kinds = _normalised_layer_types(reader, names, "layers_block_type")
    if "attention" in kinds:
        raise reader.error("layers_block_type: Zamba layers are 'mamba' or 'hybrid'")
    return kinds


def _require_zamba_ties(reader: ConfigReader) -> None:
    """Zamba/Zamba2 share their attention blocks through the same tie switch as the embeddings.

    With ``tie_word_embeddings: false`` transformers 5 gives every hybrid layer its own copy of
    the shared block (and, in Zamba2, a full adapter list per copy) while the LM head stays tied;
    no released checkpoint has that layout, so it is refused rather than guessed.
    """
    if not reader.bool("tie_word_embeddings", default=True):
        raise reader.error(
            "tie_word_embeddings=false is not supported: transformers 5 then unties the shared "
            "attention blocks into one copy per hybrid layer, a layout no checkpoint uses"
        )


def zamba(reader: ConfigReader) -> Architecture:
    """Zyphra Zamba (v1): Mamba-1 (multi-head) layers and one shared attention+MLP block.

    Every layer has a Mamba mixer; ``hybrid`` layers first run the shared transformer block
    (input width ``attention_hidden_size`` = 2 x hidden, weights counted once) and a per-layer
    linear projection. KV cache: one per hybrid layer (the weights are shared, the cache is not).
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    _require_zamba_ties(reader)
    period = reader.int("attn_layer_period", default=6)
    offset = reader.int("attn_layer_offset", default=4, minimum=0)
    default_kinds = (
        ["mamba", "mamba", "hybrid"]
        + ["hybrid" if index % period == offset else "mamba" for index in range(layers - 3)]
    )[:layers]
    kinds = _zamba_layer_kinds(reader, layers, default_kinds)
    attention_hidden = reader.int("attention_hidden_size", default=2 * hidden)
    head_dim = reader.int("attention_head_dim", "head_dim", default=0) or (2 * hidden // heads)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    expand = reader.int("mamba_expand", default=2)
    state = reader.int("mamba_d_state", default=16)
    conv_kernel = reader.int("mamba_d_conv", default=4)
    ssm_heads = reader.int("n_mamba_heads", default=2)
    dt_value = reader.raw("mamba_dt_rank")
    dt_rank = (
        ceil(hidden / 16) if dt_value is None or dt_value == "auto" else reader.int("mamba_dt_rank")
    )
    conv_bias = reader.bool("mamba_conv_bias", default=True)
    proj_bias = reader.bool("mamba_proj_bias", default=False)
    inner = expand * hidden
    if inner % ssm_heads:
        raise reader.error(f"Mamba width {inner} is not divisible by n_mamba_heads ({ssm_heads})")
    mixer = (
        counting.linear(hidden, 2 * inner, proj_bias)
        + inner * conv_kernel
        + (inner if conv_bias else 0)
        + inner * (dt_rank + 2 * state)  # x_proj, per head
        + inner * dt_rank
        + inner  # dt_proj weight and bias
        + inner * state
        + inner  # A_log, D
        + counting.linear(inner, hidden, proj_bias)
    )
    hybrid_layers = kinds.count("hybrid")
    shared_block = (
        counting.linear(attention_hidden, heads * head_dim)
        + 2 * counting.linear(attention_hidden, kv_heads * head_dim)
        + counting.linear(heads * head_dim, hidden)
        + counting.mlp(hidden, intermediate, True)
        + attention_hidden
        + hidden  # input_layernorm (attention width) and pre_ff_layernorm
    )
    total = (
        layers * (mixer + hidden)
        + (shared_block if hybrid_layers else 0)
        + hybrid_layers * hidden * hidden
        + _finish_embeddings(reader, hidden, vocab, tie_default=True)
    )
    arch = Architecture(reader.family)
    arch.parameter_count = total
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type if hybrid_layers else "none"
    arch.intermediate_size = intermediate
    arch.add_kv_layers(hybrid_layers, 2 * kv_heads * head_dim)
    arch.ssm = {
        "layers": layers,
        "conv_state_values": inner * conv_kernel,
        "ssm_state_values": inner * state,
    }
    arch.extra.update({"hybrid_layers": hybrid_layers, "shared_blocks": 1 if hybrid_layers else 0})
    arch.genz_kwargs = _genz_hybrid_kwargs(
        reader,
        arch,
        intermediate=intermediate,
        gated=True,
        state=state,
        conv_kernel=conv_kernel,
        expand=expand,
        attention_layers=hybrid_layers,
    )
    arch.genz_kwargs["mamba_dt_rank"] = dt_rank
    arch.genz_unsupported = (
        f"GenZ 0.0.16 cannot simulate Zamba's Mamba stack with a shared attention block reused "
        f"in {hybrid_layers} of {layers} layers; its model builder supports one repeating layer type"
    )
    return arch


def _zamba2_default_kinds(layers: int) -> list[str]:
    """Zamba2Config's default ``layers_block_type`` (54 layers); other lengths need the key."""
    kinds = (
        ["mamba"]
        + (["mamba"] * 5 + ["hybrid"]) * 7
        + ["mamba"] * 4
        + ["hybrid"]
        + ["mamba"] * 3
        + ["hybrid"]
        + ["mamba"] * 2
    )
    return kinds if len(kinds) == layers else []


def zamba2(reader: ConfigReader) -> Architecture:
    """Zyphra Zamba2: Mamba-2 layers plus ``num_mem_blocks`` shared attention+MLP blocks.

    Shared blocks alternate over the hybrid layers (ABAB...); each hybrid layer adds its own
    linear projection and its own LoRA-style adapter on the shared MLP's gate/up projection (and
    on q/k/v with ``use_shared_attention_adapter``), so the adapter count equals the hybrid layer
    count whatever ``num_mem_blocks`` is.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    reader.check()
    _require_zamba_ties(reader)
    default_kinds = _zamba2_default_kinds(layers)
    kinds = _zamba_layer_kinds(reader, layers, default_kinds)
    if not kinds:
        reader.require("layers_block_type")
        reader.check()
    intermediate = reader.int("intermediate_size", default=4 * hidden)
    attention_hidden = 2 * hidden
    if attention_hidden % heads:
        raise reader.error(
            f"2 x hidden_size ({attention_hidden}) is not divisible by {heads} heads"
        )
    head_dim = attention_hidden // heads
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    expand = reader.int("mamba_expand", default=2)
    state = reader.int("mamba_d_state", default=64)
    conv_kernel = reader.int("mamba_d_conv", default=4)
    ssm_heads = reader.int("n_mamba_heads", default=8)
    groups = reader.int("mamba_ngroups", default=1)
    bias = reader.bool("add_bias_linear", default=False)
    mem_blocks = reader.int("num_mem_blocks", default=1)
    rank = reader.int("adapter_rank", default=128)
    attention_adapter = reader.bool("use_shared_attention_adapter", default=False)
    inner = expand * hidden
    ssm_head_dim = _mamba_d_head(reader, "mamba_headdim", inner, ssm_heads)
    mixer = mamba2_mixer(
        hidden,
        inner,
        ssm_heads,
        groups,
        state,
        conv_kernel,
        in_bias=bias,
        out_bias=bias,
        conv_bias=True,  # Zamba2's conv1d always has a bias
        gated_norm=True,
    )
    hybrid_layers = kinds.count("hybrid")
    shared_block = (
        counting.linear(attention_hidden, heads * head_dim)
        + 2 * counting.linear(attention_hidden, kv_heads * head_dim)
        + counting.linear(heads * head_dim, hidden)
        + counting.linear(hidden, 2 * intermediate, bias)
        + counting.linear(intermediate, hidden, bias)
        + attention_hidden
        + hidden
    )
    adapter = hidden * rank + rank * 2 * intermediate
    if attention_adapter:
        adapter += 3 * 2 * attention_hidden * rank
    unique_blocks = min(mem_blocks, hybrid_layers)
    # Block b holds adapters for slots i < len(hybrid_layer_ids) with i % num_mem_blocks == b;
    # transformers takes a stored ``hybrid_layer_ids`` (5.x configs save it) as given.
    slots = reader.int_list("hybrid_layer_ids")
    slot_count = hybrid_layers if slots is None else len(slots)
    adapters = sum(1 for slot in range(slot_count) if slot % mem_blocks < unique_blocks)
    total = (
        layers * (mixer + hidden)
        + unique_blocks * shared_block
        + adapters * adapter
        + hybrid_layers * hidden * hidden
        + _finish_embeddings(reader, hidden, vocab, tie_default=True)
    )
    arch = Architecture(reader.family)
    arch.parameter_count = total
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type if hybrid_layers else "none"
    arch.intermediate_size = intermediate
    arch.add_kv_layers(hybrid_layers, 2 * kv_heads * head_dim)
    conv_state, ssm_state = mamba2_state(inner, ssm_heads, ssm_head_dim, groups, state, conv_kernel)
    arch.ssm = {"layers": layers, "conv_state_values": conv_state, "ssm_state_values": ssm_state}
    arch.extra.update(
        {"hybrid_layers": hybrid_layers, "shared_blocks": min(mem_blocks, hybrid_layers)}
    )
    arch.genz_kwargs = _genz_hybrid_kwargs(
        reader,
        arch,
        intermediate=intermediate,
        gated=True,
        state=state,
        conv_kernel=conv_kernel,
        expand=expand,
        attention_layers=hybrid_layers,
    )
    arch.genz_unsupported = (
        f"GenZ 0.0.16 cannot simulate Zamba2's Mamba-2 stack with {min(mem_blocks, hybrid_layers)} "
        f"shared attention block(s) reused in {hybrid_layers} of {layers} layers"
    )
    return arch


# --- Recurrent families: RWKV (v4) and RecurrentGemma (Griffin) ---------------------------------


def rwkv(reader: ConfigReader) -> Architecture:
    """RWKV-4: time-mixing (WKV) and channel-mixing blocks, no attention and no KV cache.

    Per block: two LayerNorms (plus the first block's ``pre_ln``), time mixing (decay, bonus and
    three mix vectors; key/value/receptance to ``attention_hidden_size`` and the output back) and
    channel mixing (two mix vectors, key to ``intermediate_size``, receptance, value). State per
    sequence and layer: two token-shift vectors of ``hidden_size`` and the WKV numerator,
    denominator and running maximum of ``attention_hidden_size`` each.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    vocab = reader.int("vocab_size")
    reader.check()
    attention_width = reader.int("attention_hidden_size", default=hidden)
    intermediate = reader.int("intermediate_size", default=4 * hidden)
    tied = reader.bool("tie_word_embeddings", default=False)
    norm = counting.layer_norm(hidden)
    time_mixing = (
        2 * attention_width  # time_decay, time_first
        + 3 * hidden  # time_mix_key / value / receptance
        + 3 * hidden * attention_width  # key, value, receptance
        + attention_width * hidden  # output
    )
    channel_mixing = 2 * hidden + hidden * intermediate + hidden * hidden + intermediate * hidden
    total = (
        vocab * hidden * (1 if tied else 2)
        + norm  # pre_ln of the first block
        + layers * (2 * norm + time_mixing + channel_mixing)
        + norm  # ln_out
    )
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.model_type = "decoder-only"
    arch.attention_type = "none"
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.vocab_size = vocab
    arch.context_length = reader.optional_int(
        "context_length", "max_position_embeddings", minimum=1
    )
    arch.ssm = {
        "layers": layers,
        "conv_state_values": 2 * hidden,  # token-shift vectors of time and channel mixing
        "ssm_state_values": 3 * attention_width,  # WKV numerator, denominator, maximum
    }
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_ffi": 1,
        "num_decoder_layers": layers,
        "num_attention_heads": 1,
        "num_key_value_heads": 1,
        "hidden_act": "relu",
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no RWKV time-mixing (WKV) operator; RWKV cannot be simulated"
    )
    return arch


def recurrent_gemma(reader: ConfigReader) -> Architecture:
    """RecurrentGemma (Griffin): RG-LRU recurrent blocks and local-attention blocks in a cycle.

    ``block_types`` repeats over the layers. A recurrent block has biased x/y/out projections to
    and from ``lru_width``, a depthwise causal conv (``conv1d_width``) and the RG-LRU gates (one
    block-diagonal matrix per head); an attention block is bias-free GQA with a biased output,
    attending over ``attention_window_size`` tokens. Every layer has two RMSNorms and a gated MLP
    of width ``intermediate_size / 2`` with biases. The LM head is tied.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = derived_head_dim(reader, hidden, heads, head_dim_key=None)
    lru = reader.int("lru_width", default=hidden)
    conv_width = reader.int("conv1d_width", default=4)
    window = reader.int("attention_window_size", "sliding_window", default=2048)
    attention_bias = reader.bool("attention_bias", default=False)
    cycle = reader.str_list("block_types") or ["recurrent", "recurrent", "attention"]
    if not cycle or any(kind not in ("recurrent", "attention") for kind in cycle):
        raise reader.error(f"block_types must list 'recurrent' / 'attention', got {cycle!r}")
    if lru % heads:
        raise reader.error(f"lru_width {lru} is not divisible by {heads} heads")
    kinds = [cycle[index % len(cycle)] for index in range(layers)]
    block = lru // heads
    recurrent = (
        2 * counting.linear(hidden, lru, True)  # linear_x, linear_y
        + counting.linear(lru, hidden, True)  # linear_out
        + lru * conv_width
        + lru  # depthwise conv with bias
        + lru  # recurrent_param
        + 2 * (heads * block * block + heads * block)  # input and recurrent gates
    )
    attention = (
        counting.linear(hidden, heads * head_dim, attention_bias)
        + 2 * counting.linear(hidden, kv_heads * head_dim, attention_bias)
        + counting.linear(heads * head_dim, hidden, True)
    )
    half = intermediate // 2
    mlp = 2 * counting.linear(hidden, half, True) + counting.linear(half, hidden, True)
    attention_layers = kinds.count("attention")
    recurrent_layers = layers - attention_layers
    total = (
        recurrent_layers * recurrent
        + attention_layers * attention
        + layers * (mlp + 2 * hidden)
        + vocab * hidden
        + hidden
    )
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type if attention_layers else "none"
    arch.intermediate_size = half
    # Local attention: each attention layer keeps at most the window.
    arch.add_kv_layers(attention_layers, 2 * kv_heads * head_dim, window)
    arch.ssm = {
        "layers": recurrent_layers,
        "conv_state_values": lru * (conv_width - 1),
        "ssm_state_values": lru,
    }
    arch.extra.update({"recurrent_layers": recurrent_layers, "attention_layers": attention_layers})
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": half,
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_act": reader.str("hidden_activation", "hidden_act", default="gelu_pytorch_tanh"),
        "sliding_window": window,
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    arch.genz_unsupported = (
        f"GenZ 0.0.16 has no RG-LRU operator; RecurrentGemma's {recurrent_layers} recurrent "
        f"blocks (with {attention_layers} local-attention blocks) cannot be simulated"
    )
    return arch


def olmo_hybrid(reader: ConfigReader) -> Architecture:
    """OLMo hybrid: Gated DeltaNet linear-attention layers and OLMo-2-style attention layers.

    ``layer_types`` (default: full attention every 4th layer) picks the mixer. A linear layer
    has q/k (``linear_num_key_heads`` x ``linear_key_head_dim``), v and the output gate
    (``linear_num_value_heads`` x ``linear_value_head_dim``), a/b projections to one value per
    value head, a bias-free depthwise conv over q, k and v, ``A_log`` / ``dt_bias`` and a gated
    RMSNorm of the value head width; it is pre-normed (input and post-attention RMSNorms). An
    attention layer has full-width q/k RMSNorms and OLMo-2 post-norms (after attention and FFN).
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_heads, head_dim, attention_type = _attention_dims(reader, hidden, heads)
    bias = reader.bool("attention_bias", default=False)
    names = reader.str_list("layer_types")
    if names is None:
        names = [
            "full_attention" if index % 4 == 3 else "linear_attention" for index in range(layers)
        ]
        if "full_attention" not in names:
            names[-1] = "full_attention"
    elif len(names) != layers:
        raise reader.error(f"layer_types has {len(names)} entries for {layers} layers")
    kinds = _normalised_layer_types(reader, names, "layer_types")
    if "hybrid" in kinds:
        raise reader.error("layer_types: 'hybrid' is not an olmo_hybrid layer type")
    key_heads = reader.int("linear_num_key_heads", default=heads)
    value_heads = reader.int("linear_num_value_heads", default=heads)
    key_dim = reader.int("linear_key_head_dim", default=int(0.75 * hidden / key_heads))
    value_dim = reader.int("linear_value_head_dim", default=2 * key_dim)
    conv_kernel = reader.int("linear_conv_kernel_dim", default=4)
    keys = key_heads * key_dim
    values = value_heads * value_dim
    conv_channels = 2 * keys + values
    linear = (
        2 * hidden * keys  # q, k
        + 2 * hidden * values  # v, g
        + 2 * hidden * value_heads  # a, b
        + values * hidden  # o
        + conv_channels * conv_kernel
        + 2 * value_heads  # A_log, dt_bias
        + value_dim  # gated output norm
    )
    attention = counting.attention(hidden, heads, kv_heads, head_dim, bias, bias, bias) + (
        (heads + kv_heads) * head_dim
    )
    attention_layers = kinds.count("attention")
    linear_layers = layers - attention_layers
    total = (
        linear_layers * linear
        + attention_layers * attention
        + layers * (counting.mlp(hidden, intermediate, True) + 2 * hidden)
        + _finish_embeddings(reader, hidden, vocab, tie_default=False)
    )
    arch = Architecture(reader.family)
    arch.parameter_count = total
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type if attention_layers else "none"
    arch.intermediate_size = intermediate
    arch.add_kv_layers(attention_layers, 2 * kv_heads * head_dim)
    arch.ssm = {
        "layers": linear_layers,
        "conv_state_values": conv_channels * conv_kernel,
        "ssm_state_values": value_heads * key_dim * value_dim,  # DeltaNet state per head: dk x dv
    }
    arch.extra.update(
        {"linear_attention_layers": linear_layers, "attention_layers": attention_layers}
    )
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_act": reader.str("hidden_act", default="silu"),
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    arch.genz_unsupported = (
        f"GenZ 0.0.16 has no Gated DeltaNet operator; OLMo hybrid's {linear_layers} linear-"
        f"attention layers (with {attention_layers} attention layers) cannot be simulated"
    )
    return arch


def xlstm(reader: ConfigReader) -> Architecture:
    """xLSTM (mLSTM blocks): matrix-memory recurrent layers with a SwiGLU-style FFN; no KV cache.

    Per block: an RMSNorm, the mLSTM layer (q/k of ``hidden * qk_dim_factor``, v and output gate
    of ``hidden * v_dim_factor``, per-head input/forget gates with biases, a multi-head norm and
    the output projection), an RMSNorm and the FFN (gate and up to ``hidden * ffn_proj_factor``
    rounded up to ``ffn_round_up_to_multiple_of``, down). ``use_bias`` adds biases to projections
    and norms. ``weight_mode`` fused/single stores the same parameters.
    """
    hidden = reader.int("hidden_size", "embedding_dim")
    blocks = reader.int("num_blocks", "num_hidden_layers")
    vocab = reader.int("vocab_size")
    reader.check()
    embedding = reader.int("embedding_dim", default=hidden)
    if embedding != hidden:
        raise reader.error(
            f"embedding_dim ({embedding}) differs from hidden_size ({hidden}); transformers builds "
            "mismatched layers for such a config"
        )
    heads = reader.int("num_heads", default=8)
    bias = reader.bool("use_bias", default=False)
    qk = int(hidden * reader.number("qk_dim_factor", default=0.5))
    value = int(hidden * reader.number("v_dim_factor", default=1.0))
    multiple = reader.int("ffn_round_up_to_multiple_of", default=64)
    scaled = hidden * reader.number("ffn_proj_factor", default=2.667)
    up = int(((scaled + multiple - 1) // multiple) * multiple)
    if value % heads or qk % heads:
        raise reader.error(f"q/k width {qk} and value width {value} must divide into {heads} heads")
    norm = counting.layer_norm(hidden, bias)
    mlstm = (
        2 * counting.linear(hidden, qk, bias)
        + 2 * counting.linear(hidden, value, bias)  # v and output gate
        + 2 * counting.linear(hidden, heads, True)  # input and forget gates
        + counting.layer_norm(value, bias)  # multi-head norm
        + counting.linear(value, hidden, bias)
    )
    ffn = 2 * counting.linear(hidden, up, bias) + counting.linear(up, hidden, bias)
    # transformers 5 declares no tie for xLSTM: the LM head is its own matrix always.
    total = 2 * vocab * hidden + blocks * (2 * norm + mlstm + ffn) + hidden
    arch = Architecture(reader.family)
    if reader.bool("tie_word_embeddings", default=False):
        arch.warnings.append(
            "tie_word_embeddings is set but transformers never ties xLSTM's LM head; counted untied"
        )
    arch.parameter_count = total
    arch.attention_type = "none"
    arch.num_layers = blocks
    arch.hidden_size = hidden
    arch.intermediate_size = up
    arch.vocab_size = vocab
    arch.context_length = read_context_length(reader)
    key_dim = qk // heads
    value_dim = value // heads
    arch.ssm = {
        "layers": blocks,
        "conv_state_values": 0,
        # mLSTM state per head: matrix memory C (dk x dv), normaliser n (dk) and stabiliser m.
        "ssm_state_values": heads * (key_dim * value_dim + key_dim + 1),
    }
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": up,
        "num_ffi": 2,
        "num_decoder_layers": blocks,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "hidden_act": "silu",
    }
    arch.genz_unsupported = "GenZ 0.0.16 has no mLSTM operator; xLSTM cannot be simulated"
    return arch


def lfm3(reader: ConfigReader) -> Architecture:
    """Liquid LFM3: gated short-convolution layers and (full or sliding) attention layers.

    ``layer_types`` entries ``conv``, ``full_attention`` or ``sliding_attention`` (default: full
    at i % 4 == 2, sliding at i % 4 == 0 after the first, conv elsewhere). A conv layer has
    in/out projections and a depthwise conv of ``conv_L_cache`` taps (biases with
    ``conv_bias``); an attention layer per-head q/k RMSNorms and, with ``use_attention_gate``,
    a per-head output gate. Every layer has a SwiGLU FFN of ``intermediate_size``, an operator
    and an FFN RMSNorm, plus post-norms with ``use_sandwich_norm``. The LM head is tied.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = reader.int("head_dim", default=128)
    names = reader.str_list("layer_types")
    if names is None:
        names = [
            "full_attention"
            if index % 4 == 2
            else "sliding_attention"
            if index % 4 == 0 and index > 0
            else "conv"
            for index in range(layers)
        ]
    elif len(names) != layers:
        raise reader.error(f"layer_types has {len(names)} entries for {layers} layers")
    unknown = sorted(set(names) - {"conv", "full_attention", "sliding_attention"})
    if unknown:
        raise reader.error(f"layer_types has unknown layer type(s) {', '.join(unknown)}")
    conv_bias = reader.bool("conv_bias", default=False)
    taps = reader.int("conv_L_cache", default=7)
    attention_bias = reader.bool("attention_bias", default=False)
    gate = reader.bool("use_attention_gate", default=True)
    sandwich = reader.bool("use_sandwich_norm", default=True)
    window = reader.int("sliding_window", default=256)
    conv = (
        counting.linear(hidden, 3 * hidden, conv_bias)
        + hidden * taps
        + (hidden if conv_bias else 0)
        + counting.linear(hidden, hidden, conv_bias)
    )
    attention = (
        counting.attention(
            hidden, heads, kv_heads, head_dim, attention_bias, attention_bias, attention_bias
        )
        + 2 * head_dim
        + (hidden * heads if gate else 0)
    )
    full = names.count("full_attention")
    sliding = names.count("sliding_attention")
    conv_layers = layers - full - sliding
    per_layer = counting.mlp(hidden, intermediate, True) + (4 if sandwich else 2) * hidden
    total = (
        conv_layers * conv
        + (full + sliding) * attention
        + layers * per_layer
        + vocab * hidden
        + hidden  # embedding_norm (the final norm)
    )
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    _fill_attention_fields(arch, reader, layers, hidden, heads, kv_heads, head_dim, vocab)
    arch.attention_type = attention_type if full + sliding else "none"
    arch.intermediate_size = intermediate
    values = 2 * kv_heads * head_dim
    arch.add_kv_layers(full, values)
    arch.add_kv_layers(sliding, values, window)
    arch.ssm = {
        "layers": conv_layers,
        "conv_state_values": hidden * taps,
        "ssm_state_values": 0,
    }
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_act": "silu",
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no gated short-convolution operator; LFM3's "
        f"{conv_layers} convolution layers cannot be simulated"
    )
    return arch
