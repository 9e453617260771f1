"""Datasette over a real catalog: canned queries, metadata, plugins, read-only serving.

The catalog is built from real Hugging Face configs (tests/data/hf-configs) through the
ModelManager; every request goes through Datasette's own ASGI client.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from genz_catalog.cli import cli
from genz_catalog.datasette import METADATA_PATH, PLUGINS_DIR
from genz_catalog.datasette.app import SQL_TIME_LIMIT_MS, build_datasette, load_metadata
from genz_catalog.datasette.browse import DEFAULT_COLUMNS
from genz_catalog.datasette.functions import fts_query, human_bytes, human_count
from genz_catalog.default_catalog import (
    build_default_catalog,
    bundled_models,
    ensure_default_catalog,
)
from genz_catalog.manager import ModelManager

ROOT = Path(__file__).resolve().parent.parent
HF_CONFIGS = Path(__file__).parent / "data" / "hf-configs"

#: Real configs in the test catalog: dense MHA/GQA/MQA, MoE, MLA, state-space, encoder-only.
CATALOG_MODELS = (
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.2-3B",
    "meta-llama/Llama-2-7b-chat-hf",
    "mistralai/Mistral-7B-v0.1",
    "mistralai/Mixtral-8x7B-v0.1",
    "Qwen/Qwen3-30B-A3B",
    "deepseek-ai/DeepSeek-V2-Lite",
    "tiiuae/falcon-7b",
    "google/gemma-2b-it",
    "openai-community/gpt2",
    "ArthurZ/mamba-2.8b",
    "google-bert/bert-base-uncased",
)


def _config(model_id: str) -> dict:
    return json.loads((HF_CONFIGS / model_id.replace("/", "__") / "config.json").read_text())


@pytest.fixture(scope="module")
def catalog_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("datasette") / "catalog.db"
    with ModelManager(path) as manager:
        for model_id in CATALOG_MODELS:
            hub = {"hub_id": model_id}
            if model_id == "meta-llama/Llama-3.1-8B":
                # The model card's "8B" (tests/data/hf-configs/.../source.txt: params_total).
                hub["hub_parameter_count"] = 8_000_000_000
            manager.add_model(model_id, _config(model_id), source="huggingface", hub_metadata=hub)
        # Published MMLU (5-shot) and HellaSwag (0-shot) scores: Llama 3.1 model card, the
        # Mistral 7B paper (arXiv:2310.06825) and the Mixtral paper (arXiv:2401.04088).
        for model_id, metric, shots, value in (
            ("meta-llama/Llama-3.1-8B", "MMLU", 5, 66.7),
            ("mistralai/Mistral-7B-v0.1", "MMLU", 5, 60.1),
            ("mistralai/Mixtral-8x7B-v0.1", "MMLU", 5, 70.6),
            ("mistralai/Mistral-7B-v0.1", "HellaSwag", 0, 81.3),
            ("mistralai/Mixtral-8x7B-v0.1", "HellaSwag", 0, 84.4),
        ):
            manager.add_quality_metric(model_id, metric, value, shots, source="paper")
        manager.update_model(
            "meta-llama/Llama-3.1-8B", model_name="Llama 3.1 8B", change_description="renamed"
        )
        manager.delete_model("google-bert/bert-base-uncased")
    return path


@pytest.fixture(scope="module")
def datasette(catalog_path: Path):
    return build_datasette(catalog_path)


def get(datasette, path: str):  # noqa: ANN001, ANN201
    """One request through Datasette's internal ASGI client."""
    return asyncio.run(datasette.client.get(path))


def rows(datasette, path: str) -> list[dict]:  # noqa: ANN001
    response = get(datasette, path)
    assert response.status_code == 200, response.text[:500]
    return response.json()


# ---------------------------------------------------------------------------- canned queries


def test_statistics_counts_live_models_by_every_dimension(datasette) -> None:
    stats = {
        (r["dimension"], r["value"]): r["models"]
        for r in rows(datasette, "/catalog/statistics.json?_shape=array")
    }
    assert stats[("total", "all models")] == 11  # bert is soft-deleted
    assert stats[("model_type", "decoder-only")] == 11
    assert ("model_type", "encoder-only") not in stats
    assert stats[("attention_type", "gqa")] == 5
    assert stats[("attention_type", "mha")] == 2
    assert stats[("attention_type", "mqa")] == 2
    assert stats[("attention_type", "mla")] == 1
    assert stats[("attention_type", "none")] == 1
    assert stats[("is_moe", "moe")] == 3
    assert stats[("family", "llama")] == 3
    assert stats[("source", "huggingface")] == 11
    assert stats[("parameters", "< 1B")] == 1  # gpt2
    assert stats[("parameters", "1B - 3B")] == 2  # gemma-2b-it, mamba-2.8b
    assert stats[("parameters", "3B - 10B")] == 5
    assert stats[("parameters", "10B - 30B")] == 1  # DeepSeek-V2-Lite
    assert stats[("parameters", "30B - 100B")] == 2  # Qwen3-30B-A3B, Mixtral


def test_largest_models_with_limit_and_default(datasette) -> None:
    top = rows(datasette, "/catalog/largest_models.json?_shape=array&limit=3")
    assert [(r["model_id"], r["parameter_count"]) for r in top] == [
        ("mistralai/Mixtral-8x7B-v0.1", 46702792704),
        ("Qwen/Qwen3-30B-A3B", 30532122624),
        ("deepseek-ai/DeepSeek-V2-Lite", 15706484224),
    ]
    assert top[0]["parameters"] == "46.7B"
    assert top[0]["bf16_weight_bytes"] == 2 * 46702792704
    assert len(rows(datasette, "/catalog/largest_models.json?_shape=array")) == 11
    assert len(rows(datasette, "/catalog/largest_models.json?_shape=array&limit=")) == 11


def test_moe_models_with_active_ratio(datasette) -> None:
    moe = rows(datasette, "/catalog/moe_models.json?_shape=array")
    assert [(r["model_id"], r["num_experts"], r["experts_per_token"]) for r in moe] == [
        ("mistralai/Mixtral-8x7B-v0.1", 8, 2),
        ("Qwen/Qwen3-30B-A3B", 128, 8),
        ("deepseek-ai/DeepSeek-V2-Lite", 64, 6),
    ]
    for row in moe:
        assert row["active_percent"] == round(
            100 * row["active_parameter_count"] / row["parameter_count"], 2
        )
        assert 5 < row["active_percent"] < 30


def test_attention_kv_savings_against_mha(datasette) -> None:
    summary = {
        r["attention_type"]: r
        for r in rows(datasette, "/catalog/attention_kv_savings.json?_shape=array")
    }
    assert list(summary) == ["mha", "gqa", "mqa"]
    assert summary["mha"]["models"] == 2
    assert summary["mha"]["avg_kv_saving_vs_mha_percent"] == 0.0
    # Llama-3.2-3B 24 heads / 8 KV heads; Qwen3-30B-A3B 32 / 4; the rest 32 / 8.
    assert summary["gqa"]["min_kv_saving_percent"] == 66.67
    assert summary["gqa"]["max_kv_saving_percent"] == 87.5
    assert summary["mqa"]["models"] == 2
    assert summary["mqa"]["max_kv_saving_percent"] == 98.59  # falcon-7b: 71 heads, 1 KV head


def test_kv_savings_by_model_filters_attention_type(datasette) -> None:
    mqa = rows(datasette, "/catalog/kv_savings_by_model.json?_shape=array&attention_type=MQA")
    falcon = mqa[0]
    assert falcon["model_id"] == "tiiuae/falcon-7b"
    # 32 layers x (K + V) x 1 head x 64 values x 2 bytes.
    assert falcon["kv_bytes_per_token"] == 32 * 2 * 1 * 64 * 2
    assert falcon["mha_kv_bytes_per_token"] == 8192 * 71
    assert {r["attention_type"] for r in mqa} == {"mqa"}
    both = rows(datasette, "/catalog/kv_savings_by_model.json?_shape=array")
    assert {r["attention_type"] for r in both} == {"gqa", "mqa"}
    assert len(both) == 7


def test_metric_leaderboard_per_metric_and_shots(datasette) -> None:
    mmlu = rows(datasette, "/catalog/metric_leaderboard.json?_shape=array&metric=mmlu&shots=5")
    assert [(r["rank"], r["model_id"], r["metric_value"]) for r in mmlu] == [
        (1, "mistralai/Mixtral-8x7B-v0.1", 70.6),
        (2, "meta-llama/Llama-3.1-8B", 66.7),
        (3, "mistralai/Mistral-7B-v0.1", 60.1),
    ]
    assert {r["shots"] for r in mmlu} == {5}
    assert (
        rows(datasette, "/catalog/metric_leaderboard.json?_shape=array&metric=mmlu&shots=0") == []
    )
    every = rows(datasette, "/catalog/metric_leaderboard.json?_shape=array")
    assert [(r["metric_name"], r["shots"], r["rank"]) for r in every][:2] == [
        ("HellaSwag", 0, 1),
        ("HellaSwag", 0, 2),
    ]
    assert len(every) == 5


