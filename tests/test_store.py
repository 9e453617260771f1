"""The document store: configs and other large JSON values stored once, and the published shape
(reads, exports, Datasette JSON, GenZ) unchanged; older files moved in place, resumably."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlite_utils

from genz_catalog import store
from genz_catalog.admin import export_catalog, load_catalog
from genz_catalog.db import connect, migrations
from genz_catalog.errors import CatalogError
from genz_catalog.manager import ModelManager

CONFIGS = Path(__file__).parent / "data" / "hf-configs"
#: The embedded default catalog's configs: the words of codec 1's dictionary come from them.
DEFAULT_CONFIGS = Path(store.__file__).parent / "data" / "default-configs"
LLAMA = "meta-llama__Llama-3.1-8B"
MISTRAL = "mistralai__Mistral-7B-v0.1"


def _config(folder: str) -> dict:
    return json.loads((CONFIGS / folder / "config.json").read_text())


def _export(path: Path) -> list[str]:
    with ModelManager(path) as manager:
        out = io.StringIO()
        export_catalog(manager.db, out)
    return out.getvalue().splitlines()


def _fine_tunes(path: Path, count: int) -> None:
    """``count`` fine-tunes of Llama 3.1 8B whose config.json is the base's, byte for byte."""
    config = _config(LLAMA)
    with ModelManager(path) as manager:
        list(
            manager.add_models(
                [
                    {"model_id": f"tuner{i}/llama-3.1-8b-ft", "config": config, "source": "local"}
                    for i in range(count)
                ]
            )
        )


def test_models_sharing_a_config_share_its_documents(tmp_path: Path):
    path = tmp_path / "c.db"
    _fine_tunes(path, 50)
    with ModelManager(path) as manager:
        manager.add_model("mistralai/Mistral-7B-v0.1", _config(MISTRAL), source="local")
        conn = manager.db.conn
        # Llama: its config, GenZ arguments (the id left out), memory, warnings ([]); Mistral's
        # config, GenZ arguments and memory; the empty warnings list is shared.
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 7
        assert conn.execute("SELECT count(DISTINCT config_doc) FROM models").fetchone()[0] == 2
        assert conn.execute("SELECT count(DISTINCT genz_doc) FROM models").fetchone()[0] == 2
        # Version 1 of each model is its row: no snapshot stored twice.
        assert (
            conn.execute(
                "SELECT count(*) FROM model_versions WHERE snapshot_doc IS NOT NULL"
            ).fetchone()[0]
            == 0
        )
        model = manager.require_model("tuner7/llama-3.1-8b-ft")
        # The published shape: the texts, the GenZ arguments naming this model.
        assert json.loads(model["config_json"]) == _config(LLAMA)
        assert model["config"] == _config(LLAMA)
        assert model["genz_config"]["model"] == "tuner7/llama-3.1-8b-ft"
        assert model["genz_config"]["num_decoder_layers"] == 32
        assert "config_doc" not in model and "genz_doc" not in model
        assert model["parameter_count"] == 8_030_261_248


def test_file_grows_by_a_row_not_a_config_per_fine_tune(tmp_path: Path):
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    _fine_tunes(one, 1)
    _fine_tunes(many, 2001)
    sizes = []
    for path in (one, many):
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.close()
        sizes.append(path.stat().st_size)
    per_model = (sizes[1] - sizes[0]) / 2000
    # The config alone is ~1 KB of JSON: each more model costs its row, version, alias, search
    # entry and index entries.
    assert per_model < 1000, per_model


def test_versions_rollback_and_diff_read_superseded_snapshots(tmp_path: Path):
    path = tmp_path / "v.db"
    config = _config(LLAMA)
    with ModelManager(path) as manager:
        manager.add_model("org/m", config, source="local")
        manager.add_model(
            "org/m", {**config, "num_hidden_layers": 16}, source="local", if_exists="update"
        )
        versions = manager.get_versions("org/m")
        assert [v["version"] for v in versions] == [1, 2]
        assert versions[0]["snapshot"]["num_layers"] == 32
        assert versions[1]["snapshot"]["num_layers"] == 16
        assert json.loads(versions[0]["snapshot"]["config_json"])["num_hidden_layers"] == 32
        stored = manager.db.execute(
            "SELECT version, snapshot_doc IS NOT NULL FROM model_versions ORDER BY version"
        ).fetchall()
        assert stored == [(1, 1), (2, 0)]  # the superseded one stored, the current one is the row
        diff = manager.diff("org/m", 1, 2)
        assert diff["num_layers"] == (32, 16)
        assert diff["config.num_hidden_layers"] == (32, 16)
        manager.rollback("org/m", 1)
        model = manager.require_model("org/m")
        assert model["current_version"] == 3 and model["num_layers"] == 32
        assert model["config"]["num_hidden_layers"] == 32
        assert model["genz_config"]["model"] == "org/m"
        assert [v["snapshot"]["num_layers"] for v in manager.get_versions("org/m")] == [32, 16, 32]


