"""Walking a whole Hub listing (a task, an organisation, a search) and importing as it goes.

``discover --all --import`` may meet hundreds of thousands of models, so the walk is built to be
stopped: it asks for one page of the listing at a time (the Hub's own cursor pagination,
:data:`PAGE_SIZE` models a page), imports that page's new and changed models, then records in
the catalog (table ``discover_progress``) the next page to ask for and the running counts. A
run that is stopped (Ctrl-C, ``kill``, a network fault mid-listing) is resumed by running the
same command again: the walk starts at the page after the last one finished. A model already in
the catalog at the commit the listing names is skipped without a request ("current").
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from .catalog.remembered_searches import remember_after_bulk_write
from .db import write_transaction
from .hub import (
    DISCOVER_SORTS,
    HubClient,
    HubError,
    ImportOutcome,
    import_models_from_hf,
)
from .manager import utc_now

if TYPE_CHECKING:
    from .manager import ModelManager

#: Models per listing page (the Hub serves at most 1,000 a page).
PAGE_SIZE = 1000
#: Attempts per page before the walk stops (with its place saved) on a failing Hub.
PAGE_ATTEMPTS = 4
#: Fields the listing is asked for (``expand``): ``sha`` tells whether a model is current.
LISTING_FIELDS = ("sha", "downloads", "likes", "pipeline_tag", "library_name", "createdAt")


@dataclass
class DiscoverRun:
    """What one ``discover --all`` run did; counts cover this run only.

    ``found``: listed models seen; ``imported``: new to the catalog; ``updated``: in the catalog
    at another commit and re-imported (a new version only if the config changed); ``skipped``:
    already current, or in the catalog from another source; ``failed``: could not be imported
    (``failures`` says why). ``resumed_at_page``: the page a resumed run started at (None for a
    fresh walk); ``finished``: the listing was walked to its end; ``error``: why it stopped
    before the end (a page the Hub failed to serve), with its place saved.
    """

    query: dict[str, Any]
    found: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    pages: int = 0
    resumed_at_page: int | None = None
    finished: bool = False
    error: str | None = None
    failures: list[ImportOutcome] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: The counts last written to ``discover_progress`` (so each page adds only its own).
    saved_counts: list[int] = field(default_factory=lambda: [0] * 5, repr=False)

    def summary(self) -> dict[str, Any]:
        """The counts as one JSON-ready row."""
        return {
            "found": self.found,
            "imported": self.imported,
            "updated": self.updated,
            "skipped": self.skipped,
            "failed": self.failed,
            "pages": self.pages,
            "resumed_at_page": self.resumed_at_page,
            "finished": self.finished,
            "error": self.error,
        }


def query_key(query: dict[str, Any]) -> str:
    """The key a listing's progress is saved under: a hash of its filters."""
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _pages(
    client: HubClient, params: dict[str, Any], start_url: str | None
) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """(models, next page URL) for each page from ``start_url`` (or the first page)."""
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    headers = build_hf_headers(token=client.token, library_name="genz-catalog")
    url: str | None = start_url or f"{client.endpoint}/api/models"
    first = start_url is None
    while url is not None:
        response = None
        for attempt in range(PAGE_ATTEMPTS):
            try:
                response = get_session().get(
                    url,
                    params=params if first else None,
                    headers=headers,
                    timeout=client.timeout or 30.0,
                )
                hf_raise_for_status(response)
                break
            except Exception as exc:  # noqa: BLE001 - every failure becomes one HubError line
                error = client.translate(exc, "discover")
                if attempt + 1 == PAGE_ATTEMPTS:
                    raise error from None

                time.sleep(min(0.2 * 2**attempt, 2.0))
        assert response is not None
        next_url = response.links.get("next", {}).get("url")
        yield response.json(), next_url
        url, first = next_url, False


