"""Bulk import: build a big catalog from local config.json files; size, speed and peak memory.

    .venv/bin/python bench/import.py                                # 100,000 models, hub repetition
    .venv/bin/python bench/import.py --models 50000                 # quicker, while developing
    .venv/bin/python bench/import.py --models 1000000 --repetition both --keep /tmp/genz-million

Config files come from ``bench/synthetic_catalog.py``: ``--repetition hub`` (the default) repeats
configs the way the Hub does (a few distinct base configs, each with a Zipf-distributed number of
fine-tunes whose config.json is the base's byte for byte, or differs only in ``torch_dtype``,
``transformers_version`` or ``_name_or_path``; the module docstring says why), ``unique`` makes
no two configs alike (real-config variants with their layers varied and a ``_name_or_path`` of
their own), ``both`` runs one after the other. Then, each in a fresh subprocess so peak RSS is
its own:

- catalog: ``genz_catalog.admin.import_config_files``: the files stream through
  ``read_config_file`` and the converter (in ``--workers`` processes, default 1, beside the
  writer) into ``ModelManager.add_models`` (validation, versions, aliases, FTS, one transaction
  per batch); with ``--single`` also again with everything in one process;
- anchor: the same files read and converted, the same ``models`` rows written with a raw
  ``sqlite_utils`` ``insert_all`` into a plain table (no versions, aliases, FTS or checks).

``--cold`` drops the config files from the page cache before each phase, so each reads them
from the disk, as an import of files not read recently (downloaded earlier, or pushed out by
other work) does; by default whatever generation or the last run left cached is read from
memory.

The catalog's size is measured after a WAL checkpoint and again after ``VACUUM`` (bytes per
model). ``--keep DIR`` keeps the generated files (reused by the next run with the same
``--models`` and ``--repetition``) and the built catalog, ``DIR/catalog-REPETITION-MODELS.db``,
which ``bench/serve.py --catalog`` and ``bench/lookup.py --catalog`` can reuse.

Targets (issue 16, this 2-core machine): <= 1.5 KB per model with hub repetition and <= 3 KB
with unique configs at 1,000,000 models; >= 5,000 models/s; <= 250 MB peak RSS (writer plus
every child process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from synthetic_catalog import (
    catalog_bytes,
    checkpoint,
    config_files,
    drop_from_page_cache,
    ensure_generated,
)

TARGET_MODELS_PER_S = 5000
TARGET_PEAK_RSS_MB = 250
#: Bytes per model of the catalog file (after VACUUM) per repetition.
TARGET_BYTES_PER_MODEL = {"hub": 1500, "unique": 3000}
#: Above this many models the doctor (which reads every row) is skipped unless --doctor.
DOCTOR_UP_TO = 200_000


def peak_rss_mb() -> float:
    """Peak resident set size of this process (MB): ``VmHWM`` on Linux, else ``ru_maxrss``.

    Each phase runs in a subprocess, which Linux forks from this benchmark before it execs the
    phase's interpreter, and ``ru_maxrss`` keeps the larger of the fork's and the new
    program's peaks: right after this process generated a million config files (~150 MB), a
    writer whose own peak was ~90 MB reported 156. ``VmHWM`` belongs to the address space the
    exec made.
    """
    own = vm_hwm_kb("self")
    if own is not None:
        return own / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_kb(pid: int | str, field: str = "VmHWM") -> int | None:
    """The peak resident size of process ``pid`` (or ``"self"``) in KB from ``/proc``
    (``VmHWM``; ``field="VmRSS"``: its resident size now), or None where there is none (not
    Linux, or the process has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class WorkerPeaks:
    """Samples the peak RSS (``VmHWM``) of every child of this process every 50 ms: the
    convert workers and the resource tracker that multiprocessing starts beside them.

    Not ``RUSAGE_CHILDREN``: a spawned worker is forked from this process before it execs a
    fresh interpreter, and Linux folds the pre-exec fork's resident size (this whole process,
    pages it only shares) into the worker's ``ru_maxrss``. ``VmHWM`` is the peak of the
    worker's own address space. High-water marks only grow, so a sample 50 ms before a worker
    exits is its peak unless it grew in those last 50 ms.

    The budget adds up those peaks (and the writer's), though the processes need not hold them
    at once (the convert worker has exited before the search-ranking helper starts);
    ``together_kb`` is the most this process and its children held at one sample.
    """

    def __init__(self) -> None:
        self.peaks_kb: dict[int, int] = {}
        self.together_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WorkerPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _children() -> set[int]:
        # Read from /proc, not multiprocessing.active_children(): that one reaps exited
        # children, racing the executor's own bookkeeping.
        pids: set[int] = set()
        for listing in Path("/proc/self/task").glob("*/children"):
            try:
                pids.update(int(pid) for pid in listing.read_text().split())
            except OSError:
                pass  # the thread ended
        return pids

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            together = vm_hwm_kb("self", "VmRSS") or 0
            for pid in self._children():
                kb = vm_hwm_kb(pid)  # None: exited between the listing and the read
                if kb is not None:
                    self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), kb)
                together += vm_hwm_kb(pid, "VmRSS") or 0
            self.together_kb = max(self.together_kb, together)

    @property
    def total_mb(self) -> float:
        return sum(self.peaks_kb.values()) / 1024


