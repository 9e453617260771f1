"""The document store as visitors see it: the published shape, in JSON and on pages.

``models`` and ``model_versions`` refer to their JSON documents by id (see
:mod:`genz_catalog.store`). Datasette's JSON for those tables (and their row pages) still
gives the texts, as ``config_json``, ``genz_config_json``, ``memory_json``, ``warnings_json``
and ``snapshot_json``, where the id columns were: :func:`render_json` wraps Datasette's own JSON
renderer. In HTML, a document-id cell shows its document the way the text columns were shown
(indented and folded), from a small cache: a document's text never changes for its id.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from typing import Any

import sqlite_utils
from datasette.renderer import json_renderer
from markupsafe import Markup

from .. import store
from ..catalog.versions import live_snapshot_text
from . import DATABASE_NAME
from .cells import render_cell_html

#: Document-id column -> the text column of the published shape, per table.
PUBLISHED_COLUMNS = {
    "models": store.MODEL_DOCUMENT_COLUMNS,
    "model_versions": {"snapshot_doc": "snapshot_json"},
}
#: Documents kept in memory for HTML cells (texts of a few KB each).
_CACHE_SIZE = 2048
_cache: OrderedDict[tuple[str, int], str | None] = OrderedDict()


def publish_rows(
    conn: sqlite3.Connection, table: str, columns: list[str], rows: list[Any]
) -> tuple[list[str], list[list[Any]]]:
    """``columns`` and ``rows`` (lists, as Datasette's JSON has them) with every document id
    replaced by its text under the published column name."""
    mapping = PUBLISHED_COLUMNS[table]
    if not any(c in mapping for c in columns):
        return columns, rows
    dicts = [dict(zip(columns, row, strict=False)) for row in rows]
    if table == "models":
        if "model_id" not in columns:  # ?_col= without the id: GenZ texts need it
            return columns, rows
        for d in dicts:
            for doc_column in store.MODEL_DOCUMENT_COLUMNS:
                d.setdefault(doc_column, None)
        picked = [c for c in store.MODEL_DOCUMENT_COLUMNS if c in columns]
        store.expand_model_rows(conn, dicts)
        for d in dicts:
            for doc_column, text_column in store.MODEL_DOCUMENT_COLUMNS.items():
                if doc_column not in picked:
                    d.pop(text_column, None)
    else:
        if "model_id" not in columns:
            return columns, rows
        db = sqlite_utils.Database(conn)
        store.snapshot_texts(conn, dicts, lambda model_id: live_snapshot_text(db, model_id))
    published = [mapping.get(c, c) for c in columns]
    return published, [[d.get(c) for c in published] for d in dicts]


async def render_json(datasette, request, data, view_name, args, database=None, table=None):  # noqa: ANN001, ANN201
    """Datasette's JSON, with the document ids of ``models`` and ``model_versions`` given back
    as their texts (the shape ``models.json`` had before the store)."""
    if (
        database == DATABASE_NAME
        and table in PUBLISHED_COLUMNS
        and isinstance(data, dict)
        and data.get("columns")
        and data.get("rows")
        and not data.get("error")
    ):
        db = datasette.get_database(DATABASE_NAME)
        columns, rows = list(data["columns"]), [list(r) for r in data["rows"]]
        data["columns"], data["rows"] = await db.execute_fn(
            lambda conn: publish_rows(conn, table, columns, rows)
        )
    return json_renderer(args, data, view_name)


async def document_text(datasette, doc: int) -> str | None:  # noqa: ANN001
    """The text of document ``doc`` (cached), or None."""
    key = (DATABASE_NAME, doc)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    result = await datasette.get_database(DATABASE_NAME).execute(
        "SELECT body FROM documents WHERE id = ?", [doc]
    )
    text = result.rows[0][0] if result.rows else None
    _cache[key] = text
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return text


async def render_document_cell(
    datasette,  # noqa: ANN001
    value: Any,
    column: str,
    table: str,
    row: Any,
) -> Markup | None:
    """A document-id cell of ``models`` / ``model_versions`` shown as its document."""
    text_column = PUBLISHED_COLUMNS[table][column]
    if value is None:
        if column == "snapshot_doc":
            return Markup('<span class="genz-note">current: the models row</span>')
        return None
    if isinstance(value, dict):  # Datasette expanded the foreign key to {value, label}
        value = value.get("value")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    text = await document_text(datasette, value)
    if text is None:
        return None
    if column == "genz_doc":
        try:
            text = store.genz_text(text, row["model_id"])
        except (KeyError, IndexError, TypeError):
            pass
    shown = render_cell_html(text, text_column, table, row)
    # An empty list folds to nothing; Datasette would then print the id link instead.
    return shown if shown else Markup("&nbsp;")
