"""The catalog file: path resolution, pragmas, migrations, transactions and concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlite_utils

from genz_catalog.catalog.search_scores import escape_fts_query
from genz_catalog.db import (
    BUSY_TIMEOUT_MS,
    DEFAULT_DB_PATH,
    DatabaseConnection,
    connect,
    fts_entries,
    fts_in_step,
    migrations,
    rebuild_fts,
    resolve_db_path,
    write_transaction,
)

MIGRATION_NAMES = [
    "m001_models",
    "m002_fts",
    "m003_genz_unsupported",
    "m004_serve_indexes",
    "m005_child_key_indexes",
    "m006_fts_skips_name_aliases",
    "m007_mtp_parameters",
    "m008_count_basis",
    "m009_simulations",
    "m010_facet_indexes",
    "m012_discover_progress",
    "m013_documents",
    "m014_stale_figures",
    "m016_million_model_indexes",
    "m017_model_shapes",
    "m018_lean_children",
    "m019_deferred_indexes",
    "m020_drop_unused_model_indexes",
    "m021_search_words",
    "m022_deleted_models_index",
    "m023_facet_indexes_in_size_order",
    "m024_current_simulations_within_context",
    "m025_lookup_index",
    "m026_model_facets",
    "m027_remembered_searches",
    "m028_kept_search_answers",
    "m029_answers_in_reserve",
    "m030_search_prefix_index",
    "m031_kept_pair_answers",
]


def _insert_model(db: sqlite_utils.Database, model_id: str, family: str = "llama") -> None:
    db.execute(
        "INSERT INTO models (model_id, model_name, source, family, created_at, updated_at) "
        "VALUES (?, ?, 'manual', ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
        [model_id, model_id.split("/")[-1], family],
    )


def _search(db: sqlite_utils.Database, text: str) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT m.model_id FROM models_fts f JOIN models m ON m.rowid = f.rowid "
            "WHERE models_fts MATCH ? ORDER BY m.model_id",
            [escape_fts_query(text)],
        )
    ]


def _indexed_instances(db: sqlite_utils.Database, word: str) -> int:
    """How many times the search index holds ``word`` (over every row and column)."""
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_words "
        "USING fts5vocab('main', 'models_fts', 'instance')"
    )
    return db.execute("SELECT count(*) FROM temp.fts_words WHERE term = ?", [word]).fetchone()[0]


def test_resolve_db_path_prefers_argument_then_env_then_default(
    isolated_catalog: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    assert resolve_db_path(tmp_path / "x.db") == tmp_path / "x.db"
    assert resolve_db_path() == isolated_catalog
    monkeypatch.delenv("GENZ_CATALOG_DB")
    assert resolve_db_path() == DEFAULT_DB_PATH.expanduser()
    assert resolve_db_path().is_absolute()


def test_connect_creates_folders_and_sets_wal_foreign_keys_busy_timeout(tmp_path: Path):
    path = tmp_path / "deep" / "er" / "models.db"
    db = connect(path)
    assert path.is_file()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS == 60_000
    assert {
        "models",
        "model_aliases",
        "model_versions",
        "model_cache",
        "model_quality_metrics",
        "models_fts",
    } <= set(db.table_names())


def test_migrations_rerun_safely(tmp_path: Path):
    path = tmp_path / "models.db"
    connect(path).close()
    db = connect(path)  # second open: nothing pending, nothing fails
    assert [m.name for m in migrations.applied(db)] == MIGRATION_NAMES
    assert migrations.pending(db) == []
    migrations.apply(db)  # and applying again is a no-op
    assert db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(
        MIGRATION_NAMES
    )


def test_older_file_with_only_m001_is_upgraded_in_place(tmp_path: Path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m002_fts")
    _insert_model(old, "mistralai/Mistral-7B-v0.1", family="mistral")
    assert "models_fts" not in old.table_names()
    old.close()

    db = connect(path)
    assert [m.name for m in migrations.applied(db)] == MIGRATION_NAMES
    # The model that was already there is searchable after the upgrade.
    hits = db.execute(
        "SELECT model_id FROM models_fts WHERE models_fts MATCH ?", [escape_fts_query("mistral")]
    ).fetchall()
    assert hits == [("mistralai/Mistral-7B-v0.1",)]


def test_upgrade_to_m003_records_why_genz_cannot_simulate_existing_models(tmp_path: Path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m003_genz_unsupported")
    configs = Path(__file__).parent / "data" / "hf-configs"
    for model_id in ("ai21labs/Jamba-v0.1", "mistralai/Mistral-7B-v0.1"):
        _insert_model(old, model_id)
        config = (configs / model_id.replace("/", "__") / "config.json").read_text()
        old.execute("UPDATE models SET config_json = ? WHERE model_id = ?", [config, model_id])
    old.close()

    db = connect(path)
    reasons = dict(db.execute("SELECT model_id, genz_unsupported FROM models").fetchall())
    assert reasons["mistralai/Mistral-7B-v0.1"] is None
    assert reasons["ai21labs/Jamba-v0.1"].startswith(
        "GenZ 0.0.16 cannot simulate hybrid Mamba/attention stacks"
    )


def test_child_tables_have_case_insensitive_model_id_indexes_for_foreign_keys(tmp_path: Path):
    # The parent key is COLLATE NOCASE; SQLite can only use a child index of the same collation
    # when a model row is deleted, otherwise it scans each child table.
    db = connect(tmp_path / "models.db")
    for table in ("model_aliases", "model_versions", "model_cache", "model_quality_metrics"):
        plan = " ".join(
            str(row[-1])
            for row in db.execute(
                f"EXPLAIN QUERY PLAN SELECT 1 FROM {table} WHERE model_id = ? COLLATE NOCASE",
                ["x"],
            )
        )
        index = {
            "model_aliases": "idx_model_aliases_model_id",  # model_id is NOCASE itself (m018)
            "model_versions": "sqlite_autoindex_model_versions_1",  # UNIQUE (model_id, version)
        }.get(table, f"idx_{table}_model_id_nocase")
        assert f"USING COVERING INDEX {index}" in plan, plan


def test_fts_indexes_aliases_but_not_the_name_part_of_the_id_after_upgrade(tmp_path: Path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m006_fts_skips_name_aliases")
    _insert_model(old, "meta-llama/Llama-3.1-8B")
    for alias, kind in (("Llama-3.1-8B", "name"), ("llama3_8b", "genz")):
        old.execute(
            "INSERT INTO model_aliases (alias, model_id, kind, created_at) "
            "VALUES (?, 'meta-llama/Llama-3.1-8B', ?, '2026-01-01T00:00:00.000Z')",
            [alias, kind],
        )
    assert old.execute("SELECT aliases FROM models_fts").fetchall() == [("Llama-3.1-8B llama3_8b",)]
    old.close()

    db = connect(path)
    assert db.execute("SELECT aliases FROM models_fts").fetchall() == [("llama3_8b",)]

    def search(text: str) -> list[tuple[str]]:
        return db.execute(
            "SELECT model_id FROM models_fts WHERE models_fts MATCH ?", [escape_fts_query(text)]
        ).fetchall()

    # The name alias's words are the id's own words, so it is still found; so is the GenZ alias.
    assert search("Llama-3.1-8B") == search("llama3_8b") == [("meta-llama/Llama-3.1-8B",)]
    # A new name alias leaves the FTS row alone; a new alias of another kind updates it.
    _insert_model(db, "mistralai/Mistral-7B-v0.1")
    for alias, kind in (("Mistral-7B-v0.1", "name"), ("mistral_7b", "genz")):
        db.execute(
            "INSERT INTO model_aliases (alias, model_id, kind, created_at) "
            "VALUES (?, 'mistralai/Mistral-7B-v0.1', ?, '2026-01-01T00:00:00.000Z')",
            [alias, kind],
        )
    assert db.execute(
        "SELECT aliases FROM models_fts WHERE model_id = 'mistralai/Mistral-7B-v0.1'"
    ).fetchall() == [("mistral_7b",)]


def test_two_processes_opening_a_fresh_file_do_not_collide(tmp_path: Path):
    path = tmp_path / "fresh.db"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_catalog() -> None:
        try:
            barrier.wait()
            connect(path).close()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_catalog) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [m.name for m in migrations.applied(connect(path))] == MIGRATION_NAMES


def test_second_writer_waits_instead_of_failing(tmp_path: Path):
    path = tmp_path / "models.db"
    first, second = connect(path), connect(path)
    locked, release = threading.Event(), threading.Event()
    order: list[str] = []

    def hold_write_lock() -> None:
        with write_transaction(first):
            _insert_model(first, "first/holder")
            locked.set()
            release.wait(5)
            order.append("first committed")

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    assert locked.wait(5)
    # Let the holder go shortly after the second writer started waiting on the lock.
    threading.Timer(0.3, release.set).start()
    with write_transaction(second):  # blocks on BEGIN IMMEDIATE, then proceeds
        order.append("second began")
        _insert_model(second, "second/waiter")
    holder.join()
    assert order == ["first committed", "second began"]
    ids = [r[0] for r in second.execute("SELECT model_id FROM models ORDER BY model_id")]
    assert ids == ["first/holder", "second/waiter"]


def test_write_transaction_rolls_back_on_error_and_nests(tmp_path: Path):
    db = connect(tmp_path / "models.db")
    with pytest.raises(RuntimeError):
        with write_transaction(db):
            _insert_model(db, "a/one")
            with write_transaction(db):  # joins the outer transaction
                _insert_model(db, "a/two")
            raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM models").fetchone()[0] == 0
    assert not db.conn.in_transaction
    with write_transaction(db):
        _insert_model(db, "a/one")
    assert db.execute("SELECT count(*) FROM models").fetchone()[0] == 1


def test_write_transaction_keeps_the_original_error_when_sqlite_already_rolled_back(
    tmp_path: Path,
):
    db = connect(tmp_path / "models.db")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        with write_transaction(db):
            _insert_model(db, "a/one")
            db.execute("ROLLBACK")  # as SQLite itself does on some errors
            _insert_model(db, "a/one")  # autocommits now
            _insert_model(db, "a/one")
    assert not db.conn.in_transaction


def test_model_ids_are_unique_case_insensitively_and_foreign_keys_enforced(tmp_path: Path):
    db = connect(tmp_path / "models.db")
    _insert_model(db, "Org/Model")
    with pytest.raises(sqlite3.IntegrityError):
        _insert_model(db, "org/model")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute(
            "INSERT INTO model_aliases (alias, model_id, created_at) VALUES ('x', 'no/such', 'now')"
        )


def test_fts_follows_model_and_alias_changes(tmp_path: Path):
    db = connect(tmp_path / "models.db")
    _insert_model(db, "org/alpha")
    db.execute(
        "INSERT INTO model_aliases (alias, model_id, created_at) VALUES ('zeta7', 'org/alpha', 'now')"
    )

    def match(text: str) -> list[str]:
        return [
            r[0]
            for r in db.execute(
                "SELECT model_id FROM models_fts WHERE models_fts MATCH ?", [escape_fts_query(text)]
            )
        ]

    assert match("zeta") == ["org/alpha"]
    db.execute("UPDATE models SET family = 'gemma' WHERE model_id = 'org/alpha'")
    assert match("gemma") == ["org/alpha"]
    assert match("zeta7") == ["org/alpha"]  # aliases survive a row update
    db.execute("DELETE FROM models WHERE model_id = 'org/alpha'")
    assert match("alpha") == []


def test_fts_reads_its_words_from_models_and_stays_in_step(tmp_path: Path):
    """m018: the index keeps no copy of the text (external content); each change hands it the
    old words, so FTS5's own check against models passes after every kind of change."""
    db = connect(tmp_path / "models.db")
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "models_fts_content" not in names
    _insert_model(db, "org/alpha")
    _insert_model(db, "org/beta")
    for alias, kind in (("alpha", "name"), ("zeta7", "user"), ("omega9", "genz")):
        db.execute(
            "INSERT INTO model_aliases (alias, model_id, kind, created_at) VALUES (?, ?, ?, 'now')",
            [alias, "org/alpha", kind],
        )
    assert db.execute("SELECT model_id, aliases FROM models ORDER BY model_id").fetchall() == [
        ("org/alpha", "omega9 zeta7"),
        ("org/beta", None),
    ]

    steps = [
        "UPDATE model_aliases SET model_id = 'org/beta' WHERE alias = 'zeta7'",
        "DELETE FROM model_aliases WHERE alias = 'omega9'",
        "UPDATE models SET family = 'gemma', model_name = 'renamed' WHERE model_id = 'org/beta'",
        "UPDATE models SET is_deleted = 1 WHERE model_id = 'org/alpha'",
        "DELETE FROM models WHERE model_id = 'org/alpha'",
    ]
    expected = [
        {"zeta7": ["org/beta"], "omega9": ["org/alpha"]},
        {"zeta7": ["org/beta"], "omega9": []},
        {"gemma": ["org/beta"], "renamed": ["org/beta"], "llama": ["org/alpha"]},
        {"alpha": ["org/alpha"]},
        {"alpha": [], "llama": [], "zeta7": ["org/beta"]},
    ]
    for sql, found in zip(steps, expected, strict=True):
        db.execute(sql)
        assert {text: _search(db, text) for text in found} == found, sql
        assert fts_in_step(db), sql
    assert fts_entries(db) == 1
    # A tool that edits the index itself puts it out of step; the rebuild mends it.
    db.execute("UPDATE models_fts SET family = 'wrong' WHERE rowid = (SELECT rowid FROM models)")
    assert not fts_in_step(db)
    rebuild_fts(db)
    assert fts_in_step(db) and _search(db, "gemma") == ["org/beta"] and _search(db, "wrong") == []


