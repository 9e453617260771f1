"""SQL functions for the canned queries, registered on every Datasette connection.

The memory arithmetic is :mod:`genz_catalog.memory`'s; these wrappers only adapt SQLite values
(``memory_json`` text, strings from query parameters) and cache results, because a canned query
calls them once per row and most rows of a big catalog share a few architectures.

A function given bad input (an unknown dtype, a batch or sequence length below 1, figures that
overflow SQLite's 64-bit integers) returns NULL instead of raising: SQLite would turn the
exception into an opaque "user-defined function raised exception" (or "string or blob too big"
for an oversized integer); the canned queries turn the NULL into a status message.

The SQL console lets any visitor call these functions with any argument, so the caches are
bounded by bytes as well as entries (:class:`ByteBoundedCache`), and an argument longer than
:data:`~genz_catalog.limits.MAX_SQL_FUNCTION_ARG_BYTES` (text or blob) gives NULL before it
reaches a cache: ``genz_total_bytes(randomblob(50000000), ...)`` costs the server nothing.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .. import units
from ..catalog.search_scores import escape_fts_query
from ..limits import MAX_SQL_FUNCTION_ARG_BYTES
from ..store import unpack_document

#: dtype used when a query passes an empty one.
DEFAULT_DTYPE = "bf16"
#: Most entries one function's cache holds.
_CACHE_SIZE = 16_384
#: Most bytes of arguments and results one function's cache holds (4 caches: 32 MB at most).
CACHE_MAX_BYTES = 8 * 1024 * 1024
#: Counted per cache entry on top of its arguments' lengths (tuple, dict slot, small ints).
_ENTRY_OVERHEAD_BYTES = 200


def _size_of(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 8


class ByteBoundedCache:
    """A thread-safe LRU cache bounded by entries and by the bytes of its keys and values.

    Datasette calls the SQL functions from several query threads at once, hence the lock.
    """

    def __init__(self, max_entries: int = _CACHE_SIZE, max_bytes: int = CACHE_MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        """Bytes of keys and values held now (an estimate: lengths plus a fixed overhead)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple) -> tuple[bool, Any]:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return False, None
            self._entries.move_to_end(key)
            self.hits += 1
            return True, found[0]

    def put(self, key: tuple, value: Any) -> None:
        size = sum(_size_of(k) for k in key) + _size_of(value) + _ENTRY_OVERHEAD_BYTES
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._entries and (
                len(self._entries) > self.max_entries or self._bytes > self.max_bytes
            ):
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def bounded_cache(function: Callable[..., Any]) -> Callable[..., Any]:
    """Memoise ``function`` in a :class:`ByteBoundedCache` (``.cache`` on the wrapper)."""
    cache = ByteBoundedCache()

    @functools.wraps(function)
    def cached(*args: Any) -> Any:
        hit, value = cache.get(args)
        if hit:
            return value
        value = function(*args)
        cache.put(args, value)
        return value

    cached.cache = cache  # type: ignore[attr-defined]
    cached.cache_clear = cache.clear  # type: ignore[attr-defined]
    return cached


#: Largest integer SQLite stores; a bigger Python int makes the whole query fail.
SQLITE_MAX_INT = 2**63 - 1


def _memory():  # noqa: ANN202 - the module, imported on first use so a plugin load never fails
    from .. import memory

    return memory


def _dtype(dtype: Any) -> str:
    text = str(dtype).strip() if dtype is not None else ""
    return text or DEFAULT_DTYPE


def _record(memory_json: str | None, parameter_count: int | None) -> dict[str, Any]:
    return {"memory": json.loads(memory_json or "{}"), "parameter_count": parameter_count}


@lru_cache(maxsize=64)
def bytes_per_value(dtype: str | None) -> float | None:
    """Bytes per stored value for a dtype name (``bf16`` -> 2), or None if unknown."""
    try:
        return _memory().bytes_per_value(_dtype(dtype))
    except (ValueError, KeyError):
        return None


@bounded_cache
def weight_bytes(parameter_count: int | None, dtype: str | None = DEFAULT_DTYPE) -> int | None:
    """Weight memory (bytes) of ``parameter_count`` parameters stored as ``dtype``."""
    if parameter_count is None or parameter_count < 0 or bytes_per_value(dtype) is None:
        return None
    result = int(_memory().weight_bytes(int(parameter_count), _dtype(dtype)))
    return result if result <= SQLITE_MAX_INT else None


@bounded_cache
def kv_cache_bytes_per_token(
    memory_json: str | None, parameter_count: int | None, dtype: str | None = DEFAULT_DTYPE
) -> int | None:
    """KV-cache bytes per token (all layers, full attention, batch 1) of a ``models`` row."""
    if memory_json is None or bytes_per_value(dtype) is None:
        return None
    try:
        return int(
            _memory().kv_cache_bytes_per_token(_record(memory_json, parameter_count), _dtype(dtype))
        )
    except ValueError:  # unknown cache layout (a count without a converter handler): no figure
        return None


@bounded_cache
def memory_report_json(
    memory_json: str | None,
    parameter_count: int | None,
    batch: int | None,
    seq_len: int | None,
    dtype: str | None = DEFAULT_DTYPE,
) -> str | None:
    """``memory.memory_report`` as JSON text: weight, KV-cache, state and total bytes."""
    if memory_json is None or parameter_count is None or bytes_per_value(dtype) is None:
        return None
    batch = 1 if batch is None else batch
    seq_len = 1 if seq_len is None else seq_len
    if not 1 <= batch <= SQLITE_MAX_INT or not 1 <= seq_len <= SQLITE_MAX_INT:
        return None
    try:
        report = _memory().memory_report(
            _record(memory_json, parameter_count),
            batch=int(batch),
            seq_len=int(seq_len),
            dtype=_dtype(dtype),
        )
        # Byte figures as whole bytes; any descriptive keys the report adds pass through.
        figures = {
            key: int(value) if isinstance(value, (int, float)) else value
            for key, value in report.items()
        }
    except (ValueError, TypeError, KeyError, OverflowError):  # bad memory_json, int(inf)
        return None
    if any(isinstance(v, int) and v > SQLITE_MAX_INT for v in figures.values()):
        return None
    return json.dumps(figures, sort_keys=True)


