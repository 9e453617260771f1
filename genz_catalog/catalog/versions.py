"""Versions: what a version snapshot holds, reading history, and diffs between versions.

Writing a version (on a content change or a rollback) is :mod:`.writes`' job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
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


def live_snapshot_texts(db: sqlite_utils.Database, model_ids: Iterable[str]) -> dict[str, str]:
    """The snapshot text of each model's live row (what its current version holds), keyed by
    the lower-cased stored id: one query per 500 models, their documents read at once."""
    from .reads import published

    wanted = sorted({model_id.lower() for model_id in model_ids})
    texts: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = db.execute(
            f"SELECT * FROM models WHERE model_id IN ({', '.join('?' * len(chunk))})", chunk
        )
        columns = [c[0] for c in rows.description]
        for row in published(db, [dict(zip(columns, r, strict=True)) for r in rows.fetchall()]):
            texts[row["model_id"].lower()] = version_snapshot_text(snapshot(row))
    return texts


def publish_versions(db: sqlite_utils.Database, rows: Sequence[dict[str, Any]]) -> None:
    """Give stored ``model_versions`` rows (``SELECT *``) their ``snapshot_json``, in place: a
    superseded version's document, a current version's live row (read for all at once)."""
    live = live_snapshot_texts(
        db, (row["model_id"] for row in rows if row.get("snapshot_doc") is None)
    )
    # A version of a model that is gone (an orphan doctor reports) shows an empty snapshot.
    gone = version_snapshot_text(snapshot({}))
    snapshot_texts(db.conn, rows, lambda model_id: live.get(model_id.lower(), gone))


def version_rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """``model_versions`` rows (``SELECT *``) in the published shape, ``snapshot_json`` filled in."""
    rows = [dict(r) for r in db.query(sql, params)]
    publish_versions(db, rows)
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
