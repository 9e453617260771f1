"""Encoder-decoder, speech and omni families.

- Encoder-decoders: TrOCR's decoder, the generic ``EncoderDecoderModel`` and
  ``VisionEncoderDecoderModel`` (transformers builds ``AutoModel`` from the nested encoder config,
  a base model *with* its pooler, and ``AutoModelForCausalLM`` from the decoder config, with
  cross-attention when it says ``add_cross_attention``; only encoder/decoder types whose layout
  is known here are counted, any other pair is refused by name), T5Gemma 2, and SeamlessM4T's
  text-to-text model. GenZ 0.0.16 simulates decoder stacks only: these records carry
  ``genz_unsupported``; counts, decoder KV cache and the cross-attention cache
  (``cross_attention_values_per_source_token``) are exact.
- Speech and omni wrappers (an audio and/or vision encoder, a projector, a language model):
  Qwen3-Omni's thinker, Voxtral Realtime, VibeVoice-ASR, Nemotron 3.5 Transcribe
  (``nemo_speechlm``), Nemotron-H Omni, OmniASR, MOSS Transcribe-Diarize. ``parameter_count``
  is the whole model transformers loads, ``text_parameter_count`` the language model; GenZ
  simulates the language model only (a warning names the encoder).
- Moshi's temporal transformer and PI0 (a PaliGemma VLM with a Gemma action expert; GenZ cannot
  simulate its flow-matching loop).

Every count is parameter by parameter as transformers 5.24 allocates it (unit: parameters);
``tests/test_families_omni_seq2seq.py`` checks each against the meta-device count.
"""

from __future__ import annotations

from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import derived_head_dim
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_multimodal import _vit_layers
from genz_catalog.convert.families_vlm import Dispatch

_GENZ_SEQ2SEQ = (
    "GenZ 0.0.16 simulates decoder stacks only; an encoder-decoder model's encoder and "
    "cross-attention are not modelled"
)

# BERT-layout text models (embeddings with token types, post-norm layers with biased attention,
# pooler in the base model, dense + LayerNorm + bias LM head): RoBERTa differs in position
# indexing only, not in shapes.
_BERT_LAYOUT = ("bert", "roberta")


def trocr(reader: ConfigReader) -> Architecture:
    """TrOCR's decoder (``TrOCRForCausalLM``): BART-style post-norm layers with biased
    attention and FFN, learned positions with BART's offset of 2 (sinusoidal ones are a buffer),
    optional embedding LayerNorm, cross-attention whose K/V read ``cross_attention_hidden_size``
    (the encoder's width; ``TrOCRForCausalLM`` sets ``is_decoder`` itself, so every layer has
    it); LM head tied unless ``tie_word_embeddings`` is false."""
    hidden = reader.int("d_model")
    layers = reader.int("decoder_layers")
    heads = reader.int("decoder_attention_heads")
    ffn = reader.int("decoder_ffn_dim")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    head_dim = derived_head_dim(
        reader,
        hidden,
        heads,
        hidden_key="d_model",
        heads_key="decoder_attention_heads",
        head_dim_key=None,
    )
    source_width = reader.optional_int("cross_attention_hidden_size") or hidden
    attention = 4 * counting.linear(hidden, hidden, True)
    norm = counting.layer_norm(hidden)
    per_layer = attention + 2 * norm + counting.mlp(hidden, ffn, False, True)
    per_layer += (
        2 * counting.linear(hidden, hidden, True)  # q, out
        + 2 * counting.linear(source_width, hidden, True)  # k, v from the encoder width
        + norm
    )
    total = vocab * hidden + layers * per_layer
    if reader.bool("use_learned_position_embeddings", default=True):
        total += (positions + 2) * hidden
    if reader.bool("layernorm_embedding", default=True):
        total += norm
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.attention_type = "mha"
    arch.parameter_count = total
    arch.active_parameter_count = total
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = ffn
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = positions
    arch.vocab_size = vocab
    arch.add_kv_layers(layers, 2 * heads * head_dim)
    arch.cross_attention_values_per_source_token = layers * 2 * heads * head_dim
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "num_ffi": 1,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "head_dim": head_dim,
        "hidden_act": reader.str("activation_function", default="gelu") or "gelu",
        "max_model_len": positions,
    }
    arch.genz_unsupported = (
        "GenZ 0.0.16 simulates decoder stacks only; TrOCR's cross-attention to the image "
        "encoder is not modelled"
    )
    return arch


def _sub_config(reader: ConfigReader, key: str) -> tuple[dict[str, Any], str]:
    """The nested ``encoder`` / ``decoder`` config and its ``model_type``."""
    config = reader.sub(key)
    if config is None:
        reader.require(key)
        reader.check()
        raise AssertionError("unreachable: check() raised")
    sub_type = config.get("model_type")
    if not isinstance(sub_type, str) or not sub_type:
        raise reader.error(f"{key}.model_type is missing; cannot tell which model it describes")
    return config, sub_type


