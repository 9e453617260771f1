"""backup, export, load and doctor: consistent copies, exact round trips, honest diagnoses."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability_support import LLAMA_31_8B_PARAMS, dump_catalog, integrity, llama_record

from genz_catalog.admin import backup_catalog, diagnose_catalog
from genz_catalog.cli import cli
from genz_catalog.manager import ModelManager


def run(*args: str, db: Path | None = None):
    """Invoke the CLI (optionally on another catalog file) with stderr kept apart."""
    prefix = ["--db", str(db)] if db is not None else []
    return CliRunner().invoke(cli, [*prefix, *args], catch_exceptions=False)


@pytest.fixture
def catalog(isolated_catalog: Path) -> Path:
    """A small catalog with two versions, aliases, metrics (with and without shots), a
    soft-deleted model and a cache entry."""
    with ModelManager(isolated_catalog) as manager:
        manager.add_model("meta-llama/Llama-3.1-8B", record=llama_record(), aliases=["llama3_8b"])
        manager.add_model("my-org/deep-llama", record=llama_record(num_layers=48), source="local")
        manager.update_model("my-org/deep-llama", record=llama_record(num_layers=64))
        manager.add_model("my-org/retired", record=llama_record())
        manager.delete_model("my-org/retired")
        manager.add_quality_metric("llama3_8b", "MMLU", 66.6, 5)
        manager.add_quality_metric("llama3_8b", "HellaSwag", 82.1)
        manager.cache_value("llama3_8b", "memory", {"bytes": 16060522496})
    return isolated_catalog


# ------------------------------------------------------------------------------------ backup


def test_backup_writes_a_non_wal_copy_that_opens_immutable(catalog: Path, tmp_path: Path):
    target = tmp_path / "copy.db"
    result = run("backup", str(target))
    assert result.exit_code == 0
    assert result.output == f"Backed up 3 models to {target} ({target.stat().st_size:,} bytes)\n"
    # Immutable readers (datasette -i) trust the file never changes and ignore any -wal file.
    conn = sqlite3.connect(f"file:{target}?immutable=1", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute(
        "SELECT parameter_count, current_version FROM models WHERE model_id = 'my-org/deep-llama'"
    ).fetchone() == (LLAMA_31_8B_PARAMS, 2)
    assert conn.execute("SELECT count(*) FROM models_fts").fetchone()[0] == 3
    conn.close()
    assert not Path(f"{target}-wal").exists()
    assert dump_catalog(target) == dump_catalog(catalog)


def test_doctor_on_a_backup_leaves_it_servable_immutable(catalog: Path, tmp_path: Path):
    target = tmp_path / "copy.db"
    assert run("backup", str(target)).exit_code == 0
    result = run("doctor", db=target)
    assert result.exit_code == 0, result.output
    assert "journal mode: delete, WAL file: none\n" in result.output
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert not Path(f"{target}-wal").exists()


def test_doctor_on_a_missing_file_creates_nothing(tmp_path: Path):
    missing = tmp_path / "nowhere" / "models.db"
    result = CliRunner().invoke(cli, ["--db", str(missing), "doctor"])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: no catalog at {missing}; create one with `genz-catalog sync --defaults`, "
        "`genz-catalog import ...` or `genz-catalog load FILE`\n",
    )
    assert not missing.parent.exists()


def test_backup_refuses_existing_file_and_the_catalog_itself(catalog: Path, tmp_path: Path):
    target = tmp_path / "copy.db"
    target.write_text("precious")
    refused = run("backup", str(target))
    assert refused.exit_code == 1
    assert refused.output == f"Error: {target}: file exists; use --force to overwrite it\n"
    assert target.read_text() == "precious"
    assert run("backup", "--force", str(target)).exit_code == 0
    assert integrity(target) == "ok"

    onto_itself = run("backup", "--force", str(catalog))
    assert onto_itself.exit_code == 1
    assert onto_itself.output == f"Error: {catalog}: refusing to back up the catalog onto itself\n"
    assert [p.name for p in tmp_path.iterdir()] == ["copy.db"]  # no temporary file left behind


def test_backup_while_another_process_writes_is_one_consistent_state(catalog: Path, tmp_path: Path):
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        # A second connection, as another process would have: each model is one transaction.
        with ModelManager(catalog) as other:
            n = 0
            while not stop.is_set():
                other.add_model(f"bulk/model-{n}", record=llama_record(), aliases=[f"m{n}"])
                n += 1
                written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            threading.Event().wait(0.01)
        with ModelManager(catalog) as manager:
            copies = [backup_catalog(manager.db, tmp_path / f"b{i}.db") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for copy in copies:
        assert integrity(copy.path) == "ok"
        conn = sqlite3.connect(copy.path)
        # Every model is whole: its version row, its FTS row and its alias are all there.
        assert (
            conn.execute(
                "SELECT count(*) FROM models m WHERE NOT EXISTS (SELECT 1 FROM model_versions v "
                "WHERE v.model_id = m.model_id AND v.version = m.current_version)"
            ).fetchone()[0]
            == 0
        )
        assert conn.execute("SELECT count(*) FROM models_fts").fetchone()[0] == copy.models
        assert conn.execute(
            "SELECT count(*) FROM model_aliases WHERE model_id LIKE 'bulk/%'"
        ).fetchone()[0] == 2 * (copy.models - 3)  # "model-N" and "mN" for each
        conn.close()
    assert copies[-1].models >= 3 + 5


# ------------------------------------------------------------------------------------ export / load


def test_export_load_export_round_trip_is_byte_identical(catalog: Path, tmp_path: Path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    empty = tmp_path / "empty.db"
    exported = run("export", str(first))
    assert exported.output == (f"Exported 3 models, 4 aliases, 4 versions, 2 metrics to {first}\n")
    loaded = run("load", str(first), db=empty)
    assert (
        loaded.output
        == f"Loaded 3 models, 4 aliases, 4 versions, 2 metrics from {first} (merged)\n"
    )
    assert run("export", str(second), db=empty).exit_code == 0
    assert first.read_bytes() == second.read_bytes()

    lines = first.read_text().splitlines()
    assert json.loads(lines[0]) == {
        "format": "genz-catalog-export",
        "tables": ["models", "model_aliases", "model_versions", "model_quality_metrics"],
        "version": 1,
    }
    assert [json.loads(line)["row"]["model_id"] for line in lines[1:4]] == [
        "meta-llama/Llama-3.1-8B",
        "my-org/deep-llama",
        "my-org/retired",
    ]
    restored = ModelManager(empty)
    assert restored.get_model("LLAMA3_8B")["parameter_count"] == LLAMA_31_8B_PARAMS
    assert [v["snapshot"]["num_layers"] for v in restored.get_versions("my-org/deep-llama")] == [
        48,
        64,
    ]
    assert restored.get_model("my-org/retired") is None  # still soft-deleted
    assert [m["model_id"] for m in restored.list_models(search="deep")] == ["my-org/deep-llama"]
    restored.close()


def test_export_to_stdout_with_cache(catalog: Path):
    result = run("export", "--include-cache", "-")
    lines = result.output.splitlines()
    assert json.loads(lines[0])["tables"][-1] == "model_cache"
    cache = [json.loads(line)["row"] for line in lines if '"table": "model_cache"' in line]
    assert [(r["model_id"], r["cache_key"], r["value_json"]) for r in cache] == [
        ("meta-llama/Llama-3.1-8B", "memory", '{"bytes": 16060522496}')
    ]


def test_load_merges_by_default_and_replaces_with_replace(catalog: Path, tmp_path: Path):
    exported = tmp_path / "catalog.jsonl"
    run("export", str(exported))
    other = tmp_path / "other.db"
    with ModelManager(other) as manager:
        manager.add_model("meta-llama/Llama-3.1-8B", record=llama_record(num_layers=2))
        manager.add_model("local/only-here", record=llama_record())
    inode = other.stat().st_ino

    merged = run("load", str(exported), db=other)
    assert merged.exit_code == 0
    with ModelManager(other) as manager:
        ids = [m["model_id"] for m in manager.list_models(include_deleted=True)]
        assert ids == [
            "local/only-here",
            "meta-llama/Llama-3.1-8B",
            "my-org/deep-llama",
            "my-org/retired",
        ]
        llama = manager.get_model("meta-llama/Llama-3.1-8B")
        assert llama["num_layers"] == 32  # the file's model replaced the catalog's
        assert len(manager.get_versions("meta-llama/Llama-3.1-8B")) == 1
    assert diagnose_catalog_of(other).healthy

    replaced = run("load", "--replace", str(exported), db=other)
    assert replaced.output == (
        f"Loaded 3 models, 4 aliases, 4 versions, 2 metrics from {exported} (replaced the catalog)\n"
    )
    assert other.stat().st_ino == inode  # the file was emptied and refilled, never swapped
    second = tmp_path / "second.jsonl"
    run("export", str(second), db=other)
    assert second.read_bytes() == exported.read_bytes()


def diagnose_catalog_of(path: Path):
    with ModelManager(path) as manager:
        return diagnose_catalog(manager.db)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("", "{file}: empty file, not a genz-catalog export"),
        (
            '{"format": "csv"}\n',
            "{file}:1: not a genz-catalog export (first line must name "
            "format 'genz-catalog-export')",
        ),
        (
            '{"format": "genz-catalog-export", "version": 9}\n',
            "{file}:1: export format version 9 is not supported (this genz-catalog reads version 1)",
        ),
        (
            "HEADER\n{not json\n",
            "{file}:2: malformed JSON: Expecting property name enclosed in double quotes",
        ),
        (
            'HEADER\n{"table": "sqlite_master", "row": {}}\n',
            "{file}:2: unknown table 'sqlite_master'",
        ),
        (
            'HEADER\n{"table": "models", "row": {"model_id": "a/b", "x; DROP TABLE models": 1}}\n',
            "{file}:2: unknown models columns: x; DROP TABLE models",
        ),
        (
            'HEADER\n{"table": "models", "row": {"model_id": "../etc/passwd"}}\n',
            "{file}:2: model id '../etc/passwd' must not contain '..'",
        ),
        (
            'HEADER\n{"table": "model_aliases", "row": {"alias": "x", "model_id": "no/such",'
            ' "kind": "alias", "created_at": "now"}}\n',
            "{file}:2: model_aliases row rejected: FOREIGN KEY constraint failed",
        ),
        (
            'HEADER\n{"table": "models", "row": {"model_id": "a/b"}}\n',
            "{file}:2: models row rejected: NOT NULL constraint failed: models.model_name",
        ),
    ],
)
def test_load_refuses_bad_files_and_writes_nothing(
    catalog: Path, tmp_path: Path, content: str, error: str
):
    header = json.dumps({"format": "genz-catalog-export", "version": 1, "tables": []})
    bad = tmp_path / "bad.jsonl"
    # A valid model first: it must be rolled back with the rest.
    first_model = json.dumps(
        {
            "table": "models",
            "row": {
                "model_id": "new/model",
                "model_name": "model",
                "source": "manual",
                "created_at": "t",
                "updated_at": "t",
            },
        }
    )
    bad.write_text(content.replace("HEADER\n", f"{header}\n{first_model}\n"))
    error = error.format(file=bad)
    if "HEADER" in content:
        # The inserted model line shifts the failing line by one.
        error = error.replace(f"{bad}:2:", f"{bad}:3:")
    before = dump_catalog(catalog)
    for replace in ([], ["--replace"]):
        result = run("load", *replace, str(bad))
        assert result.exit_code == 1
        assert result.output == f"Error: {error}\n"
    assert dump_catalog(catalog) == before


def test_load_keeps_an_alias_that_names_another_model(catalog: Path, tmp_path: Path):
    exported = tmp_path / "catalog.jsonl"
    run("export", str(exported))
    other = tmp_path / "other.db"
    with ModelManager(other) as manager:
        manager.add_model("someone/else", record=llama_record(), aliases=["llama3_8b"])
    result = CliRunner().invoke(cli, ["--db", str(other), "load", str(exported)])
    assert result.exit_code == 0
    assert result.stderr == "Skipped aliases that already name another model: llama3_8b\n"
    with ModelManager(other) as manager:
        assert manager.get_model("llama3_8b")["model_id"] == "someone/else"


def test_sql_fragments_in_loaded_values_are_data(tmp_path: Path):
    hostile = "x'; DROP TABLE models; --"
    target = tmp_path / "t.db"
    with ModelManager(target) as manager:
        manager.add_model("org/model", record=llama_record(), model_name=hostile)
    exported = tmp_path / "e.jsonl"
    run("export", str(exported), db=target)
    fresh = tmp_path / "fresh.db"
    assert run("load", str(exported), db=fresh).exit_code == 0
    with ModelManager(fresh) as manager:
        assert manager.get_model("org/model")["model_name"] == hostile


# ------------------------------------------------------------------------------------ doctor


def test_doctor_on_a_healthy_catalog(catalog: Path):
    # A reader that stays open (as Datasette does) keeps the -wal file alive.
    with ModelManager(catalog) as reader:
        reader.add_quality_metric("llama3_8b", "ARC", 55.4, 25)
        result = run("doctor")
        wal_bytes = os.path.getsize(f"{catalog}-wal")
    assert result.exit_code == 0
    assert wal_bytes > 0
    assert result.output.splitlines() == [
        "integrity check: ok",
        "models: 3",
        "search index rows: 3 (in sync)",
        "orphaned rows: 0",
        "models missing their current version: 0",
        f"journal mode: wal, WAL file: {wal_bytes:,} bytes",
        "No problems found",
    ]


def test_doctor_finds_and_fixes_orphans_and_a_stale_search_index(catalog: Path):
    # Another tool writing with foreign keys off (the sqlite3 default) leaves orphans behind.
    raw = sqlite3.connect(catalog, isolation_level=None)
    raw.execute("INSERT INTO model_aliases VALUES ('ghost', 'gone/model', 'alias', 't')")
    raw.execute(
        "INSERT INTO model_quality_metrics (model_id, metric_name, metric_value, created_at, "
        "updated_at) VALUES ('gone/model', 'MMLU', 1, 't', 't')"
    )
    raw.execute("INSERT INTO model_cache VALUES ('gone/model', 'k', 'h', '1', 't', NULL)")
    raw.execute(
        "INSERT INTO model_versions (model_id, version, created_at) VALUES ('gone/model', 1, 't')"
    )
    raw.execute("DELETE FROM models_fts WHERE model_id = 'my-org/retired'")
    raw.execute("UPDATE models_fts SET family = 'wrong' WHERE model_id = 'my-org/deep-llama'")
    # models.aliases is derived from model_aliases; a tool writing it directly makes it stale.
    raw.execute("UPDATE models SET aliases = 'bogus' WHERE model_id = 'meta-llama/Llama-3.1-8B'")
    raw.close()

    runner = CliRunner()
    sick = runner.invoke(cli, ["doctor"])
    assert sick.exit_code == 1
    assert sick.stdout.splitlines()[2:4] == [
        "search index rows: 2 (out of sync)",
        "orphaned rows: 4",
    ]
    assert sick.stderr.splitlines() == [
        "Problem: search index out of sync: it indexes 2 rows for 3 models; 1 models' alias "
        "lists are stale; its words differ from the models' (--fix rebuilds it)",
        "Problem: 1 orphaned model_aliases rows (--fix removes them)",
        "Problem: 1 orphaned model_versions rows (--fix removes them)",
        "Problem: 1 orphaned model_quality_metrics rows (--fix removes them)",
        "Problem: 1 orphaned model_cache rows (--fix removes them)",
    ]
    with ModelManager(catalog) as manager:
        assert manager.list_models(search="retired") == []  # what a stale index costs users
        assert [m["model_id"] for m in manager.list_models(search="bogus")] == [
            "meta-llama/Llama-3.1-8B"
        ]

    fixed = runner.invoke(cli, ["doctor", "--fix"])
    assert fixed.exit_code == 0
    assert fixed.stdout.splitlines()[0] == (
        "Fixed: rebuilt the search index and model shapes, removed 4 orphaned rows"
    )
    assert fixed.stdout.splitlines()[-1] == "No problems found"
    with ModelManager(catalog) as manager:
        assert [
            m["model_id"] for m in manager.list_models(search="retired", include_deleted=True)
        ] == ["my-org/retired"]
        assert manager.list_models(search="bogus") == []
        assert [m["model_id"] for m in manager.list_models(search="llama3_8b")] == [
            "meta-llama/Llama-3.1-8B"
        ]
    assert run("doctor").exit_code == 0


def test_doctor_reports_a_model_missing_its_version_row(catalog: Path):
    raw = sqlite3.connect(catalog, isolation_level=None)
    raw.execute("DELETE FROM model_versions WHERE model_id = 'my-org/retired'")
    raw.close()
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1
    assert result.stderr == "Problem: 1 models have no row for their current version\n"


def test_backup_served_immutable_by_datasette(catalog: Path, tmp_path: Path):
    """The scale-out recipe: each replica serves a backup copy with `datasette -i`."""
    import subprocess
    import sys

    replica = tmp_path / "replica"
    replica.mkdir()
    copy = replica / "catalog.db"
    assert run("backup", str(copy)).exit_code == 0
    stamp = copy.stat().st_mtime_ns

    # A process of its own, as a replica is: Datasette's plugin manager is one per process, so
    # a test that built the catalog's own Datasette (its plugins hide soft-deleted models) must
    # not change what plain `datasette -i` serves here.
    script = """
