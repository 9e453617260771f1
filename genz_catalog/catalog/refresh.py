"""Figures derived again from stored configs: what a migration that adds a figure column leaves.

A migration is SQL only (:mod:`genz_catalog.db`): it adds the column, and the models already in
the file are marked in ``stale_figures``. :func:`refresh_stale_figures` then derives each marked
figure from the model's stored ``config.json`` with today's converter and deletes the mark;
:func:`genz_catalog.db.connect` runs it whenever a file opened for writing has marks (after an
upgrade, or after an interrupted refresh). A config the converter refuses keeps NULL: a figure
the catalog cannot derive is not shown, never guessed. Only the marked columns change: no new
version, no other column, no ``updated_at`` (the model's content, its config, is the same).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from ..convert import convert_hf_config
from ..db import FIGURE_COLUMNS, write_transaction
from ..store import unpack_document

#: Columns a refresh may write: figures the converter's record holds under the same name.
REFRESHABLE_COLUMNS = frozenset({*FIGURE_COLUMNS, "genz_unsupported"})
#: Models re-derived per write transaction: other writers wait at most one batch (about a
#: second of converting) for the lock.
BATCH_MODELS = 500


def stored_config(db: sqlite_utils.Database, model_id: str) -> dict[str, Any] | None:
    """The model's stored Hugging Face ``config.json`` as a dict; None when the model is gone or
    its stored config is missing or not a JSON object. The one place the refresh reads configs."""
    row = db.execute(
        "SELECT d.body FROM models m JOIN documents d ON d.id = m.config_doc WHERE m.model_id = ?",
        [model_id],
    ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        config = json.loads(unpack_document(row[0]))
    except ValueError:
        return None
    return config if isinstance(config, dict) else None


def derive_figures(
    model_id: str, config: Mapping[str, Any], columns: list[str]
) -> dict[str, Any] | None:
    """``columns`` of the converter's record for ``config`` (booleans as 0/1, as stored); None
    when the converter refuses the config (the columns then stay as they are, NULL)."""
    try:
        record = convert_hf_config(dict(config), model_id=model_id)
    except (ValueError, RecursionError):  # ConversionError is a ValueError
        return None
    figures = {}
    for column in columns:
        value = record.get(column)
        figures[column] = int(value) if isinstance(value, bool) else value
    return figures


def refresh_stale_figures(db: sqlite_utils.Database) -> dict[str, int]:
    """Derive every marked figure again and clear the marks; returns, per column, how many
    models got a value (NULL results are not counted). Batches of :data:`BATCH_MODELS` models,
    each one write transaction, so an interruption keeps what was done and the rest resumes at
    the next call. GenZ's static models are left alone (their figures are GenZ's own)."""
    written: dict[str, int] = {}
    while True:
        with write_transaction(db):
            # Read inside the transaction: a second process that waited for the lock finds the
            # marks its predecessor cleared, and converts nothing twice.
            batch = db.execute(
                "SELECT model_id, group_concat(column_name, char(31)) FROM stale_figures "
                "GROUP BY model_id LIMIT ?",
                [BATCH_MODELS],
            ).fetchall()
            if not batch:
                return written
            for model_id, names in batch:
                _refresh_model(db, model_id, names.split("\x1f"), written)
                db.execute("DELETE FROM stale_figures WHERE model_id = ?", [model_id])


def _refresh_model(
    db: sqlite_utils.Database, model_id: str, columns: list[str], written: dict[str, int]
) -> None:
    # A column name comes from the file: only known figure columns are ever written.
    columns = sorted(c for c in set(columns) if c in REFRESHABLE_COLUMNS)
    source = db.execute("SELECT source FROM models WHERE model_id = ?", [model_id]).fetchone()
    if not columns or source is None or source[0] == "genz-static":
        return
    config = stored_config(db, model_id)
    figures = derive_figures(model_id, config, columns) if config is not None else None
    if figures is None:
        return
    assignments = ", ".join(f"{column} = ?" for column in figures)
    db.execute(f"UPDATE models SET {assignments} WHERE model_id = ?", [*figures.values(), model_id])
    for column, value in figures.items():
        if value is not None:
            written[column] = written.get(column, 0) + 1
