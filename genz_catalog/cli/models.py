"""``genz-catalog list``, ``search``, ``show``, ``delete`` and ``undelete``: the catalog's models.

:data:`LIST_COLUMNS` are the columns of ``list`` and ``search``; :data:`SHOW_FIELDS` the fields
of ``show``'s summary. ``show --versions`` and ``show --metrics`` print the tables of
``history`` (:mod:`.versions`) and ``metrics list`` (:mod:`.metrics`).
"""

from __future__ import annotations

import json
from typing import Any

import click

from ..db import ATTENTION_TYPES, FIGURE_COLUMNS, MODEL_TYPES, SOURCES
from ..errors import CatalogError
from ..record import LIST_COLUMNS  # columns of list and search, in order
from .group import cli, existing_catalog
from .metrics import METRIC_COLUMNS
from .output import (
    COUNT_FORMATTERS,
    OutputFormat,
    format_bytes,
    output_options,
    print_record,
    print_rows,
)
from .versions import VERSION_COLUMNS, version_rows


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """Click callback: ``7B``, ``500M``, ``1.5e9`` -> an int; a bad size is one line, exit 1."""
    if value is None:
        return None
    from ..manager import parse_size

    try:
        return parse_size(value)
    except CatalogError as exc:
        raise click.ClickException(f"{param.opts[0]}: {exc}") from None


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
    print_rows(rows, output, columns, table_formatters=COUNT_FORMATTERS)
    if not rows and output.is_table:
        from ..default_catalog import catalog_is_empty

        if catalog_is_empty(existing_catalog(ctx)):
            click.echo(EMPTY_CATALOG_HINT, err=True)


@cli.command(name="list")
@click.option(
    "--type",
    "model_type",
    type=click.Choice(MODEL_TYPES, case_sensitive=False),
    help="Only models of this type.",
)
@click.option(
    "--attention",
    "attention_type",
    type=click.Choice(ATTENTION_TYPES, case_sensitive=False),
    help="Only models with this attention.",
)
@click.option("--family", metavar="FAMILY", help="HF model_type, e.g. llama, mixtral.")
@click.option(
    "--source", type=click.Choice(SOURCES, case_sensitive=False), help="Only models from here."
)
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
    rows = existing_catalog(ctx, read_only=True).list_models(
        include_deleted=include_deleted, **filters
    )
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
    """Full-text search over model ids, names, families and aliases, best match first
    (equally good matches in the order they were imported).

    Several words must all match; plain words match as prefixes (Llama-3.1 is fine as typed).
    FTS5 syntax works too: "quoted phrases", word*, AND, OR, NOT.

    \b
    Example:
        genz-catalog search llama 8b
        genz-catalog search 'mistral OR mixtral' --csv
    """
    query = " ".join(words)
    rows = existing_catalog(ctx, read_only=True).search_models(
        query, limit=limit, include_deleted=deleted
    )
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
    from ..memory import memory_report

    seq_len = seq or model.get("context_length") or 4096
    key = f"memory:{dtype}:{batch}:{seq_len}"
    manager = existing_catalog(ctx, read_only=True)
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
    manager = existing_catalog(ctx, read_only=True)
    model = manager.require_model(model_id, include_deleted=True)
    sections: dict[str, Any] = {}
    if show_config:
        sections["config"] = model["config"]
    if show_genz:
        sections["genz_config"] = model["genz_config"]
    if show_versions:
        sections["versions"] = version_rows(manager.get_versions(model["model_id"]))
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
                **COUNT_FORMATTERS,
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
            print_rows(value, output, VERSION_COLUMNS, table_formatters=COUNT_FORMATTERS)
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
    manager = existing_catalog(ctx)
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
    click.echo(f"Restored {existing_catalog(ctx).undelete_model(model_id)}")
