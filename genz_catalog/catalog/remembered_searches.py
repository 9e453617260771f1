"""Answers of the catalog's broadest searches, ranked once and kept in the catalog file.

``search_models`` ranks every model that holds a search's words (FTS5's bm25, ~0.8 us a match
on this 2-core machine): one broad word (``qwen``, ``instruct``, ``7b``) is 130-150 ms at a
million Hub-like models, a one-letter search up to a second. A server remembers answers once
asked (:mod:`genz_catalog.datasette.counts_cache`), but its first visitors, and every process
that reads the file, would pay that again. So a bulk import, ``load`` and a published copy
(``backup --publish``) rank the broad searches once and store their answers in
``remembered_searches``; the ``search_models`` canned query and
:func:`genz_catalog.catalog.reads.search_models` read a stored answer when there is one.

The broad searches (:func:`broad_searches`) are the index's words that at least
:data:`BROAD_SEARCH_MODELS` models hold and the prefixes of up to :data:`PREFIX_CHARS`
characters whose words are held :data:`BROAD_PREFIX_MODELS` times (``c``, ``in``, ``mo``:
many words, none broad); a shorter prefix that matches what one of them matches takes its
answer without ranking (:func:`_plan`). Then the pairs of those that at least
:data:`BROAD_PAIR_MODELS` models hold both words of (:func:`broad_pairs`: ``instruct v``,
``qwen 7``, a visitor typing a second word), each stored in both orders and with the alike
prefixes of its last word. A bulk import with convert workers ranks them in a
helper process while it builds its indexes again (:class:`RankingAhead`).

A stored answer is only used at the ``search_state.generation`` it is known right at. Triggers
on ``models`` (db.py m027) move the generation on with every insert and delete and every change
of a model's search words or liveness. A write of at most :data:`KEEP_UP_TO_MODELS` models
through the catalog's write path then keeps each one-word answer right (:func:`keep_answers`;
two-word answers, from writes of up to :data:`KEEP_PAIRS_UP_TO_MODELS`, by :mod:`.pair_scores`,
run after it commits): it puts the models it changed in their places from their own words
(:mod:`.search_scores`), sorts it again and brings it to the new generation, unless the write
moved the index's mean words per model past a place where a class the answer lists swaps with
one it does not (:func:`_answer_bounds`), or took out of a partial answer more models than it
keeps in reserve (:data:`SPARE_ROWS`: past those, the next one is not known). The write then
ranks the answers it could not keep again, for up to :data:`RANK_AGAIN_SECONDS`
(:func:`rank_left_answers`). Answers still not kept, and every answer after a larger write or
one made behind the catalog's back, are ignored (searches rank again, as before) until the next
bulk write stores new ones. The answer read is therefore always the ranking's own answer. A
migration that changes what the search index holds or how it splits words must move the
generation on too.
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import CatalogError
from . import pair_scores, search_scores
from .search_scores import escape_fts_query, fts_totals, read_varints

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import sqlite_utils

#: Rows of a stored answer that searches read: the canned query's limit.
REMEMBERED_ROWS = 200
#: Rows a one-word answer stores beyond :data:`REMEMBERED_ROWS`, in reserve: a write that takes
#: models out of its first 200 (a delete, a rename) moves the next ones up instead of leaving the
#: answer to rank again; it is left only once more than this many have gone.
SPARE_ROWS = 56
#: A search is remembered when at least this many models hold its words (for a word of the
#: index) or one of them (for a one-letter prefix): from about here a first search ranks for
#: 40-80 ms or more, so smaller ones are left to rank when asked.
BROAD_SEARCH_MODELS = 50_000
#: Models a bulk write (an import, a load) must have written before it ranks and stores the broad
#: searches: a daily top-up of a few models into a big catalog should not pay seconds for it.
REMEMBER_AFTER_MODELS = 10_000


def _write_transaction(db: sqlite_utils.Database) -> AbstractContextManager[Any]:
    """:func:`genz_catalog.db.write_transaction`, imported when first written: a ranking helper
    (:class:`RankingAhead`) imports this module and never writes, and sqlite-utils, which
    ``genz_catalog.db`` imports, would be ~11 MB of its ~14 MB before it ranks."""
    from ..db import write_transaction

    return write_transaction(db)


#: Most searches remembered, the broadest first (the shorter prefixes that take a ranked one's
#: answer come beside them, :data:`MAX_ALIKE_PREFIXES`).
MAX_REMEMBERED_SEARCHES = 96
#: Prefixes up to this many characters are remembered when the index's words that start with
#: them are held :data:`BROAD_PREFIX_MODELS` times or more (``c``, ``in``, ``mo``: held by
#: 120,000-180,000 models of a million Hub-like ones through many words, none of them broad,
#: ranked in 100-160 ms). A longer prefix as broad is a prefix of a broad word
#: (:func:`_plan`).
PREFIX_CHARS = 3
#: A short prefix is remembered from this many models held by its words: a first search ranks
#: ~0.8 us a match on this 2-core machine, so ~100 ms from ~120,000 matches. Lower than that
#: for a margin, higher than :data:`BROAD_SEARCH_MODELS` because the prefixes held 50,000-80,000
#: times are many (15 more to rank at a million Hub-like models) and each adds its ranking
#: (~60-90 ms) to every bulk import's end and its upkeep to every write.
BROAD_PREFIX_MODELS = 80_000
#: The search index's words with the number of models holding each, through a read-only
#: ``fts5vocab`` table in the connection's temporary schema (nothing is written to the file; it
#: reads the whole index once: ~0.25 s at a million models).
VOCABULARY_SQL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.genz_search_words "
    "USING fts5vocab(main, 'models_fts', 'row')"
)
#: The index's words by their first :data:`PREFIX_CHARS` characters: how many times the words
#: of each start are held, and those of its words held by at least ``?`` models with their
#: counts (``word count word count ...``). One read of the whole index (~0.6 s at a million).
_STARTS_SQL = f"""
SELECT substr(term, 1, {PREFIX_CHARS}), sum(doc),
       group_concat(CASE WHEN doc >= ? THEN term || ' ' || doc END, ' ')
FROM temp.genz_search_words
GROUP BY 1
"""
#: The ranking the canned query does: best first, equally good ones in import order, deleted
#: models left out.
_RANK_SQL = """
SELECT rowid FROM models_fts
WHERE models_fts MATCH ?
  AND rowid NOT IN (SELECT rowid FROM models WHERE is_deleted = 1)
ORDER BY rank, rowid
LIMIT ?
"""
#: The models of a stored answer (``search_key``, limit of at most :data:`REMEMBERED_ROWS`),
#: best first, when it was ranked at the current generation: as the live search reads them, only
#: the rows wanted.
STORED_MODELS_SQL = """
SELECT m.*
FROM remembered_answers a
JOIN remembered_searches r ON r.query = a.query
JOIN models m ON m.rowid = r.model_rowid
WHERE a.query = ? AND a.generation = (SELECT generation FROM search_state)
ORDER BY r.position
LIMIT ?
"""


def search_key(text: str) -> str:
    """The stored key of a free-text search: its FTS5 query (:func:`escape_fts_query`), ASCII
    lower-cased as the canned query's ``lower(genz_fts_query(:q))`` makes it."""
    return escape_fts_query(text).translate(search_scores.ASCII_LOWER)


def broad_searches(
    conn: sqlite3.Connection,
    *,
    prefixes: bool = True,
    models: int | None = None,
    prefix_models: int | None = None,
    limit: int | None = None,
) -> list[str]:
    """The searches worth remembering (:func:`broad_searches_held` without the counts)."""
    return list(
        broad_searches_held(
            conn, prefixes=prefixes, models=models, prefix_models=prefix_models, limit=limit
        )
    )


