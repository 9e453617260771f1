"""Encoder-decoder (seq2seq) families of the BART lineage, and Whisper.

Counted as the model a user loads for generation (``BartForConditionalGeneration``,
``MarianMTModel``, ``WhisperForConditionalGeneration`` ...), parameter by parameter as transformers
5 builds it. Differences between the BART-lineage families are data (:data:`SEQ2SEQ_LAYOUTS`):
how positions are embedded, whether an embedding LayerNorm and a final LayerNorm exist.

Position tables: learned tables (BART, mBART, PLBart: ``max_position_embeddings + 2`` rows;
Blenderbot: exactly ``max_position_embeddings``) are weights. Pegasus and Marian keep their
sinusoidal tables in a frozen ``nn.Embedding``, which transformers counts as parameters and the
checkpoints store, so they are counted too (and reported under ``architecture``); M2M-100 / NLLB
compute theirs into a buffer, which is not a parameter.

Tying: with ``tie_word_embeddings`` (the default) the encoder and decoder token embeddings and the
LM head are one matrix. transformers 5 applies the same flag to all three ties, so an untied config
holds four vocabulary matrices (shared, encoder, decoder, head).

KV cache: decoder self-attention grows per generated token; cross-attention K/V is computed once
per source token (``memory.cross_attention_values_per_source_token``), as the T5 handler records.
"""

from __future__ import annotations

from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture, attention_type_for
from genz_catalog.convert._decoder import derived_head_dim
from genz_catalog.convert._reader import ConfigReader

# family -> (position embedding kind, embedding LayerNorm, final LayerNorm after each stack)
#   "learned_offset": learned table of max_position_embeddings + 2 rows (BART's offset of 2)
#   "learned": learned table of max_position_embeddings rows
#   "sinusoidal_weight": frozen sinusoidal nn.Embedding (a parameter in transformers)
#   "sinusoidal_buffer": sinusoidal table in a buffer (not a parameter)
SEQ2SEQ_LAYOUTS: dict[str, tuple[str, bool, bool]] = {
    "bart": ("learned_offset", True, False),
    "mbart": ("learned_offset", True, True),
    "plbart": ("learned_offset", True, False),
    "pegasus": ("sinusoidal_weight", False, True),
    "marian": ("sinusoidal_weight", False, False),
    "m2m_100": ("sinusoidal_buffer", False, True),
    "blenderbot": ("learned", False, True),
    "blenderbot-small": ("learned", True, False),
}

# Every encoder-decoder family handled here (the oracle counts these as *ForConditionalGeneration).
SEQ2SEQ_FAMILIES = (
    *SEQ2SEQ_LAYOUTS,
    "led",
    "bigbird_pegasus",
    "mvp",
    "fsmt",
    "pegasus_x",
    "prophetnet",
    "longt5",
    "t5gemma",
)

_UNSUPPORTED = (
    "GenZ 0.0.16 simulates decoder stacks only; an encoder-decoder model's encoder and "
    "cross-attention are not modelled"
)


def _biased_attention(width: int) -> int:
    """q, k, v and out projections of ``width`` x ``width`` with biases (BART-style attention)."""
    return 4 * counting.linear(width, width, True)


def _stack_dims(reader: ConfigReader, side: str) -> tuple[int, int, int]:
    """(layers, heads, ffn width) of the ``encoder`` or ``decoder`` side."""
    if side == "encoder":
        # attribute_map aliases: num_hidden_layers / num_attention_heads name the encoder's.
        layers = reader.int("encoder_layers", "num_hidden_layers", minimum=0)
        # Whisper's attribute_map also aliases num_key_value_heads to the encoder's heads.
        aliases = ("num_key_value_heads",) if reader.family == "whisper" else ()
        heads = reader.int("encoder_attention_heads", "num_attention_heads", *aliases)
    else:
        layers = reader.int(f"{side}_layers", minimum=0)
        heads = reader.int(f"{side}_attention_heads")
    ffn = reader.int(f"{side}_ffn_dim")
    return layers, heads, ffn


