"""Benchmark: GenZ model lookups through the catalog at 1k, 10k and 100k catalog models.

Measured side by side in one run, per catalog size:

- warm: ``MODEL_DICT.get_model(name)`` for a catalog model already looked up (target <= 2 us);
- cold: the first lookup of a catalog model: freshness check plus one indexed point query plus
  building the ``ModelConfig`` (target <= 30 us at 100k);
- GenZ linear: GenZ's own ``ModelCollection.get_model`` (a case-insensitive linear scan) over a
  collection of the same size;
- SQLite floor: a raw ``SELECT genz_config_json FROM models WHERE model_id = ?`` on an open
  connection (no JSON parsing, no ModelConfig).

Usage: ``python bench/lookup.py [--sizes 1000,10000,100000]``. Prints microseconds and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

GENZ_KWARGS = {
    "vocab_size": 32000,
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_ffi": 2,
    "num_decoder_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_model_len": 32768,
    "hidden_act": "silu",
}


def build_catalog(path: Path, size: int) -> list[str]:
    """A catalog of ``size`` synthetic models (direct SQL inserts, one transaction)."""
    from genz_catalog.db import connect

    db = connect(path)
    names = [f"bench-org-{i % 997}/model-{i:06d}" for i in range(size)]
    now = "2026-01-01T00:00:00.000Z"
    rows = []
    for name in names:
        kwargs = dict(GENZ_KWARGS, model=name)
        rows.append(
            (
                name,
                name.split("/")[1],
                "manual",
                "llama",
                "decoder-only",
                "gqa",
                0,
                7_000_000_000,
                json.dumps(kwargs, sort_keys=True),
                "{}",
                now,
                now,
            )
        )
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO models (model_id, model_name, source, family, model_type, attention_type,"
        " is_moe, parameter_count, genz_config_json, config_json, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    conn.close()
    return names


def per_call_us(fn, names: list[str], repeat: int) -> float:  # noqa: ANN001
    """Best of ``repeat`` passes over ``names``, microseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for name in names:
            fn(name)
        best = min(best, (time.perf_counter() - start) / len(names))
    return best * 1e6


def measure(size: int, folder: Path) -> dict[str, float]:
    from GenZ.Models.default_models import ModelCollection, ModelConfig

    import genz_catalog.genz as bridge

    path = folder / f"catalog-{size}.db"
    names = build_catalog(path, size)
    bridge.enable(db_path=path)
    collection = bridge.MODEL_DICT
    rng = random.Random(size)
    sample = rng.sample(names, min(2000, size))
    lowered = [n.lower() for n in sample]

    # Cold: every name in ``sample`` looked up with an empty cache (best of 5 passes, as the
    # machine is shared and noisy).
    cold = float("inf")
    for _ in range(5):
        collection.refresh()
        start = time.perf_counter()
        for name in lowered:
            assert collection.get_model(name) is not None
        cold = min(cold, (time.perf_counter() - start) / len(lowered) * 1e6)

    warm = per_call_us(collection.get_model, lowered, repeat=20)

    floor_conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    floor_sql = "SELECT genz_config_json FROM models WHERE model_id = ?"
    floor = per_call_us(lambda n: floor_conn.execute(floor_sql, (n,)).fetchone(), lowered, 5)
    floor_conn.close()

    config = ModelConfig(**GENZ_KWARGS)
    linear = ModelCollection({name: config for name in names})
    linear_sample = lowered[: max(20, 200_000 // size)]
    genz_linear = per_call_us(linear.get_model, linear_sample, repeat=1)
    return {"size": size, "warm": warm, "cold": cold, "floor": floor, "genz_linear": genz_linear}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GENZ_CATALOG_DB"] = str(Path(tmp) / "unused.db")
        import genz_catalog.genz  # noqa: F401 - pay the GenZ import before timing

        results = [measure(size, Path(tmp)) for size in sizes]
    header = (
        f"{'models':>8} {'warm us':>8} {'cold us':>8} {'sqlite us':>9} {'genz us':>10}"
        f" {'warm/sqlite':>11} {'cold/sqlite':>11} {'genz/warm':>10} {'genz/cold':>10}"
    )
    print(header)
    for r in results:
        print(
            f"{r['size']:>8} {r['warm']:>8.2f} {r['cold']:>8.2f} {r['floor']:>9.2f}"
            f" {r['genz_linear']:>10.1f} {r['warm'] / r['floor']:>11.2f}"
            f" {r['cold'] / r['floor']:>11.2f} {r['genz_linear'] / r['warm']:>10.0f}"
            f" {r['genz_linear'] / r['cold']:>10.1f}"
        )
    largest = results[-1]
    print(
        f"targets at {largest['size']}: warm {largest['warm']:.2f} us (<= 2),"
        f" cold {largest['cold']:.2f} us (<= 30)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
