"""Memory analysis on real converted configs, checked against hand-computed values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from genz_catalog.convert import convert_hf_config
from genz_catalog.memory import (
    bytes_per_value,
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    memory_report,
    state_bytes,
    weight_bytes,
)

CONFIG_DIR = Path(__file__).parent / "data" / "hf-configs"


def record_for(folder: str) -> dict[str, Any]:
    return convert_hf_config(json.loads((CONFIG_DIR / folder / "config.json").read_text()), folder)


@pytest.mark.parametrize(
    ("dtype", "width"),
    [
        ("fp32", 4),
        ("float32", 4),
        ("bf16", 2),
        ("bfloat16", 2),
        ("fp16", 2),
        ("float16", 2),
        ("fp8", 1),
        ("int8", 1),
        ("int4", 0.5),
        ("BF16", 2),
    ],
)
def test_bytes_per_value(dtype: str, width: float) -> None:
    assert bytes_per_value(dtype) == width


@pytest.mark.parametrize("dtype", ["fp64", "int3", "", "q4_k_m"])
def test_unknown_dtype_names_the_valid_ones(dtype: str) -> None:
    with pytest.raises(ValueError, match="bf16.*int4"):
        bytes_per_value(dtype)


def test_weight_bytes_for_llama_3_1_8b() -> None:
    record = record_for("meta-llama__Llama-3.1-8B")
    assert weight_bytes(record, "bf16") == 16060522496  # the checkpoint's metadata.total_size
    assert weight_bytes(record, "fp32") == 4 * 8030261248
    assert weight_bytes(record, "fp8") == weight_bytes(record, "int8") == 8030261248
    assert weight_bytes(record, "int4") == 4015130624
    assert weight_bytes(8030261248, "bf16") == 16060522496
    assert weight_bytes(3, "int4") == 2  # rounded up to whole bytes


def test_kv_cache_uses_heads_times_head_dim_not_hidden_size() -> None:
    record = record_for("meta-llama__Llama-3.1-8B")
    per_token = 32 * 2 * 8 * 128 * 2  # layers * (K+V) * kv_heads * head_dim * bf16
    assert per_token == 131072 != 32 * 2 * 4096 * 2
    assert kv_cache_bytes_per_token(record) == per_token
    assert kv_cache_bytes(record, batch=4, seq_len=8192) == 4 * 8192 * per_token


def test_mla_caches_the_latent() -> None:
    record = record_for("deepseek-ai__DeepSeek-R1")
    assert kv_cache_bytes_per_token(record, "bf16") == 61 * (512 + 64) * 2
    assert kv_cache_bytes(record, 1, 1000, "fp8") == 61 * 576 * 1000


def test_mistral_v01_sliding_window_caps_the_cache() -> None:
    record = record_for("mistralai__Mistral-7B-v0.1")
    per_token = 32 * 2 * 8 * 128 * 2
    assert kv_cache_bytes(record, 1, 2048) == 2048 * per_token
    assert kv_cache_bytes(record, 1, 32768) == 4096 * per_token
    assert kv_cache_bytes_per_token(record, seq_len=32768) == per_token * 4096 / 32768
    assert kv_cache_bytes_per_token(record) == per_token


def test_mistral_v02_has_no_window() -> None:
    record = record_for("mistralai__Mistral-7B-Instruct-v0.2")
    assert kv_cache_bytes(record, 1, 32768) == 32768 * 32 * 2 * 8 * 128 * 2


def test_gemma3_interleaved_local_and_global_layers() -> None:
    record = record_for("Codingstark__gemma3-270m-leetcode")
    layer_bytes = 2 * 1 * 256 * 2  # K+V, one KV head of 256, bf16
    expected = 3 * layer_bytes * 32768 + 15 * layer_bytes * 512
    assert kv_cache_bytes(record, 1, 32768) == expected
    assert kv_cache_bytes(record, 1, 100) == 18 * layer_bytes * 100


def test_qwen_window_not_applied_without_use_sliding_window() -> None:
    record = record_for("Qwen__Qwen2.5-7B")
    assert kv_cache_bytes(record, 1, 131072) == 131072 * 28 * 2 * 4 * 128 * 2


def test_mamba_state_is_fixed_and_kv_is_zero() -> None:
    record = record_for("ArthurZ__mamba-2.8b")
    assert kv_cache_bytes(record, 8, 100000) == 0
    per_layer = 5120 * 4 + 5120 * 16  # conv state + SSM state
    assert state_bytes(record, batch=2, dtype="fp32") == 2 * 64 * per_layer * 4


def test_jamba_has_both_kv_and_state() -> None:
    record = record_for("ai21labs__Jamba-v0.1")
    assert kv_cache_bytes(record, 1, 1000) == 4 * 2 * 8 * 128 * 1000 * 2
    assert state_bytes(record, 1) == 28 * (8192 * 4 + 8192 * 16) * 2


def test_memory_report_totals() -> None:
    record = record_for("Qwen__Qwen3-8B")
    report = memory_report(record, batch=2, seq_len=4096, dtype="bf16")
    assert report["weight_bytes"] == 2 * 8190735360
    assert report["kv_cache_bytes"] == 2 * 4096 * 36 * 2 * 8 * 128 * 2
    assert report["state_bytes"] == 0
    assert report["total_bytes"] == report["weight_bytes"] + report["kv_cache_bytes"]


def test_accepts_stored_memory_and_parameter_count_only() -> None:
    record = record_for("mistralai__Mistral-7B-v0.1")
    stored = {
        "memory": json.loads(json.dumps(record["memory"])),
        "parameter_count": record["parameter_count"],
    }
    assert memory_report(stored, 1, 8192) == memory_report(record, 1, 8192)
    assert kv_cache_bytes_per_token(record["memory"]) == kv_cache_bytes_per_token(record)


@pytest.mark.parametrize("bad", [{}, {"parameter_count": 5}, None, "x"])
def test_records_without_memory_are_rejected(bad: Any) -> None:
    with pytest.raises(ValueError):
        kv_cache_bytes(bad, 1, 1)


def test_negative_sizes_are_rejected() -> None:
    record = record_for("meta-llama__Llama-3.1-8B")
    with pytest.raises(ValueError, match="batch"):
        kv_cache_bytes(record, -1, 10)
    with pytest.raises(ValueError, match="seq_len"):
        kv_cache_bytes(record, 1, -10)
