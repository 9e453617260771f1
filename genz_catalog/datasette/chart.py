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
#: SVG user units; the SVG scales to the page width (CSS), so these only fix the proportions.
WIDTH, HEIGHT = 960, 540
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 140, 120, 20, 80
#: Most labelled ticks on the byte axis.
MAX_BYTE_TICKS = 8
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


def decade_ticks(low: float, high: float) -> list[float]:
    """Powers of ten from below ``low`` to above ``high`` (a decimal axis: 1M, 10M, 100M ...)."""
    return [10.0**e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]


def binary_ticks(low: float, high: float, most: int = MAX_BYTE_TICKS) -> list[int]:
    """Powers of two from below ``low`` to above ``high``, every 2nd/4th/... so at most ``most``.

    A byte axis is labelled in binary units (KiB, MiB), so its ticks are powers of 1024 and
    the powers of two between them; ``10**5`` bytes would read "97.66 KiB".
    """
    first = math.floor(math.log2(low))
    last = math.ceil(math.log2(high))
    step = 1
    while (last - first) // step + 1 > most:
        step *= 2
    first -= first % step  # align to the step, so 1 KiB / 1 MiB stay ticks where they can
    return [2**e for e in range(first, last + step, step)][: most + 1]


def binary_tick_label(value: int) -> str:
    """``131072`` -> ``128 KiB``: a power of two in the largest binary unit that keeps it whole."""
    for power, suffix in ((40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")):
        if value >= 2**power:
            return f"{value / 2**power:g} {suffix}"
    return f"{value} B"


def render_scatter_svg(points: list[dict[str, Any]], dtype: str, row_url) -> str:  # noqa: ANN001
    """SVG of ``points`` (rows of :data:`POINTS_SQL`); ``row_url(model_id)`` links each dot."""
    if not points:
        return '<p class="genz-chart-empty">No models with attention KV cache to plot.</p>'
    per_value = bytes_per_value(dtype) or 2
    xs = [p["parameter_count"] for p in points]
    ys = [p["kv_values_per_token"] * per_value for p in points]
    x_ticks = decade_ticks(min(xs), max(xs))
    y_ticks: list[float] = [float(t) for t in binary_ticks(min(ys), max(ys))]
    x_of = _log_scale(x_ticks[0], x_ticks[-1], MARGIN_LEFT, WIDTH - MARGIN_RIGHT)
    y_of = _log_scale(y_ticks[0], y_ticks[-1], HEIGHT - MARGIN_BOTTOM, MARGIN_TOP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'preserveAspectRatio="xMidYMid meet" role="img" class="genz-chart" '
        'aria-label="Parameters against KV-cache bytes per token">'
    ]
    for tick in x_ticks:
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{MARGIN_TOP}" x2="{x:.1f}" y2="{HEIGHT - MARGIN_BOTTOM}" '
            'stroke="#ddd"/>'
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 22}" '
            f'text-anchor="middle">{html.escape(human_count(tick) or "")}</text>'
        )
    for tick in y_ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            'stroke="#ddd"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 8}" y="{y + 5:.1f}" text-anchor="end">'
            f"{html.escape(binary_tick_label(int(tick)))}</text>"
        )
    # Axis titles; on a phone the page's CSS hides them for a caption under the chart.
    centre_x = (MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2
    centre_y = (HEIGHT - MARGIN_BOTTOM + MARGIN_TOP) / 2
    parts.append(
        f'<text class="axis-title" x="{centre_x}" y="{HEIGHT - 20}" text-anchor="middle">'
        "parameters (log scale, decimal: 1B = 10^9)</text>"
        f'<text class="axis-title" transform="translate(30 {centre_y}) rotate(-90)" '
        f'text-anchor="middle">KV cache per token, {html.escape(dtype)} (log scale, binary: '
        "1 KiB = 1024 bytes)</text>"
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
        y = MARGIN_TOP + 20 + index * 40
        parts.append(
            f'<circle cx="{legend_x}" cy="{y}" r="5" '
            f'fill="{ATTENTION_COLOURS.get(attention, "#9467bd")}"/>'
            f'<text class="legend" x="{legend_x + 12}" y="{y + 5}">{html.escape(attention)}</text>'
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
