"""Vision/audio multimodal wrappers: exact counts against transformers on the meta device.

The oracle tests build each family's default config with transformers (``config_class()``),
convert its ``to_dict()`` and compare with the unique parameters of the class transformers maps
the family to, instantiated on the meta device. Skipped without torch/transformers (``oracle``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from genz_catalog.convert import ConversionError, convert_hf_config

ORACLE_FAMILIES = [
    "llava_onevision",
    "llava_next_video",
    "video_llava",
    "vipllava",
    "paligemma",
    "shieldgemma2",
    "idefics3",
    "smolvlm",
    "internvl",
    "lfm2_vl",
    "cohere2_vision",
    "lighton_ocr",
    "deepseek_vl",
    "deepseek_vl_hybrid",
    "got_ocr2",
    "qwen2_audio",
    "voxtral",
    "qwen2_5_omni_thinker",
    "granite_speech",
    "granite_speech_plus",
    "audioflamingo3",
    "musicflamingo",
    "glmasr",
    "qwen3_asr",
    "glm4v",
    "glm46v",
    "idefics2",
    "blip-2",
    "instructblip",
    "instructblipvideo",
    "pp_chart2table",
    "qianfan_ocr",
    "glmga",
    "git",
    "video_llama_3",
    "ovis2",
    "kosmos-2",
    "blip",
    "paddleocr_vl",
]


def _auto_class(transformers: Any, model_type: str) -> Any:
    from transformers.models.auto import modeling_auto

    if model_type in modeling_auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
        return transformers.AutoModelForImageTextToText
    if model_type in modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return transformers.AutoModelForCausalLM
    return transformers.AutoModelForSeq2SeqLM


def meta_count_of_default(model_type: str) -> tuple[dict[str, Any], int]:
    """(default config as JSON, unique parameters of its model on the meta device)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    config = transformers.AutoConfig.for_model(model_type)
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = _auto_class(transformers, model_type).from_config(config)
    count = sum(parameter.numel() for parameter in model.parameters())
    return json.loads(json.dumps(config.to_dict())), count


@pytest.mark.oracle
@pytest.mark.parametrize("model_type", ORACLE_FAMILIES)
def test_default_config_count_equals_meta_device(model_type: str) -> None:
    config, expected = meta_count_of_default(model_type)
    record = convert_hf_config(config, model_type)
    assert record["parameter_count"] == expected
    # The language model alone is part of the whole, and the record describes it.
    assert 0 < record["text_parameter_count"] < expected
    assert record["kv_values_per_token"] > 0
    assert record["genz_kwargs"]["hidden_size"] == record["hidden_size"]


def _llava_onevision_v4() -> dict[str, Any]:
    """A transformers-4 style llava-onevision-qwen2-0.5b config (tie only in text_config)."""
    return {
        "model_type": "llava_onevision",
        "text_config": {
            "model_type": "qwen2",
            "hidden_size": 896,
            "intermediate_size": 4864,
            "num_hidden_layers": 24,
            "num_attention_heads": 14,
            "num_key_value_heads": 2,
            "vocab_size": 152000,
            "max_position_embeddings": 32768,
            "tie_word_embeddings": True,
        },
        "vision_config": {
            "model_type": "siglip_vision_model",
            "hidden_size": 1152,
            "intermediate_size": 4304,
            "num_hidden_layers": 26,
            "num_attention_heads": 16,
            "image_size": 384,
            "patch_size": 14,
            "vision_use_head": False,
        },
        "vision_feature_layer": -1,
    }


def test_llava_onevision_ties_from_text_config() -> None:
    # LlavaOnevisionConfig switches tying on when the (old) text_config asks for it.
    tied = convert_hf_config(_llava_onevision_v4())
    untied_config = _llava_onevision_v4()
    untied_config["text_config"]["tie_word_embeddings"] = False
    untied = convert_hf_config(untied_config)
    assert untied["parameter_count"] - tied["parameter_count"] == 152000 * 896
    assert tied["attention_type"] == "gqa"
    assert tied["kv_values_per_token"] == 24 * 2 * 2 * 64


def test_wrapper_refuses_language_model_without_handler() -> None:
    config = _llava_onevision_v4()
    config["text_config"]["model_type"] = "no_such_text_model"
    with pytest.raises(ConversionError, match="no_such_text_model.*no exact handler"):
        convert_hf_config(config)


