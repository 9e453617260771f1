"""State-space (Mamba, Mamba-2, Falcon-Mamba) and hybrid (Jamba, LFM2) families."""

from __future__ import annotations

from math import ceil, lcm

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    check_top_k,
    checked_attention_type,
    derived_head_dim,
    read_context_length,
    read_layer_types,
)
from genz_catalog.convert._reader import ConfigReader


def _read_dt_rank(reader: ConfigReader, key: str, hidden: int) -> int:
    """``time_step_rank`` / ``mamba_dt_rank``: an int, or ``"auto"`` meaning ceil(hidden / 16)."""
    value = reader.raw(key)
    if value is None or value == "auto":
        return ceil(hidden / 16)
    return reader.int(key)


def _ssm_common(
    arch: Architecture, *, layers: int, hidden: int, vocab: int, context: int | None
) -> None:
    arch.model_type = "decoder-only"
    arch.attention_type = "none"
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.vocab_size = vocab
    arch.context_length = context


def mamba(reader: ConfigReader) -> Architecture:
    """Mamba-1 and Falcon-Mamba.

    The inner width is ``intermediate_size`` when the config stores it (Falcon-Mamba's
    ``expand: 16`` is overridden by its stored ``intermediate_size: 8192``, as in the checkpoint),
    else ``expand * hidden_size``.
    """
    hidden = reader.int("hidden_size", "d_model")
    layers = reader.int("num_hidden_layers", "n_layer")
    vocab = reader.int("vocab_size")
    state = reader.int("state_size", "d_state")
    conv_kernel = reader.int("conv_kernel", "d_conv")
    reader.check()
    inner = reader.optional_int("intermediate_size", minimum=1)
    if inner is None:
        inner = int(reader.number("expand", default=2.0) * hidden)
    dt_rank = _read_dt_rank(reader, "time_step_rank", hidden)
    proj_bias = reader.bool("use_bias", default=False)
    conv_bias = reader.bool("use_conv_bias", default=True)
    tied = reader.bool("tie_word_embeddings", default=True)
    per_layer = counting.layer_norm(hidden, bias=False) + counting.mamba_mixer(
        hidden, inner, state, conv_kernel, dt_rank, proj_bias, conv_bias
    )
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden, bias=False)
    if not tied:
        total += vocab * hidden
    arch = Architecture(reader.family)
    _ssm_common(
        arch, layers=layers, hidden=hidden, vocab=vocab, context=read_context_length(reader)
    )
    arch.parameter_count = total
    arch.intermediate_size = inner
    arch.ssm = {
        "layers": layers,
        "conv_state_values": inner * conv_kernel,
        "ssm_state_values": inner * state,
    }
    arch.genz_kwargs = _genz_mamba_kwargs(
        vocab,
        hidden,
        layers,
        arch.context_length,
        state,
        conv_kernel,
        inner,
        dt_rank,
        conv_bias,
        proj_bias,
    )
    if inner % hidden:
        arch.genz_unsupported = f"GenZ's Mamba width is hidden_size * integer expand; {inner} is not a multiple of {hidden}"
    return arch


def _genz_mamba_kwargs(
    vocab: int,
    hidden: int,
    layers: int,
    context: int | None,
    state: int,
    conv_kernel: int,
    inner: int,
    dt_rank: int,
    conv_bias: bool,
    proj_bias: bool,
) -> dict[str, object]:
    """A pure SSM stack for GenZ: no attention heads of consequence and no FFN (``num_ffi`` 0)."""
    kwargs: dict[str, object] = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": 0,
        "num_ffi": 0,
        "num_decoder_layers": layers,
        "num_attention_heads": 1,
        "num_key_value_heads": 1,
        "hidden_act": "silu",
        "mamba_d_state": state,
        "mamba_d_conv": conv_kernel,
        "mamba_expand": max(inner // hidden, 1),
        "mamba_dt_rank": dt_rank,
        "mamba_conv_bias": conv_bias,
        "mamba_proj_bias": proj_bias,
        "mamba_layer_period": 1,
    }
    if context:
        kwargs["max_model_len"] = context
    return kwargs


