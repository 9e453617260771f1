"""GenZ bridge: GenZ's own API finds catalog models; static sync; freshness across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from genz_catalog.manager import ModelManager

TESTS_DIR = Path(__file__).parent
CONFIGS = TESTS_DIR / "data" / "hf-configs"
MISTRAL_ID = "mistralai/Mistral-7B-v0.1"
MISTRAL_CONFIG = CONFIGS / "mistralai__Mistral-7B-v0.1" / "config.json"
#: Mistral-7B-v0.1 without its 65 RMSNorm vectors (GenZ simulates no norms): 7,241,732,096
#: (truth.tsv) - 65 * 4096.
MISTRAL_PARAMS_AS_GENZ_SEES = 7_241_732_096 - 65 * 4096
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def genz():
    """The bridge module (imports GenZ once per test module, ~2 s)."""
    import genz_catalog.genz as bridge

    bridge.enable()
    return bridge


@pytest.fixture(autouse=True)
def follow_test_catalog(genz, isolated_catalog: Path):
    """Each test points $GENZ_CATALOG_DB at a new file; a loader re-reads the variable at its
    next freshness check (within 50 ms), ``refresh()`` makes that immediate."""
    genz.MODEL_DICT.refresh()


@pytest.fixture
def catalog(isolated_catalog: Path):
    with ModelManager(isolated_catalog) as manager:
        yield manager


def _run(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


# ---------------------------------------------------------------------------- GenZ finds models


def test_genz_runs_prefill_decode_and_chunked_on_a_catalog_only_model(genz, catalog):
    import GenZ
    from GenZ import chunked_moddeling, decode_moddeling, prefill_moddeling

    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    assert genz.MODEL_DICT.get_static_model(MISTRAL_ID) is None  # only in the catalog
    # The very object GenZ's get_configs imported by name is the dynamic one.
    assert GenZ.Models.get_language_model.MODEL_DICT is genz.MODEL_DICT
    assert isinstance(GenZ.Models.MODEL_DICT, genz.CatalogModelCollection)

    config = GenZ.Models.get_configs(MISTRAL_ID)
    assert (config.model, config.num_decoder_layers, config.num_key_value_heads) == (
        MISTRAL_ID,
        32,
        8,
    )
    prefill = prefill_moddeling(
        model=MISTRAL_ID, batch_size=1, input_tokens=1024, system_name="A100_40GB_GPU"
    )
    weights_mib = prefill["summary_table"]["Total Weights (MB)"].values[0]
    assert weights_mib == pytest.approx(MISTRAL_PARAMS_AS_GENZ_SEES * 2 / MIB, rel=1e-3)
    assert prefill["Latency"] > 0
    decode = decode_moddeling(
        model=MISTRAL_ID,
        batch_size=1,
        input_tokens=1024,
        output_tokens=128,
        system_name="A100_40GB_GPU",
    )
    assert 0 < decode["Latency"] < prefill["Latency"]
    chunked = chunked_moddeling(
        model=MISTRAL_ID,
        prefill_kv_sizes=[(0, 512)],
        decode_kv_sizes=[600, 601],
        system_name="A100_40GB_GPU",
    )
    assert chunked["Latency"] > 0


def test_disable_gives_genz_back_its_static_dict_and_enable_is_idempotent(genz, catalog):
    import GenZ

    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    genz.disable()
    try:
        with pytest.raises(ValueError, match="model name parsed incorrect"):
            GenZ.Models.get_configs(MISTRAL_ID)
    finally:
        first = genz.enable()
    assert genz.enable() is first is GenZ.Models.MODEL_DICT
    assert GenZ.Models.get_configs(MISTRAL_ID).model == MISTRAL_ID


def test_lookup_is_case_insensitive_through_ids_and_aliases(genz, catalog):
    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    for name in ("MISTRALAI/mistral-7b-v0.1", "Mistral-7B-v0.1", "mistral-7b-V0.1"):
        assert genz.MODEL_DICT.get_model(name).model == MISTRAL_ID
    assert genz.MODEL_DICT.get_model("LLAMA3_8B").model == "meta-llama/Llama-3.1-8B"  # static


def test_soft_deleted_models_are_not_offered_and_return_when_undeleted(genz, catalog):
    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    assert genz.MODEL_DICT.get_model(MISTRAL_ID) is not None
    catalog.delete_model(MISTRAL_ID)
    genz.MODEL_DICT.refresh()
    assert genz.MODEL_DICT.get_model(MISTRAL_ID) is None
    catalog.undelete_model(MISTRAL_ID)
    genz.MODEL_DICT.refresh()
    assert genz.MODEL_DICT.get_model(MISTRAL_ID).model == MISTRAL_ID


def test_no_catalog_file_means_no_catalog_models_and_nothing_created(genz, isolated_catalog):
    assert genz.MODEL_DICT.get_model(MISTRAL_ID) is None
    assert genz.MODEL_DICT.get_model("mistral_7b").model == "mistralai/Mistral-7B"
    assert not isolated_catalog.exists()


def test_catalog_quality_metrics_reach_genz(genz, catalog):
    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    catalog.add_quality_metric(MISTRAL_ID, "MMLU", 60.1, shots=5)
    genz.MODEL_DICT.refresh()
    [metric] = genz.MODEL_DICT.get_model(MISTRAL_ID).model_quality.metrics
    assert (type(metric).__name__, metric.accuracy, metric.shots) == ("MMLU", 60.1, 5)


def test_did_you_mean_lists_catalog_models(genz, catalog, capsys):
    import GenZ

    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    assert MISTRAL_ID in genz.MODEL_DICT.list_models()
    with pytest.raises(ValueError, match="model name parsed incorrect"):
        GenZ.Models.get_configs("mistralai/Mistral-7B-v0.9")
    assert f" - {MISTRAL_ID.lower()}" in capsys.readouterr().out.lower()


# ---------------------------------------------------------------------------- other processes


def test_a_fresh_process_simulates_a_catalog_model_by_name(genz, catalog, isolated_catalog):
    from GenZ import prefill_moddeling

    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    here = prefill_moddeling(model=MISTRAL_ID, input_tokens=512)["Latency"]
    result = _run(
        f"""
        import genz_catalog.genz
        from GenZ import prefill_moddeling
        print(prefill_moddeling(model={MISTRAL_ID.lower()!r}, input_tokens=512)["Latency"])
        """,
        {"GENZ_CATALOG_DB": str(isolated_catalog)},
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip().splitlines()[-1]) == pytest.approx(here, rel=1e-9)


def test_a_change_by_another_process_is_seen_without_restart(genz, isolated_catalog):
    with ModelManager(isolated_catalog):
        pass  # the file exists, empty
    assert genz.MODEL_DICT.get_model(MISTRAL_ID) is None
    cli = [sys.executable, "-m", "genz_catalog", "--db", str(isolated_catalog)]
    imported = subprocess.run(
        [*cli, "import", str(MISTRAL_CONFIG), "--id", MISTRAL_ID],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert genz.MODEL_DICT.get_model(MISTRAL_ID).model == MISTRAL_ID  # a miss re-checks at once
    deleted = subprocess.run(
        [*cli, "delete", MISTRAL_ID], capture_output=True, text=True, timeout=120, check=False
    )
    assert deleted.returncode == 0, deleted.stderr
    time.sleep(genz.REFRESH_INTERVAL_S * 2)  # a cached hit is trusted for at most this long
    assert genz.MODEL_DICT.get_model(MISTRAL_ID) is None


def test_list_show_and_stats_do_not_import_genz(catalog):
    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    result = _run(
        """
        import sys
        import genz_catalog, genz_catalog.cli
        from click.testing import CliRunner
        runner = CliRunner()
        for args in (["list"], ["show", "mistralai/Mistral-7B-v0.1"], ["stats"],
                     ["compare", "mistralai/Mistral-7B-v0.1"]):
            outcome = runner.invoke(genz_catalog.cli.cli, args)
            assert outcome.exit_code == 0, (args, outcome.output)
            assert "Mistral" in outcome.output or args == ["stats"], outcome.output
        print(sorted(m for m in sys.modules if m == "GenZ" or m.startswith("GenZ.")))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- static sync


