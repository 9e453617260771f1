"""The ``genz-catalog`` command line: thin commands that parse, call the manager, and format.

Feature commands live in sibling modules (``cli_hub``, ``cli_genz``, ``cli_serve``,
``cli_admin``) that register themselves on :data:`cli`; they are imported at the bottom.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import click

from .convert import ConversionError
from .errors import CatalogError


class CatalogGroup(click.Group):
    """A click group that turns expected failures into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CatalogError, ConversionError) as exc:
            raise click.ClickException(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise click.ClickException(f"catalog database error: {exc}") from None


@click.group(cls=CatalogGroup)
@click.version_option(package_name="genz-catalog")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    envvar="GENZ_CATALOG_DB",
    help="Catalog file (default: $GENZ_CATALOG_DB, else ~/.genz_simulator/db/models.db).",
)
@click.pass_context
def cli(ctx: click.Context, db_path: str | None) -> None:
    """A SQLite catalog of LLM architectures for the GenZ inference simulator.

    \b
    Example:
        genz-catalog import ./config.json --id my-org/my-model
        genz-catalog list --family llama --min-params 7B
    """
    ctx.ensure_object(dict)
    ctx.obj["db_path"] = db_path


def get_manager(ctx: click.Context):  # noqa: ANN201 - returns ModelManager, imported lazily
    """The ModelManager for this invocation (opened once, on first use)."""
    from .manager import ModelManager

    root = ctx.find_root()
    root.ensure_object(dict)
    if "manager" not in root.obj:
        root.obj["manager"] = ModelManager(root.obj.get("db_path"))
        root.call_on_close(root.obj["manager"].close)
    return root.obj["manager"]


# Feature modules register their commands on ``cli``.
from . import cli_admin, cli_genz, cli_hub, cli_serve  # noqa: E402, F401
