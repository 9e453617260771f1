"""ModelManager against real Hugging Face configs (tests/data/hf-configs, truth.tsv counts)."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from pathlib import Path

import pytest

from genz_catalog import ModelManager
from genz_catalog.convert import ConversionError, convert_hf_config
from genz_catalog.errors import (
    CatalogError,
    InvalidInputError,
    InvalidModelIdError,
    ModelExistsError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from genz_catalog.manager import parse_size, read_config_file, validate_model_id

CONFIGS = Path(__file__).parent / "data" / "hf-configs"
TRUTH = {
    row["model_id"]: int(row["parameter_count"])
    for row in csv.DictReader(
        (Path(__file__).parent / "data" / "truth.tsv").open(encoding="utf-8"), delimiter="\t"
    )
}
LLAMA = "meta-llama/Llama-3.1-8B"
MISTRAL = "mistralai/Mistral-7B-v0.1"
MIXTRAL = "mistralai/Mixtral-8x7B-v0.1"

STAMP = "2026-01-02T03:04:05.000Z"


def config_of(model_id: str) -> dict:
    return json.loads((CONFIGS / model_id.replace("/", "__") / "config.json").read_text())


def config_path(model_id: str) -> Path:
    return CONFIGS / model_id.replace("/", "__") / "config.json"


@pytest.fixture
def manager(isolated_catalog: Path):
    with ModelManager() as m:
        yield m


@pytest.fixture
def catalog(manager: ModelManager) -> ModelManager:
    for model_id in (LLAMA, MISTRAL, MIXTRAL):
        manager.import_config_file(config_path(model_id), model_id)
    return manager


def count(manager: ModelManager, table: str) -> int:
    return manager.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# ------------------------------------------------------------------ adding and reading


def test_truth_values_are_the_ones_asserted_here():
    assert TRUTH[LLAMA] == 8030261248
    assert TRUTH[MISTRAL] == 7241732096
    assert TRUTH[MIXTRAL] == 46702792704


def test_import_config_file_stores_real_converted_values(manager: ModelManager):
    result = manager.import_config_file(config_path(LLAMA), LLAMA)
    assert (result.model_id, result.status, result.version) == (LLAMA, "imported", 1)
    model = manager.get_model(LLAMA)
    assert model["parameter_count"] == TRUTH[LLAMA] == 8030261248
    assert model["source"] == "local"
    assert (model["family"], model["model_type"], model["attention_type"]) == (
        "llama",
        "decoder-only",
        "gqa",
    )
    assert (
        model["num_layers"],
        model["hidden_size"],
        model["num_key_value_heads"],
        model["context_length"],
        model["vocab_size"],
    ) == (32, 4096, 8, 131072, 128256)
    assert model["is_moe"] is False
    assert model["config"] == config_of(LLAMA)
    assert model["aliases"] == ["Llama-3.1-8B"]
    assert model["model_name"] == "Llama-3.1-8B"
    assert model["created_at"].endswith("Z") and model["created_at"][10] == "T"


def test_import_config_file_takes_a_folder_and_names_it_after_the_folder(
    manager: ModelManager, tmp_path: Path
):
    # A flat org__name folder stands for org/name.
    result = manager.import_config_file(config_path(MISTRAL).parent)
    assert result.model_id == MISTRAL
    assert manager.get_model(result.model_id)["parameter_count"] == TRUTH[MISTRAL]
    # A Hugging Face cache snapshot folder stands for the repo it caches.
    snapshot = tmp_path / "hub" / "models--meta-llama--Llama-3.1-8B" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(config_path(LLAMA).read_text())
    assert manager.import_config_file(snapshot).model_id == LLAMA
    # Any other folder gives its own name.
    plain = tmp_path / "my-mixtral"
    plain.mkdir()
    (plain / "config.json").write_text(config_path(MIXTRAL).read_text())
    assert manager.import_config_file(plain / "config.json").model_id == "my-mixtral"


def test_import_config_file_ignores_a_name_or_path_that_is_not_an_id(
    manager: ModelManager, tmp_path: Path
):
    # The real stablelm-2-1_6b-chat config says _name_or_path "StableLM 2 1.6B Chat".
    source = CONFIGS / "stabilityai__stablelm-2-1_6b-chat"
    assert json.loads((source / "config.json").read_text())["_name_or_path"] == (
        "StableLM 2 1.6B Chat"
    )
    result = manager.import_config_file(source)
    assert result.model_id == "stabilityai/stablelm-2-1_6b-chat"
    assert manager.get_model(result.model_id)["parameter_count"] == 1644515328


def test_moe_model_has_active_parameters(catalog: ModelManager):
    mixtral = catalog.get_model(MIXTRAL)
    assert mixtral["is_moe"] is True
    assert mixtral["parameter_count"] == TRUTH[MIXTRAL]
    assert (mixtral["num_experts"], mixtral["experts_per_token"]) == (8, 2)
    assert mixtral["active_parameter_count"] == 12879925248


def test_get_model_is_case_insensitive_and_follows_aliases(catalog: ModelManager):
    assert catalog.get_model("META-LLAMA/llama-3.1-8b")["model_id"] == LLAMA
    assert catalog.get_model("llama-3.1-8b")["model_id"] == LLAMA
    assert catalog.get_model("no/such") is None


def test_require_model_names_close_matches(catalog: ModelManager):
    with pytest.raises(ModelNotFoundError) as info:
        catalog.require_model("mistralai/Mistral-7B-v0.2")
    assert str(info.value) == (
        "no model named 'mistralai/Mistral-7B-v0.2'; did you mean: mistralai/Mistral-7B-v0.1, "
        "mistralai/Mixtral-8x7B-v0.1?"
    )
    with pytest.raises(ModelNotFoundError, match=r"^no model named 'qqq'$"):
        catalog.require_model("qqq")


def test_get_model_config_is_the_converters_genz_kwargs(catalog: ModelManager):
    expected = convert_hf_config(config_of(MISTRAL), MISTRAL)["genz_kwargs"]
    assert catalog.get_model_config("mistral-7b-v0.1") == json.loads(json.dumps(expected))
    with pytest.raises(ModelNotFoundError):
        catalog.get_model_config("nope")


def test_adding_an_existing_id_needs_force_and_identical_content_is_unchanged(
    catalog: ModelManager,
):
    with pytest.raises(ModelExistsError) as info:
        catalog.add_model(LLAMA, config_of(LLAMA))
    assert str(info.value) == (
        "model 'meta-llama/Llama-3.1-8B' already exists; use --force to replace it"
    )
    again = catalog.add_model(
        "META-LLAMA/LLAMA-3.1-8B", config_of(LLAMA), source="local", force=True
    )
    assert (again.model_id, again.status, again.version) == (LLAMA, "unchanged", 1)
    assert catalog.get_model(LLAMA)["model_name"] == "Llama-3.1-8B"
    assert catalog.add_model(LLAMA, config_of(LLAMA), if_exists="skip").status == "skipped"
    assert count(catalog, "model_versions") == 3


def test_an_alias_cannot_be_shadowed_by_a_new_model(catalog: ModelManager):
    with pytest.raises(ModelExistsError):
        catalog.add_model("Llama-3.1-8B", config_of(MISTRAL))


def test_a_full_hub_id_takes_its_name_back_from_another_models_alias(catalog: ModelManager):
    # GenZ registers real Hub ids as aliases of its own approximations; importing the real
    # model must not fail with "already exists" nor leave the alias pointing elsewhere.
    catalog.add_alias(MISTRAL, "google/gemma-2b-it", kind="genz")
    assert catalog.get_model("google/gemma-2b-it")["model_id"] == MISTRAL
    assert catalog.get_model("google/gemma-2b-it", follow_aliases=False) is None

    result = catalog.add_model("google/gemma-2b-it", config_of("google/gemma-2b-it"))

    assert result.status == "imported"
    gemma = catalog.get_model("google/gemma-2b-it")
    assert gemma["model_id"] == "google/gemma-2b-it"
    assert gemma["parameter_count"] == TRUTH["google/gemma-2b-it"] == 2506172416
    assert "google/gemma-2b-it" not in catalog.get_model(MISTRAL)["aliases"]


def test_bad_config_writes_nothing(manager: ModelManager):
    broken = config_of(LLAMA)
    del broken["num_hidden_layers"]
    with pytest.raises(ConversionError, match="num_hidden_layers"):
        manager.add_model("org/broken", broken)
    absurd = config_of(LLAMA) | {"num_hidden_layers": 10**9}
    with pytest.raises(ConversionError):
        manager.add_model("org/absurd", absurd)
    assert count(manager, "models") == 0 and count(manager, "model_versions") == 0


def test_add_models_writes_batches_and_a_bad_item_stops_before_writing(manager: ModelManager):
    results = list(
        manager.add_models(
            [
                {"model_id": LLAMA, "config": config_of(LLAMA)},
                {"model_id": MISTRAL, "config": config_of(MISTRAL), "aliases": ["mistral-7b"]},
            ],
        )
    )
    assert [(r.model_id, r.status) for r in results] == [(LLAMA, "imported"), (MISTRAL, "imported")]
    assert manager.get_model("mistral-7b")["model_id"] == MISTRAL
    with pytest.raises(InvalidModelIdError):
        list(
            manager.add_models(
                [
                    {"model_id": "org/ok", "config": config_of(MIXTRAL)},
                    {"model_id": "bad id", "config": config_of(MIXTRAL)},
                ]
            )
        )
    assert manager.get_model("org/ok") is None


def test_add_model_from_record(manager: ModelManager):
    record = convert_hf_config(config_of(LLAMA), LLAMA) | {"config": config_of(LLAMA)}
    result = manager.add_model(
        "org/from-record", record=record, source="genz-static", aliases=[("llama3_8b", "genz")]
    )
    assert result.status == "imported"
    model = manager.get_model("LLAMA3_8B")
    assert (model["model_id"], model["source"], model["parameter_count"]) == (
        "org/from-record",
        "genz-static",
        8030261248,
    )


def test_add_alias(catalog: ModelManager):
    catalog.add_alias(LLAMA, "llama3-8b")
    assert catalog.get_model("LLAMA3-8B")["model_id"] == LLAMA
    catalog.add_alias(LLAMA, "llama3-8b")  # idempotent
    with pytest.raises(CatalogError, match="alias 'llama3-8b' already names"):
        catalog.add_alias(MISTRAL, "llama3-8b")


# ------------------------------------------------------------------ listing and search


def ids(rows: list[dict]) -> list[str]:
    return [r["model_id"] for r in rows]


def test_list_models_filters(catalog: ModelManager):
    assert ids(catalog.list_models()) == [LLAMA, MISTRAL, MIXTRAL]
    assert ids(catalog.list_models(family="MIXTRAL")) == [MIXTRAL]
    assert ids(catalog.list_models(attention_type="gqa", model_type="decoder-only")) == [
        LLAMA,
        MISTRAL,
        MIXTRAL,
    ]
    assert ids(catalog.list_models(source="local")) == [LLAMA, MISTRAL, MIXTRAL]
    assert ids(catalog.list_models(source="huggingface")) == []
    assert ids(catalog.list_models(min_params="7.5B")) == [LLAMA, MIXTRAL]
    assert ids(catalog.list_models(max_params="8030261248")) == [LLAMA, MISTRAL]
    assert ids(catalog.list_models(min_params=7_241_732_096, max_params="8e9")) == [MISTRAL]
    assert ids(catalog.list_models(is_moe=True)) == [MIXTRAL]
    assert ids(catalog.list_models(is_moe=False)) == [LLAMA, MISTRAL]
    assert ids(catalog.list_models(search="Llama-3.1")) == [LLAMA]
    assert ids(catalog.list_models(order_by="-parameter_count", limit=2)) == [MIXTRAL, LLAMA]
    assert ids(catalog.list_models(order_by="parameter_count")) == [MISTRAL, LLAMA, MIXTRAL]
    with pytest.raises(InvalidInputError, match="cannot sort by 'nope'; choose one of: model_id"):
        catalog.list_models(order_by="nope")
    with pytest.raises(InvalidInputError, match="invalid size '7Q'"):
        catalog.list_models(min_params="7Q")


def test_search_models(catalog: ModelManager):
    assert ids(catalog.search_models("mistral")) == [MISTRAL, MIXTRAL]
    assert ids(catalog.search_models("Llama-3.1 8b")) == [LLAMA]
    assert ids(catalog.search_models("llama OR mixtral")) == [LLAMA, MIXTRAL]
    assert ids(catalog.search_models("mistral NOT mixtral")) == [MISTRAL]
    assert ids(catalog.search_models('"Mistral-7B"')) == [MISTRAL]
    assert ids(catalog.search_models("mi*", limit=1)) == [MISTRAL]
    with pytest.raises(InvalidInputError) as info:
        catalog.search_models("llama AND (")
    assert str(info.value) == (
        "invalid search query 'llama AND ('; write plain words (llama 8b), a \"quoted phrase\", "
        "word* for a prefix, or join terms with AND, OR, NOT (e.g. llama OR mistral)"
    )
    with pytest.raises(InvalidInputError, match="^search query is empty; write plain words"):
        catalog.search_models("  ")


# Each of these reaches SQLite's FTS5 parser and fails there with a different message
# ("unterminated string", "unknown special query", "no such column", "fts5: syntax error").
@pytest.mark.parametrize(
    "query", ['x"y', "*", '"abc', "nosuchcolumn:llama*", "llama AND (", "NEAR(", "x^"]
)
def test_every_fts_failure_is_the_how_to_write_a_query_error(catalog: ModelManager, query):
    with pytest.raises(InvalidInputError) as info:
        catalog.search_models(query)
    assert str(info.value) == (
        f'invalid search query {query!r}; write plain words (llama 8b), a "quoted phrase", '
        "word* for a prefix, or join terms with AND, OR, NOT (e.g. llama OR mistral)"
    )


def test_a_list_search_with_nothing_searchable_matches_nothing(catalog: ModelManager):
    assert catalog.list_models(search='"') == []
    assert catalog.list_models(search="") == []
    assert ids(catalog.list_models(search='"mixtral"')) == [MIXTRAL]


def test_search_failures_that_are_not_the_querys_fault_stay_database_errors(
    catalog: ModelManager,
):
    catalog.db.execute("DROP TABLE models_fts")
    with pytest.raises(sqlite3.OperationalError, match="no such table: models_fts"):
        catalog.search_models("llama")


@pytest.mark.parametrize("limit", [-1, 1.5, "3", True])
def test_a_bad_limit_is_a_clear_error(catalog: ModelManager, limit):
    with pytest.raises(InvalidInputError) as info:
        catalog.list_models(limit=limit)
    assert str(info.value) == f"limit must be a whole number 0 or more, not {limit!r}"
    with pytest.raises(InvalidInputError):
        catalog.search_models("llama", limit=limit)


# ------------------------------------------------------------------ updates and versions


def smaller_llama() -> dict:
    return config_of(LLAMA) | {"num_hidden_layers": 16}


def test_update_model_records_a_version_and_drops_the_cache(catalog: ModelManager):
    catalog.cache_value(LLAMA, "memory:bf16:1:8", {"total_bytes": 1})
    result = catalog.update_model(LLAMA, smaller_llama(), change_description="half the layers")
    assert (result.status, result.version) == ("updated", 2)
    model = catalog.get_model(LLAMA)
    assert model["num_layers"] == 16
    # 16 of 32 decoder layers removed: 16 * 218_112_000 parameters each.
    assert model["parameter_count"] == 8030261248 - 16 * 218_112_000
    assert catalog.get_cached_value(LLAMA, "memory:bf16:1:8") is None
    assert count(catalog, "model_cache") == 0
    versions = catalog.get_versions(LLAMA)
    assert [(v["version"], v["change_description"]) for v in versions] == [
        (1, "imported"),
        (2, "half the layers"),
    ]
    assert versions[0]["snapshot"]["parameter_count"] == 8030261248


def test_update_model_with_only_hub_metadata_keeps_content_and_flags_mismatch(
    catalog: ModelManager,
):
    result = catalog.update_model(
        MISTRAL,
        hub_metadata={
            "hub_id": MISTRAL,
            "hub_parameter_count": 7_000_000_000,
            "license": "apache-2.0",
            "tags": ["text-generation"],
            "gated": False,
        },
    )
    assert (result.status, result.version) == ("unchanged", 1)
    model = catalog.get_model(MISTRAL)
    assert (model["license"], model["gated"], model["tags"]) == (
        "apache-2.0",
        "false",
        ["text-generation"],
    )
    assert model["parameter_mismatch"] == 1  # 7.24B vs 7.00B: 3.5% apart
    catalog.update_model(MISTRAL, hub_metadata={"hub_parameter_count": 7_241_732_096})
    assert catalog.get_model(MISTRAL)["parameter_mismatch"] == 0
    with pytest.raises(InvalidInputError, match="unknown hub metadata keys: stars"):
        catalog.update_model(MISTRAL, hub_metadata={"stars": 1})


def test_rollback_is_recorded_as_a_new_version(catalog: ModelManager):
    catalog.update_model(LLAMA, smaller_llama())
    result = catalog.rollback("llama-3.1-8b", 1)
    assert (result.model_id, result.version) == (LLAMA, 3)
    model = catalog.get_model(LLAMA)
    assert (model["parameter_count"], model["num_layers"], model["current_version"]) == (
        8030261248,
        32,
        3,
    )
    assert model["config"] == config_of(LLAMA)
    assert catalog.get_versions(LLAMA)[-1]["change_description"] == "rollback to version 1"
    with pytest.raises(CatalogError) as info:
        catalog.rollback(LLAMA, 1)
    assert str(info.value) == (
        "model 'meta-llama/Llama-3.1-8B' already matches version 1; nothing to roll back"
    )
    with pytest.raises(VersionNotFoundError) as info:
        catalog.rollback(LLAMA, 9)
    assert str(info.value) == "model 'meta-llama/Llama-3.1-8B' has no version 9; versions: 1, 2, 3"


def test_diff_lists_changed_fields_with_flattened_config(catalog: ModelManager):
    catalog.update_model(LLAMA, smaller_llama())
    changes = catalog.diff(LLAMA, 1, 2)
    assert changes["num_layers"] == (32, 16)
    assert changes["config.num_hidden_layers"] == (32, 16)
    assert changes["parameter_count"] == (8030261248, 4540469248)
    assert "hidden_size" not in changes
    assert catalog.diff(LLAMA, 2, 2) == {}
    with pytest.raises(VersionNotFoundError):
        catalog.diff(LLAMA, 1, 5)


# ------------------------------------------------------------------ delete


def test_soft_delete_hides_and_undelete_restores(catalog: ModelManager):
    assert catalog.delete_model("llama-3.1-8b") == LLAMA
    assert catalog.get_model(LLAMA) is None
    assert catalog.get_model(LLAMA, include_deleted=True)["is_deleted"] is True
    assert ids(catalog.list_models()) == [MISTRAL, MIXTRAL]
    assert ids(catalog.list_models(include_deleted=True)) == [LLAMA, MISTRAL, MIXTRAL]
    with pytest.raises(CatalogError, match="already deleted; use --hard"):
        catalog.delete_model(LLAMA)
    assert catalog.undelete_model("Llama-3.1-8B") == LLAMA
    assert catalog.get_model(LLAMA)["is_deleted"] is False
    with pytest.raises(CatalogError, match="is not deleted"):
        catalog.undelete_model(LLAMA)


def test_hard_delete_removes_versions_aliases_metrics_and_cache(catalog: ModelManager):
    catalog.add_quality_metric(LLAMA, "MMLU", 66.7, shots=5)
    catalog.cache_value(LLAMA, "k", 1)
    catalog.delete_model(LLAMA, hard=True)
    assert catalog.get_model(LLAMA, include_deleted=True) is None
    for table in ("model_versions", "model_aliases", "model_quality_metrics", "model_cache"):
        assert (
            catalog.db.execute(
                f"SELECT count(*) FROM {table} WHERE model_id = ?", [LLAMA]
            ).fetchone()[0]
            == 0
        )
    assert ids(catalog.search_models("llama")) == []
    with pytest.raises(ModelNotFoundError):
        catalog.delete_model(LLAMA)


# ------------------------------------------------------------------ quality metrics


def test_quality_metrics_are_unique_per_model_metric_and_shots(catalog: ModelManager):
    stored = catalog.add_quality_metric(
        "llama-3.1-8b", "MMLU", "66.7", shots=5, source="model card"
    )
    assert stored == {
        "model_id": LLAMA,
        "metric_name": "MMLU",
        "shots": 5,
        "metric_value": 66.7,
        "unit": "percent",
        "source": "model card",
        "measured_at": None,
    }
    catalog.add_quality_metric(LLAMA, "mmlu", 67.0, shots=5)  # replaces (names are NOCASE)
    catalog.add_quality_metric(LLAMA, "MMLU", 60.1)  # shots not stated: a different row
    catalog.add_quality_metric(MISTRAL, "GSM8K", 52.2, shots=8)
    rows = catalog.get_quality_metrics(LLAMA)
    assert [(r["metric_name"], r["shots"], r["metric_value"]) for r in rows] == [
        ("MMLU", None, 60.1),
        ("MMLU", 5, 67.0),
    ]
    assert len(catalog.get_quality_metrics()) == 3


@pytest.mark.parametrize(
    ("value", "shots", "message"),
    [
        ("abc", None, "metric value 'abc' for MMLU is not a number"),
        ("nan", None, "metric value 'nan' for MMLU is not finite"),
        (101, None, "metric value 101 for MMLU is outside 0-100 (unit: percent)"),
        (50, -1, "shots -1 is not a whole number 0 or more"),
        (50, "five", "shots 'five' is not a whole number 0 or more"),
    ],
)
def test_bad_metric_is_a_clear_error(catalog: ModelManager, value, shots, message):
    with pytest.raises(InvalidInputError) as info:
        catalog.add_quality_metric(LLAMA, "MMLU", value, shots=shots)
    assert str(info.value) == message
    assert count(catalog, "model_quality_metrics") == 0


@pytest.mark.parametrize(
    "date",
    [
        "notadate",
        "2024-02-30",
        "2024-7-3",
        "23/07/2024",
        "20240723",
        "2024-07-23 12:00",
        "2024-07-23T25:00",
    ],
)
def test_metric_date_must_be_iso_8601(catalog: ModelManager, date):
    with pytest.raises(InvalidInputError) as info:
        catalog.add_quality_metric(LLAMA, "MMLU", 66.7, measured_at=date)
    assert str(info.value) == (
        f"date {date!r} is not a date; use YYYY-MM-DD (2024-07-23) or ISO-8601 "
        "(2024-07-23T12:00:00Z)"
    )
    with pytest.raises(InvalidInputError, match=r"^a.csv line 3: date "):
        catalog.add_quality_metrics(
            [{"model_id": LLAMA, "metric_name": "MMLU", "metric_value": 1, "measured_at": date}],
            row_labels=["a.csv line 3"],
        )
    assert count(catalog, "model_quality_metrics") == 0


@pytest.mark.parametrize(
    "date", ["2024-07-23", "2024-07-23T12:00:00Z", "2024-07-23T12:00:00.123+02:00"]
)
def test_metric_date_accepts_a_day_or_a_full_timestamp(catalog: ModelManager, date):
    assert catalog.add_quality_metric(LLAMA, "MMLU", 66.7, measured_at=date)["measured_at"] == date


def test_metric_on_another_scale(catalog: ModelManager):
    stored = catalog.add_quality_metric(LLAMA, "perplexity", 6.2, unit="perplexity")
    assert stored["unit"] == "perplexity"


def test_add_quality_metrics_is_all_or_nothing_and_names_the_row(catalog: ModelManager):
    good = {"model_id": LLAMA, "metric_name": "MMLU", "metric_value": "66.7"}
    with pytest.raises(InvalidInputError) as info:
        catalog.add_quality_metrics(
            [good, {"model_id": "llama-3.2", "metric_name": "MMLU", "metric_value": 1}]
        )
    assert str(info.value) == (
        "row 2: no model named 'llama-3.2'; did you mean: meta-llama/Llama-3.1-8B?"
    )
    assert count(catalog, "model_quality_metrics") == 0
    stored = catalog.add_quality_metrics(
        [
            good,
            {
                "model_id": MISTRAL,
                "metric_name": "GSM8K",
                "metric_value": 52.2,
                "shots": "8",
                "unit": "",
                "source": " paper ",
                "measured_at": "2023-10-10",
            },
        ],
        row_labels=["a.csv line 2", "a.csv line 3"],
    )
    assert stored[1] == {
        "model_id": MISTRAL,
        "metric_name": "GSM8K",
        "shots": 8,
        "metric_value": 52.2,
        "unit": "percent",
        "source": "paper",
        "measured_at": "2023-10-10",
    }
    with pytest.raises(InvalidInputError, match="^a.csv line 9: metric name must not be empty$"):
        catalog.add_quality_metrics(
            [{"model_id": LLAMA, "metric_value": 1}], row_labels=["a.csv line 9"]
        )


# ------------------------------------------------------------------ cache


def test_cache_values_are_tied_to_the_config_and_expire(catalog: ModelManager):
    catalog.cache_value(LLAMA, "memory:bf16:1:4096", {"total_bytes": 123})
    assert catalog.get_cached_value("llama-3.1-8b", "memory:bf16:1:4096") == {"total_bytes": 123}
    assert catalog.get_cached_value(LLAMA, "other", default="none") == "none"
    assert catalog.get_cached_value("no/such", "k") is None
    catalog.cache_value(MISTRAL, "old", 1, ttl=60)
    catalog.db.execute("UPDATE model_cache SET expires_at = ? WHERE cache_key = 'old'", [STAMP])
    catalog.cache_value(MISTRAL, "fresh", 2, ttl=3600)
    assert catalog.get_cached_value(MISTRAL, "old") is None
    assert catalog.get_cached_value(MISTRAL, "fresh") == 2
    assert [(e["cache_key"], e["fresh"]) for e in catalog.cache_entries(MISTRAL)] == [
        ("fresh", 1),
        ("old", 0),
    ]
    assert catalog.purge_expired(LLAMA) == 0
    assert catalog.purge_expired() == 1
    assert catalog.clear_cache(MISTRAL) == 1
    assert catalog.clear_cache() == 1
    assert count(catalog, "model_cache") == 0


def test_cache_key_includes_the_config_hash(catalog: ModelManager):
    catalog.cache_value(LLAMA, "k", "for the old config")
    old_hash = catalog.get_model(LLAMA)["config_hash"]
    # Another writer changes the config behind our back without clearing the cache.
    catalog.db.execute("UPDATE models SET config_hash = 'different' WHERE model_id = ?", [LLAMA])
    assert catalog.get_cached_value(LLAMA, "k") is None
    catalog.db.execute("UPDATE models SET config_hash = ? WHERE model_id = ?", [old_hash, LLAMA])
    assert catalog.get_cached_value(LLAMA, "k") == "for the old config"


@pytest.mark.parametrize("ttl", [-5, 0, float("inf"), float("nan"), "60"])
def test_cache_ttl_must_be_positive_seconds(catalog: ModelManager, ttl):
    with pytest.raises(InvalidInputError) as info:
        catalog.cache_value(LLAMA, "k", 1, ttl=ttl)
    assert str(info.value) == (
        f"ttl must be a number of seconds > 0 (or None for no expiry), not {ttl!r}"
    )
    assert count(catalog, "model_cache") == 0


def test_cache_value_must_be_json(catalog: ModelManager):
    with pytest.raises(InvalidInputError, match="cannot cache 'k'"):
        catalog.cache_value(LLAMA, "k", object())


# ------------------------------------------------------------------ stats


def test_get_stats(catalog: ModelManager):
    catalog.add_quality_metric(LLAMA, "MMLU", 66.7, shots=5)
    catalog.update_model(MIXTRAL, hub_metadata={"hub_parameter_count": 46_000_000_000})
    catalog.delete_model(MISTRAL)
    stats = catalog.get_stats()
    assert stats["total_models"] == 2
    assert stats["deleted_models"] == 1
    assert stats["moe_models"] == 1
    assert stats["by_model_type"] == {"decoder-only": 2}
    assert stats["by_attention_type"] == {"gqa": 2}
    assert stats["by_family"] == {"llama": 1, "mixtral": 1}
    assert stats["by_source"] == {"local": 2}
    assert stats["quality_metrics"] == 1
    assert stats["parameter_mismatches"] == [
        {"model_id": MIXTRAL, "parameter_count": 46702792704, "hub_parameter_count": 46_000_000_000}
    ]


# ------------------------------------------------------------------ helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7B", 7_000_000_000),
        ("500M", 500_000_000),
        ("1.5e9", 1_500_000_000),
        ("70k", 70_000),
        ("1T", 10**12),
        ("8030261248", 8030261248),
        (" 7b ", 7_000_000_000),
        ("1_000", 1000),
        (2.5e9, 2_500_000_000),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["abc", "B", "", "7Q", "-1B", "inf", "nan"])
def test_parse_size_rejects(text):
    with pytest.raises(InvalidInputError, match="invalid size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1e400", "infinite; give a finite size such as 70B"),
        ("inf", "infinite; give a finite size such as 70B"),
        ("nan", "not a number"),
        ("-1B", "must not be negative"),
        ("1e300", "at most 1e+18 allowed"),  # would overflow a SQLite INTEGER
    ],
)
def test_parse_size_says_what_is_wrong(text, reason):
    with pytest.raises(InvalidInputError) as info:
        parse_size(text)
    assert str(info.value) == f"invalid size {text!r}: {reason}"


def test_real_hub_and_genz_ids_still_validate():
    hub_ids = list(TRUTH)
    assert len(hub_ids) > 50 and MISTRAL in hub_ids
    # Includes IrfanUruchi/Llama-2-13B-Computer-Engineering-: a real Hub repo whose trailing
    # '-' today's naming rule (and huggingface_hub's validator) would refuse.
    assert "IrfanUruchi/Llama-2-13B-Computer-Engineering-" in hub_ids
    assert [validate_model_id(i) for i in hub_ids] == hub_ids
    from GenZ.Models import MODEL_DICT

    genz_ids = sorted(MODEL_DICT.list_models())
    assert len(genz_ids) > 80
    assert [validate_model_id(i) for i in genz_ids] == genz_ids


@pytest.mark.parametrize(
    ("model_id", "message"),
    [
        ("", "model id must not be empty"),
        ("a\nb", "model id must not contain control characters"),
        ("x" * 201, "model id is 201 characters long; at most 200 allowed"),
        ("org/../x", "model id 'org/../x' must not contain '..'"),
        (
            "org/my model",
            "model id 'org/my model' may only contain ASCII letters and digits, "
            "'.', '_', '+', '-' and one '/'",
        ),
        ("a/b/c", "model id 'a/b/c' must be 'name' or 'org/name' (one '/', no empty parts)"),
        ("/b", "model id '/b' must be 'name' or 'org/name' (one '/', no empty parts)"),
        *[
            (
                bad,
                f"model id {bad!r}: a name or org must not start with '.' or '-' or end "
                "with '.' (unsafe as a file name or a command-line argument)",
            )
            for bad in (".", "-", ".hidden", "org/name.", "-org/name", "org./name")
        ],
    ],
)
def test_validate_model_id(model_id, message):
    with pytest.raises(InvalidModelIdError) as info:
        validate_model_id(model_id)
    assert str(info.value) == message


def test_validate_model_id_strips():
    assert validate_model_id("  org/name  ") == "org/name"


def test_read_config_file_errors(tmp_path: Path):
    with pytest.raises(InvalidInputError, match="no such file or folder"):
        read_config_file(tmp_path / "missing.json")
    with pytest.raises(InvalidInputError, match="folder has no config.json"):
        read_config_file(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,\n "b": }')
    with pytest.raises(InvalidInputError) as info:
        read_config_file(bad)
    assert str(info.value) == f"{bad}: malformed JSON at line 2 column 7: Expecting value"
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]")
    with pytest.raises(InvalidInputError, match="config must be a JSON object"):
        read_config_file(listing)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_read_config_file_refuses_a_fifo_without_blocking(tmp_path: Path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(InvalidInputError, match="not a regular file"):
        read_config_file(fifo)
    with pytest.raises(InvalidInputError, match="folder has no config.json"):
        read_config_file(tmp_path)


def test_read_config_file_names_encoding_and_folder(tmp_path: Path):
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"model_type": "llama", "note": "caf\xe9"}')  # Latin-1
    with pytest.raises(InvalidInputError, match=f"{latin}: not UTF-8 text"):
        read_config_file(latin)
    folder = tmp_path / "my-org__deep-llama"
    folder.mkdir()
    (folder / "config.json").write_text(config_path(LLAMA).read_text())
    config, model_id = read_config_file(folder)
    assert (model_id, config["num_hidden_layers"]) == ("my-org/deep-llama", 32)


def test_read_config_file_takes_name_or_path_for_a_loose_file(tmp_path: Path):
    path = tmp_path / "mistral.json"
    path.write_text(json.dumps(config_of(MISTRAL) | {"_name_or_path": MISTRAL}))
    assert read_config_file(path)[1] == MISTRAL
    path.write_text(json.dumps(config_of(MISTRAL) | {"_name_or_path": "/home/me/ckpt"}))
    assert read_config_file(path)[1] == tmp_path.name


def test_a_config_json_is_named_by_its_folder_not_its_base_model(tmp_path: Path):
    # A fine-tune's config.json keeps its base model's _name_or_path.
    folder = tmp_path / "my-lab__mistral-sql-tuned"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config_of(MISTRAL) | {"_name_or_path": MISTRAL}))
    assert read_config_file(folder)[1] == "my-lab/mistral-sql-tuned"
    assert read_config_file(folder / "config.json")[1] == "my-lab/mistral-sql-tuned"
