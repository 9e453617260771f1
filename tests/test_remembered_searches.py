"""Broad searches ranked once by a bulk write or a publication and read from the catalog file
(genz_catalog/catalog/remembered_searches.py), on the 113 real Hub configs of tests/data."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from genz_catalog.admin import (
    backup_catalog,
    diagnose_catalog,
    import_config_files,
    iter_export_lines,
    load_catalog,
    repair_catalog,
)
from genz_catalog.catalog import pair_scores, remembered_searches, search_scores
from genz_catalog.catalog.search_scores import read_varints
from genz_catalog.datasette.app import build_datasette
from genz_catalog.manager import ModelManager

HF_CONFIGS = Path(__file__).parent / "data" / "hf-configs"
#: The search the catalog page's form submits, and what FTS5 itself ranks: best first, ties
#: in import order, deleted models left out. The oracle every stored answer is held to.
RANKED = """
SELECT m.model_id FROM models_fts f JOIN models m ON m.rowid = f.rowid
WHERE models_fts MATCH ? AND m.is_deleted = 0
ORDER BY f.rank, f.rowid LIMIT 200
"""


def _ranked(path: Path, fts_query: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute(RANKED, (fts_query,))]


def _served(path: Path, text: str, *, immutable: bool = False) -> list[str]:
    """The ids the search_models canned query answers for ``text`` from a fresh Datasette."""

    async def ask() -> list[str]:
        datasette = build_datasette(path, immutable=immutable)
        query = urllib.parse.urlencode({"q": text, "_shape": "array"})
        response = await datasette.client.get("/catalog/search_models.json?" + query)
        assert response.status_code == 200, response.text[:300]
        return [row["model_id"] for row in response.json()]

    return asyncio.run(ask())


def _stored(path: Path) -> dict[str, list[int]]:
    """Stored answers at the current generation: FTS query -> model rowids, best first."""
    with sqlite3.connect(path) as conn:
        return remembered_searches.stored_answers(conn)


#: The searches the catalog fixture's import stores.
STORED = {
    *(f'"{w}"*' for w in ("instruct", "7b", "qwen", "moe", "qwen3", "llama", "qwen2")),
    # The prefixes of up to three characters whose words are held 13 times or more in all
    # (m: 67 times by 46 models; t: 14 by 14; "d", held 10 times, is not broad).
    *(f'"{prefix}"*' for prefix in "m q c i a l g 2 b 1 3 7 v o h p s t f".split()),
    *(f'"{prefix}"*' for prefix in "qw qwe in mi ins co mo ll".split()),
    # The index's words under "in" are inc, instruct, instructlab, internlm and internlm2, so
    # "ins" to "instruc" match what "instruct" matches; "qw" and "qwe" hold only qwen*
    # words, "llam" only llama*; "qwen" also holds qwen1.5, so it differs from "qwen2".
    *(f'"{prefix}"*' for prefix in ("inst", "instr", "instru", "instruc", "llam")),
}


def _scale_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The thresholds scaled down to the 113 test configs: a word is broad when 8 models hold
    it, a prefix when its words are held 13 times, and an import of 20 models stores answers."""
    monkeypatch.setattr(remembered_searches, "BROAD_SEARCH_MODELS", 8)
    monkeypatch.setattr(remembered_searches, "BROAD_PREFIX_MODELS", 13)
    monkeypatch.setattr(remembered_searches, "REMEMBER_AFTER_MODELS", 20)


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The 113 configs imported in bulk, with the thresholds scaled down to this catalog."""
    _scale_thresholds(monkeypatch)
    path = tmp_path / "catalog.db"
    with ModelManager(path) as manager:
        result = import_config_files(manager, sorted(HF_CONFIGS.glob("*/config.json")))
    assert result.counts == {"imported": 113}
    return path


def test_a_bulk_import_stores_the_broad_searches_as_ranked(catalog: Path) -> None:
    stored = _stored(catalog)
    # Held by 21, 20, 13, 12, 9, 8 and 8 of the 113 models ("3b", 6 models, is not broad),
    # then the one-letter prefixes of those: i(nstruct), 7(b), q(wen), m(oe), l(lama), then
    # the shorter prefixes that match what their word matches, so one answer serves both.
    assert list(stored) == sorted(STORED)
    with sqlite3.connect(catalog) as conn:
        ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
    for query, rowids in stored.items():
        assert [ids[rowid] for rowid in rowids] == _ranked(catalog, query)
    # Every word a prefix: the 16 ids with Qwen, Qwen2.5, Qwen3... and two whose family is
    # (Bwin-AI/LiverGPT: qwen2, allenai/olmOCR-7B-0225-preview: qwen2_vl); the 21 ids with
    # "instruct" as a word and instructlab/granite-7b-lab.
    assert len(stored['"qwen"*']) == 18
    assert len(stored['"instruct"*']) == 22


def test_the_search_reads_a_stored_answer_until_a_write_behind_its_back(catalog: Path) -> None:
    ranked = _ranked(catalog, '"instruct"*')
    assert _served(catalog, "Instruct") == ranked
    # Proof the answer is read, not ranked: reverse the stored order and the search follows.
    with sqlite3.connect(catalog) as conn:
        conn.execute("UPDATE remembered_searches SET position = -position")
        conn.execute("UPDATE remembered_searches SET position = 201 + position")
    assert _served(catalog, "  INSTRUCT ") == ranked[::-1]
    with ModelManager(catalog) as manager:
        assert [m["model_id"] for m in manager.search_models("instruct", limit=3)] == (
            ranked[::-1][:3]
        )
        # FTS5 syntax is always ranked, as is a search that includes deleted models.
        assert [m["model_id"] for m in manager.search_models("instruct*", limit=3)] == ranked[:3]
        deleted = [m["model_id"] for m in manager.search_models("instruct", include_deleted=True)]
        assert deleted[:3] == ranked[:3]
    # Written behind the catalog's back (no change log): the generation moves on, the stored
    # answers are no longer read.
    with sqlite3.connect(catalog) as conn:
        conn.execute("UPDATE models SET is_deleted = 1 WHERE model_id = ?", (ranked[0],))
    assert _stored(catalog) == {}
    assert _served(catalog, "instruct") == ranked[1:]
    with ModelManager(catalog) as manager:
        assert [m["model_id"] for m in manager.search_models("instruct", limit=3)] == ranked[1:4]


def _rankings_kept(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The searches this process ranks from now on (``remembered_searches._ranked``), in
    order, kept in the list returned."""
    ranked: list[str] = []
    rank = remembered_searches._ranked

    def counted(conn: sqlite3.Connection, key: str, *args: Any) -> Any:
        ranked.append(key)
        return rank(conn, key, *args)

    monkeypatch.setattr(remembered_searches, "_ranked", counted)
    return ranked


