"""``discover --all --import`` over a listing of tens of thousands of models on the Hub stand-in:
paging, importing as it goes, skipping what is current, and resuming after faults mid-listing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_server import CONFIGS_DIR, running_hub

from genz_catalog.catalog import remembered_searches
from genz_catalog.cli import cli
from genz_catalog.hub_discover import PAGE_ATTEMPTS, PAGE_SIZE, discover_all, query_key
from genz_catalog.manager import ModelManager

LISTED = 20_000
#: Listed models the catalog does not have yet, and ones it has at an older commit.
NEW, STALE = 130, 20
CONFIG = (CONFIGS_DIR / "openai-community__gpt2" / "config.json").read_bytes()
GPT2_PARAMETERS = 124_439_808


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def big_hub():
    """A stand-in listing 20,000 models of one organisation (GPT-2's real config each)."""
    with running_hub() as hub:
        shas = {}
        for i in range(LISTED):
            model_id = f"bulk-org/model-{i:05d}"
            shas[model_id] = hub.add_model(model_id, CONFIG)
        yield hub, shas


@pytest.fixture
def hub(big_hub, monkeypatch: pytest.MonkeyPatch):
    hub, shas = big_hub
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    hub.listing_faults.clear()
    yield hub, shas
    hub.listing_faults.clear()


def _split(shas: dict[str, str]) -> tuple[set[str], set[str]]:
    ids = sorted(shas)
    new, stale = set(ids[::150][:NEW]), set(ids[7::997][:STALE])
    assert len(new) == NEW and len(stale) == STALE and not new & stale
    return new, stale


@pytest.fixture(scope="module")
def seeded_catalog(big_hub, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog holding every listed model but NEW of them, STALE of those at an old commit
    (made once; each test gets a copy)."""
    _, shas = big_hub
    new, stale = _split(shas)
    path = tmp_path_factory.mktemp("seeded") / "catalog.db"
    config = json.loads(CONFIG)
    with ModelManager(path) as manager:
        results = list(
            manager.add_models(
                {
                    "model_id": model_id,
                    "config": config,
                    "source": "huggingface",
                    "hub_metadata": {
                        "hub_id": model_id,
                        "revision_sha": "0" * 40 if model_id in stale else shas[model_id],
                    },
                }
                for model_id in sorted(shas)
                if model_id not in new
            )
        )
        manager.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert len(results) == LISTED - NEW
    return path


def seed_catalog(seeded: Path, target: Path, shas: dict[str, str]) -> tuple[set[str], set[str]]:
    shutil.copyfile(seeded, target)
    return _split(shas)


def test_a_walk_stopped_by_a_failing_page_resumes_where_it_left_off(
    hub, seeded_catalog: Path, isolated_catalog: Path, monkeypatch: pytest.MonkeyPatch
):
    server, shas = hub
    # Scaled to this listing: a word 10,000 models hold is broad, and a walk that writes any
    # model stores the broad searches' answers.
    monkeypatch.setattr(remembered_searches, "BROAD_SEARCH_MODELS", 10_000)
    monkeypatch.setattr(remembered_searches, "REMEMBER_AFTER_MODELS", 1)
    new, stale = seed_catalog(seeded_catalog, isolated_catalog, shas)
    server.listing_faults[3] = [503]  # one failure: retried, and the walk goes on
    server.listing_faults[7] = [500] * PAGE_ATTEMPTS  # fails every attempt of this run

    first = run("discover", "--author", "bulk-org", "--all", "--import", "--json")
    assert first.exit_code == 1
    assert first.stderr.startswith("Error: discover: the Hub answered HTTP 500; try again later")
    assert "stopped after 6 pages with its place saved" in first.stderr
    (summary,) = json.loads(first.stdout)
    assert summary["found"] == 6 * PAGE_SIZE and summary["finished"] is False
    assert summary["imported"] + summary["updated"] + summary["skipped"] == 6 * PAGE_SIZE

    second = run("discover", "--author", "bulk-org", "--all", "--import", "--json")
    assert second.exit_code == 0, second.output
    (rest,) = json.loads(second.stdout)
    assert rest["resumed_at_page"] == 7 and rest["finished"] is True
    assert rest["found"] == LISTED - 6 * PAGE_SIZE
    # Over both runs: every listed model once, the new ones imported, the stale ones re-read.
    both = {key: summary[key] + rest[key] for key in ("found", "imported", "updated", "skipped")}
    assert both == {
        "found": LISTED,
        "imported": NEW,
        "updated": STALE,
        "skipped": LISTED - NEW - STALE,
    }
    with ModelManager() as manager:
        assert manager.db.execute("SELECT count(*) FROM models").fetchone()[0] == LISTED
        for model_id in sorted(new)[:3] + sorted(stale)[:3]:
            model = manager.get_model(model_id)
            assert model["parameter_count"] == GPT2_PARAMETERS
            assert model["revision_sha"] == shas[model_id]
        progress = manager.db.execute(
            "SELECT next_url, pages, found, imported, updated, skipped, failed, finished_at "
            "FROM discover_progress"
        ).fetchall()
    assert [tuple(row[:7]) for row in progress] == [
        (None, LISTED // PAGE_SIZE, LISTED, NEW, STALE, LISTED - NEW - STALE, 0)
    ]
    assert progress[0][7] is not None
    _assert_broad_searches_stored(isolated_catalog)

    # A finished walk starts over, and now finds everything current without a download.
    before = len(server.requests)
    third = run("discover", "--author", "bulk-org", "--all", "--import")
    assert third.exit_code == 0
    assert third.stdout == (
        f"found {LISTED}, imported 0, updated 0, skipped {LISTED} (already current), "
        f"failed 0 ({LISTED // PAGE_SIZE} pages)\n"
    )
    assert all(r.path.startswith("/api/models?") for r in server.requests[before:])
    _assert_broad_searches_stored(isolated_catalog)  # a walk that wrote nothing changed nothing


def _assert_broad_searches_stored(path: Path) -> None:
    """The words every listed model holds (bulk, org, model; its family, gpt2), their first
    letters and their shorter prefixes that hold no other word are stored at the catalog's
    current generation, each the 200 models FTS5 itself ranks first."""
    with sqlite3.connect(path) as conn:
        stored = remembered_searches.stored_answers(conn)
        words = ("b", "bu", "bul", "bulk", "g", "gp", "gpt", "gpt2")
        words += ("m", "mo", "mod", "mode", "model", "o", "or", "org")
        assert list(stored) == [f'"{text}"*' for text in words]
        for query, rowids in stored.items():
            ranked = [
                row[0]
                for row in conn.execute(
                    "SELECT rowid FROM models_fts WHERE models_fts MATCH ? "
                    "ORDER BY rank, rowid LIMIT 200",
                    (query,),
                )
            ]
            assert rowids == ranked and len(rowids) == 200


def test_a_stopped_walk_resumes_and_restart_starts_over(
    hub, seeded_catalog: Path, isolated_catalog: Path
):
    server, shas = hub
    seed_catalog(seeded_catalog, isolated_catalog, shas)

    class Stop(Exception):
        pass

    def stop_after_two_pages(run) -> None:
        if run.pages == 2:
            raise Stop  # as Ctrl-C would, between pages

    with ModelManager() as manager, pytest.raises(Stop):
        discover_all(manager, author="bulk-org", do_import=True, on_page=stop_after_two_pages)
    with ModelManager() as manager:
        key = query_key(
            {
                "author": "bulk-org",
                "search": None,
                "pipeline_tag": None,
                "library": None,
                "sort": "downloads",
            }
        )
        (pages, found) = manager.db.execute(
            "SELECT pages, found FROM discover_progress WHERE query_key = ?", [key]
        ).fetchone()
        assert (pages, found) == (2, 2 * PAGE_SIZE)
        resumed = discover_all(manager, author="bulk-org", do_import=True)
        assert (resumed.resumed_at_page, resumed.found) == (3, LISTED - 2 * PAGE_SIZE)
        restarted = discover_all(manager, author="bulk-org", do_import=True, restart=True)
        assert (restarted.resumed_at_page, restarted.found) == (None, LISTED)


def test_the_whole_listing_without_import(hub, isolated_catalog: Path):
    result = run("discover", "--author", "bulk-org", "--all", "--csv")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "model_id,downloads,likes,pipeline_tag,library,created_at"
    assert len(lines) == LISTED + 1
    assert len({line.split(",")[0] for line in lines[1:]}) == LISTED
    assert not isolated_catalog.exists()  # a listing writes nothing
