"""``genz-catalog metrics add``, ``list`` and ``import``: quality metrics (MMLU, GSM8K, ...)."""

from __future__ import annotations

import click

from .group import cli, existing_catalog
from .output import OutputFormat, output_options, print_rows

#: Columns of ``metrics list`` (``show --metrics`` drops the model id).
METRIC_COLUMNS = (
    "model_id",
    "metric_name",
    "shots",
    "metric_value",
    "unit",
    "source",
    "measured_at",
)


@cli.group()
def metrics() -> None:
    """Quality metrics (MMLU, GSM8K, ...): one value per model, metric and shot count.

    \b
    Example:
        genz-catalog metrics add meta-llama/Llama-3.1-8B MMLU 66.7 --shots 5
        genz-catalog metrics list meta-llama/Llama-3.1-8B
    """


@metrics.command(name="add")
@click.argument("model_id")
@click.argument("name")
@click.argument("value")
@click.option("--shots", type=click.IntRange(min=0), help="Few-shot count the score used.")
@click.option("--source", help="Where the number comes from (paper, leaderboard URL).")
@click.option(
    "--unit",
    default=None,
    help="Scale of VALUE: percent (0-100), fraction (0-1, stored x100) or any other unit. "
    "Default: a value from 0 to 1 is a fraction (0.625 -> 62.5 %), a larger one a percentage.",
)
@click.option("--date", "measured_at", help="When it was measured (YYYY-MM-DD).")
@click.pass_context
def metrics_add(
    ctx: click.Context,
    model_id: str,
    name: str,
    value: str,
    shots: int | None,
    source: str | None,
    unit: str | None,
    measured_at: str | None,
) -> None:
    """Set a quality metric of a model (a repeat replaces the value).

    \b
    Example:
        genz-catalog metrics add meta-llama/Llama-3.1-8B MMLU 66.7 --shots 5
        genz-catalog metrics add mistralai/Mistral-7B-v0.1 GSM8K 52.2 --source paper
    """
    stored = existing_catalog(ctx).add_quality_metric(
        model_id, name, value, shots, unit=unit, source=source, measured_at=measured_at
    )
    shots_text = f" ({stored['shots']}-shot)" if stored["shots"] is not None else ""
    click.echo(
        f"Set {stored['metric_name']}{shots_text} = {stored['metric_value']:g} "
        f"for {stored['model_id']}"
    )


@metrics.command(name="list")
@click.argument("model_id", required=False)
@output_options
@click.pass_context
def metrics_list(ctx: click.Context, model_id: str | None, output: OutputFormat) -> None:
    """List quality metrics, of every model or of one.

    \b
    Example:
        genz-catalog metrics list
        genz-catalog metrics list meta-llama/Llama-3.1-8B --csv
    """
    print_rows(
        existing_catalog(ctx, read_only=True).get_quality_metrics(model_id), output, METRIC_COLUMNS
    )


@metrics.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def metrics_import(ctx: click.Context, file: str) -> None:
    """Import quality metrics from a CSV file, all or nothing.

    Columns: model_id, metric_name, metric_value, and optionally shots, unit, source, date.
    Every row is checked first; one bad row writes nothing and the error names its line.

    \b
    Example:
        genz-catalog metrics import scores.csv
    \b
    scores.csv:
        model_id,metric_name,metric_value,shots,source
        meta-llama/Llama-3.1-8B,MMLU,66.7,5,model card
    """
    from ..catalog.metrics import read_metrics_csv

    items, labels = read_metrics_csv(file)
    stored = existing_catalog(ctx).add_quality_metrics(items, row_labels=labels)
    click.echo(f"Imported {len(stored)} metric{'' if len(stored) == 1 else 's'} from {file}")
