"""The deployment planner and honest figures, on real configs (tests/data/hf-configs).

Parameter totals are the ones in tests/data/truth.tsv. Every test simulates a handful of
deployments at most (each ~0.1 s once GenZ is imported).
"""

from __future__ import annotations

import json
from math import ceil
from pathlib import Path

import pytest
from click.testing import CliRunner

from genz_catalog import planner
from genz_catalog.cli import cli
from genz_catalog.errors import InvalidInputError
from genz_catalog.manager import ModelManager

CONFIGS = Path(__file__).parent / "data" / "hf-configs"
GIB = 2**30

#: A 32B dense model: Cohere Command R (08-2024), 32,296,476,672 parameters (truth.tsv),
#: tied 256,000 x 8,192 embeddings, 40 layers of 8 K/V heads of 128.
DENSE_32B = "unsloth/c4ai-command-r-08-2024"
DEEPSEEK_R1 = "deepseek-ai/DeepSeek-R1"  # 671,026,404,352 parameters (truth.tsv)
GEMMA = "google/gemma-2b-it"  # 2,506,172,416 parameters, tied 256,000 x 2,048 embeddings
GPT2 = "openai-community/gpt2"  # 124,439,808 parameters, tied 50,257 x 768 embeddings
QWEN_MOE = "MaziyarPanahi/Qwen1.5-MoE-A2.7B-Wikihow"
MISTRAL = "mistralai/Mistral-7B-v0.1"  # 7,241,732,096 parameters, 8 K/V heads of 32  # 14,315,784,192; shared expert of 5,632


def _import(manager: ModelManager, hub_id: str) -> None:
    manager.import_config_file(CONFIGS / hub_id.replace("/", "__") / "config.json", hub_id)


@pytest.fixture(scope="module")
def genz_loaded():
    import genz_catalog.genz as bridge

    return bridge


@pytest.fixture
def catalog(isolated_catalog: Path):
    with ModelManager(isolated_catalog) as manager:
        for hub_id in (DENSE_32B, DEEPSEEK_R1, GEMMA, GPT2, QWEN_MOE):
            _import(manager, hub_id)
        yield manager


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_32b_dense_model_fits_one_80gb_gpu_at_bf16(genz_loaded, catalog):
    [h100, a100] = planner.plan(
        catalog,
        DENSE_32B,
        ["A100_40GB_GPU", "H100_GPU"],
        workload=planner.Workload(batch=1, input_tokens=2048, output_tokens=256, bits="bf16"),
    )
    assert (h100["system"], h100["num_devices"], h100["tensor_parallel"]) == ("H100_GPU", 1, 1)
    assert h100["exact_weight_bytes"] == 32_296_476_672 * 2
    # K and V x 40 layers x 8 heads x 128 x 2 bytes x (2048 + 256) tokens.
    assert h100["exact_kv_cache_bytes"] == 2 * 40 * 8 * 128 * 2 * 2304
    assert h100["memory_per_device_bytes"] == 32_296_476_672 * 2 + 2 * 40 * 8 * 128 * 2 * 2304
    assert h100["memory_per_device_bytes"] <= 0.9 * 80 * GIB
    assert h100["decode_latency_ms"] > 0 and h100["prefill_latency_ms"] > 0
    # 40 GiB devices: two (tensor parallel 2), listed after the cheaper one-device plan.
    assert (a100["system"], a100["num_devices"], a100["tensor_parallel"]) == (
        "A100_40GB_GPU",
        2,
        2,
    )
    # GenZ's weights carry the tied 256,000 x 8,192 matrix twice; the cause is named.
    assert h100["genz_weight_bytes"] - h100["exact_weight_bytes"] == pytest.approx(
        256_000 * 8_192 * 2, rel=0.01
    )
    assert h100["weight_difference_pct"] == pytest.approx(6.49, abs=0.01)
    assert h100["difference_causes"] == [
        "tied embeddings counted twice: GenZ has no tied embeddings, so its LM head adds a "
        "second 256,000 x 8,192 matrix (+2.1B parameters)"
    ]