def test_search_escapes_fts_syntax_and_matches_prefixes(datasette) -> None:
    found = rows(datasette, "/catalog/search_models.json?_shape=array&q=Llama-3.1")
    assert [r["model_id"] for r in found] == ["meta-llama/Llama-3.1-8B"]
    llamas = rows(datasette, "/catalog/search_models.json?_shape=array&q=llam")
    assert sorted(r["model_id"] for r in llamas) == [
        "meta-llama/Llama-2-7b-chat-hf",
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.2-3B",
    ]
    assert rows(datasette, "/catalog/search_models.json?_shape=array&q=") == []
    assert rows(datasette, "/catalog/search_models.json?_shape=array&q=%22") == []
    assert rows(datasette, "/catalog/search_models.json?_shape=array&q=bert") == []  # deleted
    # A NUL ended FTS5's reading of the query ("unterminated string"), and text past the SQL
    # functions' size limit gave MATCH NULL (a syntax error): both were HTTP 400.
    found = rows(datasette, "/catalog/search_models.json?_shape=array&q=llama%00-3.1")
    assert [r["model_id"] for r in found] == ["meta-llama/Llama-3.1-8B"]
    import sqlite3

    from genz_catalog.datasette.functions import MAX_SQL_FUNCTION_ARG_BYTES, register_sql_functions

    conn = sqlite3.connect(":memory:")
    register_sql_functions(conn)
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(words)")
    conn.execute("INSERT INTO t VALUES ('llama 3.1')")
    long_text = "llama " * (MAX_SQL_FUNCTION_ARG_BYTES // 6 + 1)
    for text in (long_text, 5, "llama"):
        count = conn.execute(
            "SELECT count(*) FROM t WHERE t MATCH genz_fts_query(?)", [text]
        ).fetchone()[0]
        assert count == (text == "llama"), text if isinstance(text, int) else text[:20]


def test_model_memory_at_chosen_shape_and_dtype(datasette) -> None:
    [row] = rows(
        datasette,
        "/catalog/model_memory.json?_shape=array&model=llama-3.1-8b&seq_len=8192&batch=2&dtype=fp8",
    )
    assert row["model_id"] == "meta-llama/Llama-3.1-8B"
    assert row["status"] == "ok"
    assert row["weight_bytes"] == 8030261248
    # 32 layers x (K + V) x 8 KV heads x 128 values = 65,536 values/token; x 8192 x 2 x 1 byte.
    assert row["kv_cache_bytes"] == 65536 * 8192 * 2
    assert row["total_bytes"] == 8030261248 + 65536 * 8192 * 2
    assert row["total"] == "8.48 GiB"
    [default] = rows(datasette, "/catalog/model_memory.json?_shape=array&model=Llama-3.1-8B")
    assert (default["seq_len"], default["batch"], default["dtype"]) == (4096, 1, "bf16")
    assert default["weight_bytes"] == 2 * 8030261248
    [mamba] = rows(datasette, "/catalog/model_memory.json?_shape=array&model=ArthurZ/mamba-2.8b")
    assert mamba["kv_cache_bytes"] == 0 and mamba["state_bytes"] > 0
    [bad] = rows(datasette, "/catalog/model_memory.json?_shape=array&model=Llama-3.1-8B&dtype=fp7")
    assert bad["status"] == "unknown dtype fp7: use fp32, bf16, fp16, fp8, int8 or int4"
    assert bad["total_bytes"] is None
    assert rows(datasette, "/catalog/model_memory.json?_shape=array&model=") == []


def test_models_that_fit_a_gpu_largest_first(datasette) -> None:
    fit = rows(datasette, "/catalog/models_that_fit.json?_shape=array&gpu_memory_gib=16")
    assert [r["model_id"] for r in fit][:4] == [
        "meta-llama/Llama-3.1-8B",
        "mistralai/Mistral-7B-v0.1",
        "tiiuae/falcon-7b",
        "meta-llama/Llama-2-7b-chat-hf",
    ]
    # bf16 weights + 4096 tokens x 65,536 values x 2 bytes.
    assert fit[0]["total_bytes"] == 2 * 8030261248 + 4096 * 65536 * 2
    assert all(r["total_bytes"] <= 16 * 2**30 for r in fit)
    assert "mistralai/Mixtral-8x7B-v0.1" not in {r["model_id"] for r in fit}
    long_context = rows(
        datasette,
        "/catalog/models_that_fit.json?_shape=array&gpu_memory_gib=16&seq_len=32768&batch=4",
    )
    assert "meta-llama/Llama-3.1-8B" not in {r["model_id"] for r in long_context}
    default = rows(datasette, "/catalog/models_that_fit.json?_shape=array")
    assert default[0]["model_id"] == "Qwen/Qwen3-30B-A3B"  # Mixtral needs 87 GiB in bf16
    assert {r["status"] for r in default} == {"ok"}


def test_absurd_memory_parameters_give_a_status_row_not_an_error(datasette) -> None:
    base = "/catalog/model_memory.json?_shape=array&model=Llama-3.1-8B"
    [negative] = rows(datasette, base + "&seq_len=-5&batch=99999999999999999999")
    assert negative["status"] == "seq_len and batch must be positive integers"
    assert negative["total_bytes"] is None
    [huge] = rows(datasette, base + "&seq_len=99999999999999&batch=999999999")
    assert huge["status"] == (
        "memory too large to count in 64-bit bytes: use a smaller seq_len or batch"
    )
    assert huge["kv_cache_bytes"] is None
    fit = "/catalog/models_that_fit.json?_shape=array"
    for query, status in (
        (
            "&gpu_memory_gib=80&batch=9999999999999999",
            "seq_len x batch must be at most 1099511627776 tokens",
        ),
        ("&gpu_memory_gib=1e300", "gpu_memory_gib must be a number of GiB, e.g. 80 or 40.5"),
        ("&gpu_memory_gib=abc", "gpu_memory_gib must be a number of GiB, e.g. 80 or 40.5"),
        (
            "&gpu_memory_gib=99999999",
            "gpu_memory_gib must be a number above 0 and at most 1048576",
        ),
        ("&gpu_memory_gib=0", "gpu_memory_gib must be a number above 0 and at most 1048576"),
        ("&seq_len=0", "seq_len and batch must be positive integers"),
        # Half-read before: '8k' was 8, '1.5e4' was 1, '2x' was 2, '80GB' was 80.
        ("&seq_len=8k", "seq_len and batch must be whole numbers (digits only), e.g. 4096"),
        ("&seq_len=1.5e4", "seq_len and batch must be whole numbers (digits only), e.g. 4096"),
        ("&batch=2x", "seq_len and batch must be whole numbers (digits only), e.g. 4096"),
        ("&gpu_memory_gib=80GB", "gpu_memory_gib must be a number of GiB, e.g. 80 or 40.5"),
        ("&gpu_memory_gib=8.0.1", "gpu_memory_gib must be a number of GiB, e.g. 80 or 40.5"),
        ("&dtype=fp7", "unknown dtype fp7: use fp32, bf16, fp16, fp8, int8 or int4"),
    ):
        [row] = rows(datasette, fit + query)
        assert (row["model_id"], row["status"]) == (None, status), query


def test_malformed_limit_and_shots_are_clamped_or_match_nothing(datasette) -> None:
    assert (
        rows(datasette, "/catalog/metric_leaderboard.json?_shape=array&metric=MMLU&shots=abc") == []
    )
    assert (
        rows(datasette, "/catalog/metric_leaderboard.json?_shape=array&metric=HellaSwag&shots=0")[
            0
        ]["rank"]
        == 1
    )
    assert len(rows(datasette, "/catalog/largest_models.json?_shape=array&limit=-1")) == 1
    # Not a whole number: no rows, never a half-read one ('1.9' was 1, '1e30' was 1).
    for limit in ("abc", "1e30", "1.9", "2x", "-"):
        assert rows(datasette, f"/catalog/largest_models.json?_shape=array&limit={limit}") == []


def test_memory_functions_return_null_instead_of_raising(catalog_path: Path) -> None:
    from genz_catalog.datasette.functions import (
        SQL_FUNCTIONS,
        _guarded,
        memory_report_json,
    )

    with ModelManager(catalog_path) as manager:
        llama = manager.require_model("meta-llama/Llama-3.1-8B")
    memory, parameters = llama["memory_json"], llama["parameter_count"]
    assert json.loads(memory_report_json(memory, parameters, 1, 8192))["total_bytes"] == (
        2 * 8030261248 + 8192 * 65536 * 2
    )
    assert memory_report_json(memory, parameters, 10**30, 4096) is None  # > 2**63 bytes
    assert memory_report_json(memory, parameters, 1, -5) is None
    assert memory_report_json("not json", parameters, 1, 4096) is None
    function, _, int_positions = SQL_FUNCTIONS["genz_total_bytes"]
    total = _guarded(function, int_positions)
    assert total(memory, parameters, "1e999", "4096", "bf16") is None
    assert total(memory, parameters, "2", "4096", "bf16") == 2 * 8030261248 + 2 * 4096 * 65536 * 2
    # Any value a visitor's SQL hands them: NULL, never "user-defined function raised exception".
    import sqlite3

    from genz_catalog.datasette.functions import register_sql_functions

    conn = sqlite3.connect(":memory:")
    register_sql_functions(conn)
    for sql in (
        "SELECT genz_kv_bytes_per_token('{\"kv_layers\": [1]}', 1, 'bf16')",
        "SELECT genz_kv_bytes_per_token('[1, 2]', 1, 'bf16')",
        "SELECT genz_total_bytes('{\"kv_layers\": \"x\"}', 10, 1, 1, 'bf16')",
        "SELECT genz_memory_report(x'00ff', 10, 1, 1, 'bf16')",
        "SELECT genz_human_count('abc')",
    ):
        assert conn.execute(sql).fetchone() == (None,), sql


def test_version_history_newest_first(datasette) -> None:
    history = rows(datasette, "/catalog/version_history.json?_shape=array&model=LLAMA-3.1-8B")
    assert [(r["version"], r["is_current"], r["change_description"]) for r in history] == [
        (2, "current", "renamed"),
        (1, "", "imported"),
    ]
    assert {r["parameter_count"] for r in history} == {8030261248}
    assert rows(datasette, "/catalog/version_history.json?_shape=array&model=") == []


def test_parameter_mismatches_with_tolerance(datasette) -> None:
    assert rows(datasette, "/catalog/parameter_mismatches.json?_shape=array") == []
    [row] = rows(datasette, "/catalog/parameter_mismatches.json?_shape=array&tolerance_percent=0.1")
    assert row["model_id"] == "meta-llama/Llama-3.1-8B"
    assert row["difference"] == 30261248
    assert row["difference_percent"] == 0.378


# ---------------------------------------------------------------------------- simulations

#: (model, system, input tokens) simulated for the simulation queries: gpt2 on two systems,
#: Gemma at two prompt lengths, Llama 3.2 3B beside them on H100 (7 GenZ runs, ~1 s). Each
#: generates 128 tokens; 768 + 128 fit gpt2's context of 1,024 tokens.
SIMULATED = (
    ("openai-community/gpt2", "H100_GPU", 768),
    ("openai-community/gpt2", "A100_40GB_GPU", 768),
    ("google/gemma-2b-it", "H100_GPU", 768),
    ("google/gemma-2b-it", "H100_GPU", 4096),
    ("google/gemma-2b-it", "A100_40GB_GPU", 768),
    ("meta-llama/Llama-3.2-3B", "H100_GPU", 768),
    ("meta-llama/Llama-3.2-3B", "H100_GPU", 4096),
)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory):
    """A catalog with GenZ simulations (genz_catalog.planner) and the rows it stored."""
    from genz_catalog import planner

    path = tmp_path_factory.mktemp("simulations") / "catalog.db"
    results = {}
    with ModelManager(path) as manager:
        for model_id in {m for m, _, _ in SIMULATED}:
            manager.add_model(model_id, _config(model_id), source="huggingface")
        for model_id, system, tokens in SIMULATED:
            workload = planner.Workload(input_tokens=tokens, output_tokens=128)
            results[model_id, system, tokens] = planner.simulate(
                manager, model_id, system, workload=workload
            )
    return build_datasette(path), results


def test_simulations_table_is_published_with_facets(simulated) -> None:
    datasette, results = simulated
    page = get(datasette, "/catalog/simulations.json?_shape=objects&_size=100").json()
    assert page["filtered_table_rows_count"] == len(SIMULATED)
    assert list(page["facet_results"]) == ["system", "bits", "num_devices", "genz_version"]
    row = next(
        r
        for r in page["rows"]
        if (r["model_id"], r["system"]) == ("openai-community/gpt2", "H100_GPU")
    )
    stored = results["openai-community/gpt2", "H100_GPU", 768]
    for column in ("decode_latency_ms", "memory_per_device_bytes", "genz_weight_bytes"):
        assert row[column] == stored[column]
    assert row["exact_weight_bytes"] == 124_439_808 * 2
    assert json.loads(row["difference_causes"])[0].startswith("tied embeddings counted twice")
    current = rows(datasette, "/catalog/current_simulations.json?_shape=array&_size=100")
    assert len(current) == len(SIMULATED)


