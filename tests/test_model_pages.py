"""The model page, the compare page and the version diff page, through Datasette's ASGI client.

The catalog holds real Hugging Face configs (tests/data/hf-configs) added through the
ModelManager; expected figures are the true parameter counts (tests/data/truth.tsv, the
safetensors index totals) and arithmetic on them, not the code's own output.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
import urllib.parse
from math import ceil
from pathlib import Path

import pytest

from genz_catalog.datasette.app import build_datasette
from genz_catalog.gpus import COMMON_GPUS, USABLE_FRACTION, devices_needed, usable_bytes
from genz_catalog.manager import ModelManager

HF_CONFIGS = Path(__file__).parent / "data" / "hf-configs"
MODELS = (
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.2-3B",
    "mistralai/Mistral-7B-v0.1",
    "mistralai/Mixtral-8x7B-v0.1",
    "deepseek-ai/DeepSeek-R1",
    "ArthurZ/mamba-2.8b",
    "openai-community/gpt2",
)
LLAMA_ROW = "/catalog/models/meta-llama~2FLlama-3~2E1-8B"
GIB = 2**30
#: True parameter counts (tests/data/truth.tsv).
LLAMA_PARAMS = 8_030_261_248
MISTRAL_PARAMS = 7_241_732_096  # safetensors total_size 14,483,464,192 bytes / 2 (bf16)
DEEPSEEK_R1_PARAMS = 671_026_404_352
#: Llama 3.1 8B caches 32 layers x 8 KV heads x 128 dims x (K and V) values per token.
LLAMA_KV_VALUES = 32 * 8 * 128 * 2


def _config(model_id: str) -> dict:
    return json.loads((HF_CONFIGS / model_id.replace("/", "__") / "config.json").read_text())


@pytest.fixture(scope="module")
def catalog_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "catalog.db"
    with ModelManager(path) as manager:
        for model_id in MODELS:
            manager.add_model(
                model_id, _config(model_id), source="huggingface", hub_metadata={"hub_id": model_id}
            )
        # Published scores: the Llama 3.1 model card and the Mistral 7B paper (arXiv:2310.06825).
        manager.add_quality_metric("meta-llama/Llama-3.1-8B", "MMLU", 66.7, 5, source="card")
        manager.add_quality_metric("mistralai/Mistral-7B-v0.1", "MMLU", 60.1, 5, source="paper")
        manager.add_alias("mistralai/Mistral-7B-v0.1", "mistral-7b")
        manager.update_model(
            "meta-llama/Llama-3.1-8B", model_name="Llama 3.1 8B", change_description="renamed"
        )
        manager.delete_model("openai-community/gpt2")
    return path


@pytest.fixture(scope="module")
def datasette(catalog_path: Path):
    return build_datasette(catalog_path)


def get(datasette, path: str):  # noqa: ANN001, ANN201
    return asyncio.run(datasette.client.get(path))


def compare_json(datasette, query: str) -> dict:  # noqa: ANN001
    response = get(datasette, "/-/compare.json?" + query)
    assert response.status_code == 200, response.text[:500]
    return response.json()


# ------------------------------------------------------------------------------ GPUs


def test_devices_needed_uses_ninety_percent_of_nominal_memory() -> None:
    h100 = next(g for g in COMMON_GPUS if g.name == "NVIDIA H100 80GB")
    assert usable_bytes(h100) == int(80 * GIB * 0.9) == 77_309_411_328
    assert devices_needed(usable_bytes(h100), h100) == 1
    assert devices_needed(usable_bytes(h100) + 1, h100) == 2
    assert devices_needed(0, h100) == 1
    with pytest.raises(ValueError, match="required_bytes must be >= 0"):
        devices_needed(-1, h100)


# ------------------------------------------------------------------------------ JSON twins


def test_compare_json_holds_exact_figures_of_real_configs(datasette) -> None:  # noqa: ANN001
    data = compare_json(datasette, "model=meta-llama/Llama-3.1-8B&model=mistralai/Mistral-7B-v0.1")
    assert data["ok"] is True
    llama, mistral = data["models"]
    assert llama["model_id"] == "meta-llama/Llama-3.1-8B"
    assert llama["parameter_count"] == LLAMA_PARAMS
    assert mistral["parameter_count"] == MISTRAL_PARAMS
    assert llama["memory"]["weight_bytes"] == {
        "fp32": LLAMA_PARAMS * 4,
        "bf16": LLAMA_PARAMS * 2,
        "fp8": LLAMA_PARAMS,
        "int4": LLAMA_PARAMS // 2,
    }
    # Mistral's bf16 weights are exactly its safetensors checkpoint's total_size.
    assert mistral["memory"]["weight_bytes"]["bf16"] == 14_483_464_192
    assert llama["memory"]["kv_cache_bytes_per_token"] == {
        "bf16": LLAMA_KV_VALUES * 2,
        "fp8": LLAMA_KV_VALUES,
    }
    shapes = {(s["seq_len"], s["batch"]): s for s in llama["memory"]["shapes"]}
    assert sorted(shapes) == [(s, b) for s in (4096, 32768, 131072) for b in (1, 8, 32)]
    assert shapes[(32768, 8)]["kv_cache_bytes"] == 8 * 32768 * LLAMA_KV_VALUES * 2
    assert shapes[(32768, 8)]["total_bytes"] == LLAMA_PARAMS * 2 + 8 * 32768 * LLAMA_KV_VALUES * 2
    # Mistral 7B v0.1 slides a 4,096-token window: a longer context caches no more.
    mistral_shapes = {(s["seq_len"], s["batch"]): s for s in mistral["memory"]["shapes"]}
    assert sorted({s for s, _ in mistral_shapes}) == [4096, 32768]  # its context is 32,768
    assert (
        mistral_shapes[(32768, 1)]["kv_cache_bytes"] == mistral_shapes[(4096, 1)]["kv_cache_bytes"]
    )
    assert "Parameters" in data["differing"] and "Layers" not in data["differing"]


def test_gpu_counts_follow_the_documented_rule(datasette) -> None:  # noqa: ANN001
    [r1] = compare_json(datasette, "model=deepseek-ai/DeepSeek-R1")["models"]
    assert r1["parameter_count"] == DEEPSEEK_R1_PARAMS
    fit = r1["memory"]["gpu_fit"]
    assert (fit["seq_len"], fit["batch"], fit["usable_fraction"]) == (4096, 1, USABLE_FRACTION)
    # MLA caches kv_lora_rank + qk_rope_head_dim = 576 values per layer and token, 61 layers.
    kv_bf16 = 4096 * 61 * 576 * 2
    assert fit["total_bytes"]["bf16"] == DEEPSEEK_R1_PARAMS * 2 + kv_bf16
    h100 = next(g for g in fit["gpus"] if g["gpu"] == "NVIDIA H100 80GB")
    usable = int(80 * GIB * 0.9)
    assert h100["devices_bf16"] == ceil((DEEPSEEK_R1_PARAMS * 2 + kv_bf16) / usable) == 18
    assert h100["devices_fp8"] == ceil((DEEPSEEK_R1_PARAMS + kv_bf16 // 2) / usable) == 9
    [llama] = compare_json(datasette, "model=meta-llama/Llama-3.1-8B")["models"]
    t4 = next(g for g in llama["memory"]["gpu_fit"]["gpus"] if g["gpu"] == "NVIDIA T4")
    # 16.06 GB of bf16 weights + 0.5 GiB of cache exceed 90% of a 16 GiB T4; fp8 halves both.
    assert (t4["devices_bf16"], t4["devices_fp8"], t4["fp8_native"]) == (2, 1, False)


def test_state_space_model_has_state_and_no_kv_cache(datasette) -> None:  # noqa: ANN001
    [mamba] = compare_json(datasette, "model=ArthurZ/mamba-2.8b")["models"]
    assert mamba["memory"]["has_state"] is True
    shape = mamba["memory"]["shapes"][0]
    assert shape["kv_cache_bytes"] == 0
    # 64 layers x (conv 5,120 x 4 + SSM 5,120 x 16) values, bf16.
    assert shape["state_bytes"] == 64 * (5120 * 4 + 5120 * 16) * 2
    assert mamba["parameter_count"] == 2_768_345_600


def test_compare_resolves_aliases_any_case_and_lists_a_model_once(datasette) -> None:  # noqa: ANN001
    data = compare_json(
        datasette, "model=MISTRAL-7B&model=mistralai/mistral-7b-v0.1&model=Llama-3.1-8b"
    )
    assert [m["model_id"] for m in data["models"]] == [
        "mistralai/Mistral-7B-v0.1",
        "meta-llama/Llama-3.1-8B",
    ]
    assert compare_json(datasette, "model=mistral-7b,llama-3.2-3b")["models"][1]["model_id"] == (
        "meta-llama/Llama-3.2-3B"
    )


def test_compare_refuses_unknown_models_and_too_many(datasette) -> None:  # noqa: ANN001
    response = get(datasette, "/-/compare.json?model=meta-llama/Llama-3.1-8B&model=llama-9000")
    assert response.status_code == 404
    assert response.json()["error"].startswith("unknown model 'llama-9000'; did you mean ")
    html = get(datasette, "/-/compare?model=nothing-like-it")
    assert html.status_code == 404
    assert "unknown model &#39;nothing-like-it&#39;" in html.text
    seven = "&".join(f"model=m{i}" for i in range(7))
    too_many = get(datasette, "/-/compare.json?" + seven)
    assert too_many.status_code == 400
    assert too_many.json()["error"] == "at most 6 models can be compared at once; got 7"
    assert get(datasette, "/-/compare?" + seven).status_code == 400
    empty = get(datasette, "/-/compare.json")
    assert empty.status_code == 400
    assert empty.json()["error"].startswith("name 1 to 6 models to compare")
    form = get(datasette, "/-/compare")  # someone arriving at the page: a form, not an error
    assert form.status_code == 200
    assert 'name="model"' in form.text and 'class="genz-error"' not in form.text


def test_row_json_twin_still_works(datasette) -> None:  # noqa: ANN001
    response = get(datasette, LLAMA_ROW + ".json?_shape=array")
    assert response.status_code == 200
    [row] = response.json()
    assert row["parameter_count"] == LLAMA_PARAMS
    assert row["model_name"] == "Llama 3.1 8B"


# ------------------------------------------------------------------------------ HTML


def test_model_page_shows_human_readable_figures(datasette) -> None:  # noqa: ANN001
    response = get(datasette, LLAMA_ROW)
    assert response.status_code == 200
    html = response.text
    assert "<title>meta-llama/Llama-3.1-8B · GenZ model catalog</title>" in html
    assert 'title="8,030,261,248">8.03B</dd>' in html
    assert "14.96 GiB" in html  # bf16 weights, 16,060,522,496 bytes
    assert "16,060,522,496" in html
    assert "128.00 KiB" in html  # KV cache per token at bf16
    assert "526.96 GiB" in html  # 131,072 tokens x 32 sequences: 512 GiB of cache + weights
    assert re.search(
        r'href="https://[^"/]+/meta-llama/Llama-3.1-8B" rel="noopener">'
        r"meta-llama/Llama-3.1-8B on the Hub</a>",
        html,
    )
    assert "MMLU" in html and "66.7%" in html
    assert '<span class="genz-tag" title="name">Llama-3.1-8B</span>' in html  # alias
    assert "renamed" in html and "v1 → v2" in html
    assert '<details class="genz-config genz-config-json">' in html
    assert "LlamaForCausalLM · " in html
    # The compare links: other sizes of the family, and a form.
    assert "/-/compare?model=meta-llama%2FLlama-3.1-8B&amp;model=meta-llama%2FLlama-3.2-3B" in html
    assert 'action="/-/compare"' in html
    # No simulations of this model yet: the section says so (and how to make some).
    assert "No GenZ simulations cached for this model yet" in html


def test_model_page_url_is_case_insensitive(datasette) -> None:  # noqa: ANN001
    response = get(datasette, "/catalog/models/META-LLAMA~2Fllama-3~2E1-8b")
    assert response.status_code == 200
    assert "<h1>meta-llama/<wbr>Llama-3.1-8B</h1>" in response.text


def test_model_page_of_a_soft_deleted_model_says_so(datasette) -> None:  # noqa: ANN001
    html = get(datasette, "/catalog/models/openai-community~2Fgpt2").text
    assert "soft-deleted" in html
    assert "124M" in html  # 124,439,808 parameters, tied embeddings counted once


def test_compare_page_highlights_differences(datasette) -> None:  # noqa: ANN001
    response = get(datasette, "/-/compare?model=meta-llama/Llama-3.1-8B&model=mistral-7b")
    assert response.status_code == 200
    html = response.text
    rows = {}
    for chunk in html.split("<tr")[1:]:
        if 'scope="row">' in chunk:
            label = chunk.split('scope="row">')[1].split("<")[0].strip()
            cells = [c.split("<")[0] for c in chunk.split('<td class="num">')[1:]]
            rows[label] = ("genz-differs" in chunk.split(">")[0], cells)
    assert rows["Parameters"] == (True, ["8.03B", "7.24B"])
    assert rows["Weights bf16"] == (True, ["14.96 GiB", "13.49 GiB"])
    assert rows["Layers"] == (False, ["32", "32"])
    assert rows["Context (tokens)"] == (True, ["131,072", "32,768"])
    assert rows["Total at 131,072 tokens bf16"] == (True, ["30.96 GiB", "—"])  # beyond context
    assert rows["MMLU (5-shot)"] == (True, ["66.7%", "60.1%"])
    assert rows["NVIDIA H100 80GB"] == (False, ["1 / 1", "1 / 1"])
    # Marked in text too, not by colour alone: one mark per differing row.
    assert html.count('title="the models differ here">≠</span>') == sum(
        differs for differs, _ in rows.values()
    )
    assert (
        "/-/compare.json?model=meta-llama%2FLlama-3.1-8B&amp;model=mistralai%2FMistral-7B-v0.1"
        in html
    )


def test_version_diff_page_and_json(datasette) -> None:  # noqa: ANN001
    response = get(datasette, "/-/model-diff.json?model=llama-3.1-8b&from=1&to=2")
    assert response.status_code == 200
    assert response.json()["changes"] == [
        {"field": "model_name", "from": "Llama-3.1-8B", "to": "Llama 3.1 8B"}
    ]
    html = get(datasette, "/-/model-diff?model=meta-llama/Llama-3.1-8B&from=1&to=2").text
    assert "<code>model_name</code>" in html and "&#34;Llama 3.1 8B&#34;" in html
    missing = get(datasette, "/-/model-diff.json?model=meta-llama/Llama-3.1-8B&from=1&to=9")
    assert missing.status_code == 404
    assert missing.json()["error"] == (
        "model 'meta-llama/Llama-3.1-8B' has no version 9; versions: 1, 2"
    )
    assert get(datasette, "/-/model-diff?model=x&from=a&to=2").status_code == 404
    # A number past SQLite's integers was a 500; '1_0' and a full-width digit were read by int().
    for version in ("a", "1" + "0" * 30, "1_0", "\uff11", "-1", ""):
        bad = get(
            datasette,
            "/-/model-diff.json?model=mistral-7b&from=" + urllib.parse.quote(version) + "&to=2",
        )
        assert bad.status_code == 400, version
        assert bad.json()["error"] == "from and to must be version numbers, e.g. ?from=1&to=2"


# ------------------------------------------------------------------------------ simulations


#: The columns of the planner's ``simulations`` table (migration m009) the pages show.
SIMULATION_COLUMNS = (
    "model_id, config_hash, system, tensor_parallel, pipeline_parallel, num_devices, bits, "
    "batch_size, input_tokens, output_tokens, prefill_latency_ms, decode_latency_ms, "
    "decode_throughput_tokens_per_s, memory_per_device_bytes, genz_version, created_at"
)


def test_cached_simulations_show_on_the_model_page(catalog_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "with-simulations.db"
    shutil.copy(catalog_path, path)
    conn = sqlite3.connect(path)
    [config_hash] = conn.execute(
        "SELECT config_hash FROM models WHERE model_id = 'meta-llama/Llama-3.1-8B'"
    ).fetchone()
    insert = f"INSERT INTO simulations ({SIMULATION_COLUMNS}) VALUES (?, ?, ?, 1, 1, 1, 'bf16', 1, 2048, 128, ?, ?, ?, ?, ?, ?)"
    conn.execute(
        insert,
        [
            "meta-llama/Llama-3.1-8B",
            config_hash,
            "H100_GPU",
            123.456,
            7.25,
            137.9,
            17_000_000_000,
            "0.0.16",
            "2026-12-01T10:00:00Z",
        ],
    )
    conn.execute(
        insert,
        [
            "meta-llama/Llama-3.1-8B",
            "0ld",
            "A100_80GB_GPU",
            250.0,
            12.5,
            80.0,
            17_000_000_000,
            "0.0.16",
            "2026-11-01T10:00:00Z",
        ],
    )
    # A workload of more tokens than the model's 131,072 (stored before simulate refused it):
    # the model cannot run it, so no page shows it.
    conn.execute(
        insert.replace("1, 2048, 128,", "1, 200000, 128,"),
        [
            "meta-llama/Llama-3.1-8B",
            config_hash,
            "B200_GPU",
            999.0,
            99.5,
            10.0,
            17_000_000_000,
            "0.0.16",
            "2026-12-01T11:00:00Z",
        ],
    )
    conn.commit()
    conn.close()
    datasette = build_datasette(path)
    html = get(datasette, LLAMA_ROW).text
    assert "B200_GPU" not in html and "999.0" not in html
    assert "GenZ simulations" in html
    assert "<td>H100_GPU</td>" in html and "123.5" in html and "137.9" in html
    assert "15.83 GiB" in html  # 17,000,000,000 bytes per device
    assert html.count('class="genz-stale"') == 1  # simulated from another config
    [llama] = asyncio.run(datasette.client.get("/-/compare.json?model=llama-3.1-8b")).json()[
        "models"
    ]
    by_system = {s["system"]: s for s in llama["simulations"]}
    assert set(by_system) == {"H100_GPU", "A100_80GB_GPU"}
    assert by_system["H100_GPU"]["memory_per_device_bytes"] == 17_000_000_000
    assert by_system["H100_GPU"]["stale"] is False and by_system["A100_80GB_GPU"]["stale"] is True
    other = get(datasette, "/catalog/models/mistralai~2FMistral-7B-v0~2E1").text
    assert "No GenZ simulations cached for this model yet" in other
    # The compare page lines up the fresh results by workload; the stale one is left out.
    compare = get(datasette, "/-/compare?model=llama-3.1-8b&model=mistral-7b").text
    row = compare.split('scope="row">H100_GPU · bf16 · batch 1 · 2,048 → 128 tokens')[1]
    assert row.split("</tr>")[0].count("<td") == 2
    assert '<td class="num">137.9 tok/s, 1 device</td>' in row.split("</tr>")[0]
    assert "A100_80GB_GPU" not in compare


def test_a_model_without_memory_figures_shows_none(catalog_path: Path, tmp_path: Path) -> None:
    """No parameter count: the pages say why the memory and GPU figures are missing."""
    path = tmp_path / "no-count.db"
    shutil.copy(catalog_path, path)
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE models SET parameter_count = NULL WHERE model_id = 'meta-llama/Llama-3.2-3B'"
    )
    conn.commit()
    conn.close()
    datasette = build_datasette(path)
    html = get(datasette, "/catalog/models/meta-llama~2FLlama-3~2E2-3B").text
    assert "Not shown: the catalog has no parameter count or memory figures for it." in html
    assert "genz-gpus" not in html
    [model] = compare_json(datasette, "model=meta-llama/Llama-3.2-3B")["models"]
    assert model["memory"] == {
        "unavailable": "the catalog has no parameter count or memory figures for it"
    }
    compare = get(datasette, "/-/compare?model=meta-llama/Llama-3.2-3B&model=llama-3.1-8b").text
    weights = compare.split('scope="row">Weights bf16')[1].split("</tr>")[0]
    assert '<td class="num">—</td><td class="num">14.96 GiB</td>' in weights
