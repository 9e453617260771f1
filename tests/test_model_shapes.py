"""model_shapes (db.py m017): live models counted per architecture, kept exact by triggers;
and model_facets (m026): each live model's key of its facet values, kept exact the same way.

The whole-catalog canned queries read it instead of every model. These tests build a catalog of
every real config in tests/data/hf-configs, write to it through each path (bulk and single
imports, updates, rollbacks, soft and hard deletes, restores, the figure refresh, load, raw SQL
with NULL-valued shapes) and check after each step that the table equals a GROUP BY over
``models`` and that the canned queries answer exactly what they answered when they grouped
``models`` themselves (their SQL before m017 is kept below); and that model_facets gives every
live model its own facet values, and each key the number of live models under it.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from genz_catalog.admin import diagnose_catalog, export_catalog, load_catalog, repair_catalog
from genz_catalog.catalog.refresh import refresh_stale_figures
from genz_catalog.datasette.app import load_metadata
from genz_catalog.datasette.functions import register_sql_functions
from genz_catalog.db import (
    MODEL_FACET_COLUMNS,
    MODEL_SHAPE_COLUMNS,
    MODEL_SHAPES_SQL,
    connect,
    migrations,
    model_facets_drift,
)
from genz_catalog.manager import ModelManager

CONFIGS = Path(__file__).parent / "data" / "hf-configs"
STAMP = "2026-01-01T00:00:00.000Z"
KEY = ", ".join(MODEL_SHAPE_COLUMNS)

#: The three canned queries as they were before m017, grouping ``models`` directly.
OLD_SQL = {
    "statistics": """
WITH shapes AS MATERIALIZED (
  SELECT model_type, attention_type, family, source, is_moe, parameter_count,
         count(*) AS n
  FROM models
  WHERE is_deleted = 0
  GROUP BY model_type, attention_type, family, source, is_moe, parameter_count
),
grouped AS MATERIALIZED (
  SELECT coalesce(model_type, 'unknown') AS model_type,
         coalesce(attention_type, 'unknown') AS attention_type,
         coalesce(family, 'unknown') AS family,
         source,
         is_moe,
         CASE
           WHEN parameter_count IS NULL THEN 9
           WHEN parameter_count < 1000000000 THEN 1
           WHEN parameter_count < 3000000000 THEN 2
           WHEN parameter_count < 10000000000 THEN 3
           WHEN parameter_count < 30000000000 THEN 4
           WHEN parameter_count < 100000000000 THEN 5
           ELSE 6
         END AS size_bucket,
         n
  FROM shapes
),
counted AS (
  SELECT 0 AS dimension_order, 'total' AS dimension, 'all models' AS value, 0 AS value_order, sum(n) AS models FROM grouped
  UNION ALL SELECT 1, 'model_type', model_type, 0, sum(n) FROM grouped GROUP BY model_type
  UNION ALL SELECT 2, 'attention_type', attention_type, 0, sum(n) FROM grouped GROUP BY attention_type
  UNION ALL SELECT 3, 'is_moe', CASE is_moe WHEN 1 THEN 'moe' ELSE 'dense' END, 0, sum(n) FROM grouped GROUP BY is_moe
  UNION ALL SELECT 4, 'family', family, 0, sum(n) FROM grouped GROUP BY family
  UNION ALL SELECT 5, 'source', source, 0, sum(n) FROM grouped GROUP BY source
  UNION ALL SELECT 6, 'parameters',
    CASE size_bucket
      WHEN 1 THEN '< 1B' WHEN 2 THEN '1B - 3B' WHEN 3 THEN '3B - 10B'
      WHEN 4 THEN '10B - 30B' WHEN 5 THEN '30B - 100B' WHEN 6 THEN '>= 100B'
      ELSE 'unknown' END,
    size_bucket, sum(n) FROM grouped GROUP BY size_bucket
)
SELECT dimension, value, models
FROM counted
WHERE models > 0
ORDER BY dimension_order, value_order, models DESC, value
""",
    "attention_kv_savings": """