def _seq2seq_record(
    reader: ConfigReader,
    arch: Architecture,
    *,
    hidden: int,
    encoder: tuple[int, int, int],
    decoder: tuple[int, int, int],
    vocab: int,
    context: int | None,
    activation: str,
) -> None:
    """Shared record fields, KV layout and GenZ keyword arguments of an encoder-decoder."""
    encoder_layers, encoder_heads, encoder_ffn = encoder
    decoder_layers, decoder_heads, decoder_ffn = decoder
    head_dim = derived_head_dim(
        reader,
        hidden,
        decoder_heads,
        hidden_key="d_model",
        heads_key="decoder_attention_heads",
        head_dim_key=None,
    )
    arch.model_type = "encoder-decoder"
    arch.attention_type = "mha"
    arch.num_layers = encoder_layers + decoder_layers
    arch.hidden_size = hidden
    arch.intermediate_size = decoder_ffn
    arch.num_attention_heads = decoder_heads
    arch.num_key_value_heads = decoder_heads
    arch.head_dim = head_dim
    arch.context_length = context
    arch.vocab_size = vocab
    arch.extra.update(
        {
            "encoder_layers": encoder_layers,
            "decoder_layers": decoder_layers,
            "encoder_attention_heads": encoder_heads,
            "encoder_ffn_dim": encoder_ffn,
        }
    )
    # Decoder self-attention caches per generated token; cross-attention per source token.
    arch.add_kv_layers(decoder_layers, 2 * hidden)
    arch.cross_attention_values_per_source_token = decoder_layers * 2 * hidden
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": decoder_ffn,
        "num_ffi": 1,
        "num_encoder_layers": encoder_layers,
        "num_decoder_layers": decoder_layers,
        "num_attention_heads": decoder_heads,
        "num_key_value_heads": decoder_heads,
        "head_dim": head_dim,
        "hidden_act": activation,
    }
    if context:
        arch.genz_kwargs["max_model_len"] = context
    arch.genz_unsupported = _UNSUPPORTED


def bart_like(reader: ConfigReader) -> Architecture:
    """BART, mBART, PLBart, Pegasus, Marian, M2M-100 / NLLB (dense), Blenderbot (small).

    Keys: ``d_model``, ``encoder_layers`` / ``decoder_layers``, ``*_attention_heads``,
    ``*_ffn_dim``, ``vocab_size``, ``max_position_embeddings``. Every projection carries a bias,
    every norm is a LayerNorm with bias; FFNs are fc1/fc2 (not gated).
    """
    family = reader.family
    positions_kind, embedding_norm, final_norm = SEQ2SEQ_LAYOUTS[family]
    hidden = reader.int("d_model", "hidden_size")
    encoder = _stack_dims(reader, "encoder")
    decoder = _stack_dims(reader, "decoder")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    tied = reader.bool("tie_word_embeddings", default=True)
    norm = counting.layer_norm(hidden)

    def stack(layers: int, ffn: int, attentions: int) -> int:
        per_layer = (
            attentions * _biased_attention(hidden)
            + (attentions + 1) * norm
            + counting.mlp(hidden, ffn, False, True)
        )
        return layers * per_layer + (norm if embedding_norm else 0) + (norm if final_norm else 0)

    table_rows = {"learned_offset": positions + 2, "learned": positions}.get(positions_kind, 0)
    sinusoidal_rows = positions if positions_kind == "sinusoidal_weight" else 0
    position_params = 2 * (table_rows + sinusoidal_rows) * hidden
    total = stack(encoder[0], encoder[2], 1) + stack(decoder[0], decoder[2], 2) + position_params
    total += _token_embeddings(reader, hidden, vocab, tied)
    arch = Architecture(family)
    arch.parameter_count = total
    _seq2seq_record(
        reader,
        arch,
        hidden=hidden,
        encoder=encoder,
        decoder=decoder,
        vocab=vocab,
        context=positions,
        activation=reader.str("activation_function", default="gelu") or "gelu",
    )
    if sinusoidal_rows:
        arch.extra["sinusoidal_position_parameters"] = 2 * sinusoidal_rows * hidden
        arch.warnings.append(
            f"the frozen sinusoidal position tables ({2 * sinusoidal_rows * hidden:,} values) are "
            "counted as parameters, as transformers and the checkpoints do"
        )
    return arch


