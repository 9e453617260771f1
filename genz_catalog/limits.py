"""Limits on what the catalog accepts, and the one strict JSON reader configs go through.

Every config (a file, a Hub download, a ``load`` row, a dict handed to ``add_model``) is held to
the same limits, so no input can make a command recurse without bound, parse a number of
thousands of digits, or store JSON that SQLite's ``json_extract`` cannot read:

- :data:`MAX_CONFIG_BYTES`: size of one config's JSON text (bytes);
- :data:`MAX_CONFIG_DEPTH`: nesting of objects and arrays (a real config nests 3-4 deep);
- :data:`MAX_NUMBER_CHARS`: characters of one JSON number (SQLite stores 64-bit integers);
- ``NaN`` / ``Infinity`` are not JSON, and one stored in ``config_json`` makes SQLite's JSON
  functions fail on every row of the table. transformers writes them (``time_step_limit:
  [0.0, Infinity]``), so a config may hold them; the stored copy holds the strings
  ``"Infinity"``, ``"-Infinity"`` and ``"NaN"`` instead (:func:`strict_config`), with a warning.
  Everything else the catalog reads back (``load`` rows, its own JSON columns) must be strict.

Each refusal is an :class:`~genz_catalog.errors.InvalidInputError` naming the limit exceeded.
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

from .errors import InvalidInputError

#: Largest config.json accepted from a file, the Hub or a ``load`` row (bytes).
MAX_CONFIG_BYTES = 2 * 1024 * 1024
#: Deepest nesting of objects and arrays accepted in a config (levels; the top object is 1).
MAX_CONFIG_DEPTH = 64
#: Longest JSON number accepted in a config (characters, sign and exponent included).
MAX_NUMBER_CHARS = 64
#: Bits of the longest integer accepted (MAX_NUMBER_CHARS decimal digits).
_MAX_INT_BITS = int(MAX_NUMBER_CHARS * 3.33)
#: Largest integer SQLite stores (a bigger one cannot be bound or compared).
SQLITE_MAX_INT = 2**63 - 1
#: Longest single text argument the web server's SQL functions accept (bytes); longer ones
#: give NULL without being cached, so one request cannot grow the server's caches.
MAX_SQL_FUNCTION_ARG_BYTES = 64 * 1024


def _refuse_constant(name: str) -> Any:
    raise InvalidInputError(f"{name} is not JSON; store numbers only (no NaN or Infinity)")


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidInputError(
            f"a number of {len(text)} characters exceeds the limit of {MAX_NUMBER_CHARS}"
        )
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidInputError(
            f"a number of {len(text)} characters exceeds the limit of {MAX_NUMBER_CHARS}"
        )
    value = float(text)
    if math.isinf(value):
        raise InvalidInputError(f"number {text} is too large for a float")
    return value


#: Bytes a JSON number is written with mapped to ``1``, every other byte to ``0``: a number
#: longer than MAX_NUMBER_CHARS leaves a run of more than that many ``1`` (so does a long
#: run of digits in a string, which only costs the careful parse).
_NUMBER_BYTES = bytes(0x31 if chr(b) in "0123456789+-.eE" else 0x30 for b in range(256))
_LONG_RUN = b"1" * (MAX_NUMBER_CHARS + 1)


def _loads_limited(text: str | bytes, *, strict: bool) -> Any:
    """``text`` parsed and checked under the limits; NaN and Infinity refused when ``strict``.

    json's C scanner parses it alone when it cannot hold a number over the limit: calling back
    into Python for every number (``parse_int``, ``parse_float``) nearly doubled the parse of a
    config, and a bulk import parses a million. A text that may hold a long number, or that
    parses to a NaN or an Infinity (a literal, or 1e400 overflowing), is parsed again number by
    number, so each is refused with its own reason."""
    if isinstance(text, (bytes, bytearray)):
        # As json.loads reads bytes (UTF-8, -16 or -32): scanned as the text they hold.
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    try:
        careful = _LONG_RUN in text.encode("utf-8", "surrogatepass").translate(_NUMBER_BYTES)
        if not careful:
            value = json.loads(text)
            careful = check_json_value(value, allow_non_finite=True)
        if careful:
            constants = {"parse_constant": _refuse_constant} if strict else {}
            value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, **constants)
            check_json_value(value, allow_non_finite=not strict)
    except RecursionError:
        raise InvalidInputError(
            f"JSON nested deeper than the limit of {MAX_CONFIG_DEPTH} levels"
        ) from None
    return value


def loads_strict(text: str | bytes, *, max_bytes: int | None = MAX_CONFIG_BYTES) -> Any:
    """Parse JSON under the catalog's limits (size, depth, number length, no NaN/Infinity).

    Raises :class:`InvalidInputError` for a limit and ``json.JSONDecodeError`` for bad syntax.
    """
    if max_bytes is not None and len(text) > max_bytes:
        raise InvalidInputError(
            f"JSON is {len(text)} bytes; at most {max_bytes} bytes are accepted"
        )
    return _loads_limited(text, strict=True)


def loads_config(text: str | bytes) -> Any:
    """Parse a config.json under the limits; ``NaN``/``Infinity`` are read (transformers writes
    them) and made strict when stored (:func:`strict_config`)."""
    return _loads_limited(text, strict=False)


def strict_config(config: Any) -> tuple[Any, list[str]]:
    """A copy of ``config`` with every NaN/Infinity replaced by its name as a string, and one
    warning per replaced value (its key path). Call after :func:`check_json_value`."""
    warnings: list[str] = []

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            warnings.append(
                f"config {path or '(top)'} is {name}, which is not JSON; stored as the string "
                f'"{name}"'
            )
            return name
        if isinstance(value, dict):
            return {k: clean(v, f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    return clean(config, ""), warnings


def check_json_value(value: Any, what: str = "config", *, allow_non_finite: bool = False) -> bool:
    """Check an already-parsed value against the limits (depth, numbers, NaN/Infinity unless
    ``allow_non_finite``). Returns True when it holds a NaN or Infinity (allowed).

    Iterative, so a value nested 100,000 deep is refused, not a ``RecursionError``. It runs for
    every imported config (~3 us for a Llama config), so scalars are checked inline.
    """
    non_finite = False
    if not isinstance(value, (dict, list, tuple)):
        value = [value]
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise InvalidInputError(
                f"{what} is nested deeper than the limit of {MAX_CONFIG_DEPTH} levels"
            )
        if isinstance(item, dict):
            for key in item:
                # json.dumps writes number keys as text (id2label {0: ...}); others it refuses.
                if type(key) is not str and not isinstance(key, (str, int, float, type(None))):
                    raise InvalidInputError(f"{what} has a key that is not text: {key!r}")
            children = item.values()
        else:
            children = item
        for child in children:
            kind = type(child)
            if kind is str or kind is bool or child is None:
                continue
            if kind is int:
                # By size, not str(): str() of a 10**5000 int raises ValueError itself.
                if child.bit_length() > _MAX_INT_BITS:
                    raise InvalidInputError(
                        f"{what} holds an integer longer than the limit of "
                        f"{MAX_NUMBER_CHARS} digits"
                    )
            elif kind is float:
                if not math.isfinite(child):
                    if not allow_non_finite:
                        raise InvalidInputError(
                            f"{what} holds {child!r}, which is not JSON; store numbers only"
                        )
                    non_finite = True
            elif isinstance(child, (dict, list, tuple)):
                stack.append((child, depth + 1))
            elif isinstance(child, (str, bool)):  # subclasses (an enum's value, ...)
                continue
            elif isinstance(child, (int, float)):  # subclasses: checked as the plain number
                plain = float(child) if isinstance(child, float) else int(child)
                non_finite = (
                    check_json_value([plain], what, allow_non_finite=allow_non_finite) or non_finite
                )
            else:
                raise InvalidInputError(f"{what} holds a {type(child).__name__}, which is not JSON")
    return non_finite


def dumps_strict(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that refuses NaN/Infinity (``allow_nan=False``) with a catalog error."""
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError as exc:
        raise InvalidInputError(f"not storable as strict JSON: {exc}") from None
    except RecursionError:
        raise InvalidInputError(
            f"nested deeper than the limit of {MAX_CONFIG_DEPTH} levels"
        ) from None


def has_control_character(text: str) -> bool:
    """Whether ``text`` holds a control, format or unassigned character (Unicode category C:
    a line break, a terminal escape, a NUL). Printable ASCII, nearly every text, is not scanned."""
    return not (text.isascii() and text.isprintable()) and any(
        unicodedata.category(ch).startswith("C") for ch in text
    )
