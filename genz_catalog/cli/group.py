"""The ``genz-catalog`` click group, and what every command module shares: one-line errors
(usage errors exit 2, failures exit 1), the checks every command gets (argument bytes, integer
range), and opening the catalog (:func:`get_manager`, :func:`existing_catalog`).

Every command module imports the group from here (``from .group import cli``) and registers its
commands on it with ``@cli.command()``; :mod:`genz_catalog.cli` imports the command modules.
This module imports none of them, nor the package: data flows one way, with no import circle.
Importing it stays cheap (no converter, no catalog library): ``genz-catalog --help`` pays only
for click and sqlite-utils.
"""

from __future__ import annotations

import contextlib
import errno
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from .._lean_start import import_sqlite_utils_without_dataframes
from ..errors import CatalogError

# Before anything imports sqlite_utils (db, the manager and the command modules do).
import_sqlite_utils_without_dataframes()


class UsageLineError(click.ClickException):
    """A usage error as one ``Error: ...`` line, with click's conventional exit code 2."""

    exit_code = 2


#: click's words for an integer it could not parse; a run of digits that long is a number
#: too large for SQLite (Python refuses to parse more than 4,300 digits at all).
_UNPARSED_HUGE_INTEGER = re.compile(r"'([+-]?\d{20,})' is not a valid integer")


def _usage_line_error(exc: click.UsageError) -> click.ClickException:
    """One line for a usage error: exit 2, except for an integer too large for SQLite, which
    (as every such integer, parsed or not) is refused as bad input with exit 1."""
    message = exc.format_message()
    huge = _UNPARSED_HUGE_INTEGER.search(message)
    if huge is not None and isinstance(exc, click.BadParameter):
        from ..limits import SQLITE_MAX_INT

        name = exc.param.opts[0] if exc.param is not None and exc.param.opts else "value"
        if exc.param is not None and exc.param.param_type_name == "argument":
            name = exc.param.human_readable_name
        digits = huge.group(1)
        return click.ClickException(
            f"{name}: {digits[:20]}... ({len(digits.lstrip('+-'))} digits) is too large; "
            f"at most {SQLITE_MAX_INT} (2^63 - 1)"
        )
    return UsageLineError(message)


def _refuse_undecodable_arguments(args: list[str]) -> None:
    """Non-UTF-8 bytes in an argument arrive as lone surrogates (Python's surrogateescape);
    passed on, they fail later with ``UnicodeEncodeError`` (in SQLite, in a file name, in the
    output). Refuse them here, before any command runs, for every command at once."""
    for number, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise click.ClickException(
                f"argument {number} ({shown}) is not valid UTF-8 text"
            ) from None


def _check_integer_parameters(ctx: click.Context) -> None:
    """Refuse an integer option or argument SQLite cannot hold (2**63 and more), for every
    command at once: such a value fails later with ``OverflowError`` in SQLite's binding."""
    from ..limits import SQLITE_MAX_INT

    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        values = value if isinstance(value, (tuple, list)) else (value,)
        for item in values:
            if isinstance(item, int) and not isinstance(item, bool) and abs(item) > SQLITE_MAX_INT:
                name = (
                    param.opts[0]
                    if param.param_type_name == "option"
                    else param.human_readable_name
                )
                raise click.ClickException(
                    f"{name}: {item} is too large; at most {SQLITE_MAX_INT} (2^63 - 1)"
                )


class CatalogCommand(click.Command):
    """A command whose integer parameters are checked against SQLite's range before it runs."""

    def invoke(self, ctx: click.Context) -> Any:
        _check_integer_parameters(ctx)
        return super().invoke(ctx)


#: Errors of writing to a full or failing output (standard output, a redirect).
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT})


