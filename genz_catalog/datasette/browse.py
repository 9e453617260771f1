"""The models table as a browse page: ten columns by default, friendly headers, facets aside.

Datasette selects columns with ``?_col=``; the models page without any ``_col``/``_nocol``
argument is served as if it asked for :data:`DEFAULT_COLUMNS`, so the SQL reads (and the page
renders) ten columns instead of forty-five. Only the HTML page gets this: ``models.json`` and
``models.csv`` keep every column, so the JSON API does not change shape. ``?_nocol=is_deleted``
(the "show all columns" link) or any ``_col``/``_nocol`` of your own turns it off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from markupsafe import Markup, escape

from ..record import column_headers
from . import DATABASE_NAME

#: Shown on the models page unless the URL picks columns itself (the primary key, model_id,
#: always comes first).
DEFAULT_COLUMNS = (
    "family",
    "model_type",
    "attention_type",
    "parameter_count",
    "active_parameter_count",
    "context_length",
    "num_layers",
    "source",
    "updated_at",
)
#: The "show all columns" link: every column but is_deleted, which is 0 on every live row.
ALL_COLUMNS_ARGS = {"_nocol": "is_deleted"}
#: Column headers people read (the URL and JSON keep the column names): the record's own
#: (``Column.header`` in :mod:`genz_catalog.record`), then the catalog's columns.
COLUMN_LABELS = {
    **column_headers(),
    "model_name": "name",
    "updated_at": "updated",
    "created_at": "added",
}
#: Facet values people read: is_moe is stored as 0/1.
FACET_VALUE_LABELS = {"is_moe": {"0": "dense", "1": "MoE"}}

#: Models page URL path (Datasette's default ``base_url`` of ``/``).
MODELS_PATH = f"/{DATABASE_NAME}/models"

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


def default_columns_query(query_string: bytes) -> bytes:
    """``query_string`` with :data:`DEFAULT_COLUMNS` as ``_col`` arguments, unless it already
    chooses columns (``_col``/``_nocol``)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if any(key in ("_col", "_nocol") for key, _ in pairs):
        return query_string
    added = urlencode([("_col", column) for column in DEFAULT_COLUMNS])
    return (query_string + b"&" if query_string else b"") + added.encode("latin-1")


def with_default_columns(app: ASGIApp) -> ASGIApp:
    """Wrap a Datasette ASGI app so the models HTML page shows the default columns."""

    async def wrapped(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("path") == MODELS_PATH:
            # A copy: the server's own scope (and its access log line) keeps the URL as sent.
            scope = dict(scope, query_string=default_columns_query(scope.get("query_string", b"")))
        await app(scope, receive, send)

    return wrapped


def rows_html(display_rows: Any) -> Markup:
    """The ``<tbody>`` rows of the models table: a compare checkbox, then Datasette's cells.

    Built in Python rather than in the template: Jinja (in Datasette's async mode) spent more
    time on these ~600 small cells than all the SQL of the page took.
    """
    parts: list[str] = []
    for row in display_rows:
        cells = row.cells
        model_id = escape(cells[0]["raw"]) if cells else ""
        parts.append(
            f'<tr><td class="genz-pick"><input type="checkbox" name="model" value="{model_id}" '
            f'aria-label="compare {model_id}"></td>'
        )
        for cell in cells:
            parts.append(
                f'<td class="col-{escape(cell["column"])} type-{escape(cell["value_type"])}">'
                f"{escape(cell['value'])}</td>"
            )
        parts.append("</tr>")
    return Markup("".join(parts))


def browse_template_vars(request: Any) -> dict[str, Any]:
    """Extra names for ``table-catalog-models.html``."""
    args = request.args if request is not None else {}
    picked = "_col" in args or "_nocol" in args
    showing_defaults = (
        request is not None
        and args.getlist("_col") == list(DEFAULT_COLUMNS)
        and "_nocol" not in args
    )
    return {
        "genz_column_labels": COLUMN_LABELS,
        "genz_facet_value_labels": FACET_VALUE_LABELS,
        "genz_showing_default_columns": showing_defaults or not picked,
        "genz_all_columns_args": ALL_COLUMNS_ARGS,
        "genz_rows_html": rows_html,
    }