@pytest.fixture
def synced(genz, catalog):
    summary = genz.sync_static_models(catalog)
    return catalog, summary


def test_static_sync_brings_every_genz_model_exactly(genz, synced):
    catalog, summary = synced
    static = genz.static_models()
    assert len(static) == 82
    assert summary == {
        "imported": 82,
        "updated": 0,
        "unchanged": 0,
        "merged": [],
        "linked": [],
        "metrics": 151,
        "total": 82,
    }
    for config, aliases in static:
        row = catalog.get_model(config.model)
        assert row["source"] == "genz-static"
        rebuilt = genz.genz_kwargs_to_config(row["genz_config"])
        expected, actual = genz.config_vars(config), genz.config_vars(rebuilt)
        assert list(actual) == list(expected)
        for field, value in expected.items():
            assert (type(actual[field]), actual[field]) == (type(value), value), (
                config.model,
                field,
            )
        for alias in aliases:  # every GenZ key finds the same model in the catalog
            assert catalog.get_model(alias)["model_id"] == config.model, alias


def test_static_sync_keeps_quality_metrics_in_percent_and_links_hub_ids(synced):
    catalog, _ = synced
    metrics = {
        (m["metric_name"], m["shots"]): (m["metric_value"], m["unit"])
        for m in catalog.get_quality_metrics("llama3_8b")
    }
    assert metrics[("MMLU", 5)] == (69.4, "percent")
    assert metrics[("GSM8K", 8)] == (84.5, "percent")
    assert catalog.get_model("mistralai/Mistral-7B")["hub_id"] == MISTRAL_ID
    assert catalog.get_model("meta-llama/Llama-3.1-8B")["hub_id"] == "meta-llama/Llama-3.1-8B"
    assert catalog.get_model("openai/GPT-4")["hub_id"] is None


