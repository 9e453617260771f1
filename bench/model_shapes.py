"""Benchmark: the whole-catalog canned queries, grouping every model against reading model_shapes.

``statistics``, ``attention_kv_savings`` and ``kv_savings_by_model`` (attention_type gqa) are
timed as they were before m017 (grouping every live model from a covering index; their SQL is
kept in tests/test_model_shapes.py) and as metadata.yml has them now (reading ``model_shapes``),
on the same catalog file. Each run is the first view after a write: another connection soft-
deletes a model (or brings it back) and commits, then a new read-only connection runs the query
once (SQLite's page cache empty, the OS's warm). Old and new alternate; medians of ``--repeat``
runs (target <= 100 ms each). Before timing, each query's old and new answers are compared row
for row (kv_savings_by_model for gqa, mqa and both); they may differ only where two head layouts
tie on saving and size at the 1000th model, which the old kv_savings_by_model cut between.

``--catalog`` is copied first (the original is never written): an older file (before m017) is
migrated on the copy, and the time m017 took to fill ``model_shapes`` is printed.

Usage: .venv/bin/python bench/model_shapes.py --catalog PATH [--repeat 7] [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_model_shapes import OLD_SQL  # noqa: E402 - the queries before m017, kept by the test

from genz_catalog.datasette.app import load_metadata  # noqa: E402
from genz_catalog.datasette.functions import register_sql_functions  # noqa: E402
from genz_catalog.db import connect, migrations  # noqa: E402

PARAMETERS = {
    "statistics": {},
    "attention_kv_savings": {},
    "kv_savings_by_model": {"attention_type": "gqa"},
}
TARGET_MS = 100


def prepare(catalog: Path, work: Path) -> Path:
    """A copy of ``catalog`` in ``work``, migrated (m017 timed when it had to run)."""
    copy = work / "catalog.db"
    source = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    source.backup(target)  # consistent even while another process writes the original
    source.close()
    target.close()
    pending = [m.name for m in migrations.pending(connect(copy, read_only=True))]
    started = time.perf_counter()
    connect(copy).close()
    if "m017_model_shapes" in pending:
        print(f"migrated ({', '.join(pending)}) in {time.perf_counter() - started:.2f} s")
    return copy


def time_fresh(path: Path, sql: str, parameters: dict, writer: sqlite3.Connection) -> float:
    """Milliseconds of one run of ``sql`` on a new connection right after a committed write."""
    writer.execute(
        "UPDATE models SET is_deleted = 1 - is_deleted WHERE rowid = "
        "(SELECT max(rowid) FROM models)"
    )
    writer.commit()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    register_sql_functions(conn)
    started = time.perf_counter()
    conn.execute(sql, parameters).fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--work", type=Path, help="folder for the copy (default: a temporary)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="genz-bench-shapes-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        path = prepare(args.catalog, work)
        writer = sqlite3.connect(path)
        models, live = writer.execute("SELECT count(*), sum(is_deleted = 0) FROM models").fetchone()
        shapes = writer.execute("SELECT count(*) FROM model_shapes").fetchone()[0]
        print(f"{models:,} models ({live:,} live), {shapes:,} rows in model_shapes")
        queries = load_metadata()["databases"]["catalog"]["queries"]
        check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        register_sql_functions(check)
        for name, parameters in (
            *PARAMETERS.items(),
            ("kv_savings_by_model", {"attention_type": ""}),
            ("kv_savings_by_model", {"attention_type": "mqa"}),
        ):
            old_rows = check.execute(OLD_SQL[name], parameters).fetchall()
            new_rows = check.execute(queries[name]["sql"], parameters).fetchall()
            same = "identical" if old_rows == new_rows else "DIFFERENT"
            print(f"  {name} {parameters}: {len(new_rows)} rows, old and new {same}")
        check.close()
        print(f"fresh after a write, median of {args.repeat} (ms; target <= {TARGET_MS}):")
        print(f"  {'':24s} {'old':>8} {'new':>8} {'old/new':>8}")
        for name, parameters in PARAMETERS.items():
            old, new = [], []
            for _ in range(args.repeat):
                old.append(time_fresh(path, OLD_SQL[name], parameters, writer))
                new.append(time_fresh(path, queries[name]["sql"], parameters, writer))
            old_ms, new_ms = statistics.median(old), statistics.median(new)
            verdict = "PASS" if new_ms <= TARGET_MS else "FAIL"
            print(f"  {name:24s} {old_ms:8.1f} {new_ms:8.1f} {old_ms / new_ms:7.1f}x  {verdict}")
        writer.close()
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
