"""Dense decoder families: Llama-shaped ones through :func:`build_decoder`, the rest by hand."""

from __future__ import annotations

from genz_catalog.convert import counting
from genz_catalog.convert._arch import GATED_ACTIVATIONS, Architecture
from genz_catalog.convert._decoder import (
    QK_NORM_FULL_WIDTH,
    QK_NORM_LAYERNORM_HEAD_DIM,
    QK_NORM_NONE,
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


def _kv_values(arch: Architecture) -> int:
    return 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0)


def _window_if(reader: ConfigReader, enabled: bool) -> int | None:
    if not enabled:
        return None
    return reader.optional_int("sliding_window", minimum=1)


def qwen_layer_types(reader: ConfigReader, num_layers: int) -> tuple[list[str] | None, int | None]:
    """Qwen2/Qwen3 (and MoE): sliding only with ``use_sliding_window``, from ``max_window_layers`` on."""
    layer_types = read_layer_types(reader, num_layers)
    use_sliding = reader.bool("use_sliding_window", default=False)
    window = reader.optional_int("sliding_window", minimum=1) if use_sliding else None
    if layer_types is None and window is not None:
        first_sliding = reader.int("max_window_layers", default=num_layers, minimum=0)
        layer_types = [
            "sliding_attention" if index >= first_sliding else "full_attention"
            for index in range(num_layers)
        ]
    if layer_types is not None and window is None:
        # transformers 5 writes ``sliding_window: 0`` for "no window" (Qwen2-MoE); 4.x wrote null.
        window = reader.optional_int("sliding_window", minimum=0) or None
    return layer_types, window


def llama(reader: ConfigReader) -> Architecture:
    """Llama 1/2/3.x and Llama-architecture fine-tunes (``attention_bias``, ``mlp_bias``)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        mlp_bias=reader.bool("mlp_bias", default=False),
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def mistral(reader: ConfigReader) -> Architecture:
    """Mistral (explicit ``head_dim``; ``sliding_window`` when not null)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader, q_bias=attention_bias, kv_bias=attention_bias, o_bias=attention_bias
    )
    add_attention_kv(arch, None, reader.optional_int("sliding_window", minimum=1), _kv_values(arch))
    return arch


def granite(reader: ConfigReader) -> Architecture:
    """IBM Granite 3.x dense (Llama layout, tied embeddings by default)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        mlp_bias=reader.bool("mlp_bias", default=False),
        tie_default=True,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def smollm3(reader: ConfigReader) -> Architecture:
    """SmolLM3 (Llama layout, tied embeddings by default, optional sliding layers)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        mlp_bias=reader.bool("mlp_bias", default=False),
        tie_default=True,
    )
    layer_types, window = qwen_layer_types(reader, arch.num_layers or 0)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    return arch


def qwen2(reader: ConfigReader) -> Architecture:
    """Qwen2 / Qwen2.5 (q/k/v bias, no o bias)."""
    arch = build_decoder(reader, q_bias=True, kv_bias=True, tie_default=False)
    layer_types, window = qwen_layer_types(reader, arch.num_layers or 0)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    return arch


def qwen3(reader: ConfigReader) -> Architecture:
    """Qwen3 dense (per-head q_norm/k_norm, ``attention_bias`` on q/k/v/o)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        tie_default=False,
    )
    layer_types, window = qwen_layer_types(reader, arch.num_layers or 0)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    return arch


def gemma(reader: ConfigReader) -> Architecture:
    """Gemma 1 (GeGLU, head_dim 256 by default, tied embeddings)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        tie_default=True,
        head_dim_default=256,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def gemma2(reader: ConfigReader) -> Architecture:
    """Gemma 2 (four norms per layer; every other layer slides, starting with layer 0)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        norms_per_layer=4,
        tie_default=True,
        head_dim_default=256,
    )
    layers = arch.num_layers or 0
    layer_types = read_layer_types(reader, layers) or pattern_layer_types(layers, 2)
    add_attention_kv(
        arch, layer_types, reader.optional_int("sliding_window", minimum=1), _kv_values(arch)
    )
    return arch


def gemma3_text(reader: ConfigReader) -> Architecture:
    """Gemma 3 text model (four norms, q/k norms, 5 local : 1 global sliding pattern)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        norms_per_layer=4,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        tie_default=True,
        head_dim_default=256,
    )
    layers = arch.num_layers or 0
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        pattern = reader.int("sliding_window_pattern", "_sliding_window_pattern", default=6)
        layer_types = pattern_layer_types(layers, pattern)
    add_attention_kv(
        arch, layer_types, reader.optional_int("sliding_window", minimum=1), _kv_values(arch)
    )
    return arch


