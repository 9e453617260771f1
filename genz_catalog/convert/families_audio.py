"""Audio-language wrappers: a Whisper-style audio encoder, a projector, a language model.

``parameter_count`` is the whole model transformers loads; ``text_parameter_count`` the language
model alone. GenZ simulates the language model only; the audio encoder is named in the warnings
and in ``architecture.audio_encoder``.
"""

from __future__ import annotations

from typing import Any

from genz_catalog.convert import counting
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_multimodal import _with_defaults
from genz_catalog.convert.families_vlm import Dispatch, text_model

# Count-relevant defaults of the audio encoder config classes (transformers 5.24). The two
# classes spell the same widths differently; both spellings are read below.
AUDIO_DEFAULTS: dict[str, dict[str, Any]] = {
    "qwen2_audio_encoder": {  # Qwen2AudioEncoderConfig
        "num_mel_bins": 128,
        "encoder_layers": 32,
        "encoder_attention_heads": 20,
        "encoder_ffn_dim": 5120,
        "d_model": 1280,
        "max_source_positions": 1500,
    },
    "qwen2_5_omni_audio_encoder": {  # Qwen2_5OmniAudioEncoderConfig
        "num_mel_bins": 128,
        "encoder_layers": 32,
        "encoder_attention_heads": 20,
        "encoder_ffn_dim": 5120,
        "d_model": 1280,
        "max_source_positions": 1500,
        "output_dim": 3584,
    },
    "audioflamingo3_encoder": {  # AudioFlamingo3EncoderConfig (Whisper-large-v3 shapes)
        "hidden_size": 1280,
        "intermediate_size": 5120,
        "num_hidden_layers": 32,
        "num_attention_heads": 20,
        "num_mel_bins": 128,
        "max_source_positions": 1500,
    },
    "glmasr_encoder": {  # GlmAsrEncoderConfig
        "hidden_size": 1280,
        "intermediate_size": 5120,
        "num_hidden_layers": 32,
        "num_attention_heads": 20,
        "num_mel_bins": 128,
        "max_source_positions": 1500,
    },
    "voxtral_encoder": {  # VoxtralEncoderConfig
        "hidden_size": 1280,
        "intermediate_size": 5120,
        "num_hidden_layers": 32,
        "num_attention_heads": 20,
        "num_mel_bins": 128,
        "max_source_positions": 1500,
    },
}

VOXTRAL_TEXT_DEFAULTS: dict[str, Any] = {
    "vocab_size": 131072,
    "hidden_size": 3072,
    "intermediate_size": 8192,
    "num_hidden_layers": 30,
    "num_key_value_heads": 8,
    "max_position_embeddings": 131072,
    "head_dim": 128,
}


