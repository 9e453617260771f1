"""Concurrent writers with a reader, and a bulk import killed with SIGKILL part-way."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from reliability_support import integrity, write_config_variants

from genz_catalog.admin import diagnose_catalog
from genz_catalog.manager import ModelManager

WRITERS = 4
IMPORTS_PER_WRITER = 100

# Each writer imports its files one by one: one transaction per model, as `import` does.
WRITER = textwrap.dedent(
    """
    import sys
    from genz_catalog.manager import ModelManager

    with ModelManager(sys.argv[1]) as manager:
        for path in sys.argv[2:]:
            manager.import_config_file(path)
    print("imported", len(sys.argv) - 2)
    """
)

# A reader as Datasette and the GenZ loader are: read-only connections, looping until told to
# stop. In every snapshot each model must be whole (version row, FTS row, name alias).
READER = textwrap.dedent(
    """
    import os, sqlite3, sys, time
    from genz_catalog.manager import ModelManager

    db, stop = sys.argv[1], sys.argv[2]
    while not os.path.exists(db):
        time.sleep(0.01)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None, timeout=60)
    loops = seen = 0
    manager = None
    while not os.path.exists(stop) or loops < 3:
        try:
            conn.execute("BEGIN")
            models = conn.execute("SELECT count(*) FROM models").fetchone()[0]
            v1 = conn.execute("SELECT count(*) FROM model_versions WHERE version = 1").fetchone()[0]
            fts = conn.execute("SELECT count(*) FROM models_fts").fetchone()[0]
            names = conn.execute(
                "SELECT count(*) FROM model_aliases WHERE kind = 'name'").fetchone()[0]
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # the schema is still being created
                conn.execute("ROLLBACK") if conn.in_transaction else None
                continue
            raise
        if not models == v1 == fts == names:
            print(f"HALF A MODEL: models={models} v1={v1} fts={fts} names={names}")
            sys.exit(1)
        if manager is None:
            manager = ModelManager(db)
        listed = manager.list_models(search="w1")
        if listed:
            assert manager.get_model(listed[0]["model_id"])["current_version"] == 1
        seen = max(seen, models)
        loops += 1
    print("reader loops", loops, "max models seen", seen)
    """
)


def _run_python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_four_writers_and_a_reader_lose_nothing_and_never_see_a_lock(
    tmp_path: Path, isolated_catalog: Path
):
    db = isolated_catalog  # not created yet: the writers race to create and migrate it
    stop = tmp_path / "stop"
    files = [
        write_config_variants(tmp_path / "configs", f"w{k}", IMPORTS_PER_WRITER)
        for k in range(WRITERS)
    ]
    reader = _run_python(READER, str(db), str(stop))
    writers = [_run_python(WRITER, str(db), *map(str, paths)) for paths in files]
    outputs = [w.communicate(timeout=240) for w in writers]
    stop.touch()
    reader_out, reader_err = reader.communicate(timeout=120)

    for (out, err), writer in zip(outputs, writers, strict=True):
        assert "database is locked" not in out + err
        assert writer.returncode == 0, err
        assert out == f"imported {IMPORTS_PER_WRITER}\n"
    assert "database is locked" not in reader_out + reader_err
    assert reader.returncode == 0, reader_out + reader_err
    assert reader_out.startswith("reader loops ")

    total = WRITERS * IMPORTS_PER_WRITER
    with ModelManager(db) as manager:
        conn = manager.db.conn
        assert conn.execute("SELECT count(*) FROM models").fetchone()[0] == total
        assert conn.execute(
            "SELECT count(*), count(DISTINCT model_id) FROM model_versions WHERE version = 1"
        ).fetchone() == (total, total)
        assert conn.execute("SELECT count(*) FROM model_versions").fetchone()[0] == total
        assert conn.execute("SELECT count(*) FROM models_fts").fetchone()[0] == total
        report = diagnose_catalog(manager.db)
        assert report.integrity == ["ok"]
        assert report.healthy, report.problems
        # A real value from real data: w2/w2-m0 is Llama-3.1-8B cut to one layer.
        one_layer = manager.get_model("w2/w2-m0")
        assert (one_layer["family"], one_layer["num_layers"]) == ("llama", 1)


# A bulk import of many local files through add_models, 100 models to a transaction, printing
# each result as it lands so the test knows when to kill it.
BULK = textwrap.dedent(
    """
    import sys
    from genz_catalog.manager import ModelManager, read_config_file

    def items():
        for path in sys.argv[2:]:
            config, model_id = read_config_file(path)
            yield {"model_id": model_id, "config": config, "source": "local"}

    with ModelManager(sys.argv[1]) as manager:
        for result in manager.add_models(items(), if_exists="skip", batch_size=100):
            print(result.status, flush=True)
    """
)


def test_bulk_import_killed_part_way_leaves_a_consistent_file_and_reruns_to_completion(
    tmp_path: Path, isolated_catalog: Path
):
    db = isolated_catalog
    paths = [str(p) for p in write_config_variants(tmp_path / "configs", "bulk", 3000)]
    victim = subprocess.Popen(
        [sys.executable, "-c", BULK, str(db), *paths],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    landed = 0
    while landed < 250:  # two full batches committed, the third in flight
        line = victim.stdout.readline()
        assert line, victim.stderr.read()
        landed += 1
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    assert integrity(db) == "ok"
    with ModelManager(db) as manager:
        report = diagnose_catalog(manager.db)
        assert report.healthy, report.problems
        models = report.models
        assert 200 <= models < 3000
        assert models % 100 == 0  # whole batches only: never half a batch, never half a model
        conn = manager.db.conn
        assert conn.execute("SELECT count(*) FROM model_versions").fetchone()[0] == models
        assert (
            conn.execute("SELECT count(*) FROM model_aliases WHERE kind = 'name'").fetchone()[0]
            == models
        )
        assert report.fts_rows == models

    rerun = subprocess.run(
        [sys.executable, "-c", BULK, str(db), *paths],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    statuses = rerun.stdout.split()
    assert statuses.count("skipped") == models
    assert statuses.count("imported") == 3000 - models
    with ModelManager(db) as manager:
        report = diagnose_catalog(manager.db)
        assert report.healthy and report.models == report.fts_rows == 3000
        assert manager.get_model("bulk/bulk-m2999")["num_layers"] == 1 + 2999 % 64


def test_a_reader_holding_a_snapshot_does_not_block_the_writer(isolated_catalog: Path, tmp_path):
    paths = write_config_variants(tmp_path / "configs", "snap", 2)
    with ModelManager(isolated_catalog) as writer:
        writer.import_config_file(paths[0])
        reader = sqlite3.connect(f"file:{isolated_catalog}?mode=ro", uri=True, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM models").fetchone()[0] == 1
        # Commits while the reader's snapshot is open (a rollback journal would block here).
        writer.import_config_file(paths[1])
        assert reader.execute("SELECT count(*) FROM models").fetchone()[0] == 1  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM models").fetchone()[0] == 2
        reader.close()