def mamba2(reader: ConfigReader) -> Architecture:
    """Mamba-2 (SSD: multi-head state, grouped B/C, gated RMSNorm)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    vocab = reader.int("vocab_size")
    state = reader.int("state_size")
    conv_kernel = reader.int("conv_kernel")
    ssm_heads = reader.int("num_heads")
    ssm_head_dim = reader.int("head_dim")
    reader.check()
    inner = int(reader.number("expand", default=2.0) * hidden)
    groups = reader.int("n_groups", default=1)
    proj_bias = reader.bool("use_bias", default=False)
    conv_bias = reader.bool("use_conv_bias", default=True)
    tied = reader.bool("tie_word_embeddings", default=False)
    conv_dim = inner + 2 * groups * state
    mixer = (
        counting.linear(hidden, inner + conv_dim + ssm_heads, proj_bias)
        + conv_dim * conv_kernel
        + (conv_dim if conv_bias else 0)
        + 3 * ssm_heads  # dt_bias, A_log, D
        + inner  # gated RMSNorm
        + counting.linear(inner, hidden, proj_bias)
    )
    per_layer = counting.layer_norm(hidden, bias=False) + mixer
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden, bias=False)
    if not tied:
        total += vocab * hidden
    arch = Architecture(reader.family)
    _ssm_common(
        arch, layers=layers, hidden=hidden, vocab=vocab, context=read_context_length(reader)
    )
    arch.parameter_count = total
    arch.intermediate_size = inner
    arch.ssm = {
        "layers": layers,
        "conv_state_values": conv_dim * conv_kernel,
        "ssm_state_values": ssm_heads * ssm_head_dim * state,
    }
    dt_rank = _read_dt_rank(reader, "time_step_rank", hidden)
    arch.genz_kwargs = _genz_mamba_kwargs(
        vocab,
        hidden,
        layers,
        arch.context_length,
        state,
        conv_kernel,
        inner,
        dt_rank,
        conv_bias,
        proj_bias,
    )
    arch.warnings.append(
        "GenZ simulates Mamba-2 (SSD) layers with its Mamba-1 selective-scan operator"
    )
    return arch


def jamba(reader: ConfigReader) -> Architecture:
    """Jamba: Mamba layers with attention every ``attn_layer_period`` and MoE every ``expert_layer_period``."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    experts = reader.int("num_experts")
    top_k = reader.int("num_experts_per_tok")
    attn_period = reader.int("attn_layer_period")
    attn_offset = reader.int("attn_layer_offset", minimum=0)
    expert_period = reader.int("expert_layer_period")
    expert_offset = reader.int("expert_layer_offset", minimum=0)
    state = reader.int("mamba_d_state")
    conv_kernel = reader.int("mamba_d_conv")
    reader.check()
    check_top_k(reader, top_k, experts)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    expand = reader.int("mamba_expand", default=2)
    dt_rank = _read_dt_rank(reader, "mamba_dt_rank", hidden)
    conv_bias = reader.bool("mamba_conv_bias", default=True)
    proj_bias = reader.bool("mamba_proj_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    head_dim = derived_head_dim(reader, hidden, heads, head_dim_key=None)
    inner = expand * hidden
    attention = counting.attention(hidden, heads, kv_heads, head_dim)
    mixer = counting.mamba_mixer(hidden, inner, state, conv_kernel, dt_rank, proj_bias, conv_bias)
    mixer += dt_rank + 2 * state  # dt/b/c RMSNorms
    one_expert = counting.mlp(hidden, intermediate, True)
    moe_ffn = counting.linear(hidden, experts) + experts * one_expert
    dense_ffn = one_expert
    attention_layers = mamba_layers = moe_layers = 0
    for index in range(layers):
        if index % attn_period == attn_offset:
            attention_layers += 1
        else:
            mamba_layers += 1
        if experts > 1 and index % expert_period == expert_offset:
            moe_layers += 1
    total = (
        vocab * hidden
        + attention_layers * attention
        + mamba_layers * mixer
        + moe_layers * moe_ffn
        + (layers - moe_layers) * dense_ffn
        + layers * 2 * counting.layer_norm(hidden, bias=False)
        + counting.layer_norm(hidden, bias=False)
    )
    if not tied:
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - moe_layers * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = checked_attention_type(reader, heads, kv_heads)
    arch.add_kv_layers(attention_layers, 2 * kv_heads * head_dim)
    arch.ssm = {
        "layers": mamba_layers,
        "conv_state_values": inner * conv_kernel,
        "ssm_state_values": inner * state,
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
        "num_experts": experts,
        "expert_top_k": top_k,
        "moe_intermediate_size": intermediate,
        "mamba_d_state": state,
        "mamba_d_conv": conv_kernel,
        "mamba_expand": expand,
        "mamba_dt_rank": dt_rank,
        "mamba_conv_bias": conv_bias,
        "mamba_proj_bias": proj_bias,
        "attn_layer_period": attn_period,
        "attn_layer_offset": attn_offset,
        "expert_layer_period": expert_period,
        "expert_layer_offset": expert_offset,
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    if experts > 1 and layers % lcm(attn_period, expert_period):
        # GenZ's ModelConfig asserts num_decoder_layers divisible by its unique-layer period.
        for key in (
            "attn_layer_period",
            "attn_layer_offset",
            "expert_layer_period",
            "expert_layer_offset",
        ):
            del arch.genz_kwargs[key]
    arch.genz_unsupported = (
        "GenZ 0.0.16 cannot simulate hybrid Mamba/attention stacks: its model builder raises "
        "'More then 1 unique layers not supported' for attention every "
        f"{attn_period} and MoE every {expert_period} layers"
    )
    return arch


def lfm2(reader: ConfigReader) -> Architecture:
    """LFM2: gated short-convolution layers and attention layers per ``layer_types``."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size", "block_ff_dim")
    reader.check()
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        attention_indices = reader.int_list("full_attn_idxs")
        if attention_indices is None:
            reader.require("layer_types")
            reader.check()
        chosen = set(attention_indices or ())
        layer_types = ["full_attention" if index in chosen else "conv" for index in range(layers)]
    kv_heads = reader.int("num_key_value_heads", default=heads)
    conv_bias = reader.bool("conv_bias", default=False)
    conv_cache = reader.int("conv_L_cache", default=3)
    tied = reader.bool("tie_word_embeddings", "tie_embedding", default=True)
    head_dim = derived_head_dim(reader, hidden, heads, head_dim_key=None)
    ffn_width = intermediate
    if reader.bool("block_auto_adjust_ff_dim", default=True):
        ffn_width = int(2 * ffn_width / 3)
        multiplier = reader.number("block_ffn_dim_multiplier", default=1.0)
        multiple_of = reader.int("block_multiple_of", default=256)
        ffn_width = int(multiplier * ffn_width)
        ffn_width = multiple_of * ((ffn_width + multiple_of - 1) // multiple_of)
    attention = counting.attention(hidden, heads, kv_heads, head_dim) + 2 * head_dim
    conv = (
        counting.linear(hidden, 3 * hidden, conv_bias)
        + hidden * conv_cache
        + (hidden if conv_bias else 0)
        + counting.linear(hidden, hidden, conv_bias)
    )
    attention_layers = sum(1 for kind in layer_types if kind == "full_attention")
    conv_layers = layers - attention_layers
    per_layer_common = counting.mlp(hidden, ffn_width, True) + 2 * hidden
    total = (
        vocab * hidden
        + attention_layers * attention
        + conv_layers * conv
        + layers * per_layer_common
        + hidden
    )
    if not tied:
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = ffn_width
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = checked_attention_type(reader, heads, kv_heads)
    arch.add_kv_layers(attention_layers, 2 * kv_heads * head_dim)
    arch.ssm = {
        "layers": conv_layers,
        "conv_state_values": hidden * conv_cache,
        "ssm_state_values": 0,
    }
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": ffn_width,
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
        "GenZ 0.0.16 has no gated short-convolution operator; LFM2's "
        f"{conv_layers} convolution layers cannot be simulated"
    )
    return arch
