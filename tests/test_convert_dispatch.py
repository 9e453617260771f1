"""Issue 11 items 1, 3 and 4: the strict fallback, both config spellings, dispatch on architectures.

Real configs only: the transformers 4 files of tests/data/hf-configs and their transformers 5
twins in tests/data/hf-configs-v5 (written by ``scripts/v5_configs.py`` with transformers 5.24.0's
``save_pretrained``, i.e. exactly what a Hub repo saved today contains).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from genz_catalog.convert import ConversionError, convert_hf_config, family_for_architecture

DATA = Path(__file__).parent / "data"
V4 = DATA / "hf-configs"
V5 = DATA / "hf-configs-v5"
TWINS = sorted(path.parent.name for path in V5.glob("*/config.json"))

# The figures a record must agree on whichever transformers version wrote the file.
FIGURES = (
    "family",
    "parameter_count",
    "active_parameter_count",
    "text_parameter_count",
    "num_layers",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "num_experts",
    "experts_per_token",
    "vocab_size",
    "kv_values_per_token",
)


def load(folder: Path, name: str) -> dict[str, Any]:
    return json.loads((folder / name / "config.json").read_text())


def llama_8b_unknown_family() -> dict[str, Any]:
    config = dict(load(V4, "meta-llama__Llama-3.1-8B"), model_type="my_new_llama")
    del config["architectures"]
    return config


# --- item 3: both spellings ------------------------------------------------------------------


def test_every_real_config_has_a_transformers_5_twin() -> None:
    assert len(TWINS) >= 55
    assert load(V5, "Qwen__Qwen3-30B-A3B")["transformers_version"].startswith("5.")


@pytest.mark.parametrize("name", TWINS)
def test_transformers_4_and_5_spellings_give_the_same_record(name: str) -> None:
    old = convert_hf_config(load(V4, name))
    new = convert_hf_config(load(V5, name))
    assert {key: new[key] for key in FIGURES} == {key: old[key] for key in FIGURES}


def test_qwen3_moe_experts_under_either_name() -> None:
    old, new = load(V4, "Qwen__Qwen3-30B-A3B"), load(V5, "Qwen__Qwen3-30B-A3B")
    assert old["num_experts"] == new["num_local_experts"] == 128
    assert "num_experts" not in new and "rope_parameters" in new and "rope_theta" in old
    assert convert_hf_config(new)["parameter_count"] == 30532122624  # truth.tsv


def test_qwen2_moe_sliding_window_zero_means_no_window() -> None:
    # transformers 5 writes sliding_window: 0 (4.x: 32768 with use_sliding_window false).
    config = load(V5, "MaziyarPanahi__Qwen1.5-MoE-A2.7B-Wikihow")
    assert config["sliding_window"] == 0
    record = convert_hf_config(config)
    assert all(layer["window"] is None for layer in record["memory"]["kv_layers"])


# --- item 1: the fallback counts only what it understands -------------------------------------


def test_fallback_counts_a_llama_layout_config_in_either_spelling() -> None:
    old = llama_8b_unknown_family()
    new = dict(load(V5, "meta-llama__Llama-3.1-8B"), model_type="my_new_llama")
    del new["architectures"]
    assert "rope_parameters" in new and "dtype" in new
    for config in (old, new):
        record = convert_hf_config(config)
        assert record["parameter_count"] == 8030261248
        assert record["family"] == record["hf_model_type"] == "my_new_llama"
        assert any("unknown family" in warning for warning in record["warnings"])


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"num_local_experts": 8, "num_experts_per_tok": 2}, "num_local_experts"),
        ({"kv_lora_rank": 512, "q_lora_rank": 1536}, "kv_lora_rank"),
        ({"mamba_d_state": 128}, "mamba_d_state"),
        ({"layer_types": ["full_attention"] * 16 + ["linear_attention"] * 16}, "linear_attention"),
        ({"hidden_act": "gelu_pytorch_tanh"}, "hidden_act='gelu_pytorch_tanh'"),
        ({"intermediate_size_mlp": 16384}, "intermediate_size_mlp"),
        ({"text_config": {"hidden_size": 8}}, "text_config"),
        ({"is_encoder_decoder": True}, "is_encoder_decoder=True"),
        ({"use_qk_norm": True}, "use_qk_norm"),
    ],
)
def test_fallback_refuses_keys_it_cannot_interpret(extra: dict[str, Any], named: str) -> None:
    config = dict(llama_8b_unknown_family(), **extra)
    with pytest.raises(ConversionError) as raised:
        convert_hf_config(config)
    message = str(raised.value)
    assert message.startswith("my_new_llama: no handler for this family")
    assert named in message and "\n" not in message
    assert "pip install 'genz-catalog[exact]'" in message and "--exact" in message


def test_fallback_accepts_harmless_metadata_and_sliding_layers() -> None:
    layer_types = ["sliding_attention", "full_attention"] * 16
    config = dict(
        llama_8b_unknown_family(),
        layer_types=layer_types,
        sliding_window=4096,
        quantization_config={"quant_method": "fp8"},
        id2label={"0": "LABEL_0"},
        embedding_multiplier=12.0,
    )
    assert convert_hf_config(config)["parameter_count"] == 8030261248


def test_unknown_family_lacking_keys_says_how_to_get_an_exact_count() -> None:
    with pytest.raises(ConversionError, match=r"lacks the standard decoder key\(s\) .*--exact"):
        convert_hf_config({"model_type": "brand-new", "hidden_size": 8})


# --- item 4: custom model_type, known architecture; legacy model_types ------------------------


@pytest.mark.parametrize(
    ("class_name", "family"),
    [
        ("DeepseekV3ForCausalLM", "deepseek_v3"),
        ("Qwen2MoeForCausalLM", "qwen2_moe"),
        ("Qwen2_5_VLForConditionalGeneration", "qwen2_5_vl"),
        ("GPT2LMHeadModel", "gpt2"),
        ("GPTNeoXForCausalLM", "gpt_neox"),
        ("LlavaNextForConditionalGeneration", "llava_next"),
        ("RWForCausalLM", None),  # Falcon's custom-code class is no transformers class
        # transformers orders these class names' words differently from their model types
        ("HunYuanMoEV1ForCausalLM", "hunyuan_v1_moe"),
        ("HunYuanDenseV1ForCausalLM", "hunyuan_v1_dense"),
        # MiniMax's remote-code classes for the layout transformers calls minimax
        ("MiniMaxText01ForCausalLM", "minimax"),
        ("MiniMaxM1ForCausalLM", "minimax"),
        ("ForCausalLM", None),
    ],
)
def test_family_for_architecture(class_name: str, family: str | None) -> None:
    assert family_for_architecture(class_name) == family


def test_custom_model_type_dispatches_on_architectures_and_says_so() -> None:
    # A fine-tune shipping its own model_type with the DeepSeek-V3 architecture (as Kimi-K2
    # did before kimi_k2 got a handler of its own).
    config = dict(load(V4, "deepseek-ai__DeepSeek-R1"), model_type="lab_v3_custom")
    assert config["architectures"] == ["DeepseekV3ForCausalLM"]
    record = convert_hf_config(config, "lab/custom-v3")
    assert (
        record["parameter_count"]
        == convert_hf_config(load(V4, "deepseek-ai__DeepSeek-R1"))["parameter_count"]
    )
    assert (record["family"], record["hf_model_type"]) == ("deepseek_v3", "lab_v3_custom")
    assert (
        "model_type 'lab_v3_custom' has no handler; converted as deepseek_v3 because "
        "architectures names DeepseekV3ForCausalLM"
    ) in record["warnings"]


def test_hunyuan_a13b_original_config_converts_through_its_class() -> None:
    # Tencent's release config (models/config.json of its GitHub repo) names its remote code's
    # model_type "hunyuan"; it used to be refused because HunYuanMoEV1 does not spell
    # hunyuan_v1_moe.
    record = convert_hf_config(load(V4, "tencent__Hunyuan-A13B-Instruct"))
    assert (record["family"], record["hf_model_type"]) == ("hunyuan_v1_moe", "hunyuan")
    assert record["parameter_count"] == 80_393_183_232  # published: 80B
    assert record["active_parameter_count"] == 12_747_448_320  # published: 13B active
    assert (record["num_experts"], record["experts_per_token"]) == (64, 8)


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("use_cla", True, "use_cla: true (cross-layer attention)"),
        ("use_mla", True, "use_mla: true (latent attention)"),
        ("use_mixed_mlp_moe", False, "use_mixed_mlp_moe: false (no shared MLP)"),
        ("use_qk_norm", False, "use_qk_norm: false"),
        ("moe_intermediate_size", [2048] * 32, "moe_intermediate_size other than 3072"),
        ("num_shared_expert", 2, "num_shared_expert other than 1"),
    ],
)
def test_hunyuan_switches_that_change_the_weights_are_refused(
    key: str, value: Any, named: str
) -> None:
    # Each of these changes the checkpoint's weights in Tencent's remote code; counting the
    # A13B layout regardless would be a plausible wrong number.
    config = {**load(V4, "tencent__Hunyuan-A13B-Instruct"), key: value}
    with pytest.raises(ConversionError) as refused:
        convert_hf_config(config)
    assert str(refused.value) == (
        f"hunyuan_v1_moe: Tencent's Hunyuan switches this converter does not count: {named}"
    )


def test_minimax_m1_release_config_converts_as_minimax() -> None:
    # MiniMax's own config.json (remote code, model_type minimax_m1) used to be refused.
    record = convert_hf_config(load(V4, "MiniMaxAI__MiniMax-M1-80k"))
    assert (record["family"], record["hf_model_type"]) == ("minimax", "minimax_m1")
    # The repo's safetensors index: 912,210,767,872 bytes, bf16 but for 80 float32 routers.
    assert 2 * record["parameter_count"] + 80 * 6144 * 32 * 2 == 912_210_767_872
    # 45.9B activated as published, once the 2 x 200064 x 6144 embeddings are left out.
    assert record["active_parameter_count"] - 2 * 200064 * 6144 == 45_944_920_064
    # Only every 8th of the 80 layers (softmax attention) keeps a KV cache.
    assert record["memory"]["kv_layers"] == [
        {"count": 10, "values_per_token": 2 * 8 * 128, "window": None}
    ]


def test_kimi_k2_has_a_handler_of_its_own() -> None:
    config = dict(load(V4, "deepseek-ai__DeepSeek-R1"), model_type="kimi_k2")
    record = convert_hf_config(config, "moonshotai/Kimi-K2-Instruct")
    assert record["family"] == "kimi_k2"
    assert record["parameter_count"] == 671_026_404_352


def test_dispatched_config_missing_keys_names_both_families() -> None:
    config = {
        "model_type": "lab_v3_custom",
        "architectures": ["DeepseekV3ForCausalLM"],
        "hidden_size": 8,
    }
    with pytest.raises(ConversionError, match=r"^lab_v3_custom \(as deepseek_v3: config lacks"):
        convert_hf_config(config)


def test_legacy_falcon_model_type_is_catalogued_as_falcon() -> None:
    config = load(V4, "tiiuae__falcon-7b")
    assert config["model_type"] == "RefinedWebModel"
    record = convert_hf_config(config)
    assert (record["family"], record["hf_model_type"]) == ("falcon", "RefinedWebModel")
    assert record["parameter_count"] == 6921720704  # truth.tsv also_accept (tied head)
    assert any("RefinedWebModel" in warning for warning in record["warnings"])
    assert convert_hf_config(load(V4, "tiiuae__falcon-7b-instruct"))["family"] == "falcon"


def test_every_record_states_its_count_basis() -> None:
    assert convert_hf_config(load(V4, "openai-community__gpt2"))["count_basis"] == "formula"
