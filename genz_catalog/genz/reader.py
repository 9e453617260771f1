"""The reader GenZ calls: a dynamic ``MODEL_DICT`` that finds catalog models.

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

import contextlib
import json
import os
import re
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterable
from itertools import compress, repeat
from pathlib import Path
from typing import Any

from GenZ.Models import default_models as _genz_default_models
from GenZ.Models import model_quality as _genz_quality
from GenZ.Models.default_models import ModelCollection, ModelConfig

from ..db import DB_ENV_VAR, LOOKUP_INDEX, connect_read_only, index_exists, resolve_db_path
from ..errors import CatalogError

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
# halves are index lookups), with the model's GenZ arguments document. Models share few
# documents (40,000 at a million Hub-like models); each is parsed once and kept as a template,
# so a lookup whose template is known reads a body it does not need (~1.5 us at a million
# models). A first query without the body and a second one for a document not parsed yet cost
# a whole point query more (~12 us) whenever the document was new, as it is for nearly every
# first lookup in a new process; and one statement keeps the id and the body from one
# snapshot, so they agree even when a writer commits in between (a document's id can be
# reused once nothing refers to it). The stored arguments say "model": "" (shared by models
# with one config); _query puts the id back.
_MODEL_SQL = """
SELECT model_id, genz_doc FROM models WHERE model_id = ?1 AND is_deleted = 0
UNION ALL
SELECT m.model_id, m.genz_doc
  FROM model_aliases a JOIN models m ON m.model_id = a.model_id
 WHERE a.alias = ?1 AND m.is_deleted = 0
