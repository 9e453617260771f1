"""ModelManager: every write to the catalog goes through here, each as one transaction.

A write that changes a model updates its row, records a version when the content changed (the
FTS entry follows through triggers) and drops the model's cached values, all in one
``BEGIN IMMEDIATE`` transaction: a crash leaves the old state or the new, never half.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import sqlite3
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from . import limits as _limits
from .convert import ConversionError, convert_hf_config
from .db import DERIVED_COLUMNS, connect, escape_fts_query, resolve_db_path, write_transaction
from .errors import (
    CatalogError,
    InvalidInputError,
    InvalidModelIdError,
    ModelExistsError,
    ModelNotFoundError,
    VersionNotFoundError,
)

#: Longest model id accepted (characters). Hub ids are at most 96 + 1 + 96.
MAX_MODEL_ID_LENGTH = 200
#: Largest size ``parse_size`` accepts (a SQLite INTEGER holds up to ~9.2e18).
MAX_SIZE = 10**18
#: Largest config.json accepted from a file or the Hub (bytes); see :mod:`genz_catalog.limits`.
MAX_CONFIG_BYTES = _limits.MAX_CONFIG_BYTES
_MODEL_ID_CHARS = re.compile(r"^[A-Za-z0-9._+\-/]+$")
#: A query using any of these is FTS5 syntax the user meant; anything else is escaped.
_FTS_SYNTAX = re.compile(r'(?:^|[\s(])(?:AND|OR|NOT|NEAR)(?:[\s(]|$)|["*()^]')
_SEARCH_HELP = (
    'write plain words (llama 8b), a "quoted phrase", word* for a prefix, '
    "or join terms with AND, OR, NOT (e.g. llama OR mistral)"
)

#: Columns of ``models`` that ``list_models(order_by=...)`` accepts (prefix ``-`` for descending).
SORTABLE_COLUMNS = (
    "model_id",
    "model_name",
    "family",
    "model_type",
    "attention_type",
    "source",
    "parameter_count",
    "active_parameter_count",
    "num_layers",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "num_experts",
    "context_length",
    "vocab_size",
    "downloads",
    "likes",
    "created_at",
    "updated_at",
)

#: Hub metadata keys ``add_model(hub_metadata=...)`` understands (columns of ``models``).
HUB_METADATA_KEYS = (
    "hub_id",
    "revision_sha",
    "hub_parameter_count",
    "license",
    "gated",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "likes",
    "hub_created_at",
    "hub_last_modified",
)
#: Relative gap between computed and Hub parameter counts above which a model is flagged.
PARAMETER_MISMATCH_TOLERANCE = 0.01

# Sanity bounds that turn absurd configs into errors instead of rows.
_BOUNDS = {
    "num_layers": (1, 10_000),
    "hidden_size": (1, 1_000_000),
    "num_attention_heads": (1, 100_000),
    "num_key_value_heads": (1, 100_000),
    "head_dim": (1, 100_000),
    "vocab_size": (1, 100_000_000),
    "parameter_count": (1, 10**15),
    "context_length": (1, 1_000_000_000),
    "num_experts": (1, 1_000_000),
}


def utc_now() -> str:
    """Current UTC time as ISO-8601 with milliseconds, e.g. ``2026-11-28T12:00:00.000Z``."""
    return _iso(datetime.now(timezone.utc))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (hex, first 16 bytes) of the config's canonical JSON: key order does not matter."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def validate_model_id(model_id: str) -> str:
    """Return ``model_id`` stripped, or raise :class:`InvalidModelIdError` naming the broken rule.

    Rules: not empty; at most 200 characters; no control characters; only letters, digits and
    ``. _ + -``, with at most one ``/`` between two non-empty parts; no ``..``; no part starts
    with ``.`` or ``-`` or ends with ``.`` (a hidden or relative file name, a command-line
    option). Anything else the Hub has served is accepted, e.g. a trailing ``-``
    (``IrfanUruchi/Llama-2-13B-Computer-Engineering-``), which today's naming rule forbids.
    """
    if not isinstance(model_id, str):
        raise InvalidModelIdError("model id must be a string")
    # Printable ASCII (nearly every id) has no control characters: skip the per-character scan.
    if not (model_id.isascii() and model_id.isprintable()) and any(
        unicodedata.category(ch).startswith("C") for ch in model_id
    ):
        raise InvalidModelIdError("model id must not contain control characters")
    model_id = model_id.strip()
    if not model_id:
        raise InvalidModelIdError("model id must not be empty")
    if len(model_id) > MAX_MODEL_ID_LENGTH:
        raise InvalidModelIdError(
            f"model id is {len(model_id)} characters long; at most {MAX_MODEL_ID_LENGTH} allowed"
        )
    if ".." in model_id:
        raise InvalidModelIdError(f"model id {model_id!r} must not contain '..'")
    if not _MODEL_ID_CHARS.match(model_id):
        raise InvalidModelIdError(
            f"model id {model_id!r} may only contain letters, digits, '.', '_', '+', '-' and one '/'"
        )
    parts = model_id.split("/")
    if len(parts) > 2 or any(not part for part in parts):
        raise InvalidModelIdError(
            f"model id {model_id!r} must be 'name' or 'org/name' (one '/', no empty parts)"
        )
    if any(part[0] in ".-" or part[-1] == "." for part in parts):
        raise InvalidModelIdError(
            f"model id {model_id!r}: a name or org must not start with '.' or '-' or end "
            "with '.' (unsafe as a file name or a command-line argument)"
        )
    return model_id


def parse_size(text: str | int | float) -> int:
    """Parse a parameter count: ``7B``, ``500M``, ``1.5e9``, ``70k``, ``1T`` or a plain integer."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        raw = str(text).strip().replace("_", "").replace(",", "")
        multiplier = 1.0
        suffixes = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
        if raw and raw[-1].lower() in suffixes:
            multiplier = suffixes[raw[-1].lower()]
            raw = raw[:-1]
        try:
            value = float(raw) * multiplier
        except ValueError:
            raise InvalidInputError(
                f"invalid size {text!r}: use a number with an optional K, M, B or T suffix, "
                "e.g. 7B, 500M, 1.5e9"
            ) from None
    if math.isnan(value):
        raise InvalidInputError(f"invalid size {text!r}: not a number")
    if math.isinf(value):
        raise InvalidInputError(f"invalid size {text!r}: infinite; give a finite size such as 70B")
    if value < 0:
        raise InvalidInputError(f"invalid size {text!r}: must not be negative")
    if value > MAX_SIZE:
        raise InvalidInputError(f"invalid size {text!r}: at most {MAX_SIZE:.0e} allowed")
    return int(round(value))


_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|T)")


def _check_date(text: str) -> None:
    """Raise :class:`InvalidInputError` unless ``text`` is YYYY-MM-DD or a full ISO-8601 time."""
    try:
        ok = (
            bool(_DATE_START.match(text))
            and datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            is not None
        )
    except ValueError:
        ok = False
    if not ok:
        raise InvalidInputError(
            f"date {text!r} is not a date; use YYYY-MM-DD (2024-07-23) or ISO-8601 "
            "(2024-07-23T12:00:00Z)"
        )


