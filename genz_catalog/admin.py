"""Keeping the catalog safe: consistent backups, JSON-lines export and load, and a doctor.

- :func:`backup_catalog` copies the live file through SQLite's online backup API in one step, so
  the copy is one consistent snapshot even while other processes write. The copy is switched to
  ``journal_mode=delete`` so it can be served read-only and immutable (``datasette -i copy.db``).
- :func:`export_catalog` writes every table as JSON lines, sorted and with stable key order, so
  the same catalog always exports to the same bytes. :func:`load_catalog` reads such a file back
  in one transaction: it merges by default and replaces everything with ``replace=True``. The
  catalog file itself is never deleted or swapped, because Datasette may be serving it.
- :func:`diagnose_catalog` checks integrity, the FTS index against ``models``, orphaned rows,
  models missing their current version row, and the WAL size; :func:`repair_catalog` rebuilds
  the FTS index and removes orphans.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import sqlite3
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from ._lean_start import import_sqlite_utils_without_dataframes
from .convert import ConversionError
from .db import FTS_ALIASES_SQL, rebuild_fts, write_transaction
from .errors import CatalogError, InvalidInputError
from .manager import ModelManager, WriteResult, _snapshot, read_config_file, validate_model_id

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
    "model_cache": ("model_id", "cache_key", "config_hash"),
}
_SURROGATE_COLUMNS = {"model_versions": ("id",), "model_quality_metrics": ("id",)}
#: Child tables whose rows hang off ``models.model_id`` (cleared when a model is reloaded).
_CHILD_TABLES = ("model_aliases", "model_versions", "model_quality_metrics", "model_cache")


def _columns(db: sqlite_utils.Database, table: str) -> list[str]:
    skip = _SURROGATE_COLUMNS.get(table, ())
    return [c.name for c in db.table(table).columns if c.name not in skip]


def _catalog_file(db: sqlite_utils.Database) -> Path | None:
    """The file behind the connection's main database, or None for an in-memory one."""
    for _, name, filename in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return Path(filename).resolve() if filename else None
    return None


# ------------------------------------------------------------------------- files written

#: Suffix of the temporary files every written file is built in (``.NAME.PID.RANDOM.genz-tmp``):
#: the writer's pid in the name tells a stale one (its writer is gone) from one in progress.
TEMP_SUFFIX = ".genz-tmp"


def _catalog_paths(db: sqlite_utils.Database) -> set[Path]:
    """The catalog file and its companions (``-wal``, ``-shm``, ``-journal``), resolved."""
    source = _catalog_file(db)
    if source is None:
        return set()
    return {source} | {Path(f"{source}{suffix}") for suffix in ("-wal", "-shm", "-journal")}


def check_output_path(
    db: sqlite_utils.Database, destination: str | os.PathLike[str], *, verb: str, what: str
) -> Path:
    """Refuse a destination that is, or resolves to, the catalog or one of its companion files.

    Symlinks and ``..`` are resolved first, so no spelling of the catalog's path gets through.
    Returns the destination with ``~`` expanded.
    """
    target = Path(destination).expanduser()
    resolved = target.resolve()
    if resolved in _catalog_paths(db):
        raise InvalidInputError(f"{target}: refusing to {verb} the catalog onto itself")
    if target.is_dir():
        raise InvalidInputError(f"{target}: is a folder; give a file name for the {what}")
    if not target.parent.is_dir():
        raise InvalidInputError(f"{target.parent}: no such folder")
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str], name: str | None = None) -> list[Path]:
    """Delete temporaries (``*.genz-tmp``) in ``folder`` whose writing process is gone.

    ``name`` limits it to the temporaries of one file (``.NAME.*``). A temporary of a writer
    still running is kept. Returns the files removed.
    """
    removed = []
    pattern = f".{name}.*{TEMP_SUFFIX}" if name else f".*{TEMP_SUFFIX}"
    for path in Path(folder).glob(pattern):
        pid_text = path.name[: -len(TEMP_SUFFIX)].rsplit(".", 2)[-2]
        if pid_text.isdigit() and _pid_alive(int(pid_text)) and int(pid_text) != os.getpid():
            continue
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


@dataclass
class BackupResult:
    """What :func:`backup_catalog` wrote: the file, its size in bytes and its model count."""

    path: Path
    size_bytes: int
    models: int


