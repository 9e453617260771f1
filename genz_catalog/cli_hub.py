"""``genz-catalog import``, ``sync`` and ``discover`` (registered on :data:`genz_catalog.cli.cli`).

Thin commands: they parse, call :mod:`genz_catalog.hub` (imported lazily, so other commands never
pay for huggingface_hub) or the manager, and print with :mod:`genz_catalog.output`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from .cli_group import CatalogOnFirstWrite, cli, get_manager
from .errors import InvalidInputError, ModelExistsError
from .output import OutputFormat, output_options, print_rows

if TYPE_CHECKING:
    from .hub import ImportOutcome
    from .manager import ModelManager, WriteResult

#: Must match :data:`genz_catalog.hub.DEFAULT_WORKERS`; repeated here so ``--help`` stays cheap.
DEFAULT_WORKERS = 8

SUMMARY_COLUMNS = ["source", "status", "model_id", "version", "detail"]
STATUS_ORDER = ("imported", "updated", "unchanged", "skipped", "failed")


def _token_option(command: Any) -> Any:
    return click.option(
        "--token",
        metavar="TOKEN",
        default=None,
        help="Hub access token (default: HF_TOKEN or your saved login). Never stored or printed.",
    )(command)


def _network_options(command: Any) -> Any:
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
    return _token_option(command)


def read_model_list(path: str) -> list[str]:
    """Model ids from a text file: one per line; blank lines and ``#`` comments are ignored."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidInputError(f"{path}: no such file (--from-file wants one model id per line)")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path}: not UTF-8 text") from None
    ids = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            ids.append(entry)
    return ids


def is_local_source(source: str) -> bool:
    """True for a path to a config.json or a model folder; False for a Hub id ``org/name``.

    An existing file or folder always wins; otherwise anything that looks like a path (``./``,
    ``/``, ``~``, a ``.json`` name, more than one ``/``, a backslash) is treated as one, so a
    mistyped path gets "no such file" instead of a Hub lookup.
    """
    if os.path.lexists(os.path.expanduser(source)):
        return True  # a dangling symlink too: a path the user gave, never a Hub id
    return (
        source.startswith((".", "/", "~"))
        or source.lower().endswith(".json")
        or source.count("/") > 1
        or "\\" in source
        or source.startswith(os.sep)
    )


def _status_line(outcome: ImportOutcome) -> str:
    version = f" (version {outcome.version})" if outcome.version is not None else ""
    if outcome.status == "unchanged":
        return f"unchanged {outcome.model_id}{version}: identical content, no new version"
    return f"{outcome.status} {outcome.model_id}{version}"


def _import_local(
    manager: ModelManager, source: str, model_id: str | None, force: bool
) -> ImportOutcome:
    """Import one local config.json or folder; an existing id is an error unless ``force``.
    (Several local sources go through :func:`_import_local_files`.)"""
    from .hub import ImportOutcome
    from .manager import read_config_file

    config, resolved_id = read_config_file(source, model_id)
    existing = manager.get_model(resolved_id, include_deleted=True)
    if existing is not None and not force:
        raise ModelExistsError(existing["model_id"])
    result = manager.add_model(resolved_id, config, source="local", force=force)
    return ImportOutcome(
        source, result.status, result.model_id, result.version, warnings=list(result.warnings)
    )


#: From this many local files on, ``import`` converts them in worker processes (starting one
#: costs about half a second; below this, one process is as fast).
LOCAL_WORKERS_FROM = 500


