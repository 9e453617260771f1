"""Encoder-only (BERT, RoBERTa) and encoder-decoder (T5) families."""

from __future__ import annotations

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import derived_head_dim
from genz_catalog.convert._reader import ConfigReader


def bert(reader: ConfigReader) -> Architecture:
    """BERT / RoBERTa with the masked-LM head a user loads (decoder tied to word embeddings).

    Counted as ``BertLMHeadModel`` / ``RobertaForMaskedLM``: embeddings (word, position,
    token-type, LayerNorm), the encoder, and the LM head transform plus output bias; no pooler.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    head_dim = derived_head_dim(reader, hidden, heads, head_dim_key=None)
    token_types = reader.int("type_vocab_size", default=2, minimum=0)
    tied = reader.bool("tie_word_embeddings", default=True)
    embeddings = (vocab + positions + token_types) * hidden + counting.layer_norm(hidden)
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    head = counting.linear(hidden, hidden, True) + counting.layer_norm(hidden) + vocab
    total = embeddings + layers * per_layer + head
    if not tied:
        total += vocab * hidden
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
    # An encoder keeps no KV cache: every token is processed in one bidirectional pass.
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
        "max_model_len": positions,
    }
    arch.warnings.append("GenZ simulates the encoder stack as decoder layers (same prefill work)")
    return arch


def t5(reader: ConfigReader) -> Architecture:
    """T5 / mT5 / UMT5 with the seq2seq LM head (``d_model``, ``num_layers``, ``num_heads``, ``d_kv``, ``d_ff``)."""
    hidden = reader.int("d_model")
    encoder_layers = reader.int("num_layers")
    heads = reader.int("num_heads")
    head_dim = reader.int("d_kv")
    intermediate = reader.int("d_ff")
    vocab = reader.int("vocab_size")
    reader.check()
    decoder_layers = reader.int("num_decoder_layers", default=encoder_layers)
    buckets = reader.int("relative_attention_num_buckets", default=32)
    projection = reader.str("feed_forward_proj", default="relu") or "relu"
    gated = projection.startswith("gated-")
    tied = reader.bool("tie_word_embeddings", default=True)
    attention = counting.attention(hidden, heads, heads, head_dim)
    ffn = counting.mlp(hidden, intermediate, gated)
    norm = counting.layer_norm(hidden, bias=False)
    relative_bias = buckets * heads
    # UMT5 gives every layer its own relative position bias; T5/mT5 only the first.
    biased_layers_encoder = encoder_layers if reader.family == "umt5" else 1
    biased_layers_decoder = decoder_layers if reader.family == "umt5" else 1
    encoder = (
        encoder_layers * (attention + ffn + 2 * norm) + biased_layers_encoder * relative_bias + norm
    )
    decoder = (
        decoder_layers * (2 * attention + ffn + 3 * norm)
        + biased_layers_decoder * relative_bias
        + norm
    )
    total = vocab * hidden + encoder + decoder
    if not tied:
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.model_type = "encoder-decoder"
    arch.attention_type = "mha"
    arch.parameter_count = total
    arch.num_layers = encoder_layers + decoder_layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = reader.optional_int("n_positions", "max_position_embeddings", minimum=1)
    arch.vocab_size = vocab
    arch.extra.update({"encoder_layers": encoder_layers, "decoder_layers": decoder_layers})
    # Decoder self-attention caches per generated token; cross-attention caches per source token.
    arch.add_kv_layers(decoder_layers, 2 * heads * head_dim)
    arch.cross_attention_values_per_source_token = decoder_layers * 2 * heads * head_dim
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
    arch.genz_unsupported = (
        "GenZ 0.0.16 simulates decoder stacks only; an encoder-decoder model's encoder and "
        "cross-attention are not modelled"
    )
    return arch
