"""The bridge to GenZ: a dynamic ``MODEL_DICT`` that GenZ's own simulations use, and static sync.

This is the only module of the package that imports GenZ (``import GenZ`` costs ~2 s). Importing
it calls :func:`enable`, which turns GenZ's existing ``MODEL_DICT`` object into a
:class:`CatalogModelCollection` by swapping its ``__class__``. GenZ's ``get_configs`` imported that
object by name long ago, so rebinding a module attribute would do nothing; mutating the object
reaches every holder at once (``GenZ.Models.MODEL_DICT``, ``get_configs``, ``prefill_moddeling``,
``decode_moddeling``, ``chunked_moddeling``).

Lookup order of :meth:`CatalogModelCollection.get_model` (names are case-insensitive, as GenZ
lower-cases them in ``get_configs``):

1. GenZ's static definitions (through a lower-cased dict index, not GenZ's linear scan);
2. catalog models and aliases, read directly and read-only from the catalog file (soft-deleted
   models are skipped, and a model whose stored GenZ config is empty or invalid is not offered);
3. with auto-import on (``enable(auto_import=True)`` or ``GENZ_CATALOG_AUTO_IMPORT=1``),
   :func:`genz_catalog.hub.import_hub_model` for names that look like Hub ids (``org/name``).
   Failed imports are remembered for :data:`HUB_MISS_TTL_S` seconds so a loop does not hammer the
   Hub.

Freshness versus speed: catalog hits live in a per-process dict. SQLite's ``PRAGMA data_version``
(on the loader's persistent read connection) changes whenever another connection commits. It is
checked on a miss (at most once per millisecond, :data:`MISS_REFRESH_INTERVAL_S`) and on a hit
at most every :data:`REFRESH_INTERVAL_S` (50 ms). So a model another process imports is found
on the next lookup, while a model another process changes or deletes keeps its cached config for
at most 50 ms. A warm hit is a dict lookup and a clock read (well under 2 us); checking
``data_version`` on every call would cost ~2 us by itself. The catalog path follows
``$GENZ_CATALOG_DB``, re-read at those same checks; ``MODEL_DICT.refresh()`` switches at once.
Quality metrics of a catalog model are read when ``model_quality`` is first accessed, so a
cold lookup is one indexed point query plus building the ``ModelConfig``.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import GenZ  # noqa: F401 - the point of this module; keep it the only place that imports GenZ
from GenZ.Models import default_models as _genz_default_models
from GenZ.Models import model_quality as _genz_quality
from GenZ.Models.default_models import ModelCollection, ModelConfig

from .db import DB_ENV_VAR, connect, resolve_db_path
from .errors import CatalogError

#: Seconds a cached catalog hit is trusted before ``PRAGMA data_version`` is checked again.
REFRESH_INTERVAL_S = 0.05
#: Seconds a failed Hub auto-import is remembered before the Hub is asked again.
HUB_MISS_TTL_S = 600.0
#: Environment variable that turns Hub auto-import on (``1``/``true``/``yes``).
AUTO_IMPORT_ENV_VAR = "GENZ_CATALOG_AUTO_IMPORT"
#: Above this many catalog models, ``list_models()`` offers only names resembling the last miss.
LIST_MODELS_FULL_LIMIT = 5000

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$")
_MISSING = object()

# One point query for an id or an alias (both columns are COLLATE NOCASE primary keys, so both
# halves are index lookups).
_LOOKUP_SQL = """
SELECT model_id, genz_config_json FROM models WHERE model_id = ?1 AND is_deleted = 0
UNION ALL
SELECT m.model_id, m.genz_config_json
  FROM model_aliases a JOIN models m ON m.model_id = a.model_id
 WHERE a.alias = ?1 AND m.is_deleted = 0
