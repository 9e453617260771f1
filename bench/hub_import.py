"""Bulk Hub import: concurrent (thread pool) against one model at a time.

Starts the test suite's local Hub stand-in on 127.0.0.1 with 50 ms added to every response
(a Hub round trip), serves 100 repositories built from the real configs in
tests/data/hf-configs, and imports all of them twice, side by side in one run, each into a fresh
catalog and a fresh Hugging Face cache:

- anchor: ``import_hub_model`` called once per model, one after the other;
- bulk: ``import_models_from_hf`` with ``--workers`` threads (the ``genz-catalog import`` path).

Prints both times and the ratio (target: at least 6x).

    .venv/bin/python bench/hub_import.py [--models 100] [--delay 0.05] [--workers 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hub_server import CONFIGS_DIR, running_hub  # noqa: E402

from genz_catalog.hub import (  # noqa: E402
    DEFAULT_WORKERS,
    import_hub_model,
    import_models_from_hf,
)
from genz_catalog.manager import ModelManager  # noqa: E402


def _fresh_environment(root: Path, label: str) -> ModelManager:
    """Point the HF cache at a new folder and open a new catalog for one run."""
    os.environ["HF_HOME"] = str(root / label / "hf")
    return ModelManager(root / label / "catalog.db")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added per response")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    args = parser.parse_args()

    configs = sorted(CONFIGS_DIR.glob("*/config.json"))
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    with tempfile.TemporaryDirectory() as tmp, running_hub(delay=args.delay) as hub:
        os.environ["HF_ENDPOINT"] = hub.url
        ids = []
        for index in range(args.models):
            config = configs[index % len(configs)]
            name = config.parent.name.split("__", 1)[1].strip("-.")
            repo_id = f"bench/{name}-{index:03d}"
            hub.add_model(repo_id, config.read_bytes())
            ids.append(repo_id)
        root = Path(tmp)

        with _fresh_environment(root, "one-at-a-time") as manager:
            start = time.perf_counter()
            statuses = [import_hub_model(m, manager=manager).status for m in ids]
            sequential = time.perf_counter() - start
        assert statuses.count("imported") == len(ids), statuses

        with _fresh_environment(root, "bulk") as manager:
            start = time.perf_counter()
            outcomes = import_models_from_hf(
                ids, manager=manager, workers=args.workers, show_progress=False
            )
            concurrent = time.perf_counter() - start
        failed = [o for o in outcomes if o.status != "imported"]
        assert not failed, failed[:3]

    # model_info GET, config.json HEAD without retries (hub.py bounds the download by the
    # timeout), then hf_hub_download's own HEAD and GET
    requests = 4
    print(
        f"hub import: {args.models} models, {args.delay * 1000:.0f} ms added per response, "
        f"{requests} requests per model"
    )
    print(
        f"  one at a time (import_hub_model loop): {sequential:7.2f} s "
        f"({args.models / sequential:6.1f} models/s)"
    )
    print(
        f"  bulk, {args.workers} workers (import_models_from_hf): {concurrent:7.2f} s "
        f"({args.models / concurrent:6.1f} models/s)"
    )
    print(f"  ratio bulk vs one-at-a-time: {sequential / concurrent:.1f}x (target >= 6x)")


if __name__ == "__main__":
    main()
