"""Mixture-of-experts decoder families, including DeepSeek's multi-head latent attention."""

from __future__ import annotations

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    QK_NORM_PER_HEAD_DIM,
    MoeSpec,
    add_attention_kv,
    build_decoder,
    check_top_k,
    checked_attention_type,
    derived_head_dim,
    genz_moe_kwargs,
    read_context_length,
)
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_dense import qwen_layer_types


def _kv_values(arch: Architecture) -> int:
    return 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0)


def _layers(reader: ConfigReader) -> int:
    layers = reader.int("num_hidden_layers")
    reader.check()
    return layers


def _local_experts_in_every_layer(
    reader: ConfigReader, shared_intermediate_size: int = 0
) -> MoeSpec:
    """The Mixtral-style MoE layout: ``num_local_experts`` experts of ``intermediate_size``
    (values) in every layer, ``num_experts_per_tok`` routed per token."""
    layers = _layers(reader)
    experts = reader.int("num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("intermediate_size")
    reader.check()
    return MoeSpec(
        experts,
        top_k,
        expert_width,
        [True] * layers,
        shared_intermediate_size=shared_intermediate_size,
    )


def mixtral(reader: ConfigReader) -> Architecture:
    """Mixtral (every layer MoE, experts sized by ``intermediate_size``)."""
    moe = _local_experts_in_every_layer(reader)
    arch = build_decoder(reader, moe=moe, tie_default=False)
    add_attention_kv(arch, None, reader.optional_int("sliding_window", minimum=1), _kv_values(arch))
    return arch


def phimoe(reader: ConfigReader) -> Architecture:
    """Phi-3.5-MoE (LayerNorm with bias, attention bias, lm_head bias)."""
    moe = _local_experts_in_every_layer(reader)
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        norm_bias=True,
        tie_default=False,
        lm_head_bias=reader.bool("lm_head_bias", default=False),
    )
    add_attention_kv(arch, None, reader.optional_int("sliding_window", minimum=1), _kv_values(arch))
    return arch


def granitemoe(reader: ConfigReader) -> Architecture:
    """Granite MoE (fused gate+up ``input_linear`` experts of ``intermediate_size``; tied)."""
    moe = _local_experts_in_every_layer(
        reader, reader.int("shared_intermediate_size", default=0, minimum=0)
    )
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        tie_default=True,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def _qwen_moe_layers(reader: ConfigReader, layers: int, experts: int) -> list[bool]:
    """HF rule: layer i is sparse unless listed in ``mlp_only_layers``, when (i+1) % step == 0."""
    step = reader.int("decoder_sparse_step", default=1)
    mlp_only = set(reader.int_list("mlp_only_layers") or ())
    return [
        index not in mlp_only and experts > 0 and (index + 1) % step == 0 for index in range(layers)
    ]


def qwen2_moe(reader: ConfigReader) -> Architecture:
    """Qwen1.5/Qwen2-MoE (routed experts plus one gated shared expert; q/k/v bias)."""
    layers = _layers(reader)
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    shared_width = reader.int("shared_expert_intermediate_size")
    reader.check()
    pattern = _qwen_moe_layers(reader, layers, experts)
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        pattern,
        shared_intermediate_size=shared_width,
        num_shared_experts=1,
        shared_expert_gate=True,
    )
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=True,
        kv_bias=True,
        o_bias=False,
        tie_default=False,
    )
    layer_types, window = qwen_layer_types(reader, layers)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    return arch


def qwen3_moe(reader: ConfigReader) -> Architecture:
    """Qwen3-MoE (routed experts only, per-head q/k norms).

    transformers 4 wrote ``num_experts``; transformers 5 writes ``num_local_experts``.
    """
    layers = _layers(reader)
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    attention_bias = reader.bool("attention_bias", default=False)
    pattern = _qwen_moe_layers(reader, layers, experts)
    moe = MoeSpec(experts, top_k, expert_width, pattern)
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        tie_default=False,
    )
    layer_types, window = qwen_layer_types(reader, layers)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    return arch


def dbrx(reader: ConfigReader) -> Architecture:
    """DBRX (``d_model``/``n_heads``/``n_layers``; nested ``attn_config`` and ``ffn_config``)."""
    hidden = reader.int("d_model")
    layers = reader.int("n_layers")
    heads = reader.int("n_heads")
    vocab = reader.int("vocab_size")
    attn_config = reader.sub("attn_config")
    ffn_config = reader.sub("ffn_config")
    if attn_config is None:
        reader.require("attn_config")
    if ffn_config is None:
        reader.require("ffn_config")
    reader.check()
    attn = ConfigReader(attn_config or {}, reader.family, "attn_config.")
    ffn = ConfigReader(ffn_config or {}, reader.family, "ffn_config.")
    kv_heads = attn.int("kv_n_heads")
    expert_width = ffn.int("ffn_hidden_size")
    experts = ffn.int("moe_num_experts")
    top_k = ffn.int("moe_top_k")
    attn.check()
    ffn.check()
    check_top_k(ffn, top_k, experts)
    head_dim = derived_head_dim(
        reader, hidden, heads, hidden_key="d_model", heads_key="n_heads", head_dim_key=None
    )
    attention_type = checked_attention_type(
        reader, heads, kv_heads, heads_key="n_heads", kv_key="attn_config.kv_n_heads"
    )
    one_expert = counting.mlp(hidden, expert_width, True)
    per_layer = (
        2 * counting.layer_norm(hidden, bias=False)
        + counting.linear(hidden, (heads + 2 * kv_heads) * head_dim)
        + counting.linear(hidden, hidden)
        + counting.linear(hidden, experts)
        + experts * one_expert
    )
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden, bias=False)
    if not reader.bool("tie_word_embeddings", default=False):
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - layers * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = expert_width
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.context_length = reader.optional_int("max_seq_len", minimum=1)
    arch.vocab_size = vocab
    arch.attention_type = attention_type
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_act": "silu",
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    arch.genz_kwargs.update(
        genz_moe_kwargs(arch, MoeSpec(experts, top_k, expert_width, [True] * layers), layers)
    )
    add_attention_kv(arch, None, None, 2 * kv_heads * head_dim)
    return arch