def test_static_sync_is_idempotent(genz, synced):
    catalog, _ = synced

    def state():
        return [
            list(map(tuple, catalog.db.execute(sql).fetchall()))
            for sql in (
                "SELECT model_id, current_version, updated_at FROM models ORDER BY 1",
                "SELECT count(*) FROM model_versions",
                "SELECT alias, model_id FROM model_aliases ORDER BY 1",
                "SELECT model_id, metric_name, shots, metric_value, updated_at "
                "FROM model_quality_metrics ORDER BY 1, 2, 3",
            )
        ]

    before = state()
    again = genz.sync_static_models(catalog)
    assert (again["unchanged"], again["imported"], again["updated"], again["metrics"]) == (
        82,
        0,
        0,
        0,
    )
    assert state() == before


def test_genz_and_hub_ids_are_both_found_after_sync_and_import(genz, synced):
    catalog, _ = synced
    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    static = genz.MODEL_DICT.get_model("mistralai/Mistral-7B")
    assert static is genz.MODEL_DICT.get_static_model("mistral_7b")
    assert static.sliding_window is None
    assert genz.MODEL_DICT.get_model(MISTRAL_ID).sliding_window == 4096  # the real v0.1 config
    # The catalog's own copy of a GenZ model equals GenZ's.
    assert genz.config_vars(genz.MODEL_DICT.get_catalog_model("mistral_7b")) == genz.config_vars(
        static
    )


LLAMA_ID = "meta-llama/Llama-3.1-8B"
LLAMA_CONFIG = CONFIGS / "meta-llama__Llama-3.1-8B" / "config.json"


def _sync_line(**figures: int) -> str:
    return (
        "GenZ static models: 82 seen, {imported} imported, {updated} updated, {unchanged} "
        "unchanged, {merged} merged into a model from another source, {metrics} metric values "
        "written\n"
    ).format(**figures)


def _catalog_state(catalog: ModelManager) -> list:
    return [
        list(map(tuple, catalog.db.execute(sql).fetchall()))
        for sql in (
            "SELECT model_id, current_version, updated_at, config_hash FROM models ORDER BY 1",
            "SELECT count(*) FROM model_versions",
            "SELECT alias, model_id FROM model_aliases ORDER BY 1",
            "SELECT model_id, metric_name, shots, metric_value, updated_at "
            "FROM model_quality_metrics ORDER BY 1, 2, 3",
        )
    ]


