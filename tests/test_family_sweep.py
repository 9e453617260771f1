"""Every family the installed transformers defines: an exact count or a clear refusal (issue 11).

Walks every ``model_type`` in transformers' causal-LM, seq2seq-LM and image-text-to-text
mappings, builds the family's default config, counts its parameters on the meta device (the
oracle) and converts the same config the way a real Hub file spells it (``to_dict()``: the
transformers 5 form; and rewritten to the transformers 4 form). Each family is then

- ``within``: the converter's count is within 0.5% of the oracle's,
- ``refused``: the converter raised :class:`ConversionError` (a clear refusal is fine),
- ``wrong``: the converter returned a number outside 0.5% (the suite fails),
- ``no oracle``: transformers itself cannot instantiate its default config (not counted).

The summary table is printed in the test output. The transformers version is pinned in the
``oracle`` extra (pyproject.toml) so that a new release cannot turn CI red overnight; raise the
pin on purpose, with this sweep. Runtime: about a minute on one core (instantiating ~300 default
configs on the meta device).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest

from genz_catalog.convert import ConversionError, convert_hf_config

pytestmark = pytest.mark.oracle

TOLERANCE = 0.005


@dataclass
class FamilyResult:
    """One family's outcome: the oracle's count, the converter's count or refusal."""

    family: str
    model_class: str | None = None
    oracle: int | None = None
    oracle_error: str | None = None
    config_v5: dict[str, Any] = field(default_factory=dict)
    config_v4: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int | str] = field(default_factory=dict)  # spelling -> count or refusal

    def outcome(self, spelling: str) -> str:
        if self.oracle is None:
            return "no oracle"
        result = self.counts[spelling]
        if isinstance(result, str):
            return "crashed" if result.startswith("CRASH") else "refused"
        return "within" if abs(result - self.oracle) <= TOLERANCE * self.oracle else "wrong"


def _families() -> dict[str, list[str]]:
    """model_type -> candidate model classes: image-text-to-text first (the whole model a
    wrapper config describes), then the encoder-decoder generation model (seq2seq LM, or speech
    seq2seq for Whisper: what a checkpoint of the family holds, not the decoder-only
    ``*ForCausalLM`` transformers also registers for BART-like families), then causal LM."""
    from transformers.models.auto import modeling_auto

    swept = (
        modeling_auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
    )
    families = {model_type for mapping in swept for model_type in mapping}
    candidates: dict[str, list[str]] = {}
    for mapping in (
        modeling_auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    ):
        for model_type, class_name in mapping.items():
            if model_type not in families:
                continue  # speech seq2seq: only families the three swept mappings define
            names = class_name if isinstance(class_name, (list, tuple)) else [class_name]
            candidates.setdefault(model_type, []).extend(names)
    return candidates


def v4_spelling(config: dict[str, Any], attribute_map: dict[str, str]) -> dict[str, Any]:
    """``config`` (transformers 5 ``to_dict()``) as transformers 4 wrote it.

    ``rope_parameters`` becomes ``rope_theta`` / ``rope_scaling`` (and ``partial_rotary_factor``
    moves back to the top level), ``dtype`` becomes ``torch_dtype``, and every canonical key of the
    config class's ``attribute_map`` goes back to its alias (e.g. Qwen3-MoE ``num_local_experts``
    -> ``num_experts``): transformers loads a file in either spelling, so the converter must too.
    """
    old = {}
    for key, value in config.items():
        if key == "dtype":
            old["torch_dtype"] = value
        elif key == "rope_parameters" and isinstance(value, dict) and "rope_theta" in value:
            rope = dict(value)
            old["rope_theta"] = rope.pop("rope_theta")
            if "partial_rotary_factor" in rope:
                old["partial_rotary_factor"] = rope.pop("partial_rotary_factor")
            if rope.get("rope_type", "default") != "default":
                old["rope_scaling"] = rope
        else:
            old[key] = value
    for alias, canonical in attribute_map.items():
        if canonical in old and alias not in old and not alias.startswith("_"):
            old[alias] = old.pop(canonical)
    return old


def completed_like_a_hub_file(config: Any) -> bool:
    """Fill the two dimensions some transformers default configs leave ``None`` though their
    model needs them (HunYuan, Ministral: ``head_dim``; Nemotron: ``num_key_value_heads``), the
    way every real config.json of those families states them. True when anything was filled."""
    changed = False
    hidden = getattr(config, "hidden_size", None)
    heads = getattr(config, "num_attention_heads", None)
    if isinstance(hidden, int) and isinstance(heads, int) and heads:
        if "head_dim" in config.to_dict() and getattr(config, "head_dim", 0) is None:
            config.head_dim = hidden // heads
            changed = True
        if getattr(config, "num_key_value_heads", 0) is None:
            config.num_key_value_heads = heads
            changed = True
    return changed


def _convert(config: dict[str, Any]) -> int | str:
    try:
        return convert_hf_config(config)["parameter_count"]
    except ConversionError as error:
        return str(error)
    except Exception as error:  # a crash is a defect: reported as such, never as a refusal
        return f"CRASH {type(error).__name__}: {error}"


