"""Facet and row counts of the catalog, and whole-catalog summaries, remembered until the
catalog changes.

Every view of the models page counts the live models per facet value: five scans of every
live model's index entry (a few ms each at 100,000 models, ~100 ms each at a million) for
numbers that change only when the CLI writes. The canned queries in
:data:`WHOLE_CATALOG_QUERIES` summarise every live model (from ``model_shapes``, a few ms). :class:`CatalogDatabase`
is Datasette's ``Database`` with one difference: the results of Datasette's facet and
``count(*)`` queries and of those canned queries are kept, keyed by their SQL and parameters,
until ``PRAGMA data_version`` says another connection committed. The answer is always the one
the query would give now; only the repeat work goes.

:func:`keep_warm` (run by ``genz-catalog serve``) asks for the default models page, those
canned queries and ``search_models`` for the catalog's most common family words and for the
words the most models hold and the broad short prefixes (:func:`broad_words`), and the pairs
of those that the most models hold together (:func:`broad_word_pairs`), at start and
again once the catalog has stopped changing after a write, so the first visitor after a start
or an import does not pay for the scans either. Canned searches are remembered per search (a text's ASCII case and
spaces aside) in the same way.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import sqlite3
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from datasette.database import Database, QueryInterrupted, Results

from ..catalog.remembered_searches import (
    BROAD_PAIR_MODELS,
    BROAD_SEARCH_MODELS,
    broad_pairs,
    broad_searches,
    search_key,
)
from ..db import FACET_SIZE_INDEXES, MODEL_FACET_COLUMNS, MODEL_SHAPE_COLUMNS
from ..memo import remember
from . import DATABASE_NAME
from .functions import fts_query

#: Datasette's facet queries (``select family as value, count(*) as count from (...``) and
#: its table row counts (``select count(*) from models where ...``).
COUNT_SQL = re.compile(
    r"^\s*select (?:\S+ as value, count\(\*\) as count from \(|count\(\*\) from )",
    re.IGNORECASE,
)
#: Datasette's facet count over every live model (the models page with no filter): the column,
#: and the most values it asks for.
WHOLE_FACET_SQL = re.compile(
    r"^\s*select (\w+) as value, count\(\*\) as count from \(\s*"
    r"select [\w, ]+ from models where is_deleted = 0\s*\)\s*"
    r"where \1 is not null\s*group by \1 order by count desc, value limit (\d+)\s*$",
    re.IGNORECASE,
)
#: Datasette's count of every live model.
WHOLE_COUNT_SQL = re.compile(
    r"^\s*select count\(\*\) from models where is_deleted = 0\s*$", re.IGNORECASE
)
#: Datasette's count of the models a filtered or searched page shows: the WHERE clause.
FILTERED_COUNT_SQL = re.compile(
    r"^\s*select count\(\*\) from models where (?P<where>.+?)\s*$", re.IGNORECASE | re.DOTALL
)
#: Datasette's facet count over them: the column, the WHERE clause and the most values.
FILTERED_FACET_SQL = re.compile(
    r"^\s*select (?P<column>\w+) as value, count\(\*\) as count from \(\s*"
    r"select [\w, ]+ from models where (?P<where>.+?)\s*\)\s*"
    r"where (?P=column) is not null\s*group by (?P=column) order by count desc, value "
    r"limit (?P<limit>\d+)\s*$",
    re.IGNORECASE | re.DOTALL,
)
#: Most remembered results (a filtered or searched view adds one per facet).
MAX_ENTRIES = 512
#: Most remembered one-pass summaries of filtered or searched pages (each a few hundred rows at
#: most: one per combination of the facet columns among the page's models).
MAX_SUMMARIES = 8
#: Seconds a summary that ran out of time is remembered as such: long enough for the rest of
#: its page's facets to be reported as timed out at once, short enough that a moment of load
#: does not hide a page's facets until the next write.
TIMED_OUT_TTL_S = 5.0


class _TimedOut:
    """A summary that ran out of time, until ``until`` (``time.monotonic()``)."""

    __slots__ = ("until",)

    def __init__(self, until: float) -> None:
        self.until = until


#: Canned queries (metadata.yml) that summarise every live model: small answers (at most 1,000
#: rows), remembered like the counts. They read ``model_shapes`` (live models counted per
#: architecture, db.py m017), so even the first view after a write is quick.
WHOLE_CATALOG_QUERIES = ("statistics", "attention_kv_savings", "kv_savings_by_model")
#: Largest answer remembered (rows, and bytes of text and BLOBs): a count is one row, a facet
#: ~31, a search 200. Visitor SQL that merely starts like a count (``select count(*) from
#: models union all select zeroblob(8000000) ...``) must not be kept: 512 of those held
#: gigabytes.
MAX_REMEMBERED_ROWS = 1_001
MAX_REMEMBERED_BYTES = 64 * 1024
#: Canned searches whose answers are remembered per search text until the catalog changes:
#: ranking a broad word costs ~200 ms at a million models (every match is ranked), and a
#: popular search is asked again and again.
SEARCH_QUERIES = ("search_models",)
#: Most remembered search answers (200 rows each at most).
MAX_SEARCHES = 128
#: How many of the catalog's most common family words :func:`keep_warm` searches for (``qwen``
#: for qwen2, qwen2_moe and qwen3, ``llama``, ...): the broad searches visitors type first,
#: each ranking up to a few hundred thousand matches at a million models (~300 ms).
WARM_SEARCHES = 6
#: The family words, most models first (a word: a family's leading letters, three or more).
POPULAR_FAMILY_WORDS_SQL = """
SELECT lower(family) AS family, sum(models) AS models FROM model_shapes
 WHERE family IS NOT NULL GROUP BY lower(family) ORDER BY models DESC, family LIMIT 100