def test_static_sync_merges_genz_names_and_metrics_into_a_model_from_another_source(genz, catalog):
    from click.testing import CliRunner

    from genz_catalog.cli import cli

    catalog.import_config_file(LLAMA_CONFIG, LLAMA_ID)
    real = catalog.get_model(LLAMA_ID)
    first = CliRunner().invoke(cli, ["sync", "--static"])
    assert (first.exit_code, first.stdout) == (
        0,
        _sync_line(imported=81, updated=0, unchanged=0, merged=1, metrics=151),
    )
    merged = catalog.get_model(LLAMA_ID)
    # The real config stays; GenZ's names and metrics are added to it.
    assert (merged["source"], merged["current_version"], merged["config_hash"]) == (
        "local",
        1,
        real["config_hash"],
    )
    assert merged["aliases"] == ["Llama-3.1-8B", "llama3_8b", "meta-llama/meta-llama-3.1-8b"]
    assert catalog.get_model("llama3_8b")["model_id"] == LLAMA_ID
    metrics = {
        (m["metric_name"], m["shots"]): (m["metric_value"], m["unit"], m["source"])
        for m in catalog.get_quality_metrics(LLAMA_ID)
    }
    assert metrics[("MMLU", 5)] == (69.4, "percent", "genz-static")
    assert len(metrics) == 5
    # GenZ finds the catalog's (real) model under GenZ's short name.
    assert genz.MODEL_DICT.get_catalog_model("llama3_8b").model == LLAMA_ID
    before = _catalog_state(catalog)
    again = CliRunner().invoke(cli, ["sync", "--static"])
    assert (again.exit_code, again.stdout) == (
        0,
        _sync_line(imported=0, updated=0, unchanged=81, merged=1, metrics=0),
    )
    assert _catalog_state(catalog) == before


def test_static_sync_links_a_genz_model_to_the_real_checkpoint_and_shares_its_metrics(
    genz, catalog
):
    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    catalog.add_quality_metric(MISTRAL_ID, "MMLU", 64.2, source="paper")
    summary = genz.sync_static_models(catalog)
    assert (summary["imported"], summary["merged"], summary["linked"]) == (82, [], [MISTRAL_ID])
    # Both rows kept: GenZ's approximation (its config, its names), linked by hub_id.
    genz_row = catalog.get_model("mistral_7b")
    assert (genz_row["model_id"], genz_row["source"], genz_row["hub_id"]) == (
        "mistralai/Mistral-7B",
        "genz-static",
        MISTRAL_ID,
    )
    assert catalog.get_model(MISTRAL_ID)["source"] == "local"
    # GenZ's metrics also reach the real model; a value from another source is kept.
    metrics = {
        (m["metric_name"], m["shots"]): (m["metric_value"], m["source"])
        for m in catalog.get_quality_metrics(MISTRAL_ID)
    }
    assert metrics == {
        ("GSM8K", None): (50.0, "genz-static"),
        ("Hellaswag", None): (81.0, "genz-static"),
        ("MATH", None): (12.7, "genz-static"),
        ("MMLU", None): (64.2, "paper"),
        ("TriviaQA", None): (62.5, "genz-static"),
    }
    before = _catalog_state(catalog)
    again = genz.sync_static_models(catalog)
    assert (again["unchanged"], again["metrics"], again["linked"]) == (82, 0, [MISTRAL_ID])
    assert _catalog_state(catalog) == before


def test_default_catalog_carries_genz_metrics_and_aliases_to_bundled_models(genz, tmp_path):
    from genz_catalog.default_catalog import build_default_catalog

    with ModelManager(tmp_path / "default.db") as manager:
        report = build_default_catalog(manager)
        assert report.genz_static == 82
        mmlu = {
            model_id: [
                (m["metric_value"], m["shots"], m["source"])
                for m in manager.get_quality_metrics(model_id)
                if m["metric_name"] == "MMLU"
            ]
            for model_id in (
                LLAMA_ID,
                "mistralai/Mixtral-8x7B-v0.1",
                "google/gemma-2b-it",
                "mistralai/Mistral-7B-v0.1",
            )
        }
        assert mmlu == {
            LLAMA_ID: [(69.4, 5, "genz-static")],
            "mistralai/Mixtral-8x7B-v0.1": [(70.6, None, "genz-static")],
            "google/gemma-2b-it": [(42.3, 5, "genz-static")],
            "mistralai/Mistral-7B-v0.1": [(62.5, None, "genz-static")],
        }
        owners = {
            alias: manager.get_model(alias)
            for alias in (
                "falcon7b",
                "llama3_8b",
                "meta-llama/meta-llama-3.1-8b",
                "opt_125m",
                "mixtral_8x7b",
            )
        }
        assert {alias: (m["model_id"], m["source"]) for alias, m in owners.items()} == {
            "falcon7b": ("tiiuae/falcon-7b-instruct", "huggingface"),
            "llama3_8b": (LLAMA_ID, "huggingface"),
            "meta-llama/meta-llama-3.1-8b": (LLAMA_ID, "huggingface"),
            "opt_125m": ("facebook/opt-125m", "huggingface"),
            "mixtral_8x7b": ("mistralai/Mixtral-8x7B", "genz-static"),
        }


