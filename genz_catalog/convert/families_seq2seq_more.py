"""Encoder-decoder families beyond T5 and BART: LongT5, Switch Transformers, NLLB-MoE and the
BART relatives (PLBart, MVP, BlenderbotSmall, BigBird-Pegasus, Pegasus-X).

Counted as the ``*ForConditionalGeneration`` class allocates them (the seq2seq LM a checkpoint of
these families holds). GenZ 0.0.16 simulates decoder stacks only, so every record here carries
``genz_unsupported``; the counts, KV cache and cross-attention cache are exact.
"""

from __future__ import annotations

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import check_top_k, derived_head_dim
from genz_catalog.convert._reader import ConfigReader

_GENZ_SEQ2SEQ = (
    "GenZ 0.0.16 simulates decoder stacks only; an encoder-decoder model's encoder and "
    "cross-attention are not modelled"
)


def switch_transformers(reader: ConfigReader) -> Architecture:
    """Switch Transformers (T5 layout; every ``*_sparse_step``-th FFN is a top-1 mixture of
    ``num_experts`` ungated experts with a router)."""
    hidden = reader.int("d_model")
    encoder_layers = reader.int("num_layers")
    heads = reader.int("num_heads")
    head_dim = reader.int("d_kv")
    intermediate = reader.int("d_ff")
    vocab = reader.int("vocab_size")
    experts = reader.int("num_experts")
    reader.check()
    decoder_layers = reader.int("num_decoder_layers", default=encoder_layers)
    buckets = reader.int("relative_attention_num_buckets", default=32)
    router_bias = reader.bool("router_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=True)

    def sparse_layers(count: int, step_key: str) -> int:
        # HF rule: layer i is sparse when i % step == 1 (every layer when step == 1; none at 0).
        step = reader.int(step_key, default=3, minimum=0)
        if step == 0:
            return 0
        return sum(1 for index in range(count) if step == 1 or index % step == 1)

    attention = counting.attention(hidden, heads, heads, head_dim)
    norm = counting.layer_norm(hidden, bias=False)
    dense_ffn = counting.mlp(hidden, intermediate, False)
    sparse_ffn = experts * dense_ffn + counting.linear(hidden, experts, router_bias)
    sparse_encoder = sparse_layers(encoder_layers, "encoder_sparse_step")
    sparse_decoder = sparse_layers(decoder_layers, "decoder_sparse_step")
    encoder = (
        encoder_layers * (attention + 2 * norm)
        + sparse_encoder * sparse_ffn
        + (encoder_layers - sparse_encoder) * dense_ffn
        + buckets * heads
        + norm
    )
    decoder = (
        decoder_layers * (2 * attention + 3 * norm)
        + sparse_decoder * sparse_ffn
        + (decoder_layers - sparse_decoder) * dense_ffn
        + buckets * heads
        + norm
    )
    total = vocab * hidden + encoder + decoder
    if not tied:
        # Untied, transformers 5 gives the encoder, the decoder and the LM head each their own
        # table besides ``shared``: four vocabulary matrices in all.
        total += 3 * vocab * hidden
    arch = _seq2seq_arch(
        reader,
        total=total,
        hidden=hidden,
        encoder_layers=encoder_layers,
        decoder_layers=decoder_layers,
        heads=heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        context=reader.optional_int("n_positions", "max_position_embeddings", minimum=1),
        gated=False,
        activation=reader.str("dense_act_fn", default="relu") or "relu",
    )
    # Top-1 routing: each token touches one expert of every sparse layer.
    inactive = (sparse_encoder + sparse_decoder) * (experts - 1) * dense_ffn
    arch.active_parameter_count = total - inactive
    arch.num_experts = experts
    arch.experts_per_token = 1
    arch.extra.update(
        {"sparse_encoder_layers": sparse_encoder, "sparse_decoder_layers": sparse_decoder}
    )
    return arch


def _seq2seq_arch(
    reader: ConfigReader,
    *,
    total: int,
    hidden: int,
    encoder_layers: int,
    decoder_layers: int,
    heads: int,
    head_dim: int,
    intermediate: int,
    vocab: int,
    context: int | None,
    gated: bool,
    activation: str,
) -> Architecture:
    """Fill an encoder-decoder Architecture: decoder self-attention KV per generated token and
    cross-attention K/V per source token, multi-head attention throughout."""
    arch = Architecture(reader.family)
    arch.model_type = "encoder-decoder"
    arch.attention_type = "mha"
    arch.parameter_count = total
    arch.active_parameter_count = total
    arch.num_layers = encoder_layers + decoder_layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = context
    arch.vocab_size = vocab
    arch.extra.update({"encoder_layers": encoder_layers, "decoder_layers": decoder_layers})
    values = 2 * heads * head_dim
    arch.add_kv_layers(decoder_layers, values)
    arch.cross_attention_values_per_source_token = decoder_layers * values
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
        "hidden_act": activation,
    }
    if context:
        arch.genz_kwargs["max_model_len"] = context
    arch.genz_unsupported = _GENZ_SEQ2SEQ
    return arch