def run_catalog(folder: Path, db_path: Path, batch_size: int, workers: int, doctor: bool) -> dict:
    """Phase 1: the real bulk import path (``genz_catalog.admin.import_config_files``), in a
    process that imports the catalog as ``genz-catalog import`` does: without pandas and numpy,
    which sqlite-utils would otherwise load (~45 MB of the writer's peak memory)."""
    from genz_catalog._lean_start import import_sqlite_utils_without_dataframes

    import_sqlite_utils_without_dataframes()
    from genz_catalog.admin import diagnose_catalog, import_config_files
    from genz_catalog.db import fts_entries
    from genz_catalog.manager import ModelManager

    with ModelManager(db_path) as manager:
        start = time.perf_counter()
        with WorkerPeaks() as worker_peaks:
            result = import_config_files(
                manager,
                config_files(folder),
                if_exists="update",
                batch_size=batch_size,
                workers=workers,
            )
        seconds = time.perf_counter() - start
        writer_rss = peak_rss_mb()
        if doctor:
            report = diagnose_catalog(manager.db)
            healthy, fts_rows, db_models = report.healthy, report.fts_rows, report.models
        else:
            healthy = None
            # Rows the index holds (count(*) on an external-content index counts models).
            fts_rows = fts_entries(manager.db)
            db_models = manager.db.execute("SELECT count(*) FROM models").fetchone()[0]
    return {
        "models": sum(result.counts.values()),
        "seconds": seconds,
        # Every process counts against the budget: the writer's peak plus each worker's.
        "peak_rss_mb": writer_rss + worker_peaks.total_mb,
        "writer_rss_mb": writer_rss,
        "worker_rss_mb": [kb / 1024 for kb in worker_peaks.peaks_kb.values()],
        "together_rss_mb": worker_peaks.together_kb / 1024,
        "failures": len(result.failures),
        "first_failures": [f"{path}: {error}" for path, error in result.failures[:3]],
        "healthy": healthy,
        "fts_rows": fts_rows,
        "db_models": db_models,
    }


