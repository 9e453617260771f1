"""Keeping the catalog safe: consistent backups, JSON-lines export and load, and a doctor.

- :func:`backup_catalog` copies the live file through SQLite's online backup API in one step, so
  the copy is one consistent snapshot even while other processes write. The copy is switched to
  ``journal_mode=delete`` so it can be served read-only and immutable (``datasette -i copy.db``).
- :func:`export_catalog` writes every table as JSON lines, sorted and with stable key order, so
  the same catalog always exports to the same bytes. :func:`load_catalog` reads such a file back
  in one transaction: it merges by default and replaces everything with ``replace=True``. The
  catalog file itself is never deleted or swapped, because Datasette may be serving it.
- :func:`diagnose_catalog` checks integrity, the FTS index against ``models``, orphaned rows,
  models missing their current version row, ``model_shapes`` and ``model_facets`` against
  ``models``, stored search answers against the ranking, and the WAL size;
  :func:`repair_catalog` rebuilds the FTS index (which stops stored search answers from being
  read), ``model_shapes`` and ``model_facets`` and removes orphans.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import sqlite3
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from . import store as _store
from ._lean_start import BULK_GC_THRESHOLD, start_convert_worker
from .catalog import remembered_searches
from .catalog import versions as _versions
from .catalog import writes as _writes
from .catalog.config_files import OpenedConfig, open_ahead
from .catalog.ids import name_owners, utc_now_after_earlier_writes
from .catalog.metrics import upsert_metrics
from .catalog.prepared import BulkPreparer, PreparedModel, check_bounds
from .catalog.remembered_searches import (
    remember_after_bulk_write,
    remember_after_rebuild,
    remember_searches,
    wrong_answers,
)
from .convert import ConversionError
from .db import (
    BUSY_TIMEOUT_MS,
    FIGURE_COLUMNS,
    FTS_ALIASES_SQL,
    SOURCES,
    catalog_file,
    fts_entries,
    fts_in_step,
    model_facets_drift,
    model_shapes_drift,
    pragma_set,
    rebuild_fts,
    rebuild_model_facets,
    rebuild_model_shapes,
    search_upkeep_paused,
    write_transaction,
)
from .deferred_indexes import (
    defer_indexes,
    deferred_indexes,
    pid_alive,
    restore_deferred_indexes,
)
from .errors import CatalogError, InvalidInputError
from .limits import MAX_CONFIG_BYTES, SQLITE_MAX_INT, loads_strict
from .manager import (
    ModelManager,
    WriteResult,
    utc_now,
    validate_model_id,
)

#: First line of every export: names the format so ``load`` refuses anything else.
EXPORT_FORMAT = "genz-catalog-export"
EXPORT_FORMAT_VERSION = 1

#: Exported tables in load order (parents first), each with the columns that identify a row.
#: Surrogate ``id`` columns are left out: rows are matched on their natural keys, so a file
#: merges into a catalog whose ids differ.
EXPORT_TABLES: dict[str, tuple[str, ...]] = {
    "models": ("model_id",),
    "model_aliases": ("alias",),
    "model_versions": ("model_id", "version"),
    "model_quality_metrics": ("model_id", "metric_name", "shots"),
    "simulations": (
        "model_id",
        "config_hash",
        "genz_version",
        "system",
        "tensor_parallel",
        "pipeline_parallel",
        "bits",
        "batch_size",
        "input_tokens",
        "output_tokens",
    ),
    "model_cache": ("model_id", "cache_key", "config_hash"),
}
#: Computed tables, exported only with ``include_cache`` (stored GenZ simulations are results
#: that can be recomputed, like cache entries).
_CACHE_TABLES = ("simulations", "model_cache")
_SURROGATE_COLUMNS = {
    # models.aliases is derived from model_aliases (their rows follow in the export).
    "models": ("aliases",),
    "model_versions": ("id",),
    "model_quality_metrics": ("id",),
    "simulations": ("id",),
}
#: Child tables whose rows hang off ``models.model_id`` (cleared when a model is reloaded).
_CHILD_TABLES = _writes.CHILD_TABLES


#: Stored document-id columns -> the JSON text column an export (the published shape) holds.
_PUBLISHED_AS = {**_store.MODEL_DOCUMENT_COLUMNS, "snapshot_doc": "snapshot_json"}


def _columns(db: sqlite_utils.Database, table: str) -> list[str]:
    """A table's columns in the published shape (an export's): document ids as their texts."""
    skip = _SURROGATE_COLUMNS.get(table, ())
    return [
        _PUBLISHED_AS.get(c.name, c.name) for c in db.table(table).columns if c.name not in skip
    ]


def _column_types(db: sqlite_utils.Database, table: str) -> dict[str, str]:
    return {
        _PUBLISHED_AS.get(c.name, c.name): ("TEXT" if c.name in _PUBLISHED_AS else c.type.upper())
        for c in db.table(table).columns
    }


def _published_rows(
    db: sqlite_utils.Database, table: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Stored rows (``SELECT *``) of an exported table in the published shape."""
    if table == "models":
        _store.expand_model_rows(db.conn, rows)
    elif table == "model_versions":
        _versions.publish_versions(db, rows)
    return rows


# ------------------------------------------------------------------------- files written

#: Suffix of the temporary files every written file is built in (``.NAME.PID.RANDOM.genz-tmp``):
#: the writer's pid in the name tells a stale one (its writer is gone) from one in progress.
TEMP_SUFFIX = ".genz-tmp"


def _catalog_paths(db: sqlite_utils.Database) -> set[Path]:
    """The catalog file and its companions (``-wal``, ``-shm``, ``-journal``), resolved."""
    source = catalog_file(db)
    if source is None:
        return set()
    return {source} | {Path(f"{source}{suffix}") for suffix in ("-wal", "-shm", "-journal")}


def check_output_path(
    db: sqlite_utils.Database, destination: str | os.PathLike[str], *, verb: str, what: str
) -> Path:
    """Refuse a destination that is, or resolves to, the catalog or one of its companion files.

    Symlinks and ``..`` are resolved first, so no spelling of the catalog's path gets through.
    A folder and an existing file that is not a regular one (``/dev/full``, a FIFO) are refused
    too: the output is renamed into place and would replace it. Returns the destination with
    ``~`` expanded.
    """
    target = Path(destination).expanduser()
    resolved = target.resolve()
    if resolved in _catalog_paths(db):
        raise InvalidInputError(f"{target}: refusing to {verb} the catalog onto itself")
    if target.is_dir():
        raise InvalidInputError(f"{target}: is a folder; give a file name for the {what}")
    if target.exists() and not target.is_file():
        # The output is renamed into place: a device, FIFO or socket would be replaced by it.
        raise InvalidInputError(
            f"{target}: is not a regular file (a device, FIFO or socket); give a file name for "
            f"the {what}"
        )
    if not target.parent.is_dir():
        raise InvalidInputError(f"{target.parent}: no such folder")
    return target


def remove_stale_temporaries(folder: str | os.PathLike[str], name: str | None = None) -> list[Path]:
    """Delete temporaries (``*.genz-tmp``, and SQLite's ``-journal`` beside one) in ``folder``
    whose writing process is gone.

    ``name`` limits it to the temporaries of one file (``.NAME.*``). A temporary of a writer
    still running is kept. Returns the files removed.
    """
    removed = []
    for path in _stale_temporaries(Path(folder), name):
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed


def temporary_beside(target: Path) -> Path:
    """A new, empty temporary file in ``target``'s folder, named for this process."""
    remove_stale_temporaries(target.parent, target.name)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=target.parent
    )
    os.close(fd)
    return Path(name)


def _remove_sqlite_temporary(tmp: Path) -> None:
    for path in (tmp, Path(f"{tmp}-journal")):
        path.unlink(missing_ok=True)


def write_file_atomically(target: Path, write: Callable[[IO[str]], Any]) -> Any:
    """Call ``write(handle)`` on a temporary file beside ``target``; rename it into place only
    when complete and flushed to disk. On any failure (disk full, a signal, an exception) the
    temporary is removed and ``target`` is left as it was. Returns what ``write`` returned."""
    tmp = temporary_beside(target)
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CatalogError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return result


# ---------------------------------------------------------------------------------- backup


def _record_publication(copy: sqlite3.Connection) -> None:
    fingerprint = catalog_fingerprint(copy)
    copy.executescript(
        f"""DROP TABLE IF EXISTS {PUBLICATION_TABLE};
            CREATE TABLE {PUBLICATION_TABLE} (
                published_at TEXT NOT NULL, digest TEXT NOT NULL, models INTEGER NOT NULL,
                fingerprint TEXT NOT NULL)"""
    )
    copy.execute(
        f"INSERT INTO {PUBLICATION_TABLE} VALUES (?, ?, ?, ?)",
        [
            utc_now(),
            fingerprint["digest"],
            fingerprint["tables"]["models"]["rows"],
            json.dumps(fingerprint["tables"], sort_keys=True),
        ],
    )


