"""Bulk import: build a big catalog from local config.json files; speed and peak memory.

    .venv/bin/python bench/import.py                 # 100,000 models (the issue's figure)
    .venv/bin/python bench/import.py --models 20000  # quicker, while developing

Variants of the real configs in tests/data/hf-configs (every one the converter accepts, with
``num_hidden_layers`` varied where the family allows it and a unique ``_name_or_path``) are
written to a temporary folder, one file each. Then, each in a fresh subprocess so peak RSS is
its own:

- catalog: ``genz_catalog.admin.import_config_files``: the files stream through
  ``read_config_file`` and the converter (in ``--workers`` processes, default 1, beside the
  writer) into ``ModelManager.add_models`` (validation, versions, aliases, FTS, one transaction
  per batch); then again with everything in one process;
- anchor: the same files read and converted, the same ``models`` rows written with a raw
  ``sqlite_utils`` ``insert_all`` into a plain table (no versions, aliases, FTS or checks).

Targets on the 2-core CI machine: >= 3,000 models/s and <= 200 MB peak RSS for the catalog.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "tests" / "data" / "hf-configs"
TARGET_MODELS_PER_S = 3000
TARGET_PEAK_RSS_MB = 200
FILES_PER_FOLDER = 1000


def peak_rss_mb() -> float:
    """Peak resident set size of this process (MB; Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_variants(folder: Path, count: int) -> int:
    """Write ``count`` config variants under ``folder``; returns the number of base configs."""
    from genz_catalog.convert import ConversionError, convert_hf_config

    bases: list[tuple[str, dict, list[int]]] = []
    for path in sorted(CONFIGS.glob("*/config.json")):
        config = json.loads(path.read_text())
        try:
            convert_hf_config(config, "bench/probe")
        except ConversionError:
            continue
        layers = [None]
        original = config.get("num_hidden_layers")
        if isinstance(original, int):
            for n in range(1, 2 * original + 1):
                try:
                    convert_hf_config({**config, "num_hidden_layers": n}, "bench/probe")
                except ConversionError:
                    continue
                layers.append(n)
        bases.append((path.parent.name.replace("__", "-"), config, layers))
    for i in range(count):
        name, config, layers = bases[i % len(bases)]
        variant = dict(config)
        depth = layers[(i // len(bases)) % len(layers)]
        if depth is not None:
            variant["num_hidden_layers"] = depth
        variant["_name_or_path"] = f"bench/{name}-v{i}"
        sub = folder / f"{i // FILES_PER_FOLDER:04d}"
        if i % FILES_PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i}.json").write_text(json.dumps(variant, indent=2))
    return len(bases)


def config_files(folder: Path) -> Iterator[Path]:
    """Every generated file, in a stable order, without listing them all at once."""
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        yield from sorted(sub.iterdir(), key=lambda p: int(p.stem))


class WorkerPeaks:
    """Samples the peak RSS (``VmHWM``) of every child of this process every 50 ms: the
    convert workers and the resource tracker that multiprocessing starts beside them.

    Not ``RUSAGE_CHILDREN``: a spawned worker is forked from this process before it execs a
    fresh interpreter, and Linux folds the pre-exec fork's resident size (this whole process,
    pages it only shares) into the worker's ``ru_maxrss``. ``VmHWM`` is the peak of the
    worker's own address space. High-water marks only grow, so a sample 50 ms before a worker
    exits is its peak unless it grew in those last 50 ms.
    """

    def __init__(self) -> None:
        self.peaks_kb: dict[int, int] = {}
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
            for pid in self._children():
                try:
                    with open(f"/proc/{pid}/status") as status:
                        for line in status:
                            if line.startswith("VmHWM:"):
                                kb = int(line.split()[1])
                                self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), kb)
                                break
                except OSError:
                    pass  # exited between the listing and the read

    @property
    def total_mb(self) -> float:
        return sum(self.peaks_kb.values()) / 1024


def run_catalog(folder: Path, db_path: Path, batch_size: int, workers: int) -> dict:
    """Phase 1: the real bulk import path (``genz_catalog.admin.import_config_files``)."""
    from genz_catalog.admin import diagnose_catalog, import_config_files
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
        report = diagnose_catalog(manager.db)
    return {
        "models": sum(result.counts.values()),
        "seconds": seconds,
        # Every process counts against the budget: the writer's peak plus each worker's.
        "peak_rss_mb": writer_rss + worker_peaks.total_mb,
        "writer_rss_mb": writer_rss,
        "worker_rss_mb": [kb / 1024 for kb in worker_peaks.peaks_kb.values()],
        "failures": len(result.failures),
        "healthy": report.healthy,
        "fts_rows": report.fts_rows,
        "db_models": report.models,
    }


