"""Datasette plugin for the GenZ catalog: SQL functions, readable config JSON, the chart page.

Thin on purpose: the logic lives in :mod:`genz_catalog.datasette.hooks`.
"""

from genz_catalog.datasette.hooks import (  # noqa: F401 - Datasette registers these hooks
    asgi_wrapper,
    extra_template_vars,
    filters_from_request,
    menu_links,
    permission_allowed,
    prepare_connection,
    register_output_renderer,
    register_routes,
    render_cell,
)
from genz_catalog.datasette.model_page import (  # noqa: F401 - extra_template_vars (model page)
    model_page_template_vars,
)