@dataclass
class BackupResult:
    """What :func:`backup_catalog` wrote: the file, its size in bytes and its model count."""

    path: Path
    size_bytes: int
    models: int


#: What a catalog's fingerprint counts: (table, timestamp column of its latest change).
_FINGERPRINT_TABLES = (
    ("models", "updated_at"),
    ("model_versions", "created_at"),
    ("model_aliases", "created_at"),
    ("model_quality_metrics", "updated_at"),
)


def catalog_fingerprint(conn: sqlite3.Connection) -> dict[str, Any]:
    """What identifies a catalog's content for replica checks: each table's row count and
    latest change, and a short digest of them (equal digests: the same published state).

    Every write that changes a model, alias or metric moves a count or a timestamp, so a copy
    whose digest differs from the writer's is stale. One pass per table (seconds at 10^6 rows),
    for checks and publishing, not for pages.
    """
    figures: dict[str, Any] = {}
    for table, column in _FINGERPRINT_TABLES:
        count, latest = conn.execute(f"SELECT count(*), max({column}) FROM {table}").fetchone()
        figures[table] = {"rows": count, "latest_change": latest}
    canonical = json.dumps(figures, sort_keys=True, separators=(",", ":"))
    return {"digest": hashlib.sha256(canonical.encode()).hexdigest()[:16], "tables": figures}


#: The table a published copy (``backup --publish``) carries, for replicas to be checked.
PUBLICATION_TABLE = "catalog_publication"