def deepseek(reader: ConfigReader) -> Architecture:
    """DeepSeek-V2/V3 (MLA; routed + shared experts; ``first_k_dense_replace`` dense layers).

    Both families are MLA mixtures of experts by definition, so every MLA and MoE key is
    required: a config without them is an error, never a dense MHA model. ``q_lora_rank`` and
    ``n_shared_experts`` must be present but may be ``null`` (DeepSeek-V2-Lite has no query
    LoRA; ``null`` shared experts means none, as in DeepSeek's modelling code), because their
    Hugging Face defaults (1536; 2 or 1) would otherwise be silently assumed.
    """
    family = reader.family
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    dense_width = reader.int("intermediate_size")
    kv_lora_rank = reader.int("kv_lora_rank")
    q_lora_rank = reader.int_or_null("q_lora_rank")
    rope_dim = reader.int("qk_rope_head_dim")
    nope_dim = reader.int("qk_nope_head_dim")
    v_head_dim = reader.int("v_head_dim")
    experts = reader.int("n_routed_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    shared_experts = reader.int_or_null("n_shared_experts", minimum=0) or 0
    first_dense = reader.int("first_k_dense_replace", minimum=0)
    reader.check()
    check_top_k(reader, top_k, experts)
    frequency = reader.int("moe_layer_freq", default=1)
    attention_bias = reader.bool("attention_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    # MLA ignores num_key_value_heads (every head gets K/V from the latent); still reported, so checked.
    kv_heads = reader.int("num_key_value_heads", default=heads)
    checked_attention_type(reader, heads, kv_heads)

    attention = counting.mla_attention(
        hidden, heads, q_lora_rank, kv_lora_rank, nope_dim, rope_dim, v_head_dim, attention_bias
    )
    head_dim = nope_dim + rope_dim
    pattern = [index >= first_dense and index % frequency == 0 for index in range(layers)]
    one_expert = counting.mlp(hidden, expert_width, True)
    # V3 routers carry an ``e_score_correction_bias`` buffer (not a parameter): not counted.
    moe_ffn = counting.linear(hidden, experts) + experts * one_expert
    if shared_experts:
        moe_ffn += counting.mlp(hidden, expert_width * shared_experts, True)
    moe_layer_count = sum(pattern)
    total = (
        vocab * hidden
        + layers * (attention + 2 * counting.layer_norm(hidden, bias=False))
        + moe_layer_count * moe_ffn
        + (layers - moe_layer_count) * counting.mlp(hidden, dense_width, True)
        + counting.layer_norm(hidden, bias=False)
    )
    if not tied:
        total += vocab * hidden
    arch = Architecture(family)
    arch.parameter_count = total
    arch.active_parameter_count = total - moe_layer_count * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = dense_width
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.num_experts = experts
    arch.experts_per_token = top_k
    genz = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": dense_width,
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "hidden_act": "silu",
    }
    if arch.context_length:
        genz["max_model_len"] = arch.context_length
    latent = kv_lora_rank + rope_dim
    arch.attention_type = "mla"
    arch.add_kv_layers(layers, latent)
    # GenZ caches 2 * kv_heads * head_dim values per layer: one KV head of latent/2 matches MLA.
    genz["num_key_value_heads"] = 1
    genz["head_dim"] = (latent + 1) // 2
    arch.extra.update(
        {
            "q_lora_rank": q_lora_rank,
            "kv_lora_rank": kv_lora_rank,
            "qk_rope_head_dim": rope_dim,
            "qk_nope_head_dim": nope_dim,
            "v_head_dim": v_head_dim,
        }
    )
    note = "GenZ models MLA as one KV head of (kv_lora_rank + qk_rope_head_dim) / 2 so KV traffic matches"
    if latent % 2:
        note += f" (rounded up: {latent} is odd)"
    arch.warnings.append(note + "; GenZ's attention FLOPs and weights are approximate for MLA")
    arch.genz_kwargs = genz
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        pattern,
        dense_intermediate_size=dense_width,
        shared_intermediate_size=expert_width * shared_experts,
        num_shared_experts=shared_experts,
    )
    genz.update(genz_moe_kwargs(arch, moe, layers))
    genz["ffn_implementation"] = "deepseek"
    genz["n_shared_experts"] = shared_experts
    genz["shared_expert_intermediate_size"] = expert_width
    if frequency > 1:
        genz["moe_layer_freq"] = frequency
    return arch
