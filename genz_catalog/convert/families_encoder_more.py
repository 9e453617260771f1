"""BERT relatives that transformers also builds as causal LMs (``AutoModelForCausalLM``).

Counted as the ``*ForCausalLM`` class allocates them: embeddings, the post-norm (or pre-norm)
encoder stack, and the LM head (transform, tied decoder, output bias); no pooler unless the
class builds one. Like :func:`genz_catalog.convert.families_encoder.bert` they are recorded
as encoder-only: almost every checkpoint of these families is used as a bidirectional encoder.
"""

from __future__ import annotations

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import derived_head_dim, read_layer_types
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_encoder import bert


def _bert_layer(hidden: int, intermediate: int, qkv_bias: bool = True) -> int:
    """One BERT layer: q/k/v (bias optional), output dense, two LayerNorms, plain MLP with biases."""
    return (
        3 * counting.linear(hidden, hidden, qkv_bias)
        + counting.linear(hidden, hidden, True)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )


def _encoder_arch(
    reader: ConfigReader,
    *,
    total: int,
    hidden: int,
    layers: int,
    heads: int,
    intermediate: int,
    vocab: int,
    positions: int | None,
    head_dim: int | None = None,
) -> Architecture:
    """Fill an encoder-only Architecture (no KV cache) with GenZ arguments for the encoder stack."""
    if head_dim is None:
        head_dim = derived_head_dim(reader, hidden, heads, head_dim_key=None)
    arch = Architecture(reader.family)
    arch.model_type = "encoder-only"
    arch.attention_type = "mha"
    arch.parameter_count = total
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = positions
    arch.vocab_size = vocab
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_ffi": 1,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "head_dim": head_dim,
        "hidden_act": reader.str("hidden_act", default="gelu"),
    }
    if positions:
        arch.genz_kwargs["max_model_len"] = positions
    arch.warnings.append("GenZ simulates the encoder stack as decoder layers (same prefill work)")
    return arch


def _adjusted(arch: Architecture, extra: int) -> Architecture:
    arch.parameter_count += extra
    arch.active_parameter_count = arch.parameter_count
    return arch


def bert_same_layout(reader: ConfigReader) -> Architecture:
    """CamemBERT, XLM-RoBERTa, Data2Vec-Text: the RoBERTa layout, counted by the BERT handler."""
    return bert(reader)


def ernie(reader: ConfigReader) -> Architecture:
    """Baidu ERNIE 1/2/3 (BERT layout plus task-type embeddings when ``use_task_id``)."""
    arch = bert(reader)
    if reader.bool("use_task_id", default=False):
        task_types = reader.int("task_type_vocab_size", default=3)
        arch = _adjusted(arch, task_types * (arch.hidden_size or 0))
    return arch


def megatron_bert(reader: ConfigReader) -> Architecture:
    """Megatron-BERT (pre-norm: the embedding LayerNorm becomes the encoder's final LayerNorm,
    so the count equals BERT's)."""
    return bert(reader)


def xlm_roberta_xl(reader: ConfigReader) -> Architecture:
    """XLM-RoBERTa-XL (pre-norm like Megatron-BERT: same count as BERT)."""
    return bert(reader)


def roberta_prelayernorm(reader: ConfigReader) -> Architecture:
    """RoBERTa-PreLayerNorm (RoBERTa plus a final encoder LayerNorm)."""
    arch = bert(reader)
    return _adjusted(arch, counting.layer_norm(arch.hidden_size or 0))


def xmod(reader: ConfigReader) -> Architecture:
    """X-MOD (RoBERTa with a bottleneck adapter per language in every layer; final LayerNorm when
    ``pre_norm``; an extra adapter LayerNorm per layer when ``adapter_layer_norm``)."""
    arch = bert(reader)
    hidden = arch.hidden_size or 0
    languages = reader.str_list("languages")
    if languages is None:
        raise reader.error("config lacks required key(s): languages (one adapter per language)")
    reduction = reader.int("adapter_reduction_factor", default=2)
    bottleneck = hidden // reduction
    adapter = counting.linear(hidden, bottleneck, True) + counting.linear(bottleneck, hidden, True)
    per_layer = len(languages) * adapter
    if reader.bool("adapter_layer_norm", default=False):
        per_layer += counting.layer_norm(hidden)
    extra = (arch.num_layers or 0) * per_layer
    if reader.bool("pre_norm", default=False):
        extra += counting.layer_norm(hidden)
    arch.extra["languages"] = len(languages)
    return _adjusted(arch, extra)