WITH shapes AS MATERIALIZED (
  SELECT attention_type, kv_values_per_token, count(*) AS n,
         100.0 * (1.0 - 1.0 * num_key_value_heads / num_attention_heads) AS saving
  FROM models
  WHERE is_deleted = 0 AND attention_type IN ('mha', 'gqa', 'mqa')
    AND num_attention_heads > 0 AND num_key_value_heads > 0
  GROUP BY attention_type, num_attention_heads, num_key_value_heads, kv_values_per_token
)
SELECT attention_type,
       sum(n) AS models,
       round(1.0 * sum(n * kv_values_per_token * 2)
             / sum(CASE WHEN kv_values_per_token IS NOT NULL THEN n END)) AS avg_kv_bytes_per_token_bf16,
       round(sum(n * saving) / sum(n), 2) AS avg_kv_saving_vs_mha_percent,
       round(min(saving), 2) AS min_kv_saving_percent,
       round(max(saving), 2) AS max_kv_saving_percent
FROM shapes
GROUP BY attention_type
ORDER BY CASE attention_type WHEN 'mha' THEN 0 WHEN 'gqa' THEN 1 ELSE 2 END
""",
    "kv_savings_by_model": """
WITH layouts AS MATERIALIZED (
  SELECT attention_type, num_attention_heads, num_key_value_heads, kv_values_per_token,
         parameter_count, count(*) AS n,
         round(100.0 * (1.0 - 1.0 * num_key_value_heads / num_attention_heads), 2) AS saving
  FROM models
  WHERE is_deleted = 0
    AND attention_type IN ('gqa', 'mqa')
    AND (trim(:attention_type) = '' OR attention_type = lower(trim(:attention_type)))
    AND num_attention_heads > 0 AND num_key_value_heads > 0
  GROUP BY attention_type, num_attention_heads, num_key_value_heads, kv_values_per_token,
           parameter_count
),
best AS MATERIALIZED (
  SELECT * FROM (
    SELECT *, sum(n) OVER (ORDER BY saving DESC, parameter_count DESC
                           ROWS UNBOUNDED PRECEDING) - n AS models_before
    FROM layouts)
  WHERE models_before < 1000
)
SELECT m.model_id, m.family, m.attention_type, m.num_attention_heads, m.num_key_value_heads,
       m.kv_values_per_token * 2 AS kv_bytes_per_token,
       m.kv_values_per_token * 2 * m.num_attention_heads / m.num_key_value_heads AS mha_kv_bytes_per_token,
       b.saving AS kv_saving_percent,
       genz_human_count(m.parameter_count) AS parameters
FROM best b
JOIN models m
  ON m.is_deleted = 0 AND m.attention_type = b.attention_type
 AND m.num_attention_heads = b.num_attention_heads
 AND m.num_key_value_heads = b.num_key_value_heads
 AND m.kv_values_per_token IS b.kv_values_per_token
 AND m.parameter_count IS b.parameter_count
