"""The ``genz-catalog`` command line: thin commands that parse, call the library, and format.

The group and what commands share live in :mod:`genz_catalog.cli_group`; this module holds the
catalog commands (list, search, show, versions, metrics, stats, cache) and imports the feature
modules (``cli_hub``, ``cli_genz``, ``cli_plan``, ``cli_serve``, ``cli_admin``), which register
their commands on the same group. The console script's entry point is :data:`cli`.
"""

from __future__ import annotations

import csv
import json
from typing import Any

import click

# The feature modules register their commands on ``cli`` (they import cli_group, not this
# module, so there is no import circle).
from . import cli_admin, cli_genz, cli_hub, cli_plan, cli_serve  # noqa: F401, I001
from .cli_group import (  # noqa: F401 - cli is the entry point; the rest are re-exported
    CatalogCommand,
    CatalogGroup,
    CatalogOnFirstWrite,
    UsageLineError,
    cli,
    get_manager,
)
from .db import FIGURE_COLUMNS
from .errors import CatalogError
from .output import (
    OutputFormat,
    format_bytes,
    format_count,
    output_options,
    print_record,
    print_rows,
)
from .record import LIST_COLUMNS  # columns of list and search, in order


def _manager(ctx: click.Context, *, read_only: bool = False):  # noqa: ANN202 - ModelManager
    # Every command in this module needs an existing catalog; the readers open it read-only.
    return get_manager(ctx, create=False, read_only=read_only)


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """Click callback: ``7B``, ``500M``, ``1.5e9`` -> an int; a bad size is one line, exit 1."""
    if value is None:
        return None
    from .manager import parse_size

    try:
        return parse_size(value)
    except CatalogError as exc:
        raise click.ClickException(f"{param.opts[0]}: {exc}") from None


_COUNT_FORMATTERS = {
    "parameter_count": format_count,
    "active_parameter_count": format_count,
    "text_parameter_count": format_count,
    "mtp_parameter_count": format_count,
    "hub_parameter_count": format_count,
}


#: Said (on stderr) when a listing finds nothing because the catalog holds no model at all.
EMPTY_CATALOG_HINT = (
    "The catalog is empty. Fill it with: genz-catalog sync --defaults (the bundled configs and "
    "GenZ's models that serve starts from), genz-catalog sync --static (GenZ's models), or "
    "genz-catalog import ORG/NAME | PATH/config.json | FOLDER"
)


def _print_models(
    ctx: click.Context, rows: list[dict[str, Any]], output: OutputFormat, deleted: bool
) -> None:
    columns = list(LIST_COLUMNS)
    if not output.is_table:
        # Machine formats say how each count was obtained; the table stays narrow.
        columns.insert(columns.index("active_parameter_count") + 1, "count_basis")
    if output.kind in ("json", "nl"):
        # JSON listings carry the MTP figure too; the table and CSV keep their columns.
        columns.insert(columns.index("active_parameter_count") + 1, "mtp_parameter_count")
    columns += ["is_deleted"] if deleted else []
    print_rows(rows, output, columns, table_formatters=_COUNT_FORMATTERS)
    if not rows and output.is_table:
        from .default_catalog import catalog_is_empty

        if catalog_is_empty(_manager(ctx)):
            click.echo(EMPTY_CATALOG_HINT, err=True)


@cli.command(name="list")
@click.option(
    "--type", "model_type", metavar="TYPE", help="decoder-only, encoder-decoder or encoder-only."
)
@click.option("--attention", "attention_type", metavar="KIND", help="mha, gqa, mqa, mla or none.")
@click.option("--family", metavar="FAMILY", help="HF model_type, e.g. llama, mixtral.")
@click.option("--source", metavar="SOURCE", help="huggingface, local, genz-static or manual.")
@click.option(
    "--min-params",
    metavar="SIZE",
    callback=_size,
    help="At least this many parameters: 7B, 500M, 1.5e9.",
)
@click.option("--max-params", metavar="SIZE", callback=_size, help="At most this many parameters.")
@click.option("--moe/--dense", "is_moe", default=None, help="Only mixture-of-experts / dense.")
@click.option("--search", metavar="TEXT", help="Free text over id, name, family and aliases.")
@click.option("--deleted", is_flag=True, help="Include soft-deleted models.")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many rows.")
@click.option(
    "--sort",
    "order_by",
    metavar="COLUMN",
    help="Sort by a column; prefix '-' for descending, e.g. -parameter_count.",
)
@output_options
@click.pass_context
def list_(ctx: click.Context, output: OutputFormat, **filters: Any) -> None:
    """List models, filtered and sorted.

    Parameter counts show as 8.03B in tables; --json, --nl and --csv give exact integers.

    \b
    Example:
        genz-catalog list --family llama --min-params 7B --max-params 70B
        genz-catalog list --moe --sort -parameter_count --limit 5
        genz-catalog list --search mistral --json
    """
    include_deleted = filters.pop("deleted")
    rows = _manager(ctx, read_only=True).list_models(include_deleted=include_deleted, **filters)
    _print_models(ctx, rows, output, include_deleted)


