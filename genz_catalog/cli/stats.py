"""``genz-catalog stats``: totals over the catalog."""

from __future__ import annotations

from typing import Any

import click

from .group import cli, existing_catalog
from .output import OutputFormat, output_options, print_record, print_rows


@cli.command()
@output_options
@click.pass_context
def stats(ctx: click.Context, output: OutputFormat) -> None:
    """Catalog totals: models by type, attention, family and source; MoE and metric counts;
    and models whose computed parameter count differs from the Hub's by more than 1%.

    \b
    Example:
        genz-catalog stats
        genz-catalog stats --json
    """
    figures = existing_catalog(ctx, read_only=True).get_stats()
    if output.kind == "json":
        print_record(figures, output)
        return
    rows: list[dict[str, Any]] = [
        {"group": "models", "name": "total", "count": figures["total_models"]},
        {"group": "models", "name": "deleted", "count": figures["deleted_models"]},
        {"group": "models", "name": "moe", "count": figures["moe_models"]},
        {"group": "quality_metrics", "name": "total", "count": figures["quality_metrics"]},
    ]
    for group in ("model_type", "attention_type", "family", "source"):
        rows += [
            {"group": group, "name": name, "count": count}
            for name, count in figures[f"by_{group}"].items()
        ]
    mismatches = figures["parameter_mismatches"]
    if output.is_table:
        print_rows(rows, output, ["group", "name", "count"])
        if mismatches:
            click.echo("\nparameter_mismatch (computed vs Hub count differs by more than 1%):")
            print_rows(
                [{**m, "difference": _percent_gap(m)} for m in mismatches],
                output,
                ["model_id", "parameter_count", "hub_parameter_count", "difference"],
            )
        return
    rows += [
        {
            "group": "parameter_mismatch",
            "name": m["model_id"],
            "count": m["parameter_count"],
            "hub_count": m["hub_parameter_count"],
        }
        for m in mismatches
    ]
    print_rows(rows, output, ["group", "name", "count", "hub_count"])


def _percent_gap(mismatch: dict[str, Any]) -> str:
    gap = (mismatch["parameter_count"] - mismatch["hub_parameter_count"]) * 100
    return f"{gap / mismatch['hub_parameter_count']:+.2f}%"
