"""FTS5's bm25 for a one-word prefix search, worked out in Python, so a stored answer can be
kept right through small writes instead of being ranked again (:mod:`.remembered_searches`).

For one phrase, bm25 gives a model ``-idf * x(f, D)`` with

    x(f, D) = f * (k1 + 1) / (f + k1 * (1 - b + b * D / avgdl)),   k1 = 1.2, b = 0.75

where ``f`` is how many of the model's words start with the prefix, ``D`` how many words the
model has in all columns, and ``avgdl`` the index's words per model. ``idf`` is the same for
every model of a search, so the order of the matches is the order of ``x``: models with the
same (f, D) (a *class*) tie, and two classes swap places only where ``avgdl`` crosses

    a* = 3 (f2 D1 - f1 D2) / (f1 - f2)      (from x1 = x2 with b / (1 - b) = 3).

So between two such crossings every class keeps its place: a write that moves ``avgdl`` without
crossing one leaves the order of the models already ranked as it was, and a model written can
be put in its place from its own (f, D). Scores are checked against FTS5's own to the last bit
before any of this is trusted (:func:`class_of`), and a search whose ``avgdl`` comes within
:data:`MARGIN` of a crossing is ranked again, so floating-point rounding never decides an order.
"""

from __future__ import annotations

import itertools
import math
import re
import sqlite3
from collections.abc import Iterable

#: bm25's constants in FTS5 (fts5_aux.c).
K1 = 1.2
B = 0.75
#: Relative distance to a crossing under which an order is not trusted: scores of classes that
#: far apart differ by ~1e-10 of themselves, a million times a double's rounding.
MARGIN = 1e-9
#: A search whose answer can be kept: one quoted ASCII word, a prefix (``"qwen"*``).
KEEPABLE_KEY = re.compile(r'^"([a-z0-9.]+)"\*$')
#: The index's words in ASCII text: ``unicode61`` with ``tokenchars '.'`` makes every run of
#: letters, digits and dots one word, folded to lower case (db.py m014).
_WORD = re.compile(r"[a-z0-9.]+")
#: Upper-case ASCII -> lower-case: the one case folding FTS5's unicode61 tokenizer, SQLite's
#: ``lower()`` and Python certainly agree on.
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


#: bm25's weight of a phrase held by half the models or more (FTS5 sets it, for a log at or
#: under 0).
IDF_FLOOR = 1e-6


def idf(models: int, matches: int) -> float:
    """bm25's idf of a phrase ``matches`` of ``models`` indexed models hold (FTS5's floor
    :data:`IDF_FLOOR`)."""
    value = math.log((models - matches + 0.5) / (matches + 0.5))
    return value if value > 0.0 else IDF_FLOOR


def score(hits: int, words: int, idf_: float, avgdl: float) -> float:
    """FTS5's ``rank`` of a model with ``hits`` of the phrase among its ``words``, the same
    operations in the same order as fts5Bm25Function."""
    part = (hits * (K1 + 1.0)) / (hits + K1 * (1 - B + B * words / avgdl))
    return -1.0 * (0.0 + idf_ * part)


def strength(hits: int, words: int, avgdl: float) -> float:
    """``x(f, D)``: the part of the score that orders a search's matches (larger is better)."""
    return (hits * (K1 + 1.0)) / (hits + K1 * (1 - B + B * words / avgdl))


#: Most hits a class is looked for with (a model name with more words starting with the same
#: prefix is not kept: its search is ranked when asked).
MAX_HITS = 64


def class_of(rank: float, idf_: float, avgdl: float) -> tuple[int, int] | None:
    """The class (hits, words) whose score is exactly FTS5's ``rank``: solved for the words
    at each number of hits up to :data:`MAX_HITS`, each answer checked by computing its score.
    None when no class, or more than one, gives that score (then the order of the search's
    matches is not known from their classes)."""
    strength_ = -rank / idf_
    found = None
    for hits in range(1, MAX_HITS + 1):
        # x = f (k1 + 1) / (f + k1 (1 - b) + k1 b D / avgdl), solved for D.
        words = round((hits * (K1 + 1.0) / strength_ - hits - K1 * (1 - B)) * avgdl / (K1 * B))
        if words >= hits and score(hits, words, idf_, avgdl) == rank:
            if found is not None:
                return None
            found = (hits, words)
    return found


