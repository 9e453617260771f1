"""Newer dense families, their multimodal wrappers, and legacy / custom-code decoders.

Counts are checked three ways: against published totals for custom-code families transformers
does not know (Qwen-7B, ChatGLM, InternLM2, MiniCPM), against the real configs in
tests/data/hf-configs (truth.tsv, and tests/test_convert_oracle.py re-counts them on the meta
device), and, under the ``oracle`` extra, against transformers' own default config of every family
and the transformers-5 spelling (``to_dict()``) of the real configs.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from genz_catalog.convert import ConversionError, convert_hf_config
from genz_catalog.memory import kv_cache_bytes

CONFIG_DIR = Path(__file__).parent / "data" / "hf-configs"


def load(model_id: str) -> dict[str, Any]:
    return json.loads((CONFIG_DIR / model_id.replace("/", "__") / "config.json").read_text())


def convert(model_id: str) -> dict[str, Any]:
    return convert_hf_config(load(model_id), model_id)


# --- custom-code families against published totals ---------------------------------------------


def test_qwen_7b_matches_the_published_safetensors_total() -> None:
    # model.safetensors.index.json metadata.total_size 15,442,649,088 bytes of bf16.
    record = convert("Qwen/Qwen-7B")
    assert record["parameter_count"] == 15_442_649_088 // 2 == 7_721_324_544
    assert record["family"] == "qwen"
    assert record["attention_type"] == "mha"
    assert record["head_dim"] == 128
    # SwiGLU of intermediate_size // 2: the config stores both gate halves in 22016.
    assert record["intermediate_size"] == 11008
    assert record["kv_values_per_token"] == 32 * 2 * 4096
    assert record["context_length"] == 8192
    assert record["genz_kwargs"]["num_ffi"] == 2


def test_chatglm3_matches_the_published_total_and_is_grouped_query() -> None:
    record = convert("THUDM/chatglm3-6b")
    assert record["parameter_count"] == 6_243_584_000
    assert record["attention_type"] == "gqa"
    assert (record["num_key_value_heads"], record["head_dim"]) == (2, 128)
    assert record["kv_values_per_token"] == 28 * 2 * 2 * 128
    assert record["vocab_size"] == 65024  # padded_vocab_size
    assert record["num_layers"] == 28  # num_layers, not num_hidden_layers
    assert record["context_length"] == 32768  # seq_length


def test_chatglm_v1_layout_matches_the_published_total() -> None:
    # THUDM/chatglm-6b (v1) dimensions; published 6,173,286,400 parameters (tied head).
    config = {
        "model_type": "chatglm",
        "architectures": ["ChatGLMModel"],
        "hidden_size": 4096,
        "inner_hidden_size": 16384,
        "num_layers": 28,
        "num_attention_heads": 32,
        "vocab_size": 130528,
        "max_sequence_length": 2048,
        "position_encoding_2d": True,
    }
    record = convert_hf_config(config)
    assert record["parameter_count"] == 6_173_286_400
    assert record["attention_type"] == "mha"
    assert record["context_length"] == 2048


def test_internlm2_5_matches_the_published_total() -> None:
    record = convert("internlm/internlm2_5-7b-chat")
    assert record["parameter_count"] == 7_737_708_544
    assert record["attention_type"] == "gqa"
    assert record["kv_values_per_token"] == 32 * 2 * 8 * 128


def test_minicpm_2b_matches_the_published_total() -> None:
    # openbmb/MiniCPM-2B dimensions (custom MiniCPMForCausalLM); published 2,724,880,896.
    config = {
        "model_type": "minicpm",
        "architectures": ["MiniCPMForCausalLM"],
        "hidden_size": 2304,
        "intermediate_size": 5760,
        "num_hidden_layers": 40,
        "num_attention_heads": 36,
        "num_key_value_heads": 36,
        "vocab_size": 122753,
        "max_position_embeddings": 4096,
        "scale_emb": 12,
        "scale_depth": 1.4,
        "dim_model_base": 256,
    }
    record = convert_hf_config(config)
    assert record["parameter_count"] == 2_724_880_896  # tied: the class default
    config["tie_word_embeddings"] = False
    assert convert_hf_config(config)["parameter_count"] == 2_724_880_896 + 122753 * 2304


def test_minicpm_moe_8x2b_counts_its_experts() -> None:
    # Same model type and dense keys as MiniCPM-2B, plus num_experts / num_experts_per_tok: the
    # handler used to ignore them and report the dense 2.72B model.
    record = convert("openbmb/MiniCPM-MoE-8x2B")
    hidden, vocab, layers, width = 2304, 122753, 40, 5760
    attention = 4 * hidden * hidden
    per_layer = attention + 8 * 3 * hidden * width + hidden * 8 + 2 * hidden  # router, 2 norms
    non_embedding = layers * per_layer + hidden
    assert non_embedding == 13_590_468_864  # "13.6B non-embedding" as published
    assert record["parameter_count"] == non_embedding + vocab * hidden == 13_873_291_776
    assert record["is_moe"] and (record["num_experts"], record["experts_per_token"]) == (8, 2)
    # ~4B activated per token besides the tied embeddings, as published.
    active = layers * (attention + 2 * 3 * hidden * width + hidden * 8 + 2 * hidden) + hidden
    assert record["active_parameter_count"] == active + vocab * hidden == 4_318_142_976
    # num_experts 0 is the class default: the dense model.
    dense = dict(load("openbmb/MiniCPM-MoE-8x2B"), num_experts=0)
    assert convert_hf_config(dense)["parameter_count"] == 2_724_880_896


def test_real_minicpm_and_baichuan2_configs_match_their_published_totals() -> None:
    assert convert("openbmb/MiniCPM-2B-sft-bf16")["parameter_count"] == 2_724_880_896
    record = convert("baichuan-inc/Baichuan2-7B-Chat")
    assert record["parameter_count"] == 7_505_973_248
    assert (record["attention_type"], record["is_moe"]) == ("mha", False)


def test_baichuan2_7b_counts_its_w_pack_and_norm_head() -> None:
    # Baichuan2-7B-shaped BaichuanConfig as printed by transformers in a TongGu-7B serving log.
    config = {
        "architectures": ["BaichuanForCausalLM"],
        "hidden_act": "silu",
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "max_position_embeddings": 4096,
        "model_max_length": 4096,
        "model_type": "baichuan",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "rms_norm_eps": 1e-06,
        "tie_word_embeddings": False,
        "vocab_size": 125696,
    }
    record = convert_hf_config(config)
    hidden, vocab, layers = 4096, 125696, 32
    per_layer = 4 * hidden * hidden + 3 * hidden * 11008 + 2 * hidden
    assert record["parameter_count"] == 2 * vocab * hidden + layers * per_layer + hidden
    assert record["parameter_count"] == 7_505_973_248
    assert record["attention_type"] == "mha"


# --- transformers families: real configs ----------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "count", "attention_type"),
    [
        ("roneneldan/TinyStories-1M", 3_745_984, "mha"),
        ("bigcode/starcoder", 15_517_456_384, "mqa"),
        ("Qwen/Qwen3-VL-4B-Instruct", 4_437_815_808, "gqa"),
        ("Qwen/Qwen3.5-9B", 9_409_813_744, "gqa"),
        ("mistralai/Mistral-Small-3.2-24B-Instruct-2506", 23_340_272_640, "gqa"),
        ("tencent/Hunyuan-MT-7B", 7_504_932_864, "gqa"),
        ("swiss-ai/Apertus-8B-Instruct-2509", 8_053_338_176, "gqa"),
        ("LGAI-EXAONE/EXAONE-4.0-1.2B", 1_489_106_688, "gqa"),
        ("ByteDance-Seed/Seed-OSS-36B-Instruct", 36_151_104_512, "gqa"),
        ("openbmb/MiniCPM3-4B", 4_261_902_848, "mla"),
        ("baidu/ERNIE-4.5-0.3B-PT", 360_748_032, "gqa"),
    ],
)
def test_real_configs_count_like_transformers(
    model_id: str, count: int, attention_type: str
) -> None:
    record = convert(model_id)
    assert record["parameter_count"] == count
    assert record["attention_type"] == attention_type
    assert not record["is_moe"]


def test_starcoder_multi_query_cache_is_one_head() -> None:
    record = convert("bigcode/starcoder")
    assert record["num_key_value_heads"] == 1
    assert record["kv_values_per_token"] == 40 * 2 * 128
    assert record["genz_kwargs"]["num_key_value_heads"] == 1
    legacy = load("bigcode/starcoder")
    legacy["multi_query"] = False
    mha = convert_hf_config(legacy)
    assert mha["attention_type"] == "mha"
    # K/V projections grow from one head to 48: 2 * 47 * 128 * (6144 + 1) per layer.
    assert mha["parameter_count"] - 15_517_456_384 == 40 * 2 * 47 * 128 * 6145


def test_gpt_neo_local_layers_slide() -> None:
    record = convert("roneneldan/TinyStories-1M")
    assert record["memory"]["kv_layers"] == [
        {"count": 4, "values_per_token": 128, "window": None},
        {"count": 4, "values_per_token": 128, "window": 256},
    ]
    # Past the window only the global layers keep growing.
    full = kv_cache_bytes(record, 1, 256)
    assert kv_cache_bytes(record, 1, 1024) - full == 4 * 128 * 768 * 2


def test_exaone4_string_pattern_gives_three_local_one_global() -> None:
    record = convert("LGAI-EXAONE/EXAONE-4.0-1.2B")
    layers = {(layer["window"], layer["count"]) for layer in record["memory"]["kv_layers"]}
    # 30 layers of LLLG: layers 3, 7, ..., 27 are global (7), the other 23 slide over 4096 tokens.
    assert layers == {(None, 7), (4096, 23)}
    assert record["kv_values_per_token"] == 30 * 2 * 8 * 64


def test_qwen3_5_keeps_state_for_linear_layers_and_kv_for_full_ones() -> None:
    record = convert("Qwen/Qwen3.5-9B")
    assert record["memory"]["kv_layers"] == [{"count": 8, "values_per_token": 2048, "window": None}]
    assert record["memory"]["ssm"] == {
        "layers": 24,
        "conv_state_values": (2 * 16 * 128 + 32 * 128) * 4,
        "ssm_state_values": 32 * 128 * 128,
    }
    assert "gated delta-net" in record["genz_unsupported"]
    assert record["architecture"]["mtp_num_hidden_layers"] == 1
    assert record["text_parameter_count"] == 8_953_803_264
    assert record["architecture"]["vision_parameter_count"] == 456_010_480


def test_qwen3_vl_counts_the_deepstack_mergers_and_ties_the_head() -> None:
    record = convert("Qwen/Qwen3-VL-4B-Instruct")
    untied = load("Qwen/Qwen3-VL-4B-Instruct")
    untied["tie_word_embeddings"] = False
    assert convert_hf_config(untied)["parameter_count"] - record["parameter_count"] == 151936 * 2560
    merger = 4096 * 4096 + 4096 + 4096 * 2560 + 2560
    no_deepstack = load("Qwen/Qwen3-VL-4B-Instruct")
    no_deepstack["vision_config"]["deepstack_visual_indexes"] = []
    assert record["parameter_count"] - convert_hf_config(no_deepstack)["parameter_count"] == 3 * (
        merger + 2 * 4096
    )
    assert record["warnings"][-1].startswith("GenZ simulates the language model only")


def test_mistral3_ties_the_head_when_the_wrapper_says_nothing() -> None:
    record = convert("mistralai/Mistral-Small-3.2-24B-Instruct-2506")
    assert any("tie_word_embeddings absent" in warning for warning in record["warnings"])
    config = load("mistralai/Mistral-Small-3.2-24B-Instruct-2506")
    config["tie_word_embeddings"] = False
    untied = convert_hf_config(config)
    assert untied["parameter_count"] == 24_011_361_280  # what a checkpoint storing lm_head holds
    # text_config's own flag does not decide in transformers 5: the wrapper's does.
    config["text_config"]["tie_word_embeddings"] = True
    assert convert_hf_config(config)["parameter_count"] == 24_011_361_280
    # Mistral-Small-24B's language model (23,572,403,200 untied, as Mistral-24B in truth.tsv
    # less its two extra vocabulary rows) with the head tied.
    assert record["text_parameter_count"] == 23_572_403_200 - 131072 * 5120
    assert record["architecture"]["vision_parameter_count"] == 403_305_472
    assert record["genz_kwargs"]["num_decoder_layers"] == 40


def test_mistral3_wraps_a_ministral3_text_model_with_its_window() -> None:
    config = load("mistralai/Mistral-Small-3.2-24B-Instruct-2506")
    config["text_config"].update(model_type="ministral3", sliding_window=4096)
    record = convert_hf_config(config)
    # Same dimensions as the Mistral text model: same count, every layer slides.
    assert record["parameter_count"] == 23_340_272_640
    assert record["memory"]["kv_layers"] == [
        {"count": 40, "values_per_token": 2048, "window": 4096}
    ]
    assert record["genz_kwargs"]["sliding_window"] == 4096


def test_minicpm3_caches_the_latent() -> None:
    record = convert("openbmb/MiniCPM3-4B")
    assert record["kv_values_per_token"] == 62 * (256 + 32)
    genz = record["genz_kwargs"]
    assert 2 * genz["num_key_value_heads"] * genz["head_dim"] == 256 + 32
    no_q_lora = load("openbmb/MiniCPM3-4B")
    no_q_lora["q_lora_rank"] = None
    # q_a (2560x768) + q_a_layernorm (768) + q_b (768x3840) become one 2560x3840 projection.
    delta = 2560 * 768 + 768 + 768 * 3840 - 2560 * 3840
    assert record["parameter_count"] - convert_hf_config(no_q_lora)["parameter_count"] == 62 * delta


# --- key spellings ---------------------------------------------------------------------------------


def test_gpt_bigcode_reads_legacy_and_standard_key_names_alike() -> None:
    legacy = load("bigcode/starcoder")
    standard = {key: value for key, value in legacy.items() if not key.startswith("n_")}
    standard.update(
        hidden_size=6144,
        num_hidden_layers=40,
        num_attention_heads=48,
        max_position_embeddings=8192,
        intermediate_size=24576,
    )
    assert convert_hf_config(standard)["parameter_count"] == 15_517_456_384


def test_chatglm_and_xglm_read_both_layer_key_names() -> None:
    config = load("THUDM/chatglm3-6b")
    config["num_hidden_layers"] = config.pop("num_layers")
    assert convert_hf_config(config)["parameter_count"] == 6_243_584_000
    xglm = {
        "model_type": "xglm",
        "d_model": 1024,
        "num_layers": 24,
        "attention_heads": 16,
        "ffn_dim": 4096,
        "vocab_size": 256008,
        "max_position_embeddings": 2048,
    }
    renamed = {
        "model_type": "xglm",
        "hidden_size": 1024,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "ffn_dim": 4096,
        "vocab_size": 256008,
    }
    # facebook/xglm-564M dimensions: 564,463,616 (transformers' default config is that model).
    assert convert_hf_config(xglm)["parameter_count"] == 564_463_616
    assert convert_hf_config(renamed)["parameter_count"] == 564_463_616


def test_glm_absent_keys_take_the_class_defaults_not_hidden_over_heads() -> None:
    config = {
        "model_type": "glm",
        "hidden_size": 4096,
        "num_hidden_layers": 40,
        "num_attention_heads": 32,
        "intermediate_size": 13696,
        "vocab_size": 151552,
    }
    record = convert_hf_config(config)
    assert (record["num_key_value_heads"], record["head_dim"]) == (2, 128)
    assert record["parameter_count"] == 9_399_951_360  # GlmConfig() on the meta device
    assert any("glm config class defaults" in warning for warning in record["warnings"])


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model_type": "qwen", "hidden_size": 4096}, "num_hidden_layers"),
        ({"model_type": "chatglm", "hidden_size": 4096, "num_layers": 28}, "padded_vocab_size"),
        ({"model_type": "gpt_bigcode", "n_embd": 768, "n_layer": 12}, "n_head"),
        ({"model_type": "qwen3_5", "vision_config": {}}, "text_config"),
        ({"model_type": "mistral3", "text_config": {}}, "text_config.hidden_size"),
    ],
)
def test_incomplete_configs_are_refused_naming_the_keys(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConversionError, match=message):
        convert_hf_config(config)


def test_gpt_neo_attention_types_must_cover_every_layer() -> None:
    config = load("roneneldan/TinyStories-1M")
    config["attention_types"] = [[["global", "local"], 3]]
    with pytest.raises(ConversionError, match="expands to 6 layers for 8"):
        convert_hf_config(config)


def test_glm_4_9b_chat_counts_alike_in_its_custom_and_transformers_spellings() -> None:
    # THUDM/glm-4-9b-chat (custom ChatGLMModel code) and its transformers port (glm-4-9b-chat-hf,
    # the GlmConfig defaults): one model, two config spellings, one count.
    custom = {
        "model_type": "chatglm",
        "hidden_size": 4096,
        "ffn_hidden_size": 13696,
        "kv_channels": 128,
        "num_layers": 40,
        "num_attention_heads": 32,
        "multi_query_attention": True,
        "multi_query_group_num": 2,
        "padded_vocab_size": 151552,
        "add_qkv_bias": True,
        "add_bias_linear": False,
        "rmsnorm": True,
        "post_layer_norm": True,
        "seq_length": 131072,
    }
    ported = {
        "model_type": "glm",
        "hidden_size": 4096,
        "intermediate_size": 13696,
        "num_hidden_layers": 40,
        "num_attention_heads": 32,
        "num_key_value_heads": 2,
        "head_dim": 128,
        "vocab_size": 151552,
        "attention_bias": True,
    }
    assert convert_hf_config(custom)["parameter_count"] == 9_399_951_360
    assert convert_hf_config(ported)["parameter_count"] == 9_399_951_360


@pytest.mark.parametrize(
    ("family", "key", "value"),
    [
        ("chatglm", "pre_seq_len", 128),
        ("minicpm", "use_output_gate", True),
        ("minicpm", "use_output_norm", True),
    ],
)
def test_variants_with_unmodelled_weights_are_refused(family: str, key: str, value: Any) -> None:
    config = load("THUDM/chatglm3-6b") if family == "chatglm" else load("Qwen/Qwen-7B")
    config.update(model_type=family, num_key_value_heads=32)
    config[key] = value
    with pytest.raises(ConversionError, match=f"{family}: {key}"):
        convert_hf_config(config)


def test_chatglm_multi_query_needs_its_group_count() -> None:
    config = load("THUDM/chatglm3-6b")
    del config["multi_query_group_num"]
    with pytest.raises(ConversionError, match="multi_query_group_num"):
        convert_hf_config(config)


# --- transformers as the oracle (the ``oracle`` extra) ----------------------------------------------

ORACLE_FAMILIES = [
    "glm",
    "glm4",
    "ernie4_5",
    "apertus",
    "exaone4",
    "seed_oss",
    "minicpm3",
    "qwen3_5_text",
    "qwen3_5",
    "qwen3_vl",
    "mistral3",
    "ministral3",
    "gpt_bigcode",
    "gpt_neo",
    "codegen",
    "xglm",
]


def _meta_count(config_object: Any) -> int:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    if config_object.model_type in ("qwen3_5", "qwen3_vl", "mistral3"):
        auto = transformers.AutoModelForImageTextToText
    else:
        auto = transformers.AutoModelForCausalLM
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = auto.from_config(config_object)
    return sum(parameter.numel() for parameter in model.parameters())


@pytest.mark.oracle
@pytest.mark.parametrize("family", ORACLE_FAMILIES)
def test_default_config_of_each_family_counts_like_transformers(family: str) -> None:
    transformers = pytest.importorskip("transformers")
    config_object = type(transformers.AutoConfig.for_model(family))()
    assert convert_hf_config(config_object.to_dict())["parameter_count"] == _meta_count(
        config_object
    )


@pytest.mark.oracle
def test_hunyuan_default_config_counts_like_transformers_once_head_dim_is_set() -> None:
    # transformers 5.24 cannot build HunYuanDenseV1Config() as is (head_dim None: TypeError).
    transformers = pytest.importorskip("transformers")
    config_object = transformers.AutoConfig.for_model("hunyuan_v1_dense", head_dim=128)
    expected = _meta_count(config_object)
    assert convert_hf_config(config_object.to_dict())["parameter_count"] == expected
    without = config_object.to_dict()
    without.pop("head_dim")
    assert convert_hf_config(without)["parameter_count"] == expected  # 4096 / 32


@pytest.mark.oracle
@pytest.mark.parametrize(
    "model_id",
    [
        "roneneldan/TinyStories-1M",
        "bigcode/starcoder",
        "Qwen/Qwen3-VL-4B-Instruct",
        "Qwen/Qwen3.5-9B",
        "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
        "tencent/Hunyuan-MT-7B",
        "swiss-ai/Apertus-8B-Instruct-2509",
        "ByteDance-Seed/Seed-OSS-36B-Instruct",
        "openbmb/MiniCPM3-4B",
        "baidu/ERNIE-4.5-0.3B-PT",
    ],
)
def test_transformers_5_spelling_of_real_configs_counts_the_same(model_id: str) -> None:
    """Real files are mostly 4.x-written; ``to_dict()`` gives the 5.x spelling of the same model."""
    transformers = pytest.importorskip("transformers")
    config = load(model_id)
    kwargs = {
        key: value
        for key, value in copy.deepcopy(config).items()
        if key not in ("model_type", "architectures", "transformers_version", "torch_dtype")
    }
    rewritten = transformers.AutoConfig.for_model(config["model_type"], **kwargs).to_dict()
    assert (
        convert_hf_config(rewritten)["parameter_count"]
        == convert_hf_config(config)["parameter_count"]
    )
