"""The chart page: parameter count against KV-cache bytes per token, drawn as inline SVG.

No JavaScript and no CDN: the page must work offline. Both axes are logarithmic; one dot per
distinct (attention type, parameter count, KV size), so a catalog of 100,000 fine-tunes of a few
architectures draws a few thousand dots at most.
"""

from __future__ import annotations

import html
import math
from typing import Any

from datasette.utils import tilde_encode

from . import DATABASE_NAME
from .functions import bytes_per_value, human_bytes, human_count

#: URL of the chart page.
CHART_PATH = "/-/genz-chart"
#: Most dots drawn (largest models first).
MAX_POINTS = 3000
WIDTH, HEIGHT = 860, 520
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 90, 150, 20, 60
ATTENTION_COLOURS = {
    "mha": "#1f77b4",
    "gqa": "#2ca02c",
    "mqa": "#ff7f0e",
    "mla": "#d62728",
    "none": "#7f7f7f",
}

#: Grouped first in idx_models_live_kv's column order (a covering-index scan with no sort; the
#: unary ``+`` keeps SQLite off the parameter_count index), then merged into dots: ~30 ms
#: instead of ~330 ms at 100k models.
POINTS_SQL = """
WITH shapes AS MATERIALIZED (
  SELECT attention_type, kv_values_per_token, parameter_count, count(*) AS n,
         min(model_id) AS example_model_id
  FROM models
  WHERE is_deleted = 0 AND +parameter_count > 0 AND +kv_values_per_token > 0
  GROUP BY attention_type, num_attention_heads, num_key_value_heads, kv_values_per_token,
           parameter_count
)
SELECT coalesce(attention_type, 'none') AS attention_type, parameter_count,
       kv_values_per_token, sum(n) AS models, min(example_model_id) AS example_model_id
FROM shapes
GROUP BY 1, 2, 3
ORDER BY parameter_count DESC
LIMIT :limit
"""


def _log_scale(low: float, high: float, start: float, end: float):  # noqa: ANN202
    low, high = math.log10(low), math.log10(high)
    span = (high - low) or 1.0
    return lambda value: start + (math.log10(value) - low) / span * (end - start)


def _decades(low: float, high: float) -> list[float]:
    return [10.0**e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]


def render_scatter_svg(points: list[dict[str, Any]], dtype: str, row_url) -> str:  # noqa: ANN001
    """SVG of ``points`` (rows of :data:`POINTS_SQL`); ``row_url(model_id)`` links each dot."""
    if not points:
        return '<p class="genz-chart-empty">No models with attention KV cache to plot.</p>'
    per_value = bytes_per_value(dtype) or 2
    xs = [p["parameter_count"] for p in points]
    ys = [p["kv_values_per_token"] * per_value for p in points]
    x_ticks, y_ticks = _decades(min(xs), max(xs)), _decades(min(ys), max(ys))
    x_of = _log_scale(x_ticks[0], x_ticks[-1], MARGIN_LEFT, WIDTH - MARGIN_RIGHT)
    y_of = _log_scale(y_ticks[0], y_ticks[-1], HEIGHT - MARGIN_BOTTOM, MARGIN_TOP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="genz-chart" '
        'aria-label="Parameters against KV-cache bytes per token">'
    ]
    for tick in x_ticks:
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{MARGIN_TOP}" x2="{x:.1f}" y2="{HEIGHT - MARGIN_BOTTOM}" '
            'stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 18}" text-anchor="middle" '
            f'font-size="12">{html.escape(human_count(tick))}</text>'
        )
    for tick in y_ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="12">{html.escape(human_bytes(tick))}</text>'
        )
    parts.append(
        f'<text x="{(MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2}" y="{HEIGHT - 15}" '
        'text-anchor="middle" font-size="13">parameters (log scale)</text>'
        f'<text transform="translate(18 {(HEIGHT - MARGIN_BOTTOM) / 2}) rotate(-90)" '
        f'text-anchor="middle" font-size="13">KV cache per token, {html.escape(dtype)} '
        "(log scale)</text>"
    )
    for point, y_value in zip(points, ys, strict=True):
        colour = ATTENTION_COLOURS.get(point["attention_type"], "#9467bd")
        title = (
            f"{point['example_model_id']}"
            + (f" (+{point['models'] - 1} more)" if point["models"] > 1 else "")
            + f": {human_count(point['parameter_count'])} parameters, "
            f"{human_bytes(y_value)} KV/token, {point['attention_type']}"
        )
        parts.append(
            f'<a href="{html.escape(row_url(point["example_model_id"]))}">'
            f'<circle cx="{x_of(point["parameter_count"]):.1f}" cy="{y_of(y_value):.1f}" r="5" '
            f'fill="{colour}" fill-opacity="0.75" data-attention="{point["attention_type"]}">'
            f"<title>{html.escape(title)}</title></circle></a>"
        )
    legend_x = WIDTH - MARGIN_RIGHT + 20
    present = sorted({p["attention_type"] for p in points})
    for index, attention in enumerate(present):
        y = MARGIN_TOP + 20 + index * 20
        parts.append(
            f'<circle cx="{legend_x}" cy="{y}" r="5" '
            f'fill="{ATTENTION_COLOURS.get(attention, "#9467bd")}"/>'
            f'<text x="{legend_x + 10}" y="{y + 4}" font-size="12">{html.escape(attention)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


async def chart_page_context(database, request) -> dict[str, Any]:  # noqa: ANN001
    """Template context of the chart page (``?dtype=`` picks the KV-cache dtype, bf16 default)."""
    dtype = (request.args.get("dtype") or "bf16").strip()
    if bytes_per_value(dtype) is None:
        dtype = "bf16"
    result = await database.execute(POINTS_SQL, {"limit": MAX_POINTS})
    points = [dict(row) for row in result.rows]
    datasette = database.ds

    def row_url(model_id: str) -> str:
        return datasette.urls.row(DATABASE_NAME, "models", tilde_encode(model_id))

    return {
        "svg": render_scatter_svg(points, dtype, row_url),
        "dot_count": len(points),
        "model_count": sum(p["models"] for p in points),
        "dtype": dtype,
    }