def test_deepseek_r1_needs_at_least_17_80gb_gpus_at_bf16(genz_loaded, catalog):
    [row] = planner.plan(catalog, DEEPSEEK_R1, ["H100_GPU"])
    assert row["exact_weight_bytes"] == 671_026_404_352 * 2
    # 18 devices: 9 stages of 7 layers (the last 5) at TP 2: 7/61 of the weights, halved, is
    # 71.7 GiB a device, under 90% of 80 GiB. No smaller deployment fits: two stages of 8
    # would hold 31 of 61 layers each (79.5 GiB a device), 16 stages 4 (82 GiB), and 17
    # stages of 4 layers would leave the last none.
    assert (row["tensor_parallel"], row["pipeline_parallel"], row["num_devices"]) == (2, 9, 18)
    assert row["memory_per_device_bytes"] <= 0.9 * 80 * GIB
    assert planner.memory_per_device(row["exact_weight_bytes"], 61, 8, 2) > 0.9 * 80 * GIB
    model = catalog.get_model(DEEPSEEK_R1)
    exact = planner.exact_memory(model, planner.Workload())
    smaller = [(tp, pp) for tp, pp in planner.candidate_degrees(model) if tp * pp < 18]
    assert (8, 2) in smaller and (1, 16) in smaller and (1, 17) not in smaller
    assert all(
        planner.exact_per_device(model, exact, tp, pp) > 0.9 * 80 * GIB for tp, pp in smaller
    )
    # The catalog rebuilds GenZ's config so its weights come out right: the shared expert as
    # a ninth expert every token uses, the 3 dense layers (18,432 = 9 experts) spread over all.
    assert row["genz_adjustments"] == [
        "shared experts (2,048 wide) simulated as 1 more routed expert of 2,048 that every "
        "token uses",
        "3 dense layers (18,432 wide) and 58 MoE layers (257 experts of 2,048, 9 per token) "
        "simulated as 61 layers of 245 experts, 9 per token",
    ]
    # What remains is MLA: GenZ's attention weights for one K/V head of 288 are 2.8x MLA's.
    assert row["difference_causes"] == [
        "MLA approximation: latent attention modelled as one K/V head of "
        "(kv_lora_rank + qk_rope_head_dim) / 2; KV cache right, attention weights not "
        "(+21.1B parameters)"
    ]
    assert 3.0 < row["weight_difference_pct"] < 3.6


def test_shared_expert_is_simulated_with_its_real_weights(genz_loaded, catalog):
    model = catalog.get_model(QWEN_MOE)
    adjusted, notes = genz_loaded.simulation_kwargs(model["genz_config"])
    # One shared expert of 5,632 = 4 experts of 1,408: 60 + 4 experts, 4 + 4 per token.
    assert (adjusted["num_experts"], adjusted["expert_top_k"]) == (64, 8)
    assert notes == [
        "shared experts (5,632 wide) simulated as 4 more routed experts of 1,408 that every "
        "token uses"
    ]
    [row] = planner.plan(catalog, QWEN_MOE, ["H100_GPU"])
    # Without the shared expert GenZ's weights were 6% short; now within 0.01% (GenZ drops
    # norms and biases, and its routers gain 4 rows).
    assert abs(row["weight_difference_pct"]) < 0.01
    assert row["difference_causes"] == []