def backup_catalog(
    db: sqlite_utils.Database,
    destination: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    publish: bool = False,
) -> BackupResult:
    """Write a consistent snapshot of the catalog to ``destination`` (a new SQLite file).

    The online backup API copies every page in one step under one read transaction, so writers
    in other processes never make it restart or mix two states. The copy is built in a temporary
    file next to ``destination`` and renamed into place, so a crash never leaves half a backup,
    and it is converted to ``journal_mode=delete``: no ``-wal`` file, safe to serve immutable.
    Refuses an existing ``destination`` unless ``overwrite``, and the catalog file itself.

    With ``publish``, the copy also gets a one-row ``catalog_publication`` table (when it was
    published and the :func:`catalog_fingerprint` of its content), which each replica serving
    it answers at ``/catalog/catalog_publication.json``: ``genz-catalog check-replica`` compares
    that with the writer's catalog.
    """
    target = check_output_path(db, destination, verb="back up", what="backup")
    if target.exists() and not overwrite:
        raise InvalidInputError(f"{target}: file exists; use --force to overwrite it")
    tmp = temporary_beside(target)
    tmp_name = str(tmp)
    try:
        copy = sqlite3.connect(tmp_name, isolation_level=None)
        try:
            db.conn.backup(copy, pages=-1)
            if publish:
                # A published copy never changes: its first visitors' broad searches are read,
                # not ranked, on every replica (stored again here: the source's may be stale).
                remember_searches(sqlite_utils.Database(copy))
                _record_publication(copy)
            mode = copy.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            if mode.lower() != "delete":
                raise CatalogError(f"backup copy stayed in journal mode {mode!r}")
            models = copy.execute("SELECT count(*) FROM models").fetchone()[0]
        finally:
            copy.close()
        with open(tmp_name, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except OSError as exc:
        _remove_sqlite_temporary(tmp)
        raise CatalogError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        _remove_sqlite_temporary(tmp)
        raise
    return BackupResult(target, target.stat().st_size, models)


# ---------------------------------------------------------------------------------- export


def iter_export_lines(db: sqlite_utils.Database, *, include_cache: bool = False) -> Iterator[str]:
    """Yield the export, one JSON document per line (no trailing newlines).

    The first line is the header ``{"format": ..., "version": 1, "tables": [...]}``; every other
    line is ``{"table": name, "row": {...}}``. Tables come parents first, rows sorted by their
    natural key, keys sorted: the same content always yields the same lines. Run it inside a
    read transaction (as :func:`export_catalog` does) for a consistent snapshot.
    """
    for _, line in _iter_export(db, include_cache):
        yield line


def _iter_export(db: sqlite_utils.Database, include_cache: bool) -> Iterator[tuple[str, str]]:
    """(table, line) pairs of the export; the header's table is ``""``."""
    tables = [t for t in EXPORT_TABLES if include_cache or t not in _CACHE_TABLES]
    yield (
        "",
        json.dumps(
            {"format": EXPORT_FORMAT, "version": EXPORT_FORMAT_VERSION, "tables": tables},
            sort_keys=True,
        ),
    )
    for table in tables:
        key = EXPORT_TABLES[table]
        # Natural keys are unique (case-insensitively for ids), so this order is total.
        order = ", ".join(f"{k} IS NULL, {k}" if k == "shots" else k for k in key)
        stored = [c.name for c in db.table(table).columns]
        skip = _SURROGATE_COLUMNS.get(table, ())
        cursor = db.execute(
            f"SELECT {', '.join(f'[{c}]' for c in stored)} FROM [{table}] ORDER BY {order}"
        )
        while chunk := cursor.fetchmany(1000):
            rows = [dict(zip(stored, values, strict=True)) for values in chunk]
            for row in _published_rows(db, table, rows):
                for column in skip:
                    row.pop(column, None)
                yield (
                    table,
                    json.dumps({"row": row, "table": table}, sort_keys=True, ensure_ascii=False),
                )


@dataclass
class ExportResult:
    """Rows written per table by :func:`export_catalog`."""

    counts: dict[str, int]


def export_catalog(
    db: sqlite_utils.Database, out: IO[str], *, include_cache: bool = False
) -> ExportResult:
    """Write the catalog to ``out`` as JSON lines (see :func:`iter_export_lines`).

    Reads happen in one read transaction, so concurrent writers never produce a file that mixes
    two states of the catalog.
    """
    counts: dict[str, int] = {}
    conn = db.conn
    own_transaction = not conn.in_transaction
    if own_transaction:
        conn.execute("BEGIN")
    try:
        for table, line in _iter_export(db, include_cache):
            out.write(line + "\n")
            if table:
                counts[table] = counts.get(table, 0) + 1
    finally:
        if own_transaction:
            conn.execute("COMMIT")
    return ExportResult(counts)


# ---------------------------------------------------------------------------------- load


@dataclass
class LoadResult:
    """Rows written per table by :func:`load_catalog`, and aliases left with another model."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped_aliases: list[str] = field(default_factory=list)
    replaced: bool = False


def load_catalog(
    db: sqlite_utils.Database,
    lines: IO[str] | Iterator[str],
    *,
    replace: bool = False,
    source_name: str = "input",
) -> LoadResult:
    """Load an export into the catalog in one transaction: all of it, or (on error) nothing.

    Merge (default): every model in the file is written with its aliases, versions, metrics and
    cache entries, replacing what the catalog held for that model; models only in the catalog
    stay. An alias already naming a different model is left with it (reported as skipped).
    ``replace=True`` first empties the catalog, so afterwards it holds exactly the file.
    Errors name the line: ``input:12: unknown table 'x'``.
    """
    result = LoadResult(replaced=replace)
    columns_by_table = {t: set(_columns(db, t)) for t in EXPORT_TABLES}
    column_types = {t: _column_types(db, t) for t in EXPORT_TABLES}
    lines_of: dict[tuple[str, str], str] = {}
    reloaded: set[str] = set()
    seen_header = False
    with write_transaction(db):
        if replace:
            # Children first (orphans included, which no cascade would reach); the FTS entries
            # follow through the triggers.
            _writes.delete_everything(db)
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            where = f"{source_name}:{number}"
            try:
                doc = loads_strict(raw, max_bytes=MAX_LOAD_LINE_BYTES)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{where}: malformed JSON: {exc.msg}") from None
            except InvalidInputError as exc:
                raise InvalidInputError(f"{where}: {exc}") from None
            if not isinstance(doc, dict):
                raise InvalidInputError(f"{where}: each line must be a JSON object")
            if not seen_header:
                if doc.get("format") != EXPORT_FORMAT:
                    raise InvalidInputError(
                        f"{where}: not a genz-catalog export (first line must name format "
                        f"{EXPORT_FORMAT!r})"
                    )
                if doc.get("version") != EXPORT_FORMAT_VERSION:
                    raise InvalidInputError(
                        f"{where}: export format version {doc.get('version')!r} is not "
                        f"supported (this genz-catalog reads version {EXPORT_FORMAT_VERSION})"
                    )
                seen_header = True
                continue
            table, row = doc.get("table"), doc.get("row")
            if table not in EXPORT_TABLES:
                raise InvalidInputError(f"{where}: unknown table {table!r}")
            if not isinstance(row, dict):
                raise InvalidInputError(f"{where}: 'row' must be a JSON object")
            unknown = set(row) - columns_by_table[table]
            if unknown:
                raise InvalidInputError(
                    f"{where}: unknown {table} columns: " + ", ".join(sorted(unknown))
                )
            if table == "models":
                first = lines_of.get(("models", str(row.get("model_id")).lower()))
                if first is not None:
                    # A second row of one model would replace the first, whose version rows
                    # came between them: say what is wrong, not that a version is missing.
                    raise InvalidInputError(
                        f"{where}: model {row.get('model_id')!r} is in the file twice (first "
                        f"at {first})"
                    )
            try:
                check_export_row(table, row, column_types[table])
                written = _load_row(db, table, row, replace, reloaded, result)
            except CatalogError as exc:
                raise InvalidInputError(f"{where}: {exc}") from None
            except ConversionError as exc:
                raise InvalidInputError(f"{where}: {exc}") from None
            except sqlite3.IntegrityError as exc:
                raise InvalidInputError(f"{where}: {table} row rejected: {exc}") from None
            if written:
                result.counts[table] = result.counts.get(table, 0) + 1
                _remember_line(lines_of, table, row, where)
        if not seen_header:
            raise InvalidInputError(f"{source_name}: empty file, not a genz-catalog export")
        # Rules that span rows hold once every row is in (still inside the transaction, so a
        # refusal writes nothing): the checks doctor runs, limited to what this file wrote.
        _check_loaded_rows(db, lines_of, source_name)
    remember_after_bulk_write(db, result.counts.get("models", 0))
    return result


#: Longest line ``load`` accepts (bytes): a model row holds its config (MAX_CONFIG_BYTES)
#: twice at most (config_json and, in its version row, the snapshot), JSON-escaped.
MAX_LOAD_LINE_BYTES = 6 * MAX_CONFIG_BYTES
#: Columns of ``models`` holding JSON documents, and what each must decode to.
_MODEL_JSON_COLUMNS = {
    "config_json": dict,
    "memory_json": dict,
    "genz_config_json": dict,
    "warnings_json": list,
    "tags_json": list,
}
_FLAG_COLUMNS = {"is_moe", "is_deleted", "parameter_mismatch"}


def check_export_row(table: str, row: Mapping[str, Any], types: Mapping[str, str]) -> None:
    """Check one exported row as strictly as an import checks its input.

    Every value has its column's type (INTEGER within SQLite's 64 bits, REAL finite, TEXT valid
    UTF-8); JSON columns hold strict JSON of the right shape within the config limits; a model's
    source, flags, version and figures are what an import could have written (the same bounds).
    Raises :class:`InvalidInputError` naming the column.
    """
    if table == "models":
        validate_model_id(row.get("model_id"))  # first: the other messages name the model
    for column, value in row.items():
        kind = types.get(column, "")
        if value is None:
            continue
        if kind == "INTEGER":
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidInputError(f"{table}.{column} must be an integer, not {value!r}")
            if abs(value) > SQLITE_MAX_INT:
                raise InvalidInputError(f"{table}.{column}={value} is beyond 64-bit integers")
        elif kind == "REAL":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidInputError(f"{table}.{column} must be a number, not {value!r}")
            if not math.isfinite(value) or abs(value) > 1e300:
                raise InvalidInputError(f"{table}.{column}={value!r} is not a finite number")
        elif kind == "TEXT":
            if not isinstance(value, str):
                raise InvalidInputError(f"{table}.{column} must be text, not {value!r}")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInputError(f"{table}.{column} is not valid UTF-8 text") from None
    if table == "models":
        if row.get("source") is not None and row["source"] not in SOURCES:
            raise InvalidInputError(
                f"models.source {row.get('source')!r} is not one of " + ", ".join(SOURCES)
            )
        for column in _FLAG_COLUMNS:
            if row.get(column) not in (None, 0, 1):
                raise InvalidInputError(f"models.{column} must be 0 or 1, not {row[column]!r}")
        version = row.get("current_version")
        if version is not None and version < 1:
            raise InvalidInputError(f"models.current_version must be 1 or more, not {version}")
        for column, shape in _MODEL_JSON_COLUMNS.items():
            _check_json_text(f"models.{column}", row.get(column), shape)
        check_bounds(row["model_id"], row)
    elif table == "model_versions":
        if row.get("version") is not None and row["version"] < 1:
            raise InvalidInputError(
                f"model_versions.version must be 1 or more, not {row['version']}"
            )
        _check_json_text("model_versions.snapshot_json", row.get("snapshot_json"), dict)
    elif table == "model_cache":
        _check_json_text("model_cache.value_json", row.get("value_json"), object)
    elif table == "model_quality_metrics":
        shots = row.get("shots")
        if shots is not None and shots < 0:
            raise InvalidInputError(f"model_quality_metrics.shots must be 0 or more, not {shots}")


def _check_json_text(name: str, text: Any, shape: type) -> None:
    if text is None:
        return
    try:
        value = loads_strict(text, max_bytes=2 * MAX_CONFIG_BYTES)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{name} is not JSON ({exc.msg})") from None
    except InvalidInputError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None
    if shape is not object and not isinstance(value, shape):
        raise InvalidInputError(f"{name} must hold a JSON {shape.__name__}")


def _remember_line(
    lines_of: dict[tuple[str, str], str], table: str, row: Mapping, where: str
) -> None:
    if table == "models":
        lines_of[("models", str(row["model_id"]).lower())] = where
    elif table == "model_aliases":
        lines_of[("model_aliases", str(row["alias"]).lower())] = where


def _check_loaded_rows(
    db: sqlite_utils.Database, lines_of: dict[tuple[str, str], str], source_name: str
) -> None:
    """Refuse (naming the first offending line) what only a whole file can break: a model
    without its current version row, a bare model id that is another model's alias."""
    loaded = sorted((where, key) for (table, key), where in lines_of.items() if table == "models")
    for where, model_id in loaded:
        row = db.execute(
            "SELECT model_id, current_version FROM models WHERE model_id = ?", [model_id]
        ).fetchone()
        if row is None:
            continue
        has_version = db.execute(
            "SELECT 1 FROM model_versions WHERE model_id = ? AND version = ?", [row[0], row[1]]
        ).fetchone()
        if not has_version:
            raise InvalidInputError(
                f"{where}: model {row[0]!r} has no model_versions row for its current "
                f"version {row[1]}"
            )
    for model_id, owner in db.execute(SHADOWED_MODELS_SQL).fetchall():
        where = lines_of.get(("models", model_id.lower())) or lines_of.get(
            ("model_aliases", model_id.lower())
        )
        if where is not None:
            raise InvalidInputError(
                f"{where}: model id {model_id!r} is also an alias of {owner!r}; a name must "
                "mean one model"
            )


#: Models whose id is also another model's alias (``delete --hard NAME`` would be ambiguous).
SHADOWED_MODELS_SQL = (
    "SELECT m.model_id, a.model_id FROM models m JOIN model_aliases a ON a.alias = m.model_id "
    "WHERE a.model_id != m.model_id ORDER BY m.model_id"
)


def _load_row(
    db: sqlite_utils.Database,
    table: str,
    row: dict[str, Any],
    replace: bool,
    reloaded: set[str],
    result: LoadResult,
) -> bool:
    """Write one exported row; returns False when it was skipped.

    A model row goes through the catalog's one write path (:func:`write_models`, as an
    exported prepared model: written as it is, its old children dropped on a merge); metric
    rows through the one metrics upsert.
    """
    if table == "models":
        prepared = PreparedModel.from_export_row(row)
        if not replace:
            reloaded.add(prepared.model_id.lower())
        _writes.write_models(db, [(prepared, {"drop_children": not replace})], "update")
        return True
    if table == "model_aliases":
        alias = validate_model_id(row.get("alias"))
        owner = name_owners(db, [alias]).get(alias.lower())
        if owner is not None:
            if str(owner).lower() == str(row.get("model_id", "")).lower():
                return False
            result.skipped_aliases.append(str(alias))
            return False
    if table == "model_quality_metrics":
        columns = sorted(row)
        upsert_metrics(db, columns, [[row[c] for c in columns]])
        return True
    _writes.write_exported_child(db, table, row)
    return True


