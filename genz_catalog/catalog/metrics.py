"""Quality metrics (MMLU and the like): checking one, and the one upsert that stores them.

Scores are stored in percent (0-100, GenZ's scale): a fraction and a percentage of the same
score agree (see :func:`check_metric`). ``admin.load_catalog`` stores exported metric rows
through :func:`upsert_metrics` too.
"""

from __future__ import annotations

import csv
import math
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlite_utils

from .. import limits as _limits
from ..db import write_transaction
from ..errors import InvalidInputError
from .ids import check_date
from .reads import require_model

#: Columns that identify a metric row (``shots`` NULL counts as one value).
METRIC_KEY = ("model_id", "metric_name", "shots")


def upsert_metrics(
    db: sqlite_utils.Database,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    keep_on_conflict: Sequence[str] = (),
) -> None:
    """Insert metric rows (tuples in ``columns`` order), replacing the row with the same model,
    metric name and shots; ``keep_on_conflict`` columns keep their stored value then (e.g.
    ``created_at``). Joins the caller's write transaction, or opens one."""
    updates = ", ".join(
        f"[{c}] = excluded.[{c}]"
        for c in columns
        if c not in METRIC_KEY and c not in keep_on_conflict
    )
    sql = (
        f"INSERT INTO model_quality_metrics ({', '.join(f'[{c}]' for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) "
        "ON CONFLICT (model_id, metric_name, COALESCE(shots, -1)) DO "
        + (f"UPDATE SET {updates}" if updates else "NOTHING")
    )
    with write_transaction(db):
        for row in rows:
            db.execute(sql, list(row))


def _text(label: str, value: str) -> str:
    """``value``, or :class:`InvalidInputError` when it holds a control character (a line
    break, a terminal escape): these texts are printed in tables and on pages as they are."""
    if _limits.has_control_character(value):
        shown = value.encode("unicode_escape").decode("ascii")[:60]
        raise InvalidInputError(f"{label} '{shown}' holds a control character")
    return value