def discover_all(
    manager: ModelManager | None,
    *,
    author: str | None = None,
    search: str | None = None,
    pipeline_tag: str | None = None,
    library: str | None = None,
    sort: str = "downloads",
    do_import: bool = False,
    restart: bool = False,
    token: str | None = None,
    timeout: float | None = None,
    workers: int = 8,
    show_progress: bool | None = None,
    keep_rows: bool = False,
    reachable: bool = False,
    on_page: Callable[[DiscoverRun], None] | None = None,
) -> DiscoverRun:
    """Walk the whole listing matching the filters, page by page.

    With ``do_import`` (``manager`` required), each page's models that are not current in the
    catalog are imported before the next page is asked for, and the place in the listing is
    saved after every page, so calling again with the same filters resumes (``restart`` starts
    over). A page that still fails after :data:`PAGE_ATTEMPTS` tries stops the walk: the run
    comes back with ``error`` set and its place saved. ``keep_rows`` keeps every listed row (``rows``) for printing;
    ``on_page`` is called after each page (tests use it to stop a run part-way); ``reachable``
    says the caller has just checked that the Hub answers (no second probe).
    """
    if sort not in DISCOVER_SORTS:
        from .errors import InvalidInputError

        raise InvalidInputError(
            f"cannot sort by {sort!r}; choose one of: " + ", ".join(DISCOVER_SORTS)
        )
    query = {
        "author": author or None,
        "search": search or None,
        "pipeline_tag": pipeline_tag or None,
        "library": library or None,
        "sort": sort,
    }
    client = HubClient(token, timeout=timeout)
    if client.offline:
        from .hub import HubOfflineCacheMissError

        raise HubOfflineCacheMissError(
            "discover", "HF_HUB_OFFLINE=1, so the Hub cannot be searched; unset HF_HUB_OFFLINE"
        )
    if not reachable:
        client.check_reachable("discover")
    params: dict[str, Any] = {
        key: value
        for key, value in (
            ("author", author),
            ("search", search),
            ("pipeline_tag", pipeline_tag),
            ("filter", library),
        )
        if value
    }
    params.update(
        {
            "sort": DISCOVER_SORTS[sort],
            "direction": -1,
            "limit": PAGE_SIZE,
            "expand": list(LISTING_FIELDS),
        }
    )
    run = DiscoverRun(query)
    key = query_key(query)
    start_url = None
    done_pages = 0
    if do_import:
        if manager is None:
            raise ValueError("discover_all(do_import=True) needs a manager")
        saved = manager.db.execute(
            "SELECT next_url, pages FROM discover_progress WHERE query_key = ?", [key]
        ).fetchone()
        if saved is not None and saved[0] is not None and not restart:
            start_url, done_pages = saved[0], saved[1]
            run.resumed_at_page = done_pages + 1
        else:
            _start(manager, key, query)
    bar = tqdm(
        desc="discover",
        unit="model",
        file=sys.stderr,
        disable=not (sys.stderr.isatty() if show_progress is None else show_progress),
    )
    try:
        for models, next_url in _pages(client, params, start_url):
            run.pages += 1
            run.found += len(models)
            if keep_rows:
                run.rows.extend(_listing_row(model) for model in models)
            if do_import:
                assert manager is not None
                _import_page(manager, models, run, token, timeout, workers)
                _save(manager, key, next_url, done_pages + run.pages, run)
            bar.update(len(models))
            bar.set_postfix(
                imported=run.imported, updated=run.updated, skipped=run.skipped, failed=run.failed
            )
            if on_page is not None:
                on_page(run)
        run.finished = True
    except HubError as exc:
        # The place after the last finished page is saved: the same call resumes there.
        run.error = str(exc)
    finally:
        bar.close()
    if do_import and manager is not None:
        # As a local bulk import: a run that wrote many models stores its broad searches.
        remember_after_bulk_write(manager.writable(), run.imported + run.updated)
    return run


