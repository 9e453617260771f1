"""Build the Datasette instance that serves a catalog file read-only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datasette.app import Datasette
from datasette.utils import parse_metadata

from . import DATABASE_NAME, METADATA_PATH, PLUGINS_DIR, TEMPLATES_DIR
from .counts_cache import SEARCH_QUERIES, CatalogDatabase, whole_catalog_sql

#: Longest a query may run before Datasette cancels it (milliseconds).
SQL_TIME_LIMIT_MS = 2000
#: Settings ``genz-catalog serve`` starts from; ``--setting NAME VALUE`` overrides any of them.
DEFAULT_SETTINGS: dict[str, Any] = {
    "sql_time_limit_ms": SQL_TIME_LIMIT_MS,
    "facet_time_limit_ms": 500,
    "max_returned_rows": 1000,
    "default_allow_sql": True,
    # Suggested facets try every column of every page view (5 s at 100k models); the models
    # table names the facets that help in metadata.yml instead.
    "suggest_facets": False,
}


def load_metadata() -> dict[str, Any]:
    """The packaged ``metadata.yml`` as a dict."""
    return parse_metadata(METADATA_PATH.read_text(encoding="utf-8"))


def build_datasette(
    db_path: str | os.PathLike[str],
    *,
    settings: Mapping[str, Any] | None = None,
    immutable: bool = False,
) -> Datasette:
    """A Datasette serving ``db_path`` read-only as ``/catalog``, with metadata and plugins.

    The file is opened by Datasette's read connections (``mode=ro``); no canned query writes and
    no plugin writes. By default it stays a *mutable* database so models the CLI adds while the
    server runs show up without a restart. ``immutable=True`` is for a published copy that never
    changes (``genz-catalog backup``): SQLite opens it with ``immutable=1``, without locks, and
    Datasette caches its row counts. The database is always named ``catalog``, whatever the
    file is called, so URLs and the metadata's table settings stay the same. Facet and row
    counts, and the canned queries that summarise the whole catalog, are remembered until the
    file changes (:mod:`.counts_cache`).
    """
    combined = {**DEFAULT_SETTINGS, **(settings or {})}
    metadata = load_metadata()
    datasette = Datasette(
        [],
        metadata=metadata,
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR),
        settings=combined,
    )
    # With no files Datasette adds an in-memory database; the catalog is all we serve.
    if "_memory" in datasette.databases:
        datasette.remove_database("_memory")
    path = Path(db_path).resolve()
    datasette.add_database(
        CatalogDatabase(
            datasette,
            path=str(path),
            is_mutable=not immutable,
            remembered_sql=whole_catalog_sql(metadata),
            searched_sql=whole_catalog_sql(metadata, SEARCH_QUERIES),
        ),
        name=DATABASE_NAME,
        route=DATABASE_NAME,
    )
    return datasette
