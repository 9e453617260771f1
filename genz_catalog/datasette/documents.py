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
from ..catalog.versions import publish_versions
from . import DATABASE_NAME
from .cells import render_cell_html
from .functions import document_text

#: Document-id column -> the text column of the published shape, per table.
PUBLISHED_COLUMNS = {
    "models": store.MODEL_DOCUMENT_COLUMNS,
    "model_versions": {"snapshot_doc": "snapshot_json"},
}


class _DocumentCache:
    """Document texts kept in memory for HTML cells and JSON, for one catalog version
    (``PRAGMA data_version``): ``load --replace`` or ``doctor --fix`` may give an id another
    text, so any change to the catalog empties it."""

    SIZE = 4096  # texts of a few KB each

    def __init__(self) -> None:
        self._texts: OrderedDict[int, str] = OrderedDict()
        self._version: int | None = None
        self._lock = threading.Lock()

    def get(self, version: int, ids: set[int]) -> dict[int, str]:
        with self._lock:
            if self._version != version:
                self._texts.clear()
                self._version = version
            found = {doc: self._texts[doc] for doc in ids if doc in self._texts}
            for doc in found:
                self._texts.move_to_end(doc)
        return found

    def put(self, version: int, texts: dict[int, str]) -> None:
        with self._lock:
            if self._version == version:
                self._texts.update(texts)
                while len(self._texts) > self.SIZE:
                    self._texts.popitem(last=False)


_cache = _DocumentCache()


async def document_texts(datasette, ids: set[int]) -> dict[int, str]:  # noqa: ANN001
    """The texts of documents ``ids`` (``{id: body}``; unknown ids left out), from memory while
    the served catalog is unchanged."""
    database = datasette.get_database(DATABASE_NAME)
    data_version = getattr(database, "data_version", None)  # CatalogDatabase only
    version = data_version() if callable(data_version) else None
    found = _cache.get(version, ids) if version is not None else {}
    missing = ids - found.keys()
    if missing:
        loaded = await database.execute_fn(lambda conn: store.load_documents(conn, missing))
        if version is not None:
            _cache.put(version, loaded)
        found.update(loaded)
    return found


def _published_models(
    columns: list[str], rows: list[list[Any]], texts: dict[int, str]
) -> tuple[list[str], list[list[Any]]]:
    """``models`` columns and rows (lists, as Datasette's JSON has them) with each document id
    replaced by its text (from ``texts``) under the published column name, as
    :func:`genz_catalog.store.expand_model_rows` gives a row. Worked by column position, not
    through a dict a row: this runs for every row of every models JSON page."""
    published = [store.MODEL_DOCUMENT_COLUMNS.get(c, c) for c in columns]
    documents = _document_positions(columns)
    genz = columns.index("genz_doc") if "genz_doc" in columns else None
    model_id = columns.index("model_id")
    out = []
    for row in rows:
        new = list(row)
        for i in documents:
            doc = row[i]
            new[i] = None if doc is None else texts.get(doc)
        if genz is not None:
            new[genz] = store.genz_text(new[genz], row[model_id])
        out.append(new)
    return published, out


def _document_positions(columns: list[str]) -> list[int]:
    """Where the ``models`` columns holding document ids are among ``columns``."""
    return [i for i, c in enumerate(columns) if c in store.MODEL_DOCUMENT_COLUMNS]


def _published_versions(
    conn: sqlite3.Connection, columns: list[str], rows: list[list[Any]]
) -> tuple[list[str], list[list[Any]]]:
    """``model_versions`` columns and rows with ``snapshot_doc`` given as ``snapshot_json``."""
    dicts = [dict(zip(columns, row, strict=True)) for row in rows]
    publish_versions(sqlite_utils.Database(conn), dicts)
    published = [PUBLISHED_COLUMNS["model_versions"].get(c, c) for c in columns]
    return published, [[d.get(c) for c in published] for d in dicts]


async def render_json(datasette, request, data, view_name, args, database=None, table=None):  # noqa: ANN001, ANN201
    """Datasette's JSON, with the document ids of ``models`` and ``model_versions`` given back
    as their texts (the shape ``models.json`` had before the store)."""
    if database == DATABASE_NAME and table == "documents" and isinstance(data, dict):
        _unpacked_bodies(data)
    if (
        database == DATABASE_NAME
        and table in PUBLISHED_COLUMNS
        and isinstance(data, dict)
        and data.get("rows")
        and not data.get("error")
        # The GenZ texts and live snapshots need each row's id (``?_col=`` may leave it out).
        and "model_id" in (data.get("columns") or ())
        and any(c in PUBLISHED_COLUMNS[table] for c in data["columns"])
    ):
        columns = list(data["columns"])
        rows = data["rows"]
        if "_labels" in request.args or "_label" in request.args:
            # Foreign keys expanded to {value, label} (Datasette does so only when asked): the
            # documents are given as their texts here, and the rows are read by their values.
            rows = [[_plain(value) for value in r] for r in rows]
        if table == "models":
            positions = _document_positions(columns)
            ids = {r[i] for r in rows for i in positions if r[i] is not None}
            texts = await document_texts(datasette, ids)
            data["columns"], data["rows"] = _published_models(columns, rows, texts)
        else:
            catalog = datasette.get_database(DATABASE_NAME)
            data["columns"], data["rows"] = await catalog.execute_fn(
                lambda conn: _published_versions(conn, columns, rows)
            )
    return json_renderer(args, data, view_name)


def _plain(value: Any) -> Any:
    """A cell's value: Datasette's ``{"value": ..., "label": ...}`` of an expanded foreign key
    gives its value."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def _unpacked_bodies(data: dict[str, Any]) -> None:
    """The ``documents`` table's JSON with packed bodies (configs) given as their texts, as
    ``genz_document()`` gives them, in place: the stored BLOB would otherwise come out as base64
    of deflate."""
    columns = list(data.get("columns") or ())
    if "body" not in columns or not data.get("rows"):
        return
    at = columns.index("body")
    rows = []
    for row in data["rows"]:
        values = list(row.values()) if isinstance(row, dict) else list(row)
        if isinstance(values[at], bytes):
            values[at] = document_text(values[at])
        rows.append(dict(zip(columns, values, strict=True)) if isinstance(row, dict) else values)
    data["rows"] = rows


def render_body_cell(value: Any) -> Markup | None:
    """A ``documents.body`` cell: a packed config shown as its JSON text, like every other
    document (a damaged one says so)."""
    if isinstance(value, bytes):
        try:
            value = store.unpack_document(value)
        except ValueError as exc:
            return Markup('<span class="genz-note">{}</span>').format(str(exc))
    return render_cell_html(value, "config_json", "documents")


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
    text = (await document_texts(datasette, {value})).get(value)
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