LIMIT 1
"""
_METRICS_SQL = (
    "SELECT metric_name, metric_value, shots FROM model_quality_metrics WHERE model_id = ? "
    "ORDER BY metric_name, shots"
)
#: A miss re-reads ``PRAGMA data_version`` unless it was read this recently (seconds): a sweep
#: of first lookups then pays for one check per millisecond, not one per name.
MISS_REFRESH_INTERVAL_S = 0.001
_UNLOADED = object()


def looks_like_hub_id(name: str) -> bool:
    """True for ``org/name`` strings the Hub could know (one slash, Hub-safe characters)."""
    return bool(_HUB_ID.match(name)) and ".." not in name


def _auto_import_from_env() -> bool:
    return os.environ.get(AUTO_IMPORT_ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


class CatalogModelConfig(ModelConfig):
    """A GenZ ``ModelConfig`` read from the catalog; its ``model_quality`` (the catalog's quality
    metrics) is read on first access, so a lookup costs one point query, not two."""

    @property
    def model_quality(self) -> Any:
        quality = self.__dict__.get("_model_quality", None)
        if quality is _UNLOADED:
            source = self.__dict__.get("_quality_source")
            metrics = source() if source is not None else []
            quality = _quality_collection(metrics)
            self.__dict__["_model_quality"] = quality
        return quality

    @model_quality.setter
    def model_quality(self, value: Any) -> None:
        self.__dict__["_model_quality"] = value


def _quality_collection(metrics: Iterable[Any]) -> Any:
    objects = [_quality_metric(name, value, shots) for name, value, shots in metrics]
    return _genz_quality.QualityMetricsCollection(objects) if objects else None


def run_prefill_and_decode(
    config: ModelConfig, *, input_tokens: int, output_tokens: int, **common: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """GenZ's own prefill then decode of one ``ModelConfig``; returns GenZ's two result dicts.

    ``common`` is passed to both (``batch_size``, ``system_name``, ``bits``,
    ``tensor_parallel``, ``pipeline_parallel``). Decode uses ``Bb=1``, plain sampling: GenZ's
    default of 4 simulates 4-beam search, with 4x the KV cache. GenZ's chatty warnings are muted.
    GenZ's refusal for capacity ("All params would not fit on chip ...") is raised as
    :class:`GenZCapacityError` (a ``ValueError``, so existing handlers still catch it).
    """
    from GenZ import decode_moddeling, prefill_moddeling

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prefill = prefill_moddeling(model=config, input_tokens=input_tokens, **common)
            decode = decode_moddeling(
                model=config,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                Bb=1,
                **common,
            )
        except ValueError as exc:
            if GENZ_CAPACITY_MESSAGE in str(exc):
                raise GenZCapacityError(_one_line(exc)) from None
            raise
    return prefill, decode


#: The phrase GenZ's prefill and decode raise (``ValueError``) when weights + KV cache exceed the
#: devices' memory; :func:`run_prefill_and_decode` turns it into :class:`GenZCapacityError`.
GENZ_CAPACITY_MESSAGE = "All params would not fit on chip"


class GenZCapacityError(ValueError):
    """GenZ refused a deployment because its own weights + KV figure exceeds device memory."""


def simulation_kwargs(
    kwargs: dict[str, Any], dense_intermediate_size: int | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The stored GenZ keyword arguments, rebuilt so GenZ 0.0.16 simulates the real weights.

    Returns ``(kwargs, adjustments)``; ``adjustments`` says in words what was changed (empty when
    nothing was). GenZ's prefill and decode builders use only its default FFN, in which every
    MoE layer has ``num_experts`` experts of ``intermediate_size`` and ``expert_top_k`` of them
    work per token: ``n_shared_experts`` and ``shared_expert_intermediate_size`` are read by
    the chunked builder's DeepSeek FFN alone, so shared experts vanish from prefill and decode
    (Qwen1.5-MoE -6%, Qwen2-57B-A14B -11% of the weights). A shared expert as wide as ``k``
    routed experts is exactly ``k`` more experts that every token uses: ``k`` more experts and
    ``k`` more per token give the same weights, the same FLOPs per token (prefill spreads
    ``tokens x top_k`` over the experts) and the same decode traffic; only the router grows by
    ``k x hidden_size`` values per layer (<0.01% of the model). A shared width that is not a
    whole number of expert widths is left alone (and stays a named difference).

    Dense layers of a MoE model (``first_k_dense_replace``, DeepSeek's first 1-3 layers of
    width ``dense_intermediate_size``): GenZ builds one layer type, so it simulated them as MoE
    layers (DeepSeek-R1 +33B parameters). Measured in expert widths, a dense layer is
    ``dense / expert`` experts that every token uses; spreading them over all layers gives one
    average layer of ``round((moe_layers x experts + dense_layers x dense/expert) / layers)``
    experts, with the per-token count averaged the same way. For DeepSeek-V3/R1 that is 245
    experts, 9 per token, in each of 61 layers: the weights within 0.1% (rounding), the work
    per token exact (a dense layer of 18,432 = 9 experts of 2,048, as many as a MoE layer's 8
    routed + 1 shared use). Needs ``dense_intermediate_size`` (the record's
    ``intermediate_size``; the stored arguments hold the expert width there).

    Tied embeddings cannot be told to GenZ: ``ModelConfig`` has no such argument, and halving
    ``vocab_size`` would make prefill's weights right but halve the LM head that decode (which
    models no input embedding) reads per token, so it is not done.
    """
    kwargs = dict(kwargs)
    adjustments: list[str] = []
    experts = int(kwargs.get("num_experts") or 1)
    shared = int(kwargs.get("n_shared_experts") or 0)
    expert_width = int(kwargs.get("intermediate_size") or 0)
    if experts > 1 and shared and expert_width:
        shared_width = shared * int(kwargs.get("shared_expert_intermediate_size") or expert_width)
        if shared_width % expert_width == 0:
            extra = shared_width // expert_width
            kwargs["num_experts"] = experts + extra
            kwargs["expert_top_k"] = int(kwargs.get("expert_top_k") or 1) + extra
            kwargs["n_shared_experts"] = 0
            kwargs["ffn_implementation"] = "default"
            adjustments.append(
                f"shared experts ({shared_width:,} wide) simulated as {extra} more routed "
                f"expert{'s' if extra != 1 else ''} of {expert_width:,} that every token uses"
            )
    first_dense = int(kwargs.get("first_k_dense_replace") or 0)
    layers = int(kwargs.get("num_decoder_layers") or 0)
    experts = int(kwargs.get("num_experts") or 1)
    if experts > 1 and expert_width and dense_intermediate_size and 0 < first_dense < layers:
        dense_units = dense_intermediate_size / expert_width
        moe_layers = layers - first_dense
        top_k = int(kwargs.get("expert_top_k") or 1)
        average = round((moe_layers * experts + first_dense * dense_units) / layers)
        per_token = round((moe_layers * top_k + first_dense * dense_units) / layers)
        kwargs["num_experts"] = average
        kwargs["expert_top_k"] = max(1, min(per_token, average))
        kwargs["first_k_dense_replace"] = None
        adjustments.append(
            f"{first_dense} dense layer{'s' if first_dense != 1 else ''} "
            f"({dense_intermediate_size:,} wide) and {moe_layers} MoE layers ({experts} experts "
            f"of {expert_width:,}, {top_k} per token) simulated as {layers} layers of "
            f"{average} experts, {kwargs['expert_top_k']} per token"
        )
    return kwargs, adjustments


def simulation_config(
    kwargs: dict[str, Any], model_id: str, dense_intermediate_size: int | None = None
) -> tuple[ModelConfig, list[str]]:
    """The ``ModelConfig`` that ``simulate`` and ``plan`` give GenZ for a catalog model, and
    the adjustments made (see :func:`simulation_kwargs`).

    Raises :class:`ValueError` (one line) when GenZ's ``ModelConfig`` rejects the arguments
    or GenZ 0.0.16 cannot build the layout (more than one unique layer type).
    """
    adjusted, adjustments = simulation_kwargs(kwargs, dense_intermediate_size)
    adjusted["model"] = model_id
    try:
        config = ModelConfig(**adjusted)
    except (AssertionError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise ValueError(_one_line(exc)) from None
    if config.unique_layers > 1:
        raise ValueError(
            f"GenZ 0.0.16 supports one unique layer type, this model has {config.unique_layers} "
            "(hybrid attention/Mamba/MoE layout)"
        )
    return config, adjustments


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(a) for a in exc.args) if exc.args else type(exc).__name__
    return re.sub(r"\s+", " ", text).strip()


def genz_version() -> str:
    """The installed genz-llm distribution's version (``GenZ.version`` is stale in 0.0.16)."""
    from importlib.metadata import version

    return version("genz-llm")