def _stack(
    hidden: int,
    layers: int,
    ffn: int,
    attentions: int,
    *,
    attention_bias: bool = True,
    extra_per_layer: int = 0,
) -> int:
    """``layers`` BART-style layers: ``attentions`` attention blocks (4 projections and a
    LayerNorm each), the fc1/fc2 FFN with biases and its LayerNorm."""
    norm = counting.layer_norm(hidden)
    per_layer = (
        attentions * 4 * counting.linear(hidden, hidden, attention_bias)
        + (attentions + 1) * norm
        + counting.mlp(hidden, ffn, False, True)
        + extra_per_layer
    )
    return layers * per_layer


def _finish_seq2seq(
    reader: ConfigReader,
    total: int,
    *,
    hidden: int,
    encoder: tuple[int, int, int],
    decoder: tuple[int, int, int],
    vocab: int,
    context: int | None,
) -> Architecture:
    arch = Architecture(reader.family)
    arch.parameter_count = total
    _seq2seq_record(
        reader,
        arch,
        hidden=hidden,
        encoder=encoder,
        decoder=decoder,
        vocab=vocab,
        context=context,
        activation=reader.str("activation_function", default="gelu") or "gelu",
    )
    return arch


def led(reader: ConfigReader) -> Architecture:
    """Longformer-Encoder-Decoder: BART layout whose encoder attention adds global q/k/v.

    Learned positions: ``max_encoder_position_embeddings`` rows for the encoder,
    ``max_decoder_position_embeddings`` for the decoder (no offset); embedding LayerNorms, no
    final LayerNorm. The encoder's sliding-window attention keeps no cache, so the memory layout
    is the usual decoder self-attention plus cross-attention over the (long) source.
    """
    hidden = reader.int("d_model", "hidden_size")
    encoder = _stack_dims(reader, "encoder")
    decoder = _stack_dims(reader, "decoder")
    vocab = reader.int("vocab_size")
    source_positions = reader.int("max_encoder_position_embeddings")
    target_positions = reader.int("max_decoder_position_embeddings")
    reader.check()
    tied = reader.bool("tie_word_embeddings", default=True)
    norm = counting.layer_norm(hidden)
    global_projections = 3 * counting.linear(hidden, hidden, True)
    total = (
        _stack(hidden, encoder[0], encoder[2], 1, extra_per_layer=global_projections)
        + _stack(hidden, decoder[0], decoder[2], 2)
        + 2 * norm
        + (source_positions + target_positions) * hidden
        + vocab * hidden * (1 if tied else 4)
    )
    arch = _finish_seq2seq(
        reader,
        total,
        hidden=hidden,
        encoder=encoder,
        decoder=decoder,
        vocab=vocab,
        context=target_positions,
    )
    arch.extra["max_source_positions"] = source_positions
    return arch


