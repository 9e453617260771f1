"""Totals over the live catalog (``genz-catalog stats``, ``ModelManager.get_stats``)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from .prepared import PARAMETER_MISMATCH_TOLERANCE


def get_stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """Totals for the live (not deleted) catalog: by model type, attention, family and
    source; MoE count; metric, alias, version and cache counts; Hub count mismatches."""

    def grouped(column: str) -> dict[str, int]:
        return {
            (r["k"] if r["k"] is not None else "unknown"): r["n"]
            for r in db.query(
                f"SELECT {column} AS k, count(*) AS n FROM models WHERE is_deleted = 0 "
                f"GROUP BY {column} ORDER BY n DESC, k"
            )
        }

    def scalar(sql: str) -> int:
        return db.execute(sql).fetchone()[0]

    by_attention = grouped("attention_type")

    return {
        "total_models": scalar("SELECT count(*) FROM models WHERE is_deleted = 0"),
        "deleted_models": scalar("SELECT count(*) FROM models WHERE is_deleted = 1"),
        "moe_models": scalar("SELECT count(*) FROM models WHERE is_deleted = 0 AND is_moe"),
        "by_model_type": grouped("model_type"),
        "by_attention_type": by_attention,
        # The original API's name for the same figures.
        "by_attention": by_attention,
        "by_family": grouped("family"),
        "by_source": grouped("source"),
        "quality_metrics": scalar("SELECT count(*) FROM model_quality_metrics"),
        "aliases": scalar("SELECT count(*) FROM model_aliases"),
        "versions": scalar("SELECT count(*) FROM model_versions"),
        "cache_entries": scalar("SELECT count(*) FROM model_cache"),
        # Computed from the counts, not the stored flag, so a stale flag cannot hide one.
        "parameter_mismatches": [
            dict(r)
            for r in db.query(
                "SELECT model_id, parameter_count, hub_parameter_count FROM models "
                "WHERE is_deleted = 0 AND hub_parameter_count > 0 "
                "AND parameter_count IS NOT NULL "
                "AND abs(parameter_count - hub_parameter_count) > ? * hub_parameter_count "
                "ORDER BY model_id",
                [PARAMETER_MISMATCH_TOLERANCE],
            )
        ],
    }