@pytest.mark.parametrize(
    ("model_id", "vocab", "hidden", "pct"),
    [(GEMMA, 256_000, 2_048, 20.92), (GPT2, 50_257, 768, 30.29)],
)
def test_tied_embeddings_show_exact_and_genz_weights_with_the_cause(
    genz_loaded, catalog, model_id, vocab, hidden, pct
):
    result = invoke("simulate", model_id, "--system", "H100_GPU", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    truth = catalog.get_model(model_id)["parameter_count"]
    assert shown["exact_weight_bytes_total"] == truth * 2
    assert shown["weight_bytes_total"] > shown["exact_weight_bytes_total"]
    assert shown["weight_difference_pct"] == pytest.approx(pct, abs=0.01)
    assert shown["difference_causes"][0] == (
        "tied embeddings counted twice: GenZ has no tied embeddings, so its LM head adds a "
        f"second {vocab:,} x {hidden:,} matrix "
        f"(+{planner_signed(vocab * hidden)} parameters)"
    )
    table = invoke("simulate", model_id, "--system", "H100_GPU").output
    assert "difference_causes                tied embeddings counted twice" in table


def planner_signed(value: int) -> str:
    from genz_catalog.fidelity import _signed

    return _signed(value).lstrip("+")


def test_untied_model_is_not_said_to_be_tied(catalog):
    from genz_catalog.fidelity import tied_embeddings

    assert tied_embeddings(catalog.get_model(GEMMA)) is True
    assert tied_embeddings(catalog.get_model(DEEPSEEK_R1)) is False


def test_plan_command_json_csv_and_table(genz_loaded, catalog):
    result = invoke("plan", GEMMA, "--system", "H100_GPU", "--system", "TPUv5e", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["system"], r["num_devices"]) for r in rows] == [("H100_GPU", 1), ("TPUv5e", 1)]
    assert rows[0]["decode_throughput_tokens_per_s"] > rows[1]["decode_throughput_tokens_per_s"]
    assert (rows[0]["bits"], rows[0]["input_tokens"], rows[0]["cached"]) == ("bf16", 2048, False)
    # The second run reads the stored rows back.
    again = json.loads(invoke("plan", GEMMA, "--system", "H100_GPU", "--json").stdout)
    assert again[0]["cached"] is True
    assert again[0]["decode_latency_ms"] == rows[0]["decode_latency_ms"]
    csv_out = invoke("plan", GEMMA, "--system", "H100_GPU", "--csv").stdout.splitlines()
    assert csv_out[0].startswith("model_id,system,num_devices,tensor_parallel,")
    table = invoke("plan", GEMMA, "--system", "H100_GPU").stdout.splitlines()
    assert table[0].split()[:4] == ["system", "devices", "tp", "pp"]
    assert table[2].split()[:4] == ["H100_GPU", "1", "1", "1"]


def test_plan_on_small_devices_adds_pipeline_stages(genz_loaded, catalog):
    [row] = planner.plan(catalog, DEEPSEEK_R1, ["TPUv5e"])
    # 16 GiB devices, 90% usable: a device may hold 5 of the 61 layers' share at TP 8, so 13
    # stages (12 of 5 layers, the last of 1): 104 devices.
    assert (row["tensor_parallel"], row["pipeline_parallel"], row["num_devices"]) == (8, 13, 104)
    assert row["memory_per_device_bytes"] <= 0.9 * 16 * GIB
    assert planner.memory_per_device(row["exact_weight_bytes"], 61, 8, 12) > 0.9 * 16 * GIB
    # Beyond 104 devices: 14 and 15 stages of 5 layers would leave the last stage none, and
    # 4 x 25 holds 3 layers (15.4 GiB); the next is 61 stages of one layer at TP 2 (122
    # devices, 10.2 GiB each), before 8 x 16 (128) and 4 x 31 (124).
    assert planner.devices_needed(
        catalog.get_model(DEEPSEEK_R1),
        planner.require_system("TPUv5e"),
        planner.Workload(),
        0.9,
        more_than=104,
    ) == (2, 61)


def test_plan_errors_are_one_line(catalog):
    unknown = invoke("plan", GEMMA, "--system", "A100")
    assert unknown.exit_code == 1
    assert unknown.output.startswith("Error: unknown system 'A100'; choose one of: A100_40GB_GPU")
    missing = invoke("plan", "no-such/model")
    assert (missing.exit_code, missing.output) == (1, "Error: no model named 'no-such/model'\n")
    with pytest.raises(InvalidInputError, match="memory fraction must be in"):
        planner.plan(catalog, GEMMA, ["H100_GPU"], memory_fraction=1.5)
    assert catalog.db["simulations"].count == 0