@pytest.fixture(scope="module")
def sweep() -> tuple[list[FamilyResult], float]:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    transformers.logging.set_verbosity_error()
    started = time.perf_counter()
    results = []
    for family, class_names in sorted(_families().items()):
        result = FamilyResult(family)
        attempts = [(class_name, False) for class_name in class_names]
        attempts += [(class_name, True) for class_name in class_names]
        for class_name, repair in attempts:
            try:
                config = CONFIG_MAPPING[family]()
                if repair and not completed_like_a_hub_file(config):
                    continue
                model_class = getattr(transformers, class_name)
                with warnings.catch_warnings(), torch.device("meta"):
                    warnings.simplefilter("ignore")
                    model = model_class._from_config(config)
            except Exception as error:  # transformers' own default config does not build
                if not repair:
                    result.oracle_error = f"{class_name}: {type(error).__name__}: {error}"[:160]
                continue
            result.model_class = class_name + (" (default config completed)" if repair else "")
            result.oracle = sum(parameter.numel() for parameter in model.parameters())
            result.oracle_error = None
            result.config_v5 = config.to_dict()
            attribute_map = dict(getattr(type(config), "attribute_map", {}) or {})
            result.config_v4 = v4_spelling(result.config_v5, attribute_map)
            break
        if result.oracle is not None:
            result.counts["5.x"] = _convert(result.config_v5)
            result.counts["4.x"] = _convert(result.config_v4)
        results.append(result)
    return results, time.perf_counter() - started


def _table(results: list[FamilyResult], seconds: float) -> str:
    """The summary: a count per outcome, then the families of each outcome by name.

    ``GENZ_SWEEP_VERBOSE=1`` adds one row per family (oracle count, converter count or refusal).
    """
    import os

    import transformers

    by_outcome: dict[str, list[str]] = {}
    for result in results:
        by_outcome.setdefault(result.outcome("5.x"), []).append(result.family)
    counted = len(results) - len(by_outcome.get("no oracle", []))
    within = len(by_outcome.get("within", []))
    lines = [
        f"family sweep: transformers {transformers.__version__}, {len(results)} families "
        f"(causal LM, seq2seq LM, image-text-to-text), {seconds:.0f} s",
        f"  {'outcome':<34} families",
        f"  {'within 0.5% of the meta device':<34} {within:>4}  ({100 * within / counted:.0f}% of "
        f"{counted} instantiable)",
        f"  {'refused (ConversionError)':<34} {len(by_outcome.get('refused', [])):>4}",
        f"  {'wrong (outside 0.5%)':<34} {len(by_outcome.get('wrong', [])):>4}",
        f"  {'crashed':<34} {len(by_outcome.get('crashed', [])):>4}",
        f"  {'transformers cannot instantiate':<34} {len(by_outcome.get('no oracle', [])):>4}",
    ]
    for outcome in ("wrong", "crashed", "within", "refused", "no oracle"):
        if by_outcome.get(outcome):
            lines.append(f"  {outcome}: " + ", ".join(by_outcome[outcome]))
    if os.environ.get("GENZ_SWEEP_VERBOSE"):
        for result in results:
            converted = result.counts.get("5.x", result.oracle_error)
            if isinstance(converted, str):
                converted = converted[:110]
            elif isinstance(converted, int):
                converted = f"{converted:,}"
            oracle = f"{result.oracle:,}" if result.oracle is not None else "-"
            lines.append(f"  {result.family:<28} {oracle:>20}  {converted}")
    return "\n".join(lines)


@pytest.mark.timeout(900)  # builds ~300 models on the meta device: about a minute on one core
def test_every_family_is_within_tolerance_or_refused(
    sweep: tuple[list[FamilyResult], float], capsys: pytest.CaptureFixture[str]
) -> None:
    results, seconds = sweep
    with capsys.disabled():
        print("\n" + _table(results, seconds))
    bad = [
        f"{result.family}: {result.counts['5.x']} vs transformers {result.oracle:,}"
        for result in results
        if result.oracle is not None and result.outcome("5.x") in ("wrong", "crashed")
    ]
    assert not bad, "families counted wrong (outside 0.5%) or crashing:\n" + "\n".join(bad)
    # The sweep must really have swept: most families build, and the handled ones count.
    assert sum(result.oracle is not None for result in results) >= 250
    assert sum(result.outcome("5.x") == "within" for result in results if result.oracle) >= 50


@pytest.mark.timeout(900)
def test_transformers_4_spelling_converts_like_transformers_5(
    sweep: tuple[list[FamilyResult], float],
) -> None:
    results, _ = sweep
    differ = []
    for result in results:
        if result.oracle is None:
            continue
        new, old = result.counts["5.x"], result.counts["4.x"]
        if result.outcome("4.x") in ("wrong", "crashed"):
            differ.append(
                f"{result.family} (4.x spelling): {old} vs transformers {result.oracle:,}"
            )
        elif isinstance(new, int) and new != old:
            differ.append(f"{result.family}: 5.x spelling counts {new:,}, 4.x gives {old}")
    assert not differ, "\n".join(differ)
    # Qwen3-MoE is the example: num_local_experts (5.x) and num_experts (4.x).
    qwen3_moe = next(result for result in results if result.family == "qwen3_moe")
    assert "num_local_experts" in qwen3_moe.config_v5 and "num_experts" in qwen3_moe.config_v4
    assert qwen3_moe.outcome("5.x") == qwen3_moe.outcome("4.x") == "within"


def test_spelling_table_matches_the_pinned_transformers() -> None:
    pytest.importorskip("transformers")
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "spelling_table.py"
    spec = importlib.util.spec_from_file_location("spelling_table", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.TABLE.read_text() == module.render(module.build_table()), (
        "genz_catalog/convert/_spelling_table.py is stale: run python scripts/spelling_table.py"
    )
