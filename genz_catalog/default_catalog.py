"""The embedded default catalog: what ``genz-catalog serve`` loads into an empty catalog.

Two parts, both offline:

- GenZ's own static models (``GenZ.Models.MODEL_DICT``), when GenZ is installed, through
  :func:`genz_catalog.genz.sync_static_models`;
- real Hugging Face ``config.json`` files shipped inside the package
  (``genz_catalog/data/default-configs/<org>__<name>/config.json``), imported with source
  ``huggingface`` and their Hub id, plus the Hub metadata listed in ``manifest.json``.

Every write goes through :class:`~genz_catalog.manager.ModelManager`. A config the converter
cannot handle yet is reported, never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .convert import ConversionError
from .errors import CatalogError
from .manager import ModelManager

#: Folder (inside the package) holding the bundled configs and their manifest.
DEFAULT_CONFIGS_PACKAGE_PATH = ("data", "default-configs")


@dataclass
class BundledModel:
    """One bundled Hugging Face model: its Hub id, raw config and known Hub metadata."""

    model_id: str
    config: dict[str, Any]
    hub_metadata: dict[str, Any]


@dataclass
class DefaultCatalogReport:
    """What :func:`build_default_catalog` did.

    ``imported``: ids written; ``failed``: id -> reason (e.g. a family the converter does not
    handle yet); ``genz_static``: how many GenZ static models were synced (None when skipped, with
    ``genz_skipped_reason``).
    """

    imported: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    genz_static: int | None = None
    genz_skipped_reason: str | None = None

    def summary_lines(self) -> list[str]:
        """Human-readable lines for the terminal (one per outcome, failures listed by id)."""
        lines = [f"default catalog: imported {len(self.imported)} bundled Hugging Face configs"]
        if self.genz_static is not None:
            lines.append(f"default catalog: synced {self.genz_static} GenZ static models")
        elif self.genz_skipped_reason:
            lines.append(
                f"default catalog: GenZ static models skipped ({self.genz_skipped_reason})"
            )
        if self.failed:
            lines.append(f"default catalog: {len(self.failed)} bundled configs not imported:")
            lines.extend(f"  {model_id}: {reason}" for model_id, reason in self.failed.items())
        return lines


def _configs_root() -> resources.abc.Traversable:
    root = resources.files("genz_catalog")
    for part in DEFAULT_CONFIGS_PACKAGE_PATH:
        root = root / part
    return root


def bundled_models() -> Iterator[BundledModel]:
    """The bundled configs, sorted by Hub id, read from the installed package (works from a wheel)."""
    root = _configs_root()
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["models"]
    folders = sorted(
        (entry for entry in root.iterdir() if entry.is_dir()), key=lambda entry: entry.name
    )
    for folder in folders:
        model_id = folder.name.replace("__", "/", 1)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        hub_metadata = dict(manifest.get(model_id, {"hub_id": model_id}))
        yield BundledModel(model_id, config, hub_metadata)


def import_bundled_configs(manager: ModelManager, report: DefaultCatalogReport) -> None:
    """Import every bundled config (existing ids are left as they are); failures go to ``report``."""
    for bundled in bundled_models():
        try:
            result = manager.add_model(
                bundled.model_id,
                bundled.config,
                source="huggingface",
                hub_metadata=bundled.hub_metadata,
                if_exists="skip",
                change_description="embedded default catalog",
            )
        except (ConversionError, CatalogError) as exc:
            report.failed[bundled.model_id] = str(exc).splitlines()[0] if str(exc) else repr(exc)
            continue
        if result.status == "imported":
            report.imported.append(result.model_id)


def sync_genz_static_models(manager: ModelManager, report: DefaultCatalogReport) -> None:
    """Sync GenZ's static models when GenZ (and the bridge module) are installed."""
    try:
        from .genz import sync_static_models
    except ModuleNotFoundError as exc:
        # Only a missing GenZ (or a bridge not shipped yet) is expected; anything else is a bug.
        if exc.name not in ("GenZ", "genz_catalog.genz"):
            raise
        report.genz_skipped_reason = f"{exc.name} is not installed"
        return
    except ImportError as exc:
        report.genz_skipped_reason = f"GenZ bridge unavailable: {exc}"
        return
    try:
        synced = sync_static_models(manager)
    except ModuleNotFoundError as exc:
        if exc.name != "GenZ":
            raise
        report.genz_skipped_reason = "GenZ is not installed"
        return
    report.genz_static = _count(synced)


def _count(synced: Any) -> int:
    """Models the bridge wrote, found current or merged into a bundled model: its summary dict,
    or a plain count."""
    if isinstance(synced, dict):
        return sum(int(synced.get(key, 0)) for key in ("imported", "updated", "unchanged")) + len(
            synced.get("merged") or []
        )
    return int(synced)


def build_default_catalog(
    manager: ModelManager, *, include_genz: bool = True
) -> DefaultCatalogReport:
    """Fill the catalog with the embedded default content (GenZ static models, bundled configs)."""
    report = DefaultCatalogReport()
    # Real Hub configs first: the GenZ sync keeps a row from another source's config and only
    # adds GenZ's aliases and quality metrics to it, so a model both ship (e.g.
    # meta-llama/Llama-3.1-8B) keeps its real config.json.
    import_bundled_configs(manager, report)
    if include_genz:
        sync_genz_static_models(manager, report)
    return report


def catalog_is_empty(manager: ModelManager) -> bool:
    """True when the catalog holds no model at all (deleted ones count: the user chose that)."""
    return manager.db.execute("SELECT count(*) FROM models").fetchone()[0] == 0


def ensure_default_catalog(
    manager: ModelManager, *, include_genz: bool = True
) -> DefaultCatalogReport | None:
    """Build the default catalog if the catalog is empty; None when it already had models."""
    if not catalog_is_empty(manager):
        return None
    return build_default_catalog(manager, include_genz=include_genz)