def backup_catalog(
    db: sqlite_utils.Database, destination: str | os.PathLike[str], *, overwrite: bool = False
) -> BackupResult:
    """Write a consistent snapshot of the catalog to ``destination`` (a new SQLite file).

    The online backup API copies every page in one step under one read transaction, so writers
    in other processes never make it restart or mix two states. The copy is built in a temporary
    file next to ``destination`` and renamed into place, so a crash never leaves half a backup,
    and it is converted to ``journal_mode=delete``: no ``-wal`` file, safe to serve immutable.
    Refuses an existing ``destination`` unless ``overwrite``, and the catalog file itself.
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
    tables = [t for t in EXPORT_TABLES if include_cache or t != "model_cache"]
    yield (
        "",
        json.dumps(
            {"format": EXPORT_FORMAT, "version": EXPORT_FORMAT_VERSION, "tables": tables},
            sort_keys=True,
        ),
    )
    for table in tables:
        columns = _columns(db, table)
        key = EXPORT_TABLES[table]
        # Natural keys are unique (case-insensitively for ids), so this order is total.
        order = ", ".join(f"{k} IS NULL, {k}" if k == "shots" else k for k in key)
        select = ", ".join(f"[{c}]" for c in columns)
        cursor = db.execute(f"SELECT {select} FROM [{table}] ORDER BY {order}")
        for values in cursor:
            row = dict(zip(columns, values, strict=True))
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
    reloaded: set[str] = set()
    seen_header = False
    with write_transaction(db):
        if replace:
            # Children first (orphans included, which no cascade would reach); the FTS entries
            # follow through the triggers.
            for child in _CHILD_TABLES:
                db.execute(f"DELETE FROM [{child}]")
            db.execute("DELETE FROM models")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            where = f"{source_name}:{number}"
            try:
                doc = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{where}: malformed JSON: {exc.msg}") from None
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
            try:
                written = _load_row(db, table, row, replace, reloaded, result)
            except CatalogError as exc:
                raise InvalidInputError(f"{where}: {exc}") from None
            except sqlite3.IntegrityError as exc:
                raise InvalidInputError(f"{where}: {table} row rejected: {exc}") from None
            if written:
                result.counts[table] = result.counts.get(table, 0) + 1
        if not seen_header:
            raise InvalidInputError(f"{source_name}: empty file, not a genz-catalog export")
    return result


def _load_row(
    db: sqlite_utils.Database,
    table: str,
    row: dict[str, Any],
    replace: bool,
    reloaded: set[str],
    result: LoadResult,
) -> bool:
    """Write one exported row; returns False when it was skipped."""
    if table == "models":
        model_id = validate_model_id(row.get("model_id"))
        if model_id != row["model_id"]:
            raise InvalidInputError(f"model id {row['model_id']!r} has surrounding spaces")
        if not replace:
            # The file's model replaces the catalog's: drop its old children first, keep its
            # rowid (so the FTS row is updated in place, not orphaned).
            for child in _CHILD_TABLES:
                db.execute(f"DELETE FROM [{child}] WHERE model_id = ?", [model_id])
            reloaded.add(model_id.lower())
        columns = sorted(row)
        assignments = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != "model_id")
        db.execute(
            f"INSERT INTO models ({', '.join(f'[{c}]' for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)}) "
            "ON CONFLICT (model_id) DO "
            + (f"UPDATE SET {assignments}" if assignments else "NOTHING"),
            [row[c] for c in columns],
        )
        return True
    if table == "model_aliases":
        alias = validate_model_id(row.get("alias"))
        owner = db.execute(
            "SELECT model_id FROM model_aliases WHERE alias = ? UNION ALL "
            "SELECT model_id FROM models WHERE model_id = ?",
            [alias, alias],
        ).fetchone()
        if owner is not None:
            if str(owner[0]).lower() == str(row.get("model_id", "")).lower():
                return False
            result.skipped_aliases.append(str(alias))
            return False
    columns = sorted(row)
    verb = "INSERT OR REPLACE" if table in ("model_versions", "model_cache") else "INSERT"
    sql = (
        f"{verb} INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    if table == "model_quality_metrics":
        updates = ", ".join(
            f"[{c}] = excluded.[{c}]" for c in columns if c not in EXPORT_TABLES[table]
        )
        sql += " ON CONFLICT (model_id, metric_name, COALESCE(shots, -1)) DO "
        sql += f"UPDATE SET {updates}" if updates else "NOTHING"
    db.execute(sql, [row[c] for c in columns])
    return True


# ---------------------------------------------------------------------------------- doctor


@dataclass
class DoctorReport:
    """What :func:`diagnose_catalog` found. ``problems`` is empty for a healthy catalog."""

    integrity: list[str]
    models: int
    fts_rows: int
    fts_out_of_sync: int
    orphans: dict[str, int]
    models_missing_current_version: int
    journal_mode: str
    wal_bytes: int | None
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when nothing needs fixing."""
        return not self.problems


