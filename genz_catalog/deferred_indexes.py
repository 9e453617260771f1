"""Secondary indexes set aside while a large bulk import writes, and put back after it.

Every model a bulk import writes goes into ~15 B-trees at random places (the partial "live"
indexes of m004/m010/m016, ``hub_id``, ...). Once the catalog is large, each batch then dirties
thousands of 4 KB pages across those trees, all written to the WAL and copied again by the
checkpoint: at a million models the import ran at ~2,800 models/s against ~7,000 at 20,000. Built
once at the end with ``CREATE INDEX`` (one sorted pass over the table), the same indexes cost a
fraction of that.

:func:`defer_indexes` drops the non-unique secondary indexes of :data:`DEFERRED_TABLES` and
records each one's ``CREATE INDEX`` text in ``deferred_indexes`` (m019) in the same transaction,
so the file never lacks an index without also saying how to build it again;
:func:`restore_deferred_indexes` builds them from the record and deletes it, in one transaction.
An import killed in between leaves the record behind: the next open for writing
(:func:`genz_catalog.db.migrate_catalog`) and ``doctor --fix`` build the indexes of an owner that is
gone; a running import's indexes are left to it. Queries are correct without the indexes, only
slower, so readers (read-only opens included) need none of this.
"""

from __future__ import annotations

import contextlib
import os
import re

import sqlite_utils

#: Tables whose indexes a bulk import writes to for every model (models' live indexes,
#: model_aliases and model_versions by model); other tables are left alone.
DEFERRED_TABLES = ("models", "model_aliases", "model_versions")

#: Indexes kept through a bulk import although they could be set aside: a new model is never
#: in them (``idx_models_deleted`` holds deleted models only), so they cost the import nothing,
#: and search_models leans on it to leave deleted models out while the import runs.
KEPT_DURING_IMPORT = frozenset({"idx_models_deleted"})

#: Indexes set aside although a look-up relies on them, because a bulk import never makes it.
#: ``idx_model_aliases_model_id`` finds a model's aliases when the model is deleted or its id
#: changes (the foreign key's cascade) and when an alias other than a bare name is written (the
#: triggers that keep ``models.aliases``). An import inserts models and their bare-name aliases
#: and updates models without changing their ids, so it only pays for the index: one more
#: B-tree written at a random place for every model (a million Hub-like models, one after the
#: other: 208 s with it set aside, 228 s without). Another writer between the import's batches
#: is still answered right, by a scan of ``model_aliases``.
DEFERRED_ALTHOUGH_LOOKED_UP = frozenset({"idx_model_aliases_model_id"})

#: The record table (m019): one row per index dropped and not yet built again.
RECORD_TABLE = "deferred_indexes"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs on this machine (a zombie counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _has_record_table(db: sqlite_utils.Database) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [RECORD_TABLE]
        ).fetchone()
        is not None
    )


def _leading_column(db: sqlite_utils.Database, index: str) -> str | None:
    """The first column of ``index`` (None for an expression)."""
    rows = db.execute(f"PRAGMA index_info([{index}])").fetchall()
    return rows[0][2] if rows else None