def genz_kwargs_to_config(kwargs: dict[str, Any], metrics: Iterable[Any] = ()) -> ModelConfig:
    """A GenZ ``ModelConfig`` from stored keyword arguments (and optional quality metrics).

    ``metrics`` are ``(name, value_percent, shots)`` triples; they become GenZ quality metric
    objects (GenZ's own class where one exists for the name).
    """
    config = ModelConfig(**kwargs)
    metric_objects = [_quality_metric(name, value, shots) for name, value, shots in metrics]
    if metric_objects:
        config.model_quality = _genz_quality.QualityMetricsCollection(metric_objects)
    return config


def _quality_metric(name: str, value: float, shots: int | None) -> Any:
    cls = getattr(_genz_quality, name, None)
    if isinstance(cls, type) and issubclass(cls, _genz_quality.QualityMetric):
        return cls(accuracy=value, shots=shots)
    metric = _genz_quality.QualityMetric()
    metric.name, metric.accuracy, metric.shots, metric.metric_type = name, value, shots, "Accuracy"
    return metric


class CatalogLoader:
    """Reads GenZ configs of catalog models from the catalog file, read-only, with a cache.

    ``db_path`` pins the file; by default it follows ``$GENZ_CATALOG_DB`` (re-read on every
    freshness check, so a changed variable switches files). A missing file simply means no
    catalog models; the loader never creates or migrates it.
    """

    def __init__(self, db_path: str | os.PathLike[str] | None = None):
        self.pinned_path = None if db_path is None else Path(db_path)
        self._lock = threading.RLock()
        self._cache: dict[str, Any] = {}
        self._conn: sqlite3.Connection | None = None
        self._path: Path | None = None
        self._env_value: str | None = None
        self._data_version: int | None = None
        self._next_check = 0.0
        self._next_miss_check = 0.0
        self._hub_misses: dict[str, float] = {}
        self._last_miss: str | None = None
        #: Why the last looked-up catalog models could not be offered to GenZ (lower-cased name).
        self.unusable: dict[str, str] = {}

    # -------------------------------------------------------------- connection and freshness

    def _wanted_path(self) -> Path:
        if self.pinned_path is not None:
            return self.pinned_path
        env_value = os.environ.get(DB_ENV_VAR)
        if self._path is None or env_value != self._env_value:
            self._env_value = env_value
            return resolve_db_path(None)
        return self._path

    def _refresh(self) -> None:
        """Follow path changes, open the file once it exists, drop the cache if it changed."""
        path = self._wanted_path()
        if path is not self._path and path != self._path:
            self.close()
            self._path = path
        if self._conn is None:
            if not path.exists():
                self._next_check = time.monotonic() + REFRESH_INTERVAL_S
                return
            try:
                self._conn = connect(path, read_only=True).conn
            except (sqlite3.Error, CatalogError):  # not (yet) a catalog: GenZ's own models only
                self._next_check = time.monotonic() + REFRESH_INTERVAL_S
                return
        try:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            self.close()
            return
        if version != self._data_version:
            self._cache.clear()
            self.unusable.clear()
            self._data_version = version
        now = time.monotonic()
        self._next_check = now + REFRESH_INTERVAL_S
        self._next_miss_check = now + MISS_REFRESH_INTERVAL_S

    def close(self) -> None:
        """Close the read connection and forget every cached config."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            self._data_version = None
            self._next_check = self._next_miss_check = 0.0
            self._cache.clear()
            self.unusable.clear()

    def invalidate(self) -> None:
        """Forget cached configs now (the next lookup reads the file)."""
        with self._lock:
            self._cache.clear()
            self._next_check = self._next_miss_check = 0.0

    # -------------------------------------------------------------- lookups

    def lookup(self, key: str) -> ModelConfig | None:
        """The catalog model named ``key`` (already lower-cased) as a ``ModelConfig``, or None."""
        entry = self._cache.get(key)
        if entry is not None and entry is not _MISSING and time.monotonic() < self._next_check:
            return entry
        with self._lock:
            now = time.monotonic()
            missed = entry is None or entry is _MISSING
            if now >= self._next_check or (missed and now >= self._next_miss_check):
                self._refresh()
            entry = self._cache.get(key)
            if entry is None:
                entry = self._query(key)
                self._cache[key] = entry
        if entry is _MISSING:
            self._last_miss = key
            return None
        return entry

    def _query(self, key: str) -> Any:
        if self._conn is None:
            return _MISSING
        try:
            row = self._conn.execute(_LOOKUP_SQL, (key,)).fetchone()
        except sqlite3.Error:
            return _MISSING  # e.g. a file that is not (yet) a migrated catalog
        if row is None:
            return _MISSING
        model_id, genz_json = row
        kwargs = json.loads(genz_json or "{}")
        if not kwargs:
            self.unusable[key] = f"catalog model {model_id!r} has no GenZ configuration"
            return _MISSING
        kwargs["model"] = model_id
        try:
            config = CatalogModelConfig(**kwargs)
        except (AssertionError, TypeError, ValueError, ZeroDivisionError) as exc:
            self.unusable[key] = f"GenZ rejects the configuration of {model_id!r}: {exc}"
            return _MISSING
        config.__dict__["_model_quality"] = _UNLOADED
        config.__dict__["_quality_source"] = lambda: self.metrics_for(model_id)
        return config

    def metrics_for(self, model_id: str) -> list[tuple[str, float, int | None]]:
        """``(name, value_percent, shots)`` quality metrics of a catalog model."""
        with self._lock:
            self._refresh()
            if self._conn is None:
                return []
            try:
                return [tuple(r) for r in self._conn.execute(_METRICS_SQL, (model_id,))]
            except sqlite3.Error:
                return []

    def import_from_hub(self, key: str) -> ModelConfig | None:
        """Import ``key`` from the Hub into the catalog and return its config; None on failure.

        Failures are remembered for :data:`HUB_MISS_TTL_S` seconds (no Hub request meanwhile).
        """
        now = time.monotonic()
        if self._hub_misses.get(key, 0.0) > now:
            return None
        try:
            from .hub import import_hub_model
            from .manager import ModelManager

            # The loader's own (read-only) connection never writes: the import goes through a
            # ModelManager on the same file, like every other write.
            with ModelManager(self._path or self._wanted_path()) as manager:
                import_hub_model(key, manager=manager)
        except Exception as exc:  # noqa: BLE001 - any Hub failure is a miss, remembered below
            self._hub_misses[key] = now + HUB_MISS_TTL_S
            warnings.warn(
                f"genz-catalog: could not import {key!r} from the Hub: {exc}", stacklevel=3
            )
            return None
        self.invalidate()
        found = self.lookup(key)
        if found is None:
            self._hub_misses[key] = now + HUB_MISS_TTL_S
        return found

    def list_names(self) -> list[str]:
        """Catalog model ids for GenZ's "did you mean" list (bounded for large catalogs)."""
        with self._lock:
            self._refresh()
            if self._conn is None:
                return []
            try:
                total = self._conn.execute(
                    "SELECT count(*) FROM models WHERE is_deleted = 0"
                ).fetchone()[0]
                if total <= LIST_MODELS_FULL_LIMIT:
                    rows = self._conn.execute(
                        "SELECT model_id FROM models WHERE is_deleted = 0 ORDER BY model_id"
                    ).fetchall()
                    return [r[0] for r in rows]
                # difflib over 100k names takes seconds; offer names sharing a word instead.
                words = [w for w in re.split(r"[^A-Za-z0-9]+", self._last_miss or "") if w]
                if not words:
                    return []
                rows = self._conn.execute(
                    "SELECT m.model_id FROM models_fts f JOIN models m ON m.rowid = f.rowid "
                    "WHERE models_fts MATCH ? AND m.is_deleted = 0 LIMIT 500",
                    [" OR ".join('"' + w + '"*' for w in words)],
                ).fetchall()
                return [r[0] for r in rows]
            except sqlite3.Error:
                return []


