"""Versions: what a version snapshot holds, reading history, and diffs between versions.

Writing a version (on a content change or a rollback) is :mod:`.writes`' job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from ..db import DERIVED_COLUMNS
from ..errors import VersionNotFoundError
from ..store import snapshot_texts, version_snapshot_text

#: Columns a version snapshot holds: every derived column, the raw config and its hash, and
#: the Hub revision it came from.
SNAPSHOT_COLUMNS = (
    *DERIVED_COLUMNS,
    "source",
    "config_json",
    "config_hash",
    "revision_sha",
    "hub_parameter_count",
    "parameter_mismatch",
)
#: Snapshot columns that do not count as a content change (a new Hub sha with the same config
#: is not a new version).
PROVENANCE_COLUMNS = ("revision_sha", "hub_parameter_count", "parameter_mismatch")


def snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """The version snapshot of a ``models`` row (or prepared content): :data:`SNAPSHOT_COLUMNS`."""
    snap = {}
    for column in SNAPSHOT_COLUMNS:
        value = row.get(column)
        if isinstance(value, bool):
            value = int(value)
        snap[column] = value
    if snap.get("parameter_mismatch") is None:
        snap["parameter_mismatch"] = 0
    return snap


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two snapshots hold the same content (provenance columns aside)."""
    return all(a.get(c) == b.get(c) for c in SNAPSHOT_COLUMNS if c not in PROVENANCE_COLUMNS)


def live_snapshot_text(db: sqlite_utils.Database, model_id: str) -> str:
    """The snapshot of a model's live row: what its current version holds (stored id)."""
    from .reads import model_row

    row = model_row(db, model_id, include_deleted=True, follow_aliases=False)
    return version_snapshot_text(snapshot(row or {}))


def version_rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """``model_versions`` rows (``SELECT *``) in the published shape, ``snapshot_json`` filled in."""
    rows = [dict(r) for r in db.query(sql, params)]
    live: dict[str, str] = {}

    def current(model_id: str) -> str:
        if model_id not in live:
            live[model_id] = live_snapshot_text(db, model_id)
        return live[model_id]

    snapshot_texts(db.conn, rows, current)
    return rows


def get_versions(db: sqlite_utils.Database, model_id: str) -> list[dict[str, Any]]:
    """Every version of a model (by its stored id), oldest first, with its parsed ``snapshot``."""
    versions = version_rows(
        db, "SELECT * FROM model_versions WHERE model_id = ? ORDER BY version", [model_id]
    )
    for entry in versions:
        entry["snapshot"] = json.loads(entry["snapshot_json"])
    return versions


def version_snapshot(db: sqlite_utils.Database, model_id: str, version: int) -> dict[str, Any]:
    """The snapshot of one version, or :class:`VersionNotFoundError` listing the versions."""
    rows = version_rows(
        db,
        "SELECT * FROM model_versions WHERE model_id = ? AND version = ?",
        [model_id, int(version)],
    )
    if not rows:
        known = [
            str(r["version"])
            for r in db.query(
                "SELECT version FROM model_versions WHERE model_id = ? ORDER BY version",
                [model_id],
            )
        ]
        raise VersionNotFoundError(
            f"model {model_id!r} has no version {version}; versions: {', '.join(known)}"
        )
    return json.loads(rows[0]["snapshot_json"])


def diff(db: sqlite_utils.Database, model_id: str, v1: int, v2: int) -> dict[str, tuple[Any, Any]]:
    """Fields that differ between two versions: ``{field: (value in v1, value in v2)}``.

    Raw config keys appear flattened as ``config.key`` (``config.text_config.hidden_size``).
    """
    a = flatten_snapshot(version_snapshot(db, model_id, v1))
    b = flatten_snapshot(version_snapshot(db, model_id, v2))
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def flatten_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot with its JSON documents flattened to dotted keys (``config.hidden_size``)."""
    flat: dict[str, Any] = {}
    for key, value in snapshot.items():
        if key == "config_json":
            _flatten(json.loads(value or "{}"), "config", flat)
        elif key in ("genz_config_json", "memory_json", "warnings_json"):
            _flatten(json.loads(value or "null"), key[: -len("_json")], flat)
        else:
            flat[key] = value
    return flat


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}", out)
    else:
        out[prefix] = value