def test_fastest_system_for_a_model(simulated) -> None:
    datasette, results = simulated
    # By alias too: "gpt2" is the repo name of openai-community/gpt2.
    fastest = rows(datasette, "/catalog/fastest_system_for_model.json?_shape=array&model=gpt2")
    assert [r["system"] for r in fastest] == ["H100_GPU", "A100_40GB_GPU"]
    h100 = results["openai-community/gpt2", "H100_GPU", 768]
    assert fastest[0]["decode_latency_ms"] == round(h100["decode_latency_ms"], 3)
    assert fastest[0]["num_devices"] == 1
    assert fastest[0]["memory_per_device"] == human_bytes(h100["memory_per_device_bytes"])
    nothing = rows(datasette, "/catalog/fastest_system_for_model.json?_shape=array&model=")
    assert nothing == []


def test_models_ranked_by_decode_throughput_on_a_system(simulated) -> None:
    datasette, results = simulated
    ranked = rows(
        datasette,
        "/catalog/throughput_on_system.json?_shape=array&system=H100_GPU&input_tokens=768",
    )
    expected = sorted(
        (
            (row["decode_throughput_tokens_per_s"], model_id)
            for (model_id, system, tokens), row in results.items()
            if system == "H100_GPU" and tokens == 768
        ),
        reverse=True,
    )
    assert [r["model_id"] for r in ranked] == [model_id for _, model_id in expected]
    assert ranked[0]["model_id"] == "openai-community/gpt2"
    assert ranked[0]["decode_throughput_tokens_per_s"] == round(expected[0][0], 1)
    # Without the workload filter each model appears once, with its best row.
    best = rows(datasette, "/catalog/throughput_on_system.json?_shape=array&system=H100_GPU")
    assert sorted(r["model_id"] for r in best) == sorted(m for _, m in expected)
    gemma = next(r for r in best if r["model_id"] == "google/gemma-2b-it")
    assert gemma["input_tokens"] == 768  # the shorter prompt decodes faster
    # A workload value that is not a whole number matches nothing ('768x' was read as 768).
    for query in ("&input_tokens=768x", "&batch_size=1x", "&input_tokens=1e3"):
        assert (
            rows(
                datasette, "/catalog/throughput_on_system.json?_shape=array&system=H100_GPU" + query
            )
            == []
        ), query


def test_cost_of_a_longer_context(simulated) -> None:
    datasette, results = simulated
    cost = rows(
        datasette,
        "/catalog/longer_context_cost.json?_shape=array&model=google/gemma-2b-it&system=H100_GPU",
    )
    assert [r["input_tokens"] for r in cost] == [768, 4096]
    short, long = (
        results["google/gemma-2b-it", "H100_GPU", 768],
        results["google/gemma-2b-it", "H100_GPU", 4096],
    )
    assert (cost[0]["prefill_vs_shortest"], cost[0]["memory_vs_shortest"]) == (1.0, 1.0)
    # Gemma's KV cache: 18 layers x 1 K/V head x 256 x 2 x 2 bytes per token, 4,096 + 128 tokens.
    assert cost[1]["exact_kv_cache_bytes"] == 18 * 256 * 2 * 2 * 4224
    assert cost[1]["memory_vs_shortest"] == round(
        long["memory_per_device_bytes"] / short["memory_per_device_bytes"], 2
    )
    assert cost[1]["prefill_vs_shortest"] == round(
        long["prefill_latency_ms"] / short["prefill_latency_ms"], 2
    )
    assert cost[1]["prefill_vs_shortest"] > 5.3  # 5.3x the prompt, a little more for attention
    assert cost[1]["decode_vs_shortest"] >= 1.0


#: Canned queries that aggregate or sort many models: on a 100k-model catalog (rows ~1.2 KB of
#: JSON) a scan of the ``models`` table costs 200-400 ms, so each must read a covering index.
INDEXED_QUERIES = (
    "kv_savings_by_model",
    "metric_leaderboard",
    "parameter_mismatches",
)
#: Canned queries that summarise every live model: they read model_shapes (live models counted
#: per architecture, kept by triggers) and never models itself.
SHAPE_QUERIES = ("statistics", "attention_kv_savings", "kv_savings_by_model")


@pytest.mark.parametrize("name", INDEXED_QUERIES)
def test_aggregate_canned_queries_read_covering_indexes_not_the_table(
    catalog_path: Path, name: str
) -> None:
    import sqlite3

    from genz_catalog.datasette.functions import register_sql_functions

    sql = load_metadata()["databases"]["catalog"]["queries"][name]["sql"]
    parameters = {"attention_type": "gqa", "metric": "MMLU", "shots": "5", "tolerance_percent": ""}
    conn = sqlite3.connect(f"file:{catalog_path}?mode=ro", uri=True)
    register_sql_functions(conn)
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, parameters)]
    conn.close()
    reads_of_models = [
        step
        for step in plan
        if step.startswith(("SCAN models", "SCAN m ", "SEARCH models", "SEARCH m "))
    ]
    assert reads_of_models, plan
    for step in reads_of_models:
        # A scan walks a covering index of live models; a search looks rows up by key (the
        # id's primary key, or the index of live ids, m025, with is_deleted too).
        if step.startswith("SCAN"):
            assert "USING COVERING INDEX idx_models_live_" in step, plan
        else:
            assert "USING COVERING INDEX idx_models_live_" in step or "(model_id=?" in step, plan


@pytest.mark.parametrize("name", SHAPE_QUERIES)
def test_whole_catalog_summaries_group_model_shapes_not_every_model(
    catalog_path: Path, name: str
) -> None:
    import sqlite3

    from genz_catalog.datasette.functions import register_sql_functions

    sql = load_metadata()["databases"]["catalog"]["queries"][name]["sql"]
    conn = sqlite3.connect(f"file:{catalog_path}?mode=ro", uri=True)
    register_sql_functions(conn)
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, {"attention_type": ""})]
    conn.close()
    assert [step for step in plan if step.startswith(("SCAN model_shapes", "SEARCH model_shapes"))]
    # kv_savings_by_model then fetches its chosen models only: a search, never a scan.
    assert not [step for step in plan if step.startswith(("SCAN models", "SCAN m "))], plan


def test_every_canned_query_is_tested_and_read_only() -> None:
    queries = load_metadata()["databases"]["catalog"]["queries"]
    tested = {
        name.split("/catalog/")[1].split(".json")[0]
        for name in Path(__file__).read_text().split('"')
        if "/catalog/" in name and ".json" in name
    }
    assert set(queries) <= tested
    assert len(queries) == 14
    assert not [name for name, query in queries.items() if query.get("write")]


# ---------------------------------------------------------------------------- tables, plugins


def test_models_table_has_facets_search_and_hidden_internals(datasette) -> None:
    page = get(datasette, "/catalog/models.json?_shape=objects&_size=2")
    assert page.status_code == 200
    data = page.json()
    assert [f for f in data["facet_results"]] == [
        "family",
        "model_type",
        "attention_type",
        "is_moe",
        "source",
    ]
    assert data["suggested_facets"] == []  # suggest_facets is off: it scanned every column
    family = {v["value"]: v["count"] for v in data["facet_results"]["family"]["results"]}
    assert family["llama"] == 3
    model_types = {v["value"]: v["count"] for v in data["facet_results"]["model_type"]["results"]}
    assert model_types == {"decoder-only": 11}  # soft-deleted bert (encoder-only) is hidden
    assert data["filtered_table_rows_count"] == 11
    assert data["human_description_en"] == (
        "where live models only (add ?is_deleted=1 to list soft-deleted ones) "
        "sorted by parameter_count descending"
    )
    deleted = rows(datasette, "/catalog/models.json?_shape=array&is_deleted=1&_col=is_deleted")
    assert [r["model_id"] for r in deleted] == ["google-bert/bert-base-uncased"]
    assert data["rows"][0]["model_id"] == "mistralai/Mixtral-8x7B-v0.1"  # sort_desc
    tables = {t["name"]: t["hidden"] for t in get(datasette, "/catalog.json").json()["tables"]}
    for hidden in ("model_cache", "models_fts", "models_fts_data", "_sqlite_migrations"):
        assert tables[hidden] is True
    assert tables["models"] is False
    # The view the search index reads its words from is machinery, not a page.
    views = [v["name"] for v in get(datasette, "/catalog.json").json()["views"]]
    assert "current_simulations" in views and "models_fts_words" not in views
    assert get(datasette, "/catalog/models_fts_words").status_code == 403
    searched = rows(datasette, "/catalog/models.json?_shape=array&_search=mixtral&_col=family")
    assert [r["model_id"] for r in searched] == ["mistralai/Mixtral-8x7B-v0.1"]


def test_row_page_renders_config_json_readably(datasette) -> None:
    html = get(datasette, "/catalog/models/meta-llama~2FLlama-3~2E1-8B").text
    # The model page (row-catalog-models.html) folds the config, indented.
    assert '<details class="genz-config genz-config-json"><summary>config.json · ' in html
    assert "LlamaForCausalLM" in html
    assert (
        "&#34;num_key_value_heads&#34;: 8," in html or "&quot;num_key_value_heads&quot;: 8," in html
    )


def test_chart_page_draws_one_dot_per_architecture(datasette) -> None:
    response = get(datasette, "/-/genz-chart")
    assert response.status_code == 200
    assert "<script src=" not in response.text  # no CDN: the page works offline
    # 10 live models with a KV cache (mamba has none, bert is deleted), all different.
    assert response.text.count("data-attention=") == 10
    assert "meta-llama~2FLlama-3~2E1-8B" in response.text


def test_chart_points_read_a_covering_index(catalog_path: Path) -> None:
    import sqlite3

    from genz_catalog.datasette.chart import POINTS_SQL

    conn = sqlite3.connect(f"file:{catalog_path}?mode=ro", uri=True)
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + POINTS_SQL, {"limit": 10})]
    conn.close()
    assert "SCAN models USING COVERING INDEX idx_models_live_kv" in plan


def test_arbitrary_sql_is_read_only_and_time_limited(datasette, catalog_path: Path) -> None:
    ok = get(datasette, "/catalog.json?sql=select+count(*)+as+n+from+models&_shape=array")
    assert ok.json() == [{"n": 12}]  # soft-deleted bert included
    write = get(datasette, "/catalog.json?sql=delete+from+models")
    assert write.status_code == 400
    assert "Statement must be a SELECT" in write.text
    settings = get(datasette, "/-/settings.json").json()
    assert settings["sql_time_limit_ms"] == SQL_TIME_LIMIT_MS
    no_sql = build_datasette(catalog_path, settings={"default_allow_sql": False})
    assert get(no_sql, "/catalog.json?sql=select+1").status_code == 403
    assert get(no_sql, "/catalog/statistics.json").status_code == 200


