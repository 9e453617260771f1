"""Facet and row counts of the catalog, remembered until the catalog changes.

Every view of the models page counts the live models per facet value: five scans of 100,000
index entries (a few ms each on a quiet machine, tens of ms on a busy one) for numbers that
change only when the CLI writes. :class:`CatalogDatabase` is Datasette's ``Database`` with one
difference: the results of Datasette's facet and ``count(*)`` queries are kept, keyed by their
SQL and parameters, until ``PRAGMA data_version`` says another connection committed. The answer
is always the one the query would give now; only the repeat work goes.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import OrderedDict
from typing import Any

from datasette.database import Database

#: Datasette's facet queries (``select family as value, count(*) as count from (...``) and
#: its table row counts (``select count(*) from models where ...``).
COUNT_SQL = re.compile(
    r"^\s*select (?:\S+ as value, count\(\*\) as count from \(|count\(\*\) from )",
    re.IGNORECASE,
)
#: Most remembered results (a filtered or searched view adds one per facet).
MAX_ENTRIES = 512


class CatalogDatabase(Database):
    """A Datasette database that answers repeated count queries from memory while unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counts: OrderedDict[tuple[str, tuple[tuple[str, Any], ...]], Any] = OrderedDict()
        self._counts_version: int | None = None
        self._version_lock = threading.Lock()
        self._version_conn: sqlite3.Connection | None = None

    def data_version(self) -> int:
        """A number that changes whenever another connection (the CLI) commits to the file.

        Read on a connection of its own: ``PRAGMA data_version`` compares against that
        connection's previous reading, so it must always be the same connection. An immutable
        file never changes (0).
        """
        if not self.is_mutable:
            return 0
        with self._version_lock:
            if self._version_conn is None:
                self._version_conn = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
                )
            return self._version_conn.execute("PRAGMA data_version").fetchone()[0]

    async def execute(self, sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Datasette's ``execute``; count queries are remembered until the catalog changes."""
        if not COUNT_SQL.match(sql):
            return await super().execute(sql, params, *args, **kwargs)
        try:
            key = (sql, tuple(sorted((params or {}).items())))
        except TypeError:  # unorderable parameters: not worth remembering
            return await super().execute(sql, params, *args, **kwargs)
        version = self.data_version()
        if version != self._counts_version:
            self._counts.clear()
            self._counts_version = version
        if key in self._counts:
            self._counts.move_to_end(key)
            return self._counts[key]
        result = await super().execute(sql, params, *args, **kwargs)
        # A commit during the query may or may not be in its answer: keep only answers that
        # certainly belong to the version they are filed under.
        if self.data_version() == version:
            self._counts[key] = result
            while len(self._counts) > MAX_ENTRIES:
                self._counts.popitem(last=False)
        return result