"""
_FAMILY_WORD = re.compile(r"[a-z]{3,}")
#: A word of the search index held by at least this many models is searched by
#: :func:`keep_warm` too (``instruct``, ``7b``, ``base``), and so is a short prefix whose words
#: are held ``BROAD_PREFIX_MODELS`` times (``q``, ``in``): ranking costs ~0.8-1.6 us a match on this 2-core machine, so from
#: about here a first search takes 40-80 ms or more.
BROAD_WORD_MODELS = BROAD_SEARCH_MODELS
#: Most such searches (the broadest words first, then prefixes): with :data:`WARM_SEARCHES`
#: they leave most of :data:`MAX_SEARCHES` to visitors' own searches.
MAX_BROAD_WORDS = 48
#: Two of those searches' words that at least this many models hold together are searched by
#: :func:`keep_warm` as well (``instruct v``, ``qwen 7``: a second word being typed), the
#: most held first, at most :data:`MAX_WARM_PAIRS`: a bulk import stores their answers in the
#: file, but a write leaves them to rank (~0.8 us a match, 100 ms or more from ~80,000).
BROAD_PAIR_WORD_MODELS = BROAD_PAIR_MODELS
MAX_WARM_PAIRS = 24
#: What :func:`keep_warm` asks for: the models page as people open it, and the summaries with
#: their default parameters.
WARM_PATHS = (
    f"/{DATABASE_NAME}/models",
    f"/{DATABASE_NAME}/models.json",
    *(f"/{DATABASE_NAME}/{name}.json" for name in WHOLE_CATALOG_QUERIES),
)
#: Seconds with no visitor's query that :func:`warm_searches` waits for before each search: a
#: pass ranks a few million matches at a million models (~3 s of a core), which would otherwise
#: compete with visitors for the CPU right after a start or a write.
WARM_IDLE_S = 0.5
#: Set in the warm-up's own task: its queries are not a visitor's.
_WARMING: contextvars.ContextVar[bool] = contextvars.ContextVar("genz_warming", default=False)
#: Seconds between two looks at ``data_version`` in :func:`keep_warm`.
WARM_POLL_S = 1.0
#: Seconds the catalog must stay unchanged before :func:`keep_warm` recounts: an import commits
#: a batch every fraction of a second, and recounting each one would only compete with it.
WARM_SETTLE_S = 3.0


def whole_catalog_sql(
    metadata: dict[str, Any], names: Iterable[str] = WHOLE_CATALOG_QUERIES
) -> frozenset[str]:
    """The SQL of the canned queries ``names`` (default :data:`WHOLE_CATALOG_QUERIES`) in
    ``metadata``."""
    queries = metadata.get("databases", {}).get(DATABASE_NAME, {}).get("queries", {})
    return frozenset(
        queries[name]["sql"]
        for name in names
        if isinstance(queries.get(name), dict) and "sql" in queries[name]
    )


def _shapes_question(sql: str, params: Any) -> tuple[str, str | None] | None:
    """:func:`from_model_shapes`'s SQL, with the column it counts by (None: the total)."""
    if params:
        return None
    if WHOLE_COUNT_SQL.match(sql):
        return _summary_answer(None, 0), None
    facet = WHOLE_FACET_SQL.match(sql)
    if facet is None or facet.group(1).lower() not in MODEL_SHAPE_COLUMNS:
        return None
    column = facet.group(1).lower()
    return _summary_answer(column, int(facet.group(2))), column


