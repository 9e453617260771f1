"""One set of output formats for every listing command: a table for people, JSON, JSON lines, CSV.

Use :func:`output_options` on a click command; it adds ``--fmt STYLE``, ``--json``, ``--nl`` and
``--csv`` and passes the command an :class:`OutputFormat` as ``output``. Then print with
:func:`print_rows` (a list of dicts) or :func:`print_record` (one dict shown as field/value).

Tables are for reading: ``table_formatters`` may turn raw values into friendlier text there
(``8030261248`` -> ``8.03B``). Machine formats always carry the raw values.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import click

from ..units import human_bytes, human_count

#: Table style used when ``--fmt`` is not given.
DEFAULT_TABLE_STYLE = "simple"

Formatters = Mapping[str, Callable[[Any], Any]]


@dataclass(frozen=True)
class OutputFormat:
    """How a command prints: ``kind`` is ``table``, ``json``, ``nl`` or ``csv``.

    ``columns``: the columns (or fields) asked for with ``-c``, in that order (None: the
    command's own). ``width``: the terminal's width in characters when tables should fit it
    (None: no limit, e.g. when printing to a pipe).
    """

    kind: str = "table"
    table_style: str = DEFAULT_TABLE_STYLE
    columns: tuple[str, ...] | None = None
    width: int | None = None

    @property
    def is_table(self) -> bool:
        return self.kind == "table"


def terminal_width() -> int | None:
    """Characters per line to fit tables to: ``$COLUMNS`` if set, else the terminal's width when
    standard output is a terminal, else None (a pipe or file takes whole rows)."""
    import os
    import shutil

    if os.environ.get("COLUMNS", "").strip().isdigit():
        return max(int(os.environ["COLUMNS"]), 20)
    if sys.stdout.isatty():
        return max(shutil.get_terminal_size().columns, 20)
    return None


def _split_columns(values: Sequence[str]) -> tuple[str, ...] | None:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return tuple(dict.fromkeys(names)) if names else None


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Click decorator: add ``--fmt``, ``--json``, ``--nl``, ``--csv``; pass ``output``.

    At most one of ``--json``, ``--nl`` and ``--csv`` may be given; ``--fmt`` takes any
    tabulate style (``simple``, ``github``, ``grid``, ``plain``, ...) and only affects tables.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        style = kwargs.pop("table_style")
        chosen = [kind for kind in ("json", "nl", "csv") if kwargs.pop(f"as_{kind}")]
        if len(chosen) > 1:
            raise click.ClickException("use only one of " + ", ".join(f"--{k}" for k in chosen))
        # tabulate is imported when a command runs, not when --help is drawn.
        from tabulate import tabulate_formats

        if style is not None and style not in tabulate_formats:
            raise click.ClickException(
                f"--fmt: unknown table style {style!r}; choose one of: "
                + ", ".join(tabulate_formats)
            )
        kwargs["output"] = OutputFormat(
            chosen[0] if chosen else "table",
            style or DEFAULT_TABLE_STYLE,
            columns=_split_columns(kwargs.pop("columns")),
            width=terminal_width(),
        )
        return command(*args, **kwargs)

    decorators = [
        click.option(
            "--fmt",
            "table_style",
            metavar="STYLE",
            default=None,
            help=f"Table style: any tabulate format, e.g. github, grid, plain "
            f"(default: {DEFAULT_TABLE_STYLE}).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Output JSON."),
        click.option("--nl", "as_nl", is_flag=True, help="Output newline-delimited JSON."),
        click.option("--csv", "as_csv", is_flag=True, help="Output CSV."),
        click.option(
            "-c",
            "--columns",
            "columns",
            multiple=True,
            metavar="NAME[,NAME]",
            help="Only these columns (fields), in this order; repeat or separate with commas.",
        ),
    ]
    for decorator in reversed(decorators):
        wrapper = decorator(wrapper)
    return wrapper


def format_count(value: Any) -> Any:
    """A parameter count for people (:func:`genz_catalog.units.human_count`: ``8.03B``);
    non-numbers pass through unchanged."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    return human_count(value) if math.isfinite(value) else str(value)


def format_bytes(value: Any) -> Any:
    """A byte count for people (:func:`genz_catalog.units.human_bytes`: ``14.96 GiB``)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    return human_bytes(value) if math.isfinite(value) else str(value)


def format_decimal(value: Any) -> str:
    """A latency or throughput for people: two decimals with thousands separators
    (``1,234.57``)."""
    return f"{value:,.2f}"


#: Table formatters for every parameter-count column (``8.03B``); machine formats keep integers.
COUNT_FORMATTERS: Formatters = {
    "parameter_count": format_count,
    "active_parameter_count": format_count,
    "text_parameter_count": format_count,
    "mtp_parameter_count": format_count,
    "hub_parameter_count": format_count,
}


def _json_default(value: Any) -> Any:
    return str(value)


def print_rows(
    rows: Iterable[Mapping[str, Any]],
    output: OutputFormat,
    columns: Sequence[str] | None = None,
    *,
    table_formatters: Formatters | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print rows in the chosen format.

    ``columns`` picks and orders the keys (default: the first row's keys). ``None`` values print
    as an empty cell in tables and CSV and as ``null`` in JSON.
    """
    out = stream or sys.stdout
    rows = [dict(r) for r in rows]
    if columns is None:
        columns = list(rows[0]) if rows else []
    columns = _chosen(output, list(columns))
    picked = [{c: row.get(c) for c in columns} for row in rows]
    if output.kind == "json":
        out.write(json.dumps(picked, indent=2, default=_json_default) + "\n")
    elif output.kind == "nl":
        for row in picked:
            out.write(json.dumps(row, default=_json_default) + "\n")
    elif output.kind == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in picked:
            writer.writerow(["" if row[c] is None else _csv_value(row[c]) for c in columns])
    else:
        formatters = table_formatters or {}
        table = [
            [
                formatters[c](row[c]) if c in formatters and row[c] is not None else row[c]
                for c in columns
            ]
            for row in picked
        ]
        out.write(_fitted_table(table, list(columns), output) + "\n")


def print_record(
    record: Mapping[str, Any],
    output: OutputFormat,
    *,
    table_formatters: Formatters | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print one record: a two-column field/value table for people, one object otherwise.

    ``--json`` prints the object itself (not a one-item list); ``--nl`` prints it on one line;
    ``--csv`` prints a header row and one value row.
    """
    out = stream or sys.stdout
    if output.columns is not None:
        fields = _chosen(output, list(record))
        record = {field: record[field] for field in fields}
    if output.kind == "json":
        out.write(json.dumps(dict(record), indent=2, default=_json_default) + "\n")
    elif output.kind == "nl":
        out.write(json.dumps(dict(record), default=_json_default) + "\n")
    elif output.kind == "csv":
        print_rows([record], output, list(record), stream=out)
    else:
        formatters = table_formatters or {}
        table = [
            [key, formatters[key](value) if key in formatters and value is not None else value]
            for key, value in record.items()
        ]
        from tabulate import tabulate

        value_width = None
        if output.width is not None and table:
            # Long values (warnings, tags) wrap inside their cell instead of widening the table.
            value_width = max(output.width - max(len(str(row[0])) for row in table) - 4, 20)
        out.write(
            tabulate(
                table,
                headers=["field", "value"],
                tablefmt=output.table_style,
                missingval="",
                disable_numparse=True,
                maxcolwidths=[None, value_width],
            )
            + "\n"
        )


def check_columns(output: OutputFormat, available: Sequence[str]) -> None:
    """Refuse a ``-c`` name not in ``available`` before any work is done (a command that
    simulates or writes checks first, so a typo does not cost a run or store a row)."""
    _chosen(output, list(available))


def _chosen(output: OutputFormat, available: list[str]) -> list[str]:
    """The columns ``-c`` asked for (an unknown name is one line naming the valid ones)."""
    if output.columns is None:
        return available
    unknown = [name for name in output.columns if name not in available]
    if unknown:
        raise click.ClickException(
            f"-c/--columns: no column {unknown[0]!r}; choose from: {', '.join(available)}"
        )
    return list(output.columns)


def _fitted_table(table: list[list[Any]], columns: list[str], output: OutputFormat) -> str:
    """The table, with columns dropped from the right until it fits ``output.width`` (a note on
    stderr names how many were left out and how to see them)."""
    from tabulate import tabulate

    shown = len(columns)
    while True:
        text = tabulate(
            [row[:shown] for row in table],
            headers=columns[:shown],
            tablefmt=output.table_style,
            missingval="",
        )
        width = max((len(line) for line in text.splitlines()), default=0)
        if output.width is None or output.columns is not None or width <= output.width:
            break
        if shown == 1:
            break
        shown -= 1
    if shown < len(columns):
        left_out = columns[shown:]
        click.echo(
            f"({len(left_out)} more column{'s' if len(left_out) > 1 else ''} to the right: "
            f"{', '.join(left_out)}; pick with -c, or use --json / --csv)",
            err=True,
        )
    return text


def _csv_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_json_default)
    if isinstance(value, bool):
        return int(value)
    return value