# ---------------------------------------------------------------------------- auto-import


def test_auto_import_through_the_hub_stand_in(genz, isolated_catalog, monkeypatch):
    from hub_server import running_hub

    with running_hub() as hub:
        hub.add_real_model(MISTRAL_ID)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        genz.enable(auto_import=False)
        assert genz.MODEL_DICT.get_model(MISTRAL_ID) is None
        assert hub.requests_for(MISTRAL_ID) == []
        genz.enable(auto_import=True)
        try:
            config = genz.MODEL_DICT.get_model(MISTRAL_ID)
            assert (config.model.lower(), config.num_decoder_layers) == (MISTRAL_ID.lower(), 32)
            assert ModelManager(isolated_catalog).get_model(MISTRAL_ID)["source"] == "huggingface"
            # A name the Hub does not know is asked for once, then remembered as a miss.
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                assert genz.MODEL_DICT.get_model("nobody/no-such-model") is None
                asked = len(hub.requests_for("nobody/no-such-model"))
                assert asked >= 1
                for _ in range(5):
                    assert genz.MODEL_DICT.get_model("nobody/no-such-model") is None
            assert len(hub.requests_for("nobody/no-such-model")) == asked
            assert genz.MODEL_DICT.get_model("not a hub id") is None  # never sent to the Hub
        finally:
            genz.enable(auto_import=False)


def test_auto_import_follows_the_environment_variable(genz, monkeypatch):
    genz.MODEL_DICT._catalog_auto_import = None
    monkeypatch.setenv("GENZ_CATALOG_AUTO_IMPORT", "1")
    assert genz.MODEL_DICT.auto_import is True
    monkeypatch.setenv("GENZ_CATALOG_AUTO_IMPORT", "0")
    assert genz.MODEL_DICT.auto_import is False


def test_importing_genz_catalog_does_not_import_genz():
    result = _run("import sys, genz_catalog, genz_catalog.cli; print('GenZ' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_genz_kwargs_round_trip_through_json(genz):
    config = genz.MODEL_DICT.get_static_model("meta-llama/Llama-3.1-405B")
    kwargs = json.loads(json.dumps(genz.static_genz_kwargs(config)))
    assert kwargs["intermediate_size"] == 53248.0  # GenZ writes 3.25 * 16384, a float
    assert genz.config_vars(genz.genz_kwargs_to_config(kwargs)) == genz.config_vars(config)


# ------------------------------------------------------------------ GenZ's collection, as its users use it


def test_an_entry_replaced_in_place_is_what_genz_finds(genz):
    # GenZ users swap a definition for a variant; the size of the dict does not change.
    original = genz.MODEL_DICT.models["gpt-2"]
    variant = genz.ModelConfig(**{**genz.config_vars(original), "num_decoder_layers": 6})
    try:
        genz.MODEL_DICT.models["gpt-2"] = variant
        assert genz.MODEL_DICT.get_model("GPT-2").num_decoder_layers == 6
        del genz.MODEL_DICT.models["gpt-2"]
        assert genz.MODEL_DICT.get_static_model("gpt-2") is None
        genz.MODEL_DICT.models.update({"gpt-2": original})
        assert genz.MODEL_DICT.get_model("gpt-2") is original
        # A whole new dict works too.
        genz.MODEL_DICT.models = {**genz.MODEL_DICT.models, "gpt-2": variant}
        assert genz.MODEL_DICT.get_model("gpt-2").num_decoder_layers == 6
    finally:
        genz.MODEL_DICT.models["gpt-2"] = original
    assert genz.MODEL_DICT.get_model("gpt-2") is original


def test_a_catalog_model_pickles_and_deep_copies_with_its_metrics(genz, catalog):
    import copy
    import pickle

    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    catalog.add_quality_metric(MISTRAL_ID, "MMLU", 60.1, shots=5)
    config = genz.MODEL_DICT.get_model(MISTRAL_ID)
    for twin in (pickle.loads(pickle.dumps(config)), copy.deepcopy(config), copy.copy(config)):
        assert type(twin) is type(config)
        assert twin.num_decoder_layers == 32 and twin.num_key_value_heads == 8
        (metric,) = twin.model_quality.metrics
        assert (metric.accuracy, metric.shots) == (60.1, 5)
    # The original still loads its metrics lazily, and is unchanged by the copies.
    assert genz.MODEL_DICT.get_model(MISTRAL_ID).model_quality.metrics[0].accuracy == 60.1


def test_a_renamed_config_still_reads_its_catalog_metrics(genz, catalog):
    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    catalog.add_quality_metric(MISTRAL_ID, "MMLU", 60.1, shots=5)
    config = genz.MODEL_DICT.get_model(MISTRAL_ID)
    # GenZ users relabel configs for their plots; the metrics belong to the catalog model.
    config.model = "my-mistral"
    (metric,) = config.model_quality.metrics
    assert (metric.accuracy, metric.shots) == (60.1, 5)
    # The lazy source is the loader itself, not a closure per model.
    assert not any(callable(value) for value in vars(config).values())


def test_a_catalog_model_goes_to_a_process_pool(genz, catalog):
    import multiprocessing

    catalog.import_config_file(MISTRAL_CONFIG, MISTRAL_ID)
    config = genz.MODEL_DICT.get_model(MISTRAL_ID)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_layers_of, (config,)) == 32