def whisper_encoder_params(
    audio: ConfigReader, position_table: bool = True, grouped_kv: bool = False
) -> tuple[int, int, int]:
    """(parameters, width, FFN width) of a Whisper-style encoder (two convs, learned positions).

    Attention has no key bias (Whisper's layout); the position table is a parameter even though
    it is frozen, so it counts (``position_table=False``: a buffer or rotary positions, as in
    Qwen2.5-Omni and GLM-ASR).
    """
    width = audio.int("d_model", "hidden_size")
    ffn = audio.int("encoder_ffn_dim", "intermediate_size")
    layers = audio.int("encoder_layers", "num_hidden_layers")
    mels = audio.int("num_mel_bins")
    positions = audio.int("max_source_positions")
    audio.check()
    kv_width = width
    if grouped_kv:  # GLM-ASR: grouped K/V heads (num_key_value_heads, default: all heads)
        heads = audio.int("num_attention_heads", "encoder_attention_heads")
        audio.check()
        kv_heads = audio.int("num_key_value_heads", default=heads)
        kv_width = kv_heads * (width // heads)
    per_layer = (
        2 * width * width
        + 2 * width * kv_width
        + 2 * width
        + kv_width  # q, out and v biases; k has none
        + 2 * counting.layer_norm(width)
        + counting.mlp(width, ffn, False, True)
    )
    params = (
        mels * width * 3
        + width  # conv1, kernel 3
        + width * width * 3
        + width  # conv2, kernel 3
        + (positions * width if position_table else 0)
        + layers * per_layer
        + counting.layer_norm(width)
    )
    return params, width, ffn


def _audio_reader(reader: ConfigReader, default_type: str, warnings: list[str]) -> ConfigReader:
    config = reader.sub("audio_config")
    if config is None:
        reader.require("audio_config")
        reader.check()
    audio_type = config.get("model_type") or default_type
    if audio_type not in AUDIO_DEFAULTS:
        raise reader.error(
            f"audio encoder {audio_type!r} (audio_config.model_type) is not supported"
        )
    merged = _with_defaults(config, audio_type, AUDIO_DEFAULTS, "audio_config", warnings)
    return ConfigReader(merged, reader.family, "audio_config.")


def finish_audio(
    arch: Architecture, audio: int, projector: int, warnings: list[str], encoder: str
) -> Architecture:
    """Add an audio encoder and projector (parameters) to a language model's figures, as
    :func:`~genz_catalog.convert.families_multimodal.finish_multimodal` does for vision."""
    text = arch.parameter_count
    arch.text_parameter_count = text
    arch.parameter_count = text + audio + projector
    if arch.active_parameter_count is not None:
        arch.active_parameter_count += audio + projector
    arch.extra.update(
        {
            "audio_parameter_count": audio,
            "projector_parameter_count": projector,
            "audio_encoder": encoder,
        }
    )
    arch.warnings.extend(warnings)
    arch.warnings.append(
        f"GenZ simulates the language model only (the {encoder} audio encoder is not modelled)"
    )
    return arch


def qwen2_audio(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Qwen2-Audio: Whisper-style encoder, one biased linear projector, Qwen2 language model."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "qwen2", warnings, False)
    audio, width, _ = whisper_encoder_params(_audio_reader(reader, "qwen2_audio_encoder", warnings))
    projector = counting.linear(width, arch.hidden_size or 0, True)
    return finish_audio(arch, audio, projector, warnings, "qwen2_audio_encoder")


def voxtral(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Voxtral: Whisper-style encoder, frames stacked to the FFN width, two bias-free linears."""
    warnings: list[str] = []
    text_config = reader.sub("text_config")
    if text_config is not None:
        # VoxtralConfig lays these defaults under the given text_config (transformers 5.24).
        config = dict(reader.config)
        config["text_config"] = {**VOXTRAL_TEXT_DEFAULTS, **text_config}
        reader = ConfigReader(config, reader.family)
    arch = text_model(reader, dispatch, "llama", warnings, False)
    audio, _, ffn = whisper_encoder_params(_audio_reader(reader, "voxtral_encoder", warnings))
    text_hidden = arch.hidden_size or 0
    projector = counting.linear(ffn, text_hidden) + counting.linear(text_hidden, text_hidden)
    return finish_audio(arch, audio, projector, warnings, "voxtral_encoder")


def qwen2_5_omni_thinker(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Qwen2.5-Omni thinker: Whisper-style audio encoder with its own output projection,
    Qwen2.5-VL-style vision encoder, Qwen2 language model (the talker is a separate model)."""
    from genz_catalog.convert.families_vlm import _done, vision_tower

    warnings: list[str] = []
    arch = text_model(reader, dispatch, "qwen2_5_omni_text", warnings, False)
    audio_reader = _audio_reader(reader, "qwen2_5_omni_audio_encoder", warnings)
    audio, width, _ = whisper_encoder_params(audio_reader, position_table=False)
    output = audio_reader.int("output_dim")
    audio_reader.check()
    audio += counting.linear(width, output, True) + 2 * output  # proj, audio_bos_eos_token
    vision, _, _ = vision_tower(reader, "qwen2_5_omni_vision_encoder", warnings)
    arch.extra["audio_parameter_count"] = audio
    arch.warnings.append(
        "GenZ simulates the language model only (the qwen2_5_omni audio encoder is not modelled)"
    )
    return _done(arch, vision + audio, 0, warnings, "qwen2_5_omni_vision_encoder")


def audioflamingo3(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Audio Flamingo 3 / Music Flamingo: Whisper-style encoder, two-layer projector, Qwen2."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "qwen2", warnings, False)
    audio, width, _ = whisper_encoder_params(
        _audio_reader(reader, "audioflamingo3_encoder", warnings)
    )
    text_hidden = arch.hidden_size or 0
    bias = reader.bool("projector_bias", default=True)
    projector = counting.linear(width, text_hidden, bias) + counting.linear(
        text_hidden, text_hidden, bias
    )
    return finish_audio(arch, audio, projector, warnings, "audioflamingo3_encoder")


def glmasr(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """GLM-ASR: Whisper-style encoder with rotary positions and grouped K/V heads, frames
    stacked to the FFN width, a two-layer projector, Llama text."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "llama", warnings, True)
    audio, _, ffn = whisper_encoder_params(
        _audio_reader(reader, "glmasr_encoder", warnings), position_table=False, grouped_kv=True
    )
    text_hidden = arch.hidden_size or 0
    projector = counting.linear(ffn, 2 * text_hidden, True) + counting.linear(
        2 * text_hidden, text_hidden, True
    )
    return finish_audio(arch, audio, projector, warnings, "glmasr_encoder")


QWEN3_ASR_ENCODER_DEFAULTS = {  # Qwen3ASRAudioEncoderConfig
    "num_mel_bins": 128,
    "encoder_layers": 24,
    "encoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "d_model": 1024,
    "output_dim": 3584,
    "downsample_hidden_size": 480,
}


def qwen3_audio_encoder_params(audio: ConfigReader) -> tuple[int, int]:
    """(parameters, d_model) of the Qwen3-ASR / Qwen3-Omni audio encoder: three stride-2 3x3
    convs over the mel spectrogram, a bias-free flattening projection, Transformer layers with
    biased q/k/v/out, sinusoidal positions (no table) and a final LayerNorm."""
    width = audio.int("d_model")
    ffn = audio.int("encoder_ffn_dim")
    layers = audio.int("encoder_layers")
    mels = audio.int("num_mel_bins")
    channels = audio.int("downsample_hidden_size")
    audio.check()
    frequencies = (((mels + 1) // 2 + 1) // 2 + 1) // 2
    per_layer = (
        4 * counting.linear(width, width, True)
        + 2 * counting.layer_norm(width)
        + counting.mlp(width, ffn, False, True)
    )
    params = (
        9 * channels
        + channels  # conv2d1 (1 input channel)
        + 2 * (channels * channels * 9 + channels)
        + channels * frequencies * width  # conv_out
        + layers * per_layer
        + counting.layer_norm(width)
    )
    return params, width


def qwen3_asr(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Qwen3-ASR: Qwen3 audio encoder, two-layer projector to ``output_dim``, Qwen3 text."""
    warnings: list[str] = []
    arch = text_model(reader, dispatch, "qwen3", warnings, True)
    config = reader.sub("audio_config")
    if config is None:
        reader.require("audio_config")
        reader.check()
    audio_reader = ConfigReader(
        _with_defaults(
            config,
            "qwen3_asr_encoder",
            {"qwen3_asr_encoder": QWEN3_ASR_ENCODER_DEFAULTS},
            "audio_config",
            warnings,
        ),
        reader.family,
        "audio_config.",
    )
    audio, width = qwen3_audio_encoder_params(audio_reader)
    output = audio_reader.int("output_dim")
    audio_reader.check()
    projector = counting.linear(width, width, True) + counting.linear(width, output, True)
    return finish_audio(arch, audio, projector, warnings, "qwen3_asr_encoder")


GRANITE_SPEECH_ENCODER_DEFAULTS = {  # GraniteSpeechEncoderConfig
    "input_dim": 160,
    "num_layers": 10,
    "hidden_dim": 1024,
    "feedforward_mult": 4,
    "num_heads": 8,
    "output_dim": 42,
    "max_pos_emb": 512,
    "conv_kernel_size": 15,
    "conv_expansion_factor": 2,
}


def conformer_ctc_encoder_params(encoder: ConfigReader) -> int:
    """Granite Speech's Conformer CTC encoder: input projection, Conformer blocks (two half-step
    FFNs, attention with a relative-position table, conv module with batch norm), CTC heads.

    Batch-norm running statistics are buffers; its weight and bias count.
    """
    hidden = encoder.int("hidden_dim")
    layers = encoder.int("num_layers")
    heads = encoder.int("num_heads")
    inputs = encoder.int("input_dim")
    outputs = encoder.int("output_dim")
    mult = encoder.int("feedforward_mult")
    max_pos = encoder.int("max_pos_emb")
    kernel = encoder.int("conv_kernel_size")
    expansion = encoder.int("conv_expansion_factor")
    encoder.check()
    head_dim = encoder.int("dim_head", default=hidden // heads)
    inner = heads * head_dim
    conv_inner = hidden * expansion
    ffn = counting.layer_norm(hidden) + counting.mlp(hidden, hidden * mult, False, True)
    attention = (
        counting.layer_norm(hidden)
        + counting.linear(hidden, inner)
        + counting.linear(hidden, 2 * inner)
        + counting.linear(inner, hidden, True)
        + (2 * max_pos + 1) * head_dim  # rel_pos_emb
    )
    conv = (
        counting.layer_norm(hidden)
        + counting.linear(hidden, 2 * conv_inner, True)  # 1x1 up conv
        + conv_inner * kernel  # depthwise, no bias
        + 2 * conv_inner  # batch norm weight and bias
        + counting.linear(conv_inner, hidden, True)  # 1x1 down conv
    )
    per_block = 2 * ffn + attention + conv + counting.layer_norm(hidden)
    return (
        counting.linear(inputs, hidden, True)
        + layers * per_block
        + counting.linear(hidden, outputs, True)
        + counting.linear(outputs, hidden, True)
    )


def granite_speech(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Granite Speech: Conformer CTC encoder, BLIP-2 Q-Former projector over windows of frames,
    Granite language model (the LoRA adapter is not part of the base checkpoint's count)."""
    from genz_catalog.convert.families_vlm import QFORMER_DEFAULTS, _qformer_params

    warnings: list[str] = []
    arch = text_model(reader, dispatch, "granite", warnings, True)
    encoder = ConfigReader(
        _with_defaults(
            reader.sub("encoder_config"),
            "granite_speech_encoder",
            {"granite_speech_encoder": GRANITE_SPEECH_ENCODER_DEFAULTS},
            "encoder_config",
            warnings,
        ),
        reader.family,
        "encoder_config.",
    )
    audio = conformer_ctc_encoder_params(encoder)
    qformer_config = _with_defaults(
        reader.sub("projector_config"),
        "blip_2_qformer",
        {"blip_2_qformer": QFORMER_DEFAULTS},
        "projector_config",
        warnings,
    )
    qformer, width = _qformer_params(
        ConfigReader(qformer_config, reader.family, "projector_config."), instruct=False
    )
    window = reader.int("window_size", default=15)
    downsample = reader.int("downsample_rate", default=5)
    queries = window // downsample
    projector = qformer + queries * width + counting.linear(width, arch.hidden_size or 0, True)
    return finish_audio(arch, audio, projector, warnings, "granite_speech_encoder (Conformer)")


WRAPPERS = {
    "qwen2_audio": qwen2_audio,
    "voxtral": voxtral,
    "qwen2_5_omni_thinker": qwen2_5_omni_thinker,
    "granite_speech": granite_speech,
    "granite_speech_plus": granite_speech,
    "audioflamingo3": audioflamingo3,
    "musicflamingo": audioflamingo3,
    "glmasr": glmasr,
    "qwen3_asr": qwen3_asr,
}
