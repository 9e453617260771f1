"""The converter against real configs: exact parameter counts, record fields, errors."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from test_convert_families import extra_config

from genz_catalog.convert import ConversionError, convert_hf_config, supported_families

DATA_DIR = Path(__file__).parent / "data"
CONFIG_DIR = DATA_DIR / "hf-configs"

CONTRACT_KEYS = {
    "model_id",
    "family",
    "model_type",
    "attention_type",
    "is_moe",
    "parameter_count",
    "active_parameter_count",
    "text_parameter_count",
    "num_layers",
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "num_experts",
    "experts_per_token",
    "context_length",
    "vocab_size",
    "kv_values_per_token",
    "memory",
    "genz_kwargs",
    "warnings",
}


def load_config(model_id: str) -> dict[str, Any]:
    """The shared config.json of ``model_id`` (folder ``<org>__<name>``)."""
    return json.loads((CONFIG_DIR / model_id.replace("/", "__") / "config.json").read_text())


def truth_rows() -> list[dict[str, str]]:
    with (DATA_DIR / "truth.tsv").open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


TRUTH = truth_rows()


def convert(model_id: str) -> dict[str, Any]:
    return convert_hf_config(load_config(model_id), model_id)


def test_every_shared_config_has_a_truth_row() -> None:
    folders = {path.parent.name for path in CONFIG_DIR.glob("*/config.json")}
    truth_folders = {row["model_id"].replace("/", "__") for row in TRUTH}
    assert folders == truth_folders
    assert len(folders) >= 58  # grows as families are added; never shrinks


@pytest.mark.parametrize("row", TRUTH, ids=[row["model_id"] for row in TRUTH])
def test_parameter_count_matches_truth_within_tolerance(row: dict[str, str]) -> None:
    record = convert(row["model_id"])
    accepted = [int(row["parameter_count"])] + [
        int(value) for value in row["also_accept"].split(",") if value
    ]
    got = record["parameter_count"]
    best = min(accepted, key=lambda value: abs(value - got))
    assert abs(got - best) / best <= float(row["tolerance"]), (got, accepted)
    assert record["family"] == row["family"]


def test_most_truth_rows_are_exact_to_the_parameter() -> None:
    exact = 0
    for row in TRUTH:
        accepted = {int(row["parameter_count"])} | {
            int(v) for v in row["also_accept"].split(",") if v
        }
        exact += convert(row["model_id"])["parameter_count"] in accepted
    assert exact == len(TRUTH) >= 58


def test_every_listed_family_has_a_handler() -> None:
    listed = {
        "llama",
        "mistral",
        "qwen2",
        "qwen3",
        "gemma",
        "gemma2",
        "gemma3",
        "phi",
        "phi3",
        "gpt2",
        "gpt_neox",
        "gptj",
        "opt",
        "falcon",
        "RefinedWeb",
        "RefinedWebModel",
        "bloom",
        "mpt",
        "starcoder2",
        "olmo",
        "olmo2",
        "granite",
        "cohere",
        "stablelm",
        "smollm3",
        "mixtral",
        "qwen2_moe",
        "qwen3_moe",
        "phimoe",
        "granitemoe",
        "dbrx",
        "deepseek_v2",
        "deepseek_v3",
        "mamba",
        "mamba2",
        "falcon_mamba",
        "jamba",
        "lfm2",
        "t5",
        "bert",
        "roberta",
        "llava",
        "llava_next",
        "qwen2_vl",
        "qwen2_5_vl",
        "mllama",
    }
    assert listed <= set(supported_families())


@pytest.mark.parametrize("row", TRUTH, ids=[row["model_id"] for row in TRUTH])
def test_record_honours_the_contract(row: dict[str, str]) -> None:
    record = convert(row["model_id"])
    assert CONTRACT_KEYS <= set(record)
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record["model_id"] == row["model_id"]
    assert record["model_type"] in {"decoder-only", "encoder-decoder", "encoder-only"}
    assert record["attention_type"] in {"mha", "gqa", "mqa", "mla", "none"}
    assert isinstance(record["parameter_count"], int)
    assert 0 < record["active_parameter_count"] <= record["parameter_count"]
    assert record["kv_values_per_token"] == record["memory"]["kv_values_per_token"]
    assert record["genz_kwargs"]["model"] == row["model_id"]
    assert isinstance(record["warnings"], list)


# --- record fields on representative real models ---------------------------------------------


def test_llama_3_1_8b_fields() -> None:
    record = convert("meta-llama/Llama-3.1-8B")
    assert (record["num_layers"], record["hidden_size"], record["intermediate_size"]) == (
        32,
        4096,
        14336,
    )
    assert (record["num_attention_heads"], record["num_key_value_heads"], record["head_dim"]) == (
        32,
        8,
        128,
    )
    assert record["attention_type"] == "gqa"
    assert record["context_length"] == 131072
    assert record["vocab_size"] == 128256
    assert record["is_moe"] is False
    assert record["kv_values_per_token"] == 32 * 2 * 8 * 128
    assert record["genz_kwargs"]["num_ffi"] == 2
    assert record["warnings"] == []


def test_mistral_24b_uses_explicit_head_dim_not_hidden_over_heads() -> None:
    record = convert("cognitivecomputations/Dolphin3.0-R1-Mistral-24B")
    assert record["head_dim"] == 128 != record["hidden_size"] // record["num_attention_heads"]
    assert record["kv_values_per_token"] == 40 * 2 * 8 * 128
    assert record["genz_kwargs"]["head_dim"] == 128


def test_gemma_is_mqa_with_geglu() -> None:
    record = convert("google/gemma-2b-it")
    assert record["attention_type"] == "mqa"
    assert record["head_dim"] == 256
    assert record["genz_kwargs"]["num_ffi"] == 2


def test_plain_mlp_families_use_one_ffi() -> None:
    for model_id in (
        "openai-community/gpt2",
        "bigscience/bloom-560m",
        "EleutherAI/gpt-neox-20b",
        "facebook/opt-125m",
    ):
        assert convert(model_id)["genz_kwargs"]["num_ffi"] == 1, model_id


def test_gpt2_legacy_keys_are_read_not_defaulted() -> None:
    record = convert("openai-community/gpt2")
    assert (record["num_layers"], record["hidden_size"], record["num_attention_heads"]) == (
        12,
        768,
        12,
    )
    assert record["intermediate_size"] == 3072
    assert record["context_length"] == 1024


def test_bloom_and_mpt_legacy_keys() -> None:
    bloom = convert("bigscience/bloom-560m")
    assert (bloom["hidden_size"], bloom["num_layers"]) == (1024, 24)
    mpt = convert("mosaicml/mpt-7b-instruct")
    assert (mpt["hidden_size"], mpt["num_layers"], mpt["num_attention_heads"]) == (4096, 32, 32)
    assert mpt["intermediate_size"] == 4 * 4096
    assert mpt["context_length"] == 2048


def test_legacy_falcon_refinedwebmodel_multi_query() -> None:
    legacy = convert("tiiuae/falcon-7b")
    modern = convert("tiiuae/falcon-7b-instruct")
    assert legacy["parameter_count"] == modern["parameter_count"] == 6921720704
    assert legacy["attention_type"] == modern["attention_type"] == "mqa"
    assert legacy["num_key_value_heads"] == 1
    assert any("legacy" in warning for warning in legacy["warnings"])


def test_legacy_refinedweb_n_head_kv_matches_in_library_falcon_40b() -> None:
    legacy = extra_config("tiiuae/falcon-40b (legacy RefinedWeb)")
    modern = extra_config("tiiuae/falcon-40b")
    legacy_record = convert_hf_config(legacy)
    assert legacy_record["parameter_count"] == convert_hf_config(modern)["parameter_count"]
    assert legacy_record["num_key_value_heads"] == 8
    assert legacy_record["attention_type"] == "gqa"


def test_mixtral_moe_fields_and_genz_expert_width() -> None:
    record = convert("mistralai/Mixtral-8x7B-v0.1")
    assert record["is_moe"] is True
    assert (record["num_experts"], record["experts_per_token"]) == (8, 2)
    assert record["active_parameter_count"] == 12879925248
    kwargs = record["genz_kwargs"]
    assert (kwargs["num_experts"], kwargs["expert_top_k"], kwargs["moe_intermediate_size"]) == (
        8,
        2,
        14336,
    )


def test_qwen3_moe_experts_sized_by_moe_intermediate_size() -> None:
    record = convert("Qwen/Qwen3-30B-A3B")
    assert record["intermediate_size"] == 6144
    assert record["genz_kwargs"]["moe_intermediate_size"] == 768
    assert record["genz_kwargs"]["intermediate_size"] == 768
    assert record["active_parameter_count"] == 3353032704  # card: "3.3B activated"


def test_qwen2_moe_shared_expert() -> None:
    record = convert("MaziyarPanahi/Qwen1.5-MoE-A2.7B-Wikihow")
    kwargs = record["genz_kwargs"]
    assert kwargs["n_shared_experts"] == 1
    assert kwargs["shared_expert_intermediate_size"] == 5632
    assert kwargs["moe_intermediate_size"] == 1408
    assert 2.6e9 < record["active_parameter_count"] < 2.8e9  # card: "2.7B activated"


def test_deepseek_v3_is_mla_moe_not_dense() -> None:
    record = convert("deepseek-ai/DeepSeek-R1")
    assert record["attention_type"] == "mla"
    assert record["is_moe"] is True
    assert (record["num_experts"], record["experts_per_token"]) == (256, 8)
    assert 37e9 < record["active_parameter_count"] < 38e9  # README: 37B activated
    assert record["kv_values_per_token"] == 61 * (512 + 64)
    kwargs = record["genz_kwargs"]
    assert kwargs["ffn_implementation"] == "deepseek"
    assert kwargs["first_k_dense_replace"] == 3
    assert (kwargs["n_shared_experts"], kwargs["shared_expert_intermediate_size"]) == (1, 2048)
    assert kwargs["moe_intermediate_size"] == 2048
    # GenZ caches 2 * kv_heads * head_dim per layer; that must equal the MLA latent.
    assert 2 * kwargs["num_key_value_heads"] * kwargs["head_dim"] == 512 + 64
    assert record["architecture"]["q_lora_rank"] == 1536


def test_deepseek_v2_lite_without_q_lora() -> None:
    record = convert("deepseek-ai/DeepSeek-V2-Lite")
    assert record["attention_type"] == "mla"
    assert record["architecture"]["q_lora_rank"] is None
    assert record["genz_kwargs"]["first_k_dense_replace"] == 1
    assert record["genz_kwargs"]["n_shared_experts"] == 2
    assert (
        2.6e9 < record["active_parameter_count"] < 2.7e9
    )  # README: 2.4B activated excl. embeddings


def test_mamba_models_have_state_not_kv() -> None:
    for model_id in ("ArthurZ/mamba-2.8b", "tiiuae/falcon-mamba-7b-pre-decay", "Molbap/code2"):
        record = convert(model_id)
        assert record["attention_type"] == "none"
        assert record["kv_values_per_token"] == 0
        assert record["memory"]["ssm"]["layers"] == 64
        kwargs = record["genz_kwargs"]
        assert kwargs["num_ffi"] == 0 and kwargs["intermediate_size"] == 0
        assert kwargs["mamba_d_conv"] == 4


def test_falcon_mamba_inner_width_comes_from_intermediate_size() -> None:
    record = convert("tiiuae/falcon-mamba-7b-pre-decay")
    assert record["intermediate_size"] == 8192  # not expand (16) * hidden
    assert record["genz_kwargs"]["mamba_expand"] == 2
    assert record["memory"]["ssm"]["ssm_state_values"] == 8192 * 16


def test_mamba2_state_is_per_head() -> None:
    record = convert("Molbap/code2")
    ssm = record["memory"]["ssm"]
    assert ssm["ssm_state_values"] == 128 * 64 * 128
    assert ssm["conv_state_values"] == (8192 + 2 * 8 * 128) * 4


def test_jamba_hybrid_layout_and_genz_unsupported_reason() -> None:
    record = convert("ai21labs/Jamba-v0.1")
    assert record["kv_values_per_token"] == 4 * 2 * 8 * 128  # 4 attention layers of 32
    assert record["memory"]["ssm"]["layers"] == 28
    assert record["is_moe"] is True
    kwargs = record["genz_kwargs"]
    assert (kwargs["attn_layer_period"], kwargs["attn_layer_offset"]) == (8, 4)
    assert (kwargs["expert_layer_period"], kwargs["expert_layer_offset"]) == (2, 1)
    assert "unique layers" in record["genz_unsupported"]


def test_lfm2_conv_layers() -> None:
    record = convert_hf_config(extra_config("LiquidAI/LFM2-1.2B"))
    assert record["kv_values_per_token"] == 6 * 2 * 8 * 64
    assert record["memory"]["ssm"] == {
        "layers": 10,
        "conv_state_values": 2048 * 3,
        "ssm_state_values": 0,
    }
    assert record["genz_unsupported"]


def test_t5_encoder_decoder() -> None:
    record = convert("google-t5/t5-base")
    assert record["model_type"] == "encoder-decoder"
    assert record["num_layers"] == 24
    assert record["genz_kwargs"]["num_encoder_layers"] == 12
    assert record["genz_unsupported"]


def test_bert_is_encoder_only_without_kv_cache() -> None:
    record = convert("google-bert/bert-base-uncased")
    assert record["model_type"] == "encoder-only"
    assert record["kv_values_per_token"] == 0
    assert record["genz_kwargs"]["num_ffi"] == 1


def test_multimodal_wrappers_split_text_and_total() -> None:
    llava = convert("JesterLabs/test-llava-model")
    assert llava["family"] == "llava"
    assert llava["text_parameter_count"] == 6738415616 + 64 * 4096 * 2  # Llama-2-7B, vocab 32064
    assert llava["parameter_count"] - llava["text_parameter_count"] == 303507456 + 20979712
    assert any("defaults" in warning for warning in llava["warnings"])
    qwen_vl = convert("allenai/olmOCR-7B-0225-preview")
    assert qwen_vl["text_parameter_count"] == 7615616512  # same as Qwen2.5-7B text shapes
    mllama = convert("Aekanun/thai-handwriting-llm")
    assert mllama["num_layers"] == 40
    assert mllama["kv_values_per_token"] == 32 * 2 * 8 * 128  # 8 cross-attention layers excluded


def test_sliding_windows_only_where_enabled() -> None:
    mistral_v01 = convert("mistralai/Mistral-7B-v0.1")
    assert mistral_v01["memory"]["kv_layers"] == [
        {"count": 32, "values_per_token": 2048, "window": 4096}
    ]
    mistral_v02 = convert("mistralai/Mistral-7B-Instruct-v0.2")
    assert mistral_v02["memory"]["kv_layers"][0]["window"] is None
    qwen = convert("Qwen/Qwen2.5-7B")  # sliding_window set but use_sliding_window false
    assert all(group["window"] is None for group in qwen["memory"]["kv_layers"])
    gemma3 = convert("Codingstark/gemma3-270m-leetcode")
    windows = {group["window"]: group["count"] for group in gemma3["memory"]["kv_layers"]}
    assert windows == {None: 3, 512: 15}
    gemma2 = convert("kemura/gemma-2b-sql-finetuned")
    windows = {group["window"]: group["count"] for group in gemma2["memory"]["kv_layers"]}
    assert windows == {None: 13, 4096: 13}
    llava_next = convert("llava-hf/llava-v1.6-mistral-7b-hf")  # text_config: sliding_window null
    assert [group["window"] for group in llava_next["memory"]["kv_layers"]] == [None]
    assert "sliding_window" not in llava_next["genz_kwargs"]
    cohere2 = convert("huihui-ai/c4ai-command-r7b-12-2024-abliterated")
    windows = {group["window"]: group["count"] for group in cohere2["memory"]["kv_layers"]}
    assert windows == {None: 8, 4096: 24}


def test_qwen_use_sliding_window_applies_from_max_window_layers() -> None:
    config = load_config("Qwen/Qwen2.5-7B")
    config["use_sliding_window"] = True
    config["sliding_window"] = 4096
    config["max_window_layers"] = 20
    windows = {
        group["window"]: group["count"]
        for group in convert_hf_config(config)["memory"]["kv_layers"]
    }
    assert windows == {None: 20, 4096: 8}


def test_tied_embeddings_counted_once() -> None:
    tied = load_config("meta-llama/Llama-3.2-3B")
    untied = dict(tied, tie_word_embeddings=False)
    difference = (
        convert_hf_config(untied)["parameter_count"] - convert_hf_config(tied)["parameter_count"]
    )
    assert difference == 128256 * 3072


def test_llama_biases_add_exactly_their_widths() -> None:
    base = load_config("meta-llama/Llama-3.1-8B")
    plain = convert_hf_config(base)["parameter_count"]
    attention = convert_hf_config(dict(base, attention_bias=True))["parameter_count"]
    mlp = convert_hf_config(dict(base, mlp_bias=True))["parameter_count"]
    assert attention - plain == 32 * (4096 + 2 * 1024 + 4096)
    assert mlp - plain == 32 * (2 * 14336 + 4096)


# --- errors and warnings ---------------------------------------------------------------------


def test_missing_core_keys_raise_naming_family_and_keys() -> None:
    config = load_config("meta-llama/Llama-3.1-8B")
    del config["hidden_size"], config["num_hidden_layers"]
    with pytest.raises(ConversionError) as error:
        convert_hf_config(config)
    message = str(error.value)
    assert "llama" in message and "hidden_size" in message and "num_hidden_layers" in message


def test_gpt2_without_its_keys_is_an_error_not_llama_defaults() -> None:
    config = {"model_type": "gpt2", "vocab_size": 50257}
    with pytest.raises(ConversionError, match="gpt2.*n_embd.*n_layer.*n_head"):
        convert_hf_config(config)


def test_deepseek_without_mla_ranks_names_them() -> None:
    config = load_config("deepseek-ai/DeepSeek-R1")
    del config["qk_rope_head_dim"], config["v_head_dim"]
    with pytest.raises(ConversionError, match="deepseek_v3.*qk_rope_head_dim.*v_head_dim"):
        convert_hf_config(config)


DEEPSEEK_MLA_AND_MOE_KEYS = (
    "kv_lora_rank",
    "q_lora_rank",
    "qk_rope_head_dim",
    "qk_nope_head_dim",
    "v_head_dim",
    "n_routed_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "n_shared_experts",
    "first_k_dense_replace",
)


@pytest.mark.parametrize(
    ("model_id", "deleted", "message"),
    [
        # Without these the prior art imported DeepSeek-V3 as a dense MHA model, silently.
        (
            "deepseek-ai/DeepSeek-R1",
            ("n_routed_experts",),
            "deepseek_v3: config lacks required key(s): n_routed_experts",
        ),
        (
            "deepseek-ai/DeepSeek-R1",
            ("kv_lora_rank",),
            "deepseek_v3: config lacks required key(s): kv_lora_rank",
        ),
        (
            "deepseek-ai/DeepSeek-R1",
            DEEPSEEK_MLA_AND_MOE_KEYS,
            "deepseek_v3: config lacks required key(s): " + ", ".join(DEEPSEEK_MLA_AND_MOE_KEYS),
        ),
        (
            "deepseek-ai/DeepSeek-V2-Lite",
            ("n_routed_experts", "num_experts_per_tok", "moe_intermediate_size"),
            "deepseek_v2: config lacks required key(s): n_routed_experts, num_experts_per_tok, "
            "moe_intermediate_size",
        ),
        # V2-Lite's q_lora_rank is an explicit null (no query LoRA); absent would mean HF's 1536.
        (
            "deepseek-ai/DeepSeek-V2-Lite",
            ("q_lora_rank",),
            "deepseek_v2: config lacks required key(s): q_lora_rank",
        ),
        (
            "deepseek-ai/DeepSeek-V2-Lite",
            ("n_shared_experts", "first_k_dense_replace"),
            "deepseek_v2: config lacks required key(s): n_shared_experts, first_k_dense_replace",
        ),
    ],
)
def test_deepseek_without_its_mla_or_moe_keys_is_an_error_not_a_dense_model(
    model_id: str, deleted: tuple[str, ...], message: str
) -> None:
    config = load_config(model_id)
    for key in deleted:
        del config[key]
    with pytest.raises(ConversionError) as error:
        convert_hf_config(config)
    assert str(error.value) == message


def test_deepseek_null_shared_experts_means_none() -> None:
    config = load_config("deepseek-ai/DeepSeek-V2-Lite")
    with_shared = convert_hf_config(config)
    config["n_shared_experts"] = None
    without = convert_hf_config(config)
    # 26 MoE layers (first_k_dense_replace 1 of 27) lose a gated MLP of 2 x 1408 over hidden 2048.
    assert with_shared["parameter_count"] - without["parameter_count"] == 26 * 3 * 2048 * 2 * 1408
    assert without["genz_kwargs"]["n_shared_experts"] == 0
    assert without["attention_type"] == "mla" and without["is_moe"] is True


def test_moe_without_expert_width_raises() -> None:
    config = load_config("Qwen/Qwen3-30B-A3B")
    del config["moe_intermediate_size"]
    with pytest.raises(ConversionError, match="qwen3_moe.*moe_intermediate_size"):
        convert_hf_config(config)


def test_dbrx_nested_config_keys_are_named() -> None:
    broken = extra_config("databricks/dbrx-base")
    del broken["ffn_config"]["moe_num_experts"]
    with pytest.raises(ConversionError, match="ffn_config.moe_num_experts"):
        convert_hf_config(broken)


def _with(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``config`` with the (dotted) key ``path`` set to ``value``."""
    *parents, key = path.split(".")
    target = config
    for parent in parents:
        target = target[parent]
    target[key] = value
    return config