def _import_local_files(
    manager: ModelManager, sources: Sequence[str], force: bool
) -> list[ImportOutcome]:
    """Several local configs through the bulk path (``admin.import_config_files``): batched
    writes, and convert processes (one per spare CPU) for many files. In source order; an
    existing id is skipped unless ``force``, and one failure never stops the rest."""
    from collections import defaultdict, deque

    from .admin import import_config_files
    from .hub import ImportOutcome

    if not sources:
        return []
    positions: dict[str, deque[int]] = defaultdict(deque)
    for position, source in enumerate(sources):
        positions[source].append(position)
    found: list[ImportOutcome | None] = [None] * len(sources)

    def record(path: str, written: WriteResult | None, error: str | None) -> None:
        position = positions[path].popleft()
        if written is None:
            found[position] = ImportOutcome(path, "failed", detail=error or "")
        elif written.status == "skipped":
            found[position] = ImportOutcome(
                path,
                "skipped",
                written.model_id,
                written.version,
                "already in the catalog; --force re-imports",
            )
        else:
            found[position] = ImportOutcome(
                path,
                written.status,
                written.model_id,
                written.version,
                warnings=list(written.warnings),
            )

    workers = max(1, (os.cpu_count() or 2) - 1) if len(sources) >= LOCAL_WORKERS_FROM else 0
    import_config_files(
        manager,
        sources,
        if_exists="update" if force else "skip",
        workers=workers,
        on_file=record,
    )
    return [o for o in found if o is not None]


def _summary_rows(outcomes: Sequence[tuple[str, ImportOutcome]]) -> list[dict[str, Any]]:
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