class CatalogModelCollection(ModelCollection):
    """GenZ's ``ModelCollection`` that also finds catalog models (see the module docstring).

    Instances are made by swapping the ``__class__`` of GenZ's existing ``MODEL_DICT``, so the
    static ``models`` dict stays exactly GenZ's.
    """

    _catalog_loader: CatalogLoader
    _catalog_auto_import: bool | None
    _static_index: dict[str, ModelConfig]
    _static_size: int

    def _install_catalog(self, loader: CatalogLoader, auto_import: bool | None) -> None:
        self._catalog_loader = loader
        self._catalog_auto_import = auto_import
        self._rebuild_static_index()

    def _rebuild_static_index(self) -> None:
        index: dict[str, ModelConfig] = {}
        for name, config in self.models.items():
            # GenZ's linear scan returns the first case-insensitive match: keep the first.
            index.setdefault(name.lower(), config)
        self._static_index = index
        self._static_size = len(self.models)

    @property
    def auto_import(self) -> bool:
        """Whether misses that look like Hub ids are imported from the Hub."""
        if self._catalog_auto_import is not None:
            return self._catalog_auto_import
        return _auto_import_from_env()

    def get_model(self, model_name: str) -> ModelConfig | None:
        """GenZ static model, else catalog model or alias, else (auto-import) Hub import; None
        when nobody knows the name. Case-insensitive."""
        key = model_name.lower()
        if len(self.models) != self._static_size:
            self._rebuild_static_index()
        config = self._static_index.get(key)
        if config is not None:
            return config
        config = self._catalog_loader.lookup(key)
        if config is None and self.auto_import and looks_like_hub_id(key):
            config = self._catalog_loader.import_from_hub(key)
        return config

    def get_static_model(self, model_name: str) -> ModelConfig | None:
        """Only GenZ's own definition of ``model_name`` (no catalog, no Hub)."""
        if len(self.models) != self._static_size:
            self._rebuild_static_index()
        return self._static_index.get(model_name.lower())

    def get_catalog_model(self, model_name: str) -> ModelConfig | None:
        """Only the catalog's definition of ``model_name`` (no GenZ static, no Hub)."""
        return self._catalog_loader.lookup(model_name.lower())

    def list_models(self) -> list[str]:
        """GenZ's static names followed by catalog ids (bounded, see :data:`LIST_MODELS_FULL_LIMIT`)."""
        static = ModelCollection.list_models(self)
        seen = {name.lower() for name in static} | set(self._static_index)
        return static + [n for n in self._catalog_loader.list_names() if n.lower() not in seen]

    def add_model(self, model_config: ModelConfig) -> None:
        super().add_model(model_config)
        self._rebuild_static_index()

    def remove_model(self, model_name: str) -> None:
        super().remove_model(model_name)
        self._rebuild_static_index()

    def add_model_collection(self, model_collection: ModelCollection) -> None:
        super().add_model_collection(model_collection)
        self._rebuild_static_index()

    def refresh(self) -> None:
        """Forget cached catalog configs now, instead of within 50 ms."""
        self._catalog_loader.invalidate()

    def unusable_reason(self, model_name: str) -> str | None:
        """Why a catalog model by this name was not offered to GenZ, if it was looked up."""
        return self._catalog_loader.unusable.get(model_name.lower())


#: GenZ's own ``MODEL_DICT`` object, turned into a :class:`CatalogModelCollection`.
MODEL_DICT: CatalogModelCollection = _genz_default_models.MODEL_DICT  # type: ignore[assignment]
_enable_lock = threading.Lock()


def enable(
    auto_import: bool | None = None, db_path: str | os.PathLike[str] | None = None
) -> CatalogModelCollection:
    """Make GenZ find catalog models; idempotent. Returns GenZ's (now dynamic) ``MODEL_DICT``.

    ``auto_import``: True/False switches Hub auto-import; None (default) leaves the current
    setting, which initially follows ``$GENZ_CATALOG_AUTO_IMPORT``. ``db_path`` pins the
    catalog file (default: follow ``$GENZ_CATALOG_DB`` / the default path).
    """
    with _enable_lock:
        collection = _genz_default_models.MODEL_DICT
        if not isinstance(collection, CatalogModelCollection):
            collection.__class__ = CatalogModelCollection
            collection._install_catalog(CatalogLoader(db_path), auto_import)
        else:
            if auto_import is not None:
                collection._catalog_auto_import = auto_import
            if db_path is not None and collection._catalog_loader.pinned_path != Path(db_path):
                collection._catalog_loader.close()
                collection._catalog_loader = CatalogLoader(db_path)
        return collection


