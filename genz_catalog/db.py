"""The catalog file: where it lives, how it is opened, and its schema (versioned migrations).

Every connection is opened with WAL journaling, foreign keys on and a busy timeout, so a second
writer waits for the first instead of failing with "database is locked". Write transactions start
with ``BEGIN IMMEDIATE`` (see :func:`write_transaction`): taking the write lock up front avoids the
WAL "snapshot upgrade" failure that a deferred transaction hits when another writer commits between
its first read and its first write.
"""

from __future__ import annotations

import contextvars
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from . import record as _record
from .catalog.search_scores import fts_totals
from .errors import CatalogError

#: Environment variable that overrides the default catalog path.
DB_ENV_VAR = "GENZ_CATALOG_DB"
#: Where the catalog lives when neither ``--db`` nor ``GENZ_CATALOG_DB`` says otherwise.
DEFAULT_DB_PATH = Path("~/.genz_simulator/db/models.db")
#: How long a connection waits for another writer's lock before giving up (milliseconds).
BUSY_TIMEOUT_MS = 60_000

SOURCES = ("huggingface", "local", "genz-static", "manual")
#: The values ``models.model_type`` and ``models.attention_type`` may hold (their CHECKs).
MODEL_TYPES = ("decoder-only", "encoder-decoder", "encoder-only")
ATTENTION_TYPES = ("mha", "gqa", "mqa", "mla", "none")


