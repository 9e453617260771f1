"""``genz-catalog simulate`` and ``compare`` through click's CliRunner, on real configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from genz_catalog.cli import cli
from genz_catalog.manager import ModelManager

CONFIGS = Path(__file__).parent / "data" / "hf-configs"


def _import(manager: ModelManager, hub_id: str) -> None:
    manager.import_config_file(CONFIGS / hub_id.replace("/", "__") / "config.json", hub_id)


@pytest.fixture
def catalog(isolated_catalog: Path):
    with ModelManager(isolated_catalog) as manager:
        for hub_id in (
            "mistralai/Mistral-7B-v0.1",
            "meta-llama/Llama-3.1-8B",
            "ai21labs/Jamba-v0.1",
        ):
            _import(manager, hub_id)
        yield manager


@pytest.fixture(scope="module")
def genz_loaded():
    import genz_catalog.genz as bridge

    return bridge


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_simulate_prints_genz_figures_and_caches_them(genz_loaded, catalog):
    args = ["simulate", "meta-llama/Llama-3.1-8B", "--system", "H100_GPU", "--json"]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    result = json.loads(first.output)
    assert result["cached"] is False
    assert (
        result["system"],
        result["batch"],
        result["input_tokens"],
        result["output_tokens"],
        result["bits"],
    ) == ("H100_GPU", 1, 1024, 256, "bf16")
    # GenZ's weights: 8,030,261,248 parameters (truth.tsv) minus 65 norms GenZ does not model.
    assert (
        result["weight_bytes_per_device"]
        == result["weight_bytes_total"]
        == (8_030_261_248 - 65 * 4096) * 2
    )
    # K and V x 32 layers x 8 heads x 128 x 2 bytes, for the prompt and every generated token.
    assert (
        result["kv_cache_bytes_per_device"]
        == result["kv_cache_bytes_total"]
        == (2 * 32 * 8 * 128 * 2 * (1024 + 256))
    )
    assert result["end_to_end_latency_ms"] == pytest.approx(
        result["prefill_latency_ms"] + 256 * result["decode_latency_ms_per_token"]
    )
    # The exact figures beside GenZ's: every parameter (GenZ drops the norms: -0.003%).
    assert result["exact_weight_bytes_total"] == 8_030_261_248 * 2
    assert result["exact_kv_cache_bytes_total"] == 2 * 32 * 8 * 128 * 2 * (1024 + 256)
    assert (result["weight_difference_pct"], result["difference_causes"]) == (-0.0, [])
    again = json.loads(invoke(*args).output)
    assert again == {**result, "cached": True}
    # Stored as a row of the simulations table, tied to the model's config hash.
    [row] = list(catalog.db.query("SELECT * FROM simulations"))
    assert (row["model_id"], row["system"], row["num_devices"], row["config_hash"]) == (
        "meta-llama/Llama-3.1-8B",
        "H100_GPU",
        1,
        catalog.get_model("meta-llama/Llama-3.1-8B")["config_hash"],
    )
    assert catalog.cache_entries("meta-llama/Llama-3.1-8B") == []
    # Another argument is another row.
    assert json.loads(invoke(*args, "--batch", "2").output)["cached"] is False
    assert catalog.db["simulations"].count == 2


def test_simulate_table_output(genz_loaded, catalog):
    result = invoke("simulate", "mistral-7b-v0.1", "--output-tokens", "0")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["field", "value"]
    assert "model_id                         mistralai/Mistral-7B-v0.1" in lines
    assert "weight_bytes_per_device          13.49 GiB" in lines
    assert "weight_bytes_total               13.49 GiB" in lines
    assert "cached                           False" in lines


MIXTRAL = "mistralai/Mixtral-8x7B-v0.1"
#: Mixtral-8x7B-v0.1 in bf16 as GenZ sees it: 46,702,792,704 parameters (truth.tsv) minus 65
#: norms GenZ does not model, 2 bytes each.
MIXTRAL_WEIGHT_BYTES = (46_702_792_704 - 65 * 4096) * 2


def test_simulate_memory_is_labelled_per_device_and_in_total(genz_loaded, catalog):
    _import(catalog, MIXTRAL)
    table = invoke("simulate", MIXTRAL, "--system", "H100_GPU", "--tensor-parallel", "4")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    for line in (
        "devices                          4",
        "weight_bytes_per_device          21.75 GiB",
        "weight_bytes_total               86.99 GiB",
        "kv_cache_bytes_per_device        40.00 MiB",
        "kv_cache_bytes_total             160.00 MiB",
    ):
        assert line in lines
    # Pipeline stages split the layers: each of 2 x 2 devices holds a quarter, the total stays.
    split = json.loads(
        invoke(
            "simulate",
            MIXTRAL,
            "--system",
            "H100_GPU",
            "--tensor-parallel",
            "2",
            "--pipeline-parallel",
            "2",
            "--batch",
            "2",
            "--json",
        ).output
    )
    assert (split["devices"], split["weight_bytes_total"], split["weight_bytes_per_device"]) == (
        4,
        MIXTRAL_WEIGHT_BYTES,
        MIXTRAL_WEIGHT_BYTES // 4,
    )
    # K and V x 32 layers x 8 heads x 128 x 2 bytes x (1024 + 256) tokens x batch 2.
    assert split["kv_cache_bytes_total"] == 2 * 32 * 8 * 128 * 2 * 1280 * 2
    assert split["kv_cache_bytes_per_device"] == split["kv_cache_bytes_total"] // 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["simulate", "mistralai/Mistral-7B-v0.1", "--system", "A100"],
            "Error: unknown system 'A100'; choose one of: A100_40GB_GPU, A100_80GB_GPU, H100_GPU, "
            "GH200_GPU, B100, GB200, TPUv6, TPUv5e, TPUv5p, TPUv4, MI300X, MI325X, Gaudi3",
        ),
        (
            ["simulate", "ai21labs/Jamba-v0.1"],
            "Error: GenZ cannot simulate ai21labs/Jamba-v0.1: GenZ 0.0.16 cannot simulate hybrid "
            "Mamba/attention stacks: its model builder raises 'More then 1 unique layers not "
            "supported' for attention every 8 and MoE every 2 layers",
        ),
        (["simulate", "no-such/model"], "Error: no model named 'no-such/model'"),
    ],
)
def test_simulate_errors_are_one_line(catalog, args, message):
    result = invoke(*args)
    assert result.exit_code == 1
    assert result.output == message + "\n"
    assert catalog.db["simulations"].count == 0


def test_simulate_that_does_not_fit_names_the_devices_it_needs(genz_loaded, catalog):
    result = invoke(
        "simulate", "meta-llama/Llama-3.1-8B", "--batch", "64", "--input-tokens", "32768"
    )
    assert result.exit_code == 1
    # Exact: 8,030,261,248 x 2 bytes of weights; 64 x (32768 + 256) tokens x 131,072 bytes of
    # KV cache = 258 GiB; 8 A100s of 40 GiB hold 34.1 GiB each.
    assert result.output == (
        "Error: meta-llama/Llama-3.1-8B does not fit on 1 A100_40GB_GPU at bf16: its exact "
        "weights (14.96 GiB) and KV cache (258.00 GiB) need 272.96 GiB per device, "
        "A100_40GB_GPU has 40.00 GiB; it needs 8 devices (tensor parallel 8 x pipeline "
        "parallel 1): genz-catalog simulate meta-llama/Llama-3.1-8B --system A100_40GB_GPU "
        "--bits bf16 --batch 64 --input-tokens 32768 --output-tokens 256 --tensor-parallel 8 "
        "--pipeline-parallel 1\n"
    )
    assert catalog.db["simulations"].count == 0
    # The suggested command runs.
    suggested = result.output.split(": genz-catalog ")[1].split()
    ran = invoke(*suggested, "--json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["devices"] == 8


def test_compare_side_by_side(catalog):
    catalog.add_quality_metric("meta-llama/Llama-3.1-8B", "MMLU", 66.7, shots=5)
    result = invoke(
        "compare", "mistralai/Mistral-7B-v0.1", "meta-llama/Llama-3.1-8B", "--seq", "8192"
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "                       mistralai/Mistral-7B-v0.1    meta-llama/Llama-3.1-8B",
        "---------------------  ---------------------------  -------------------------",
        "parameters             7.24B                        8.03B",
        "active parameters      7.24B                        8.03B",
        "layers                 32                           32",
        "hidden size            4096                         4096",
        "attention heads        32                           32",
        "kv heads               8                            8",
        "attention type         gqa                          gqa",
        "context length         32768                        131072",
        "weights bf16           13.49 GiB                    14.96 GiB",
        "kv cache bf16 seq8192  512.00 MiB                   1.00 GiB",
        "MMLU (5-shot) %                                     66.7",
    ]


def test_compare_json_carries_raw_values(catalog):
    result = invoke(
        "compare",
        "Mistral-7B-v0.1",
        "ai21labs/Jamba-v0.1",
        "--dtype",
        "int8",
        "--seq",
        "4096",
        "--json",
    )
    assert result.exit_code == 0, result.output
    mistral, jamba = json.loads(result.output)
    assert mistral["parameters"] == 7_241_732_096
    assert mistral["weights_int8"] == 7_241_732_096
    # Sliding window 4096: 32 layers x 8 KV heads x 128 x (K and V) x 4096 tokens x 1 byte.
    assert mistral["kv_cache_int8_seq4096"] == 32 * 8 * 128 * 2 * 4096
    assert jamba["parameters"] == 51_570_323_328
    assert jamba["attention_type"] == "gqa"


def test_compare_unknown_model_is_one_line_error(catalog):
    result = invoke("compare", "mistralai/Mistral-7B-v0.1", "nope/nothing")
    assert result.exit_code == 1
    assert result.output == "Error: no model named 'nope/nothing'\n"
