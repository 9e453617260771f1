"""Benchmark: start-up of the command line, against the Python interpreter with click alone.

Runs, alternating round by round so a busy machine slows all alike:

- floor: ``python -c "import click"`` (what any click program pays);
- ``genz-catalog --help`` (target: loads neither the converter nor the catalog library);
- ``genz-catalog list`` on the bundled default catalog (target: neither GenZ nor pandas);

and prints, per command, the median wall and CPU time (user + system, less sensitive to other
load) in milliseconds, and the CPU ratio to the floor. Each command runs in a fresh process
(``python -m genz_catalog``), with this checkout first on ``PYTHONPATH``.

Usage: ``python bench/cli_startup.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds (default 15)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "GENZ_CATALOG_DB": str(Path(folder) / "catalog.db"),
        }
        cli = [sys.executable, "-m", "genz_catalog"]
        subprocess.run([*cli, "sync", "--defaults"], env=env, check=True, capture_output=True)
        commands = {
            "floor (import click)": [sys.executable, "-c", "import click"],
            "genz-catalog --help": [*cli, "--help"],
            "genz-catalog list": [*cli, "list"],
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, args in commands.items():
                times[name].append(_run(args, env))
    floor_cpu = statistics.median(cpu for _, cpu in times["floor (import click)"])
    print(f"{'command':24} {'wall ms':>8} {'cpu ms':>8} {'cpu / floor':>12}   ({runs} runs)")
    for name, samples in times.items():
        wall = statistics.median(w for w, _ in samples) * 1000
        cpu = statistics.median(c for _, c in samples)
        print(f"{name:24} {wall:8.0f} {cpu * 1000:8.0f} {cpu / floor_cpu:12.2f}")


if __name__ == "__main__":
    main()