def olmo(reader: ConfigReader) -> Architecture:
    """OLMo 1 (non-parametric LayerNorm: norms carry no weights)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        norms_per_layer=0,
        final_norm=False,
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def olmo2(reader: ConfigReader) -> Architecture:
    """OLMo 2 (post-norms, full-width q_norm/k_norm)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        qk_norm=QK_NORM_FULL_WIDTH,
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def cohere(reader: ConfigReader) -> Architecture:
    """Cohere Command-R (parallel block: one weight-only LayerNorm per layer, optional qk norm)."""
    attention_bias = reader.bool("attention_bias", default=False)
    qk_norm = QK_NORM_FULL_WIDTH if reader.bool("use_qk_norm", default=False) else QK_NORM_NONE
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        norms_per_layer=1,
        qk_norm=qk_norm,
        tie_default=True,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def cohere2(reader: ConfigReader) -> Architecture:
    """Cohere Command-R7B (parallel block; 3 sliding : 1 global layers)."""
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        norms_per_layer=1,
        tie_default=True,
    )
    layers = arch.num_layers or 0
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        pattern = reader.int("sliding_window_pattern", default=4)
        layer_types = pattern_layer_types(layers, pattern)
    add_attention_kv(
        arch, layer_types, reader.optional_int("sliding_window", minimum=1), _kv_values(arch)
    )
    return arch