@cli.command()
@click.argument("words", nargs=-1, required=True, metavar="QUERY...")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="At most this many rows.",
)
@click.option("--deleted", is_flag=True, help="Include soft-deleted models.")
@output_options
@click.pass_context
def search(
    ctx: click.Context, words: tuple[str, ...], limit: int, deleted: bool, output: OutputFormat
) -> None:
    """Full-text search over model ids, names, families and aliases, best match first.

    Several words must all match; plain words match as prefixes (Llama-3.1 is fine as typed).
    FTS5 syntax works too: "quoted phrases", word*, AND, OR, NOT.

    \b
    Example:
        genz-catalog search llama 8b
        genz-catalog search 'mistral OR mixtral' --csv
    """
    query = " ".join(words)
    rows = _manager(ctx, read_only=True).search_models(query, limit=limit, include_deleted=deleted)
    _print_models(ctx, rows, output, deleted)


#: Fields of the ``show`` summary, in order.
SHOW_FIELDS = (
    "model_id",
    "model_name",
    "aliases",
    "source",
    *FIGURE_COLUMNS,
    "hub_id",
    "revision_sha",
    "hub_parameter_count",
    "parameter_mismatch",
    "license",
    "gated",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "likes",
    "hub_created_at",
    "hub_last_modified",
    "warnings",
    "current_version",
    "created_at",
    "updated_at",
    "is_deleted",
    "deleted_at",
)
_MEMORY_COMPONENTS = ("weight_bytes", "kv_cache_bytes", "state_bytes", "total_bytes")


def _summary(model: dict[str, Any]) -> dict[str, Any]:
    summary = {}
    for field in SHOW_FIELDS:
        value = model.get(field)
        if field in ("aliases", "warnings", "tags"):
            value = value or []
        summary[field] = value
    return summary


