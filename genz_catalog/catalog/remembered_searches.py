"""Answers of the catalog's broadest searches, ranked once and kept in the catalog file.

``search_models`` ranks every model that holds a search's words (FTS5's bm25, ~0.8 us a match
on this 2-core machine): one broad word (``qwen``, ``instruct``, ``7b``) is 130-150 ms at a
million Hub-like models, a one-letter search up to a second. A server remembers answers once
asked (:mod:`genz_catalog.datasette.counts_cache`), but its first visitors, and every process
that reads the file, would pay that again. So a bulk import, ``load`` and a published copy
(``backup --publish``) rank the broad searches once and store their answers in
``remembered_searches``; the ``search_models`` canned query and
:func:`genz_catalog.catalog.reads.search_models` read a stored answer when there is one.

A stored answer is only used at the ``search_state.generation`` it was ranked at. Triggers on
``models`` (db.py m027) move the generation on with every insert and delete and every change
of a model's search words or liveness, so after any such write the stored answers are ignored
(searches rank again, as before) until the next bulk write stores new ones. The answer read is
therefore always the ranking's own answer. A migration that changes what the search index
holds or how it splits words must move the generation on too.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

from ..db import escape_fts_query, write_transaction
from ..errors import CatalogError

#: Rows stored per search: the canned query's limit.
REMEMBERED_ROWS = 200
#: A search is remembered when at least this many models hold its words (for a word of the
#: index) or one of them (for a one-letter prefix): from about here a first search ranks for
#: 40-80 ms or more, so smaller ones are left to rank when asked.
BROAD_SEARCH_MODELS = 50_000
#: Models a bulk write (an import, a load) must have written before it ranks and stores the broad
#: searches: a daily top-up of a few models into a big catalog should not pay seconds for it.
REMEMBER_AFTER_MODELS = 10_000
#: Most searches remembered, the broadest first.
MAX_REMEMBERED_SEARCHES = 64
#: The letters and digits whose one-letter prefix searches are considered (a visitor who types
#: ``q`` ranks every ``qwen*`` model and more).
_ONE_LETTER = "abcdefghijklmnopqrstuvwxyz0123456789"
#: The search index's words with the number of models holding each, through a read-only
#: ``fts5vocab`` table in the connection's temporary schema (nothing is written to the file; it
#: reads the whole index once: ~0.25 s at a million models).
VOCABULARY_SQL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.genz_search_words "
    "USING fts5vocab(main, 'models_fts', 'row')"
)
#: Upper-case ASCII -> lower-case: the one case folding FTS5's unicode61 tokenizer, SQLite's
#: ``lower()`` and Python certainly agree on.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
#: The ranking the canned query does: best first, equally good ones in import order, deleted
#: models left out.
_RANK_SQL = """
SELECT rowid FROM models_fts
WHERE models_fts MATCH ?
  AND rowid NOT IN (SELECT rowid FROM models WHERE is_deleted = 1)
ORDER BY rank, rowid
LIMIT ?
"""
#: The models of a stored answer (``search_key``, limit), best first, when it was ranked at the
#: current generation: as the live search reads them, only the rows wanted.
STORED_MODELS_SQL = """
SELECT m.* FROM remembered_searches r JOIN models m ON m.rowid = r.model_rowid
WHERE r.query = ? AND r.generation = (SELECT generation FROM search_state)
ORDER BY r.position
LIMIT ?
"""


def search_key(text: str) -> str:
    """The stored key of a free-text search: its FTS5 query (:func:`escape_fts_query`), ASCII
    lower-cased as the canned query's ``lower(genz_fts_query(:q))`` makes it."""
    return escape_fts_query(text).translate(_ASCII_LOWER)