def from_model_shapes(sql: str, params: Any) -> str | None:
    """The same question put to ``model_shapes`` (live models counted per architecture, kept
    exact by triggers: db.py m017), when ``sql`` is Datasette's count of every live model or
    its count of them per value of a column that table holds; else None.

    The unfiltered models page asks these five facet counts and the total on every view; over
    the models themselves they read a million index entries each (the first view after a
    write: ~0.2 s at a million models), over ``model_shapes`` a few thousand rows. Same rows,
    same order (ties by value), same column names.
    """
    question = _shapes_question(sql, params)
    return None if question is None else question[0]


#: The facet columns the models page counts, and what one pass over ``model_shapes`` sums
#: per combination of them (a few hundred rows at a million models): every facet count and the
#: total of the unfiltered page are then answered from those rows, in memory.
PAGE_FACET_COLUMNS = MODEL_FACET_COLUMNS
PAGE_FACETS_SQL = (
    f"SELECT {', '.join(PAGE_FACET_COLUMNS)}, sum(models) AS models FROM model_shapes "
    f"GROUP BY {', '.join(PAGE_FACET_COLUMNS)}"
)


#: Clauses that would make a WHERE text more than a filter (a count with a LIMIT, a compound
#: query): such a count is left to Datasette as it is.
_NOT_A_FILTER = re.compile(
    r"\b(?:limit|order\s+by|group\s+by|having|union|intersect|except|window)\b", re.IGNORECASE
)


def _filtered_question(sql: str) -> tuple[str, str | None, int] | None:
    """(WHERE clause, facet column or None for the row count, most values) of Datasette's
    count or facet query over the models a filtered or searched page shows, when the column
    is one of :data:`PAGE_FACET_COLUMNS`; else None. A clause holding a comment, a ``;`` or
    more than a filter (hand-written ``_where`` SQL) is left to Datasette: its text is not
    parsed here."""
    facet = FILTERED_FACET_SQL.match(sql)
    if facet is not None:
        where, column, limit = facet.group("where"), facet.group("column").lower(), facet["limit"]
        if column not in PAGE_FACET_COLUMNS:
            return None
    else:
        count = FILTERED_COUNT_SQL.match(sql)
        if count is None:
            return None
        where, column, limit = count.group("where"), None, "0"
    if any(mark in where for mark in (";", "--", "/*")) or _NOT_A_FILTER.search(where):
        return None
    return where, column, int(limit)


#: The keyset clause Datasette adds for a later page in size order.
_KEYSET = re.compile(
    r"\(parameter_count < :p\d+ or parameter_count is null or "
    r"\(parameter_count = :p\d+ and \(\(model_id > :p\d+\)\)\)\)"
)
#: One term of a page's filter that says a column equals a value: Datasette's ``"column" = :p0``.
_EQUALS_TERM = re.compile(r'"(\w+)" = :(p\d+)')
_LIVE_TERM = "is_deleted = 0"


def _equality_terms(where: str) -> list[tuple[str, str]] | None:
    """(column, parameter) of every term of ``where`` (a page's WHERE clause, the keyset clause
    of a later page left aside) when it is live models (``is_deleted = 0``) with columns equal
    to parameters and nothing else; else None. Columns are lower-cased."""
    # A later page's WHERE ends "... and <keyset>": without it, a trailing "and".
    terms = re.split(r"\s+and(?=\s|$)", _KEYSET.sub("", where).strip(), flags=re.IGNORECASE)
    terms = [term.strip() for term in terms if term.strip()]
    if _LIVE_TERM not in terms:
        return None
    found = []
    for term in terms:
        if term == _LIVE_TERM:
            continue
        match = _EQUALS_TERM.fullmatch(term)
        if match is None:
            return None
        found.append((match.group(1).lower(), match.group(2)))
    return found