def stablelm(reader: ConfigReader) -> Architecture:
    """StableLM (LayerNorm with bias, optional q/k/v bias, per-head qk LayerNorm, parallel residual)."""
    qkv_bias = reader.bool("use_qkv_bias", default=False)
    parallel = reader.bool("use_parallel_residual", default=False)
    qk_layernorm = reader.bool("qk_layernorm", default=False)
    arch = build_decoder(
        reader,
        q_bias=qkv_bias,
        kv_bias=qkv_bias,
        norms_per_layer=1 if parallel else 2,
        norm_bias=True,
        qk_norm=QK_NORM_FULL_WIDTH if qk_layernorm else QK_NORM_NONE,
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def phi3(reader: ConfigReader) -> Architecture:
    """Phi-3 (fused qkv and gate_up projections, no biases; ``sliding_window`` when set)."""
    arch = build_decoder(reader, tie_default=False)
    add_attention_kv(arch, None, reader.optional_int("sliding_window", minimum=1), _kv_values(arch))
    return arch


def phi(reader: ConfigReader) -> Architecture:
    """Phi-1/1.5/2 (parallel block, biases everywhere, one LayerNorm per layer, lm_head bias)."""
    arch = build_decoder(
        reader,
        gated=False,
        q_bias=True,
        kv_bias=True,
        o_bias=True,
        mlp_bias=True,
        norms_per_layer=1,
        norm_bias=True,
        qk_norm=QK_NORM_LAYERNORM_HEAD_DIM
        if reader.bool("qk_layernorm", default=False)
        else QK_NORM_NONE,
        tie_default=False,
        lm_head_bias=True,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def starcoder2(reader: ConfigReader) -> Architecture:
    """StarCoder2 (plain GELU MLP, biases from ``use_bias``, LayerNorm, sliding window)."""
    bias = reader.bool("use_bias", default=True)
    arch = build_decoder(
        reader,
        gated=False,
        q_bias=bias,
        kv_bias=bias,
        o_bias=bias,
        mlp_bias=bias,
        norm_bias=True,
        tie_default=True,
    )
    add_attention_kv(arch, None, reader.optional_int("sliding_window", minimum=1), _kv_values(arch))
    return arch


def generic_decoder(reader: ConfigReader) -> Architecture:
    """An unknown family with standard Llama keys: counted as a Llama-layout decoder, with a warning."""
    activation = reader.str("hidden_act", "hidden_activation", default="silu") or "silu"
    gated = activation in GATED_ACTIVATIONS or reader.bool("use_gated_activation", default=False)
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        gated=gated,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        mlp_bias=reader.bool("mlp_bias", default=False),
        tie_default=False,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    arch.warnings.append(
        f"unknown family {reader.family!r} converted with the standard Llama-layout decoder handler "
        f"({'gated' if gated else 'plain'} MLP, RMSNorm); the parameter count may be inexact"
    )
    return arch


# --- families whose layout is not Llama-shaped ------------------------------------------------


def _implied_head_dim(
    reader: ConfigReader,
    hidden: int,
    heads: int,
    hidden_keys: tuple[str, ...],
    heads_keys: tuple[str, ...],
) -> int:
    """hidden / heads for a family without a ``head_dim`` key, naming the keys the config used."""
    return derived_head_dim(
        reader,
        hidden,
        heads,
        hidden_key=reader.name_of(*hidden_keys),
        heads_key=reader.name_of(*heads_keys),
        head_dim_key=None,
    )


def finish_plain(
    arch: Architecture,
    reader: ConfigReader,
    *,
    hidden: int,
    layers: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    intermediate: int,
    vocab: int,
    total: int,
    gated: bool,
    context: int | None,
    heads_key: str = "num_attention_heads",
    kv_key: str = "num_key_value_heads",
) -> Architecture:
    """Fill the common fields of a hand-counted attention decoder (K/V heads checked against heads)."""
    arch.parameter_count = total
    arch.active_parameter_count = total
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = context
    arch.vocab_size = vocab
    arch.attention_type = checked_attention_type(
        reader, heads, kv_heads, heads_key=heads_key, kv_key=kv_key
    )
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, gated)
    return arch


def finish_classic_mha(
    reader: ConfigReader,
    *,
    hidden: int,
    layers: int,
    heads: int,
    head_dim: int,
    intermediate: int,
    vocab: int,
    total: int,
    context: int | None,
) -> Architecture:
    """The ending shared by the GPT-2-era families: multi-head attention (K/V heads = heads), an
    ungated MLP, and a KV cache of K and V at full width (2 x hidden values per layer)."""
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
        context=context,
    )
    add_attention_kv(arch, None, None, 2 * hidden)
    return arch


def gpt2(reader: ConfigReader) -> Architecture:
    """GPT-2 (``n_embd``/``n_layer``/``n_head``; Conv1D with biases; learned positions; tied head)."""
    hidden = reader.int("n_embd", "hidden_size")
    layers = reader.int("n_layer", "num_hidden_layers")
    heads = reader.int("n_head", "num_attention_heads")
    vocab = reader.int("vocab_size")
    positions = reader.int("n_positions", "max_position_embeddings")
    reader.check()
    head_dim = _implied_head_dim(
        reader, hidden, heads, ("n_embd", "hidden_size"), ("n_head", "num_attention_heads")
    )
    intermediate = reader.int("n_inner", default=4 * hidden)
    tied = reader.bool("tie_word_embeddings", default=True)
    per_layer = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    if reader.bool("add_cross_attention", default=False):
        per_layer += counting.linear(hidden, 2 * hidden, True) + counting.linear(
            hidden, hidden, True
        )
        per_layer += counting.linear(hidden, hidden, True) + counting.layer_norm(hidden)
    total = vocab * hidden + positions * hidden + layers * per_layer + counting.layer_norm(hidden)
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
        context=positions,
    )