# ---------------------------------------------------------------------------------- doctor


@dataclass
class DoctorReport:
    """What :func:`diagnose_catalog` found. ``problems`` is empty for a healthy catalog.

    Counts are -1 where the check itself could not run (a damaged file); that failure is
    then one of the ``problems``.
    """

    integrity: list[str]
    models: int
    fts_rows: int
    #: How many ways the search index is out of step with models (0: in sync).
    fts_out_of_sync: int
    orphans: dict[str, int]
    #: Documents no row refers to any more (not a problem; ``--fix`` removes them).
    unreferenced_documents: int
    models_missing_current_version: int
    journal_mode: str
    wal_bytes: int | None
    #: Models whose id is also another model's alias: (model id, alias owner).
    shadowed_ids: list[tuple[str, str]] = field(default_factory=list)
    #: "table.column" -> rows whose text is not valid UTF-8.
    undecodable_text: dict[str, int] = field(default_factory=dict)
    #: "table.column" -> rows whose JSON column is not strict JSON (NaN, garbage, too deep).
    invalid_json: dict[str, int] = field(default_factory=dict)
    #: Temporaries (``*.genz-tmp``) in the catalog's folder left by a killed backup or export.
    stale_temporaries: list[str] = field(default_factory=list)
    #: Rows by which ``model_shapes`` differs from the live models (-1: not checked).
    model_shapes_out_of_sync: int = 0
    #: Rows by which ``model_facets`` differs from the live models (-1: not checked).
    model_facets_out_of_sync: int = 0
    #: Stored search answers (``remembered_searches``) at the current generation that differ
    #: from ranking the search now (-1: not checked).
    wrong_stored_searches: int = 0
    #: Secondary indexes a killed bulk import set aside (deferred_indexes.py): queries are
    #: right but slower until ``--fix`` (or any open for writing) builds them again.
    deferred_indexes: list[str] = field(default_factory=list)
    #: Figures of formula-counted models that today's converter derives otherwise from the
    #: model's stored config.json: (model id, column, stored, derived now), the first
    #: :data:`STALE_FIGURES_LISTED` of them, and how many models have any.
    stale_figures: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    models_with_stale_figures: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when nothing needs fixing."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``doctor --json``)."""
        return {
            "healthy": self.healthy,
            "problems": list(self.problems),
            "integrity": list(self.integrity),
            "models": self.models,
            "fts_rows": self.fts_rows,
            "fts_out_of_sync": self.fts_out_of_sync,
            "orphans": dict(self.orphans),
            "unreferenced_documents": self.unreferenced_documents,
            "models_missing_current_version": self.models_missing_current_version,
            "shadowed_ids": [list(pair) for pair in self.shadowed_ids],
            "undecodable_text": dict(self.undecodable_text),
            "invalid_json": dict(self.invalid_json),
            "stale_temporaries": list(self.stale_temporaries),
            "model_shapes_out_of_sync": self.model_shapes_out_of_sync,
            "model_facets_out_of_sync": self.model_facets_out_of_sync,
            "wrong_stored_searches": self.wrong_stored_searches,
            "deferred_indexes": list(self.deferred_indexes),
            "stale_figures": [list(entry) for entry in self.stale_figures],
            "models_with_stale_figures": self.models_with_stale_figures,
            "journal_mode": self.journal_mode,
            "wal_bytes": self.wal_bytes,
        }


def _scalar(db: sqlite_utils.Database, sql: str) -> int:
    return db.execute(sql).fetchone()[0]


def _orphan_condition(table: str) -> str:
    # models.model_id carries COLLATE NOCASE, so matching it on the left is case-insensitive.
    return f"NOT EXISTS (SELECT 1 FROM models m WHERE m.model_id = [{table}].model_id)"


#: JSON columns doctor parses, with the shape each must decode to.
_JSON_COLUMNS = {
    ("models", "tags_json"): list,
    ("documents", "body"): object,
    ("model_cache", "value_json"): object,
}
#: The reads ``list``, ``search``, ``stats`` and ``show`` make, run in full by doctor so that a
#: damaged page or index any of them would hit is reported here too.
_READER_QUERIES = (
    "SELECT m.* FROM models m ORDER BY m.model_id",
    "SELECT m.* FROM models m WHERE m.is_deleted = 0 ORDER BY m.parameter_count DESC, m.model_id",
    "SELECT a.* FROM model_aliases a JOIN models m ON m.model_id = a.model_id ORDER BY a.alias",
    "SELECT family, count(*) FROM models WHERE is_deleted = 0 GROUP BY family",
    "SELECT rowid, * FROM models_fts WHERE models_fts MATCH '\"a\"*' ORDER BY rank",
)


def _lenient_text(raw: bytes) -> str:
    # Doctor must report undecodable text, not crash on it (sqlite3's default raises).
    return raw.decode("utf-8", "replace")


def diagnose_catalog(db: sqlite_utils.Database) -> DoctorReport:
    """Check the catalog without changing it; never raises on a damaged file.

    Looks at ``PRAGMA integrity_check``; every row of every table read the way the readers read
    them (a damaged page is reported, not raised); text that is not UTF-8; JSON columns that are
    not strict JSON; ``models_fts`` against ``models`` (missing, extra and stale entries); rows in
    child tables whose model is gone; models whose current version has no version row; model
    ids that are also another model's alias; ``model_shapes`` against the live models grouped
    now (what the statistics canned queries read); stale temporaries beside the file; the
    journal mode and the size of the ``-wal`` file (bytes, None when absent). A check that
    cannot run is itself a problem.
    """
    conn = db.conn
    saved_factory = conn.text_factory
    conn.text_factory = _lenient_text
    try:
        return _diagnose(db)
    finally:
        conn.text_factory = saved_factory