def big_bird(reader: ConfigReader) -> Architecture:
    """BigBird (BERT layout; q/k/v bias from ``use_bias``; the causal-LM class keeps the pooler)."""
    arch = bert(reader)
    hidden = arch.hidden_size or 0
    extra = counting.linear(hidden, hidden, True)  # pooler
    if not reader.bool("use_bias", default=True):
        extra -= 3 * hidden * (arch.num_layers or 0)
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no block-sparse attention (BigBird's global/window/random blocks)"
        if reader.str("attention_type", default="block_sparse") == "block_sparse"
        else None
    )
    return _adjusted(arch, extra)


def roc_bert(reader: ConfigReader) -> Architecture:
    """RoCBert (BERT plus pronunciation and glyph-shape embeddings mapped into the hidden size)."""
    arch = bert(reader)
    hidden = arch.hidden_size or 0
    # Both tables are allocated whatever the enable_* flags say; the flags choose the inputs.
    pron_dim = reader.int("pronunciation_embed_dim", default=768)
    shape_dim = reader.int("shape_embed_dim", default=512)
    extra = reader.int("pronunciation_vocab_size", default=910) * pron_dim
    extra += reader.int("shape_vocab_size", default=24858) * shape_dim
    input_dim = hidden
    if reader.bool("enable_pronunciation", default=True):
        input_dim += pron_dim
    if reader.bool("enable_shape", default=True):
        input_dim += shape_dim
    if reader.bool("concat_input", default=True):
        extra += counting.linear(input_dim, hidden, True)
    return _adjusted(arch, extra)


def bert_generation(reader: ConfigReader) -> Architecture:
    """BertGeneration decoder (BERT without token types; the LM head is the tied decoder and its
    bias only, no transform)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    tied = reader.bool("tie_word_embeddings", default=True)
    total = (
        (vocab + positions) * hidden
        + counting.layer_norm(hidden)
        + layers * _bert_layer(hidden, intermediate)
        + vocab
    )
    if not tied:
        total += vocab * hidden
    return _encoder_arch(
        reader,
        total=total,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        positions=positions,
    )


def electra(reader: ConfigReader) -> Architecture:
    """ELECTRA generator as a causal LM (embeddings of ``embedding_size`` projected to the hidden
    size when they differ; generator head: dense to ``embedding_size``, LayerNorm, tied decoder)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    embed = reader.int("embedding_size", default=128)
    types = reader.int("type_vocab_size", default=2, minimum=0)
    tied = reader.bool("tie_word_embeddings", default=True)
    total = (vocab + positions + types) * embed + counting.layer_norm(embed)
    if embed != hidden:
        total += counting.linear(embed, hidden, True)
    total += layers * _bert_layer(hidden, intermediate)
    total += counting.linear(hidden, embed, True) + counting.layer_norm(embed) + vocab
    if not tied:
        total += vocab * embed
    return _encoder_arch(
        reader,
        total=total,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        positions=positions,
    )


def rembert(reader: ConfigReader) -> Architecture:
    """RemBERT (decoupled embeddings: ``input_embedding_size`` in, ``output_embedding_size`` out;
    the output decoder is its own matrix)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    positions = reader.int("max_position_embeddings")
    embed_in = reader.int("input_embedding_size")
    embed_out = reader.int("output_embedding_size")
    reader.check()
    types = reader.int("type_vocab_size", default=2, minimum=0)
    # RemBERT's output decoder is never tied to the input table (the classes declare no tied
    # weights), whatever tie_word_embeddings says.
    total = (
        (vocab + positions + types) * embed_in
        + counting.layer_norm(embed_in)
        + counting.linear(embed_in, hidden, True)
        + layers * _bert_layer(hidden, intermediate)
        + counting.linear(hidden, embed_out, True)
        + counting.layer_norm(embed_out)
        + counting.linear(embed_out, vocab, True)
    )
    return _encoder_arch(
        reader,
        total=total,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        positions=positions,
    )


def roformer(reader: ConfigReader) -> Architecture:
    """RoFormer (rotary positions: a sinusoidal table of positions x head_dim held as a parameter;
    embeddings of ``embedding_size`` projected when they differ from the hidden size)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    embed = reader.int("embedding_size", default=hidden)
    types = reader.int("type_vocab_size", default=2, minimum=0)
    tied = reader.bool("tie_word_embeddings", default=True)
    head_dim = derived_head_dim(reader, hidden, heads, head_dim_key=None)
    total = (vocab + types) * embed + counting.layer_norm(embed) + positions * head_dim
    if embed != hidden:
        total += counting.linear(embed, hidden, True)
    total += layers * _bert_layer(hidden, intermediate)
    total += counting.linear(hidden, embed, True) + counting.layer_norm(embed) + vocab
    if not tied:
        total += vocab * embed
    return _encoder_arch(
        reader,
        total=total,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        positions=positions,
    )


