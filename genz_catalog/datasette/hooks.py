"""Datasette hook implementations; the plugin files in ``plugins/`` only import these."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.utils import tilde_encode
from datasette.utils.asgi import Response
from markupsafe import Markup

from . import DATABASE_NAME
from .browse import browse_template_vars, with_default_columns
from .cells import render_cell_html
from .chart import CHART_PATH, chart_page_context
from .compare import COMPARE_PATH, compare_view
from .documents import PUBLISHED_COLUMNS, render_body_cell, render_document_cell, render_json
from .facet_limit import limit_facets
from .functions import register_sql_functions
from .model_page import DIFF_PATH, model_diff_view
from .sql_guard import guard_connection
from .sql_limiter import limit_arbitrary_sql


def _quiet_error_pages() -> None:
    """Stop Datasette printing every visitor error as a rich traceback with locals.

    Its default ``handle_exception`` renders one (the whole metadata among the locals: 3-4 s of
    CPU) on the event loop for each bad or timed-out query, so one visitor sending slow SQL
    froze every page for seconds. Without ``rich`` it answers the same error page at once
    and still prints real server errors (5xx) with ``traceback.print_exc``.
    """
    import datasette.handle_exception

    datasette.handle_exception.rich = None


_quiet_error_pages()


@hookimpl
def prepare_connection(conn) -> None:  # noqa: ANN001 - sqlite3.Connection
    """Register the ``genz_*`` SQL functions the canned queries use, and bound the work any
    one function call can do (see :mod:`.sql_guard`), so the SQL time limit holds."""
    register_sql_functions(conn)
    guard_connection(conn)


#: Views the catalog keeps for its own machinery, not for browsing (Datasette has no
#: ``hidden`` for views): the words the search index reads (db.m021_search_words).
INTERNAL_VIEWS = frozenset({"models_fts_words"})


@hookimpl
def permission_allowed(action: str, resource: Any) -> bool | None:
    """Keep :data:`INTERNAL_VIEWS` off the database page and out of table URLs; SQL can still
    read them. No opinion (None) on anything else."""
    if (
        action == "view-table"
        and isinstance(resource, tuple)
        and resource[0] == DATABASE_NAME
        and resource[1] in INTERNAL_VIEWS
    ):
        return False
    return None


@hookimpl
def asgi_wrapper(datasette) -> Any:  # noqa: ANN001
    """Three wrappers around the whole app, outermost first:

    - the models HTML page shows ten columns unless the URL picks some (see :mod:`.browse`);
    - a URL's repeated facets are asked once, and more than :data:`.facet_limit.MAX_FACETS` is
      answered 400 (Datasette's work grows with every one, repeats included);
    - at most :data:`.sql_limiter.MAX_CONCURRENT_ARBITRARY_SQL` visitor-written queries run at
      once. Datasette runs queries on a few threads (``num_sql_threads``, 3 by default); six
      slow console queries used to hold all of them, so every page waited 12-18 s. The rest
      wait up to :data:`.sql_limiter.ARBITRARY_SQL_QUEUE_S` for their turn, then get HTTP 429;
      pages and canned queries never wait behind them.
    """

    def wrap(app: Any) -> Any:
        return with_default_columns(limit_facets(limit_arbitrary_sql(app)))

    return wrap


#: Shown above the models table while soft-deleted models are hidden.
LIVE_MODELS_DESCRIPTION = "live models only (add ?is_deleted=1 to list soft-deleted ones)"


@hookimpl
def filters_from_request(request, database: str, table: str) -> FilterArguments | None:  # noqa: ANN001
    """Hide soft-deleted models from the ``models`` table page, its counts and its facets.

    The canned queries and the CLI count live models only; the browsing surface agrees. Any
    ``is_deleted`` filter in the URL (``?is_deleted=1``) turns this off. The literal
    ``is_deleted = 0`` (not a parameter) lets SQLite use the partial indexes of live models.
    """
    if table != "models" or database != DATABASE_NAME:
        return None
    if any(key.startswith("is_deleted") for key in request.args):
        return None
    return FilterArguments(["is_deleted = 0"], human_descriptions=[LIVE_MODELS_DESCRIPTION])


@hookimpl
def render_cell(
    row: Any,
    value: Any,
    column: str,
    table: str | None,
    database: str,
    datasette,  # noqa: ANN001
) -> Markup | Awaitable[Markup | None] | None:
    """People-sized numbers and folded JSON in HTML (see :mod:`.cells`); JSON/CSV stay exact.

    A ``model_id`` in a canned query's results links to that model's page.
    """
    if column == "model_id" and table is None and database == DATABASE_NAME and value:
        url = datasette.urls.row(DATABASE_NAME, "models", tilde_encode(str(value)))
        return Markup('<a href="{}">{}</a>').format(url, value)
    if database == DATABASE_NAME and column in PUBLISHED_COLUMNS.get(table or "", ()):
        return render_document_cell(datasette, value, column, table, row)
    if database == DATABASE_NAME and table == "documents" and column == "body":
        return render_body_cell(value)
    return render_cell_html(value, column, table, row)


@hookimpl
def register_output_renderer(datasette) -> dict[str, Any]:  # noqa: ANN001
    """Datasette's ``.json`` with documents given back as text (see :mod:`.documents`)."""
    return {"extension": "json", "render": render_json}


@hookimpl
def extra_template_vars(template: str, request: Any) -> dict[str, Any]:
    """Column labels and links for the models browse page template."""
    if template != "table-catalog-models.html":
        return {}
    return browse_template_vars(request)


async def chart_view(datasette, request) -> Response:  # noqa: ANN001
    """The chart page: parameters against KV-cache bytes per token, as inline SVG."""
    database = datasette.get_database(DATABASE_NAME)
    context = await chart_page_context(database, request)
    return Response.html(
        await datasette.render_template("genz_chart.html", context, request=request)
    )


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """Serve the chart page, the compare page and the version diff page (``.json`` twins)."""
    return [
        (rf"^{CHART_PATH}$", chart_view),
        (rf"^{COMPARE_PATH}(\.(?P<format>json))?$", compare_view),
        (rf"^{DIFF_PATH}(\.(?P<format>json))?$", model_diff_view),
    ]


@hookimpl
def menu_links(datasette) -> list[dict[str, str]]:  # noqa: ANN001
    """Link the chart page and the compare page from Datasette's menu."""
    return [
        {"href": datasette.urls.path(CHART_PATH), "label": "Chart: parameters vs KV cache"},
        {"href": datasette.urls.path(COMPARE_PATH), "label": "Compare models"},
    ]