def _diagnose(db: sqlite_utils.Database) -> DoctorReport:
    problems: list[str] = []

    def attempt(what: str, fn: Callable[[], Any], failed: Any) -> Any:
        try:
            return fn()
        except (sqlite3.Error, ValueError, OverflowError, MemoryError, RecursionError) as exc:
            text = " ".join(str(exc).split())
            problems.append(f"{what} failed: {text} (the file is damaged; restore from a backup)")
            return failed

    integrity = attempt(
        "integrity check",
        lambda: [str(r[0]) for r in db.execute("PRAGMA integrity_check").fetchall()],
        ["not run"],
    )
    if integrity not in (["ok"], ["not run"]):
        problems.append(
            "integrity check failed: " + "; ".join(integrity[:5]) + " (restore from a backup)"
        )
    for sql in _READER_QUERIES:
        attempt(f"reading ({sql[:60]})", lambda sql=sql: _drain(db, sql), None)
    undecodable = attempt("text check", lambda: _undecodable_text(db), {})
    for name, count in undecodable.items():
        problems.append(f"{count} {name} values are not valid UTF-8 text (restore from a backup)")
    invalid_json = attempt("JSON check", lambda: _invalid_json(db), {})
    for name, count in invalid_json.items():
        problems.append(f"{count} {name} values are not strict JSON (restore from a backup)")

    models = attempt("counting models", lambda: _scalar(db, "SELECT count(*) FROM models"), -1)
    fts_rows = attempt("counting the search index", lambda: fts_entries(db), -1)
    fts = attempt("search index check", lambda: _fts_gaps(db, models, fts_rows), None)
    if fts:
        problems.append(f"search index out of sync: {'; '.join(fts)} (--fix rebuilds it)")
    # Triggers keep model_shapes and model_facets exact; a tool that dropped them, or an INSERT
    # OR REPLACE with recursive triggers off (its implicit delete fires no trigger), would leave
    # them wrong. An older file (opened read-only, so not migrated) may lack them: not checked.
    drifts = {}
    for table, drift, wrong in (
        ("model_shapes", model_shapes_drift, "the catalog statistics are wrong"),
        ("model_facets", model_facets_drift, "a searched models page counts its facets wrong"),
    ):
        exists = attempt("schema check", db[table].exists, False)
        drifts[table] = attempt(f"{table} check", lambda d=drift: d(db), -1) if exists else -1
        if drifts[table] > 0:
            problems.append(
                f"{table} out of sync with models: {drifts[table]} rows differ "
                f"({wrong}; --fix recounts them)"
            )
    wrong_searches = -1
    if attempt("schema check", db["remembered_searches"].exists, False):
        wrong_searches = len(attempt("stored searches check", lambda: wrong_answers(db.conn), []))
        if wrong_searches:
            problems.append(
                f"{wrong_searches} stored search answers differ from the search index's ranking "
                "(--fix stops reading them)"
            )
    orphans = {
        table: attempt(
            f"orphan check of {table}",
            lambda table=table: _scalar(
                db, f"SELECT count(*) FROM [{table}] WHERE {_orphan_condition(table)}"
            ),
            -1,
        )
        for table in _CHILD_TABLES
    }
    for table, count in orphans.items():
        if count > 0:
            problems.append(f"{count} orphaned {table} rows (--fix removes them)")
    dangling = attempt(
        "document check",
        lambda: {name: n for name, n in db.execute(_store.DANGLING_SQL).fetchall() if n},
        {},
    )
    for name, count in dangling.items():
        problems.append(f"{count} {name} values refer to missing documents (restore from a backup)")
    # Not a problem: an update leaves its old config's document behind (--fix removes it).
    unreferenced = attempt(
        "unreferenced documents",
        lambda: _scalar(db, f"SELECT count(*) FROM ({_store.UNREFERENCED_SQL})"),
        -1,
    )
    missing_version = attempt(
        "version check",
        lambda: _scalar(
            db,
            "SELECT count(*) FROM models m WHERE NOT EXISTS (SELECT 1 FROM model_versions v "
            "WHERE v.model_id = m.model_id AND v.version = m.current_version)",
        ),
        -1,
    )
    if missing_version > 0:
        problems.append(f"{missing_version} models have no row for their current version")
    shadowed = attempt(
        "alias check",
        lambda: [(str(a), str(b)) for a, b in db.execute(SHADOWED_MODELS_SQL).fetchall()],
        [],
    )
    for model_id, owner in shadowed[:5]:
        problems.append(
            f"model id {model_id!r} is also an alias of {owner!r}: the name means two models "
            "(delete the alias or rename one model)"
        )
    if len(shadowed) > 5:
        problems.append(f"... and {len(shadowed) - 5} more model ids shadowed by aliases")
    journal_mode = attempt(
        "journal mode", lambda: str(db.execute("PRAGMA journal_mode").fetchone()[0]), "unknown"
    )
    path = catalog_file(db)
    wal = Path(f"{path}-wal") if path is not None else None
    wal_bytes = wal.stat().st_size if wal is not None and wal.exists() else None
    stale_temps = _stale_temporaries(path.parent) if path is not None else []
    if stale_temps:
        problems.append(
            f"{len(stale_temps)} stale temporary files from an interrupted backup or export "
            "(--fix removes them)"
        )
    deferred = attempt(
        "deferred index check", lambda: deferred_indexes(db, interrupted_only=True), []
    )
    if deferred:
        problems.append(
            f"{len(deferred)} indexes deferred by an interrupted import (--fix recreates them)"
        )
    stale, models_affected = attempt("figure check", lambda: _stale_figures_summary(db), ([], 0))
    if stale:
        model_id, column, stored, derived = stale[0]
        problems.append(
            f"{models_affected:,} model{' shows' if models_affected == 1 else 's show'} "
            "figures their stored config does not give (e.g. "
            f"{model_id}: {column} {_figure_text(stored)}, derived {_figure_text(derived)}; "
            "--fix derives them again)"
        )
    return DoctorReport(
        integrity=integrity,
        models=models,
        fts_rows=fts_rows,
        fts_out_of_sync=len(fts) if fts is not None else -1,
        orphans=orphans,
        unreferenced_documents=unreferenced,
        models_missing_current_version=missing_version,
        journal_mode=journal_mode,
        wal_bytes=wal_bytes,
        shadowed_ids=shadowed,
        undecodable_text=undecodable,
        invalid_json=invalid_json,
        stale_temporaries=[str(p) for p in stale_temps],
        model_shapes_out_of_sync=drifts["model_shapes"],
        model_facets_out_of_sync=drifts["model_facets"],
        wrong_stored_searches=wrong_searches,
        deferred_indexes=deferred,
        stale_figures=stale,
        models_with_stale_figures=models_affected,
        problems=problems,
    )


def iter_stale_figures(db: sqlite_utils.Database) -> Iterator[tuple[str, str, Any, Any]]:
    """What today's converter derives otherwise from a model's stored config.json: ``(model id,
    column, stored, derived now)``, a model's entries one after the other.

    Checked: every figure column, ``genz_unsupported``, the Hub mismatch flag, and the memory
    and GenZ documents (``memory_json``, ``genz_config_json``: what ``compare``, the pages and
    ``simulate`` compute with). Only models whose parameters the converter counted
    (``count_basis`` formula): a count by transformers or from the Hub's safetensors is another
    tool's, and GenZ's static models hold GenZ's own figures; live models only (a fix is an
    update, which would bring a soft-deleted model back). A hand-edited export, or a
    catalog written by an older converter, shows figures its configs no longer give; a config
    the converter now refuses is left alone. Each distinct config is converted once (only the
    GenZ arguments' ``model`` name depends on the id), so a million Hub-like models take
    ~250,000 conversions, ~100 us each.
    """
    from .catalog.prepared import parameter_mismatch
    from .catalog.refresh import derive_figures

    columns = list(FIGURE_COLUMNS)
    record_columns = [*columns, "genz_unsupported", "memory", "genz_kwargs"]
    rows = db.execute(
        "SELECT model_id, config_doc, memory_doc, genz_doc, genz_unsupported, "
        "hub_parameter_count, parameter_mismatch, "
        + ", ".join(f"[{c}]" for c in columns)
        + " FROM models WHERE config_doc IS NOT NULL AND count_basis = 'formula' "
        "AND source != 'genz-static' AND is_deleted = 0 ORDER BY config_doc, model_id"
    )

    # Models of one config (read one after the other) share their memory and GenZ documents
    # too: each is read and parsed once, not once per model. Only compared, never changed.
    @functools.lru_cache(maxsize=8)
    def document(doc: Any) -> Any:
        if doc is None:
            return None
        try:
            text = _store.load_documents(db.conn, [doc]).get(doc)
            return json.loads(text) if text is not None else None
        except (CatalogError, ValueError, RecursionError):
            return None  # a damaged or unreadable document: the document checks say so

    last_doc: Any = None
    derived: dict[str, Any] | None = None
    for model_id, doc, memory_doc, genz_doc, unsupported, hub_count, mismatch, *stored in rows:
        if doc != last_doc:
            last_doc, derived = doc, None
            config = document(doc)
            if isinstance(config, dict):
                derived = derive_figures(model_id, config, record_columns)
                if derived is not None:
                    # As stored: documents are JSON texts read back, the GenZ name aside.
                    derived["memory"] = json.loads(json.dumps(derived["memory"]))
                    derived["genz_kwargs"] = _without_model(derived["genz_kwargs"])
        if derived is None:
            continue
        for column, value in zip(columns, stored, strict=True):
            if value != derived[column]:
                yield model_id, column, value, derived[column]
        if unsupported != derived["genz_unsupported"]:
            yield model_id, "genz_unsupported", unsupported, derived["genz_unsupported"]
        flag = parameter_mismatch(
            derived["parameter_count"], hub_count, derived["mtp_parameter_count"]
        )
        if (mismatch or 0) != (flag or 0):
            yield model_id, "parameter_mismatch", mismatch, flag
        memory = document(memory_doc)
        if memory != derived["memory"]:
            yield model_id, "memory_json", memory, derived["memory"]
        genz = document(genz_doc)
        if _without_model(genz) != derived["genz_kwargs"]:
            yield model_id, "genz_config_json", genz, derived["genz_kwargs"]


def _without_model(kwargs: Any) -> Any:
    return {k: v for k, v in kwargs.items() if k != "model"} if isinstance(kwargs, dict) else kwargs


#: Stale figures a doctor report lists (it counts every model affected).
STALE_FIGURES_LISTED = 100


def _stale_figures_summary(db: sqlite_utils.Database) -> tuple[list[tuple], int]:
    """The first :data:`STALE_FIGURES_LISTED` stale figures, and how many models have any."""
    listed: list[tuple] = []
    models, last = 0, None
    for entry in iter_stale_figures(db):
        if entry[0] != last:
            models, last = models + 1, entry[0]
        if len(listed) < STALE_FIGURES_LISTED:
            listed.append(entry)
    return listed, models


