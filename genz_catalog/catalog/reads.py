"""Reads: one model by id or alias, listings with filters, full-text search, close matches."""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
from typing import Any

import sqlite_utils

from ..errors import InvalidInputError, ModelNotFoundError
from ..record import SORT_LIST, sortable_columns
from ..store import expand_model_rows
from .ids import check_limit, parse_size
from .remembered_searches import REMEMBERED_ROWS, STORED_MODELS_SQL, search_key
from .search_scores import escape_fts_query

#: A query using any of these is FTS5 syntax the user meant; anything else is escaped.
_FTS_SYNTAX = re.compile(r'(?:^|[\s(])(?:AND|OR|NOT|NEAR)(?:[\s(]|$)|["*()^]')
_SEARCH_HELP = (
    'write plain words (llama 8b), a "quoted phrase", word* for a prefix, '
    "or join terms with AND, OR, NOT (e.g. llama OR mistral)"
)

#: Columns of ``models`` that ``list_models(order_by=...)`` accepts (prefix ``-`` for descending):
#: the id and name, the record's labels marked sortable in ``list``, the source, its numbers
#: marked so (:mod:`genz_catalog.record`), then Hub counts and times.
SORTABLE_COLUMNS = (
    "model_id",
    "model_name",
    *sortable_columns(SORT_LIST, sql_type="TEXT"),
    "source",
    *sortable_columns(SORT_LIST, sql_type="INTEGER"),
    "downloads",
    "likes",
    "created_at",
    "updated_at",
)


def load_json(text: str | None, default: Any = None) -> Any:
    """A JSON column's value parsed; ``default`` for NULL or ''."""
    if text is None or text == "":
        return default
    return json.loads(text)


def hydrate(row: dict[str, Any], aliases: list[str] | None = None) -> dict[str, Any]:
    """A ``models`` row with its JSON columns parsed into ``config``, ``genz_config`` etc."""
    model = dict(row)
    model["config"] = load_json(row.get("config_json"), {})
    model["genz_config"] = load_json(row.get("genz_config_json"), {})
    model["memory"] = load_json(row.get("memory_json"), {})
    model["warnings"] = load_json(row.get("warnings_json"), [])
    model["tags"] = load_json(row.get("tags_json"), [])
    model["is_moe"] = bool(row.get("is_moe"))
    model["is_deleted"] = bool(row.get("is_deleted"))
    if aliases is not None:
        model["aliases"] = aliases
    return model


def model_row(
    db: sqlite_utils.Database,
    model_id: str,
    include_deleted: bool = False,
    follow_aliases: bool = True,
) -> dict[str, Any] | None:
    """The ``models`` row for an id (or, with ``follow_aliases``, an alias), or None.

    Matching is case-insensitive.
    """
    deleted = "" if include_deleted else " AND is_deleted = 0"
    rows = list(db.query(f"SELECT * FROM models WHERE model_id = ?{deleted}", [model_id]))
    if not rows and follow_aliases:
        rows = list(
            db.query(
                "SELECT m.* FROM model_aliases a JOIN models m ON m.model_id = a.model_id "
                f"WHERE a.alias = ?{deleted.replace('is_deleted', 'm.is_deleted')}",
                [model_id],
            )
        )
    if not rows:
        return None
    return published(db, rows)[0]


def published(db: sqlite_utils.Database, rows: list[Any]) -> list[dict[str, Any]]:
    """``models`` rows as dicts in the published shape: their documents (config, GenZ
    arguments, memory, warnings) back as the ``*_json`` text columns."""
    found = [dict(r) for r in rows]
    expand_model_rows(db.conn, found)
    return found


def aliases_of(db: sqlite_utils.Database, model_id: str) -> list[str]:
    """A model's aliases, sorted."""
    return [
        r["alias"]
        for r in db.query(
            "SELECT alias FROM model_aliases WHERE model_id = ? ORDER BY alias", [model_id]
        )
    ]


def get_model(
    db: sqlite_utils.Database,
    model_id: str,
    include_deleted: bool = False,
    follow_aliases: bool = True,
) -> dict[str, Any] | None:
    """The model with this id or alias (case-insensitive), with parsed JSON fields, or None."""
    row = model_row(db, model_id, include_deleted, follow_aliases)
    if row is None:
        return None
    return hydrate(row, aliases_of(db, row["model_id"]))


def require_model(
    db: sqlite_utils.Database, model_id: str, include_deleted: bool = False
) -> dict[str, Any]:
    """Like :func:`get_model`, but raise :class:`ModelNotFoundError` (with close matches)."""
    model = get_model(db, model_id, include_deleted)
    if model is None:
        raise ModelNotFoundError(model_id, close_matches(db, model_id))
    return model


def close_matches(db: sqlite_utils.Database, name: str, n: int = 3) -> list[str]:
    """Up to ``n`` model ids that look like ``name`` (for "did you mean" messages)."""
    candidates: set[str] = set()
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    if words:
        fts = " OR ".join('"' + w + '"*' for w in words)
        candidates.update(
            r["model_id"]
            for r in db.query(
                "SELECT m.model_id FROM models_fts f JOIN models m ON m.rowid = f.rowid "
                "WHERE models_fts MATCH ? AND m.is_deleted = 0 LIMIT 500",
                [fts],
            )
        )
    if len(candidates) < 50:
        candidates.update(
            r["model_id"]
            for r in db.query("SELECT model_id FROM models WHERE is_deleted = 0 LIMIT 5000")
        )
    # Match against the full id and the part after the org, so "llama-3.2" finds
    # "meta-llama/Llama-3.1-8B" as readily as "meta-llama/llama-3.2" does.
    lowered: dict[str, str] = {}
    for candidate in sorted(candidates):
        lowered.setdefault(candidate.lower(), candidate)
        lowered.setdefault(candidate.split("/")[-1].lower(), candidate)
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=n * 2, cutoff=0.5)
    found: list[str] = []
    for match in matches:
        if lowered[match] not in found:
            found.append(lowered[match])
    return found[:n]