def test_export_keeps_its_shape_and_load_round_trips(tmp_path: Path):
    path = tmp_path / "a.db"
    _fine_tunes(path, 3)
    with ModelManager(path) as manager:
        manager.add_model(
            "tuner0/llama-3.1-8b-ft",
            {**_config(LLAMA), "num_hidden_layers": 8},
            source="local",
            if_exists="update",
        )
    lines = _export(path)
    rows = [json.loads(line) for line in lines[1:]]
    model = next(r["row"] for r in rows if r["table"] == "models")
    assert {"config_json", "genz_config_json", "memory_json", "warnings_json"} <= set(model)
    assert not any(key.endswith("_doc") for key in model)
    versions = [r["row"] for r in rows if r["table"] == "model_versions"]
    assert all(json.loads(v["snapshot_json"])["model_name"] for v in versions)
    assert not any("snapshot_doc" in v for v in versions)
    copy = tmp_path / "b.db"
    with ModelManager(copy) as manager:
        load_catalog(manager.db, iter(lines))
    assert _export(copy) == lines


def _old_file_from(lines: list[str], path: Path) -> None:
    """A catalog written before the store: the schema up to m012 holding the published rows."""
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m013_documents")
    for line in lines[1:]:
        doc = json.loads(line)
        row = doc["row"]
        columns = sorted(row)
        old.execute(
            f"INSERT INTO [{doc['table']}] ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            [row[c] for c in columns],
        )
    old.conn.commit()
    old.close()


def test_an_older_file_moves_into_the_store_in_place(tmp_path: Path):
    new = tmp_path / "new.db"
    _fine_tunes(new, 20)
    with ModelManager(new) as manager:
        manager.add_model(
            "tuner3/llama-3.1-8b-ft",
            {**_config(LLAMA), "num_hidden_layers": 8},
            source="local",
            if_exists="update",
        )
    lines = _export(new)
    old = tmp_path / "old.db"
    _old_file_from(lines, old)
    assert "config_json" in {c.name for c in sqlite_utils.Database(old)["models"].columns}
    db = connect(old)
    columns = {c.name for c in db["models"].columns}
    assert "config_json" not in columns and "config_doc" in columns
    assert "snapshot_json" not in {c.name for c in db["model_versions"].columns}
    assert db.execute("SELECT count(DISTINCT config_doc) FROM models").fetchone()[0] == 2
    db.close()
    assert _export(old) == lines


MOVE_AND_DIE = """
import os, sys
from genz_catalog import db, store
calls = []
def progress(what, done, total):
    calls.append(done)
    if len(calls) == 2:
        os._exit(9)  # killed mid-move: two batches committed
conn = db.connect(sys.argv[1], migrate=False)
db.migrations.apply(conn)
store.move_into_store(conn.conn, lambda: db.write_transaction(conn), progress, batch=7)
"""


def test_a_killed_move_resumes_where_it_stood(tmp_path: Path):
    new = tmp_path / "new.db"
    _fine_tunes(new, 40)
    lines = _export(new)
    old = tmp_path / "old.db"
    _old_file_from(lines, old)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    died = subprocess.run([sys.executable, "-c", MOVE_AND_DIE, str(old)], env=env)
    assert died.returncode == 9
    half = sqlite3.connect(old)
    moved = half.execute("SELECT count(*) FROM models WHERE config_doc IS NOT NULL").fetchone()[0]
    left = half.execute("SELECT count(*) FROM models WHERE config_json IS NOT NULL").fetchone()[0]
    half.close()
    assert (moved, left) == (14, 26)
    progress: list[tuple[str, int, int]] = []
    db = connect(old, migrate=False)
    store.move_into_store(
        db.conn,
        lambda: __import__("genz_catalog.db").db.write_transaction(db),
        lambda *a: progress.append(a),
        batch=10,
    )
    db.close()
    assert progress[0] == ("models", 24, 40) and progress[-1] == ("versions", 40, 40)
    assert _export(old) == lines


