"""Older decoder families still on the Hub in numbers, and custom-code families.

In transformers: GPT-BigCode (StarCoder, SantaCoder; multi-query attention), GPT-Neo (alternating
global/local attention), CodeGen and XGLM, counted from transformers 5.24's modelling code.

Custom code (``trust_remote_code``; not in transformers): legacy Qwen (``qwen``), ChatGLM 1/2/3 and
GLM-4-9B-chat (``chatglm``), InternLM2 (``internlm2``), Baichuan 1/2 (``baichuan``) and MiniCPM 1/2
(``minicpm``), counted from the structure of each repository's own ``modeling_*.py``. Their config
classes live in those repositories too, so only keys whose defaults those classes document are
optional here; every dimension is required.
"""

from __future__ import annotations

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    MoeSpec,
    add_attention_kv,
    build_decoder,
    derived_head_dim,
    read_context_length,
)
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_dense import finish_classic_mha, finish_plain


def gpt_bigcode(reader: ConfigReader) -> Architecture:
    """GPT-BigCode (SantaCoder, StarCoder 1, WizardCoder, Granite code 20B/34B).

    GPT-2 layout (learned positions, biased LayerNorms and projections, tied head) with one
    fused q/kv projection; ``multi_query`` (default true) shares one K/V head across all heads.
    """
    hidden = reader.int("n_embd", "hidden_size")
    layers = reader.int("n_layer", "num_hidden_layers")
    heads = reader.int("n_head", "num_attention_heads")
    vocab = reader.int("vocab_size")
    positions = reader.int("n_positions", "max_position_embeddings")
    reader.check()
    hidden_key = reader.name_of("n_embd", "hidden_size")
    heads_key = reader.name_of("n_head", "num_attention_heads")
    head_dim = derived_head_dim(
        reader, hidden, heads, hidden_key=hidden_key, heads_key=heads_key, head_dim_key=None
    )
    multi_query = reader.bool("multi_query", default=True)
    kv_heads = 1 if multi_query else heads
    intermediate = reader.int("n_inner", "intermediate_size", default=4 * hidden)
    tied = reader.bool("tie_word_embeddings", default=True)
    per_layer = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, hidden + 2 * kv_heads * head_dim, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    if reader.bool("add_cross_attention", default=False):
        if multi_query:
            raise reader.error("add_cross_attention is not supported with multi_query")
        per_layer += (
            counting.linear(hidden, 2 * hidden, True)
            + 2 * counting.linear(hidden, hidden, True)
            + counting.layer_norm(hidden)
        )
    total = vocab * hidden + positions * hidden + layers * per_layer + counting.layer_norm(hidden)
    if not tied:
        total += vocab * hidden
    arch = finish_plain(
        Architecture(reader.family),
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        gated=False,
        context=positions,
        heads_key=heads_key,
        kv_key="multi_query",
    )
    add_attention_kv(arch, None, None, 2 * kv_heads * head_dim)
    return arch


def _gpt_neo_layer_types(reader: ConfigReader, layers: int) -> list[str]:
    """GPT-Neo's ``attention_types`` ([[["global", "local"], 12]]) expanded to one entry per layer."""
    spec = reader.raw("attention_types")
    if spec is None:
        spec = [[["global", "local"], 12]]  # GPTNeoConfig default (24 layers)
    expanded: list[str] = []
    try:
        for pattern, repeat in spec:
            if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 0:
                raise TypeError
            if not all(kind in ("global", "local") for kind in pattern):
                raise TypeError
            expanded.extend(list(pattern) * repeat)
    except (TypeError, ValueError) as error:
        raise reader.error(
            f"attention_types must be a list of [[global|local, ...], count] pairs, got {spec!r}"
        ) from error
    if len(expanded) != layers:
        raise reader.error(
            f"attention_types expands to {len(expanded)} layers for {layers} layers (num_layers)"
        )
    return ["sliding_attention" if kind == "local" else "full_attention" for kind in expanded]