@pytest.mark.parametrize(
    ("config", "message"),
    [
        # 4096 / 30 is not a head width; truncating to 136 would invent one.
        (
            _with(
                _with(load_config("meta-llama/Llama-3.1-8B"), "num_attention_heads", 30),
                "num_key_value_heads",
                30,
            ),
            "llama: hidden_size (4096) is not divisible by num_attention_heads (30) and head_dim is absent",
        ),
        (
            _with(load_config("meta-llama/Llama-3.1-8B"), "num_key_value_heads", 5),
            "llama: num_attention_heads (32) is not divisible by num_key_value_heads (5)",
        ),
        (
            _with(load_config("meta-llama/Llama-3.1-8B"), "num_key_value_heads", 64),
            "llama: num_key_value_heads (64) is more than num_attention_heads (32)",
        ),
        (
            _with(
                load_config("JesterLabs/test-llava-model"), "text_config.num_attention_heads", 30
            ),
            "llava: llama: text_config.hidden_size (4096) is not divisible by "
            "text_config.num_attention_heads (30) and text_config.head_dim is absent",
        ),
        (
            _with(load_config("openai-community/gpt2"), "n_head", 10),
            "gpt2: n_embd (768) is not divisible by n_head (10)",
        ),
        (
            _with(load_config("tiiuae/falcon-7b"), "n_head", 70),
            "RefinedWebModel: hidden_size (4544) is not divisible by n_head (70) and head_dim is absent",
        ),
        (
            _with(extra_config("tiiuae/falcon-40b"), "num_kv_heads", 6),
            "falcon: num_attention_heads (128) is not divisible by num_kv_heads (6)",
        ),
        (
            _with(extra_config("databricks/dbrx-base"), "attn_config.kv_n_heads", 5),
            "dbrx: n_heads (48) is not divisible by attn_config.kv_n_heads (5)",
        ),
        (
            _with(
                load_config("mosaicml/mpt-7b-instruct"),
                "attn_config",
                {"attn_type": "grouped_query_attention", "kv_n_heads": 5},
            ),
            "mpt: n_heads (32) is not divisible by attn_config.kv_n_heads (5)",
        ),
        (
            _with(
                load_config("mosaicml/mpt-7b-instruct"),
                "attn_config",
                {"attn_type": "grouped_query_attention"},
            ),
            "mpt: config lacks required key(s): attn_config.kv_n_heads",
        ),
        (
            _with(load_config("google-bert/bert-base-uncased"), "num_attention_heads", 10),
            "bert: hidden_size (768) is not divisible by num_attention_heads (10)",
        ),
        (
            _with(load_config("ai21labs/Jamba-v0.1"), "num_key_value_heads", 48),
            "jamba: num_key_value_heads (48) is more than num_attention_heads (32)",
        ),
        (
            _with(extra_config("LiquidAI/LFM2-1.2B"), "num_attention_heads", 30),
            "lfm2: hidden_size (2048) is not divisible by num_attention_heads (30)",
        ),
        (
            _with(load_config("deepseek-ai/DeepSeek-V2-Lite"), "num_key_value_heads", 3),
            "deepseek_v2: num_attention_heads (16) is not divisible by num_key_value_heads (3)",
        ),
    ],
    ids=[
        "llama-hidden-per-head",
        "llama-kv-not-dividing",
        "llama-more-kv-than-heads",
        "llava-text-config",
        "gpt2",
        "falcon-legacy",
        "falcon-kv",
        "dbrx-kv",
        "mpt-gqa-kv",
        "mpt-gqa-without-kv",
        "bert",
        "jamba",
        "lfm2",
        "deepseek-kv",
    ],
)
def test_inconsistent_head_shapes_raise_naming_family_and_problem(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConversionError) as error:
        convert_hf_config(config)
    assert str(error.value) == message


