"""Broad searches ranked once by a bulk write or a publication and read from the catalog file
(genz_catalog/catalog/remembered_searches.py), on the 113 real Hub configs of tests/data."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.parse
from pathlib import Path

import pytest

from genz_catalog.admin import (
    backup_catalog,
    diagnose_catalog,
    import_config_files,
    iter_export_lines,
    load_catalog,
    repair_catalog,
)
from genz_catalog.catalog import remembered_searches
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
        found: dict[str, list[int]] = {}
        for query, rowid in conn.execute(
            "SELECT query, model_rowid FROM remembered_searches "
            "WHERE generation = (SELECT generation FROM search_state) ORDER BY query, position"
        ):
            found.setdefault(query, []).append(rowid)
        return found


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The 113 configs imported in bulk, with the thresholds scaled down to this catalog: a
    word is broad when 8 models hold it, an import of 20 models stores answers."""
    monkeypatch.setattr(remembered_searches, "BROAD_SEARCH_MODELS", 8)
    monkeypatch.setattr(remembered_searches, "REMEMBER_AFTER_MODELS", 20)
    path = tmp_path / "catalog.db"
    with ModelManager(path) as manager:
        result = import_config_files(manager, sorted(HF_CONFIGS.glob("*/config.json")))
    assert result.counts == {"imported": 113}
    return path


def test_a_bulk_import_stores_the_broad_searches_as_ranked(catalog: Path) -> None:
    stored = _stored(catalog)
    # Held by 21, 20, 13, 12, 9, 8 and 8 of the 113 models ("3b", 6 models, is not broad),
    # then the one-letter prefixes of those: i(nstruct), 7(b), q(wen), m(oe), l(lama).
    assert list(stored) == sorted(
        [f'"{w}"*' for w in ("instruct", "7b", "qwen", "moe", "qwen3", "llama", "qwen2")]
        + [f'"{letter}"*' for letter in "i7qml"]
    )
    with sqlite3.connect(catalog) as conn:
        ids = dict(conn.execute("SELECT rowid, model_id FROM models"))
    for query, rowids in stored.items():
        assert [ids[rowid] for rowid in rowids] == _ranked(catalog, query)
    # Every word a prefix: the 16 ids with Qwen, Qwen2.5, Qwen3... and two whose family is
    # (Bwin-AI/LiverGPT: qwen2, allenai/olmOCR-7B-0225-preview: qwen2_vl); the 21 ids with
    # "instruct" as a word and instructlab/granite-7b-lab.
    assert len(stored['"qwen"*']) == 18
    assert len(stored['"instruct"*']) == 22


def test_the_search_reads_a_stored_answer_until_a_write(catalog: Path) -> None:
    ranked = _ranked(catalog, '"instruct"*')
    assert _served(catalog, "Instruct") == ranked
    # Proof the answer is read, not ranked: reverse the stored order and the search follows.
    with sqlite3.connect(catalog) as conn:
        conn.execute("UPDATE remembered_searches SET position = -position")
        conn.execute("UPDATE remembered_searches SET position = 1000 + position")
    assert _served(catalog, "  INSTRUCT ") == ranked[::-1]
    with ModelManager(catalog) as manager:
        assert [m["model_id"] for m in manager.search_models("instruct", limit=3)] == (
            ranked[::-1][:3]
        )
        # FTS5 syntax and a search with deleted models are always ranked.
        assert [m["model_id"] for m in manager.search_models("instruct*", limit=3)] == ranked[:3]
        # Any write to a model's words or liveness moves the generation on: the stored answers
        # are no longer read, and the deleted model is not found.
        manager.delete_model(ranked[0])
    assert _stored(catalog) == {}
    assert _served(catalog, "instruct") == ranked[1:]
    with ModelManager(catalog) as manager:
        assert [m["model_id"] for m in manager.search_models("instruct", limit=3)] == ranked[1:4]


def test_a_small_import_leaves_searches_to_rank(catalog: Path, tmp_path: Path) -> None:
    config = json.loads(
        (HF_CONFIGS / "mistralai__Mistral-7B-Instruct-v0.3" / "config.json").read_text()
    )
    config.pop("_name_or_path", None)
    one = tmp_path / "acme-instruct-tuned" / "config.json"
    one.parent.mkdir()
    one.write_text(json.dumps(config))
    with ModelManager(catalog) as manager:
        result = import_config_files(manager, [one])
    assert result.counts == {"imported": 1}
    assert _stored(catalog) == {}
    answer = _served(catalog, "instruct")
    assert answer == _ranked(catalog, '"instruct"*') and "acme-instruct-tuned" in answer


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
    assert _stored(catalog) == {}
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
    # words), then the one-letter prefixes whose broadest word is broad: i(nstruct), 7(b),
    # q(wen), m(oe), l(lama).
    assert list(stored) == sorted(
        [f'"{w}"*' for w in ("instruct", "7b", "qwen", "moe", "qwen3", "llama", "qwen2")]
        + [f'"{letter}"*' for letter in "i7qml"]
    )
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
    assert _stored(catalog) == {}  # the rebuilt index's searches are ranked again
    assert _served(catalog, "llama") == _ranked(catalog, '"llama"*')