ORDER BY kv_saving_percent DESC, m.parameter_count DESC, m.model_id
LIMIT 1000
""",
}
#: Parameters each query is compared with (kv_savings_by_model: both types, each, any case).
PARAMETERS = {
    "statistics": [{}],
    "attention_kv_savings": [{}],
    "kv_savings_by_model": [
        {"attention_type": ""},
        {"attention_type": "gqa"},
        {"attention_type": " MQA "},
    ],
}


def _config(model_id: str) -> dict:
    return json.loads((CONFIGS / model_id.replace("/", "__") / "config.json").read_text())


def _model_ids() -> list[str]:
    return sorted(p.name.replace("__", "/", 1) for p in CONFIGS.iterdir())


def _shapes(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(f"SELECT {KEY}, models FROM model_shapes ORDER BY {KEY}").fetchall()


def _grouped(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(f"SELECT * FROM ({MODEL_SHAPES_SQL}) ORDER BY {KEY}").fetchall()


def _shape_count(conn: sqlite3.Connection, **values: object) -> int:
    """Live models of the one shape whose columns hold ``values`` (NULL for None), 0 if none."""
    where = " AND ".join(f"{c} IS ?" for c in values)
    rows = conn.execute(f"SELECT models FROM model_shapes WHERE {where}", list(values.values()))
    counts = [n for (n,) in rows]
    assert len(counts) <= 1 or len(values) < len(MODEL_SHAPE_COLUMNS), counts
    return sum(counts)


FACETS = ", ".join(MODEL_FACET_COLUMNS)


def _facets(conn: sqlite3.Connection) -> list[tuple]:
    """(rowid, facet values) of every model model_facets files, through its key."""
    keys = ", ".join(f"k.{c}" for c in MODEL_FACET_COLUMNS)
    return conn.execute(
        f"SELECT f.model_rowid, {keys} FROM model_facets f "
        "JOIN model_facet_keys k ON k.id = f.facet_key ORDER BY f.model_rowid"
    ).fetchall()


def _check_facets(conn: sqlite3.Connection) -> None:
    """model_facets files every live model, and only those, under its own facet values; each
    key counts the live models under it; no two keys hold the same values."""
    live = conn.execute(
        f"SELECT rowid, {FACETS} FROM models WHERE is_deleted = 0 ORDER BY rowid"
    ).fetchall()
    assert _facets(conn) == live
    counted = conn.execute(
        f"SELECT {FACETS}, models FROM model_facet_keys WHERE models > 0 ORDER BY {FACETS}"
    ).fetchall()
    assert (
        counted
        == conn.execute(
            f"SELECT {FACETS}, count(*) FROM models WHERE is_deleted = 0 GROUP BY {FACETS} "
            f"ORDER BY {FACETS}"
        ).fetchall()
    )
    keys = conn.execute(f"SELECT {FACETS} FROM model_facet_keys").fetchall()
    assert len(keys) == len(set(keys))
    assert model_facets_drift(sqlite_utils.Database(conn)) == 0


def _check(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """model_shapes equals the GROUP BY over models, and every query answers as before, row for
    row; model_facets is exact (:func:`_check_facets`); returns the new queries' answers (by
    query and parameters)."""
    assert _shapes(conn) == _grouped(conn)
    _check_facets(conn)
    queries = load_metadata()["databases"]["catalog"]["queries"]
    answers = {}
    for name, parameter_sets in PARAMETERS.items():
        for parameters in parameter_sets:
            new = conn.execute(queries[name]["sql"], parameters).fetchall()
            assert new == conn.execute(OLD_SQL[name], parameters).fetchall(), (name, parameters)
            if name == "kv_savings_by_model":
                assert new == conn.execute(KV_SAVINGS_BY_SORTING, parameters).fetchall()
            answers[f"{name} {parameters}"] = new
    return answers


#: kv_savings_by_model's answer by brute force: every live GQA/MQA model sorted.
KV_SAVINGS_BY_SORTING = """
SELECT model_id, family, attention_type, num_attention_heads, num_key_value_heads,
       kv_values_per_token * 2,
       kv_values_per_token * 2 * num_attention_heads / num_key_value_heads,
       round(100.0 * (1.0 - 1.0 * num_key_value_heads / num_attention_heads), 2) AS saving,
       genz_human_count(parameter_count)
FROM models
WHERE is_deleted = 0 AND attention_type IN ('gqa', 'mqa')
  AND (trim(:attention_type) = '' OR attention_type = lower(trim(:attention_type)))
  AND num_attention_heads > 0 AND num_key_value_heads > 0
