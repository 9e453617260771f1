"""FTS5's bm25 for a two-word search, worked out in Python, so a stored answer of a pair of
words (``instruct v``) can be kept right through small writes, as a one-word answer is
(:mod:`.search_scores`, :mod:`.remembered_searches`).

For two phrases a and b, bm25 gives a model

    -(idf_a * x(f_a, D) + idf_b * x(f_b, D))

with ``x`` as for one word (:func:`.search_scores.strength`): ``f_a`` and ``f_b`` count the
model's words that start with each phrase and ``D`` all its words. Models of the same *class*
(f_a, f_b, D) tie. Unlike one word, the order of two classes depends on the two weights as
well as on the index's mean words per model (avgdl), and every write moves them: a weight is
``log((N - n + 0.5) / (n + 0.5))`` of the models indexed (N) and of those holding the phrase
(n). So a stored pair answer carries a *box*: ranges of idf_a, idf_b and avgdl in which every
order it relies on is proven (:func:`above`, with interval bounds), each listed class above the
next and the last above every class of the search it does not list. A write keeps the answer
while the weights it can prove and the exact avgdl stay inside the box: n is known exactly when
the answer is ranked and, after that, within the models each write changed (a new model adds
exactly what it holds; a changed one may have held the phrase before or not).

Classes are found from FTS5's own scores (:func:`classes_of`), every one checked to the last
bit, so nothing is kept whose order this module does not reproduce.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .search_scores import K1, MARGIN, B, idf, strength

#: Most hits of either phrase a class is looked for with: a model name with more words that
#: start with one phrase leaves its search's answer unkept (it is ranked when asked).
MAX_HITS = 10
#: A class of a pair search: (hits of the first phrase, hits of the second, words).
PairClass = tuple[int, int, int]
#: Ranges in which an answer's orders are proven: (idf_a low, idf_a high, idf_b low, idf_b
#: high, avgdl low, avgdl high).
Box = tuple[float, float, float, float, float, float]
#: Relative half-widths tried for a box, widest first: the widest that proves every order is
#: kept. A one-model write moves a weight by ~1e-6 of itself at a million models. The last, 0,
#: proves the order at the weights known alone (still by :data:`MARGIN`): an answer whose
#: classes come that close is kept by counting its words' models again at the next write.
BOX_WIDTHS = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6, 0.0)


def score(cls: PairClass, idf_a: float, idf_b: float, avgdl: float) -> float:
    """FTS5's ``rank`` of a model of class ``cls``: the same operations in the same order as
    fts5Bm25Function (the phrases' terms added to 0.0 one by one)."""
    hits_a, hits_b, words = cls
    total = 0.0
    total += idf_a * strength(hits_a, words, avgdl)
    total += idf_b * strength(hits_b, words, avgdl)
    return -1.0 * total


def classes_of(
    ranks: Iterable[float], idf_a: float, idf_b: float, avgdl: float
) -> dict[float, PairClass] | None:
    """The class of each of ``ranks`` (FTS5's scores of a pair search's matches) whose score
    is exactly that rank, hits of each phrase up to :data:`MAX_HITS`; None when a rank has no
    such class, or more than one (their order would not be known).

    For given hits the strength ``S = -rank`` is ``idf_a k f_a / (p + u) + idf_b k f_b / (q +
    u)`` with ``k = k1 + 1``, ``p = f_a + k1 (1 - b)``, ``q = f_b + k1 (1 - b)`` and ``u = k1 b
    D / avgdl``: a quadratic in ``u`` with one root where the strength falls with the words.
    Each hits pair's root is rounded to whole words and checked by computing the score (~7 ms
    for 100 distinct ranks at the default :data:`MAX_HITS`). When both words weigh the same
    (both held by half the models or more: bm25's weight is then its floor, 1e-6), a class and
    its mirror score alike and the class is given :func:`mirrored`."""
    wanted = sorted(set(ranks))
    symmetric = idf_a == idf_b
    k = K1 + 1.0
    c = K1 * (1 - B)
    g = K1 * B / avgdl
    found: dict[float, PairClass] = {}
    for hits_a in range(1, MAX_HITS + 1):
        alpha, p = idf_a * hits_a * k, hits_a + c
        for hits_b in range(1, MAX_HITS + 1):
            beta, q = idf_b * hits_b * k, hits_b + c
            least = max(hits_a, hits_b)
            for rank in wanted:
                strength = -rank
                # strength (p + u)(q + u) = alpha (q + u) + beta (p + u)
                linear = strength * (p + q) - alpha - beta
                constant = strength * p * q - alpha * q - beta * p
                disc = linear * linear - 4 * strength * constant
                if strength <= 0.0 or disc < 0.0:
                    continue
                words = round((-linear + math.sqrt(disc)) / (2 * strength) / g)
                if words < least:
                    continue
                cls = (hits_a, hits_b, words)
                if score(cls, idf_a, idf_b, avgdl) == rank:
                    if symmetric:
                        cls = mirrored(cls)
                    if found.setdefault(rank, cls) != cls:
                        return None
    return found if len(found) == len(wanted) else None


def mirrored(cls: PairClass) -> PairClass:
    """A class as it scores when both words weigh the same: its hits in either order, the
    fewer first (``x(f_a) + x(f_b)`` is the same sum both ways, to the bit)."""
    hits_a, hits_b, words = cls
    return (hits_a, hits_b, words) if hits_a <= hits_b else (hits_b, hits_a, words)


def _term_low(f1: int, d1: int, f2: int, d2: int, low: float, high: float) -> float:
    """A lower bound of ``x(f1, d1) - x(f2, d2)`` at every avgdl from ``low`` to ``high``: x
    grows with avgdl, with the hits, and falls with the words."""
    if (f1, d1) == (f2, d2):
        return 0.0
    bound = strength(f1, d1, low) - strength(f2, d2, high)
    return max(bound, 0.0) if f1 >= f2 and d1 <= d2 else bound


def above(better: PairClass, worse: PairClass, box: Box) -> bool:
    """Whether a model of class ``better`` scores strictly better (a lower rank) than one of
    ``worse`` at every idf_a, idf_b and avgdl in ``box``, by a margin no rounding can cross."""
    ia_low, ia_high, ib_low, ib_high, low, high = box
    term_a = _term_low(better[0], better[2], worse[0], worse[2], low, high)
    term_b = _term_low(better[1], better[2], worse[1], worse[2], low, high)
    bound = (ia_low if term_a >= 0 else ia_high) * term_a
    bound += (ib_low if term_b >= 0 else ib_high) * term_b
    return bound > MARGIN * (ia_high + ib_high) * (K1 + 1.0)


def proven(order: Sequence[PairClass], unlisted: Iterable[PairClass], box: Box) -> bool:
    """Whether in ``box`` each class of ``order`` (an answer's classes, best first) scores
    above the next, and the last above each of ``unlisted``."""
    if any(not above(one, other, box) for one, other in zip(order, order[1:], strict=False)):
        return False
    return not order or all(above(order[-1], other, box) for other in unlisted)


def weights(models: int, held_a: tuple[int, int], held_b: tuple[int, int]) -> tuple[float, ...]:
    """(idf_a low, idf_a high, idf_b low, idf_b high) of ``models`` indexed models when between
    ``held[0]`` and ``held[1]`` of them hold each phrase (a weight falls as more hold it)."""
    return (
        idf(models, held_a[1]),
        idf(models, held_a[0]),
        idf(models, held_b[1]),
        idf(models, held_b[0]),
    )


def find_box(
    order: Sequence[PairClass],
    unlisted: Iterable[PairClass],
    known: tuple[float, ...],
    avgdl: float,
    *,
    fixed: bool = False,
) -> Box | None:
    """The widest box (:data:`BOX_WIDTHS`) around the weights ``known`` (low and high of each,
    :func:`weights`) and ``avgdl`` in which :func:`proven` holds; None when even the narrowest
    does not (two classes nearly tie). With ``fixed`` the weights are not widened (mirrored
    classes, proven while both words weigh exactly the same)."""
    others = list(unlisted)
    ia_low, ia_high, ib_low, ib_high = known
    for width in BOX_WIDTHS:
        spread = 0.0 if fixed else width
        box = (
            ia_low * (1 - spread),
            ia_high * (1 + spread),
            ib_low * (1 - spread),
            ib_high * (1 + spread),
            avgdl * (1 - width),
            avgdl * (1 + width),
        )
        if proven(order, others, box):
            return box
    return None


def inside(box: Box, known: tuple[float, ...], avgdl: float) -> bool:
    """Whether the weights ``known`` (low and high of each) and ``avgdl`` lie in ``box``."""
    ia_low, ia_high, ib_low, ib_high = known
    return (
        box[0] <= ia_low
        and ia_high <= box[1]
        and box[2] <= ib_low
        and ib_high <= box[3]
        and box[4] <= avgdl <= box[5]
    )
