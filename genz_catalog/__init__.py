"""genz-catalog: a SQLite catalog of LLM architectures for the GenZ inference simulator.

Public names are imported lazily, so ``import genz_catalog`` stays cheap and never imports GenZ.

The map of the house (which module owns what; data flows sources -> catalog -> file ->
readers) is ``ARCHITECTURE.md`` at the top of the repository. The library itself is
:mod:`genz_catalog.catalog`, with :class:`~genz_catalog.manager.ModelManager` its front and
:func:`genz_catalog.catalog.writes.write_models` its one write path.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "ModelManager": "genz_catalog.manager",
    "DatabaseConnection": "genz_catalog.db",
    "ConversionError": "genz_catalog.convert",
    "convert_hf_config": "genz_catalog.convert",
    "ModelRecord": "genz_catalog.record",
    "CatalogError": "genz_catalog.errors",
    "ModelNotFoundError": "genz_catalog.errors",
    "import_model_from_hf": "genz_catalog.hub",
    "import_hub_model": "genz_catalog.hub",
    "sync_static_models_to_db": "genz_catalog.genz",
    "sync_static_models": "genz_catalog.genz",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'genz_catalog' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