def _trigger_lookups(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(table, body) for every table a trigger's statements read or change: a trigger that looks
    a table up by a column needs that table's index on it."""
    found = []
    for (sql,) in db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL"
    ).fetchall():
        parts = re.split(r"\bBEGIN\b", sql, maxsplit=1, flags=re.IGNORECASE)
        body = " ".join(parts[-1].split())
        for table in re.findall(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+\[?(\w+)\]?", body, re.IGNORECASE):
            found.append((table.lower(), body))
    return found


def _needed(
    db: sqlite_utils.Database,
    table: str,
    index: str,
    sql: str,
    triggers: list[tuple[str, str]],
) -> bool:
    """Whether a constraint or a trigger relies on ``index``: its first column is a foreign-key
    column of ``table`` that no unique index leads with (SQLite finds a deleted parent's
    children through it), or a trigger looks ``table`` up by that column (and, for a partial
    index, with the index's own condition)."""
    column = _leading_column(db, index)
    if column is None:
        return False
    foreign = {row[3].lower() for row in db.execute(f"PRAGMA foreign_key_list([{table}])")}
    if column.lower() in foreign:
        unique_leads = {
            (_leading_column(db, row[1]) or "").lower()
            for row in db.execute(f"PRAGMA index_list([{table}])")
            if row[2]
        }
        if column.lower() not in unique_leads:
            return True
    _, where, condition = sql.partition(" WHERE ")
    condition = " ".join(condition.split()) if where else ""
    lookup = re.compile(rf"\b(?:\w+\.)?{re.escape(column)}\s*(?:=|IS\b|IN\b)", re.IGNORECASE)
    return any(
        read == table and lookup.search(body) and (not condition or condition in body)
        for read, body in triggers
    )


def deferrable_indexes(db: sqlite_utils.Database) -> list[tuple[str, str, str]]:
    """(name, table, CREATE INDEX text) of every index :func:`defer_indexes` would drop: the
    explicitly created (``sql`` not NULL), non-unique indexes of :data:`DEFERRED_TABLES` that no
    constraint or trigger relies on, or that only look-ups an import never makes rely on
    (:data:`DEFERRED_ALTHOUGH_LOOKED_UP`), but :data:`KEPT_DURING_IMPORT`. Read from
    ``sqlite_master``, so indexes later migrations add are covered too."""
    placeholders = ", ".join("?" for _ in DEFERRED_TABLES)
    rows = db.execute(
        f"SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
        f"AND sql IS NOT NULL AND tbl_name IN ({placeholders}) ORDER BY name",
        list(DEFERRED_TABLES),
    ).fetchall()
    unique = {
        row[1]
        for table in DEFERRED_TABLES
        for row in db.execute(f"PRAGMA index_list([{table}])")
        if row[2]
    }
    triggers = _trigger_lookups(db)
    return [
        (name, table, sql)
        for name, table, sql in rows
        if name not in unique
        and name not in KEPT_DURING_IMPORT
        and (name in DEFERRED_ALTHOUGH_LOOKED_UP or not _needed(db, table, name, sql, triggers))
    ]


def defer_indexes(db: sqlite_utils.Database, *, owner_pid: int | None = None) -> list[str]:
    """Drop :func:`deferrable_indexes` and record them, in one transaction; return their names.

    ``owner_pid`` (default: this process) is the import that will build them again; while it
    runs, nothing else does.
    """
    from .catalog.ids import utc_now
    from .db import write_transaction

    pid = os.getpid() if owner_pid is None else owner_pid
    with write_transaction(db):
        indexes = deferrable_indexes(db)
        for name, table, sql in indexes:
            db.execute(
                f"INSERT INTO {RECORD_TABLE} (name, table_name, sql, owner_pid, deferred_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [name, table, sql, pid, utc_now()],
            )
            db.execute(f"DROP INDEX [{name}]")
    return [name for name, _, _ in indexes]


def deferred_indexes(db: sqlite_utils.Database, *, interrupted_only: bool = False) -> list[str]:
    """Names of the recorded indexes (empty before m019); with ``interrupted_only``, only those
    whose import is gone (its process no longer runs)."""
    if not _has_record_table(db):
        return []
    rows = db.execute(f"SELECT name, owner_pid FROM {RECORD_TABLE} ORDER BY name").fetchall()
    return [name for name, pid in rows if not interrupted_only or not pid_alive(pid)]


def restore_deferred_indexes(
    db: sqlite_utils.Database, *, owner_pid: int | None = None, interrupted_only: bool = False
) -> list[str]:
    """Build recorded indexes again and delete their record, in one transaction; return their
    names. ``owner_pid``: only that import's; ``interrupted_only``: only those of imports that
    are gone. An index that exists already (built meanwhile) is only forgotten. Its statistics
    are gathered when the file has any (``sqlite_stat1``), as m010 and m016 do."""
    from .db import index_exists, write_transaction

    if not _has_record_table(db):
        return []
    with write_transaction(db), _sorting_threads(db):
        rows = db.execute(
            f"SELECT name, sql, owner_pid FROM {RECORD_TABLE} ORDER BY name"
        ).fetchall()
        chosen = [
            (name, sql)
            for name, sql, pid in rows
            if (owner_pid is None or pid == owner_pid) and not (interrupted_only and pid_alive(pid))
        ]
        stats = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
        for name, sql in chosen:
            if not index_exists(db.conn, name):
                db.execute(sql)
                if stats:
                    db.execute(f"ANALYZE [{name}]")
            db.execute(f"DELETE FROM {RECORD_TABLE} WHERE name = ?", [name])
    return [name for name, _ in chosen]


#: Helper threads SQLite may sort with while it builds indexes again (``PRAGMA threads``):
#: the import's convert workers are done by then, so the other core is free. At a million
#: Hub-like models the three deferred indexes took 6.4-6.8 s to build alone, 5.0-5.7 s with
#: one helper.
SORT_THREADS = 1


def _sorting_threads(db: sqlite_utils.Database) -> contextlib.AbstractContextManager[int]:
    from .db import pragma_set

    return pragma_set(db.conn, "threads", SORT_THREADS if (os.cpu_count() or 1) > 1 else 0)


def restore_interrupted(db: sqlite_utils.Database) -> list[str]:
    """At an open for writing: build the indexes of imports that were killed (cheap when there
    are none: one read of a small table)."""
    if not deferred_indexes(db, interrupted_only=True):
        return []
    return restore_deferred_indexes(db, interrupted_only=True)