def modernbert_decoder(reader: ConfigReader) -> Architecture:
    """ModernBERT-Decoder (a causal decoder: pre-norm, GeGLU ``Wi`` of 2 x intermediate, no
    attention norm in layer 0, alternating global/local attention, head transform and a tied
    decoder with bias)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    norm_bias = reader.bool("norm_bias", default=False)
    attention_bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool("mlp_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=True)
    norm = counting.layer_norm(hidden, norm_bias)
    per_layer = (
        4 * counting.linear(hidden, hidden, attention_bias)
        + norm  # mlp_norm
        + counting.linear(hidden, 2 * intermediate, mlp_bias)
        + counting.linear(intermediate, hidden, mlp_bias)
    )
    total = (
        vocab * hidden
        + norm  # embedding norm
        + layers * per_layer
        + (layers - 1) * norm  # attn_norm everywhere but layer 0
        + norm  # final norm
        + counting.linear(hidden, hidden, reader.bool("classifier_bias", default=False))
        + norm  # head norm
    )
    if reader.bool("decoder_bias", default=True):
        total += vocab
    if not tied:
        total += vocab * hidden
    positions = reader.optional_int("max_position_embeddings", minimum=1)
    arch = _encoder_arch(
        reader,
        total=total,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        positions=positions,
    )
    arch.model_type = "decoder-only"
    arch.warnings.pop()
    arch.genz_kwargs["num_ffi"] = 2
    arch.genz_kwargs["hidden_act"] = reader.str("hidden_activation", default="gelu")
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        period = reader.int("global_attn_every_n_layers", default=3)
        layer_types = [
            "full_attention" if index % period == 0 else "sliding_attention"
            for index in range(layers)
        ]
    window = reader.optional_int("sliding_window", minimum=1)
    if window is None:
        window = reader.int("local_attention", default=128) // 2
    values = 2 * hidden
    full = layer_types.count("full_attention")
    arch.add_kv_layers(full, values)
    arch.add_kv_layers(layers - full, values, window)
    return arch


def xlm(reader: ConfigReader) -> Architecture:
    """Facebook XLM (``emb_dim``/``n_layers``/``n_heads``; learned positions, language embeddings
    when ``n_langs`` > 1 and ``use_lang_emb``, post-norm layers with a 4 x ``emb_dim`` FFN, tied
    prediction layer with bias). ``asm: true`` (adaptive softmax head) is refused."""
    hidden = reader.int("emb_dim", "hidden_size")
    layers = reader.int("n_layers", "num_hidden_layers")
    heads = reader.int("n_heads", "num_attention_heads")
    vocab = reader.int("vocab_size", "n_words")
    positions = reader.int("max_position_embeddings")
    reader.check()
    if reader.bool("asm", default=False):
        raise reader.error("asm=true (adaptive log-softmax head) is not supported")
    languages = reader.int("n_langs", default=1)
    intermediate = 4 * hidden
    total = (vocab + positions) * hidden + counting.layer_norm(hidden)
    if languages > 1 and reader.bool("use_lang_emb", default=True):
        total += languages * hidden
    total += layers * _bert_layer(hidden, intermediate) + vocab
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    return _encoder_arch(
        reader,
        total=total,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        positions=positions,
    )


def xlnet(reader: ConfigReader) -> Architecture:
    """XLNet (two-stream relative attention: q/k/v/o and a positional key projection per layer,
    three relative biases and a segment embedding per layer, ``mask_emb``, tied LM head with
    bias). Recorded as encoder-only like BERT: it is used as a bidirectional encoder."""
    hidden = reader.int("d_model", "hidden_size")
    layers = reader.int("n_layer", "num_hidden_layers")
    heads = reader.int("n_head", "num_attention_heads")
    vocab = reader.int("vocab_size", "n_token")
    intermediate = reader.int("d_inner")
    reader.check()
    head_dim = reader.int("d_head", default=0) or derived_head_dim(
        reader, hidden, heads, hidden_key="d_model", heads_key="n_head", head_dim_key="d_head"
    )
    width = heads * head_dim
    per_layer = (
        5 * hidden * width  # q, k, v, o, r
        + 3 * width  # r_r_bias, r_s_bias, r_w_bias
        + 2 * width  # seg_embed
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    total = vocab * hidden + hidden + layers * per_layer + vocab
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    arch = _encoder_arch(
        reader,
        total=total,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        positions=None,
        head_dim=head_dim,
    )
    arch.genz_kwargs["hidden_act"] = reader.str("ff_activation", default="gelu")
    arch.genz_unsupported = "GenZ 0.0.16 has no two-stream relative attention (XLNet)"
    return arch
