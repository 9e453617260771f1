"""``genz-catalog import``: models from the Hub (org/name) or local config.json files and folders.

Thin: it parses, calls :mod:`genz_catalog.hub` (imported lazily, so other commands never pay for
huggingface_hub), the manager or :func:`genz_catalog.admin.import_config_files` (many local
files), and prints the outcomes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import InvalidInputError, ModelExistsError
from .group import cli, get_manager
from .hub_options import SUMMARY_COLUMNS, network_options, print_summary, summary_rows
from .output import OutputFormat, output_options, print_rows

if TYPE_CHECKING:
    from ..hub import ImportOutcome
    from ..manager import ModelManager, WriteResult


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
    from ..hub import ImportOutcome
    from ..manager import read_config_file

    config, resolved_id = read_config_file(source, model_id)
    existing = manager.get_model(resolved_id, include_deleted=True)
    if existing is not None and not force and existing["model_id"].lower() == resolved_id.lower():
        raise ModelExistsError(existing["model_id"])
    # Another model's alias is the manager's to judge: a bare name is refused with its owner
    # named, an org/name id takes its name back as a model of its own.
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

    from ..admin import import_config_files
    from ..hub import ImportOutcome

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
@network_options
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
        from ..exact import exact_counts_unavailable

        reason = exact_counts_unavailable()
        if reason is not None:
            raise click.ClickException(f"--exact: {reason}")
        from ..exact import enable_exact_counts

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
    manager = get_manager(ctx, create_on_write=True)

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
                summary_rows([("local" if local else "hub", outcome)]), output, SUMMARY_COLUMNS
            )
        return

    from ..hub import import_models_from_hf

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
    print_summary(outcomes, output)


def _expand_model_folders(sources: list[str]) -> list[str]:
    """A folder without a config.json of its own stands for every config.json below it."""
    from ..manager import find_config_files

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
    from ..hub import ImportOutcome, import_hub_model

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