def gpt_neo(reader: ConfigReader) -> Architecture:
    """GPT-Neo: GPT-2 layout with bias-free q/k/v, global and local (``window_size``) layers."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_layers", "num_hidden_layers")
    heads = reader.int("num_heads", "num_attention_heads")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    head_dim = derived_head_dim(
        reader,
        hidden,
        heads,
        heads_key=reader.name_of("num_heads", "num_attention_heads"),
        head_dim_key=None,
    )
    intermediate = reader.int("intermediate_size", default=4 * hidden)
    tied = reader.bool("tie_word_embeddings", default=True)
    layer_types = _gpt_neo_layer_types(reader, layers)
    window = reader.int("window_size", default=256)
    per_layer = (
        2 * counting.layer_norm(hidden)
        + 3 * counting.linear(hidden, hidden)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    total = vocab * hidden + positions * hidden + layers * per_layer + counting.layer_norm(hidden)
    if not tied:
        total += vocab * hidden
    arch = finish_plain(
        Architecture(reader.family),
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        gated=False,
        context=positions,
        heads_key=reader.name_of("num_heads", "num_attention_heads"),
    )
    add_attention_kv(arch, layer_types, window, 2 * hidden)
    return arch


def codegen(reader: ConfigReader) -> Architecture:
    """CodeGen (GPT-J-style parallel block: bias-free fused qkv and out projection, lm_head bias)."""
    hidden = reader.int("n_embd", "hidden_size")
    layers = reader.int("n_layer", "num_hidden_layers")
    heads = reader.int("n_head", "num_attention_heads")
    vocab = reader.int("vocab_size")
    reader.check()
    hidden_key = reader.name_of("n_embd", "hidden_size")
    heads_key = reader.name_of("n_head", "num_attention_heads")
    head_dim = derived_head_dim(
        reader, hidden, heads, hidden_key=hidden_key, heads_key=heads_key, head_dim_key=None
    )
    intermediate = reader.int("n_inner", default=4 * hidden)
    tied = reader.bool("tie_word_embeddings", default=False)
    per_layer = (
        counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden)
        + counting.linear(hidden, hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    # lm_head carries a bias whether or not its weight is tied to the embedding.
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden) + vocab
    if not tied:
        total += vocab * hidden
    return finish_classic_mha(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        context=reader.optional_int("n_positions", "n_ctx", "max_position_embeddings", minimum=1),
    )


def xglm(reader: ConfigReader) -> Architecture:
    """XGLM: pre-LayerNorm decoder with biases everywhere, sinusoidal positions (no weights)."""
    hidden = reader.int("d_model", "hidden_size")
    layers = reader.int("num_layers", "num_hidden_layers")
    heads = reader.int("attention_heads", "num_attention_heads")
    vocab = reader.int("vocab_size")
    ffn = reader.int("ffn_dim", "intermediate_size")
    reader.check()
    head_dim = derived_head_dim(
        reader,
        hidden,
        heads,
        hidden_key=reader.name_of("d_model", "hidden_size"),
        heads_key=reader.name_of("attention_heads", "num_attention_heads"),
        head_dim_key=None,
    )
    tied = reader.bool("tie_word_embeddings", default=True)
    per_layer = (
        2 * counting.layer_norm(hidden)
        + 4 * counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, ffn, False, True)
    )
    if reader.bool("add_cross_attention", default=False):
        per_layer += 4 * counting.linear(hidden, hidden, True) + counting.layer_norm(hidden)
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden)
    if not tied:
        total += vocab * hidden
    return finish_classic_mha(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        head_dim=head_dim,
        intermediate=ffn,
        vocab=vocab,
        total=total,
        context=read_context_length(reader),
    )


# --- custom-code families ----------------------------------------------------------------------


def qwen(reader: ConfigReader) -> Architecture:
    """Legacy Qwen (Qwen-1.8B/7B/14B/72B, ``QWenLMHeadModel``, custom code).

    ``c_attn`` is one biased q/k/v projection of ``kv_channels * num_attention_heads``; the MLP is
    SwiGLU of width ``intermediate_size // 2`` (the config stores the two gate halves together);
    ``no_bias`` (default true) removes the biases of ``c_proj`` and the MLP; RMSNorm; untied head.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate_total = reader.int("intermediate_size")
    reader.check()
    head_dim = reader.int("kv_channels", default=0)
    if head_dim == 0:
        head_dim = derived_head_dim(reader, hidden, heads, head_dim_key="kv_channels")
    bias = not reader.bool("no_bias", default=True)
    tied = reader.bool("tie_word_embeddings", default=False)
    projection = heads * head_dim
    intermediate = intermediate_total // 2
    per_layer = (
        2 * counting.layer_norm(hidden, False)
        + counting.linear(hidden, 3 * projection, True)
        + counting.linear(projection, hidden, bias)
        + counting.mlp(hidden, intermediate, True, bias)
    )
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden, False)
    if not tied:
        total += vocab * hidden
    arch = finish_plain(
        Architecture(reader.family),
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        gated=True,
        context=reader.optional_int("seq_length", "max_position_embeddings", minimum=1),
    )
    add_attention_kv(arch, None, None, 2 * heads * head_dim)
    return arch


