"""The 2026 text families (families_text_2026) against transformers' meta-device count.

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

from genz_catalog.convert import ConversionError, convert_hf_config

pytestmark = pytest.mark.oracle

FAMILIES = [
    "mistral4",
    "axk1",
    "dots3_note_text",
    "mistral_large4",
    "hy_v4",
    "axk2",
    "minimax_m3_vl_text",
    "hrm_text",
    "dory",
    "zaya",
    "lara_mini",
    "bailing_hybrid",
    "step3p7",
    "muse_glimmer",
]

# dots.3 Note as a 4.x-era file says it: no per-layer lists, sliding layers as swa_* keys.
_DOTS3_DERIVED = ("per_layer_config", "layer_types", "mlp_layer_types", "rope_parameters")

# (family, overrides, keys removed): layout options each handler must follow.
VARIANTS = [
    (
        "mistral4",
        {"q_lora_rank": None, "first_k_dense_replace": 2, "tie_word_embeddings": True},
        (),
    ),
    ("axk1", {"mlp_layer_types": ["dense"] * 3 + ["sparse"] * 58, "attention_bias": True}, ()),
    (
        "dots3_note_text",
        {"first_k_dense_replace": 3, "swa_num_attention_heads": 32, "swa_num_key_value_heads": 32},
        _DOTS3_DERIVED,
    ),
    (
        "dots3_note_text",
        {"use_dsa": False, "swa_kv_lora_rank": 512, "swa_v_head_dim": 64},
        _DOTS3_DERIVED,
    ),
    ("dots3_note_text", {"use_sliding_window": False, "moe_layer_freq": 2}, _DOTS3_DERIVED),
    ("dots3_note_text", {"n_shared_experts": 2, "tie_word_embeddings": True}, ()),
    ("axk2", {"first_k_dense_replace": 3, "moe_layer_freq": 2}, ("mlp_layer_types",)),
    ("axk2", {"gated_norm_rank": 8, "attention_bias": True, "tie_word_embeddings": True}, ()),
    (
        "minimax_m3_vl_text",
        {
            "layer_types": ["minimax_m3_sparse", "full_attention"] * 30,
            "mlp_layer_types": ["dense"] * 2 + ["sparse"] * 58,
        },
        (),
    ),
    (
        "minimax_m3_vl_text",
        {
            "sparse_attention_config": {
                "sparse_attention_freq": [0, 1, 1, 1] * 15,
                "sparse_num_index_heads": 8,
                "sparse_index_dim": 64,
            },
            "moe_layer_freq": [0] + [1] * 59,
        },
        ("layer_types", "mlp_layer_types", "index_n_heads", "index_head_dim"),
    ),
    ("hrm_text", {"num_hidden_layers": 8, "H_cycles": 3}, ("num_layers_per_stack",)),
    ("hrm_text", {"attention_bias": True, "mlp_bias": True, "tie_word_embeddings": True}, ()),
    (
        "dory",
        {
            "layer_types": [
                kind
                for index in range(36)
                for kind in (
                    "full_attention" if (index + 1) % 4 == 0 else "sliding_attention",
                    "mlp",
                )
            ],
            "num_hidden_layers": 72,
            "n_input_layers": 16,
            "n_output_layers": 16,
        },
        ("n_recurrent_layers",),
    ),
    ("dory", {"attention_bias": True, "mlp_bias": True, "tie_word_embeddings": True}, ()),
    (
        "zaya",
        {"tie_word_embeddings": False, "lm_head_bias": True, "attention_bias": True},
        (),
    ),
    ("zaya", {"cca_time0": 3, "cca_time1": 4, "router_hidden_size": 128, "num_experts": 8}, ()),
    (
        "lara_mini",
        {
            "layer_types": ["linear_attention", "full_attention"] * 17,
            "attention_bias": True,
            "tie_word_embeddings": False,
        },
        (),
    ),
    ("lara_mini", {"linear_num_value_heads": 32, "shared_expert_intermediate_size": 1024}, ()),
    (
        # As a 4.x-era file says it: head_dim is the linear-attention width, no linear_* keys.
        "bailing_hybrid",
        {"head_dim": 128, "layer_group_size": 4, "first_k_dense_replace": 1},
        (
            "linear_head_dim",
            "linear_num_heads",
            "linear_conv_kernel_dim",
            "layer_types",
            "mlp_layer_types",
        ),
    ),
    ("bailing_hybrid", {"q_lora_rank": 768, "attention_bias": True, "num_shared_experts": 2}, ()),
    ("hy_v4", {"hc_mult": 2, "attention_bias": True, "n_shared_experts": 2}, ()),
    ("hy_v4", {"num_hidden_layers": 12}, ("indexer_types", "mlp_layer_types", "layer_types")),
    (
        "hy_v4",
        {
            "indexer_types": ["full", "shared"] * 17,
            "mlp_layer_types": ["dense"] * 3 + ["sparse"] * 31,
        },
        (),
    ),
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
    ("family", "overrides", "removed"),
    VARIANTS,
    ids=[f"{family}-{'-'.join(overrides)}" for family, overrides, _removed in VARIANTS],
)
def test_layout_variant_count_equals_transformers(
    family: str, overrides: dict[str, Any], removed: tuple[str, ...]
) -> None:
    config = default_config(family, **overrides)
    for key in removed:
        config.pop(key)
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


def test_dots3_note_kv_cache_follows_its_indexed_and_sliding_layers() -> None:
    record = convert_hf_config(default_config("dots3_note_text"))
    # 46 layers: 13 DSA layers cache the 512 + 64 latent and 128 indexer keys; 33 sliding
    # layers (window 512) cache their own 1024 + 64 latent.
    assert record["memory"]["kv_layers"] == [
        {"count": 13, "values_per_token": 512 + 64 + 128, "window": None},
        {"count": 33, "values_per_token": 1024 + 64, "window": 512},
    ]
    assert record["attention_type"] == "mla"


def test_dots3_note_refuses_a_per_layer_override_it_cannot_count() -> None:
    config = default_config("dots3_note_text")
    config["per_layer_config"]["02"] = {"intermediate_size": 4096}
    with pytest.raises(ConversionError, match="cannot count"):
        convert_hf_config(config)


# Mistral Large 4's language model, as 4.x-era files and other layouts say it: (text_config
# overrides, text_config keys removed so the config class derives them from the overrides).
_SHARED_KV = [0, 1, 1, 3, 3, 3] + list(range(6, 72))
MISTRAL_LARGE4_TEXT_VARIANTS = [
    ({"kv_source_layers": _SHARED_KV, "index_topk_pattern": "FSS" + "F" * 69}, ("indexer_types",)),
    (
        {"index_topk_freq": 3, "no_rope_layer_interval": 3, "first_k_dense_replace": 4},
        ("indexer_types", "no_rope_layers", "mlp_layer_types"),
    ),
    ({"attention_bias": True, "n_shared_experts": 2}, ()),
]


@pytest.mark.parametrize(
    ("overrides", "removed"),
    MISTRAL_LARGE4_TEXT_VARIANTS,
    ids=["kv-sharing", "legacy-schedules", "bias-shared-experts"],
)
def test_mistral_large4_text_layouts_count_equal_transformers(
    overrides: dict[str, Any], removed: tuple[str, ...]
) -> None:
    config = default_config("mistral_large4")
    text = config["text_config"]
    for key in removed:
        text.pop(key)
    text.update(overrides)
    record = convert_hf_config(config)
    assert record["parameter_count"] == meta_count(config)
    assert record["family"] == "mistral_large4"


def test_mistral_large4_kv_cache_skips_layers_that_reuse_kv() -> None:
    config = default_config("mistral_large4")
    text = config["text_config"]
    text["kv_source_layers"] = _SHARED_KV
    record = convert_hf_config(config)
    # Layers 2, 4 and 5 reuse another layer's latent and cache only their indexer keys (128).
    # Of the 69 owning layers, every 4th (NoPE) caches no rotary slice: 512 + 128 instead of
    # 512 + 64 + 128.
    nope_owners = sum(1 for index in range(72) if (index + 1) % 4 == 0 and index not in (2, 4, 5))
    assert record["memory"]["kv_layers"] == [
        {"count": 3, "values_per_token": 128, "window": None},
        {"count": nope_owners, "values_per_token": 512 + 128, "window": None},
        {"count": 69 - nope_owners, "values_per_token": 512 + 64 + 128, "window": None},
    ]


def test_hy_v4_caches_indexer_keys_only_on_its_own_indexer_layers() -> None:
    record = convert_hf_config(default_config("hy_v4"))
    # 34 layers: indexers on layer 0 and on 1, 5, 9 ... 33 (10 layers); every layer caches the
    # 512 + 64 latent.
    assert record["memory"]["kv_layers"] == [
        {"count": 24, "values_per_token": 512 + 64, "window": None},
        {"count": 10, "values_per_token": 512 + 64 + 128, "window": None},
    ]
    assert "hyper-connections" in record["genz_unsupported"]


def test_hrm_text_caches_kv_for_every_unrolled_layer() -> None:
    record = convert_hf_config(default_config("hrm_text"))
    # 16 layers per stack, 2 high cycles x (3 low cycles + 1): 128 invocations of 12 x 128 K+V.
    assert record["kv_values_per_token"] == 128 * 2 * 12 * 128
    assert "recurrent cycles" in record["genz_unsupported"]


@pytest.mark.parametrize(("mode", "cached_layers"), [("per_loop", 56), ("last_loop", 36)])
def test_dory_caches_kv_per_recurrent_loop(mode: str, cached_layers: int) -> None:
    record = convert_hf_config(default_config("dory", recurrent_kv_cache_mode=mode))
    # 8 input + 20 recurrent (2 loops) + 8 output layers, each caching 4 K/V heads of 256.
    assert record["kv_values_per_token"] == cached_layers * 2 * 4 * 256


def test_zaya_caches_kv_and_a_convolution_state() -> None:
    record = convert_hf_config(
        default_config("zaya", layer_types=["hybrid_sliding", "hybrid"] * 20, sliding_window=4096)
    )
    # K (2 heads x 128) and current+delayed V (2 x 64 each) per layer; half the layers slide.
    assert record["memory"]["kv_layers"] == [
        {"count": 20, "values_per_token": 512, "window": None},
        {"count": 20, "values_per_token": 512, "window": 4096},
    ]
    # Convolution over queries and keys (8 + 2 heads x 128) keeps 1 + 1 past steps; the
    # delayed value keeps 128.
    assert record["memory"]["ssm"] == {
        "layers": 40,
        "conv_state_values": 1280 * 2,
        "ssm_state_values": 128,
    }


def test_lara_mini_caches_kv_on_attention_layers_and_state_on_linear_ones() -> None:
    record = convert_hf_config(default_config("lara_mini"))
    # 34 layers in the period-5 pattern: 14 linear, 7 full, 13 sliding (window 512).
    assert record["memory"]["kv_layers"] == [
        {"count": 7, "values_per_token": 2 * 4 * 128, "window": None},
        {"count": 13, "values_per_token": 2 * 4 * 128, "window": 512},
    ]
    assert record["memory"]["ssm"]["layers"] == 14
    assert "gated-DeltaNet" in record["genz_unsupported"]


# Step 3.7: (text_config overrides, text_config keys removed, vision_config overrides).
STEP3P7_VARIANTS = [
    (
        {
            "layer_types": ["sliding_attention", "full_attention"] * 22 + ["full_attention"],
            "num_sliding_attention_heads": 32,
            "sliding_window": 512,
            "gating": False,
        },
        ("per_layer_config",),
        {},
    ),
    (
        {
            "moe_layers_enum": ",".join(str(index) for index in range(5, 45)),
            "mlp_bias": True,
            # Ignored: transformers 5 ties by the wrapper's flag, which Step3p7Config lacks.
            "tie_word_embeddings": True,
        },
        ("mlp_layer_types",),
        {"mlp_ratio": 4.0, "num_hidden_layers": 6},
    ),
]


@pytest.mark.parametrize(
    ("text", "removed", "vision"), STEP3P7_VARIANTS, ids=["sliding-heads", "legacy-moe-enum"]
)
def test_step3p7_layouts_count_equal_transformers(
    text: dict[str, Any], removed: tuple[str, ...], vision: dict[str, Any]
) -> None:
    config = default_config("step3p7")
    for key in removed:
        config["text_config"].pop(key)
    config["text_config"].update(text)
    config["vision_config"].update(vision)
    record = convert_hf_config(config)
    assert record["parameter_count"] == meta_count(config)
    assert record["text_parameter_count"] < record["parameter_count"]


@pytest.mark.parametrize(
    ("text", "vision"),
    [
        (
            {
                "attention_bias": True,
                "layer_types": ["sliding_attention"] * 51 + ["full_attention"],
            },
            {},
        ),
        (
            {"head_dim": 64, "tie_word_embeddings": True},
            {"patch_temporal": 1, "pos_emb_height": 16},
        ),
    ],
    ids=["bias-windows", "narrow-heads-image-only"],
)
def test_muse_glimmer_layouts_count_equal_transformers(
    text: dict[str, Any], vision: dict[str, Any]
) -> None:
    config = default_config("muse_glimmer")
    config["text_config"].update(text)
    config["vision_config"].update(vision)
    assert convert_hf_config(config)["parameter_count"] == meta_count(config)
