"""``genz-catalog metrics add``, ``list`` and ``import``: quality metrics (MMLU, GSM8K, ...)."""

from __future__ import annotations

import csv
from typing import Any

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


#: Largest metrics CSV ``metrics import`` reads (bytes): ~500,000 rows.
MAX_METRICS_CSV_BYTES = 64 * 1024 * 1024
#: Columns ``metrics import`` reads; the first three are required. ``date`` -> measured_at.
METRIC_CSV_REQUIRED = ("model_id", "metric_name", "metric_value")
METRIC_CSV_OPTIONAL = ("shots", "unit", "source", "date")


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
    items, labels = _read_metrics_csv(file)
    stored = existing_catalog(ctx).add_quality_metrics(items, row_labels=labels)
    click.echo(f"Imported {len(stored)} metric{'' if len(stored) == 1 else 's'} from {file}")


def _read_metrics_csv(file: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a metrics CSV as add_quality_metrics items, with 'FILE line N' labels.

    Only a regular file of at most :data:`MAX_METRICS_CSV_BYTES` is read: a FIFO could block
    forever and a device (``/dev/zero``) never ends.
    """
    import os
    import stat

    try:
        status = os.stat(file)
    except FileNotFoundError:
        raise click.ClickException(f"{file}: no such file") from None
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(status.st_mode):
        raise click.ClickException(f"{file}: not a regular file")
    if status.st_size > MAX_METRICS_CSV_BYTES:
        raise click.ClickException(
            f"{file}: {status.st_size:,} bytes; at most {MAX_METRICS_CSV_BYTES:,} are accepted"
        )
    try:
        with open(file, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in METRIC_CSV_REQUIRED if c not in header]
            if not header:
                raise click.ClickException(f"{file}: empty file; expected a header row")
            if missing:
                raise click.ClickException(
                    f"{file}: missing column{'s' if len(missing) > 1 else ''} "
                    + ", ".join(missing)
                    + "; columns are "
                    + ", ".join(METRIC_CSV_REQUIRED)
                    + " and optionally "
                    + ", ".join(METRIC_CSV_OPTIONAL)
                )
            unknown = [c for c in header if c not in METRIC_CSV_REQUIRED + METRIC_CSV_OPTIONAL]
            if unknown:
                raise click.ClickException(
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
                    raise click.ClickException(
                        f"{file} line {reader.line_num}: more values than columns"
                    )
                if not any((v or "").strip() for v in row.values()):
                    continue  # blank line
                item = {k: row.get(k) for k in METRIC_CSV_REQUIRED + ("shots", "unit", "source")}
                item["measured_at"] = row.get("date")
                items.append(item)
                labels.append(f"{file} line {reader.line_num}")
    except FileNotFoundError:
        raise click.ClickException(f"{file}: no such file") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text") from None
    except csv.Error as exc:
        raise click.ClickException(f"{file}: malformed CSV: {exc}") from None
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot read: {exc.strerror or exc}") from None
    if not items:
        raise click.ClickException(f"{file}: no metric rows")
    return items, labels
