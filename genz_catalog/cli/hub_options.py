"""What the commands that fetch models share (``import``, ``sync``, ``discover``): the Hub
options and the summary table of import outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from .output import OutputFormat, print_rows

if TYPE_CHECKING:
    from ..hub import ImportOutcome

#: Must match :data:`genz_catalog.hub.DEFAULT_WORKERS`; repeated here so ``--help`` stays cheap.
DEFAULT_WORKERS = 8

SUMMARY_COLUMNS = ["source", "status", "model_id", "version", "detail"]
STATUS_ORDER = ("imported", "updated", "unchanged", "skipped", "failed")


def token_option(command: Any) -> Any:
    """Click decorator: ``--token`` (a Hub access token, never stored or printed)."""
    return click.option(
        "--token",
        metavar="TOKEN",
        default=None,
        help="Hub access token (default: HF_TOKEN or your saved login). Never stored or printed.",
    )(command)


def network_options(command: Any) -> Any:
    """Click decorator: ``--timeout``, ``--quiet``, ``--workers`` and ``--token``, for every
    command that talks to the Hub."""
    command = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="SECONDS",
        help="Seconds to wait for each Hub answer (default: $GENZ_CATALOG_HUB_TIMEOUT, else 10).",
    )(command)
    command = click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="No progress bar (it is only drawn on a terminal).",
    )(command)
    command = click.option(
        "--workers",
        type=click.IntRange(1, 64),
        default=DEFAULT_WORKERS,
        show_default=True,
        help="Concurrent Hub downloads.",
    )(command)
    return token_option(command)


def summary_rows(outcomes: Sequence[tuple[str, ImportOutcome]]) -> list[dict[str, Any]]:
    """One row per (source kind, outcome): what an import did with each model."""
    rows = []
    for source, o in outcomes:
        model_id = o.model_id or o.requested_id
        # Errors start with the model id; the row already names it.
        detail = o.detail.removeprefix(f"{model_id}: ").removeprefix(f"{o.requested_id}: ")
        rows.append(
            {
                "source": source,
                "status": o.status,
                "model_id": model_id,
                "version": o.version,
                "detail": detail,
            }
        )
    return rows


def print_summary(
    outcomes: Sequence[tuple[str, ImportOutcome]], output: OutputFormat, noun: str = "imports"
) -> None:
    """The table (or JSON) of outcomes, a count line, and exit 1 if any failed."""
    print_rows(summary_rows(outcomes), output, SUMMARY_COLUMNS)
    counts = {s: sum(1 for _, o in outcomes if o.status == s) for s in STATUS_ORDER}
    if output.is_table:
        click.echo(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to do")
    if counts["failed"]:
        raise click.ClickException(f"{counts['failed']} of {len(outcomes)} {noun} failed")
