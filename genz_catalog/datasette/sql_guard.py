"""Bounds on the work one SQL function call can do on the web server's connections.

Datasette's time limit (``sql_time_limit_ms``) is a progress handler: SQLite checks it between
virtual-machine steps, never inside one function call. So a single call that runs for seconds
(``printf('%.*c', 1000000000, 'x')`` ran 10.5 s; ``instr`` or ``trim`` of two long strings is
quadratic) would hold a query thread far past the limit. :func:`guard_connection` closes that:

- ``SQLITE_LIMIT_LENGTH`` caps every string or blob a query can make (:data:`MAX_VALUE_BYTES`):
  ``zeroblob``, ``randomblob``, ``replace``, ``group_concat`` ... fail fast with "string or
  blob too big" instead of allocating gigabytes;
- ``SQLITE_LIMIT_LIKE_PATTERN_LENGTH`` caps LIKE/GLOB patterns (:data:`MAX_LIKE_PATTERN`);
- ``printf``/``format`` refuse widths and precisions above :data:`MAX_PRINTF_WIDTH` and format
  strings longer than :data:`MAX_PRINTF_FORMAT` (the built-in, asked to pad a billion
  characters, loops a billion times even after giving up on the memory);
- ``instr``, ``replace`` and two-argument ``trim``/``ltrim``/``rtrim`` run in linear time
  (Python's string search; a set of characters), with SQLite's results.

Each refusal is an error of that one query; the server and other requests carry on.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from typing import Any

#: Longest string or blob any query may build or read (bytes). The catalog's largest stored
#: value is a version snapshot holding a config of at most 2 MB (JSON-escaped: ~3 MB).
MAX_VALUE_BYTES = 8 * 1024 * 1024
#: Longest LIKE or GLOB pattern (bytes).
MAX_LIKE_PATTERN = 1000
#: Largest width or precision in a ``printf`` directive (characters).
MAX_PRINTF_WIDTH = 10_000
#: Longest ``printf`` format string (characters).
MAX_PRINTF_FORMAT = 10_000

_DIRECTIVE = re.compile(r"%([-+ 0#,!]*)(\*|\d*)(?:\.(\*|\d*))?(?:ll|l)?([a-zA-Z%])?")
_helpers = threading.local()


def _builtin(sql: str, args: tuple[Any, ...]) -> Any:
    """Run SQLite's own function on a private in-memory connection (one per thread): the
    served connection's name now points at the guarded version."""
    conn = getattr(_helpers, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", check_same_thread=True)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        _helpers.conn = conn
    return conn.execute(sql, args).fetchone()[0]


def _check_printf(args: tuple[Any, ...]) -> None:
    if not args or not isinstance(args[0], str):
        return
    fmt = args[0]
    if len(fmt) > MAX_PRINTF_FORMAT:
        raise ValueError(f"printf format longer than {MAX_PRINTF_FORMAT} characters")
    position = 1
    for match in _DIRECTIVE.finditer(fmt):
        for part in (match.group(2), match.group(3)):
            if part == "*":
                value = args[position] if position < len(args) else 0
                position += 1
                try:
                    number = abs(int(value))
                except (TypeError, ValueError, OverflowError):
                    number = 0
            elif part:
                number = int(part) if len(part) <= 9 else MAX_PRINTF_WIDTH + 1
            else:
                continue
            if number > MAX_PRINTF_WIDTH:
                raise ValueError(f"printf width or precision above {MAX_PRINTF_WIDTH}")
        if match.group(4) not in (None, "%"):
            position += 1


def _printf(name: str):  # noqa: ANN202
    def call(*args: Any) -> Any:
        _check_printf(args)
        marks = ", ".join("?" for _ in args)
        return _builtin(f"SELECT {name}({marks})", args)

    return call


def _as_text(value: Any) -> str | bytes | None:
    if value is None or isinstance(value, (str, bytes)):
        return value
    return _builtin("SELECT CAST(? AS TEXT)", (value,))


def _instr(haystack: Any, needle: Any) -> int | None:
    if haystack is None or needle is None:
        return None
    if isinstance(haystack, bytes) and isinstance(needle, bytes):
        return haystack.find(needle) + 1
    text, part = _as_text(haystack), _as_text(needle)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if isinstance(part, bytes):
        part = part.decode("utf-8", "replace")
    return text.find(part) + 1


def _replace(value: Any, old: Any, new: Any) -> Any:
    if value is None or old is None or new is None:
        return None
    text, pattern, replacement = _as_text(value), _as_text(old), _as_text(new)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if isinstance(pattern, bytes):
        pattern = pattern.decode("utf-8", "replace")
    if isinstance(replacement, bytes):
        replacement = replacement.decode("utf-8", "replace")
    if pattern == "":
        return text
    # Size the result before building it: 'x' -> 10 characters on 8 MB would allocate 80 MB.
    grown = len(text) + text.count(pattern) * (len(replacement) - len(pattern))
    if grown > MAX_VALUE_BYTES:
        raise sqlite3.DataError("string or blob too big")
    return text.replace(pattern, replacement)


def _trim(side: str):  # noqa: ANN202
    def call(value: Any, characters: Any) -> Any:
        if value is None or characters is None:
            return None
        text, chars = _as_text(value), _as_text(characters)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if isinstance(chars, bytes):
            chars = chars.decode("utf-8", "replace")
        wanted = set(chars)  # linear: the built-in compares every character with every one
        start, end = 0, len(text)
        if side in ("both", "left"):
            while start < end and text[start] in wanted:
                start += 1
        if side in ("both", "right"):
            while end > start and text[end - 1] in wanted:
                end -= 1
        return text[start:end]

    return call


#: (name, number of arguments, function) registered over SQLite's built-ins.
GUARDED_FUNCTIONS = (
    ("printf", -1, _printf("printf")),
    ("format", -1, _printf("printf")),
    ("instr", 2, _instr),
    ("replace", 3, _replace),
    ("trim", 2, _trim("both")),
    ("ltrim", 2, _trim("left")),
    ("rtrim", 2, _trim("right")),
)


def guard_connection(conn: sqlite3.Connection) -> None:
    """Apply the limits above to one of the web server's connections."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, MAX_LIKE_PATTERN)
    for name, arity, function in GUARDED_FUNCTIONS:
        conn.create_function(name, arity, function, deterministic=True)