def disable() -> None:
    """Give GenZ back its plain static ``ModelCollection`` (the catalog connection is closed)."""
    with _enable_lock:
        collection = _genz_default_models.MODEL_DICT
        if isinstance(collection, CatalogModelCollection):
            collection._catalog_loader.close()
            collection.__class__ = ModelCollection


# ------------------------------------------------------------------------------------------------
# Static sync: GenZ's hard-coded models into the catalog.
# ------------------------------------------------------------------------------------------------

#: GenZ id -> the real Hugging Face Hub repository it describes (None: not on the Hub). Ids not
#: listed are not known to be Hub repositories. GenZ often names a family rather than a
#: checkpoint (``mistralai/Mistral-7B``), so the link is data, checked by hand against the Hub.
GENZ_HUB_IDS: dict[str, str | None] = {
    "Qwen/Qwen-14B": "Qwen/Qwen-14B",
    "Qwen/Qwen-1_8B": "Qwen/Qwen-1_8B",
    "Qwen/Qwen-72B": "Qwen/Qwen-72B",
    "Qwen/Qwen-7B": "Qwen/Qwen-7B",
    "Qwen/Qwen1.5-0.5B": "Qwen/Qwen1.5-0.5B",
    "Qwen/Qwen1.5-1.8B": "Qwen/Qwen1.5-1.8B",
    "Qwen/Qwen1.5-4B": "Qwen/Qwen1.5-4B",
    "Qwen/Qwen1.5-7B": "Qwen/Qwen1.5-7B",
    "Qwen/Qwen1.5-14B": "Qwen/Qwen1.5-14B",
    "Qwen/Qwen1.5-32B": "Qwen/Qwen1.5-32B",
    "Qwen/Qwen1.5-72B": "Qwen/Qwen1.5-72B",
    "Qwen/Qwen1.5-110B": "Qwen/Qwen1.5-110B",
    "Qwen/Qwen1.5-MoE-A2.7B": "Qwen/Qwen1.5-MoE-A2.7B",
    "Qwen/Qwen2-0.5B": "Qwen/Qwen2-0.5B",
    "Qwen/Qwen2.5-1.5B": "Qwen/Qwen2.5-1.5B",
    "Qwen/Qwen2.5-3B": "Qwen/Qwen2.5-3B",
    "Qwen/Qwen2.5-7B": "Qwen/Qwen2.5-7B",
    "Qwen/Qwen2.5-14B": "Qwen/Qwen2.5-14B",
    "Qwen/Qwen2.5-32B": "Qwen/Qwen2.5-32B",
    "Qwen/Qwen2.5-72B": "Qwen/Qwen2.5-72B",
    "google/gemma-2B": "google/gemma-2b",
    "google/gemma-7B": "google/gemma-7b",
    "google/gemma-2-2B": "google/gemma-2-2b",
    "google/gemma-2-9B": "google/gemma-2-9b",
    "google/gemma-2-27B": "google/gemma-2-27b",
    "google/gemma-3-1B": "google/gemma-3-1b-pt",
    "google/gemma-3-4B": "google/gemma-3-4b-pt",
    "google/gemma-3-12B": "google/gemma-3-12b-pt",
    "google/gemma-3-27B": "google/gemma-3-27b-pt",
    "google/palm": None,
    "intfloat/multilingual-e5-large-instruct": "intfloat/multilingual-e5-large-instruct",
    "intfloat/e5-mistral-7b-instruct": "intfloat/e5-mistral-7b-instruct",
    "microsoft/Phi-3-mini": "microsoft/Phi-3-mini-4k-instruct",
    "microsoft/Phi-3-small": "microsoft/Phi-3-small-8k-instruct",
    "microsoft/Phi-3-medium": "microsoft/Phi-3-medium-4k-instruct",
    "microsoft/Phi-3.5-MoE": "microsoft/Phi-3.5-MoE-instruct",
    "deepseek-ai/DeepSeek-V3-Base": "deepseek-ai/DeepSeek-V3-Base",
    "deepseek-ai/deepseek-moe-16b-base": "deepseek-ai/deepseek-moe-16b-base",
    "databricks/dbrx-base": "databricks/dbrx-base",
    "tiiuae/falcon-7b-instruct": "tiiuae/falcon-7b-instruct",
    "tiiuae/falcon-mamba-7b": "tiiuae/falcon-mamba-7b",
    "THUDM/glm-4-9b-chat": "THUDM/glm-4-9b-chat",
    "openai/GPT-4": None,
    "openai/GPT3-175B": None,
    "openai/gpt2": "openai-community/gpt2",
    "xai-org/grok-1": "xai-org/grok-1",
    "ai21labs/AI21-Jamba-1.5-Large": "ai21labs/AI21-Jamba-1.5-Large",
    "ai21labs/AI21-Jamba-1.5-Mini": "ai21labs/AI21-Jamba-1.5-Mini",
    "ai21labs/Jamba-v0.1": "ai21labs/Jamba-v0.1",
    "state-spaces/mamba-130m-hf": "state-spaces/mamba-130m-hf",
    "state-spaces/mamba-2.8b-hf": "state-spaces/mamba-2.8b-hf",
    "Hypothetical/SuperLLM-5T-Dense": None,
    "Hypothetical/SuperLLM-10T-MoE": None,
    "HuggingFaceH4/zephyr-7b-beta": "HuggingFaceH4/zephyr-7b-beta",
    "mistralai/Mistral-7B": "mistralai/Mistral-7B-v0.1",
    "mistralai/Mixtral-8x7B": "mistralai/Mixtral-8x7B-v0.1",
    "mistralai/Mixtral-8x22B": "mistralai/Mixtral-8x22B-v0.1",
    "mistralai/Ministral-8B-Instruct-2410": "mistralai/Ministral-8B-Instruct-2410",
    "mistralai/Mistral-NeMo-12B-Instruct": "mistralai/Mistral-Nemo-Instruct-2407",
    "mistralai/Mistral-Small": "mistralai/Mistral-Small-Instruct-2409",
    "mistralai/Mistral-Large": "mistralai/Mistral-Large-Instruct-2407",
    "meta-llama/Llama-2-7B": "meta-llama/Llama-2-7b-hf",
    "meta-llama/Llama-2-13B": "meta-llama/Llama-2-13b-hf",
    "meta-llama/Llama-2-70B": "meta-llama/Llama-2-70b-hf",
    "meta-llama/Llama-33B": None,
    "meta-llama/Llama-3.1-8B": "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B": "meta-llama/Llama-3.1-70B",
    "meta-llama/Llama-3.1-405B": "meta-llama/Llama-3.1-405B",
    "meta-llama/Llama-3.2-1B": "meta-llama/Llama-3.2-1B",
    "meta-llama/Llama-3.2-3B": "meta-llama/Llama-3.2-3B",
    "facebook/opt-125M": "facebook/opt-125m",
    "facebook/OPT-350M": "facebook/opt-350m",
    "facebook/OPT-1.3b": "facebook/opt-1.3b",
    "facebook/opt-6.7b": "facebook/opt-6.7b",
    "facebook/OPT-13B": "facebook/opt-13b",
    "facebook/opt-30B": "facebook/opt-30b",
    "facebook/opt-66B": "facebook/opt-66b",
    "nvidia/Mistral-NeMo-Minitron-8B-Base": "nvidia/Mistral-NeMo-Minitron-8B-Base",
    "nvidia/Nemotron-4-340B-Instruct": "nvidia/Nemotron-4-340B-Instruct",
}

