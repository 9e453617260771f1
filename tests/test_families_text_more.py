"""The text, encoder and seq2seq handlers (families_text_more / _encoder_more / _seq2seq_more) against transformers.

Each family is converted from transformers' own default config (``config_class().to_dict()``, the
transformers-5 spelling) and compared, to the parameter, with the model transformers builds on the
meta device: ``AutoModelForSeq2SeqLM`` for families in the seq2seq mapping (their checkpoints are
the encoder-decoder models), ``AutoModelForCausalLM`` otherwise. Variants flip the options that
change the layout (biases, tying, sparse steps, adapters ...), so a handler that ignores one fails.
Skipped without the ``oracle`` extra (torch + transformers).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from genz_catalog.convert import ConversionError, convert_hf_config

pytestmark = pytest.mark.oracle

# family -> keys transformers itself needs that its default config leaves unset.
DEFAULT_FIXES: dict[str, dict[str, Any]] = {
    "ministral": {"head_dim": 128},
    "nemotron": {"num_key_value_heads": 8},
}

FAMILIES = [
    # Llama relatives
    "exaone",
    "internlm3",
    "iquestcoder",
    "helium",
    "arcee",
    "hyperclovax",
    "bitnet",
    "diffllama",
    "nanochat",
    "jais2",
    "persimmon",
    "doge",
    "olmo3",
    "vaultgemma",
    "cwm",
    "granite_swa",
    "granitemoe_swa",
    "apertus1p5_text",
    "mellum",
    "solar_open",
    "kolibri1",
    "sarvam_moe",
    "sarvam_mla",
    "youtu",
    "ministral",
    "nemotron",
    "exaone_moe",
    "afmoe",
    "lfm3",
    "laguna",
    "rwkv",
    "recurrent_gemma",
    "mimo_v2_flash",
    "glm_moe_dsa",
    "hy_v3",
    "kimi_linear",
    "gemma4_text",
    "gemma4_unified_text",
    "aria_text",
    "olmo_hybrid",
    "cpmant",
    "beam",
    # GPT-era decoders
    "gpt-sw3",
    "openai-gpt",
    "ctrl",
    "biogpt",
    "gpt_neox_japanese",
    # BERT relatives built as causal LMs
    "camembert",
    "xlm-roberta",
    "data2vec-text",
    "ernie",
    "megatron-bert",
    "xlm-roberta-xl",
    "roberta-prelayernorm",
    "xmod",
    "big_bird",
    "roc_bert",
    "bert-generation",
    "electra",
    "rembert",
    "roformer",
    "modernbert-decoder",
    "xlm",
    "xlnet",
    # encoder-decoders
    "longt5",
    "switch_transformers",
    "nllb-moe",
    "plbart",
    "blenderbot-small",
    "mvp",
    "bigbird_pegasus",
    "pegasus_x",
]

# (family, overrides): layout options each handler must follow.
VARIANTS = [
    ("exaone", {"tie_word_embeddings": True, "attention_bias": True}),
    ("helium", {"attention_bias": True, "mlp_bias": True}),
    ("arcee", {"attention_bias": True, "mlp_bias": True}),
    ("hyperclovax", {"use_post_norm": False}),
    ("granite_swa", {"attention_bias": True, "tie_word_embeddings": False}),
    ("olmo3", {"attention_bias": True, "tie_word_embeddings": True}),
    ("solar_open", {"attention_bias": True, "n_shared_experts": 2}),
    ("sarvam_moe", {"use_qk_norm": False, "first_k_dense_replace": 3}),
    ("youtu", {"q_lora_rank": None, "tie_word_embeddings": False}),
    ("apertus1p5_text", {"output_vocab_size": 131072}),
    ("jais2", {"attention_bias": False, "mlp_bias": False}),
    ("doge", {"attention_bias": True, "mlp_bias": True}),
    ("ctrl", {"tie_word_embeddings": False}),
    ("beam", {"attention_bias": True, "tie_word_embeddings": True}),
    ("cpmant", {"prompt_types": 4, "segment_types": 8, "dim_head": 64}),
    ("aria_text", {"mlp_bias": True, "moe_num_shared_experts": 1}),
    ("olmo_hybrid", {"linear_num_value_heads": 15, "attention_bias": True}),
    ("gemma4_text", {"num_kv_shared_layers": 10, "use_double_wide_mlp": True}),
    (
        "gemma4_text",
        {
            "enable_moe_block": True,
            "num_experts": 8,
            "top_k_experts": 2,
            "moe_intermediate_size": 512,
        },
    ),
    (
        "gemma4_text",
        {"attention_k_eq_v": True, "num_global_key_value_heads": 1, "per_layer_config": None},
    ),
    ("gemma4_text", {"per_layer_config": None, "global_head_dim": 384, "attention_bias": True}),
    ("gemma4_unified_text", {"num_kv_shared_layers": 6, "tie_word_embeddings": False}),
    ("kimi_linear", {"q_lora_rank": 1024, "tie_word_embeddings": True}),
    ("hy_v3", {"attention_bias": True, "num_shared_experts": 2}),
    ("xlm", {"n_langs": 3, "tie_word_embeddings": False}),
    ("xlnet", {"d_inner": 2048, "tie_word_embeddings": False}),
    ("mimo_v2_flash", {"attention_bias": True, "tie_word_embeddings": True}),
    ("glm_moe_dsa", {"indexer_types": ["full", "shared", "shared"] * 26, "q_lora_rank": 1024}),
    ("rwkv", {"attention_hidden_size": 2048, "tie_word_embeddings": True}),
    ("recurrent_gemma", {"block_types": ["recurrent", "attention"], "lru_width": 1280}),
    ("lfm3", {"use_sandwich_norm": False, "use_attention_gate": False, "conv_bias": True}),
    ("laguna", {"gating": False, "shared_expert_intermediate_size": 1024}),
    ("laguna", {"num_attention_heads_per_layer": [48, 32] * 20, "attention_bias": True}),
    ("exaone_moe", {"first_k_dense_replace": 3, "mlp_layer_types": None}),
    ("afmoe", {"num_dense_layers": 3, "num_shared_experts": 1, "attention_bias": True}),
    ("gpt_neox_japanese", {"intermediate_multiple_size": 2}),
    ("ernie", {"use_task_id": True, "task_type_vocab_size": 5}),
    ("xmod", {"pre_norm": True, "adapter_layer_norm": True, "languages": ["en_XX", "de_DE"]}),
    ("electra", {"embedding_size": 256}),
    ("roformer", {"embedding_size": 384}),
    ("roc_bert", {"concat_input": False}),
    ("longt5", {"encoder_attention_type": "transient-global"}),
    ("switch_transformers", {"encoder_sparse_step": 1, "router_bias": True}),
    ("switch_transformers", {"tie_word_embeddings": False}),
    ("nllb-moe", {"encoder_sparse_step": 2, "router_bias": True}),
    ("plbart", {"tie_word_embeddings": False}),
    ("bigbird_pegasus", {"use_bias": True}),
    ("pegasus_x", {"num_global_tokens": 64}),
]


def default_config(family: str, **overrides: Any) -> dict[str, Any]:
    """transformers' default config for ``family`` as JSON (what ``save_pretrained`` writes)."""
    transformers = pytest.importorskip("transformers")
    config = transformers.AutoConfig.for_model(family).to_dict()
    config.update(DEFAULT_FIXES.get(family, {}))
    config.update(overrides)
    return json.loads(json.dumps(config, default=str))


