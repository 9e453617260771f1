"""``genz-catalog sync`` and ``discover``: keep Hub-imported models current, and list (and
import) what the Hub offers.

Thin: they parse, call :mod:`genz_catalog.hub` and :mod:`genz_catalog.hub_discover` (imported
lazily, so other commands never pay for huggingface_hub), and print the outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .group import cli, get_manager
from .hub_options import (
    STATUS_ORDER,
    SUMMARY_COLUMNS,
    network_options,
    print_summary,
)
from .output import OutputFormat, output_options, print_rows

if TYPE_CHECKING:
    pass


@cli.command()
@click.option(
    "--static",
    is_flag=True,
    help="Instead, bring GenZ's built-in models into the catalog (imports GenZ).",
)
@click.option(
    "--defaults",
    is_flag=True,
    help="Instead, load the embedded default catalog (the bundled Hub configs and GenZ's "
    "static models) that `serve` starts from; models already present are left alone.",
)
@network_options
@output_options
@click.pass_context
def sync(
    ctx: click.Context,
    static: bool,
    defaults: bool,
    token: str | None,
    workers: int,
    quiet: bool,
    timeout: float | None,
    output: OutputFormat,
) -> None:
    """Re-check every Hub-imported model against the revision it was imported at.

    A model imported without --revision follows main; one imported at a branch or tag follows
    it; one imported at a full commit sha is left there (status "pinned", no request).
    A model whose commit is unchanged is not touched. A new commit with a changed config records
    a new version; a new commit with the same config only moves the stored sha. The summary
    says what changed; the exit code is 1 if any check failed.

    \b
    Example:
        genz-catalog sync
        genz-catalog sync --static
        genz-catalog sync --defaults
    """
    if static and defaults:
        raise click.UsageError("give --static or --defaults, not both")
    # Only --static and --defaults add models; a Hub sync only updates models that exist, so a
    # missing catalog is an empty one and no file is created.
    manager = get_manager(ctx, create=static or defaults, missing_ok=True)
    if defaults:
        from ..default_catalog import build_default_catalog

        report = build_default_catalog(manager)
        if output.is_table:
            click.echo("\n".join(report.summary_lines()))
        else:
            print_rows(
                [
                    {
                        "imported": len(report.imported),
                        "failed": report.failed,
                        "genz_static": report.genz_static,
                        "genz_skipped_reason": report.genz_skipped_reason,
                    }
                ],
                output,
            )
        return
    if static:
        # Only this branch may import GenZ (about 2 s); plain sync never does.
        from ..genz import sync_static_models

        figures = sync_static_models(manager)
        if output.is_table:
            click.echo(
                f"GenZ static models: {figures.get('total', 0)} seen, "
                f"{figures.get('imported', 0)} imported, {figures.get('updated', 0)} updated, "
                f"{figures.get('unchanged', 0)} unchanged, "
                f"{len(figures.get('merged') or [])} merged into a model from another source, "
                f"{figures.get('metrics', 0)} metric values written"
            )
        else:
            print_rows([figures], output)
        return
    from ..hub import sync_hub_models

    outcomes = sync_hub_models(
        manager,
        token=token,
        workers=workers,
        timeout=timeout,
        show_progress=False if quiet else None,
    )
    if not outcomes:
        if output.is_table:
            click.echo(
                "no Hub-imported models in the catalog; add some with: genz-catalog import org/name"
            )
        else:
            print_rows([], output, SUMMARY_COLUMNS)
        return
    rows = [
        {
            "model_id": o.model_id,
            "status": o.status,
            "version": o.version,
            "old_revision": (o.old_revision or "")[:12],
            "new_revision": (o.new_revision or "")[:12],
            "detail": o.detail,
        }
        for o in outcomes
    ]
    print_rows(
        rows, output, ["model_id", "status", "version", "old_revision", "new_revision", "detail"]
    )
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in (*STATUS_ORDER, "pinned")}
    moved = sum(1 for o in outcomes if o.status == "unchanged" and o.old_revision != o.new_revision)
    if output.is_table:
        click.echo(
            f"{len(outcomes)} checked: {counts['updated']} updated (config changed, new version), "
            f"{moved} new revision with the same config, {counts['unchanged'] - moved} unchanged, "
            f"{counts['pinned']} pinned to a commit, {counts['failed']} failed"
        )
    if counts["failed"]:
        raise click.ClickException(f"{counts['failed']} of {len(outcomes)} checks failed")


@cli.command()
@click.option("--author", metavar="ORG", help="Only models of this user or organisation.")
@click.option("--search", metavar="TEXT", help="Only models whose id contains TEXT.")
@click.option("--pipeline-tag", metavar="TAG", help="e.g. text-generation.")
@click.option("--library", metavar="LIB", help="e.g. transformers.")
@click.option(
    "--sort",
    type=click.Choice(["downloads", "likes", "created"]),
    default="downloads",
    show_default=True,
    help="Most first (or newest first).",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option(
    "--all",
    "walk_all",
    is_flag=True,
    help="Walk the whole listing, page by page (no --limit); with --import, import as it goes, "
    "resumable: run the same command again to go on where a stopped run left off.",
)
@click.option(
    "--restart", is_flag=True, help="With --all --import: start the walk over from page 1."
)
@click.option(
    "--import",
    "do_import",
    is_flag=True,
    help="Import the listed models that are not in the catalog yet.",
)
@network_options
@output_options
@click.pass_context
def discover(
    ctx: click.Context,
    author: str | None,
    search: str | None,
    pipeline_tag: str | None,
    library: str | None,
    sort: str,
    limit: int,
    walk_all: bool,
    restart: bool,
    do_import: bool,
    token: str | None,
    workers: int,
    quiet: bool,
    timeout: float | None,
    output: OutputFormat,
) -> None:
    """List Hub models, marking those already in the catalog; --import brings in the rest.

    With --import, the listing (marked as it was before) is followed by the import summary;
    --json, --nl and --csv give one row per listed model with its status, version and detail.

    \b
    Example:
        genz-catalog discover --author Qwen --search 2.5 --limit 10
        genz-catalog discover --pipeline-tag text-generation --sort likes --import
        genz-catalog discover --author Qwen --all --import    # stop any time; rerun resumes
    """
    if restart and not (walk_all and do_import):
        raise click.UsageError("--restart goes with --all --import")
    if walk_all:
        _discover_all(
            ctx,
            author,
            search,
            pipeline_tag,
            library,
            sort,
            restart,
            do_import,
            token,
            workers,
            quiet,
            timeout,
            output,
        )
        return
    from ..hub import discover_models, import_models_from_hf

    # A listing only reads; with --import the catalog file is created at the first model
    # written, so a failed listing or import leaves nothing behind.
    manager = (
        get_manager(ctx, create_on_write=True)
        if do_import
        else get_manager(ctx, create=False, missing_ok=True)
    )
    rows = discover_models(
        manager,
        author=author,
        search=search,
        pipeline_tag=pipeline_tag,
        library=library,
        sort=sort,
        limit=limit,
        token=token,
        timeout=timeout,
    )
    columns = [
        "model_id",
        "downloads",
        "likes",
        "pipeline_tag",
        "library",
        "created_at",
        "in_catalog",
    ]
    table_rows = [{**r, "in_catalog": "yes" if r["in_catalog"] else ""} for r in rows]
    if not do_import:
        print_rows(table_rows if output.is_table else rows, output, columns)
        return
    wanted = [r["model_id"] for r in rows if not r["in_catalog"]]
    results = (
        import_models_from_hf(
            wanted,
            manager=manager,
            token=token,
            workers=workers,
            timeout=timeout,
            show_progress=False if quiet else None,
        )
        if wanted
        else []
    )
    if output.is_table:
        # The listing as it was before the import (in_catalog marks included), then the summary.
        print_rows(table_rows, output, columns)
        click.echo()
        if not wanted:
            click.echo(f"all {len(rows)} listed models are already in the catalog")
            return
        print_summary([("hub", o) for o in results], output)
        return
    # One row per listed model: its listing fields, then what the import did with it.
    by_id = {o.requested_id: o for o in results}
    merged = []
    for row in rows:
        outcome = by_id.get(row["model_id"])
        if outcome is None:
            merged.append(
                {**row, "status": "skipped", "version": None, "detail": "already in the catalog"}
            )
        else:
            detail = outcome.detail.removeprefix(f"{row['model_id']}: ")
            merged.append(
                {**row, "status": outcome.status, "version": outcome.version, "detail": detail}
            )
    print_rows(merged, output, [*columns, "status", "version", "detail"])
    failed = sum(1 for o in results if o.status == "failed")
    if failed:
        raise click.ClickException(f"{failed} of {len(results)} imports failed")


def _discover_all(
    ctx: click.Context,
    author: str | None,
    search: str | None,
    pipeline_tag: str | None,
    library: str | None,
    sort: str,
    restart: bool,
    do_import: bool,
    token: str | None,
    workers: int,
    quiet: bool,
    timeout: float | None,
    output: OutputFormat,
) -> None:
    """``discover --all``: the whole listing; with --import, a resumable walk and its summary."""
    from ..hub import HubClient
    from ..hub_discover import discover_all

    # Ask the Hub before opening (and so creating) the catalog: no network, no file.
    HubClient(token, timeout=timeout).check_reachable("discover")
    # A listing alone reads nothing from the catalog; only --import opens (or creates) it.
    manager = get_manager(ctx, create=True) if do_import else None
    run = discover_all(
        manager,
        author=author,
        search=search,
        pipeline_tag=pipeline_tag,
        library=library,
        sort=sort,
        do_import=do_import,
        restart=restart,
        token=token,
        timeout=timeout,
        workers=workers,
        show_progress=False if quiet else None,
        keep_rows=not do_import,
        reachable=True,
    )
    if not do_import:
        if run.error is not None:
            raise click.ClickException(run.error)
        columns = ["model_id", "downloads", "likes", "pipeline_tag", "library", "created_at"]
        print_rows(run.rows, output, columns)
        if output.is_table:
            click.echo(f"{run.found} models in {run.pages} listing pages")
        return
    if output.is_table:
        resumed = f", resumed at page {run.resumed_at_page}" if run.resumed_at_page else ""
        click.echo(
            f"found {run.found}, imported {run.imported}, updated {run.updated}, "
            f"skipped {run.skipped} (already current), failed {run.failed} "
            f"({run.pages} pages{resumed})"
        )
        for failure in run.failures:
            click.echo(f"failed: {failure.requested_id}: {failure.detail}", err=True)
    else:
        print_rows([run.summary()], output)
    if run.error is not None:
        raise click.ClickException(
            f"{run.error}; stopped after {run.pages} pages with its place saved: run the same "
            "command again to resume"
        )
    if run.failed:
        raise click.ClickException(f"{run.failed} of {run.found} listed models failed to import")