def _figure_text(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else repr(value)


def _drain(db: sqlite_utils.Database, sql: str) -> None:
    for _ in db.execute(sql):
        pass


def _text_columns(db: sqlite_utils.Database, table: str) -> list[str]:
    return [c.name for c in db.table(table).columns if c.type.upper() == "TEXT"]


def _undecodable_text(db: sqlite_utils.Database) -> dict[str, int]:
    """ "table.column" -> rows whose stored text is not UTF-8 (read as bytes, decoded here)."""
    found: dict[str, int] = {}
    for table in (*EXPORT_TABLES, "documents"):
        columns = _text_columns(db, table)
        # A packed document (a BLOB, store.pack_document) is checked by _invalid_json, which
        # unpacks it.
        select = ", ".join(
            f"CASE WHEN typeof([{c}]) = 'blob' THEN NULL ELSE CAST([{c}] AS BLOB) END"
            if table == "documents"
            else f"CAST([{c}] AS BLOB)"
            for c in columns
        )
        for values in db.execute(f"SELECT {select} FROM [{table}]"):
            for column, raw in zip(columns, values, strict=True):
                if raw is None:
                    continue
                try:
                    bytes(raw).decode("utf-8")
                except UnicodeDecodeError:
                    key = f"{table}.{column}"
                    found[key] = found.get(key, 0) + 1
    return found


def _invalid_json(db: sqlite_utils.Database) -> dict[str, int]:
    """ "table.column" -> rows whose JSON column does not parse strictly to the right shape.

    A damaged document is named by the columns that refer to it (``models.config_json`` ...,
    as the published shape has them), or ``documents.body`` when nothing refers to it.
    """
    found: dict[str, int] = {}
    bad_documents: set[int] = set()
    for (table, column), shape in _JSON_COLUMNS.items():
        key_column = "id" if table == "documents" else "rowid"
        for rowid, text in db.execute(
            f"SELECT {key_column}, [{column}] FROM [{table}] WHERE [{column}] IS NOT NULL"
        ):
            try:
                value = loads_strict(_store.unpack_document(text), max_bytes=None)
                ok = shape is object or isinstance(value, shape)
            except (ValueError, TypeError):  # JSONDecodeError and InvalidInputError included
                ok = False
            if ok:
                continue
            if table == "documents":
                bad_documents.add(rowid)
            else:
                found[f"{table}.{column}"] = found.get(f"{table}.{column}", 0) + 1
    referenced: set[int] = set()
    for (table, doc_column), published in (
        *((("models", d), t) for d, t in _store.MODEL_DOCUMENT_COLUMNS.items()),
        (("model_versions", "snapshot_doc"), "snapshot_json"),
    ):
        for (doc,) in db.execute(
            f"SELECT {doc_column} FROM {table} WHERE {doc_column} IS NOT NULL"
        ):
            if doc in bad_documents:
                referenced.add(doc)
                found[f"{table}.{published}"] = found.get(f"{table}.{published}", 0) + 1
    if bad_documents - referenced:
        found["documents.body"] = len(bad_documents - referenced)
    return found


def _fts_gaps(db: sqlite_utils.Database, models: int, entries: int) -> list[str]:
    """What is wrong with the search index (empty when it is in step with ``models``): rows it
    lacks or has too many of, alias lists in ``models.aliases`` that ``model_aliases`` no longer
    gives, and words that differ from the rows' (FTS5's integrity check)."""
    gaps = []
    if entries != models:
        gaps.append(f"it indexes {entries:,} rows for {models:,} models")
    # A file before m018 (opened read-only, so not migrated) indexes its aliases itself.
    has_aliases = any(c.name == "aliases" for c in db.table("models").columns)
    stale = has_aliases and _scalar(
        db,
        "SELECT count(*) FROM models WHERE aliases IS NOT "
        + FTS_ALIASES_SQL.format(model_id="models.model_id"),
    )
    if stale:
        gaps.append(f"{stale:,} models' alias lists are stale")
    if _fts_words_in_step(db) is False:
        gaps.append("its words differ from the models'")
    return gaps


def _fts_words_in_step(db: sqlite_utils.Database) -> bool | None:
    """:func:`fts_in_step`, on a side connection rolled back unused when ``db`` is read-only
    (FTS5's check is an INSERT that writes nothing); None when the file cannot be opened for
    writing at all (a read-only backup), so the words go unchecked."""
    try:
        return fts_in_step(db)
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):
            raise
    path = catalog_file(db)
    if path is None or not os.access(path, os.W_OK):
        return None
    side = sqlite3.connect(
        f"{path.as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        side.execute("BEGIN")
        try:
            return fts_in_step(sqlite_utils.Database(side))
        finally:
            side.execute("ROLLBACK")
    finally:
        side.close()


def _stale_temporaries(folder: Path, name: str | None = None) -> list[Path]:
    """Temporaries in ``folder`` whose writing process is gone (see :data:`TEMP_SUFFIX`)."""
    stale = []
    pattern = f".{name}.*{TEMP_SUFFIX}*" if name else f".*{TEMP_SUFFIX}*"
    for path in sorted(folder.glob(pattern)):
        stem, _, rest = path.name.rpartition(TEMP_SUFFIX)
        if rest not in ("", "-journal"):
            continue
        pid_text = stem.rsplit(".", 2)[-2] if stem.count(".") >= 2 else ""
        if pid_text.isdigit() and pid_alive(int(pid_text)):
            continue
        stale.append(path)
    return stale


def repair_catalog(db: sqlite_utils.Database) -> dict[str, int]:
    """Remove orphaned child rows and rebuild the FTS index, ``model_shapes`` and
    ``model_facets``, in one transaction; then store the broad searches' answers again
    (:func:`~genz_catalog.catalog.remembered_searches.remember_after_rebuild`).

    Returns the number of rows removed per table. Integrity failures are not repairable here:
    restore from a backup.
    """
    removed: dict[str, int] = {}
    # First: the checks below read faster with the indexes (an open for writing has usually
    # built them already).
    restored = restore_deferred_indexes(db, interrupted_only=True)
    with write_transaction(db):
        for table in _CHILD_TABLES:
            removed[table] = db.execute(
                f"DELETE FROM [{table}] WHERE {_orphan_condition(table)}"
            ).rowcount
        rebuild_fts(db)
        rebuild_model_shapes(db)
        if db["model_facets"].exists():
            rebuild_model_facets(db)
    # Outside a transaction only can foreign keys be switched off (see store.remove_unreferenced).
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(db):
            removed["documents"] = _store.remove_unreferenced(db.conn)
    finally:
        db.execute("PRAGMA foreign_keys = ON")
    remember_after_rebuild(db)
    path = catalog_file(db)
    if path is not None:
        removed["stale temporary files"] = len(remove_stale_temporaries(path.parent))
    removed["deferred indexes"] = len(restored)
    removed["figures derived again"] = _derive_stale_again(db)
    return removed


def _derive_stale_again(db: sqlite_utils.Database) -> int:
    """Convert each model :func:`iter_stale_figures` names again from its stored config
    through the write path (an update with the same config: a new version when the content
    differs, the model's cached values dropped) and drop its stored simulations, computed from
    the stale figures. Returns how many models this call changed."""
    from .catalog.refresh import stored_config

    # The models to fix go to a temporary table first: the check reads models in an order of
    # its own, and the fixes change models.
    db.execute("CREATE TEMP TABLE IF NOT EXISTS doctor_stale (model_id TEXT PRIMARY KEY)")
    db.execute("DELETE FROM doctor_stale")
    for model_id, *_ in iter_stale_figures(db):
        db.execute("INSERT OR IGNORE INTO doctor_stale (model_id) VALUES (?)", [model_id])
    manager = ModelManager(db=db)
    changed = 0
    for (model_id,) in db.execute("SELECT model_id FROM doctor_stale").fetchall():
        config = stored_config(db, model_id)
        if config is None:
            continue
        result = manager.update_model(
            model_id,
            config,
            change_description="figures derived again from its stored config (doctor --fix)",
        )
        if result.status == "updated":
            changed += 1
            with write_transaction(db):
                db.execute("DELETE FROM simulations WHERE model_id = ?", [model_id])
    db.execute("DROP TABLE doctor_stale")
    return changed


# ---------------------------------------------------------------------------------- bulk import


@dataclass
class BulkImportResult:
    """What :func:`import_config_files` did: counts per status and the files that failed."""

    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)


#: This process's bulk preparer (a worker's, or the writer's when there are no workers).
_PREPARER = BulkPreparer()


def _writer_preparer() -> BulkPreparer:
    """The preparer a writer uses for the files it takes from its workers (:func:`_in_workers`):
    it remembers fewer files and architectures than a worker's (~2 MB at most, against ~35), so
    taking work does not eat the import's memory budget."""
    preparer = BulkPreparer()
    preparer.FILES = preparer.ARCHITECTURES = 1024
    return preparer