def resolve_db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the catalog path: ``path`` if given, else ``$GENZ_CATALOG_DB``, else the default.

    ``~`` is expanded; ``~nouser/...`` (a user with no home) is a :class:`CatalogError`. The
    file itself is not touched.
    """
    if path is None or str(path) == "":
        path = os.environ.get(DB_ENV_VAR) or DEFAULT_DB_PATH
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise CatalogError(f"{path}: no such user, so '~' cannot be expanded") from None


class NotACatalogError(CatalogError):
    """The file is an SQLite database, but holds other tables and no catalog schema."""


def _catalog_state(conn: sqlite3.Connection) -> str:
    """``"catalog"``, ``"empty"`` (no tables: a new file) or ``"other"`` (someone else's)."""
    names = {
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    }
    if not names:
        return "empty"
    if "models" in names and "_sqlite_migrations" in names:
        return "catalog"
    return "other"


def _not_a_catalog(path: Path) -> NotACatalogError:
    return NotACatalogError(
        f"{path} is an SQLite file but not a genz-catalog (it has other tables and no catalog "
        "schema); give another --db"
    )


def _open_read_only(db_path: Path) -> sqlite3.Connection:
    """A connection that can never change the file: ``mode=ro``, else ``immutable=1``.

    ``mode=ro`` still sees other processes' commits; it fails only where SQLite cannot create
    the WAL index (a read-only folder or file of a WAL catalog), and then ``immutable=1``
    reads the file as it is, without locks.
    """
    base = db_path.resolve().as_uri()
    last: sqlite3.Error | None = None
    for query in ("?mode=ro", "?mode=ro&immutable=1"):
        conn = sqlite3.connect(
            base + query,
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            last = exc
        except sqlite3.DatabaseError:
            conn.close()
            raise
    assert last is not None
    raise last


def connect(
    path: str | os.PathLike[str] | None = None, *, read_only: bool = False, migrate: bool = True
) -> sqlite_utils.Database:
    """Open the catalog, creating the file and its folders on first use, and migrate it.

    ``read_only=True`` never creates, migrates or otherwise changes the file (not even its
    journal mode): a missing file is a :class:`CatalogError`, and a read-only or immutable
    file can be read. A file holding other tables and no catalog schema is refused
    (:class:`NotACatalogError`) in both modes, before anything is written to it.
    The connection runs in autocommit mode; group writes with :func:`write_transaction`.
    """
    db_path = resolve_db_path(path)
    memory = str(db_path) == ":memory:"
    if read_only and not memory:
        conn = connect_read_only(db_path)
        from .store import move_pending

        if move_pending(conn):
            conn.close()
            raise CatalogError(
                f"{db_path} was written by an older genz-catalog (JSON not yet in the document "
                "store); open it for writing once to upgrade it, e.g. `genz-catalog --db "
                f"{db_path} doctor`"
            )
        return sqlite_utils.Database(conn)
    if not memory:
        _make_parent(db_path)
    conn = sqlite3.connect(
        str(db_path),
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Before the WAL switch and the migrations: both would change someone else's file.
        if _catalog_state(conn) == "other":
            raise _not_a_catalog(db_path)
        _retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    db = sqlite_utils.Database(conn)
    if migrate:
        migrate_catalog(db)
        if has_stale_figures(db):
            # After an upgrade that added a figure column: fill it for the rows already here
            # with today's converter (imported only then; the migrations themselves never use
            # it). Interrupted, it resumes at the next open for writing.
            from .catalog.refresh import refresh_stale_figures

            refresh_stale_figures(db)
    return db


def connect_read_only(path: str | os.PathLike[str] | None = None) -> sqlite3.Connection:
    """The catalog as a plain read-only ``sqlite3`` connection, checked as in :func:`connect`
    with ``read_only=True`` (a missing, empty or foreign file is a :class:`CatalogError`).

    No sqlite-utils wrapper: the GenZ loader's first lookup in a process would otherwise pay
    for sqlite-utils loading its plugins (3-11 ms, measured by ``bench/lookup.py``).
    """
    db_path = resolve_db_path(path)
    if not db_path.is_file():
        raise CatalogError(missing_catalog_message(db_path))
    conn = _open_read_only(db_path)
    state = _catalog_state(conn)
    if state != "catalog":
        conn.close()
        if state == "empty":
            raise CatalogError(f"{db_path} holds no catalog yet (an empty SQLite file)")
        raise _not_a_catalog(db_path)
    return conn


def missing_catalog_message(db_path: Path) -> str:
    """Why there is no catalog to read at ``db_path``, in one line that says what to do (the
    library's read-only open and the CLI's commands that need an existing file say the same)."""
    if db_path.is_symlink():
        return f"no catalog at {db_path} (a symlink to a missing file)"
    if db_path.is_dir():
        return f"{db_path} is a directory; give the catalog's file name (e.g. {db_path}/models.db)"
    if db_path.exists():
        return f"{db_path} is not a file"
    return (
        f"no catalog at {db_path}; create one with `genz-catalog sync --defaults`, "
        "`genz-catalog import ...` or `genz-catalog load FILE`"
    )


def _make_parent(db_path: Path) -> None:
    """Create the catalog's folder; a parent that is a file (or unwritable) is one line."""
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise CatalogError(f"{db_path}: a parent of this path is a file, not a folder") from None
    except OSError as exc:
        raise CatalogError(
            f"{db_path.parent}: cannot create the folder: {exc.strerror or exc}"
        ) from None
    if db_path.is_symlink() and not db_path.exists():
        raise CatalogError(f"{db_path} is a symlink to a missing file; remove it or fix it")
    if db_path.is_dir():
        raise CatalogError(f"{db_path} is a folder; give a file name for the catalog")


def migrate_catalog(db: sqlite_utils.Database) -> list[str]:
    """Apply pending schema migrations; return the names applied (empty when up to date).

    The pending check is a plain read, so an up-to-date file costs no write lock. Otherwise the
    migrations run under one ``BEGIN IMMEDIATE``: two processes opening a fresh file at once
    queue on the lock, and the second finds nothing left to do instead of failing with
    "table models already exists".
    """
    if not _pending_migrations(db):
        _finish_document_move(db)
        _finish_deferred_indexes(db)
        return []
    # Before the migrations too: one of them may drop or replace an index a killed import
    # set aside (deferred_indexes.py), and must find it where it expects it.
    _finish_deferred_indexes(db)
    with write_transaction(db):
        names = _pending_migrations(db)
        migrations.apply(db)
        mark_stale_figures(db, [FIGURES_ADDED_BY[n] for n in names if n in FIGURES_ADDED_BY])
    _finish_document_move(db)
    _finish_deferred_indexes(db)
    return names


#: Figures a migration added as an empty column: ``{migration: column}``. A migration is SQL
#: only and never calls the converter (what it wrote would drift as the converter changes).
#: When one of these runs on a file that already holds models, :func:`migrate_catalog` marks
#: those rows in ``stale_figures`` (m014), and :func:`connect` has today's converter derive the
#: figure from each row's stored config (:mod:`genz_catalog.catalog.refresh`).
FIGURES_ADDED_BY = {
    "m003_genz_unsupported": "genz_unsupported",
    "m007_mtp_parameters": "mtp_parameter_count",
}


def mark_stale_figures(db: sqlite_utils.Database, columns: list[str]) -> None:
    """Mark ``columns`` of every model converted from a config (not GenZ's static models, whose
    figures are GenZ's own) for re-derivation by :mod:`genz_catalog.catalog.refresh`."""
    for column in columns:
        db.execute(
            "INSERT OR IGNORE INTO stale_figures (model_id, column_name) "
            "SELECT model_id, ? FROM models WHERE source != 'genz-static'",
            [column],
        )


def has_stale_figures(db: sqlite_utils.Database) -> bool:
    """True while some model's figures await re-derivation (one indexed read)."""
    return db.execute("SELECT 1 FROM stale_figures LIMIT 1").fetchone() is not None


def _finish_document_move(db: sqlite_utils.Database) -> None:
    """Move an older file's JSON texts into the document store (after m013), in batches that
    each commit, so a killed run resumes at the next open; progress on stderr for big files."""
    from . import store

    if not store.move_pending(db.conn):
        return
    rows = db.execute("SELECT count(*) FROM models").fetchone()[0]
    store.move_into_store(
        db.conn,
        lambda: write_transaction(db),
        progress=store.print_progress if rows >= store.MOVE_BATCH else None,
    )


def _finish_deferred_indexes(db: sqlite_utils.Database) -> None:
    """Build again the secondary indexes a killed bulk import set aside (m019's record of an
    import whose process is gone; a running import's are left to it)."""
    from .deferred_indexes import restore_interrupted

    restore_interrupted(db)


def _pending_migrations(db: sqlite_utils.Database) -> list[str]:
    return [m.name for m in migrations.pending(db)]


def _retry_locked(fn, attempts: int = 8):  # noqa: ANN001, ANN202
    """Run ``fn``; if SQLite still reports a lock after the busy timeout, retry with jitter."""
    for attempt in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (2**attempt))
    return None


def index_exists(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the file ``conn`` reads has the index ``name``."""
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"
    return conn.execute(sql, (name,)).fetchone() is not None


def catalog_file(db: sqlite_utils.Database) -> Path | None:
    """The file behind the connection's main database, or None for an in-memory one."""
    for _, name, filename in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return Path(filename).resolve() if filename else None
    return None


@contextmanager
def pragma_set(conn: sqlite3.Connection, name: str, value: int) -> Iterator[int]:
    """Set the integer PRAGMA ``name`` of this connection for the duration of the block; the
    value it had (yielded) comes back afterwards, also after an exception."""
    (before,) = conn.execute(f"PRAGMA {name}").fetchone()
    conn.execute(f"PRAGMA {name} = {int(value)}")
    try:
        yield int(before)
    finally:
        conn.execute(f"PRAGMA {name} = {int(before)}")


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One atomic write: ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception.

    Waiting for the write lock uses the busy timeout plus a bounded retry with jitter.
    Nested use joins the outer transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    _retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
    try:
        before = _search_generation(conn)
        yield db
        after = (
            None
            if before is None
            else conn.execute("SELECT generation FROM search_state").fetchone()[0]
        )
        _retry_locked(lambda: conn.execute("COMMIT"))
    except BaseException:
        # Some errors (disk full, a RAISE(ROLLBACK) trigger) end the transaction themselves; a
        # second ROLLBACK would then mask the original exception.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if before is not None and after is not None and after != before:
        _keep_search_answers(db, before, after)


def _search_log_sql() -> tuple[str, ...]:
    """This connection's log of the models a write changed the search words or liveness of
    (temporary: nothing of it is in the file), read after the commit to keep stored answers."""
    return (
        "CREATE TEMP TABLE IF NOT EXISTS genz_search_changes (model_rowid INTEGER PRIMARY KEY)",
        "CREATE TEMP TRIGGER IF NOT EXISTS genz_search_changes_ai AFTER INSERT ON main.models "
        "BEGIN INSERT OR IGNORE INTO genz_search_changes VALUES (new.rowid); END",
        "CREATE TEMP TRIGGER IF NOT EXISTS genz_search_changes_ad AFTER DELETE ON main.models "
        "BEGIN INSERT OR IGNORE INTO genz_search_changes VALUES (old.rowid); END",
        "CREATE TEMP TRIGGER IF NOT EXISTS genz_search_changes_au AFTER UPDATE OF "
        + ", ".join(SEARCH_COLUMNS)
        + " ON main.models BEGIN INSERT OR IGNORE INTO genz_search_changes VALUES (new.rowid); END",
    )


def _search_generation(conn: sqlite3.Connection) -> int | None:
    """search_state's generation inside a write, with this connection's change log ready and
    empty; None for a file without kept answers (before m028)."""
    try:
        row = conn.execute(
            "SELECT generation, "
            "(SELECT 1 FROM sqlite_master WHERE name = 'remembered_answers'), "
            "(SELECT 1 FROM temp.sqlite_master WHERE name = 'genz_search_changes_au') "
            "FROM search_state"
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    if row is None or row[1] is None:
        return None
    if row[2] is None:
        for statement in _search_log_sql():
            conn.execute(statement)
    else:
        conn.execute("DELETE FROM temp.genz_search_changes")
    return row[0]


#: Whether writes in this context keep the stored search answers (see search_upkeep_paused).
_SEARCH_UPKEEP: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "genz_search_upkeep", default=True
)


@contextmanager
def search_upkeep_paused() -> Iterator[None]:
    """Writes in this block do not keep the stored search answers (they go unused instead):
    for a bulk write that will store them afresh when it ends, where keeping them through
    every batch (~20 us a model) would only slow it down."""
    token = _SEARCH_UPKEEP.set(False)
    try:
        yield
    finally:
        _SEARCH_UPKEEP.reset(token)


def _keep_search_answers(db: sqlite_utils.Database, before: int, after: int) -> None:
    """After a committed write: keep the stored search answers right through it when it
    changed few models (catalog/remembered_searches.py keep_answers), and rank again the few it
    could not keep (rank_left_answers); a failure there leaves them unused, never fails the
    write. The log is emptied when the next write begins."""
    from .catalog import remembered_searches  # the catalog package builds on this module

    if not _SEARCH_UPKEEP.get():
        return
    most = remembered_searches.KEEP_UP_TO_MODELS
    changed = [
        row[0]
        for row in db.conn.execute(
            "SELECT model_rowid FROM temp.genz_search_changes LIMIT ?", (most + 1,)
        )
    ]
    if not changed or len(changed) > most:
        return
    try:
        remembered_searches.keep_answers(db, changed, before, after)
        remembered_searches.rank_left_answers(db, before, after)
    except Exception:  # noqa: BLE001 - the write is committed; unkept answers are ranked
        pass


class DatabaseConnection:
    """The catalog file as the seed's API named it: ``DatabaseConnection(path)``.

    ``path`` defaults as in :func:`resolve_db_path`. ``.db`` is the migrated
    ``sqlite_utils.Database``; ``.path`` the resolved file.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False):
        self.path = resolve_db_path(path)
        self.db = connect(self.path, read_only=read_only)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def transaction(self):  # noqa: ANN201
        """Context manager for one atomic write (see :func:`write_transaction`)."""
        return write_transaction(self.db)

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> DatabaseConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# Schema. Append new migrations at the end; never edit one that has shipped.
# --------------------------------------------------------------------------------------------

migrations = sqlite_utils.Migrations("genz_catalog")

#: The converter's figures for a model, as ``models`` columns (``show`` lists them in this
#: order): the fields of :class:`genz_catalog.record.ModelRecord` marked as figures.
FIGURE_COLUMNS = _record.FIGURE_COLUMNS

#: Columns of ``models`` derived from the converter; a version snapshot holds all of them:
#: the name, the figures, the JSON documents, then the record's other columns.
DERIVED_COLUMNS = (
    "model_name",
    *FIGURE_COLUMNS,
    "memory_json",
    "genz_config_json",
    "warnings_json",
    *(c for c in _record.STORED_COLUMNS if c not in FIGURE_COLUMNS),
)


@migrations()
def m001_models(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE models (
            model_id TEXT PRIMARY KEY COLLATE NOCASE,
            model_name TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('huggingface', 'local', 'genz-static', 'manual')),
            family TEXT,
            model_type TEXT CHECK (model_type IN ('decoder-only', 'encoder-decoder', 'encoder-only')),
            attention_type TEXT CHECK (attention_type IN ('mha', 'gqa', 'mqa', 'mla', 'none')),
            is_moe INTEGER NOT NULL DEFAULT 0,
            parameter_count INTEGER,
            active_parameter_count INTEGER,
            text_parameter_count INTEGER,
            num_layers INTEGER,
            hidden_size INTEGER,
            intermediate_size INTEGER,
            num_attention_heads INTEGER,
            num_key_value_heads INTEGER,
            head_dim INTEGER,
            num_experts INTEGER,
            experts_per_token INTEGER,
            context_length INTEGER,
            vocab_size INTEGER,
            kv_values_per_token INTEGER,
            memory_json TEXT,
            config_json TEXT,
            genz_config_json TEXT,
            config_hash TEXT,
            warnings_json TEXT,
            hub_id TEXT,
            revision_sha TEXT,
            hub_parameter_count INTEGER,
            parameter_mismatch INTEGER NOT NULL DEFAULT 0,
            license TEXT,
            gated TEXT,
            pipeline_tag TEXT,
            library_name TEXT,
            tags_json TEXT,
            downloads INTEGER,
            likes INTEGER,
            hub_created_at TEXT,
            hub_last_modified TEXT,
            current_version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            is_deleted INTEGER NOT NULL DEFAULT 0,
            deleted_at TEXT
        );
        CREATE INDEX idx_models_family ON models(family);
        CREATE INDEX idx_models_source ON models(source);
        CREATE INDEX idx_models_model_type ON models(model_type);
        CREATE INDEX idx_models_attention_type ON models(attention_type);
        CREATE INDEX idx_models_parameter_count ON models(parameter_count);
        CREATE INDEX idx_models_hub_id ON models(hub_id);

        CREATE TABLE model_aliases (
            alias TEXT PRIMARY KEY COLLATE NOCASE,
            model_id TEXT NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
            kind TEXT NOT NULL DEFAULT 'user',
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_model_aliases_model_id ON model_aliases(model_id);

        CREATE TABLE model_versions (
            id INTEGER PRIMARY KEY,
            model_id TEXT NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            config_hash TEXT,
            snapshot_json TEXT NOT NULL,
            change_description TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (model_id, version)
        );

        CREATE TABLE model_cache (
            model_id TEXT NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
            cache_key TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            value_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            PRIMARY KEY (model_id, cache_key, config_hash)
        );
        CREATE INDEX idx_model_cache_expires_at ON model_cache(expires_at);

        CREATE TABLE model_quality_metrics (
            id INTEGER PRIMARY KEY,
            model_id TEXT NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
            metric_name TEXT NOT NULL COLLATE NOCASE,
            shots INTEGER,
            metric_value REAL NOT NULL,
            unit TEXT NOT NULL DEFAULT 'percent',
            source TEXT,
            measured_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        -- NULL shots would make a plain UNIQUE useless; -1 stands for "not stated".
        CREATE UNIQUE INDEX idx_metrics_unique
            ON model_quality_metrics(model_id, metric_name, COALESCE(shots, -1));
        """
    )


@migrations()
def m002_fts(db: sqlite_utils.Database) -> None:
    # A standalone FTS5 table keyed by models.rowid, so it can carry aliases from another table.
    db.executescript(
        """
        CREATE VIRTUAL TABLE models_fts USING fts5(
            model_id, model_name, family, aliases
        );

        CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN
            INSERT INTO models_fts (rowid, model_id, model_name, family, aliases)
            VALUES (new.rowid, new.model_id, new.model_name, new.family,
                    (SELECT group_concat(alias, ' ') FROM model_aliases
                     WHERE model_id = new.model_id));
        END;
        CREATE TRIGGER models_fts_ad AFTER DELETE ON models BEGIN
            DELETE FROM models_fts WHERE rowid = old.rowid;
        END;
        CREATE TRIGGER models_fts_au AFTER UPDATE OF model_id, model_name, family ON models BEGIN
            DELETE FROM models_fts WHERE rowid = old.rowid;
            INSERT INTO models_fts (rowid, model_id, model_name, family, aliases)
            VALUES (new.rowid, new.model_id, new.model_name, new.family,
                    (SELECT group_concat(alias, ' ') FROM model_aliases
                     WHERE model_id = new.model_id));
        END;

        CREATE TRIGGER model_aliases_fts_ai AFTER INSERT ON model_aliases BEGIN
            UPDATE models_fts SET aliases = (
                SELECT group_concat(alias, ' ') FROM model_aliases WHERE model_id = new.model_id)
            WHERE rowid = (SELECT rowid FROM models WHERE model_id = new.model_id);
        END;
        CREATE TRIGGER model_aliases_fts_ad AFTER DELETE ON model_aliases BEGIN
            UPDATE models_fts SET aliases = (
                SELECT group_concat(alias, ' ') FROM model_aliases WHERE model_id = old.model_id)
            WHERE rowid = (SELECT rowid FROM models WHERE model_id = old.model_id);
        END;
        CREATE TRIGGER model_aliases_fts_au AFTER UPDATE ON model_aliases BEGIN
            UPDATE models_fts SET aliases = (
                SELECT group_concat(alias, ' ') FROM model_aliases WHERE model_id = old.model_id)
            WHERE rowid = (SELECT rowid FROM models WHERE model_id = old.model_id);
            UPDATE models_fts SET aliases = (
                SELECT group_concat(alias, ' ') FROM model_aliases WHERE model_id = new.model_id)
            WHERE rowid = (SELECT rowid FROM models WHERE model_id = new.model_id);
        END;
        """
    )
    # A file upgraded from m001 may already hold models: index them too.
    db.execute(
        """INSERT INTO models_fts (rowid, model_id, model_name, family, aliases)
           SELECT m.rowid, m.model_id, m.model_name, m.family,
                  (SELECT group_concat(alias, ' ') FROM model_aliases a
                   WHERE a.model_id = m.model_id)
           FROM models m"""
    )


@migrations()
def m003_genz_unsupported(db: sqlite_utils.Database) -> None:
    # Why GenZ cannot simulate a model (hybrid layouts it has no operator for, ...), or NULL.
    # SQL only: the rows already in the file get the figure from today's converter after
    # migrating (FIGURES_ADDED_BY, genz_catalog.catalog.refresh), not from this migration.
    db.execute("ALTER TABLE models ADD COLUMN genz_unsupported TEXT")


@migrations()
def m004_serve_indexes(db: sqlite_utils.Database) -> None:
    # Rows are ~1.2 KB (config JSON), so scanning ``models`` for a browsing query is slow at 100k
    # models. These partial indexes hold only live models and cover what the Datasette pages and
    # canned queries read: a query written with a literal ``is_deleted = 0`` scans ~60-byte index
    # entries instead of the table (EXPLAIN QUERY PLAN: USING COVERING INDEX). is_deleted is
    # repeated as the last column because SQLite (3.40) counts a column named in the WHERE clause
    # as needed even when the partial index's own WHERE implies it.
    db.executescript(
        """
        -- statistics and the table facets: every grouped dimension plus the size bucket.
        CREATE INDEX idx_models_live_stats ON models(
            model_type, attention_type, family, source, is_moe, parameter_count, is_deleted
        ) WHERE is_deleted = 0;
        -- attention_kv_savings / kv_savings_by_model: heads and KV values per attention type.
        CREATE INDEX idx_models_live_kv ON models(
            attention_type, num_attention_heads, num_key_value_heads, kv_values_per_token,
            parameter_count, family, model_id, is_deleted
        ) WHERE is_deleted = 0;
        -- The models page's default order (parameter_count DESC, then the primary key) and
        -- largest_models: the first page is read straight from this index.
        CREATE INDEX idx_models_live_size ON models(parameter_count DESC, model_id, is_deleted)
            WHERE is_deleted = 0;
        -- metric_leaderboard joins metrics to live models by id.
        CREATE INDEX idx_models_live_id ON models(model_id, family, parameter_count, is_deleted)
            WHERE is_deleted = 0;
        -- parameter_mismatches: models with a Hub parameter total.
        CREATE INDEX idx_models_live_hub_count ON models(
            hub_parameter_count, parameter_count, text_parameter_count, family, hub_id, model_id, is_deleted
        ) WHERE is_deleted = 0 AND hub_parameter_count > 0;
        CREATE INDEX idx_metrics_leaderboard ON model_quality_metrics(
            metric_name, shots, metric_value DESC, model_id
        );
        """
    )


@migrations()
def m005_child_key_indexes(db: sqlite_utils.Database) -> None:
    # models.model_id is COLLATE NOCASE, so SQLite's foreign-key lookups from a parent row to its
    # children compare case-insensitively; the child tables' own model_id indexes are BINARY
    # and cannot serve them. Without these, deleting a model (or settling a deferred check in
    # a bulk import) scans every child table.
    db.executescript(
        """
        CREATE INDEX idx_model_aliases_model_id_nocase
            ON model_aliases(model_id COLLATE NOCASE);
        CREATE INDEX idx_model_versions_model_id_nocase
            ON model_versions(model_id COLLATE NOCASE);
        CREATE INDEX idx_model_cache_model_id_nocase
            ON model_cache(model_id COLLATE NOCASE);
        CREATE INDEX idx_model_quality_metrics_model_id_nocase
            ON model_quality_metrics(model_id COLLATE NOCASE);
        """
    )


#: What ``models.aliases`` (and so ``models_fts.aliases``) holds for a model: its aliases except
#: the ``name`` kind (the part of an ``org/name`` id after the slash, whose words the id column
#: already indexes).
#: ``{model_id}`` is the SQL expression for the model's id.
FTS_ALIASES_SQL = (
    "(SELECT group_concat(alias, ' ') FROM model_aliases a "
    "WHERE a.model_id = {model_id} AND a.kind != 'name')"
)


@migrations()
def m006_fts_skips_name_aliases(db: sqlite_utils.Database) -> None:
    # Every org/name model gets a ``name`` alias; indexing it re-wrote the model's FTS row right
    # after inserting it (an FTS5 update is a delete plus an insert) for words the id already
    # holds. Skipping it halves the FTS work of an import (bulk writes: ~70 us per model).
    new_aliases = FTS_ALIASES_SQL.format(model_id="new.model_id")
    old_aliases = FTS_ALIASES_SQL.format(model_id="old.model_id")
    db.executescript(
        f"""
        DROP TRIGGER models_fts_ai;
        DROP TRIGGER models_fts_au;
        DROP TRIGGER model_aliases_fts_ai;
        DROP TRIGGER model_aliases_fts_ad;
        DROP TRIGGER model_aliases_fts_au;

        CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN
            INSERT INTO models_fts (rowid, model_id, model_name, family, aliases)
            VALUES (new.rowid, new.model_id, new.model_name, new.family, {new_aliases});
        END;
        CREATE TRIGGER models_fts_au AFTER UPDATE OF model_id, model_name, family ON models BEGIN
            DELETE FROM models_fts WHERE rowid = old.rowid;
            INSERT INTO models_fts (rowid, model_id, model_name, family, aliases)
            VALUES (new.rowid, new.model_id, new.model_name, new.family, {new_aliases});
        END;
        CREATE TRIGGER model_aliases_fts_ai AFTER INSERT ON model_aliases
        WHEN new.kind != 'name' BEGIN
            UPDATE models_fts SET aliases = {new_aliases}
            WHERE rowid = (SELECT rowid FROM models WHERE model_id = new.model_id);
        END;
        CREATE TRIGGER model_aliases_fts_ad AFTER DELETE ON model_aliases
        WHEN old.kind != 'name' BEGIN
            UPDATE models_fts SET aliases = {old_aliases}
            WHERE rowid = (SELECT rowid FROM models WHERE model_id = old.model_id);
        END;
        CREATE TRIGGER model_aliases_fts_au AFTER UPDATE ON model_aliases
        WHEN old.kind != 'name' OR new.kind != 'name' BEGIN
            UPDATE models_fts SET aliases = {old_aliases}
            WHERE rowid = (SELECT rowid FROM models WHERE model_id = old.model_id);
            UPDATE models_fts SET aliases = {new_aliases}
            WHERE rowid = (SELECT rowid FROM models WHERE model_id = new.model_id);
        END;
        """
    )
    aliases = FTS_ALIASES_SQL.format(model_id="m.model_id")
    db.execute(
        "UPDATE models_fts SET aliases = ("
        f"SELECT {aliases} FROM models m WHERE m.rowid = models_fts.rowid)"
    )


@migrations()
def m007_mtp_parameters(db: sqlite_utils.Database) -> None:
    # Multi-token-prediction modules (DeepSeek-V3 num_nextn_predict_layers, Qwen3-Next mtp.*):
    # shipped in the checkpoint, not loaded by transformers, so kept out of parameter_count.
    # SQL only: the rows already in the file get the figure from today's converter after
    # migrating (FIGURES_ADDED_BY, genz_catalog.catalog.refresh); a config the converter
    # refuses keeps NULL.
    db.execute("ALTER TABLE models ADD COLUMN mtp_parameter_count INTEGER")


#: How a model's ``parameter_count`` was obtained (``models.count_basis``).
COUNT_BASES = ("formula", "transformers-meta", "hub-safetensors")


@migrations()
def m008_count_basis(db: sqlite_utils.Database) -> None:
    # Pure SQL on the file's own data (no converter): every count stored so far came from the
    # converter's formulas (GenZ static models from GenZ's own arithmetic, also a formula).
    # Legacy Falcon model_types are catalogued as the family transformers uses today.
    db.executescript(
        """
        ALTER TABLE models ADD COLUMN count_basis TEXT
            CHECK (count_basis IN ('formula', 'transformers-meta', 'hub-safetensors'));
        UPDATE models SET count_basis = 'formula' WHERE parameter_count IS NOT NULL;
        UPDATE models SET family = 'falcon' WHERE family IN ('RefinedWeb', 'RefinedWebModel');
        """
    )


@migrations()
def m009_simulations(db: sqlite_utils.Database) -> None:
    # One row per GenZ simulation of a catalog model (genz_catalog.planner). A row is current
    # while config_hash is the model's and genz_version the GenZ that wrote last; the
    # current_simulations view (what the canned queries read) shows only those. Latencies in
    # ms (decode: per generated token), throughputs in tokens/s, memory in bytes;
    # memory_per_device_bytes is the catalog's exact weights + KV cache on the fullest device,
    # the genz_* columns GenZ's own figures. difference_causes / genz_adjustments: JSON lists.
    db.executescript(
        """
        CREATE TABLE simulations (
            id INTEGER PRIMARY KEY,
            model_id TEXT NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
            config_hash TEXT NOT NULL,
            system TEXT NOT NULL,
            tensor_parallel INTEGER NOT NULL,
            pipeline_parallel INTEGER NOT NULL,
            num_devices INTEGER NOT NULL,
            bits TEXT NOT NULL,
            batch_size INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            prefill_latency_ms REAL,
            prefill_throughput_tokens_per_s REAL,
            decode_latency_ms REAL,
            decode_throughput_tokens_per_s REAL,
            end_to_end_latency_ms REAL,
            memory_per_device_bytes INTEGER,
            device_memory_bytes INTEGER,
            fits INTEGER NOT NULL DEFAULT 1,
            exact_weight_bytes INTEGER,
            exact_kv_cache_bytes INTEGER,
            genz_weight_bytes INTEGER,
            genz_weight_bytes_per_device INTEGER,
            genz_kv_cache_bytes INTEGER,
            genz_kv_cache_bytes_per_device INTEGER,
            weight_difference_pct REAL,
            difference_causes TEXT,
            genz_adjustments TEXT,
            genz_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (model_id, config_hash, genz_version, system, tensor_parallel,
                    pipeline_parallel, bits, batch_size, input_tokens, output_tokens)
        );
        -- models.model_id is NOCASE: the cascade from a deleted model needs a NOCASE index.
        CREATE INDEX idx_simulations_model_id_nocase ON simulations(model_id COLLATE NOCASE);
        CREATE INDEX idx_simulations_system ON simulations(
            system, decode_throughput_tokens_per_s DESC
        );
        CREATE INDEX idx_simulations_created ON simulations(created_at);
        CREATE VIEW current_simulations AS
            SELECT s.* FROM simulations s
              JOIN models m ON m.model_id = s.model_id
             WHERE m.is_deleted = 0
               AND s.config_hash = COALESCE(m.config_hash, '')
               AND s.genz_version = (
                   SELECT genz_version FROM simulations ORDER BY created_at DESC, id DESC LIMIT 1
               );
        """
    )


@migrations()
def m010_facet_indexes(db: sqlite_utils.Database) -> None:
    # The models page counts live models per facet (type, attention, family, source, MoE) on
    # every view. Datasette's facet SQL groups one column of ``... WHERE is_deleted = 0``; the
    # old single-column indexes are not partial, so SQLite read the ~1.2 KB table rows to check
    # is_deleted (family: 220 ms at 100k models). One narrow partial index per facet makes each
    # a covering scan of small entries (~5 ms). is_deleted is repeated as the last column for
    # the reason given in m004.
    db.executescript(
        """
        CREATE INDEX idx_models_live_family ON models(family, is_deleted) WHERE is_deleted = 0;
        CREATE INDEX idx_models_live_source ON models(source, is_deleted) WHERE is_deleted = 0;
        CREATE INDEX idx_models_live_moe ON models(is_moe, is_deleted) WHERE is_deleted = 0;
        CREATE INDEX idx_models_live_model_type ON models(model_type, is_deleted)
            WHERE is_deleted = 0;
        CREATE INDEX idx_models_live_attention ON models(attention_type, is_deleted)
            WHERE is_deleted = 0;
        """
    )
    # A file that was ANALYZEd has statistics for every index but these; give them theirs so
    # the planner weighs them like the rest (one pass over each small index).
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        for index in (
            "idx_models_live_family",
            "idx_models_live_source",
            "idx_models_live_moe",
            "idx_models_live_model_type",
            "idx_models_live_attention",
        ):
            db.execute(f"ANALYZE {index}")


def rebuild_fts(db: sqlite_utils.Database) -> None:
    """Derive ``models.aliases`` from ``model_aliases`` again and rebuild ``models_fts`` from
    ``models`` (used by ``doctor --fix``)."""
    with write_transaction(db):
        db.execute(
            "UPDATE models SET aliases = "
            + FTS_ALIASES_SQL.format(model_id="models.model_id")
            + " WHERE aliases IS NOT "
            + FTS_ALIASES_SQL.format(model_id="models.model_id")
        )
        db.execute("INSERT INTO models_fts (models_fts) VALUES ('rebuild')")
        # A rebuilt index may rank differently (it was out of step): answers stored before it
        # (m027) are no longer read.
        db.execute("UPDATE search_state SET generation = generation + 1")


def fts_in_step(db: sqlite_utils.Database) -> bool:
    """Whether ``models_fts`` indexes exactly the words ``models`` holds now (FTS5's
    ``integrity-check`` against its content table; reads the whole index)."""
    try:
        db.execute("INSERT INTO models_fts (models_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        if "malformed" in str(exc) or "corrupt" in str(exc):
            return False
        raise
    return True


def fts_entries(db: sqlite_utils.Database) -> int:
    """How many rows ``models_fts`` has indexed (:func:`fts_totals`). ``count(*)`` on an
    external-content index counts ``models``."""
    return fts_totals(db.conn)[0]


@migrations()
def m012_discover_progress(db: sqlite_utils.Database) -> None:
    # Where a `discover --all --import` walk of a Hub listing stands, per query: the next page
    # to ask for (NULL once the walk finished) and the running counts, so a stopped run resumes
    # where it left off instead of listing a million models again.
    db.executescript(
        """
        CREATE TABLE discover_progress (
            query_key TEXT PRIMARY KEY,
            query_json TEXT NOT NULL,
            next_url TEXT,
            pages INTEGER NOT NULL DEFAULT 0,
            found INTEGER NOT NULL DEFAULT 0,
            imported INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT
        );
        """
    )


@migrations()
def m013_documents(db: sqlite_utils.Database) -> None:
    # The document store (genz_catalog/store.py): each distinct config.json, GenZ keyword
    # arguments, memory figures, warnings list and superseded version snapshot stored once,
    # keyed by a 16-byte hash of its text, referenced by id. This migration only adds the
    # table and the reference columns; store.move_into_store then moves an older file's texts
    # in batches (resumable) and drops the old columns, outside this transaction.
    db.executescript(
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            hash BLOB NOT NULL UNIQUE,
            body TEXT NOT NULL
        );
        ALTER TABLE models ADD COLUMN config_doc INTEGER REFERENCES documents(id);
        ALTER TABLE models ADD COLUMN genz_doc INTEGER REFERENCES documents(id);
        ALTER TABLE models ADD COLUMN memory_doc INTEGER REFERENCES documents(id);
        ALTER TABLE models ADD COLUMN warnings_doc INTEGER REFERENCES documents(id);
        ALTER TABLE model_versions ADD COLUMN snapshot_doc INTEGER REFERENCES documents(id);
        """
    )
    # m001's single-column indexes on family, source, model_type, attention_type and
    # parameter_count duplicate the partial live-model indexes of m004/m010 (every reader
    # filters is_deleted = 0): ~80 bytes a model for nothing.
    for column in ("family", "source", "model_type", "attention_type", "parameter_count"):
        db.execute(f"DROP INDEX IF EXISTS idx_models_{column}")


@migrations()
def m014_stale_figures(db: sqlite_utils.Database) -> None:
    # Models whose figure ``column_name`` must be derived again from their stored config by
    # today's converter (genz_catalog.catalog.refresh), which deletes each row once done. Filled
    # by migrate_catalog when a migration in FIGURES_ADDED_BY runs on a file holding models; a
    # file that already had those columns has nothing to mark. No foreign key: a marker of a
    # model deleted meanwhile is simply dropped by the refresh.
    db.executescript(
        """
        CREATE TABLE stale_figures (
            model_id TEXT NOT NULL COLLATE NOCASE,
            column_name TEXT NOT NULL,
            PRIMARY KEY (model_id, column_name)
        );
        """
    )


@migrations()
def m016_million_model_indexes(db: sqlite_utils.Database) -> None:
    # Read paths that grew with the catalog (measured at 100,000 and 1,000,000 models):
    # - throughput_on_system ranks each model's best simulation on a system. With the ORDER BY's
    #   own order (system, throughput DESC, model_id) in an index, SQLite stops at the 500th
    #   model instead of sorting every simulation of the system; ties (fine-tunes of one base
    #   config simulate alike) come out in model_id order without a sort. It serves every
    #   system=? lookup the narrower idx_simulations_system served, which it replaces.
    # - moe_models lists MoE models largest first. Datasette reads 1,001 rows of a canned query
    #   and stops, but only if SQLite need not sort them all first: this partial index holds
    #   the live MoE models in the query's order, with every column it reads (no table row).
    #   It leads with is_moe so the planner, seeing is_moe = 1 matched by it and by the facet
    #   index idx_models_live_moe alike, takes the one that also gives the order.
    # - The model page's similar models group one family's live models by parameter count: the
    #   family facet index sent SQLite to the table rows of every model of the family (362 ms
    #   for Llama at a million models). idx_models_live_family_size holds family, size and id,
    #   so that is a covering range; it also covers the family facet, so it replaces
    #   idx_models_live_family.
    db.executescript(
        """
        CREATE INDEX idx_simulations_system_rank ON simulations(
            system, decode_throughput_tokens_per_s DESC, model_id
        );
        DROP INDEX idx_simulations_system;
        CREATE INDEX idx_models_live_moe_size ON models(
            is_moe, parameter_count DESC, model_id, family, num_experts, experts_per_token,
            active_parameter_count, is_deleted
        ) WHERE is_deleted = 0 AND is_moe = 1;
        CREATE INDEX idx_models_live_family_size ON models(
            family, parameter_count, model_id, is_deleted
        ) WHERE is_deleted = 0;
        DROP INDEX idx_models_live_family;
        """
    )
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        for index in (
            "idx_simulations_system_rank",
            "idx_models_live_moe_size",
            "idx_models_live_family_size",
        ):
            db.execute(f"ANALYZE {index}")


#: The columns of ``models`` the whole-catalog canned queries (``statistics``,
#: ``attention_kv_savings``, ``kv_savings_by_model``) group live models by: ``model_shapes``
#: (m017) holds one row per distinct combination with its number of live models. Changing this
#: tuple needs a new migration (m017 builds its table and triggers from it).
MODEL_SHAPE_COLUMNS = (
    "model_type",
    "attention_type",
    "family",
    "source",
    "is_moe",
    "parameter_count",
    "num_attention_heads",
    "num_key_value_heads",
    "kv_values_per_token",
)

#: The live models of ``models`` grouped into shapes: what ``model_shapes`` must hold.
#: GROUP BY puts NULLs together, as the triggers' ``IS`` comparisons do.
MODEL_SHAPES_SQL = (
    f"SELECT {', '.join(MODEL_SHAPE_COLUMNS)}, count(*) AS models FROM models "
    f"WHERE is_deleted = 0 GROUP BY {', '.join(MODEL_SHAPE_COLUMNS)}"
)


def model_shapes_drift(db: sqlite_utils.Database) -> int:
    """Rows by which ``model_shapes`` differs from the live models grouped now: shapes missing,
    extra or with another count (0 when the triggers kept it exact). Reads every model."""
    stored = f"SELECT {', '.join(MODEL_SHAPE_COLUMNS)}, models FROM model_shapes"
    return db.execute(
        f"SELECT (SELECT count(*) FROM ({stored} EXCEPT {MODEL_SHAPES_SQL})) "
        f"+ (SELECT count(*) FROM ({MODEL_SHAPES_SQL} EXCEPT {stored}))"
    ).fetchone()[0]


def rebuild_model_shapes(db: sqlite_utils.Database) -> None:
    """Count ``model_shapes`` again from ``models`` (``doctor --fix``; the caller holds the
    transaction)."""
    db.execute("DELETE FROM model_shapes")
    db.execute(
        f"INSERT INTO model_shapes ({', '.join(MODEL_SHAPE_COLUMNS)}, models) {MODEL_SHAPES_SQL}"
    )


def _key_is(columns: tuple[str, ...], row: str, live: bool) -> str:
    """A keyed table's ``columns`` equal ``row``'s (``new`` or ``old``), NULLs matching NULLs;
    with ``live``, only when that row is a live model."""
    match = " AND ".join(f"{c} IS {row}.{c}" for c in columns)
    return f"{row}.is_deleted = 0 AND {match}" if live else match


def _shape_is(row: str, live: bool) -> str:
    """``model_shapes``' key equals ``row``'s (see :func:`_key_is`)."""
    return _key_is(MODEL_SHAPE_COLUMNS, row, live)


def _count_in(table: str, columns: tuple[str, ...], row: str, live: bool) -> str:
    """Trigger statements counting ``row`` into its key's row of ``table`` (with ``live``: if
    it is live), the row made when the key is new.

    Inside a trigger, ``changes()`` counts the rows the trigger's previous statement changed:
    0 after the UPDATE means the key is new. (``INSERT ... WHERE NOT EXISTS (SELECT ... FROM
    table)`` would read the table it inserts into, which SQLite does through a temporary copy:
    ~20 us more a model, measured on raw inserts.)"""
    values = ", ".join(f"{row}.{c}" for c in columns)
    return (
        f"UPDATE {table} SET models = models + 1 WHERE {_key_is(columns, row, live)};\n"
        f"INSERT INTO {table} ({', '.join(columns)}, models) SELECT {values}, 1 WHERE "
        + (f"{row}.is_deleted = 0 AND " if live else "")
        + "changes() = 0;"
    )


def _shape_add(row: str, live: bool = False) -> str:
    """Trigger statements counting ``row`` into its shape (with ``live``: if it is live)."""
    return _count_in("model_shapes", MODEL_SHAPE_COLUMNS, row, live)


def _shape_remove(row: str, live: bool = False) -> str:
    """Trigger statements counting ``row`` out of its shape (with ``live``: if it was live):
    the last model of a shape takes its row along, so no shape counts 0 models."""
    return (
        f"DELETE FROM model_shapes WHERE {_shape_is(row, live)} AND models = 1;\n"
        f"UPDATE model_shapes SET models = models - 1 WHERE {_shape_is(row, live)};"
    )


@migrations()
def m017_model_shapes(db: sqlite_utils.Database) -> None:
    # statistics, attention_kv_savings and kv_savings_by_model group every live model by a
    # few columns; even streamed from a covering index that is 110-170 ms at a million models
    # (the first view after each write), for thousands to tens of thousands of distinct
    # architectures (7,680 in the 200,000-model bench catalog). This table
    # holds those groups with their live-model counts, kept exact by triggers on models, so
    # every write path (imports, updates, soft and hard deletes, restores, rollbacks, load,
    # refresh, raw SQL) keeps it right without the library's help.
    # NULL keys (family, parameter_count ... may be unknown) are why this is no UPSERT: a UNIQUE
    # index treats NULLs as distinct, so ON CONFLICT would never match a NULL-keyed shape. The
    # triggers find a shape with IS comparisons (NULL IS NULL), which SQLite answers from the
    # index as equality: an UPDATE of its count, and an INSERT when that changed no row. The
    # index is UNIQUE still: it catches a duplicate non-NULL shape.
    # An UPDATE fires the trigger whenever a shape column is SET, even to the same value (the
    # write path sets every content column on each change): its WHEN skips those.
    columns = ", ".join(MODEL_SHAPE_COLUMNS)
    unchanged = " AND ".join(f"old.{c} IS new.{c}" for c in (*MODEL_SHAPE_COLUMNS, "is_deleted"))
    db.executescript(
        f"""
        CREATE TABLE model_shapes (
            model_type TEXT,
            attention_type TEXT,
            family TEXT,
            source TEXT,
            is_moe INTEGER,
            parameter_count INTEGER,
            num_attention_heads INTEGER,
            num_key_value_heads INTEGER,
            kv_values_per_token INTEGER,
            models INTEGER NOT NULL CHECK (models > 0)
        );
        CREATE UNIQUE INDEX idx_model_shapes ON model_shapes({columns});
        -- attention_kv_savings and kv_savings_by_model group by head layout: in this order, a
        -- GROUP BY streams instead of sorting every shape.
        CREATE INDEX idx_model_shapes_kv ON model_shapes(
            attention_type, num_attention_heads, num_key_value_heads, kv_values_per_token,
            parameter_count
        );
        CREATE TRIGGER model_shapes_ai AFTER INSERT ON models WHEN new.is_deleted = 0 BEGIN
        {_shape_add("new")}
        END;
        CREATE TRIGGER model_shapes_ad AFTER DELETE ON models WHEN old.is_deleted = 0 BEGIN
        {_shape_remove("old")}
        END;
        CREATE TRIGGER model_shapes_au AFTER UPDATE OF {columns}, is_deleted ON models
        WHEN (old.is_deleted = 0 OR new.is_deleted = 0) AND NOT ({unchanged}) BEGIN
        {_shape_remove("old", live=True)}
        {_shape_add("new", live=True)}
        END;
        """
    )
    rebuild_model_shapes(db)


#: Triggers that keep ``models_fts`` (external content: it reads its text from ``models``) in
#: step with ``models``. An external-content FTS5 index can only forget a row's words when told
#: them again, so every change hands the old values (``old.*``) to the index's ``'delete'``
#: command before the new ones go in. ``{new_name}``/``{old_name}``: the name words indexed
#: (m018 indexed ``model_name`` as it is; m021 only when the id lacks it, SEARCH_NAME_SQL).
FTS_TRIGGERS_SQL = """
CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN
    INSERT INTO models_fts (rowid, model_id, model_name, family, aliases)
    VALUES (new.rowid, new.model_id, {new_name}, new.family, new.aliases);
END;
CREATE TRIGGER models_fts_ad AFTER DELETE ON models BEGIN
    INSERT INTO models_fts (models_fts, rowid, model_id, model_name, family, aliases)
    VALUES ('delete', old.rowid, old.model_id, {old_name}, old.family, old.aliases);
END;
CREATE TRIGGER models_fts_au AFTER UPDATE OF model_id, model_name, family, aliases ON models BEGIN
    INSERT INTO models_fts (models_fts, rowid, model_id, model_name, family, aliases)
    VALUES ('delete', old.rowid, old.model_id, {old_name}, old.family, old.aliases);
    INSERT INTO models_fts (rowid, model_id, model_name, family, aliases)
    VALUES (new.rowid, new.model_id, {new_name}, new.family, new.aliases);
END;
"""

#: Triggers that keep ``models.aliases`` (the aliases the search index reads) in step with
#: ``model_aliases``.
ALIAS_WORDS_TRIGGERS_SQL = """
CREATE TRIGGER model_aliases_words_ai AFTER INSERT ON model_aliases
WHEN new.kind != 'name' BEGIN
    UPDATE models SET aliases = {new_aliases} WHERE model_id = new.model_id;
END;
CREATE TRIGGER model_aliases_words_ad AFTER DELETE ON model_aliases
WHEN old.kind != 'name' BEGIN
    UPDATE models SET aliases = {old_aliases} WHERE model_id = old.model_id;
END;
CREATE TRIGGER model_aliases_words_au AFTER UPDATE ON model_aliases
WHEN old.kind != 'name' OR new.kind != 'name' BEGIN
    UPDATE models SET aliases = {old_aliases} WHERE model_id = old.model_id;
    UPDATE models SET aliases = {new_aliases} WHERE model_id = new.model_id;
END;
"""


def _rebuilt_with_nocase_model_id(
    db: sqlite_utils.Database, table: str, without_rowid: bool = False
) -> None:
    """Rebuild ``table`` with its ``model_id`` column ``COLLATE NOCASE`` (and optionally
    ``WITHOUT ROWID``), keeping every column it has now (an older file may still hold the
    JSON columns store.move_into_store drops later) and every row with its rowid."""
    (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [table]).fetchone()
    head = f"CREATE TABLE {table} ("
    column = "model_id TEXT NOT NULL REFERENCES"
    if not sql.startswith(head) or sql.count(column) != 1:
        raise CatalogError(f"unexpected schema of {table}: {sql!r}")
    new_sql = sql.replace(head, f"CREATE TABLE {table}_rebuilt (", 1).replace(
        column, "model_id TEXT NOT NULL COLLATE NOCASE REFERENCES", 1
    )
    if without_rowid:
        new_sql += " WITHOUT ROWID"
    db.execute(new_sql)
    db.execute(f"INSERT INTO {table}_rebuilt SELECT * FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")


@migrations()
def m018_lean_children(db: sqlite_utils.Database) -> None:
    # ~290 bytes a model at a million models (bench/import.py), and fewer B-trees to update per
    # import:
    # - model_versions.model_id and model_aliases.model_id were BINARY while models.model_id is
    #   NOCASE, so each table carried two model_id indexes (m001's BINARY one, m005's NOCASE
    #   one for foreign-key lookups). With the column NOCASE one index serves both; ids are
    #   unique regardless of case, so no query's answer changes.
    # - model_aliases is looked up by alias: as a WITHOUT ROWID table its rows live in the
    #   alias index itself instead of a table plus an index.
    # - models_fts kept a second copy of every model's id, name and family (models_fts_content).
    #   It now reads them from models (external content). Its fourth column, the model's
    #   aliases other than the ``name`` kind, became models.aliases, kept by triggers on
    #   model_aliases, so the index has one table to read and the old words of a change are
    #   always at hand (old.*). Its per-row token counts (models_fts_docsize, ~13 bytes a model)
    #   stay: without them bm25 reads every matching models row to rank a search (search_models
    #   at a million models: 69 -> 180 ms).
    db.executescript(
        """
        DROP TRIGGER models_fts_ai;
        DROP TRIGGER models_fts_ad;
        DROP TRIGGER models_fts_au;
        DROP TABLE models_fts;
        DROP INDEX idx_model_aliases_model_id;
        DROP INDEX idx_model_aliases_model_id_nocase;
        DROP INDEX idx_model_versions_model_id_nocase;
        ALTER TABLE models ADD COLUMN aliases TEXT;
        """
    )
    _rebuilt_with_nocase_model_id(db, "model_aliases", without_rowid=True)
    db.execute("CREATE INDEX idx_model_aliases_model_id ON model_aliases(model_id)")
    _rebuilt_with_nocase_model_id(db, "model_versions")
    db.execute(
        "UPDATE models SET aliases = "
        + FTS_ALIASES_SQL.format(model_id="models.model_id")
        + " WHERE model_id IN (SELECT model_id FROM model_aliases WHERE kind != 'name')"
    )
    db.executescript(
        """
        CREATE VIRTUAL TABLE models_fts USING fts5(
            model_id, model_name, family, aliases,
            content = 'models', content_rowid = 'rowid'
        );
        INSERT INTO models_fts (models_fts) VALUES ('rebuild');
        """
        + FTS_TRIGGERS_SQL.format(new_name="new.model_name", old_name="old.model_name")
        + ALIAS_WORDS_TRIGGERS_SQL.format(
            new_aliases=FTS_ALIASES_SQL.format(model_id="new.model_id"),
            old_aliases=FTS_ALIASES_SQL.format(model_id="old.model_id"),
        )
    )


@migrations()
def m019_deferred_indexes(db: sqlite_utils.Database) -> None:
    # Secondary indexes a large bulk import dropped to write faster (genz_catalog/
    # deferred_indexes.py), each with the CREATE INDEX text that builds it again and the process
    # that will: recorded in the transaction that drops them, so a killed import leaves the
    # file saying what it lacks, and the next open for writing (or doctor --fix) builds them.
    db.executescript(
        """
        CREATE TABLE deferred_indexes (
            name TEXT PRIMARY KEY,
            table_name TEXT NOT NULL,
            sql TEXT NOT NULL,
            owner_pid INTEGER NOT NULL,
            deferred_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m020_drop_unused_model_indexes(db: sqlite_utils.Database) -> None:
    # ~125 bytes a model, and two fewer B-trees each import writes into at a random place:
    # - idx_models_live_stats served the statistics canned query, which reads model_shapes
    #   (m017) now; each facet has its own narrower index (m010).
    # - idx_models_live_id was for metric_leaderboard's join from metrics to live models, which
    #   SQLite makes through the primary key (EXPLAIN QUERY PLAN: sqlite_autoindex_models_1):
    #   no query used it.
    db.executescript(
        """
        DROP INDEX IF EXISTS idx_models_live_stats;
        DROP INDEX IF EXISTS idx_models_live_id;
        -- An import interrupted before this migration must not build them again.
        DELETE FROM deferred_indexes
        WHERE name IN ('idx_models_live_stats', 'idx_models_live_id');
        """
    )


#: The name words ``models_fts`` indexes: ``model_name`` only when the id does not already hold
#: it (by default the name is the id's last part, so indexing it wrote every name twice).
SEARCH_NAME_SQL = (
    "CASE WHEN instr(lower({row}.model_id), lower({row}.model_name)) > 0 "
    "THEN NULL ELSE {row}.model_name END"
)


@migrations()
def m021_search_words(db: sqlite_utils.Database) -> None:
    # search_models at a million models spent most of its time on two things:
    # - Version numbers were split at the dot, so ``Llama-3.1`` searched for the phrase
    #   ``llama 3 1*``, and the prefix ``1*`` merged the word lists of every word starting with
    #   1 (250,000 models) twice, once to match and once for bm25's weights. With '.' a word
    #   character ``3.1`` is one word and ``3.1*`` a prefix of a few (88 -> 24 ms to rank).
    #   ``3`` still finds ``3.1`` (every word is a prefix); a lone ``1`` no longer does.
    # - model_name is by default the id's last part, so the index held every name twice
    #   (~20 bytes a model, and longer word lists to rank). The index now reads its words from
    #   the models_fts_words view, which gives the name only when the id lacks it.
    db.executescript(
        """
        DROP TRIGGER models_fts_ai;
        DROP TRIGGER models_fts_ad;
        DROP TRIGGER models_fts_au;
        DROP TABLE models_fts;
        CREATE VIEW models_fts_words AS
            SELECT rowid AS model_rowid, model_id, """
        + SEARCH_NAME_SQL.format(row="models")
        + """ AS model_name,
                   family, aliases
            FROM models;
        CREATE VIRTUAL TABLE models_fts USING fts5(
            model_id, model_name, family, aliases,
            content = 'models_fts_words', content_rowid = 'model_rowid',
            tokenize = "unicode61 tokenchars '.'"
        );
        INSERT INTO models_fts (models_fts) VALUES ('rebuild');
        """
        + FTS_TRIGGERS_SQL.format(
            new_name=SEARCH_NAME_SQL.format(row="new"),
            old_name=SEARCH_NAME_SQL.format(row="old"),
        )
    )


@migrations()
def m022_deleted_models_index(db: sqlite_utils.Database) -> None:
    # search_models ranks its matches in the search index alone and reads only the 200 best
    # models: deleted ones are left out with this index of the (few) deleted models, instead of
    # reading every match's row to look at is_deleted (llama at a million models: 65,000 rows).
    db.execute("CREATE INDEX idx_models_deleted ON models(is_deleted) WHERE is_deleted = 1")


#: The facet indexes m023 gives the size: a page of one facet value is read in its order.
FACET_SIZE_INDEXES = {
    "idx_models_live_source": "source",
    "idx_models_live_moe": "is_moe",
    "idx_models_live_model_type": "model_type",
    "idx_models_live_attention": "attention_type",
}


@migrations()
def m023_facet_indexes_in_size_order(db: sqlite_utils.Database) -> None:
    # The models page lists a facet value's models largest first. The facet indexes (m010)
    # held the value alone, so SQLite read every model of the value and sorted them all by
    # size for a page of 50: 255-300 ms for is_moe=0, model_type=decoder-only or source=local
    # at a million models. With the size after the value, a page is read in order (ties, many
    # fine-tunes of one size, are put in id order among themselves): 0.2-0.3 ms. ~26 bytes a
    # model; the indexes still cover the facet counts. An import interrupted before this
    # migration must not build the old ones again.
    names = ", ".join(f"'{name}'" for name in FACET_SIZE_INDEXES)
    db.execute(f"DELETE FROM deferred_indexes WHERE name IN ({names})")
    for name, column in FACET_SIZE_INDEXES.items():
        db.execute(f"DROP INDEX IF EXISTS {name}")
        db.execute(
            f"CREATE INDEX {name} ON models({column}, parameter_count DESC, is_deleted) "
            "WHERE is_deleted = 0"
        )
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        for name in FACET_SIZE_INDEXES:
            db.execute(f"ANALYZE {name}")


@migrations()
def m024_current_simulations_within_context(db: sqlite_utils.Database) -> None:
    # A simulation whose prompt + generated tokens exceed the model's context length is of a
    # workload the model cannot run: simulate and plan refuse it now, and a row stored before
    # (or loaded from an export) is no longer current either.
    db.executescript(
        """
        DROP VIEW IF EXISTS current_simulations;
        CREATE VIEW current_simulations AS
            SELECT s.* FROM simulations s
              JOIN models m ON m.model_id = s.model_id
             WHERE m.is_deleted = 0
               AND s.config_hash = COALESCE(m.config_hash, '')
               AND (m.context_length IS NULL
                    OR s.input_tokens + s.output_tokens <= m.context_length)
               AND s.genz_version = (
                   SELECT genz_version FROM simulations ORDER BY created_at DESC, id DESC LIMIT 1
               );
        """
    )


#: The index a GenZ lookup of a model id reads (genz/reader.py names it in ``INDEXED BY``).
LOOKUP_INDEX = "idx_models_live_lookup"


@migrations()
def m025_lookup_index(db: sqlite_utils.Database) -> None:
    # A first MODEL_DICT.get_model of a catalog id needs the id's live row's GenZ arguments
    # document and nothing else; through the id's primary-key index it also read the models
    # row, a random page of the biggest table. With the document's id in an index of live ids,
    # the row is never read (point query at a million models: 14-18 -> 9-14 us; 35 bytes a model
    # after VACUUM, 68 before).
    db.execute(
        f"CREATE INDEX IF NOT EXISTS {LOOKUP_INDEX} ON models(model_id, is_deleted, genz_doc) "
        "WHERE is_deleted = 0"
    )


#: The columns the models page counts its models by (its facets), in the order Datasette's
#: facet summary asks for them.
MODEL_FACET_COLUMNS = ("model_type", "attention_type", "family", "source", "is_moe")

#: Every live model's rowid with its facet values: what ``model_facets`` joined to
#: ``model_facet_keys`` must give.
_LIVE_FACETS_SQL = (
    f"SELECT rowid, {', '.join(MODEL_FACET_COLUMNS)} FROM models WHERE is_deleted = 0"
)
_STORED_FACETS_SQL = (
    f"SELECT f.model_rowid, {', '.join('k.' + c for c in MODEL_FACET_COLUMNS)} "
    "FROM model_facets f JOIN model_facet_keys k ON k.id = f.facet_key"
)
_KEY_COUNTS_SQL = (
    "SELECT id, models FROM model_facet_keys WHERE models != 0 EXCEPT "
    "SELECT facet_key, count(*) FROM model_facets GROUP BY facet_key"
)


def model_facets_drift(db: sqlite_utils.Database) -> int:
    """Rows by which ``model_facets`` (with ``model_facet_keys``) differs from the live models
    now: models missing or extra, or under another key, plus keys whose count is off (0 when
    the triggers kept it exact). Reads every model."""
    return db.execute(
        f"SELECT (SELECT count(*) FROM ({_LIVE_FACETS_SQL} EXCEPT {_STORED_FACETS_SQL})) "
        f"+ (SELECT count(*) FROM ({_STORED_FACETS_SQL} EXCEPT {_LIVE_FACETS_SQL})) "
        f"+ (SELECT count(*) FROM ({_KEY_COUNTS_SQL}))"
    ).fetchone()[0]


def rebuild_model_facets(db: sqlite_utils.Database) -> None:
    """Build ``model_facets`` and the key counts again from ``models`` (``doctor --fix``, the
    migration; the caller holds the transaction). Keys keep their ids: a key no live model has
    stays, counting 0."""
    columns = ", ".join(MODEL_FACET_COLUMNS)
    db.execute("DELETE FROM model_facets")
    db.execute("UPDATE model_facet_keys SET models = 0")
    # EXCEPT, like GROUP BY, takes NULLs for equal: one key per combination.
    db.execute(
        f"INSERT INTO model_facet_keys ({columns}, models) SELECT {columns}, 0 FROM ("
        f"SELECT {columns} FROM models WHERE is_deleted = 0 "
        f"EXCEPT SELECT {columns} FROM model_facet_keys)"
    )
    db.execute(
        "INSERT INTO model_facets (model_rowid, facet_key) "
        "SELECT m.rowid, k.id FROM models m JOIN model_facet_keys k ON "
        + " AND ".join(f"k.{c} IS m.{c}" for c in MODEL_FACET_COLUMNS)
        + " WHERE m.is_deleted = 0"
    )
    # Each key's count from one GROUP BY of model_facets (a count per key, each scanning the
    # table, read it once per key); an upsert, as UPDATE ... FROM needs SQLite 3.33.
    db.execute(
        f"INSERT INTO model_facet_keys (id, {columns}, models) "
        f"SELECT k.id, {', '.join('k.' + c for c in MODEL_FACET_COLUMNS)}, c.n FROM "
        "(SELECT facet_key, count(*) AS n FROM model_facets GROUP BY facet_key) c "
        "JOIN model_facet_keys k ON k.id = c.facet_key WHERE 1 "
        "ON CONFLICT (id) DO UPDATE SET models = excluded.models"
    )


def _facet_add(row: str) -> str:
    """Trigger statements filing ``row``, if it is live, under the key of its facet values (the
    key made if it is new)."""
    return (
        _count_in("model_facet_keys", MODEL_FACET_COLUMNS, row, live=True)
        + "\nINSERT OR REPLACE INTO model_facets (model_rowid, facet_key) SELECT "
        f"{row}.rowid, (SELECT id FROM model_facet_keys "
        f"WHERE {_key_is(MODEL_FACET_COLUMNS, row, live=False)}) WHERE {row}.is_deleted = 0;"
    )


def _facet_remove(row: str) -> str:
    """Trigger statements taking ``row`` out of its key's count, if it was live."""
    return (
        "UPDATE model_facet_keys SET models = models - 1 "
        f"WHERE {_key_is(MODEL_FACET_COLUMNS, row, live=True)};\n"
        f"DELETE FROM model_facets WHERE model_rowid = {row}.rowid;"
    )


@migrations()
def m026_model_facets(db: sqlite_utils.Database) -> None:
    # A searched models page counts its matches per facet value. Reading each match's models
    # row for five columns, then sorting the matches by them, was 250-360 ms for one broad word
    # at a million models (~1.5 us a row for the row, ~1.4 us for the sort). Here each live
    # model is a rowid and one small integer, the key of its facet values (a few hundred keys
    # in a million Hub-like models): the matches are counted per key, and only the keys are
    # read (50-120 ms). ~12 bytes a model; kept exact by triggers on models, like model_shapes,
    # so every write path keeps it right. Keys are never deleted (their ids are what the models
    # refer to); a key no live model has counts 0.
    columns = ", ".join(MODEL_FACET_COLUMNS)
    unchanged = " AND ".join(f"old.{c} IS new.{c}" for c in (*MODEL_FACET_COLUMNS, "is_deleted"))
    db.executescript(
        f"""
        CREATE TABLE model_facet_keys (
            id INTEGER PRIMARY KEY,
            model_type TEXT,
            attention_type TEXT,
            family TEXT,
            source TEXT,
            is_moe INTEGER,
            models INTEGER NOT NULL CHECK (models >= 0)
        );
        CREATE UNIQUE INDEX idx_model_facet_keys ON model_facet_keys({columns});
        CREATE TABLE model_facets (
            model_rowid INTEGER PRIMARY KEY,
            facet_key INTEGER NOT NULL
        );
        CREATE TRIGGER model_facets_ai AFTER INSERT ON models WHEN new.is_deleted = 0 BEGIN
        {_facet_add("new")}
        END;
        CREATE TRIGGER model_facets_ad AFTER DELETE ON models WHEN old.is_deleted = 0 BEGIN
        {_facet_remove("old")}
        END;
        CREATE TRIGGER model_facets_au AFTER UPDATE OF {columns}, is_deleted ON models
        WHEN (old.is_deleted = 0 OR new.is_deleted = 0) AND NOT ({unchanged}) BEGIN
        {_facet_remove("old")}
        {_facet_add("new")}
        END;
        """
    )
    rebuild_model_facets(db)


#: The model columns whose change can change a search's answer: its words, and whether it is
#: live.
SEARCH_COLUMNS = ("model_id", "model_name", "family", "aliases", "is_deleted")


@migrations()
def m027_remembered_searches(db: sqlite_utils.Database) -> None:
    # Ranking one broad word ranks every model that holds it: 130-150 ms for ``qwen`` or
    # ``instruct`` at a million models, up to a second for a one-letter search, before any
    # server has remembered it. A bulk import and a published copy store the answers of those
    # searches here (genz_catalog/catalog/remembered_searches.py), and the search_models
    # canned query reads them instead of ranking. An answer is used only while
    # search_state.generation is the one it was ranked at: every insert, delete and change of a
    # model's words or liveness moves the generation on, so a stored answer is the ranking's
    # answer or it is not used.
    columns = ", ".join(SEARCH_COLUMNS)
    db.executescript(
        f"""
        CREATE TABLE search_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            generation INTEGER NOT NULL
        );
        INSERT INTO search_state (id, generation) VALUES (1, 0);
        CREATE TABLE remembered_searches (
            query TEXT NOT NULL,
            position INTEGER NOT NULL,
            model_rowid INTEGER NOT NULL,
            generation INTEGER NOT NULL,
            PRIMARY KEY (query, position)
        ) WITHOUT ROWID;
        CREATE TRIGGER search_state_ai AFTER INSERT ON models BEGIN
            UPDATE search_state SET generation = generation + 1;
        END;
        CREATE TRIGGER search_state_ad AFTER DELETE ON models BEGIN
            UPDATE search_state SET generation = generation + 1;
        END;
        CREATE TRIGGER search_state_au AFTER UPDATE OF {columns} ON models BEGIN
            UPDATE search_state SET generation = generation + 1;
        END;
        """
    )


@migrations()
def m028_kept_search_answers(db: sqlite_utils.Database) -> None:
    # A stored answer used to be dropped by any write to a model's words or liveness, so after
    # one imported model a broad search ranked again (150-270 ms at a million models) until the
    # next bulk write. remembered_answers holds one row per stored search: the generation its
    # answer is right at (read instead of its rows' generation, so keeping an answer moves one
    # row) and, for a one-word search, the range of the index's mean words per model in which
    # the classes of its matches keep their order, with those classes (JSON [[hits, words]]).
    # Each stored model carries its class for the search (hits: how many of its words start
    # with the search's word; words: how many it has), so a small write can put the models it
    # changed in their places (catalog/remembered_searches.py keep_answers,
    # catalog/search_scores.py).
    db.executescript(
        """
        ALTER TABLE remembered_searches ADD COLUMN hits INTEGER;
        ALTER TABLE remembered_searches ADD COLUMN words INTEGER;
        CREATE TABLE remembered_answers (
            query TEXT PRIMARY KEY,
            generation INTEGER NOT NULL,
            avgdl_low REAL,
            avgdl_high REAL,
            classes TEXT
        );
        INSERT INTO remembered_answers (query, generation)
            SELECT query, max(generation) FROM remembered_searches GROUP BY query;
        """
    )


@migrations()
def m029_answers_in_reserve(db: sqlite_utils.Database) -> None:
    # A write that took a model out of a full stored answer (a delete, a rename) left it to rank
    # again (~180 ms at a million models) until the next bulk write: the model after its 200th
    # was not known. An answer kept through writes now stores a few more rows than searches
    # read (catalog/remembered_searches.py SPARE_ROWS), and says whether it lists every match
    # (complete) or only the best ones: a count of rows can no longer tell. The answers stored
    # before hold at most the 200 read, so one of fewer is complete.
    # A write past a place where two classes of a search swap left its answer to rank too,
    # though only a swap between a class it lists and one it does not can change which models
    # it holds. avgdl_low/avgdl_high now bound that; order_low/order_high bound the range in
    # which the listed classes keep their order (past it, the answer is sorted again). The
    # ranges stored before bound every swap, so they serve as both.
    db.executescript(
        """
        ALTER TABLE remembered_answers ADD COLUMN order_low REAL;
        ALTER TABLE remembered_answers ADD COLUMN order_high REAL;
        UPDATE remembered_answers SET order_low = avgdl_low, order_high = avgdl_high;
        ALTER TABLE remembered_answers ADD COLUMN complete INTEGER NOT NULL DEFAULT 0;
        UPDATE remembered_answers SET complete = (
            SELECT count(*) < 200 FROM remembered_searches r
            WHERE r.query = remembered_answers.query
        );
        """
    )


@migrations()
def m030_search_prefix_index(db: sqlite_utils.Database) -> None:
    # Every word of a search is a prefix, and a one-character one (the last word of ``llama m``,
    # ``qwen 1``, ``t m`` while the second word is typed) merged the word lists of every word
    # starting with it, once to match and once for bm25's weights: 100-190 ms at a million
    # Hub-like models the first time two words are asked. FTS5's prefix index of one character
    # keeps those lists merged (45-85 ms), for ~28 bytes a model. Two-character prefixes merge
    # short enough lists already (they would double the index for 5-15 ms). Matches and ranks
    # are the same, so answers stored at the current generation stay right.
    db.executescript(
        """
        DROP TABLE models_fts;
        CREATE VIRTUAL TABLE models_fts USING fts5(
            model_id, model_name, family, aliases,
            content = 'models_fts_words', content_rowid = 'model_rowid',
            tokenize = "unicode61 tokenchars '.'", prefix = '1'
        );
        INSERT INTO models_fts (models_fts) VALUES ('rebuild');
        """
    )


@migrations()
def m031_kept_pair_answers(db: sqlite_utils.Database) -> None:
    # The broadest two-word searches (``instruct v``) are stored too, and a write used to leave
    # their answers to rank (130-140 ms at a million Hub-like models). A pair's models have a
    # class of three numbers (hits of each word, words): second_hits holds the second word's
    # hits beside hits and words. pair_state (JSON) holds how many models held each word when
    # the answer was ranked, at which generation, and the ranges of the words' weights and of
    # the mean words per model in which its order is proven (catalog/pair_scores.py). Models
    # are looked up by rowid when a write changes them: with pair answers there are ~150,000
    # stored rows at a million models, too many to scan at every write.
    db.executescript(
        """
        ALTER TABLE remembered_searches ADD COLUMN second_hits INTEGER;
        ALTER TABLE remembered_answers ADD COLUMN pair_state TEXT;
        CREATE INDEX idx_remembered_searches_model ON remembered_searches (model_rowid);
        """
    )