def test_a_prefix_that_matches_what_its_word_matches_is_stored_with_its_answer(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Storing again ranks each distinct set of matches once: the 7 words and 24 prefixes; the
    # 8 alike prefixes (ins-instruc, llam, qw, qwe) take their word's answer.
    ranked = _rankings_kept(monkeypatch)
    with ModelManager(catalog) as manager:
        assert remembered_searches.remember_searches(manager.writable()) == len(STORED) == 39
    assert len(ranked) == 31 and not any(key in ranked for key in ('"qw"*', '"instr"*'))
    stored = _assert_all_kept_and_right(catalog)
    assert stored['"qwe"*'] == stored['"qwen"*'] and stored['"ins"*'] == stored['"instruct"*']
    # Proof the prefix's own answer is read: reverse it and its search follows.
    with sqlite3.connect(catalog) as conn:
        conn.execute(
            "UPDATE remembered_searches SET position = -position WHERE query = ?", ('"qwe"*',)
        )
    assert _served(catalog, "Qwe") == _ranked(catalog, '"qwe"*')[::-1]
    _store_again(catalog, monkeypatch, 200, 56)
    # A model with a word under "qwe" but not "qwen": the prefixes' answers are kept apart
    # from the word's from then on, each right.
    with ModelManager(catalog) as manager:
        manager.add_model("acme/qwerty-7b", _config(), source="local")
        stored = _assert_all_kept_and_right(catalog)
        assert diagnose_catalog(manager.db).wrong_stored_searches == 0
    assert "acme/qwerty-7b" in _served(catalog, "qwe")
    assert "acme/qwerty-7b" in _served(catalog, "qw")
    assert "acme/qwerty-7b" not in _served(catalog, "qwen")
    assert len(stored['"qwe"*']) == len(stored['"qwen"*']) + 1 == 19
    # Stored again, "qwe" no longer matches what "qwen" matches: it is ranked (held 13 times
    # or more, it is a broad prefix of its own), and "qw", which matches what "qwe" matches,
    # takes its answer.
    ranked.clear()
    with ModelManager(catalog) as manager:
        remembered_searches.remember_searches(manager.writable())
    assert {'"qwen"*', '"qwe"*'} <= set(ranked) and '"qw"*' not in ranked
    # The new model's family, mistral, makes "mis" held 13 times.
    stored = _assert_all_kept_and_right(catalog, added={'"mis"*'})
    assert stored['"qw"*'] == stored['"qwe"*'] != stored['"qwen"*']
    assert "acme/qwerty-7b" in _served(catalog, "qw")


def test_a_longer_prefix_that_matches_more_than_its_word_is_ranked_and_stored(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "inst" now also holds the word inst: it no longer matches what "instruct" matches, and at
    # four characters it is no prefix broad_searches lists, yet it matches every model
    # "instruct" does and one more. Storing again ranks it; "ins", whose words all start
    # with "inst", takes its answer, and "instr" still takes instruct's.
    with ModelManager(catalog) as manager:
        manager.add_model("acme/inst-tuned", _config(), source="local")
    ranked = _rankings_kept(monkeypatch)
    with ModelManager(catalog) as manager:
        remembered_searches.remember_searches(manager.writable())
    assert {'"inst"*', '"instruct"*'} <= set(ranked)
    assert '"ins"*' not in ranked and '"instr"*' not in ranked
    stored = _assert_all_kept_and_right(catalog, added={'"mis"*'})
    assert stored['"instr"*'] == stored['"instruct"*'] != stored['"inst"*'] == stored['"ins"*']
    assert len(stored['"inst"*']) == len(stored['"instruct"*']) + 1 == 23
    assert "acme/inst-tuned" in _served(catalog, "inst")
    assert "acme/inst-tuned" not in _served(catalog, "instr")


#: Configs to write more models from.
MISTRAL = HF_CONFIGS / "mistralai__Mistral-7B-Instruct-v0.3" / "config.json"
QWEN = HF_CONFIGS / "Qwen__Qwen2.5-7B" / "config.json"


def _config(path: Path = MISTRAL) -> dict:
    config = json.loads(path.read_text())
    config.pop("_name_or_path", None)
    return config


def _assert_all_kept_and_right(
    path: Path, left: set[str] = frozenset(), added: set[str] = frozenset()
) -> dict[str, list[int]]:
    """The stored answers are current but for ``left`` (left to rank), with ``added`` (stored
    afresh), and each is FTS5's own ranking; returns them."""
    stored = _stored(path)
    assert set(stored) == (STORED - left) | added
    with sqlite3.connect(path) as conn:
        ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
    for query, rowids in stored.items():
        assert [ids[rowid] for rowid in rowids] == _ranked(path, query), query
    return stored


def test_small_writes_keep_the_stored_answers_right(catalog: Path, tmp_path: Path) -> None:
    one = tmp_path / "acme-instruct-tuned" / "config.json"
    one.parent.mkdir()
    one.write_text(json.dumps(_config()))
    with ModelManager(catalog) as manager:
        # An import of one model: it is put in its place in every answer it belongs to.
        assert import_config_files(manager, [one]).counts == {"imported": 1}
        stored = _assert_all_kept_and_right(catalog)
        assert len(stored['"instruct"*']) == 23
        assert _served(catalog, "instruct") == _ranked(catalog, '"instruct"*')
        assert "acme-instruct-tuned" in _served(catalog, "i")
        # A short Qwen id: three words and its family (qwen2), all qwen, so it ranks first.
        manager.add_model("qwen/qwen-qwen2.5", _config(QWEN), source="local")
        stored = _assert_all_kept_and_right(catalog)
        assert _ranked(catalog, '"qwen"*')[0] == "qwen/qwen-qwen2.5"
        assert len(stored['"qwen"*']) == 19
        # A soft delete takes a model out of every answer, bringing it back puts it back.
        manager.delete_model("Qwen/Qwen2.5-7B")
        assert "Qwen/Qwen2.5-7B" not in _served(catalog, "qwen")
        _assert_all_kept_and_right(catalog)
        manager.undelete_model("Qwen/Qwen2.5-7B")
        _assert_all_kept_and_right(catalog)
        # New words: a name of five words takes the mean to exactly 6.0 words a model (690 of
        # 115), where two classes of "m" swap places (see the crossing tests), and so do two
        # of each of six more prefixes: there they tie, too close for the upkeep to call, so
        # the write ranks those answers again; each is stored without what would keep it (its
        # classes), so the next write leaves it to rank.
        manager.update_model("acme-instruct-tuned", model_name="Acme Llama Qwen 7B MoE")
        _assert_all_kept_and_right(catalog)
        tied = {f'"{prefix}"*' for prefix in ("m", "b", "c", "co", "g", "s", "3")}
        assert {key for key in STORED if _answer_column(catalog, key, "classes") is None} == tied
        assert all(
            "acme-instruct-tuned" in _served(catalog, text) for text in ("llama", "moe", "7b", "m")
        )
        manager.add_alias("acme-instruct-tuned", "qwen3-acme")
        _assert_all_kept_and_right(catalog, left=tied)
        # A model removed for good.
        manager.delete_model("Qwen/Qwen3-8B", hard=True)
        _assert_all_kept_and_right(catalog, left=tied)
        assert diagnose_catalog(manager.db).wrong_stored_searches == 0
    # Proof the kept answers are read, not ranked: reverse one and the search follows.
    with sqlite3.connect(catalog) as conn:
        conn.execute(
            "UPDATE remembered_searches SET position = -position WHERE query = ?", ('"moe"*',)
        )
    assert _served(catalog, "moe") == _ranked(catalog, '"moe"*')[::-1]


def _store_again(catalog: Path, monkeypatch: pytest.MonkeyPatch, rows: int, spare: int) -> int:
    """Store the answers again with ``rows`` read and ``spare`` in reserve; how many."""
    monkeypatch.setattr(remembered_searches, "REMEMBERED_ROWS", rows)
    monkeypatch.setattr(remembered_searches, "SPARE_ROWS", spare)
    with ModelManager(catalog) as manager:
        return remembered_searches.remember_searches(manager.writable())


def _answer_column(catalog: Path, query: str, column: str) -> Any:
    """A column of the stored answer of ``query`` (``remembered_answers``)."""
    with sqlite3.connect(catalog) as conn:
        row = conn.execute(
            f"SELECT {column} FROM remembered_answers WHERE query = ?", (query,)
        ).fetchone()
    return row[0]


def test_a_full_answer_is_kept_while_its_next_models_are_known(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Answers of 5 models with 2 in reserve (the broad searches hold 8 to 22), stored again.
    assert _store_again(catalog, monkeypatch, 5, 2) == len(STORED)

    def right() -> dict[str, list[str]]:
        """The answers searches read (5 models each), after checking every stored row."""
        with sqlite3.connect(catalog) as conn:
            ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
            every = remembered_searches.stored_answers(conn, reserve=True)
        for query, rowids in every.items():
            assert 5 <= len(rowids) <= 7, query
            assert [ids[r] for r in rowids] == _ranked(catalog, query)[: len(rowids)], query
        return {q: [ids[r] for r in rowids] for q, rowids in _stored(catalog).items()}

    with ModelManager(catalog) as manager:
        qwen = _ranked(catalog, '"qwen"*')
        # A model that ranks first joins, the fifth moves into reserve: kept.
        manager.add_model("qwen/qwen-qwen2.5", _config(QWEN), source="local")
        stored = right()
        assert len(stored) == len(STORED)
        assert stored['"qwen"*'] == ["qwen/qwen-qwen2.5", *qwen[:4]]
        # A model that ranks after the seventh: not listed, and the answer is kept as it was.
        manager.add_model("acme/a-long-name-with-many-words-that-says-qwen-once", _config())
        assert right()['"qwen"*'] == stored['"qwen"*']
        kept = set(right())
        assert kept == set(stored)
        # One of the five leaves: the first in reserve moves up, so the answer is still read.
        manager.delete_model(qwen[0])
        stored = right()
        assert set(stored) == kept
        assert stored['"qwen"*'] == ["qwen/qwen-qwen2.5", *qwen[1:5]]
        # A new name of many words takes another one below the last stored: kept.
        manager.update_model(qwen[1], model_name="A Name Of Many Words That Ranks It Low")
        stored = right()
        assert set(stored) == kept
        assert stored['"qwen"*'] == ["qwen/qwen-qwen2.5", *qwen[2:6]]
        with sqlite3.connect(catalog) as conn:
            assert len(remembered_searches.stored_answers(conn, reserve=True)['"qwen"*']) == 5
        # A third leaves: four known models, fewer than searches read, so the upkeep cannot
        # keep that answer and the write ranks it again, reserve and all; answers the model
        # was not in are kept.
        manager.delete_model(qwen[2])
        stored = right()
        assert set(stored) == kept
        assert stored['"qwen"*'] == ["qwen/qwen-qwen2.5", *qwen[3:7]]
        with sqlite3.connect(catalog) as conn:
            assert len(remembered_searches.stored_answers(conn, reserve=True)['"qwen"*']) == 7
        # With no time to rank it again, it is left to rank when asked.
        monkeypatch.setattr(remembered_searches, "RANK_AGAIN_SECONDS", 0.0)
        for model_id in qwen[3:6]:
            manager.delete_model(model_id)
        stored = right()
        assert '"qwen"*' not in stored
        assert '"instruct"*' in stored and '"llama"*' in stored
    assert _served(catalog, "qwen") == _ranked(catalog, '"qwen"*')


def test_a_complete_answer_that_outgrows_its_rows_keeps_the_best(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "7b" is held by 20 models: with 20 read and 2 in reserve its answer lists every match.
    _store_again(catalog, monkeypatch, 20, 2)
    assert _answer_column(catalog, '"7b"*', "complete") == 1
    with ModelManager(catalog) as manager:
        # Five more: 25 matches, of which the best 22 are kept, and from now on only those.
        list(
            manager.add_models(
                [{"model_id": f"acme/tuned-7b-v{n}", "config": _config()} for n in range(5)]
            )
        )
        with sqlite3.connect(catalog) as conn:
            every = remembered_searches.stored_answers(conn, reserve=True)['"7b"*']
            ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
        assert _answer_column(catalog, '"7b"*', "complete") == 0
        ranked = _ranked(catalog, '"7b"*')
        assert len(ranked) == 25
        assert [ids[rowid] for rowid in every] == ranked[:22]
        # Three of the best leave: 19 known, fewer than the 20 read, so the upkeep cannot keep
        # it; the write ranks it again, and its first 20 are read.
        for model_id in ranked[:2]:
            manager.delete_model(model_id)
        assert '"7b"*' in _stored(catalog)
        manager.delete_model(ranked[2])
        assert [ids[rowid] for rowid in _stored(catalog)['"7b"*']] == ranked[3:23]
    assert _served(catalog, "7b") == ranked[3:23] == _ranked(catalog, '"7b"*')[:20]


def test_answers_stored_before_reserve_rows_say_whether_they_list_every_match(
    catalog: Path,
) -> None:
    with sqlite3.connect(catalog) as conn:  # as the version before m029 left the file
        conn.executescript(
            """ALTER TABLE remembered_answers DROP COLUMN complete;
               ALTER TABLE remembered_answers DROP COLUMN order_low;
               ALTER TABLE remembered_answers DROP COLUMN order_high;
               DELETE FROM _sqlite_migrations WHERE name = 'm029_answers_in_reserve';"""
        )
        # The answers of then held 200 models at most: one of 200 may have had more matches.
        (rowid,) = conn.execute("SELECT max(rowid) FROM models").fetchone()
        conn.executemany(
            "INSERT INTO remembered_searches (query, position, model_rowid, generation) "
            "VALUES ('\"instruct\"*', ?, ?, 0)",
            [(position, rowid) for position in range(1000, 1000 + 200 - 21)],
        )
    with ModelManager(catalog) as manager:
        complete = dict(manager.db.execute("SELECT query, complete FROM remembered_answers"))
    assert complete == {query: int(query != '"instruct"*') for query in STORED}


#: "m"'s models whose classes swap places at 6.0 words a model (the 113 models hold 677 words,
#: 5.99 a model): three of 4 words 2 of which start with m, ranked 10th to 12th, and one of 7
#: words 3 of which do, ranked 13th; past 6.0 the one comes first.
M_SWAPPING = (
    ["ArthurZ/mamba-2.8b", "Babelscape/mrebel-large", "openbmb/MiniCPM3-4B"],
    "MaziyarPanahi/Qwen1.5-MoE-A2.7B-Wikihow",
)


def _past_the_crossing(manager: ModelManager) -> None:
    """Eight words, none starting with m: the mean moves from 5.99 to 6.02 words a model."""
    manager.add_model("acme/one-two-three-four-five-six-seven-eight", _config())


@pytest.mark.parametrize(("rows", "spare"), [(200, 56), (12, 2)], ids=["every-match", "first-14"])
def test_a_write_past_a_crossing_sorts_an_answer_that_lists_both_classes(
    catalog: Path, monkeypatch: pytest.MonkeyPatch, rows: int, spare: int
) -> None:
    # All 46 matches of "m" listed, or its first 14 (the swapping classes and the next one):
    # classes that the answer lists may swap places, it is sorted again.
    three, one = M_SWAPPING
    _store_again(catalog, monkeypatch, rows, spare)
    assert _ranked(catalog, '"m"*')[9:13] == [*three, one]
    with ModelManager(catalog) as manager:
        _past_the_crossing(manager)
    after = _ranked(catalog, '"m"*')
    assert after[9:13] == [one, *three]
    with sqlite3.connect(catalog) as conn:
        ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
        every = remembered_searches.stored_answers(conn, reserve=True)['"m"*']
    assert [ids[rowid] for rowid in every] == after[: min(rows + spare, len(after))]
    assert _served(catalog, "m")[:rows] == after[:rows]


@pytest.mark.parametrize("seconds", [1.0, 0.0], ids=["ranked-again", "no-time"])
def test_a_write_past_a_crossing_at_the_end_of_an_answer_ranks_it_again(
    catalog: Path, monkeypatch: pytest.MonkeyPatch, seconds: float
) -> None:
    # "m"'s first 12 listed: the three models end it, the one that swaps with them is not
    # listed, so past the crossing the upkeep does not know the answer's next model. The write
    # ranks it again, given the time; else it is left to rank when asked.
    monkeypatch.setattr(remembered_searches, "RANK_AGAIN_SECONDS", seconds)
    three, one = M_SWAPPING
    _store_again(catalog, monkeypatch, 11, 1)
    assert round(_answer_column(catalog, '"m"*', "avgdl_high"), 6) == 6.0
    assert _served(catalog, "m")[9:11] == three[:2]
    with ModelManager(catalog) as manager:
        _past_the_crossing(manager)
        stored = _stored(catalog)
        assert ('"m"*' in stored) == bool(seconds)
        assert len(stored) == len(STORED) - 1 + bool(seconds)
        assert diagnose_catalog(manager.db).wrong_stored_searches == 0
    ranked = _ranked(catalog, '"m"*')
    assert ranked[9:11] == [one, three[0]]
    assert _served(catalog, "m")[:11] == ranked[:11]
    if seconds:
        assert round(_answer_column(catalog, '"m"*', "avgdl_low"), 6) == 6.0


def test_a_batch_of_models_keeps_the_answers(catalog: Path) -> None:
    # 100 models in one transaction (a bulk write's batch holds up to 2,000): each has five
    # words (acme, tuned, 7b, its version, its family mistral), so they join the answers of
    # "7b" and "7" and take the mean from 5.99 to 5.53 words a model.
    with ModelManager(catalog) as manager:
        written = list(
            manager.add_models(
                [{"model_id": f"acme/tuned-7b-v{n}", "config": _config()} for n in range(100)]
            )
        )
    assert len(written) == 100
    stored = _assert_all_kept_and_right(catalog)
    assert len(stored['"7b"*']) == 20 + 100


def test_a_write_of_more_models_than_a_batch_leaves_the_answers_to_rank(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remembered_searches, "KEEP_UP_TO_MODELS", 64)
    with ModelManager(catalog) as manager:
        written = list(
            manager.add_models(
                [{"model_id": f"acme/tuned-7b-{n}", "config": _config()} for n in range(65)]
            )
        )
    assert len(written) == 65
    assert _stored(catalog) == {}
    assert "acme/tuned-7b-0" in _served(catalog, "7b")


def _configs(tmp_path: Path, names: list[str]) -> list[Path]:
    """Config files of Mistral fine-tunes, one folder each (``org__name``)."""
    files = []
    for name in names:
        one = tmp_path / name / "config.json"
        one.parent.mkdir()
        one.write_text(json.dumps(_config()))
        files.append(one)
    return files


def test_a_bulk_import_stops_keeping_answers_it_will_store(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    keep = remembered_searches.keep_answers

    def counted(*args: object) -> int:
        calls.append(args[1])
        return keep(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(remembered_searches, "keep_answers", counted)
    files = _configs(tmp_path, [f"acme__tuned-{n}" for n in range(40)])
    with ModelManager(catalog) as manager:
        result = import_config_files(manager, files, batch_size=10)
    assert result.counts == {"imported": 40}
    # The first two batches kept the answers; the 20th model (REMEMBER_AFTER_MODELS here)
    # meant the import would store them afresh, so the last two batches did not.
    assert [len(changed) for changed in calls] == [10, 10]
    # Stored afresh at the end, with the words 8 or more models now hold.
    # Every word of the index under "mis" starts with "mistral", under "ac" with "acme".
    # "4" and "8" are held 13 times now (tuned-4, tuned-8, tuned-38...).
    added = ("acme", "tuned", "mistral", "a", "t", "ac", "acm", "tu", "tun", "tune", "4", "8")
    _assert_all_kept_and_right(
        catalog, added={f'"{w}"*' for w in (*added, "mis", "mist", "mistr", "mistra")}
    )


def test_small_bulk_writes_store_the_answers_once_they_are_overdue(
    catalog: Path, tmp_path: Path
) -> None:
    # Written behind the catalog's back: the answers stop being read. A bulk import of 10
    # models (fewer than the 20 after which one stores them) leaves that as it is...
    with sqlite3.connect(catalog) as conn:
        conn.execute("UPDATE models SET model_name = 'Renamed' WHERE model_id = 'Qwen/Qwen2.5-7B'")
    with ModelManager(catalog) as manager:
        import_config_files(manager, _configs(tmp_path, [f"acme__qwen-ft-{n}" for n in range(10)]))
        assert _stored(catalog) == {}
        # ... until the models have changed 20 times since the answers were last in use (the
        # rename, then 19 new models): the import of the 19th stores them.
        import_config_files(manager, _configs(tmp_path, [f"acme__llama-ft-{n}" for n in range(8)]))
        assert _stored(catalog) == {}
        import_config_files(manager, _configs(tmp_path, ["acme__qwen-ft-last"]))
    added = ("acme", "ft", "mistral", "a", "f", "ac", "acm", "mis", "mist", "mistr", "mistra")
    added += ("4", "8", "lla")  # held 13 times or more now
    stored = _assert_all_kept_and_right(catalog, added={f'"{w}"*' for w in added})
    assert "acme/qwen-ft-last" in [
        mid for mid in _served(catalog, "qwen") if mid.startswith("acme/")
    ]
    assert len(stored['"ft"*']) == 19


def test_a_catalog_grown_by_small_imports_stores_its_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Never a bulk write of 20 models: the answers are stored once 20 models have been
    # written, by the import that crosses that line.
    _scale_thresholds(monkeypatch)
    every = sorted(HF_CONFIGS.glob("*/config.json"))
    qwen = [f for f in every if "qwen" in f.parent.name.lower()]
    files = qwen + [f for f in every if f not in qwen]
    path = tmp_path / "grown.db"
    with ModelManager(path) as manager:
        for start in range(0, 30, 15):
            assert _stored(path) == {}
            import_config_files(manager, files[start : start + 15])
    stored = _stored(path)
    assert {'"qwen"*', '"q"*'} <= set(stored)
    with sqlite3.connect(path) as conn:
        ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
    for query, rowids in stored.items():
        assert [ids[rowid] for rowid in rowids] == _ranked(path, query), query


def test_words_that_are_not_ascii_leave_the_answers_to_be_ranked_again(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The upkeep cannot count such words as FTS5 does, so it keeps no answer. The write then
    # ranks them again for as long as it may: here, each ranking taking 0.2 s, for 0.5 s (two
    # of them, the longest words first, the third dropped); the others are left to rank when
    # asked, but for the prefixes that take a ranked word's answer without ranking.
    rank = remembered_searches._ranked

    def slow(*args: Any) -> Any:
        time.sleep(0.2)
        return rank(*args)

    monkeypatch.setattr(remembered_searches, "_ranked", slow)
    monkeypatch.setattr(remembered_searches, "RANK_AGAIN_SECONDS", 0.5)
    with ModelManager(catalog) as manager:
        manager.add_model("acme/modele-qwen", _config(), model_name="Modèle Qwen")
    ranked = {f'"{w}"*' for w in ("instruct", "instruc", "instru", "instr", "inst", "ins")}
    assert _assert_all_kept_and_right(catalog, left=STORED - ranked - {'"llama"*', '"llam"*'})
    assert "acme/modele-qwen" in _served(catalog, "qwen")


def test_an_import_with_a_worker_ranks_beside_a_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The helper is a fresh process: it ranks with this one's settings, not its own defaults.
    _scale_thresholds(monkeypatch)
    started = []
    start = remembered_searches.RankingAhead.start

    def counted(db: Any) -> Any:
        started.append(start(db))
        return started[-1]

    monkeypatch.setattr(remembered_searches.RankingAhead, "start", counted)
    path = tmp_path / "catalog.db"
    with ModelManager(path) as manager:
        files = sorted(HF_CONFIGS.glob("*/config.json"))
        assert import_config_files(manager, files, workers=1).counts == {"imported": 113}
    assert len(started) == 1 and not started[0]._process.is_alive()
    _assert_all_kept_and_right(path)


def test_a_helpers_plan_leaves_the_costliest_searches_to_the_helper(catalog: Path) -> None:
    # The importer takes the plan's searches from the front, the helper from the end: the
    # searches whose words are held most (FTS5 merges a broad prefix's doclists in memory)
    # come last, so the helper ranks them.
    with sqlite3.connect(catalog) as conn:
        held = remembered_searches.broad_searches_held(conn, models=8, prefix_models=13)
        cost = {remembered_searches.search_key(text): count for text, count in held.items()}
        plan = remembered_searches._plan(conn, list(cost), alike=True, cost=cost)
    assert held["m"] == 67 and held["instruct"] == 21 and held["t"] == 14
    assert [cost[key] for key in plan.ranked] == sorted(cost[key] for key in plan.ranked)
    assert plan.ranked[-1] == '"m"*' and len(plan.ranked) == 31
    # The alike prefixes are not ranked, whatever their count.
    assert plan.taken['"ins"*'] == '"instruct"*' and '"ins"*' not in plan.ranked


def _ahead_done(db: Any) -> remembered_searches.RankingAhead:
    """A ranking helper started on ``db``, once it has taken every search of its plan."""
    ahead = remembered_searches.RankingAhead.start(db)
    assert ahead is not None
    deadline = time.monotonic() + 60
    while ahead.untaken != 0:
        assert time.monotonic() < deadline, "the helper never ranked its plan"
        time.sleep(0.05)
    return ahead


def test_a_ranking_helper_ranks_what_this_process_has_not_taken(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(catalog) as conn:
        conn.execute("DELETE FROM remembered_searches")
        conn.execute("DELETE FROM remembered_answers")
    assert _stored(catalog) == {}
    here = _rankings_kept(monkeypatch)
    with ModelManager(catalog) as manager:
        db = manager.writable()
        ahead = _ahead_done(db)
        # The helper took all 31 searches to rank before this process asked: it ranks none.
        assert ahead.finish(db) == len(STORED)
    assert here == []
    _assert_all_kept_and_right(catalog)


def test_a_ranking_helpers_answers_are_left_when_the_models_changed_since(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ModelManager(catalog) as manager:
        db = manager.writable()
        ahead = _ahead_done(db)
        # Another writer commits after the helper's snapshot: its answers would be stale, so
        # they are left and this process ranks every search afresh.
        with ModelManager(catalog) as other:
            other.add_model("acme/late-qwen", _config(QWEN), source="local")
        assert ahead.finish(db) is None
        assert not ahead._process.is_alive()
        assert remembered_searches.remember_after_bulk_write(db, 20) == len(STORED)
    _assert_all_kept_and_right(catalog)
    assert "acme/late-qwen" in _served(catalog, "qwen")


def test_a_ranking_helper_that_dies_leaves_the_importer_to_rank_every_search(
    catalog: Path,
) -> None:
    with sqlite3.connect(catalog) as conn:
        conn.execute("DELETE FROM remembered_searches")
        conn.execute("DELETE FROM remembered_answers")
    with ModelManager(catalog) as manager:
        db = manager.writable()
        ahead = remembered_searches.RankingAhead.start(db)
        assert ahead is not None
        ahead._process.kill()  # as the kernel's OOM killer would
        ahead._process.join()
        assert remembered_searches.remember_after_bulk_write(db, 20, ahead=ahead) == len(STORED)
    _assert_all_kept_and_right(catalog)


def test_an_answer_is_not_kept_after_another_writer(catalog: Path) -> None:
    with ModelManager(catalog) as manager:
        db = manager.writable()
        (generation,) = db.execute("SELECT generation FROM search_state").fetchone()
        manager.add_model("acme/tuned", _config())
        assert len(_stored(catalog)) == len(STORED)
        (rowid,) = db.execute("SELECT rowid FROM models WHERE model_id = 'acme/tuned'").fetchone()
        # As if another writer had committed between this write and its upkeep.
        assert remembered_searches.keep_answers(db, [rowid], generation, generation + 2) == 0
        assert remembered_searches.rank_left_answers(db, generation, generation + 2) == 0


def test_the_word_rule_is_fts5s_on_every_real_model(catalog: Path) -> None:
    """search_scores' words of each column are FTS5's (its docsize), and the hits it counts
    for every stored model are the ones FTS5's own score gave it."""
    with sqlite3.connect(catalog) as conn:
        for _, *texts, sizes in conn.execute(
            "SELECT w.*, d.sz FROM models_fts_words w "
            "JOIN models_fts_docsize d ON d.id = w.model_rowid"
        ):
            columns = search_scores.words_of(texts)
            assert columns is not None
            assert [len(words) for words in columns] == read_varints(sizes), texts
        checked = 0
        for query, rowid, hits, words in conn.execute(
            "SELECT query, model_rowid, hits, words FROM remembered_searches"
        ):
            texts = conn.execute(
                "SELECT model_id, model_name, family, aliases FROM models_fts_words "
                "WHERE model_rowid = ?",
                (rowid,),
            ).fetchone()
            columns = search_scores.words_of(texts)
            prefix = search_scores.KEEPABLE_KEY.match(query)[1]
            counted = search_scores.prefix_counts(columns, {prefix}).get(prefix, 0)
            assert (counted, sum(map(len, columns))) == (hits, words)
            checked += 1
    # 39 answers: the 569 rows of the 31 words and prefixes ranked, and the alike prefixes'
    # copies (five of instruct's 22, llama's 8, two of qwen's 18).
    assert checked == 569 + 5 * 22 + 8 + 2 * 18


def test_answers_ranked_while_another_writer_commits_are_not_stored(
    catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ranked_while_a_model_is_added(conn: sqlite3.Connection, **_: object) -> list[str]:
        with ModelManager(catalog) as other:
            other.delete_model("meta-llama/Llama-3.1-8B")
        return ["llama"]

    monkeypatch.setattr(remembered_searches, "broad_searches", ranked_while_a_model_is_added)
    with ModelManager(catalog) as manager:
        assert remembered_searches.remember_searches(manager.writable()) == 0
    # Nothing stored (only "llama" would have been): the bulk import's answers, kept through
    # the other writer's delete, are still there and right.
    _assert_all_kept_and_right(catalog)
    assert "meta-llama/Llama-3.1-8B" not in _served(catalog, "llama")


def test_a_published_copy_answers_broad_searches_from_the_file(
    catalog: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "published.db"
    with ModelManager(catalog) as manager:
        manager.delete_model("Qwen/Qwen3-VL-4B-Instruct")  # the source's answers are now stale
        backup_catalog(manager.db, copy, publish=True)
    stored = _stored(copy)
    # The words again (a soft-deleted model's words stay in the index, so they are the same
    # words), the one-letter prefixes whose broadest word is broad, and the alike prefixes.
    assert list(stored) == sorted(STORED)
    for text in ("q", "instruct", "L"):
        answer = _served(copy, text, immutable=True)
        assert answer == _ranked(catalog, f'"{text.lower()}"*') and answer
        assert "Qwen/Qwen3-VL-4B-Instruct" not in answer


def test_loading_an_export_stores_its_broad_searches(catalog: Path, tmp_path: Path) -> None:
    with ModelManager(catalog) as manager:
        export = list(iter_export_lines(manager.db))
    target = tmp_path / "loaded.db"
    with ModelManager(target) as manager:
        result = load_catalog(manager.writable(), iter(export))
    assert result.counts["models"] == 113
    assert _stored(target).keys() == _stored(catalog).keys()
    for text in ("qwen", "7b"):
        answer = _served(target, text)
        assert answer == _ranked(target, f'"{text}"*')
        # Equally good matches come in load order (the export's id order), not the source's.
        assert sorted(answer) == sorted(_served(catalog, text))


def test_doctor_finds_a_stored_answer_the_ranking_does_not_give(catalog: Path) -> None:
    with ModelManager(catalog) as manager:
        assert diagnose_catalog(manager.db).wrong_stored_searches == 0
    # Written behind the triggers' back: the stored order no longer is the ranking's.
    with sqlite3.connect(catalog) as conn:
        conn.execute(
            "UPDATE remembered_searches SET model_rowid = -model_rowid WHERE query = ?",
            ('"llama"*',),
        )
    with ModelManager(catalog) as manager:
        report = diagnose_catalog(manager.db)
        assert report.wrong_stored_searches == 1
        assert "1 stored search answers differ from the search index's ranking" in (
            "; ".join(report.problems)
        )
        repair_catalog(manager.writable())
        after = diagnose_catalog(manager.db)
        assert after.healthy and after.wrong_stored_searches == 0
    # The rebuilt index's broad searches are ranked and stored again.
    _assert_all_kept_and_right(catalog)
    assert _served(catalog, "llama") == _ranked(catalog, '"llama"*')


#: The two-word searches the 113 configs hold when a pair is broad from 10 models holding both
#: of its words (the pairs of the broad searches above; "m ins" searches what "m instruct"
#: does, so is not ranked again).
PAIRS = {"m l": 14, "m a": 12, "instruct m": 10, "m i": 10, "m in": 10, "m 2": 10, "m ins": 10}
#: The pairs' keys stored: each pair in both orders, "m instruct" also with the alike prefixes
#: of instruct (ins to instruc match what it matches).
PAIR_KEYS = {
    *(f'"{first}"* "{second}"*' for first, second in (text.split() for text in PAIRS)),
    *(f'"{second}"* "{first}"*' for first, second in (text.split() for text in PAIRS)),
    *(f'"m"* "{prefix}"*' for prefix in ("inst", "instr", "instru", "instruc")),
}


@pytest.fixture
def paired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The 113 configs imported in bulk (through a convert worker and its ranking helper),
    with the thresholds scaled down and a pair broad from 10 models."""
    _scale_thresholds(monkeypatch)
    monkeypatch.setattr(remembered_searches, "BROAD_PAIR_MODELS", 10)
    path = tmp_path / "catalog.db"
    with ModelManager(path) as manager:
        files = sorted(HF_CONFIGS.glob("*/config.json"))
        assert import_config_files(manager, files, workers=1).counts == {"imported": 113}
    return path


def test_the_broadest_pairs_are_counted_from_their_matches(paired: Path) -> None:
    with sqlite3.connect(paired) as conn:
        searches = remembered_searches.broad_searches(conn)
        pairs = remembered_searches.broad_pairs(conn, searches)
        assert pairs == PAIRS
        # Each count is FTS5's own: the models that hold both words.
        for text, held in pairs.items():
            query = remembered_searches.search_key(text)
            sql = "SELECT count(*) FROM models_fts WHERE models_fts MATCH ?"
            assert conn.execute(sql, (query,)).fetchone()[0] == held
        # From 14 models only "m l" is broad; "qw qwe" and "instruct ins" (a word and its
        # own prefix) are never paired, however many models hold both.
        assert remembered_searches.broad_pairs(conn, searches, models=14) == {"m l": 14}
        assert remembered_searches.broad_pairs(conn, ["qwen", "qw", "qwe"], models=1) == {}
        assert remembered_searches.broad_pairs(conn, searches, limit=2) == {"m l": 14, "m a": 12}


def test_a_bulk_import_stores_the_broadest_pairs_in_both_orders(paired: Path) -> None:
    stored = _stored(paired)
    assert set(stored) == STORED | PAIR_KEYS
    with sqlite3.connect(paired) as conn:
        ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
    # Every stored answer, each order of each pair too, is FTS5's own ranking of its key.
    for query, rowids in stored.items():
        assert [ids[rowid] for rowid in rowids] == _ranked(paired, query), query
    _assert_pairs_right(paired)
    assert stored['"m"* "instruct"*'] == stored['"instruct"* "m"*'] == stored['"m"* "instr"*']
    assert len(stored['"m"* "l"*']) == 14
    # The search reads them, in either order and as typed: reverse the stored order of one
    # and both its orders follow.
    ranked = _ranked(paired, '"m"* "l"*')
    with sqlite3.connect(paired) as conn:
        for query in ('"m"* "l"*', '"l"* "m"*'):
            where = " WHERE query = ?"
            conn.execute("UPDATE remembered_searches SET position = -position" + where, (query,))
            conn.execute(
                "UPDATE remembered_searches SET position = 15 + position" + where, (query,)
            )
    assert _served(paired, "M  L") == _served(paired, "l m") == ranked[::-1]
    with ModelManager(paired) as manager:
        found = manager.search_models("l M", limit=3)
        assert [m["model_id"] for m in found] == ranked[::-1][:3]


def test_a_pair_is_ranked_once_for_every_key_it_is_stored_under(
    paired: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranked = _rankings_kept(monkeypatch)
    with ModelManager(paired) as manager:
        stored = remembered_searches.remember_searches(manager.writable())
    assert stored == len(STORED | PAIR_KEYS)
    # Six rankings for 18 keys: "m ins" takes the answer of "m instruct", and every other
    # key is a pair's other order or an alike prefix of its last word.
    assert sorted(key for key in ranked if " " in key) == sorted(
        remembered_searches.search_key(text) for text in PAIRS if text != "m ins"
    )


def _assert_pairs_right(path: Path, *, kept: bool = True) -> dict[str, list[int]]:
    """Every answer stored at the current generation is FTS5's own ranking of its key (each
    order of each pair too), and each stored model of a pair carries its own class for that
    key's words in that order; returns them."""
    stored = _stored(path)
    with sqlite3.connect(path) as conn:
        ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
        texts = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT model_rowid, model_id, model_name, family, aliases FROM models_fts_words"
            )
        }
        classes = conn.execute(
            "SELECT r.query, r.model_rowid, r.hits, r.second_hits, r.words, "
            "a.pair_state ->> '$.symmetric' "
            "FROM remembered_searches r JOIN remembered_answers a ON a.query = r.query "
            "WHERE a.pair_state IS NOT NULL "
            "AND a.generation = (SELECT generation FROM search_state)"
        ).fetchall()
    for query, rowids in stored.items():
        assert [ids[rowid] for rowid in rowids] == _ranked(path, query), query
    for query, rowid, hits_a, hits_b, words, symmetric in classes:
        first, second = remembered_searches.PAIR_KEY.match(query).groups()  # type: ignore[union-attr]
        columns = search_scores.words_of(texts[rowid])
        assert columns is not None
        hits = search_scores.prefix_counts(columns, {first, second})
        own = (hits[first], hits[second], sum(map(len, columns)))
        # Both words weighing the same, a class is stored with the fewer hits first.
        assert (pair_scores.mirrored(own) if symmetric else own) == (hits_a, hits_b, words)
    assert bool(classes) == kept  # pair answers kept with their classes, or none
    return stored


def test_small_writes_keep_the_pairs_answers_right(
    paired: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(paired) as conn:
        rows = conn.execute(
            "SELECT count(*), count(second_hits) FROM remembered_searches WHERE query LIKE '% %'"
        ).fetchone()
        states = conn.execute(
            "SELECT count(*) FROM remembered_answers WHERE pair_state IS NOT NULL"
        ).fetchone()[0]
    # Every pair answer is stored with its classes: a second word's hits on each row.
    assert rows[0] == rows[1] > 0 and states == len(PAIR_KEYS)
    ranked = _rankings_kept(monkeypatch)
    with ModelManager(paired) as manager:
        # A model with words under m and l (acme, m, l, mistral...) joins "m l" near its top.
        manager.add_model("acme/m-l-tuned", _config(), source="local")
        # "m l" is kept with the new model in its place. In a catalog of 114 models a write
        # moves the words' weights by a percent, past the order some answers were proven in
        # (instruct m, m a...): the write ranks those again. At a million it moves them by ~1e-6.
        assert '"m"* "l"*' not in ranked and '"l"* "m"*' not in ranked
        assert {'"m"* "2"*', '"2"* "m"*'}.isdisjoint(ranked)
        stored = _assert_pairs_right(paired)
        assert set(stored) == STORED | PAIR_KEYS
        assert "acme/m-l-tuned" in _served(paired, "m l") and len(stored['"m"* "l"*']) == 15
        # A delete takes a model out of the pairs it was in; bringing it back puts it back.
        best = _ranked(paired, '"m"* "l"*')[0]
        manager.delete_model(best)
        stored = _assert_pairs_right(paired)
        assert set(stored) == STORED | PAIR_KEYS and best not in _served(paired, "l m")
        manager.undelete_model(best)
        # A rename that drops every word under l.
        manager.add_model("acme/m-tuned-2", _config(QWEN), source="local")
        stored = _assert_pairs_right(paired)
        assert set(stored) == STORED | PAIR_KEYS
        assert diagnose_catalog(manager.db).wrong_stored_searches == 0
    assert _served(paired, "instruct m") == _ranked(paired, '"instruct"* "m"*')


def test_a_pair_answer_the_upkeep_cannot_keep_is_left_to_rank(
    paired: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the words' weights had moved past every order a pair answer can be proven in: the
    # write leaves them (ranking one reads every match, more than a write should wait), the
    # searches rank when asked, and the next store brings them back.
    find_box, inside = pair_scores.find_box, pair_scores.inside
    monkeypatch.setattr(pair_scores, "find_box", lambda *_, **__: None)
    monkeypatch.setattr(pair_scores, "inside", lambda *_: False)
    ranked = _rankings_kept(monkeypatch)
    with ModelManager(paired) as manager:
        manager.add_model("acme/m-l-tuned", _config(), source="local")
    assert ranked == []
    assert set(_assert_pairs_right(paired, kept=False)) == STORED
    answer = _served(paired, "l m")
    assert answer == _ranked(paired, '"l"* "m"*') and "acme/m-l-tuned" in answer
    monkeypatch.setattr(pair_scores, "find_box", find_box)
    monkeypatch.setattr(pair_scores, "inside", inside)
    with ModelManager(paired) as manager:
        stored = remembered_searches.remember_searches(manager.writable())
    # The new model (mistral) makes "mis" held 13 times, so broad; every pair is back, kept.
    assert set(_assert_pairs_right(paired)) >= STORED | PAIR_KEYS
    assert stored == len(_stored(paired)) == len(STORED | PAIR_KEYS) + 1


def test_a_pairs_classes_are_fts5s_scores_and_its_box_proves_their_order(paired: Path) -> None:
    from genz_catalog.catalog.search_scores import fts_totals

    with sqlite3.connect(paired) as conn:
        models, words = fts_totals(conn)
        avgdl = words / models
        count = "SELECT count(*) FROM models_fts WHERE models_fts MATCH ?"
        held = [conn.execute(count, (f'"{w}"*',)).fetchone()[0] for w in ("m", "l")]
        weights = pair_scores.weights(models, (held[0],) * 2, (held[1],) * 2)
        matches = conn.execute(
            "SELECT f.rank, w.model_id, w.model_name, w.family, w.aliases FROM models_fts f "
            "JOIN models_fts_words w ON w.model_rowid = f.rowid WHERE models_fts MATCH ?",
            ('"m"* "l"*',),
        ).fetchall()
    classes = pair_scores.classes_of({m[0] for m in matches}, weights[0], weights[2], avgdl)
    assert classes is not None and len(matches) == 14
    # Each model's class is what its own words give: hits under m, under l, and all words.
    for rank, *texts in matches:
        columns = search_scores.words_of(texts)
        assert columns is not None
        hits = search_scores.prefix_counts(columns, {"m", "l"})
        assert classes[rank] == (hits["m"], hits["l"], sum(map(len, columns)))
    # Anywhere in the box the order of the classes is the one proven at its middle.
    order = sorted(set(classes.values()), key=lambda c: pair_scores.score(c, *weights[::2], avgdl))
    box = pair_scores.find_box(order, [], weights, avgdl)
    assert box is not None
    for idf_a in (box[0], box[1]):
        for idf_b in (box[2], box[3]):
            for mean in (box[4], box[5]):
                scores = [pair_scores.score(c, idf_a, idf_b, mean) for c in order]
                assert scores == sorted(scores) and len(set(scores)) == len(scores)
    # Not a box in which l's weight may grow to 40 times its own: a class with more words
    # under l would pass one with fewer words in all.
    assert not pair_scores.proven(order, [], (box[0], box[1], box[2], box[3] * 40, box[4], box[5]))
    assert pair_scores.inside(box, weights, avgdl)
    assert not pair_scores.inside(box, (weights[0] * 0.5, *weights[1:]), avgdl)


def test_two_words_most_models_hold_weigh_alike_and_are_kept_mirrored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Words held by half the models or more weigh bm25's floor, 1e-6, both alike: a model with
    # hits (1, 2) scores exactly as one with (2, 1), so a class is known only up to its mirror.
    # The answer is kept while both still weigh the same, and left once one does not.
    monkeypatch.setattr(remembered_searches, "BROAD_SEARCH_MODELS", 4)
    monkeypatch.setattr(remembered_searches, "BROAD_PREFIX_MODELS", 4)
    monkeypatch.setattr(remembered_searches, "BROAD_PAIR_MODELS", 4)
    path = tmp_path / "mirrored.db"
    qwen = _config(QWEN)  # family qwen2: no word under m or v
    names = [f"mx{i}/vy-{'mm-' * (i % 3)}{'vv-' * (i % 2)}tuned" for i in range(14)]
    names += [f"acme/qwen-tuned-{i}" for i in range(6)]
    with ModelManager(path) as manager:
        for name in names:
            manager.add_model(name, qwen, source="local")
        remembered_searches.remember_searches(manager.writable(), ["m v"])
    with sqlite3.connect(path) as conn:
        (state,) = conn.execute(
            "SELECT pair_state FROM remembered_answers WHERE query = ?", ('"m"* "v"*',)
        ).fetchone()
    assert json.loads(state)["symmetric"] is True
    _assert_pairs_right(path)
    with ModelManager(path) as manager:
        # 15 of 21 models now hold both words: both still weigh the floor, so it is kept.
        manager.add_model("mz/vz-mm-vv-new", qwen, source="local")
        assert set(_assert_pairs_right(path)) == {'"m"* "v"*'}
        assert "mz/vz-mm-vv-new" in _served(path, "m v")
        # Models without either word until fewer than half hold v: v weighs more than m, and
        # the mirrored classes may part. The answer is left to rank; the search stays right.
        for i in range(10):
            manager.add_model(f"acme/qwen-more-{i}", qwen, source="local")
        assert _stored(path) == {}
    assert _served(path, "m v") == _ranked(path, '"m"* "v"*')
