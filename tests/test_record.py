"""The converter's record as a type (issue 14): ModelRecord is the one place that defines a figure,
and the schema's columns, list/sort columns, the write path, the static sync and the Datasette
metadata all follow it."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from genz_catalog import db as catalog_db
from genz_catalog.catalog import prepared, reads
from genz_catalog.convert import convert_hf_config
from genz_catalog.datasette import METADATA_PATH, browse
from genz_catalog.datasette.app import load_metadata
from genz_catalog.manager import ModelManager
from genz_catalog.record import (
    FIGURE_COLUMNS,
    LIST_COLUMNS,
    SORT_BOTH,
    SORT_LIST,
    SORT_WEB,
    STORED_COLUMNS,
    ModelRecord,
    column_field,
    column_headers,
    figure_columns,
    list_columns,
    listed_columns,
    record_columns,
    sortable_columns,
    stored_columns,
)

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = Path(__file__).parent / "data" / "hf-configs"
LLAMA = "meta-llama/Llama-3.1-8B"
DEEPSEEK = "deepseek-ai/DeepSeek-R1"


def _config(model_id: str) -> dict[str, Any]:
    return json.loads((CONFIGS / model_id.replace("/", "__") / "config.json").read_text())


def _script():  # noqa: ANN202 - a module loaded from scripts/
    spec = importlib.util.spec_from_file_location(
        "record_metadata", ROOT / "scripts" / "record_metadata.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _models_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    return metadata["databases"]["catalog"]["tables"]["models"]


@dataclass(kw_only=True)
class RecordWithRopeTheta(ModelRecord):
    """A record with one more figure, as a contributor would add it."""

    rope_theta: int | None = column_field(
        "INTEGER",
        "RoPE base frequency (no unit).",
        sortable=SORT_BOTH,
        listed=True,
        header="RoPE base",
    )


# --- the single source ------------------------------------------------------------------------


def test_every_record_column_is_a_models_column_of_its_declared_type(tmp_path: Path) -> None:
    db = catalog_db.connect(tmp_path / "catalog.db")
    declared = {row[1]: row[2] for row in db.conn.execute("PRAGMA table_info(models)").fetchall()}
    columns = record_columns()
    assert {"parameter_count", "kv_values_per_token", "genz_unsupported"} <= set(columns)
    for name, column in columns.items():
        assert declared.get(name) == column.sql_type, name
    # The JSON documents are fields of the record but not columns of their own name.
    assert {"memory", "genz_kwargs", "warnings"} <= {f.name for f in fields(ModelRecord)}
    assert not {"memory", "genz_kwargs", "warnings", "hf_model_type"} & set(declared)


def test_schema_lists_are_derived_from_the_record() -> None:
    assert catalog_db.FIGURE_COLUMNS == FIGURE_COLUMNS == figure_columns()
    assert FIGURE_COLUMNS[:5] == (
        "family",
        "model_type",
        "attention_type",
        "is_moe",
        "parameter_count",
    )
    assert prepared.RECORD_COLUMNS == STORED_COLUMNS == (*FIGURE_COLUMNS, "genz_unsupported")
    assert catalog_db.DERIVED_COLUMNS == (
        "model_name",
        *FIGURE_COLUMNS,
        "memory_json",
        "genz_config_json",
        "warnings_json",
        "genz_unsupported",
    )


def test_sort_and_list_columns_are_the_records_marked_fields() -> None:
    record_names = set(record_columns())
    assert [c for c in reads.SORTABLE_COLUMNS if c in record_names and c != "model_id"] == list(
        sortable_columns(SORT_LIST)
    )
    assert "kv_values_per_token" not in reads.SORTABLE_COLUMNS  # marked for the web only
    assert LIST_COLUMNS == ("model_id", *listed_columns(), "source")
    assert listed_columns() == (
        "family",
        "model_type",
        "attention_type",
        "parameter_count",
        "active_parameter_count",
        "num_layers",
        "hidden_size",
        "num_attention_heads",
        "num_key_value_heads",
        "context_length",
    )
    assert column_headers().items() <= browse.COLUMN_LABELS.items()
    assert browse.COLUMN_LABELS["parameter_count"] == "parameters"


def test_datasette_metadata_describes_every_record_column_and_sorts_those_marked() -> None:
    models = _models_metadata(load_metadata())
    for name, column in record_columns().items():
        assert models["columns"][name] == column.description, name
    record_names = set(record_columns())
    web_sortable = [c for c in models["sortable_columns"] if c in record_names]
    assert [c for c in web_sortable if c != "model_id"] == list(sortable_columns(SORT_WEB))
    assert "model_type" not in models["sortable_columns"]  # marked for list --sort only


def test_metadata_yml_record_block_is_fresh() -> None:
    text = METADATA_PATH.read_text(encoding="utf-8")
    assert _script().render(text) == text, (
        "metadata.yml is stale: run python scripts/record_metadata.py"
    )


def test_every_unit_is_named_in_its_description() -> None:
    for name, column in record_columns().items():
        if column.unit is not None:
            assert column.unit in column.description.lower(), name
    assert record_columns()["parameter_count"].unit == "count"
    assert record_columns()["context_length"].unit == "tokens"


# --- a new field flows everywhere ---------------------------------------------------------------


def test_a_new_field_flows_to_every_derived_list() -> None:
    new = RecordWithRopeTheta
    assert figure_columns(new) == (*FIGURE_COLUMNS, "rope_theta")
    assert stored_columns(new) == (*FIGURE_COLUMNS, "rope_theta", "genz_unsupported")
    assert sortable_columns(SORT_LIST, new) == (*sortable_columns(SORT_LIST), "rope_theta")
    assert sortable_columns(SORT_WEB, new) == (*sortable_columns(SORT_WEB), "rope_theta")
    assert list_columns(new) == (*LIST_COLUMNS[:-1], "rope_theta", "source")
    assert column_headers(new)["rope_theta"] == "RoPE base"
    record = new(model_id="x", parameter_count=7, rope_theta=500_000)
    assert list(record.as_dict()) == [f.name for f in fields(new) if f.name != "architecture"]
    assert record.as_dict()["rope_theta"] == 500_000
    assert new.from_mapping({"model_id": "x", "rope_theta": 10_000}).rope_theta == 10_000


def test_a_new_field_flows_into_the_metadata_yml_blocks() -> None:
    script = _script()
    text = METADATA_PATH.read_text(encoding="utf-8")
    rendered = script.render(text, RecordWithRopeTheta)
    assert rendered != text  # the freshness test would fail until the script is run
    models = _models_metadata(yaml.safe_load(rendered))
    assert models["columns"]["rope_theta"] == "RoPE base frequency (no unit)."
    assert "rope_theta" in models["sortable_columns"]
    # Everything outside the blocks is kept: the catalog's own columns and the canned queries.
    assert models["columns"]["model_name"] == "Display name."
    assert "hub_parameter_count" in models["sortable_columns"]
    assert (
        yaml.safe_load(rendered)["databases"]["catalog"]["queries"]
        == yaml.safe_load(text)["databases"]["catalog"]["queries"]
    )


# --- the record's producers and the write path --------------------------------------------------


def test_converter_returns_the_record_as_a_dict() -> None:
    record = convert_hf_config(_config(DEEPSEEK), DEEPSEEK)
    assert list(record) == [f.name for f in fields(ModelRecord)]
    assert record["parameter_count"] == 671_026_404_352  # transformers on the meta device
    assert record["mtp_parameter_count"] == 13_463_426_048  # the ~14B MTP module of the card
    assert record["architecture"]["kv_lora_rank"] == 512
    assert ModelRecord.from_mapping(record).as_dict() == record
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    llama = convert_hf_config(_config(LLAMA), LLAMA)
    assert "architecture" not in llama  # only when a family has details to give
    assert llama["parameter_count"] == 8_030_261_248
    assert llama["count_basis"] == "formula" and llama["hf_model_type"] == "llama"


def test_every_record_column_is_written_by_the_one_write_path(tmp_path: Path) -> None:
    manager = ModelManager(tmp_path / "catalog.db")
    record = convert_hf_config(_config(DEEPSEEK), DEEPSEEK)
    manager.add_model(DEEPSEEK, _config(DEEPSEEK), source="huggingface")
    row = manager.db.conn.execute(
        f"SELECT {', '.join(record_columns())} FROM models WHERE model_id = ?", [DEEPSEEK]
    ).fetchone()
    stored = dict(zip(record_columns(), row, strict=True))
    expected = {name: record[name] for name in record_columns()}
    expected["is_moe"] = 1  # SQLite has no booleans
    assert stored == expected


def test_list_prints_the_records_list_columns(tmp_path: Path) -> None:
    from genz_catalog.cli import cli

    path = tmp_path / "catalog.db"
    ModelManager(path).add_model(LLAMA, _config(LLAMA), source="local")
    result = CliRunner().invoke(cli, ["--db", str(path), "list", "--csv"])
    assert result.exit_code == 0, result.output
    header, row = list(csv.reader(io.StringIO(result.output)))
    # Machine formats add how the count was obtained after the active count.
    assert [c for c in header if c != "count_basis"] == list(LIST_COLUMNS)
    assert dict(zip(header, row, strict=True))["parameter_count"] == "8030261248"


def test_static_sync_builds_a_model_record() -> None:
    from GenZ.Models.default_models import MODEL_DICT

    from genz_catalog.genz import static_model_record

    record = static_model_record(MODEL_DICT.get_model("meta-llama/Llama-2-7B"))
    assert set(record) == {f.name for f in fields(ModelRecord)} - {"architecture"} | {"config"}
    assert record["num_layers"] == 32 and record["hidden_size"] == 4096
    assert record["count_basis"] == "formula" and record["hf_model_type"] is None