LIMIT 1
"""
_LOOKUP_SQL = (
    "SELECT f.model_id, f.genz_doc, d.body FROM ("
    + _MODEL_SQL
    + ") f LEFT JOIN documents d ON d.id = f.genz_doc"
)
# The same through the index of live ids and their documents (m025), which holds everything
# the id's half reads: the models row, a random page of the biggest table, is never read.
# SQLite takes a unique index for an equality on all its columns without weighing others, so
# the index is named. A file without it (not yet migrated, or its indexes set aside by a bulk
# import) is asked the query above.
_COVERED_LOOKUP_SQL = _LOOKUP_SQL.replace(
    "FROM models WHERE model_id", f"FROM models INDEXED BY {LOOKUP_INDEX} WHERE model_id", 1
)


def _fetch_one(conn: sqlite3.Connection, sql: str, key: str) -> tuple | None:
    """The row ``sql`` gives for ``key``; None for none, or for a file it cannot be asked of
    (e.g. one that is not (yet) a migrated catalog)."""
    try:
        return conn.execute(sql, (key,)).fetchone()
    except sqlite3.Error:
        return None


_METRICS_SQL = (
    "SELECT metric_name, metric_value, shots FROM model_quality_metrics WHERE model_id = ? "
    "ORDER BY metric_name, shots"
)
#: A miss re-reads ``PRAGMA data_version`` unless it was read this recently (seconds): a sweep
#: of first lookups then pays for one check per millisecond, not one per name.
MISS_REFRESH_INTERVAL_S = 0.001
#: Bytes of the catalog file the loader's read connection maps into memory (address space,
#: not memory: only pages a lookup touches become resident, and they are the page cache's).
#: SQLite maps at most the file, and at most its build's limit (2 GB less 64 KB in Python's).
#: The whole file, not its first GB: the index a lookup reads (m025) is the newest part of a
#: migrated file, at its end; a page beyond the mapping is read with its own system call, and
#: when the file is not in the page cache, its own disk read, where a fault on a mapped page
#: reads its neighbours too (a fresh process, 1.9 GB file: median first lookup 150-174 ->
#: 25-42 us).
LOADER_MMAP_BYTES = 1 << 32
_UNLOADED = object()
#: Attribute values a renamed copy must not share with its template.
_NESTED_TYPES = (list, dict)


def _document_config(genz_json: str | None) -> tuple[CatalogModelConfig, tuple[str, ...]] | str:
    """The GenZ config of a stored arguments document (its ``model`` left as stored) and the
    names of its list and dict attributes; else why GenZ cannot use it: GenZ's error, or ""
    for a document with no arguments."""
    kwargs = json.loads(genz_json or "{}")
    if not kwargs:
        return ""
    try:
        config = CatalogModelConfig(**kwargs)
    except (AssertionError, TypeError, ValueError, ZeroDivisionError) as exc:
        return str(exc) or type(exc).__name__
    state = config.__dict__
    # In C (compress, map): a generator over ~40 attributes cost ~4 us of a ~17 us parse.
    nested = tuple(compress(state, map(isinstance, state.values(), repeat(_NESTED_TYPES))))
    return config, nested


def _renamed_copy(
    template: CatalogModelConfig,
    nested: tuple[str, ...],
    model_id: str,
    loader: CatalogLoader,
) -> CatalogModelConfig:
    """A new config equal to what ``CatalogModelConfig(**kwargs, model=model_id)`` builds:
    ``ModelConfig.__init__`` stores ``model`` and derives nothing from it. Lists and dicts
    (``layer_type``, list-valued arguments) are copied, so changing one model's config in place
    never changes another's (``nested`` names them). Its quality metrics are read from
    ``loader`` on first access."""
    config = CatalogModelConfig.__new__(CatalogModelConfig)
    state = template.__dict__.copy()
    for name in nested:
        state[name] = _fresh(state[name])
    state["model"] = model_id
    state["_model_quality"] = _UNLOADED
    state["_quality_source"] = loader
    state["_catalog_id"] = model_id
    config.__dict__ = state
    return config


def _fresh(value: Any) -> Any:
    """A copy of nested lists and dicts of JSON-like values (deepcopy is 10x slower here)."""
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value


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
        state = self.__dict__
        quality = state.get("_model_quality", None)
        if quality is _UNLOADED:
            loader = state.get("_quality_source")
            metrics = loader.metrics_for(state["_catalog_id"]) if loader is not None else []
            quality = _quality_collection(metrics)
            state["_model_quality"] = quality
        return quality

    @model_quality.setter
    def model_quality(self, value: Any) -> None:
        self.__dict__["_model_quality"] = value

    def __getstate__(self) -> dict[str, Any]:
        # A copy or a pickle (e.g. sent to a multiprocessing pool) carries the metrics
        # themselves, not the reader that loads them lazily: that holds a SQLite connection,
        # and a copy may outlive it.
        state = dict(self.__dict__)
        state["_model_quality"] = self.model_quality
        state.pop("_quality_source", None)
        state.pop("_catalog_id", None)
        return state


def _quality_collection(metrics: Iterable[Any]) -> Any:
    objects = [_quality_metric(name, value, shots) for name, value, shots in metrics]
    return _genz_quality.QualityMetricsCollection(objects) if objects else None


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
        # GenZ configs by their arguments' document (many fine-tunes share their base's), and
        # why a document is unusable: a model is then a copy of its document's config under
        # its own id, without parsing the JSON or running ModelConfig.__init__ again.
        self._by_document: dict[int, Any] = {}
        self._conn: sqlite3.Connection | None = None
        self._path: Path | None = None
        self._env_value: str | None = None
        self._data_version: int | None = None
        self._lookup_sql = _LOOKUP_SQL  # the covered one once the file is seen to have the index
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
                self._conn = connect_read_only(path)
                # Point lookups land on random pages of a big file: mapped pages are read
                # without a system call and a copy each (cold lookups at 100,000 models: -20%).
                self._conn.execute(f"PRAGMA mmap_size = {LOADER_MMAP_BYTES}")
            except (sqlite3.Error, CatalogError):  # not (yet) a catalog: GenZ's own models only
                self._next_check = time.monotonic() + REFRESH_INTERVAL_S
                return
        try:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            self.close()
            return
        if version != self._data_version:
            self._forget_configs()
            self.unusable.clear()
            self._data_version = version
            self._lookup_sql = _LOOKUP_SQL
            with contextlib.suppress(sqlite3.Error):  # a file that cannot say: the plain query
                if index_exists(self._conn, LOOKUP_INDEX):
                    self._lookup_sql = _COVERED_LOOKUP_SQL
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
            self._forget_configs()
            self.unusable.clear()

    def _forget_configs(self) -> None:
        self._cache.clear()
        self._by_document.clear()

    def invalidate(self) -> None:
        """Forget cached configs now (the next lookup reads the file)."""
        with self._lock:
            self._forget_configs()
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
            row = self._conn.execute(self._lookup_sql, (key,)).fetchone()
        except sqlite3.Error:
            # The index went since the last check (a bulk import sets it aside for a while),
            # or the file is not a catalog: the plain query answers both.
            self._lookup_sql = _LOOKUP_SQL
            row = _fetch_one(self._conn, _LOOKUP_SQL, key)
        if row is None:
            return _MISSING
        model_id, document, genz_json = row
        template = self._by_document.get(document, _MISSING)
        if template is _MISSING:
            template = _document_config(genz_json)
            if document is not None:
                self._by_document[document] = template
        if isinstance(template, str):
            self.unusable[key] = (
                f"GenZ rejects the configuration of {model_id!r}: {template}"
                if template
                else f"catalog model {model_id!r} has no GenZ configuration"
            )
            return _MISSING
        # The loader and the id, not a closure: every cached config outlives many collections,
        # and each object it owns adds to the work of Python's full garbage collections.
        return _renamed_copy(*template, model_id, self)

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
            from ..hub import import_hub_model
            from ..manager import ModelManager

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


class _WatchedModels(dict):
    """GenZ's static ``models`` dict, counting its changes: the lower-cased index must follow
    an entry replaced in place (``MODEL_DICT.models["gpt-2"] = cfg``), which leaves the size
    as it was."""

    __slots__ = ("version",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.version += 1

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self.version += 1

    def __ior__(self, other: Any) -> _WatchedModels:
        super().__ior__(other)
        self.version += 1
        return self

    def pop(self, *args: Any) -> Any:
        self.version += 1
        return super().pop(*args)

    def popitem(self) -> Any:
        self.version += 1
        return super().popitem()

    def clear(self) -> None:
        super().clear()
        self.version += 1

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.version += 1

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self.version += 1
        return super().setdefault(key, default)


class CatalogModelCollection(ModelCollection):
    """GenZ's ``ModelCollection`` that also finds catalog models (see the module docstring).

    Instances are made by swapping the ``__class__`` of GenZ's existing ``MODEL_DICT``, so the
    static ``models`` dict stays exactly GenZ's.
    """

    _catalog_loader: CatalogLoader
    _catalog_auto_import: bool | None
    _static_index: dict[str, ModelConfig]
    _indexed_models: _WatchedModels
    _indexed_version: int

    def _install_catalog(self, loader: CatalogLoader, auto_import: bool | None) -> None:
        self._catalog_loader = loader
        self._catalog_auto_import = auto_import
        self._rebuild_static_index()

    def _rebuild_static_index(self) -> None:
        if not isinstance(self.models, _WatchedModels):
            self.models = _WatchedModels(self.models)
        index: dict[str, ModelConfig] = {}
        for name, config in self.models.items():
            # GenZ's linear scan returns the first case-insensitive match: keep the first.
            index.setdefault(name.lower(), config)
        self._static_index = index
        self._indexed_models = self.models
        self._indexed_version = self.models.version

    def _static_index_current(self) -> dict[str, ModelConfig]:
        models = self.models
        if models is not self._indexed_models or models.version != self._indexed_version:
            self._rebuild_static_index()
        return self._static_index

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
        config = self._static_index_current().get(key)
        if config is not None:
            return config
        config = self._catalog_loader.lookup(key)
        if config is None and self.auto_import and looks_like_hub_id(key):
            config = self._catalog_loader.import_from_hub(key)
        return config

    def get_static_model(self, model_name: str) -> ModelConfig | None:
        """Only GenZ's own definition of ``model_name`` (no catalog, no Hub)."""
        return self._static_index_current().get(model_name.lower())

    def get_catalog_model(self, model_name: str) -> ModelConfig | None:
        """Only the catalog's definition of ``model_name`` (no GenZ static, no Hub)."""
        return self._catalog_loader.lookup(model_name.lower())

    def list_models(self) -> list[str]:
        """GenZ's static names followed by catalog ids (bounded, see :data:`LIST_MODELS_FULL_LIMIT`)."""
        static = ModelCollection.list_models(self)
        seen = {name.lower() for name in static} | set(self._static_index_current())
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
            collection.models = dict(collection.models)


def import_model_from_hf(model_id: str, force_update: bool = False, **kwargs: Any) -> bool:
    """The original API's Hub import (see :func:`genz_catalog.hub.import_model_from_hf`): True
    when the model is in the catalog afterwards, so ``MODEL_DICT.get_model`` finds it."""
    from ..hub import import_model_from_hf as import_from_hub

    imported = import_from_hub(model_id, force_update, **kwargs)
    if imported:
        MODEL_DICT.refresh()
    return imported