def shapes_where(where: str) -> str | None:
    """The same filter over ``model_shapes``, when ``where`` (a page's WHERE clause) is live
    models (``is_deleted = 0``) with columns of that table equal to parameters, and nothing
    else; else None. ``model_shapes`` declares those columns as ``models`` does, so ``=``
    compares alike (a ``'1'`` from the URL matches the integer 1 in both)."""
    terms = _equality_terms(where)
    if terms is None or any(column not in MODEL_SHAPE_COLUMNS for column, _ in terms):
        return None
    return " and ".join(f"{column} = :{name}" for column, name in terms) or "1"


#: The term Datasette adds to a page's WHERE clause for its search box (``_search``; the text
#: goes unescaped with ``_searchmode=raw``): its subquery of matching rowids.
_SEARCH_TERM = re.compile(
    r"\browid in (?P<matches>\(select rowid from models_fts where models_fts match "
    r"(?:escape_fts\(:search\)|:search)\))",
    re.IGNORECASE,
)


def searched_facets_question(where: str) -> str | None:
    """A searched page's one-pass summary from ``model_facets`` (m026), when ``where`` is live
    models matching the search box, with facet columns equal to parameters and nothing else;
    else None. Its rows have the shape of the summary over ``models``: the facet columns and
    the number of matching live models with those values.

    The matches are counted per facet key (a small integer) and only the keys are read, not
    each match's models row (a broad word at a million models: 250-360 -> 50-120 ms).
    """
    search = _SEARCH_TERM.search(where)
    if search is None:
        return None
    terms = _equality_terms(where[: search.start()] + where[search.end() :])
    if terms is None or any(column not in PAGE_FACET_COLUMNS for column, _ in terms):
        return None
    keys = ", ".join(f"k.{column}" for column in PAGE_FACET_COLUMNS)
    filters = "".join(f" and k.{column} = :{name}" for column, name in terms)
    return (
        f"select {keys}, s.n from (select f.facet_key, count(*) as n "
        f"from {search['matches']} m join model_facets f on f.model_rowid = m.rowid "
        f"group by f.facet_key) s join model_facet_keys k on k.id = s.facet_key where 1{filters}"
    )


#: A models page's rows, first page or later (Datasette's SQL): how it starts and ends, matched
#: apart so that no pattern backtracks over a visitor's SQL (a single ``.+ order by .+``
#: took ~50 ms over 16 KB written to defeat it).
_ROWS_HEAD = re.compile(r"\s*select [\w, ]+ from models where ", re.IGNORECASE)
_ROWS_TAIL = re.compile(r" limit \d+\s*$", re.IGNORECASE)
#: A search is broad when more than one model in this many matches it: its page then walks
#: the order's index until it has its rows instead of reading and sorting every match.
BROAD_SEARCH_SHARE = 20


def _searched_by_order(sql: str) -> tuple[str, str] | None:
    """``sql`` (a searched page's rows) with the search kept off the rowid lookup, so that
    SQLite walks the index of the page's order and checks each model against the matches, and
    the subquery of those matches; None when it is not such a query. Same rows, another plan
    (``+rowid`` is the same value, but no index serves it)."""
    if not _ROWS_HEAD.match(sql) or COUNT_SQL.match(sql):
        return None
    tail = _ROWS_TAIL.search(sql)
    if tail is None or " order by " not in sql[: tail.start()].lower():
        return None
    search = _SEARCH_TERM.search(sql)
    if search is None:
        return None
    return sql[: search.start()] + "+" + sql[search.start() :], search["matches"]


def _walks_an_index(plan: Iterable[Any]) -> bool:
    """Whether an EXPLAIN QUERY PLAN answer reads the models through an index in the page's
    order: no sort of its own, no scan of the whole table."""
    details = [str(row[3]) for row in plan]
    return not any("TEMP B-TREE" in detail for detail in details) and any(
        re.match(r"(?:SCAN|SEARCH) models USING (?:COVERING )?INDEX ", detail) for detail in details
    )


def _summary_answer(column: str | None, limit: int) -> str:
    """The SQL that answers a facet count (or, for None, the row count) from ``model_shapes``
    or a summary shaped like it."""
    if column is None:
        return 'select coalesce(sum(models), 0) as "count(*)" from model_shapes'
    return (
        f"select {column} as value, sum(models) as count from model_shapes "
        f"where {column} is not null group by {column} order by count desc, value limit {limit}"
    )