ORDER BY saving DESC, parameter_count DESC, model_id
LIMIT 1000
"""


def _insert_raw(conn: sqlite3.Connection, model_id: str, is_deleted: int = 0, **columns) -> None:
    """A model written with plain SQL (the triggers must not depend on the library)."""
    names = ["model_id", "model_name", "source", "created_at", "updated_at", "is_deleted"]
    values = [model_id, model_id, "manual", STAMP, STAMP, is_deleted]
    conn.execute(
        f"INSERT INTO models ({', '.join([*names, *columns])}) "
        f"VALUES ({', '.join('?' for _ in [*names, *columns])})",
        [*values, *columns.values()],
    )


@pytest.fixture
def manager(tmp_path: Path):
    with ModelManager(tmp_path / "catalog.db") as manager:
        register_sql_functions(manager.db.conn)
        yield manager


def test_shapes_and_canned_queries_follow_every_write_path(manager: ModelManager) -> None:
    conn = manager.db.conn
    ids = _model_ids()
    # Imports: most in bulk (multi-row INSERTs), a few one at a time.
    bulk = [{"model_id": i, "config": _config(i), "source": "huggingface"} for i in ids[:-10]]
    assert len(list(manager.add_models(bulk, batch_size=40))) == len(ids) - 10
    for model_id in ids[-10:]:
        manager.add_model(model_id, _config(model_id), source="huggingface")
    answers = _check(conn)
    stats = {(d, v): n for d, v, n in answers["statistics {}"]}
    assert stats[("total", "all models")] == len(ids) > 100
    # DeepSeek V2-Lite, R1 and V3.2, Kimi K2, MiniCPM3, GLM-4.7-Flash.
    assert stats[("attention_type", "mla")] == 6
    # bart, marian, pegasus, t5, whisper, and two mbart (barthez, mrebel).
    assert stats[("model_type", "encoder-decoder")] == 7
    llama_31 = {"family": "llama", "parameter_count": 8_030_261_248, "num_key_value_heads": 8}
    llama_32 = {"family": "llama", "parameter_count": 3_212_749_824, "num_key_value_heads": 8}
    # Llama-3.1-8B and its Chinese fine-tune; Llama-3.2-3B and its Instruct.
    assert (_shape_count(conn, **llama_31), _shape_count(conn, **llama_32)) == (2, 2)

    # An update that changes grouped columns moves the model from one shape to another.
    manager.update_model("meta-llama/Llama-3.1-8B", _config("meta-llama/Llama-3.2-3B"))
    _check(conn)
    assert (_shape_count(conn, **llama_31), _shape_count(conn, **llama_32)) == (1, 3)
    # A rollback moves it back.
    manager.rollback("meta-llama/Llama-3.1-8B", 1)
    _check(conn)
    assert (_shape_count(conn, **llama_31), _shape_count(conn, **llama_32)) == (2, 2)
    # A new name only (content unchanged): no shape column changes.
    manager.update_model("meta-llama/Llama-3.1-8B", model_name="Llama 3.1 8B")
    assert (_shape_count(conn, **llama_31), _shape_count(conn, **llama_32)) == (2, 2)

    # Soft deletes: the last model of a shape takes its row along.
    r1 = {"family": "deepseek_v3", "parameter_count": 671_026_404_352}
    assert _shape_count(conn, **r1) == 1
    for model_id in ("deepseek-ai/DeepSeek-R1", "meta-llama/Llama-3.2-3B", "openai/gpt-oss-20b"):
        manager.delete_model(model_id)
    _check(conn)
    assert _shape_count(conn, **r1) == 0
    assert _shape_count(conn, **llama_32) == 1
    # A deleted model's grouped columns may change (raw SQL): it is counted nowhere.
    conn.execute("UPDATE models SET family = 'llama-x' WHERE model_id = 'meta-llama/Llama-3.2-3B'")
    conn.execute("UPDATE models SET family = 'llama' WHERE model_id = 'meta-llama/Llama-3.2-3B'")
    assert _shape_count(conn, **llama_32) == 1
    # Restores: undelete, and re-importing a deleted model (the write path restores it).
    manager.undelete_model("deepseek-ai/DeepSeek-R1")
    manager.add_model(
        "meta-llama/Llama-3.2-3B",
        _config("meta-llama/Llama-3.2-3B"),
        source="huggingface",
        if_exists="update",
    )
    _check(conn)
    assert (_shape_count(conn, **r1), _shape_count(conn, **llama_32)) == (1, 2)
    # Hard deletes of a live and of a soft-deleted model.
    manager.delete_model("tiiuae/falcon-7b", hard=True)
    manager.delete_model("openai/gpt-oss-20b", hard=True)
    _check(conn)
    assert _shape_count(conn, family="falcon", attention_type="mqa") == 1  # falcon-7b-instruct

    # The figure refresh writes figures with a plain UPDATE.
    conn.execute("UPDATE models SET parameter_count = 1 WHERE model_id = 'google/gemma-2b-it'")
    conn.execute(
        "INSERT INTO stale_figures (model_id, column_name) "
        "VALUES ('google/gemma-2b-it', 'parameter_count')"
    )
    assert _shape_count(conn, family="gemma", parameter_count=1) == 1
    _check(conn)
    assert refresh_stale_figures(manager.db) == {"parameter_count": 1}
    assert _shape_count(conn, family="gemma", parameter_count=1) == 0
    assert _shape_count(conn, family="gemma", parameter_count=2_506_172_416) == 1
    _check(conn)


def test_null_valued_shapes_are_one_row_each(manager: ModelManager) -> None:
    """NULL keys match NULL keys (IS), where a UNIQUE constraint or UPSERT would not."""
    conn = manager.db.conn
    manager.add_model("openai-community/gpt2", _config("openai-community/gpt2"), source="local")
    _insert_raw(conn, "unknown-1")
    _insert_raw(conn, "unknown-2")
    _insert_raw(conn, "unknown-deleted", is_deleted=1)
    nothing_known = {c: None for c in MODEL_SHAPE_COLUMNS if c not in ("source", "is_moe")}
    assert _shape_count(conn, **nothing_known, source="manual", is_moe=0) == 2
    assert len(_shapes(conn)) == 2  # gpt2's and the unknown one
    # Half-known shapes: NULL in some columns only.
    _insert_raw(conn, "family-only-1", family="llama")
    _insert_raw(conn, "family-only-2", family="llama", is_moe=1)
    _insert_raw(conn, "family-only-3", family="llama", is_moe=1)
    answers = _check(conn)
    assert len(_shapes(conn)) == 4
    assert _shape_count(conn, **{**nothing_known, "family": "llama"}, is_moe=1) == 2
    stats = {(d, v): n for d, v, n in answers["statistics {}"]}
    assert stats[("family", "unknown")] == 2
    assert stats[("parameters", "unknown")] == 5
    assert (stats[("is_moe", "dense")], stats[("is_moe", "moe")]) == (4, 2)
    # Into and out of a NULL shape by UPDATE, then a soft delete, a restore and a hard delete.
    conn.execute("UPDATE models SET family = 'llama' WHERE model_id = 'unknown-1'")
    assert _shape_count(conn, **nothing_known, source="manual", is_moe=0) == 1
    conn.execute("UPDATE models SET family = NULL WHERE model_id = 'unknown-1'")
    assert _shape_count(conn, **nothing_known, source="manual", is_moe=0) == 2
    conn.execute("UPDATE models SET is_deleted = 1 WHERE model_id = 'unknown-2'")
    assert _shape_count(conn, **nothing_known, source="manual", is_moe=0) == 1
    conn.execute("UPDATE models SET is_deleted = 0 WHERE model_id LIKE 'unknown-%'")
    assert _shape_count(conn, **nothing_known, source="manual", is_moe=0) == 3
    _check(conn)
    conn.execute("DELETE FROM models WHERE model_id LIKE 'unknown-%'")
    assert _shape_count(conn, **nothing_known, source="manual", is_moe=0) == 0
    _check(conn)


def test_many_models_per_shape_and_load(manager: ModelManager) -> None:
    """Over 1,000 GQA/MQA models, so kv_savings_by_model keeps only the best layouts; then
    ``load`` (merge and replace) rewrites the catalog through its own path."""
    conn = manager.db.conn
    ids = _model_ids()
    items = [{"model_id": i, "config": _config(i), "source": "huggingface"} for i in ids]
    list(manager.add_models(items))
    # 20 fine-tunes of every model in one INSERT ... SELECT (as a raw bulk write would).
    conn.execute(
        """WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 20)
           INSERT INTO models (model_id, model_name, source, model_type, attention_type, family,
                               is_moe, parameter_count, num_attention_heads,
                               num_key_value_heads, kv_values_per_token, created_at,
                               updated_at)
           SELECT m.model_id || '-ft' || k, m.model_name, 'local', model_type, attention_type,
                  family, is_moe, parameter_count, num_attention_heads, num_key_value_heads,
                  kv_values_per_token, created_at, updated_at
           FROM models m, n"""
    )
    conn.execute(
        "INSERT INTO model_versions (model_id, version, change_description, created_at) "
        "SELECT model_id, 1, 'imported', created_at FROM models WHERE model_id LIKE '%-ft%'"
    )
    answers = _check(conn)
    assert sum(n for (*_, n) in _shapes(conn)) == 21 * len(ids)
    by_model = answers["kv_savings_by_model {'attention_type': ''}"]
    assert len(by_model) == 1000
    # The biggest saving: falcon-7b's 71 query heads over 1 K/V head, 98.59 %.
    assert by_model[0][2:8] == ("mqa", 71, 1, 8192, 8192 * 71, 98.59)
    # Soft-delete every fine-tune of one shape at once, then export and load.
    conn.execute("UPDATE models SET is_deleted = 1 WHERE family = 'falcon'")
    _check(conn)
    exported = io.StringIO()
    export_catalog(manager.db, exported)
    conn.execute("DELETE FROM models WHERE model_id LIKE '%-ft1%'")
    _check(conn)
    load_catalog(manager.db, io.StringIO(exported.getvalue()))  # merge
    _check(conn)
    load_catalog(manager.db, io.StringIO(exported.getvalue()), replace=True)
    _check(conn)
    # falcon-7b and falcon-7b-instruct with their fine-tunes stay deleted.
    assert sum(n for (*_, n) in _shapes(conn)) == 21 * len(ids) - 2 * 21


def test_migration_fills_the_table_from_an_older_file(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m017_model_shapes")
    for model_id, is_deleted, family, parameter_count in (
        ("a", 0, "llama", 8_030_261_248),
        ("b", 0, "llama", 8_030_261_248),
        ("c", 1, "llama", 8_030_261_248),
        ("d", 0, None, None),
        ("e", 0, None, None),
        ("f", 1, "mistral", None),
    ):
        _insert_raw(old.conn, model_id, is_deleted, family=family, parameter_count=parameter_count)
    old.conn.commit()
    old.close()
    db = connect(path)
    assert [
        tuple(r)
        for r in db.execute(
            "SELECT family, parameter_count, models FROM model_shapes ORDER BY family"
        ).fetchall()
    ] == [
        (None, None, 2),
        ("llama", 8_030_261_248, 2),
    ]
    assert _shapes(db.conn) == _grouped(db.conn)
    # m026 files the four live models under two keys (one all NULL but source and is_moe).
    _check_facets(db.conn)
    assert db.execute(
        f"SELECT {FACETS}, models FROM model_facet_keys ORDER BY family"
    ).fetchall() == [(None, None, None, "manual", 0, 2), (None, None, "llama", "manual", 0, 2)]


def test_shape_lookups_use_the_index(manager: ModelManager) -> None:
    """The triggers find a shape by IS comparisons on every column: an index search, not a
    scan of model_shapes, on every write of a model."""
    where = " AND ".join(f"{c} IS ?" for c in MODEL_SHAPE_COLUMNS)
    for sql in (
        f"UPDATE model_shapes SET models = models + 1 WHERE {where}",
        f"DELETE FROM model_shapes WHERE {where} AND models = 1",
        f"SELECT 1 FROM model_shapes WHERE {where}",
    ):
        plan = manager.db.conn.execute(
            "EXPLAIN QUERY PLAN " + sql, [None] * len(MODEL_SHAPE_COLUMNS)
        ).fetchall()
        assert [step[3] for step in plan] == [
            plan[0][3].split(" USING")[0]
            + (" USING COVERING INDEX " if sql.startswith("SELECT") else " USING INDEX ")
            + "idx_model_shapes ("
            + " AND ".join(f"{c}=?" for c in MODEL_SHAPE_COLUMNS)
            + ")"
        ]


def test_facet_key_lookups_use_the_index(manager: ModelManager) -> None:
    """The model_facets triggers find a model's key by IS comparisons on every facet column: an
    index search of model_facet_keys, not a scan, on every write of a model."""
    where = " AND ".join(f"{c} IS ?" for c in MODEL_FACET_COLUMNS)
    for sql in (
        f"UPDATE model_facet_keys SET models = models + 1 WHERE {where}",
        f"SELECT id FROM model_facet_keys WHERE {where}",
    ):
        plan = manager.db.conn.execute(
            "EXPLAIN QUERY PLAN " + sql, [None] * len(MODEL_FACET_COLUMNS)
        ).fetchall()
        assert [step[3] for step in plan] == [
            plan[0][3].split(" USING")[0]
            + (" USING COVERING INDEX " if sql.startswith("SELECT") else " USING INDEX ")
            + "idx_model_facet_keys ("
            + " AND ".join(f"{c}=?" for c in MODEL_FACET_COLUMNS)
            + ")"
        ]


def test_doctor_finds_a_table_the_triggers_did_not_keep_and_fix_recounts_it(
    manager: ModelManager,
) -> None:
    """With recursive triggers off, INSERT OR REPLACE deletes the old row without firing delete
    triggers: the replaced model stays counted. Doctor reports it; --fix recounts."""
    conn = manager.db.conn
    manager.add_model("openai-community/gpt2", _config("openai-community/gpt2"), source="local")
    assert diagnose_catalog(manager.db).model_shapes_out_of_sync == 0
    conn.execute("PRAGMA recursive_triggers = OFF")
    conn.execute(
        "INSERT OR REPLACE INTO models (model_id, model_name, source, family, created_at, "
        "updated_at) VALUES ('openai-community/gpt2', 'gpt2', 'local', 'gpt2', ?, ?)",
        [STAMP, STAMP],
    )
    report = diagnose_catalog(manager.db)
    # gpt2's config shape is still counted, though no model has it any more; the replacing
    # row's shape is counted too (its insert trigger fired): 1 row differs.
    assert report.model_shapes_out_of_sync == 1
    assert (
        "model_shapes out of sync with models: 1 rows differ "
        "(the catalog statistics are wrong; --fix recounts them)"
    ) in report.problems
    # model_facets still files gpt2's old rowid, a model gone (its key counts it still); the
    # replacing row is filed under its own key: 1 row differs.
    assert report.model_facets_out_of_sync == 1
    assert (
        "model_facets out of sync with models: 1 rows differ "
        "(a searched models page counts its facets wrong; --fix recounts them)"
    ) in report.problems
    repair_catalog(manager.db)
    fixed = diagnose_catalog(manager.db)
    assert (fixed.model_shapes_out_of_sync, fixed.model_facets_out_of_sync) == (0, 0)
    _check_facets(conn)
    assert (
        _shapes(conn)
        == _grouped(conn)
        == [(None, None, "gpt2", "local", 0, None, None, None, None, 1)]
    )


def test_kv_savings_by_model_keeps_layouts_tied_at_the_1000th_model(manager: ModelManager) -> None:
    """Two head layouts with the same saving and size, 1,000 models in the one listed first:
    the 1000 best by (saving, size, id) include the other's smaller ids. Before m017 the query
    cut between tied layouts and listed none of them."""
    conn = manager.db.conn
    for prefix, count, kv_values in (("z", 1000, 1000), ("a", 20, 2000)):
        for index in range(count):
            _insert_raw(
                conn,
                f"{prefix}{index:04d}",
                attention_type="gqa",
                parameter_count=7_000_000_000,
                num_attention_heads=32,
                num_key_value_heads=8,
                kv_values_per_token=kv_values,
            )
    sql = load_metadata()["databases"]["catalog"]["queries"]["kv_savings_by_model"]["sql"]
    rows = conn.execute(sql, {"attention_type": ""}).fetchall()
    assert rows == conn.execute(KV_SAVINGS_BY_SORTING, {"attention_type": ""}).fetchall()
    assert [r[0] for r in rows[:21]] == [f"a{i:04d}" for i in range(20)] + ["z0000"]
    assert rows[0][5:8] == (4000, 16000, 75.0)
    old = conn.execute(OLD_SQL["kv_savings_by_model"], {"attention_type": ""}).fetchall()
    assert [r[0] for r in old if r[0].startswith("a")] == []


def _facet_sql(column: str, limit: int) -> str:
    """Datasette 0.65's facet count over every live model, as the models page asks it."""
    return (
        f"\n                select {column} as value, count(*) as count from (\n"
        "                    select model_id, family, model_type, attention_type, is_moe, source "
        "from models where is_deleted = 0 "
        f"\n                )\n                where {column} is not null\n"
        f"                group by {column} order by count desc, value limit {limit}\n            "
    )


