"""How table and query cells read in HTML: people-sized numbers, folded JSON and warnings.

Only the HTML changes: Datasette's JSON and CSV keep the exact stored values (a parameter count
stays ``8030261248`` there and reads ``8.03B`` on the page, with the exact figure as a tooltip).
Every renderer here is iterative and size-limited: a stored document nested 1,000 levels deep or
a megabyte long must never make a page fail or stall.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

from markupsafe import Markup

from .functions import human_bytes, human_count

#: Columns holding JSON documents that read better indented.
JSON_COLUMNS = frozenset({"config_json", "genz_config_json", "memory_json", "snapshot_json"})
#: Columns holding a JSON list of short strings, shown folded so a row stays one line tall.
LIST_COLUMNS = frozenset({"warnings_json", "tags_json"})
#: Parameter counts, shown as ``8.03B`` (exact count in the tooltip).
PARAMETER_COLUMNS = frozenset(
    {"parameter_count", "active_parameter_count", "text_parameter_count", "hub_parameter_count"}
)
#: Plain integers that read better with thousands separators (tokens, values, counts).
GROUPED_COLUMNS = frozenset(
    {
        "context_length",
        "vocab_size",
        "hidden_size",
        "intermediate_size",
        "kv_values_per_token",
        "downloads",
        "likes",
        "difference",
        "models",
    }
)
#: Timestamps shown as their date (the full UTC time in the tooltip) on the models table.
DATE_COLUMNS = frozenset({"created_at", "updated_at", "hub_created_at", "hub_last_modified"})
#: A canned query that already returns a people-sized twin of an exact column (``parameters``
#: beside ``parameter_count``) gets the exact figure grouped, not the same text twice.
HUMAN_TWINS = {
    "parameter_count": "parameters",
    "active_parameter_count": "active_parameters",
    "bf16_weight_bytes": "bf16_weights",
    "total_bytes": "total",
}
#: Most characters of a JSON document shown indented; the rest is cut with a note.
JSON_DISPLAY_LIMIT = 100_000
#: Deeper documents are shown as stored text instead of being parsed and indented.
JSON_MAX_DEPTH = 64
#: Most items of a folded list shown.
LIST_DISPLAY_LIMIT = 50

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_END = object()


def json_nesting_depth(text: str) -> int:
    """Deepest bracket nesting of JSON ``text``, found without parsing (no recursion)."""
    depth = deepest = 0
    # Strings first (they may hold brackets), then everything but brackets: the loop below
    # then walks a few hundred characters of a typical config, not its whole text.
    for char in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def indented_json(document: Any, limit: int = JSON_DISPLAY_LIMIT) -> tuple[str, bool]:
    """``json.dumps(document, indent=2, sort_keys=True)``, built with a loop instead of recursion.

    Stops after about ``limit`` characters; returns the text and whether it was cut.
    """
    parts: list[str] = []
    size = 0
    # One frame per open container: [items iterator, closing bracket, depth, is_object, count].
    stack: list[list[Any]] = []

    def emit(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)

    def begin(value: Any, depth: int) -> None:
        if isinstance(value, dict) and value:
            emit("{")
            items: Iterator[Any] = iter(sorted(value.items(), key=lambda item: str(item[0])))
            stack.append([items, "}", depth + 1, True, 0])
        elif isinstance(value, list) and value:
            emit("[")
            stack.append([iter(value), "]", depth + 1, False, 0])
        else:  # a scalar or an empty container: json.dumps does not recurse here
            emit(json.dumps(value))

    begin(document, 0)
    while stack:
        if size > limit:
            return "".join(parts), True
        frame = stack[-1]
        item = next(frame[0], _END)
        if item is _END:
            stack.pop()
            emit("\n" + "  " * (frame[2] - 1) + frame[1])
            continue
        emit(("," if frame[4] else "") + "\n" + "  " * frame[2])
        frame[4] += 1
        if frame[3]:
            key, item = item
            emit(json.dumps(str(key)) + ": ")
        begin(item, frame[2])
    return "".join(parts), False


def _folded(summary: str, body: str, css_class: str) -> Markup:
    return Markup(
        f'<details class="{css_class}"><summary>{html.escape(summary)}</summary>{body}</details>'
    )


def render_json_cell(value: str) -> Markup | None:
    """A JSON document as a folded, indented ``<pre>`` block (None if it is not a JSON object
    or list). Too deep or too long documents are shown as stored or cut, with a note."""
    stripped = value.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    depth = json_nesting_depth(value)
    if depth > JSON_MAX_DEPTH:
        shown = value[:JSON_DISPLAY_LIMIT]
        note = f"nested {depth} levels deep; shown as stored"
        if len(shown) < len(value):
            note += f", first {len(shown):,} of {len(value):,} characters"
        return _folded(
            f"JSON {note}", f"<pre>{html.escape(shown)}</pre>", "genz-json genz-json-raw"
        )
    try:
        document = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if isinstance(document, dict):
        architectures = document.get("architectures")
        label = (
            ", ".join(str(a) for a in architectures[:3]) if isinstance(architectures, list) else ""
        )
        summary = f"{len(document)} keys" + (f" · {label}" if label else "")
    elif isinstance(document, list):
        summary = f"{len(document)} items"
    else:
        return None
    pretty, cut = indented_json(document)
    if cut:
        pretty += f"\n… cut at {len(pretty):,} characters; the JSON and CSV exports hold it all"
    return _folded(summary, f"<pre>{html.escape(pretty)}</pre>", "genz-json")


def render_list_cell(value: str, column: str) -> Markup | None:
    """A JSON list of strings (warnings, tags) folded to one line: ``2 warnings`` + the list."""
    if json_nesting_depth(value) > 2:
        return None
    try:
        items = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(items, list):
        return None
    if not items:
        return Markup("")
    noun = "warning" if column == "warnings_json" else "tag"
    summary = f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
    shown = "".join(f"<li>{html.escape(str(item))}</li>" for item in items[:LIST_DISPLAY_LIMIT])
    if len(items) > LIST_DISPLAY_LIMIT:
        shown += f"<li>… {len(items) - LIST_DISPLAY_LIMIT:,} more</li>"
    return _folded(summary, f"<ul>{shown}</ul>", f"genz-fold genz-{noun}s")


def _has_column(row: Any, column: str) -> bool:
    try:
        return column in row.keys()
    except AttributeError:
        return False


def _number(text: str, exact: int | float, unit: str) -> Markup:
    title = f"{exact:,} {unit}".strip()
    return Markup(f'<span class="genz-num" title="{html.escape(title)}">{html.escape(text)}</span>')


def is_bytes_column(column: str) -> bool:
    """True for byte figures by name: ``total_bytes``, ``kv_bytes_per_token``, ..."""
    return "bytes" in column.split("_")


def render_cell_html(value: Any, column: str, table: str | None, row: Any = None) -> Markup | None:
    """The HTML of one cell, or None to leave it to Datasette.

    ``table`` is None for canned and arbitrary queries. Numbers are only restyled, never
    changed: the tooltip (``title``) holds the exact stored figure.
    """
    if isinstance(value, str):
        if not value:
            return None
        if column in JSON_COLUMNS:
            return render_json_cell(value)
        if column in LIST_COLUMNS:
            return render_list_cell(value, column)
        if column in DATE_COLUMNS and table == "models" and len(value) > 10 and value[4] == "-":
            return Markup(
                f'<time datetime="{html.escape(value)}" title="{html.escape(value)}">'
                f"{html.escape(value[:10])}</time>"
            )
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    twin = HUMAN_TWINS.get(column)
    if twin is not None and table is None and _has_column(row, twin):
        return Markup(f'<span class="genz-num">{value:,}</span>')
    if column in PARAMETER_COLUMNS:
        return _number(human_count(value) or "", value, "parameters")
    if is_bytes_column(column):
        return _number(human_bytes(value) or "", value, "bytes")
    if column in GROUPED_COLUMNS and isinstance(value, int):
        return Markup(f'<span class="genz-num">{value:,}</span>')
    return None