def gptj(reader: ConfigReader) -> Architecture:
    """GPT-J (parallel block, bias-free attention, MLP and lm_head with bias)."""
    hidden = reader.int("n_embd", "hidden_size")
    layers = reader.int("n_layer", "num_hidden_layers")
    heads = reader.int("n_head", "num_attention_heads")
    vocab = reader.int("vocab_size")
    reader.check()
    head_dim = _implied_head_dim(
        reader, hidden, heads, ("n_embd", "hidden_size"), ("n_head", "num_attention_heads")
    )
    intermediate = reader.int("n_inner", default=4 * hidden)
    tied = reader.bool("tie_word_embeddings", default=False)
    per_layer = (
        counting.layer_norm(hidden)
        + 4 * counting.linear(hidden, hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
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
        context=read_context_length(reader),
    )


def gpt_neox(reader: ConfigReader) -> Architecture:
    """GPT-NeoX / Pythia (fused qkv with bias, two LayerNorms per layer, untied ``embed_out``)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    head_dim = _implied_head_dim(
        reader, hidden, heads, ("hidden_size", "n_embed"), ("num_attention_heads", "n_head")
    )
    bias = reader.bool("attention_bias", default=True)
    tied = reader.bool("tie_word_embeddings", default=False)
    per_layer = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden, bias)
        + counting.linear(hidden, hidden, bias)
        + counting.mlp(hidden, intermediate, False, True)
    )
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden)
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
        context=read_context_length(reader),
    )


def opt(reader: ConfigReader) -> Architecture:
    """OPT (learned positions with offset 2, optional word-embedding projection, tied head)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    ffn = reader.int("ffn_dim")
    positions = reader.int("max_position_embeddings")
    reader.check()
    head_dim = _implied_head_dim(
        reader, hidden, heads, ("hidden_size", "n_embed"), ("num_attention_heads", "n_head")
    )
    embed_dim = reader.int("word_embed_proj_dim", default=hidden)
    bias = reader.bool("enable_bias", default=True)
    tied = reader.bool("tie_word_embeddings", default=True)
    layer_norm_before = reader.bool("do_layer_norm_before", default=True)
    remove_final = reader.bool("_remove_final_layer_norm", default=False)
    affine = reader.bool("layer_norm_elementwise_affine", default=True)
    norm = counting.layer_norm(hidden) if affine else 0
    per_layer = (
        4 * counting.linear(hidden, hidden, bias)
        + 2 * norm
        + counting.mlp(hidden, ffn, False, bias)
    )
    total = vocab * embed_dim + (positions + 2) * hidden + layers * per_layer
    if embed_dim != hidden:
        total += counting.linear(hidden, embed_dim) + counting.linear(embed_dim, hidden)
    if layer_norm_before and not remove_final:
        total += norm
    if not tied:
        total += vocab * embed_dim
    return finish_classic_mha(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        head_dim=head_dim,
        intermediate=ffn,
        vocab=vocab,
        total=total,
        context=positions,
    )


def bloom(reader: ConfigReader) -> Architecture:
    """BLOOM (``n_embed``/``n_layer``; ALiBi; embedding LayerNorm; tied head)."""
    hidden = reader.int("hidden_size", "n_embed")
    layers = reader.int("n_layer", "num_hidden_layers")
    heads = reader.int("num_attention_heads", "n_head")
    vocab = reader.int("vocab_size")
    reader.check()
    head_dim = _implied_head_dim(
        reader, hidden, heads, ("hidden_size", "n_embed"), ("num_attention_heads", "n_head")
    )
    tied = reader.bool("tie_word_embeddings", default=True)
    intermediate = 4 * hidden
    per_layer = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    total = vocab * hidden + 2 * counting.layer_norm(hidden) + layers * per_layer
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
        context=read_context_length(reader),
    )