def _read_and_prepare(
    path: str, opened: OpenedConfig | None = None, preparer: BulkPreparer | None = None
) -> tuple[str, str | None, Any]:
    """(path, model id, :class:`PreparedModel`) or (path, None, error message), in a convert
    worker (or in the writer's process when there are none); ``opened``: the file as
    :func:`open_ahead` opened it (None: opened here); ``preparer``: this process's
    :data:`_PREPARER` unless given.

    Reading, validation, conversion and JSON encoding happen here (:class:`BulkPreparer`,
    which needs no catalog and converts each distinct file once), so the writer only writes.
    """
    try:
        model_id, prepared = (preparer or _PREPARER).prepare_file(path, opened)
        return path, model_id, prepared
    except (CatalogError, ConversionError) as exc:
        return path, None, str(exc)
    except Exception as exc:  # noqa: BLE001 - one file must never stop a bulk import
        # An input the checks above did not foresee (the converter meeting a shape it does not
        # handle): reported as this file's failure, the other files still import.
        return path, None, f"{path}: cannot convert: {type(exc).__name__}: {exc}"[:500]


def _workers_can_start() -> bool:
    """False when spawned workers could not re-import ``__main__`` (a script fed on stdin)."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.exists(main_file)


#: Files of a worker's task opened ahead of the one it converts (:func:`open_ahead`): enough
#: for the disk to have read each before the worker reaches it (~200 us a conversion), few
#: enough to keep open at once. A million Hub-like configs pushed out of the page cache:
#: 4,224 models/s read one by one, 4,825 with 32 files ahead, 5,528 with 128 (as fast as
#: when they are cached: 5,534-5,736).
READ_AHEAD_FILES = 128


def _read_and_prepare_many(
    paths: list[str], preparer: BulkPreparer | None = None
) -> list[tuple[str, str | None, Any]]:
    """Worker task: :func:`_read_and_prepare` over a few hundred files, each one opened (and
    its reading asked of the kernel) :data:`READ_AHEAD_FILES` files before it is converted."""
    opened: dict[int, OpenedConfig | None] = {}
    try:
        for position, path in enumerate(paths[:READ_AHEAD_FILES]):
            opened[position] = open_ahead(path)
        prepared = []
        for position, path in enumerate(paths):
            ahead = position + READ_AHEAD_FILES
            if ahead < len(paths):
                opened[ahead] = open_ahead(paths[ahead])
            prepared.append(_read_and_prepare(path, opened.pop(position), preparer))
        return prepared
    finally:
        for left in opened.values():  # only if a conversion raised past its own handling
            if left is not None:
                os.close(left.fd)


#: Files the writer prepares itself, in one go, when its workers' next task is not ready
#: (:func:`_in_workers`): ~5 ms of work, so a task that becomes ready meanwhile waits little.
WRITER_TAKES_FILES = 32
#: ... as long as the workers found at most this share of their recent files among those they
#: remember (a moving average): with no two configs alike they find none, and a file costs
#: the writer what it costs a worker. With Hub-like repetition they find most (a worker
#: remembers 16 times more files than the writer and sees every other file), and the writer
#: paid full price for each file it took: taking files on every wait made a million Hub-like
#: configs 3-5% slower.
WRITER_TAKES_BELOW_REMEMBERED = 0.25


def _prepare_task(paths: list[str]) -> tuple[float, list[tuple[str, str | None, Any]]]:
    """A worker's task: :func:`_read_and_prepare_many`, and the share of its files the
    worker's preparer remembered (:attr:`BulkPreparer.files_remembered`)."""
    prepared_before, remembered_before = _PREPARER.files_prepared, _PREPARER.files_remembered
    prepared = _read_and_prepare_many(paths)
    read = _PREPARER.files_prepared - prepared_before
    return (_PREPARER.files_remembered - remembered_before) / max(1, read), prepared


def _in_workers(
    paths: Iterator[str],
    workers: int,
    task_size: int = 256,
    files_in_flight: int = 4096,
    writer_takes: int = WRITER_TAKES_FILES,
) -> Iterator[tuple]:
    """``_read_and_prepare`` over ``paths`` in ``workers`` processes, in order.

    Files go out in tasks of ``task_size``; at most ``files_in_flight`` are submitted and not
    yet taken by the writer (bounded memory however slow the writer is), and a new task goes
    out each time the writer takes one, so the workers keep converting while the writer
    commits a batch. (Two alternating chunks of 1536 files left the worker idle during every
    2000-model commit.)

    When the next task is not ready, the writer does not wait for it: it prepares the next
    ``writer_takes`` files itself (0: never), queued behind the tasks already out, so the
    order stays the files', while the workers remember few of their files
    (:data:`WRITER_TAKES_BELOW_REMEMBERED`). On two cores the one worker is the slower side
    of a unique-config import, and the writer slept ~15% of it waiting for results. The
    writer's own results held here are bounded by ``files_in_flight`` too (so at most twice
    that in all).
    """
    # fork would copy this process's open SQLite connection; spawn starts clean workers. A
    # ProcessPoolExecutor reports workers that die at start-up instead of respawning them forever.
    context = multiprocessing.get_context("spawn")
    tasks_out = max(1, files_in_flight // task_size)
    preparer = _writer_preparer() if writer_takes > 0 else None
    # The initializer lives in a module that imports nothing heavy, so it runs before the
    # worker imports this module (and sqlite-utils, which would drag in pandas and numpy:
    # ~50 MB per worker for type mappings a worker never uses).
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=start_convert_worker,
        initargs=(os.getpid(),),
    ) as pool:
        # Futures of the workers' tasks and lists the writer prepared, in the files' order.
        pending: deque[Future | list] = deque()
        submitted = 0  # futures in pending
        taken = 0  # files in the writer's own lists in pending
        # Share of their files the workers remembered (moving average; none while they start).
        remembered = 0.0

        def submit() -> bool:
            nonlocal submitted
            names = list(itertools.islice(paths, task_size))
            if names:
                pending.append(pool.submit(_prepare_task, names))
                submitted += 1
            return bool(names)

        try:
            for _ in range(tasks_out):
                submit()
            while pending:
                head = pending[0]
                if isinstance(head, Future):
                    if (
                        preparer is not None
                        and taken < files_in_flight
                        and remembered <= WRITER_TAKES_BELOW_REMEMBERED
                        and not head.done()
                    ):
                        names = list(itertools.islice(paths, writer_takes))
                        if names:
                            pending.append(_read_and_prepare_many(names, preparer))
                            taken += len(names)
                            continue
                    pending.popleft()
                    submitted -= 1
                    share, done = head.result()
                    remembered += (share - remembered) / 8
                else:
                    done = pending.popleft()
                    taken -= len(done)
                while submitted < tasks_out and submit():
                    pass
                yield from done
        except BrokenProcessPool:
            raise CatalogError(
                "convert workers stopped; call import_config_files from a script with an "
                "`if __name__ == '__main__':` guard, or with workers=0"
            ) from None


