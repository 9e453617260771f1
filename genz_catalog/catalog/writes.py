"""THE write path: every change to a model's row goes through here, in one transaction.

:func:`write_models` writes a batch of prepared models (:mod:`.prepared`): each one's row, its
version, its aliases (the FTS entry follows through the triggers) and its cache invalidation,
in one ``BEGIN IMMEDIATE`` transaction, so a crash leaves the old state or the new, never
half. A single add is a batch of one; bulk adds send batches of hundreds; ``load`` sends the
rows of an export (``exported`` prepared models). Rollback, delete, undelete and new aliases
live here too, so nothing else writes ``models``, ``model_versions`` or ``model_aliases``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from ..convert import ConversionError
from ..db import write_transaction
from ..errors import (
    CatalogError,
    InvalidInputError,
    ModelExistsError,
    NameTakenError,
    RepeatedInImportError,
)
from ..store import store_documents, to_stored_row, version_snapshot_text
from .cache import drop_model_cache
from .ids import name_owners, names_taken, utc_now, validate_model_id, variable_limit
from .prepared import PreparedModel, hub_columns, parameter_mismatch, prepare_item
from .reads import load_json, model_row
from .versions import same_content, snapshot, version_snapshot

#: ``if_exists`` modes: raise :class:`ModelExistsError`, leave the model, or update it.
IF_EXISTS_MODES = ("error", "skip", "update")
#: Tables whose rows hang off ``models.model_id`` (a reloaded model drops its old ones).
CHILD_TABLES = (
    "model_aliases",
    "model_versions",
    "model_quality_metrics",
    "simulations",
    "model_cache",
)


@dataclass
class WriteResult:
    """What a write did: ``status`` is ``imported``, ``updated``, ``unchanged`` or ``skipped``
    (``loaded`` for a row from an export)."""

    model_id: str
    status: str
    version: int | None = None
    warnings: list[str] = field(default_factory=list)


#: One batch entry: the prepared model and the item it came from (its ``hub_metadata``,
#: ``aliases``, ``change_description``, ``if_exists`` and, for exports, ``drop_children``).
BatchEntry = tuple[PreparedModel, Mapping[str, Any]]


def write_models(
    db: sqlite_utils.Database,
    batch: Sequence[BatchEntry],
    if_exists: str,
    on_error: Callable[[Mapping[str, Any], Exception], None] | None = None,
) -> list[WriteResult]:
    """Write a batch of prepared models in one transaction (joining the caller's, if any).

    Items whose id names nothing in the catalog or earlier in the batch are inserted in runs
    with multi-row INSERTs; any other item (an existing id, a case variant, an alias's name)
    is written alone after the pending run is flushed. Names claimed earlier in the batch (ids
    and aliases) send an item to the slow path, so the outcome equals writing the items one by
    one. With ``on_error``, an item the catalog refuses on the slow path is rolled back alone
    and reported; without it the error is raised and the batch writes nothing.
    """
    with write_transaction(db):
        taken = names_taken(db, [prepared.model_id for prepared, _ in batch])
        results: list[WriteResult] = []
        run: list[tuple[PreparedModel, Mapping[str, Any], list]] = []
        for prepared, item in batch:
            mode = item.get("if_exists", if_exists)
            if mode not in IF_EXISTS_MODES:
                raise InvalidInputError(f"if_exists must be error, skip or update, not {mode!r}")
            aliases = list(item.get("aliases", ()))
            model_id = prepared.model_id
            if prepared.exported:
                results.extend(_insert_new(db, run))
                run = []
                results.append(_write_exported(db, prepared, bool(item.get("drop_children"))))
            elif model_id.lower() in taken:
                results.extend(_insert_new(db, run))
                run = []
                if on_error is None:
                    results.append(_write_existing(db, prepared, item, aliases, mode))
                else:
                    db.execute("SAVEPOINT bulk_item")
                    try:
                        results.append(_write_existing(db, prepared, item, aliases, mode))
                    except (CatalogError, ConversionError) as exc:
                        db.execute("ROLLBACK TO bulk_item")
                        on_error(item, exc)
                    finally:
                        db.execute("RELEASE bulk_item")
            else:
                run.append((prepared, item, aliases))
            taken.add(model_id.lower())
            taken.update(name.lower() for name, _ in wanted_aliases(model_id, aliases) if name)
        results.extend(_insert_new(db, run))
        return results


def _write_existing(
    db: sqlite_utils.Database,
    prepared: PreparedModel,
    item: Mapping[str, Any],
    aliases: list,
    mode: str,
) -> WriteResult:
    """The slow path: an item whose id (or alias) is already taken."""
    model_id = prepared.model_id
    known = model_row(db, model_id, include_deleted=True)
    since = item.get("first_since")
    if (
        since is not None
        and known is not None
        and known["model_id"].lower() == model_id.lower()
        and known["updated_at"] >= since
        and known.get("config_hash") != prepared.content.get("config_hash")
    ):
        # Written by this import already (the import began at ``since``) from another config:
        # each config naming the model would make a version, again at every re-run. The same
        # config again (a file listed twice) is only unchanged.
        raise RepeatedInImportError(model_id)
    if (
        known is not None
        and known["model_id"] != model_id
        and (known["model_id"].lower() == model_id.lower())
    ):
        # A case variant of a stored model or of one written earlier in this batch:
        # convert under the stored spelling, as a single add would.
        prepared = prepare_item(db, item)
    return _write_one(db, prepared, item, aliases, mode, known)


def _write_one(
    db: sqlite_utils.Database,
    prepared: PreparedModel,
    item: Mapping[str, Any],
    aliases: list,
    if_exists: str,
    existing: dict[str, Any] | None,
) -> WriteResult:
    """Write one model whose name is taken; the caller holds the write transaction."""
    now = utc_now()
    content = dict(prepared.content)
    model_id = content["model_id"]
    if existing is not None and existing["model_id"].lower() != model_id.lower():
        if "/" not in model_id:
            # A bare name that is another model's alias: never shadow it with a new row.
            raise NameTakenError(model_id, existing["model_id"])
        # A full org/name id beats an alias of that spelling (GenZ registers real Hub ids as
        # aliases of its own approximations, e.g. google/gemma-2b-it -> google/gemma-2B):
        # the real model takes its name back.
        db.execute("DELETE FROM model_aliases WHERE alias = ?", [model_id])
        existing = None
    if existing is None:
        return _insert_new(db, [(PreparedModel(content, prepared.name_given), item, aliases)])[0]
    hub = hub_columns(
        item.get("hub_metadata"), content.get("parameter_count"), content.get("mtp_parameter_count")
    )
    warnings = load_json(content["warnings_json"], [])
    model_id = existing["model_id"]
    if not prepared.name_given:
        content["model_name"] = existing["model_name"]
    if if_exists == "error":
        raise ModelExistsError(model_id)
    if if_exists == "skip":
        return WriteResult(model_id, "skipped", existing["current_version"], warnings)
    merged = snapshot({**existing, **content, **hub})
    # The flag must follow whichever count changed: new config, new Hub figure, or both.
    merged["parameter_mismatch"] = parameter_mismatch(
        merged.get("parameter_count"),
        merged.get("hub_parameter_count"),
        merged.get("mtp_parameter_count"),
    )
    hub["parameter_mismatch"] = merged["parameter_mismatch"]
    changed = not same_content(merged, snapshot(existing))
    updates = {**hub, "updated_at": now}
    version = existing["current_version"]
    status = "unchanged"
    if changed:
        version += 1
        status = "updated"
        updates.update({k: v for k, v in content.items() if k != "model_id"})
        updates["current_version"] = version
        _supersede(db, existing)
        _insert_version(
            db,
            model_id,
            version,
            merged.get("config_hash"),
            item.get("change_description") or "content changed",
            now,
        )
        drop_model_cache(db, model_id)
    if existing["is_deleted"]:
        updates.update({"is_deleted": 0, "deleted_at": None})
    update_model(db, model_id, updates)
    _add_aliases(db, model_id, aliases, now)
    return WriteResult(model_id, status, version, warnings)


def _insert_new(
    db: sqlite_utils.Database, run: list[tuple[PreparedModel, Mapping[str, Any], list]]
) -> list[WriteResult]:
    """Insert models known to be new (see :func:`write_models`); the caller holds the lock."""
    if not run:
        return []
    now = utc_now()
    # Consecutive rows with the same columns share multi-row INSERTs; insertion order (and so
    # rowids) stays that of the items.
    row_groups: list[tuple[tuple[str, ...], list[tuple]]] = []
    rows: list[dict[str, Any]] = []
    versions: list[tuple] = []
    wanted: list[tuple[str, str, str]] = []
    results: list[WriteResult] = []
    for prepared, item, aliases in run:
        content = prepared.content
        model_id = content["model_id"]
        hub = hub_columns(
            item.get("hub_metadata"),
            content.get("parameter_count"),
            content.get("mtp_parameter_count"),
        )
        row = {
            **content,
            **hub,
            "current_version": 1,
            "created_at": now,
            "updated_at": now,
            "is_deleted": 0,
        }
        rows.append(row)
        # A current version's snapshot is the models row itself (store.py): no text here.
        versions.append(
            (model_id, 1, content["config_hash"], item.get("change_description") or "imported", now)
        )
        wanted.extend((name, kind, model_id) for name, kind in wanted_aliases(model_id, aliases))
        results.append(
            WriteResult(model_id, "imported", 1, load_json(content["warnings_json"], []))
        )
    conn = db.conn
    to_stored_row(conn, rows, [prepared.documents for prepared, _, _ in run])
    for row in rows:
        if not row_groups or row_groups[-1][0] != tuple(row):
            row_groups.append((tuple(row), []))
        row_groups[-1][1].append(tuple(row.values()))
    alias_rows = []
    claimed = names_taken(db, [name for name, _, _ in wanted if name])
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
    for columns, group in row_groups:
        insert_many(conn, "models", columns, group)
    insert_many(conn, "model_aliases", ("alias", "model_id", "kind", "created_at"), alias_rows)
    insert_many(
        conn,
        "model_versions",
        ("model_id", "version", "config_hash", "change_description", "created_at"),
        versions,
    )
    return results


def _write_exported(
    db: sqlite_utils.Database, prepared: PreparedModel, drop_children: bool
) -> WriteResult:
    """Write a stored row from an export as it is (``load``): its versions, aliases and
    metrics follow as their own rows. With ``drop_children`` (a merge) the model's old
    children go first; its rowid stays, so its FTS row is updated in place, not orphaned."""
    row = dict(prepared.content)
    model_id = row["model_id"]
    to_stored_row(db.conn, [row])
    if drop_children:
        for child in CHILD_TABLES:
            db.execute(f"DELETE FROM [{child}] WHERE model_id = ?", [model_id])
    columns = sorted(row)
    assignments = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != "model_id")
    db.execute(
        f"INSERT INTO models ({', '.join(f'[{c}]' for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        "ON CONFLICT (model_id) DO " + (f"UPDATE SET {assignments}" if assignments else "NOTHING"),
        [row[c] for c in columns],
    )
    return WriteResult(model_id, "loaded", row.get("current_version"))


def write_exported_child(db: sqlite_utils.Database, table: str, row: Mapping[str, Any]) -> None:
    """Write one row of an export's child table (``model_aliases``, ``model_versions``,
    ``simulations``, ``model_cache``) as it is; the caller (``load``) holds the transaction and
    has checked the row. A version's ``snapshot_json`` goes to the document store, unless it is
    the model's current version (whose snapshot is the ``models`` row, loaded before it)."""
    row = dict(row)
    if table == "model_versions":
        text = row.pop("snapshot_json", None)
        current = db.execute(
            "SELECT current_version FROM models WHERE model_id = ?", [row.get("model_id")]
        ).fetchone()
        if text is not None and (current is None or current[0] != row.get("version")):
            [row["snapshot_doc"]] = store_documents(db.conn, [text])
    verb = "INSERT" if table == "model_aliases" else "INSERT OR REPLACE"
    columns = sorted(row)
    db.execute(
        f"{verb} INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})",
        [row[c] for c in columns],
    )


def _insert_version(
    db: sqlite_utils.Database,
    model_id: str,
    version: int,
    config_hash: str | None,
    description: str,
    now: str,
) -> None:
    """A new current version: its snapshot is the ``models`` row (see :func:`_supersede`)."""
    db.execute(
        "INSERT INTO model_versions (model_id, version, config_hash, change_description, "
        "created_at) VALUES (?, ?, ?, ?, ?)",
        [model_id, version, config_hash, description, now],
    )


def _supersede(db: sqlite_utils.Database, row: Mapping[str, Any]) -> None:
    """Store the snapshot of a model's live ``row`` (published shape) as its current version's,
    before a new version replaces the row's content."""
    [doc] = store_documents(db.conn, [version_snapshot_text(snapshot(row))])
    db.execute(
        "UPDATE model_versions SET snapshot_doc = ? WHERE model_id = ? AND version = ?",
        [doc, row["model_id"], row["current_version"]],
    )


def update_model(db: sqlite_utils.Database, model_id: str, updates: Mapping[str, Any]) -> None:
    """Update a stored model's columns; JSON texts (``config_json`` ...) go to the document
    store."""
    stored = {"model_id": model_id, **updates}
    to_stored_row(db.conn, [stored])
    del stored["model_id"]
    db.table("models").update(model_id, stored)


def wanted_aliases(
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


def _add_aliases(
    db: sqlite_utils.Database, model_id: str, aliases: Iterable[str | tuple[str, str]], now: str
) -> None:
    """The aliases a model asks for that no model (id or alias) holds yet."""
    wanted = [
        (name, kind)
        for name, kind in wanted_aliases(model_id, aliases)
        if name and name.lower() != model_id.lower()
    ]
    # An alias never shadows a real model id or another model's alias.
    claimed = names_taken(db, [name for name, _ in wanted])
    for name, kind in wanted:
        if name.lower() in claimed:
            continue
        claimed.add(name.lower())
        db.execute(
            "INSERT INTO model_aliases (alias, model_id, kind, created_at) VALUES (?, ?, ?, ?)",
            [name, model_id, kind, now],
        )


def add_alias(db: sqlite_utils.Database, model_id: str, alias: str, kind: str = "alias") -> None:
    """Make ``alias`` another name for the stored model ``model_id``; raises
    :class:`CatalogError` if the name already names another model."""
    validate_model_id(alias)
    with write_transaction(db):
        owner = name_owners(db, [alias], prefer_ids=True).get(alias.lower())
        if owner is not None:
            if owner == model_id:
                return
            raise CatalogError(f"alias {alias!r} already names {owner!r}")
        db.execute(
            "INSERT INTO model_aliases (alias, model_id, kind, created_at) VALUES (?, ?, ?, ?)",
            [alias, model_id, kind, utc_now()],
        )


def rollback(db: sqlite_utils.Database, model_id: str, version: int) -> WriteResult:
    """Restore a stored model's content to an earlier version, recorded as a new version."""
    with write_transaction(db):
        # Read under the write lock, so two concurrent rollbacks cannot pick the same number.
        model = model_row(db, model_id, include_deleted=True)
        assert model is not None
        earlier = version_snapshot(db, model_id, version)
        if same_content(earlier, snapshot(model)):
            raise CatalogError(
                f"model {model_id!r} already matches version {version}; nothing to roll back"
            )
        now = utc_now()
        new_version = model["current_version"] + 1
        updates = dict(earlier)
        updates.update({"current_version": new_version, "updated_at": now})
        _supersede(db, model)
        update_model(db, model_id, updates)
        _insert_version(
            db,
            model_id,
            new_version,
            earlier.get("config_hash"),
            f"rollback to version {version}",
            now,
        )
        drop_model_cache(db, model_id)
    return WriteResult(model_id, "updated", new_version)


def delete_model(db: sqlite_utils.Database, model_id: str, hard: bool) -> None:
    """Soft-delete (hide) a stored model, or with ``hard`` remove it and everything hanging
    off it (the foreign keys cascade)."""
    with write_transaction(db):
        if hard:
            db.execute("DELETE FROM models WHERE model_id = ?", [model_id])
        else:
            now = utc_now()
            db.execute(
                "UPDATE models SET is_deleted = 1, deleted_at = ?, updated_at = ? "
                "WHERE model_id = ?",
                [now, now, model_id],
            )
            drop_model_cache(db, model_id)


def undelete_model(db: sqlite_utils.Database, model_id: str) -> None:
    """Bring back a soft-deleted stored model."""
    with write_transaction(db):
        db.execute(
            "UPDATE models SET is_deleted = 0, deleted_at = NULL, updated_at = ? "
            "WHERE model_id = ?",
            [utc_now(), model_id],
        )


def delete_everything(db: sqlite_utils.Database) -> None:
    """Empty the catalog (``load --replace``): children first (orphans included, which no
    cascade would reach), then the models (their FTS entries follow through the triggers), then
    the documents nothing refers to any more. The caller holds the transaction."""
    for child in CHILD_TABLES:
        db.execute(f"DELETE FROM [{child}]")
    db.execute("DELETE FROM models")
    db.execute("DELETE FROM documents")


def statement_sizes(rows: int, most: int) -> list[int]:
    """How many rows each multi-row ``INSERT`` of :func:`insert_many` takes: ``most`` while at
    least that many are left, then the rest in powers of two, largest first (1,300 rows at
    most 1,000 a statement: 1,000, 256, 32, 8, 4).

    A connection keeps every statement text it compiles (Python's sqlite3 caches 128), and a
    multi-row ``INSERT`` compiles to a program as long as its rows. With one text per number of
    rows, a million-model import, whose batches each bring a different number of new aliases,
    held ~80 MB of compiled alias INSERTs; with powers of two a table has at most
    ``log2(most) + 2`` texts."""
    rest = rows % most
    powers = range(rest.bit_length() - 1, -1, -1)
    return [most] * (rows // most) + [1 << bit for bit in powers if rest >> bit & 1]


def insert_many(conn: Any, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) with few multi-row ``INSERT`` statements of
    few distinct lengths (:func:`statement_sizes`) within the parameter limit, in order (rowids
    follow ``rows``)."""
    if not rows:
        return
    per_statement = max(1, variable_limit(conn) // len(columns))
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    one_row = f"({', '.join('?' for _ in columns)})"
    start = 0
    for size in statement_sizes(len(rows), per_statement):
        chunk = rows[start : start + size]
        start += size
        conn.execute(head + ", ".join([one_row] * size), [v for row in chunk for v in row])