def check_metric(db: sqlite_utils.Database, item: Mapping[str, Any]) -> dict[str, Any]:
    """One metric, validated and normalised (blank optional fields become None).

    With no ``unit``, a value from 0 to 1 is a fraction (``0.625`` is stored as 62.5) and a
    larger one a percentage; ``unit="fraction"`` always scales by 100, ``unit="percent"``
    never does. Any other unit (e.g. ``perplexity``) keeps the value as given.
    """

    def blank(value: Any) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())

    model_id = item.get("model_id")
    if blank(model_id):
        raise InvalidInputError("model id must not be empty")
    model = require_model(db, str(model_id).strip(), include_deleted=True)
    name = _text("metric name", str(item.get("metric_name") or "").strip())
    if not name:
        raise InvalidInputError("metric name must not be empty")
    raw_value = item.get("metric_value")
    try:
        if isinstance(raw_value, bool):
            raise ValueError
        value = float(raw_value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"metric value {raw_value!r} for {name} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInputError(f"metric value {raw_value!r} for {name} is not finite")
    unit = None if blank(item.get("unit")) else _text("metric unit", str(item["unit"]).strip())
    if unit == "fraction" or (unit is None and 0 <= value <= 1):
        if not 0 <= value <= 1:
            raise InvalidInputError(
                f"metric value {value:g} for {name} is outside 0-1 (unit: fraction)"
            )
        value = round(value * 100, 9)  # 0.666 -> 66.6, not 66.60000000000001
    if unit in (None, "fraction"):
        unit = "percent"
    if unit == "percent" and not 0 <= value <= 100:
        raise InvalidInputError(
            f"metric value {value:g} for {name} is outside 0-100 (unit: percent)"
        )
    shots = item.get("shots")
    if blank(shots):
        shots = None
    else:
        text = str(shots).strip()
        # isascii: str.isdigit() also accepts '²', which int() refuses.
        if isinstance(shots, bool) or not (text.isascii() and text.isdigit()):
            raise InvalidInputError(f"shots {shots!r} is not a whole number 0 or more")
        if len(text) > 19 or int(text) > _limits.SQLITE_MAX_INT:
            raise InvalidInputError(
                f"shots {text[:30]}{'...' if len(text) > 30 else ''} is too large; "
                f"at most {_limits.SQLITE_MAX_INT}"
            )
        shots = int(text)
    source = (
        None if blank(item.get("source")) else _text("metric source", str(item["source"]).strip())
    )
    measured_at = None if blank(item.get("measured_at")) else str(item["measured_at"]).strip()
    if measured_at is not None:
        check_date(measured_at)
    return {
        "model_id": model["model_id"],
        "metric_name": name,
        "shots": shots,
        "metric_value": value,
        "unit": unit,
        "source": source,
        "measured_at": measured_at,
    }


def get_quality_metrics(
    db: sqlite_utils.Database, model_id: str | None = None
) -> list[dict[str, Any]]:
    """Metrics of one stored model, or of every model, ordered by model, metric and shots."""
    if model_id is None:
        return [
            dict(r)
            for r in db.query(
                "SELECT * FROM model_quality_metrics ORDER BY model_id, metric_name, shots"
            )
        ]
    return [
        dict(r)
        for r in db.query(
            "SELECT * FROM model_quality_metrics WHERE model_id = ? ORDER BY metric_name, shots",
            [model_id],
        )
    ]


#: Largest metrics CSV read_metrics_csv reads (bytes): ~500,000 rows.
MAX_METRICS_CSV_BYTES = 64 * 1024 * 1024
#: Columns read_metrics_csv reads; the first three are required. ``date`` -> measured_at.
METRIC_CSV_REQUIRED = ("model_id", "metric_name", "metric_value")
METRIC_CSV_OPTIONAL = ("shots", "unit", "source", "date")


def read_metrics_csv(file: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a metrics CSV as :meth:`ModelManager.add_quality_metrics` items, with
    ``FILE line N`` labels (the manager names the line of a bad row with them).

    Columns: :data:`METRIC_CSV_REQUIRED`, and optionally :data:`METRIC_CSV_OPTIONAL`
    (``date`` becomes ``measured_at``). A missing, unreadable or malformed file, a wrong
    header or a row with more values than columns raises :class:`InvalidInputError`.

    Only a regular file of at most :data:`MAX_METRICS_CSV_BYTES` is read: a FIFO could block
    forever and a device (``/dev/zero``) never ends.
    """
    try:
        status = os.stat(file)
    except FileNotFoundError:
        raise InvalidInputError(f"{file}: no such file") from None
    except OSError as exc:
        raise InvalidInputError(f"{file}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(status.st_mode):
        raise InvalidInputError(f"{file}: not a regular file")
    if status.st_size > MAX_METRICS_CSV_BYTES:
        raise InvalidInputError(
            f"{file}: {status.st_size:,} bytes; at most {MAX_METRICS_CSV_BYTES:,} are accepted"
        )
    try:
        with open(file, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in METRIC_CSV_REQUIRED if c not in header]
            if not header:
                raise InvalidInputError(f"{file}: empty file; expected a header row")
            if missing:
                raise InvalidInputError(
                    f"{file}: missing column{'s' if len(missing) > 1 else ''} "
                    + ", ".join(missing)
                    + "; columns are "
                    + ", ".join(METRIC_CSV_REQUIRED)
                    + " and optionally "
                    + ", ".join(METRIC_CSV_OPTIONAL)
                )
            unknown = [c for c in header if c not in METRIC_CSV_REQUIRED + METRIC_CSV_OPTIONAL]
            if unknown:
                raise InvalidInputError(
                    f"{file}: unknown column{'s' if len(unknown) > 1 else ''} "
                    + ", ".join(unknown)
                    + "; columns are "
                    + ", ".join(METRIC_CSV_REQUIRED)
                    + " and optionally "
                    + ", ".join(METRIC_CSV_OPTIONAL)
                )
            reader.fieldnames = header
            items, labels = [], []
            for row in reader:
                if None in row:
                    raise InvalidInputError(
                        f"{file} line {reader.line_num}: more values than columns"
                    )
                if not any((v or "").strip() for v in row.values()):
                    continue  # blank line
                item = {k: row.get(k) for k in METRIC_CSV_REQUIRED + ("shots", "unit", "source")}
                item["measured_at"] = row.get("date")
                items.append(item)
                labels.append(f"{file} line {reader.line_num}")
    except FileNotFoundError:
        raise InvalidInputError(f"{file}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{file}: not UTF-8 text") from None
    except csv.Error as exc:
        raise InvalidInputError(f"{file}: malformed CSV: {exc}") from None
    except OSError as exc:
        raise InvalidInputError(f"{file}: cannot read: {exc.strerror or exc}") from None
    if not items:
        raise InvalidInputError(f"{file}: no metric rows")
    return items, labels