def test_m018_rebuilds_children_and_the_index_of_an_older_file_in_place(tmp_path: Path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m018_lean_children")
    _insert_model(old, "meta-llama/Llama-3.1-8B")
    _insert_model(old, "mistralai/Mistral-7B-v0.1", family="mistral")
    for alias, model_id, kind in (
        ("Llama-3.1-8B", "meta-llama/Llama-3.1-8B", "name"),
        ("llama3_8b", "meta-llama/Llama-3.1-8B", "genz"),
        ("Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1", "name"),
    ):
        old.execute(
            "INSERT INTO model_aliases (alias, model_id, kind, created_at) VALUES (?, ?, ?, 't')",
            [alias, model_id, kind],
        )
    for version in (1, 2):
        old.execute(
            "INSERT INTO model_versions (model_id, version, config_hash, snapshot_json, "
            "created_at) VALUES ('meta-llama/Llama-3.1-8B', ?, ?, '{}', 't')",
            [version, f"h{version}"],
        )
    kept = "SELECT id, model_id, version, config_hash, created_at FROM model_versions ORDER BY id"
    version_rows = old.execute(kept).fetchall()
    alias_rows = old.execute("SELECT * FROM model_aliases ORDER BY alias").fetchall()
    old.conn.commit()
    old.close()

    db = connect(path)
    assert db.execute(kept).fetchall() == version_rows
    assert db.execute("SELECT * FROM model_aliases ORDER BY alias").fetchall() == alias_rows
    indexes = {
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        if r[0].startswith(("idx_model_aliases", "idx_model_versions"))
    }
    assert indexes == {"idx_model_aliases_model_id"}
    # One NOCASE model_id index each now serves exact and case-blind lookups alike.
    assert db.execute(
        "SELECT version FROM model_versions WHERE model_id = 'META-LLAMA/llama-3.1-8b' "
        "ORDER BY version"
    ).fetchall() == [(1,), (2,)]
    assert db.execute("SELECT aliases FROM models ORDER BY model_id").fetchall() == [
        ("llama3_8b",),
        (None,),
    ]
    assert fts_in_step(db) and fts_entries(db) == 2
    found = db.execute(
        "SELECT m.model_id FROM models_fts f JOIN models m ON m.rowid = f.rowid "
        "WHERE models_fts MATCH ?",
        [escape_fts_query("llama3_8b")],
    ).fetchall()
    assert found == [("meta-llama/Llama-3.1-8B",)]
    # Deleting a model still takes its children with it (foreign keys on the rebuilt tables).
    db.execute("DELETE FROM models WHERE model_id = 'meta-llama/llama-3.1-8b'")
    assert db.execute("SELECT count(*) FROM model_versions").fetchone() == (0,)
    assert db.execute("SELECT alias FROM model_aliases").fetchall() == [("Mistral-7B-v0.1",)]
    assert fts_in_step(db) and fts_entries(db) == 1


def test_m021_version_numbers_are_words_and_a_name_in_the_id_is_indexed_once(tmp_path: Path):
    db = connect(tmp_path / "models.db")
    for model_id in ("meta-llama/Llama-3.1-8B", "org/Llama-3-1B"):
        _insert_model(db, model_id)
    _insert_model(db, "Qwen/Qwen2.5-7B", family="qwen2")
    # The name differs from the id's last part: its words are indexed too.
    db.execute(
        "INSERT INTO models (model_id, model_name, source, family, created_at, updated_at) "
        "VALUES ('org/m1', 'Northwind Coder', 'manual', 'mistral', 't', 't')"
    )
    # 'Llama-3.1' was the phrase llama 3 1*, which also matched Llama-3-1B.
    assert _search(db, "Llama-3.1") == ["meta-llama/Llama-3.1-8B"]
    assert _search(db, "llama 3") == ["meta-llama/Llama-3.1-8B", "org/Llama-3-1B"]
    assert _search(db, "qwen2") == ["Qwen/Qwen2.5-7B"]  # a prefix of qwen2.5
    assert _search(db, "Qwen2.5 7b") == ["Qwen/Qwen2.5-7B"]
    assert _search(db, "northwind") == ["org/m1"]
    # Default names are the id's last part: one copy of their words, not two.
    assert _indexed_instances(db, "qwen2.5") == 1
    assert _indexed_instances(db, "8b") == 1
    assert _indexed_instances(db, "northwind") == 1
    db.execute("UPDATE models SET model_name = 'Qwen2.5-7B' WHERE model_id = 'org/m1'")
    assert _search(db, "northwind") == [] and _indexed_instances(db, "northwind") == 0
    db.execute("UPDATE models SET model_name = 'Southwind' WHERE model_id = 'Qwen/Qwen2.5-7B'")
    assert _search(db, "southwind") == ["Qwen/Qwen2.5-7B"]
    assert fts_in_step(db) and fts_entries(db) == 4


def test_m021_reindexes_an_older_file_in_place(tmp_path: Path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m021_search_words")
    _insert_model(old, "meta-llama/Llama-3.1-8B")
    _insert_model(old, "org/Llama-3-1B")
    old.conn.commit()
    old.close()

    db = connect(path)
    assert fts_in_step(db) and fts_entries(db) == 2
    assert _search(db, "Llama-3.1") == ["meta-llama/Llama-3.1-8B"]
    assert _indexed_instances(db, "3.1") == 1 and _indexed_instances(db, "1b") == 1


def _ranked(db: sqlite_utils.Database, text: str) -> list[tuple[int, float]]:
    return db.execute(
        "SELECT rowid, rank FROM models_fts WHERE models_fts MATCH ? ORDER BY rank, rowid",
        [escape_fts_query(text)],
    ).fetchall()


def test_m030_prefix_index_keeps_matches_ranks_and_stored_answers(tmp_path: Path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m030_search_prefix_index")
    families = ("llama", "qwen2", "mistral", "gemma")
    for n in range(60):
        family = families[n % 4]
        _insert_model(old, f"org{n % 7}/{family}-{n % 5 + 1}b-m{n}-instruct", family=family)
    old.conn.commit()
    searches = ("l", "q", "m", "3", "i", "llama m", "qwen 1", "o m", "m1")
    before = {text: _ranked(old, text) for text in searches}
    generation = old.execute("SELECT generation FROM search_state").fetchone()
    index_bytes = old.execute("SELECT sum(length(block)) FROM models_fts_data").fetchone()[0]
    old.close()

    db = connect(path)
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'models_fts'").fetchone()[0]
    assert "prefix = '1'" in sql
    # The index now also holds every word under its first character.
    assert db.execute("SELECT sum(length(block)) FROM models_fts_data").fetchone()[0] > (
        index_bytes * 1.15
    )
    assert {text: _ranked(db, text) for text in searches} == before
    assert all(len(before[text]) > 0 for text in searches)
    assert len(before["l"]) == 15 and len(before["m"]) == 60  # llama; every model's m<n>
    # Stored answers are read at the generation they were ranked at: it did not move.
    assert db.execute("SELECT generation FROM search_state").fetchone() == generation
    db.execute("INSERT INTO models_fts (models_fts, rank) VALUES ('integrity-check', 1)")
    _insert_model(db, "zeta/Zorro-1b")
    assert _search(db, "z") == ["zeta/Zorro-1b"] and fts_in_step(db)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Llama-3.1", '"Llama-3.1"*'),
        ("meta-llama/Llama 8B", '"meta-llama"* "Llama"* "8B"*'),
        ('say "hi"', '"say"* """hi"""*'),
        ("   ", ""),
        ('""', ""),
    ],
)
def test_escape_fts_query(text: str, expected: str):
    assert escape_fts_query(text) == expected


def test_escaped_queries_are_valid_fts(tmp_path: Path):
    db = connect(tmp_path / "models.db")
    for text in ["Llama-3.1", "a AND", "NOT", "(", "x*", "^y", 'q"uote', "c++", "OR OR"]:
        db.execute("SELECT * FROM models_fts WHERE models_fts MATCH ?", [escape_fts_query(text)])


def test_database_connection_api(tmp_path: Path):
    path = tmp_path / "models.db"
    with DatabaseConnection(path) as conn:
        assert conn.path == path
        with conn.transaction():
            _insert_model(conn.db, "org/model")
    reader = DatabaseConnection(path, read_only=True)
    assert reader.db.execute("SELECT model_id FROM models").fetchall() == [("org/model",)]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        _insert_model(reader.db, "org/other")
    reader.close()


def test_m008_marks_stored_counts_as_formula_and_renames_legacy_falcon(tmp_path: Path):
    path = tmp_path / "models.db"
    db = connect(path)
    # Back to the file as m006 left it: no count_basis column, m008 not applied.
    db.execute("ALTER TABLE models DROP COLUMN count_basis")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_count_basis'")
    _insert_model(db, "tiiuae/falcon-7b", family="RefinedWebModel")
    _insert_model(db, "acme/no-count")
    db.execute("UPDATE models SET parameter_count = 7217189760 WHERE model_id = 'tiiuae/falcon-7b'")
    db.conn.commit()
    db.close()
    db = connect(path)
    rows = db.execute(
        "SELECT model_id, family, count_basis FROM models ORDER BY model_id"
    ).fetchall()
    assert rows == [("acme/no-count", "llama", None), ("tiiuae/falcon-7b", "falcon", "formula")]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("UPDATE models SET count_basis = 'guess'")


def test_ranking_queries_read_their_order_from_an_index_and_stop_early(tmp_path: Path):
    """At a million models these canned queries must not sort every row before the first 500
    (throughput_on_system) or 1,001 (moe_models, as Datasette fetches) come out."""
    from genz_catalog.datasette.app import load_metadata
    from genz_catalog.datasette.functions import register_sql_functions

    db = connect(tmp_path / "models.db")
    register_sql_functions(db.conn)
    queries = load_metadata()["databases"]["catalog"]["queries"]
    for name, index in (
        ("throughput_on_system", "idx_simulations_system_rank"),
        ("moe_models", "idx_models_live_moe_size"),
    ):
        query = queries[name]
        params = {p: "" for p in query.get("params", [])} | {"system": "H100_GPU"}
        plan = [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + query["sql"], params)]
        assert any(index in step for step in plan), (name, plan)
        assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), (name, plan)
