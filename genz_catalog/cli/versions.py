"""``genz-catalog history``, ``rollback`` and ``diff``: a model's versions."""

from __future__ import annotations

import json
from typing import Any

import click

from .group import cli, existing_catalog
from .output import COUNT_FORMATTERS, OutputFormat, output_options, print_rows

#: Columns of ``history`` (and ``show --versions``), in order.
VERSION_COLUMNS = ("version", "created_at", "change_description", "parameter_count", "config_hash")


def version_rows(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One table row per version: its number, date, description, count and config hash."""
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
    rows = version_rows(existing_catalog(ctx, read_only=True).get_versions(model_id))
    print_rows(rows, output, VERSION_COLUMNS, table_formatters=COUNT_FORMATTERS)


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
    result = existing_catalog(ctx).rollback(model_id, version)
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
    changes = existing_catalog(ctx, read_only=True).diff(model_id, v1, v2)
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
    if field in COUNT_FORMATTERS:
        return COUNT_FORMATTERS[field](value)
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, sort_keys=True)
    return value