def test_sql_function_helpers() -> None:
    assert human_count(8030261248) == "8.03B"
    assert human_count(124439808) == "124M"
    assert human_count(671026404352) == "671B"
    assert human_bytes(16060522496) == "14.96 GiB"
    # Rounded up to 1024 of a unit, a size is shown in the next one.
    assert human_bytes(1048575) == "1.00 MiB"
    assert human_bytes(1023.5) == "1.00 KiB"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1024**3 - 1) == "1.00 GiB"
    assert human_bytes(1024**2 * 1023.99) == "1023.99 MiB"
    assert fts_query("Llama-3.1") == '"Llama-3.1"*'
    assert fts_query("  ") == '""'


def test_the_package_serves_the_one_top_level_metadata_and_plugin_file() -> None:
    # One copy each: the packaged paths are links to the top-level files (a wheel carries
    # their content), so nothing can drift.
    assert METADATA_PATH.resolve() == (ROOT / "metadata.yml").resolve()
    packaged = sorted(PLUGINS_DIR.glob("*.py"))
    assert [p.name for p in packaged] == sorted(p.name for p in (ROOT / "plugins").glob("*.py"))
    for path in packaged:
        assert path.resolve() == (ROOT / "plugins" / path.name).resolve()


# ---------------------------------------------------------------------------- default catalog


def test_default_catalog_bundles_real_configs_across_families(tmp_path: Path) -> None:
    bundled = list(bundled_models())
    assert len(bundled) >= 40
    assert len({b.config.get("model_type") for b in bundled}) >= 30
    with ModelManager(tmp_path / "catalog.db") as manager:
        report = build_default_catalog(manager, include_genz=False)
        assert report.failed == {}
        assert len(report.imported) == len(bundled)
        llama = manager.require_model("meta-llama/Llama-3.1-8B")
        assert (llama["source"], llama["hub_id"], llama["license"]) == (
            "huggingface",
            "meta-llama/Llama-3.1-8B",
            "llama3.1",
        )
        assert llama["parameter_count"] == 8030261248
        # A second call finds models and leaves the catalog alone.
        assert ensure_default_catalog(manager, include_genz=False) is None


def test_serve_rejects_unknown_setting_before_touching_the_catalog(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "serve", "--setting", "sql_time_limit", "5"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: unknown Datasette setting 'sql_time_limit'; see `datasette --help-settings`\n"
    )
    assert not db.exists()


# ---------------------------------------------------------------------------- immutable replicas