def _listing_row(model: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_id": model.get("id") or model.get("modelId"),
        "downloads": model.get("downloads"),
        "likes": model.get("likes"),
        "pipeline_tag": model.get("pipeline_tag"),
        "library": model.get("library_name"),
        "created_at": model.get("createdAt"),
        "sha": model.get("sha"),
    }


def _import_page(
    manager: ModelManager,
    models: list[dict[str, Any]],
    run: DiscoverRun,
    token: str | None,
    timeout: float | None,
    workers: int,
) -> None:
    """Import one page's models that are not current: new ids, and Hub models whose stored
    commit differs from the listed one (re-imported; a new version only if the config changed)."""
    listed = {}
    for model in models:
        model_id = model.get("id") or model.get("modelId")
        if isinstance(model_id, str):
            listed[model_id] = model.get("sha")
    stored = _stored_revisions(manager, list(listed))
    new, changed = [], []
    for model_id, sha in listed.items():
        have = stored.get(model_id.lower())
        if have is None:
            new.append(model_id)
        elif have[0] == "huggingface" and sha and have[1] != sha:
            changed.append(model_id)
        else:
            run.skipped += 1
    for ids, force in ((new, False), (changed, True)):
        if not ids:
            continue
        outcomes = import_models_from_hf(
            ids,
            manager=manager,
            force_update=force,
            token=token,
            timeout=timeout,
            workers=workers,
            show_progress=False,
        )
        for outcome in outcomes:
            if outcome.status == "imported":
                run.imported += 1
            elif outcome.status in ("updated", "unchanged"):
                run.updated += 1
            elif outcome.status == "failed":
                run.failed += 1
                run.failures.append(outcome)
            else:
                run.skipped += 1


def _stored_revisions(manager: ModelManager, model_ids: list[str]) -> dict[str, tuple[str, str]]:
    """lower-cased id -> (source, revision sha) for the ids the catalog holds (deleted too)."""
    found: dict[str, tuple[str, str]] = {}
    chunk = 500  # well under SQLite's parameter limit
    for start in range(0, len(model_ids), chunk):
        part = model_ids[start : start + chunk]
        marks = ",".join("?" * len(part))
        for model_id, source, sha in manager.db.execute(
            f"SELECT model_id, source, revision_sha FROM models WHERE model_id IN ({marks})",
            part,
        ):
            found[model_id.lower()] = (source, sha)
    return found


def _start(manager: ModelManager, key: str, query: dict[str, Any]) -> None:
    """A fresh walk: forget any earlier place and counts for this query."""
    now = utc_now()
    with write_transaction(manager.db):
        manager.db.execute("DELETE FROM discover_progress WHERE query_key = ?", [key])
        manager.db.execute(
            "INSERT INTO discover_progress (query_key, query_json, started_at, updated_at) "
            "VALUES (?, ?, ?, ?)",
            [key, json.dumps(query, sort_keys=True), now, now],
        )


def _save(
    manager: ModelManager, key: str, next_url: str | None, pages: int, run: DiscoverRun
) -> None:
    """Record the walk's place (``next_url`` None: finished) and add this page's counts."""
    counts = [run.found, run.imported, run.updated, run.skipped, run.failed]
    delta = [after - before for after, before in zip(counts, run.saved_counts, strict=True)]
    now = utc_now()
    with write_transaction(manager.db):
        manager.db.execute(
            """UPDATE discover_progress SET next_url = ?, pages = ?, found = found + ?,
                   imported = imported + ?, updated = updated + ?, skipped = skipped + ?,
                   failed = failed + ?, updated_at = ?,
                   finished_at = CASE WHEN ? IS NULL THEN ? END
               WHERE query_key = ?""",
            [next_url, pages, *delta, now, next_url, now, key],
        )
    run.saved_counts = counts


__all__ = ["PAGE_SIZE", "DiscoverRun", "HubError", "discover_all", "query_key"]
