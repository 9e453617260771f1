"""The 2025 mixture-of-experts families (families_moe_modern) and multi-token-prediction modules.

Real configs live in tests/data/hf-configs (their meta-device counts are truth.tsv rows, checked
by test_convert.py and test_convert_oracle.py). Here: the record fields those counts do not
cover, the checkpoint totals the MTP figure must reproduce, both spellings of a config, and the
oracle on transformers' own default config of every family.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from genz_catalog import ModelManager
from genz_catalog.cli import cli
from genz_catalog.convert import ConversionError, convert_hf_config
from genz_catalog.db import connect, migrations

CONFIG_DIR = Path(__file__).parent / "data" / "hf-configs"


def load(model_id: str) -> dict[str, Any]:
    return json.loads((CONFIG_DIR / model_id.replace("/", "__") / "config.json").read_text())


def convert(model_id: str) -> dict[str, Any]:
    return convert_hf_config(load(model_id), model_id)


# --- checkpoint totals: parameter_count + mtp_parameter_count -------------------------------------
#
# Totals are the sums of every tensor in the released safetensors (the Hub's metadata total for
# DeepSeek; the tensor lists quoted next to the configs for the others, see truth.tsv). Buffers
# that checkpoints also store (e_score_correction_bias, FP8 block scales) are added explicitly.


def test_deepseek_r1_checkpoint_is_671b_loaded_plus_its_mtp_module():
    record = convert("deepseek-ai/DeepSeek-R1")
    assert record["parameter_count"] == 671_026_404_352  # what transformers loads
    # One MTP module: enorm, hnorm, eh_proj (2h -> h), one MoE layer, shared_head.norm (11.6B
    # own) plus its copies of the embedding and output head (2 x 129280 x 7168).
    assert record["mtp_parameter_count"] == 13_463_426_048
    assert record["architecture"]["mtp_shared_copy_parameter_count"] == 2 * 129280 * 7168
    total = record["parameter_count"] + record["mtp_parameter_count"]
    assert total == 684_489_830_400  # "685B" on the Hub: 671B main + 14B MTP (DeepSeek README)
    assert record["active_parameter_count"] == 37_552_282_624  # MTP never counts as active


def test_deepseek_v32_checkpoint_total_to_the_parameter():
    record = convert("deepseek-ai/DeepSeek-V3.2")
    fp8_block_scales = 41_591_584  # one float32 per 128 x 128 block of every FP8 weight
    routing_bias = 59 * 256  # e_score_correction_bias of the 59 MoE layers (buffers)
    assert (
        record["parameter_count"] + record["mtp_parameter_count"] + fp8_block_scales + routing_bias
        == 685_396_921_376
    )
    # The DSA indexer (wq_b, wk, biased k_norm, weights_proj) is in every layer, MTP's too.
    assert record["architecture"]["index_head_dim"] == 128
    assert record["parameter_count"] - convert_hf_config(
        {**load("deepseek-ai/DeepSeek-V3.2"), "model_type": "deepseek_v3"}
    )["parameter_count"] == 61 * (1536 * 64 * 128 + 7168 * 128 + 2 * 128 + 7168 * 64)


def test_qwen3_next_counts_the_mtp_layer_its_config_does_not_declare():
    record = convert("Qwen/Qwen3-Next-80B-A3B-Instruct")
    assert record["parameter_count"] == 79_674_391_296
    assert record["parameter_count"] + record["mtp_parameter_count"] == 81_324_862_720
    assert any("mtp_parameter_count assumes" in warning for warning in record["warnings"])


def test_qwen3_5_moe_mtp_from_its_text_config():
    record = convert("Qwen/Qwen3.5-35B-A3B")
    assert record["parameter_count"] + record["mtp_parameter_count"] == 35_951_822_704
    assert not any("mtp_parameter_count assumes" in warning for warning in record["warnings"])


def test_glm_4_7_flash_mtp_module_stores_its_own_embedding_and_head():
    record = convert("zai-org/GLM-4.7-Flash")
    routing_bias = 47 * 64  # e_score_correction_bias buffers (46 MoE layers + the MTP layer)
    assert (
        record["parameter_count"] + record["mtp_parameter_count"] + routing_bias == 31_221_488_576
    )


def test_checkpoints_without_mtp_weights_report_none():
    kimi = convert("moonshotai/Kimi-K2-Instruct")  # num_nextn_predict_layers: 0
    assert kimi["mtp_parameter_count"] is None
    fp8_block_scales, routing_bias, rotary_buffers = 62_495_192, 60 * 384, 61 * 56
    assert (
        kimi["parameter_count"] + fp8_block_scales + routing_bias + rotary_buffers
        == 1_026_470_731_056
    )
    minimax = convert("MiniMaxAI/MiniMax-M2.7")  # declares 3 MTP modules, ships none
    assert minimax["mtp_parameter_count"] is None
    assert minimax["parameter_count"] + 13_880_064 + 62 * 256 == 228_703_644_928
    assert any("num_mtp_modules" in warning for warning in minimax["warnings"])


# --- record fields on real configs --------------------------------------------------------------


def test_gpt_oss_20b_fields():
    record = convert("openai/gpt-oss-20b")
    assert (record["parameter_count"], record["active_parameter_count"]) == (
        20_914_757_184,
        4_187_440_704,
    )
    assert (record["num_experts"], record["experts_per_token"], record["is_moe"]) == (32, 4, True)
    assert record["attention_type"] == "gqa"
    # 12 full layers and 12 sliding (128-token) layers, 8 KV heads of 64.
    assert record["memory"]["kv_layers"] == [
        {"count": 12, "values_per_token": 1024, "window": None},
        {"count": 12, "values_per_token": 1024, "window": 128},
    ]
    kwargs = record["genz_kwargs"]
    assert (kwargs["num_experts"], kwargs["expert_top_k"], kwargs["moe_intermediate_size"]) == (
        32,
        4,
        2880,
    )
    assert record["genz_unsupported"] is None
    assert any("sinks" in warning for warning in record["warnings"])


def test_kimi_k2_is_counted_as_deepseek_v3_mla():
    record = convert("moonshotai/Kimi-K2-Instruct")
    assert record["family"] == "kimi_k2"
    assert record["attention_type"] == "mla"
    assert record["kv_values_per_token"] == 61 * (512 + 64)
    assert (record["num_experts"], record["experts_per_token"]) == (384, 8)
    assert record["active_parameter_count"] == 32_861_477_888
    kwargs = record["genz_kwargs"]
    assert (kwargs["ffn_implementation"], kwargs["n_shared_experts"]) == ("deepseek", 1)
    assert kwargs["first_k_dense_replace"] == 1


def test_deepseek_v32_caches_the_indexer_keys_beside_the_latent():
    record = convert("deepseek-ai/DeepSeek-V3.2")
    assert record["kv_values_per_token"] == 61 * (512 + 64 + 128)
    assert any("sparse attention" in warning for warning in record["warnings"])


def test_qwen3_next_linear_attention_state_and_genz_refusal():
    record = convert("Qwen/Qwen3-Next-80B-A3B-Instruct")
    # 12 gated-attention layers cache 2 KV heads of 256; 36 DeltaNet layers keep a state.
    assert record["memory"]["kv_layers"] == [
        {"count": 12, "values_per_token": 1024, "window": None}
    ]
    assert record["memory"]["ssm"] == {
        "layers": 36,
        "conv_state_values": 8192 * 4,
        "ssm_state_values": 32 * 128 * 128,
    }
    assert "gated-DeltaNet" in record["genz_unsupported"]
    assert record["genz_kwargs"]["n_shared_experts"] == 1
    assert record["active_parameter_count"] == 3_874_929_408


def test_glm_4_5_air_fields_and_mtp():
    record = convert("zai-org/GLM-4.5-Air")
    assert record["head_dim"] == 128 != 4096 // 96
    assert record["kv_values_per_token"] == 46 * 2 * 8 * 128
    assert record["mtp_parameter_count"] == 3_616_573_440
    assert record["genz_kwargs"]["first_k_dense_replace"] == 1
    assert record["genz_kwargs"]["shared_expert_intermediate_size"] == 1408


def test_qwen3_vl_moe_wrapper_counts_the_vision_tower():
    record = convert("Qwen/Qwen3-VL-30B-A3B-Instruct")
    assert record["parameter_count"] == 31_070_754_032  # also the checkpoint's total
    vision = record["architecture"]["vision_parameter_count"]
    assert record["text_parameter_count"] + vision == record["parameter_count"]
    assert vision == 538_631_408
    assert record["family"] == "qwen3_vl_moe"


def test_minimax_m2_full_width_qk_norm_and_mla_free_kv():
    record = convert("MiniMaxAI/MiniMax-M2.7")
    assert record["kv_values_per_token"] == 62 * 2 * 8 * 128
    assert record["active_parameter_count"] == 11_030_537_216


def test_llama4_maverick_chunked_layers_and_interleaved_moe():
    record = convert("meta-llama/Llama-4-Maverick-17B-128E-Instruct")
    # RoPE layers attend within 8192-token chunks; every 4th (NoPE) layer is global.
    assert record["memory"]["kv_layers"] == [
        {"count": 12, "values_per_token": 2048, "window": None},
        {"count": 36, "values_per_token": 2048, "window": 8192},
    ]
    assert (record["num_experts"], record["experts_per_token"]) == (128, 1)
    assert record["architecture"]["vision_parameter_count"] == 850_960_896
    assert record["text_parameter_count"] == 400_711_848_960
    assert "MoE every 2 layers" in record["genz_unsupported"]


def test_explicit_null_sliding_window_means_full_attention():
    config = {**load("openai/gpt-oss-20b"), "sliding_window": None}
    record = convert_hf_config(config)
    assert record["memory"]["kv_layers"] == [
        {"count": 24, "values_per_token": 1024, "window": None}
    ]
    assert "counted as full attention" in record["warnings"][0]


# --- both spellings --------------------------------------------------------------------------


def test_deepseek_reads_mlp_layer_types_as_well_as_first_k_dense_replace():
    config = load("deepseek-ai/DeepSeek-R1")
    spelled_5x = {k: v for k, v in config.items() if k != "first_k_dense_replace"}
    spelled_5x["mlp_layer_types"] = ["dense"] * 3 + ["sparse"] * 58
    assert convert_hf_config(spelled_5x)["parameter_count"] == 671_026_404_352
    spelled_5x["mlp_layer_types"] = ["dense", "sparse", "dense"] + ["sparse"] * 58
    with pytest.raises(ConversionError, match="mixes dense layers between MoE layers"):
        convert_hf_config(spelled_5x)


def test_qwen3_next_layer_types_and_full_attention_interval_agree():
    config = load("Qwen/Qwen3-Next-80B-A3B-Instruct")
    spelled_5x = {k: v for k, v in config.items() if k != "full_attention_interval"}
    spelled_5x["layer_types"] = (["linear_attention"] * 3 + ["full_attention"]) * 12
    spelled_5x["rope_parameters"] = {"rope_theta": 10000000, "partial_rotary_factor": 0.25}
    assert convert_hf_config(spelled_5x) == convert_hf_config(config)


def test_gpt_oss_num_experts_spellings_agree():
    config = load("openai/gpt-oss-20b")
    other = {
        k: v for k, v in config.items() if k not in ("num_local_experts", "num_experts_per_tok")
    }
    other.update({"num_experts": 32, "experts_per_token": 4})
    assert convert_hf_config(other)["parameter_count"] == 20_914_757_184


def test_minimax_text_01_attn_type_list_is_read_like_layer_types():
    from_types = {
        "model_type": "minimax",
        "hidden_size": 512,
        "num_hidden_layers": 8,
        "num_attention_heads": 8,
        "num_key_value_heads": 2,
        "head_dim": 64,
        "vocab_size": 1000,
        "intermediate_size": 256,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
        "layer_types": ["linear_attention"] * 7 + ["full_attention"],
    }
    from_codes = {k: v for k, v in from_types.items() if k != "layer_types"}
    from_codes["attn_type_list"] = [0] * 7 + [1]
    assert convert_hf_config(from_types) == convert_hf_config(from_codes)
    record = convert_hf_config(from_types)
    assert record["memory"]["ssm"]["layers"] == 7
    assert record["memory"]["ssm"]["ssm_state_values"] == 8 * 64 * 64
    assert "lightning" in record["genz_unsupported"]


def test_glm4_moe_lite_refuses_a_dense_prefix_transformers_would_not_build():
    config = copy.deepcopy(load("zai-org/GLM-4.7-Flash"))
    config["first_k_dense_replace"] = 3
    with pytest.raises(ConversionError, match="transformers builds one dense layer"):
        convert_hf_config(config)


def test_glm4_moe_without_head_dim_is_refused_not_truncated():
    config = {k: v for k, v in load("zai-org/GLM-4.5-Air").items() if k != "head_dim"}
    with pytest.raises(ConversionError, match=r"hidden_size \(4096\) is not divisible"):
        convert_hf_config(config)


# --- the catalog stores, shows and migrates the MTP figure ---------------------------------------


def test_show_and_list_json_carry_mtp_parameter_count(isolated_catalog: Path):
    with ModelManager() as manager:
        manager.import_config_file(CONFIG_DIR / "deepseek-ai__DeepSeek-R1" / "config.json")
    runner = CliRunner()
    shown = json.loads(runner.invoke(cli, ["show", "DeepSeek-R1", "--json"]).output)
    assert shown["mtp_parameter_count"] == 13_463_426_048
    listed = json.loads(runner.invoke(cli, ["list", "--json"]).output)
    assert listed[0]["mtp_parameter_count"] == 13_463_426_048
    table = runner.invoke(cli, ["show", "DeepSeek-R1", "--fmt", "plain"]).output
    assert "mtp_parameter_count     13.5B" in table.splitlines()


def test_hub_total_with_mtp_is_not_a_parameter_mismatch(isolated_catalog: Path):
    config = load("deepseek-ai/DeepSeek-R1")
    with ModelManager() as manager:
        manager.add_model(
            "deepseek-ai/DeepSeek-R1", config, hub_metadata={"hub_parameter_count": 684_489_830_400}
        )
        manager.add_model(
            "someone/DeepSeek-R1-wrong-total",
            config,
            hub_metadata={"hub_parameter_count": 700_000_000_000},
        )
        flags = {
            row["model_id"]: row["parameter_mismatch"]
            for row in manager.db.query("SELECT model_id, parameter_mismatch FROM models")
        }
    assert flags == {"deepseek-ai/DeepSeek-R1": 0, "someone/DeepSeek-R1-wrong-total": 1}


def test_m007_fills_mtp_parameter_count_of_existing_rows(tmp_path: Path):
    import sqlite_utils

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m007_mtp_parameters")
    stamp = "2026-01-01T00:00:00.000Z"
    for model_id, folder in (
        ("deepseek-ai/DeepSeek-R1", "deepseek-ai__DeepSeek-R1"),
        ("meta-llama/Llama-3.1-8B", "meta-llama__Llama-3.1-8B"),
    ):
        old.execute(
            "INSERT INTO models (model_id, model_name, source, config_json, created_at, "
            "updated_at) VALUES (?, ?, 'local', ?, ?, ?)",
            [model_id, model_id, (CONFIG_DIR / folder / "config.json").read_text(), stamp, stamp],
        )
    old.close()
    db = connect(path)
    assert dict(db.execute("SELECT model_id, mtp_parameter_count FROM models").fetchall()) == {
        "deepseek-ai/DeepSeek-R1": 13_463_426_048,
        "meta-llama/Llama-3.1-8B": None,
    }
    db.close()
    with pytest.raises(sqlite3.OperationalError):  # the column exists exactly once
        sqlite3.connect(path).execute("ALTER TABLE models ADD COLUMN mtp_parameter_count INTEGER")


# --- the oracle on transformers' own default configs ------------------------------------------

#: Families whose default config transformers can instantiate; the converter must be exact.
DEFAULT_EXACT = (
    "gpt_oss",
    "glm4_moe_lite",
    "deepseek_v3",
    "deepseek_v32",
    "qwen3_next",
    "qwen3_5_moe",
    "qwen3_vl_moe",
    "llama4_text",
    "llama4",
    "minimax",
    "minimax_m2",
    "ernie4_5_moe",
    "olmoe",
    "flex_olmo",
    "granitemoeshared",
    "jetmoe",
    "cohere2_moe",
    "flint",
)
#: Default configs the converter refuses, and why (transformers builds these only by truncating
#: hidden/heads, or not at all: dots1's experts and lfm2_moe's layer_types default to None).
DEFAULT_REFUSED = {
    "glm4_moe": "not divisible",
    "dots1": "n_routed_experts",
    "lfm2_moe": "layer_types",
}
#: Small configs for the families whose default cannot be built, exercising their options.
VARIANTS: dict[str, dict[str, Any]] = {
    "dots1 sliding window from max_window_layers": {
        "model_type": "dots1",
        "hidden_size": 256,
        "intermediate_size": 512,
        "moe_intermediate_size": 64,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "n_routed_experts": 8,
        "n_shared_experts": 2,
        "num_experts_per_tok": 2,
        "first_k_dense_replace": 1,
        "sliding_window": 64,
        "max_window_layers": 2,
        "vocab_size": 1000,
        "attention_bias": True,
    },
    "lfm2_moe conv and attention layers": {
        "model_type": "lfm2_moe",
        "hidden_size": 256,
        "intermediate_size": 512,
        "moe_intermediate_size": 64,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "num_experts": 8,
        "num_experts_per_tok": 2,
        "num_dense_layers": 1,
        "layer_types": ["conv", "full_attention", "conv", "conv"],
        "vocab_size": 1000,
    },
    "hunyuan_v1_moe per-layer moe_topk": {
        "model_type": "hunyuan_v1_moe",
        "hidden_size": 256,
        "intermediate_size": 128,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 64,
        "num_experts": 8,
        "moe_topk": [2, 2, 2],
        "vocab_size": 1000,
        "tie_word_embeddings": True,
    },
    "ernie4_5_moe biases and a MoE window": {
        "model_type": "ernie4_5_moe",
        "hidden_size": 256,
        "intermediate_size": 512,
        "moe_intermediate_size": 64,
        "num_hidden_layers": 5,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "moe_num_experts": 8,
        "moe_k": 2,
        "moe_num_shared_experts": 1,
        "moe_layer_start_index": 1,
        "moe_layer_end_index": 3,
        "use_bias": True,
        "vocab_size": 1000,
    },
    # FlintConfig fills an absent mlp_only_layers with [0, 1] and an absent layer_types with its
    # own full/sliding pattern: the converter must take the same class defaults.
    "flint without mlp_only_layers and layer_types, sparse every second layer": {
        "model_type": "flint",
        "hidden_size": 256,
        "intermediate_size": 512,
        "moe_intermediate_size": 64,
        "shared_expert_intermediate_size": 128,
        "num_hidden_layers": 7,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 64,
        "num_experts": 8,
        "num_experts_per_tok": 2,
        "decoder_sparse_step": 2,
        "attention_bias": True,
        "vocab_size": 1000,
    },
    "cohere2_moe shared experts after a dense prefix": {
        "model_type": "cohere2_moe",
        "hidden_size": 256,
        "intermediate_size": 64,
        "prefix_dense_intermediate_size": 512,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 64,
        "num_experts": 8,
        "num_experts_per_tok": 2,
        "num_shared_experts": 1,
        "mlp_layer_types": ["dense", "sparse", "sparse", "sparse"],
        "vocab_size": 1000,
    },
}


def _oracle():
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from test_convert_oracle import meta_device_parameter_count

    return transformers, meta_device_parameter_count


def _default_config(transformers: Any, family: str) -> dict[str, Any]:
    transformers.logging.set_verbosity_error()
    return transformers.AutoConfig.for_model(family).to_dict()


@pytest.mark.oracle
@pytest.mark.parametrize("family", DEFAULT_EXACT)
def test_default_config_matches_transformers_meta_device(family: str):
    transformers, meta_count = _oracle()
    config = _default_config(transformers, family)
    record = convert_hf_config(config)
    assert record["parameter_count"] == meta_count(config)
    assert 0 < record["active_parameter_count"] < record["parameter_count"]


@pytest.mark.oracle
@pytest.mark.parametrize(("family", "reason"), sorted(DEFAULT_REFUSED.items()))
def test_default_config_the_converter_refuses(family: str, reason: str):
    transformers, _meta_count = _oracle()
    with pytest.raises(ConversionError, match=reason):
        convert_hf_config(_default_config(transformers, family))


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_matches_transformers_meta_device(name: str):
    _transformers, meta_count = _oracle()
    config = VARIANTS[name]
    assert convert_hf_config(config)["parameter_count"] == meta_count(config)


@pytest.mark.oracle
def test_kimi_k2_matches_transformers_deepseek_v3():
    _transformers, meta_count = _oracle()
    config = load("moonshotai/Kimi-K2-Instruct")
    assert convert_hf_config(config)["parameter_count"] == meta_count(
        {**config, "model_type": "deepseek_v3"}
    )


#: MiMo-7B's config as Megatron-Bridge's tests quote it (tests/unit_tests/models/mimo:
#: mimo_config; the Hub file also carries sliding-window keys that are off and change no count).
MIMO_7B = {
    "architectures": ["MiMoForCausalLM"],
    "attention_bias": True,
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "hidden_size": 4096,
    "initializer_range": 0.02,
    "intermediate_size": 11008,
    "max_position_embeddings": 32768,
    "model_type": "mimo",
    "num_attention_heads": 32,
    "num_hidden_layers": 36,
    "num_key_value_heads": 8,
    "num_nextn_predict_layers": 1,
    "rms_norm_eps": 1e-05,
    "rope_theta": 640000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "vocab_size": 151680,
}


@pytest.mark.oracle
def test_mimo_main_model_is_qwen2_and_its_mtp_layer_a_qwen2_layer_plus_fusion():
    """MiMo's modelling code builds Qwen2 plus ``mtp_layers`` (token/hidden/final norms,
    ``input_proj`` 2h -> h, one Qwen2 attention + MLP block with its two norms)."""
    _transformers, meta_count = _oracle()
    record = convert_hf_config(MIMO_7B)
    qwen2 = {**MIMO_7B, "model_type": "qwen2"}
    assert record["parameter_count"] == meta_count(qwen2) == 7_622_619_136
    one_layer = meta_count({**qwen2, "num_hidden_layers": 1}) - meta_count(
        {**qwen2, "num_hidden_layers": 0}
    )
    assert record["mtp_parameter_count"] == one_layer + 3 * 4096 + 2 * 4096 * 4096
    # 7.83B in the checkpoint (the Hub shows "7.83B params" for XiaomiMiMo/MiMo-7B-Base).
    assert round((record["parameter_count"] + record["mtp_parameter_count"]) / 1e7) == 783


def test_flint_takes_the_class_default_window_pattern_when_layer_types_is_absent():
    # FlintConfig.__post_init__: full attention on layers 0 and 1, every index % 4 == 1 and the
    # last layer; the 513-token class-default window everywhere else.
    config = VARIANTS["flint without mlp_only_layers and layer_types, sparse every second layer"]
    record = convert_hf_config(config)
    # Layers 0, 1, 5 and 6 full; 2, 3 and 4 windowed (2 K/V heads x 64 x K and V per layer).
    assert record["memory"]["kv_layers"] == [
        {"count": 4, "values_per_token": 256, "window": None},
        {"count": 3, "values_per_token": 256, "window": 513},
    ]
    assert "attention sinks" in " ".join(record["warnings"])
