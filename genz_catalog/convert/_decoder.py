"""The shared builder for Llama-shaped decoder stacks (dense and mixture-of-experts).

Most decoder families differ from Llama only in which projections carry biases, how many norms a
layer has, whether the FFN is gated, query/key norms, tying defaults and sliding-window layout.
:func:`build_decoder` takes those differences as arguments and counts exactly.
"""

from __future__ import annotations

from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture, attention_type_for
from genz_catalog.convert._reader import ConfigReader

# Query/key normalisation variants (parameters per layer as a function of heads and head_dim).
QK_NORM_NONE = "none"
QK_NORM_PER_HEAD_DIM = "head_dim"  # q_norm, k_norm: RMSNorm(head_dim)  (qwen3, gemma3, olmo-style)
QK_NORM_FULL_WIDTH = "full"  # q_norm: heads*head_dim, k_norm: kv_heads*head_dim (olmo2, cohere)
QK_NORM_LAYERNORM_HEAD_DIM = "layernorm_head_dim"  # LayerNorm(head_dim) with bias for q and k (phi)


class MoeSpec:
    """How the FFN of a mixture-of-experts decoder is laid out (read by the family handler)."""

    __slots__ = (
        "num_experts",
        "experts_per_token",
        "expert_intermediate_size",
        "dense_intermediate_size",
        "shared_intermediate_size",
        "num_shared_experts",
        "shared_expert_gate",
        "router_bias",
        "router_extra_per_layer",
        "moe_layers",
        "expert_gated",
        "expert_bias",
    )

    def __init__(
        self,
        num_experts: int,
        experts_per_token: int,
        expert_intermediate_size: int,
        moe_layers: list[bool],
        dense_intermediate_size: int | None = None,
        shared_intermediate_size: int = 0,
        num_shared_experts: int = 0,
        shared_expert_gate: bool = False,
        router_bias: bool = False,
        router_extra_per_layer: int = 0,
        expert_gated: bool = True,
        expert_bias: bool = False,
    ) -> None:
        self.num_experts = num_experts
        self.experts_per_token = experts_per_token
        self.expert_intermediate_size = expert_intermediate_size
        self.moe_layers = moe_layers
        self.dense_intermediate_size = dense_intermediate_size
        self.shared_intermediate_size = shared_intermediate_size  # total width of the shared MLP
        self.num_shared_experts = num_shared_experts
        self.shared_expert_gate = shared_expert_gate
        self.router_bias = router_bias
        self.router_extra_per_layer = router_extra_per_layer
        self.expert_gated = expert_gated
        self.expert_bias = expert_bias


def check_top_k(reader: ConfigReader, experts_per_token: int, num_experts: int) -> None:
    """Experts chosen per token cannot exceed the experts there are."""
    if experts_per_token > num_experts:
        raise reader.error(f"{experts_per_token} experts per token but only {num_experts} experts")


def derived_head_dim(
    reader: ConfigReader,
    hidden: int,
    heads: int,
    *,
    hidden_key: str = "hidden_size",
    heads_key: str = "num_attention_heads",
    head_dim_key: str | None = "head_dim",
) -> int:
    """``hidden / heads`` for a config that leaves the head width implied; exact, or an error.

    Truncating would invent a head width the model does not have (4096 / 30 is not 136), so a
    remainder raises. ``head_dim_key`` names the key that would have settled it, if the family has one.
    """
    if hidden % heads:
        where = reader.where
        message = f"{where}{hidden_key} ({hidden}) is not divisible by {where}{heads_key} ({heads})"
        if head_dim_key:
            message += f" and {where}{head_dim_key} is absent"
        raise reader.error(message)
    return hidden // heads


def checked_attention_type(
    reader: ConfigReader,
    heads: int,
    kv_heads: int,
    *,
    heads_key: str = "num_attention_heads",
    kv_key: str = "num_key_value_heads",
) -> str:
    """:func:`attention_type_for` once the K/V heads are known to split the query heads evenly."""
    where = reader.where
    if kv_heads > heads:
        raise reader.error(
            f"{where}{kv_key} ({kv_heads}) is more than {where}{heads_key} ({heads})"
        )
    if heads % kv_heads:
        raise reader.error(
            f"{where}{heads_key} ({heads}) is not divisible by {where}{kv_key} ({kv_heads})"
        )
    return attention_type_for(heads, kv_heads)


def read_context_length(reader: ConfigReader) -> int | None:
    """The maximum sequence length in tokens, from whichever key the family uses."""
    return reader.optional_int(
        "max_position_embeddings",
        "n_positions",
        "max_seq_len",
        "seq_length",
        "n_ctx",
        "max_sequence_length",
        minimum=1,
    )