def run_anchor(folder: Path, db_path: Path, batch_size: int) -> dict:
    """Phase 2: the same rows through a raw sqlite_utils insert_all."""
    import sqlite_utils

    from genz_catalog.catalog.prepared import prepare_model
    from genz_catalog.manager import read_config_file

    db = sqlite_utils.Database(db_path)
    db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    # prepare_model builds exactly the catalog's models row content (no catalog needed).
    prepare_seconds = 0.0

    def rows() -> Iterator[dict]:
        nonlocal prepare_seconds
        for path in config_files(folder):
            began = time.perf_counter()
            config, model_id = read_config_file(path)
            row = prepare_model(model_id, config, None, "local", None).content
            prepare_seconds += time.perf_counter() - began
            yield row

    start = time.perf_counter()
    # replace: an id seen twice (none are) would overwrite, as the catalog's update does.
    db["models"].insert_all(rows(), batch_size=batch_size, pk="model_id", replace=True)
    seconds = time.perf_counter() - start
    models = db["models"].count
    return {
        "models": models,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "insert_seconds": seconds - prepare_seconds,
    }


def drop_configs_from_page_cache(folder: Path) -> float:
    """Drop every config file of ``folder`` from the kernel's page cache
    (:func:`synthetic_catalog.drop_from_page_cache`), so the next phase reads them from the disk
    as an import of files not read recently does. Returns the seconds it took."""
    began = time.perf_counter()
    os.sync()  # written back first: dirty pages stay in the cache
    drop_from_page_cache(config_files(folder))
    return time.perf_counter() - began


