"""The bridge to GenZ, and the only part of the package that imports GenZ (``import GenZ`` costs
~2 s, so nothing else imports this package except lazily, when it simulates or syncs).

Importing it calls :func:`enable`: GenZ's own ``MODEL_DICT`` then finds catalog models too.

- :mod:`.reader`: the reader GenZ calls (``MODEL_DICT`` hook), and the original API's
  :func:`import_model_from_hf`.
- :mod:`.static_sync`: GenZ's hard-coded models as a source for the catalog.
- :mod:`.simulation`: GenZ's prefill and decode on a catalog model (used by
  :mod:`genz_catalog.planner`).
"""

from __future__ import annotations

import GenZ  # noqa: F401 - the point of this package; keep it the only place that imports GenZ
from GenZ.Models.default_models import ModelConfig

from .reader import (
    AUTO_IMPORT_ENV_VAR,
    HUB_MISS_TTL_S,
    LIST_MODELS_FULL_LIMIT,
    MISS_REFRESH_INTERVAL_S,
    MODEL_DICT,
    REFRESH_INTERVAL_S,
    CatalogLoader,
    CatalogModelCollection,
    CatalogModelConfig,
    disable,
    enable,
    genz_kwargs_to_config,
    import_model_from_hf,
    looks_like_hub_id,
)
from .simulation import (
    GENZ_CAPACITY_MESSAGE,
    GenZCapacityError,
    one_line,
    run_prefill_and_decode,
    simulation_config,
    simulation_kwargs,
)
from .static_sync import (
    GENZ_HUB_IDS,
    config_vars,
    genz_parameter_counts,
    static_genz_kwargs,
    static_model_record,
    static_model_records,
    static_models,
    sync_static_models,
    sync_static_models_to_db,
)

enable()

__all__ = [
    "AUTO_IMPORT_ENV_VAR",
    "GENZ_CAPACITY_MESSAGE",
    "GENZ_HUB_IDS",
    "HUB_MISS_TTL_S",
    "LIST_MODELS_FULL_LIMIT",
    "MISS_REFRESH_INTERVAL_S",
    "MODEL_DICT",
    "REFRESH_INTERVAL_S",
    "CatalogLoader",
    "CatalogModelCollection",
    "CatalogModelConfig",
    "GenZCapacityError",
    "ModelConfig",
    "config_vars",
    "disable",
    "enable",
    "genz_kwargs_to_config",
    "genz_parameter_counts",
    "import_model_from_hf",
    "looks_like_hub_id",
    "one_line",
    "run_prefill_and_decode",
    "simulation_config",
    "simulation_kwargs",
    "static_genz_kwargs",
    "static_model_record",
    "static_model_records",
    "static_models",
    "sync_static_models",
    "sync_static_models_to_db",
]
