"""Model ids and small input checks: validation, sizes, dates, limits, timestamps, config
hashes, and the one "which of these names are taken" query (ids and aliases alike)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlite_utils

from ..errors import InvalidInputError, InvalidModelIdError
from ..limits import has_control_character

#: Longest model id accepted (characters). Hub ids are at most 96 + 1 + 96.
MAX_MODEL_ID_LENGTH = 200
#: Largest size ``parse_size`` accepts (a SQLite INTEGER holds up to ~9.2e18).
MAX_SIZE = 10**18
_MODEL_ID_CHARS = re.compile(r"^[A-Za-z0-9._+\-/]+$")


def utc_now() -> str:
    """Current UTC time as ISO-8601 with milliseconds, e.g. ``2026-11-28T12:00:00.000Z``."""
    return iso(datetime.now(timezone.utc))


def utc_now_after_earlier_writes() -> str:
    """:func:`utc_now` once the millisecond this is called in has passed: every row stamped
    before the call carries an earlier ``updated_at``, every row stamped after it a later or
    equal one (stamps are milliseconds, so a write in the same millisecond would tie)."""
    start = utc_now()
    while (now := utc_now()) == start:
        time.sleep(0.0001)
    return now


def iso(moment: datetime) -> str:
    """``moment`` as ISO-8601 with milliseconds and a ``Z`` (the catalog's timestamp form)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (hex, first 16 bytes) of the config's canonical JSON: key order does not matter."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return canonical_hash(canonical)


def canonical_hash(canonical: str) -> str:
    """:func:`config_hash` of a config whose canonical JSON (sorted keys, no spaces) is
    ``canonical``."""
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def validate_model_id(model_id: str) -> str:
    """Return ``model_id`` stripped, or raise :class:`InvalidModelIdError` naming the broken rule.

    Rules: not empty; at most 200 characters; no control characters; only ASCII letters,
    digits and ``. _ + -``, with at most one ``/`` between two non-empty parts; no ``..``; no
    part starts with ``.`` or ``-`` or ends with ``.`` (a hidden or relative file name, a
    command-line option). Anything else the Hub has served is accepted, e.g. a trailing ``-``
    (``IrfanUruchi/Llama-2-13B-Computer-Engineering-``), which today's naming rule forbids.
    """
    if not isinstance(model_id, str):
        raise InvalidModelIdError("model id must be a string")
    if has_control_character(model_id):
        raise InvalidModelIdError("model id must not contain control characters")
    model_id = model_id.strip()
    if not model_id:
        raise InvalidModelIdError("model id must not be empty")
    if len(model_id) > MAX_MODEL_ID_LENGTH:
        raise InvalidModelIdError(
            f"model id is {len(model_id)} characters long; at most {MAX_MODEL_ID_LENGTH} allowed"
        )
    if ".." in model_id:
        raise InvalidModelIdError(f"model id {model_id!r} must not contain '..'")
    if not _MODEL_ID_CHARS.match(model_id):
        raise InvalidModelIdError(
            f"model id {model_id!r} may only contain ASCII letters and digits, '.', '_', '+', '-' and one '/'"
        )
    parts = model_id.split("/")
    if len(parts) > 2 or any(not part for part in parts):
        raise InvalidModelIdError(
            f"model id {model_id!r} must be 'name' or 'org/name' (one '/', no empty parts)"
        )
    if any(part[0] in ".-" or part[-1] == "." for part in parts):
        raise InvalidModelIdError(
            f"model id {model_id!r}: a name or org must not start with '.' or '-' or end "
            "with '.' (unsafe as a file name or a command-line argument)"
        )
    return model_id


def parse_size(text: str | int | float) -> int:
    """Parse a parameter count: ``7B``, ``500M``, ``1.5e9``, ``70k``, ``1T`` or a plain integer."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        raw = str(text).strip().replace("_", "").replace(",", "")
        multiplier = 1.0
        suffixes = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
        if raw and raw[-1].lower() in suffixes:
            multiplier = suffixes[raw[-1].lower()]
            raw = raw[:-1]
        try:
            value = float(raw) * multiplier
        except ValueError:
            raise InvalidInputError(
                f"invalid size {text!r}: use a number with an optional K, M, B or T suffix, "
                "e.g. 7B, 500M, 1.5e9"
            ) from None
    if math.isnan(value):
        raise InvalidInputError(f"invalid size {text!r}: not a number")
    if math.isinf(value):
        raise InvalidInputError(f"invalid size {text!r}: infinite; give a finite size such as 70B")
    if value < 0:
        raise InvalidInputError(f"invalid size {text!r}: must not be negative")
    if value > MAX_SIZE:
        raise InvalidInputError(f"invalid size {text!r}: at most {MAX_SIZE:.0e} allowed")
    return int(round(value))


_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|T)")


def check_date(text: str) -> None:
    """Raise :class:`InvalidInputError` unless ``text`` is YYYY-MM-DD or a full ISO-8601 time."""
    try:
        ok = (
            bool(_DATE_START.match(text))
            and datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            is not None
        )
    except ValueError:
        ok = False
    if not ok:
        raise InvalidInputError(
            f"date {text!r} is not a date; use YYYY-MM-DD (2024-07-23) or ISO-8601 "
            "(2024-07-23T12:00:00Z)"
        )


def check_limit(limit: Any) -> int:
    """A row limit as an int 0 or more, or :class:`InvalidInputError`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidInputError(f"limit must be a whole number 0 or more, not {limit!r}")
    return limit


def variable_limit(conn: sqlite3.Connection) -> int:
    """How many ``?`` parameters one statement may hold on this SQLite build."""
    getlimit = getattr(conn, "getlimit", None)  # Python 3.11+
    if getlimit is not None:
        return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 999  # SQLite's smallest compiled-in default (before 3.32)


def name_owners(
    db: sqlite_utils.Database, names: Sequence[str], *, prefer_ids: bool = False
) -> dict[str, str]:
    """Which model each of ``names`` already names, as an id or an alias (case-insensitive).

    Returns ``{lower-cased name: owning model id}`` for the taken names only; a name that is
    both an alias and a model id (which ``doctor`` reports) maps to the alias's owner, or with
    ``prefer_ids`` to the model of that id. This is the catalog's one "is this name taken"
    query: single adds, bulk adds, aliases, ``load`` and the static sync all ask it.
    """
    owners: dict[str, str] = {}
    # Each name is bound twice; SQLite before 3.32 allows only 999 parameters.
    per_query = max(1, min(500, variable_limit(db.conn) // 2))
    for start in range(0, len(names), per_query):
        chunk = list(names[start : start + per_query])
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(
            f"SELECT alias, model_id FROM model_aliases WHERE alias IN ({marks}) UNION ALL "
            f"SELECT model_id, model_id FROM models WHERE model_id IN ({marks})",
            [*chunk, *chunk],
        ).fetchall()
        for name, owner in reversed(rows) if prefer_ids else rows:
            owners.setdefault(str(name).lower(), owner)
    return owners


def names_taken(db: sqlite_utils.Database, names: Sequence[str]) -> set[str]:
    """Lower-cased ``names`` that already name a model (as id or alias); see :func:`name_owners`."""
    return set(name_owners(db, names))