def test_serve_immutable_refuses_a_missing_or_foreign_file(tmp_path: Path) -> None:
    missing = tmp_path / "published" / "catalog.db"
    result = CliRunner().invoke(cli, ["serve", "--immutable", str(missing)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no catalog file at {missing}; publish one with `genz-catalog backup FILE`\n"
    )
    assert not missing.parent.exists()
    foreign = tmp_path / "notes.db"
    foreign.write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(cli, ["serve", "--immutable", str(foreign)])
    assert result.exit_code == 1
    assert result.output == f"Error: {foreign} is not a genz-catalog file (no models table)\n"
    assert foreign.read_bytes() == b"not a database at all" * 100


def test_serve_immutable_refuses_a_copy_published_by_an_older_version(
    catalog_path: Path, tmp_path: Path
) -> None:
    """A replica is never migrated: a copy whose schema lacks this version's last migration
    (its search_models canned query would fail on the missing table) is refused, unchanged."""
    copy = tmp_path / "old.db"
    backup = CliRunner().invoke(cli, ["--db", str(catalog_path), "backup", str(copy)])
    assert backup.exit_code == 0, backup.output
    with sqlite3.connect(copy) as conn:  # as the version before m028 left a file
        conn.executescript(
            """DROP TABLE remembered_answers;
               ALTER TABLE remembered_searches DROP COLUMN hits;
               ALTER TABLE remembered_searches DROP COLUMN words;
               DELETE FROM _sqlite_migrations WHERE name IN
                   ('m028_kept_search_answers', 'm029_answers_in_reserve');"""
        )
    before = copy.read_bytes()
    result = CliRunner().invoke(cli, ["serve", "--immutable", str(copy), "--port", "0"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {copy} was published by an older genz-catalog (its schema lacks "
        "m028_kept_search_answers and 1 more); publish it again with this version: "
        "genz-catalog backup --publish FILE\n"
    )
    assert copy.read_bytes() == before


def test_immutable_replica_serves_a_backup_without_touching_it(
    catalog_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "replica.db"
    backup = CliRunner().invoke(cli, ["--db", str(catalog_path), "backup", str(copy)])
    assert backup.exit_code == 0, backup.output
    before = (copy.stat().st_mtime_ns, copy.read_bytes())
    replica = build_datasette(copy, immutable=True)
    [database] = get(replica, "/-/databases.json").json()
    assert (database["name"], database["is_mutable"]) == ("catalog", False)
    stats = {
        (r["dimension"], r["value"]): r["models"]
        for r in rows(replica, "/catalog/statistics.json?_shape=array")
    }
    assert stats[("total", "all models")] == 11
    found = rows(replica, "/catalog/search_models.json?_shape=array&q=Llama-3.1")
    assert [r["model_id"] for r in found] == ["meta-llama/Llama-3.1-8B"]
    assert (copy.stat().st_mtime_ns, copy.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["replica.db"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("&seq_len=8k", "seq_len 8k is not a whole number of tokens (e.g. 8192)"),
        ("&seq_len=1.5e4", "seq_len 1.5e4 is not a whole number of tokens (e.g. 8192)"),
        ("&seq_len=4096abc", "seq_len 4096abc is not a whole number of tokens (e.g. 8192)"),
        ("&seq_len=--5", "seq_len --5 is not a whole number of tokens (e.g. 8192)"),
        ("&seq_len=4096.0", "seq_len 4096.0 is not a whole number of tokens (e.g. 8192)"),
        ("&batch=2x", "batch 2x is not a whole number of sequences (e.g. 4)"),
        ("&batch=0x10", "batch 0x10 is not a whole number of sequences (e.g. 4)"),
    ],
)
def test_model_memory_refuses_parameters_that_are_not_whole_numbers(
    datasette, query: str, status: str
) -> None:
    # CAST('8k' AS INTEGER) is 8: the query used to answer "ok" for 8 tokens.
    [row] = rows(datasette, "/catalog/model_memory.json?_shape=array&model=Llama-3.1-8B" + query)
    assert row["status"] == status
    assert row["model_id"] == "meta-llama/Llama-3.1-8B"
    assert (row["weight_bytes"], row["total_bytes"]) == (None, None)


def test_model_memory_of_an_unknown_model_is_a_status_row(datasette) -> None:
    [row] = rows(datasette, "/catalog/model_memory.json?_shape=array&model=no-such/model")
    assert row["model_id"] == "no-such/model"
    assert row["status"] == (
        "unknown model no-such/model: give a model id or alias from the models table"
    )
    assert row["total_bytes"] is None
    # A whole number with spaces around it is still a whole number.
    [ok] = rows(
        datasette, "/catalog/model_memory.json?_shape=array&model=Llama-3.1-8B&seq_len=%208192%20"
    )
    assert (ok["status"], ok["seq_len"]) == ("ok", 8192)


def test_canned_queries_hide_sql_and_list_every_parameter_in_reading_order() -> None:
    """Query pages lead with the form and the description; maintainers' notes stay in YAML."""
    queries = load_metadata()["databases"]["catalog"]["queries"]
    for name, query in queries.items():
        assert query.get("hide_sql") is True, name
        assert "--" not in query["sql"], f"{name}: SQL comments belong in metadata.yml comments"
        in_sql = set(re.findall(r"(?<!:):(\w+)", query["sql"]))
        assert set(query.get("params", [])) == in_sql, name
    assert queries["model_memory"]["params"] == ["model", "seq_len", "batch", "dtype"]
    assert queries["models_that_fit"]["params"][0] == "gpu_memory_gib"


def test_canned_query_page_shows_the_form_before_any_sql(datasette) -> None:
    page = get(datasette, "/catalog/model_memory?model=meta-llama/Llama-3.1-8B").text
    assert "<textarea" not in page and "WITH p AS" not in page
    assert page.index('name="model"') < page.index('name="seq_len"') < page.index('name="dtype"')
    assert "_show_sql=1" in page  # Datasette's own "show" link
    # Byte figures read in binary units, with the exact count in the tooltip; the JSON is exact.
    assert 'title="16,060,522,496 bytes">14.96 GiB</span>' in page
    assert (
        '<a href="/catalog/models/meta-llama~2FLlama-3~2E1-8B">meta-llama/Llama-3.1-8B</a>' in page
    )
    data = rows(datasette, "/catalog/model_memory.json?_shape=array&model=meta-llama/Llama-3.1-8B")
    assert data[0]["weight_bytes"] == 16_060_522_496


def test_chart_axes_label_decimal_and_binary_ticks_honestly() -> None:
    from genz_catalog.datasette.chart import binary_tick_label, binary_ticks, decade_ticks

    assert decade_ticks(124_439_808, 8_030_261_248) == [1e8, 1e9, 1e10]
    ticks = binary_ticks(6 * 1024, 4 * 1024 * 1024)  # 6 KiB .. 4 MiB: every 2nd power of two
    assert ticks == [4096, 16384, 65536, 262144, 1048576, 4194304]
    assert [binary_tick_label(t) for t in ticks] == [
        "4 KiB",
        "16 KiB",
        "64 KiB",
        "256 KiB",
        "1 MiB",
        "4 MiB",
    ]
    assert len(binary_ticks(1, 2**50)) <= 9


def test_chart_scales_to_the_page_width(datasette) -> None:
    page = get(datasette, "/-/genz-chart").text
    start = page.index('<svg xmlns="http://www.w3.org/2000/svg" viewBox=')
    svg = page[start : page.index(">", start)]
    assert 'viewBox="0 0 960 540"' in svg and "width=" not in svg
    assert "KiB</text>" in page and "97.66 KiB" not in page


# ---------------------------------------------------------------------------- the browse page


def test_models_page_shows_ten_columns_and_people_sized_numbers(datasette) -> None:
    page = get(datasette, "/catalog/models").text
    headers = re.findall(r'<th [^>]*data-column="([^"]+)"', page)
    assert headers == ["model_id", *DEFAULT_COLUMNS]
    # Llama 3.1 8B: 8,030,261,248 parameters read as 8.03B, the exact count in the tooltip.
    assert 'title="8,030,261,248 parameters">8.03B</span>' in page
    assert "8030261248" not in page
    assert '<td class="col-context_length type-int"><span class="genz-num">131,072</span>' in page
    assert 'title="Unique parameters (count); tied embeddings counted once."' in page
    assert 'name="model" value="meta-llama/Llama-3.1-8B"' in page  # a compare checkbox
    assert 'action="/-/compare"' in page
    # Descriptions live below the table (and in tooltips), not above it.
    assert page.index('id="about-columns"') > page.index("</table>")
    assert "_nocol=is_deleted" in page  # "Show all columns"


def test_models_json_and_csv_keep_every_column_and_exact_integers(datasette) -> None:
    data = get(datasette, "/catalog/models.json?_shape=objects&_size=20").json()
    assert "config_json" in data["columns"] and len(data["columns"]) > 40
    llama = next(r for r in data["rows"] if r["model_id"] == "meta-llama/Llama-3.1-8B")
    assert llama["parameter_count"] == 8_030_261_248
    assert llama["context_length"] == 131_072
    csv_text = get(datasette, "/catalog/models.csv?_size=20").text
    assert ",8030261248," in csv_text and "8.03B" not in csv_text


def test_models_page_columns_can_be_chosen_and_all_shown(datasette) -> None:
    picked = get(datasette, "/catalog/models?_col=vocab_size").text
    assert re.findall(r'<th [^>]*data-column="([^"]+)"', picked) == ["model_id", "vocab_size"]
    everything = get(datasette, "/catalog/models?_nocol=is_deleted").text
    shown = re.findall(r'<th [^>]*data-column="([^"]+)"', everything)
    # The documents show where they are referenced (config_doc, ...), folded as before.
    assert "config_doc" in shown and "warnings_doc" in shown and "is_deleted" not in shown
    assert '<td class="col-config_doc type-dict"><details class="genz-json"><summary>' in everything
    assert "LlamaForCausalLM" in everything
    assert "Show the default columns" in everything
    # Warnings fold into one line: "1 warning" opens the list.
    assert '<details class="genz-fold genz-warnings"><summary>' in everything


def test_a_config_nested_970_deep_never_breaks_a_page(tmp_path: Path) -> None:
    path = tmp_path / "deep.db"
    with ModelManager(path) as manager:
        manager.add_model("test/deep-config", _config("meta-llama/Llama-3.1-8B"), source="local")
        # A stored config as a hostile import left it: valid JSON, 971 levels deep (the page
        # once indented it with json.dumps, whose recursion failed with a 500).
        stored = json.dumps(_config("meta-llama/Llama-3.1-8B"))
        deep_text = stored[:-1] + ', "deep": ' + "[" * 970 + "1" + "]" * 970 + "}"
        manager.db.execute(
            "UPDATE documents SET body = ? WHERE id = "
            "(SELECT config_doc FROM models WHERE model_id = 'test/deep-config')",
            [deep_text],
        )
        manager.db.conn.commit()
    deep_datasette = build_datasette(path)
    for url in (
        "/catalog/models?_nocol=is_deleted",
        "/catalog/models/test~2Fdeep-config",
        "/catalog/model_versions",
        "/catalog/models.json?_nocol=is_deleted",
        "/catalog/search_models?q=deep",
    ):
        response = get(deep_datasette, url)
        assert response.status_code == 200, url
    row_page = get(deep_datasette, "/catalog/models/test~2Fdeep-config").text
    assert "JSON nested 971 levels deep; shown as stored" in row_page


def test_json_cells_indent_like_json_dumps_without_recursion() -> None:
    from genz_catalog.datasette.cells import indented_json, json_nesting_depth

    for model_id in CATALOG_MODELS:
        config = _config(model_id)
        assert indented_json(config) == (json.dumps(config, indent=2, sort_keys=True), False)
    deep: object = "x"
    for _ in range(2000):
        deep = {"a": deep}
    text, cut = indented_json(deep, limit=10**7)  # a loop, not recursion: no RecursionError
    assert not cut and text.count("{") == 2000
    assert json_nesting_depth('{"a": "[[[[", "b": [[1]]}') == 3
    _, cut = indented_json(list(range(100_000)), limit=1000)
    assert cut


def test_access_log_line_is_the_common_log_format_plus_time() -> None:
    from datetime import datetime, timezone

    from genz_catalog.datasette.access_log import access_log_line

    scope = {
        "client": ("127.0.0.1", 50000),
        "method": "GET",
        "raw_path": b"/catalog/models",
        "query_string": b"family=llama",
        "http_version": "1.1",
    }
    when = datetime(2026, 12, 2, 4, 50, 0, tzinfo=timezone.utc)
    assert access_log_line(scope, 200, 51234, 0.0123, when) == (
        '127.0.0.1 - - [02/Dec/2026:04:50:00 +0000] "GET /catalog/models?family=llama HTTP/1.1" '
        "200 51234 12.3ms"
    )


def test_serve_on_a_port_in_use_is_one_line_and_exit_1() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: port {port} on 127.0.0.1 is already in use; stop the other server or pick "
        "another with --port\n"
    )


#: Pages people open after the default one: a facet value clicked, a search, both, deleted
#: models, a range filter (the last two are not model_shapes' to answer).
FILTERED_PAGES = (
    "/catalog/models.json?_search=llama",
    "/catalog/models.json?family=llama",
    "/catalog/models.json?is_moe=1",
    "/catalog/models.json?attention_type=gqa&family=mistral",
    "/catalog/models.json?_search=mistral&is_moe=0",
    "/catalog/models.json?_search=meta&family=llama&attention_type=gqa",
    "/catalog/models.json?_search=llama*&_searchmode=raw",
    "/catalog/models.json?_search=7b&is_deleted=1",
    "/catalog/models.json?_search=7b&parameter_count__gt=7000000000",
    "/catalog/models.json?is_deleted=1",
    "/catalog/models.json?parameter_count__gt=5000000000",
)


def _page_counts(served, path: str) -> tuple:  # noqa: ANN001
    data = get(served, path).json()
    facets = {
        name: [(v["value"], v["count"]) for v in facet["results"]]
        for name, facet in data["facet_results"].items()
    }
    return data["filtered_table_rows_count"], facets


def test_filtered_and_searched_pages_count_what_datasette_counts(
    catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genz_catalog.datasette import counts_cache

    summarised = build_datasette(catalog_path)
    ours = {path: _page_counts(summarised, path) for path in FILTERED_PAGES}
    # Datasette's own six queries a page, without the one-pass summary.
    monkeypatch.setattr(counts_cache, "_filtered_question", lambda sql: None)
    plain = build_datasette(catalog_path)
    assert ours == {path: _page_counts(plain, path) for path in FILTERED_PAGES}
    # And the real figures: the three Llamas; the three MoE models; the seven models above
    # 5B parameters (Llama 3.1 8B, Llama 2 7B, Mistral 7B, Mixtral, Qwen3-30B-A3B,
    # DeepSeek-V2-Lite, Falcon 7B); the deleted BERT.
    count, facets = ours["/catalog/models.json?family=llama"]
    assert count == 3 and facets["attention_type"] == [("gqa", 2), ("mha", 1)]
    count, facets = ours["/catalog/models.json?is_moe=1"]
    assert count == 3
    assert facets["family"] == [("deepseek_v2", 1), ("mixtral", 1), ("qwen3_moe", 1)]
    count, facets = ours["/catalog/models.json?parameter_count__gt=5000000000"]
    assert count == 7 and facets["is_moe"] == [(0, 4), (1, 3)]
    assert ours["/catalog/models.json?is_deleted=1"] == (
        1,
        {
            "family": [("bert", 1)],
            "model_type": [("encoder-only", 1)],
            "attention_type": [("mha", 1)],
            "is_moe": [(0, 1)],
            "source": [("huggingface", 1)],
        },
    )


def test_only_plain_filters_are_summarised() -> None:
    from genz_catalog.datasette.counts_cache import _filtered_question, shapes_where

    search = "is_deleted = 0 and rowid in (select rowid from models_fts where models_fts match :q)"
    assert _filtered_question(f"select count(*) from models where {search}") == (search, None, 0)
    for where in (
        "is_deleted = 0 limit 5",
        "is_deleted = 0 union select 1",
        "1 group by family",
        "is_deleted = 0; drop table models",
        "is_deleted = 0 -- the rest",
    ):
        assert _filtered_question(f"select count(*) from models where {where}") is None, where
    assert shapes_where('"family" = :p0 and is_deleted = 0') == "family = :p0"
    assert shapes_where('"is_moe" = :p0 and "Source" = :p1 and is_deleted = 0') == (
        "is_moe = :p0 and source = :p1"
    )
    assert shapes_where("is_deleted = 0") == "1"
    # Deleted models, a range, a search, or a column model_shapes lacks: counted from models.
    assert shapes_where('"is_deleted" = :p0') is None
    assert shapes_where('"parameter_count" > :p0 and is_deleted = 0') is None
    assert shapes_where(search) is None
    assert shapes_where('"license" = :p0 and is_deleted = 0') is None


def _logged_queries(monkeypatch: pytest.MonkeyPatch, fail: str | None = None) -> list[str]:
    """SQL that Datasette runs from now on (normalised); with ``fail``, a query starting so
    runs out of time."""
    from datasette.database import Database, QueryInterrupted

    ran: list[str] = []
    run_query = Database.execute

    async def logged(self, sql, params=None, *args, **kwargs):  # noqa: ANN001, ANN202
        text = " ".join(sql.split())
        ran.append(text)
        if fail is not None and text.startswith(fail):
            raise QueryInterrupted(None, sql, params)
        return await run_query(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", logged)
    return ran


def test_a_searched_page_reads_its_matches_once_and_a_facet_filter_none(
    catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = build_datasette(catalog_path)
    get(served, "/catalog/models.json")  # schema reads and the default page, not counted
    ran = _logged_queries(monkeypatch)
    assert _page_counts(served, "/catalog/models.json?_search=llama")[0] == 3
    over_matches = [sql for sql in ran if "models_fts match" in sql]
    # The rows shown; one pass for the row count and all five facets (six before), over the
    # facet keys of the matches, not their rows; and the count of matches that picks the
    # rows' plan (with the plan's check when the search is broad, as one model in 20 is).
    rows = [sql for sql in over_matches if sql.startswith("select model_id, model_name")]
    summaries = [sql for sql in over_matches if "group by" in sql]
    sizing = [sql for sql in over_matches if sql.startswith(("select count(*)", "explain"))]
    assert len(rows) == 1 and len(summaries) == 1, over_matches
    assert " join model_facets f on f.model_rowid = m.rowid " in summaries[0]
    assert " from models " not in summaries[0]
    assert sizing[0] == (
        "select count(*) from (select rowid from models_fts where models_fts match "
        "escape_fts(:search))"
    )
    assert len(over_matches) == len(rows) + len(summaries) + len(sizing) <= 4, over_matches
    ran.clear()
    assert _page_counts(served, "/catalog/models.json?family=llama&is_moe=0")[0] == 3
    counts = [sql for sql in ran if "count(*)" in sql or "sum(models)" in sql]
    assert len(counts) == 1 and " from model_shapes where " in counts[0], counts


#: How a searched page's one-pass summary over model_facets starts.
SEARCHED_SUMMARY = "select k.model_type, k.attention_type, k.family"


def _reads_of_matches(ran: list[str]) -> list[str]:
    """The queries of a searched page that read its matches for rows or counts, leaving out
    the count of matches that picks the rows' plan (and that plan's check)."""
    return [
        sql
        for sql in ran
        if "models_fts match" in sql
        and not sql.startswith(("select count(*) from (select rowid", "explain query plan"))
    ]


#: Searched pages in orders with an index (the default, ids) and without one (vocab_size).
SEARCHED_ORDERS = (
    "/catalog/models.json?_search=7b&_size=1&_shape=objects",
    "/catalog/models.json?_search=llama&_size=1&_sort=model_id&_shape=objects",
    "/catalog/models.json?_search=mistral&_size=1&is_moe=0&_shape=objects",
    "/catalog/models.json?_search=meta&_size=1&_sort_desc=vocab_size&_shape=objects",
)


def test_a_broad_search_walks_its_order_index_and_pages_the_same(
    catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genz_catalog.datasette import counts_cache

    served = build_datasette(catalog_path)
    get(served, "/catalog/models.json")
    ran = _logged_queries(monkeypatch)
    ours = {path: _paged_ids(served, path) for path in SEARCHED_ORDERS}
    pages = [sql for sql in ran if sql.startswith("select model_id, model_name")]

    def walked(order: str) -> list[bool]:
        return [
            "+rowid in (select rowid from models_fts" in sql
            for sql in pages
            if f" order by {order}" in sql
        ]

    # Every search here is broad (one model in 20 of 12 is less than one model): the first
    # page in size or in id order walks that order's index (a later page's plan is SQLite's
    # pick, checked the same way); vocab_size has no index, so its pages sort their matches.
    assert walked("parameter_count desc")[0] and walked("model_id")[0]
    assert walked("vocab_size") and not any(walked("vocab_size"))
    monkeypatch.setattr(counts_cache, "_searched_by_order", lambda sql: None)
    plain = build_datasette(catalog_path)
    assert ours == {path: _paged_ids(plain, path) for path in SEARCHED_ORDERS}
    # The real rows: the three 7B models, largest first (Mistral 7.24B, Falcon 7B 6.92B,
    # Llama 2 7B 6.74B), and the three Llamas by id.
    assert ours[SEARCHED_ORDERS[0]] == [
        "mistralai/Mistral-7B-v0.1",
        "tiiuae/falcon-7b",
        "meta-llama/Llama-2-7b-chat-hf",
    ]
    assert ours[SEARCHED_ORDERS[1]] == [
        "meta-llama/Llama-2-7b-chat-hf",
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.2-3B",
    ]


def test_a_file_without_model_facets_counts_its_searched_pages_from_the_models(
    catalog_path: Path, tmp_path: Path
) -> None:
    import shutil
    import sqlite3

    older = tmp_path / "older.db"
    shutil.copy(catalog_path, older)
    conn = sqlite3.connect(older)
    # As a file before m026 is: no tables, no triggers (served read-only, never migrated).
    for trigger in ("model_facets_ai", "model_facets_ad", "model_facets_au"):
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DROP TABLE model_facets")
    conn.execute("DROP TABLE model_facet_keys")
    conn.commit()
    conn.close()
    path = "/catalog/models.json?_search=mistral&is_moe=0"
    assert _page_counts(build_datasette(older), path) == _page_counts(
        build_datasette(catalog_path), path
    )
    assert _page_counts(build_datasette(older), path)[0] == 1


def test_only_a_searched_page_of_rows_is_offered_the_order_walk() -> None:
    from genz_catalog.datasette.counts_cache import _searched_by_order

    search = "rowid in (select rowid from models_fts where models_fts match escape_fts(:search))"
    page = f"select model_id, family from models where is_deleted = 0 and {search}"
    assert _searched_by_order(f"{page} order by parameter_count desc, model_id limit 51") == (
        f"select model_id, family from models where is_deleted = 0 and +{search} "
        "order by parameter_count desc, model_id limit 51",
        search.removeprefix("rowid in "),
    )
    for sql in (
        f"select count(*) from models where is_deleted = 0 and {search}",
        f"{page} limit 51",  # no order: nothing to walk
        f"{page} order by model_id",  # no limit: every match is read anyway
        # Another column's name ending in rowid is not the search term.
        f"select model_id from models where model_{search} order by model_id limit 5",
        "select model_id from models where is_deleted = 0 order by model_id limit 5",
    ):
        assert _searched_by_order(sql) is None, sql


def test_a_narrow_search_keeps_its_lookup_of_the_matches(
    catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = build_datasette(catalog_path)
    get(served, "/catalog/models.json")
    monkeypatch.setattr("genz_catalog.datasette.counts_cache.BROAD_SEARCH_SHARE", 1)
    ran = _logged_queries(monkeypatch)
    # 3 Llamas of 12 models: broad at one in 20, narrow when only a whole catalog is broad.
    assert _paged_ids(served, "/catalog/models.json?_search=llama&_shape=objects") == [
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-2-7b-chat-hf",
        "meta-llama/Llama-3.2-3B",
    ]
    assert not [sql for sql in ran if "+rowid" in sql or sql.startswith("explain")]


def test_a_page_summary_out_of_time_still_counts_the_rows(
    catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = build_datasette(catalog_path)
    get(served, "/catalog/models.json")
    ran = _logged_queries(monkeypatch, fail=SEARCHED_SUMMARY)
    response = get(served, "/catalog/models.json?_search=mistral")
    assert response.status_code == 200
    data = response.json()
    # The row count is asked alone, as Datasette would; the facets are reported as timed out
    # without each running its own pass over the matches.
    # Datasette's search box matches whole words: Mistral 7B (Mixtral's org is "mistralai").
    assert data["filtered_table_rows_count"] == 1
    assert data["facet_results"] == {}
    assert len(_reads_of_matches(ran)) == 3, ran
    # Seconds later the same page does not try the pass again: only its rows are read (its
    # count is remembered).
    ran.clear()
    html = get(served, "/catalog/models?_search=mistral").text
    assert "These facets timed out" in html
    assert len(_reads_of_matches(ran)) == 1, ran
    # But a moment of load is not remembered until the next write: later, it tries again.
    for entry in served.get_database("catalog")._summaries.values():
        entry.until = 0.0
    ran.clear()
    get(served, "/catalog/models.json?_search=mistral")
    assert any(sql.startswith(SEARCHED_SUMMARY) for sql in ran), ran


@pytest.fixture(scope="module")
def tied_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve fine-tunes of one config (one size), imported in reverse id order, beside
    Mixtral, Llama 3.1 8B and BERT: a page of dense models must order the ties itself."""
    path = tmp_path_factory.mktemp("ties") / "catalog.db"
    with ModelManager(path) as manager:
        for model_id in ("mistralai/Mixtral-8x7B-v0.1", "meta-llama/Llama-3.1-8B"):
            manager.add_model(model_id, _config(model_id), source="huggingface")
        mistral = _config("mistralai/Mistral-7B-v0.1")
        for number in reversed(range(12)):
            manager.add_model(f"tuner-{number:02d}/mistral-ft", mistral, source="huggingface")
        bert = "google-bert/bert-base-uncased"
        manager.add_model(bert, _config(bert), source="huggingface")
    return path


def _paged_ids(served, path: str) -> list[str]:  # noqa: ANN001
    ids: list[str] = []
    while path:
        data = get(served, path).json()
        ids += [row["model_id"] for row in data["rows"]]
        path = (data.get("next_url") or "").replace("http://localhost", "")
    return ids


def test_pages_sorted_by_a_column_with_ties_list_every_model_once(tied_catalog: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tied_catalog)
    expected = [
        row[0]
        for row in conn.execute(
            "SELECT model_id FROM models WHERE is_deleted = 0 ORDER BY num_layers, model_id"
        )
    ]
    conn.close()
    served = build_datasette(tied_catalog)
    path = "/catalog/models.json?_sort=num_layers&_size=4&_shape=objects"
    assert _paged_ids(served, path) == expected


@pytest.mark.parametrize("column", ["is_moe", "model_type", "attention_type", "source"])
def test_a_facet_page_lists_every_model_once_in_size_then_id_order(
    tied_catalog: Path, monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    import sqlite3

    value = {"is_moe": 0, "model_type": "decoder-only", "attention_type": "gqa"}.get(
        column, "huggingface"
    )
    conn = sqlite3.connect(tied_catalog)
    expected = [
        row[0]
        for row in conn.execute(
            f"SELECT model_id FROM models WHERE is_deleted = 0 AND {column} = ? "
            "ORDER BY parameter_count DESC, model_id",
            [value],
        )
    ]
    conn.close()
    # The twelve tied fine-tunes come by id (imported in the reverse order).
    tuners = [f"tuner-{n:02d}/mistral-ft" for n in range(12)]
    assert [m for m in expected if m.startswith("tuner-")] == tuners
    start = expected.index(tuners[0])
    assert expected[start : start + 12] == tuners
    served = build_datasette(tied_catalog)
    ran = _logged_queries(monkeypatch)
    # Pages of 5 cut the tied fine-tunes twice.
    path = f"/catalog/models.json?{column}={value}&_size=5&_shape=objects"
    assert _paged_ids(served, path) == expected
    rows_sql = [sql for sql in ran if sql.endswith("limit 6") and "count(" not in sql]
    assert len(rows_sql) == -(-len(expected) // 5), ran


def test_a_facet_value_page_is_read_in_size_order_without_sorting_its_models(
    tied_catalog: Path,
) -> None:
    import sqlite3

    conn = sqlite3.connect(tied_catalog)
    for column in ("is_moe", "model_type", "attention_type", "source"):
        sql = (
            f"select model_id from models where {column} = ? and is_deleted = 0 "
            "order by parameter_count desc, model_id limit 51"
        )
        plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, [0]))
        # The facet's index gives the size order; only ties of one size are put in id order.
        assert "USING INDEX idx_models_live_" in plan and f"({column}=?)" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
    conn.close()


def test_a_family_page_with_another_facet_value_is_read_through_the_family_index(
    tied_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    served = build_datasette(tied_catalog)
    get(served, "/catalog/models.json")
    ran = _logged_queries(monkeypatch)
    path = "/catalog/models.json?family=mistral&attention_type=gqa&_size=5&_shape=objects"
    ids = _paged_ids(served, path)
    assert ids == [f"tuner-{n:02d}/mistral-ft" for n in range(12)]
    rows_sql = [sql for sql in ran if sql.endswith("limit 6") and "count(" not in sql]
    assert rows_sql and all('CAST("attention_type" AS TEXT) = :p' in sql for sql in rows_sql)
    # An integer column keeps its affinity: the URL's text '0' equals is_moe 0 (written
    # +"is_moe", it had none, and the page counted 12 models and listed none).
    assert _paged_ids(served, path.replace("attention_type=gqa", "is_moe=0")) == ids
    assert _paged_ids(served, path.replace("attention_type=gqa", "is_moe=1")) == []
    counted = get(served, path.replace("attention_type=gqa", "is_moe=0")).json()
    assert (counted["filtered_table_rows_count"], len(counted["rows"])) == (12, 5)
    conn = sqlite3.connect(tied_catalog)
    for term in ('CAST("attention_type" AS TEXT) = :p1', 'CAST("is_moe" AS INTEGER) = :p1'):
        sql = (
            f'select model_id from models where "family" = :p0 and {term} '
            "and is_deleted = 0 order by parameter_count desc, model_id limit 6"
        )
        plan = " / ".join(
            row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, {"p0": "x", "p1": "0"})
        )
        assert "idx_models_live_family_size (family=?)" in plan, plan
    conn.close()


def test_first_pages_break_ties_by_id() -> None:
    from genz_catalog.datasette.counts_cache import _ties_by_id

    head = "select model_id, parameter_count from models where "
    first = head + '"is_moe" = :p0 and is_deleted = 0 order by parameter_count desc limit 51'
    assert _ties_by_id(first).endswith("order by parameter_count desc, model_id limit 51")
    # Any first page in one column's order gets the id as its tie-break, as the next pages have.
    assert _ties_by_id(head + "is_deleted = 0 order by num_layers limit 51").endswith(
        "order by num_layers, model_id limit 51"
    )
    assert _ties_by_id(head + 'is_deleted = 0 order by "model_id" desc limit 51').endswith(
        'order by "model_id" desc limit 51'
    )


def _add_llama_and_mistral(path: Path) -> None:
    """Llama 3.1 8B and Mistral 7B from their real configs, into the catalog at ``path``."""
    with ModelManager(path) as manager:
        for model_id in ("meta-llama/Llama-3.1-8B", "mistralai/Mistral-7B-v0.1"):
            manager.add_model(model_id, _config(model_id), source="huggingface")


def test_searches_are_remembered_per_text_until_the_catalog_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genz_catalog.datasette import counts_cache

    path = tmp_path / "searches.db"
    _add_llama_and_mistral(path)
    served = build_datasette(path)
    ran = _logged_queries(monkeypatch)

    def search(text: str) -> list[str]:
        return _searched(served, text)

    def ranked() -> int:
        return _rankings(ran)

    assert search("llama") == ["meta-llama/Llama-3.1-8B"]
    assert search("llama") == ["meta-llama/Llama-3.1-8B"] and ranked() == 1
    assert search("mistral") == ["mistralai/Mistral-7B-v0.1"] and ranked() == 2
    # Another connection (the CLI) commits: the same text is searched again.
    with ModelManager(path) as manager:
        manager.add_model(
            "meta-llama/Llama-3.2-3B", _config("meta-llama/Llama-3.2-3B"), source="huggingface"
        )
    assert sorted(search("llama")) == ["meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.2-3B"]
    assert ranked() == 3
    # A visitor asking many different texts cannot grow the memory past its bound.
    monkeypatch.setattr(counts_cache, "MAX_SEARCHES", 2)
    for text in ("a", "b", "c", "d"):
        search(text)
    assert len(served.get_database("catalog")._searches) == 2


def _rankings(ran: list[str]) -> int:
    """How many times ``search_models`` ranked a search in the logged SQL ``ran``."""
    return len([sql for sql in ran if "models_fts match genz_fts_query(:q)" in sql.lower()])


def _searched(served: object, text: str) -> list[str]:
    """The ids ``search_models`` answers for ``text``, best first."""
    query = urllib.parse.urlencode({"q": text, "_shape": "array"})
    return [row["model_id"] for row in rows(served, "/catalog/search_models.json?" + query)]


class _WarmUpRequests:
    """The requests made through ``served.client`` while in use: how many are under way, and
    the paths of those answered. A warm-up is cancelled only between its requests: a count or
    a ranking cut off on a loaded machine would not be remembered, and the next view would do
    it again."""

    def __init__(self, served: Any) -> None:
        self.in_flight = 0
        self.answered: list[str] = []
        self._served = served
        self._get = served.client.get

    async def get(self, url: str, *args: Any, **kwargs: Any) -> Any:
        self.in_flight += 1
        try:
            response = await self._get(url, *args, **kwargs)
        finally:
            self.in_flight -= 1
        self.answered.append(url)
        return response

    def __enter__(self) -> _WarmUpRequests:
        self._served.client.get = self.get
        return self

    def __exit__(self, *_: object) -> None:
        self._served.client.get = self._get


async def _until(condition: Callable[[], bool], tries: int = 200) -> None:
    """Wait until ``condition()`` holds, looking every 20 ms, at most ``tries`` times."""
    for _ in range(tries):
        await asyncio.sleep(0.02)
        if condition():
            return


def _warm_until(served: Any, ran: list[str], rankings: int) -> None:
    """Run ``keep_warm`` (no pages, searches only) until ``rankings`` searches were ranked,
    or for at most ~4 s, then stop it."""
    from genz_catalog.datasette.counts_cache import keep_warm

    async def warm() -> None:
        with _WarmUpRequests(served) as requests:
            task = asyncio.create_task(keep_warm(served, [], poll_s=0.01, settle_s=0.5))
            await _until(lambda: _rankings(ran) >= rankings and not requests.in_flight)
            await asyncio.sleep(0.1)  # a ranking past the expected count would show now
            await _until(lambda: not requests.in_flight)
            task.cancel()

    asyncio.run(warm())


def test_a_search_is_remembered_whatever_its_case_and_family_words_are_searched_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Qwen`` and `` QWEN`` are one search (the index folds case); keep_warm searches the
    catalog's most common family words (qwen for qwen2 and qwen3) before any visitor does."""
    from genz_catalog.datasette import counts_cache

    path = tmp_path / "warm-searches.db"
    models = ("Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-3B", "Qwen/Qwen3-14B", "meta-llama/Llama-3.1-8B")
    with ModelManager(path) as manager:
        for model_id in models:
            manager.add_model(model_id, _config(model_id), source="huggingface")
    served = build_datasette(path)
    ran = _logged_queries(monkeypatch)

    # Family words, most models first: qwen2 (2 models) and qwen3 are one word.
    families = get(
        served,
        "/catalog.json?"
        + urllib.parse.urlencode(
            {"sql": counts_cache.POPULAR_FAMILY_WORDS_SQL, "_shape": "arrays"}
        ),
    ).json()["rows"]
    assert counts_cache.popular_family_words(families) == ["qwen", "llama"]
    ran.clear()

    _warm_until(served, ran, 2)
    assert _rankings(ran) == 2  # qwen and llama, with no visitor asking
    qwens = ["Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-3B", "Qwen/Qwen3-14B"]
    for text in ("qwen", "Qwen", " QWEN "):
        assert sorted(_searched(served, text)) == sorted(qwens)
    assert _searched(served, "LLAMA") == ["meta-llama/Llama-3.1-8B"]
    assert _rankings(ran) == 2  # every one answered from memory
    # A different search is still its own.
    assert _searched(served, "qwen3") == ["Qwen/Qwen3-14B"] and _rankings(ran) == 3


#: Three instruct models, the broad word of the warm-up tests.
INSTRUCT_MODELS = (
    "meta-llama/Llama-3.2-3B-Instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "microsoft/Phi-3-mini-4k-instruct",
)


def _add_instruct_and_base_models(path: Path) -> tuple[str, ...]:
    """The three instruct models and two base models in a new catalog; the instruct ids."""
    with ModelManager(path) as manager:
        for model_id in (*INSTRUCT_MODELS, "meta-llama/Llama-3.1-8B", "mistralai/Mistral-7B-v0.1"):
            manager.add_model(model_id, _config(model_id), source="huggingface")
    return INSTRUCT_MODELS


def test_keep_warm_searches_the_words_most_models_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Besides family words, keep_warm searches the search index's broadest words (read from
    an ``fts5vocab`` table in the connection's temporary schema, never written to the file),
    so a visitor's first ``instruct`` is answered from memory."""
    from genz_catalog.datasette import counts_cache
    from genz_catalog.datasette.counts_cache import broad_words

    path = tmp_path / "broad-words.db"
    instruct = _add_instruct_and_base_models(path)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        # Three models hold "instruct"; no other word is held by more than two. Then the
        # one-letter prefix of a word that many hold: "i".
        # Three models hold "instruct"; no other word is held by more than two. Then the
        # prefixes of up to three characters whose words are held three times or more, the
        # most held first (m: 8 times, by meta, mistral and mistralai twice each, microsoft
        # and mini once).
        assert broad_words(conn, models=3) == ["instruct", "m", "mi", "3", "mis", "i", "in", "ins"]
        two = broad_words(conn, models=2, limit=100)
        # The words held twice or more, the most held first, then the prefixes held as often.
        assert two[:6] == ["instruct", "7b", "llama", "meta", "mistral", "mistralai"]
        assert two[6:] == "m mi 3 mis i in ins 3. 7 l ll lla me met p ph phi v v0 v0.".split()
        assert broad_words(conn, models=2, limit=2) == two[:2]
        assert broad_words(conn, models=8) == ["m"] and broad_words(conn, models=9) == []
    monkeypatch.setattr(counts_cache, "BROAD_WORD_MODELS", 3)
    served = build_datasette(path)
    ran = _logged_queries(monkeypatch)
    # Family words, most models first, then the broad word and prefixes: llama, mistral, phi,
    # instruct, m, mi, 3, mis, i, in, ins.
    _warm_until(served, ran, 11)
    assert _rankings(ran) == 11
    assert sorted(_searched(served, "Instruct")) == sorted(instruct)
    assert _searched(served, "I") == _searched(served, "instruct")
    assert _searched(served, "mis") == _searched(served, "mistral")
    assert _rankings(ran) == 11  # from memory
    assert _searched(served, "3b") == ["meta-llama/Llama-3.2-3B-Instruct"]
    assert _rankings(ran) == 12
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "genz_search_words" not in names


def test_keep_warm_searches_the_pairs_most_models_hold_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visitor typing a second word (``instruct m``) asks a pair of broad words: a bulk
    import stores the broadest pairs' answers, but a write of many models leaves them to rank,
    so keep_warm searches the pairs of its broad words that the most models hold together."""
    from genz_catalog.catalog.search_scores import escape_fts_query
    from genz_catalog.datasette import counts_cache
    from genz_catalog.datasette.counts_cache import broad_word_pairs

    path = tmp_path / "broad-pairs.db"
    instruct = _add_instruct_and_base_models(path)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        # The broad words of 3 models: instruct, m, mi, 3, mis, i, in, ins. Every instruct
        # model holds a word under m (meta, mistralai, microsoft), and so do the three with
        # a word under 3 (Llama-3.2, Llama-3.1, Phi-3); "instruct mi" is held by two. A word
        # is never paired with its own prefix (instruct ins).
        pairs = broad_word_pairs(conn, models=3)
        assert pairs == ["instruct m", "m 3", "m i", "m in", "m ins"]
        conn.create_function("genz_fts_query", 1, escape_fts_query)
        count = "SELECT count(*) FROM models_fts WHERE models_fts MATCH genz_fts_query(?)"
        for text in pairs:
            assert conn.execute(count, (text,)).fetchone()[0] == 3, text
        assert conn.execute(count, ("instruct mi",)).fetchone()[0] == 2
        assert broad_word_pairs(conn, models=3, limit=2) == pairs[:2]
        assert broad_word_pairs(conn, models=4) == []
    monkeypatch.setattr(counts_cache, "BROAD_WORD_MODELS", 3)
    monkeypatch.setattr(counts_cache, "BROAD_PAIR_WORD_MODELS", 3)
    served = build_datasette(path)
    ran = _logged_queries(monkeypatch)
    # llama, mistral, phi, the 8 broad words and prefixes, then the pairs.
    _warm_until(served, ran, 11 + len(pairs))
    assert _rankings(ran) == 11 + len(pairs)
    assert sorted(_searched(served, "Instruct  M")) == sorted(instruct)
    assert _rankings(ran) == 11 + len(pairs)  # from memory


def test_the_search_warm_up_waits_while_visitors_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm-up pass ranks a few million matches at a million models: it takes the time
    visitors leave, not theirs. While a visitor queries every ~50 ms nothing is ranked; once
    they stop, the family words are."""
    import time

    from genz_catalog.datasette import counts_cache
    from genz_catalog.datasette.counts_cache import keep_warm

    monkeypatch.setattr(counts_cache, "WARM_IDLE_S", 0.3)
    path = tmp_path / "busy.db"
    _add_llama_and_mistral(path)
    served = build_datasette(path)
    ran = _logged_queries(monkeypatch)
    database = served.get_database("catalog")

    async def visit() -> None:
        response = await served.client.get("/catalog/models.json?_size=1")
        assert response.status_code == 200

    async def scenario() -> tuple[int, float, float]:
        await visit()
        task = asyncio.create_task(keep_warm(served, [], poll_s=0.01, settle_s=0.5))
        busy_until = time.monotonic() + 1.2
        while time.monotonic() < busy_until:
            await visit()
            await asyncio.sleep(0.05)
        while_busy = _rankings(ran)
        left, last_visit = time.monotonic(), database.last_visitor_query
        for _ in range(200):
            await asyncio.sleep(0.02)
            if _rankings(ran) >= 2:
                break
        warmed = time.monotonic()
        task.cancel()
        return while_busy, warmed - left, last_visit

    while_busy, after_s, last_visit = asyncio.run(scenario())
    assert while_busy == 0
    assert _rankings(ran) == 2  # llama and mistral, once the visitor left
    assert 0.25 <= after_s < 2.0
    # The warm-up's own queries (two rankings and more) do not count as a visitor's.
    assert database.last_visitor_query == last_visit > 0


def test_counts_are_remembered_until_the_catalog_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datasette.database import Database

    counted: list[str] = []
    run_query = Database.execute

    async def counting_execute(self, sql, *args, **kwargs):  # noqa: ANN001, ANN202
        # Counts over the models, or over model_shapes (the unfiltered page's facets).
        if "count(*)" in sql or "from model_shapes" in sql.lower():
            counted.append(sql)
        return await run_query(self, sql, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", counting_execute)
    path = tmp_path / "counts.db"
    _add_llama_and_mistral(path)
    served = build_datasette(path)
    database = served.get_database("catalog")

    def families() -> dict:
        data = get(served, "/catalog/models.json?_size=1").json()
        assert data["filtered_table_rows_count"] == sum(
            v["count"] for v in data["facet_results"]["family"]["results"]
        )
        return {v["value"]: v["count"] for v in data["facet_results"]["family"]["results"]}

    assert families() == {"llama": 1, "mistral": 1}
    # Five facets and the row count remembered, all six answered from one pass over
    # model_shapes (the unfiltered page's summary).
    assert len(database._counts) == 6 and len(counted) == 1
    assert families() == {"llama": 1, "mistral": 1}
    assert len(counted) == 1  # answered from memory: no count query ran again
    # Another connection (the CLI) commits: the next page counts again.
    with ModelManager(path) as manager:
        manager.add_model(
            "meta-llama/Llama-3.2-3B", _config("meta-llama/Llama-3.2-3B"), source="huggingface"
        )
    assert families() == {"llama": 2, "mistral": 1}
    assert len(counted) == 2
    with ModelManager(path) as manager:
        manager.delete_model("meta-llama/Llama-3.1-8B")
    assert families() == {"llama": 1, "mistral": 1}


def test_a_visitor_query_that_looks_like_a_count_is_not_kept_when_large(
    tmp_path: Path,
) -> None:
    # 512 remembered answers of "select count(*) from models union all select zeroblob(8 MB)
    # ..." held gigabytes; only answers of a count's or a facet's size are kept.
    path = tmp_path / "c.db"
    with ModelManager(path) as manager:
        manager.add_model("meta-llama/Llama-3.1-8B", _config("meta-llama/Llama-3.1-8B"))
    served = build_datasette(path)
    database = served.get_database("catalog")
    before = len(database._counts)
    big = "select count(*) from models union all select zeroblob(100000) from models limit 2"
    small = "select count(*) from models where is_deleted = 0"
    for sql in (big, small):
        response = get(served, "/catalog.json?" + urllib.parse.urlencode({"sql": sql}))
        assert response.status_code == 200
    kept = [key[0] for key in database._counts]
    assert small in kept and big not in kept and len(kept) == before + 1


def test_percent_encoded_sql_keys_are_visitor_sql() -> None:
    from genz_catalog.datasette.sql_limiter import is_arbitrary_sql

    for query in (b"sql=select+1", b"s%71l=select+1", b"_w%68ere=1%3D1", b"%73ql=x"):
        assert is_arbitrary_sql({"type": "http", "query_string": query}), query
    for query in (b"", b"family=llama", b"q=sqlite"):
        assert not is_arbitrary_sql({"type": "http", "query_string": query}), query


def test_whole_catalog_summaries_are_remembered_and_kept_warm_after_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """statistics summarises every live model: answered once per catalog version, and
    keep_warm re-asks once the catalog stops changing, before any visitor."""
    import asyncio

    from datasette.database import Database

    from genz_catalog.datasette.counts_cache import keep_warm

    statistics_sql = load_metadata()["databases"]["catalog"]["queries"]["statistics"]["sql"]
    ran: list[str] = []
    run_query = Database.execute

    path = tmp_path / "summaries.db"

    async def counting_execute(self, sql, *args, **kwargs):  # noqa: ANN001, ANN202
        # This test's file only: a server another test left running in the process (its
        # warm-up asks for statistics whenever its own file changes) is not counted.
        if sql == statistics_sql and self.path == str(path):
            ran.append(sql)
        return await run_query(self, sql, *args, **kwargs)

    monkeypatch.setattr(Database, "execute", counting_execute)
    with ModelManager(path) as manager:
        manager.add_model(
            "meta-llama/Llama-3.1-8B", _config("meta-llama/Llama-3.1-8B"), source="huggingface"
        )
    served = build_datasette(path)

    def total() -> int:
        rows = get(served, "/catalog/statistics.json?_shape=array").json()
        return next(r["models"] for r in rows if r["dimension"] == "total")

    assert total() == 1
    assert total() == 1
    assert len(ran) == 1  # the second view was answered from memory

    async def warm_through_a_write() -> None:
        statistics = "/catalog/statistics.json"
        with _WarmUpRequests(served) as requests:
            # Settling (0.5 s) outlasts the writer's commit and close: closing may checkpoint
            # the WAL, which readers see as a change too, and a recount under way would be
            # dropped.
            task = asyncio.create_task(keep_warm(served, [statistics], poll_s=0.01, settle_s=0.5))
            await _until(lambda: requests.answered.count(statistics) == 1, tries=500)
            assert len(ran) == 1  # this version was already counted: nothing to warm
            with ModelManager(path) as manager:
                manager.add_model(
                    "mistralai/Mistral-7B-v0.1",
                    _config("mistralai/Mistral-7B-v0.1"),
                    source="huggingface",
                )
            await _until(lambda: requests.answered.count(statistics) == 2, tries=500)
            task.cancel()

    asyncio.run(warm_through_a_write())
    assert len(ran) == 2  # recounted after the write, with no visitor asking
    assert total() == 2
    assert len(ran) == 2  # and the visitor got the remembered, current answer


def test_serve_listens_on_a_tcp_socket_asyncio_sets_nodelay_on() -> None:
    """proto 0 made asyncio skip TCP_NODELAY: keep-alive pages waited 40 ms for delayed ACKs."""
    import socket

    from genz_catalog.cli.serve import bind_listener

    listener = bind_listener("127.0.0.1", 0)
    try:
        assert listener.proto == socket.IPPROTO_TCP
        assert listener.getsockname()[1] > 0
    finally:
        listener.close()


def test_search_lists_equally_good_matches_in_import_order_without_deleted_ones(
    tmp_path: Path,
) -> None:
    # Three ids with the same words in the same places: bm25 cannot tell them apart.
    ids = ["zz-org/llama-x1", "aa-org/llama-x2", "mm-org/llama-x3", "bb-org/llama-x4"]
    path = tmp_path / "catalog.db"
    with ModelManager(path) as manager:
        for model_id in ids:
            manager.add_model(model_id, _config("meta-llama/Llama-3.1-8B"), source="huggingface")
        manager.delete_model("bb-org/llama-x4")
        listed = [m["model_id"] for m in manager.search_models("llama")]
    found = rows(build_datasette(path), "/catalog/search_models.json?_shape=array&q=llama")
    assert [r["model_id"] for r in found] == ids[:3] == listed


def test_repeated_facets_are_asked_once_and_too_many_are_refused(datasette) -> None:
    # _facet=family 1,000 times took 27 s and answered 114 MB: repeats are dropped, and more
    # than MAX_FACETS distinct facets is a 400 saying so.
    from genz_catalog.datasette.facet_limit import MAX_FACETS

    once = get(datasette, "/catalog/models.json?_facet=family&_size=0").json()
    repeated = get(datasette, "/catalog/models.json?" + "_facet=family&" * 300 + "_size=0")
    assert repeated.status_code == 200
    assert repeated.json()["facet_results"] == once["facet_results"]
    columns = ["family", "model_type", "attention_type", "source", "is_moe", "num_layers"]
    columns += ["hidden_size", "num_attention_heads", "num_key_value_heads", "vocab_size"]
    columns += ["context_length"]
    assert len(columns) == MAX_FACETS + 1
    many = get(datasette, "/catalog/models.json?" + "&".join(f"_facet={c}" for c in columns))
    assert many.status_code == 400
    assert many.text == (
        f"At most {MAX_FACETS} facets a page (_facet, _facet_array, _facet_date); this URL asks "
        f"for {MAX_FACETS + 1}.\n"
    )
    enough = get(
        datasette, "/catalog/models.json?_size=0&" + "&".join(f"_facet={c}" for c in columns[:-1])
    )
    assert enough.status_code == 200