def _chatglm_v1(reader: ConfigReader) -> Architecture:
    """ChatGLM-6B (v1): GLM-130B-style blocks with biased LayerNorms and projections, GELU MLP of
    ``inner_hidden_size``, 2-D rotary positions (no weights), head tied to the word embeddings."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_layers", "num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    inner = reader.int("inner_hidden_size")
    reader.check()
    head_dim = derived_head_dim(reader, hidden, heads, head_dim_key=None)
    per_layer = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, inner, False, True)
    )
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden)
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    return finish_classic_mha(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        head_dim=head_dim,
        intermediate=inner,
        vocab=vocab,
        total=total,
        context=reader.optional_int("max_sequence_length", "seq_length", minimum=1),
    )


def chatglm(reader: ConfigReader) -> Architecture:
    """ChatGLM2/3-6B, CodeGeeX2, GLM-4-9B-chat (``ChatGLMModel``, custom code); ChatGLM-6B v1 too.

    One q/k/v projection (biased with ``add_qkv_bias``) with ``multi_query_group_num`` K/V heads
    of ``kv_channels`` when ``multi_query_attention``; fused SwiGLU ``dense_h_to_4h`` of twice
    ``ffn_hidden_size``; RMSNorm (``rmsnorm``) or LayerNorm; untied ``output_layer``. The rotary
    ``inv_freq`` buffer is saved in the checkpoints but is not a parameter, so it is not counted.
    """
    if reader.raw("pre_seq_len") is not None:
        # P-tuning v2 checkpoints add a prefix encoder whose layout (prefix_projection) the
        # converter does not model: refuse rather than count the base model alone.
        raise reader.error(
            "pre_seq_len is set (a P-tuning prefix encoder); its parameters are not modelled"
        )
    if reader.raw("padded_vocab_size") is None and reader.raw("inner_hidden_size") is not None:
        return _chatglm_v1(reader)
    hidden = reader.int("hidden_size")
    layers = reader.int("num_layers", "num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("padded_vocab_size", "vocab_size")
    ffn = reader.int("ffn_hidden_size")
    reader.check()
    head_dim = reader.int("kv_channels", default=0)
    if head_dim == 0:
        head_dim = derived_head_dim(reader, hidden, heads, head_dim_key="kv_channels")
    if reader.bool("multi_query_attention", default=False):
        kv_heads = reader.int("multi_query_group_num")
        reader.check()
    else:
        kv_heads = heads
    linear_bias = reader.bool("add_bias_linear", default=False)
    qkv_bias = linear_bias or reader.bool("add_qkv_bias", default=False)
    norm_bias = not reader.bool("rmsnorm", default=True)
    projection = heads * head_dim
    per_layer = (
        2 * counting.layer_norm(hidden, norm_bias)
        + counting.linear(hidden, projection + 2 * kv_heads * head_dim, qkv_bias)
        + counting.linear(projection, hidden, linear_bias)
        + counting.mlp(hidden, ffn, True, linear_bias)
    )
    total = vocab * hidden + layers * per_layer
    if reader.bool("post_layer_norm", default=True):
        total += counting.layer_norm(hidden, norm_bias)
    if not reader.bool("tie_word_embeddings", default=False):
        total += vocab * hidden
    arch = finish_plain(
        Architecture(reader.family),
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate=ffn,
        vocab=vocab,
        total=total,
        gated=True,
        context=reader.optional_int("seq_length", "max_position_embeddings", minimum=1),
        kv_key="multi_query_group_num",
    )
    add_attention_kv(arch, None, None, 2 * kv_heads * head_dim)
    return arch


def internlm2(reader: ConfigReader) -> Architecture:
    """InternLM2 / 2.5 (``InternLM2ForCausalLM``, custom code): Llama layout with a fused ``wqkv``
    (biased, like ``wo``, when ``bias``), bias-free SwiGLU, untied ``output`` head."""
    bias = reader.bool("bias", default=True)
    arch = build_decoder(
        reader, q_bias=bias, kv_bias=bias, o_bias=bias, mlp_bias=False, tie_default=False
    )
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    return arch


def baichuan(reader: ConfigReader) -> Architecture:
    """Baichuan 1/2 7B and 13B (``BaichuanForCausalLM``, custom code): fused bias-free ``W_pack``
    q/k/v, Llama MLP and norms, ``NormHead`` output (a plain vocab x hidden weight, untied).
    RoPE (7B) or ALiBi (13B) add no weights."""
    arch = build_decoder(reader, tie_default=False)
    add_attention_kv(arch, None, None, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    return arch


def _minicpm_moe(reader: ConfigReader) -> MoeSpec | None:
    """The MiniCPM-MoE layout, or None for the dense MiniCPM (``num_experts`` 0 or absent).

    Without this the 8x2B checkpoint (13.6B non-embedding parameters) would be counted as the
    dense 2.7B model it was upcycled from, since every other key is the dense model's.
    """
    experts = reader.int("num_experts", default=0, minimum=0)
    if not experts:
        return None
    layers = reader.int("num_hidden_layers")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("intermediate_size")
    reader.check()
    return MoeSpec(experts, top_k, expert_width, [True] * layers)


def minicpm(reader: ConfigReader) -> Architecture:
    """MiniCPM 1/2 and MiniCPM4 (``MiniCPMForCausalLM``, custom code): Llama layout with scaled
    embeddings and residuals (no extra weights), embeddings tied unless the config says not.

    MiniCPM-MoE-8x2B keeps the model type and adds ``num_experts`` (> 0): every layer's MLP is
    then that many SwiGLU experts of ``intermediate_size`` (``experts.N.w1/w2/w3``) behind a
    bias-free router, ``num_experts_per_tok`` routed per token; 0 (the class default) is dense.

    Later custom variants add attention output gates and norms (``use_output_gate``,
    ``use_output_norm``) whose weights the standard layout lacks: such configs are refused.
    """
    extras = [key for key in ("use_output_gate", "use_output_norm") if reader.raw(key)]
    if extras:
        raise reader.error(
            f"{', '.join(extras)} set: a MiniCPM variant whose extra attention weights are not "
            "modelled"
        )
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        tie_default=True,
        moe=_minicpm_moe(reader),
    )
    window = None
    if reader.bool("use_sliding_window", default=False):
        window = reader.optional_int("sliding_window", minimum=1)
    add_attention_kv(arch, None, window, 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0))
    if reader.sub("sparse_config") is not None:
        arch.warnings.append(
            "sparse_config (MiniCPM4 InfLLM v2 sparse attention) is not modelled: "
            "KV cache and GenZ figures assume dense attention"
        )
    return arch