def test_wrapper_refuses_unknown_vision_tower() -> None:
    config = _llava_onevision_v4()
    config["vision_config"]["model_type"] = "mystery_vit"
    with pytest.raises(ConversionError, match="vision tower 'mystery_vit'"):
        convert_hf_config(config)


# Configs as published (transformers-4 era, sparse nested configs), kept in tests/data/hf-configs
# with their provenance in tests/data/truth.tsv.
CONFIG_DIR = Path(__file__).parent / "data" / "hf-configs"


def published(model_id: str) -> dict[str, Any]:
    return json.loads((CONFIG_DIR / model_id.replace("/", "__") / "config.json").read_text())


def meta_count(config: dict[str, Any]) -> int:
    """Unique parameters of transformers' model for ``config`` on the meta device."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    kwargs = {
        key: value for key, value in config.items() if key not in ("model_type", "architectures")
    }
    hf_config = transformers.AutoConfig.for_model(config["model_type"], **kwargs)
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = _auto_class(transformers, config["model_type"]).from_config(hf_config)
    return sum(parameter.numel() for parameter in model.parameters())


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("model_id", "text_params", "kv_values"),
    [
        # Qwen2-7B-shaped LM (32 layers x 2 x 32 heads x 128), untied head over 156032 tokens.
        ("Qwen/Qwen2-Audio-7B", 7_754_878_976, 32 * 2 * 32 * 128),
        # Gemma-2B LM (18 layers x 2 x 1 KV head x 256), head tied; the whole model is
        # 2,923,335,408, the figure keras-hub publishes for pali_gemma_3b_224 too.
        ("google/paligemma-3b-pt-224", 2_508_531_712, 18 * 2 * 1 * 256),
        # SmolLM2-360M-shaped LM (32 layers x 2 x 5 KV heads x 64), untied.
        ("HuggingFaceTB/SmolVLM2-500M-Video-Instruct", 409_252_800, 32 * 2 * 5 * 64),
    ],
)
def test_published_sparse_configs_count_exactly(
    model_id: str, text_params: int, kv_values: int
) -> None:
    config = published(model_id)
    record = convert_hf_config(config, model_id)
    assert record["parameter_count"] == meta_count(config)
    assert record["text_parameter_count"] == text_params
    assert record["kv_values_per_token"] == kv_values
    # Keys the nested config left to its class defaults are named, not silently assumed.
    assert any("config class defaults" in warning for warning in record["warnings"])


# Wrappers whose language model is handled by a text handler from another part of the project:
# exact once it is registered, refused (never guessed) until then.
NEEDS_TEXT_HANDLER = [
    ("fuyu", "persimmon"),
    ("hyperclovax_vision_v2", "hyperclovax"),
    ("glm4v_moe", "glm4v_moe_text"),
    ("exaone4_5", "exaone4"),
]


@pytest.mark.oracle
@pytest.mark.parametrize(("model_type", "text_type"), NEEDS_TEXT_HANDLER)
def test_wrapper_is_exact_or_refused_by_its_text_handler(model_type: str, text_type: str) -> None:
    from genz_catalog.convert import TEXT_HANDLERS

    config, expected = meta_count_of_default(model_type)
    if text_type not in TEXT_HANDLERS:
        with pytest.raises(ConversionError, match=f"'{text_type}'.*no exact handler"):
            convert_hf_config(config)
        return
    assert convert_hf_config(config)["parameter_count"] == expected


@pytest.mark.oracle
def test_paddleocr_vl_reads_language_keys_from_the_top_level() -> None:
    # The original remote-code config.json keeps the language model's keys at the top level.
    config, _ = meta_count_of_default("paddleocr_vl")
    flat = {key: value for key, value in config.pop("text_config").items() if key != "model_type"}
    flat.update(config)
    flat["num_hidden_layers"] = 4
    record = convert_hf_config(flat)
    assert record["parameter_count"] == meta_count(flat)
    assert record["num_layers"] == 4


@pytest.mark.oracle
def test_glmasr_audio_encoder_with_grouped_kv_heads() -> None:
    config, _ = meta_count_of_default("glmasr")
    config["audio_config"]["num_key_value_heads"] = 4  # K/V 4 x 64 wide instead of 1280
    config["audio_config"]["num_hidden_layers"] = 4
    config["text_config"]["num_hidden_layers"] = 2
    assert convert_hf_config(config)["parameter_count"] == meta_count(config) == 320_844_800