# (substring of the lower-cased GenZ id, catalog family, model type); first match wins.
_STATIC_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("multilingual-e5", "xlm-roberta", "encoder-only"),
    ("e5-mistral", "mistral", "decoder-only"),
    ("qwen1.5-moe", "qwen2_moe", "decoder-only"),
    ("qwen2", "qwen2", "decoder-only"),
    ("qwen1.5", "qwen2", "decoder-only"),
    ("qwen/qwen-", "qwen", "decoder-only"),
    ("gemma-3", "gemma3_text", "decoder-only"),
    ("gemma-2", "gemma2", "decoder-only"),
    ("gemma", "gemma", "decoder-only"),
    ("palm", "palm", "decoder-only"),
    ("phi-3.5-moe", "phimoe", "decoder-only"),
    ("phi-3", "phi3", "decoder-only"),
    ("deepseek-v3", "deepseek_v3", "decoder-only"),
    ("deepseek-moe", "deepseek", "decoder-only"),
    ("dbrx", "dbrx", "decoder-only"),
    ("falcon-mamba", "falcon_mamba", "decoder-only"),
    ("falcon", "falcon", "decoder-only"),
    ("glm", "chatglm", "decoder-only"),
    ("gpt-4", "gpt4", "decoder-only"),
    ("gpt3", "opt", "decoder-only"),
    ("gpt2", "gpt2", "decoder-only"),
    ("grok", "grok-1", "decoder-only"),
    ("jamba", "jamba", "decoder-only"),
    ("mamba", "mamba", "decoder-only"),
    ("superllm", "hypothetical", "decoder-only"),
    ("zephyr", "mistral", "decoder-only"),
    ("mixtral", "mixtral", "decoder-only"),
    ("mistral-nemo-minitron", "mistral", "decoder-only"),
    ("nemotron", "nemotron", "decoder-only"),
    ("mistral", "mistral", "decoder-only"),
    ("llama", "llama", "decoder-only"),
    ("opt-", "opt", "decoder-only"),
)


def _genz_init_parameters() -> tuple[str, ...]:
    names = inspect.signature(ModelConfig.__init__).parameters
    return tuple(n for n in names if n not in ("self", "kwargs", "model_quality"))


def static_genz_kwargs(config: ModelConfig) -> dict[str, Any]:
    """Keyword arguments that rebuild ``config`` exactly: ``ModelConfig(**kwargs)`` has the same
    ``vars()`` (minus ``model_quality``). GenZ stores every constructor argument under its own
    name, resolved (``head_dim``, ``num_key_value_heads``, ``mamba_dt_rank``), so passing the
    resolved values back reproduces them."""
    values = vars(config)
    return {name: values[name] for name in _genz_init_parameters() if name in values}


def config_vars(config: ModelConfig) -> dict[str, Any]:
    """``vars(config)`` without ``model_quality`` (and the catalog's private bookkeeping): the
    fields GenZ simulates with."""
    return {k: v for k, v in vars(config).items() if k != "model_quality" and not k.startswith("_")}


def _layer_kinds(config: ModelConfig) -> list[tuple[str, str]]:
    """(mixer, ffn) per layer: mixer ``attention``/``mamba``, ffn ``dense``/``moe``.

    For one unique layer this is what GenZ builds. For hybrids (Jamba; GenZ 0.0.16 cannot
    simulate them) it follows the model's real layout: attention where
    ``i % attn_layer_period == attn_layer_offset``, Mamba elsewhere.
    """
    kinds = []
    first_dense = config.first_k_dense_replace or 0
    for i in range(int(config.num_decoder_layers)):
        if config.is_mamba and config.unique_layers == 1:
            mixer = "mamba"
        elif config.is_mamba:
            mixer = (
                "attention" if i % config.attn_layer_period == config.attn_layer_offset else "mamba"
            )
        else:
            mixer = "attention"
        if not config.is_moe or i < first_dense:
            ffn = "dense"
        elif config.unique_layers == 1:
            ffn = "moe"
        else:
            ffn = "moe" if i % config.expert_layer_period == config.expert_layer_offset else "dense"
        kinds.append((mixer, ffn))
    return kinds