def test_genz_and_the_datasette_json_read_through_the_store(tmp_path: Path):
    path = tmp_path / "g.db"
    _fine_tunes(path, 2)
    script = (
        "from genz_catalog.genz import MODEL_DICT\n"
        "m = MODEL_DICT.get_model('tuner1/llama-3.1-8b-ft')\n"
        "print(m.model, m.num_decoder_layers, m.hidden_size)\n"
    )
    env = {
        **os.environ,
        "GENZ_CATALOG_DB": str(path),
        "PYTHONPATH": str(Path(__file__).parent.parent),
    }
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["tuner1/llama-3.1-8b-ft", "32", "4096"]

    import asyncio

    from genz_catalog.datasette.app import build_datasette

    datasette = build_datasette(path)
    row = asyncio.run(
        datasette.client.get("/catalog/models/tuner1~2Fllama-3~2E1-8b-ft.json?_shape=objects")
    ).json()["rows"][0]
    assert json.loads(row["config_json"]) == _config(LLAMA)
    assert json.loads(row["genz_config_json"])["model"] == "tuner1/llama-3.1-8b-ft"
    versions = asyncio.run(datasette.client.get("/catalog/model_versions.json?_shape=array")).json()
    assert {json.loads(v["snapshot_json"])["parameter_count"] for v in versions} == {8_030_261_248}


def test_a_reader_of_an_unmoved_file_is_told_how_to_upgrade_it(tmp_path: Path):
    new = tmp_path / "new.db"
    _fine_tunes(new, 1)
    lines = _export(new)
    old = tmp_path / "old.db"
    _old_file_from(lines, old)
    import pytest

    from genz_catalog.errors import CatalogError

    with pytest.raises(CatalogError, match="open it for writing once to upgrade it"):
        connect(old, read_only=True)
    connect(old).close()
    assert connect(old, read_only=True).execute("SELECT count(*) FROM models").fetchone()[0] == 1