def _layers_of(config) -> int:  # noqa: ANN001 - a GenZ ModelConfig, in a pool worker
    return config.num_decoder_layers


JAMBA_CONFIG = CONFIGS / "ai21labs__Jamba-v0.1" / "config.json"


def _public_state(config) -> dict:  # noqa: ANN001 - a GenZ ModelConfig
    return {k: v for k, v in vars(config).items() if not k.startswith("_")}


def test_models_sharing_one_config_each_get_their_own_genz_config(genz, catalog):
    # Two fine-tunes with their base's config share one stored GenZ document: the second is a
    # copy of the first's config under its own id, equal to what GenZ builds from the kwargs.
    from GenZ.Models.default_models import ModelConfig

    from genz_catalog.genz.reader import CatalogModelConfig

    ids = ("org-a/jamba-ft-one", "org-b/jamba-ft-two")
    for model_id in ids:
        catalog.import_config_file(JAMBA_CONFIG, model_id)
    docs = {r[0] for r in catalog.db.execute("SELECT genz_doc FROM models").fetchall()}
    assert len(docs) == 1
    first, second = (genz.MODEL_DICT.get_model(model_id) for model_id in ids)
    for model_id, config in zip(ids, (first, second), strict=True):
        kwargs = catalog.get_model(model_id)["genz_config"]
        assert kwargs["model"] == model_id
        assert _public_state(config) == _public_state(CatalogModelConfig(**kwargs))
        assert config.model_quality is None  # no metrics; GenZ's own attribute
        assert {**_public_state(config), "model_quality": None} == vars(ModelConfig(**kwargs))
    # Jamba alternates dense and MoE layers: GenZ's layer_type is a list of 8 lists.
    assert first.layer_type == second.layer_type and len(first.layer_type) == 8
    assert {layer[1] for layer in first.layer_type} == {"Dense", "MoE"}
    # Changing one model's config in place never reaches another model's.
    first.layer_type[0][0] = "changed"
    first.layer_type.append(["MHA-global", "Dense"])
    first.num_decoder_layers = 1
    assert second.layer_type[0][0] == "Mamba" and len(second.layer_type) == 8
    assert second.num_decoder_layers == 32
    genz.MODEL_DICT.refresh()
    again = genz.MODEL_DICT.get_model(ids[0])
    assert again.layer_type[0][0] == "Mamba" and again.num_decoder_layers == 32


def test_a_shared_config_genz_rejects_is_reported_for_each_model(genz, catalog):
    ids = ("org-a/mistral-ft-one", "org-b/mistral-ft-two")
    for model_id in ids:
        catalog.import_config_file(MISTRAL_CONFIG, model_id)
    # A hand-edited file: the shared arguments now ask for 4 experts every second layer of 31.
    [doc] = {r[0] for r in catalog.db.execute("SELECT genz_doc FROM models").fetchall()}
    body = json.loads(
        catalog.db.execute("SELECT body FROM documents WHERE id = ?", [doc]).fetchone()[0]
    )
    body.update(num_decoder_layers=31, num_experts=4, expert_layer_period=2)
    with catalog.db.conn:
        catalog.db.execute("UPDATE documents SET body = ? WHERE id = ?", [json.dumps(body), doc])
    genz.MODEL_DICT.refresh()
    for model_id in ids:
        assert genz.MODEL_DICT.get_model(model_id) is None
        assert genz.MODEL_DICT.unusable_reason(model_id) == (
            f"GenZ rejects the configuration of {model_id!r}: "
            "Number of decoder layers must be divisible by the unique layers"
        )


