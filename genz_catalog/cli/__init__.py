"""The ``genz-catalog`` command line: thin commands that parse, call the library, and format.

:mod:`.group` holds the click group :data:`cli` and what commands share; each command module
imports the group from there and registers its commands on it. This module only imports the
command modules (so their commands exist) and is the entry point: the console script
``genz-catalog`` runs :func:`main`; ``python -m genz_catalog`` too.

A new command is one new module, ``genz_catalog/cli/NAME.py``::

    import click

    from .group import cli, existing_catalog

    @cli.command()
    @click.pass_context
    def NAME(ctx: click.Context) -> None:
        \"\"\"What it does (this is its --help). Example: genz-catalog NAME\"\"\"
        click.echo(existing_catalog(ctx, read_only=True).get_stats()["total_models"])

plus its name in the registration lines below (one line). See ARCHITECTURE.md ("Adding a command").
"""

from __future__ import annotations

# The registration lines: one per command module.
from . import (  # noqa: F401 - importing a command module registers its commands
    admin,
    cache,
    hub,
    imports,
    metrics,
    models,
    plan,
    serve,
    simulate,
    stats,
    versions,
)
from .group import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Run the command line (the ``genz-catalog`` console script), exiting with its status."""
    cli(prog_name="genz-catalog")