def test_the_models_page_counts_come_from_model_shapes_and_match_the_models(
    manager: ModelManager,
) -> None:
    import asyncio

    from genz_catalog.datasette.app import build_datasette
    from genz_catalog.datasette.counts_cache import from_model_shapes

    conn = manager.db.conn
    ids = _model_ids()
    list(manager.add_models([{"model_id": i, "config": _config(i)} for i in ids]))
    manager.delete_model(ids[0])
    facets = ("family", "model_type", "attention_type", "is_moe", "source")
    for column in facets:
        original = _facet_sql(column, 9)
        shapes = from_model_shapes(original, [])
        assert shapes is not None and "model_shapes" in shapes
        assert conn.execute(shapes).fetchall() == conn.execute(original).fetchall()
    total = "select count(*) from models where is_deleted = 0 "
    assert conn.execute(from_model_shapes(total, {})).fetchall() == [(len(ids) - 1,)]
    # Anything narrower (a filter, a search, parameters) is asked of the models themselves.
    for other in (
        _facet_sql("family", 9).replace("is_deleted = 0", "is_deleted = 0 and source = :p0"),
        _facet_sql("hidden_size", 9),
        "select count(*) from models where is_deleted = 0 and family = 'llama'",
    ):
        assert from_model_shapes(other, {}) is None
    assert from_model_shapes(total, {"p0": 1}) is None

    # Through Datasette: the page's facets and count are those of a GROUP BY over models.
    datasette = build_datasette(manager.path)
    page = asyncio.run(datasette.client.get("/catalog/models.json?_size=1")).json()
    assert page["filtered_table_rows_count"] == len(ids) - 1
    for column in facets:
        shown = [(v["value"], v["count"]) for v in page["facet_results"][column]["results"]]
        expected = conn.execute(
            f"SELECT {column}, count(*) AS n FROM models WHERE is_deleted = 0 AND {column} "
            f"IS NOT NULL GROUP BY {column} ORDER BY n DESC, {column} LIMIT {len(shown)}"
        ).fetchall()
        assert shown == [tuple(row) for row in expected], column
    # And they are read from model_shapes, not counted again: a count changed there shows.
    (source,) = conn.execute("SELECT source FROM model_shapes LIMIT 1").fetchone()
    before = dict(conn.execute("SELECT source, sum(models) FROM model_shapes GROUP BY source"))
    shapes = conn.execute("SELECT count(*) FROM model_shapes WHERE source = ?", [source]).fetchone()
    raw = sqlite3.connect(manager.path, isolation_level=None)
    raw.execute("UPDATE model_shapes SET models = models + 1000 WHERE source = ?", [source])
    raw.close()
    page = asyncio.run(datasette.client.get("/catalog/models.json?_size=1")).json()
    sources = {v["value"]: v["count"] for v in page["facet_results"]["source"]["results"]}
    assert sources == {**before, source: before[source] + 1000 * shapes[0]}
