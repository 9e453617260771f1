"""Benchmark: config conversions per second, beside transformers' meta-device instantiation.

Usage: ``python bench/convert.py [--seconds 3] [--configs DIR]``

Converts every shared Hub ``config.json`` under ``tests/data/hf-configs`` repeatedly on one core and prints conversions per second. If torch and
transformers are installed (the ``oracle`` extra) it also instantiates each config on the meta
device once per round and prints the ratio; otherwise it says that side was skipped.
Target: at least 20,000 conversions per second.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genz_catalog.convert import convert_hf_config  # noqa: E402

TARGET_PER_SECOND = 20_000


def load_configs(directory: Path) -> list[dict[str, Any]]:
    """Every ``<org>__<name>/config.json`` directly under ``directory``, parsed."""
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*/config.json"))]


def conversions_per_second(configs: list[dict[str, Any]], seconds: float) -> tuple[float, int]:
    """Convert the configs round-robin for about ``seconds`` of CPU time; returns (rate, conversions).

    Timed with the process CPU clock, so other load on a shared machine does not skew it.
    """
    done = 0
    start = time.process_time()
    deadline = start + seconds
    while time.process_time() < deadline:
        for config in configs:
            convert_hf_config(config)
        done += len(configs)
    return done / (time.process_time() - start), done


def meta_instantiations_per_second(
    configs: list[dict[str, Any]], seconds: float
) -> tuple[float, int, int] | None:
    """transformers meta-device instantiations per second, or ``None`` when not installed."""
    try:
        import torch
        import transformers
    except ImportError:
        return None
    transformers.logging.set_verbosity_error()
    skip = {"model_type", "architectures", "transformers_version", "torch_dtype", "auto_map"}
    prepared = []
    for config in configs:
        model_type = config["model_type"]
        try:
            hf_config = transformers.AutoConfig.for_model(
                model_type, **{k: v for k, v in config.items() if k not in skip}
            )
        except (ValueError, KeyError, TypeError):
            # Legacy custom-code model types transformers does not know, and configs its own
            # config class cannot read (EXAONE 4's string sliding pattern without layer_types).
            continue
        auto = _auto_class(transformers, model_type)
        if auto is None:
            continue
        prepared.append((auto, hf_config))
    done = 0
    start = time.process_time()
    deadline = start + seconds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while time.process_time() < deadline:
            for auto, hf_config in prepared:
                with torch.device("meta"):
                    model = auto.from_config(hf_config)
                sum(parameter.numel() for parameter in model.parameters())
                done += 1
    return done / (time.process_time() - start), done, len(configs) - len(prepared)


def _auto_class(transformers, model_type: str):  # noqa: ANN001, ANN202
    """The model class a checkpoint of ``model_type`` is: the whole multimodal model, else the
    encoder-decoder, else the causal LM (as the family sweep counts it); None if none."""
    from transformers.models.auto import modeling_auto

    for mapping, auto in (
        (modeling_auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES, "AutoModelForImageTextToText"),
        (modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES, "AutoModelForSeq2SeqLM"),
        (modeling_auto.MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES, "AutoModelForSpeechSeq2Seq"),
        (modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, "AutoModelForCausalLM"),
        (modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES, "AutoModelForMaskedLM"),
    ):
        if model_type in mapping:
            return getattr(transformers, auto)
    return None


def main() -> int:
    """Run the benchmark and print the table; exit status 1 if below the target rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per side (seconds)")
    parser.add_argument("--configs", type=Path, default=ROOT / "tests" / "data" / "hf-configs")
    args = parser.parse_args()

    configs = load_configs(args.configs)
    for config in configs:  # warm up
        convert_hf_config(config)
    rate, done = conversions_per_second(configs, args.seconds)
    print(f"configs: {len(configs)} (from {args.configs})")
    print(
        f"genz-catalog convert_hf_config : {rate:12,.0f} conversions/s  ({done:,} in {args.seconds:.1f} CPU s, one core)"
    )
    print(
        f"target                         : {TARGET_PER_SECOND:12,} conversions/s  -> {'met' if rate >= TARGET_PER_SECOND else 'NOT met'}"
    )
    meta = meta_instantiations_per_second(configs, args.seconds)
    if meta is None:
        print(
            "transformers meta device       : skipped (torch/transformers not installed; pip install '.[oracle]')"
        )
    else:
        meta_rate, meta_done, skipped = meta
        note = f", {skipped} legacy configs it cannot load skipped" if skipped else ""
        print(
            f"transformers meta device       : {meta_rate:12,.1f} instantiations/s  ({meta_done:,} done{note})"
        )
        print(f"ratio                          : {rate / meta_rate:12,.0f}x faster")
    return 0 if rate >= TARGET_PER_SECOND else 1


if __name__ == "__main__":
    raise SystemExit(main())