def _check_limit(limit: Any) -> int:
    """A row limit as an int 0 or more, or :class:`InvalidInputError`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidInputError(f"limit must be a whole number 0 or more, not {limit!r}")
    return limit


@dataclass
class WriteResult:
    """What a write did: ``status`` is ``imported``, ``updated``, ``unchanged`` or ``skipped``."""

    model_id: str
    status: str
    version: int | None = None
    warnings: list[str] = field(default_factory=list)


def _load_json(text: str | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return json.loads(text)


def _hydrate(row: dict[str, Any], aliases: list[str] | None = None) -> dict[str, Any]:
    """A ``models`` row with its JSON columns parsed into ``config``, ``genz_config`` etc."""
    model = dict(row)
    model["config"] = _load_json(row.get("config_json"), {})
    model["genz_config"] = _load_json(row.get("genz_config_json"), {})
    model["memory"] = _load_json(row.get("memory_json"), {})
    model["warnings"] = _load_json(row.get("warnings_json"), [])
    model["tags"] = _load_json(row.get("tags_json"), [])
    model["is_moe"] = bool(row.get("is_moe"))
    model["is_deleted"] = bool(row.get("is_deleted"))
    if aliases is not None:
        model["aliases"] = aliases
    return model


class ModelManager:
    """The catalog's read and write API.

    ``ModelManager()`` opens the default catalog (``$GENZ_CATALOG_DB`` or
    ``~/.genz_simulator/db/models.db``); pass a path, or an open ``sqlite_utils.Database``.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        *,
        db: sqlite_utils.Database | None = None,
        read_only: bool = False,
    ):
        # read_only: the file must exist and is never changed (see db.connect); writes fail.
        self.db = db if db is not None else connect(db_path, read_only=read_only)
        self.path = resolve_db_path(db_path) if db is None else None
        self.read_only = read_only

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> ModelManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads

    def _row(
        self, model_id: str, include_deleted: bool = False, follow_aliases: bool = True
    ) -> dict[str, Any] | None:
        """The ``models`` row for an id (or, with ``follow_aliases``, an alias), or None.

        Matching is case-insensitive.
        """
        deleted = "" if include_deleted else " AND is_deleted = 0"
        rows = list(self.db.query(f"SELECT * FROM models WHERE model_id = ?{deleted}", [model_id]))
        if not rows and follow_aliases:
            rows = list(
                self.db.query(
                    "SELECT m.* FROM model_aliases a JOIN models m ON m.model_id = a.model_id "
                    f"WHERE a.alias = ?{deleted.replace('is_deleted', 'm.is_deleted')}",
                    [model_id],
                )
            )
        return rows[0] if rows else None

    def _aliases(self, model_id: str) -> list[str]:
        return [
            r["alias"]
            for r in self.db.query(
                "SELECT alias FROM model_aliases WHERE model_id = ? ORDER BY alias", [model_id]
            )
        ]

    def get_model(
        self, model_id: str, include_deleted: bool = False, follow_aliases: bool = True
    ) -> dict[str, Any] | None:
        """The model with this id or alias (case-insensitive), with parsed JSON fields, or None.

        Soft-deleted models are hidden unless ``include_deleted``; ``follow_aliases=False``
        matches real model ids only.
        """
        row = self._row(model_id, include_deleted, follow_aliases)
        if row is None:
            return None
        return _hydrate(row, self._aliases(row["model_id"]))

    def require_model(self, model_id: str, include_deleted: bool = False) -> dict[str, Any]:
        """Like :meth:`get_model`, but raise :class:`ModelNotFoundError` (with close matches)."""
        model = self.get_model(model_id, include_deleted)
        if model is None:
            raise ModelNotFoundError(model_id, self.close_matches(model_id))
        return model

    def close_matches(self, name: str, n: int = 3) -> list[str]:
        """Up to ``n`` model ids that look like ``name`` (for "did you mean" messages)."""
        candidates: set[str] = set()
        words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
        if words:
            fts = " OR ".join('"' + w + '"*' for w in words)
            candidates.update(
                r["model_id"]
                for r in self.db.query(
                    "SELECT m.model_id FROM models_fts f JOIN models m ON m.rowid = f.rowid "
                    "WHERE models_fts MATCH ? AND m.is_deleted = 0 LIMIT 500",
                    [fts],
                )
            )
        if len(candidates) < 50:
            candidates.update(
                r["model_id"]
                for r in self.db.query(
                    "SELECT model_id FROM models WHERE is_deleted = 0 LIMIT 5000"
                )
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

    def get_model_config(self, model_id: str) -> dict[str, Any]:
        """The GenZ ``ModelConfig`` keyword arguments of a model (raises if unknown)."""
        return self.require_model(model_id)["genz_config"]

    def list_models(
        self,
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

        Sizes take ``7B``-style strings or ints. ``search`` is free text over id, name, family and
        aliases (prefix match, FTS syntax escaped). ``order_by`` is a column name from
        :data:`SORTABLE_COLUMNS`, ``-`` prefixed for descending; by default search results come
        by relevance and other listings by model id.
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
            params.append(_check_limit(limit))
        return [dict(r) for r in self.db.query(sql, params)]

    def search_models(
        self, query: str, limit: int | None = None, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """Full-text search over model id, name, family and aliases, best match first.

        Plain words match as prefixes with FTS syntax escaped (``Llama-3.1 8b`` just works). A
        query that uses FTS5 syntax (``AND``, ``OR``, ``NOT``, ``NEAR``, ``"a phrase"``,
        ``prefix*``, parentheses) is passed through as written; if SQLite rejects it the
        :class:`InvalidInputError` says how to write one.
        """
        if not isinstance(query, str) or not escape_fts_query(query):
            raise InvalidInputError("search query is empty; " + _SEARCH_HELP)
        match = query.strip() if _FTS_SYNTAX.search(query) else escape_fts_query(query)
        sql = (
            "SELECT m.* FROM models m JOIN models_fts f ON f.rowid = m.rowid "
            "WHERE models_fts MATCH ?"
        )
        params: list[Any] = [match]
        if not include_deleted:
            sql += " AND m.is_deleted = 0"
        sql += " ORDER BY f.rank, m.model_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(_check_limit(limit))
        try:
            return [dict(r) for r in self.db.query(sql, params)]
        except sqlite3.OperationalError:
            # SQLite's FTS5 messages vary ("fts5: syntax error", "unterminated string", "unknown
            # special query", "no such column"); any error the query alone also raises on an
            # empty index is the query's fault. Anything else (a locked or broken file) is not.
            if self._fts_query_is_valid(match):
                raise
            raise InvalidInputError(f"invalid search query {query!r}; {_SEARCH_HELP}") from None

    def _fts_query_is_valid(self, match: str) -> bool:
        """Whether SQLite accepts ``match`` as an FTS5 query on the catalog's index columns."""
        columns = [row[1] for row in self.db.execute("PRAGMA table_info(models_fts)")]
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

    # ------------------------------------------------------------------ writes

    def add_model(
        self,
        model_id: str,
        config: Mapping[str, Any] | None = None,
        *,
        record: Mapping[str, Any] | None = None,
        source: str = "manual",
        model_name: str | None = None,
        hub_metadata: Mapping[str, Any] | None = None,
        aliases: Iterable[str | tuple[str, str]] = (),
        if_exists: str = "error",
        force: bool = False,
        change_description: str | None = None,
    ) -> WriteResult:
        """Add (or with ``force`` / ``if_exists="update"``, replace) one model in one transaction.

        Give either a Hugging Face ``config`` (converted here; :class:`ConversionError` if it
        cannot be) or an already converted ``record`` (with ``config`` as its raw source, e.g. a
        GenZ static config). ``if_exists`` is ``"error"`` (raise :class:`ModelExistsError`),
        ``"skip"`` (leave it, status ``skipped``) or ``"update"``. Re-adding identical content
        records no new version (status ``unchanged``). ``aliases`` are names or
        ``(name, kind)`` pairs; an alias already owned by another model is left with it.
        """
        prepared = self._prepare(model_id, config, record, source, model_name)
        if force:
            if_exists = "update"
        with write_transaction(self.db):
            return self._write_prepared(
                prepared, hub_metadata, aliases, if_exists, change_description
            )

    def add_models(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        if_exists: str = "error",
        batch_size: int = 500,
        on_error: Callable[[Mapping[str, Any], Exception], None] | None = None,
    ) -> Iterator[WriteResult]:
        """Bulk :meth:`add_model`: each item is a dict of its keyword arguments.

        Items are written ``batch_size`` to a transaction, so a crash loses at most the batch in
        flight and never leaves half a model. Conversion errors are raised before the batch's
        transaction opens, so a bad item writes nothing of its batch.

        With ``on_error``, an item the catalog refuses while its batch is written (an id that
        exists with ``if_exists="error"``, a bare name that is another model's alias) is rolled
        back alone, passed to ``on_error(item, error)`` and yields no result; the rest of the
        batch is written. Without it, the error is raised and the batch writes nothing.
        """
        batch: list[tuple[dict[str, Any], Mapping[str, Any]]] = []
        for item in items:
            # "prepared": content already built by _prepare in a worker process
            # (admin.import_config_files), so the writer only writes.
            prepared = item.get("prepared") or self._prepare(
                item["model_id"],
                item.get("config"),
                item.get("record"),
                item.get("source", "manual"),
                item.get("model_name"),
            )
            batch.append((prepared, item))
            if len(batch) >= batch_size:
                yield from self._write_batch(batch, if_exists, on_error)
                batch = []
        if batch:
            yield from self._write_batch(batch, if_exists, on_error)

    def _write_batch(
        self,
        batch: list[tuple[dict[str, Any], Mapping[str, Any]]],
        if_exists: str,
        on_error: Callable[[Mapping[str, Any], Exception], None] | None = None,
    ) -> list[WriteResult]:
        # Bulk fast path: items whose id names nothing in the catalog or earlier in the batch are
        # inserted in runs with multi-row INSERTs; any other item is written by _write_prepared after
        # the pending run is flushed. Names claimed earlier in the batch (ids and aliases) send
        # an item to the slow path, so the outcome equals writing the items one by one.
        with write_transaction(self.db):
            taken = self._names_taken([prepared["model_id"] for prepared, _ in batch])
            results: list[WriteResult] = []
            run: list[tuple[dict[str, Any], Mapping[str, Any], list]] = []
            for prepared, item in batch:
                mode = item.get("if_exists", if_exists)
                if mode not in ("error", "skip", "update"):
                    raise InvalidInputError(
                        f"if_exists must be error, skip or update, not {mode!r}"
                    )
                aliases = list(item.get("aliases", ()))
                model_id = prepared["model_id"]
                if model_id.lower() in taken:
                    results.extend(self._insert_new_models(run))
                    run = []
                    if on_error is None:
                        results.append(self._write_existing(prepared, item, aliases, mode))
                    else:
                        self.db.execute("SAVEPOINT bulk_item")
                        try:
                            results.append(self._write_existing(prepared, item, aliases, mode))
                        except (CatalogError, ConversionError) as exc:
                            self.db.execute("ROLLBACK TO bulk_item")
                            on_error(item, exc)
                        finally:
                            self.db.execute("RELEASE bulk_item")
                else:
                    run.append((prepared, item, aliases))
                taken.add(model_id.lower())
                taken.update(name.lower() for name, _ in _wanted_aliases(model_id, aliases) if name)
            results.extend(self._insert_new_models(run))
            return results

    def _write_existing(
        self,
        prepared: dict[str, Any],
        item: Mapping[str, Any],
        aliases: list,
        mode: str,
    ) -> WriteResult:
        """The bulk slow path: an item whose id (or alias) is already taken."""
        model_id = prepared["model_id"]
        known = self._row(model_id, include_deleted=True)
        if (
            known is not None
            and known["model_id"] != model_id
            and (known["model_id"].lower() == model_id.lower())
        ):
            # A case variant of a stored model or of one written earlier in this batch:
            # convert under the stored spelling, as add_model would.
            prepared = self._prepare_again(item)
        return self._write_prepared(
            prepared, item.get("hub_metadata"), aliases, mode, item.get("change_description")
        )

    def _prepare_again(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`_prepare` an item afresh; a ``prepared`` item is redone from its stored
        ``config_json`` (what ``admin.import_config_files`` sends from its workers)."""
        done = item.get("prepared")
        if done is not None and item.get("config") is None and item.get("record") is None:
            return self._prepare(
                item["model_id"],
                json.loads(done["config_json"]),
                None,
                done["source"],
                None if not done.get("_name_given") else done["model_name"],
            )
        return self._prepare(
            item["model_id"],
            item.get("config"),
            item.get("record"),
            item.get("source", "manual"),
            item.get("model_name"),
        )

    def _names_taken(self, names: list[str]) -> set[str]:
        """Lower-cased ``names`` that already name a model (as id or alias)."""
        found: set[str] = set()
        # Each name is bound twice; SQLite before 3.32 allows only 999 parameters.
        per_query = max(1, min(500, _variable_limit(self.db.conn) // 2))
        for start in range(0, len(names), per_query):
            chunk = names[start : start + per_query]
            marks = ", ".join("?" for _ in chunk)
            found.update(
                str(row[0]).lower()
                for row in self.db.execute(
                    f"SELECT model_id FROM models WHERE model_id IN ({marks}) UNION ALL "
                    f"SELECT alias FROM model_aliases WHERE alias IN ({marks})",
                    [*chunk, *chunk],
                )
            )
        return found

    def _insert_new_models(
        self, run: list[tuple[dict[str, Any], Mapping[str, Any], list]]
    ) -> list[WriteResult]:
        """Insert models known to be new (see :meth:`_write_batch`); the caller holds the lock."""
        if not run:
            return []
        now = utc_now()
        # Consecutive rows with the same columns share multi-row INSERTs; insertion order (and so
        # rowids) stays that of the items.
        row_groups: list[tuple[tuple[str, ...], list[tuple]]] = []
        versions: list[tuple] = []
        wanted: list[tuple[str, str, str]] = []
        results: list[WriteResult] = []
        for prepared, item, aliases in run:
            content = dict(prepared)
            content.pop("_name_given", None)
            # Encoded beforehand by a convert worker (admin.import_config_files) when it can be.
            snapshot_json = content.pop("_snapshot_json", None)
            model_id = content["model_id"]
            hub = _hub_columns(
                item.get("hub_metadata"),
                content.get("parameter_count"),
                content.get("mtp_parameter_count"),
            )
            if snapshot_json is None or hub:
                snapshot_json = json.dumps(_snapshot({**content, **hub}), sort_keys=True)
            row = {
                **content,
                **hub,
                "current_version": 1,
                "created_at": now,
                "updated_at": now,
                "is_deleted": 0,
            }
            if not row_groups or row_groups[-1][0] != tuple(row):
                row_groups.append((tuple(row), []))
            row_groups[-1][1].append(tuple(row.values()))
            versions.append(
                (
                    model_id,
                    1,
                    content["config_hash"],
                    snapshot_json,
                    item.get("change_description") or "imported",
                    now,
                )
            )
            wanted.extend(
                (name, kind, model_id) for name, kind in _wanted_aliases(model_id, aliases)
            )
            results.append(
                WriteResult(model_id, "imported", 1, _load_json(content["warnings_json"], []))
            )
        conn = self.db.conn
        alias_rows = []
        claimed = self._names_taken([name for name, _, _ in wanted if name])
        claimed.update(result.model_id.lower() for result in results)
        for name, kind, model_id in wanted:
            if not name or name.lower() == model_id.lower() or name.lower() in claimed:
                continue
            claimed.add(name.lower())
            alias_rows.append((name, model_id, kind, now))
        # Models before their aliases: deferring foreign keys to insert aliases first would make
        # SQLite scan every child table per model (their model_id indexes are BINARY, the parent
        # key NOCASE), which measured 10x slower at 6k models.
        # Multi-row INSERTs, not executemany: each row of an executemany is its own statement,
        # and FTS5 flushes its pending terms to a new segment at every statement that fires
        # the FTS triggers (its savepoint hook), so per-row statements cost ~100 us a model in
        # FTS segment writes and merges at 100k models (bench/import.py); one statement per
        # few hundred rows flushes once.
        for columns, rows in row_groups:
            _insert_many(conn, "models", columns, rows)
        _insert_many(conn, "model_aliases", ("alias", "model_id", "kind", "created_at"), alias_rows)
        conn.executemany(
            "INSERT INTO model_versions (model_id, version, config_hash, snapshot_json, "
            "change_description, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            versions,
        )
        return results

    def update_model(
        self,
        model_id: str,
        config: Mapping[str, Any] | None = None,
        *,
        record: Mapping[str, Any] | None = None,
        model_name: str | None = None,
        hub_metadata: Mapping[str, Any] | None = None,
        change_description: str | None = None,
    ) -> WriteResult:
        """Change an existing model: new config (re-converted), name or Hub metadata.

        A content change records a new version and drops the model's cached values.
        """
        existing = self.require_model(model_id, include_deleted=True)
        if config is None and record is None:
            # Only the name or Hub metadata change: keep the stored conversion as it is (a
            # re-conversion could fail for records that never came from an HF config).
            record = self._record_from_row(existing)
        prepared = self._prepare(
            existing["model_id"],
            config,
            record,
            existing["source"],
            model_name or existing["model_name"],
        )
        with write_transaction(self.db):
            return self._write_prepared(prepared, hub_metadata, (), "update", change_description)

    @staticmethod
    def _record_from_row(model: Mapping[str, Any]) -> dict[str, Any]:
        record = {c: model.get(c) for c in DERIVED_COLUMNS if not c.endswith("_json")}
        record["memory"] = model.get("memory") or {}
        record["genz_kwargs"] = model.get("genz_config") or {}
        record["warnings"] = model.get("warnings") or []
        record["config"] = model.get("config") or {}
        return record

    def _prepare(
        self,
        model_id: str,
        config: Mapping[str, Any] | None,
        record: Mapping[str, Any] | None,
        source: str,
        model_name: str | None,
        *,
        stored_spelling: bool = True,
    ) -> dict[str, Any]:
        """Validate and convert outside any transaction; returns the row's content columns.

        ``stored_spelling=False`` skips the look-up of a stored case variant of the id, for
        callers whose writer redoes the conversion when there is one (``_write_batch``).
        """
        model_id = validate_model_id(model_id)
        # One indexed lookup (NOCASE primary key), not _row: it runs for every bulk item.
        stored = (
            self.db.conn.execute(
                "SELECT model_id FROM models WHERE model_id = ?", [model_id]
            ).fetchone()
            if stored_spelling
            else None
        )
        if stored is not None:
            # A case variant of a stored id means that model: convert under its stored spelling
            # (the id is part of the GenZ config), so identical content stays "unchanged".
            model_id = stored[0]
        if source not in ("huggingface", "local", "genz-static", "manual"):
            raise InvalidInputError(
                f"unknown source {source!r}; use huggingface, local, genz-static or manual"
            )
        if record is None:
            if not isinstance(config, Mapping):
                raise InvalidInputError(f"{model_id}: config must be a JSON object")
            # Limits first: a config nested 1,000 deep or holding NaN must be refused with a
            # reason, before the converter or json.dumps meets it.
            non_finite = _check_config_limits(model_id, config)
            record = convert_hf_config(dict(config), model_id=model_id)
            raw_config = dict(config)
        else:
            raw_config = dict(record.get("config") or config or {})
            non_finite = _check_config_limits(model_id, raw_config)
        _check_bounds(model_id, record)
        # Stored strictly: NaN/Infinity become strings (SQLite's JSON functions refuse them).
        strict_warnings: list[str] = []
        if non_finite:  # rare (transformers' time_step_limit): copy only then
            raw_config, strict_warnings = _limits.strict_config(raw_config)
        content: dict[str, Any] = {
            "model_id": model_id,
            "source": source,
            "model_name": model_name or model_id.split("/")[-1],
            # Popped by _write_prepared: a defaulted name must not rename an existing model
            # that was re-imported under a case variant of its id.
            "_name_given": model_name is not None,
        }
        for column in _RECORD_COLUMNS:
            value = record.get(column)
            content[column] = int(value) if isinstance(value, bool) else value
        content["memory_json"] = _limits.dumps_strict(record.get("memory") or {}, sort_keys=True)
        content["genz_config_json"] = _limits.dumps_strict(
            record.get("genz_kwargs") or {}, sort_keys=True
        )
        content["warnings_json"] = json.dumps(list(record.get("warnings") or []) + strict_warnings)
        content["config_json"] = _limits.dumps_strict(raw_config, sort_keys=True)
        content["config_hash"] = config_hash(raw_config)
        return content

    def _write_prepared(
        self,
        content: dict[str, Any],
        hub_metadata: Mapping[str, Any] | None,
        aliases: Iterable[str | tuple[str, str]],
        if_exists: str,
        change_description: str | None,
    ) -> WriteResult:
        """Write one prepared model; the caller holds the write transaction."""
        if if_exists not in ("error", "skip", "update"):
            raise InvalidInputError(f"if_exists must be error, skip or update, not {if_exists!r}")
        now = utc_now()
        content = dict(content)
        name_given = content.pop("_name_given", True)
        content.pop("_snapshot_json", None)
        model_id = content["model_id"]
        existing = self._row(model_id, include_deleted=True)
        if existing is not None and existing["model_id"].lower() != model_id.lower():
            if "/" not in model_id:
                # A bare name that is another model's alias: never shadow it with a new row.
                raise ModelExistsError(model_id)
            # A full org/name id beats an alias of that spelling (GenZ registers real Hub ids as
            # aliases of its own approximations, e.g. google/gemma-2b-it -> google/gemma-2B):
            # the real model takes its name back.
            self.db.execute("DELETE FROM model_aliases WHERE alias = ?", [model_id])
            existing = None
        hub = _hub_columns(
            hub_metadata, content.get("parameter_count"), content.get("mtp_parameter_count")
        )
        warnings = _load_json(content["warnings_json"], [])
        models = self.db.table("models")
        if existing is None:
            row = {
                **content,
                **hub,
                "current_version": 1,
                "created_at": now,
                "updated_at": now,
                "is_deleted": 0,
            }
            models.insert(row)
            self._insert_version(
                model_id, 1, {**content, **hub}, change_description or "imported", now
            )
            self._add_aliases(model_id, aliases, now)
            return WriteResult(model_id, "imported", 1, warnings)
        model_id = existing["model_id"]
        if not name_given:
            content["model_name"] = existing["model_name"]
        if if_exists == "error":
            raise ModelExistsError(model_id)
        if if_exists == "skip":
            return WriteResult(model_id, "skipped", existing["current_version"], warnings)
        merged = _snapshot({**existing, **content, **hub})
        # The flag must follow whichever count changed: new config, new Hub figure, or both.
        merged["parameter_mismatch"] = _parameter_mismatch(
            merged.get("parameter_count"),
            merged.get("hub_parameter_count"),
            merged.get("mtp_parameter_count"),
        )
        hub["parameter_mismatch"] = merged["parameter_mismatch"]
        changed = not _same_content(merged, _snapshot(existing))
        updates = {**hub, "updated_at": now}
        version = existing["current_version"]
        status = "unchanged"
        if changed:
            version += 1
            status = "updated"
            updates.update({k: v for k, v in content.items() if k != "model_id"})
            updates["current_version"] = version
            self._insert_version(
                model_id, version, merged, change_description or "content changed", now
            )
            self.db.execute("DELETE FROM model_cache WHERE model_id = ?", [model_id])
        if existing["is_deleted"]:
            updates.update({"is_deleted": 0, "deleted_at": None})
        models.update(model_id, updates)
        self._add_aliases(model_id, aliases, now)
        return WriteResult(model_id, status, version, warnings)

    def _insert_version(
        self,
        model_id: str,
        version: int,
        content: Mapping[str, Any],
        description: str,
        now: str,
    ) -> None:
        self.db.table("model_versions").insert(
            {
                "model_id": model_id,
                "version": version,
                "config_hash": content["config_hash"],
                "snapshot_json": json.dumps(_snapshot(content), sort_keys=True),
                "change_description": description,
                "created_at": now,
            }
        )

    def _add_aliases(
        self, model_id: str, aliases: Iterable[str | tuple[str, str]], now: str
    ) -> None:
        for name, kind in _wanted_aliases(model_id, aliases):
            if not name or name.lower() == model_id.lower():
                continue
            # An alias never shadows a real model id or another model's alias.
            taken = self.db.execute(
                "SELECT 1 FROM models WHERE model_id = ? UNION ALL "
                "SELECT 1 FROM model_aliases WHERE alias = ?",
                [name, name],
            ).fetchone()
            if taken:
                continue
            self.db.execute(
                "INSERT INTO model_aliases (alias, model_id, kind, created_at) VALUES (?, ?, ?, ?)",
                [name, model_id, kind, now],
            )

    def add_alias(self, model_id: str, alias: str, kind: str = "alias") -> None:
        """Make ``alias`` another name for a model; raises if the name is already taken."""
        model = self.require_model(model_id, include_deleted=True)
        validate_model_id(alias)
        with write_transaction(self.db):
            owner = self._row(alias, include_deleted=True)
            if owner is not None:
                if owner["model_id"] == model["model_id"]:
                    return
                raise CatalogError(f"alias {alias!r} already names {owner['model_id']!r}")
            self.db.execute(
                "INSERT INTO model_aliases (alias, model_id, kind, created_at) VALUES (?, ?, ?, ?)",
                [alias, model["model_id"], kind, utc_now()],
            )

    def delete_model(self, model_id: str, hard: bool = False) -> str:
        """Soft-delete (hide) a model, or with ``hard`` remove it with its versions, aliases,
        metrics and cache. Returns the canonical id."""
        model = self.require_model(model_id, include_deleted=True)
        canonical = model["model_id"]
        if model["is_deleted"] and not hard:
            raise CatalogError(
                f"model {canonical!r} is already deleted; use --hard to remove it for good"
            )
        with write_transaction(self.db):
            if hard:
                self.db.execute("DELETE FROM models WHERE model_id = ?", [canonical])
            else:
                now = utc_now()
                self.db.execute(
                    "UPDATE models SET is_deleted = 1, deleted_at = ?, updated_at = ? "
                    "WHERE model_id = ?",
                    [now, now, canonical],
                )
                self.db.execute("DELETE FROM model_cache WHERE model_id = ?", [canonical])
        return canonical

    def undelete_model(self, model_id: str) -> str:
        """Bring back a soft-deleted model. Returns the canonical id."""
        model = self.get_model(model_id, include_deleted=True)
        if model is None:
            raise ModelNotFoundError(model_id, self.close_matches(model_id))
        if not model["is_deleted"]:
            raise CatalogError(f"model {model['model_id']!r} is not deleted")
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE models SET is_deleted = 0, deleted_at = NULL, updated_at = ? "
                "WHERE model_id = ?",
                [utc_now(), model["model_id"]],
            )
        return model["model_id"]

    # ------------------------------------------------------------------ versions

    def get_versions(self, model_id: str) -> list[dict[str, Any]]:
        """Every version of a model, oldest first, with its parsed ``snapshot``."""
        model = self.require_model(model_id, include_deleted=True)
        versions = []
        for row in self.db.query(
            "SELECT * FROM model_versions WHERE model_id = ? ORDER BY version", [model["model_id"]]
        ):
            entry = dict(row)
            entry["snapshot"] = json.loads(row["snapshot_json"])
            versions.append(entry)
        return versions

    def _version(self, model_id: str, version: int) -> dict[str, Any]:
        rows = list(
            self.db.query(
                "SELECT * FROM model_versions WHERE model_id = ? AND version = ?",
                [model_id, int(version)],
            )
        )
        if not rows:
            known = [
                str(r["version"])
                for r in self.db.query(
                    "SELECT version FROM model_versions WHERE model_id = ? ORDER BY version",
                    [model_id],
                )
            ]
            raise VersionNotFoundError(
                f"model {model_id!r} has no version {version}; versions: {', '.join(known)}"
            )
        return json.loads(rows[0]["snapshot_json"])

    def rollback(self, model_id: str, version: int) -> WriteResult:
        """Restore a model's content to an earlier version, recorded as a new version."""
        canonical = self.require_model(model_id, include_deleted=True)["model_id"]
        with write_transaction(self.db):
            # Read under the write lock, so two concurrent rollbacks cannot pick the same number.
            model = self._row(canonical, include_deleted=True)
            snapshot = self._version(canonical, version)
            if _same_content(snapshot, _snapshot(model)):
                raise CatalogError(
                    f"model {canonical!r} already matches version {version}; nothing to roll back"
                )
            now = utc_now()
            new_version = model["current_version"] + 1
            updates = dict(snapshot)
            updates.update({"current_version": new_version, "updated_at": now})
            self.db.table("models").update(canonical, updates)
            self.db.table("model_versions").insert(
                {
                    "model_id": canonical,
                    "version": new_version,
                    "config_hash": snapshot.get("config_hash"),
                    "snapshot_json": json.dumps(snapshot, sort_keys=True),
                    "change_description": f"rollback to version {version}",
                    "created_at": now,
                }
            )
            self.db.execute("DELETE FROM model_cache WHERE model_id = ?", [canonical])
        return WriteResult(canonical, "updated", new_version)

    def diff(self, model_id: str, v1: int, v2: int) -> dict[str, tuple[Any, Any]]:
        """Fields that differ between two versions: ``{field: (value in v1, value in v2)}``.

        Raw config keys appear flattened as ``config.key`` (``config.text_config.hidden_size``).
        """
        model = self.require_model(model_id, include_deleted=True)
        a = _flatten_snapshot(self._version(model["model_id"], v1))
        b = _flatten_snapshot(self._version(model["model_id"], v2))
        return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}

    # ------------------------------------------------------------------ quality metrics

    def add_quality_metric(
        self,
        model_id: str,
        metric_name: str,
        metric_value: float | str,
        shots: int | str | None = None,
        *,
        unit: str | None = None,
        source: str | None = None,
        measured_at: str | None = None,
    ) -> dict[str, Any]:
        """Set one metric (unique per model, metric name and shots; a repeat replaces it).

        Scores are stored in percent (0-100, GenZ's scale), so a fraction and a percentage of
        the same score agree: with no ``unit``, a value from 0 to 1 is a fraction (``0.625`` is
        stored as 62.5) and a larger one is a percentage; ``unit="fraction"`` always scales by
        100, ``unit="percent"`` never does (for a score below 1 %). Any other unit (e.g.
        ``perplexity``) stores the value as given. Returns the stored row's values.
        """
        return self.add_quality_metrics(
            [
                {
                    "model_id": model_id,
                    "metric_name": metric_name,
                    "metric_value": metric_value,
                    "shots": shots,
                    "unit": unit,
                    "source": source,
                    "measured_at": measured_at,
                }
            ],
            row_labels=[None],
        )[0]

    def add_quality_metrics(
        self,
        metrics: Iterable[Mapping[str, Any]],
        *,
        row_labels: Sequence[str | None] | None = None,
    ) -> list[dict[str, Any]]:
        """Set many metrics at once: every item is checked first, then all are written in one
        transaction, so one bad item writes nothing.

        Items take the keyword arguments of :meth:`add_quality_metric` (``model_id``,
        ``metric_name``, ``metric_value``, optional ``shots``, ``unit``, ``source``,
        ``measured_at``). A bad item raises :class:`InvalidInputError` prefixed with its label
        from ``row_labels`` (default ``row N``, 1-based). Returns the stored values, in order.
        """
        checked: list[dict[str, Any]] = []
        for index, item in enumerate(metrics):
            try:
                checked.append(self._check_metric(item))
            except CatalogError as exc:
                label = row_labels[index] if row_labels is not None else f"row {index + 1}"
                if label is None:
                    raise
                raise InvalidInputError(f"{label}: {exc}") from None
        now = utc_now()
        with write_transaction(self.db):
            for metric in checked:
                self.db.execute(
                    """INSERT INTO model_quality_metrics
                         (model_id, metric_name, shots, metric_value, unit, source, measured_at,
                          created_at, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (model_id, metric_name, COALESCE(shots, -1)) DO UPDATE SET
                         metric_value = excluded.metric_value, unit = excluded.unit,
                         source = excluded.source, measured_at = excluded.measured_at,
                         updated_at = excluded.updated_at""",
                    [
                        metric["model_id"],
                        metric["metric_name"],
                        metric["shots"],
                        metric["metric_value"],
                        metric["unit"],
                        metric["source"],
                        metric["measured_at"],
                        now,
                        now,
                    ],
                )
        return checked

    def _check_metric(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """One metric, validated and normalised (blank optional fields become None)."""

        def blank(value: Any) -> bool:
            return value is None or (isinstance(value, str) and not value.strip())

        model_id = item.get("model_id")
        if blank(model_id):
            raise InvalidInputError("model id must not be empty")
        model = self.require_model(str(model_id).strip(), include_deleted=True)
        name = str(item.get("metric_name") or "").strip()
        if not name:
            raise InvalidInputError("metric name must not be empty")
        raw_value = item.get("metric_value")
        try:
            if isinstance(raw_value, bool):
                raise ValueError
            value = float(raw_value)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"metric value {raw_value!r} for {name} is not a number"
            ) from None
        if not math.isfinite(value):
            raise InvalidInputError(f"metric value {raw_value!r} for {name} is not finite")
        unit = None if blank(item.get("unit")) else str(item["unit"]).strip()
        if unit == "fraction" or (unit is None and 0 <= value <= 1):
            if not 0 <= value <= 1:
                raise InvalidInputError(
                    f"metric value {value:g} for {name} is outside 0-1 (unit: fraction)"
                )
            value = round(value * 100, 9)  # 0.666 -> 66.6, not 66.60000000000001
        if unit in (None, "fraction"):
            unit = "percent"
        if unit == "percent" and not 0 <= value <= 100:
            raise InvalidInputError(
                f"metric value {value:g} for {name} is outside 0-100 (unit: percent)"
            )
        shots = item.get("shots")
        if blank(shots):
            shots = None
        else:
            text = str(shots).strip()
            # isascii: str.isdigit() also accepts '²', which int() refuses.
            if isinstance(shots, bool) or not (text.isascii() and text.isdigit()):
                raise InvalidInputError(f"shots {shots!r} is not a whole number 0 or more")
            if len(text) > 19 or int(text) > _limits.SQLITE_MAX_INT:
                raise InvalidInputError(
                    f"shots {text[:30]}{'...' if len(text) > 30 else ''} is too large; "
                    f"at most {_limits.SQLITE_MAX_INT}"
                )
            shots = int(text)
        source = None if blank(item.get("source")) else str(item["source"]).strip()
        measured_at = None if blank(item.get("measured_at")) else str(item["measured_at"]).strip()
        if measured_at is not None:
            _check_date(measured_at)
        return {
            "model_id": model["model_id"],
            "metric_name": name,
            "shots": shots,
            "metric_value": value,
            "unit": unit,
            "source": source,
            "measured_at": measured_at,
        }

    def get_quality_metrics(self, model_id: str | None = None) -> list[dict[str, Any]]:
        """Metrics of one model, or of every model, ordered by model, metric and shots."""
        if model_id is None:
            return [
                dict(r)
                for r in self.db.query(
                    "SELECT * FROM model_quality_metrics ORDER BY model_id, metric_name, shots"
                )
            ]
        model = self.require_model(model_id, include_deleted=True)
        return [
            dict(r)
            for r in self.db.query(
                "SELECT * FROM model_quality_metrics WHERE model_id = ? "
                "ORDER BY metric_name, shots",
                [model["model_id"]],
            )
        ]

    # ------------------------------------------------------------------ cache

    def cache_value(self, model_id: str, key: str, value: Any, ttl: float | None = None) -> None:
        """Cache a JSON-serialisable value for a model for ``ttl`` seconds (None: no expiry).

        A value holding NaN or Infinity is not cached (the catalog stores strict JSON only).

        The entry is tied to the model's current config hash, so it is never served for a
        changed model.
        """
        if ttl is not None and (
            isinstance(ttl, bool)
            or not isinstance(ttl, (int, float))
            or not math.isfinite(ttl)
            or ttl <= 0
        ):
            raise InvalidInputError(
                f"ttl must be a number of seconds > 0 (or None for no expiry), not {ttl!r}"
            )
        model = self.require_model(model_id, include_deleted=True)
        try:
            value_json = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"cannot cache {key!r}: {exc}") from None
        try:
            json.dumps(value, allow_nan=False)
        except ValueError:
            # NaN/Infinity (a simulation that divided by zero): the catalog stores strict JSON
            # only, and a cache entry is optional, so the value is simply not cached.
            return
        now = datetime.now(timezone.utc)
        expires = _iso(now + timedelta(seconds=float(ttl))) if ttl is not None else None
        with write_transaction(self.db):
            self.db.execute(
                """INSERT OR REPLACE INTO model_cache
                     (model_id, cache_key, config_hash, value_json, created_at, expires_at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [
                    model["model_id"],
                    key,
                    model["config_hash"] or "",
                    value_json,
                    _iso(now),
                    expires,
                ],
            )

    def get_cached_value(self, model_id: str, key: str, default: Any = None) -> Any:
        """The cached value if present, fresh and made for the model's current config."""
        row = self._row(model_id, include_deleted=True)
        if row is None:
            return default
        found = self.db.execute(
            """SELECT value_json FROM model_cache
               WHERE model_id = ? AND cache_key = ? AND config_hash = ?
                 AND (expires_at IS NULL OR expires_at > ?)""",
            [row["model_id"], key, row["config_hash"] or "", utc_now()],
        ).fetchone()
        return json.loads(found[0]) if found else default

    def clear_cache(self, model_id: str | None = None) -> int:
        """Drop every cached value, or one model's. Returns the number of entries removed."""
        with write_transaction(self.db):
            if model_id is None:
                return self.db.execute("DELETE FROM model_cache").rowcount
            model = self.require_model(model_id, include_deleted=True)
            return self.db.execute(
                "DELETE FROM model_cache WHERE model_id = ?", [model["model_id"]]
            ).rowcount

    def purge_expired(self, model_id: str | None = None) -> int:
        """Drop expired cache entries (of every model, or of one). Returns how many."""
        sql = "DELETE FROM model_cache WHERE expires_at IS NOT NULL AND expires_at <= ?"
        params: list[Any] = [utc_now()]
        if model_id is not None:
            sql += " AND model_id = ?"
            params.append(self.require_model(model_id, include_deleted=True)["model_id"])
        with write_transaction(self.db):
            return self.db.execute(sql, params).rowcount

    def cache_entries(self, model_id: str | None = None) -> list[dict[str, Any]]:
        """Cached values (of every model, or of one) with key, expiry and whether still fresh."""
        sql = (
            "SELECT model_id, cache_key, config_hash, created_at, expires_at, "
            "(expires_at IS NULL OR expires_at > ?) AS fresh FROM model_cache"
        )
        params: list[Any] = [utc_now()]
        if model_id is not None:
            sql += " WHERE model_id = ?"
            params.append(self.require_model(model_id, include_deleted=True)["model_id"])
        return [dict(r) for r in self.db.query(sql + " ORDER BY model_id, cache_key", params)]

    # ------------------------------------------------------------------ stats

    def get_stats(self) -> dict[str, Any]:
        """Totals for the live (not deleted) catalog: by model type, attention, family and
        source; MoE count; metric, alias, version and cache counts; Hub count mismatches."""

        def grouped(column: str) -> dict[str, int]:
            return {
                (r["k"] if r["k"] is not None else "unknown"): r["n"]
                for r in self.db.query(
                    f"SELECT {column} AS k, count(*) AS n FROM models WHERE is_deleted = 0 "
                    f"GROUP BY {column} ORDER BY n DESC, k"
                )
            }

        def scalar(sql: str) -> int:
            return self.db.execute(sql).fetchone()[0]

        by_attention = grouped("attention_type")

        return {
            "total_models": scalar("SELECT count(*) FROM models WHERE is_deleted = 0"),
            "deleted_models": scalar("SELECT count(*) FROM models WHERE is_deleted = 1"),
            "moe_models": scalar("SELECT count(*) FROM models WHERE is_deleted = 0 AND is_moe"),
            "by_model_type": grouped("model_type"),
            "by_attention_type": by_attention,
            # The original API's name for the same figures.
            "by_attention": by_attention,
            "by_family": grouped("family"),
            "by_source": grouped("source"),
            "quality_metrics": scalar("SELECT count(*) FROM model_quality_metrics"),
            "aliases": scalar("SELECT count(*) FROM model_aliases"),
            "versions": scalar("SELECT count(*) FROM model_versions"),
            "cache_entries": scalar("SELECT count(*) FROM model_cache"),
            # Computed from the counts, not the stored flag, so a stale flag cannot hide one.
            "parameter_mismatches": [
                dict(r)
                for r in self.db.query(
                    "SELECT model_id, parameter_count, hub_parameter_count FROM models "
                    "WHERE is_deleted = 0 AND hub_parameter_count > 0 "
                    "AND parameter_count IS NOT NULL "
                    "AND abs(parameter_count - hub_parameter_count) > ? * hub_parameter_count "
                    "ORDER BY model_id",
                    [PARAMETER_MISMATCH_TOLERANCE],
                )
            ],
        }

    # ------------------------------------------------------------------ local files

    def import_config_file(
        self,
        path: str | os.PathLike[str],
        model_id: str | None = None,
        *,
        force: bool = False,
        source: str = "local",
    ) -> WriteResult:
        """Import a ``config.json`` file, or a model folder holding one.

        The id comes from ``model_id``, else the config's ``_name_or_path``, else the folder name.
        """
        config, resolved_id = read_config_file(path, model_id)
        return self.add_model(resolved_id, config, source=source, force=force)


def _variable_limit(conn: sqlite3.Connection) -> int:
    """How many ``?`` parameters one statement may hold on this SQLite build."""
    getlimit = getattr(conn, "getlimit", None)  # Python 3.11+
    if getlimit is not None:
        return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 999  # SQLite's smallest compiled-in default (before 3.32)


def _insert_many(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], rows: Sequence[tuple]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) with as few multi-row ``INSERT``
    statements as the parameter limit allows, in order (rowids follow ``rows``)."""
    if not rows:
        return
    per_statement = max(1, _variable_limit(conn) // len(columns))
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    one_row = f"({', '.join('?' for _ in columns)})"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        conn.execute(head + ", ".join([one_row] * len(chunk)), [v for row in chunk for v in row])


def read_config_file(
    path: str | os.PathLike[str], model_id: str | None = None
) -> tuple[dict[str, Any], str]:
    """Read and check a local ``config.json`` (or a folder with one); return (config, model id).

    One ``stat`` and one read per file: the bulk import (``admin.import_config_files``) calls
    this for every file.
    """
    name = os.path.expanduser(os.fspath(path))
    try:
        mode = os.stat(name).st_mode
    except FileNotFoundError:
        if os.path.islink(name):
            raise InvalidInputError(f"{path}: a symlink to a missing file") from None
        raise InvalidInputError(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise InvalidInputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        folder = name
        name = os.path.join(name, "config.json")
        try:
            mode = os.stat(name).st_mode
        except OSError:
            mode = 0
        if not stat.S_ISREG(mode):
            raise InvalidInputError(f"{folder}: folder has no config.json")
    elif not stat.S_ISREG(mode):
        # Never open a FIFO or device: reading one could block or never end.
        raise InvalidInputError(f"{path}: not a regular file")
    try:
        with open(name, "rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
            if len(data) > MAX_CONFIG_BYTES:
                size = os.fstat(file.fileno()).st_size
                raise InvalidInputError(
                    f"{name}: config is {size} bytes; at most {MAX_CONFIG_BYTES} bytes are accepted"
                )
        text = data.decode("utf-8")
        try:
            config = _limits.loads_config(text)
        except InvalidInputError as exc:  # a limit (depth, number length): name the file
            raise InvalidInputError(f"{name}: {exc}") from None
    except OSError as exc:
        raise InvalidInputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{name}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(config, dict):
        raise InvalidInputError(f"{name}: config must be a JSON object")
    if model_id is None:
        # A config.json (or its folder) is named by its folder: a fine-tune's config often
        # keeps its base model's _name_or_path, which must not become the fine-tune's id.
        # Only a loose file under another name (``my-model.json``) takes _name_or_path.
        if os.path.basename(name) != "config.json":
            # Already validated when it comes from _name_or_path.
            found = _id_from_name_or_path(config.get("_name_or_path"))
            if found is not None:
                return config, found
        model_id = model_id_from_folder(Path(name).parent.resolve())
    return config, validate_model_id(model_id)


def find_config_files(folder: str | os.PathLike[str]) -> list[str]:
    """The ``config.json`` files below ``folder`` (any depth, hidden folders skipped), sorted:
    a folder of model folders (``org__name/config.json``, a Hugging Face cache) imports as many
    models, each named by its own folder."""
    found = []
    for root, folders, files in os.walk(os.path.expanduser(os.fspath(folder))):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        if "config.json" in files:
            found.append(os.path.join(root, "config.json"))
    return sorted(found)


def _id_from_name_or_path(name_or_path: Any) -> str | None:
    """``_name_or_path`` when it is a usable model id; None for local paths and free text
    (trainers write both there, e.g. ``/scratch/ckpt-900`` or ``StableLM 2 1.6B Chat``)."""
    if not isinstance(name_or_path, str) or name_or_path.startswith((".", "/", "~")):
        return None
    try:
        return validate_model_id(name_or_path)
    except InvalidModelIdError:
        return None


def check_config(model_id: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Convert an HF config and check its figures are plausible, as an import does before it
    writes; raises :class:`ConversionError`. Lets a caller refuse bad input before opening
    (and so creating) a catalog file."""
    record = convert_hf_config(dict(config), model_id=model_id)
    _check_bounds(model_id, record)
    return record


def model_id_from_folder(folder: Path) -> str:
    """The model id a config's folder stands for.

    A Hugging Face cache snapshot (``.../models--org--name/snapshots/<sha>/``) gives
    ``org/name``; a flat ``org__name`` folder (how configs are often saved side by side) gives
    ``org/name``; any other folder gives its own name.
    """
    if folder.parent.name == "snapshots" and folder.parent.parent.name.startswith("models--"):
        return folder.parent.parent.name[len("models--") :].replace("--", "/", 1)
    if folder.name.count("__") == 1 and not folder.name.startswith("__"):
        return folder.name.replace("__", "/")
    return folder.name


def _check_config_limits(model_id: str, config: Mapping[str, Any]) -> bool:
    """Refuse a config beyond :mod:`genz_catalog.limits` (depth, number length); True when it
    holds NaN/Infinity (stored as strings, see ``limits.strict_config``)."""
    try:
        return _limits.check_json_value(config, allow_non_finite=True)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{model_id}: {exc}") from None


def _check_bounds(model_id: str, record: Mapping[str, Any]) -> None:
    for key, (low, high) in _BOUNDS.items():
        value = record.get(key)
        if value is None:
            continue
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not (low <= value <= high)
        ):
            raise ConversionError(
                f"{model_id}: {key}={value!r} is outside the plausible range {low}..{high}"
            )


def _wanted_aliases(
    model_id: str, aliases: Iterable[str | tuple[str, str]]
) -> list[tuple[str, str]]:
    """(name, kind) pairs a model asks for: its bare name for ``org/name`` ids, then ``aliases``."""
    wanted: list[tuple[str, str]] = []
    if "/" in model_id:
        wanted.append((model_id.split("/", 1)[1], "name"))
    for alias in aliases:
        name, kind = (alias, "alias") if isinstance(alias, str) else alias
        wanted.append((name, kind))
    return wanted


def _hub_columns(
    hub_metadata: Mapping[str, Any] | None,
    parameter_count: int | None,
    mtp_parameter_count: int | None = None,
) -> dict:
    if not hub_metadata:
        return {}
    unknown = set(hub_metadata) - set(HUB_METADATA_KEYS)
    if unknown:
        raise InvalidInputError("unknown hub metadata keys: " + ", ".join(sorted(unknown)))
    columns = {k: v for k, v in hub_metadata.items() if k != "tags"}
    if "tags" in hub_metadata:
        columns["tags_json"] = json.dumps(list(hub_metadata["tags"] or []))
    if "gated" in columns and columns["gated"] is not None:
        columns["gated"] = str(columns["gated"]).lower()
    if "hub_parameter_count" in columns:
        columns["parameter_mismatch"] = _parameter_mismatch(
            parameter_count, columns["hub_parameter_count"], mtp_parameter_count
        )
    return columns


def _parameter_mismatch(
    parameter_count: int | None,
    hub_parameter_count: int | None,
    mtp_parameter_count: int | None = None,
) -> int:
    """1 when the computed count is more than 1% away from the Hub's, else 0 (or unknown).

    A checkpoint that ships multi-token-prediction modules counts them in its safetensors
    total, so ``parameter_count + mtp_parameter_count`` matching the Hub is no mismatch.
    """
    if not hub_parameter_count or not parameter_count:
        return 0
    candidates = [parameter_count]
    if mtp_parameter_count:
        candidates.append(parameter_count + mtp_parameter_count)
    gap = min(abs(count - hub_parameter_count) for count in candidates) / hub_parameter_count
    return int(gap > PARAMETER_MISMATCH_TOLERANCE)


#: Columns a version snapshot holds: every derived column, the raw config and its hash, and
#: the Hub revision it came from.
SNAPSHOT_COLUMNS = (
    *DERIVED_COLUMNS,
    "source",
    "config_json",
    "config_hash",
    "revision_sha",
    "hub_parameter_count",
    "parameter_mismatch",
)
#: Snapshot columns that do not count as a content change (a new Hub sha with the same config
#: is not a new version).
_PROVENANCE_COLUMNS = ("revision_sha", "hub_parameter_count", "parameter_mismatch")


#: Derived columns _prepare copies from a converted record (the *_json ones it encodes).
_RECORD_COLUMNS = tuple(c for c in DERIVED_COLUMNS if c != "model_name" and not c.endswith("_json"))


def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    snap = {}
    for column in SNAPSHOT_COLUMNS:
        value = row.get(column)
        if isinstance(value, bool):
            value = int(value)
        snap[column] = value
    if snap.get("parameter_mismatch") is None:
        snap["parameter_mismatch"] = 0
    return snap


def _same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all(a.get(c) == b.get(c) for c in SNAPSHOT_COLUMNS if c not in _PROVENANCE_COLUMNS)


def _flatten_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in snapshot.items():
        if key == "config_json":
            _flatten(json.loads(value or "{}"), "config", flat)
        elif key in ("genz_config_json", "memory_json", "warnings_json"):
            _flatten(json.loads(value or "null"), key[: -len("_json")], flat)
        else:
            flat[key] = value
    return flat


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}", out)
    else:
        out[prefix] = value
