"""Measure: GenZ's weight figure against the true parameter count, before and after the
catalog rebuilds the ``ModelConfig`` (``genz_catalog.genz.simulation_kwargs``).

For every real config with a truth row (tests/data/hf-configs + truth.tsv, and
../shared/hf-hub/configs + its truth.tsv when present; each model once): import it, then ask
GenZ itself for its total weights (``prefill_moddeling(..., model_profilling=True)``, bf16, which
skips GenZ's capacity check) from the stored arguments ("before") and from the rebuilt ones
("after"). Counts models within 2% of ``true parameters x 2 bytes`` and prints, for the rest,
the difference and the causes :mod:`genz_catalog.fidelity` names.

Usage: ``python bench/genz_fidelity.py [--tolerance 0.02] [--all]`` (``--all`` lists every model).
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genz_catalog.convert import ConversionError  # noqa: E402
from genz_catalog.errors import CatalogError  # noqa: E402
from genz_catalog.fidelity import weight_gap  # noqa: E402
from genz_catalog.manager import ModelManager  # noqa: E402

SOURCES = (
    (ROOT / "tests" / "data" / "hf-configs", ROOT / "tests" / "data" / "truth.tsv"),
    (
        ROOT.parent / "shared" / "hf-hub" / "configs",
        ROOT.parent / "shared" / "hf-hub" / "truth.tsv",
    ),
    (Path("/work/shared/hf-hub/configs"), Path("/work/shared/hf-hub/truth.tsv")),
)


def _truth(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    with path.open() as handle:
        return {
            row["model_id"]: int(row["parameter_count"])
            for row in csv.DictReader(handle, delimiter="\t")
        }


def _genz_weight_bytes(genz, kwargs: dict, model_id: str) -> float:
    from GenZ import prefill_moddeling

    config = genz.ModelConfig(**{**kwargs, "model": model_id})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, summary = prefill_moddeling(
            model=config,
            batch_size=1,
            input_tokens=1,
            system_name="H100_GPU",
            model_profilling=True,
        )
    return float(summary["Total Weights (MB)"].values[0]) * 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--all", action="store_true", help="list every model, not only misses")
    args = parser.parse_args()
    import genz_catalog.genz as genz

    configs: dict[str, tuple[Path, int]] = {}
    for folder, truth_path in SOURCES:
        truth = _truth(truth_path)
        if not folder.exists():
            continue
        for config in sorted(folder.glob("*/config.json")):
            model_id = config.parent.name.replace("__", "/", 1)
            if model_id in truth and model_id not in configs:
                configs[model_id] = (config, truth[model_id])

    manager = ModelManager(":memory:")
    before_ok = after_ok = simulated = 0
    skipped: list[str] = []
    lines = []
    for model_id, (path, true_count) in configs.items():
        try:
            manager.import_config_file(path, model_id)
        except (CatalogError, ConversionError, ValueError) as exc:
            skipped.append(f"{model_id}: {exc}")
            continue
        model = manager.get_model(model_id)
        if model.get("genz_unsupported") or not model.get("genz_config"):
            skipped.append(f"{model_id}: {model.get('genz_unsupported') or 'no GenZ config'}")
            continue
        adjusted, _notes = genz.simulation_kwargs(
            model["genz_config"], model.get("intermediate_size")
        )
        try:
            before = _genz_weight_bytes(genz, model["genz_config"], model_id)
            after = _genz_weight_bytes(genz, adjusted, model_id)
        except (AssertionError, ValueError, ZeroDivisionError) as exc:
            skipped.append(f"{model_id}: GenZ: {exc}")
            continue
        simulated += 1
        truth_bytes = 2 * true_count
        before_gap = before / truth_bytes - 1
        after_gap = after / truth_bytes - 1
        before_ok += abs(before_gap) <= args.tolerance
        after_ok += abs(after_gap) <= args.tolerance
        if args.all or abs(after_gap) > args.tolerance or abs(before_gap) > args.tolerance:
            causes = weight_gap(model, after / 2, genz_kwargs=adjusted)["causes"]
            lines.append(
                f"{model_id:55s} before {before_gap:+7.2%}  after {after_gap:+7.2%}  "
                + ("; ".join(causes) or "-")
            )
    print(f"{len(configs)} real configs with a truth row; GenZ simulates {simulated}")
    print(
        f"GenZ weights within {args.tolerance:.0%} of true parameters x 2 bytes: "
        f"before {before_ok}/{simulated}, after {after_ok}/{simulated}"
    )
    print()
    print("\n".join(lines))
    if skipped:
        print(f"\nnot simulated ({len(skipped)}):")
        print("\n".join(f"  {line}" for line in skipped))


if __name__ == "__main__":
    main()
