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
from genz_catalog.convert._arch import Architecture
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

_UNSUPPORTED = (
    "GenZ 0.0.16 simulates decoder stacks only; an encoder-decoder model's encoder and "
    "cross-attention are not modelled"
)


def _biased_attention(width: int) -> int:
    """q, k, v and out projections of ``width`` x ``width`` with biases (BART-style attention)."""
    return 4 * counting.linear(width, width, True)


def _stack_dims(reader: ConfigReader, side: str) -> tuple[int, int, int]:
    """(layers, heads, ffn width) of the ``encoder`` or ``decoder`` side."""
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
    hidden = reader.int("d_model")
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


__all__: list[Any] = ["SEQ2SEQ_LAYOUTS", "bart_like", "whisper"]