def _memory(
    ctx: click.Context, model: dict[str, Any], batch: int, seq: int | None, dtype: str
) -> dict[str, Any]:
    """Memory figures (bytes) for one model, cached per (dtype, batch, seq) and config hash."""
    from .memory import memory_report

    seq_len = seq or model.get("context_length") or 4096
    key = f"memory:{dtype}:{batch}:{seq_len}"
    manager = _manager(ctx, read_only=True)
    report = manager.get_cached_value(model["model_id"], key)
    if report is None:
        try:
            report = memory_report(model, batch=batch, seq_len=seq_len, dtype=dtype)
        except (KeyError, ValueError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            raise click.ClickException(f"cannot compute memory: {message}") from None
        report = {k: report[k] for k in _MEMORY_COMPONENTS if k in report}
        if not manager.read_only:  # show only reads: computing again is cheap (microseconds)
            manager.cache_value(model["model_id"], key, report)
    return {"dtype": dtype, "batch": batch, "seq_len": seq_len, **report}


@cli.command()
@click.argument("model_id")
@click.option("--config", "show_config", is_flag=True, help="The raw Hugging Face config.json.")
@click.option("--genz", "show_genz", is_flag=True, help="The GenZ ModelConfig keyword arguments.")
@click.option("--versions", "show_versions", is_flag=True, help="The model's version history.")
@click.option("--metrics", "show_metrics", is_flag=True, help="The model's quality metrics.")
@click.option(
    "--memory",
    "show_memory",
    is_flag=True,
    help="Weight, KV-cache and state memory (bytes) for a batch and sequence length.",
)
@click.option(
    "--seq",
    type=click.IntRange(min=1),
    metavar="N",
    help="Sequence length in tokens for --memory (default: the context length).",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="B",
    help="Batch size for --memory.",
)
@click.option(
    "--dtype",
    default="bf16",
    show_default=True,
    metavar="D",
    help="Data type for --memory: fp32, bf16, fp16, fp8, int8, int4...",
)
@output_options
@click.pass_context
def show(
    ctx: click.Context,
    model_id: str,
    show_config: bool,
    show_genz: bool,
    show_versions: bool,
    show_metrics: bool,
    show_memory: bool,
    seq: int | None,
    batch: int,
    dtype: str,
    output: OutputFormat,
) -> None:
    """Show one model (by id or alias, any case).

    With no section flag, prints the model's summary. Section flags print only those
    sections: --config and --genz print JSON (pipe --config to a file to get the config.json
    back), --versions, --metrics and --memory print tables. Several sections print one after
    another under headings (one object with --json).

    \b
    Example:
        genz-catalog show meta-llama/Llama-3.1-8B
        genz-catalog show llama-3.1-8b --config > config.json
        genz-catalog show meta-llama/Llama-3.1-8B --memory --seq 8192 --batch 4 --dtype fp8
    """
    if not show_memory:
        given = [
            f"--{name}"
            for name in ("seq", "batch", "dtype")
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise click.ClickException(f"{', '.join(given)} only {verb} with --memory")
    manager = _manager(ctx, read_only=True)
    model = manager.require_model(model_id, include_deleted=True)
    sections: dict[str, Any] = {}
    if show_config:
        sections["config"] = model["config"]
    if show_genz:
        sections["genz_config"] = model["genz_config"]
    if show_versions:
        sections["versions"] = _version_rows(manager.get_versions(model["model_id"]))
    if show_metrics:
        sections["metrics"] = [
            {c: m[c] for c in METRIC_COLUMNS[1:]}
            for m in manager.get_quality_metrics(model["model_id"])
        ]
    if show_memory:
        sections["memory"] = _memory(ctx, model, batch, seq, dtype)
    if not sections:
        print_record(
            _summary(model),
            output,
            table_formatters={
                **_COUNT_FORMATTERS,
                "aliases": ", ".join,
                "tags": ", ".join,
                "warnings": "; ".join,
            },
        )
        return
    if not output.is_table:
        if len(sections) == 1:
            (value,) = sections.values()
        else:
            value = sections
        if isinstance(value, list):
            print_rows(value, output, _columns_of(value))
        else:
            print_record(value, output)
        return
    for number, (name, value) in enumerate(sections.items()):
        if len(sections) > 1:
            click.echo(("\n" if number else "") + f"{name}:")
        if name in ("config", "genz_config"):
            click.echo(json.dumps(value, indent=2, sort_keys=True))
        elif name == "memory":
            _print_memory(value, output)
        elif name == "versions":
            print_rows(value, output, VERSION_COLUMNS, table_formatters=_COUNT_FORMATTERS)
        else:
            print_rows(value, output, METRIC_COLUMNS[1:])


def _columns_of(rows: list[dict[str, Any]]) -> list[str] | None:
    return list(rows[0]) if rows else None


def _print_memory(report: dict[str, Any], output: OutputFormat) -> None:
    click.echo(
        f"dtype {report['dtype']}, batch {report['batch']}, sequence length {report['seq_len']}"
    )
    rows = [
        {
            "component": k.removesuffix("_bytes").replace("_", " "),
            "bytes": report[k],
            "human": format_bytes(report[k]),
        }
        for k in _MEMORY_COMPONENTS
        if k in report
    ]
    print_rows(rows, output, ["component", "bytes", "human"])


@cli.command()
@click.argument("model_id")
@click.option(
    "--hard",
    is_flag=True,
    help="Remove the model with its versions, aliases, metrics and cache for good.",
)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (with --hard).")
@click.pass_context
def delete(ctx: click.Context, model_id: str, hard: bool, yes: bool) -> None:
    """Delete a model: hidden (soft, undo with undelete), or removed for good with --hard.

    \b
    Example:
        genz-catalog delete my-org/my-model
        genz-catalog delete my-org/my-model --hard -y
    """
    manager = _manager(ctx)
    canonical = manager.require_model(model_id, include_deleted=True)["model_id"]
    if hard and not yes:
        click.confirm(
            f"Remove {canonical} with its versions, aliases, metrics and cache for good?",
            abort=True,
        )
    manager.delete_model(canonical, hard=hard)
    if hard:
        click.echo(f"Removed {canonical}")
    else:
        click.echo(f"Deleted {canonical} (undo with: genz-catalog undelete {canonical})")


@cli.command()
@click.argument("model_id")
@click.pass_context
def undelete(ctx: click.Context, model_id: str) -> None:
    """Bring back a soft-deleted model.

    \b
    Example:
        genz-catalog undelete my-org/my-model
    """
    click.echo(f"Restored {_manager(ctx).undelete_model(model_id)}")


VERSION_COLUMNS = ("version", "created_at", "change_description", "parameter_count", "config_hash")


def _version_rows(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "version": v["version"],
            "created_at": v["created_at"],
            "change_description": v["change_description"],
            "parameter_count": v["snapshot"].get("parameter_count"),
            "config_hash": v["config_hash"],
        }
        for v in versions
    ]


@cli.command()
@click.argument("model_id")
@output_options
@click.pass_context
def history(ctx: click.Context, model_id: str, output: OutputFormat) -> None:
    """List a model's versions, oldest first.

    A version is recorded only when the model's content changes.

    \b
    Example:
        genz-catalog history meta-llama/Llama-3.1-8B
    """
    rows = _version_rows(_manager(ctx, read_only=True).get_versions(model_id))
    print_rows(rows, output, VERSION_COLUMNS, table_formatters=_COUNT_FORMATTERS)


@cli.command()
@click.argument("model_id")
@click.argument("version", type=int)
@click.pass_context
def rollback(ctx: click.Context, model_id: str, version: int) -> None:
    """Restore a model's content to VERSION, recorded as a new version.

    \b
    Example:
        genz-catalog history my-org/my-model
        genz-catalog rollback my-org/my-model 1
    """
    result = _manager(ctx).rollback(model_id, version)
    click.echo(f"Rolled back {result.model_id} to version {version} (now version {result.version})")


@cli.command()
@click.argument("model_id")
@click.argument("v1", type=int)
@click.argument("v2", type=int)
@output_options
@click.pass_context
def diff(ctx: click.Context, model_id: str, v1: int, v2: int, output: OutputFormat) -> None:
    """Show the fields that differ between two versions of a model.

    Raw config keys appear as config.KEY (config.text_config.hidden_size).

    \b
    Example:
        genz-catalog diff my-org/my-model 1 2
    """
    changes = _manager(ctx, read_only=True).diff(model_id, v1, v2)
    if not changes and output.is_table:
        click.echo(f"versions {v1} and {v2} are identical")
        return
    from_key, to_key = f"v{v1}", f"v{v2}"
    rows = [{"field": k, from_key: a, to_key: b} for k, (a, b) in changes.items()]
    if output.is_table:
        # Counts for people (8.03B), as in list and show; nested values as JSON (what the config
        # file says), not Python reprs; machine formats keep the values themselves.
        rows = [
            {
                k: _diff_cell(row["field"], v) if k != "field" and v is not None else v
                for k, v in row.items()
            }
            for row in rows
        ]
    print_rows(rows, output, ["field", from_key, to_key])


def _diff_cell(field: str, value: Any) -> Any:
    if field in _COUNT_FORMATTERS:
        return _COUNT_FORMATTERS[field](value)
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, sort_keys=True)
    return value


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
    stored = _manager(ctx).add_quality_metric(
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
    print_rows(_manager(ctx, read_only=True).get_quality_metrics(model_id), output, METRIC_COLUMNS)


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
    stored = _manager(ctx).add_quality_metrics(items, row_labels=labels)
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
    figures = _manager(ctx, read_only=True).get_stats()
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


@cli.command(name="clear-cache")
@click.argument("model_id", required=False)
@click.option("--expired", is_flag=True, help="Only drop entries whose time to live has passed.")
@click.pass_context
def clear_cache(ctx: click.Context, model_id: str | None, expired: bool) -> None:
    """Drop cached computed values (memory figures, stored simulations), of every model or one.

    ``--expired`` drops entries whose time to live has passed and simulations that are stale
    (the model changed, or another GenZ version made them).

    \b
    Example:
        genz-catalog clear-cache
        genz-catalog clear-cache meta-llama/Llama-3.1-8B --expired
    """
    from .planner import clear_simulations

    manager = _manager(ctx)
    if expired:
        removed = manager.purge_expired(model_id)
    else:
        removed = manager.clear_cache(model_id)
    # Stored GenZ simulations are cached results too (with --expired: the stale ones).
    simulations = clear_simulations(manager, model_id, stale_only=expired)
    scope = (
        f" of {manager.require_model(model_id, include_deleted=True)['model_id']}"
        if model_id
        else ""
    )
    kind = "expired cached value" if expired else "cached value"
    extra = f" and {simulations} stored simulation{'' if simulations == 1 else 's'}"
    click.echo(
        f"Removed {removed} {kind}{'' if removed == 1 else 's'}{extra if simulations else ''}"
        f"{scope}"
    )