def broad_searches(
    conn: sqlite3.Connection,
    *,
    letters: bool = True,
    models: int | None = None,
    limit: int | None = None,
) -> list[str]:
    """The searches worth remembering, broadest first, at most ``limit`` (default
    :data:`MAX_REMEMBERED_SEARCHES`): the index's words that at least ``models`` (default
    :data:`BROAD_SEARCH_MODELS`) models hold, then (with ``letters``) the one-letter prefixes of
    those words, the prefix of the most held word first. Deleted models' entries count too (the
    index keeps them until they are purged)."""
    models = BROAD_SEARCH_MODELS if models is None else models
    limit = MAX_REMEMBERED_SEARCHES if limit is None else limit
    conn.execute(VOCABULARY_SQL)
    words = [
        row[0]
        for row in conn.execute(
            "SELECT term FROM temp.genz_search_words WHERE doc >= ? ORDER BY doc DESC, term",
            (models,),
        )
    ]
    # A prefix is held by at least as many models as its most held word: the broad words'
    # first characters, in the order of their first broad word.
    prefixes = dict.fromkeys(word[0] for word in words if word[0] in _ONE_LETTER)
    searches = words + [letter for letter in prefixes if letters and letter not in words]
    return searches[:limit]


def remember_searches(
    db: sqlite_utils.Database, texts: list[str] | None = None, *, letters: bool = True
) -> int:
    """Rank the searches ``texts`` (default :func:`broad_searches` with ``letters``: 9-11 s at
    a million Hub-like models, ~4 s without the one-letter ones) and store their answers,
    replacing every stored answer. Returns the number of searches stored: 0 when another writer
    changed the models while they were ranked (the answers would already be out of date), or
    the file has no place for them (not migrated).

    The ranking reads one snapshot without holding the write lock;
    only the store is a write transaction, so other writers wait for milliseconds at most.
    """
    conn = db.conn
    if conn.in_transaction:
        raise CatalogError("remember_searches needs a connection outside a transaction")
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_state'").fetchone():
        return 0  # a file from before m027 (a read-only source's copy): nothing to keep it in
    conn.execute("BEGIN")
    try:
        generation = conn.execute("SELECT generation FROM search_state").fetchone()[0]
        if texts is None:
            texts = broad_searches(conn, letters=letters)
        keys = list(dict.fromkeys(key for key in map(search_key, texts) if key))
        answers = [
            (key, [row[0] for row in conn.execute(_RANK_SQL, (key, REMEMBERED_ROWS))])
            for key in keys
        ]
    finally:
        conn.execute("COMMIT")
    with write_transaction(db):
        if conn.execute("SELECT generation FROM search_state").fetchone()[0] != generation:
            return 0
        conn.execute("DELETE FROM remembered_searches")
        conn.executemany(
            "INSERT INTO remembered_searches (query, position, model_rowid, generation) "
            "VALUES (?, ?, ?, ?)",
            [
                (key, position, rowid, generation)
                for key, rowids in answers
                for position, rowid in enumerate(rowids, 1)
            ],
        )
    return len(keys)


def remember_after_bulk_write(db: sqlite_utils.Database, models_written: int) -> int:
    """After a write of ``models_written`` models: store the broad searches' answers (9-11 s at
    a million Hub-like models) when it wrote at least :data:`REMEMBER_AFTER_MODELS`; smaller
    writes leave the searches to rank when asked (the answers stored before them are no longer
    used). Returns the searches stored."""
    if models_written < REMEMBER_AFTER_MODELS or db.conn.in_transaction:
        return 0  # a caller's open transaction is its own to commit; nothing is stored
    return remember_searches(db)


def wrong_answers(conn: sqlite3.Connection) -> list[str]:
    """The searches stored at the current generation whose answer is not what ranking them
    gives now (``doctor``): none, unless models were written with the triggers bypassed or the
    index was changed behind them. Ranks every stored search (seconds at a million models)."""
    return [
        query
        for query, rowids in stored_answers(conn).items()
        if rowids != [row[0] for row in conn.execute(_RANK_SQL, (query, REMEMBERED_ROWS))]
    ]


def stored_answers(conn: sqlite3.Connection) -> dict[str, list[int]]:
    """Every answer stored at the current generation: search key -> model rowids, best first."""
    stored: dict[str, list[int]] = {}
    for query, rowid in conn.execute(
        "SELECT query, model_rowid FROM remembered_searches "
        "WHERE generation = (SELECT generation FROM search_state) ORDER BY query, position"
    ):
        stored.setdefault(query, []).append(rowid)
    return stored