def _summary_connection(rows: Iterable[tuple]) -> sqlite3.Connection:
    """An in-memory ``model_shapes`` holding ``rows`` (:data:`PAGE_FACETS_SQL`'s answer)."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"CREATE TABLE model_shapes ({', '.join(PAGE_FACET_COLUMNS)}, models)")
    conn.executemany(
        f"INSERT INTO model_shapes VALUES ({', '.join('?' * (len(PAGE_FACET_COLUMNS) + 1))})",
        [tuple(row) for row in rows],
    )
    return conn


def _small_enough(result: Any) -> bool:
    """Whether ``result`` (Datasette's Results) is small enough to remember."""
    rows = getattr(result, "rows", None)
    if rows is None or len(rows) > MAX_REMEMBERED_ROWS:
        return False
    size = 0
    for row in rows:
        for value in row:
            if isinstance(value, (str, bytes)):
                size += len(value)
                if size > MAX_REMEMBERED_BYTES:
                    return False
    return True


class CatalogDatabase(Database):
    """A Datasette database that answers repeated count queries from memory while unchanged."""

    def __init__(
        self,
        *args: Any,
        remembered_sql: Iterable[str] = (),
        searched_sql: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        #: Canned query SQL whose results are remembered like the counts.
        self.remembered_sql = frozenset(remembered_sql)
        #: Canned search SQL whose answers are remembered per search (:data:`MAX_SEARCHES`).
        self.searched_sql = frozenset(searched_sql)
        self._searches: OrderedDict[tuple[str, tuple], Any] = OrderedDict()
        self._counts: OrderedDict[tuple[str, tuple[tuple[str, Any], ...]], Any] = OrderedDict()
        self._counts_version: int | None = None
        #: (data_version, in-memory connection) of :data:`PAGE_FACETS_SQL`'s answer.
        self._page_facets: tuple[int, sqlite3.Connection] | None = None
        #: The same summary for filtered and searched pages, by WHERE clause and parameters
        #: (all of one catalog version: cleared with the remembered counts).
        self._summaries: OrderedDict[tuple[str, tuple], Any] = OrderedDict()
        self._version_lock = threading.Lock()
        self._version_conn: sqlite3.Connection | None = None
        #: ``time.monotonic()`` of the latest query not asked by the warm-up (0: none yet).
        self.last_visitor_query = 0.0

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
        """Datasette's ``execute``; count queries (and :attr:`remembered_sql`) are remembered
        until the catalog changes, and a first page in one column's order breaks ties by id
        (:func:`_ties_by_id`)."""
        if not _WARMING.get():
            self.last_visitor_query = time.monotonic()
        sql = _family_index_first(_ties_by_id(sql))
        by_order = _searched_by_order(sql)
        if by_order is not None:
            sql = await self._searched_rows_plan(sql, *by_order, params)
        searched = sql in self.searched_sql
        if not searched and sql not in self.remembered_sql and not COUNT_SQL.match(sql):
            return await super().execute(sql, params, *args, **kwargs)
        asked = _search_params(sql, params) if searched else (params or {})
        try:
            key = (sql, tuple(sorted(asked.items())))
        except TypeError:  # unorderable parameters: not worth remembering
            return await super().execute(sql, params, *args, **kwargs)
        version = self.data_version()
        if version != self._counts_version:
            self._forget_answers()
            self._counts_version = version
        memory, most = (self._searches, MAX_SEARCHES) if searched else (self._counts, MAX_ENTRIES)
        if key in memory:
            memory.move_to_end(key)
            return memory[key]
        if searched:
            result = await super().execute(sql, params, *args, **kwargs)
        else:
            result = await self._execute_counted(sql, params, *args, **kwargs)
        # A commit during the query may or may not be in its answer: keep only answers that
        # certainly belong to the version they are filed under.
        if self.data_version() == version and _small_enough(result):
            remember(memory, key, result, most)
        return result

    async def _searched_rows_plan(self, sql: str, by_order: str, matches: str, params: Any) -> str:
        """``by_order`` (:func:`_searched_by_order`, with ``matches`` its search's subquery)
        for a broad search whose page order has an index, else ``sql``.

        SQLite looks every match up by rowid, reads its row and sorts them all: ~1.3 us a
        match, 125-175 ms for one broad word at a million models. Walking the order's index and
        checking each entry against the matches stops once the page is full (~25 ms), but for
        a narrow search it would walk the whole index (~70 ms) to find a handful: so only when
        more than one model in :data:`BROAD_SEARCH_SHARE` matches (its count costs ~4 ms)."""
        try:
            counted = await super().execute(f"select count(*) from {matches}", params)
            models = await super().execute("select max(rowid) from models")
            matches, most = counted.rows[0][0], models.rows[0][0] or 0
            if matches * BROAD_SEARCH_SHARE <= most:
                return sql
            plan = await super().execute(f"explain query plan {by_order}", params)
        except (sqlite3.Error, QueryInterrupted):
            return sql
        return by_order if _walks_an_index(plan.rows) else sql

    async def _execute_counted(self, sql: str, params: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a count: from ``model_shapes`` when it can answer (:func:`from_model_shapes`);
        a file older than that table answers from the models."""
        question = _shapes_question(sql, params)
        if question is not None:
            shapes_sql, column = question
            try:
                if column is None or column in PAGE_FACET_COLUMNS:
                    return await self._from_page_facets(shapes_sql)
                return await super().execute(shapes_sql, None, *args, **kwargs)
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
        filtered = _filtered_question(sql)
        if filtered is not None:
            where, column, limit = filtered
            try:
                summary = await self._filtered_summary(where, params, *args, **kwargs)
            except QueryInterrupted:
                if column is None:  # the row count alone, as Datasette would have asked it
                    return await super().execute(sql, params, *args, **kwargs)
                raise
            return _results(summary, _summary_answer(column, limit))
        return await super().execute(sql, params, *args, **kwargs)

    async def _filtered_summary(
        self, where: str, params: Any, *args: Any, **kwargs: Any
    ) -> sqlite3.Connection:
        """Live models under ``where`` counted per combination of the facet columns, in one
        pass: a filtered or searched page asks its row count and five facet counts over the
        same models, six passes over every match (a broad search at a million models: ~150 ms
        each). The first of them (the row count, under its time limit) reads the models once;
        the others are answered from this summary, in memory."""
        key = (where, tuple(sorted((params or {}).items())))
        summary = self._summaries.get(key)
        if isinstance(summary, _TimedOut):
            if time.monotonic() < summary.until:
                # The pass just ran out of time for this page: each facet would too.
                raise QueryInterrupted(None, where, params)
            summary = None
        if summary is not None:
            self._summaries.move_to_end(key)
            return summary
        columns = ", ".join(PAGE_FACET_COLUMNS)
        over_models = f"select {columns}, count(*) from models where {where} group by {columns}"
        shapes = shapes_where(where)
        if shapes is not None:
            # Filters on model_shapes' own columns: a few hundred rows, not the models.
            question = (
                f"select {columns}, sum(models) from model_shapes where {shapes} group by {columns}"
            )
        else:
            question = searched_facets_question(where) or over_models
        version = self.data_version()
        try:
            try:
                rows = await super().execute(question, params, *args, **kwargs)
            except sqlite3.OperationalError as exc:
                # A file older than the table (m017, m026), served read-only: from the models.
                if question == over_models or "no such table" not in str(exc):
                    raise
                rows = await super().execute(over_models, params, *args, **kwargs)
        except QueryInterrupted:
            if self.data_version() == version:
                deadline = _TimedOut(time.monotonic() + TIMED_OUT_TTL_S)
                remember(self._summaries, key, deadline, MAX_SUMMARIES)
            raise
        summary = _summary_connection(rows.rows)
        if self.data_version() == version:
            remember(self._summaries, key, summary, MAX_SUMMARIES)
        return summary

    def _forget_answers(self) -> None:
        """Drop the answers that belong to one catalog version."""
        self._counts.clear()
        self._summaries.clear()
        self._searches.clear()

    def forget(self) -> None:
        """Drop every remembered answer, as a commit by another connection would."""
        self._forget_answers()
        self._page_facets = None

    async def _from_page_facets(self, shapes_sql: str) -> Results:
        """Answer ``shapes_sql`` (a count over :data:`PAGE_FACET_COLUMNS` of model_shapes) from
        the page's facet summary, read once per catalog version."""
        version = self.data_version()
        if self._page_facets is None or self._page_facets[0] != version:
            summary = await super().execute(PAGE_FACETS_SQL)
            conn = _summary_connection(summary.rows)
            # A commit during the read: use the rows, but do not keep them for that version.
            if self.data_version() != version:
                return _results(conn, shapes_sql)
            self._page_facets = (version, conn)
        return _results(self._page_facets[1], shapes_sql)


#: A models page's filter on a family and on another facet value (Datasette's SQL).
_FAMILY_AND_FACET_SQL = re.compile(
    r'^\s*select [\w, ]+ from models where .*"family" = :p\d+', re.IGNORECASE | re.DOTALL
)
#: Facet terms a page with a family reads through the family's index instead of their own.
_BROAD_FACET_TERM = re.compile(r'"(' + "|".join(FACET_SIZE_INDEXES.values()) + r')" = (:p\d+)')


#: Declared types of the facet columns :func:`_family_index_first` rewrites (TEXT if not here).
_FACET_COLUMN_TYPES = {"is_moe": "INTEGER"}


def _family_index_first(sql: str) -> str:
    """``sql`` (a models page filtered on a family and other facet values) with the other
    terms kept off their indexes, which changes the plan, not the answer.

    Every facet index holds the size (m023), so for ``family=llama&attention_type=gqa`` SQLite
    may walk all GQA models largest first looking for Llamas (445 ms at a million models). A
    family is nearly always the narrower value: its index (family, size) gives the page at once.
    A term is written ``CAST("column" AS its type) = :p``: an expression, so no index serves it,
    with the column's own affinity and collation, so the URL's text ``'1'`` still equals
    ``is_moe`` 1 (``+"is_moe"`` has no affinity, and matched nothing).
    """
    if not _FAMILY_AND_FACET_SQL.match(sql):
        return sql

    def kept_off(match: re.Match) -> str:
        column, parameter = match[1], match[2]
        return f'CAST("{column}" AS {_FACET_COLUMN_TYPES.get(column, "TEXT")}) = {parameter}'

    return _BROAD_FACET_TERM.sub(kept_off, sql)


#: Datasette's first page of a models table view in one column's order: no tie-break.
_FIRST_PAGE_SQL = re.compile(
    r'^(?P<head>\s*select [\w, ]+ from models where .+? order by (?P<column>"?\w+"?)(?: desc)?)'
    r"(?P<tail> limit \d+\s*)$",
    re.IGNORECASE | re.DOTALL,
)


def _ties_by_id(sql: str) -> str:
    """``sql`` (Datasette's first page of the models table in one column's order) with the
    models that tie on that column in id order. Datasette asks the first page for the column
    alone and each next one for the rows after its last by (column, id): when the first page
    came through a facet's index, its ties were in import order, so the next page repeated
    some models and skipped others (at a million models, 3 of the first 300 MoE models)."""
    match = _FIRST_PAGE_SQL.match(sql)
    if match is None or match["column"].strip('"').lower() == "model_id":
        return sql
    return match["head"] + ", model_id" + match["tail"]


def _results(conn: sqlite3.Connection, sql: str) -> Results:
    cursor = conn.execute(sql)
    return Results(cursor.fetchall(), False, cursor.description)


def _search_params(sql: str, params: Any) -> dict[str, Any]:
    """A canned search's parameters as its answer depends on them: when ``sql`` reads ``:q``
    only through ``genz_fts_query(:q)``, ``q`` is the FTS5 query it gives, ASCII lower-cased
    (the index folds case), so ``Qwen``, ``qwen`` and `` QWEN`` share one remembered answer."""
    if not isinstance(params, dict):
        return params or {}
    params = dict(params)
    text = params.get("q")
    if isinstance(text, str) and sql.count(":q") == sql.count("genz_fts_query(:q)"):
        params["q"] = search_key(text) or fts_query(text)
    return params


def popular_family_words(
    families: Iterable[tuple[str, int]], limit: int = WARM_SEARCHES
) -> list[str]:
    """The first ``limit`` distinct family words of ``families`` (``(family, models)``, most
    models first): a family's leading letters, three or more (``qwen2_moe`` -> ``qwen``)."""
    words: list[str] = []
    for family, _ in families:
        word = _FAMILY_WORD.match(family or "")
        if word and word.group() not in words:
            words.append(word.group())
            if len(words) == limit:
                break
    return words


def broad_words(
    conn: sqlite3.Connection, models: int | None = None, limit: int | None = None
) -> list[str]:
    """The searches whose first ranking is slow: the words of the search index that at least
    ``models`` models hold (default :data:`BROAD_WORD_MODELS`), the most held first, then the
    prefixes of up to three characters whose words are held as many times in all, the most
    held first; at most ``limit`` (default :data:`MAX_BROAD_WORDS`). Deleted models' entries
    count too (the index keeps them until they are purged). A warm-up costs only the time
    visitors leave, so it takes prefixes from the words' line, lower than the one for storing
    answers in the file (``BROAD_PREFIX_MODELS``)."""
    models = BROAD_WORD_MODELS if models is None else models
    return broad_searches(
        conn,
        models=models,
        prefix_models=models,
        limit=MAX_BROAD_WORDS if limit is None else limit,
    )


def broad_word_pairs(
    conn: sqlite3.Connection, models: int | None = None, limit: int | None = None
) -> list[str]:
    """The two-word searches whose first ranking is slow: pairs of :func:`broad_words` that
    at least ``models`` models (default :data:`BROAD_PAIR_WORD_MODELS`) hold both words of,
    the most first, at most ``limit`` (default :data:`MAX_WARM_PAIRS`). Reads each broad
    word's matches once (~3.7 s at a million Hub-like models, none below ``models``)."""
    models = BROAD_PAIR_WORD_MODELS if models is None else models
    words = broad_words(conn, models=min(models, BROAD_WORD_MODELS))
    return list(broad_pairs(conn, words, models=models, limit=limit or MAX_WARM_PAIRS))


async def warm_searches(datasette: Any, database: Any, idle_s: float | None = None) -> None:
    """Search for the catalog's most common family words and for the words of the search
    index that the most models hold, so a visitor's first broad search is answered from
    memory. Each search waits until no visitor has queried for ``idle_s`` seconds (default
    :data:`WARM_IDLE_S`): the warm-up uses the time visitors leave, and a server that is never
    idle ranks these words only when a visitor asks."""
    quiet_s = WARM_IDLE_S if idle_s is None else idle_s
    token = _WARMING.set(True)
    try:
        try:
            families = (await database.execute(POPULAR_FAMILY_WORDS_SQL)).rows
        except Exception:  # noqa: BLE001 - a file without model_shapes: no family words
            families = []
        words = popular_family_words((row[0], row[1]) for row in families)
        try:
            broad = await database.execute_fn(broad_words)
            await _wait_for_idle(database, quiet_s)
            broad += await database.execute_fn(broad_word_pairs)
        except Exception:  # noqa: BLE001 - a file without the search index: nothing broad
            broad = []
        for word in words + [word for word in broad if word not in words]:
            await _wait_for_idle(database, quiet_s)
            try:
                await datasette.client.get(
                    f"/{DATABASE_NAME}/search_models.json?q={urllib.parse.quote(word)}"
                )
            except Exception:  # noqa: BLE001 - a warm-up must never stop the server
                pass
    finally:
        _WARMING.reset(token)


async def _wait_for_idle(database: Any, idle_s: float) -> None:
    """Return once ``database`` has seen no visitor's query for ``idle_s`` seconds."""
    while True:
        quiet = time.monotonic() - getattr(database, "last_visitor_query", 0.0)
        if quiet >= idle_s:
            return
        await asyncio.sleep(idle_s - quiet)


async def keep_warm(
    datasette: Any,
    paths: Iterable[str] = WARM_PATHS,
    *,
    poll_s: float = WARM_POLL_S,
    settle_s: float = WARM_SETTLE_S,
    searches: bool = True,
) -> None:
    """Ask for ``paths`` now, and again each time the catalog has changed and then stayed
    unchanged for ``settle_s`` seconds, so their counts are remembered before anyone asks;
    with ``searches``, also ``search_models`` for the :data:`WARM_SEARCHES` most common family
    words, for the broad words and short prefixes of the search index
    (:func:`broad_words`) and for their broadest pairs (:func:`broad_word_pairs`), each when
    visitors leave time for it (:data:`WARM_IDLE_S`). Runs until cancelled; a request that
    fails is skipped (the next change tries again)."""
    _WARMING.set(True)  # this task's own context: its requests are not a visitor's
    database = datasette.get_database(DATABASE_NAME)
    warmed: int | None = None
    seen: int | None = None
    seen_at = 0.0
    while True:
        version = database.data_version()
        now = time.monotonic()
        if version != seen:
            seen, seen_at = version, now
        if version != warmed and (warmed is None or now - seen_at >= settle_s):
            for path in paths:
                try:
                    await datasette.client.get(path)
                except Exception:  # noqa: BLE001 - a warm-up must never stop the server
                    pass
            if searches:
                await warm_searches(datasette, database)
            warmed = version
        await asyncio.sleep(poll_s)