import asyncio, json, sys
from datasette.app import Datasette

async def fetch():
    ds = Datasette(immutables=[sys.argv[1]])
    rows = await ds.client.get("/catalog/models.json?_shape=array&_col=parameter_count")
    found = await ds.client.get(
        "/catalog.json?_shape=array&sql=select+m.model_id+from+models+m+join+models_fts+f+"
        "on+f.rowid+%3D+m.rowid+where+models_fts+match+%27deep*%27"
    )
    databases = await ds.client.get("/-/databases.json")
    return rows.json(), found.json(), databases.json()

print(json.dumps(asyncio.run(fetch())))
"""
    out = subprocess.run(
        [sys.executable, "-c", script, str(copy)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    rows, found, databases = json.loads(out.stdout)
    assert sorted(r["model_id"] for r in rows) == [
        "meta-llama/Llama-3.1-8B",
        "my-org/deep-llama",
        "my-org/retired",
    ]
    assert {r["parameter_count"] for r in rows} == {LLAMA_31_8B_PARAMS}
    assert [r["model_id"] for r in found] == ["my-org/deep-llama"]
    assert [(d["name"], d["is_mutable"]) for d in databases] == [("catalog", False)]
    assert copy.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in replica.iterdir()) == ["catalog.db"]  # no -wal, no -shm