def falcon(reader: ConfigReader) -> Architecture:
    """Falcon, including the legacy ``RefinedWeb``/``RefinedWebModel`` keys.

    Legacy keys: ``n_head``, ``n_layer``, ``n_head_kv``, ``multi_query``; ``RefinedWeb`` (40B)
    configs imply the new decoder architecture (grouped K/V, two LayerNorms in parallel).
    """
    family = reader.family
    hidden = reader.int("hidden_size", "n_embed")
    layers = reader.int("num_hidden_layers", "n_layer")
    heads = reader.int("num_attention_heads", "n_head")
    vocab = reader.int("vocab_size")
    reader.check()
    new_arch = reader.bool("new_decoder_architecture", default=family == "RefinedWeb")
    multi_query = reader.bool("multi_query", default=family != "RefinedWeb")
    parallel = reader.bool("parallel_attn", default=True)
    bias = reader.bool("bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=True)
    hidden_key = reader.name_of("hidden_size", "n_embed")
    heads_key = reader.name_of("num_attention_heads", "n_head")
    head_dim = reader.int("head_dim", default=0)
    if head_dim == 0:
        head_dim = derived_head_dim(
            reader, hidden, heads, hidden_key=hidden_key, heads_key=heads_key
        )
    kv_key = reader.name_of("num_kv_heads", "n_head_kv")
    if new_arch:
        kv_heads = reader.int("num_kv_heads", "n_head_kv", default=heads)
        norms = reader.int("num_ln_in_parallel_attn", default=2)
    else:
        kv_heads = 1 if multi_query else heads
        norms = 1 if parallel else 2
        kv_key = "multi_query"
    intermediate = reader.int("ffn_hidden_size", default=4 * hidden)
    qkv_width = (heads + 2 * kv_heads) * head_dim
    per_layer = (
        norms * counting.layer_norm(hidden)
        + counting.linear(hidden, qkv_width, bias)
        + counting.linear(heads * head_dim, hidden, bias)
        + counting.mlp(hidden, intermediate, False, bias)
    )
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden)
    if not tied:
        total += vocab * hidden
    arch = finish_plain(
        Architecture(family),
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
        context=read_context_length(reader),
        heads_key=heads_key,
        kv_key=kv_key,
    )
    if family != "falcon":
        arch.warnings.append(
            f"legacy Falcon config (model_type {family!r}) read with its legacy keys"
        )
    add_attention_kv(arch, None, None, 2 * kv_heads * head_dim)
    return arch


def mpt(reader: ConfigReader) -> Architecture:
    """MPT (``d_model``/``n_heads``/``n_layers``/``expansion_ratio``; bias-free LayerNorms; ALiBi)."""
    hidden = reader.int("d_model", "hidden_size")
    layers = reader.int("n_layers", "num_hidden_layers")
    heads = reader.int("n_heads", "num_attention_heads")
    vocab = reader.int("vocab_size")
    reader.check()
    ratio = reader.number("expansion_ratio", default=4.0)
    intermediate = int(ratio * hidden)
    no_bias = reader.bool("no_bias", default=True)
    attn_config = reader.sub("attn_config") or {}
    alibi = attn_config.get("alibi", False) is True
    attn = ConfigReader(attn_config, reader.family, "attn_config.")
    # llm-foundry semantics: kv_n_heads counts only for grouped-query attention (its defaults
    # carry kv_n_heads 1 even for multi-head attention).
    attn_type = attn.str("attn_type", default="multihead_attention")
    if attn_type == "multihead_attention":
        kv_heads = heads
    elif attn_type == "multiquery_attention":
        kv_heads = 1
    elif attn_type == "grouped_query_attention":
        kv_heads = attn.int("kv_n_heads")
        attn.check()
    else:
        raise reader.error(
            "attn_config.attn_type must be multihead_attention, multiquery_attention or "
            f"grouped_query_attention, got {attn_type!r}"
        )
    heads_key = reader.name_of("n_heads", "num_attention_heads")
    head_dim = _implied_head_dim(reader, hidden, heads, ("d_model", "hidden_size"), (heads_key,))
    bias = not no_bias
    per_layer = (
        2 * counting.layer_norm(hidden, bias)
        + counting.linear(hidden, (heads + 2 * kv_heads) * head_dim, bias)
        + counting.linear(hidden, hidden, bias)
        + counting.mlp(hidden, intermediate, False, bias)
    )
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden, bias)
    context = reader.optional_int("max_seq_len", minimum=1)
    if reader.bool("learned_pos_emb", default=True) and not alibi and context:
        total += context * hidden
    if not reader.bool("tie_word_embeddings", default=True):
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
        context=context,
        heads_key=heads_key,
        kv_key="attn_config.kv_n_heads",
    )
    arch.genz_kwargs["hidden_act"] = "gelu"
    add_attention_kv(arch, None, None, 2 * kv_heads * head_dim)
    return arch