def _scalar(db: sqlite_utils.Database, sql: str) -> int:
    return db.execute(sql).fetchone()[0]


def _orphan_condition(table: str) -> str:
    # models.model_id carries COLLATE NOCASE, so matching it on the left is case-insensitive.
    return f"NOT EXISTS (SELECT 1 FROM models m WHERE m.model_id = [{table}].model_id)"


def diagnose_catalog(db: sqlite_utils.Database) -> DoctorReport:
    """Check the catalog without changing it.

    Looks at ``PRAGMA integrity_check``, ``models_fts`` against ``models`` (missing, extra and
    stale entries), rows in child tables whose model is gone, models whose current version has no
    version row, the journal mode and the size of the ``-wal`` file (bytes, None when absent).
    """
    integrity = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
    models = _scalar(db, "SELECT count(*) FROM models")
    fts_rows = _scalar(db, "SELECT count(*) FROM models_fts")
    missing = _scalar(
        db,
        "SELECT count(*) FROM models m WHERE NOT EXISTS "
        "(SELECT 1 FROM models_fts f WHERE f.rowid = m.rowid)",
    )
    extra = _scalar(
        db,
        "SELECT count(*) FROM models_fts f WHERE NOT EXISTS "
        "(SELECT 1 FROM models m WHERE m.rowid = f.rowid)",
    )
    stale = _scalar(
        db,
        "SELECT count(*) FROM models m JOIN models_fts f ON f.rowid = m.rowid "
        "WHERE f.model_id IS NOT m.model_id COLLATE BINARY OR f.model_name IS NOT m.model_name "
        "OR f.family IS NOT m.family OR f.aliases IS NOT "
        + FTS_ALIASES_SQL.format(model_id="m.model_id"),
    )
    orphans = {
        table: _scalar(db, f"SELECT count(*) FROM [{table}] WHERE {_orphan_condition(table)}")
        for table in _CHILD_TABLES
    }
    missing_version = _scalar(
        db,
        "SELECT count(*) FROM models m WHERE NOT EXISTS (SELECT 1 FROM model_versions v "
        "WHERE v.model_id = m.model_id AND v.version = m.current_version)",
    )
    journal_mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    path = _catalog_file(db)
    wal = Path(f"{path}-wal") if path is not None else None
    wal_bytes = wal.stat().st_size if wal is not None and wal.exists() else None

    report = DoctorReport(
        integrity=integrity,
        models=models,
        fts_rows=fts_rows,
        fts_out_of_sync=missing + extra + stale,
        orphans=orphans,
        models_missing_current_version=missing_version,
        journal_mode=journal_mode,
        wal_bytes=wal_bytes,
    )
    if integrity != ["ok"]:
        report.problems.append(
            "integrity check failed: " + "; ".join(integrity[:5]) + " (restore from a backup)"
        )
    if report.fts_out_of_sync:
        report.problems.append(
            f"search index out of sync: {missing} models missing, {extra} extra entries, "
            f"{stale} stale entries (--fix rebuilds it)"
        )
    for table, count in orphans.items():
        if count:
            report.problems.append(f"{count} orphaned {table} rows (--fix removes them)")
    if missing_version:
        report.problems.append(f"{missing_version} models have no row for their current version")
    return report


def repair_catalog(db: sqlite_utils.Database) -> dict[str, int]:
    """Remove orphaned child rows and rebuild the FTS index, in one transaction.

    Returns the number of rows removed per table. Integrity failures are not repairable here:
    restore from a backup.
    """
    removed: dict[str, int] = {}
    with write_transaction(db):
        for table in _CHILD_TABLES:
            removed[table] = db.execute(
                f"DELETE FROM [{table}] WHERE {_orphan_condition(table)}"
            ).rowcount
        rebuild_fts(db)
    return removed


