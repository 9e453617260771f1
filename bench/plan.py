"""Benchmark: ``plan`` over every GenZ system for one model, cold and cached.

- cold: an empty ``simulations`` table; every system's smallest fitting deployment is simulated
  with GenZ (prefill + decode), plus any retry where GenZ's own weight figure refuses;
- cached: the same plan again, every deployment read back from ``simulations``.

Prints the wall time of each, the number of GenZ simulations the cold plan ran, the time per
simulated configuration, and the cold/cached ratio. ``import GenZ`` (~2-4 s) is timed apart,
before the cold run, so it does not count as simulation time.

Usage: ``python bench/plan.py [--model ID] [--config PATH] [--seq 2048] [--batch 1]``
(default: meta-llama/Llama-3.1-8B from tests/data/hf-configs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genz_catalog import planner  # noqa: E402
from genz_catalog.manager import ModelManager  # noqa: E402

DEFAULT_MODEL = "meta-llama/Llama-3.1-8B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--config", type=Path, help="config.json (default: tests/data/hf-configs)")
    parser.add_argument("--seq", type=int, default=planner.DEFAULT_INPUT_TOKENS)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    config = args.config or (
        ROOT / "tests" / "data" / "hf-configs" / args.model.replace("/", "__") / "config.json"
    )
    workload = planner.Workload(batch=args.batch, input_tokens=args.seq)
    systems = list(planner.genz_systems())

    started = time.perf_counter()
    import genz_catalog.genz  # noqa: F401 - GenZ itself, timed apart

    genz_import_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as folder:
        with ModelManager(Path(folder) / "catalog.db") as manager:
            manager.import_config_file(config, args.model)
            started = time.perf_counter()
            cold = planner.plan(manager, args.model, systems, workload=workload)
            cold_s = time.perf_counter() - started
            simulated = manager.db["simulations"].count
            started = time.perf_counter()
            cached = planner.plan(manager, args.model, systems, workload=workload)
            cached_s = time.perf_counter() - started

    assert all(row.get("cached") for row in cached if row["num_devices"] is not None)
    planned = sum(1 for row in cold if row["num_devices"] is not None)
    print(f"model {args.model}, {len(systems)} GenZ systems, seq {args.seq}, batch {args.batch}")
    print(f"import GenZ                {genz_import_s * 1000:9.1f} ms (once per process)")
    print(
        f"cold plan                  {cold_s * 1000:9.1f} ms  "
        f"({simulated} simulations, {planned} systems planned)"
    )
    print(f"  per simulated config     {cold_s * 1000 / max(simulated, 1):9.1f} ms")
    print(f"cached plan                {cached_s * 1000:9.2f} ms")
    print(f"  per stored config        {cached_s * 1000 / max(planned, 1):9.3f} ms")
    print(f"cold / cached              {cold_s / cached_s:9.0f}x")
    best = cold[0]
    print(
        f"cheapest: {best['system']} x{best['num_devices']} "
        f"(TP {best['tensor_parallel']}, PP {best['pipeline_parallel']}), "
        f"decode {best['decode_latency_ms']:.2f} ms/token"
    )


if __name__ == "__main__":
    main()