def broad_searches_held(
    conn: sqlite3.Connection,
    *,
    prefixes: bool = True,
    models: int | None = None,
    prefix_models: int | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """The searches worth remembering, broadest first, each with how many times its words are
    held (its matches, or an upper bound of them for a prefix), at most ``limit`` (default
    :data:`MAX_REMEMBERED_SEARCHES`): the index's words that at least ``models`` (default
    :data:`BROAD_SEARCH_MODELS`) models hold, the most held first, then (with ``prefixes``) the
    prefixes of up to :data:`PREFIX_CHARS` characters whose words are held at least
    ``prefix_models`` times in all (default :data:`BROAD_PREFIX_MODELS`, and never fewer than
    ``models``), the most held first. That sum is an upper bound of the models a prefix
    matches (a model with two of its words counts twice): a prefix just under the line may be
    remembered, none over it is left out. Deleted models' entries count too (the index keeps
    them until they are purged)."""
    models = BROAD_SEARCH_MODELS if models is None else models
    prefix_models = max(models, BROAD_PREFIX_MODELS if prefix_models is None else prefix_models)
    limit = MAX_REMEMBERED_SEARCHES if limit is None else limit
    conn.execute(VOCABULARY_SQL)
    held: dict[str, int] = {}
    words: list[tuple[int, str]] = []
    for start, total, broad in conn.execute(_STARTS_SQL, (models,)):
        for length in range(1, len(start) + 1):
            held[start[:length]] = held.get(start[:length], 0) + total
        pairs = (broad or "").split()
        words += [(int(count), word) for word, count in zip(pairs[::2], pairs[1::2], strict=True)]
    searches = {word: count for count, word in sorted(words, key=lambda pair: (-pair[0], pair[1]))}
    if prefixes:
        for start, total in sorted(held.items(), key=lambda pair: (-pair[1], pair[0])):
            if total >= prefix_models and start not in searches:
                searches[start] = total
    return dict(itertools.islice(searches.items(), limit))


#: Most shorter prefixes of the broad searches stored beside them (:func:`_alike_prefixes`).
MAX_ALIKE_PREFIXES = 64
#: Whether the search index holds a word between two texts (the first included).
_WORD_BETWEEN_SQL = "SELECT 1 FROM temp.genz_search_words WHERE term >= ? AND term < ? LIMIT 1"


def _past(prefix: str) -> str:
    """The least text past every text that starts with the ASCII ``prefix`` (SQLite compares
    text byte by byte, and in UTF-8 bytes sort as code points)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _matches_alike(conn: sqlite3.Connection, prefix: str, word: str) -> bool:
    """Whether the search index holds no word that starts with ``prefix`` but not with
    ``word`` (which starts with ``prefix``): then the two prefix searches match the same models
    with the same words, so FTS5 gives every model the same score for both, and one answer is
    both searches' answer. Two look-ups in the index's word list (``temp.genz_search_words``,
    :data:`VOCABULARY_SQL`, created by the caller)."""
    return not (
        conn.execute(_WORD_BETWEEN_SQL, (prefix, word)).fetchone()
        or conn.execute(_WORD_BETWEEN_SQL, (_past(word), _past(prefix))).fetchone()
    )


def _alike_prefixes(conn: sqlite3.Connection, word: str) -> list[str]:
    """The shorter prefixes of ``word`` (a one-word search's word, ASCII) that match exactly
    what it matches (:func:`_matches_alike`), longest first: ``qwe`` and ``qw`` when the index's
    every word starting with ``qw`` starts with ``qwen``. 1-20 ms a prefix at a million models
    (the word list counts the models of each word it steps on)."""
    conn.execute(VOCABULARY_SQL)
    found = []
    for length in range(len(word) - 1, 0, -1):
        # A shorter prefix holds every word a longer one does: the first that differs from
        # the word ends the run.
        if not _matches_alike(conn, word[:length], word):
            break
        found.append(word[:length])
    return found


#: A search of two broad searches' words (``instruct v``, ``qwen 7``: a visitor typing a second
#: word) is remembered when at least this many models hold both: FTS5 ranks it ~0.8 us a match
#: on this 2-core machine, after walking each word's whole list for its weight (20-50 ms; more
#: for a prefix of two or more characters, whose words' lists are merged), so from ~80,000
#: matches it takes 100 ms or more (``instruct v``, 150,598 of a million Hub-like models:
#: 137 ms). From 45,000 (294 pairs there, not 205) a pair of a two-character prefix under
#: 60,000 matches would be stored too (``v1 s``, 57,952 matches: 104 ms first asked), but the
#: import's ranking helper then peaked at 86 MB instead of 45 (prefix merges), and the
#: import's end took longer: not kept.
BROAD_PAIR_MODELS = 60_000
#: Most two-word searches ranked and stored, the broadest first (205 at a million Hub-like
#: models: ~18 s of ranking, shared with a :class:`RankingAhead` helper). Each is stored in
#: both orders and with the alike prefixes of its last word (:func:`_plan`).
MAX_REMEMBERED_PAIRS = 256
#: A stored two-word search: two quoted ASCII words, each a prefix (``"instruct"* "v"*``).
PAIR_KEY = re.compile(r'^"([a-z0-9.]+)"\* "([a-z0-9.]+)"\*$')
#: The rowids of a search's matches, in rowid order.
_MATCH_ROWIDS_SQL = "SELECT rowid FROM models_fts WHERE models_fts MATCH ?"


def _match_bits(conn: sqlite3.Connection, key: str) -> int:
    """The models (deleted ones too) the search ``key`` matches, as bits of one integer (bit
    ``rowid`` set): ~137 KB at a million models, and two searches' common matches are counted
    by one ``&`` and ``bit_count`` (~50 us) instead of an FTS5 query each (10-30 ms)."""
    bits = bytearray(1024)
    cursor = conn.execute(_MATCH_ROWIDS_SQL, (key,))
    while chunk := cursor.fetchmany(_CHUNK):
        # Rowids come in order: the last of a chunk is its largest.
        if (need := (chunk[-1][0] >> 3) + 1) > len(bits):
            bits.extend(bytes(max(need, 2 * len(bits)) - len(bits)))
        for (rowid,) in chunk:
            bits[rowid >> 3] |= 1 << (rowid & 7)
    return int.from_bytes(bits, "little")


def broad_pairs(
    conn: sqlite3.Connection,
    searches: list[str],
    *,
    models: int | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """The two-word searches worth remembering, each with how many models hold both words
    (deleted ones too, as :func:`broad_searches_held` counts), the most first, at most
    ``limit`` (default :data:`MAX_REMEMBERED_PAIRS`): the pairs of ``searches`` (plain ASCII
    words or prefixes, :func:`broad_searches`) that at least ``models`` models (default
    :data:`BROAD_PAIR_MODELS`) hold both words of, written ``"a b"`` with the search listed
    first in ``searches`` first. A pair whose one word starts with the other (``qwen qw``)
    is left out: it searches what its longer word does, a search nobody types. Reads each
    search's matches once (~3.5 s for 77 searches at a million Hub-like models, ~10 MB)."""
    models = BROAD_PAIR_MODELS if models is None else models
    limit = MAX_REMEMBERED_PAIRS if limit is None else limit
    matches: dict[str, int] = {}
    for text in dict.fromkeys(searches):
        key = search_key(text)
        if search_scores.KEEPABLE_KEY.match(key) and text == key[1:-2]:
            bits = _match_bits(conn, key)
            if bits.bit_count() >= models:
                matches[text] = bits
    both: list[tuple[int, int, str]] = []
    for order, ((first, one), (second, other)) in enumerate(
        itertools.combinations(matches.items(), 2)
    ):
        if first.startswith(second) or second.startswith(first):
            continue
        held = (one & other).bit_count()
        if held >= models:
            both.append((-held, order, f"{first} {second}"))
    return {text: -held for held, _, text in sorted(both)[:limit]}


def searches_to_remember(conn: sqlite3.Connection, *, prefixes: bool = True) -> dict[str, int]:
    """Every search a bulk write remembers, with how many times its words are held (for a
    pair: how many models hold both): :func:`broad_searches_held`, then :func:`broad_pairs`
    of those."""
    held = broad_searches_held(conn, prefixes=prefixes)
    return {**held, **broad_pairs(conn, list(held))}


def _holds_answers(conn: sqlite3.Connection) -> bool:
    """Whether the file has a place for stored answers (m028 and later)."""
    sql = "SELECT 1 FROM sqlite_master WHERE name = 'remembered_answers'"
    return conn.execute(sql).fetchone() is not None


def remember_searches(
    db: sqlite_utils.Database, texts: list[str] | None = None, *, prefixes: bool = True
) -> int:
    """Rank the searches ``texts`` (default :func:`broad_searches` with ``prefixes``: ~17 s at
    a million Hub-like models) and store their answers, replacing every stored answer. Returns
    the number of searches stored: 0 when another writer changed the models while they were
    ranked (the answers would already be out of date), or the file has no place for them (not
    migrated).

    A one-word search is ranked from every match's FTS5 score, read in chunks, so its answer
    is stored with what :func:`keep_answers` needs to keep it right through small writes: each
    model's class (hits, words), the range of the index's mean words per model in which no
    two classes of its matches swap places (:mod:`.search_scores`), :data:`SPARE_ROWS` more
    models than searches read, and whether it lists every match.

    The ranking reads one snapshot without holding the write lock;
    only the store is a write transaction, so other writers wait for milliseconds at most.
    """
    conn = db.conn
    if conn.in_transaction:
        raise CatalogError("remember_searches needs a connection outside a transaction")
    if not _holds_answers(conn):
        return 0  # a file from before m028 (a read-only source's copy): nothing to keep it in

    def keys(_: int) -> list[str]:
        if texts is None:
            chosen = broad_searches(conn, prefixes=prefixes)
            chosen += broad_pairs(conn, chosen)
        else:
            chosen = texts
        return list(dict.fromkeys(key for key in map(search_key, chosen) if key))

    # The broad searches come with their alike prefixes, and the pairs with their other order:
    # a visitor typing a broad word reads its answer at each of them instead of ranking
    # ~150,000 matches at a million models.
    ranked = _rank_in_snapshot(conn, keys, alike=texts is None)
    return _store_ranked(db, ranked, replace_all=True)


#: Seconds a write may spend, after it commits, ranking again the stored answers its upkeep had
#: to leave (:func:`rank_left_answers`; ~0.1-1 s an answer at a million Hub-like models): one
#: or two of them, not the ~17 s of every broad search.
RANK_AGAIN_SECONDS = 1.0


def rank_left_answers(
    db: sqlite_utils.Database, before: int, after: int, *, seconds: float | None = None
) -> int:
    """After a committed write that moved the generation from ``before`` to ``after`` and
    whose upkeep (:func:`keep_answers`) ran: rank again the one-word answers that were right
    at ``before`` and were not kept, and store them at ``after``, so that their searches read
    them again instead of each ranking (~180-250 ms at a million models) until the next bulk
    write. Longest words first (a longer prefix is usually held by fewer models, so is
    cheaper to rank), for up to ``seconds`` (default :data:`RANK_AGAIN_SECONDS`) in all: a
    ranking still under way then is dropped, and the rest stay unused but for the prefixes that
    take a ranked word's answer (:func:`_matches_alike`). Returns how many were
    stored: 0 as well when another writer came first.

    Answers stored without what keeps them (a multi-word search, an avgdl at a tie) are not
    ranked again: they could not be kept through the next write either. Nor are two-word
    answers the upkeep could not keep (rare: a tie near their order's limits, or more models
    gone than they keep in reserve): ranking one reads each of its 100,000+ matches (0.2-1 s
    at a million), more than a write should wait; they wait for the next bulk write, and a
    server's warm-up ranks the broadest.
    """
    conn = db.conn
    if conn.in_transaction:
        return 0
    # Read before any snapshot is begun: after nearly every write there is none to rank.
    left = [
        row[0]
        for row in conn.execute(
            "SELECT query FROM remembered_answers WHERE generation = ? "
            "AND classes IS NOT NULL AND pair_state IS NULL "
            "ORDER BY length(query) DESC, query",
            (before,),
        )
    ]
    if not left:
        return 0
    budget = RANK_AGAIN_SECONDS if seconds is None else seconds
    # Another writer came first when the snapshot is past ``after``: its upkeep owns them.
    ranked = _rank_in_snapshot(
        conn, lambda generation: left if generation == after else [], seconds=budget
    )
    return _store_ranked(db, ranked, replace_all=False)


class _Plan(NamedTuple):
    """What answering some searches takes: the searches to rank, the cheapest first (by how
    many times their words are held where that is known, else the longest first: a longer
    prefix is usually held by fewer models), and the others, each with
    the ranked search whose answer it takes (its matches are the same,
    :func:`_alike_prefixes`)."""

    ranked: list[str]
    taken: dict[str, str]
    #: The two-word searches of ``taken`` whose words come in the other order than in the
    #: search whose answer they take (its models' hits are stored the other way round).
    reversed: frozenset[str] = frozenset()


def _plan(
    conn: sqlite3.Connection,
    wanted: list[str],
    *,
    alike: bool,
    cost: dict[str, int] | None = None,
) -> _Plan:
    """The plan for answering ``wanted``: a prefix among them that matches what a longer one
    matches takes its answer. With ``alike`` every such prefix of a one-word search is answered
    too (at most :data:`MAX_ALIKE_PREFIXES` more), and the longest shorter prefix of each that
    is not alike is ranked when it is longer than :data:`PREFIX_CHARS` (it matches at least what
    its word matches, so is as broad; shorter ones are :func:`broad_searches`' own). With
    ``cost`` (search key -> times its words are held) the searches to rank come cheapest first
    instead (such a prefix costs at least its word). Reads only the index's word list (1-20 ms
    a prefix at a million models)."""
    cost = None if cost is None else dict(cost)
    pending = [(-len(key), order, key) for order, key in enumerate(dict.fromkeys(wanted))]
    heapq.heapify(pending)
    queued = {key for _, _, key in pending}
    ranked: list[str] = []
    taken: dict[str, str] = {}
    orders: dict[str, bool] = {}  # a pair's other keys: whether its words come reversed
    alike_of: dict[str, list[str]] = {}
    # Longest first, so a word's alike prefixes are known before they are reached.
    while pending:
        key = heapq.heappop(pending)[2]
        source = taken.get(key)
        if source is None:
            ranked.append(key)
            source = key
        if alike and (pair := PAIR_KEY.match(key)):
            flip = orders.get(key, False)
            for other, swapped in _pair_orders(conn, pair[1], pair[2], alike_of):
                if other not in (key, source) and other not in taken and other not in ranked:
                    taken[other] = source
                    orders[other] = flip != swapped
        elif match := search_scores.KEEPABLE_KEY.match(key):
            run = _alike_prefixes(conn, match[1])
            for prefix in run:
                taken.setdefault(search_key(prefix), source)
            shorter = match[1][: len(match[1]) - len(run) - 1]
            if (
                alike
                and len(shorter) > PREFIX_CHARS
                and (more := search_key(shorter)) not in queued
            ):
                queued.add(more)
                heapq.heappush(pending, (-len(more), len(queued), more))
                if cost is not None:
                    cost.setdefault(more, cost.get(key, 0))
    extra = [key for key in taken if key not in queued and key not in orders]
    extra = extra[: MAX_ALIKE_PREFIXES if alike else 0]
    kept = {
        key: source
        for key, source in taken.items()
        if key in queued or key in extra or key in orders
    }
    if cost is not None:
        ranked.sort(key=lambda key: cost.get(key, 0))
    return _Plan(ranked, kept, frozenset(key for key in kept if orders.get(key)))


def _pair_orders(
    conn: sqlite3.Connection, first: str, second: str, alike_of: dict[str, list[str]]
) -> list[tuple[str, bool]]:
    """The keys of the two-word search ``first second`` (ASCII words) in both orders, each
    also with the alike prefixes of its last word (:func:`_alike_prefixes`, kept in
    ``alike_of``): the texts a visitor types on the way to it, which match the same models.
    FTS5's bm25 adds a search's phrases one by one from 0.0, and two doubles add up to the same
    double in either order, so every model scores the same in both orders and one answer is
    the answer of each. Each key comes with whether its words are the other way round."""
    keys = []
    for one, other, swapped in ((first, second, False), (second, first, True)):
        if other not in alike_of:
            alike_of[other] = _alike_prefixes(conn, other)
        keys += [(search_key(f"{one} {last}"), swapped) for last in (other, *alike_of[other])]
    return keys


def _answers(plan: _Plan, answered: dict[str, _Stored]) -> list[tuple[str, _Stored]]:
    """The answers of a plan's searches from those of its ranked ones (``answered``: the ones
    ranked, when time ran out before every one was)."""
    answers = list(answered.items())
    for key, source in plan.taken.items():
        if source in answered:
            answer = answered[source]
            if isinstance(answer, _PairAnswer) and key in plan.reversed:
                answer = answer.swapped()
            answers.append((key, answer))
    return answers


def _rank_in_snapshot(
    conn: sqlite3.Connection,
    keys: Callable[[int], list[str]],
    *,
    seconds: float | None = None,
    alike: bool = False,
) -> tuple[int, list[tuple[str, _Stored]]]:
    """Rank the searches ``keys(generation)`` names in one read snapshot, without the write lock
    (``seconds``: rank no more, dropping the ranking under way, once that long has passed; the
    longer searches, usually cheaper, are ranked first), answering as :func:`_plan` plans with
    ``alike``. Return the snapshot's generation and the answers."""
    deadline = None if seconds is None else time.monotonic() + seconds
    conn.execute("BEGIN")
    try:
        generation = conn.execute("SELECT generation FROM search_state").fetchone()[0]
        wanted = keys(generation)
        answered: dict[str, _Stored] = {}
        plan = _Plan([], {})
        if wanted:
            plan = _plan(conn, wanted, alike=alike)
            deleted = _deleted(conn)
            held: dict[str, int] = {}
            for key in plan.ranked:
                answer = _ranked(conn, key, deleted, deadline, held)
                if answer is None:
                    break
                answered[key] = answer
    finally:
        conn.execute("COMMIT")
    return generation, _answers(plan, answered)


def _deleted(conn: sqlite3.Connection) -> set[int]:
    """The rowids of the deleted models (the index keeps their words until they are purged)."""
    return {row[0] for row in conn.execute("SELECT rowid FROM models WHERE is_deleted = 1")}


def _store_ranked(
    db: sqlite_utils.Database,
    ranked: tuple[int, list[tuple[str, _Stored]]],
    *,
    replace_all: bool,
) -> int:
    """Store answers ranked at a generation (:func:`_rank_in_snapshot`), in place of every stored
    one with ``replace_all``; none when another writer moved the generation on since (they would
    already be out of date). Returns how many were stored."""
    generation, answers = ranked
    conn = db.conn
    if not answers and not replace_all:
        return 0
    with _write_transaction(db):
        if conn.execute("SELECT generation FROM search_state").fetchone()[0] != generation:
            return 0
        if replace_all:
            conn.execute("DELETE FROM remembered_searches")
            conn.execute("DELETE FROM remembered_answers")
        for key, answer in answers:
            _store(conn, key, answer, generation)
    return len(answers)


#: Every match of a search with its score.
_MATCHES_SQL = "SELECT rowid, rank FROM models_fts WHERE models_fts MATCH ?"
#: Matches read into Python at a time while storing.
_CHUNK = 16_384

#: A stored answer's models: (rowid, hits, words), hits and words None when not known.
_Entries = list[tuple[int, int | None, int | None]]


class _Bounds(NamedTuple):
    """What keeps an answer right, as ranges of the index's mean words per model (avgdl; None:
    unbounded on that side): ``low``-``high``, in which no class it lists swaps places with one
    it does not (past it, the answer is left to rank); ``order_low``-``order_high``, in which no
    two classes it lists swap places (past it, the answer is sorted again); and the classes of
    its search's matches."""

    low: float | None
    high: float | None
    order_low: float | None
    order_high: float | None
    classes: list[tuple[int, int]]


class _Answer(NamedTuple):
    """A search's answer as stored: its best live models, what keeps it right (None: it cannot
    be kept), and whether ``entries`` holds every live match (else only the best ones)."""

    entries: _Entries
    bounds: _Bounds | None
    complete: bool


def _ranked(
    conn: sqlite3.Connection,
    key: str,
    deleted: set[int],
    deadline: float | None = None,
    held: dict[str, int] | None = None,
) -> _Answer | _PairAnswer | None:
    """The answer of the search ``key``: its best :data:`REMEMBERED_ROWS` live models, or for a
    one-word search whose every score :mod:`.search_scores` reproduces (a two-word one,
    :mod:`.pair_scores`), its best :data:`REMEMBERED_ROWS` + :data:`SPARE_ROWS` with what
    keeps them right. None when ``time.monotonic()`` passes ``deadline`` first (checked every
    :data:`_CHUNK` matches). ``held``: models holding each phrase, counted at this snapshot,
    kept across the pairs of one ranking."""
    if pair := PAIR_KEY.match(key):
        return _ranked_pair(conn, key, (pair[1], pair[2]), deleted, deadline, held)
    if not search_scores.KEEPABLE_KEY.match(key):
        rowids = [row[0] for row in conn.execute(_RANK_SQL, (key, REMEMBERED_ROWS))]
        return _Answer([(rowid, None, None) for rowid in rowids], None, False)
    rows = REMEMBERED_ROWS + SPARE_ROWS
    read = _best_and_ranks(conn, key, deleted, deadline, rows)
    if read is None:
        return None
    best, ranks, matches = read
    models, words = fts_totals(conn)
    avgdl = words / models if models else 0.0
    idf = search_scores.idf(models, matches)
    classes = {rank: search_scores.class_of(rank, idf, avgdl) for rank in ranks}
    complete = len(best) < rows
    if not matches or None in classes.values():
        return _Answer([(rowid, None, None) for rowid, _ in best[:REMEMBERED_ROWS]], None, False)
    entries = [(rowid, *classes[rank]) for rowid, rank in best]  # type: ignore[misc]
    found: set[tuple[int, int]] = set(classes.values())  # type: ignore[arg-type]
    bounds = _answer_bounds(entries, found, avgdl, complete)
    if bounds is None:
        return _Answer(entries[:REMEMBERED_ROWS], None, False)
    return _Answer(entries, bounds, complete)


def _best_and_ranks(
    conn: sqlite3.Connection, key: str, deleted: set[int], deadline: float | None, rows: int
) -> tuple[list[tuple[int, float]], set[float], int] | None:
    """Every match of the search ``key`` read once: its best ``rows`` live ones (rowid,
    rank), the distinct ranks of all of them, and how many there are; None when
    ``time.monotonic()`` passes ``deadline`` first."""
    # Read in chunks, never all at once: a one-letter search matches up to ~900,000 models of
    # a million (~100 MB as Python tuples).
    cursor = conn.execute(_MATCHES_SQL, (key,))
    best: list[tuple[int, float]] = []
    ranks: set[float] = set()
    matches = 0
    while chunk := cursor.fetchmany(_CHUNK):
        if deadline is not None and time.monotonic() > deadline:
            cursor.close()
            return None
        matches += len(chunk)
        ranks.update(map(itemgetter(1), chunk))
        # FTS5's ORDER BY rank, rowid: scores compare as the same doubles, rowids are unique.
        best = heapq.nsmallest(
            rows,
            itertools.chain(best, (m for m in chunk if m[0] not in deleted) if deleted else chunk),
            key=itemgetter(1, 0),
        )
    return best, ranks, matches


#: A stored two-word answer's models: (rowid, hits of the first phrase, of the second, words).
_PairEntries = list[tuple[int, int, int, int]]


class _PairState(NamedTuple):
    """What keeps a two-word answer right besides its classes: how many models held each
    phrase at ``generation`` (when it was ranked), the :data:`pair_scores.Box` its order is
    proven in, the classes it lists, and its last model (rowid, class) when it does not list
    every match. Each model written since ``generation`` moves the generation on at least once
    and a phrase's count by at most one, so at generation g each count lies within ``g -
    generation`` of the one stored."""

    held: tuple[int, int]
    generation: int
    box: pair_scores.Box
    listed: frozenset[pair_scores.PairClass]
    last: tuple[int, int, int, int] | None
    #: Both words weighed the same when it was ranked (each held by half the models or more):
    #: its classes are :func:`pair_scores.mirrored`, right only while they still do.
    symmetric: bool = False

    @classmethod
    def of(
        cls,
        held: tuple[int, int],
        generation: int,
        box: pair_scores.Box,
        entries: _PairEntries,
        complete: bool,
        symmetric: bool,
    ) -> _PairState:
        listed = frozenset(entry[1:] for entry in entries)
        last = None if complete or not entries else entries[-1]
        return cls(held, generation, box, listed, last, symmetric)  # type: ignore[arg-type]

    def weights(self, models: int, generation: int) -> tuple[float, ...]:
        """The phrases' weights at ``generation`` with ``models`` indexed, as ranges."""
        moved = generation - self.generation
        held_a, held_b = self.held
        return pair_scores.weights(
            models,
            (max(held_a - moved, 0), held_a + moved),
            (max(held_b - moved, 0), held_b + moved),
        )

    def after_last(self, entry: tuple[int, int, int, int], classes: Callable[[], set]) -> bool:
        """Whether a model joining the search (rowid, class) comes after the answer's last
        model whatever the weights in its box: a class it does not list (every one is proven
        below its last), or its last model's class with a later rowid. ``classes()``: every
        class of the search's matches (a new class must be proven first)."""
        if self.last is None:
            return False  # a complete answer lists every match
        cls = entry[1:]
        if cls == self.last[1:]:
            return entry[0] > self.last[0]
        return cls not in self.listed and cls in classes()

    def to_json(self) -> str:
        return json.dumps(
            {
                "held": list(self.held),
                "generation": self.generation,
                "box": list(self.box),
                "listed": sorted(self.listed),
                "last": self.last,
                "symmetric": self.symmetric,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> _PairState:
        data = json.loads(text)
        return cls(
            tuple(data["held"]),  # type: ignore[arg-type]
            data["generation"],
            tuple(data["box"]),  # type: ignore[arg-type]
            frozenset(tuple(c) for c in data["listed"]),
            None if data["last"] is None else tuple(data["last"]),  # type: ignore[arg-type]
            data["symmetric"],
        )

    def swapped(self) -> _PairState:
        """The same state for the words in the other order (mirrored classes stay as they
        are)."""
        box = self.box
        listed, last = self.listed, self.last
        if not self.symmetric:
            listed = frozenset((b, a, words) for a, b, words in listed)
            last = None if last is None else (last[0], last[2], last[1], last[3])
        return _PairState(
            (self.held[1], self.held[0]),
            self.generation,
            (*box[2:4], *box[0:2], *box[4:]),  # type: ignore[arg-type]
            listed,
            last,
            self.symmetric,
        )


class _PairAnswer(NamedTuple):
    """A two-word search's answer kept through writes: its best live models (best first), the
    classes of all its search's matches, what keeps it right, and whether ``entries`` holds
    every live match."""

    entries: _PairEntries
    classes: list[pair_scores.PairClass]
    state: _PairState
    complete: bool

    def swapped(self) -> _PairAnswer:
        """The same answer for the words in the other order: every model scores the same."""
        if self.state.symmetric:
            return self._replace(state=self.state.swapped())
        return _PairAnswer(
            [(rowid, hits_b, hits_a, words) for rowid, hits_a, hits_b, words in self.entries],
            sorted((hits_b, hits_a, words) for hits_a, hits_b, words in self.classes),
            self.state.swapped(),
            self.complete,
        )


#: A stored answer of either kind.
_Stored = _Answer | _PairAnswer


def _held(conn: sqlite3.Connection, phrase: str, held: dict[str, int] | None) -> int:
    """How many indexed models (deleted ones too) hold ``phrase`` (ASCII, a prefix)."""
    if held is not None and phrase in held:
        return held[phrase]
    count = conn.execute(
        "SELECT count(*) FROM models_fts WHERE models_fts MATCH ?", (f'"{phrase}"*',)
    ).fetchone()[0]
    if held is not None:
        held[phrase] = count
    return count


def _pair_box(
    entries: _PairEntries,
    classes: set[pair_scores.PairClass],
    known: tuple[float, ...],
    avgdl: float,
    symmetric: bool,
) -> pair_scores.Box | None:
    """The box in which ``entries`` (best first) stay in order and above every other class of
    ``classes`` (:func:`pair_scores.find_box`; mirrored classes: at the weights known)."""
    order = list(dict.fromkeys(entry[1:] for entry in entries))
    return pair_scores.find_box(
        order,
        classes - set(order),  # type: ignore[arg-type]
        known,
        avgdl,
        fixed=symmetric,
    )


def _ranked_pair(
    conn: sqlite3.Connection,
    key: str,
    phrases: tuple[str, str],
    deleted: set[int],
    deadline: float | None,
    held: dict[str, int] | None,
) -> _Answer | _PairAnswer | None:
    """:func:`_ranked` for two words: with what keeps the answer right when every score of its
    matches is a class :mod:`.pair_scores` reproduces and their order is proven around the
    snapshot's weights, else the 200 best alone."""
    rows = REMEMBERED_ROWS + SPARE_ROWS
    read = _best_and_ranks(conn, key, deleted, deadline, rows)
    if read is None:
        return None
    best, ranks, matches = read
    unkept = _Answer([(rowid, None, None) for rowid, _ in best[:REMEMBERED_ROWS]], None, False)
    models, words = fts_totals(conn)
    if not matches or not models:
        return unkept
    avgdl = words / models
    counts = (_held(conn, phrases[0], held), _held(conn, phrases[1], held))
    generation = conn.execute("SELECT generation FROM search_state").fetchone()[0]
    weights = pair_scores.weights(models, (counts[0],) * 2, (counts[1],) * 2)
    classes = pair_scores.classes_of(ranks, weights[0], weights[2], avgdl)
    if classes is None:
        return unkept
    entries = [(rowid, *classes[rank]) for rowid, rank in best]
    found = set(classes.values())
    symmetric = weights[0] == weights[2]
    if symmetric and weights[0] != search_scores.IDF_FLOOR:
        # Alike by chance (each word held by the same number of models): a write that changes
        # one count parts them, so mirrored classes would not be kept past it. Kept as any pair
        # only when no class has a mirror of its own to be mistaken for.
        if any(hits_a != hits_b for hits_a, hits_b, _ in found):
            return unkept
        symmetric = False
    box = _pair_box(entries, found, weights, avgdl, symmetric)  # type: ignore[arg-type]
    if box is None:
        return unkept
    complete = len(best) < rows
    state = _PairState.of(counts, generation, box, entries, complete, symmetric)  # type: ignore[arg-type]
    return _PairAnswer(entries, sorted(found), state, complete)  # type: ignore[arg-type]


def _store(
    conn: sqlite3.Connection, key: str, answer: _Answer | _PairAnswer, generation: int
) -> None:
    """Store (or replace) the answer of ``key`` at ``generation``."""
    conn.execute("DELETE FROM remembered_searches WHERE query = ?", (key,))
    insert = (
        "INSERT INTO remembered_searches "
        "(query, position, model_rowid, generation, hits, words, second_hits) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    answer_sql = (
        "INSERT OR REPLACE INTO remembered_answers (query, generation, avgdl_low, avgdl_high, "
        "order_low, order_high, classes, complete, pair_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    if isinstance(answer, _PairAnswer):
        conn.executemany(
            insert,
            [
                (key, position, rowid, generation, hits_a, words, hits_b)
                for position, (rowid, hits_a, hits_b, words) in enumerate(answer.entries, 1)
            ],
        )
        classes_text = json.dumps([list(c) for c in answer.classes], separators=(",", ":"))
        conn.execute(
            answer_sql,
            (
                key,
                generation,
                None,
                None,
                None,
                None,
                classes_text,
                int(answer.complete),
                answer.state.to_json(),
            ),
        )
        return
    entries, bounds, complete = answer
    conn.executemany(
        insert,
        [
            (key, position, rowid, generation, hits, words, None)
            for position, (rowid, hits, words) in enumerate(entries, 1)
        ],
    )
    low, high, order_low, order_high, classes = bounds or (None, None, None, None, None)
    conn.execute(
        answer_sql,
        (
            key,
            generation,
            low,
            high,
            order_low,
            order_high,
            None if classes is None else json.dumps(classes, separators=(",", ":")),
            int(complete),
            None,
        ),
    )


#: Transactions of at most this many models keep the stored answers (:func:`keep_answers`,
#: ~25 us a model changed: ~265 ms for 10,000 at a million models, in a transaction of ~1.5 s);
#: larger ones leave them to the next store. As many as a bulk write writes before it stores
#: the answers afresh (:data:`REMEMBER_AFTER_MODELS`), so a write of any number of models in
#: batches of up to this size ends with the answers stored.
KEEP_UP_TO_MODELS = 10_000


#: Transactions of at most this many models keep the two-word answers too. A larger one moves
#: the words' weights past most answers' proven order, and each is then proven again from
#: counts of its words' models (5-20 ms a word at a million) and stored again (~1.5 ms): ~2 s
#: for a batch of 2,000 Hub-like models. Those answers are left to the next bulk write.
KEEP_PAIRS_UP_TO_MODELS = 256


def keep_answers(db: sqlite_utils.Database, changed: list[int], before: int, after: int) -> int:
    """After a committed write that changed the models ``changed`` (rowids) and moved the
    generation from ``before`` to ``after``: bring every stored answer that was right at
    ``before`` and can be kept (one-word and two-word searches, :func:`_ranked`) to ``after``,
    the changed models put in their places, and return how many were kept. An answer is left
    behind (then ranked when asked, as before) when the write moved the index's mean words per
    model past a place where a class it lists swaps with one it does not (for two words: moved
    the words' weights or that mean out of the ranges its order is proven in), when models it
    held left and fewer than :data:`REMEMBERED_ROWS` known ones remain, when another writer
    came first, or when a changed model's words are not plain ASCII.

    Milliseconds for a one-model write; reads the changed models' words, the rows of each answer
    they join or leave, and FTS5's committed totals.
    """
    conn = db.conn
    answers_sql = (
        "SELECT query, avgdl_low, avgdl_high, order_low, order_high, "
        # A pair's classes (up to a few hundred) are read only when a write brings it a model.
        "CASE WHEN pair_state IS NULL THEN classes END, complete, pair_state "
        "FROM remembered_answers WHERE generation = ? AND classes IS NOT NULL"
    )
    if not conn.execute(answers_sql, (before,)).fetchone():
        return 0  # none was right before the write: no need to wait for the write lock
    with _write_transaction(db):
        if conn.execute("SELECT generation FROM search_state").fetchone()[0] != after:
            return 0  # another writer came first
        every = conn.execute(answers_sql, (before,)).fetchall()
        answers = [row[:7] for row in every if row[7] is None]
        pairs = [(row[0], row[6], row[7]) for row in every if row[7] is not None]
        if not every:
            return 0
        prefixes = {
            row[0]: search_scores.KEEPABLE_KEY.match(row[0])[1]  # type: ignore[index]
            for row in answers
        }
        phrases = {query: PAIR_KEY.match(query).groups() for query, *_ in pairs}  # type: ignore[union-attr]
        words_wanted = set(prefixes.values()) | {word for two in phrases.values() for word in two}
        docs = _changed_models(conn, changed, words_wanted)
        models, words = fts_totals(conn)
        if docs is None or not models:
            return 0
        avgdl = words / models
        marks = ", ".join("?" * len(changed))
        holding = {
            row[0]
            for row in conn.execute(
                f"SELECT DISTINCT query FROM remembered_searches WHERE model_rowid IN ({marks})",
                changed,
            )
        }
        unchanged: list[str] = []
        placed = 0
        for query, low, high, order_low, order_high, classes_text, complete in answers:
            if not _within(avgdl, low, high):
                continue  # a listed class may have swapped with an unlisted one: rank it again
            joining = [
                (rowid, hits, count)
                for rowid, (starts, count, live) in docs.items()
                if live and (hits := starts.get(prefixes[query]))
            ]
            resort = not _within(avgdl, order_low, order_high)
            if not joining and query not in holding and not resort:
                unchanged.append(query)  # the write neither took a model out nor brings one
                continue
            placed_answer = _placed(
                conn,
                query,
                joining,
                set(changed),
                avgdl,
                _Bounds(
                    low, high, order_low, order_high, [tuple(c) for c in json.loads(classes_text)]
                ),
                complete,
                resort,
            )
            if placed_answer is None:
                continue
            answer, moved = placed_answer
            if moved:
                _store(conn, query, answer, after)
                placed += 1
            else:
                unchanged.append(query)
        if len(changed) > KEEP_PAIRS_UP_TO_MODELS:
            pairs = []  # left to the next bulk write (or a server's warm-up): see the constant
        held: dict[str, int] = {}
        # Each word's live holders among the changed models, once for every answer.
        holders: dict[str, dict[int, int]] = {
            word: {
                rowid: starts[word]
                for rowid, (starts, _, live) in docs.items()
                if live and word in starts
            }
            for word in {word for two in phrases.values() for word in two}
        }
        for query, complete, state_text in pairs:
            state = _PairState.from_json(state_text)
            known = state.weights(models, after)
            first, second = phrases[query]
            holders_a, holders_b = holders[first], holders[second]
            joining_pair = [
                (
                    rowid,
                    *_class_as_stored(state, holders_a[rowid], holders_b[rowid], docs[rowid][1]),
                )
                for rowid in sorted(holders_a.keys() & holders_b.keys())
            ]
            every_class = _lazy_classes(conn, query)
            if (
                query not in holding
                and pair_scores.inside(state.box, known, avgdl)
                and all(state.after_last(entry, every_class) for entry in joining_pair)
            ):
                # The usual write: a model that joins after the answer's last one, or none.
                unchanged.append(query)
                continue
            kept_pair = None
            for attempt in (state, None):
                if attempt is None:
                    # The weights' ranges grow with every write since the answer was ranked:
                    # count the words' models again (5-20 ms a word at a million, against
                    # 150-1,000 ms to rank the search again) and prove its order from the
                    # exact weights.
                    counts = (_held(conn, first, held), _held(conn, second, held))
                    attempt = state._replace(held=counts, generation=after)
                kept_pair = _placed_pair(
                    conn,
                    query,
                    joining_pair,
                    set(changed),
                    attempt.weights(models, after),
                    avgdl,
                    every_class(),
                    attempt,
                    complete,
                )
                if kept_pair is not None:
                    break
            if kept_pair is not None:
                _store(conn, query, kept_pair, after)
                placed += 1
        for start in range(0, len(unchanged), 500):
            some = unchanged[start : start + 500]
            places = ", ".join("?" * len(some))
            conn.execute(
                f"UPDATE remembered_answers SET generation = ? WHERE query IN ({places})",
                [after, *some],
            )
        return placed + len(unchanged)


def _class_as_stored(state: _PairState, hits_a: int, hits_b: int, words: int) -> tuple:
    """A model's class for a stored two-word answer: mirrored when its words weighed the same."""
    cls = (hits_a, hits_b, words)
    return pair_scores.mirrored(cls) if state.symmetric else cls


def _lazy_classes(conn: sqlite3.Connection, query: str) -> Callable[[], set]:
    """The classes of the stored answer of ``query``, read when first asked for."""
    parsed: list[set] = []

    def classes() -> set:
        if not parsed:
            sql = "SELECT classes FROM remembered_answers WHERE query = ?"
            text = conn.execute(sql, (query,)).fetchone()[0]
            parsed.append({tuple(c) for c in json.loads(text)})
        return parsed[0]

    return classes


def _placed_pair(
    conn: sqlite3.Connection,
    query: str,
    joining: _PairEntries,
    changed: set[int],
    known: tuple[float, ...],
    avgdl: float,
    found: set[pair_scores.PairClass],
    state: _PairState,
    complete: bool,
) -> _PairAnswer | None:
    """The stored two-word answer of ``query`` with the ``changed`` models taken out and the
    ``joining`` ones (live, matching both words) put in their places, its order proven again
    for the weights ``known`` (ranges) and ``avgdl``; None when it cannot be
    (:mod:`.pair_scores`), or its first :data:`REMEMBERED_ROWS` are not known."""
    entries: _PairEntries = conn.execute(
        "SELECT model_rowid, hits, second_hits, words FROM remembered_searches WHERE query = ? "
        "ORDER BY position",
        (query,),
    ).fetchall()
    if any(None in entry for entry in entries):
        return None
    if state.symmetric and len(set(known)) != 1:
        return None  # the words no longer weigh the same: mirrored classes may part
    # Any weights in the range order the classes alike once the box is proven: the middle.
    idf_a, idf_b = (known[0] + known[1]) / 2, (known[2] + known[3]) / 2

    def place(entry: tuple[int, int, int, int]) -> tuple[float, int]:
        return pair_scores.score(entry[1:], idf_a, idf_b, avgdl), entry[0]

    last = None if complete or not entries else place(entries[-1])
    listed = [entry for entry in entries if entry[0] not in changed]
    joined = [entry for entry in joining if last is None or place(entry) <= last]
    if last is not None and len(listed) + len(joined) < REMEMBERED_ROWS:
        return None  # more models left than it held in reserve: the next ones are not known
    classes = found | {e[1:] for e in joining}
    listed = sorted(listed + joined, key=place)
    rows = REMEMBERED_ROWS + SPARE_ROWS
    if len(listed) > rows:
        listed, complete = listed[:rows], False
    box = _pair_box(listed, classes, known, avgdl, state.symmetric)  # type: ignore[arg-type]
    if box is None:
        return None
    kept = _PairState.of(state.held, state.generation, box, listed, complete, state.symmetric)
    return _PairAnswer(listed, sorted(classes), kept, complete)  # type: ignore[arg-type]


def _placed(
    conn: sqlite3.Connection,
    query: str,
    joining: list[tuple[int, int, int]],
    changed: set[int],
    avgdl: float,
    bounds: _Bounds,
    complete: bool,
    resort: bool,
) -> tuple[_Answer, bool] | None:
    """The stored answer of ``query`` (``complete``: it lists every match; ``resort``: two of
    its classes may have swapped places) with the ``changed`` models taken out and the
    ``joining`` ones (rowid, hits, words: live and matching) put in their places at ``avgdl``,
    sorted again, and whether it differs from the stored one; None when its first
    :data:`REMEMBERED_ROWS` are not known to be the ranking's."""
    entries = conn.execute(
        "SELECT model_rowid, hits, words FROM remembered_searches WHERE query = ? "
        "ORDER BY position",
        (query,),
    ).fetchall()

    def place(entry: tuple[int, int, int]) -> tuple[float, int]:
        return -search_scores.strength(entry[1], entry[2], avgdl), entry[0]

    # A partial answer ends where the unlisted matches begin: a model placed after its last
    # one might come after some of those, so it is not listed.
    last = None if complete or not entries else place(entries[-1])
    listed = [entry for entry in entries if entry[0] not in changed]
    joined = [entry for entry in joining if last is None or place(entry) <= last]
    if last is not None and len(listed) + len(joined) < REMEMBERED_ROWS:
        return None  # more models left than it held in reserve: the next ones are not known
    classes = set(bounds.classes)
    new_classes = {(hits, words) for _, hits, words in joining} - classes
    if not (resort or new_classes or joined) and len(listed) == len(entries):
        # The usual write of a long-named fine-tune: it joins after the answer's last model,
        # in a class the search already has, and none of the listed models changed.
        return _Answer(entries, bounds, complete), False
    listed += joined
    classes |= new_classes
    listed.sort(key=place)
    rows = REMEMBERED_ROWS + SPARE_ROWS
    was_complete = complete
    if len(listed) > rows:
        listed, complete = listed[:rows], False
    kept = bounds
    if resort or new_classes or _edge(listed, complete) != _edge(entries, was_complete):
        found = _answer_bounds(listed, classes, avgdl, complete)  # type: ignore[arg-type]
        if found is None:
            return None
        kept = found
    return _Answer(listed, kept, complete), listed != entries or kept != bounds


def _within(avgdl: float, low: float | None, high: float | None) -> bool:
    """Whether ``avgdl`` lies strictly inside ``low``-``high`` (None: unbounded)."""
    return (low is None or avgdl > low) and (high is None or avgdl < high)


def _edge(entries: _Entries, complete: bool) -> tuple[frozenset, tuple | None]:
    """What an answer's bounds depend on besides its search's classes: the classes it lists
    and, for a partial answer, the class of its last model."""
    last = None if complete or not entries else entries[-1][1:]
    return frozenset(entry[1:] for entry in entries), last


def _answer_bounds(
    entries: _Entries, classes: set[tuple[int, int]], avgdl: float, complete: bool
) -> _Bounds | None:
    """What keeps ``entries``, the best matches of a search whose matches hold ``classes``,
    right around ``avgdl`` (:class:`_Bounds`): the range of the index's mean words per model in
    which they stay the best (no class they list swaps places with one they do not, nor with
    the class of the last when matches of that class may be unlisted too: a partial answer),
    the range in which their order holds (no two classes they list swap), and ``classes``.
    None when ``avgdl`` is all but at a crossing. :mod:`.search_scores`."""
    listed = {(hits, words) for _, hits, words in entries}
    order = search_scores.crossing_bounds(listed, avgdl)
    unlisted = classes - listed
    if not complete and entries:
        unlisted.add(entries[-1][1:])  # type: ignore[arg-type]
    edge = search_scores.crossing_bounds(listed, avgdl, unlisted)  # type: ignore[arg-type]
    if order is None or edge is None:
        return None
    return _Bounds(*edge, *order, sorted(classes))


def _changed_models(
    conn: sqlite3.Connection, rowids: list[int], prefixes: set[str]
) -> dict[int, tuple[dict[str, int], int, bool]] | None:
    """The changed models still indexed: rowid -> (how many of its words start with each of
    ``prefixes`` that any does, words, live). None when one's words are not ASCII, or differ
    from what FTS5 counted for it (its docsize)."""
    found: dict[int, tuple[dict[str, int], int, bool]] = {}
    marks = ", ".join("?" * len(rowids))
    for rowid, model_id, name, family, aliases, deleted, sizes in conn.execute(
        "SELECT w.model_rowid, w.model_id, w.model_name, w.family, w.aliases, m.is_deleted, "
        "d.sz FROM models_fts_words w JOIN models m ON m.rowid = w.model_rowid "
        f"LEFT JOIN models_fts_docsize d ON d.id = w.model_rowid WHERE w.model_rowid IN ({marks})",
        rowids,
    ):
        columns = search_scores.words_of([model_id, name, family, aliases])
        if columns is None or sizes is None:
            return None
        if read_varints(bytes(sizes)) != [len(words) for words in columns]:
            return None
        starts = search_scores.prefix_counts(columns, prefixes)
        found[rowid] = (starts, sum(map(len, columns)), not deleted)
    return found


def remember_due(conn: sqlite3.Connection, models_written: int) -> bool:
    """Whether a bulk write of ``models_written`` models stores the broad searches' answers
    (:func:`remember_after_bulk_write`): it wrote at least :data:`REMEMBER_AFTER_MODELS`, or
    the answers are overdue (:func:`answers_overdue`)."""
    if conn.in_transaction:
        return False  # a caller's open transaction is its own to commit; nothing is stored
    return models_written >= REMEMBER_AFTER_MODELS or answers_overdue(conn)


def remember_after_bulk_write(
    db: sqlite_utils.Database, models_written: int, *, ahead: RankingAhead | None = None
) -> int:
    """After a bulk write (an import, a load, a discovery) of ``models_written`` models: store
    the broad searches' answers (~17 s at a million Hub-like models, less beside a
    :class:`RankingAhead`) when it wrote at least
    :data:`REMEMBER_AFTER_MODELS`, or when the answers are overdue (:func:`answers_overdue`: a
    catalog grown by many smaller bulk writes, or whose answers a write behind its back left
    unused). Smaller writes keep the answers stored before them where they can
    (:func:`keep_answers`). With ``ahead`` (started when the write's last model was committed)
    its helper's answers are taken and this process ranks the rest. Returns the searches
    stored."""
    if not remember_due(db.conn, models_written):
        return 0
    if ahead is not None:
        stored = ahead.finish(db)
        if stored is not None:
            return stored
    return remember_searches(db)


#: The end of a ranking helper's claims until it has planned (:class:`RankingAhead`).
_NOT_PLANNED = 1 << 62
#: The settings a ranking helper takes from the process that starts it, so both rank alike.
_HELPER_SETTINGS = (
    "BROAD_SEARCH_MODELS",
    "BROAD_PREFIX_MODELS",
    "MAX_REMEMBERED_SEARCHES",
    "MAX_ALIKE_PREFIXES",
    "BROAD_PAIR_MODELS",
    "MAX_REMEMBERED_PAIRS",
    "REMEMBERED_ROWS",
    "SPARE_ROWS",
)


class RankingAhead:
    """The broad searches ranked in a helper process while this one does other work: a bulk
    import starts it once its last model is committed, builds its indexes again (seconds at a
    million models, on one core), then :meth:`finish` ranks, from the cheapest, the
    searches the helper has not taken yet, and stores every answer. On this 2-core machine a
    million Hub-like configs import at 7,100 models/s so, storing 99 answers, against 6,100
    storing 59 after the indexes (``bench/import.py --cold``).

    The helper reads its own snapshot of the file (:func:`rank_as_helper`); its answers are
    used only at the generation this process then reads, so a writer that came between makes
    :meth:`finish` leave them (and rank as :func:`remember_searches` does). It imports lean
    (:func:`genz_catalog._lean_start.run_search_ranker`: ~14 MB) and dies with this process;
    if it dies first, this process reads the end of its pipe and ranks every search itself.
    """

    def __init__(self, path: str) -> None:
        import multiprocessing
        import os

        from .._lean_start import run_search_ranker

        # spawn, not fork: a fork would copy this process's open connection.
        context = multiprocessing.get_context("spawn")
        # A pipe this process only reads: once the helper has gone, however it went, a read
        # ends (EOFError) instead of waiting for the rest of a message it was writing.
        self._messages, sender = context.Pipe(duplex=False)
        # [the next search of the plan this process takes (the cheapest first), one past the
        # last the helper has not taken (it takes the costliest first)]; the end is set with
        # the plan.
        self._claimed = context.Array("q", [0, _NOT_PLANNED])
        self._process = context.Process(
            target=run_search_ranker,
            args=(
                os.getpid(),
                path,
                sender,
                self._claimed,
                {name: globals()[name] for name in _HELPER_SETTINGS},
            ),
            daemon=True,
        )
        self._process.start()
        sender.close()

    @classmethod
    def start(cls, db: sqlite_utils.Database) -> RankingAhead | None:
        """A helper ranking ``db``'s broad searches, or None for a catalog not in a file (or
        one without a place for answers)."""
        from ..db import catalog_file

        path = catalog_file(db)
        if path is None or not _holds_answers(db.conn):
            return None
        return cls(str(path))

    def _message(self) -> tuple | None:
        """The helper's next message, or None once it has gone."""
        try:
            return self._messages.recv()
        except (EOFError, OSError):
            return None

    @property
    def untaken(self) -> int | None:
        """How many searches of the plan neither process has taken yet; None until the helper
        has planned them."""
        with self._claimed.get_lock():
            front, end = self._claimed[0], self._claimed[1]
        return None if end == _NOT_PLANNED else end - front

    def finish(self, db: sqlite_utils.Database) -> int | None:
        """Rank what the helper has not taken, in this process's own snapshot, and store every
        answer; the number stored, or None when the helper's answers cannot be used (it
        failed, or the models changed since its snapshot): then nothing is stored."""
        try:
            planned = self._message()
            if planned is None or planned[0] != "plan":
                return None
            _, generation, plan = planned
            conn = db.conn
            answered: dict[str, _Stored] = {}
            held: dict[str, int] = {}
            conn.execute("BEGIN")
            try:
                if conn.execute("SELECT generation FROM search_state").fetchone()[0] != generation:
                    return None
                deleted = _deleted(conn)
                while (index := _claim(self._claimed, costliest=False)) is not None:
                    answered[plan.ranked[index]] = _ranked(  # type: ignore[assignment]
                        conn, plan.ranked[index], deleted, None, held
                    )
            finally:
                conn.execute("COMMIT")
            message = self._message()
            if message is None or message[0] != "done":
                return None
            answered.update(message[1])
            return _store_ranked(db, (generation, _answers(plan, answered)), replace_all=True)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the helper (if it still runs) and wait for it."""
        with self._claimed.get_lock():
            self._claimed[1] = self._claimed[0]
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._messages.close()


def _claim(claimed: Any, *, costliest: bool) -> int | None:
    """Take the next search of a :class:`RankingAhead` plan from ``claimed`` (shared: [the
    next from the cheap end, one past the last from the costly end]): the costliest left for
    the helper, the cheapest for the importer; None when none is left."""
    with claimed.get_lock():
        front, end = claimed[0], claimed[1]
        if front >= end:
            return None
        if costliest:
            claimed[1] = end - 1
            return end - 1
        claimed[0] = front + 1
        return front


def rank_as_helper(path: str, messages: Any, claimed: Any, settings: dict[str, int]) -> None:
    """A :class:`RankingAhead` helper's work: in one read snapshot of the catalog at ``path``,
    plan the broad searches (:func:`broad_searches`, :func:`_plan` with alike prefixes), send
    ``("plan", generation, plan)`` through ``messages`` (a pipe's sending end), then rank the
    searches of the plan from the costliest (the end of its list), taking each from ``claimed``
    (shared with the caller, which takes the cheapest first), and send ``("done", answers)``
    (search key -> answer) at the end, or ``("failed", reason)``. The answers go in one message
    at the end: the caller reads nothing until it has ranked its own share, and a pipe whose
    buffer is full would stop the helper. ``settings``: the starting process's values of
    :data:`_HELPER_SETTINGS`."""
    globals().update((name, settings[name]) for name in _HELPER_SETTINGS)
    try:
        conn = sqlite3.connect(
            f"file:{urllib.parse.quote(path)}?mode=ro", uri=True, isolation_level=None
        )
        conn.execute("BEGIN")
        generation = conn.execute("SELECT generation FROM search_state").fetchone()[0]
        # The costliest last: the helper takes those, the importer (joining once its indexes
        # are built again) the cheapest, so FTS5's merge of a prefix held a million times
        # (~25 MB) adds to the helper's peak, not to the importer's.
        cost = {search_key(text): held for text, held in searches_to_remember(conn).items()}
        plan = _plan(conn, [key for key in cost if key], alike=True, cost=cost)
        with claimed.get_lock():
            claimed[1] = len(plan.ranked)
        messages.send(("plan", generation, plan))
        deleted = _deleted(conn)
        answers: dict[str, _Stored] = {}
        held: dict[str, int] = {}
        while (index := _claim(claimed, costliest=True)) is not None:
            key = plan.ranked[index]
            answers[key] = _ranked(conn, key, deleted, None, held)  # type: ignore[assignment]
        conn.execute("COMMIT")
        conn.close()
        messages.send(("done", answers))
    except Exception as error:  # noqa: BLE001 - reported to the caller, which ranks instead
        messages.send(("failed", f"{type(error).__name__}: {error}"))


def remember_after_rebuild(db: sqlite_utils.Database) -> int:
    """After the search index was rebuilt (``doctor --fix``), which leaves every stored answer
    unused: store the broad searches' answers again (~17 s at a million Hub-like models) when
    the index holds enough models for a search to be broad, rather than leave every visitor to
    rank them until the next bulk write. Returns the searches stored."""
    if db.conn.in_transaction or not _may_hold_broad_searches(db.conn):
        return 0
    return remember_searches(db)


def answers_overdue(conn: sqlite3.Connection) -> bool:
    """Whether a catalog whose search index holds at least :data:`BROAD_SEARCH_MODELS` models
    (so a search may be broad) has no stored answer in use, and its models have changed at
    least :data:`REMEMBER_AFTER_MODELS` times since an answer last was (ever, when none was):
    the generation counts every insert, delete and change of a model's words or liveness."""
    try:
        generation, in_use, last = conn.execute(
            "SELECT s.generation, "
            "EXISTS (SELECT 1 FROM remembered_answers a WHERE a.generation = s.generation), "
            "(SELECT max(generation) FROM remembered_answers) FROM search_state s"
        ).fetchone()
    except (sqlite3.OperationalError, TypeError):
        return False  # a file from before m028 (no search_state), or an empty one
    if in_use or generation - (last or 0) < REMEMBER_AFTER_MODELS:
        return False
    return _may_hold_broad_searches(conn)


def _may_hold_broad_searches(conn: sqlite3.Connection) -> bool:
    """Whether the search index holds enough models (deleted ones too, as
    :func:`broad_searches` counts them) for one of its searches to be broad."""
    return fts_totals(conn)[0] >= BROAD_SEARCH_MODELS


def wrong_answers(conn: sqlite3.Connection) -> list[str]:
    """The searches stored at the current generation whose answer (every stored row, those in
    reserve too) is not what ranking them gives now (``doctor``): none, unless models were
    written with the triggers bypassed or the index was changed behind them. Ranks every stored
    search (seconds at a million models)."""
    return [
        query
        for query, rowids in stored_answers(conn, reserve=True).items()
        if rowids != [row[0] for row in conn.execute(_RANK_SQL, (query, len(rowids)))]
    ]


def stored_answers(conn: sqlite3.Connection, *, reserve: bool = False) -> dict[str, list[int]]:
    """Every answer stored at the current generation: search key -> model rowids, best first;
    the first :data:`REMEMBERED_ROWS` of each (the ones searches read), or with ``reserve``
    every stored row."""
    rows = None if reserve else REMEMBERED_ROWS
    stored: dict[str, list[int]] = {}
    for query, rowid in conn.execute(
        "SELECT r.query, r.model_rowid FROM remembered_answers a "
        "JOIN remembered_searches r ON r.query = a.query "
        "WHERE a.generation = (SELECT generation FROM search_state) "
        "AND (? IS NULL OR r.position <= ?) "
        "ORDER BY r.query, r.position",
        (rows, rows),
    ):
        stored.setdefault(query, []).append(rowid)
    return stored
