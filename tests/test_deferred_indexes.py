"""A large bulk import sets the catalog's secondary indexes aside and builds them again; a killed
one leaves a file that the next open for writing, and ``doctor --fix``, repair."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability_support import dump_catalog, without_times, write_config_variants

from genz_catalog import admin
from genz_catalog.admin import diagnose_catalog, import_config_files
from genz_catalog.cli import cli
from genz_catalog.db import connect
from genz_catalog.deferred_indexes import deferrable_indexes, deferred_indexes
from genz_catalog.manager import ModelManager

#: The secondary indexes of models that a bulk import writes to for every model and no
#: constraint or trigger needs (m001's hub_id, m004/m010/m016/m025's partial live-model indexes).
#: m022's index of deleted models stays: no new model goes into it, and searches use it.
MODELS_DEFERRED = [
    "idx_models_hub_id",
    "idx_models_live_attention",
    "idx_models_live_family_size",
    "idx_models_live_hub_count",
    "idx_models_live_kv",
    "idx_models_live_lookup",
    "idx_models_live_model_type",
    "idx_models_live_moe",
    "idx_models_live_moe_size",
    "idx_models_live_size",
    "idx_models_live_source",
]
#: Everything an import sets aside: also model_aliases' index by model, which only a hard
#: delete, an id change and an alias other than a bare name look up, and an import makes none.
DEFERRED = ["idx_model_aliases_model_id", *MODELS_DEFERRED]


def _indexes(path: Path) -> list[tuple[str, str]]:
    db = connect(path, read_only=True)
    try:
        return db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY name"
        ).fetchall()
    finally:
        db.conn.close()


def _import_watching(
    path: Path, files: list[Path], **kwargs
) -> tuple[admin.BulkImportResult, list]:
    """Import ``files`` into ``path``; also return, per file reported, how many indexes the
    record held and which deferrable indexes were missing then."""
    seen: list[tuple[int, int]] = []
    with ModelManager(path) as manager:

        def watch(_path: str, _written: object, _error: object) -> None:
            names = {
                row[0]
                for row in manager.db.execute("SELECT name FROM sqlite_master WHERE type='index'")
            }
            recorded = len(deferred_indexes(manager.db))
            seen.append((recorded, sum(name not in names for name in DEFERRED)))
            # What the pages read, with or without the indexes: the same answers.
            rows = manager.db.execute(
                "SELECT model_id, parameter_count, family FROM models WHERE is_deleted = 0"
            ).fetchall()
            largest = manager.db.execute(
                "SELECT model_id FROM models WHERE is_deleted = 0 "
                "ORDER BY parameter_count DESC, model_id LIMIT 5"
            ).fetchall()
            assert [r[0] for r in largest] == [
                r[0] for r in sorted(rows, key=lambda r: (-r[1], r[0].lower()))[:5]
            ]
            families = dict(
                manager.db.execute(
                    "SELECT family, count(*) FROM models WHERE is_deleted = 0 GROUP BY family"
                )
            )
            assert families == {f: sum(r[2] == f for r in rows) for f in {r[2] for r in rows}}

        result = import_config_files(manager, files, on_file=watch, **kwargs)
    return result, seen


def test_the_deferred_indexes_are_the_non_unique_ones_an_import_never_looks_up(tmp_path: Path):
    db = connect(tmp_path / "c.db")
    assert [name for name, _, _ in deferrable_indexes(db)] == DEFERRED
    # model_versions' UNIQUE(model_id, version) serves its foreign key: never touched.
    db.execute("CREATE INDEX idx_models_config_hash ON models(config_hash)")
    db.execute(
        "CREATE TRIGGER t AFTER INSERT ON model_cache BEGIN "
        "UPDATE models SET likes = 1 WHERE config_hash = new.config_hash; END"
    )
    db.execute("CREATE INDEX idx_models_license ON models(license)")
    names = [name for name, _, _ in deferrable_indexes(db)]
    assert "idx_models_config_hash" not in names  # a trigger looks models up by it
    assert "idx_models_license" in names


def test_large_import_defers_and_ends_with_the_same_indexes_and_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    files = write_config_variants(tmp_path / "configs", "bulk", 45)
    deferring, plain = tmp_path / "deferring.db", tmp_path / "plain.db"
    for path in (deferring, plain):
        connect(path).execute("ANALYZE")  # statistics for every index, as a served file has
    before = _indexes(deferring)
    assert [n for n, _ in before if n.startswith("idx_models")] == [
        "idx_models_deleted",
        *MODELS_DEFERRED,
    ]

    monkeypatch.setattr(admin, "DEFER_INDEXES_AFTER", 10)
    result, seen = _import_watching(deferring, files, batch_size=4)
    assert result.counts == {"imported": 45}
    # Set aside once 10 models were written (their batch committed), kept aside to the end,
    # then built again.
    assert seen[:10] == [(0, 0)] * 10
    assert seen[10:] == [(len(DEFERRED), len(DEFERRED))] * 35
    assert _indexes(deferring) == before
    db = connect(deferring, read_only=True)
    stats = dict(db.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'models'"))
    # Statistics of the rebuilt indexes, counted over the 45 models (the two partial indexes of
    # MoE models and Hub counts hold none of these, and ANALYZE skips empty indexes).
    assert set(MODELS_DEFERRED) - set(stats) == {
        "idx_models_live_hub_count",
        "idx_models_live_moe_size",
    }
    assert stats["idx_models_live_size"].split()[0] == "45"
    aliases = dict(db.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'model_aliases'"))
    assert aliases["idx_model_aliases_model_id"].split()[0] == "45"
    assert deferred_indexes(db) == []
    assert diagnose_catalog(db).healthy
    db.conn.close()

    monkeypatch.setattr(admin, "DEFER_INDEXES_AFTER", 10**9)
    result, seen = _import_watching(plain, files, batch_size=4)
    assert result.counts == {"imported": 45}
    assert set(seen) == {(0, 0)}
    assert without_times(dump_catalog(deferring)) == without_times(dump_catalog(plain))


def test_indexes_are_built_again_with_a_sorting_helper_thread_then_the_setting_is_back(
    tmp_path: Path,
):
    from genz_catalog.deferred_indexes import defer_indexes, restore_deferred_indexes

    path = tmp_path / "t.db"
    with ModelManager(path) as manager:
        for config in write_config_variants(tmp_path / "configs", "t", 5):
            manager.import_config_file(config)
        db = manager.db
        before = _indexes(path)
        names = defer_indexes(db)
        assert len(names) == len(DEFERRED)
        statements: list[str] = []
        db.conn.set_trace_callback(statements.append)
        assert sorted(restore_deferred_indexes(db)) == sorted(names)
        db.conn.set_trace_callback(None)
        creates = [i for i, sql in enumerate(statements) if sql.startswith("CREATE INDEX")]
        helper = statements.index("PRAGMA threads = 1")
        assert len(creates) == len(DEFERRED) and helper < creates[0]
        assert statements.index("PRAGMA threads = 0") > creates[-1]
        assert db.execute("PRAGMA threads").fetchone()[0] == 0
        assert _indexes(path) == before


def test_other_writers_are_answered_right_while_the_alias_index_is_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Between an import's batches, with model_aliases' index by model set aside, another
    writer's hard delete still takes the model's aliases with it and a user alias still reaches
    ``models.aliases`` and the search: SQLite scans ``model_aliases`` instead of seeking."""
    path = tmp_path / "c.db"
    monkeypatch.setattr(admin, "DEFER_INDEXES_AFTER", 10)
    files = write_config_variants(tmp_path / "configs", "w", 40)
    reported: list[str] = []

    def other_writer(_path: str, written: object, _error: object) -> None:
        reported.append(_path)
        if len(reported) != 25:
            return
        with ModelManager(path) as other:
            indexes = {r[0] for r in other.db.execute("SELECT name FROM sqlite_master")}
            assert "idx_model_aliases_model_id" not in indexes
            assert other.get_model("w-m3")["model_id"] == "w/w-m3"  # its bare-name alias
            other.delete_model("w/w-m3", hard=True)
            other.add_alias("w/w-m4", "my-favourite")

    with ModelManager(path) as manager:
        result = import_config_files(manager, files, batch_size=5, on_file=other_writer)
    assert result.counts == {"imported": 40}
    db = connect(path, read_only=True)
    assert "idx_model_aliases_model_id" in {
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert db.execute(
        "SELECT count(*) FROM model_aliases WHERE model_id = 'w/w-m3'"
    ).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM model_aliases").fetchone() == (40,)  # 39 + 1
    assert db.execute("SELECT aliases FROM models WHERE model_id = 'w/w-m4'").fetchone() == (
        "my-favourite",
    )
    assert ModelManager(path).search_models("my-favourite")[0]["model_id"] == "w/w-m4"
    assert diagnose_catalog(db).healthy
    db.conn.close()


def test_small_import_into_a_bigger_catalog_keeps_its_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "c.db"
    monkeypatch.setattr(admin, "DEFER_INDEXES_AFTER", 10**9)
    _import_watching(path, write_config_variants(tmp_path / "old", "old", 30))
    before = _indexes(path)
    monkeypatch.setattr(admin, "DEFER_INDEXES_AFTER", 10)
    assert admin.defer_threshold(30) == 31
    # 20 new models into a catalog of 30: past DEFER_INDEXES_AFTER, but smaller than the
    # catalog, so never set aside.
    result, seen = _import_watching(path, write_config_variants(tmp_path / "new", "new", 20))
    assert result.counts == {"imported": 20}
    assert set(seen) == {(0, 0)}
    # 60 more into the 50: once it has written 51 (more than the catalog held at its start),
    # it sets them aside.
    more = write_config_variants(tmp_path / "more", "more", 60)
    result, seen = _import_watching(path, more, batch_size=5)
    assert result.counts == {"imported": 60}
    assert seen[:51] == [(0, 0)] * 51 and seen[51:] == [(len(DEFERRED), len(DEFERRED))] * 9
    assert _indexes(path) == before


def test_an_import_that_fails_still_builds_its_indexes_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "c.db"
    connect(path).conn.close()
    before = _indexes(path)
    monkeypatch.setattr(admin, "DEFER_INDEXES_AFTER", 5)
    files = write_config_variants(tmp_path / "configs", "f", 20)

    def stop(_path: str, _written: object, _error: object) -> None:
        if len(calls) == 12:
            raise KeyboardInterrupt
        calls.append(_path)

    calls: list[str] = []
    with ModelManager(path) as manager, pytest.raises(KeyboardInterrupt):
        import_config_files(manager, files, batch_size=5, on_file=stop)
    assert _indexes(path) == before
    assert ModelManager(path).get_stats()["total_models"] == 15


KILLED_IMPORT = """
import sys, time
from genz_catalog import admin
from genz_catalog.manager import ModelManager

admin.DEFER_INDEXES_AFTER = 5
files = sys.argv[2:]
with ModelManager(sys.argv[1]) as manager:
    # Slow enough for the test to look at the file, and kill it, while indexes are aside.
    admin.import_config_files(manager, files, batch_size=5, on_file=lambda *a: time.sleep(0.05))
"""


def test_killed_import_is_repaired_by_the_next_open_for_writing_and_by_doctor(tmp_path: Path):
    path = tmp_path / "c.db"
    connect(path).conn.close()
    before = _indexes(path)
    files = [str(p) for p in write_config_variants(tmp_path / "configs", "k", 400)]
    env = {**os.environ, "PYTHONPATH": str(Path(admin.__file__).resolve().parents[1])}
    child = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, str(path), *files], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert child.poll() is None, "the import ended before it was killed"
            assert time.monotonic() < deadline
            reader = connect(path, read_only=True)
            recorded = deferred_indexes(reader)
            reader.conn.close()
            if recorded:
                break
            time.sleep(0.02)
        assert recorded == DEFERRED
        # The import runs: an open for writing leaves its indexes to it.
        writer = connect(path)
        assert deferred_indexes(writer) == DEFERRED
        assert deferred_indexes(writer, interrupted_only=True) == []
        assert diagnose_catalog(writer).deferred_indexes == []
        writer.conn.close()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    copy = tmp_path / "copy.db"
    for suffix in ("", "-wal"):
        if Path(f"{path}{suffix}").exists():
            shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")

    # A read-only open works without the indexes (and changes nothing).
    reader = connect(path, read_only=True)
    written = reader.execute("SELECT count(*) FROM models WHERE is_deleted = 0").fetchone()[0]
    assert written >= 5 and written % 5 == 0
    families = dict(
        reader.execute(
            "SELECT family, count(*) FROM models WHERE is_deleted = 0 GROUP BY family"
        ).fetchall()
    )
    assert sum(families.values()) == written
    report = diagnose_catalog(reader)
    assert report.deferred_indexes == DEFERRED
    assert report.problems == [
        f"{len(DEFERRED)} indexes deferred by an interrupted import (--fix recreates them)"
    ]
    reader.conn.close()
    assert _indexes(path) != before

    # doctor reports, --fix repairs.
    checked = CliRunner().invoke(cli, ["--db", str(path), "doctor", "--json"])
    assert checked.exit_code == 1
    assert json.loads(checked.stdout)["problems"] == report.problems
    fixed = CliRunner().invoke(cli, ["--db", str(path), "doctor", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert _indexes(path) == before
    assert CliRunner().invoke(cli, ["--db", str(path), "doctor"]).exit_code == 0

    # The copy taken before any repair: the next open for writing builds them.
    assert _indexes(copy) != before
    opened = connect(copy)
    assert deferred_indexes(opened) == []
    opened.conn.close()
    assert _indexes(copy) == before
    assert ModelManager(copy).get_stats()["total_models"] == written