def _phase(
    name: str, folder: Path, db_path: Path, batch_size: int, workers: int = 0, doctor: bool = False
) -> dict:
    command = [
        sys.executable,
        __file__,
        "--phase",
        name,
        "--folder",
        str(folder),
        "--db",
        str(db_path),
        "--batch-size",
        str(batch_size),
        "--workers",
        str(workers),
    ]
    before = _children_cpu_seconds()
    out = subprocess.run(
        command + (["--doctor"] if doctor else []), check=True, capture_output=True, text=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["cpu_seconds"] = _children_cpu_seconds() - before
    return result


def _children_cpu_seconds() -> float:
    """User and system CPU seconds of every child process waited for so far: a phase's
    process with its convert workers and ranking helper (each waited for by its parent)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def file_sizes(db_path: Path, vacuum: bool) -> dict:
    """Bytes of the file after a WAL checkpoint, and after ``VACUUM`` (in place) when asked."""
    checkpoint(db_path)
    sizes = {"checkpointed": catalog_bytes(db_path)}
    conn = sqlite3.connect(db_path)
    try:
        sizes["free_pages_bytes"] = (
            conn.execute("PRAGMA freelist_count").fetchone()[0]
            * conn.execute("PRAGMA page_size").fetchone()[0]
        )
        if vacuum:
            began = time.perf_counter()
            conn.execute("VACUUM")
            sizes["vacuum_seconds"] = time.perf_counter() - began
    finally:
        conn.close()
    if vacuum:
        checkpoint(db_path)
        sizes["vacuumed"] = catalog_bytes(db_path)
    return sizes


def table_bytes(db_path: Path) -> list[tuple[str, int]]:
    """The biggest tables and indexes of the file (bytes, from the dbstat virtual table), or
    an empty list where SQLite was built without it."""
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8"
        ).fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        conn.close()
    return rows


def run_repetition(args: argparse.Namespace, repetition: str, work: Path) -> dict:
    """Generate (or reuse) the files of one repetition, import them, measure; returns figures."""
    folder = work / f"configs-{repetition}-{args.models}"
    generated = ensure_generated(folder, args.models, repetition)
    catalog_path = work / f"catalog-{repetition}-{args.models}.db"
    for stale in (catalog_path, Path(f"{catalog_path}-wal"), Path(f"{catalog_path}-shm")):
        stale.unlink(missing_ok=True)
    doctor = args.doctor or args.models <= DOCTOR_UP_TO

    def cold() -> None:
        if args.cold:
            print(
                f"dropped the files from the page cache in {drop_configs_from_page_cache(folder):.0f} s"
            )

    cold()
    catalog = _phase("catalog", folder, catalog_path, args.batch_size, args.workers, doctor=doctor)
    sizes = file_sizes(catalog_path, vacuum=not args.no_vacuum)
    tables = table_bytes(catalog_path)
    single = None
    if args.single:
        single_path = work / "single.db"
        cold()
        single = _phase("catalog", folder, single_path, args.batch_size, 0)
        for path in work.glob("single.db*"):
            path.unlink()
    anchor = None
    if not args.no_anchor:
        anchor_path = work / "raw.db"
        cold()
        anchor = _phase("anchor", folder, anchor_path, args.batch_size)
        checkpoint(anchor_path)
        anchor["bytes"] = catalog_bytes(anchor_path)
        for path in work.glob("raw.db*"):
            path.unlink()
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "repetition": repetition,
        "generated": generated,
        "catalog": catalog,
        "single": single,
        "anchor": anchor,
        "sizes": sizes,
        "tables": tables,
        "catalog_path": str(catalog_path),
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(args: argparse.Namespace, run: dict) -> list[tuple[str, bool]]:
    """Print one repetition's figures; returns (target, met) pairs."""

    def rate(phase: dict) -> float:
        return phase["models"] / phase["seconds"]

    generated, catalog, single, anchor = (
        run["generated"],
        run["catalog"],
        run["single"],
        run["anchor"],
    )
    repetition = run["repetition"]
    print(
        f"\n== repetition {repetition}: {args.models:,} config files, {generated.distinct_configs:,} "
        f"distinct (variants of {generated.real_configs} real configs; generated in "
        f"{generated.seconds:.0f} s or reused), batch {args.batch_size:,}, {os.cpu_count()} CPUs; "
        + ("every phase reads the files from the disk (--cold)" if args.cold else "files cached")
    )
    print(f"{'':38}{'models':>10}{'models/s':>10}{'seconds':>9}{'peak RSS MB':>13}")
    label = f"catalog, {args.workers} convert worker{'s' * (args.workers != 1)}"
    phases = [(label, catalog)] + ([("catalog, one process", single)] if single else [])
    for name, phase in phases:
        print(
            f"{name:38}{phase['models']:>10,}{rate(phase):>10,.0f}"
            f"{phase['seconds']:>9.1f}{phase['peak_rss_mb']:>13.1f}"
        )
    if anchor is not None:
        print(
            f"{'anchor (raw sqlite_utils insert_all)':38}{anchor['models']:>10,}"
            f"{rate(anchor):>10,.0f}{anchor['seconds']:>9.1f}{anchor['peak_rss_mb']:>13.1f}"
        )
        print(
            f"anchor time in insert_all alone: {anchor['insert_seconds']:.1f} s "
            f"({anchor['models'] / anchor['insert_seconds']:,.0f} rows/s); the rest is "
            "read+convert"
        )
        for name, phase in phases:
            print(
                f"ratio catalog ({name}) / anchor: {rate(phase) / rate(anchor):.2f}x speed, "
                f"{phase['peak_rss_mb'] / anchor['peak_rss_mb']:.2f}x peak RSS"
            )
    else:
        print("anchor: skipped (--no-anchor)")
    # CPU time is steadier than wall time on a shared machine whose disk and cores slow down
    # for minutes at a time; the phases' CPU per model compares runs of different days.
    cpu = phases + ([("anchor", anchor)] if anchor is not None else [])
    print(
        "CPU time of each phase's processes: "
        + ", ".join(
            f"{name} {phase['cpu_seconds']:.1f} s ({phase['cpu_seconds'] / phase['models'] * 1e6:.0f}"
            " us/model)"
            for name, phase in cpu
        )
    )
    workers_mb = " + ".join(f"{mb:.1f}" for mb in catalog["worker_rss_mb"]) or "none"
    print(
        f"peak RSS of {label}: writer {catalog['writer_rss_mb']:.1f} MB + child processes "
        f"{workers_mb} MB (convert workers, multiprocessing's resource tracker and the "
        f"search-ranking helper); together at most {catalog['together_rss_mb']:.1f} MB at one "
        "time (sampled every 50 ms)"
    )
    models = catalog["db_models"]
    sizes = run["sizes"]
    per_model = sizes["checkpointed"] / models
    line = (
        f"catalog file: {sizes['checkpointed'] / 1e6:,.0f} MB after a checkpoint = "
        f"{per_model:,.0f} bytes/model ({sizes['free_pages_bytes'] / 1e6:,.0f} MB free pages)"
    )
    final = per_model
    if "vacuumed" in sizes:
        final = sizes["vacuumed"] / models
        line += (
            f"; after VACUUM ({sizes['vacuum_seconds']:.0f} s) {sizes['vacuumed'] / 1e6:,.0f} MB"
            f" = {final:,.0f} bytes/model"
        )
    print(line)
    if anchor is not None:
        print(
            f"anchor file (models rows alone, no versions/aliases/FTS): "
            f"{anchor['bytes'] / 1e6:,.0f} MB = {anchor['bytes'] / anchor['models']:,.0f} "
            f"bytes/model; catalog / anchor {final * anchor['models'] / anchor['bytes']:.2f}x"
        )
    if run["tables"]:
        print(
            "largest parts: "
            + ", ".join(f"{name} {size / 1e6:,.0f} MB" for name, size in run["tables"])
        )
    print(
        f"failed files: {catalog['failures']}; doctor healthy: {catalog['healthy']}"
        f" (None: skipped above {DOCTOR_UP_TO:,}); FTS rows {catalog['fts_rows']:,}"
        f" = models {models:,}"
    )
    for failure in catalog["first_failures"]:
        print(f"  failure: {failure[:200]}")
    size_target = TARGET_BYTES_PER_MODEL[repetition]
    return [
        (
            f"{repetition}: <= {size_target:,} bytes/model (file, {final:,.0f})",
            final <= size_target,
        ),
        (
            f"{repetition}: >= {TARGET_MODELS_PER_S:,} models/s ({rate(catalog):,.0f})",
            rate(catalog) >= TARGET_MODELS_PER_S,
        ),
        (
            f"{repetition}: <= {TARGET_PEAK_RSS_MB} MB peak RSS ({catalog['peak_rss_mb']:.0f})",
            catalog["peak_rss_mb"] <= TARGET_PEAK_RSS_MB,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--repetition", choices=["hub", "unique", "both"], default="hub")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Convert processes beside the writer (default 1: one per spare core).",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep generated files and the built catalog in this folder (reused next time)",
    )
    parser.add_argument("--single", action="store_true", help="also time a one-process import")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="drop the config files from the page cache before each phase (Linux)",
    )
    parser.add_argument("--no-vacuum", action="store_true", help="skip the VACUUM size")
    parser.add_argument("--no-anchor", action="store_true", help="skip the raw insert_all anchor")
    parser.add_argument(
        "--doctor", action="store_true", help=f"run the doctor even above {DOCTOR_UP_TO:,}"
    )
    parser.add_argument("--phase", choices=["catalog", "anchor"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "catalog":
        result = run_catalog(args.folder, args.db, args.batch_size, args.workers, args.doctor)
        print(json.dumps(result))
        return
    if args.phase == "anchor":
        print(json.dumps(run_anchor(args.folder, args.db, args.batch_size)))
        return

    work = args.keep or Path(tempfile.mkdtemp(prefix="genz-bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    repetitions = ["hub", "unique"] if args.repetition == "both" else [args.repetition]
    targets: list[tuple[str, bool]] = []
    try:
        for repetition in repetitions:
            run = run_repetition(args, repetition, work)
            targets += report(args, run)
            if args.keep:
                print(f"kept: {run['catalog_path']}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\ntargets:")
    for name, ok in targets:
        print(f"  {verdict(ok)}  {name}")


if __name__ == "__main__":
    main()
