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
import threading
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
#: Documents kept in memory for HTML cells and JSON (texts of a few KB each).
_CACHE_SIZE = 4096
_cache: OrderedDict[int, str] = OrderedDict()
#: The catalog version (``PRAGMA data_version``) the cached texts belong to: ``load --replace``
#: or ``doctor --fix`` may give an id to another text, so any change empties the cache.
_cache_version: list[int | None] = [None]
_lock = threading.Lock()


def _catalog_version(datasette) -> int | None:  # noqa: ANN001
    """The served catalog's change counter, or None when it cannot be told (no caching)."""
    database = datasette.get_database(DATABASE_NAME)
    version = getattr(database, "data_version", None)
    return version() if callable(version) else None


def _cached(version: int | None, ids: set[int]) -> tuple[dict[int, str], set[int]]:
    """(texts known for ``ids``, ids still to read) at catalog ``version``."""
    if version is None:
        return {}, set(ids)
    found: dict[int, str] = {}
    with _lock:
        if _cache_version[0] != version:
            _cache.clear()
            _cache_version[0] = version
        for doc in ids:
            text = _cache.get(doc)
            if text is not None:
                _cache.move_to_end(doc)
                found[doc] = text
    return found, ids - found.keys()


def _remember(version: int | None, texts: dict[int, str]) -> None:
    if version is None:
        return
    with _lock:
        if _cache_version[0] != version:
            return
        _cache.update(texts)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def publish_rows(
    conn: sqlite3.Connection | None,
    table: str,
    columns: list[str],
    rows: list[Any],
    texts: dict[int, str] | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """``columns`` and ``rows`` (lists, as Datasette's JSON has them) with every document id
    replaced by its text under the published column name (``texts``: the models' documents,
    already read)."""
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
        store.expand_model_rows(conn, dicts, texts)
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
        if table == "models" and "model_id" in columns:
            # Mostly from memory: a page of models shares few documents.
            version = _catalog_version(datasette)
            picked = [c for c in columns if c in store.MODEL_DOCUMENT_COLUMNS]
            ids = {row[columns.index(c)] for row in rows for c in picked} - {None}
            texts, missing = _cached(version, ids)
            if missing:
                loaded = await db.execute_fn(lambda conn: store.load_documents(conn, missing))
                _remember(version, loaded)
                texts.update(loaded)
            data["columns"], data["rows"] = publish_rows(None, table, columns, rows, texts)
        else:
            data["columns"], data["rows"] = await db.execute_fn(
                lambda conn: publish_rows(conn, table, columns, rows)
            )
    return json_renderer(args, data, view_name)


async def document_text(datasette, doc: int) -> str | None:  # noqa: ANN001
    """The text of document ``doc`` (remembered while the catalog is unchanged), or None."""
    version = _catalog_version(datasette)
    found, missing = _cached(version, {doc})
    if not missing:
        return found[doc]
    result = await datasette.get_database(DATABASE_NAME).execute(
        "SELECT body FROM documents WHERE id = ?", [doc]
    )
    if not result.rows:
        return None
    text = result.rows[0][0]
    _remember(version, {doc: text})
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