def bigbird_pegasus(reader: ConfigReader) -> Architecture:
    """BigBird-Pegasus: Pegasus-style stacks with block-sparse encoder attention.

    Every attention projection carries a bias only with ``use_bias``; learned positions of
    ``max_position_embeddings`` rows; embedding LayerNorms, no final LayerNorm.
    """
    hidden = reader.int("d_model", "hidden_size")
    encoder = _stack_dims(reader, "encoder")
    decoder = _stack_dims(reader, "decoder")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    bias = reader.bool("use_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=True)
    total = (
        _stack(hidden, encoder[0], encoder[2], 1, attention_bias=bias)
        + _stack(hidden, decoder[0], decoder[2], 2, attention_bias=bias)
        + 2 * counting.layer_norm(hidden)
        + 2 * positions * hidden
        + vocab * hidden * (1 if tied else 4)
    )
    return _finish_seq2seq(
        reader,
        total,
        hidden=hidden,
        encoder=encoder,
        decoder=decoder,
        vocab=vocab,
        context=positions,
    )


def fsmt(reader: ConfigReader) -> Architecture:
    """FairSeq machine translation (WMT19): separate source and target vocabularies.

    Sinusoidal position tables of ``max_position_embeddings + pad_token_id + 1`` rows are frozen
    ``nn.Embedding`` weights (counted, as transformers does); no embedding or final LayerNorm;
    the output projection is its own matrix unless ``tie_word_embeddings`` ties all three tables.
    """
    hidden = reader.int("d_model", "hidden_size")
    encoder = _stack_dims(reader, "encoder")
    decoder = _stack_dims(reader, "decoder")
    source_vocab = reader.int("src_vocab_size")
    target_vocab = reader.int("tgt_vocab_size", "vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    pad = reader.int("pad_token_id", default=1, minimum=0)
    if reader.bool("tie_word_embeddings", default=False):
        if source_vocab != target_vocab:
            raise reader.error(
                f"tie_word_embeddings with src_vocab_size {source_vocab} != tgt_vocab_size "
                f"{target_vocab}: the tables cannot be one matrix"
            )
        embeddings = target_vocab * hidden
    else:
        embeddings = (source_vocab + 2 * target_vocab) * hidden
    table_rows = positions + pad + 1
    total = (
        _stack(hidden, encoder[0], encoder[2], 1)
        + _stack(hidden, decoder[0], decoder[2], 2)
        + 2 * table_rows * hidden
        + embeddings
    )
    arch = _finish_seq2seq(
        reader,
        total,
        hidden=hidden,
        encoder=encoder,
        decoder=decoder,
        vocab=target_vocab,
        context=positions,
    )
    arch.extra.update(
        {
            "source_vocab_size": source_vocab,
            "sinusoidal_position_parameters": 2 * table_rows * hidden,
        }
    )
    return arch


def pegasus_x(reader: ConfigReader) -> Architecture:
    """Pegasus-X: bias-free attention, staggered block-local encoder with global tokens.

    The encoder adds ``num_global_tokens`` learned global embeddings and a LayerNorm for the
    global stream in every layer; positions are sinusoidal buffers (no parameters); both stacks
    end in a LayerNorm.
    """
    hidden = reader.int("d_model", "hidden_size")
    encoder = _stack_dims(reader, "encoder")
    decoder = _stack_dims(reader, "decoder")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    global_tokens = reader.int("num_global_tokens", default=32, minimum=0)
    tied = reader.bool("tie_word_embeddings", default=True)
    norm = counting.layer_norm(hidden)
    total = (
        _stack(hidden, encoder[0], encoder[2], 1, attention_bias=False, extra_per_layer=norm)
        + _stack(hidden, decoder[0], decoder[2], 2, attention_bias=False)
        + 2 * norm
        + global_tokens * hidden
        + vocab * hidden * (1 if tied else 4)
    )
    return _finish_seq2seq(
        reader,
        total,
        hidden=hidden,
        encoder=encoder,
        decoder=decoder,
        vocab=vocab,
        context=positions,
    )


def prophetnet(reader: ConfigReader) -> Architecture:
    """ProphetNet: BERT-style keys, n-gram decoder self-attention with relative position buckets.

    Keys: ``hidden_size``, ``num_encoder_layers`` / ``num_decoder_layers``,
    ``num_encoder_attention_heads`` / ``num_decoder_attention_heads``, ``encoder_ffn_dim`` /
    ``decoder_ffn_dim``, ``ngram``, ``num_buckets``. Each decoder self-attention adds a biased
    projection to ``num_buckets`` x heads relative-position logits; the decoder has ``ngram``
    n-gram embeddings; learned positions of ``max_position_embeddings`` rows on both sides.
    """
    hidden = reader.int("hidden_size")
    encoder_layers = reader.int("num_encoder_layers", minimum=0)
    decoder_layers = reader.int("num_decoder_layers", minimum=0)
    encoder_heads = reader.int("num_encoder_attention_heads", "num_attention_heads")
    decoder_heads = reader.int("num_decoder_attention_heads")
    encoder_ffn = reader.int("encoder_ffn_dim")
    decoder_ffn = reader.int("decoder_ffn_dim")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    ngram = reader.int("ngram", default=2)
    buckets = reader.int("num_buckets", default=32)
    tied = reader.bool("tie_word_embeddings", default=True)
    norm = counting.layer_norm(hidden)
    relative = counting.linear(hidden, buckets * decoder_heads, True)
    total = (
        _stack(hidden, encoder_layers, encoder_ffn, 1)
        + _stack(hidden, decoder_layers, decoder_ffn, 2, extra_per_layer=relative)
        + 2 * (positions * hidden + norm)  # learned positions and embedding LayerNorm per side
        + ngram * hidden
        # One shared table, or four (shared, encoder, decoder, LM head) when untied.
        + vocab * hidden * (1 if tied else 4)
    )
    encoder = (encoder_layers, encoder_heads, encoder_ffn)
    decoder = (decoder_layers, decoder_heads, decoder_ffn)
    arch = _finish_seq2seq(
        reader,
        total,
        hidden=hidden,
        encoder=encoder,
        decoder=decoder,
        vocab=vocab,
        context=positions,
    )
    arch.extra["ngram"] = ngram
    return arch


def longt5(reader: ConfigReader) -> Architecture:
    """LongT5: the T5 layout with local or transient-global encoder attention.

    T5 keys (``d_model``, ``num_layers``, ``num_decoder_layers``, ``num_heads``, ``d_kv``,
    ``d_ff``, ``feed_forward_proj``). ``encoder_attention_type: transient-global`` adds a global
    relative-position bias (first layer) and a global-input RMSNorm per encoder layer. A stored
    ``is_gated_act`` (transformers 4 saved it) wins over ``feed_forward_proj``, as in transformers.
    transformers 5 always ties the LM head to the shared embedding (``tie_word_embeddings: false``
    only switches off decoder output scaling), so it is counted once.
    """
    hidden = reader.int("d_model", "hidden_size")
    encoder_layers = reader.int("num_layers", "num_hidden_layers")
    heads = reader.int("num_heads", "num_attention_heads")
    head_dim = reader.int("d_kv", "head_dim")
    intermediate = reader.int("d_ff")
    vocab = reader.int("vocab_size")
    reader.check()
    decoder_layers = reader.int("num_decoder_layers", default=encoder_layers)
    buckets = reader.int("relative_attention_num_buckets", default=32)
    projection = reader.str("feed_forward_proj", default="relu") or "relu"
    gated = reader.bool("is_gated_act", default=projection.startswith("gated-"))
    transient_global = reader.str("encoder_attention_type", default="local") == "transient-global"
    inner = heads * head_dim
    attention = 3 * hidden * inner + inner * hidden
    ffn = (3 if gated else 2) * hidden * intermediate
    encoder = encoder_layers * (attention + ffn + 2 * hidden) + buckets * heads + hidden
    if transient_global:
        encoder += buckets * heads + encoder_layers * hidden
    decoder = decoder_layers * (2 * attention + ffn + 3 * hidden) + buckets * heads + hidden
    total = vocab * hidden + encoder + decoder
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.model_type = "encoder-decoder"
    arch.attention_type = "mha"
    arch.num_layers = encoder_layers + decoder_layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.vocab_size = vocab
    arch.context_length = reader.optional_int("n_positions", "max_position_embeddings", minimum=1)
    arch.extra.update(
        {
            "encoder_layers": encoder_layers,
            "decoder_layers": decoder_layers,
            "encoder_attention_type": "transient-global" if transient_global else "local",
        }
    )
    arch.add_kv_layers(decoder_layers, 2 * inner)
    arch.cross_attention_values_per_source_token = decoder_layers * 2 * inner
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
        "hidden_act": projection.split("-")[-1],
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    arch.genz_unsupported = _UNSUPPORTED
    return arch


def _t5gemma_stack(side: ConfigReader, cross_width: int | None) -> dict[str, Any]:
    """One Gemma-2-style stack of T5Gemma (``cross_width``: encoder width for decoder cross-attention)."""
    hidden = side.int("hidden_size")
    layers = side.int("num_hidden_layers")
    heads = side.int("num_attention_heads")
    vocab = side.int("vocab_size")
    intermediate = side.int("intermediate_size")
    side.check()
    kv_heads = side.int("num_key_value_heads", default=heads)
    head_dim = side.int("head_dim", default=0) or derived_head_dim(side, hidden, heads)
    bias = side.bool("attention_bias", default=False)
    query = heads * head_dim
    key_value = kv_heads * head_dim
    self_attention = (
        counting.linear(hidden, query, bias)
        + 2 * counting.linear(hidden, key_value, bias)
        + counting.linear(query, hidden, bias)
    )
    per_layer = self_attention + counting.mlp(hidden, intermediate, True) + 4 * hidden
    if cross_width is not None:
        per_layer += (
            counting.linear(hidden, query, bias)
            + 2 * counting.linear(cross_width, key_value, bias)
            + counting.linear(query, hidden, bias)
            + 2 * hidden
        )
    layer_types = side.str_list("layer_types") or [
        "sliding_attention" if (index + 1) % 2 else "full_attention" for index in range(layers)
    ]
    if len(layer_types) != layers:
        raise side.error(f"layer_types has {len(layer_types)} entries for {layers} layers")
    return {
        "params": vocab * hidden + layers * per_layer + hidden,
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "kv_heads": kv_heads,
        "head_dim": head_dim,
        "vocab": vocab,
        "intermediate": intermediate,
        "layer_types": layer_types,
        "window": side.optional_int("sliding_window", minimum=1),
        "context": side.optional_int("max_position_embeddings", minimum=1),
    }


def t5gemma(reader: ConfigReader) -> Architecture:
    """T5Gemma: a Gemma-2-style encoder and decoder (``encoder`` / ``decoder`` sub-configs).

    Each stack has its own token embedding; decoder layers add cross-attention whose K/V read the
    encoder width; the LM head ties to the decoder embedding with ``tie_word_embeddings``.
    Decoder self-attention caches per generated token (sliding layers at most their window);
    cross-attention K/V per source token.
    """
    encoder_config = reader.sub("encoder")
    decoder_config = reader.sub("decoder")
    if encoder_config is None or decoder_config is None:
        for name, value in (("encoder", encoder_config), ("decoder", decoder_config)):
            if value is None:
                reader.require(name)
        reader.check()
    encoder = _t5gemma_stack(ConfigReader(encoder_config or {}, reader.family, "encoder."), None)
    decoder = _t5gemma_stack(
        ConfigReader(decoder_config or {}, reader.family, "decoder."), encoder["hidden"]
    )
    tied = reader.bool("tie_word_embeddings", default=True)
    total = encoder["params"] + decoder["params"]
    if not tied:
        total += decoder["vocab"] * decoder["hidden"]
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.model_type = "encoder-decoder"
    heads, kv_heads, head_dim = decoder["heads"], decoder["kv_heads"], decoder["head_dim"]
    arch.attention_type = attention_type_for(heads, kv_heads)
    arch.num_layers = encoder["layers"] + decoder["layers"]
    arch.hidden_size = decoder["hidden"]
    arch.intermediate_size = decoder["intermediate"]
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.vocab_size = decoder["vocab"]
    arch.context_length = decoder["context"]
    arch.extra.update(
        {
            "encoder_layers": encoder["layers"],
            "decoder_layers": decoder["layers"],
            "encoder_hidden_size": encoder["hidden"],
        }
    )
    values = 2 * kv_heads * head_dim
    types = decoder["layer_types"]
    sliding = sum(1 for kind in types if kind == "sliding_attention")
    arch.add_kv_layers(len(types) - sliding, values)
    arch.add_kv_layers(sliding, values, decoder["window"])
    arch.cross_attention_values_per_source_token = decoder["layers"] * values
    arch.genz_kwargs = {
        "vocab_size": decoder["vocab"],
        "hidden_size": decoder["hidden"],
        "intermediate_size": decoder["intermediate"],
        "num_ffi": 2,
        "num_encoder_layers": encoder["layers"],
        "num_decoder_layers": decoder["layers"],
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_act": "gelu_pytorch_tanh",
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    arch.genz_unsupported = _UNSUPPORTED
    return arch


def _token_embeddings(reader: ConfigReader, hidden: int, vocab: int, tied: bool) -> int:
    """Token embeddings and LM head of a BART-lineage model (Marian may split the vocabularies)."""
    if reader.family == "marian" and not reader.bool(
        "share_encoder_decoder_embeddings", default=True
    ):
        decoder_vocab = reader.int("decoder_vocab_size", default=vocab)
        # Separate encoder and decoder tables; the head ties to the decoder's.
        return vocab * hidden + decoder_vocab * hidden * (1 if tied else 2)
    return vocab * hidden * (1 if tied else 4)


def whisper(reader: ConfigReader) -> Architecture:
    """OpenAI Whisper: log-mel conv front end + encoder, text decoder with cross-attention.

    The encoder's ``embed_positions`` (``max_source_positions`` rows) is an ``nn.Embedding``
    weight in transformers (sinusoidal values, stored in checkpoints); the decoder's is learned
    (``max_target_positions`` rows). Attention ``k_proj`` has no bias; ``proj_out`` is tied to the
    decoder token embedding unless ``tie_word_embeddings`` is false.
    """
    hidden = reader.int("d_model", "hidden_size")
    encoder = _stack_dims(reader, "encoder")
    decoder = _stack_dims(reader, "decoder")
    vocab = reader.int("vocab_size")
    mel_bins = reader.int("num_mel_bins")
    source_positions = reader.int("max_source_positions")
    target_positions = reader.int("max_target_positions")
    reader.check()
    tied = reader.bool("tie_word_embeddings", default=True)
    norm = counting.layer_norm(hidden)
    attention = 4 * hidden * hidden + 3 * hidden  # q, v, out biased; k unbiased

    def stack(layers: int, ffn: int, attentions: int) -> int:
        per_layer = (
            attentions * attention
            + (attentions + 1) * norm
            + counting.mlp(hidden, ffn, False, True)
        )
        return layers * per_layer + norm

    front_end = (mel_bins * hidden * 3 + hidden) + (hidden * hidden * 3 + hidden)
    total = (
        front_end
        + source_positions * hidden
        + stack(encoder[0], encoder[2], 1)
        + vocab * hidden * (1 if tied else 2)
        + target_positions * hidden
        + stack(decoder[0], decoder[2], 2)
    )
    arch = Architecture(reader.family)
    arch.parameter_count = total
    _seq2seq_record(
        reader,
        arch,
        hidden=hidden,
        encoder=encoder,
        decoder=decoder,
        vocab=vocab,
        context=target_positions,
        activation=reader.str("activation_function", default="gelu") or "gelu",
    )
    arch.extra.update({"audio_frames": source_positions, "num_mel_bins": mel_bins})
    arch.warnings.append(
        f"context_length is the decoder's {target_positions} text positions; the encoder takes "
        f"{source_positions} audio frames (30 s of log-mel input)"
    )
    return arch


__all__: list[Any] = [
    "SEQ2SEQ_FAMILIES",
    "SEQ2SEQ_LAYOUTS",
    "bart_like",
    "bigbird_pegasus",
    "fsmt",
    "led",
    "longt5",
    "pegasus_x",
    "prophetnet",
    "t5gemma",
    "whisper",
]