def meta_count(config: dict[str, Any]) -> int:
    """Unique parameters of the model transformers builds for ``config`` on the meta device."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from transformers.models.auto import modeling_auto

    transformers.logging.set_verbosity_error()
    family = config["model_type"]
    kwargs = {
        key: value
        for key, value in config.items()
        if key not in ("model_type", "architectures", "transformers_version")
    }
    hf_config = transformers.AutoConfig.for_model(family, **kwargs)
    if family in modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES:
        auto = transformers.AutoModelForSeq2SeqLM
    else:
        auto = transformers.AutoModelForCausalLM
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = auto.from_config(hf_config)
    return sum(parameter.numel() for parameter in model.parameters())


@pytest.mark.parametrize("family", FAMILIES)
def test_default_config_count_equals_transformers(family: str) -> None:
    config = default_config(family)
    record = convert_hf_config(config)
    # transformers writes gpt-sw3 configs as model_type gpt2; every other family keeps its name.
    assert record["family"] == config["model_type"]
    assert record["parameter_count"] == meta_count(config)
    assert not any("unknown family" in warning for warning in record["warnings"])


@pytest.mark.parametrize(
    ("family", "overrides"),
    VARIANTS,
    ids=[f"{family}-{'-'.join(overrides)}" for family, overrides in VARIANTS],
)
def test_layout_variant_count_equals_transformers(family: str, overrides: dict[str, Any]) -> None:
    config = default_config(family, **overrides)
    if "layer_types" in config and "num_hidden_layers" in overrides:
        config.pop("layer_types")
    if "per_layer_config" in overrides and overrides["per_layer_config"] is None:
        config.pop("per_layer_config")  # let global_head_dim / num_global_key_value_heads decide
    assert convert_hf_config(config)["parameter_count"] == meta_count(config)


def test_olmo3_kv_cache_follows_its_three_sliding_one_full_pattern() -> None:
    record = convert_hf_config(default_config("olmo3"))
    # 32 layers: every 4th is full attention, 32 heads x 128 x (K + V) per layer.
    assert record["memory"]["kv_layers"] == [
        {"count": 8, "values_per_token": 8192, "window": None},
        {"count": 24, "values_per_token": 8192, "window": 4096},
    ]
    assert record["kv_values_per_token"] == 32 * 8192


def test_youtu_caches_the_mla_latent() -> None:
    record = convert_hf_config(default_config("youtu"))
    assert record["attention_type"] == "mla"
    assert record["kv_values_per_token"] == 32 * (512 + 64)


def test_switch_transformers_is_a_top1_moe_encoder_decoder() -> None:
    record = convert_hf_config(default_config("switch_transformers"))
    assert record["model_type"] == "encoder-decoder"
    assert record["is_moe"] and record["experts_per_token"] == 1
    # 3 sparse layers per stack, 7 of 8 experts idle per token; each expert is 2 x 768 x 2048.
    assert record["parameter_count"] - record["active_parameter_count"] == 6 * 7 * 2 * 768 * 2048
    assert record["genz_unsupported"]


@pytest.mark.parametrize(
    ("family", "overrides", "message"),
    [
        ("mvp", {"use_prompt": True}, "use_prompt=true is not supported"),
        ("doge", {"is_moe": True}, "is_moe=true"),
        ("helium", {"head_dim": 64}, "must equal hidden_size"),
        ("ministral", {"head_dim": None}, "config lacks required key(s): head_dim"),
        ("nemotron", {"num_key_value_heads": None}, "lacks required key(s): num_key_value_heads"),
        ("xmod", {"languages": None}, "languages"),
        ("hy_v3", {"mlp_bias": True}, "mlp_bias=true is not supported"),
        ("xlm", {"asm": True}, "asm=true"),
    ],
)
def test_configs_transformers_cannot_count_the_same_way_are_refused(
    family: str, overrides: dict[str, Any], message: str
) -> None:
    config = default_config(family, **overrides)
    with pytest.raises(ConversionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        convert_hf_config(config)


def test_exaone_transformers4_keys_read() -> None:
    # EXAONE 3.x files say num_layers / activation_function (transformers 4 custom code).
    config = default_config("exaone")
    config["num_layers"] = config.pop("num_hidden_layers")
    config["activation_function"] = config.pop("hidden_act")
    record = convert_hf_config(config)
    assert record["num_layers"] == 32
    assert record["parameter_count"] == 7818448896


def test_recurrent_families_keep_state_not_a_full_kv_cache() -> None:
    rwkv = convert_hf_config(default_config("rwkv"))
    assert rwkv["attention_type"] == "none" and rwkv["kv_values_per_token"] == 0
    assert rwkv["memory"]["ssm"] == {
        "layers": 32,
        "conv_state_values": 2 * 4096,
        "ssm_state_values": 3 * 4096,
    }
    griffin = convert_hf_config(default_config("recurrent_gemma"))
    # 26 layers cycling recurrent, recurrent, attention: 8 local-attention layers, window 2048.
    assert griffin["memory"]["kv_layers"] == [
        {"count": 8, "values_per_token": 2 * 10 * 256, "window": 2048}
    ]
    assert griffin["memory"]["ssm"]["layers"] == 18


def test_mimo_v2_flash_sliding_layers_cache_twice_the_kv_heads() -> None:
    record = convert_hf_config(default_config("mimo_v2_flash"))
    # 48 layers: layer 0 and every 6th are full (9), 39 slide over 129 tokens with 8 K/V heads;
    # keys are 192 wide, values 128.
    assert record["memory"]["kv_layers"] == [
        {"count": 9, "values_per_token": 4 * (192 + 128), "window": None},
        {"count": 39, "values_per_token": 8 * (192 + 128), "window": 129},
    ]


def test_mimo_v2_flash_reference_keys_that_disagree_are_refused() -> None:
    config = default_config("mimo_v2_flash", swa_num_key_value_heads=4)
    with pytest.raises(ConversionError, match="swa_num_key_value_heads"):
        convert_hf_config(config)


def test_kimi_linear_reads_the_checkpoint_linear_attn_config() -> None:
    config = default_config("kimi_linear")
    config.pop("layer_types")
    full = [4, 8, 12, 16, 20, 24, 27]
    config["linear_attn_config"] = {
        "full_attn_layers": full,
        "kda_layers": [n for n in range(1, 28) if n not in full],
        "head_dim": 64,
        "num_heads": 16,
        "short_conv_kernel_size": 3,
    }
    record = convert_hf_config(config)
    assert record["parameter_count"] == meta_count(config)
    assert record["memory"]["ssm"] == {
        "layers": 20,
        "conv_state_values": 3 * 16 * 64 * 2,
        "ssm_state_values": 16 * 64 * 64,
    }
    assert record["kv_values_per_token"] == 7 * (512 + 64)
