"""Exact parameter-count building blocks (units: number of parameters, i.e. scalar weights).

Each function counts the weights (and biases where asked) of one standard module, the way the
Hugging Face ``transformers`` implementation allocates them.
"""

from __future__ import annotations


def linear(in_features: int, out_features: int, bias: bool = False) -> int:
    """Parameters of ``nn.Linear(in_features, out_features, bias)``."""
    return in_features * out_features + (out_features if bias else 0)


def layer_norm(width: int, bias: bool = True) -> int:
    """Parameters of a LayerNorm (weight, optional bias) or RMSNorm (``bias=False``) of ``width``."""
    return width * 2 if bias else width


def attention(
    hidden_size: int,
    num_heads: int,
    num_kv_heads: int,
    head_dim: int,
    q_bias: bool = False,
    kv_bias: bool = False,
    o_bias: bool = False,
) -> int:
    """Q, K, V and output projections of (grouped-query) self-attention."""
    q_width = num_heads * head_dim
    kv_width = num_kv_heads * head_dim
    return (
        linear(hidden_size, q_width, q_bias)
        + 2 * linear(hidden_size, kv_width, kv_bias)
        + linear(q_width, hidden_size, o_bias)
    )


def mlp(hidden_size: int, intermediate_size: int, gated: bool, bias: bool = False) -> int:
    """A feed-forward block: gated (gate, up, down: SwiGLU/GeGLU) or plain (up, down)."""
    if gated:
        return 2 * linear(hidden_size, intermediate_size, bias) + linear(
            intermediate_size, hidden_size, bias
        )
    return linear(hidden_size, intermediate_size, bias) + linear(
        intermediate_size, hidden_size, bias
    )


def mla_attention(
    hidden_size: int,
    num_heads: int,
    q_lora_rank: int | None,
    kv_lora_rank: int,
    qk_nope_head_dim: int,
    qk_rope_head_dim: int,
    v_head_dim: int,
    bias: bool = False,
) -> int:
    """DeepSeek multi-head latent attention (MLA): low-rank Q (optional) and joint KV compression.

    ``q_a_proj`` / ``kv_a_proj_with_mqa`` / ``o_proj`` carry a bias when ``attention_bias`` is set;
    the up-projections ``q_b_proj`` / ``kv_b_proj`` never do.
    """
    qk_head_dim = qk_nope_head_dim + qk_rope_head_dim
    if q_lora_rank:
        query = (
            linear(hidden_size, q_lora_rank, bias)
            + layer_norm(q_lora_rank, bias=False)
            + linear(q_lora_rank, num_heads * qk_head_dim)
        )
    else:
        query = linear(hidden_size, num_heads * qk_head_dim)
    key_value = (
        linear(hidden_size, kv_lora_rank + qk_rope_head_dim, bias)
        + layer_norm(kv_lora_rank, bias=False)
        + linear(kv_lora_rank, num_heads * (qk_nope_head_dim + v_head_dim))
    )
    output = linear(num_heads * v_head_dim, hidden_size, bias)
    return query + key_value + output


def mamba_mixer(
    hidden_size: int,
    inner_size: int,
    state_size: int,
    conv_kernel: int,
    dt_rank: int,
    proj_bias: bool,
    conv_bias: bool,
) -> int:
    """A Mamba-1 selective-scan mixer (in/out projections, depthwise conv, x/dt projections, A, D)."""
    return (
        linear(hidden_size, 2 * inner_size, proj_bias)
        + inner_size * conv_kernel
        + (inner_size if conv_bias else 0)
        + linear(inner_size, dt_rank + 2 * state_size)
        + linear(dt_rank, inner_size, True)
        + inner_size * state_size  # A_log
        + inner_size  # D
        + linear(inner_size, hidden_size, proj_bias)
    )
