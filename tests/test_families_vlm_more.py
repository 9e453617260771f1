"""More vision and multimodal wrappers: the converter's count equals transformers' meta-device count on
each family's default config, in the transformers-5 and the transformers-4 spelling.

Skipped without torch/transformers (``oracle``).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from genz_catalog.convert import ConversionError, convert_hf_config

FAMILIES = [
    "gemma4",
    "gemma4_unified",
    "gemma4_unified_assistant",
    "aria",
    "glm_ocr",
    "cosmos3_omni",
    "granite_docling",
    "lfm3_vl",
    "cosmos3_edge",
    "minicpmv4_6",
    "minicpmv4_7",
    "minicpm_ocr",
    "kimi_k25",
    "pix2struct",
    "kosmos-2.5",
    "pp_formulanet",
    "udop",
    "idefics",
    "molmo2",
    "florence2",
    "janus",
    "ernie4_5_vl_moe",
    "unlimited_ocr",
    "minimax_m3_vl",
    "evolla",
]
NO_OWN_CACHE = {"gemma4_unified_assistant"}
NOT_WRAPPERS = {"udop"}  # one flat config: no separate language-model count


def meta_count_of_default(model_type: str, **overrides: Any) -> tuple[dict[str, Any], int]:
    """(default config as JSON, unique parameters of the swept class on the meta device);
    ``overrides`` go to the config class."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from transformers.models.auto import modeling_auto

    transformers.logging.set_verbosity_error()
    for mapping in (
        modeling_auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    ):
        if model_type in mapping:
            class_name = mapping[model_type]
            break
    config = transformers.AutoConfig.for_model(model_type, **overrides)
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = getattr(transformers, class_name)._from_config(config)
    count = sum(parameter.numel() for parameter in model.parameters())
    return json.loads(json.dumps(config.to_dict())), count


@pytest.mark.oracle
@pytest.mark.parametrize("model_type", FAMILIES)
def test_default_config_count_equals_meta_device(model_type: str) -> None:
    config, expected = meta_count_of_default(model_type)
    record = convert_hf_config(config, model_type)
    assert record["parameter_count"] == expected
    if model_type not in NOT_WRAPPERS:
        assert 0 < record["text_parameter_count"] <= expected
    # The Gemma 4 drafter's layers all read the backbone's K/V: no cache of its own.
    assert (record["kv_values_per_token"] > 0) == (model_type not in NO_OWN_CACHE)
    assert record["genz_kwargs"]["hidden_size"] == record["hidden_size"]


def test_gemma4_with_a_vision_tower_is_refused() -> None:
    config = {"model_type": "gemma4", "text_config": {}, "vision_config": {"hidden_size": 768}}
    with pytest.raises(ConversionError, match="gemma4: vision_config present"):
        convert_hf_config(config)


def test_udop_counts_each_layout_bias_it_is_given() -> None:
    config, _ = meta_count_of_default("udop")
    one_bias = convert_hf_config({**config, "relative_bias_args": [{"type": "1d"}]})
    # transformers 5.24 on the meta device: 742,438,912 with only the (tied) 1-D bias.
    assert one_bias["parameter_count"] == 742_438_912
    with pytest.raises(ConversionError, match="relative_bias_args must be a non-empty list"):
        convert_hf_config({**config, "relative_bias_args": []})


@pytest.mark.oracle
@pytest.mark.parametrize(
    "overrides",
    [
        {"use_resampler": True, "perceiver_config": {"qk_layer_norms_perceiver": True}},
        {"additional_vocab_size": 2, "tie_word_embeddings": True},
        {"additional_vocab_size": 2},
        {"alpha_type": "vector", "qk_layer_norms": True, "cross_layer_interval": 4},
    ],
)
def test_idefics_options_count_like_transformers(overrides: dict[str, Any]) -> None:
    config, expected = meta_count_of_default("idefics", **overrides)
    record = convert_hf_config(config)
    assert record["parameter_count"] == expected
    assert "gated cross-attention" in record["genz_unsupported"]


@pytest.mark.oracle
def test_minimax_m3_vl_counts_indexer_and_dense_layers() -> None:
    text = {
        "num_hidden_layers": 4,
        "layer_types": ["full_attention", "minimax_m3_sparse"] * 2,
        "mlp_layer_types": ["dense", "sparse", "sparse", "dense"],
    }
    config, expected = meta_count_of_default("minimax_m3_vl", text_config=text)
    record = convert_hf_config(config)
    assert record["parameter_count"] == expected
    # 4 layers x 2 x 4 K/V heads x 128, plus the indexer's 128-wide key in 2 layers.
    assert record["kv_values_per_token"] == 4 * 2 * 4 * 128 + 2 * 128


@pytest.mark.oracle
def test_evolla_options_count_like_transformers() -> None:
    protein = {"position_embedding_type": "absolute", "emb_layer_norm_before": True}
    config, expected = meta_count_of_default(
        "evolla",
        aligner_num_add_layers=3,
        aligner_enable_bias=False,
        resampler_depth=2,
        protein_encoder_config={**protein, "num_hidden_layers": 4},
    )
    record = convert_hf_config(config)
    assert record["parameter_count"] == expected
    assert "cross-attention adapters" in record["genz_unsupported"]