def _print_summary(
    outcomes: Sequence[tuple[str, ImportOutcome]], output: OutputFormat, noun: str = "imports"
) -> None:
    """The table (or JSON) of outcomes, a count line, and exit 1 if any failed."""
    print_rows(_summary_rows(outcomes), output, SUMMARY_COLUMNS)
    counts = {s: sum(1 for _, o in outcomes if o.status == s) for s in STATUS_ORDER}
    if output.is_table:
        click.echo(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to do")
    if counts["failed"]:
        raise click.ClickException(f"{counts['failed']} of {len(outcomes)} {noun} failed")


@cli.command(name="import")
@click.argument("sources", nargs=-1, metavar="SOURCE...")
@click.option(
    "--from-file",
    "from_file",
    metavar="FILE",
    help="Read sources (Hub ids or local paths, one per line, # comments) from FILE.",
)
@click.option(
    "--id",
    "model_id",
    metavar="ID",
    help="Catalog id for a single local config (default: its folder's name; org__name folders "
    "give org/name).",
)
@click.option("--force", is_flag=True, help="Re-import models already in the catalog.")
@click.option("--revision", metavar="REV", help="Hub branch, tag or commit sha (default: main).")
@click.option(
    "--exact",
    is_flag=True,
    help="Count a family the converter has no handler for with transformers' own class on "
    "the meta device (needs the 'exact' extra: pip install 'genz-catalog[exact]').",
)
@_network_options
@output_options
@click.pass_context
def import_command(
    ctx: click.Context,
    sources: tuple[str, ...],
    from_file: str | None,
    model_id: str | None,
    force: bool,
    revision: str | None,
    exact: bool,
    token: str | None,
    workers: int,
    quiet: bool,
    timeout: float | None,
    output: OutputFormat,
) -> None:
    """Import models from the Hugging Face Hub (org/name) or local config.json files/folders.

    A model already in the catalog is left alone unless --force; a re-import with identical
    content records no new version. Several sources (or --from-file) run as a bulk import:
    concurrent downloads, a progress bar on a terminal, and a summary table; one failure never
    stops the rest, and the exit code is 1 if any failed. With HF_HUB_OFFLINE=1, Hub ids are
    read from the local Hugging Face cache.

    \b
    Example:
        genz-catalog import meta-llama/Llama-3.1-8B
        genz-catalog import Qwen/Qwen2.5-7B mistralai/Mistral-7B-v0.1 --workers 8
        genz-catalog import --from-file models.txt
        genz-catalog import ./my-model/config.json --id my-org/my-model
        genz-catalog import ./models/      # every */config.json below; org__name -> org/name
        genz-catalog import --exact NX-AI/xLSTM-7b

    A family the converter has no exact formula for is refused, unless --exact (or
    GENZ_CATALOG_EXACT=1) counts it with transformers on the meta device, or the Hub repo
    publishes a safetensors parameter total; the count_basis column says which.
    """
    if exact:
        from .exact import exact_counts_unavailable

        reason = exact_counts_unavailable()
        if reason is not None:
            raise click.ClickException(f"--exact: {reason}")
        from .exact import enable_exact_counts

        enable_exact_counts()
    names = list(sources)
    if from_file is not None:
        names += read_model_list(from_file)
    if not names:
        raise click.UsageError("give at least one SOURCE (a Hub id or a path), or --from-file")
    names = _expand_model_folders(names)
    if model_id is not None and (len(names) != 1 or not is_local_source(names[0])):
        raise InvalidInputError("--id names a single local config; give exactly one path with it")
    local = [s for s in names if is_local_source(s)]
    hub_ids = [s for s in names if not is_local_source(s)]
    if revision is not None and not hub_ids:
        raise InvalidInputError("--revision applies to Hub ids only")
    # Bad input and failed downloads write nothing, not even a new catalog file: the file is
    # created (and its folder) only when the first model is written.
    manager = cast("ModelManager", CatalogOnFirstWrite(ctx))

    if len(names) == 1 and from_file is None:
        outcome = _import_single(
            manager,
            names[0],
            model_id=model_id,
            force=force,
            revision=revision,
            token=token,
            timeout=timeout,
            local=bool(local),
        )
        if output.is_table:
            click.echo(_status_line(outcome))
            for warning in outcome.warnings:
                click.echo(f"warning: {warning}", err=True)
        else:
            print_rows(
                _summary_rows([("local" if local else "hub", outcome)]), output, SUMMARY_COLUMNS
            )
        return

    from .hub import import_models_from_hf

    outcomes: list[tuple[str, ImportOutcome]] = [
        ("local", o) for o in _import_local_files(manager, local, force)
    ]
    if hub_ids:
        results = import_models_from_hf(
            hub_ids,
            manager=manager,
            force_update=force,
            revision=revision,
            token=token,
            workers=workers,
            timeout=timeout,
            show_progress=False if quiet else None,
        )
        outcomes += [("hub", o) for o in results]
    _print_summary(outcomes, output)


def _expand_model_folders(sources: list[str]) -> list[str]:
    """A folder without a config.json of its own stands for every config.json below it."""
    from .manager import find_config_files

    expanded: list[str] = []
    for source in sources:
        path = Path(source).expanduser()
        if is_local_source(source) and path.is_dir() and not (path / "config.json").exists():
            found = find_config_files(path)
            if not found:
                raise InvalidInputError(f"{source}: no config.json in this folder or below it")
            expanded.extend(found)
        else:
            expanded.append(source)
    return expanded


def _import_single(
    manager: ModelManager,
    source: str,
    *,
    model_id: str | None,
    force: bool,
    revision: str | None,
    token: str | None,
    timeout: float | None,
    local: bool,
) -> ImportOutcome:
    """One source: any failure is raised (one line, exit 1), an existing id included."""
    from .hub import ImportOutcome, import_hub_model

    if local:
        return _import_local(manager, source, model_id, force)
    result = import_hub_model(
        source,
        force_update=force,
        revision=revision,
        token=token,
        manager=manager,
        timeout=timeout,
    )
    if result.status == "skipped":
        raise ModelExistsError(result.model_id)
    return ImportOutcome(
        source, result.status, result.model_id, result.version, warnings=list(result.warnings)
    )


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
@_network_options
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
        from .default_catalog import build_default_catalog

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
        from .genz import sync_static_models

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
    from .hub import sync_hub_models

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
@_network_options
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
    from .hub import discover_models, import_models_from_hf

    # A listing only reads; with --import the catalog file is created at the first model
    # written, so a failed listing or import leaves nothing behind.
    manager = (
        cast("ModelManager", CatalogOnFirstWrite(ctx))
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
        _print_summary([("hub", o) for o in results], output)
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
    from .hub import HubClient
    from .hub_discover import discover_all

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