def run_anchor(folder: Path, db_path: Path, batch_size: int, workers: int = 0) -> dict:
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
    db["models"].insert_all(rows(), batch_size=batch_size, pk="model_id")
    seconds = time.perf_counter() - start
    models = db["models"].count
    return {
        "models": models,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "insert_seconds": seconds - prepare_seconds,
    }


def _phase(name: str, folder: Path, db_path: Path, batch_size: int, workers: int = 0) -> dict:
    out = subprocess.run(
        [
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
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="Convert processes beside the writer (default 1: one per spare core).",
    )
    parser.add_argument("--phase", choices=["catalog", "anchor"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run = run_catalog if args.phase == "catalog" else run_anchor
        print(json.dumps(run(args.folder, args.db, args.batch_size, args.workers)))
        return

    work = Path(tempfile.mkdtemp(prefix="genz-bench-import-"))
    try:
        began = time.perf_counter()
        bases = generate_variants(work / "configs", args.models)
        generated = time.perf_counter() - began
        catalog = _phase(
            "catalog", work / "configs", work / "catalog.db", args.batch_size, args.workers
        )
        size_mb = (work / "catalog.db").stat().st_size / 1e6
        single = _phase("catalog", work / "configs", work / "single.db", args.batch_size, 0)
        anchor = _phase("anchor", work / "configs", work / "raw.db", args.batch_size)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def rate(phase: dict) -> float:
        return phase["models"] / phase["seconds"]

    print(
        f"bench/import.py: {args.models:,} config files (variants of {bases} real configs, "
        f"generated in {generated:.1f} s), batch {args.batch_size:,}, {os.cpu_count()} CPUs"
    )
    print(f"{'':34}{'models':>9}{'models/s':>10}{'seconds':>9}{'peak RSS MB':>13}")
    label = f"catalog, {args.workers} convert worker{'s' * (args.workers != 1)}"
    for name, phase in ((label, catalog), ("catalog, one process", single)):
        print(
            f"{name:34}{phase['models']:>9,}{rate(phase):>10,.0f}"
            f"{phase['seconds']:>9.1f}{phase['peak_rss_mb']:>13.1f}"
        )
    print(
        f"{'anchor (raw sqlite_utils insert_all)':34}{anchor['models']:>9,}{rate(anchor):>10,.0f}"
        f"{anchor['seconds']:>9.1f}{anchor['peak_rss_mb']:>13.1f}"
    )
    print(
        f"anchor time in insert_all alone: {anchor['insert_seconds']:.1f} s "
        f"({anchor['models'] / anchor['insert_seconds']:,.0f} rows/s); the rest is read+convert"
    )
    for name, phase in ((label, catalog), ("one process", single)):
        print(
            f"ratio catalog ({name}) / anchor: {rate(phase) / rate(anchor):.2f}x speed, "
            f"{phase['peak_rss_mb'] / anchor['peak_rss_mb']:.2f}x peak RSS"
        )
    workers_mb = " + ".join(f"{mb:.1f}" for mb in catalog["worker_rss_mb"]) or "none"
    print(
        f"peak RSS of {label}: writer {catalog['writer_rss_mb']:.1f} MB + "
        f"child processes {workers_mb} MB (convert workers and multiprocessing's resource "
        "tracker)"
    )
    print(
        f"catalog file: {size_mb:.0f} MB; failed files: {catalog['failures']}; "
        f"doctor healthy: {catalog['healthy']}; "
        f"FTS rows {catalog['fts_rows']:,} = models {catalog['db_models']:,}"
    )
    speed_ok = rate(catalog) >= TARGET_MODELS_PER_S
    rss_ok = catalog["peak_rss_mb"] <= TARGET_PEAK_RSS_MB
    print(
        f"targets: >= {TARGET_MODELS_PER_S:,} models/s {'met' if speed_ok else 'MISSED'}; "
        f"<= {TARGET_PEAK_RSS_MB} MB peak RSS {'met' if rss_ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