def list_models(
    db: sqlite_utils.Database,
    model_type: str | None = None,
    attention_type: str | None = None,
    family: str | None = None,
    source: str | None = None,
    min_params: int | str | None = None,
    max_params: int | str | None = None,
    is_moe: bool | None = None,
    search: str | None = None,
    include_deleted: bool = False,
    limit: int | None = None,
    order_by: str | None = None,
) -> list[dict[str, Any]]:
    """Models matching every given filter, as ``models`` rows (JSON columns left as text).

    See :meth:`genz_catalog.manager.ModelManager.list_models`.
    """
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("model_type", model_type),
        ("attention_type", attention_type),
        ("family", family),
        ("source", source),
    ):
        if value is not None:
            where.append(f"m.{column} = ? COLLATE NOCASE")
            params.append(value)
    if min_params is not None:
        where.append("m.parameter_count >= ?")
        params.append(parse_size(min_params))
    if max_params is not None:
        where.append("m.parameter_count <= ?")
        params.append(parse_size(max_params))
    if is_moe is not None:
        where.append("m.is_moe = ?")
        params.append(1 if is_moe else 0)
    if not include_deleted:
        where.append("m.is_deleted = 0")
    join = ""
    order = "m.model_id"
    if search is not None:
        fts = escape_fts_query(search)
        if fts:
            join = " JOIN models_fts f ON f.rowid = m.rowid"
            where.append("models_fts MATCH ?")
            params.append(fts)
            order = "f.rank, m.model_id"
        else:
            # Nothing searchable ('', '"'): a search that names nothing matches nothing.
            where.append("0")
    if order_by:
        descending = order_by.startswith("-")
        column = order_by.lstrip("-")
        if column not in SORTABLE_COLUMNS:
            raise InvalidInputError(
                f"cannot sort by {column!r}; choose one of: " + ", ".join(SORTABLE_COLUMNS)
            )
        order = f"m.{column} {'DESC' if descending else 'ASC'}, m.model_id"
    sql = f"SELECT m.* FROM models m{join}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(check_limit(limit))
    return published(db, list(db.query(sql, params)))


def search_models(
    db: sqlite_utils.Database, query: str, limit: int | None = None, include_deleted: bool = False
) -> list[dict[str, Any]]:
    """Full-text search over model id, name, family and aliases, best match first.

    See :meth:`genz_catalog.manager.ModelManager.search_models`.
    """
    if not isinstance(query, str) or not escape_fts_query(query):
        raise InvalidInputError("search query is empty; " + _SEARCH_HELP)
    syntax = bool(_FTS_SYNTAX.search(query))
    match = query.strip() if syntax else escape_fts_query(query)
    if not syntax and not include_deleted and limit is not None:
        if check_limit(limit) <= REMEMBERED_ROWS:
            # The first ``limit`` of the 200 best are the ``limit`` best: one order. A search
            # that matched nothing stores no rows and is ranked (in no time).
            stored = _stored_models(db, search_key(query), limit)
            if stored:
                return published(db, stored)
    # As the search_models canned query: ranked in the index alone (deleted models left out
    # through idx_models_deleted), equally good matches in import order, and only the rows
    # wanted read from models.
    best = "SELECT rowid AS id, rank FROM models_fts WHERE models_fts MATCH ?"
    params: list[Any] = [match]
    if not include_deleted:
        best += " AND rowid NOT IN (SELECT rowid FROM models WHERE is_deleted = 1)"
    best += " ORDER BY rank, rowid"
    if limit is not None:
        best += " LIMIT ?"
        params.append(check_limit(limit))
    sql = f"SELECT m.* FROM ({best}) best JOIN models m ON m.rowid = best.id ORDER BY best.rank, best.id"
    try:
        return published(db, list(db.query(sql, params)))
    except sqlite3.OperationalError:
        # SQLite's FTS5 messages vary ("fts5: syntax error", "unterminated string", "unknown
        # special query", "no such column"); any error the query alone also raises on an
        # empty index is the query's fault. Anything else (a locked or broken file) is not.
        if fts_query_is_valid(db, match):
            raise
        raise InvalidInputError(f"invalid search query {query!r}; {_SEARCH_HELP}") from None


def _stored_models(db: sqlite_utils.Database, key: str, limit: int) -> list[Any]:
    """The ``models`` rows of the stored answer of ``key``, or none (none stored at the current
    generation, or a read-only file from before m028 without its tables)."""
    try:
        return list(db.query(STORED_MODELS_SQL, [key, limit]))
    except sqlite3.OperationalError:
        return []


def fts_query_is_valid(db: sqlite_utils.Database, match: str) -> bool:
    """Whether SQLite accepts ``match`` as an FTS5 query on the catalog's index columns."""
    columns = [row[1] for row in db.execute("PRAGMA table_info(models_fts)")]
    if not columns:
        return True  # no index to judge against: the failure is the file's, not the query's
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.execute(
            "CREATE VIRTUAL TABLE probe USING fts5("
            + ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
            + ")"
        )
        try:
            scratch.execute("SELECT * FROM probe WHERE probe MATCH ?", [match]).fetchall()
        except sqlite3.OperationalError:
            return False
    finally:
        scratch.close()
    return True