def test_doctor_removes_documents_an_update_left_behind(tmp_path: Path):
    from click.testing import CliRunner

    from genz_catalog.cli import cli

    path = tmp_path / "d.db"
    config = _config(LLAMA)
    with ModelManager(path) as manager:
        manager.add_model("org/m", config, source="local")
        manager.add_model(
            "org/m", {**config, "num_hidden_layers": 16}, source="local", if_exists="update"
        )
    runner = CliRunner()
    healthy = runner.invoke(cli, ["--db", str(path), "doctor"])
    # The 32-layer config, GenZ arguments and memory now live only inside version 1's snapshot.
    assert healthy.exit_code == 0, healthy.output
    assert "unreferenced documents: 3 (left by updates; --fix removes them)" in healthy.output
    fixed = runner.invoke(cli, ["--db", str(path), "doctor", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert "3 unreferenced documents" in fixed.output
    assert "unreferenced documents:" not in fixed.output.split("\n", 1)[1]
    with ModelManager(path) as manager:
        assert [v["snapshot"]["num_layers"] for v in manager.get_versions("org/m")] == [32, 16]
        manager.rollback("org/m", 1)
        assert manager.require_model("org/m")["config"]["num_hidden_layers"] == 32
    conn = sqlite3.connect(path)
    conn.execute("UPDATE models SET config_doc = 99999 WHERE model_id = 'org/m'")
    conn.commit()
    conn.close()
    damaged = runner.invoke(cli, ["--db", str(path), "doctor"])
    assert damaged.exit_code == 1
    assert "1 models.config_doc values refer to missing documents" in damaged.output


def test_datasette_json_never_serves_a_document_the_catalog_replaced(tmp_path: Path):
    import asyncio

    from genz_catalog.datasette.app import build_datasette

    path = tmp_path / "r.db"
    with ModelManager(path) as manager:
        manager.add_model("org/a", _config(LLAMA), source="local")
    datasette = build_datasette(path)

    def config_of_a() -> dict:
        rows = asyncio.run(datasette.client.get("/catalog/models.json?_shape=array")).json()
        return json.loads(next(r for r in rows if r["model_id"] == "org/a")["config_json"])

    assert config_of_a() == _config(LLAMA)
    # load --replace empties the documents: the same ids now hold other texts.
    with ModelManager(path) as manager:
        out = io.StringIO()
        manager.add_model("org/b", _config(MISTRAL), source="local")
        export_catalog(manager.db, out)
        lines = [
            line
            for line in out.getvalue().splitlines()
            if '"org/a"' not in line or '"table": "models"' not in line
        ]
        swapped = [line.replace('"org/b"', '"org/a"') for line in lines]
        load_catalog(manager.db, iter(swapped), replace=True)
    assert config_of_a() == _config(MISTRAL)


def test_datasette_json_with_foreign_key_labels_gives_the_documents(tmp_path: Path):
    # ?_labels=on expands foreign keys to {value, label}: the document columns and a version's
    # model id were read as ids, and both pages answered 500.
    import asyncio

    from genz_catalog.datasette.app import build_datasette

    path = tmp_path / "l.db"
    with ModelManager(path) as manager:
        manager.add_model("org/a", _config(LLAMA), source="local")
        manager.add_model("org/a", _config(MISTRAL), source="local", if_exists="update")
    datasette = build_datasette(path)
    for suffix in ("?_labels=on&_shape=array", "?_label=config_doc&_shape=array"):
        response = asyncio.run(datasette.client.get("/catalog/models.json" + suffix))
        assert response.status_code == 200, response.text
        [row] = response.json()
        assert json.loads(row["config_json"]) == _config(MISTRAL)
    versions = asyncio.run(
        datasette.client.get("/catalog/model_versions.json?_labels=on&_shape=array")
    )
    assert versions.status_code == 200, versions.text
    snapshots = {row["version"]: row["snapshot_json"] for row in versions.json()}
    assert json.loads(json.loads(snapshots[1])["config_json"]) == _config(LLAMA)


# -------------------------------------------------------------------------- packed configs


def _real_configs() -> dict[str, dict]:
    """Every real Hub config of the test data, by folder."""
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(CONFIGS.glob("*/config.json"))}


def test_codec_1_dictionary_never_changes():
    # Bodies packed with codec 1 are read with exactly this dictionary: a change would make
    # every packed config of every existing file unreadable. A better one is a new codec.
    assert len(store.CODEC_1_DICTIONARY) == 1608
    assert (
        hashlib.sha256(store.CODEC_1_DICTIONARY).hexdigest()
        == "a5edef172072dd56c78338e934a02e8aa794f608907c07f144c1dc9a690de941"
    )


def test_real_configs_are_packed_to_under_a_third_and_read_back_exactly(tmp_path: Path):
    configs = _real_configs()
    assert len(configs) >= 100
    texts = {name: json.dumps(config, sort_keys=True) for name, config in configs.items()}
    packed = {name: store.pack_document(text) for name, text in texts.items()}
    for name, body in packed.items():
        assert isinstance(body, bytes), name
        assert store.unpack_document(body) == texts[name], name
    raw = sum(len(t.encode()) for t in texts.values())
    stored = sum(len(b) for b in packed.values())
    # 101,326 bytes of text -> 30,099 (0.297, deflate level 4; 0.290 at level 6); the configs
    # of the embedded default catalog the dictionary's words come from do no better than the
    # others (0.295 without them).
    assert stored < 0.31 * raw, (stored, raw)
    unseen = {n for n in configs if not (DEFAULT_CONFIGS / n).exists()}
    assert len(unseen) >= 50
    assert sum(len(packed[n]) for n in unseen) < 0.31 * sum(len(texts[n].encode()) for n in unseen)
    # Short texts and texts deflate cannot shrink stay text.
    assert store.pack_document('{"a": 1}') == '{"a": 1}'
    digest = hashlib.sha512(b"x").digest() + hashlib.sha512(b"y").digest()
    noise = json.dumps({"k": base64.b85encode(digest).decode()})
    assert len(noise) > 160
    assert store.pack_document(noise) == noise


def test_every_reader_gets_a_packed_config_as_its_text(tmp_path: Path):
    import asyncio

    from genz_catalog.admin import diagnose_catalog
    from genz_catalog.catalog.refresh import stored_config
    from genz_catalog.datasette.app import build_datasette

    path = tmp_path / "p.db"
    configs = _real_configs()
    llama = configs[LLAMA]
    with ModelManager(path) as manager:
        manager.add_model("meta-llama/Llama-3.1-8B", llama, source="local")
        manager.add_model("mistralai/Mistral-7B-v0.1", configs[MISTRAL], source="local")
        conn = manager.db.conn
        kinds = dict(
            conn.execute(
                "SELECT m.model_id, typeof(d.body) FROM models m "
                "JOIN documents d ON d.id = m.config_doc"
            ).fetchall()
        )
        assert kinds == {"meta-llama/Llama-3.1-8B": "blob", "mistralai/Mistral-7B-v0.1": "blob"}
        # Every other document stays JSON text that SQL reads directly.
        assert conn.execute(
            "SELECT count(*), sum(json_valid(body)) FROM documents WHERE id NOT IN "
            "(SELECT config_doc FROM models)"
        ).fetchone() == (5, 5)
        stored = conn.execute(
            "SELECT length(d.body) FROM models m JOIN documents d ON d.id = m.config_doc "
            "WHERE m.model_id = 'meta-llama/Llama-3.1-8B'"
        ).fetchone()[0]
        assert stored < 0.45 * len(json.dumps(llama, sort_keys=True))
        assert manager.require_model("Llama-3.1-8B")["config"] == llama
        assert stored_config(manager.db, "meta-llama/Llama-3.1-8B") == llama
        # A new version of the same config text finds the packed document: no second copy.
        manager.add_model("other/llama", llama, source="local")
        assert conn.execute("SELECT count(DISTINCT config_doc) FROM models").fetchone()[0] == 2
        assert diagnose_catalog(manager.db).healthy
    lines = _export(path)
    model = next(
        json.loads(line)["row"]
        for line in lines[1:]
        if json.loads(line)["table"] == "models"
        and json.loads(line)["row"]["model_id"] == "meta-llama/Llama-3.1-8B"
    )
    assert json.loads(model["config_json"]) == llama
    copy = tmp_path / "copy.db"
    with ModelManager(copy) as manager:
        load_catalog(manager.db, iter(lines))
        assert manager.require_model("meta-llama/Llama-3.1-8B")["config"] == llama
        assert manager.db.execute(
            "SELECT DISTINCT typeof(d.body) FROM models m JOIN documents d ON d.id = m.config_doc"
        ).fetchall() == [("blob",)]
    assert _export(copy) == lines

    datasette = build_datasette(path)

    def get(url: str):  # noqa: ANN202
        return asyncio.run(datasette.client.get(url))

    row = get("/catalog/models/meta-llama~2FLlama-3~2E1-8B.json?_shape=objects").json()["rows"][0]
    assert json.loads(row["config_json"]) == llama
    page = get("/catalog/models/meta-llama~2FLlama-3~2E1-8B").text
    assert "config.json · LlamaForCausalLM" in page
    assert "&#34;rope_scaling&#34;" in page or "&quot;rope_scaling&quot;" in page
    # The hidden documents table shows texts, in JSON and HTML; SQL unpacks with genz_document.
    docs = get("/catalog/documents.json?_shape=objects&_size=max").json()["rows"]
    assert llama in [json.loads(d["body"]) for d in docs]
    assert "LlamaForCausalLM" in get("/catalog/documents").text
    answer = get(
        "/catalog.json?_shape=array&sql="
        + "select+json_extract(genz_document(d.body),+'$.rope_theta')+as+theta+"
        "from+models+m+join+documents+d+on+d.id+%3D+m.config_doc+order+by+m.model_id"
    ).json()
    assert [a["theta"] for a in answer] == [500000.0, 10000.0, 500000.0]


def test_a_damaged_or_hostile_packed_body_is_refused(tmp_path: Path):
    import zlib

    from genz_catalog.admin import diagnose_catalog
    from genz_catalog.datasette.functions import document_text
    from genz_catalog.limits import MAX_CONFIG_BYTES

    good = store.pack_document(json.dumps(_config(LLAMA), sort_keys=True))
    assert isinstance(good, bytes)
    for bad, reason in [
        (b"\x02" + good[1:], "unknown codec 02"),
        (b"", "unknown codec empty"),
        (good[:-5], "cut short"),
        (good + b"x", "bytes after its end"),
        (b"\x01\xff\xff\xff", "damaged"),
    ]:
        try:
            store.unpack_document(bad)
        except ValueError as exc:
            assert reason in str(exc), (reason, exc)
        else:
            raise AssertionError(f"{reason}: accepted")
        assert document_text(bad) is None
    # A BLOB made to inflate without end (64 KB -> 64 MB) stops at the longest config.
    packer = zlib.compressobj(
        9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, store.CODEC_1_DICTIONARY
    )
    bomb = b"\x01" + packer.compress(b" " * (32 * MAX_CONFIG_BYTES)) + packer.flush()
    assert len(bomb) < 100_000
    assert document_text(bomb) is None

    path = tmp_path / "d.db"
    with ModelManager(path) as manager:
        manager.add_model("meta-llama/Llama-3.1-8B", _config(LLAMA), source="local")
        manager.db.execute(
            "UPDATE documents SET body = ? WHERE id = "
            "(SELECT config_doc FROM models WHERE model_id = 'meta-llama/Llama-3.1-8B')",
            [good[:-5]],
        )
        manager.db.conn.commit()
        report = diagnose_catalog(manager.db)
        assert not report.healthy
        assert report.invalid_json == {"models.config_json": 1}
        assert report.undecodable_text == {}
        # A reader is told, not given a wrong or empty config.
        try:
            manager.require_model("Llama-3.1-8B")
        except CatalogError as exc:
            assert "is damaged (packed document body is cut short" in str(exc)
            assert str(exc).endswith("run genz-catalog doctor")
        else:
            raise AssertionError("a damaged config was read")


def test_known_document_keys_are_used_only_for_their_own_text(tmp_path: Path):
    # A bulk-import worker sends each document's key and stored form; the writer uses them
    # only for a text equal to the one they were computed from, and stores the same rows.
    config = json.dumps(
        {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096}
        | {f"key_{n}": n for n in range(40)}
    )
    small = '{"weights": 1}'
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, hash BLOB UNIQUE, body)")
    known = [store.known_document(config, store.pack_document(config)), store.known_document(small)]
    ids = store.store_documents(conn, [config, small], [True, False], known)
    rows = conn.execute("SELECT id, hash, body FROM documents ORDER BY id").fetchall()
    assert rows == [
        (ids[0], store.document_hash(config), store.pack_document(config)),
        (ids[1], store.document_hash(small), small),
    ]
    assert isinstance(rows[0][2], bytes)  # packed, as store_documents would have packed it
    # A key sent with another text is not trusted: the text gets its own key and row.
    other = '{"weights": 2}'
    [other_id] = store.store_documents(conn, [other], None, [store.known_document(small)])
    assert other_id not in ids
    assert conn.execute("SELECT hash, body FROM documents WHERE id = ?", [other_id]).fetchone() == (
        store.document_hash(other),
        other,
    )
    # The same texts with no keys given find the same rows.
    assert store.store_documents(conn, [config, small], [True, False]) == ids


def test_documents_are_stored_once_whatever_the_statement_sizes(tmp_path: Path):
    # Texts go in statements of a few sizes (a chunk padded with a repeat): every count around
    # those sizes, with repeats and texts stored earlier, gets each text's own row, once.
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, hash BLOB UNIQUE, body)")
    sizes = sorted({1, *store.DOCUMENT_STATEMENT_SIZES})
    counts = sorted({n + d for n in sizes for d in (-1, 0, 1) if n + d > 0} | {450})
    stored: dict[str, int] = {}
    for round_, count in enumerate(counts):
        # Half the texts of each call were stored by an earlier call, and one is asked twice.
        texts = [json.dumps({"round": round_, "n": n}) for n in range(count - count // 2)]
        texts += list(stored)[: count // 2]
        texts.append(texts[0])
        ids = store.store_documents(conn, texts)
        assert len(ids) == len(texts) and ids[0] == ids[-1]
        for text, doc in zip(texts, ids, strict=True):
            assert stored.setdefault(text, doc) == doc
            body = conn.execute("SELECT body FROM documents WHERE id = ?", [doc]).fetchone()[0]
            assert body == text
    assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == len(stored)