def test_a_lookup_parses_a_genz_document_once_for_every_model_sharing_it(catalog, monkeypatch):
    from genz_catalog.genz import reader

    config = json.loads(MISTRAL_CONFIG.read_text())
    list(
        catalog.add_models(
            [
                {"model_id": f"tuner{i}/mistral-ft", "config": config, "source": "local"}
                for i in range(5)
            ]
        )
    )
    loader = reader.CatalogLoader()
    loader.lookup("nobody")  # opens the file
    statements: list[str] = []
    loader._conn.set_trace_callback(statements.append)
    parsed: list[str] = []
    real = reader._document_config
    monkeypatch.setattr(reader, "_document_config", lambda body: parsed.append(body) or real(body))
    configs = [loader.lookup(f"tuner{i}/mistral-ft") for i in range(5)]
    assert [c.model for c in configs] == [f"tuner{i}/mistral-ft" for i in range(5)]
    assert {c.num_decoder_layers for c in configs} == {32}
    # One statement a lookup (the model with its document), the shared document parsed once;
    # each model has its own copy of the lists.
    assert len([s for s in statements if "FROM models" in s]) == 5
    assert all("JOIN documents" in s for s in statements if "FROM models" in s)
    assert len(parsed) == 1 and json.loads(parsed[0])["num_decoder_layers"] == 32
    assert configs[0].layer_type == configs[1].layer_type
    assert configs[0].layer_type is not configs[1].layer_type
    loader.close()


def test_a_first_lookup_reads_the_live_id_index_and_answers_without_it(catalog):
    from genz_catalog.db import LOOKUP_INDEX
    from genz_catalog.deferred_indexes import defer_indexes, restore_deferred_indexes
    from genz_catalog.genz import reader

    config = json.loads(MISTRAL_CONFIG.read_text())
    ids = [f"tuner{i}/mistral-ft" for i in range(4)]
    list(
        catalog.add_models(
            [{"model_id": model_id, "config": config, "source": "local"} for model_id in ids]
        )
    )
    catalog.delete_model(ids[3])
    loader = reader.CatalogLoader()
    loader.lookup("nobody")  # opens the file
    statements: list[str] = []
    loader._conn.set_trace_callback(statements.append)

    # The id's half of the point query never reads the models row: the index holds it all.
    first = loader.lookup(ids[0])
    assert first.model == ids[0] and first.num_decoder_layers == 32
    [statement] = [s for s in statements if "FROM models" in s]
    plan = " | ".join(r[3] for r in loader._conn.execute("EXPLAIN QUERY PLAN " + statement))
    assert f"SEARCH models USING COVERING INDEX {LOOKUP_INDEX} (model_id=? AND is_deleted=?)" in (
        plan
    )
    assert loader.lookup(ids[3]) is None  # deleted: not in the index of live ids

    # A bulk import sets the index aside for a while; lookups meanwhile take the id's primary
    # key, and the index again once it is back.
    assert LOOKUP_INDEX in defer_indexes(catalog.db)
    statements.clear()
    loader.invalidate()
    second = loader.lookup(ids[1])
    assert second.model == ids[1] and second.num_decoder_layers == 32
    assert loader.lookup(ids[3]) is None
    assert all(LOOKUP_INDEX not in s for s in statements if "FROM models" in s)
    # Set aside between two freshness checks: the statement naming it fails, the plain one
    # answers.
    loader._forget_configs()
    loader._lookup_sql = reader._COVERED_LOOKUP_SQL
    again = loader._query(ids[1])
    assert again.model == ids[1] and again.hidden_size == 4096
    assert loader._lookup_sql == reader._LOOKUP_SQL
    restore_deferred_indexes(catalog.db)
    statements.clear()
    loader.invalidate()
    third = loader.lookup(ids[2])
    assert third.model == ids[2] and third.num_decoder_layers == 32
    assert [LOOKUP_INDEX in s for s in statements if "FROM models" in s] == [True]
    loader.close()
