"""The original API's documented examples, run as their users wrote them.

Only the module names change (``from Models import X`` -> ``from genz_catalog.genz import X``,
``from src.db import X`` -> ``from genz_catalog import X``). Each example runs in a fresh Python
process against a temporary catalog and the local Hub stand-in, as a user's script would.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hub_server import running_hub

from genz_catalog.manager import ModelManager

DATA = Path(__file__).parent / "data"
with open(DATA / "truth.tsv", newline="") as _handle:
    TRUTH = {
        r["model_id"]: int(r["parameter_count"]) for r in csv.DictReader(_handle, delimiter="\t")
    }


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with running_hub() as server:
        for repo_id in ("mistralai/Mistral-7B-v0.1", "Qwen/Qwen2.5-7B", "microsoft/phi-2"):
            server.add_real_model(repo_id)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def run_script(source: str) -> str:
    """Run ``source`` as a user's script would (its own process); return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_programmatic_import_returns_a_bool(hub, isolated_catalog: Path):
    printed = run_script(
        """
        from genz_catalog.genz import import_model_from_hf

        # Import a model from HuggingFace
        success = import_model_from_hf("mistralai/Mistral-7B-v0.1")
        print(type(success).__name__, success)

        # Force update an existing model
        success = import_model_from_hf("mistralai/Mistral-7B-v0.1", force_update=True)
        print(type(success).__name__, success)

        # A repo the Hub does not have: False, and nothing written
        print(import_model_from_hf("nobody/no-such-model"))
        """
    )
    assert printed.splitlines() == ["bool True", "bool True", "False"]
    with ModelManager(isolated_catalog) as manager:
        model = manager.get_model("mistralai/Mistral-7B-v0.1")
        assert model["parameter_count"] == TRUTH["mistralai/Mistral-7B-v0.1"]
        assert model["current_version"] == 1  # the forced re-import found nothing new
        assert manager.get_model("nobody/no-such-model") is None


def test_import_then_use_a_new_model_with_genz(hub):
    # Example 1 of the original document, and GenZ's own lookup of the same name.
    printed = run_script(
        """
        from genz_catalog.genz import MODEL_DICT, import_model_from_hf

        # Import a model not in static definitions
        import_model_from_hf("microsoft/phi-2")

        # Now use it like any other model
        model = MODEL_DICT.get_model("microsoft/phi-2")
        print(f"Phi-2 has {model.num_decoder_layers} layers")

        from GenZ.Models import get_configs
        print(get_configs("Microsoft/Phi-2").hidden_size)
        """
    )
    assert printed.splitlines() == ["Phi-2 has 32 layers", "2560"]


def test_automatic_dynamic_loading(hub, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GENZ_CATALOG_AUTO_IMPORT", "1")
    printed = run_script(
        """
        from genz_catalog.genz import MODEL_DICT

        # If the model isn't found locally, it will automatically
        # try to import from HuggingFace (if auto_import is enabled)
        model = MODEL_DICT.get_model("mistralai/Mistral-7B-v0.1")
        print(model.num_decoder_layers, model.num_key_value_heads, model.vocab_size)
        """
    )
    assert printed.splitlines() == ["32 8 32000"]


def test_sync_static_models_returns_a_count(isolated_catalog: Path):
    printed = run_script(
        """
        from genz_catalog.genz import sync_static_models_to_db

        # Sync all static MODEL_DICT entries to database
        synced = sync_static_models_to_db()
        print(f"Synced {synced} models to database")
        print(type(synced).__name__)
        """
    )
    with ModelManager(isolated_catalog) as manager:
        static = manager.db.execute(
            "SELECT count(*) FROM models WHERE source = 'genz-static'"
        ).fetchone()[0]
    assert static > 50
    assert printed.splitlines() == [f"Synced {static} models to database", "int"]


def test_model_manager_examples(hub, isolated_catalog: Path, tmp_path: Path):
    custom = tmp_path / "custom" / "models.db"
    printed = run_script(
        f"""
        from genz_catalog.genz import import_model_from_hf
        import_model_from_hf("mistralai/Mistral-7B-v0.1")
        import_model_from_hf("Qwen/Qwen2.5-7B")

        from genz_catalog import ModelManager

        manager = ModelManager()

        # List all models
        models = manager.list_models()

        # Filter models
        gqa_models = manager.list_models(attention_type="gqa")
        large_models = manager.list_models(min_params=10_000_000_000)  # 10B+
        print(len(models), len(gqa_models), len(large_models))

        # Get model details
        model = manager.get_model("mistralai/Mistral-7B-v0.1")
        config = manager.get_model_config("mistralai/Mistral-7B-v0.1")
        print(model["parameter_count"], config["num_decoder_layers"])

        # Add quality metrics
        manager.add_quality_metric(
            model_id="mistralai/Mistral-7B-v0.1",
            metric_name="MMLU",
            metric_value=0.625,
            shots=5
        )

        # Get statistics
        stats = manager.get_stats()
        print(f"Total models: {{stats['total_models']}}")
        print(f"By attention type: {{stats['by_attention']}}")

        from genz_catalog import DatabaseConnection

        db = DatabaseConnection({str(custom)!r})
        print(db.path.exists())
        """
    )
    assert printed.splitlines() == [
        "2 2 0",
        f"{TRUTH['mistralai/Mistral-7B-v0.1']} 32",
        "Total models: 2",
        "By attention type: {'gqa': 2}",
        "True",
    ]
    with ModelManager(isolated_catalog) as manager:
        (metric,) = manager.get_quality_metrics("mistralai/Mistral-7B-v0.1")
    # 0.625 as a fraction is GenZ's 62.5 percent.
    assert (metric["metric_value"], metric["unit"], metric["shots"]) == (62.5, "percent", 5)


@pytest.mark.parametrize(
    ("value", "unit", "stored"),
    [
        (0.625, None, 62.5),  # a fraction, as the original API's users wrote it
        (62.5, None, 62.5),  # a percentage
        (0.625, "fraction", 62.5),
        (0.625, "percent", 0.625),  # an explicitly tiny percentage stays as given
        (1, None, 100.0),
        (0, None, 0.0),
        (6.2, "perplexity", 6.2),
    ],
)
def test_fractions_and_percentages_of_a_score_agree(
    value: float, unit: str | None, stored: float
) -> None:
    with ModelManager() as manager:
        manager.import_config_file(
            DATA / "hf-configs" / "mistralai__Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1"
        )
        row = manager.add_quality_metric("mistralai/Mistral-7B-v0.1", "MMLU", value, unit=unit)
    assert row["metric_value"] == stored
    assert row["unit"] == (unit if unit not in (None, "fraction") else "percent")


def test_a_fraction_above_one_is_refused() -> None:
    from genz_catalog.errors import InvalidInputError

    with ModelManager() as manager:
        manager.import_config_file(
            DATA / "hf-configs" / "mistralai__Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1"
        )
        with pytest.raises(InvalidInputError, match=r"outside 0-1 \(unit: fraction\)"):
            manager.add_quality_metric("mistralai/Mistral-7B-v0.1", "MMLU", 62.5, unit="fraction")