@bounded_cache
def total_bytes(
    memory_json: str | None,
    parameter_count: int | None,
    batch: int | None,
    seq_len: int | None,
    dtype: str | None = DEFAULT_DTYPE,
) -> int | None:
    """Total inference memory (bytes): weights + KV cache + recurrent state."""
    report = memory_report_json(memory_json, parameter_count, batch, seq_len, dtype)
    return None if report is None else json.loads(report)["total_bytes"]


def _finite_number(value: Any) -> float | None:
    """A SQL value as a finite float, or None (text, blobs, NULL, inf: not a count)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):  # '1e999' is inf, not an error; 'abc' is not a number
        return None
    return number if math.isfinite(number) else None


def human_count(value: int | float | None) -> str | None:
    """A parameter count for people: ``8030261248`` -> ``8.03B`` (see :mod:`genz_catalog.units`)."""
    number = _finite_number(value)
    return None if number is None else units.human_count(number)


def human_bytes(value: int | float | None) -> str | None:
    """A byte count in binary units: ``16060522496`` -> ``14.96 GiB``."""
    number = _finite_number(value)
    return None if number is None else units.human_bytes(number)


def fts_query(text: Any) -> str:
    """Free text -> a safe FTS5 prefix query (see :func:`genz_catalog.catalog.search_scores.escape_fts_query`).

    Blank input gives ``'""'``, a query that matches nothing instead of an FTS5 syntax error;
    so does text too long to be a search (:data:`MAX_SQL_FUNCTION_ARG_BYTES`). A number is
    searched as its text.
    """
    if text is None or isinstance(text, bytes):
        return '""'
    text = str(text)
    if len(text) > MAX_SQL_FUNCTION_ARG_BYTES:
        return '""'
    return escape_fts_query(text) or '""'


def document_text(body: str | bytes | None) -> str | None:
    """``genz_document(body)``: a ``documents.body`` as text. A config is stored packed (a
    BLOB, see :func:`genz_catalog.store.pack_document`); text comes back as it is, and a BLOB
    that is not a packed document gives NULL."""
    try:
        return unpack_document(body)
    except ValueError:
        return None


#: name -> (function, number of arguments, positions of integer arguments) for SQLite.
SQL_FUNCTIONS = {
    "genz_bytes_per_value": (bytes_per_value, 1, ()),
    "genz_weight_bytes": (weight_bytes, 2, (0,)),
    "genz_kv_bytes_per_token": (kv_cache_bytes_per_token, 3, (1,)),
    "genz_memory_report": (memory_report_json, 5, (1, 2, 3)),
    "genz_total_bytes": (total_bytes, 5, (1, 2, 3)),
    "genz_human_count": (human_count, 1, ()),
    "genz_human_bytes": (human_bytes, 1, ()),
}


def _as_int(value: Any) -> int | None:
    """Query parameters arrive as text ('4096'); the memory functions want integers."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(float(str(value).strip()))
    except (ValueError, OverflowError):  # 'abc', 'inf', '1e999'
        return None


def _oversized(args: tuple[Any, ...]) -> bool:
    return any(isinstance(a, (str, bytes)) and len(a) > MAX_SQL_FUNCTION_ARG_BYTES for a in args)


#: Errors of a function given what it cannot read, answered NULL (see :func:`_guarded`).
_BAD_INPUT = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    ZeroDivisionError,
    RecursionError,
)


def _guarded(function, positions: tuple[int, ...]):  # noqa: ANN001, ANN202
    """``function`` as SQLite calls it: oversized arguments give NULL before any cache or
    parsing sees them; integer positions are converted from query-parameter text."""

    def call(*args: Any) -> Any:
        if _oversized(args):
            return None
        if positions:
            converted = [_as_int(a) if i in positions else a for i, a in enumerate(args)]
            # 'abc' or '1e999' is not a missing value to default: the answer is NULL.
            if any(c is None and a is not None for c, a in zip(converted, args, strict=True)):
                return None
            args = tuple(converted)
        try:
            return function(*args)
        except _BAD_INPUT:
            # SQL of a visitor's own can hand any value to any argument (a memory document
            # without its keys, a number where text belongs): no figure, not a failed query.
            return None

    return call


def register_sql_functions(conn: sqlite3.Connection) -> None:
    """Register every ``genz_*`` function on a SQLite connection."""
    for name, (function, arity, int_positions) in SQL_FUNCTIONS.items():
        conn.create_function(name, arity, _guarded(function, int_positions), deterministic=True)
    # Not size-guarded: a packed config may be longer than MAX_SQL_FUNCTION_ARG_BYTES, nothing
    # is cached, and what one call gives is bounded (unpack_document stops at MAX_CONFIG_BYTES).
    conn.create_function("genz_document", 1, document_text, deterministic=True)
    # Not guarded either: it answers every input itself, oversized text included, with a search
    # that matches nothing, where the guard's NULL would make MATCH an FTS5 syntax error.
    conn.create_function("genz_fts_query", 1, fts_query, deterministic=True)
