"""``genz-catalog clear-cache``: drop cached values and stored simulations."""

from __future__ import annotations

import click

from .group import cli, existing_catalog


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
    from ..planner import clear_simulations

    manager = existing_catalog(ctx)
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