def crossing_bounds(
    classes: Iterable[tuple[int, int]],
    avgdl: float,
    against: Iterable[tuple[int, int]] | None = None,
) -> tuple[float | None, float | None] | None:
    """The open interval of ``avgdl`` values around ``avgdl`` in which no two ``classes`` swap
    places (with ``against``: no class of ``classes`` and one of ``against``), shrunk by
    :data:`MARGIN` (None for a side where none ever does); None when ``avgdl`` is within the
    margin of a crossing."""
    ordered = sorted(set(classes))
    if against is None:
        pairs: Iterable[tuple[tuple[int, int], tuple[int, int]]] = itertools.combinations(
            ordered, 2
        )
    else:
        others = sorted(set(against))
        pairs = ((one, other) for one in ordered for other in others if one != other)
    low: float | None = None
    high: float | None = None
    for (f1, d1), (f2, d2) in pairs:
        if f1 == f2:
            continue  # same hits: fewer words is better at every avgdl
        crossing = 3.0 * (f2 * d1 - f1 * d2) / (f1 - f2)
        if abs(crossing - avgdl) <= MARGIN * avgdl:
            return None
        if crossing < avgdl:
            low = crossing if low is None else max(low, crossing)
        else:
            high = crossing if high is None else min(high, crossing)
    return (
        None if low is None else low + MARGIN * abs(low),
        None if high is None else high - MARGIN * high,
    )


def words_of(texts: Iterable[str | None]) -> list[list[str]] | None:
    """The index's words of each column text (None for a column without text), or None when
    a text is not ASCII (the tokenizer's Unicode rules are then FTS5's alone)."""
    columns: list[list[str]] = []
    for text in texts:
        if text is None:
            columns.append([])
            continue
        if not text.isascii():
            return None
        columns.append(_WORD.findall(text.translate(ASCII_LOWER)))
    return columns


def prefix_counts(columns: list[list[str]], prefixes: set[str]) -> dict[str, int]:
    """How many of a model's words start with each of ``prefixes`` that any of them does."""
    lengths = {len(prefix) for prefix in prefixes}
    counts: dict[str, int] = {}
    for words in columns:
        for word in words:
            for length in lengths:
                start = word[:length]
                if len(start) == length and start in prefixes:
                    counts[start] = counts.get(start, 0) + 1
    return counts


def fts_totals(conn: sqlite3.Connection) -> tuple[int, int]:
    """(rows indexed, words indexed in all columns) of ``models_fts``: FTS5's averages record
    (``models_fts_data`` row 1: varints, the row count then each column's total). Committed
    figures: FTS5 writes them when a transaction commits."""
    row = conn.execute("SELECT block FROM models_fts_data WHERE id = 1").fetchone()
    values = read_varints(bytes(row[0])) if row and row[0] else [0]
    return values[0], sum(values[1:])


def read_varints(data: bytes) -> list[int]:
    """The SQLite varints ``data`` holds (big-endian 7-bit groups, a 9th byte of 8 bits)."""
    values: list[int] = []
    value = length = 0
    for byte in data:
        if length == 8:
            values.append((value << 8) | byte)
            value = length = 0
            continue
        value = (value << 7) | (byte & 0x7F)
        length += 1
        if byte < 0x80:
            values.append(value)
            value = length = 0
    return values


#: Characters that separate search words besides spaces: ``/`` (``org/name``) and the control
#: characters (FTS5 reads a NUL as the end of the query).
_FTS_SEPARATORS = {ord("/"): " ", 0x7F: " ", **{code: " " for code in range(32)}}


def escape_fts_query(query: str) -> str:
    """Turn free text into a safe FTS5 prefix query: every word quoted, the last one a prefix.

    ``Llama-3.1`` becomes ``"Llama-3.1"*``; quotes inside words are doubled. Returns ``""`` for
    blank input (callers must skip the MATCH then).
    """
    words = [w for w in query.translate(_FTS_SEPARATORS).split() if w.strip('"')]
    if not words:
        return ""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    return " ".join(q + "*" for q in quoted)