class CatalogGroup(click.Group):
    """A click group that turns expected failures into one line on stderr.

    Failures of the work (a missing model, a refused config, a database error, an argument that
    is not UTF-8 or an integer SQLite cannot hold) exit 1. Usage errors, of a subcommand or of
    the group itself (a bad or missing argument or option, an unknown command), keep click's
    exit code 2 but are one ``Error: ...`` line, not click's usage block. ``--help`` and a bare
    group name (``genz-catalog``, ``genz-catalog metrics``) print help on stdout and exit 0.

    Every subcommand is a :class:`CatalogCommand` and every subgroup a CatalogGroup, so the
    checks shared by all commands (argument bytes, integer range) live here, once.
    """

    command_class = CatalogCommand
    group_class = type  # subgroups are CatalogGroups too

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # The group's own options are parsed here, before invoke() can catch anything.
        try:
            if parent is None:
                _refuse_undecodable_arguments(args)
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            _print_help_and_exit(exc)
        except click.UsageError as exc:
            raise _usage_line_error(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        except click.ClickException as exc:
            # Whatever the error quotes (a request header, a URL), no Hub token is shown.
            from ..redaction import redact

            exc.message = redact(exc.message)
            raise

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            if ctx.parent is None:
                # Output still buffered fails here (a full disk), not after exit with status 0.
                sys.stdout.flush()
            return result
        except BrokenPipeError:
            raise  # click's own handling: the reader is gone (``| head``), exit quietly
        except OSError as exc:
            # Writing the output failed (a full disk, /dev/full), or a file could not be read.
            if exc.filename:
                message = f"{exc.filename}: {exc.strerror or exc}"
            elif exc.errno in _OUTPUT_ERRNOS:
                message = f"cannot write the output: {exc.strerror}"
            else:
                message = " ".join(str(exc).split())
            raise click.ClickException(message) from None
        except click.exceptions.NoArgsIsHelpError as exc:
            _print_help_and_exit(exc)  # a bare subgroup name: ``genz-catalog metrics``
        except click.UsageError as exc:
            raise _usage_line_error(exc) from None
        except CatalogError as exc:
            raise click.ClickException(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            # One line: a damaged schema's message quotes its SQL, newlines and all.
            raise click.ClickException(
                f"catalog database error: {' '.join(str(exc).split())}"
            ) from None
        except OverflowError as exc:
            # A number from a file (CSV, JSON lines) beyond SQLite's 64-bit integers.
            raise click.ClickException(
                f"a number is too large for the catalog (at most 2^63 - 1): {exc}"
            ) from None
        except RecursionError:
            raise click.ClickException("input is nested too deeply") from None
        except UnicodeError as exc:
            raise click.ClickException(f"text that is not valid UTF-8: {exc.reason}") from None
        except ValueError as exc:  # last: UnicodeError is a ValueError, handled above
            if not _is_conversion_error(exc):
                raise
            raise click.ClickException(str(exc)) from None


def _is_conversion_error(exc: BaseException) -> bool:
    """True for the converter's refusal of a config (``genz_catalog.convert.ConversionError``).

    Checked without importing the converter: only code that already imported it can raise its
    errors, and importing it just to name the class would cost every command, ``--help``
    included, about 0.1 s (the converter loads all its family handlers).
    """
    errors = sys.modules.get("genz_catalog.convert.errors")
    return errors is not None and isinstance(exc, errors.ConversionError)


def _print_help_and_exit(exc: click.exceptions.NoArgsIsHelpError) -> NoReturn:
    """Help asked for by giving nothing is an answer, not an error: stdout and exit 0."""
    click.echo(exc.ctx.get_help(), color=exc.ctx.color)
    raise click.exceptions.Exit(0)


@click.group(cls=CatalogGroup)
@click.version_option(package_name="genz-catalog")
@click.option(
    "--db",
    "db_path",
    # Checked when the catalog is opened (db.connect), with the catalog's own one-line errors
    # (a folder, a parent that is a file, ...), not as a usage error.
    type=click.Path(),
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
    if db_path is not None and not db_path.strip():
        # An empty --db would otherwise mean "not given": the default catalog, written to.
        raise click.BadParameter("the catalog path is empty", param_hint="'--db'")
    ctx.ensure_object(dict)
    ctx.obj["db_path"] = db_path


def get_manager(  # noqa: ANN201 - ModelManager
    ctx: click.Context,
    *,
    create: bool = True,
    read_only: bool = False,
    missing_ok: bool = False,
    create_on_write: bool = False,
):
    """The ModelManager for this invocation (opened once, on first use).

    ``create=False`` is for commands that write only to a model that must already exist: a
    missing catalog file is an error (``no catalog at ...``), never created. ``read_only=True``
    (implies ``create=False``) is for commands that only read: the file is opened so that it
    cannot change, not even its journal mode, and a read-only or immutable file can be read.
    ``missing_ok=True`` (with ``create=False``) is for commands with nothing to do on a missing
    catalog (``sync``, ``discover``): they see an empty one in memory and create no file.
    ``create_on_write=True`` (``import``, ``discover --import``): a missing file is created
    only when a model is written, after its input was checked, so bad input and failed
    downloads leave nothing behind, not even a new empty file and its folder.
    """
    from ..db import resolve_db_path
    from ..manager import ModelManager

    root = ctx.find_root()
    root.ensure_object(dict)
    if "manager" not in root.obj:
        path = resolve_db_path(root.obj.get("db_path"))
        if read_only:
            manager = ModelManager(path, read_only=True)
        else:
            if not create and not path.is_file():
                if not missing_ok:
                    from ..db import missing_catalog_message

                    raise click.ClickException(missing_catalog_message(path))
                path = ":memory:"
            elif not create:
                # An empty file is no catalog either: refused as a read-only open refuses it,
                # not made one by the open for writing.
                from ..db import connect

                connect(path, read_only=True).conn.close()
            manager = ModelManager(path, create_on_write=create_on_write)
        root.obj["manager"] = manager
        root.call_on_close(manager.close)
    return root.obj["manager"]


@contextlib.contextmanager
def removed_if_new_on_failure(ctx: click.Context) -> Iterator[None]:
    """Run a command that may create the catalog file: if the file did not exist before and
    the command fails, the file (with its -wal, -shm and -journal) and the folders made for it
    are removed, so a refused input leaves nothing behind."""
    from ..db import resolve_db_path

    root = ctx.find_root()
    root.ensure_object(dict)
    path = resolve_db_path(root.obj.get("db_path")).absolute()
    if path.exists() or "manager" in root.obj:
        yield
        return
    missing_folders = []
    for folder in path.parents:
        if folder.exists():
            break
        missing_folders.append(folder)
    try:
        yield
    except BaseException:
        manager = root.obj.pop("manager", None)
        if manager is not None:
            manager.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        for folder in missing_folders:  # innermost first; only if still empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def existing_catalog(ctx: click.Context, *, read_only: bool = False):  # noqa: ANN201
    """The ModelManager of a command that needs an existing catalog file: a missing one is an
    error (``no catalog at ...``), never created. ``read_only=True`` for commands that only
    read (see :func:`get_manager`)."""
    return get_manager(ctx, create=False, read_only=read_only)


def given(ctx: click.Context, name: str, value: Any) -> Any:
    """``value`` when the user gave option ``name`` (on the command line or from the
    environment), None when it is the option's default."""
    source = ctx.get_parameter_source(name)
    return None if source in (None, click.core.ParameterSource.DEFAULT) else value


def requested_workload(
    ctx: click.Context,
    model: dict[str, Any],
    *,
    batch: int,
    input_tokens: int,
    output_tokens: int,
    bits: str,
) -> Any:  # planner.Workload
    """The workload ``--input-tokens`` / ``--output-tokens`` (tokens; their values, defaults
    included) ask for ``model``: a length the user did not give is shortened to fit the
    model's context (:func:`genz_catalog.planner.workload_for`)."""
    from ..planner import workload_for

    workload = workload_for(
        model,
        batch=batch,
        input_tokens=given(ctx, "input_tokens", input_tokens),
        output_tokens=given(ctx, "output_tokens", output_tokens),
        bits=bits,
        default_input_tokens=input_tokens,
        default_output_tokens=output_tokens,
    )
    workload.check()
    return workload


def refuse_beyond_context(
    model: dict[str, Any], workload: Any, input_tokens: int, output_tokens: int
) -> None:
    """Refuse ``workload`` beyond the model's context length
    (:class:`~genz_catalog.planner.BeyondContextError`); else say on stderr what
    :func:`requested_workload` shortened from ``input_tokens`` + ``output_tokens``."""
    from ..planner import require_within_context, shortened

    require_within_context(model, workload)
    note = shortened(model, workload, input_tokens, output_tokens)
    if note:
        click.echo(f"Note: {note}", err=True)
