"""Encoder-decoder compositions, speech and omni families: exact counts against
transformers on the meta device.

Each family's default config is built by transformers (``config_class()``), converted in its
``to_dict()`` spelling and in the transformers-4 spelling the family sweep uses, and compared
with the unique parameters of the class the sweep counts, instantiated on the meta device.
Skipped without torch/transformers (the ``oracle`` extra).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from test_family_sweep import v4_spelling

from genz_catalog.convert import ConversionError, convert_hf_config

# family -> the model class the family sweep counts for it.
ORACLE_CLASSES = {
    "trocr": "TrOCRForCausalLM",
    "encoder-decoder": "EncoderDecoderModel",
    "vision-encoder-decoder": "VisionEncoderDecoderModel",
    "t5gemma2": "T5Gemma2ForConditionalGeneration",
    "seamless_m4t": "SeamlessM4TForTextToText",
    "moshi": "MoshiForCausalLM",
    "nemo_speechlm": "Nemotron3_5TranscribeForConditionalGeneration",
    "nemotron_h_omni": "NemotronH_Omni_Reasoning_V3",
    "pi0": "PI0ForConditionalGeneration",
    "omniasr": "OmniASRForConditionalGeneration",
    "moss_transcribe_diarize": "MossTranscribeDiarizeForConditionalGeneration",
    "vibevoice_asr": "VibeVoiceAsrForConditionalGeneration",
    "voxtral_realtime": "VoxtralRealtimeForConditionalGeneration",
    "qwen3_omni_moe_thinker": "Qwen3OmniMoeThinkerForConditionalGeneration",
    "seamless_m4t_v2": "SeamlessM4Tv2ForTextToText",
}


def _meta_count(config: Any, class_name: str) -> int:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = getattr(transformers, class_name)._from_config(config)
    return sum(parameter.numel() for parameter in model.parameters())


def _default(family: str) -> tuple[Any, dict[str, Any]]:
    transformers = pytest.importorskip("transformers")
    config = transformers.AutoConfig.for_model(family)
    return config, json.loads(json.dumps(config.to_dict()))


@pytest.mark.oracle
@pytest.mark.parametrize("family", sorted(ORACLE_CLASSES))
def test_default_config_count_equals_meta_device(family: str) -> None:
    config, as_dict = _default(family)
    expected = _meta_count(config, ORACLE_CLASSES[family])
    record = convert_hf_config(as_dict, family)
    assert record["parameter_count"] == expected
    old = v4_spelling(as_dict, dict(getattr(type(config), "attribute_map", {}) or {}))
    assert convert_hf_config(old, family)["parameter_count"] == expected
    assert record["kv_values_per_token"] > 0
    assert record["genz_kwargs"]["hidden_size"] == record["hidden_size"]


@pytest.mark.oracle
def test_trocr_shaped_vision_encoder_decoder() -> None:
    # microsoft/trocr-base-handwritten's shapes: ViT-base at 384 px without q/k/v bias, a
    # 1024-wide TrOCR decoder whose cross-attention reads the 768-wide encoder directly.
    transformers = pytest.importorskip("transformers")
    encoder = transformers.ViTConfig(image_size=384, qkv_bias=False)
    decoder = transformers.TrOCRConfig(
        cross_attention_hidden_size=768, use_learned_position_embeddings=True
    )
    config = transformers.VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    expected = _meta_count(config, "VisionEncoderDecoderModel")
    record = convert_hf_config(json.loads(json.dumps(config.to_dict())))
    assert record["parameter_count"] == expected
    # 12 decoder layers x (K + V) x 1024 wide, cached per generated token.
    assert record["kv_values_per_token"] == 12 * 2 * 1024
    assert record["model_type"] == "encoder-decoder"
    assert record["genz_unsupported"]


@pytest.mark.oracle
def test_encoder_decoder_of_different_widths_counts_the_projection() -> None:
    transformers = pytest.importorskip("transformers")
    encoder = transformers.BertConfig(
        hidden_size=512, num_hidden_layers=4, num_attention_heads=8, intermediate_size=2048
    )
    decoder = transformers.RobertaConfig(num_hidden_layers=3)
    config = transformers.EncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    expected = _meta_count(config, "EncoderDecoderModel")
    record = convert_hf_config(json.loads(json.dumps(config.to_dict())))
    assert record["parameter_count"] == expected
    assert record["num_layers"] == 7


def test_encoder_decoder_refuses_unknown_decoder() -> None:
    config = {
        "model_type": "encoder-decoder",
        "encoder": {"model_type": "bert", "hidden_size": 768},
        "decoder": {"model_type": "gpt2", "n_embd": 768},
    }
    with pytest.raises(ConversionError, match="decoder type 'gpt2'.*refusing"):
        convert_hf_config(config)


@pytest.mark.oracle
def test_t5gemma2_untied_gives_the_decoder_and_head_their_own_tables() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.T5Gemma2Config(tie_word_embeddings=False)
    expected = _meta_count(config, "T5Gemma2ForConditionalGeneration")
    record = convert_hf_config(json.loads(json.dumps(config.to_dict())))
    assert record["parameter_count"] == expected
    # Gemma 3 4B shapes: 26 decoder layers, 4 KV heads x 256, 5 of 6 layers slide (4096).
    assert record["memory"]["cross_attention_values_per_source_token"] == 26 * 2 * 4 * 256


@pytest.mark.oracle
def test_nemotron_h_omni_with_mtp_layers_counts_the_vision_final_norm() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.AutoConfig.for_model("nemotron_h_omni")
    config.text_config.num_nextn_predict_layers = 1
    expected = _meta_count(config, "NemotronH_Omni_Reasoning_V3")
    record = convert_hf_config(json.loads(json.dumps(config.to_dict())))
    # One LayerNorm (weight and bias over the 1280-wide RADIO features) more than without MTP.
    assert record["parameter_count"] == expected == 2_659_803_008 + 2 * 1280


def test_nemotron_h_omni_refuses_an_audio_tower() -> None:
    config = {"model_type": "nemotron_h_omni", "audio_config": {"hidden_size": 1024}}
    with pytest.raises(ConversionError, match="audio_config is set.*refusing"):
        convert_hf_config(config)
