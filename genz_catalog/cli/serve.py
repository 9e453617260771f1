"""``genz-catalog serve``: browse and query the catalog with Datasette (registered on ``cli``)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

import click

from .group import cli, get_manager


def _parse_setting_value(value: str) -> object:
    """``--setting`` values arrive as text; Datasette wants ints and booleans typed."""
    lowered = value.strip().lower()
    if lowered in ("on", "true", "1", "yes"):
        return True
    if lowered in ("off", "false", "0", "no"):
        return False
    try:
        return int(value)
    except ValueError:
        return value


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind; only this machine can connect unless you change it.",
)
@click.option(
    "--port",
    default=8001,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the catalog in a web browser.")
@click.option(
    "--quiet", is_flag=True, help="No access log (one line per request on stderr otherwise)."
)
@click.option(
    "--no-sql",
    is_flag=True,
    help="Refuse arbitrary SQL; only tables, facets and the canned queries remain.",
)
@click.option(
    "--no-default-catalog",
    is_flag=True,
    help="Serve an empty catalog as it is instead of loading the embedded models.",
)
@click.option(
    "settings",
    "--setting",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="A Datasette setting, e.g. --setting sql_time_limit_ms 5000 (repeatable).",
)
@click.option(
    "--immutable",
    "immutable_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Serve this published copy (genz-catalog backup) as an immutable replica: "
    "never written, migrated or filled; --db is ignored.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    open_browser: bool,
    quiet: bool,
    no_sql: bool,
    no_default_catalog: bool,
    settings: tuple[tuple[str, str], ...],
    immutable_file: Path | None,
) -> None:
    """Browse the catalog in Datasette: HTML pages, a JSON API and canned queries.

    The catalog is served read-only at /catalog, with an SQL time limit of 2 seconds, and every
    request is logged on stderr (one line each; --quiet for none). On first
    run an empty catalog is filled with the embedded default models (GenZ's static models when
    GenZ is installed, plus bundled Hugging Face configs) - no network needed.

    With --immutable FILE it serves a published copy (from `genz-catalog backup`) as a read
    replica: the file is opened immutable and never written; run one per machine behind a load
    balancer. The packaged metadata, plugins and templates come with the installed package.

    \b
    Example:
        genz-catalog serve
        genz-catalog serve --port 9000 --open
        genz-catalog serve --no-sql --setting sql_time_limit_ms 500
        genz-catalog serve --immutable /srv/catalog.db --host 0.0.0.0 --port 8001
    """
    # Datasette and uvicorn load only when serving, so other commands stay fast.
    from datasette.app import SETTINGS

    from ..datasette.app import build_datasette
    from ..default_catalog import ensure_default_catalog

    known = {setting.name for setting in SETTINGS}
    parsed_settings: dict[str, object] = {}
    for name, value in settings:
        if name not in known:
            raise click.ClickException(
                f"unknown Datasette setting {name!r}; see `datasette --help-settings`"
            )
        parsed_settings[name] = _parse_setting_value(value)
    if no_sql:
        parsed_settings["default_allow_sql"] = False

    if immutable_file is not None:
        check_published_catalog(immutable_file)
    # Bind before any slow work: a port in use is one line and exit 1, not a traceback after
    # the default catalog was built.
    listener = bind_listener(host, port)
    if immutable_file is not None:
        datasette = build_datasette(immutable_file, settings=parsed_settings, immutable=True)
        run_datasette(datasette, listener, open_browser, access_log=not quiet)
        return

    manager = get_manager(ctx)
    if not no_default_catalog:
        report = ensure_default_catalog(manager)
        if report is not None:
            for line in report.summary_lines():
                click.echo(line, err=True)
    db_path = manager.path
    # Datasette opens its own read-only connections; ours must not hold the file open.
    manager.close()
    ctx.find_root().obj.pop("manager", None)

    datasette = build_datasette(db_path, settings=parsed_settings)
    run_datasette(datasette, listener, open_browser, access_log=not quiet)


def check_published_catalog(path: Path) -> None:
    """Refuse (one-line ClickException) a file that is missing or holds no catalog.

    Opened ``immutable=1`` and read-only: the check writes nothing, not even a ``-wal`` file.
    """
    import sqlite3

    import sqlite_utils

    if not path.is_file():
        raise click.ClickException(
            f"no catalog file at {path}; publish one with `genz-catalog backup FILE`"
        )
    from ..db import migrations

    missing: list[str] = []
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro&immutable=1", uri=True)
        try:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'models'"
            ).fetchone()
            if found:
                missing = [m.name for m in migrations.pending(sqlite_utils.Database(conn))]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        found = None
    if not found:
        raise click.ClickException(f"{path} is not a genz-catalog file (no models table)")
    if missing:
        # The packaged canned queries and pages read tables the newer schema has; a replica is
        # never migrated, so it would answer them with errors.
        raise click.ClickException(
            f"{path} was published by an older genz-catalog (its schema lacks {missing[0]}"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
            + "); publish it again with this version: genz-catalog backup --publish FILE"
        )


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: a free port), or a one-line ClickException."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio switches Nagle's algorithm off (TCP_NODELAY) only on
    # sockets whose proto says TCP; with proto 0 every keep-alive response that ends in a
    # second small write waited ~40 ms for the client's delayed ACK.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # As uvicorn does: a restart may reuse a port whose old connections are in TIME_WAIT (a
    # port another server is listening on still fails to bind).
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"port {port} on {host} is already in use; stop the other server or pick "
                "another with --port"
            ) from None
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {error.strerror or error}"
        ) from None
    return listener


def run_datasette(
    datasette: Any, listener: socket.socket, open_browser: bool, *, access_log: bool = True
) -> None:
    """Serve ``datasette`` on the bound ``listener`` under uvicorn (blocking).

    The "Serving the catalog at ..." line is printed once uvicorn listens on the socket, so a
    script that waits for it can connect straight away.
    """
    import asyncio
    import webbrowser

    import uvicorn

    from ..datasette.access_log import with_access_log
    from ..datasette.counts_cache import keep_warm

    asyncio.run(datasette.invoke_startup())
    host, port = listener.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/catalog"

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                # Facet counts and whole-catalog summaries counted before anyone asks, and
                # again after each write (a few hundred ms of scans at a million models).
                self.warming = asyncio.get_running_loop().create_task(keep_warm(datasette))
                click.echo(f"Serving the catalog at {url}  (Ctrl-C to stop)", err=True)
                if open_browser:
                    webbrowser.open(url)

    app = datasette.app()
    if access_log:
        app = with_access_log(app)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    AnnouncingServer(config).run(sockets=[listener])
