"""Migrations are SQL only; figures they add are derived for existing rows by catalog.refresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlite_utils

from genz_catalog.catalog.refresh import refresh_stale_figures, stored_config
from genz_catalog.db import connect, migrate_catalog, migrations

CONFIGS = Path(__file__).parent / "data" / "hf-configs"
STAMP = "2026-01-01T00:00:00.000Z"
JAMBA_REASON = "GenZ 0.0.16 cannot simulate hybrid Mamba/attention stacks"
#: DeepSeek-R1's multi-token-prediction layer (num_nextn_predict_layers = 1), in parameters.
DEEPSEEK_R1_MTP = 13_463_426_048


def _old_file(path: Path, stop_before: str, models: dict[str, str]) -> None:
    """A catalog file as an older genz-catalog left it: migrated up to ``stop_before``, holding
    ``models`` ({model_id: source}) with their real configs."""
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before=stop_before)
    for model_id, source in models.items():
        config = (CONFIGS / model_id.replace("/", "__") / "config.json").read_text()
        old.execute(
            "INSERT INTO models (model_id, model_name, source, config_json, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [model_id, model_id.split("/")[-1], source, config, STAMP, STAMP],
        )
    old.close()


def _figures(db: sqlite_utils.Database) -> dict[str, tuple]:
    rows = db.execute("SELECT model_id, genz_unsupported, mtp_parameter_count FROM models")
    return {model_id: (reason, mtp) for model_id, reason, mtp in rows.fetchall()}


def test_migrating_an_old_file_marks_rows_and_opening_it_derives_their_figures(tmp_path: Path):
    path = tmp_path / "old.db"
    _old_file(
        path,
        "m003_genz_unsupported",
        {
            "ai21labs/Jamba-v0.1": "huggingface",
            "deepseek-ai/DeepSeek-R1": "local",
            "mistralai/Mistral-7B-v0.1": "genz-static",
        },
    )
    # The migrations alone (no converter) add the columns empty and mark the converted rows.
    raw = sqlite_utils.Database(path)
    migrate_catalog(raw)
    assert _figures(raw) == {
        "ai21labs/Jamba-v0.1": (None, None),
        "deepseek-ai/DeepSeek-R1": (None, None),
        "mistralai/Mistral-7B-v0.1": (None, None),
    }
    marks = raw.execute("SELECT model_id, column_name FROM stale_figures ORDER BY 1, 2").fetchall()
    assert marks == [
        ("ai21labs/Jamba-v0.1", "genz_unsupported"),
        ("ai21labs/Jamba-v0.1", "mtp_parameter_count"),
        ("deepseek-ai/DeepSeek-R1", "genz_unsupported"),
        ("deepseek-ai/DeepSeek-R1", "mtp_parameter_count"),
    ]  # GenZ's static model keeps GenZ's own figures
    raw.close()

    db = connect(path)  # opened for writing: today's converter fills the marked figures
    figures = _figures(db)
    assert figures["ai21labs/Jamba-v0.1"][0].startswith(JAMBA_REASON)
    assert figures["ai21labs/Jamba-v0.1"][1] is None
    assert figures["deepseek-ai/DeepSeek-R1"] == (None, DEEPSEEK_R1_MTP)
    assert figures["mistralai/Mistral-7B-v0.1"] == (None, None)
    assert db.execute("SELECT count(*) FROM stale_figures").fetchone()[0] == 0
    # Only the figures changed: the rows keep their timestamps and get no new version.
    assert {r[0] for r in db.execute("SELECT updated_at FROM models").fetchall()} == {STAMP}
    assert db.execute("SELECT count(*) FROM model_versions").fetchone()[0] == 0


def test_a_file_that_already_has_a_figure_column_keeps_its_values(tmp_path: Path):
    # Upgraded from m007 on: genz_unsupported was filled when the file met m003, so it is not
    # marked or derived again (a hand-set value survives); mtp_parameter_count is new.
    path = tmp_path / "old.db"
    _old_file(path, "m007_mtp_parameters", {"deepseek-ai/DeepSeek-R1": "huggingface"})
    sqlite_utils.Database(path).execute(
        "UPDATE models SET genz_unsupported = 'kept as the file had it'"
    )
    db = connect(path)
    assert _figures(db) == {"deepseek-ai/DeepSeek-R1": ("kept as the file had it", DEEPSEEK_R1_MTP)}
    db.close()

    # A file at today's schema before m014 gets the marker table and nothing to derive.
    current = tmp_path / "current.db"
    _old_file(current, "m014_stale_figures", {"deepseek-ai/DeepSeek-R1": "huggingface"})
    db = connect(current)
    assert _figures(db) == {"deepseek-ai/DeepSeek-R1": (None, None)}  # as the file had them
    assert db.execute("SELECT count(*) FROM stale_figures").fetchone()[0] == 0


def test_refresh_skips_refused_configs_and_gone_models_and_clears_their_marks(tmp_path: Path):
    db = connect(tmp_path / "models.db")
    db.execute("INSERT INTO documents (hash, body) VALUES (x'00', '{\"model_type\": \"llama\"}')")
    db.execute(
        "INSERT INTO models (model_id, model_name, source, config_doc, created_at, updated_at) "
        "VALUES ('someone/broken', 'broken', 'local', last_insert_rowid(), ?, ?)",
        [STAMP, STAMP],  # no sizes: the converter refuses it
    )
    db.execute(
        "INSERT INTO stale_figures (model_id, column_name) VALUES "
        "('someone/broken', 'genz_unsupported'), ('someone/gone', 'genz_unsupported'), "
        "('someone/broken', 'config_json')"  # not a figure: never written by a refresh
    )
    assert stored_config(db, "someone/broken") == {"model_type": "llama"}
    assert stored_config(db, "someone/gone") is None
    assert refresh_stale_figures(db) == {}
    row = db.execute(
        "SELECT m.genz_unsupported, d.body FROM models m JOIN documents d ON d.id = m.config_doc"
    ).fetchone()
    assert row == (None, '{"model_type": "llama"}')
    assert db.execute("SELECT count(*) FROM stale_figures").fetchone()[0] == 0


def test_migrating_a_new_file_never_imports_the_converter(tmp_path: Path):
    code = (
        "import sys\n"
        "from genz_catalog.db import connect\n"
        f"connect({str(tmp_path / 'fresh.db')!r}).close()\n"
        "print('genz_catalog.convert' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"