def test_explicit_head_dim_makes_uneven_hidden_over_heads_fine() -> None:
    config = load_config("meta-llama/Llama-3.1-8B")
    config.update(num_attention_heads=30, num_key_value_heads=30, head_dim=128)
    record = convert_hf_config(config)
    assert (record["head_dim"], record["attention_type"]) == (128, "mha")
    assert record["kv_values_per_token"] == 32 * 2 * 30 * 128


def test_mpt_kv_n_heads_counts_only_for_grouped_query_attention() -> None:
    # llm-foundry's defaults carry kv_n_heads 1 even for multi-head attention; it is unused there.
    config = load_config("mosaicml/mpt-7b-instruct")
    config["attn_config"]["kv_n_heads"] = 1
    assert convert_hf_config(config)["attention_type"] == "mha"
    assert (
        convert_hf_config(config)["parameter_count"]
        == convert("mosaicml/mpt-7b-instruct")["parameter_count"]
    )
    config["attn_config"]["attn_type"] = "grouped_query_attention"
    config["attn_config"]["kv_n_heads"] = 8
    record = convert_hf_config(config)
    assert (record["attention_type"], record["num_key_value_heads"]) == ("gqa", 8)
    assert record["kv_values_per_token"] == 32 * 2 * 8 * 128


def test_unknown_family_with_standard_keys_converts_with_warning() -> None:
    config = dict(load_config("meta-llama/Llama-3.1-8B"), model_type="my_new_llama")
    record = convert_hf_config(config)
    assert record["family"] == "my_new_llama"
    assert record["parameter_count"] == 8030261248
    assert any("unknown family" in warning for warning in record["warnings"])


