"""The fam-a handlers (families_more_a) against transformers' meta-device count.

Each family is converted from transformers' own default config, in the transformers-5 spelling
(``to_dict()``) and rewritten to the transformers-4 spelling, and compared to the parameter with
the model transformers builds on the meta device. Variants flip the options that change the
layout, so a handler that ignores one fails. Skipped without the ``oracle`` extra.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from test_families_text_more import default_config
from test_family_sweep import _families, v4_spelling

from genz_catalog.convert import convert_hf_config

pytestmark = pytest.mark.oracle

FAMILIES = ["mistral4", "axk1"]

# (family, overrides): layout options each handler must follow.
VARIANTS = [
    ("mistral4", {"q_lora_rank": None, "first_k_dense_replace": 2, "tie_word_embeddings": True}),
    ("axk1", {"mlp_layer_types": ["dense"] * 3 + ["sparse"] * 58, "attention_bias": True}),
]


def meta_count(config: dict[str, Any]) -> int:
    """Unique parameters of the model the sweep's class for this family builds on the meta
    device (``AutoModelForCausalLM`` does not map every family, e.g. ``mistral4``)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    family = config["model_type"]
    kwargs = {
        key: value
        for key, value in config.items()
        if key not in ("model_type", "architectures", "transformers_version")
    }
    hf_config = transformers.AutoConfig.for_model(family, **kwargs)
    model_class = getattr(transformers, _families()[family][0])
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = model_class._from_config(hf_config)
    return sum(parameter.numel() for parameter in model.parameters())


def _v4(config: dict[str, Any]) -> dict[str, Any]:
    transformers = pytest.importorskip("transformers")
    config_class = type(transformers.AutoConfig.for_model(config["model_type"]))
    return v4_spelling(config, dict(getattr(config_class, "attribute_map", {}) or {}))


@pytest.mark.parametrize("family", FAMILIES)
def test_default_config_count_equals_transformers(family: str) -> None:
    config = default_config(family)
    record = convert_hf_config(config)
    assert record["family"] == family
    expected = meta_count(config)
    assert record["parameter_count"] == expected
    assert convert_hf_config(_v4(config))["parameter_count"] == expected


@pytest.mark.parametrize(
    ("family", "overrides"),
    VARIANTS,
    ids=[f"{family}-{'-'.join(overrides)}" for family, overrides in VARIANTS],
)
def test_layout_variant_count_equals_transformers(family: str, overrides: dict[str, Any]) -> None:
    config = default_config(family, **overrides)
    assert convert_hf_config(config)["parameter_count"] == meta_count(config)


def test_axk1_4x_file_without_dense_prefix_key_gets_one_dense_layer() -> None:
    # AXK1Config's default: only layer 0 dense when neither mlp_layer_types nor
    # first_k_dense_replace is given.
    config = default_config("axk1")
    config.pop("mlp_layer_types")
    config.pop("first_k_dense_replace", None)
    assert convert_hf_config(config)["parameter_count"] == meta_count(default_config("axk1"))


@pytest.mark.parametrize("family", ["mistral4", "axk1"])
def test_mla_families_cache_the_latent(family: str) -> None:
    config = default_config(family)
    record = convert_hf_config(config)
    assert record["attention_type"] == "mla"
    latent = config["kv_lora_rank"] + config["qk_rope_head_dim"]
    assert record["kv_values_per_token"] == config["num_hidden_layers"] * latent
    assert record["is_moe"] and record["num_experts"] == config["n_routed_experts"]
