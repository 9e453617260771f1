"""Recent multimodal families with audio as well as vision towers.

- Gemma 3n: the text model (per-layer embeddings, AltUp, LAuReL, KV sharing) and the multimodal
  wrapper (USM-style audio Conformer, MobileNetV5 vision tower, multimodal embedders).
- Phi-4-multimodal (``phi4_multimodal``): a Phi-3 language model with a SigLIP image encoder and a
  Conformer speech encoder, each with its projection into the language model.

Counted as transformers 5 builds ``Gemma3nForCausalLM`` (``gemma3n_text``) and
``Gemma3nForConditionalGeneration`` (``gemma3n``). The vision tower is a timm model chosen by name
(``vision_config.architecture``); its size is a property of that timm architecture, not of the
config, so only the architectures measured here are accepted (:data:`TIMM_VISION_PARAMETERS`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import checked_attention_type, read_context_length
from genz_catalog.convert._reader import ConfigReader

# timm architecture -> parameters of the vision tower transformers builds for Gemma 3n
# (TimmWrapperModel, no classifier), measured with transformers 5.24 + timm 1.0.31 on the meta
# device.
TIMM_VISION_PARAMETERS = {"mobilenetv5_300m_enc": 294_126_912}

_UNSUPPORTED = (
    "GenZ 0.0.16 has no operators for Gemma 3n's AltUp streams, LAuReL blocks, per-layer "
    "embeddings or cross-layer KV sharing; it cannot simulate this model faithfully"
)


def _intermediate_per_layer(reader: ConfigReader, layers: int) -> list[int]:
    """``intermediate_size``: one width for all layers, or a list with one per layer."""
    value = reader.raw("intermediate_size")
    if isinstance(value, list):
        widths = reader.int_list("intermediate_size") or []
        if len(widths) != layers:
            raise reader.error(f"intermediate_size has {len(widths)} entries for {layers} layers")
        return widths
    width = reader.int("intermediate_size")
    reader.check()
    return [width] * layers


def gemma3n_text(reader: ConfigReader) -> Architecture:
    """Gemma 3n text model.

    Per layer: GQA attention with q/k RMSNorms (the last ``num_kv_shared_layers`` layers have no
    K/V projections: they reuse an earlier layer's cache), a GeGLU MLP of the layer's width, four
    RMSNorms, AltUp (``altup_num_inputs`` streams), LAuReL (rank ``laurel_rank``) and the per-layer
    input gate/projection. Globally: token embeddings, the per-layer embedding table
    (``vocab_size_per_layer_input`` x layers x ``hidden_size_per_layer_input``) with its
    projection, and the AltUp (un)embedding projections. The LM head is tied.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    head_dim = reader.int("head_dim")
    reader.check()
    widths = _intermediate_per_layer(reader, layers)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    per_layer_vocab = reader.int("vocab_size_per_layer_input", default=262_144)
    per_layer_width = reader.int("hidden_size_per_layer_input", default=256)
    streams = reader.int("altup_num_inputs", default=4)
    laurel_rank = reader.int("laurel_rank", default=64)
    shared_kv = reader.int("num_kv_shared_layers", default=15, minimum=0)
    if shared_kv >= layers:
        raise reader.error(f"num_kv_shared_layers ({shared_kv}) must be below {layers} layers")
    attention_bias = reader.bool("attention_bias", default=False)
    layer_types = reader.str_list("layer_types")
    if layer_types is None:
        layer_types = [
            "full_attention" if (index + 1) % 5 == 0 else "sliding_attention"
            for index in range(layers)
        ]
    elif len(layer_types) != layers:
        raise reader.error(f"layer_types has {len(layer_types)} entries for {layers} layers")
    window = reader.int("sliding_window", default=512)

    query_out = heads * head_dim
    kv_out = kv_heads * head_dim
    own_kv = counting.linear(hidden, kv_out, attention_bias) * 2 + head_dim  # k, v, k_norm
    attention = (
        counting.linear(hidden, query_out, attention_bias)
        + head_dim  # q_norm
        + counting.linear(query_out, hidden, attention_bias)
    )
    altup = hidden + streams * streams + streams**3 + streams * hidden + hidden
    laurel = 2 * hidden * laurel_rank + hidden
    per_layer_input = 2 * hidden * per_layer_width + hidden
    caching_layers = layers - shared_kv
    total = (
        layers * (attention + 4 * hidden + altup + laurel + per_layer_input)
        + caching_layers * own_kv
        + sum(counting.mlp(hidden, width, True) for width in widths)
    )
    per_layer_embedding = per_layer_vocab * layers * per_layer_width
    total += (
        vocab * hidden  # tied with the LM head
        + hidden  # final norm
        + per_layer_embedding
        + hidden * layers * per_layer_width  # per_layer_model_projection
        + per_layer_width  # per_layer_projection_norm
        + 2 * (streams - 1) * hidden * hidden  # AltUp projections and unembedding projections
    )
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = max(widths)
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.vocab_size = vocab
    arch.context_length = read_context_length(reader)
    arch.attention_type = attention_type
    # Only the layers before the KV-sharing point write a cache; the rest read it.
    values = 2 * kv_out
    cached_types = layer_types[:caching_layers]
    arch.add_kv_layers(cached_types.count("full_attention"), values)
    arch.add_kv_layers(cached_types.count("sliding_attention"), values, window)
    arch.extra.update(
        {
            "per_layer_embedding_parameters": per_layer_embedding,
            "kv_shared_layers": shared_kv,
            "altup_num_inputs": streams,
            "laurel_rank": laurel_rank,
        }
    )
    arch.warnings.append(
        f"{per_layer_embedding:,} of the parameters are the per-layer embedding table, looked up "
        "(not multiplied) per token; Google's 'effective' size leaves them out"
    )
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": max(widths),
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_act": reader.str("hidden_activation", "hidden_act", default="gelu_pytorch_tanh"),
        "sliding_window": window,
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    arch.genz_unsupported = _UNSUPPORTED
    return arch


def _gemma3n_audio_params(audio: ConfigReader) -> tuple[int, int]:
    """(parameters, hidden size) of the Gemma 3n audio encoder (sub-sampling convs + Conformer)."""
    hidden = audio.int("hidden_size", default=1536)
    layers = audio.int("conf_num_hidden_layers", default=12)
    heads = audio.int("conf_num_attention_heads", default=8)
    conv_kernel = audio.int("conf_conv_kernel_size", default=5)
    features = audio.int("input_feat_size", default=128)
    channels = audio.int_list("sscp_conv_channel_size") or [128, 32]
    kernels = audio.raw("sscp_conv_kernel_size") or [[3, 3], [3, 3]]
    strides = audio.raw("sscp_conv_stride_size") or [[2, 2], [2, 2]]
    if hidden % heads:
        raise audio.error(f"audio hidden_size {hidden} is not divisible by {heads} heads")
    if not (len(channels) == len(kernels) == len(strides) == 2):
        raise audio.error("sscp_conv_* must describe exactly two convolution blocks")
    sub_sampling = 0
    in_channels = 1
    frequency = features
    for out_channels, kernel, stride in zip(channels, kernels, strides, strict=True):
        kernel_h, kernel_w = (int(value) for value in kernel)
        stride_w = int(stride[1])
        sub_sampling += out_channels * in_channels * kernel_h * kernel_w + out_channels
        # Frequency axis padded by one on each side (the JAX 'SAME'-like padding of the port).
        frequency = (frequency + 2 - kernel_w) // stride_w + 1
        in_channels = out_channels
    sub_sampling += in_channels * frequency * hidden  # input_proj_linear
    feed_forward = 2 * hidden + 2 * hidden * 4 * hidden
    attention = (
        2 * hidden  # pre and post norms
        + hidden // heads  # per_dim_scale
        + 5 * hidden * hidden  # pos_proj, q, k, v, post
    )
    light_conv = 2 * hidden + 2 * hidden * hidden + hidden * hidden + hidden * conv_kernel
    per_layer = 2 * feed_forward + attention + light_conv + hidden
    return sub_sampling + layers * per_layer, hidden


def _multimodal_embedder(config: ConfigReader, modality_hidden: int, text_hidden: int) -> int:
    """Gemma3nMultimodalEmbedder: soft-token table, two norms and the projection to text width."""
    tokens = config.int("vocab_size", default=128)
    return tokens * modality_hidden + 2 * modality_hidden + modality_hidden * text_hidden


def gemma3n(
    reader: ConfigReader, dispatch: Callable[[dict[str, Any], str, str], Architecture]
) -> Architecture:
    """Gemma 3n multimodal (``Gemma3nForConditionalGeneration``): text + audio + vision."""
    text_config = reader.sub("text_config")
    if text_config is None:
        reader.require("text_config")
        reader.check()
    arch = dispatch(text_config or {}, "gemma3n_text", "text_config.")
    text_params = arch.parameter_count
    text_hidden = arch.hidden_size or 0
    audio = ConfigReader(reader.sub("audio_config") or {}, reader.family, "audio_config.")
    vision = ConfigReader(reader.sub("vision_config") or {}, reader.family, "vision_config.")
    if reader.sub("audio_config") is None or reader.sub("vision_config") is None:
        arch.warnings.append(
            "audio_config / vision_config absent: Gemma3n config class defaults used"
        )
    audio_params, audio_hidden = _gemma3n_audio_params(audio)
    timm_name = vision.str("architecture", default="mobilenetv5_300m_enc")
    if vision.raw("model_args"):
        raise vision.error("vision_config.model_args changes the timm model; its size is unknown")
    vision_params = TIMM_VISION_PARAMETERS.get(timm_name or "")
    if vision_params is None:
        raise vision.error(
            f"vision_config.architecture {timm_name!r} is a timm model whose size is not known "
            f"here (known: {', '.join(sorted(TIMM_VISION_PARAMETERS))})"
        )
    vision_hidden = vision.int("hidden_size", default=2048)
    embedders = _multimodal_embedder(vision, vision_hidden, text_hidden) + _multimodal_embedder(
        audio, audio_hidden, text_hidden
    )
    arch.text_parameter_count = text_params
    arch.parameter_count = text_params + audio_params + vision_params + embedders
    arch.active_parameter_count = arch.parameter_count
    arch.extra.update(
        {
            "vision_parameter_count": vision_params,
            "audio_parameter_count": audio_params,
            "projector_parameter_count": embedders,
            "vision_tower": timm_name,
        }
    )
    arch.warnings.append(
        "GenZ would simulate the language model only (the audio and vision towers are not modelled)"
    )
    return arch


def _phi4mm_vision_params(vision: ConfigReader, text_hidden: int) -> int:
    """Phi4MultimodalImageEmbedding: SigLIP-style encoder with pooling head, and its projection."""
    hidden = vision.int("hidden_size", default=1152)
    intermediate = vision.int("intermediate_size", default=4304)
    layers = vision.int("num_hidden_layers", default=27)
    channels = vision.int("num_channels", default=3)
    image = vision.int("image_size", default=448)
    patch = vision.int("patch_size", default=14)
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + 2 * counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    encoder = (
        channels * patch * patch * hidden
        + hidden  # patch conv with bias
        + (image // patch) ** 2 * hidden  # position embedding
        + layers * per_layer
        + counting.layer_norm(hidden)  # post LayerNorm
    )
    pooling_head = (
        hidden  # probe
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.layer_norm(hidden)
        + counting.mlp(hidden, intermediate, False, True)
    )
    projection = (
        2 * hidden  # global / sub-image separator vectors
        + counting.linear(hidden, text_hidden, True)
        + counting.linear(text_hidden, text_hidden, True)
    )
    return encoder + pooling_head + projection


def _phi4mm_audio_params(audio: ConfigReader, text_hidden: int) -> int:
    """Phi4MultimodalAudioEmbedding: NeMo conv sub-sampling, Conformer blocks, two projections."""
    hidden = audio.int("hidden_size", default=1024)
    intermediate = audio.int("intermediate_size", default=1536)
    blocks = audio.int("num_blocks", default=24)
    heads = audio.int("num_attention_heads", default=16)
    kernel = audio.int("kernel_size", default=3)
    multiplier = audio.int("depthwise_multiplier", default=1)
    separable_out = audio.int("depthwise_separable_out_channel", default=1024)
    ext_out = audio.int("ext_pw_out_channel", default=1024)
    reduction = audio.int("time_reduction", default=8)
    conv_channels = audio.int("nemo_conv_channels", default=1024)
    max_distance = audio.int("bias_max_distance", default=1000)
    downsample = audio.int("downsample_rate", default=1)
    stages = reduction.bit_length() - 1
    if reduction != 1 << stages or stages < 1:
        raise audio.error(f"time_reduction must be a power of two, got {reduction}")
    # Mel bins left after the stride-2 stages; a stored nemo_final_size wins, as in transformers.
    final_size = audio.int("input_size", default=80)
    for _ in range(stages):
        final_size = (final_size - 1) // 2 + 1
    final_size = audio.int("nemo_final_size", default=final_size)
    sub_sampling = (
        conv_channels * 9
        + conv_channels  # first 3x3 conv from one channel
        + (stages - 1) * (conv_channels * 9 + conv_channels + conv_channels**2 + conv_channels)
        + counting.linear(conv_channels * final_size, hidden, True)
    )
    buckets = max_distance if audio.bool("bias_symmetric", default=False) else 2 * max_distance
    feed_forward = (
        counting.layer_norm(hidden)
        + counting.linear(hidden, 2 * intermediate, True)
        + counting.linear(intermediate, hidden, True)
    )
    convolution = (
        counting.layer_norm(hidden)
        + 2 * ext_out  # GLU b1, b2
        + counting.linear(hidden, 2 * ext_out, True)  # GLU pointwise conv
        + hidden * multiplier * kernel
        + hidden * multiplier  # depthwise conv
        + counting.linear(hidden * multiplier, separable_out, True)  # pointwise conv
        + counting.linear(hidden, ext_out, True)  # ext_pw_conv_1d
    )
    block = (
        2 * feed_forward
        + 4 * counting.linear(hidden, hidden, True)
        + convolution
        + 2 * counting.layer_norm(hidden)
    )
    projections = 2 * (
        counting.linear(hidden * downsample, text_hidden, True)
        + counting.linear(text_hidden, text_hidden, True)
    )
    return sub_sampling + buckets * heads + blocks * block + projections


def phi4_multimodal(
    reader: ConfigReader, dispatch: Callable[[dict[str, Any], str, str], Architecture]
) -> Architecture:
    """Phi-4-multimodal (``Phi4MultimodalForCausalLM``): Phi-3 language model at top level,
    ``vision_config`` (SigLIP with pooling head) and ``audio_config`` (Conformer)."""
    arch = dispatch(reader.config, "phi3", "")
    text_params = arch.parameter_count
    text_hidden = arch.hidden_size or 0
    warnings: list[str] = []
    vision_config = reader.sub("vision_config")
    audio_config = reader.sub("audio_config")
    if vision_config is None or audio_config is None:
        warnings.append("vision_config / audio_config absent: Phi4Multimodal class defaults used")
    vision = ConfigReader(vision_config or {}, reader.family, "vision_config.")
    audio = ConfigReader(audio_config or {}, reader.family, "audio_config.")
    vision_params = _phi4mm_vision_params(vision, text_hidden)
    audio_params = _phi4mm_audio_params(audio, text_hidden)
    arch.family = reader.family
    arch.text_parameter_count = text_params
    arch.parameter_count = text_params + vision_params + audio_params
    arch.active_parameter_count = arch.parameter_count
    arch.extra.update(
        {"vision_parameter_count": vision_params, "audio_parameter_count": audio_params}
    )
    arch.warnings.extend(warnings)
    arch.warnings.append(
        "GenZ simulates the language model only (the vision and audio encoders are not modelled)"
    )
    return arch


__all__ = ["TIMM_VISION_PARAMETERS", "gemma3n", "gemma3n_text", "phi4_multimodal"]