def genz_parameter_counts(config: ModelConfig) -> tuple[int, int]:
    """(total, active per token) parameters of a GenZ definition, as GenZ models it.

    Counted: input embedding and LM head separately (GenZ has no tied embeddings), attention
    projections, Mamba mixers, dense FFNs (``num_ffi`` up projections plus one down), MoE
    routers, experts and shared experts. Not counted: norms and biases (GenZ simulates neither).
    """
    d = int(config.hidden_size)
    embeddings = 2 * int(config.vocab_size) * d
    q_width = int(config.num_attention_heads) * int(config.head_dim)
    kv_width = int(config.num_key_value_heads) * int(config.head_dim)
    attention = d * (q_width + 2 * kv_width) + q_width * d
    inner = int(config.mamba_expand) * d
    mamba = 0
    if config.is_mamba:
        dt_rank, state, conv = (
            int(config.mamba_dt_rank),
            int(config.mamba_d_state),
            int(config.mamba_d_conv),
        )
        mamba = (
            d * 2 * inner
            + inner * conv
            + (inner if config.mamba_conv_bias else 0)
            + inner * (dt_rank + 2 * state)
            + dt_rank * inner
            + inner
            + inner * state
            + inner
            + inner * d
        )

    def ffn(width: float) -> int:
        return int(config.num_ffi * d * width + width * d)

    dense = ffn(config.intermediate_size)
    if config.ffn_implementation == "deepseek":
        expert = ffn(config.moe_intermediate_size)
        shared = int(config.n_shared_experts or 0) * ffn(config.shared_expert_intermediate_size)
    else:
        expert = ffn(config.intermediate_size)
        shared = 0
    router = int(config.num_experts) * d
    total = active = embeddings
    for mixer, kind in _layer_kinds(config):
        mixer_params = attention if mixer == "attention" else mamba
        total += mixer_params
        active += mixer_params
        if kind == "dense":
            total += dense
            active += dense
        else:
            total += router + int(config.num_experts) * expert + shared
            active += router + int(config.expert_top_k) * expert + shared
    return total, active


def static_model_record(config: ModelConfig) -> dict[str, Any]:
    """A catalog record (contract in :mod:`genz_catalog.convert`) for one GenZ static model."""
    lowered = config.model.lower()
    family, model_type = next(
        ((fam, kind) for needle, fam, kind in _STATIC_FAMILIES if needle in lowered),
        ("unknown", "decoder-only"),
    )
    kinds = _layer_kinds(config)
    attention_layers = sum(1 for mixer, _ in kinds if mixer == "attention")
    mamba_layers = len(kinds) - attention_layers
    heads, kv_heads = int(config.num_attention_heads), int(config.num_key_value_heads)
    if attention_layers == 0:
        attention_type = "none"
    elif kv_heads == heads:
        attention_type = "mha"
    elif kv_heads == 1:
        attention_type = "mqa"
    else:
        attention_type = "gqa"
    values_per_token = 2 * kv_heads * int(config.head_dim)
    kv_layers = []
    if attention_layers:
        kv_layers.append(
            {
                "count": attention_layers,
                "values_per_token": values_per_token,
                "window": config.sliding_window,
            }
        )
    inner = int(config.mamba_expand) * int(config.hidden_size)
    ssm = None
    if mamba_layers:
        ssm = {
            "layers": mamba_layers,
            "conv_state_values": inner * int(config.mamba_d_conv),
            "ssm_state_values": inner * int(config.mamba_d_state),
        }
    total, active = genz_parameter_counts(config)
    kv_values = values_per_token * attention_layers
    genz_kwargs = static_genz_kwargs(config)
    warnings_list = []
    if config.unique_layers > 1:
        warnings_list.append(
            f"GenZ 0.0.16 cannot simulate {config.unique_layers} unique layer types "
            "(hybrid attention/Mamba/MoE layouts)"
        )
    return {
        "model_id": config.model,
        "family": family,
        "model_type": model_type,
        "attention_type": attention_type,
        "is_moe": bool(config.is_moe),
        "parameter_count": total,
        "active_parameter_count": active,
        "text_parameter_count": None,
        "count_basis": "formula",  # GenZ's own arithmetic over its ModelConfig
        "num_layers": int(config.num_decoder_layers),
        "hidden_size": int(config.hidden_size),
        "intermediate_size": int(config.intermediate_size),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": int(config.head_dim),
        "num_experts": int(config.num_experts) if config.is_moe else None,
        "experts_per_token": int(config.expert_top_k) if config.is_moe else None,
        "context_length": int(config.max_model_len),
        "vocab_size": int(config.vocab_size),
        "kv_values_per_token": kv_values,
        "memory": {"kv_values_per_token": kv_values, "kv_layers": kv_layers, "ssm": ssm},
        "genz_kwargs": genz_kwargs,
        "warnings": warnings_list,
        "config": config_vars(config),
    }


def static_models() -> list[tuple[ModelConfig, list[str]]]:
    """GenZ's static models, each with every other GenZ key naming it, in GenZ's order.

    Reads GenZ's own dict (not the catalog) whether or not :func:`enable` has run.
    """
    grouped: dict[int, tuple[ModelConfig, list[str]]] = {}
    for name, config in _genz_default_models.MODEL_DICT.models.items():
        entry = grouped.setdefault(id(config), (config, []))
        if name != config.model:
            entry[1].append(name)
    return list(grouped.values())


def static_model_records() -> list[dict[str, Any]]:
    """``manager.add_model`` keyword arguments for every GenZ static model (see sync below)."""
    items = []
    for config, aliases in static_models():
        record = static_model_record(config)
        hub_id = GENZ_HUB_IDS.get(config.model)
        metrics = []
        if config.model_quality is not None:
            for metric in config.model_quality.metrics:
                metrics.append(
                    {
                        "metric_name": metric.name,
                        "metric_value": float(metric.accuracy),
                        "shots": metric.shots,
                    }
                )
        items.append(
            {
                "model_id": config.model,
                "record": record,
                "source": "genz-static",
                "aliases": [(alias, "genz") for alias in aliases],
                "hub_metadata": {"hub_id": hub_id} if hub_id else None,
                "metrics": metrics,
            }
        )
    return items


