"""Hybrid state-space, encoder-decoder (seq2seq) and Whisper handlers.

Every expected count below is transformers 5.24's meta-device parameter count of that exact
config (``test_variant_counts_are_transformers_counts`` re-measures them when the oracle extra is
installed); the configs exercise both the transformers-4 and transformers-5 spellings of keys.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from genz_catalog.convert import ConversionError, convert_hf_config
from genz_catalog.memory import kv_cache_bytes, state_bytes

ZAMBA2_54 = (
    ["mamba"]
    + (["mamba"] * 5 + ["hybrid"]) * 7
    + ["mamba"] * 4
    + ["hybrid"]
    + ["mamba"] * 3
    + ["hybrid"]
    + ["mamba"] * 2
)

# Gemma 3n E4B text tower shapes (the Gemma3nTextConfig defaults), in the 4.x rope spelling.
GEMMA3N_E4B_TEXT = {
    "model_type": "gemma3n_text",
    "vocab_size": 262400,
    "hidden_size": 2048,
    "intermediate_size": 16384,
    "num_hidden_layers": 35,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "head_dim": 256,
    "max_position_embeddings": 32768,
    "sliding_window": 512,
    "vocab_size_per_layer_input": 262144,
    "hidden_size_per_layer_input": 256,
    "altup_num_inputs": 4,
    "num_kv_shared_layers": 15,
    "laurel_rank": 64,
    "rope_theta": 1000000.0,
    "rope_local_base_freq": 10000.0,
}
# Gemma 3n E2B: 30 layers, MLP 8192, 10 KV-sharing layers.
GEMMA3N_E2B_TEXT = dict(
    GEMMA3N_E4B_TEXT, num_hidden_layers=30, intermediate_size=8192, num_kv_shared_layers=10
)

# (id, config, transformers 5.24 meta-device parameter count)
VARIANTS: list[tuple[str, dict[str, Any], int]] = [
    (
        "granite-4.x-names-dense",
        {
            "model_type": "granitemoehybrid",
            "vocab_size": 32000,
            "hidden_size": 1024,
            "num_hidden_layers": 8,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "layer_types": [
                "mamba",
                "mamba",
                "mamba",
                "attention",
                "mamba",
                "mamba",
                "mamba",
                "attention",
            ],
            "tie_word_embeddings": True,
            "num_local_experts": 0,
            "shared_intermediate_size": 2048,
            "attention_bias": True,
            "mamba_n_heads": 32,
            "mamba_d_head": "auto",
            "mamba_d_state": 256,
        },
        130_595_392,
    ),
    (
        "granite-5.x-names-moe-rope",
        {
            "model_type": "granitemoehybrid",
            "vocab_size": 32000,
            "hidden_size": 512,
            "intermediate_size": 256,
            "num_hidden_layers": 4,
            "num_attention_heads": 32,
            "layer_types": [
                "linear_attention",
                "full_attention",
                "linear_attention",
                "full_attention",
            ],
            "num_local_experts": 16,
            "num_experts_per_tok": 4,
            "mamba_n_heads": 16,
            "mamba_d_head": 64,
            "mamba_n_groups": 2,
            "mamba_proj_bias": True,
            "mamba_conv_bias": False,
            "position_embedding_type": "rope",
        },
        70_596_224,
    ),
    (
        "nemotron_h-4.x-pattern-latent-moe",
        {
            "model_type": "nemotron_h",
            "vocab_size": 131072,
            "hidden_size": 4096,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "hybrid_override_pattern": "M-M*-EM-E",
            "num_hidden_layers": 9,
            "mamba_num_heads": 128,
            "mamba_head_dim": 64,
            "mamba_n_groups": 4,
            "ssm_state_size": 128,
            "mamba_d_conv": 3,
            "use_bias": True,
            "mlp_bias": True,
            "intermediate_size": 21504,
            "n_routed_experts": 8,
            "num_experts_per_tok": 2,
            "moe_intermediate_size": 7688,
            "moe_shared_expert_intermediate_size": 7688,
            "moe_latent_size": 1024,
            "num_nextn_predict_layers": 1,
        },
        2_355_388_944,
    ),
    (
        "nemotron_h-5.x-block-types",
        {
            "model_type": "nemotron_h",
            "vocab_size": 1000,
            "hidden_size": 256,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 64,
            "layers_block_type": [
                "linear_attention",
                "mlp",
                "full_attention",
                "mlp",
                "linear_attention",
                "mlp",
            ],
            "mamba_num_heads": 8,
            "mamba_head_dim": 32,
            "n_groups": 2,
            "ssm_state_size": 16,
            "conv_kernel": 4,
            "intermediate_size": 512,
            "tie_word_embeddings": True,
        },
        1_930_672,
    ),
    (
        "falcon_h1-rmsnorm-biases",
        {
            "model_type": "falcon_h1",
            "vocab_size": 128000,
            "hidden_size": 4096,
            "intermediate_size": 14336,
            "num_hidden_layers": 4,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "head_dim": 64,
            "mamba_rms_norm": True,
            "mamba_d_ssm": 2048,
            "mamba_n_heads": 32,
            "mamba_d_head": 64,
            "mamba_d_state": 256,
            "projectors_bias": True,
            "mamba_proj_bias": True,
            "attention_bias": True,
            "mlp_bias": True,
            "tie_word_embeddings": True,
        },
        1_422_684_672,
    ),
    (
        "bamba-attn-indices",
        {
            "model_type": "bamba",
            "vocab_size": 128000,
            "hidden_size": 4096,
            "intermediate_size": 14336,
            "num_hidden_layers": 5,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "attn_layer_indices": [1, 3],
            "attention_bias": True,
            "mlp_bias": True,
            "mamba_proj_bias": True,
            "mamba_n_groups": 2,
            "mamba_n_heads": 128,
            "mamba_d_state": 256,
        },
        2_329_869_824,
    ),
    (
        "zamba-computed-pattern",
        {
            "model_type": "zamba",
            "vocab_size": 32000,
            "hidden_size": 3712,
            "intermediate_size": 14848,
            "num_hidden_layers": 12,
            "num_attention_heads": 16,
            "num_key_value_heads": 4,
            "attn_layer_period": 3,
            "attn_layer_offset": 1,
            "mamba_dt_rank": 64,
            "n_mamba_heads": 4,
            "mamba_conv_bias": False,
            "mamba_proj_bias": True,
        },
        1_458_058_752,
    ),
    (
        "zamba2-2-blocks-attention-adapters",
        {
            "model_type": "zamba2",
            "vocab_size": 32000,
            "hidden_size": 2560,
            "num_hidden_layers": 54,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "layers_block_type": ZAMBA2_54,
            "num_mem_blocks": 2,
            "use_shared_attention_adapter": True,
            "add_bias_linear": True,
            "mamba_ngroups": 2,
            "intermediate_size": 7000,
            "n_mamba_heads": 8,
            "mamba_d_state": 64,
        },
        2_570_232_352,
    ),
    (
        "zamba2-more-blocks-than-hybrids",
        {
            "model_type": "zamba2",
            "vocab_size": 32000,
            "hidden_size": 2560,
            "num_hidden_layers": 6,
            "num_attention_heads": 32,
            "layers_block_type": ["mamba", "hybrid", "mamba", "hybrid", "mamba", "mamba"],
            "num_mem_blocks": 3,
        },
        679_952_784,
    ),
    (
        "bart-untied-asymmetric",
        {
            "model_type": "bart",
            "vocab_size": 50265,
            "d_model": 1024,
            "encoder_layers": 3,
            "decoder_layers": 2,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 1000,
            "decoder_ffn_dim": 4096,
            "max_position_embeddings": 1024,
            "tie_word_embeddings": False,
        },
        260_341_688,
    ),
    (
        "mbart-default-shapes",
        {
            "model_type": "mbart",
            "vocab_size": 50265,
            "d_model": 1024,
            "encoder_layers": 12,
            "decoder_layers": 12,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 4096,
            "decoder_ffn_dim": 4096,
            "max_position_embeddings": 1024,
        },
        406_295_552,
    ),
    (
        "pegasus-default-shapes",
        {
            "model_type": "pegasus",
            "vocab_size": 50265,
            "d_model": 1024,
            "encoder_layers": 12,
            "decoder_layers": 12,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 4096,
            "decoder_ffn_dim": 4096,
            "max_position_embeddings": 1024,
        },
        406_287_360,
    ),
    (
        "m2m_100-default-shapes",
        {
            "model_type": "m2m_100",
            "vocab_size": 128112,
            "d_model": 1024,
            "encoder_layers": 12,
            "decoder_layers": 12,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 4096,
            "decoder_ffn_dim": 4096,
            "max_position_embeddings": 1024,
        },
        483_905_536,
    ),
    (
        "marian-separate-vocabularies",
        {
            "model_type": "marian",
            "vocab_size": 58101,
            "decoder_vocab_size": 40000,
            "share_encoder_decoder_embeddings": False,
            "pad_token_id": 0,
            "d_model": 512,
            "encoder_layers": 6,
            "decoder_layers": 6,
            "encoder_attention_heads": 8,
            "decoder_attention_heads": 8,
            "encoder_ffn_dim": 2048,
            "decoder_ffn_dim": 2048,
            "max_position_embeddings": 512,
        },
        94_890_496,
    ),
    (
        "blenderbot-small-shapes",
        {
            "model_type": "blenderbot-small",
            "vocab_size": 54944,
            "d_model": 512,
            "encoder_layers": 8,
            "decoder_layers": 8,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 2048,
            "decoder_ffn_dim": 2048,
            "max_position_embeddings": 512,
        },
        87_508_992,
    ),
    (
        "whisper-tiny-shapes",
        {
            "model_type": "whisper",
            "vocab_size": 51865,
            "num_mel_bins": 80,
            "d_model": 384,
            "encoder_layers": 4,
            "decoder_layers": 4,
            "encoder_attention_heads": 6,
            "decoder_attention_heads": 6,
            "encoder_ffn_dim": 1536,
            "decoder_ffn_dim": 1536,
            "max_source_positions": 1500,
            "max_target_positions": 448,
        },
        37_760_640,
    ),
    (
        "whisper-large-v3-shapes",
        {
            "model_type": "whisper",
            "vocab_size": 51866,
            "num_mel_bins": 128,
            "d_model": 1280,
            "encoder_layers": 32,
            "decoder_layers": 32,
            "encoder_attention_heads": 20,
            "decoder_attention_heads": 20,
            "encoder_ffn_dim": 5120,
            "decoder_ffn_dim": 5120,
            "max_source_positions": 1500,
            "max_target_positions": 448,
        },
        1_543_490_560,
    ),
    (
        "gemma3n-e4b-shapes",
        {
            "model_type": "gemma3n",
            "text_config": GEMMA3N_E4B_TEXT,
            "audio_config": {
                "hidden_size": 1536,
                "conf_num_hidden_layers": 12,
                "conf_num_attention_heads": 8,
            },
            "vision_config": {"architecture": "mobilenetv5_300m_enc", "hidden_size": 2048},
        },
        7_818_517_072,
    ),
    (
        "gemma3n-e2b-shapes",
        {
            "model_type": "gemma3n",
            "text_config": GEMMA3N_E2B_TEXT,
            "audio_config": {"hidden_size": 1536},
            "vision_config": {"architecture": "mobilenetv5_300m_enc"},
        },
        5_418_464_192,
    ),
    ("gemma3n_text-e2b-shapes", GEMMA3N_E2B_TEXT, 4_435_182_688),
    (
        "gemma3n_text-per-layer-widths",
        {
            "model_type": "gemma3n_text",
            "vocab_size": 262400,
            "hidden_size": 2048,
            "intermediate_size": [8192, 8192, 8192, 8192, 8192, 4096, 4096, 4096, 4096, 4096],
            "num_hidden_layers": 10,
            "num_attention_heads": 8,
            "num_key_value_heads": 2,
            "head_dim": 256,
            "num_kv_shared_layers": 4,
            "altup_num_inputs": 3,
            "laurel_rank": 32,
            "hidden_size_per_layer_input": 128,
            "vocab_size_per_layer_input": 1000,
            "tie_word_embeddings": False,
        },
        1_576_210_920,
    ),
    (
        "phi4_multimodal-default-shapes",
        {
            "model_type": "phi4_multimodal",
            "vocab_size": 200064,
            "hidden_size": 3072,
            "intermediate_size": 8192,
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "max_position_embeddings": 131072,
            "original_max_position_embeddings": 4096,
            "vision_config": {
                "hidden_size": 1152,
                "intermediate_size": 4304,
                "num_hidden_layers": 27,
                "num_attention_heads": 16,
                "image_size": 448,
                "patch_size": 14,
            },
            "audio_config": {
                "hidden_size": 1024,
                "intermediate_size": 1536,
                "num_blocks": 24,
                "num_attention_heads": 16,
                "time_reduction": 8,
                "nemo_conv_channels": 1024,
            },
        },
        5_308_268_992,
    ),
    (
        "phi4_multimodal-variant",
        {
            "model_type": "phi4_multimodal",
            "vocab_size": 200064,
            "hidden_size": 3072,
            "intermediate_size": 8192,
            "num_hidden_layers": 4,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "tie_word_embeddings": True,
            "vision_config": {"num_hidden_layers": 3, "image_size": 224},
            "audio_config": {
                "time_reduction": 4,
                "bias_symmetric": True,
                "depthwise_multiplier": 2,
                "num_blocks": 3,
                "downsample_rate": 2,
                "kernel_size": 5,
            },
        },
        1_196_177_344,
    ),
    (
        "led-untied-asymmetric",
        {
            "model_type": "led",
            "vocab_size": 50265,
            "d_model": 1024,
            "encoder_layers": 3,
            "decoder_layers": 2,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 4096,
            "decoder_ffn_dim": 4096,
            "max_encoder_position_embeddings": 16384,
            "max_decoder_position_embeddings": 1024,
            "tie_word_embeddings": False,
        },
        304_543_744,
    ),
    (
        "bigbird_pegasus-biased",
        {
            "model_type": "bigbird_pegasus",
            "vocab_size": 96103,
            "d_model": 1024,
            "encoder_layers": 2,
            "decoder_layers": 16,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 4096,
            "decoder_ffn_dim": 4096,
            "max_position_embeddings": 4096,
            "use_bias": True,
        },
        400_741_376,
    ),
    (
        "fsmt-wmt19-shapes",
        {
            "model_type": "fsmt",
            "langs": ["en", "de"],
            "src_vocab_size": 42024,
            "tgt_vocab_size": 42024,
            "d_model": 1024,
            "encoder_layers": 6,
            "decoder_layers": 6,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 8192,
            "decoder_ffn_dim": 8192,
            "max_position_embeddings": 1024,
            "pad_token_id": 1,
        },
        408_268_800,
    ),
    (
        "pegasus_x-untied-more-global-tokens",
        {
            "model_type": "pegasus_x",
            "vocab_size": 96103,
            "d_model": 1024,
            "encoder_layers": 2,
            "decoder_layers": 16,
            "encoder_attention_heads": 16,
            "decoder_attention_heads": 16,
            "encoder_ffn_dim": 4096,
            "decoder_ffn_dim": 4096,
            "max_position_embeddings": 16384,
            "num_global_tokens": 64,
            "tie_word_embeddings": False,
        },
        687_511_552,
    ),
    (
        "prophetnet-untied-trigram",
        {
            "model_type": "prophetnet",
            "vocab_size": 30522,
            "hidden_size": 1024,
            "num_encoder_layers": 12,
            "num_decoder_layers": 3,
            "num_encoder_attention_heads": 16,
            "num_decoder_attention_heads": 16,
            "encoder_ffn_dim": 4096,
            "decoder_ffn_dim": 4096,
            "max_position_embeddings": 512,
            "ngram": 3,
            "num_buckets": 16,
            "tie_word_embeddings": False,
        },
        328_405_760,
    ),
    (
        "rwkv-4-169m-shapes",
        {
            "model_type": "rwkv",
            "vocab_size": 50277,
            "hidden_size": 768,
            "num_hidden_layers": 12,
            "context_length": 1024,
        },
        169_342_464,
    ),
    (
        "rwkv-narrow-attention-tied",
        {
            "model_type": "rwkv",
            "vocab_size": 50277,
            "hidden_size": 4096,
            "num_hidden_layers": 3,
            "attention_hidden_size": 2048,
            "intermediate_size": 10000,
            "tie_word_embeddings": True,
        },
        602_828_800,
    ),
    (
        "recurrent_gemma-2b-shapes",
        {
            "model_type": "recurrent_gemma",
            "vocab_size": 256000,
            "hidden_size": 2560,
            "intermediate_size": 7680,
            "num_hidden_layers": 26,
            "num_attention_heads": 10,
            "attention_window_size": 2048,
            "block_types": ["recurrent", "recurrent", "attention"],
        },
        2_010_263_040,
    ),
    (
        "recurrent_gemma-mqa-narrow-lru",
        {
            "model_type": "recurrent_gemma",
            "vocab_size": 256000,
            "hidden_size": 2560,
            "intermediate_size": 7680,
            "num_hidden_layers": 5,
            "num_attention_heads": 10,
            "num_key_value_heads": 1,
            "lru_width": 1280,
            "attention_bias": True,
            "tie_word_embeddings": False,
            "block_types": ["recurrent", "attention"],
        },
        1_517_622_784,
    ),
    (
        "olmo_hybrid-default-shapes",
        {
            "model_type": "olmo_hybrid",
            "vocab_size": 100352,
            "hidden_size": 3840,
            "intermediate_size": 11008,
            "num_hidden_layers": 32,
            "num_attention_heads": 30,
        },
        7_430_870_688,
    ),
    (
        "olmo_hybrid-gqa-narrow-deltanet",
        {
            "model_type": "olmo_hybrid",
            "vocab_size": 100352,
            "hidden_size": 3840,
            "intermediate_size": 11008,
            "num_hidden_layers": 6,
            "num_attention_heads": 30,
            "num_key_value_heads": 6,
            "attention_bias": True,
            "linear_num_key_heads": 10,
            "linear_num_value_heads": 20,
            "linear_key_head_dim": 64,
            "linear_value_head_dim": 96,
            "tie_word_embeddings": True,
            "layer_types": [
                "linear_attention",
                "full_attention",
                "linear_attention",
                "full_attention",
                "linear_attention",
                "full_attention",
            ],
        },
        1_334_084_760,
    ),
    (
        "xlstm-7b-shapes",
        {
            "model_type": "xlstm",
            "vocab_size": 50304,
            "embedding_dim": 4096,
            "hidden_size": 4096,
            "num_blocks": 32,
            "num_heads": 8,
            "qk_dim_factor": 0.5,
            "v_dim_factor": 1.0,
            "ffn_proj_factor": 2.667,
            "ffn_round_up_to_multiple_of": 64,
        },
        6_865_424_896,
    ),
    (
        "xlstm-biased-fused-tied",
        {
            "model_type": "xlstm",
            "vocab_size": 50304,
            "embedding_dim": 4096,
            "num_blocks": 3,
            "num_heads": 4,
            "use_bias": True,
            "qk_dim_factor": 0.25,
            "v_dim_factor": 0.5,
            "ffn_proj_factor": 1.3,
            "weight_mode": "fused",
            "tie_word_embeddings": True,
        },
        711_173_656,
    ),
    (
        "longt5-tglobal-base-shapes",
        {
            "model_type": "longt5",
            "vocab_size": 32128,
            "d_model": 768,
            "num_layers": 12,
            "num_decoder_layers": 12,
            "num_heads": 12,
            "d_kv": 64,
            "d_ff": 2048,
            "feed_forward_proj": "gated-gelu",
            "encoder_attention_type": "transient-global",
            "tie_word_embeddings": False,
            "global_block_size": 16,
            "local_radius": 127,
        },
        222_913_152,
    ),
    (
        "longt5-stored-is-gated-act-false",
        {
            "model_type": "longt5",
            "vocab_size": 32128,
            "d_model": 768,
            "num_layers": 12,
            "num_decoder_layers": 4,
            "num_heads": 12,
            "d_kv": 64,
            "d_ff": 2048,
            "feed_forward_proj": "gated-gelu",
            "encoder_attention_type": "local",
            "tie_word_embeddings": False,
            "global_block_size": 16,
            "local_radius": 127,
            "is_gated_act": False,
        },
        122_221_824,
    ),
    (
        "lfm3-default-shapes",
        {
            "model_type": "lfm3",
            "vocab_size": 128000,
            "hidden_size": 2048,
            "intermediate_size": 7680,
            "num_hidden_layers": 24,
            "num_attention_heads": 16,
            "num_key_value_heads": 4,
            "head_dim": 128,
            "sliding_window": 256,
            "conv_L_cache": 7,
        },
        1_728_801_536,
    ),
    (
        "lfm3-biased-conv-no-gate-untied",
        {
            "model_type": "lfm3",
            "vocab_size": 128000,
            "hidden_size": 2048,
            "intermediate_size": 7680,
            "num_hidden_layers": 6,
            "num_attention_heads": 16,
            "num_key_value_heads": 4,
            "head_dim": 64,
            "conv_bias": True,
            "use_attention_gate": False,
            "use_sandwich_norm": False,
            "attention_bias": True,
            "tie_word_embeddings": False,
        },
        885_130_496,
    ),
    (
        "t5gemma-2b-2b-shapes",
        {
            "model_type": "t5gemma",
            "encoder": {
                "model_type": "t5_gemma_module",
                "vocab_size": 256000,
                "hidden_size": 2304,
                "intermediate_size": 9216,
                "num_hidden_layers": 26,
                "num_attention_heads": 8,
                "num_key_value_heads": 4,
                "head_dim": 256,
                "sliding_window": 4096,
                "max_position_embeddings": 8192,
            },
            "decoder": {
                "model_type": "t5_gemma_module",
                "vocab_size": 256000,
                "hidden_size": 2304,
                "intermediate_size": 9216,
                "num_hidden_layers": 26,
                "num_attention_heads": 8,
                "num_key_value_heads": 4,
                "head_dim": 256,
                "sliding_window": 4096,
                "max_position_embeddings": 8192,
            },
        },
        5_596_853_760,
    ),
    (
        "t5gemma-unbalanced-untied",
        {
            "model_type": "t5gemma",
            "tie_word_embeddings": False,
            "encoder": {
                "model_type": "t5_gemma_module",
                "vocab_size": 256000,
                "hidden_size": 1024,
                "intermediate_size": 2048,
                "num_hidden_layers": 4,
                "num_attention_heads": 8,
                "num_key_value_heads": 4,
                "head_dim": 128,
                "sliding_window": 4096,
                "max_position_embeddings": 8192,
            },
            "decoder": {
                "model_type": "t5_gemma_module",
                "vocab_size": 256000,
                "hidden_size": 2304,
                "intermediate_size": 9216,
                "num_hidden_layers": 3,
                "num_attention_heads": 8,
                "num_key_value_heads": 4,
                "head_dim": 256,
                "sliding_window": 4096,
                "max_position_embeddings": 8192,
                "attention_bias": True,
            },
        },
        1_747_813_632,
    ),
]

VARIANT_BY_ID = {name: config for name, config, _ in VARIANTS}

# Every family these handlers cover, for the default-config oracle test.
FAMILIES = (
    "granitemoehybrid",
    "nemotron_h",
    "falcon_h1",
    "bamba",
    "zamba",
    "zamba2",
    "rwkv",
    "recurrent_gemma",
    "olmo_hybrid",
    "xlstm",
    "lfm3",
    "bart",
    "mbart",
    "plbart",
    "pegasus",
    "marian",
    "m2m_100",
    "blenderbot",
    "blenderbot-small",
    "whisper",
    "led",
    "bigbird_pegasus",
    "mvp",
    "fsmt",
    "pegasus_x",
    "prophetnet",
    "longt5",
    "t5gemma",
    "gemma3n_text",
    "gemma3n",
    "phi4_multimodal",
)

# Families whose transformers model builds its vision tower through timm (not a test dependency).
NEEDS_TIMM = {"gemma3n"}


def fresh(name: str) -> dict[str, Any]:
    """A deep copy of the variant config ``name``."""
    return json.loads(json.dumps(VARIANT_BY_ID[name]))


@pytest.mark.parametrize(("name", "config", "count"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_variant_counts_exactly(name: str, config: dict[str, Any], count: int) -> None:
    record = convert_hf_config(config, name)
    assert record["parameter_count"] == count
    assert record["family"] == config["model_type"]
    assert json.loads(json.dumps(record, allow_nan=False)) == record


@pytest.mark.oracle
@pytest.mark.parametrize(("name", "config", "count"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_variant_counts_are_transformers_counts(
    name: str, config: dict[str, Any], count: int
) -> None:
    from test_convert_oracle import meta_device_parameter_count

    if config["model_type"] in NEEDS_TIMM:
        pytest.importorskip("timm")
    assert meta_device_parameter_count(config) == count


@pytest.mark.oracle
@pytest.mark.parametrize("family", FAMILIES)
def test_transformers_default_config_counts_exactly(family: str) -> None:
    transformers = pytest.importorskip("transformers")
    from test_convert_oracle import meta_device_parameter_count

    if family in NEEDS_TIMM:
        pytest.importorskip("timm")
    config = transformers.AutoConfig.for_model(family).to_dict()
    assert convert_hf_config(config)["parameter_count"] == meta_device_parameter_count(config)


# --- memory layout -----------------------------------------------------------------------------


def test_granite_hybrid_caches_only_its_attention_layers() -> None:
    record = convert_hf_config(fresh("granite-4.x-names-dense"))
    # 2 attention layers of 8 K/V heads x 64: 2 * 2 * 8 * 64 values per token.
    assert record["memory"]["kv_layers"] == [{"count": 2, "values_per_token": 1024, "window": None}]
    assert record["kv_values_per_token"] == 2048
    # 6 Mamba-2 layers: conv over inner 2048 + 2 x 256 state channels x kernel 4; 32 heads x 64 x 256.
    assert record["memory"]["ssm"] == {
        "layers": 6,
        "conv_state_values": (2048 + 2 * 256) * 4,
        "ssm_state_values": 32 * 64 * 256,
    }
    assert record["attention_type"] == "gqa"
    assert "hybrid Mamba/attention" in record["genz_unsupported"]
    # The SSM state does not grow with the context; the KV cache does.
    assert state_bytes(record, batch=1) == 6 * (10240 + 524288) * 2
    assert kv_cache_bytes(record, batch=1, seq_len=1000) == 2048 * 1000 * 2


def test_granite_moe_active_count_leaves_out_unrouted_experts() -> None:
    record = convert_hf_config(fresh("granite-5.x-names-moe-rope"))
    assert record["is_moe"] and record["num_experts"] == 16 and record["experts_per_token"] == 4
    one_expert = 3 * 512 * 256
    assert record["active_parameter_count"] == 70_596_224 - 4 * (16 - 4) * one_expert


def test_nemotron_h_reads_the_4x_pattern_and_the_5x_block_list_alike() -> None:
    legacy = convert_hf_config(fresh("nemotron_h-4.x-pattern-latent-moe"))
    assert legacy["num_layers"] == 9  # "M-M*-EM-E"
    assert legacy["architecture"]["mamba_blocks"] == 3
    assert legacy["architecture"]["moe_blocks"] == 2
    assert legacy["architecture"]["mtp_layers"] == 1
    # mamba_n_groups (4) and mamba_d_conv (3) win over the 5.x names, as in transformers.
    assert legacy["memory"]["ssm"]["conv_state_values"] == (128 * 64 + 2 * 4 * 128) * 3
    assert legacy["kv_values_per_token"] == 2 * 8 * 128
    modern = convert_hf_config(fresh("nemotron_h-5.x-block-types"))
    assert [modern["architecture"][f"{kind}_blocks"] for kind in ("mamba", "attention", "mlp")] == [
        2,
        1,
        3,
    ]
    assert any("never ties" in warning for warning in modern["warnings"])


def test_falcon_h1_runs_attention_and_mamba_in_every_layer() -> None:
    record = convert_hf_config(fresh("falcon_h1-rmsnorm-biases"))
    assert record["memory"]["kv_layers"] == [
        {"count": 4, "values_per_token": 2 * 8 * 64, "window": None}
    ]
    assert record["memory"]["ssm"]["layers"] == 4
    assert "parallel attention + Mamba-2" in record["genz_unsupported"]


def test_zamba2_caches_per_hybrid_layer_although_blocks_are_shared() -> None:
    record = convert_hf_config(fresh("zamba2-2-blocks-attention-adapters"))
    assert record["architecture"]["hybrid_layers"] == 9
    assert record["architecture"]["shared_blocks"] == 2
    # head_dim is 2 * hidden / heads = 160; 8 K/V heads.
    assert record["memory"]["kv_layers"] == [
        {"count": 9, "values_per_token": 2 * 8 * 160, "window": None}
    ]
    assert record["memory"]["ssm"]["layers"] == 54


def test_bamba_without_attention_layers_is_a_pure_state_space_model() -> None:
    config = fresh("bamba-attn-indices")
    del config["attn_layer_indices"]
    record = convert_hf_config(config)
    assert record["attention_type"] == "none"
    assert record["kv_values_per_token"] == 0
    assert record["memory"]["ssm"]["layers"] == 5


def test_recurrent_families_keep_a_fixed_state_and_only_local_attention() -> None:
    rwkv = convert_hf_config(fresh("rwkv-4-169m-shapes"))
    assert rwkv["attention_type"] == "none" and rwkv["kv_values_per_token"] == 0
    assert rwkv["memory"]["ssm"] == {
        "layers": 12,
        "conv_state_values": 2 * 768,
        "ssm_state_values": 3 * 768,
    }
    griffin = convert_hf_config(fresh("recurrent_gemma-2b-shapes"))
    # Layers 2, 5, ..., 23 attend (8 of 26) over a 2048-token window.
    assert griffin["memory"]["kv_layers"] == [
        {"count": 8, "values_per_token": 2 * 10 * 256, "window": 2048}
    ]
    assert griffin["memory"]["ssm"]["layers"] == 18
    assert kv_cache_bytes(griffin, batch=1, seq_len=10_000) == 8 * 5120 * 2048 * 2


def test_olmo_hybrid_and_xlstm_state_layout() -> None:
    olmo = convert_hf_config(fresh("olmo_hybrid-default-shapes"))
    # Every 4th of 32 layers attends (30 heads x 128); 24 Gated DeltaNet layers keep a state.
    assert olmo["memory"]["kv_layers"] == [{"count": 8, "values_per_token": 7680, "window": None}]
    assert olmo["memory"]["ssm"] == {
        "layers": 24,
        "conv_state_values": (2 * 30 * 96 + 30 * 192) * 4,
        "ssm_state_values": 30 * 96 * 192,
    }
    xlstm = convert_hf_config(fresh("xlstm-biased-fused-tied"))
    assert xlstm["attention_type"] == "none" and xlstm["kv_values_per_token"] == 0
    assert any("never ties xLSTM" in warning for warning in xlstm["warnings"])


def test_lfm3_caches_full_and_sliding_attention_apart() -> None:
    record = convert_hf_config(fresh("lfm3-default-shapes"))
    # Default layout: full attention at i % 4 == 2 (6 layers), sliding at i % 4 == 0, i > 0 (5).
    assert record["memory"]["kv_layers"] == [
        {"count": 6, "values_per_token": 1024, "window": None},
        {"count": 5, "values_per_token": 1024, "window": 256},
    ]
    assert record["memory"]["ssm"]["layers"] == 13


def test_encoder_decoder_records_cross_attention_per_source_token() -> None:
    record = convert_hf_config(fresh("whisper-large-v3-shapes"), "openai/whisper-large-v3")
    assert record["model_type"] == "encoder-decoder"
    assert record["kv_values_per_token"] == 32 * 2 * 1280
    assert record["memory"]["cross_attention_values_per_source_token"] == 32 * 2 * 1280
    assert record["context_length"] == 448
    assert record["genz_kwargs"]["num_encoder_layers"] == 32
    assert record["genz_kwargs"]["num_ffi"] == 1
    assert "encoder-decoder" in record["genz_unsupported"]


def test_mvp_with_prompts_is_refused_not_counted_short() -> None:
    # transformers 5.24 builds 2 of MVP's 3 prompt networks; a checkpoint holds all 3.
    config = {
        "model_type": "mvp",
        "vocab_size": 50267,
        "d_model": 1024,
        "encoder_layers": 12,
        "decoder_layers": 3,
        "encoder_attention_heads": 16,
        "decoder_attention_heads": 16,
        "encoder_ffn_dim": 4096,
        "decoder_ffn_dim": 4096,
        "max_position_embeddings": 1024,
        "use_prompt": True,
        "prompt_length": 50,
        "prompt_mid_dim": 400,
    }
    with pytest.raises(ConversionError, match="use_prompt=true is not supported"):
        convert_hf_config(config)


def test_fsmt_cannot_tie_vocabularies_of_different_sizes() -> None:
    config = fresh("fsmt-wmt19-shapes")
    config.update(tie_word_embeddings=True, src_vocab_size=30000)
    with pytest.raises(ConversionError, match="cannot be one matrix"):
        convert_hf_config(config)


def test_t5gemma_caches_decoder_sliding_layers_within_the_window() -> None:
    record = convert_hf_config(fresh("t5gemma-2b-2b-shapes"))
    assert record["memory"]["kv_layers"] == [
        {"count": 13, "values_per_token": 2 * 4 * 256, "window": None},
        {"count": 13, "values_per_token": 2 * 4 * 256, "window": 4096},
    ]
    assert record["memory"]["cross_attention_values_per_source_token"] == 26 * 2 * 4 * 256


def test_sinusoidal_position_tables_are_reported_where_transformers_counts_them() -> None:
    pegasus = convert_hf_config(fresh("pegasus-default-shapes"))
    assert pegasus["architecture"]["sinusoidal_position_parameters"] == 2 * 1024 * 1024
    m2m = convert_hf_config(fresh("m2m_100-default-shapes"))
    assert "sinusoidal_position_parameters" not in m2m.get("architecture", {})


def test_gemma3n_caches_only_the_layers_before_kv_sharing() -> None:
    record = convert_hf_config(fresh("gemma3n-e4b-shapes"), "google/gemma-3n-E4B")
    # 35 layers, the last 15 reuse earlier caches: 20 caching layers, every 5th full attention.
    assert record["memory"]["kv_layers"] == [
        {"count": 4, "values_per_token": 2 * 2 * 256, "window": None},
        {"count": 16, "values_per_token": 2 * 2 * 256, "window": 512},
    ]
    assert record["text_parameter_count"] == 6_835_235_568
    assert record["architecture"]["vision_parameter_count"] == 294_126_912
    assert record["architecture"]["per_layer_embedding_parameters"] == 262_144 * 35 * 256
    assert "AltUp" in record["genz_unsupported"]


def test_phi4_multimodal_reports_its_towers() -> None:
    record = convert_hf_config(fresh("phi4_multimodal-default-shapes"))
    text = record["text_parameter_count"]
    architecture = record["architecture"]
    assert (
        text + architecture["vision_parameter_count"] + architecture["audio_parameter_count"]
        == (record["parameter_count"])
    )
    assert record["attention_type"] == "gqa"
    assert record["kv_values_per_token"] == 32 * 2 * 8 * 96


# --- refusals ------------------------------------------------------------------------------------


def test_nemotron_h_without_a_block_pattern_names_the_missing_key() -> None:
    config = fresh("nemotron_h-4.x-pattern-latent-moe")
    del config["hybrid_override_pattern"]
    with pytest.raises(ConversionError, match="layers_block_type \\(or hybrid_override_pattern\\)"):
        convert_hf_config(config)


def test_unknown_layer_type_is_refused() -> None:
    config = fresh("granite-4.x-names-dense")
    config["layer_types"][0] = "sliding_attention"
    with pytest.raises(ConversionError, match="unknown layer type 'sliding_attention'"):
        convert_hf_config(config)


def test_zamba2_with_an_unusual_depth_needs_its_block_list() -> None:
    config = fresh("zamba2-more-blocks-than-hybrids")
    del config["layers_block_type"]
    with pytest.raises(ConversionError, match="lacks required key\\(s\\): layers_block_type"):
        convert_hf_config(config)


def test_zamba2_7b_release_config_in_zyphras_fork_naming_is_refused() -> None:
    """Zyphra/Zamba2-7B's release-time config (transformers_version 4.43.0.dev0, Zyphra's fork
    names: ffn_hidden_size, lora_rank, state_size, use_shared_block_lora), size-defining keys as
    quoted in full by mlstm_kernels 2.0.6 (PyPI), utils/benchmark/benchmarks/
    huggingface_model_configs.py. It has no n_mamba_heads: transformers 5.24 builds 8 SSM heads
    of 896 from it (7,326,532,760 on the meta device), the checkpoint has 112 heads of 64
    (mamba_headdim). The converter names the conflict instead of counting either layout.
    """
    hybrid = {6, 11, 17, 23, 29, 35, 41, 47, 53, 59, 65, 71, 77}
    config = {
        "architectures": ["Zamba2ForCausalLM"],
        "model_type": "zamba2",
        "add_bias_linear": False,
        "ffn_hidden_size": 14336,
        "hidden_size": 3584,
        "kv_channels": 112,
        "layers_block_type": ["hybrid" if i in hybrid else "mamba" for i in range(81)],
        "lora_rank": 128,
        "mamba_headdim": 64,
        "mamba_ngroups": 2,
        "num_attention_heads": 32,
        "num_hidden_layers": 81,
        "num_key_value_heads": 32,
        "num_mem_blocks": 2,
        "state_size": 64,
        "use_shared_attention_lora": False,
        "use_shared_block_lora": True,
        "vocab_size": 32000,
    }
    with pytest.raises(ConversionError, match=r"mamba_headdim \(64\) x 8 SSM heads"):
        convert_hf_config(config)
    config["n_mamba_heads"] = 112  # the checkpoint's layout: counted like transformers
    assert convert_hf_config(config)["parameter_count"] == 7_356_749_648


def test_untied_zamba_is_refused_not_guessed() -> None:
    config = fresh("zamba-computed-pattern")
    config["tie_word_embeddings"] = False
    with pytest.raises(ConversionError, match="tie_word_embeddings=false is not supported"):
        convert_hf_config(config)


def test_gemma3n_with_an_unmeasured_timm_tower_is_refused() -> None:
    config = fresh("gemma3n-e2b-shapes")
    config["vision_config"]["architecture"] = "mobilenetv4_conv_small"
    with pytest.raises(ConversionError, match="'mobilenetv4_conv_small' is a timm model"):
        convert_hf_config(config)


def test_seq2seq_config_without_layer_keys_names_them() -> None:
    config = fresh("bart-untied-asymmetric")
    del config["encoder_layers"], config["decoder_ffn_dim"]
    with pytest.raises(ConversionError, match="encoder_layers, decoder_ffn_dim"):
        convert_hf_config(config)


# --- robustness -----------------------------------------------------------------------------------

BAD_VALUES: tuple[Any, ...] = (None, "x", -1, 0, [], {}, 1.5, True, 10**13, [1, 2], {"a": 1})


def _mutations(config: dict[str, Any]) -> list[dict[str, Any]]:
    """``config`` with each key (top level and one level down) deleted or given a bad value."""
    mutated = []
    paths = [(key,) for key in config] + [
        (outer, inner)
        for outer, value in config.items()
        if isinstance(value, dict)
        for inner in value
    ]
    for path in paths:
        for value in ("<delete>", *BAD_VALUES):
            copy = json.loads(json.dumps(config))
            target = copy if len(path) == 1 else copy[path[0]]
            if value == "<delete>":
                del target[path[-1]]
            else:
                target[path[-1]] = value
            mutated.append(copy)
    return mutated


@pytest.mark.parametrize(("name", "config", "count"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_damaged_configs_convert_or_raise_conversion_error(
    name: str, config: dict[str, Any], count: int
) -> None:
    for damaged in _mutations(config):
        try:
            record = convert_hf_config(damaged)
        except ConversionError:
            continue
        assert 0 <= record["active_parameter_count"] <= record["parameter_count"]
        json.dumps(record, allow_nan=False)


@pytest.mark.parametrize(
    ("name", "renames"),
    [
        (
            "bart-untied-asymmetric",
            {
                "d_model": "hidden_size",
                "encoder_layers": "num_hidden_layers",
                "encoder_attention_heads": "num_attention_heads",
            },
        ),
        (
            "whisper-tiny-shapes",
            {
                "d_model": "hidden_size",
                "encoder_layers": "num_hidden_layers",
                "encoder_attention_heads": "num_key_value_heads",
            },
        ),
        (
            "longt5-tglobal-base-shapes",
            {
                "d_model": "hidden_size",
                "num_layers": "num_hidden_layers",
                "num_heads": "num_attention_heads",
                "d_kv": "head_dim",
            },
        ),
        ("recurrent_gemma-2b-shapes", {"attention_window_size": "sliding_window"}),
    ],
)
def test_attribute_map_aliases_count_the_same(name: str, renames: dict[str, str]) -> None:
    """transformers accepts the ``attribute_map`` alias of a key in its place (4.x files, and the
    family sweep's transformers-4 spelling, use them); the count must not change."""
    config = fresh(name)
    for canonical, alias in renames.items():
        config[alias] = config.pop(canonical)
    expected = next(count for variant, _, count in VARIANTS if variant == name)
    assert convert_hf_config(config)["parameter_count"] == expected