def test_impossible_parallelism_is_refused_naming_the_degrees_that_work(catalog):
    # Command R: 64 attention heads, 40 layers. GenZ gives every pipeline stage but the last
    # ceil(40 / PP) layers: PP 14 gives 13 stages 3 layers and the last 1, PP 15 would give 14
    # stages 3 (42 > 40) and PP 9 eight stages 5, leaving the last none.
    for args, message in [
        (
            ("--tensor-parallel", "3"),
            "tensor parallel 3 does not divide its 64 attention heads (use one of 1, 2, 4, 8, "
            "16, 32, 64)",
        ),
        (("--tensor-parallel", "1000"), "tensor parallel 1000 does not divide its 64"),
        (
            ("--pipeline-parallel", "41"),
            "pipeline parallel 41 leaves a stage without a layer of its 40 (use one of 1-8, 10, "
            "14, 20, 40)",
        ),
        (("--pipeline-parallel", "15"), "pipeline parallel 15 leaves a stage without a layer"),
    ]:
        result = invoke("simulate", DENSE_32B, "--system", "H100_GPU", *args)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: {DENSE_32B}: {message}"), result.output
        assert len(result.output.strip().splitlines()) == 1
    with pytest.raises(InvalidInputError, match="pipeline parallel 64"):
        planner.simulate(catalog, GPT2, "H100_GPU", pipeline_parallel=64)
    assert catalog.db.execute("SELECT count(*) FROM simulations").fetchone()[0] == 0
    # Every pair a plan tries passes the same rule.
    for hub_id in (DENSE_32B, DEEPSEEK_R1, GEMMA, GPT2, QWEN_MOE):
        model = catalog.require_model(hub_id)
        assert all(
            planner.parallelism_problem(model, tp, pp) is None
            for tp, pp in planner.candidate_degrees(model)
        )