def sync_static_models(manager: Any = None) -> dict[str, Any]:
    """Bring every GenZ static model into the catalog (source ``genz-static``); idempotent.

    Each model gets its GenZ config exactly (``genz_config_json`` rebuilds an equal
    ``ModelConfig``), every GenZ alias, its Hub link from :data:`GENZ_HUB_IDS`, and its quality
    metrics in percent (0-100, GenZ's own scale, unit ``percent``, source ``genz-static``).

    Where GenZ meets a model from another source (e.g. imported from the Hub):

    - same id (case-insensitive): the real model keeps its config and no ``genz-static`` row is
      made; GenZ's aliases that are still free and GenZ's quality metrics are added to it
      ("merged");
    - the GenZ id is free but its Hub link or one of its ``org/name`` aliases is a real catalog
      model (``mistralai/Mistral-7B`` -> ``mistralai/Mistral-7B-v0.1``): both rows are kept, the
      GenZ row with GenZ's config and aliases and ``hub_id`` pointing at the real one, and GenZ's
      quality metrics are also added to the real model ("linked").

    A metric the other model already has from another source (e.g. a CSV import) is never
    overwritten. Re-running writes nothing.

    Returns ``{"imported": n, "updated": n, "unchanged": n, "merged": [ids], "linked": [ids],
    "metrics": n, "total": n}`` (``merged``/``linked``: the real models GenZ's names or metrics
    went to; ``metrics`` counts metric values written).
    """
    from .manager import ModelManager, config_hash

    own_manager = manager is None
    if own_manager:
        manager = ModelManager()
    summary: dict[str, Any] = {
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "merged": [],
        "linked": [],
        "metrics": 0,
        "total": 0,
    }
    try:
        for item in static_model_records():
            summary["total"] += 1
            model_id = item["model_id"]
            existing = manager.get_model(model_id, include_deleted=True)
            if existing is not None and existing["source"] != "genz-static":
                summary["merged"].append(existing["model_id"])
                _merge_aliases(manager, existing["model_id"], item["aliases"])
                summary["metrics"] += _sync_metrics(
                    manager, existing["model_id"], item["metrics"], fill_only=True
                )
                continue
            record = item["record"]
            wanted_aliases = {a.lower() for a, _ in item["aliases"]}
            hub_id = (item["hub_metadata"] or {}).get("hub_id")
            if (
                existing is not None
                and not existing["is_deleted"]
                and existing["config_hash"] == config_hash(record["config"])
                and existing["genz_config"] == json.loads(json.dumps(record["genz_kwargs"]))
                and existing.get("hub_id") == hub_id
                and wanted_aliases <= _owned_or_taken(manager, wanted_aliases, existing)
            ):
                summary["unchanged"] += 1
            else:
                result = manager.add_model(
                    model_id,
                    record=record,
                    source="genz-static",
                    aliases=item["aliases"],
                    hub_metadata=item["hub_metadata"],
                    if_exists="update",
                    change_description="synced from GenZ static models",
                )
                summary[result.status] = summary.get(result.status, 0) + 1
            summary["metrics"] += _sync_metrics(manager, model_id, item["metrics"])
            for real_id in _linked_real_models(manager, item, hub_id):
                summary["linked"].append(real_id)
                summary["metrics"] += _sync_metrics(
                    manager, real_id, item["metrics"], fill_only=True
                )
    finally:
        if own_manager:
            manager.close()
    return summary


def sync_static_models_to_db(manager: Any = None) -> int:
    """The original API's static sync: the number of GenZ static models now in the catalog.

    Same work as :func:`sync_static_models`, which returns the full summary (imported, updated,
    unchanged, merged, linked, metric values written).
    """
    return sync_static_models(manager)["total"]


def import_model_from_hf(model_id: str, force_update: bool = False, **kwargs: Any) -> bool:
    """The original API's Hub import (see :func:`genz_catalog.hub.import_model_from_hf`): True
    when the model is in the catalog afterwards, so ``MODEL_DICT.get_model`` finds it."""
    from .hub import import_model_from_hf as import_from_hub

    imported = import_from_hub(model_id, force_update, **kwargs)
    if imported:
        MODEL_DICT.refresh()
    return imported


def _merge_aliases(manager: Any, model_id: str, aliases: list[tuple[str, str]]) -> None:
    """Add GenZ's aliases to a model from another source; names already taken stay theirs."""
    for alias, kind in aliases:
        if manager.get_model(alias, include_deleted=True) is None:
            manager.add_alias(model_id, alias, kind=kind)


def _linked_real_models(manager: Any, item: dict[str, Any], hub_id: str | None) -> list[str]:
    """Ids of catalog models from another source that GenZ's Hub link or ``org/name`` aliases
    name (real ids only, not aliases), in GenZ's order, without repeats."""
    names = [hub_id] if hub_id else []
    names += [alias for alias, _ in item["aliases"] if "/" in alias]
    found: list[str] = []
    for name in names:
        if name.lower() == item["model_id"].lower():
            continue
        model = manager.get_model(name, include_deleted=True, follow_aliases=False)
        if (
            model is not None
            and model["source"] != "genz-static"
            and model["model_id"] not in found
        ):
            found.append(model["model_id"])
    return found


def _owned_or_taken(manager: Any, aliases: set[str], model: dict[str, Any]) -> set[str]:
    """Of ``aliases``, those already settled: owned by this model, or taken by another name."""
    if not aliases:
        return set()
    marks = ",".join("?" * len(aliases))
    rows = manager.db.execute(
        f"SELECT lower(alias) FROM model_aliases WHERE alias IN ({marks}) "
        f"UNION SELECT lower(model_id) FROM models WHERE model_id IN ({marks})",
        [*aliases, *aliases],
    ).fetchall()
    settled = {r[0] for r in rows}
    settled |= {a for a in aliases if a == model["model_id"].lower()}
    return settled


def _sync_metrics(
    manager: Any, model_id: str, metrics: list[dict[str, Any]], fill_only: bool = False
) -> int:
    """Write the metrics whose stored value differs; returns how many were written.

    ``fill_only`` (a model from another source): only metrics it lacks or that an earlier sync
    wrote (source ``genz-static``); a value from anywhere else stays.
    """
    if not metrics:
        return 0
    stored = {
        (m["metric_name"].lower(), m["shots"]): m for m in manager.get_quality_metrics(model_id)
    }
    changed = []
    for metric in metrics:
        current = stored.get((metric["metric_name"].lower(), metric["shots"]))
        if current is not None and (current["metric_value"], current["unit"]) == (
            metric["metric_value"],
            "percent",
        ):
            continue
        if fill_only and current is not None and current["source"] != "genz-static":
            continue
        changed.append({"model_id": model_id, "unit": "percent", "source": "genz-static", **metric})
    if changed:
        manager.add_quality_metrics(changed)
    return len(changed)


enable()

__all__ = [
    "GENZ_HUB_IDS",
    "GenZCapacityError",
    "MODEL_DICT",
    "CatalogLoader",
    "CatalogModelCollection",
    "disable",
    "enable",
    "genz_kwargs_to_config",
    "import_model_from_hf",
    "genz_version",
    "looks_like_hub_id",
    "simulation_config",
    "simulation_kwargs",
    "static_model_records",
    "sync_static_models",
    "sync_static_models_to_db",
]
