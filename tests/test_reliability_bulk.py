"""The bulk fast path of ``ModelManager.add_models`` writes exactly what one-by-one adds write."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from reliability_support import HF_CONFIGS, dump_catalog, without_times

from genz_catalog.admin import diagnose_catalog
from genz_catalog.errors import ModelExistsError, NameTakenError
from genz_catalog.manager import ModelManager

LLAMA = json.loads((HF_CONFIGS / "meta-llama__Llama-3.1-8B" / "config.json").read_text())
MISTRAL = json.loads((HF_CONFIGS / "mistralai__Mistral-7B-v0.1" / "config.json").read_text())


def _items() -> list[dict]:
    """New models, an update of one of them, case variants, ids that are earlier aliases,
    aliases taken by earlier items, Hub metadata and per-item if_exists."""
    shallow = {**LLAMA, "num_hidden_layers": 16}
    return [
        {"model_id": "meta-llama/Llama-3.1-8B", "config": LLAMA, "aliases": ["llama3_8b"]},
        {
            "model_id": "mistralai/Mistral-7B-v0.1",
            "config": MISTRAL,
            "source": "huggingface",
            "hub_metadata": {
                "hub_id": "mistralai/Mistral-7B-v0.1",
                "downloads": 12,
                "hub_parameter_count": 7241732096,
                "tags": ["text-generation"],
            },
        },
        {"model_id": "org/shallow", "config": shallow, "aliases": [("llama3_8b", "genz")]},
        {"model_id": "META-LLAMA/llama-3.1-8b", "config": shallow, "if_exists": "update"},
        {"model_id": "other/Llama-3.1-8B", "config": LLAMA},
        {"model_id": "org/skipped", "config": LLAMA},
        {"model_id": "org/skipped", "config": shallow, "if_exists": "skip"},
        {"model_id": "solo", "config": MISTRAL, "aliases": ["org/next"]},
        {"model_id": "org/later", "config": LLAMA, "aliases": ["shallow"]},
        {"model_id": "org/next", "config": LLAMA},  # takes its name back from solo's alias
    ]


def test_bulk_batch_equals_one_by_one(tmp_path: Path):
    bulk_db, single_db = tmp_path / "bulk.db", tmp_path / "single.db"
    with ModelManager(bulk_db) as bulk:
        bulk.add_model("existing/model", MISTRAL, aliases=["taken"])
        statuses = [
            (r.model_id, r.status, r.version)
            for r in bulk.add_models(_items(), if_exists="error", batch_size=100)
        ]
    with ModelManager(single_db) as single:
        single.add_model("existing/model", MISTRAL, aliases=["taken"])
        expected = []
        for item in _items():
            kwargs = {k: v for k, v in item.items() if k != "model_id"}
            kwargs.setdefault("if_exists", "error")
            r = single.add_model(item["model_id"], **kwargs)
            expected.append((r.model_id, r.status, r.version))
    assert statuses == expected
    assert statuses[3] == ("meta-llama/Llama-3.1-8B", "updated", 2)
    assert statuses[6] == ("org/skipped", "skipped", 1)
    assert without_times(dump_catalog(bulk_db)) == without_times(dump_catalog(single_db))
    with ModelManager(bulk_db) as bulk:
        assert diagnose_catalog(bulk.db).healthy
        assert bulk.get_model("llama3_8b")["model_id"] == "meta-llama/Llama-3.1-8B"
        assert bulk.get_model("mistralai/Mistral-7B-v0.1")["parameter_mismatch"] == 0


def test_bulk_bare_name_that_an_earlier_item_claimed_as_alias_is_refused(tmp_path: Path):
    with ModelManager(tmp_path / "c.db") as manager:
        items = [
            {"model_id": "org/first", "config": LLAMA, "aliases": ["second"]},
            {"model_id": "second", "config": LLAMA},
        ]
        with pytest.raises(NameTakenError, match="'second' is already a name of model 'org/first'"):
            list(manager.add_models(items))
        assert manager.list_models() == []  # the whole batch rolled back


def test_import_config_files_with_a_worker_matches_one_process_and_reports_bad_files(
    tmp_path: Path,
):
    from reliability_support import write_config_variants

    from genz_catalog.admin import import_config_files

    paths = write_config_variants(tmp_path / "configs", "files", 30)
    broken = tmp_path / "configs" / "broken.json"
    broken.write_text('{"model_type": "llama"')
    absurd = tmp_path / "configs" / "absurd.json"
    absurd.write_text(json.dumps({**LLAMA, "num_hidden_layers": -1, "_name_or_path": "x/absurd"}))
    files = [*paths[:10], broken, *paths[10:20], absurd, *paths[20:]]
    results = {}
    for workers in (0, 1):
        db = tmp_path / f"w{workers}.db"
        with ModelManager(db) as manager:
            # A stored case variant: the worker's conversion is redone under the stored id.
            manager.add_model("FILES/files-m0", LLAMA)
            results[workers] = import_config_files(
                manager, files, workers=workers, if_exists="update", batch_size=7
            )
            assert diagnose_catalog(manager.db).healthy
            assert manager.get_model("files/files-m0")["num_layers"] == 1
            assert (
                json.loads(manager.get_model("files/files-m0")["genz_config_json"])["model"]
                == "FILES/files-m0"
            )
    assert results[0] == results[1]
    assert results[1].counts == {"updated": 1, "imported": 29}
    assert [(Path(p).name, message) for p, message in results[1].failures] == [
        ("broken.json", f"{broken}: malformed JSON at line 1 column 23: Expecting ',' delimiter"),
        ("absurd.json", "llama: num_hidden_layers must be between 1 and 65536, got -1"),
    ]
    assert without_times(dump_catalog(tmp_path / "w0.db")) == without_times(
        dump_catalog(tmp_path / "w1.db")
    )


def test_workers_stream_small_tasks_back_in_file_order(tmp_path: Path):
    # Many small tasks, refilled as the writer takes results, across two processes: results
    # come back in file order and equal what one process computes, failures included.
    from reliability_support import write_config_variants

    from genz_catalog.admin import _in_workers, _read_and_prepare

    paths = [str(p) for p in write_config_variants(tmp_path / "configs", "order", 23)]
    broken = tmp_path / "configs" / "broken.json"
    broken.write_text("{")
    paths.insert(9, str(broken))
    streamed = list(_in_workers(iter(paths), 2, task_size=4, files_in_flight=8, writer_takes=0))
    assert [path for path, _, _ in streamed] == paths
    assert streamed == [_read_and_prepare(path) for path in paths]
    assert streamed[9][1] is None and "malformed JSON" in streamed[9][2]


def test_the_writer_prepares_files_itself_while_its_workers_are_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Spawned workers take a good part of a second to start, so the writer finds the first
    # task not ready and prepares the files after it itself: the results still come in file
    # order, equal to one process's, and the writer held at most files_in_flight of its own.
    from reliability_support import write_config_variants

    from genz_catalog import admin

    paths = [str(p) for p in write_config_variants(tmp_path / "configs", "taken", 40)]
    broken = tmp_path / "configs" / "broken.json"
    broken.write_text('{"model_type": "llama"')
    paths.insert(30, str(broken))
    made = admin._writer_preparer
    taken: list[str] = []

    def counting():
        preparer = made()
        prepare_file = preparer.prepare_file

        def prepare(path, opened=None):
            taken.append(str(path))
            return prepare_file(path, opened)

        preparer.prepare_file = prepare
        return preparer

    monkeypatch.setattr(admin, "_writer_preparer", counting)
    streamed = list(
        admin._in_workers(iter(paths), 1, task_size=4, files_in_flight=8, writer_takes=2)
    )
    assert [path for path, _, _ in streamed] == paths
    assert streamed == [admin._read_and_prepare(path) for path in paths]
    assert streamed[30][1] is None and "malformed JSON" in streamed[30][2]
    # The writer took files while the worker started: the 8 right after the first two tasks
    # (files_in_flight of its own at most), then more whenever the next task was not ready.
    assert taken[:8] == paths[8:16]
    assert len(set(taken)) == len(taken)
    assert made().FILES == made().ARCHITECTURES == 1024


def test_the_writer_stops_taking_files_once_its_workers_remember_most_of_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Three configs over and over (Hub-like repetition at its most): the worker soon finds
    # nearly every file among those it remembers, where the writer, which remembers fewer and
    # sees few, would convert it again. So the writer takes files while the worker starts,
    # then no more, although it reads results faster than the worker can send them.
    from reliability_support import write_config_variants

    from genz_catalog import admin

    three = [str(p) for p in write_config_variants(tmp_path / "configs", "again", 3)]
    paths = three * 300
    made = admin._writer_preparer
    taken: list[str] = []

    def counting():
        preparer = made()
        prepare_file = preparer.prepare_file
        preparer.prepare_file = lambda path, opened=None: (
            taken.append(str(path)) or prepare_file(path, opened)
        )
        return preparer

    monkeypatch.setattr(admin, "_writer_preparer", counting)
    streamed = list(
        admin._in_workers(iter(paths), 1, task_size=4, files_in_flight=8, writer_takes=2)
    )
    assert [path for path, _, _ in streamed] == paths
    assert streamed[:6] == [admin._read_and_prepare(path) for path in paths[:6]]
    assert 8 <= len(taken) <= 100, len(taken)


def test_a_preparer_counts_the_files_it_remembers(tmp_path: Path):
    from reliability_support import write_config_variants

    from genz_catalog.catalog.prepared import BulkPreparer

    two = write_config_variants(tmp_path / "configs", "count", 2)
    preparer = BulkPreparer()
    for path in [*two, *two, two[0]]:
        preparer.prepare_file(path)
    assert (preparer.files_prepared, preparer.files_remembered) == (5, 3)


def test_import_config_files_looks_ids_up_per_batch_not_per_file(tmp_path: Path):
    from reliability_support import write_config_variants

    from genz_catalog.admin import import_config_files

    paths = write_config_variants(tmp_path / "configs", "files", 12)
    with ModelManager(tmp_path / "c.db") as manager:
        manager.add_model("FILES/files-m3", LLAMA)
        statements: list[str] = []
        manager.db.conn.set_trace_callback(statements.append)
        result = import_config_files(manager, paths, if_exists="update", batch_size=5)
        manager.db.conn.set_trace_callback(None)
        assert result.counts == {"updated": 1, "imported": 11}
        # Stored ids are found with one IN (...) query per batch, not one SELECT per file.
        per_file = [
            s for s in statements if s.startswith("SELECT model_id FROM models WHERE model_id = ")
        ]
        # The only one: redoing the case variant's conversion under the stored spelling.
        assert per_file == ["SELECT model_id FROM models WHERE model_id = 'files/files-m3'"]
        assert sum(" IN (" in s for s in statements if "FROM models" in s) >= 3
        # The stored spelling wins and the conversion is redone under it.
        model = manager.get_model("files/files-m3")
        assert model["model_id"] == "FILES/files-m3"
        assert json.loads(model["genz_config_json"])["model"] == "FILES/files-m3"


@pytest.mark.skipif(
    not hasattr(__import__("sqlite3").Connection, "setlimit"), reason="needs Python 3.11+"
)
def test_bulk_rows_split_at_the_sqlite_parameter_limit(tmp_path: Path):
    # The fast path writes several models per INSERT statement; with room for only two models'
    # parameters per statement, 25 models take 13 statements and must land whole, in order.
    import sqlite3

    items = [
        {
            "model_id": f"org/deep-{n}",
            "config": {**LLAMA, "num_hidden_layers": n},
            "aliases": [f"deep{n}", ("Deep Llama " + str(n), "genz")],
        }
        for n in range(1, 26)
    ]
    bulk_db, single_db = tmp_path / "bulk.db", tmp_path / "single.db"
    with ModelManager(bulk_db) as bulk:
        bulk.db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
        assert [r.status for r in bulk.add_models(items, batch_size=1000)] == ["imported"] * 25
        ids = [row[0] for row in bulk.db.execute("SELECT model_id FROM models ORDER BY rowid")]
        assert ids == [f"org/deep-{n}" for n in range(1, 26)]
        assert diagnose_catalog(bulk.db).healthy
        # The FTS row of each model holds its non-name aliases, written after the model row.
        hits = bulk.search_models("Deep Llama 17")
        assert [m["model_id"] for m in hits][:1] == ["org/deep-17"]
        assert bulk.get_model("deep25")["num_layers"] == 25
    with ModelManager(single_db) as single:
        for item in items:
            kwargs = {k: v for k, v in item.items() if k != "model_id"}
            single.add_model(item["model_id"], **kwargs)
    assert without_times(dump_catalog(bulk_db)) == without_times(dump_catalog(single_db))


@pytest.mark.skipif(
    not hasattr(__import__("sqlite3").Connection, "setlimit"), reason="needs Python 3.11+"
)
def test_bulk_inserts_of_every_length_compile_few_statement_texts(tmp_path: Path):
    # The connection keeps each statement text it compiles, and a multi-row INSERT is as long
    # as its rows: batches bringing 1, 2, ... 24 new aliases must not each compile their own.
    import sqlite3

    from genz_catalog.catalog.writes import statement_sizes

    with ModelManager(tmp_path / "c.db") as manager:
        # Room for 16 alias rows (4 columns) per statement.
        manager.db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 64)
        statements: list[str] = []
        manager.db.conn.set_trace_callback(statements.append)
        written = 0
        for n in range(1, 25):
            items = [
                {
                    "model_id": f"org{n}/deep-{k}",
                    "config": {**LLAMA, "num_hidden_layers": k % 40 + 1},
                    "aliases": [f"deep-{n}-{k}"],
                }
                for k in range(n)
            ]
            assert {r.status for r in manager.add_models(items)} == {"imported"}
            written += n
        manager.db.conn.set_trace_callback(None)
        inserts = {s for s in statements if s.startswith("INSERT INTO model_aliases")}
        lengths = sorted({s.count("), (") + 1 for s in inserts})
        assert lengths == [1, 2, 4, 8, 16]
        # Each given alias, and each model's bare name (deep-0 ... deep-23) the first time.
        count = "SELECT count(*) FROM model_aliases"
        assert manager.db.execute(count).fetchone()[0] == written + 24
        assert manager.get_model("deep-23-22")["model_id"] == "org23/deep-22"
        assert diagnose_catalog(manager.db).healthy
    assert statement_sizes(1300, 1000) == [1000, 256, 32, 8, 4]
    for most in (1, 3, 16, 1000):
        sizes = {n: statement_sizes(n, most) for n in range(3 * most + 2)}
        assert all(sum(parts) == n and max(parts, default=0) <= most for n, parts in sizes.items())
        assert len({size for parts in sizes.values() for size in parts}) <= most.bit_length() + 1


def test_add_models_on_error_rolls_back_only_the_refused_item(tmp_path: Path):
    with ModelManager(tmp_path / "c.db") as manager:
        manager.add_model("org/existing", MISTRAL, aliases=["taken"])
        refused: list[tuple[str, str]] = []
        items = [
            {"model_id": "org/first", "config": LLAMA},
            # Written by the slow path (its id exists), refused there: its alias must not stay.
            {"model_id": "org/existing", "config": LLAMA, "aliases": ["left-behind"]},
            {"model_id": "org/last", "config": MISTRAL},
        ]
        written = [
            (r.model_id, r.status)
            for r in manager.add_models(
                items,
                if_exists="error",
                on_error=lambda item, exc: refused.append((item["model_id"], str(exc))),
            )
        ]
        assert written == [("org/first", "imported"), ("org/last", "imported")]
        assert refused == [
            ("org/existing", "model 'org/existing' already exists; use --force to replace it")
        ]
        assert manager.get_model("left-behind") is None
        assert manager.get_model("org/existing")["parameter_count"] == 7241732096
        assert diagnose_catalog(manager.db).healthy
        # Without on_error the same batch raises and writes nothing of itself.
        renamed = [{**items[0], "model_id": "org/first-2"}, items[1]]
        with pytest.raises(ModelExistsError):
            list(manager.add_models(renamed, if_exists="error"))
        assert manager.get_model("org/first-2") is None


def test_an_import_collects_garbage_less_often_and_gives_the_thresholds_back(tmp_path: Path):
    import gc

    from reliability_support import write_config_variants

    from genz_catalog._lean_start import BULK_GC_THRESHOLD
    from genz_catalog.admin import import_config_files

    paths = write_config_variants(tmp_path / "configs", "gc", 3)
    seen: list[tuple[int, int, int]] = []
    before = gc.get_threshold()
    with ModelManager(tmp_path / "gc.db") as manager:
        import_config_files(manager, paths, on_file=lambda *_: seen.append(gc.get_threshold()))
        assert seen == [BULK_GC_THRESHOLD] * 3 and gc.get_threshold() == before

        def fail(*_: object) -> None:
            raise RuntimeError("stop")

        with pytest.raises(RuntimeError, match="stop"):
            import_config_files(manager, paths, if_exists="update", on_file=fail)
        assert gc.get_threshold() == before


@pytest.mark.parametrize("create_on_write", [False, True], ids=["file", "created-by-import"])
def test_an_import_checkpoints_less_often_then_copies_the_wal_into_the_file(
    tmp_path: Path, create_on_write: bool
):
    from reliability_support import write_config_variants

    from genz_catalog.admin import BULK_WAL_AUTOCHECKPOINT, import_config_files

    paths = write_config_variants(tmp_path / "configs", "wal", 3)
    seen: list[int] = []
    path = tmp_path / "wal.db"
    # create_on_write (the CLI's way): the file, and the connection that writes, come into
    # being only once a model is written.
    with ModelManager(path, create_on_write=create_on_write) as manager:

        def spacing(*_: object) -> None:
            seen.append(manager.db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

        result = import_config_files(manager, paths, on_file=spacing)
        conn = manager.db.conn
        before = 1000  # SQLite's default, which connect() leaves alone
        assert result.counts == {"imported": 3}
        assert seen == [BULK_WAL_AUTOCHECKPOINT] * 3
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == before
        # Every page the import wrote is in the file itself, not only in the WAL.
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        assert path.stat().st_size == pages * page_size

        def fail(*_: object) -> None:
            raise RuntimeError("stop")

        with pytest.raises(RuntimeError, match="stop"):
            import_config_files(manager, paths, if_exists="update", on_file=fail)
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == before


def test_an_import_writes_without_foreign_key_checks_and_gives_them_back(tmp_path: Path):
    # Each alias and version row's check is a look-up of models' id index at a random place:
    # a bulk import skips them (every row it writes names a model of its own batch) and the
    # connection checks again afterwards, also after a failed import.
    from reliability_support import write_config_variants

    from genz_catalog.admin import import_config_files

    paths = write_config_variants(tmp_path / "configs", "fk", 4)
    with ModelManager(tmp_path / "fk.db") as manager:
        conn = manager.db.conn
        seen: list[int] = []

        def checks(*_: object) -> None:
            seen.append(conn.execute("PRAGMA foreign_keys").fetchone()[0])

        assert import_config_files(manager, paths, on_file=checks).counts == {"imported": 4}
        assert seen == [0] * 4
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        # Updates (new versions, aliases again) leave nothing dangling either.
        import_config_files(manager, paths, if_exists="update")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

        def fail(*_: object) -> None:
            raise RuntimeError("stop")

        with pytest.raises(RuntimeError, match="stop"):
            import_config_files(manager, paths, if_exists="update", on_file=fail)
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        # The cascade works again: a hard delete takes the model's versions and aliases.
        [model_id] = conn.execute("SELECT model_id FROM models LIMIT 1").fetchone()
        manager.delete_model(model_id, hard=True)
        for child in ("model_versions", "model_aliases"):
            assert conn.execute(
                f"SELECT count(*) FROM {child} WHERE model_id = ?", [model_id]
            ).fetchone() == (0,)


@pytest.mark.parametrize("batch_size", [2000, 1], ids=["one-batch", "batch-per-file"])
def test_an_import_writes_a_model_named_by_several_files_once(tmp_path: Path, batch_size: int):
    from reliability_support import LLAMA_31_8B

    from genz_catalog.admin import import_config_files

    llama = json.loads(LLAMA_31_8B.read_text())
    paths = []
    # Folders name the model (org__name); the third spells it in other case.
    for folder, layers in (("a/lab__same", 32), ("b/lab__same", 16), ("c/LAB__Same", 8)):
        path = tmp_path / folder / "config.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({**llama, "num_hidden_layers": layers}))
        paths.append(path)
    with ModelManager(tmp_path / "same.db") as manager:
        for if_exists in ("skip", "update", "update"):  # then re-run twice with --force's mode
            result = import_config_files(manager, paths, if_exists=if_exists, batch_size=batch_size)
            again = "appears more than once in this import; only its first config is written"
            assert result.failures == [
                (str(paths[1]), f"'lab/same' {again}"),
                (str(paths[2]), f"'LAB/Same' {again}"),
            ]
            model = manager.get_model("lab/same")
            assert (model["num_layers"], model["current_version"]) == (32, 1)
        assert sum(result.counts.values()) == 1


def test_an_import_begins_after_the_millisecond_of_every_earlier_write():
    # An import tells its own models from earlier ones by updated_at >= its start: a model
    # added in the same millisecond just before it began was taken for one of its own, and a
    # file naming it was refused.
    from genz_catalog.catalog.ids import utc_now, utc_now_after_earlier_writes

    for _ in range(50):
        written = utc_now()
        assert utc_now_after_earlier_writes() > written


def _resident_pages(path: Path) -> tuple[int, int]:
    """(pages of ``path`` in the page cache, pages in all), from mincore(2)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    with path.open("rb") as file, mmap.mmap(file.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        first = ctypes.c_char.from_buffer(mapped)  # the map's first byte: its address
        vector = ctypes.create_string_buffer(pages)
        assert libc.mincore(ctypes.addressof(first), size, vector) == 0, ctypes.get_errno()
        del first  # the map cannot close while a ctypes view of it lives
    return sum(byte & 1 for byte in vector.raw), pages


@pytest.mark.skipif(
    not (hasattr(os, "posix_fadvise") and sys.platform.startswith("linux")),
    reason="needs posix_fadvise and mincore",
)
def test_open_ahead_brings_a_config_into_the_page_cache_and_the_read_closes_it(tmp_path: Path):
    from genz_catalog.catalog.config_files import open_ahead, read_config_bytes

    folder = tmp_path / "org__big"
    folder.mkdir()
    config = folder / "config.json"
    # A real config padded to 1 MB of JSON: enough pages to see them come in.
    config.write_text(json.dumps({**LLAMA, "padding": "x" * 1_000_000}))
    with config.open("rb") as file:
        os.fsync(file.fileno())  # dirty pages cannot be dropped from the cache
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    resident, pages = _resident_pages(config)
    if resident > pages // 2:
        pytest.skip("this file system keeps files in memory (tmpfs?): nothing to read ahead")
    opened = open_ahead(folder)  # a folder stands for its config.json, as for read_config_bytes
    assert opened is not None and opened.name == str(config)
    deadline = time.monotonic() + 10
    while _resident_pages(config)[0] < pages and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _resident_pages(config) == (pages, pages)
    assert read_config_bytes(folder, opened) == (config.read_bytes(), str(config))
    with pytest.raises(OSError):
        os.fstat(opened.fd)  # closed by the read


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_open_ahead_never_opens_a_fifo_and_gives_up_on_what_cannot_be_read(tmp_path: Path):
    import threading

    from genz_catalog.catalog.config_files import open_ahead

    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    paths = [
        fifo,
        tmp_path,
        tmp_path / "missing.json",
        tmp_path / "gone" / "config.json",
        f"{tmp_path}/nul\x00.json",
        "x" * 5000,
    ]
    found: list = []
    hints = threading.Thread(
        target=lambda: found.extend(open_ahead(path) for path in paths), daemon=True
    )
    hints.start()
    hints.join(timeout=10)
    assert not hints.is_alive()
    assert found == [None] * len(paths)


def _open_files() -> int | None:
    """How many file descriptors this process holds (None where /proc does not say)."""
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def test_a_worker_opens_each_file_a_fixed_number_of_files_before_it_converts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from reliability_support import write_config_variants

    from genz_catalog import admin
    from genz_catalog.catalog.config_files import open_ahead

    paths = [str(p) for p in write_config_variants(tmp_path / "configs", "ahead", 12)]
    paths.insert(7, str(tmp_path / "missing.json"))  # nothing to open: read as before
    events: list[tuple[str, int]] = []
    monkeypatch.setattr(admin, "READ_AHEAD_FILES", 5)

    def opening(path: str):
        events.append(("open", paths.index(path)))
        return open_ahead(path)

    monkeypatch.setattr(admin, "open_ahead", opening)
    convert = admin._read_and_prepare

    def converted(path: str, opened, preparer=None):
        events.append(("convert", paths.index(path)))
        assert (opened is None) == path.endswith("missing.json")
        return convert(path, opened, preparer)

    monkeypatch.setattr(admin, "_read_and_prepare", converted)
    open_files = _open_files()
    prepared = admin._read_and_prepare_many(paths)
    assert _open_files() == open_files  # every file opened ahead was read and closed
    assert prepared == [convert(path) for path in paths]
    assert prepared[7][1] is None and "no such file or folder" in prepared[7][2]
    expected = [("open", n) for n in range(5)]
    for n in range(13):
        expected += [("open", n + 5)] * (n + 5 < 13) + [("convert", n)]
    assert events == expected