# ---------------------------------------------------------------------------------- bulk import


@dataclass
class BulkImportResult:
    """What :func:`import_config_files` did: counts per status and the files that failed."""

    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)


_WORKER_MANAGER: ModelManager | None = None


def _read_and_prepare(path: str) -> tuple[str, str | None, Any]:
    """(path, model id, prepared row content) or (path, None, error message), in a convert
    worker (or in the writer's process when there are none).

    Runs ``ModelManager._prepare`` (validation, conversion, JSON encoding) against an empty
    in-memory catalog, so the writer only has to write.
    """
    global _WORKER_MANAGER
    if _WORKER_MANAGER is None:
        _WORKER_MANAGER = ModelManager(":memory:")
    try:
        config, model_id = read_config_file(path)
        prepared = _WORKER_MANAGER._prepare(
            model_id, config, None, "local", None, stored_spelling=False
        )
        # The version-1 snapshot too, so the writer only writes.
        prepared["_snapshot_json"] = json.dumps(_snapshot(prepared), sort_keys=True)
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


def _read_and_prepare_many(paths: list[str]) -> list[tuple[str, str | None, Any]]:
    """Worker task: :func:`_read_and_prepare` over a few hundred files."""
    return [_read_and_prepare(path) for path in paths]


def _in_workers(
    paths: Iterator[str], workers: int, task_size: int = 256, files_in_flight: int = 4096
) -> Iterator[tuple]:
    """``_read_and_prepare`` over ``paths`` in ``workers`` processes, in order.

    Files go out in tasks of ``task_size``; at most ``files_in_flight`` are submitted and not
    yet taken by the writer (bounded memory however slow the writer is), and a new task goes
    out each time the writer takes one, so the workers keep converting while the writer
    commits a batch. (Two alternating chunks of 1536 files left the worker idle during every
    2000-model commit.)
    """
    # fork would copy this process's open SQLite connection; spawn starts clean workers. A
    # ProcessPoolExecutor reports workers that die at start-up instead of respawning them forever.
    context = multiprocessing.get_context("spawn")
    # The initializer lives in a module that imports nothing heavy, so it runs before the
    # worker imports this module (and sqlite-utils, which would drag in pandas and numpy:
    # ~50 MB per worker for type mappings a worker never uses).
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=import_sqlite_utils_without_dataframes,
    ) as pool:
        pending: deque = deque()

        def submit() -> None:
            names = list(itertools.islice(paths, task_size))
            if names:
                pending.append(pool.submit(_read_and_prepare_many, names))

        try:
            for _ in range(max(1, files_in_flight // task_size)):
                submit()
            while pending:
                done = pending.popleft().result()
                submit()
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
    names = (str(p) for p in paths)
    waiting: deque[str] = deque()  # paths of items handed to add_models, not yet written

    def items(prepared_files: Iterable[tuple[str, str | None, Any]]) -> Iterator[dict]:
        # No per-file look-up here: _write_batch finds the stored ids of a whole batch in one
        # query and redoes the conversion of a case variant under the stored spelling.
        for path, model_id, prepared in prepared_files:
            if model_id is None:
                result.failures.append((path, prepared))
                if on_file is not None:
                    on_file(path, None, prepared)
                continue
            waiting.append(path)
            yield {"model_id": model_id, "prepared": prepared, "path": path}

    def refused(item: Mapping[str, Any], error: Exception) -> None:
        # Refused while its batch was written (e.g. a bare name that is another model's
        # alias): rolled back alone, reported like a file that failed to convert.
        waiting.remove(item["path"])
        result.failures.append((item["path"], str(error)))
        if on_file is not None:
            on_file(item["path"], None, str(error))

    if workers > 0 and _workers_can_start():
        source = _in_workers(names, workers)
    else:
        # The workers' own function: it needs no catalog (stored spellings are the writer's
        # business, in _write_batch), so both paths prepare files identically.
        source = map(_read_and_prepare, names)
    good = items(source)
    first = next(good, None)
    if first is None:
        return result
    writes = manager.add_models(
        itertools.chain([first], good),
        if_exists=if_exists,
        batch_size=batch_size,
        on_error=refused,
    )
    for written in writes:
        result.counts[written.status] = result.counts.get(written.status, 0) + 1
        path = waiting.popleft()
        if on_file is not None:
            on_file(path, written, None)
    return result
