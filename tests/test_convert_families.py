"""Real configs (reproduced from their public Hub repos) for families without a truth.tsv row.

Each expected count was checked against transformers 5.24 on the meta device (see
tests/test_convert_oracle.py, which re-checks them when the ``oracle`` extra is installed) and,
where one exists, the published parameter count. Two entries are synthetic variants of real
configs that switch on optional flags (attention/MLP biases, qk LayerNorm).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from genz_catalog.convert import convert_hf_config


class ExtraConfig:
    """A config with its expected parameter count (int) and where that number comes from."""

    __slots__ = ("model_id", "config", "parameter_count", "basis")

    def __init__(
        self, model_id: str, config: dict[str, Any], parameter_count: int, basis: str
    ) -> None:
        self.model_id = model_id
        self.config = config
        self.parameter_count = parameter_count
        self.basis = basis


EXTRA_CONFIGS: list[ExtraConfig] = [
    ExtraConfig(
        "Qwen/Qwen2.5-VL-7B-Instruct",
        json.loads(
            r"""{"architectures": ["Qwen2_5_VLForConditionalGeneration"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656, "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944, "max_position_embeddings": 128000, "max_window_layers": 28, "model_type": "qwen2_5_vl", "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.41.2", "use_cache": true, "use_sliding_window": false, "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "in_chans": 3, "out_hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14, "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2, "temporal_patch_size": 2}, "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}, "vocab_size": 152064}"""
        ),
        8_292_166_656,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "google/gemma-3-4b-it",
        json.loads(
            r"""{"architectures": ["Gemma3ForConditionalGeneration"], "boi_token_index": 255999, "eoi_token_index": 256000, "eos_token_id": [1, 106], "image_token_index": 262144, "initializer_range": 0.02, "mm_tokens_per_image": 256, "model_type": "gemma3", "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text", "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024}, "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0", "vision_config": {"hidden_size": 1152, "image_size": 896, "intermediate_size": 4304, "model_type": "siglip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 27, "patch_size": 14, "vision_use_head": false}}"""
        ),
        4_300_079_472,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "databricks/dbrx-base",
        json.loads(
            r"""{"architectures": ["DbrxForCausalLM"], "attn_config": {"clip_qkv": 8, "kv_n_heads": 8, "model_type": "", "rope_theta": 500000}, "d_model": 6144, "emb_pdrop": 0.0, "ffn_config": {"ffn_hidden_size": 10752, "model_type": "", "moe_jitter_eps": 0, "moe_loss_weight": 0.05, "moe_num_experts": 16, "moe_top_k": 4}, "initializer_range": 0.02, "max_seq_len": 32768, "model_type": "dbrx", "n_heads": 48, "n_layers": 40, "output_router_logits": false, "resid_pdrop": 0.0, "router_aux_loss_coef": 0.05, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.38.2", "use_cache": true, "vocab_size": 100352}"""
        ),
        131_596_523_520,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "LiquidAI/LFM2-1.2B",
        json.loads(
            r"""{"architectures": ["Lfm2ForCausalLM"], "block_auto_adjust_ff_dim": true, "block_dim": 2048, "block_ff_dim": 12288, "block_ffn_dim_multiplier": 1.0, "block_mlp_init_scale": 1.0, "block_multiple_of": 256, "block_norm_eps": 1e-05, "block_out_init_scale": 1.0, "block_use_swiglu": true, "block_use_xavier_init": true, "bos_token_id": 1, "conv_L_cache": 3, "conv_bias": false, "conv_dim": 2048, "conv_dim_out": 2048, "conv_use_xavier_init": true, "eos_token_id": 7, "hidden_size": 2048, "initializer_range": 0.02, "layer_types": ["conv", "conv", "full_attention", "conv", "conv", "full_attention", "conv", "conv", "full_attention", "conv", "full_attention", "conv", "full_attention", "conv", "full_attention", "conv"], "max_position_embeddings": 128000, "model_type": "lfm2", "norm_eps": 1e-05, "num_attention_heads": 32, "num_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pad_token_id": 0, "rope_theta": 1000000.0, "torch_dtype": "bfloat16", "transformers_version": "4.54.0.dev0", "use_cache": true, "use_pos_enc": true, "vocab_size": 65536}"""
        ),
        1_170_340_608,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "FacebookAI/roberta-base",
        json.loads(
            r"""{"architectures": ["RobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1, "bos_token_id": 0, "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "roberta", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1, "type_vocab_size": 1, "vocab_size": 50265}"""
        ),
        124_697_433,
        "transformers RobertaForMaskedLM (meta device); = recorded Hub safetensors F32 total of deepset/roberta-base-squad2 (124,056,578) - QA head (1,538) + MLM head (642,393)",
    ),
    ExtraConfig(
        "HuggingFaceTB/SmolLM3-3B",
        json.loads(
            r"""{"architectures": ["SmolLM3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": null, "eos_token_id": 128012, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 11008, "layer_types": ["full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention", "full_attention"], "max_position_embeddings": 65536, "max_window_layers": 28, "mlp_bias": false, "model_type": "smollm3", "no_rope_layer_interval": 4, "num_attention_heads": 16, "num_hidden_layers": 36, "num_key_value_heads": 4, "pad_token_id": 128004, "pretraining_tp": 2, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 5000000.0, "sliding_window": null, "torch_dtype": "bfloat16", "use_cache": false, "use_sliding_window": false, "vocab_size": 128256}"""
        ),
        3_075_098_624,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "tiiuae/falcon-40b (legacy RefinedWeb)",
        json.loads(
            r"""{"alibi": false, "apply_residual_connection_post_layernorm": false, "architectures": ["RWForCausalLM"], "attention_dropout": 0.0, "bias": false, "bos_token_id": 11, "eos_token_id": 11, "hidden_dropout": 0.0, "hidden_size": 8192, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "RefinedWeb", "n_head": 128, "n_head_kv": 8, "n_layer": 60, "parallel_attn": true, "torch_dtype": "bfloat16", "transformers_version": "4.27.4", "use_cache": true, "vocab_size": 65024}"""
        ),
        41_303_293_952,
        "same weights as the in-library tiiuae/falcon-40b config (transformers cannot load model_type RefinedWeb)",
    ),
    ExtraConfig(
        "tiiuae/falcon-40b",
        json.loads(
            r"""{"alibi": false, "apply_residual_connection_post_layernorm": false, "architectures": ["FalconForCausalLM"], "attention_dropout": 0.0, "bias": false, "bos_token_id": 11, "eos_token_id": 11, "hidden_dropout": 0.0, "hidden_size": 8192, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "falcon", "new_decoder_architecture": true, "num_attention_heads": 128, "num_hidden_layers": 60, "num_kv_heads": 8, "parallel_attn": true, "torch_dtype": "bfloat16", "transformers_version": "4.27.4", "use_cache": true, "vocab_size": 65024}"""
        ),
        41_303_293_952,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "deepseek-ai/DeepSeek-V2",
        json.loads(
            r"""{"architectures": ["DeepseekV2ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "aux_loss_alpha": 0.001, "bos_token_id": 100000, "eos_token_id": 100001, "first_k_dense_replace": 1, "hidden_act": "silu", "hidden_size": 5120, "initializer_range": 0.02, "intermediate_size": 12288, "kv_lora_rank": 512, "max_position_embeddings": 163840, "model_type": "deepseek_v2", "moe_intermediate_size": 1536, "moe_layer_freq": 1, "n_group": 8, "n_routed_experts": 160, "n_shared_experts": 2, "norm_topk_prob": false, "num_attention_heads": 128, "num_experts_per_tok": 6, "num_hidden_layers": 60, "num_key_value_heads": 128, "pretraining_tp": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "rms_norm_eps": 1e-06, "rope_theta": 10000, "routed_scaling_factor": 16.0, "scoring_func": "softmax", "seq_aux": true, "tie_word_embeddings": false, "topk_group": 3, "topk_method": "group_limited_greedy", "torch_dtype": "bfloat16", "use_cache": true, "v_head_dim": 128, "vocab_size": 102400}"""
        ),
        235_741_434_880,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "google/t5-v1_1-small",
        json.loads(
            r"""{"architectures": ["T5ForConditionalGeneration"], "d_ff": 1024, "d_kv": 64, "d_model": 512, "decoder_start_token_id": 0, "dropout_rate": 0.1, "eos_token_id": 1, "feed_forward_proj": "gated-gelu", "initializer_factor": 1.0, "is_encoder_decoder": true, "layer_norm_epsilon": 1e-06, "model_type": "t5", "num_decoder_layers": 8, "num_heads": 6, "num_layers": 8, "output_past": true, "pad_token_id": 0, "relative_attention_num_buckets": 32, "tie_word_embeddings": false, "vocab_size": 32128}"""
        ),
        76_961_152,
        "published checkpoint size (77M: 76,961,152; untied lm_head per tie_word_embeddings=false); transformers 5 ties T5 heads unconditionally so its meta-device count (60,511,616) is not the oracle here",
    ),
    ExtraConfig(
        "facebook/opt-350m",
        json.loads(
            r"""{"activation_dropout": 0.0, "activation_function": "relu", "attention_dropout": 0.0, "bos_token_id": 2, "do_layer_norm_before": false, "dropout": 0.1, "eos_token_id": 2, "ffn_dim": 4096, "hidden_size": 1024, "init_std": 0.02, "layerdrop": 0.0, "max_position_embeddings": 2048, "model_type": "opt", "num_attention_heads": 16, "num_hidden_layers": 24, "pad_token_id": 1, "torch_dtype": "float16", "use_cache": true, "vocab_size": 50272, "word_embed_proj_dim": 512}"""
        ),
        331_196_416,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "microsoft/Phi-3.5-MoE-instruct",
        json.loads(
            r"""{"architectures": ["PhiMoEForCausalLM"], "attention_bias": true, "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 32000, "hidden_act": "silu", "hidden_dropout": 0.0, "hidden_size": 4096, "initializer_range": 0.02, "input_jitter_noise": 0.01, "intermediate_size": 6400, "lm_head_bias": true, "max_position_embeddings": 131072, "model_type": "phimoe", "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32, "num_key_value_heads": 8, "num_local_experts": 16, "original_max_position_embeddings": 4096, "output_router_logits": false, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "router_aux_loss_coef": 0.0, "router_jitter_noise": 0.01, "sliding_window": 131072, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 32064}"""
        ),
        41_873_153_344,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "CohereForAI/c4ai-command-r-plus",
        json.loads(
            r"""{"architectures": ["CohereForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 5, "eos_token_id": 255001, "hidden_act": "silu", "hidden_size": 12288, "initializer_range": 0.02, "intermediate_size": 33792, "layer_norm_eps": 1e-05, "logit_scale": 0.8333333333333334, "max_position_embeddings": 8192, "model_type": "cohere", "num_attention_heads": 96, "num_hidden_layers": 64, "num_key_value_heads": 8, "pad_token_id": 0, "rope_theta": 75000000.0, "torch_dtype": "float16", "use_cache": true, "use_qk_norm": true, "vocab_size": 256000}"""
        ),
        103_810_674_688,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "microsoft/phi-1_5 (qk_layernorm variant)",
        json.loads(
            r"""{"model_type": "phi", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 51200, "max_position_embeddings": 2048, "partial_rotary_factor": 0.5, "qk_layernorm": true, "hidden_act": "gelu_new", "tie_word_embeddings": false}"""
        ),
        1_418_276_864,
        "synthetic variant of a real config exercising optional flags; transformers 5.24 AutoModel (meta device)",
    ),
    ExtraConfig(
        "stabilityai/stablelm-2-12b",
        json.loads(
            r"""{"architectures": ["StableLmForCausalLM"], "hidden_act": "silu", "hidden_size": 5120, "intermediate_size": 13824, "layer_norm_eps": 1e-05, "max_position_embeddings": 4096, "model_type": "stablelm", "num_attention_heads": 32, "num_hidden_layers": 40, "num_key_value_heads": 8, "partial_rotary_factor": 0.25, "qk_layernorm": true, "rope_theta": 10000, "tie_word_embeddings": false, "use_parallel_residual": true, "use_qkv_bias": false, "vocab_size": 100352}"""
        ),
        12_143_185_920,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "meta-llama (attention_bias+mlp_bias variant)",
        json.loads(
            r"""{"model_type": "llama", "hidden_size": 1024, "intermediate_size": 2816, "num_hidden_layers": 4, "num_attention_heads": 16, "num_key_value_heads": 4, "vocab_size": 32000, "attention_bias": true, "mlp_bias": true, "max_position_embeddings": 4096}"""
        ),
        110_670_848,
        "synthetic variant of a real config exercising optional flags; transformers 5.24 AutoModel (meta device)",
    ),
    ExtraConfig(
        "ibm-granite/granite-3.0-3b-a800m-instruct",
        json.loads(
            r"""{"architectures": ["GraniteMoeForCausalLM"], "attention_bias": false, "attention_dropout": 0.1, "attention_multiplier": 0.015625, "bos_token_id": 0, "embedding_multiplier": 12.0, "eos_token_id": 0, "hidden_act": "silu", "hidden_size": 1536, "initializer_range": 0.02, "intermediate_size": 512, "logits_scaling": 6.0, "max_position_embeddings": 4096, "model_type": "granitemoe", "num_attention_heads": 24, "num_experts_per_tok": 8, "num_hidden_layers": 32, "num_key_value_heads": 8, "num_local_experts": 40, "pad_token_id": 0, "residual_multiplier": 0.22, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 10000, "tie_word_embeddings": true, "vocab_size": 49155}"""
        ),
        3_298_793_472,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "google/mt5-small",
        json.loads(
            r"""{"architectures": ["MT5ForConditionalGeneration"], "d_ff": 1024, "d_kv": 64, "d_model": 512, "decoder_start_token_id": 0, "dropout_rate": 0.1, "eos_token_id": 1, "feed_forward_proj": "gated-gelu", "initializer_factor": 1.0, "is_encoder_decoder": true, "layer_norm_epsilon": 1e-06, "model_type": "mt5", "num_decoder_layers": 8, "num_heads": 6, "num_layers": 8, "pad_token_id": 0, "relative_attention_num_buckets": 32, "tie_word_embeddings": false, "tokenizer_class": "T5Tokenizer", "vocab_size": 250112}"""
        ),
        300_176_768,
        "transformers MT5ForConditionalGeneration (meta device); published 300M",
    ),
    ExtraConfig(
        "state-spaces/mamba-130m-hf",
        json.loads(
            r"""{"architectures": ["MambaForCausalLM"], "bos_token_id": 0, "conv_kernel": 4, "d_inner": 1536, "d_model": 768, "eos_token_id": 0, "expand": 2, "fused_add_norm": true, "hidden_act": "silu", "hidden_size": 768, "initializer_range": 0.1, "intermediate_size": 1536, "layer_norm_epsilon": 1e-05, "model_type": "mamba", "n_layer": 24, "num_hidden_layers": 24, "pad_token_id": 0, "pad_vocab_size_multiple": 8, "rescale_prenorm_residual": false, "residual_in_fp32": true, "rms_norm": true, "state_size": 16, "time_step_floor": 0.0001, "time_step_init_scheme": "random", "time_step_max": 0.1, "time_step_min": 0.001, "time_step_rank": 48, "time_step_scale": 1.0, "use_bias": false, "use_cache": true, "use_conv_bias": true, "vocab_size": 50280}"""
        ),
        129_135_360,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
    ExtraConfig(
        "Qwen/Qwen2-57B-A14B",
        json.loads(
            r"""{"architectures": ["Qwen2MoeForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "decoder_sparse_step": 1, "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944, "max_position_embeddings": 131072, "max_window_layers": 28, "model_type": "qwen2_moe", "moe_intermediate_size": 2560, "norm_topk_prob": false, "num_attention_heads": 28, "num_experts": 64, "num_experts_per_tok": 8, "num_hidden_layers": 28, "num_key_value_heads": 4, "output_router_logits": false, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.001, "shared_expert_intermediate_size": 20480, "sliding_window": 65536, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}"""
        ),
        57_408_658_944,
        "transformers 5.24 AutoModel (meta device), torch 2.13",
    ),
]

EXTRA_BY_ID = {extra.model_id: extra for extra in EXTRA_CONFIGS}


def extra_config(model_id: str) -> dict[str, Any]:
    """A fresh copy of the extra config for ``model_id``."""
    return json.loads(json.dumps(EXTRA_BY_ID[model_id].config))


@pytest.mark.parametrize("extra", EXTRA_CONFIGS, ids=[extra.model_id for extra in EXTRA_CONFIGS])
def test_extra_family_configs_count_exactly(extra: ExtraConfig) -> None:
    assert (
        convert_hf_config(extra.config, extra.model_id)["parameter_count"] == extra.parameter_count
    )
