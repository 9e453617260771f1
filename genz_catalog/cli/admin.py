"""``genz-catalog backup | export | load | doctor``: keeping the catalog safe (see ``admin``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .group import cli, get_manager, removed_if_new_on_failure
from .output import OutputFormat, output_options, print_rows


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _counts_text(counts: dict[str, int]) -> str:
    names = (
        ("models", "model"),
        ("model_aliases", "alias"),
        ("model_versions", "version"),
        ("model_quality_metrics", "metric"),
        ("model_cache", "cache entry"),
    )
    parts = []
    for table, word in names:
        if table == "model_cache" and table not in counts:
            continue
        count = counts.get(table, 0)
        if word == "alias":
            parts.append(f"{count:,} alias{'' if count == 1 else 'es'}")
        elif word == "cache entry":
            parts.append(f"{count:,} cache entr{'y' if count == 1 else 'ies'}")
        else:
            parts.append(_plural(count, word))
    return ", ".join(parts)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option(
    "--publish",
    is_flag=True,
    help="Mark the copy as a published replica (a catalog_publication row with its "
    "fingerprint) that `check-replica` can compare with this catalog.",
)
@click.pass_context
def backup(ctx: click.Context, file: str, force: bool, publish: bool) -> None:
    """Write a consistent snapshot of the catalog to FILE, safe while others write.

    The copy is a plain SQLite file (journal mode delete, no -wal file), so it can be
    served read-only and immutable by Datasette.

    \b
    Example:
        genz-catalog backup catalog-backup.db
        datasette -i catalog-backup.db
        genz-catalog backup --publish --force /srv/publish/catalog.db
    """
    from ..admin import backup_catalog

    # The source is only read: a read-only open never switches it to WAL or migrates it.
    result = backup_catalog(
        get_manager(ctx, read_only=True).db, file, overwrite=force, publish=publish
    )
    click.echo(
        f"Backed up {_plural(result.models, 'model')} to {result.path} "
        f"({result.size_bytes:,} bytes)"
    )


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--include-cache",
    is_flag=True,
    help="Also export cached computed values and stored simulations.",
)
@click.pass_context
def export(ctx: click.Context, file: str, include_cache: bool) -> None:
    """Export every table (models, aliases, versions, metrics) to FILE as JSON lines.

    The output is sorted with stable key order: the same catalog always exports to the
    same bytes. FILE '-' writes to standard output.

    \b
    Example:
        genz-catalog export catalog.jsonl
        genz-catalog --db other.db load catalog.jsonl
    """
    from ..admin import check_output_path, export_catalog, write_file_atomically

    db = get_manager(ctx, read_only=True).db
    if file == "-":
        export_catalog(db, sys.stdout, include_cache=include_cache)
        return
    # Refuses the catalog (and its -wal/-shm) under any spelling; written beside the target and
    # renamed into place, so an interrupted export (disk full, a kill) leaves no half file.
    target = check_output_path(db, file, verb="export", what="export")
    result = write_file_atomically(
        target, lambda out: export_catalog(db, out, include_cache=include_cache)
    )
    click.echo(f"Exported {_counts_text(result.counts)} to {target}")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--replace",
    is_flag=True,
    help="Empty the catalog first, so it holds exactly FILE (default: merge).",
)
@click.pass_context
def load(ctx: click.Context, file: str, replace: bool) -> None:
    """Load a JSON-lines export into the catalog, in one transaction.

    By default models in FILE are merged in (each replacing the catalog's model of the
    same id, with its aliases, versions and metrics); with --replace the catalog is
    emptied first. The catalog file itself is never deleted or swapped, so a running
    Datasette keeps serving it. On any error nothing is written.

    \b
    Example:
        genz-catalog load catalog.jsonl
        genz-catalog load --replace catalog.jsonl
    """
    from ..admin import load_catalog

    path = Path(file).expanduser()
    if file != "-" and not path.is_file():
        raise click.ClickException(f"{file}: no such file")
    with removed_if_new_on_failure(ctx):
        manager = get_manager(ctx)
        if file == "-":
            result = load_catalog(manager.db, sys.stdin, replace=replace, source_name="<stdin>")
        else:
            try:
                with open(path, encoding="utf-8") as handle:
                    result = load_catalog(manager.db, handle, replace=replace, source_name=file)
            except UnicodeDecodeError:
                raise click.ClickException(f"{file}: not UTF-8 text") from None
    mode = "replaced the catalog" if replace else "merged"
    click.echo(f"Loaded {_counts_text(result.counts)} from {file} ({mode})")
    if result.skipped_aliases:
        click.echo(
            "Skipped aliases that already name another model: "
            + ", ".join(sorted(result.skipped_aliases)),
            err=True,
        )


@cli.command()
@click.option(
    "--fix",
    is_flag=True,
    help="Rebuild the search index, remove orphaned rows and stale temporary files, and "
    "recreate indexes an interrupted import deferred.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def doctor(ctx: click.Context, fix: bool, as_json: bool) -> None:
    """Check the catalog: integrity, every row readable, UTF-8 text, strict JSON, search index,
    orphaned rows, missing versions, ids shadowed by aliases, stale temporaries, WAL size.

    Exits with code 1 while problems remain. --fix rebuilds the full-text index, removes rows
    whose model is gone and temporaries of interrupted backups/exports; a damaged file needs
    a backup restore. Never changes the file without --fix.

    \b
    Example:
        genz-catalog doctor
        genz-catalog doctor --fix
        genz-catalog doctor --json
    """
    import json

    from ..admin import diagnose_catalog, repair_catalog
    from ..db import connect, resolve_db_path

    if fix:
        db = get_manager(ctx, create=False).db
    else:
        # Checking must not change the file: a read-write open would switch a backup (served
        # immutable, journal_mode=delete) back to WAL, and would create a missing catalog.
        path = resolve_db_path(ctx.find_root().obj.get("db_path"))
        db = connect(path, read_only=True)
        ctx.call_on_close(db.conn.close)
    report = diagnose_catalog(db)
    fixed = None
    if fix and (not report.healthy or report.unreferenced_documents > 0):
        removed = repair_catalog(db)
        temporaries = removed.pop("stale temporary files", 0)
        documents = removed.pop("documents", 0)
        indexes = removed.pop("deferred indexes", 0)
        refigured = removed.pop("figures derived again", 0)
        fixed = (
            f"Fixed: rebuilt the search index and model shapes, removed "
            f"{_plural(sum(removed.values()), 'orphaned row')}"
        )
        if documents:
            fixed += f", {_plural(documents, 'unreferenced document')}"
        if temporaries:
            fixed += f" and {_plural(temporaries, 'stale temporary file')}"
        if indexes:
            fixed += f"; recreated {indexes:,} deferred index{'' if indexes == 1 else 'es'}"
        if refigured:
            fixed += f"; derived the figures of {_plural(refigured, 'model')} again"
        report = diagnose_catalog(db)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "fixed": fixed}, indent=2))
        if not report.healthy:
            ctx.exit(1)
        return
    if fixed:
        click.echo(fixed)
    orphans = sum(count for count in report.orphans.values() if count > 0)
    wal = "none" if report.wal_bytes is None else f"{report.wal_bytes:,} bytes"
    click.echo(f"integrity check: {'; '.join(report.integrity[:5])}")
    click.echo(f"models: {report.models:,}")
    click.echo(
        f"search index rows: {report.fts_rows:,} "
        f"({'in sync' if not report.fts_out_of_sync else 'out of sync'})"
    )
    click.echo(f"orphaned rows: {orphans:,}")
    click.echo(f"models missing their current version: {report.models_missing_current_version:,}")
    if report.unreferenced_documents > 0:
        click.echo(
            f"unreferenced documents: {report.unreferenced_documents:,} "
            "(left by updates; --fix removes them)"
        )
    click.echo(f"journal mode: {report.journal_mode}, WAL file: {wal}")
    if report.healthy:
        click.echo("No problems found")
        return
    for problem in report.problems:
        click.echo(f"Problem: {problem}", err=True)
    ctx.exit(1)


@cli.command(name="check-replica")
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds."
)
@output_options
@click.pass_context
def check_replica(
    ctx: click.Context, urls: tuple[str, ...], timeout: float, output: OutputFormat
) -> None:
    """Check that read replicas serve what this catalog holds now.

    Each URL is a replica's base URL (`genz-catalog serve --immutable FILE`, FILE from
    `backup --publish`); its published fingerprint is compared with this catalog's. Exit 1
    unless every replica is current.

    \b
    Example:
        genz-catalog check-replica http://replica1:8001 http://replica2:8001
    """
    from ..admin import check_replicas

    checks = check_replicas(get_manager(ctx, create=False).db.conn, urls, timeout=timeout)
    rows = [vars(check) for check in checks]
    print_rows(
        rows,
        output,
        ["url", "status", "published_at", "replica_digest", "catalog_digest", "detail"],
    )
    behind = [check for check in checks if check.status != "current"]
    if behind:
        raise click.ClickException(
            f"{len(behind)} of {len(checks)} replicas are not current; publish a new copy "
            "(genz-catalog backup --publish) and restart them one at a time"
        )