def _bert_base_model(config: dict[str, Any], family: str, where: str) -> tuple[int, int]:
    """(parameters, width) of a BERT-layout base model with its pooler (``BertModel``)."""
    reader = ConfigReader(config, family, where)
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    intermediate = reader.int("intermediate_size")
    vocab = reader.int("vocab_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    token_types = reader.int("type_vocab_size", default=2, minimum=0)
    embeddings = (vocab + positions + token_types) * hidden + counting.layer_norm(hidden)
    pooler = counting.linear(hidden, hidden, True)
    return embeddings + _vit_layers(hidden, intermediate, layers) + pooler, hidden


def _vit_base_model(config: dict[str, Any], family: str, where: str) -> tuple[int, int]:
    """(parameters, width) of a ``ViTModel`` with its pooler: class token, patch conv with bias,
    learned positions, pre-norm layers (q/k/v bias per ``qkv_bias``), final LayerNorm."""
    reader = ConfigReader(config, family, where)
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    intermediate = reader.int("intermediate_size")
    image = reader.int("image_size")
    patch = reader.int("patch_size")
    reader.check()
    channels = reader.int("num_channels", default=3)
    pooled = reader.optional_int("pooler_output_size") or hidden
    qkv_bias = reader.bool("qkv_bias", default=True)
    per_layer_bias_gap = 0 if qkv_bias else 3 * hidden
    params = (
        hidden  # class token
        + counting.linear(channels * patch * patch, hidden, True)  # patch conv
        + ((image // patch) ** 2 + 1) * hidden  # positions
        + _vit_layers(hidden, intermediate, layers)
        - layers * per_layer_bias_gap
        + counting.layer_norm(hidden)
        + counting.linear(hidden, pooled, True)  # pooler
    )
    return params, hidden


def _decoder(reader: ConfigReader, dispatch: Dispatch) -> tuple[Architecture, int]:
    """(the decoder's record, its width) as ``AutoModelForCausalLM`` builds it, cross-attention
    included."""
    config, decoder_type = _sub_config(reader, "decoder")
    if decoder_type == "trocr":
        arch = dispatch(config, "trocr", "decoder.")
        return arch, arch.hidden_size or 0
    # The bert handler counts BertLMHeadModel (embeddings, layers, tied LM head): the decoder.
    arch = dispatch(config, decoder_type, "decoder.")
    decoder = ConfigReader(config, reader.family, "decoder.")
    hidden = arch.hidden_size or 0
    heads = arch.num_attention_heads or 0
    layers = arch.num_layers or 0
    if decoder.bool("add_cross_attention", default=False):
        # Cross-attention reads the decoder width: a wider or narrower encoder is projected.
        arch.parameter_count += layers * (
            4 * counting.linear(hidden, hidden, True) + counting.layer_norm(hidden)
        )
        arch.cross_attention_values_per_source_token = layers * 2 * hidden
    arch.kv_groups = {}
    arch.add_kv_layers(layers, 2 * hidden)
    arch.model_type = "decoder-only"
    arch.attention_type = "mha"
    arch.num_key_value_heads = heads
    arch.genz_kwargs = dict(arch.genz_kwargs)
    arch.genz_kwargs.pop("num_encoder_layers", None)
    arch.warnings = [w for w in arch.warnings if "encoder stack as decoder" not in w]
    return arch, hidden


def _compose(
    reader: ConfigReader,
    dispatch: Dispatch,
    encoders: dict[str, Any],
    modality: str,
) -> Architecture:
    """Encoder (counted by ``encoders[model_type]``) + decoder, as the generic wrappers build
    them: a bias-carrying ``enc_to_dec_proj`` when the widths differ and the decoder does not
    take the encoder width itself (``cross_attention_hidden_size``)."""
    if reader.bool("tie_encoder_decoder", default=False):
        raise reader.error(
            "tie_encoder_decoder=true is not supported: which weights the encoder and decoder "
            "share depends on both classes; refusing rather than guessing"
        )
    encoder_config, encoder_type = _sub_config(reader, "encoder")
    counter = encoders.get(encoder_type)
    if counter is None:
        raise reader.error(
            f"encoder type {encoder_type!r} (encoder.model_type) has no exact count here; "
            "refusing rather than guessing"
        )
    _, decoder_type = _sub_config(reader, "decoder")
    if decoder_type not in (*_BERT_LAYOUT, "trocr"):
        raise reader.error(
            f"decoder type {decoder_type!r} (decoder.model_type) has no exact count here; "
            "refusing rather than guessing"
        )
    encoder, encoder_width = counter(encoder_config, reader.family, "encoder.")
    arch, decoder_width = _decoder(reader, dispatch)
    decoder_config = reader.sub("decoder") or {}
    projection = 0
    if encoder_width != decoder_width and decoder_config.get("cross_attention_hidden_size") is None:
        projection = counting.linear(encoder_width, decoder_width, True)
    decoder = arch.parameter_count
    arch.parameter_count = decoder + encoder + projection
    arch.active_parameter_count = arch.parameter_count
    arch.text_parameter_count = decoder if modality == "vision" else None
    arch.model_type = "encoder-decoder"
    encoder_layers = ConfigReader(encoder_config, reader.family, "encoder.").int(
        "num_hidden_layers"
    )
    decoder_layers = arch.num_layers or 0
    arch.num_layers = encoder_layers + decoder_layers
    arch.extra.update(
        {
            "encoder_layers": encoder_layers,
            "decoder_layers": decoder_layers,
            "encoder_type": encoder_type,
            "decoder_type": decoder_config.get("model_type"),
            f"{modality}_encoder_parameter_count": encoder,
            "projector_parameter_count": projection,
        }
    )
    arch.genz_kwargs = dict(arch.genz_kwargs)
    arch.genz_kwargs["num_encoder_layers"] = encoder_layers
    arch.genz_unsupported = _GENZ_SEQ2SEQ
    return arch


def encoder_decoder(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """``EncoderDecoderModel``: a text encoder (BERT layout) and a causal decoder with
    cross-attention (BERT layout or TrOCR)."""
    encoders = {name: _bert_base_model for name in _BERT_LAYOUT}
    return _compose(reader, dispatch, encoders, "text")


def vision_encoder_decoder(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """``VisionEncoderDecoderModel``: a ViT image encoder and a causal decoder with
    cross-attention (TrOCR's, or BERT layout)."""
    return _compose(reader, dispatch, {"vit": _vit_base_model}, "vision")


def t5gemma2(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """T5Gemma 2: a Gemma 3 encoder (text layers plus a SigLIP tower and Gemma 3's multimodal
    projector) and a Gemma 3 decoder whose layers attend to themselves and to the encoder with
    one merged attention (no separate cross-attention weights). The encoder's embedding (with one
    extra ``eoi_embedding`` row) is shared by the decoder and the LM head when
    ``tie_word_embeddings`` (the default); untied, the decoder gets its own embedding and
    ``eoi_embedding`` and the head its own matrix."""
    from genz_catalog.convert.families_vlm import vision_tower

    warnings: list[str] = []
    encoder_config, _ = _sub_config(reader, "encoder")
    decoder_config, _ = _sub_config(reader, "decoder")
    encoder_reader = ConfigReader(encoder_config, reader.family, "encoder.")
    text_config = encoder_reader.sub("text_config")
    if text_config is None:
        encoder_reader.require("text_config")
        encoder_reader.check()
        raise AssertionError("unreachable: check() raised")
    # Both stacks have Gemma 3's layer (four norms, q/k norms, sliding pattern): counted by its
    # handler with the head tied, i.e. embedding + layers + final norm.
    encoder_text = dispatch(
        {**text_config, "tie_word_embeddings": True}, "gemma3_text", "encoder.text_config."
    )
    arch = dispatch({**decoder_config, "tie_word_embeddings": True}, "gemma3_text", "decoder.")
    hidden = arch.hidden_size or 0
    vocab = arch.vocab_size or 0
    if encoder_text.hidden_size != hidden or encoder_text.vocab_size != vocab:
        raise reader.error(
            "encoder and decoder widths or vocabularies differ; transformers refuses such a "
            "T5Gemma 2 config"
        )
    vision, vision_width, vision_reader = vision_tower(
        encoder_reader, "siglip_vision_model", warnings
    )
    # mm_input_projection_weight (vision width x text width) and an RMSNorm over vision width.
    projector = vision_width * hidden + vision_width
    decoder = arch.parameter_count - vocab * hidden  # its embedding is the encoder's
    encoder = encoder_text.parameter_count + hidden  # eoi_embedding
    total = encoder + decoder + vision + projector
    if not reader.bool("tie_word_embeddings", default=True):
        total += 2 * vocab * hidden + hidden
    encoder_layers = encoder_text.num_layers or 0
    decoder_layers = arch.num_layers or 0
    arch.parameter_count = total
    arch.active_parameter_count = total
    arch.text_parameter_count = total - vision - projector
    arch.model_type = "encoder-decoder"
    arch.num_layers = encoder_layers + decoder_layers
    # The merged attention projects encoder outputs with the decoder's own K/V weights: one
    # K and V per source token and decoder layer, grouped heads.
    kv_heads = arch.num_key_value_heads or 0
    arch.cross_attention_values_per_source_token = (
        decoder_layers * 2 * kv_heads * (arch.head_dim or 0)
    )
    arch.extra.update(
        {
            "encoder_layers": encoder_layers,
            "decoder_layers": decoder_layers,
            "vision_parameter_count": vision,
            "projector_parameter_count": projector,
            "vision_tower": vision_reader.str("model_type", default="siglip_vision_model"),
        }
    )
    arch.genz_kwargs = dict(arch.genz_kwargs)
    arch.genz_kwargs["num_encoder_layers"] = encoder_layers
    arch.genz_unsupported = _GENZ_SEQ2SEQ
    arch.warnings.extend(warnings)
    return arch


def seamless_m4t(reader: ConfigReader) -> Architecture:
    """SeamlessM4T (v1 and v2) as ``AutoModelForSeq2SeqLM`` loads it: the text-to-text model
    (``SeamlessM4TForTextToText``), an NLLB/M2M-100-shaped encoder-decoder (sinusoidal positions
    in a buffer, pre-norm layers, a final LayerNorm per stack, shared tied embedding). The speech
    encoder, text-to-unit model and vocoder a full checkpoint also holds are not counted: the
    record says so."""
    from genz_catalog.convert.families_seq2seq_more import _bart_like

    # The BART-lineage counter reads the width as d_model; SeamlessM4T names it hidden_size.
    config = dict(reader.config)
    config["d_model"] = reader.int("hidden_size")
    reader.check()
    arch = _bart_like(
        ConfigReader(config, reader.family, reader.where),
        position_offset=None,
        embedding_norm=False,
        final_norm=True,
    )
    arch.extra["counted_model"] = "text-to-text (text encoder + text decoder)"
    arch.warnings.append(
        "counts SeamlessM4T's text-to-text model (what AutoModelForSeq2SeqLM loads); the speech "
        "encoder, text-to-unit model and vocoder of a full checkpoint are not included"
    )
    return arch


def moshi(reader: ConfigReader) -> Architecture:
    """Moshi's temporal transformer as ``MoshiForCausalLM`` (the causal-LM class transformers
    maps the family to): Llama-shaped layers without biases, a gated FFN whose ``fc1`` holds
    gate and up (``ffn_dim`` = 2 x the gated width), an embedding with one extra (padding) row
    and an LM head over ``vocab_size`` that is never tied (the shapes differ). The depth decoder
    and the Mimi audio codec of a full Moshi checkpoint are not counted: the record says so."""
    from genz_catalog.convert._decoder import add_attention_kv, build_decoder

    ffn = reader.int("ffn_dim")
    reader.check()
    if ffn % 2:
        raise reader.error(f"ffn_dim ({ffn}) must be even: fc1 holds the gate and up halves")
    config = {**reader.config, "intermediate_size": ffn // 2, "tie_word_embeddings": False}
    text = ConfigReader(config, reader.family, reader.where)
    hidden = text.int("hidden_size")
    text.check()
    arch = build_decoder(text, tie_default=False, extra_params=hidden)  # the padding row
    add_attention_kv(
        arch,
        None,
        text.optional_int("sliding_window", minimum=1),
        2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0),
    )
    arch.extra["counted_model"] = "MoshiForCausalLM (temporal transformer)"
    arch.warnings.append(
        "counts Moshi's temporal transformer (MoshiForCausalLM); the depth decoder and the Mimi "
        "audio codec of a full Moshi checkpoint are not included"
    )
    return arch


QWEN3_OMNI_AUDIO_DEFAULTS = {  # Qwen3OmniMoeAudioEncoderConfig (transformers 5.24)
    "num_mel_bins": 128,
    "encoder_layers": 32,
    "encoder_attention_heads": 20,
    "encoder_ffn_dim": 5120,
    "d_model": 1280,
    "output_dim": 3584,
    "downsample_hidden_size": 480,
}


def qwen3_omni_moe_thinker(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Qwen3-Omni's thinker: the Qwen3 audio encoder with its two output projections
    (``proj1`` d_model -> d_model, ``proj2`` d_model -> ``output_dim``, both biased), the
    Qwen3-VL vision tower with DeepStack mergers, and a Qwen3-MoE language model (head untied
    by the thinker's default). The talker and code2wav of the full Omni checkpoint are separate
    models, not counted here."""
    from genz_catalog.convert.families_audio import finish_audio, qwen3_audio_encoder_params
    from genz_catalog.convert.families_dense_modern import (
        _qwen3_vision_params,
        _vision_config,
        _wrapper_text,
    )
    from genz_catalog.convert.families_multimodal import _with_defaults

    warnings: list[str] = []
    text_config = reader.sub("text_config")
    if text_config is not None and text_config.get("head_dim") is None:
        # The thinker's attention takes head_dim = hidden_size // num_attention_heads (floor)
        # when the config names none (its config class has no head_dim): state it explicitly.
        text = ConfigReader(text_config, reader.family, "text_config.")
        hidden, heads = text.int("hidden_size"), text.int("num_attention_heads")
        text.check()
        reader = ConfigReader(
            {**reader.config, "text_config": {**text_config, "head_dim": hidden // heads}},
            reader.family,
            reader.where,
        )
    arch = _wrapper_text(reader, dispatch, "qwen3_omni_moe_text", tie_default=False)
    text_hidden = arch.hidden_size or 0
    vision = _qwen3_vision_params(_vision_config(reader), text_hidden, True)
    audio_config = reader.sub("audio_config")
    if audio_config is None:
        reader.require("audio_config")
        reader.check()
    audio_reader = ConfigReader(
        _with_defaults(
            audio_config,
            "qwen3_omni_moe_audio_encoder",
            {"qwen3_omni_moe_audio_encoder": QWEN3_OMNI_AUDIO_DEFAULTS},
            "audio_config",
            warnings,
        ),
        reader.family,
        "audio_config.",
    )
    audio, width = qwen3_audio_encoder_params(audio_reader)
    output = audio_reader.int("output_dim")
    audio_reader.check()
    audio += counting.linear(width, width, True) + counting.linear(width, output, True)
    arch = finish_audio(arch, audio, 0, warnings, "qwen3_omni_moe_audio_encoder")
    arch.parameter_count += vision
    arch.active_parameter_count = (arch.active_parameter_count or 0) + vision
    arch.extra["vision_parameter_count"] = vision
    arch.extra["vision_tower"] = "qwen3_omni_moe_vision_encoder"
    arch.warnings.append(
        "GenZ simulates the language model only (the Qwen3-VL-style vision tower is not modelled)"
    )
    return arch


# VoxtralRealtimeConfig lays these under a given text_config (its SubConfigSpec init_kwargs,
# transformers 5.24); count-relevant keys only.
VOXTRAL_REALTIME_TEXT_DEFAULTS: dict[str, Any] = {
    "vocab_size": 131072,
    "hidden_size": 3072,
    "intermediate_size": 9216,
    "num_hidden_layers": 26,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 131072,
    "head_dim": 128,
    "sliding_window": 8192,
}

# Per-layer adaptive RMSNorm of the realtime text decoder: hidden -> 32 -> hidden, no biases
# (the 32 is fixed in transformers' VoxtralRealtimeTextAdaRmsNorm, not a config key).
_ADA_NORM_WIDTH = 32


def voxtral_realtime(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Voxtral Realtime: a causal audio encoder (two convs, RMSNorm layers with biased q/v/out
    and an unbiased k, a gated MLP whose down projection has a bias, sliding-window attention),
    frames stacked ``downsample_factor`` deep into a two-layer bias-free projector, and a
    Mistral-shaped text decoder with an adaptive RMSNorm per layer; LM head tied by default."""
    from genz_catalog.convert._decoder import add_attention_kv, build_decoder
    from genz_catalog.convert.families_audio import finish_audio

    text_config = reader.sub("text_config")
    audio_config = reader.sub("audio_config")
    if text_config is None or audio_config is None:
        reader.require("text_config" if text_config is None else "audio_config")
        reader.check()
        raise AssertionError("unreachable: check() raised")
    tied = reader.bool("tie_word_embeddings", default=True)
    text = ConfigReader(
        {**VOXTRAL_REALTIME_TEXT_DEFAULTS, **text_config, "tie_word_embeddings": tied},
        reader.family,
        "text_config.",
    )
    hidden = text.int("hidden_size")
    text.check()
    arch = build_decoder(
        text, tie_default=True, extra_params_per_layer=2 * hidden * _ADA_NORM_WIDTH
    )
    add_attention_kv(
        arch,
        None,
        text.optional_int("sliding_window", minimum=1),
        2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0),
    )
    audio = ConfigReader(audio_config, reader.family, "audio_config.")
    width = audio.int("hidden_size", "d_model")
    ffn = audio.int("intermediate_size", "encoder_ffn_dim")
    layers = audio.int("num_hidden_layers", "encoder_layers")
    heads = audio.int("num_attention_heads", "encoder_attention_heads")
    head_dim = audio.int("head_dim")
    mels = audio.int("num_mel_bins")
    audio.check()
    inner = heads * head_dim  # the encoder's K/V heads are its attention heads
    per_layer = (
        counting.linear(width, inner, True)  # q
        + counting.linear(width, inner)  # k
        + counting.linear(width, inner, True)  # v
        + counting.linear(inner, width, True)  # out
        + 2 * width  # two RMSNorms
        + 2 * counting.linear(width, ffn)  # gate, up
        + counting.linear(ffn, width, True)  # down
    )
    encoder = (
        mels * width * 3
        + width  # conv1, kernel 3
        + width * width * 3
        + width  # conv2, kernel 3
        + layers * per_layer
        + width  # final RMSNorm
    )
    stacked = width * reader.int("downsample_factor", default=4)
    projector = counting.linear(stacked, hidden) + counting.linear(hidden, hidden)
    return finish_audio(arch, encoder, projector, [], "voxtral_realtime_encoder")


VIBEVOICE_TOKENIZER_DEFAULTS = {  # VibeVoiceAcousticTokenizerEncoderConfig (transformers 5.24)
    "channels": 1,
    "hidden_size": 64,
    "kernel_size": 7,
    "num_filters": 32,
    "downsampling_ratios": [2, 2, 4, 5, 5, 8],
    "depths": [3, 3, 3, 3, 3, 3, 8],
    "ffn_expansion": 4,
}


def vibevoice_tokenizer_encoder_params(encoder: ConfigReader) -> int:
    """Parameters of a VibeVoice acoustic/semantic tokenizer encoder: a causal-conv stem and one
    strided causal conv per ``downsampling_ratios`` entry (kernel 2 x ratio, doubling the
    channels from ``num_filters``), each followed by ``depths[i]`` ConvNeXt-1D blocks (two
    RMSNorms, a depthwise conv, a biased FFN of ``ffn_expansion`` x width, two layer-scale
    vectors), then a causal-conv head to ``hidden_size``. Every conv has a bias."""
    channels = encoder.int("channels")
    hidden = encoder.int("hidden_size")
    kernel = encoder.int("kernel_size")
    filters = encoder.int("num_filters")
    expansion = encoder.int("ffn_expansion")
    ratios = encoder.int_list("downsampling_ratios")
    depths = encoder.int_list("depths")
    if ratios is None or depths is None:
        encoder.require("downsampling_ratios" if ratios is None else "depths")
    encoder.check()
    assert ratios is not None and depths is not None
    if len(depths) != len(ratios) + 1:
        raise encoder.error(
            f"{encoder.where}depths ({len(depths)} entries) must have one more entry than "
            f"downsampling_ratios ({len(ratios)}): the stem's blocks come first"
        )

    def conv(inputs: int, outputs: int, size: int, groups: int = 1) -> int:
        return inputs // groups * outputs * size + outputs

    def block(width: int) -> int:
        return (
            2 * width  # norm, ffn_norm (RMSNorm weights)
            + conv(width, width, kernel, groups=width)  # depthwise mixer
            + counting.mlp(width, expansion * width, False, True)
            + 2 * width  # gamma, ffn_gamma
        )

    total = conv(channels, filters, kernel) + depths[0] * block(filters)
    for stage, ratio in enumerate(ratios):
        width = filters * 2 ** (stage + 1)
        total += conv(filters * 2**stage, width, 2 * ratio) + depths[stage + 1] * block(width)
    return total + conv(filters * 2 ** len(ratios), hidden, kernel)


def vibevoice_asr(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """VibeVoice-ASR: acoustic and semantic tokenizer encoders (convolutional, no attention),
    a two-branch projector (linear, RMSNorm, linear into the text width, per branch) and a
    Qwen2 language model whose LM head transformers never ties for this family."""
    from genz_catalog.convert.families_audio import finish_audio
    from genz_catalog.convert.families_multimodal import _with_defaults

    warnings: list[str] = []
    text_config = reader.sub("text_config")
    if text_config is None:
        reader.require("text_config")
        reader.check()
        raise AssertionError("unreachable: check() raised")
    text_type = text_config.get("model_type") or "qwen2"
    if text_type != "qwen2":
        raise reader.error(
            f"language model type {text_type!r} (text_config.model_type) is not supported; "
            "refusing rather than guessing"
        )
    arch = dispatch({**text_config, "tie_word_embeddings": False}, "qwen2", "text_config.")
    text_hidden = arch.hidden_size or 0
    audio = 0
    projector = 0
    for branch in ("acoustic", "semantic"):
        key = f"{branch}_tokenizer_encoder_config"
        if reader.sub(key) is None:
            # The wrapper's defaults for an absent encoder differ from the encoder class's
            # (the semantic one is 128 wide): require the config rather than guess.
            reader.require(key)
            reader.check()
        encoder = ConfigReader(
            _with_defaults(
                reader.sub(key),
                "vibevoice_acoustic_tokenizer_encoder",
                {"vibevoice_acoustic_tokenizer_encoder": VIBEVOICE_TOKENIZER_DEFAULTS},
                key,
                warnings,
            ),
            reader.family,
            key + ".",
        )
        audio += vibevoice_tokenizer_encoder_params(encoder)
        width = encoder.int("hidden_size")
        projector += (
            counting.linear(width, text_hidden, True)
            + text_hidden  # RMSNorm
            + counting.linear(text_hidden, text_hidden, True)
        )
    return finish_audio(
        arch, audio, projector, warnings, "VibeVoice acoustic + semantic tokenizer encoders"
    )


MOSS_AUDIO_DEFAULTS = {  # MossTranscribeDiarizeAudioConfig (transformers 5.24)
    "num_mel_bins": 80,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
    "hidden_size": 1024,
    "max_source_positions": 1500,
}


def moss_transcribe_diarize(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """MOSS Transcribe-Diarize: a Whisper-style encoder, ``audio_merge_size`` frames packed into
    a two-layer projector (biases per ``projector_bias``) with a LayerNorm into the text width,
    and a Qwen3 language model (head tied by the wrapper's default)."""
    from genz_catalog.convert.families_audio import finish_audio, whisper_encoder_params
    from genz_catalog.convert.families_multimodal import _with_defaults
    from genz_catalog.convert.families_vlm import text_model

    warnings: list[str] = []
    arch = text_model(reader, dispatch, "qwen3", warnings, True)
    audio_reader = ConfigReader(
        _with_defaults(
            reader.sub("audio_config"),
            "moss_transcribe_diarize_audio",
            {"moss_transcribe_diarize_audio": MOSS_AUDIO_DEFAULTS},
            "audio_config",
            warnings,
        ),
        reader.family,
        "audio_config.",
    )
    audio, width, _ = whisper_encoder_params(audio_reader)
    text_hidden = arch.hidden_size or 0
    bias = reader.bool("projector_bias", default=True)
    packed = width * reader.int("audio_merge_size", default=4)
    projector = (
        counting.linear(packed, text_hidden, bias)
        + counting.linear(text_hidden, text_hidden, bias)
        + counting.layer_norm(text_hidden)
    )
    return finish_audio(arch, audio, projector, warnings, "moss_transcribe_diarize_audio")


def wav2vec2_style_encoder_params(audio: ConfigReader) -> tuple[int, int]:
    """(parameters, width) of OmniASR's wav2vec 2.0-style encoder: a convolutional feature
    extractor (one conv per ``conv_dim`` entry, bias per ``conv_bias``, a LayerNorm after each),
    a LayerNorm and projection into ``hidden_size``, a grouped positional conv (plain weight, no
    weight norm), post-norm Transformer layers with biased attention and FFN, a final LayerNorm.
    """
    width = audio.int("hidden_size")
    ffn = audio.int("intermediate_size")
    layers = audio.int("num_hidden_layers")
    position_kernel = audio.int("num_conv_pos_embeddings")
    position_groups = audio.int("num_conv_pos_embedding_groups")
    dims = audio.int_list("conv_dim")
    kernels = audio.int_list("conv_kernel")
    if dims is None or kernels is None:
        audio.require("conv_dim" if dims is None else "conv_kernel")
    audio.check()
    assert dims is not None and kernels is not None
    if len(dims) != len(kernels):
        raise audio.error(
            f"{audio.where}conv_dim ({len(dims)} entries) and conv_kernel ({len(kernels)}) differ"
        )
    if width % position_groups:
        raise audio.error(
            f"{audio.where}hidden_size ({width}) is not divisible by "
            f"num_conv_pos_embedding_groups ({position_groups})"
        )
    conv_bias = audio.bool("conv_bias", default=True)
    total = 0
    inputs = 1  # raw waveform
    for outputs, kernel in zip(dims, kernels, strict=True):
        total += inputs * outputs * kernel + (outputs if conv_bias else 0)
        total += counting.layer_norm(outputs)
        inputs = outputs
    total += counting.layer_norm(inputs) + counting.linear(inputs, width, True)
    total += width * (width // position_groups) * position_kernel + width
    per_layer = (
        4 * counting.linear(width, width, True)
        + 2 * counting.layer_norm(width)
        + counting.mlp(width, ffn, False, True)
    )
    return total + layers * per_layer + counting.layer_norm(width), width


def omniasr(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Omnilingual ASR (LLM variant): a wav2vec 2.0-style audio encoder, one biased linear
    projector into the text width, and a Llama language model whose LM head transformers never
    ties for this family."""
    from genz_catalog.convert.families_audio import finish_audio

    text_config = reader.sub("text_config")
    audio_config = reader.sub("audio_config")
    if text_config is None or audio_config is None:
        reader.require("text_config" if text_config is None else "audio_config")
        reader.check()
        raise AssertionError("unreachable: check() raised")
    text_type = text_config.get("model_type") or "llama"
    if text_type != "llama":
        raise reader.error(
            f"language model type {text_type!r} (text_config.model_type) is not supported; "
            "refusing rather than guessing"
        )
    arch = dispatch({**text_config, "tie_word_embeddings": False}, "llama", "text_config.")
    audio, width = wav2vec2_style_encoder_params(
        ConfigReader(audio_config, reader.family, "audio_config.")
    )
    projector = counting.linear(width, arch.hidden_size or 0, True)
    return finish_audio(arch, audio, projector, [], "omniasr_audio (wav2vec 2.0 style)")


def pi0(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """PI0 (vision-language-action): a PaliGemma base model (``vlm_config``; no LM head), a
    Gemma action expert (``dit_config``; no LM head, its own embedding), and biased linears
    for state, action and flow-matching time (``max_state_dim`` / ``max_action_dim`` wide).
    GenZ cannot simulate the action expert's denoising loop: the record is marked unsupported."""
    from genz_catalog.convert import WRAPPER_HANDLERS

    vlm_config = reader.sub("vlm_config")
    dit_config = reader.sub("dit_config")
    if vlm_config is None or dit_config is None:
        reader.require("vlm_config" if vlm_config is None else "dit_config")
        reader.check()
        raise AssertionError("unreachable: check() raised")
    for key, config, expected in (
        ("vlm_config", vlm_config, "paligemma"),
        ("dit_config", dit_config, "gemma"),
    ):
        if config.get("model_type") != expected:
            raise reader.error(
                f"{key}.model_type {config.get('model_type')!r} is not supported (PI0 counts a "
                f"{expected} here); refusing rather than guessing"
            )
    # Base models without LM heads: counted as their tied-head classes (the head adds nothing).
    arch = WRAPPER_HANDLERS["paligemma"](
        ConfigReader({**vlm_config, "tie_word_embeddings": True}, reader.family, "vlm_config."),
        dispatch,
    )
    expert = dispatch({**dit_config, "tie_word_embeddings": True}, "gemma", "dit_config.")
    width = expert.hidden_size or 0
    state = reader.int("max_state_dim")
    action = reader.int("max_action_dim")
    reader.check()
    heads = (
        counting.linear(action, width, True)  # action_in_proj
        + counting.linear(state, width, True)  # state_proj
        + counting.linear(2 * width, width, True)  # action_time_mlp_in
        + counting.linear(width, width, True)  # action_time_mlp_out
        + counting.linear(width, action, True)  # action_out_proj
    )
    extra = expert.parameter_count + heads
    arch.parameter_count += extra
    if arch.active_parameter_count is not None:
        arch.active_parameter_count += extra
    arch.extra.update(
        {
            "action_expert_parameter_count": expert.parameter_count,
            "action_projection_parameter_count": heads,
            "action_expert_layers": expert.num_layers,
        }
    )
    arch.genz_unsupported = (
        "PI0 produces actions by flow matching: a Gemma action expert runs "
        "num_inference_steps denoising passes over the VLM's cache; GenZ 0.0.16 has no model "
        "of that loop"
    )
    return arch


def radio_vision_params(vision: ConfigReader) -> tuple[int, int]:
    """(parameters, width) of a RADIO vision model (``RadioModel``, input conditioner detached:
    its mean/std are buffers): bias-free patch (and, with ``video_temporal_patch_size``, video
    patch) projections, a learned position table over the ``max_img_size / patch_size`` grid,
    CLS + register tokens, pre-norm layers with q/k/v bias per ``qkv_bias``, a biased output,
    layer-scale vectors and a plain or SwiGLU MLP of ``mlp_ratio`` x width."""
    width = vision.int("hidden_size")
    layers = vision.int("num_hidden_layers")
    patch = vision.int("patch_size")
    max_image = vision.int("max_img_size")
    patch_dim = vision.int("patch_dim")
    cls_tokens = vision.int("num_cls_tokens", minimum=0)
    registers = vision.int("num_registers", minimum=0)
    ratio = vision.number("mlp_ratio")
    vision.check()
    ffn = int(width * ratio)
    qkv_bias = vision.bool("qkv_bias", default=True)
    total = counting.linear(patch_dim, width)
    if vision.raw("video_temporal_patch_size") is not None:
        total += counting.linear(vision.int("video_patch_dim"), width)
        vision.check()
    total += (max_image // patch) ** 2 * width + (cls_tokens + registers) * width
    if vision.bool("use_swiglu_ffn", default=False):
        mlp = counting.mlp(width, ffn, True, True)
    else:
        mlp = counting.mlp(width, ffn, False, True)
    per_layer = (
        2 * counting.layer_norm(width)
        + 3 * counting.linear(width, width, qkv_bias)
        + counting.linear(width, width, True)
        + 2 * width  # layer scales
        + mlp
    )
    return total + layers * per_layer, width


def nemotron_h_omni(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Nemotron-H Omni (vision configs): a RADIO vision model, pixel shuffle by
    ``downsample_ratio``, an RMSNorm + two bias-free linears projector, and a Nemotron-H
    (Mamba-2 / attention / MoE hybrid) language model with its own head. A vision final
    LayerNorm exists when the language model has MTP layers. Configs with an ``audio_config``
    (the audio tower) are refused: that tower is not counted here."""
    from genz_catalog.convert.families_vlm import _done

    if reader.sub("audio_config") is not None:
        raise reader.error(
            "audio_config is set: the Nemotron-H Omni audio tower has no exact count here; "
            "refusing rather than guessing"
        )
    vision_config = reader.sub("vision_config")
    text_config = reader.sub("text_config")
    if vision_config is None or text_config is None:
        reader.require("vision_config" if vision_config is None else "text_config")
        reader.check()
        raise AssertionError("unreachable: check() raised")
    if vision_config.get("model_type", "radio") != "radio":
        raise reader.error(
            f"vision tower {vision_config.get('model_type')!r} (vision_config.model_type) is "
            "not supported"
        )
    arch = dispatch(text_config, text_config.get("model_type") or "nemotron_h", "text_config.")
    vision, width = radio_vision_params(
        ConfigReader(vision_config, reader.family, "vision_config.")
    )
    vision_width = reader.int("vision_hidden_size", default=width)
    projector_width = reader.int("projector_hidden_size")
    ratio = reader.number("downsample_ratio")
    reader.check()
    shuffled = vision_width * int(1 / ratio) ** 2
    text_hidden = arch.hidden_size or 0
    projector = (
        shuffled  # RMSNorm
        + counting.linear(shuffled, projector_width)
        + counting.linear(projector_width, text_hidden)
    )
    if (ConfigReader(text_config, reader.family).optional_int("num_nextn_predict_layers") or 0) > 0:
        vision += counting.layer_norm(vision_width)  # vision_final_layernorm
    return _done(arch, vision, projector, [], "radio")


def _stacked_frame_encoder_params(encoder: ConfigReader, qk_norm: bool, embedder: bool) -> int:
    """A Nemotron 3 audio encoder (ASR, diarization or word-timestamp): optional frame-stacking
    projection (``subsampling_factor`` x ``num_mel_bins`` -> width, bias-free), an input
    LayerNorm, post-norm layers (bias-free q/k/v, biased output, optional per-head LayerNorms on
    q and k, biased MLP) and a final LayerNorm. The value projection spans all attention heads."""
    width = encoder.int("hidden_size")
    ffn = encoder.int("intermediate_size")
    layers = encoder.int("num_hidden_layers")
    heads = encoder.int("num_attention_heads")
    encoder.check()
    kv_heads = encoder.int("num_key_value_heads", default=heads)
    head_dim = encoder.int("head_dim", default=width // heads)
    inner = heads * head_dim
    per_layer = (
        2 * counting.linear(width, inner)  # q, v
        + counting.linear(width, kv_heads * head_dim)  # k
        + counting.linear(inner, width, True)  # o
        + (2 * counting.layer_norm(head_dim) if qk_norm else 0)
        + 2 * counting.layer_norm(width)
        + counting.mlp(width, ffn, False, True)
    )
    total = 2 * counting.layer_norm(width) + layers * per_layer
    if embedder:
        total += counting.linear(
            encoder.int("subsampling_factor") * encoder.int("num_mel_bins"), width
        )
        encoder.check()
    return total


def _required_sub(reader: ConfigReader, key: str) -> ConfigReader:
    config = reader.sub(key)
    if config is None:
        reader.require(key)
        reader.check()
    where = reader.where + key + "."
    return ConfigReader(config or {}, reader.family, where)


def nemo_speechlm(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Nemotron 3.5 Transcribe (``nemo_speechlm``): an ASR audio encoder, a streaming
    diarization model (its own encoder, projection, sub-pixel upsampler, speaker classifier,
    silence embedding), output LayerNorms, a biased linear projector, a word-timestamp encoder
    (transposed-conv upsampler + ASR-style layers) with a 1x1-conv head, and a Nemotron-H
    language model whose LM head transformers never ties for this family."""
    from genz_catalog.convert.families_audio import finish_audio

    text_config = reader.sub("text_config")
    if text_config is None:
        reader.require("text_config")
        reader.check()
        raise AssertionError("unreachable: check() raised")
    text_type = text_config.get("model_type") or "nemotron_h"
    if text_type != "nemotron_h":
        raise reader.error(
            f"language model type {text_type!r} (text_config.model_type) is not supported; "
            "refusing rather than guessing"
        )
    arch = dispatch({**text_config, "tie_word_embeddings": False}, "nemotron_h", "text_config.")
    audio_reader = _required_sub(reader, "audio_config")
    asr = _required_sub(audio_reader, "asr_config")
    diarization = _required_sub(audio_reader, "diarization_config")
    diarization_audio = _required_sub(diarization, "audio_config")
    head = _required_sub(diarization, "head_config")
    timestamps = _required_sub(reader, "word_timestamp_config")

    asr_width = asr.int("hidden_size")
    asr.check()
    audio = _stacked_frame_encoder_params(asr, qk_norm=True, embedder=True)
    head_width = head.int("hidden_size")
    speakers = head.int("num_speakers")
    head_input = head.int("audio_hidden_size")
    factor = head.int("subsampling_factor")
    diarization_width = diarization_audio.int("hidden_size")
    head.check()
    diarization_audio.check()
    audio += (
        _stacked_frame_encoder_params(diarization_audio, qk_norm=False, embedder=True)
        + counting.linear(head_input, head_width, True)  # proj
        + head_width * head_width * factor * 3
        + head_width * factor  # upsampler conv, kernel 3
        + counting.linear(head_width, head_width, True)  # classifier dense
        + counting.linear(head_width, speakers, True)  # classifier out_proj
        + diarization_width  # silence_embeds
        + counting.layer_norm(asr_width)  # asr_norm
        + counting.layer_norm(speakers)  # speaker_norm
    )
    timestamp_width = timestamps.int("hidden_size")
    upsampling = timestamps.int("upsampling_factor")
    timestamp_vocab = timestamps.int("vocab_size")
    timestamps.check()
    word_timestamps = (
        timestamp_width * timestamp_width * upsampling
        + timestamp_width  # ConvTranspose1d
        + _stacked_frame_encoder_params(timestamps, qk_norm=True, embedder=False)
        + counting.linear(timestamp_width, timestamp_vocab, True)  # 1x1 conv head
    )
    projector = counting.linear(asr_width, arch.hidden_size or 0, True)
    arch = finish_audio(
        arch, audio + word_timestamps, projector, [], "Nemotron 3.5 ASR + diarization encoders"
    )
    arch.extra["word_timestamp_parameter_count"] = word_timestamps
    return arch


TEXT_HANDLERS = {
    "moshi": moshi,
    "trocr": trocr,
    "seamless_m4t": seamless_m4t,
    "seamless_m4t_v2": seamless_m4t,
}

WRAPPERS: dict[str, Any] = {
    "encoder-decoder": encoder_decoder,
    "vision-encoder-decoder": vision_encoder_decoder,
    "t5gemma2": t5gemma2,
    "qwen3_omni_moe_thinker": qwen3_omni_moe_thinker,
    "voxtral_realtime": voxtral_realtime,
    "vibevoice_asr": vibevoice_asr,
    "moss_transcribe_diarize": moss_transcribe_diarize,
    "omniasr": omniasr,
    "pi0": pi0,
    "nemotron_h_omni": nemotron_h_omni,
    "nemo_speechlm": nemo_speechlm,
}

__all__ = ["TEXT_HANDLERS", "WRAPPERS"]