def test_unknown_family_without_usable_keys_raises() -> None:
    with pytest.raises(ConversionError, match="stable_diffusion"):
        convert_hf_config({"model_type": "stable_diffusion", "sample_size": 96})


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"model_type": 3},
        {
            "model_type": "llama",
            "hidden_size": "4096",
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "vocab_size": 10,
            "intermediate_size": 8,
        },
        {
            "model_type": "llama",
            "hidden_size": True,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "vocab_size": 10,
            "intermediate_size": 8,
        },
        {
            "model_type": "llama",
            "hidden_size": -4,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "vocab_size": 10,
            "intermediate_size": 8,
        },
        {
            "model_type": "llama",
            "hidden_size": 4,
            "num_hidden_layers": 2,
            "num_attention_heads": 8,
            "vocab_size": 10,
            "intermediate_size": 8,
        },
        {"model_type": "llava", "text_config": "llama"},
    ],
)
def test_malformed_configs_raise_conversion_error(config: dict[str, Any]) -> None:
    with pytest.raises(ConversionError):
        convert_hf_config(config)


def test_converter_does_not_mutate_its_input() -> None:
    config = load_config("JesterLabs/test-llava-model")
    snapshot = copy.deepcopy(config)
    convert_hf_config(config)
    assert config == snapshot


def test_converter_imports_no_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, genz_catalog.convert, genz_catalog.memory;"
        "bad=[m for m in ('GenZ','torch','transformers') if m in sys.modules];"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_qwen2_vl_text_config_nesting_gives_the_same_count() -> None:
    flat = load_config("allenai/olmOCR-7B-0225-preview")
    text_keys = [
        "hidden_size",
        "intermediate_size",
        "num_hidden_layers",
        "num_attention_heads",
        "num_key_value_heads",
        "vocab_size",
        "max_position_embeddings",
        "rms_norm_eps",
        "tie_word_embeddings",
        "use_sliding_window",
        "sliding_window",
        "max_window_layers",
    ]
    nested = {key: value for key, value in flat.items() if key not in text_keys}
    nested["text_config"] = {key: flat[key] for key in text_keys} | {"model_type": "qwen2_vl_text"}
    flat_record = convert_hf_config(flat)
    nested_record = convert_hf_config(nested)
    assert nested_record["parameter_count"] == flat_record["parameter_count"] == 8291375616
    assert nested_record["warnings"] == flat_record["warnings"]