def test_simulate_takes_several_systems_and_refuses_system_with_all_systems(genz_loaded, catalog):
    result = invoke(
        "simulate", GPT2, "--system", "H100_GPU", "--system", "A100_40GB_GPU",
        "--system", "H100_GPU", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [row["system"] for row in json.loads(result.stdout)] == ["H100_GPU", "A100_40GB_GPU"]
    both = invoke("simulate", GPT2, "--all-systems", "--system", "H100_GPU")
    assert (both.exit_code, both.output) == (
        2,
        "Error: give --system or --all-systems, not both\n",
    )


def test_stale_rows_are_not_served_and_are_replaced(genz_loaded, catalog):
    first = planner.simulate(catalog, GPT2, "H100_GPU")
    assert first["cached"] is False
    assert planner.simulate(catalog, GPT2, "H100_GPU")["cached"] is True
    current = "SELECT count(*) FROM current_simulations"
    assert catalog.db.execute(current).fetchone()[0] == 1
    # A changed config (a new hash) makes the stored row stale: hidden, then replaced.
    config = dict(catalog.get_model(GPT2)["config"], n_positions=2048)
    catalog.add_model(GPT2, config, source="huggingface", if_exists="update")
    assert catalog.db.execute(current).fetchone()[0] == 0
    again = planner.simulate(catalog, GPT2, "H100_GPU")
    assert again["cached"] is False
    hashes = [r[0] for r in catalog.db.execute("SELECT config_hash FROM simulations")]
    assert hashes == [catalog.get_model(GPT2)["config_hash"]]
    # Rows of another GenZ version are neither read nor kept once this GenZ writes.
    catalog.db.execute("UPDATE simulations SET genz_version = '0.0.1'")
    assert planner.simulate(catalog, GPT2, "H100_GPU")["cached"] is False
    versions = [r[0] for r in catalog.db.execute("SELECT genz_version FROM simulations")]
    assert versions == [planner.genz_version()]


def test_simulate_all_systems_fills_the_table(genz_loaded, catalog):
    result = invoke("simulate", "--all-systems", GPT2, "--json", "--output-tokens", "16")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    systems = list(planner.genz_systems())
    assert [r["system"] for r in rows] == systems
    assert all((r["model_id"], r["note"], r["devices"]) == (GPT2, "", 1) for r in rows)
    assert catalog.db["simulations"].count == len(systems)
    # Several models on one system: a model that does not fit is a row saying what it needs.
    both = invoke("simulate", GPT2, DENSE_32B, "--system", "A100_40GB_GPU", "--json")
    assert both.exit_code == 0, both.output
    [small, large] = json.loads(both.stdout)
    assert (small["model_id"], small["note"]) == (GPT2, "")
    assert large["note"].startswith(
        f"{DENSE_32B} does not fit on 1 A100_40GB_GPU at bf16: its exact weights (60.16 GiB)"
    )
    assert large["devices"] == 2


def test_clear_cache_drops_stored_simulations(genz_loaded, catalog):
    planner.simulate(catalog, GPT2, "H100_GPU")
    planner.simulate(catalog, GEMMA, "H100_GPU")
    # Nothing is stale yet; then gpt2's row goes stale when another GenZ version is recorded.
    assert invoke("clear-cache", "--expired").output == "Removed 0 expired cached values\n"
    catalog.db.execute("UPDATE simulations SET genz_version = '0.0.1' WHERE model_id = ?", [GPT2])
    assert invoke("clear-cache", "--expired").output == (
        "Removed 0 expired cached values and 1 stored simulation\n"
    )
    assert invoke("clear-cache", "gemma-2b-it").output == (
        f"Removed 0 cached values and 1 stored simulation of {GEMMA}\n"
    )
    assert catalog.db["simulations"].count == 0


def test_deleting_a_model_hides_then_drops_its_simulations(genz_loaded, catalog):
    planner.simulate(catalog, GPT2, "H100_GPU")
    current = "SELECT count(*) FROM current_simulations"
    catalog.delete_model(GPT2)  # soft: the row stays, but is not current
    assert (catalog.db["simulations"].count, catalog.db.execute(current).fetchone()[0]) == (1, 0)
    catalog.delete_model(GPT2, hard=True)  # the foreign key cascades
    assert catalog.db["simulations"].count == 0


def test_when_only_genz_figure_does_not_fit_genz_is_told_the_next_deployment(genz_loaded, catalog):
    # Command R 32B with a 110,000-token prompt: exact 60.16 GiB of weights + 16.82 GiB of KV
    # cache fit one 80 GiB H100; GenZ's weights (tied embeddings twice, 64.06 GiB) do not.
    args = ["--system", "H100_GPU", "--input-tokens", "110000", "--output-tokens", "256"]
    refused = invoke("simulate", DENSE_32B, *args)
    assert refused.exit_code == 1
    assert refused.output == (
        f"Error: {DENSE_32B} does not fit on 1 H100_GPU at bf16: GenZ's own figures per "
        "tensor-parallel share (weights 64.06 GiB, KV cache 16.78 GiB) exceed 1 x 80.00 GiB; "
        "its weights in all are 64.06 GiB, the exact ones 60.16 GiB; it needs 2 devices "
        "(tensor parallel 2 x pipeline parallel 1): genz-catalog simulate "
        f"{DENSE_32B} --system H100_GPU --bits bf16 --batch 1 --input-tokens 110000 "
        "--output-tokens 256 --tensor-parallel 2 --pipeline-parallel 1\n"
    )
    workload = planner.Workload(input_tokens=110_000, output_tokens=256)
    [row] = planner.plan(catalog, DENSE_32B, ["H100_GPU"], workload=workload, memory_fraction=1)
    assert (row["num_devices"], row["tensor_parallel"]) == (2, 2)
    assert row["note"] == (
        "exact figures fit on 1 device; GenZ's own memory check (its weights and KV cache) needs 2"
    )


def test_the_deployment_a_refusal_names_is_one_genz_accepts(genz_loaded, catalog):
    # Mistral 7B, 64 x 8,448 tokens on TPUv5e (16 GiB): exact weights 13.49 GiB + KV cache (its
    # 4,096-token window) 32 GiB fit 3 devices as 3 stages (11 of 32 layers: 4.64 + 11 GiB)
    # and 4 as TP 4 (3.37 + 8 GiB each); GenZ accepts the first and refuses the second. A
    # refusal names the smallest deployment GenZ itself accepts, of any shape.
    _import(catalog, MISTRAL)
    args = ["--system", "TPUv5e", "--batch", "64", "--input-tokens", "8192"]
    workload = planner.Workload(batch=64, input_tokens=8192)
    system = planner.require_system("TPUv5e")
    assert planner.devices_needed(catalog.get_model(MISTRAL), system, workload) == (1, 3)
    refused = invoke("simulate", MISTRAL, *args, "--tensor-parallel", "4")
    assert refused.exit_code == 1
    assert refused.output.startswith(
        f"Error: {MISTRAL} does not fit on 4 TPUv5e devices at bf16: GenZ's own figures per "
        "tensor-parallel share (weights 3.37 GiB, KV cache 16.00 GiB) exceed 1 x 16.00 GiB; "
        "its weights in all are 13.49 GiB, the exact ones 13.49 GiB; it needs 3 devices "
        "(tensor parallel 1 x pipeline parallel 3): genz-catalog simulate "
    )
    first = invoke("simulate", MISTRAL, *args)
    assert first.output.startswith(
        f"Error: {MISTRAL} does not fit on 1 TPUv5e at bf16: its exact weights (13.49 GiB) and "
        "KV cache (32.00 GiB) need 45.49 GiB per device, TPUv5e has 16.00 GiB; it needs 3 "
        "devices (tensor parallel 1 x pipeline parallel 3)"
    )
    assert catalog.db["simulations"].count == 0  # trying deployments stores none of them
    suggested = refused.output.split(": genz-catalog ")[1].split()
    ran = invoke(*suggested, "--json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["devices"] == 3


def test_a_kv_head_is_whole_on_every_device_that_shares_it(genz_loaded, catalog):
    # Gemma 2B has one K/V head: however many devices share a layer, each holds that layer's
    # whole KV cache. 256 x 8,192 tokens (its whole context) x 18 layers x 256 x 2 x 2 bytes
    # = 36 GiB.
    workload = planner.Workload(batch=256, input_tokens=7936)
    model = catalog.get_model(GEMMA)
    exact = planner.exact_memory(model, workload)
    assert exact["kv_cache_bytes"] == 256 * 8_192 * 18 * 256 * 2 * 2
    assert planner.kv_shares(model, 8) == 1
    # TP 8 x PP 2: 9 of 18 layers a stage: an eighth of their weights, all of their KV cache.
    per_device = planner.exact_per_device(model, exact, 8, 2)
    assert per_device == ceil(exact["weight_bytes"] / 2 / 8) + exact["kv_cache_bytes"] // 2
    assert per_device > 16 * GIB  # over a TPUv5e, which the even split (2.56 GiB) hid
    refused = invoke(
        "simulate", GEMMA, "--system", "TPUv5e", "--batch", "256", "--input-tokens", "7936"
    )
    # Three stages hold 6 layers each: 1.56 GiB of weights and 12 GiB of KV cache a device.
    # Two devices do not do: TP 2 keeps the one head whole on both, and two stages hold
    # 18 GiB of KV cache each.
    assert "it needs 3 devices (tensor parallel 1 x pipeline parallel 3)" in refused.output
    # Eight K/V heads split eight ways; MLA's latent cache is held whole.
    assert planner.kv_shares(catalog.get_model(DENSE_32B), 8) == 8
    assert planner.kv_shares(catalog.get_model(DEEPSEEK_R1), 8) == 1


def test_export_with_cache_carries_simulations_to_another_catalog(genz_loaded, catalog, tmp_path):
    import io

    from genz_catalog.admin import export_catalog, load_catalog

    first = planner.simulate(catalog, GPT2, "H100_GPU")
    plain, full = io.StringIO(), io.StringIO()
    export_catalog(catalog.db, plain)
    export_catalog(catalog.db, full, include_cache=True)
    assert '"table": "simulations"' not in plain.getvalue()
    with ModelManager(tmp_path / "copy.db") as copy:
        load_catalog(copy.db, io.StringIO(full.getvalue()))
        again = planner.simulate(copy, GPT2, "H100_GPU")
    assert again["cached"] is True
    assert {k: again[k] for k in planner.SIMULATION_COLUMNS} == {
        k: first[k] for k in planner.SIMULATION_COLUMNS
    }


def test_genz_kv_cache_with_pipeline_stages_counts_every_sequence(genz_loaded, catalog):
    # 5 sequences on 2 stages: micro-batches of 2, 2 and 1 are all in flight. GenZ's KV figure
    # is one micro-batch's; the row scales it per sequence to the 5 (it counted 4).
    _import(catalog, MISTRAL)
    workload = planner.Workload(batch=5, input_tokens=1024, output_tokens=256)
    row = planner.simulate(catalog, MISTRAL, "H100_GPU", workload=workload, pipeline_parallel=2)
    exact = planner.exact_memory(catalog.get_model(MISTRAL), workload)
    assert exact["kv_cache_bytes"] == 5 * 1280 * 32 * 8 * 128 * 2 * 2  # 838,860,800
    assert row["genz_kv_cache_bytes"] == exact["kv_cache_bytes"]


def test_a_refusal_prints_a_command_that_runs_from_anywhere_on_another_catalog(
    genz_loaded, catalog, tmp_path, monkeypatch
):
    # A catalog other than the default one (--db): the printed command names it, absolute.
    other = tmp_path / "other.db"
    with ModelManager(other) as manager:
        _import(manager, MISTRAL)
    monkeypatch.chdir(tmp_path)
    args = ["simulate", MISTRAL, "--system", "TPUv5e", "--batch", "64", "--input-tokens", "8192"]
    refused = invoke("--db", "other.db", *args)
    assert refused.exit_code == 1
    command = refused.output.split(": genz-catalog ")[1].split()
    assert command[:3] == ["--db", str(other), "simulate"]
    monkeypatch.chdir("/")
    ran = invoke(*command, "--json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["devices"] == 3
    # The default catalog's refusals stay without it.
    _import(catalog, MISTRAL)
    assert "genz-catalog simulate" in invoke(*args).output


def test_plan_simulates_every_shape_of_the_fewest_devices_and_keeps_the_fastest(
    genz_loaded, catalog
):
    # Command R 32B at bf16 (60.2 GiB of weights) needs 2 A100 40GB: as TP 2 or as 2 stages.
    [row] = planner.plan(catalog, DENSE_32B, ["A100_40GB_GPU"])
    assert row["num_devices"] == 2 and row["note"] == ""
    tried = catalog.db.execute(
        "SELECT tensor_parallel, pipeline_parallel, decode_throughput_tokens_per_s "
        "FROM simulations WHERE model_id = ? ORDER BY tensor_parallel DESC",
        [DENSE_32B],
    ).fetchall()
    assert [(tp, pp) for tp, pp, _ in tried] == [(2, 1), (1, 2)]
    fastest = max(tried, key=lambda shape: shape[2])
    assert (row["tensor_parallel"], row["pipeline_parallel"]) == fastest[:2]
    assert row["decode_throughput_tokens_per_s"] == fastest[2]
    assert tried[0][2] != tried[1][2]


def test_a_workload_beyond_the_context_length_is_refused_and_defaults_fit_it(genz_loaded, catalog):
    # gpt2 reads at most 1,024 tokens (n_positions); Gemma 2B 8,192.
    assert catalog.get_model(GPT2)["context_length"] == 1024
    too_long = invoke(
        "simulate", GPT2, "--system", "H100_GPU", "--input-tokens", "1000", "--output-tokens", "100"
    )
    assert (too_long.exit_code, too_long.output) == (
        1,
        f"Error: {GPT2} reads at most 1,024 tokens (its context length); the workload is 1,100 "
        "(1,000 prompt + 100 generated): a prompt of at most 924 tokens fits with 100 "
        "generated\n",
    )
    # The refusal is the model's, whatever the system: once, not a row per system.
    every = invoke(
        "simulate", GPT2, "--all-systems", "--input-tokens", "1000", "--output-tokens", "100"
    )
    assert (every.exit_code, every.output) == (too_long.exit_code, too_long.output)
    with pytest.raises(planner.BeyondContextError, match="generate fewer than 1,024 tokens"):
        planner.simulate(catalog, GPT2, "H100_GPU", workload=planner.Workload(output_tokens=1024))
    # A given length that leaves no room keeps the other at its default in the message.
    no_room = invoke("simulate", GPT2, "--system", "H100_GPU", "--output-tokens", "1024")
    assert "the workload is 2,048 (1,024 prompt + 1,024 generated)" in no_room.output
    plan = invoke("plan", GPT2, "--system", "H100_GPU", "--seq", "2048")
    assert plan.exit_code == 1
    assert "the workload is 2,304 (2,048 prompt + 256 generated): a prompt of at most 768" in (
        plan.output
    )
    # plan takes simulate's name for the prompt length too.
    named = invoke("plan", GPT2, "--system", "H100_GPU", "--input-tokens", "2048")
    assert named.exit_code == 1 and "(2,048 prompt + 256 generated)" in named.output
    assert catalog.db["simulations"].count == 0
    # Lengths not given are shortened to fit, and stderr says so: the default 1,024 + 256
    # becomes 768 + 256; a 1,000-token prompt leaves 24 to generate; the library's 2,048 + 256
    # also 768 + 256.
    default = invoke("simulate", GPT2, "--system", "H100_GPU", "--json")
    assert (
        json.loads(default.stdout)["input_tokens"],
        json.loads(default.stdout)["output_tokens"],
    ) == (
        768,
        256,
    )
    assert default.stderr == (
        f"Note: {GPT2} reads at most 1,024 tokens: 768 prompt + 256 generated, not 1,024 + 256\n"
    )
    prompt = json.loads(
        invoke("simulate", GPT2, "--system", "H100_GPU", "--input-tokens", "1000", "--json").stdout
    )
    assert (prompt["input_tokens"], prompt["output_tokens"]) == (1000, 24)
    row = planner.simulate(catalog, GPT2, "A100_40GB_GPU")
    assert (row["input_tokens"], row["output_tokens"]) == (768, 256)
    [planned] = planner.plan(catalog, GPT2, ["H100_GPU"])
    assert (planned["input_tokens"], planned["output_tokens"]) == (768, 256)
    # Several models: a refused one is one row saying why, the others run; when they run
    # different lengths, the table shows them.
    both = json.loads(
        invoke(
            "simulate", GEMMA, GPT2, "--system", "H100_GPU", "--input-tokens", "4096", "--json"
        ).stdout
    )
    assert both[0]["input_tokens"] == 4096 and both[0]["note"] == ""
    assert both[1]["note"].startswith(f"{GPT2} reads at most 1,024 tokens")
    assert both[1]["system"] is None and len(both) == 2
    table = invoke("simulate", GPT2, GEMMA, "--system", "H100_GPU").stdout.splitlines()
    assert table[0].split()[:4] == ["model_id", "system", "input_tokens", "output_tokens"]
    assert table[2].split()[:4] == [GPT2, "H100_GPU", "768", "256"]
    assert table[3].split()[:4] == [GEMMA, "H100_GPU", "1024", "256"]
    # A row of a longer workload stored before (or loaded from an export) is not current.
    stored = catalog.db.execute("SELECT count(*) FROM current_simulations").fetchone()[0]
    catalog.db.execute(
        "INSERT INTO simulations (model_id, config_hash, system, tensor_parallel, "
        "pipeline_parallel, num_devices, bits, batch_size, input_tokens, output_tokens, "
        "genz_version, created_at) SELECT model_id, config_hash, system, tensor_parallel, "
        "pipeline_parallel, num_devices, bits, batch_size, 2048, output_tokens, genz_version, "
        "created_at FROM simulations WHERE model_id = ? AND system = 'A100_40GB_GPU'",
        [GPT2],
    )
    assert catalog.db.execute("SELECT count(*) FROM current_simulations").fetchone()[0] == stored
    assert catalog.db.execute("SELECT count(*) FROM simulations").fetchone()[0] == stored + 1
    # Unknown context (a state-space model, say): not judged.
    planner.require_within_context(
        {"model_id": "x", "context_length": None}, planner.Workload(input_tokens=10**6)
    )


def test_an_unknown_column_is_refused_before_anything_is_simulated(genz_loaded, catalog):
    for args in (
        ("simulate", GPT2, "--system", "H100_GPU", "-c", "bogus"),
        ("simulate", GPT2, "--all-systems", "-c", "bogus"),
        ("plan", GPT2, "--system", "TPUv4", "-c", "bogus"),
    ):
        result = invoke(*args)
        assert result.exit_code == 1
        assert result.output.startswith("Error: -c/--columns: no column 'bogus'; choose from: ")
    assert catalog.db["simulations"].count == 0