def import_config_files(
    manager: ModelManager,
    paths: Iterable[str | os.PathLike[str]],
    *,
    if_exists: str = "skip",
    batch_size: int = 2000,
    workers: int = 0,
    on_file: Callable[[str, WriteResult | None, str | None], None] | None = None,
) -> BulkImportResult:
    """Import many local ``config.json`` files fast: the bulk path behind ``bench/import.py``
    and ``genz-catalog import`` with many local files.

    Files stream through (never all in memory). With ``workers`` > 0 (one per spare core is
    right), that many processes read, validate and convert them while this one writes through
    :meth:`ModelManager.add_models`, ``batch_size`` models to a transaction; ``workers=0`` does
    everything here. A file that cannot be read or converted is reported in ``failures`` and
    never stops the rest, and so is a model the catalog refuses (a bare id that is another
    model's alias, an existing id with ``if_exists="error"``): it is rolled back alone. Ids
    come from each config's ``_name_or_path``, else its folder name. Nothing is written, and
    ``manager`` is not asked to write, until a file converts.

    ``on_file(path, written, error)`` is called once per file, with the
    :class:`~genz_catalog.manager.WriteResult` or the error message: failures as they are
    found, written files once their batch commits (so not in file order).
    """
    result = BulkImportResult()
    # A model this import has written carries a later updated_at: a second file naming it is
    # refused (writes.write_models), without keeping every id of the import in memory. Taken
    # after the current millisecond, so a model written just before the import (in the same
    # millisecond) is not mistaken for one of its own.
    began = utc_now_after_earlier_writes()
    names = (str(p) for p in paths)
    waiting: deque[str] = deque()  # paths of items handed to add_models, not yet written

    def items(prepared_files: Iterable[tuple[str, str | None, Any]]) -> Iterator[dict]:
        # No per-file look-up here: writes.write_models finds the stored ids of a whole batch
        # in one query and redoes the conversion of a case variant under the stored spelling.
        for path, model_id, prepared in prepared_files:
            if model_id is None:
                result.failures.append((path, prepared))
                if on_file is not None:
                    on_file(path, None, prepared)
                continue
            waiting.append(path)
            yield {"model_id": model_id, "prepared": prepared, "path": path, "first_since": began}

    def refused(item: Mapping[str, Any], error: Exception) -> None:
        # Refused while its batch was written (e.g. a bare name that is another model's
        # alias): rolled back alone, reported like a file that failed to convert.
        waiting.remove(item["path"])
        result.failures.append((item["path"], str(error)))
        if on_file is not None:
            on_file(item["path"], None, str(error))

    parallel = workers > 0 and _workers_can_start()
    if parallel:
        source = _in_workers(names, workers)
    else:
        # The workers' own function: it needs no catalog (stored spellings are the writer's
        # business, in writes.write_models), so both paths prepare files identically.
        source = map(_read_and_prepare, names)
    good = items(source)
    first = next(good, None)
    if first is None:
        return result
    # Before anything is written: the catalog's size the import is weighed against.
    live_at_start = _scalar(manager.db, "SELECT count(*) FROM models WHERE is_deleted = 0")
    writes = manager.add_models(
        itertools.chain([first], good),
        if_exists=if_exists,
        batch_size=batch_size,
        on_error=refused,
    )
    written_models = 0
    decided = False  # whether the import has been weighed for deferral yet
    deferred = False  # whether it set the catalog's secondary indexes aside
    conn = manager.writable().conn
    # With workers, a helper ranks the broad searches while this process builds the deferred
    # indexes again: the import's end overlaps on two cores instead of adding up on one.
    ahead: remembered_searches.RankingAhead | None = None
    try:
        with (
            _fewer_collections(),
            _rarer_checkpoints(conn),
            _unchecked_foreign_keys(conn),
            contextlib.ExitStack() as paused,
        ):
            try:
                for written in writes:
                    result.counts[written.status] = result.counts.get(written.status, 0) + 1
                    path = waiting.popleft()
                    if on_file is not None:
                        on_file(path, written, None)
                    if written.status in ("imported", "updated"):
                        written_models += 1
                        if written_models == remembered_searches.REMEMBER_AFTER_MODELS:
                            # The import stores the answers afresh when it ends: keeping them
                            # through each later batch would only slow it down.
                            paused.enter_context(search_upkeep_paused())
                    if (
                        not decided
                        and written_models >= defer_threshold(live_at_start)
                        and not manager.db.conn.in_transaction  # between batches: write_models
                    ):  # commits a batch before it yields its results
                        decided = True
                        deferred = bool(defer_indexes(manager.db))
                if parallel and remembered_searches.remember_due(conn, written_models):
                    ahead = remembered_searches.RankingAhead.start(manager.db)
            finally:
                if deferred:
                    _restore_after_import(manager.db, failing=sys.exc_info()[0] is not None)
        remember_after_bulk_write(manager.writable(), written_models, ahead=ahead)
    finally:
        if ahead is not None:
            ahead.close()
    return result


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Rarer cyclic garbage collections (:data:`BULK_GC_THRESHOLD`) while a bulk import runs;
    the process's own thresholds come back after it."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*BULK_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


#: WAL pages between automatic checkpoints while a bulk import writes: 256 MiB of WAL at 4 KiB
#: pages (SQLite's default is 1,000 pages). A batch of models dirties pages all over the
#: B-trees keyed by id, tens of MB of them at a million models, so at the default every commit
#: was followed by a checkpoint that copied each page back into the file and synced it. Spaced
#: out, a page rewritten by several batches is copied once and the file is synced less often
#: (1M Hub-like models: see CHANGELOG). The WAL is disk, not memory: its index grows ~8 bytes a
#: page.
BULK_WAL_AUTOCHECKPOINT = 65_536


@contextlib.contextmanager
def _rarer_checkpoints(conn: sqlite3.Connection) -> Iterator[None]:
    """Checkpoint every :data:`BULK_WAL_AUTOCHECKPOINT` WAL pages while a bulk import writes;
    afterwards the connection's own setting comes back and the WAL is copied into the file
    (passively: readers are never waited for)."""
    try:
        with pragma_set(conn, "wal_autocheckpoint", BULK_WAL_AUTOCHECKPOINT):
            yield
    finally:
        if not conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


@contextlib.contextmanager
def _unchecked_foreign_keys(conn: sqlite3.Connection) -> Iterator[None]:
    """Foreign keys unchecked while a bulk import writes; the connection's setting comes back
    after it (switched between transactions only: SQLite ignores the PRAGMA inside one).

    Every alias and version row an import inserts names a model the same batch has just
    inserted or found, and the import deletes no model (nothing to cascade), so the checks
    cannot fail; each one is a look-up of ``models``' id index at a random place, which a
    batch of 2,000 models has long pushed out of the page cache, so it costs a read.
    """
    with pragma_set(conn, "foreign_keys", 0):
        yield


#: Writes after which a bulk import sets the catalog's secondary indexes aside (see
#: :mod:`genz_catalog.deferred_indexes`). Below ~20,000 models random index inserts stay in the
#: page cache and an import runs at ~7,000 models/s without deferral; rebuilding 12 indexes
#: would then cost more than it saves. Module constants so tests can lower them.
DEFER_INDEXES_AFTER = 20_000
#: ... and only once the import has written more models than this share of the catalog's live
#: models at its start: rebuilding an index reads the whole table, so a small import into a
#: big catalog (a daily top-up of a million-model file) keeps its indexes and pays only for
#: its own rows. At 1.0 the rebuild reads at most twice what the import wrote.
DEFER_INDEXES_CATALOG_SHARE = 1.0


def _restore_after_import(db: sqlite_utils.Database, *, failing: bool) -> None:
    """Build this import's deferred indexes again (success, failure or exception alike)."""
    try:
        restore_deferred_indexes(db, owner_pid=os.getpid())
    except sqlite3.Error:
        if not failing:
            raise
        # The record stays, so the next open for writing builds them; the import's own error
        # is the one to report.


def defer_threshold(live_at_start: int) -> int:
    """How many models an import writes before it sets indexes aside, for a catalog that held
    ``live_at_start`` live models when it began."""
    return max(DEFER_INDEXES_AFTER, math.floor(live_at_start * DEFER_INDEXES_CATALOG_SHARE) + 1)


# ---------------------------------------------------------------------------------- replicas


@dataclass
class ReplicaCheck:
    """One replica compared with the writer's catalog: ``status`` is ``current``, ``stale``,
    ``unpublished`` (serves a file that is not from ``backup --publish``) or ``unreachable``."""

    url: str
    status: str
    published_at: str | None = None
    replica_digest: str | None = None
    catalog_digest: str | None = None
    detail: str = ""


def check_replicas(
    conn: sqlite3.Connection, urls: Iterable[str], *, timeout: float = 10.0
) -> list[ReplicaCheck]:
    """Ask each replica (a ``genz-catalog serve --immutable`` base URL) what it serves, through
    its JSON API, and compare with this catalog's :func:`catalog_fingerprint`."""
    import urllib.error
    import urllib.request

    mine = catalog_fingerprint(conn)["digest"]
    checks = []
    for url in urls:
        base = url.rstrip("/")
        endpoint = f"{base}/catalog/{PUBLICATION_TABLE}.json?_shape=array"
        try:
            with urllib.request.urlopen(endpoint, timeout=timeout) as response:  # noqa: S310
                rows = json.loads(response.read(1_000_000))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                checks.append(
                    ReplicaCheck(
                        base,
                        "unpublished",
                        catalog_digest=mine,
                        detail="serves no catalog_publication table; publish with "
                        "genz-catalog backup --publish",
                    )
                )
            else:
                checks.append(ReplicaCheck(base, "unreachable", detail=f"HTTP {exc.code}"))
            continue
        except (OSError, ValueError) as exc:
            checks.append(ReplicaCheck(base, "unreachable", detail=str(exc)))
            continue
        if not rows or not isinstance(rows, list) or "digest" not in rows[0]:
            checks.append(ReplicaCheck(base, "unpublished", catalog_digest=mine))
            continue
        theirs = rows[0]
        current = theirs["digest"] == mine
        checks.append(
            ReplicaCheck(
                base,
                "current" if current else "stale",
                theirs.get("published_at"),
                theirs["digest"],
                mine,
                "" if current else "the catalog changed since this copy was published",
            )
        )
    return checks