def build_decoder(
    reader: ConfigReader,
    *,
    gated: bool = True,
    q_bias: bool = False,
    kv_bias: bool = False,
    o_bias: bool = False,
    mlp_bias: bool = False,
    norms_per_layer: int = 2,
    norm_bias: bool = False,
    final_norm: bool = True,
    qk_norm: str = QK_NORM_NONE,
    tie_default: bool = False,
    lm_head_bias: bool = False,
    head_dim_default: int | None = None,
    moe: MoeSpec | None = None,
    extra_params_per_layer: int = 0,
    extra_params: int = 0,
) -> Architecture:
    """Count a Llama-shaped decoder read from ``reader`` and describe it as an Architecture.

    Reads ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``,
    ``num_key_value_heads`` (defaults to the head count, as HF does), ``head_dim`` (defaults to
    ``head_dim_default`` or hidden/heads), ``intermediate_size`` (unless ``moe`` gives the widths),
    ``vocab_size``, ``tie_word_embeddings`` and the context length. Head shapes must be whole:
    the K/V heads divide the heads, and hidden/heads is exact when it gives the head width.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    if moe is None or moe.dense_intermediate_size is None and not all(moe.moe_layers):
        intermediate = reader.int("intermediate_size")
    else:
        intermediate = reader.int("intermediate_size", default=0, minimum=0)
    reader.check()
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = reader.int("head_dim", default=0)
    if head_dim == 0:
        head_dim = head_dim_default or derived_head_dim(reader, hidden, heads)
    context = read_context_length(reader)
    tied = reader.bool("tie_word_embeddings", default=tie_default)

    per_layer = counting.attention(hidden, heads, kv_heads, head_dim, q_bias, kv_bias, o_bias)
    per_layer += norms_per_layer * counting.layer_norm(hidden, norm_bias)
    if qk_norm == QK_NORM_PER_HEAD_DIM:
        per_layer += 2 * head_dim
    elif qk_norm == QK_NORM_FULL_WIDTH:
        per_layer += (heads + kv_heads) * head_dim
    elif qk_norm == QK_NORM_LAYERNORM_HEAD_DIM:
        per_layer += 4 * head_dim
    per_layer += extra_params_per_layer

    total = layers * per_layer
    inactive = 0
    arch = Architecture(reader.family)
    if moe is None:
        total += layers * counting.mlp(hidden, intermediate, gated, mlp_bias)
    else:
        if len(moe.moe_layers) != layers:
            raise reader.error("MoE layer layout does not match num_hidden_layers")
        check_top_k(reader, moe.experts_per_token, moe.num_experts)
        dense_width = (
            moe.dense_intermediate_size if moe.dense_intermediate_size is not None else intermediate
        )
        one_expert = counting.mlp(
            hidden, moe.expert_intermediate_size, moe.expert_gated, moe.expert_bias
        )
        moe_ffn = (
            moe.num_experts * one_expert
            + counting.linear(hidden, moe.num_experts, moe.router_bias)
            + moe.router_extra_per_layer
        )
        if moe.shared_intermediate_size:
            moe_ffn += counting.mlp(hidden, moe.shared_intermediate_size, gated, False)
            if moe.shared_expert_gate:
                moe_ffn += counting.linear(hidden, 1)
        moe_layer_count = sum(moe.moe_layers)
        dense_layer_count = layers - moe_layer_count
        total += moe_layer_count * moe_ffn
        if dense_layer_count:
            total += dense_layer_count * counting.mlp(hidden, dense_width, gated, mlp_bias)
        inactive = moe_layer_count * (moe.num_experts - moe.experts_per_token) * one_expert
        arch.num_experts = moe.num_experts
        arch.experts_per_token = moe.experts_per_token

    embedding = vocab * hidden
    total += embedding + extra_params
    if final_norm:
        total += counting.layer_norm(hidden, norm_bias)
    if not tied:
        total += embedding
    if lm_head_bias:
        total += vocab

    arch.parameter_count = total
    arch.active_parameter_count = total - inactive
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate or None
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = context
    arch.vocab_size = vocab
    arch.attention_type = attention_type
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, gated)
    if moe is not None:
        arch.genz_kwargs.update(genz_moe_kwargs(arch, moe, layers))
    return arch


def genz_dense_kwargs(reader: ConfigReader, arch: Architecture, gated: bool) -> dict[str, Any]:
    """GenZ ``ModelConfig`` arguments shared by every attention decoder."""
    kwargs: dict[str, Any] = {
        "vocab_size": arch.vocab_size,
        "hidden_size": arch.hidden_size,
        "intermediate_size": arch.intermediate_size or 0,
        "num_ffi": 2 if gated else 1,
        "num_decoder_layers": arch.num_layers,
        "num_attention_heads": arch.num_attention_heads,
        "num_key_value_heads": arch.num_key_value_heads,
        "head_dim": arch.head_dim,
        "hidden_act": reader.str(
            "hidden_act", "hidden_activation", "activation_function", default="silu"
        ),
    }
    if arch.context_length:
        kwargs["max_model_len"] = arch.context_length
    return kwargs


def genz_moe_kwargs(arch: Architecture, moe: MoeSpec, layers: int) -> dict[str, Any]:
    """GenZ MoE arguments.

    GenZ sizes expert FFNs by ``intermediate_size`` in its default FFN and by
    ``moe_intermediate_size`` in the DeepSeek FFN, and treats every layer as MoE once
    ``num_experts > 1``; so both are set to the expert width.
    """
    kwargs: dict[str, Any] = {
        "num_experts": moe.num_experts,
        "expert_top_k": moe.experts_per_token,
        "moe_intermediate_size": moe.expert_intermediate_size,
        "intermediate_size": moe.expert_intermediate_size,
    }
    if moe.shared_intermediate_size:
        shared_experts = moe.num_shared_experts or 1
        kwargs["n_shared_experts"] = shared_experts
        kwargs["shared_expert_intermediate_size"] = moe.shared_intermediate_size // shared_experts
        kwargs["ffn_implementation"] = "deepseek"
    pattern = moe.moe_layers
    period, offset = layer_period(pattern)
    if period is None:
        first_dense = 0
        while first_dense < layers and not pattern[first_dense]:
            first_dense += 1
        if all(pattern[first_dense:]):
            kwargs["first_k_dense_replace"] = first_dense
            arch.warnings.append(
                f"GenZ simulates all {layers} layers as MoE; the first {first_dense} are dense"
            )
        else:
            arch.warnings.append("irregular MoE layer layout; GenZ simulates every layer as MoE")
    elif period > 1:
        if layers % period:
            # ModelConfig asserts divisibility: leave the period out so it still constructs.
            arch.genz_unsupported = f"GenZ needs num_hidden_layers ({layers}) divisible by the MoE layer period ({period})"
        else:
            kwargs["expert_layer_period"] = period
            kwargs["expert_layer_offset"] = offset
            arch.genz_unsupported = f"GenZ 0.0.16 cannot simulate MoE every {period} layers (more than one unique layer type)"
    return kwargs


def layer_period(pattern: list[bool]) -> tuple[int | None, int]:
    """The (period, offset) of a layer pattern with one True per period, or (None, 0)."""
    trues = [index for index, flag in enumerate(pattern) if flag]
    if not trues:
        return None, 0
    if len(trues) == len(pattern):
        return 1, 0
    if len(trues) == 1:
        return None, 0
    period = trues[1] - trues[0]
    offset = trues[0]
    if offset >= period:
        return None, 0
    for index, flag in enumerate(pattern):
        if flag != (index % period == offset):
            return None, 0
    return period, offset


def add_attention_kv(
    arch: Architecture, layer_types: list[str] | None, window: int | None, values_per_layer: int
) -> None:
    """Fill the KV-cache layout: ``layer_types`` entries ``sliding_attention`` use ``window``.

    ``layer_types=None`` means every layer is full attention (or, if ``window`` is given, every
    layer slides). Non-attention entries (``conv``, ``mamba`` ...) cache nothing.
    """
    if layer_types is None:
        arch.add_kv_layers(arch.num_layers or 0, values_per_layer, window)
        if window is not None:
            arch.genz_kwargs["sliding_window"] = window
        return
    full = sum(
        1 for kind in layer_types if kind in ("full_attention", "attention", "global_attention")
    )
    sliding = sum(1 for kind in layer_types if kind in ("sliding_attention", "local_attention"))
    arch.add_kv_layers(full, values_per_layer)
    if sliding:
        if window is None:
            arch.add_kv_layers(sliding, values_per_layer)
            arch.warnings.append(
                "sliding_attention layers without sliding_window; counted as full attention"
            )
        else:
            arch.add_kv_layers(sliding, values_per_layer, window)
            if not full:
                arch.genz_kwargs["sliding_window"] = window


def pattern_layer_types(num_layers: int, pattern: int) -> list[str]:
    """HF's interleaving rule: layer i slides unless (i + 1) is a multiple of ``pattern``."""
    return [
        "sliding_attention" if (index + 1) % pattern else "full_attention"
        for index in range(num_layers)
    ]


def read_layer_types(reader: ConfigReader, num_layers: int) -> list[str] | None:
    """``layer_types`` from the config, checked against the layer count; ``None`` when absent."""
    layer_types = reader.str_list("layer_types")
    if layer_types is not None and len(layer_types) != num_layers:
        raise reader.error(f"layer_types has {len(layer_types)} entries for {num_layers} layers")
    return layer_types