def _bart_like(
    reader: ConfigReader,
    *,
    position_offset: int | None,
    embedding_norm: bool,
    final_norm: bool,
    qkv_bias_key: str | None = None,
    attention_bias: bool = True,
    encoder_extra_per_layer: int = 0,
    extra: int = 0,
) -> Architecture:
    """A BART-shaped encoder-decoder: shared embeddings, learned positions (``position_offset``
    extra rows; ``None`` = sinusoidal, no parameters), post/pre-norm layers with LayerNorms with
    bias, plain FFNs with bias, tied LM head (``final_logits_bias`` is a buffer)."""
    hidden = reader.int("d_model")
    encoder_layers = reader.int("encoder_layers")
    decoder_layers = reader.int("decoder_layers")
    encoder_heads = reader.int("encoder_attention_heads")
    decoder_heads = reader.int("decoder_attention_heads")
    encoder_ffn = reader.int("encoder_ffn_dim")
    decoder_ffn = reader.int("decoder_ffn_dim")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    if encoder_heads != decoder_heads:
        raise reader.error(
            f"encoder_attention_heads ({encoder_heads}) differs from decoder_attention_heads "
            f"({decoder_heads}); one head count per record cannot describe both stacks"
        )
    head_dim = derived_head_dim(
        reader,
        hidden,
        decoder_heads,
        hidden_key="d_model",
        heads_key="decoder_attention_heads",
        head_dim_key=None,
    )
    qkv_bias = reader.bool(qkv_bias_key, default=True) if qkv_bias_key else attention_bias
    tied = reader.bool("tie_word_embeddings", default=True)
    norm = counting.layer_norm(hidden)
    attention = 3 * counting.linear(hidden, hidden, qkv_bias) + counting.linear(
        hidden, hidden, qkv_bias
    )
    encoder_ffn_params = counting.mlp(hidden, encoder_ffn, False, True)
    decoder_ffn_params = counting.mlp(hidden, decoder_ffn, False, True)
    total = vocab * hidden + extra
    if position_offset is not None:
        total += 2 * (positions + position_offset) * hidden
    if embedding_norm:
        total += 2 * norm
    if final_norm:
        total += 2 * norm
    total += encoder_layers * (attention + 2 * norm + encoder_ffn_params + encoder_extra_per_layer)
    total += decoder_layers * (2 * attention + 3 * norm + decoder_ffn_params)
    if not tied:
        # Untied, transformers 5 gives the encoder, the decoder and the LM head each their own
        # table besides ``shared``: four vocabulary matrices in all.
        total += 3 * vocab * hidden
    return _seq2seq_arch(
        reader,
        total=total,
        hidden=hidden,
        encoder_layers=encoder_layers,
        decoder_layers=decoder_layers,
        heads=decoder_heads,
        head_dim=head_dim,
        intermediate=decoder_ffn,
        vocab=vocab,
        context=positions,
        gated=False,
        activation=reader.str("activation_function", default="gelu") or "gelu",
    )


def mvp(reader: ConfigReader) -> Architecture:
    """MVP (BART layout). ``use_prompt: true`` is refused: transformers 5 builds only the decoder's
    two prompt networks (its MvpModel hands ``use_prompt`` to the encoder's ``embed_tokens``
    argument), while MVP's prompt checkpoints also hold the encoder's; no count is both."""
    if reader.bool("use_prompt", default=False):
        raise reader.error(
            "use_prompt=true is not supported: transformers builds 2 of MVP's 3 prompt networks, "
            "so its count and the checkpoint's differ"
        )
    return _bart_like(reader, position_offset=2, embedding_norm=True, final_norm=False)


def nllb_moe(reader: ConfigReader) -> Architecture:
    """NLLB-MoE (pre-norm BART relative with sinusoidal positions; every ``*_sparse_step``-th FFN
    (layers step-1, 2*step-1, ...) is a top-2 mixture of ``num_experts`` FFNs with a router)."""
    arch = _bart_like(reader, position_offset=None, embedding_norm=False, final_norm=True)
    hidden = arch.hidden_size or 0
    experts = reader.int("num_experts")
    reader.check()
    check_top_k(reader, 2, experts)
    router_bias = reader.bool("router_bias", default=False)
    router = counting.linear(hidden, experts, router_bias)
    inactive = 0
    for prefix in ("encoder", "decoder"):
        layers = arch.extra[f"{prefix}_layers"]
        ffn = counting.mlp(hidden, reader.int(f"{prefix}_ffn_dim"), False, True)
        step = reader.int(f"{prefix}_sparse_step", default=4, minimum=0)
        sparse = sum(1 for index in range(layers) if step and (index + 1) % step == 0)
        arch.parameter_count += sparse * ((experts - 1) * ffn + router)
        inactive += sparse * (experts - 2) * ffn
        arch.extra[f"sparse_{prefix}_layers"] = sparse
    arch.active_parameter_count = arch.parameter_count - inactive
    arch.num_experts = experts
    arch.experts_per_token = 2
    return arch
