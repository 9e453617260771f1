"""The CLI as a new user meets it: the README's own examples, empty catalogs, folders of models,
ids the Hub has served, readable diffs and tables that fit the terminal."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from genz_catalog import ModelManager
from genz_catalog.cli import cli
from genz_catalog.cli.models import EMPTY_CATALOG_HINT
from genz_catalog.cli.output import format_count

DATA = Path(__file__).parent / "data"
CONFIGS = DATA / "hf-configs"
LLAMA = "meta-llama/Llama-3.1-8B"
MISTRAL = "mistralai/Mistral-7B-v0.1"
with open(DATA / "truth.tsv", newline="") as _handle:
    TRUTH = {
        r["model_id"]: int(r["parameter_count"]) for r in csv.DictReader(_handle, delimiter="\t")
    }


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


@pytest.fixture
def catalog(isolated_catalog: Path):
    with ModelManager() as manager:
        for model_id in (LLAMA, MISTRAL, "meta-llama/Llama-3.2-3B"):
            manager.import_config_file(CONFIGS / model_id.replace("/", "__"), model_id)
        yield manager


def test_search_takes_several_words_as_the_readme_shows(catalog: ModelManager):
    result = run("search", "llama", "8b", "--csv", "-c", "model_id")
    assert (result.exit_code, result.stdout) == (0, f"model_id\n{LLAMA}\n")
    # The words must all match: "llama 3b" is the 3B model alone, not every llama.
    assert run("search", "llama", "3b", "--csv", "-c", "model_id").stdout == (
        "model_id\nmeta-llama/Llama-3.2-3B\n"
    )


def test_an_empty_catalog_says_how_to_fill_it(isolated_catalog: Path):
    ModelManager(isolated_catalog).close()  # a catalog file with the schema and no model
    result = run("list")
    assert result.exit_code == 0
    assert result.stderr == EMPTY_CATALOG_HINT + "\n"
    assert "sync --defaults" in EMPTY_CATALOG_HINT
    # Machine formats stay machine-readable: an empty list, no prose.
    assert (run("list", "--json").stdout, run("list", "--json").stderr) == ("[]\n", "")


def test_a_filter_that_matches_nothing_is_not_an_empty_catalog(catalog: ModelManager):
    result = run("list", "--family", "mamba")
    assert (result.exit_code, result.stderr) == (0, "")


def test_sync_defaults_loads_the_bundled_catalog(isolated_catalog: Path):
    result = run("sync", "--defaults")
    assert result.exit_code == 0, result.output
    assert "imported 55 bundled Hugging Face configs" in result.stdout
    with ModelManager(isolated_catalog) as manager:
        assert manager.get_model(LLAMA)["parameter_count"] == TRUTH[LLAMA]
        assert manager.get_model("llama3_8b") is not None  # GenZ's static names too
    # Idempotent: what is there stays.
    again = run("sync", "--defaults")
    assert "imported 0 bundled Hugging Face configs" in again.stdout
    both = run("sync", "--defaults", "--static")
    assert (both.exit_code, both.stderr) == (2, "Error: give --static or --defaults, not both\n")


def test_import_a_folder_of_model_folders(tmp_path: Path, isolated_catalog: Path):
    models = tmp_path / "models"
    for folder in ("mistralai__Mistral-7B-v0.1", "Qwen__Qwen2.5-3B"):
        shutil.copytree(CONFIGS / folder, models / folder)
    # A fine-tune whose config still names its base model: the folder names it.
    tuned = models / "my-lab__mistral-sql"
    tuned.mkdir(parents=True)
    config = json.loads((CONFIGS / "mistralai__Mistral-7B-v0.1" / "config.json").read_text())
    (tuned / "config.json").write_text(json.dumps({**config, "_name_or_path": MISTRAL}))
    (models / ".cache" / "junk").mkdir(parents=True)
    (models / ".cache" / "junk" / "config.json").write_text("{}")

    result = run("import", str(models), "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert [(r["model_id"], r["status"]) for r in rows] == [
        ("Qwen/Qwen2.5-3B", "imported"),
        (MISTRAL, "imported"),
        ("my-lab/mistral-sql", "imported"),
    ]
    with ModelManager(isolated_catalog) as manager:
        assert manager.get_model("Qwen/Qwen2.5-3B")["parameter_count"] == TRUTH["Qwen/Qwen2.5-3B"]
        assert manager.get_model("my-lab/mistral-sql")["parameter_count"] == TRUTH[MISTRAL]


def test_import_a_folder_without_any_config(tmp_path: Path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    result = run("import", str(tmp_path / "empty"))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {tmp_path / 'empty'}: no config.json in this folder or below it\n",
    )


def test_a_real_hub_id_with_a_trailing_dash_is_accepted(isolated_catalog: Path):
    model_id = "IrfanUruchi/Llama-2-13B-Computer-Engineering-"
    source = CONFIGS / model_id.replace("/", "__")
    result = run("import", str(source))
    assert (result.exit_code, result.stdout) == (0, f"imported {model_id} (version 1)\n")
    shown = json.loads(run("show", model_id, "--json").stdout)
    assert shown["parameter_count"] == TRUTH[model_id]
    # Unsafe ids stay refused: a leading '-' reads as an option, a leading '.' as a hidden file.
    for bad in ("-lab/x", ".lab/x", "lab/x."):
        refused = run("import", str(CONFIGS / "mistralai__Mistral-7B-v0.1"), "--id", bad)
        assert refused.exit_code == 1 and "must not start with" in refused.stderr


def test_diff_shows_nested_values_as_json(catalog: ModelManager):
    config = json.loads((CONFIGS / "meta-llama__Llama-3.1-8B" / "config.json").read_text())
    config["rope_scaling"] = {**config["rope_scaling"], "factor": 16.0}
    config["num_hidden_layers"] = 16
    catalog.update_model(LLAMA, config, change_description="longer context, half the layers")
    table = run("diff", LLAMA, "1", "2", "--fmt", "plain").stdout
    line = next(row for row in table.splitlines() if row.startswith("config.rope_scaling.factor"))
    assert line.split() == ["config.rope_scaling.factor", "8.0", "16.0"]
    layers = next(row for row in table.splitlines() if row.startswith("memory.kv_layers"))
    assert '[{"count": 32' in layers and '[{"count": 16' in layers and "{'count'" not in layers


def test_tables_fit_the_terminal_and_take_columns(catalog: ModelManager):
    wide = run("list")
    assert max(len(line) for line in wide.stdout.splitlines()) > 150  # no terminal: whole rows
    narrow = run("list", env={"COLUMNS": "100"})
    assert narrow.exit_code == 0
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 100
    assert narrow.stdout.splitlines()[0].split()[:2] == ["model_id", "family"]
    assert "more columns to the right" in narrow.stderr and "-c" in narrow.stderr
    picked = run("list", "-c", "model_id,parameter_count", "--columns", "family", "--fmt", "plain")
    assert picked.stdout.splitlines()[0].split() == ["model_id", "parameter_count", "family"]
    assert [LLAMA, "8.03B", "llama"] in [line.split() for line in picked.stdout.splitlines()]
    assert json.loads(run("show", LLAMA, "-c", "parameter_count", "--json").stdout) == {
        "parameter_count": TRUTH[LLAMA]
    }
    unknown = run("list", "-c", "nope")
    assert unknown.exit_code == 1 and unknown.stderr.startswith(
        "Error: -c/--columns: no column 'nope'; choose from: model_id, family"
    )


def test_show_wraps_long_values_to_the_terminal(catalog: ModelManager):
    shown = run("show", LLAMA, env={"COLUMNS": "80"})
    assert shown.exit_code == 0
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (999_600_000, "1B"),
        (999_499_999, "999M"),
        (8_030_261_248, "8.03B"),
        (124_439_808, "124M"),
        (999_999, "1M"),
        (1_000_000, "1M"),
        (70_553_706_496, "70.6B"),
        (671_026_419_200, "671B"),
        (1_234_567_890_123_456, "1230T"),
        (999, "999"),
    ],
)
def test_counts_for_people_never_use_exponents(count: int, text: str):
    assert format_count(count) == text


@pytest.mark.parametrize("endpoint", ["http://no-such-host.invalid", "http://127.0.0.1:9"])
def test_discover_without_a_hub_says_so_at_once(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    started = time.monotonic()
    result = run("discover", "--author", "Qwen")
    elapsed = time.monotonic() - started
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: discover: cannot reach the Hub at {endpoint}; check your network connection "
        "or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to import from the local cache\n",
    )
    # Not a timing benchmark: the listing's own retries took ~10 s before reporting a timeout.
    assert elapsed < 6
