"""Cached values per model (simulation results and the like), tied to the model's config hash
so a changed model is never served a stale value. Writes to a model drop its entries through
:func:`drop_model_cache` (called by :mod:`.writes`)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlite_utils

from ..db import write_transaction
from ..errors import InvalidInputError
from .ids import iso, utc_now


def drop_model_cache(db: sqlite_utils.Database, model_id: str) -> int:
    """Drop a model's cached values (the caller holds the write transaction); returns how many."""
    return db.execute("DELETE FROM model_cache WHERE model_id = ?", [model_id]).rowcount


def cache_value(
    db: sqlite_utils.Database,
    model: dict[str, Any],
    key: str,
    value: Any,
    ttl: float | None = None,
) -> None:
    """Cache a JSON-serialisable value for a stored ``model`` for ``ttl`` seconds (None: no
    expiry); see :meth:`genz_catalog.manager.ModelManager.cache_value`."""
    try:
        value_json = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"cannot cache {key!r}: {exc}") from None
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        # NaN/Infinity (a simulation that divided by zero): the catalog stores strict JSON
        # only, and a cache entry is optional, so the value is simply not cached.
        return
    now = datetime.now(timezone.utc)
    expires = iso(now + timedelta(seconds=float(ttl))) if ttl is not None else None
    with write_transaction(db):
        db.execute(
            """INSERT OR REPLACE INTO model_cache
                 (model_id, cache_key, config_hash, value_json, created_at, expires_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [model["model_id"], key, model["config_hash"] or "", value_json, iso(now), expires],
        )


def check_ttl(ttl: Any) -> None:
    """Raise :class:`InvalidInputError` unless ``ttl`` is None or a finite number of seconds > 0."""
    if ttl is not None and (
        isinstance(ttl, bool)
        or not isinstance(ttl, (int, float))
        or not math.isfinite(ttl)
        or ttl <= 0
    ):
        raise InvalidInputError(
            f"ttl must be a number of seconds > 0 (or None for no expiry), not {ttl!r}"
        )


def get_cached_value(
    db: sqlite_utils.Database, row: dict[str, Any], key: str, default: Any = None
) -> Any:
    """The cached value of stored model ``row`` if present, fresh and made for its config."""
    found = db.execute(
        """SELECT value_json FROM model_cache
           WHERE model_id = ? AND cache_key = ? AND config_hash = ?
             AND (expires_at IS NULL OR expires_at > ?)""",
        [row["model_id"], key, row["config_hash"] or "", utc_now()],
    ).fetchone()
    return json.loads(found[0]) if found else default


def clear_cache(db: sqlite_utils.Database, model_id: str | None = None) -> int:
    """Drop every cached value, or one stored model's. Returns the number removed."""
    with write_transaction(db):
        if model_id is None:
            return db.execute("DELETE FROM model_cache").rowcount
        return drop_model_cache(db, model_id)


def purge_expired(db: sqlite_utils.Database, model_id: str | None = None) -> int:
    """Drop expired cache entries (of every model, or of one stored model). Returns how many."""
    sql = "DELETE FROM model_cache WHERE expires_at IS NOT NULL AND expires_at <= ?"
    params: list[Any] = [utc_now()]
    if model_id is not None:
        sql += " AND model_id = ?"
        params.append(model_id)
    with write_transaction(db):
        return db.execute(sql, params).rowcount


def cache_entries(db: sqlite_utils.Database, model_id: str | None = None) -> list[dict[str, Any]]:
    """Cached values (of every model, or of one) with key, expiry and whether still fresh."""
    sql = (
        "SELECT model_id, cache_key, config_hash, created_at, expires_at, "
        "(expires_at IS NULL OR expires_at > ?) AS fresh FROM model_cache"
    )
    params: list[Any] = [utc_now()]
    if model_id is not None:
        sql += " WHERE model_id = ?"
        params.append(model_id)
    return [dict(r) for r in db.query(sql + " ORDER BY model_id, cache_key", params)]
