"""ModelManager: the catalog's API as one object, a thin front over :mod:`genz_catalog.catalog`.

Every write goes through :func:`genz_catalog.catalog.writes.write_models` (one transaction per
batch; a single add is a batch of one). The names other modules and scripts import from here
(``WriteResult``, ``read_config_file``, ``validate_model_id``, ``parse_size``, ``utc_now``,
``config_hash``, ``MAX_CONFIG_BYTES``, ``check_config``...) are re-exported from the package.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlite_utils

from .catalog import cache as _cache
from .catalog import metrics as _metrics
from .catalog import reads as _reads
from .catalog import stats as _stats
from .catalog import versions as _versions
from .catalog import writes as _writes
from .catalog.config_files import (
    MAX_CONFIG_BYTES,
    find_config_files,
    model_id_from_folder,
    read_config_file,
)
from .catalog.ids import (
    MAX_MODEL_ID_LENGTH,
    MAX_SIZE,
    config_hash,
    parse_size,
    utc_now,
    validate_model_id,
)
from .catalog.prepared import (
    HUB_METADATA_KEYS,
    PARAMETER_MISMATCH_TOLERANCE,
    PreparedModel,
    check_config,
    prepare_item,
    prepare_model,
    record_from_row,
)
from .catalog.reads import SORTABLE_COLUMNS
from .catalog.versions import SNAPSHOT_COLUMNS
from .catalog.writes import WriteResult
from .db import connect, resolve_db_path
from .errors import CatalogError, InvalidInputError, ModelNotFoundError

__all__ = [
    "HUB_METADATA_KEYS",
    "MAX_CONFIG_BYTES",
    "MAX_MODEL_ID_LENGTH",
    "MAX_SIZE",
    "PARAMETER_MISMATCH_TOLERANCE",
    "SNAPSHOT_COLUMNS",
    "SORTABLE_COLUMNS",
    "ModelManager",
    "PreparedModel",
    "WriteResult",
    "check_config",
    "config_hash",
    "find_config_files",
    "model_id_from_folder",
    "parse_size",
    "read_config_file",
    "utc_now",
    "validate_model_id",
]


class ModelManager:
    """The catalog's read and write API.

    ``ModelManager()`` opens the default catalog (``$GENZ_CATALOG_DB`` or
    ``~/.genz_simulator/db/models.db``); pass a path, or an open ``sqlite_utils.Database``.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        *,
        db: sqlite_utils.Database | None = None,
        read_only: bool = False,
        create_on_write: bool = False,
    ):
        # read_only: the file must exist and is never changed (see db.connect); writes fail.
        # create_on_write: a missing file is created only when a model is first written, after
        # its input was checked and converted, so refused input leaves no file (nor folder).
        # Until then reads see an empty catalog in memory.
        self.path = resolve_db_path(db_path) if db is None else None
        self.read_only = read_only
        self._deferred = (
            db is None
            and create_on_write
            and not read_only
            and str(self.path) != ":memory:"
            and not self.path.exists()
        )
        if db is not None:
            self.db = db
        else:
            self.db = connect(":memory:" if self._deferred else db_path, read_only=read_only)

    def writable(self) -> sqlite_utils.Database:
        """The catalog a checked write goes to: the file, created now if it was deferred
        (a manager of a file that does not exist yet reads an empty catalog until then)."""
        if self._deferred:
            empty = self.db
            self.db = connect(self.path)
            self._deferred = False
            empty.conn.close()
        return self.db

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> ModelManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads

    def get_model(
        self, model_id: str, include_deleted: bool = False, follow_aliases: bool = True
    ) -> dict[str, Any] | None:
        """The model with this id or alias (case-insensitive), with parsed JSON fields, or None.

        Soft-deleted models are hidden unless ``include_deleted``; ``follow_aliases=False``
        matches real model ids only.
        """
        return _reads.get_model(self.db, model_id, include_deleted, follow_aliases)

    def require_model(self, model_id: str, include_deleted: bool = False) -> dict[str, Any]:
        """Like :meth:`get_model`, but raise :class:`ModelNotFoundError` (with close matches)."""
        return _reads.require_model(self.db, model_id, include_deleted)

    def close_matches(self, name: str, n: int = 3) -> list[str]:
        """Up to ``n`` model ids that look like ``name`` (for "did you mean" messages)."""
        return _reads.close_matches(self.db, name, n)

    def get_model_config(self, model_id: str) -> dict[str, Any]:
        """The GenZ ``ModelConfig`` keyword arguments of a model (raises if unknown)."""
        return self.require_model(model_id)["genz_config"]

    def list_models(
        self,
        model_type: str | None = None,
        attention_type: str | None = None,
        family: str | None = None,
        source: str | None = None,
        min_params: int | str | None = None,
        max_params: int | str | None = None,
        is_moe: bool | None = None,
        search: str | None = None,
        include_deleted: bool = False,
        limit: int | None = None,
        order_by: str | None = None,
    ) -> list[dict[str, Any]]:
        """Models matching every given filter, as ``models`` rows (JSON columns left as text).

        Sizes take ``7B``-style strings or ints. ``search`` is free text over id, name, family and
        aliases (prefix match, FTS syntax escaped). ``order_by`` is a column name from
        :data:`SORTABLE_COLUMNS`, ``-`` prefixed for descending; by default search results come
        by relevance and other listings by model id.
        """
        return _reads.list_models(
            self.db,
            model_type=model_type,
            attention_type=attention_type,
            family=family,
            source=source,
            min_params=min_params,
            max_params=max_params,
            is_moe=is_moe,
            search=search,
            include_deleted=include_deleted,
            limit=limit,
            order_by=order_by,
        )

    def search_models(
        self, query: str, limit: int | None = None, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """Full-text search over model id, name, family and aliases, best match first (equally good
        matches in the order they were imported).

        Plain words match as prefixes with FTS syntax escaped (``Llama-3.1 8b`` just works). A
        query that uses FTS5 syntax (``AND``, ``OR``, ``NOT``, ``NEAR``, ``"a phrase"``,
        ``prefix*``, parentheses) is passed through as written; if SQLite rejects it the
        :class:`InvalidInputError` says how to write one.
        """
        return _reads.search_models(self.db, query, limit, include_deleted)

    # ------------------------------------------------------------------ writes

    def add_model(
        self,
        model_id: str,
        config: Mapping[str, Any] | None = None,
        *,
        record: Mapping[str, Any] | None = None,
        source: str = "manual",
        model_name: str | None = None,
        hub_metadata: Mapping[str, Any] | None = None,
        aliases: Iterable[str | tuple[str, str]] = (),
        if_exists: str = "error",
        force: bool = False,
        change_description: str | None = None,
    ) -> WriteResult:
        """Add (or with ``force`` / ``if_exists="update"``, replace) one model in one transaction.

        Give either a Hugging Face ``config`` (converted here; :class:`ConversionError` if it
        cannot be) or an already converted ``record`` (with ``config`` as its raw source, e.g. a
        GenZ static config). ``if_exists`` is ``"error"`` (raise :class:`ModelExistsError`),
        ``"skip"`` (leave it, status ``skipped``) or ``"update"``. Re-adding identical content
        records no new version (status ``unchanged``). ``aliases`` are names or
        ``(name, kind)`` pairs; an alias already owned by another model is left with it.
        """
        item = {
            "model_id": model_id,
            "config": config,
            "record": record,
            "source": source,
            "model_name": model_name,
            "hub_metadata": hub_metadata,
            "aliases": aliases,
            "change_description": change_description,
        }
        prepared = prepare_item(self.db, item)
        # A single add is a batch of one through the one write path.
        mode = "update" if force else if_exists
        return _writes.write_models(self.writable(), [(prepared, item)], mode)[0]

    def add_models(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        if_exists: str = "error",
        batch_size: int = 500,
        on_error: Callable[[Mapping[str, Any], Exception], None] | None = None,
    ) -> Iterator[WriteResult]:
        """Bulk :meth:`add_model`: each item is a dict of its keyword arguments.

        Items are written ``batch_size`` to a transaction, so a crash loses at most the batch in
        flight and never leaves half a model. Conversion errors are raised before the batch's
        transaction opens, so a bad item writes nothing of its batch. An item may carry its
        content already ``prepared`` (a :class:`PreparedModel`, built in a bulk-import worker
        by :func:`genz_catalog.catalog.prepared.prepare_for_bulk`), so the writer only writes.

        With ``on_error``, an item the catalog refuses while its batch is written (an id that
        exists with ``if_exists="error"``, a bare name that is another model's alias) is rolled
        back alone, passed to ``on_error(item, error)`` and yields no result; the rest of the
        batch is written. Without it, the error is raised and the batch writes nothing.
        """
        batch: list[tuple[PreparedModel, Mapping[str, Any]]] = []
        for item in items:
            prepared = item.get("prepared") or prepare_item(self.db, item)
            batch.append((prepared, item))
            if len(batch) >= batch_size:
                yield from _writes.write_models(self.writable(), batch, if_exists, on_error)
                batch = []
        if batch:
            yield from _writes.write_models(self.writable(), batch, if_exists, on_error)

    def update_model(
        self,
        model_id: str,
        config: Mapping[str, Any] | None = None,
        *,
        record: Mapping[str, Any] | None = None,
        model_name: str | None = None,
        hub_metadata: Mapping[str, Any] | None = None,
        change_description: str | None = None,
    ) -> WriteResult:
        """Change an existing model: new config (re-converted), name or Hub metadata.

        A content change records a new version and drops the model's cached values.
        """
        existing = self.require_model(model_id, include_deleted=True)
        if config is None and record is None:
            # Only the name or Hub metadata change: keep the stored conversion as it is (a
            # re-conversion could fail for records that never came from an HF config).
            record = record_from_row(existing)
        item = {
            "model_id": existing["model_id"],
            "config": config,
            "record": record,
            "source": existing["source"],
            "model_name": model_name or existing["model_name"],
            "hub_metadata": hub_metadata,
            "change_description": change_description,
        }
        prepared = prepare_model(
            existing["model_id"],
            config,
            record,
            existing["source"],
            model_name or existing["model_name"],
            db=self.db,
        )
        return _writes.write_models(self.db, [(prepared, item)], "update")[0]

    def add_alias(self, model_id: str, alias: str, kind: str = "alias") -> None:
        """Make ``alias`` another name for a model; raises if the name is already taken."""
        model = self.require_model(model_id, include_deleted=True)
        _writes.add_alias(self.db, model["model_id"], alias, kind)

    def delete_model(self, model_id: str, hard: bool = False) -> str:
        """Soft-delete (hide) a model, or with ``hard`` remove it with its versions, aliases,
        metrics and cache. Returns the canonical id."""
        model = self.require_model(model_id, include_deleted=True)
        canonical = model["model_id"]
        if model["is_deleted"] and not hard:
            raise CatalogError(
                f"model {canonical!r} is already deleted; use --hard to remove it for good"
            )
        _writes.delete_model(self.db, canonical, hard)
        return canonical

    def undelete_model(self, model_id: str) -> str:
        """Bring back a soft-deleted model. Returns the canonical id."""
        model = self.get_model(model_id, include_deleted=True)
        if model is None:
            raise ModelNotFoundError(model_id, self.close_matches(model_id))
        if not model["is_deleted"]:
            raise CatalogError(f"model {model['model_id']!r} is not deleted")
        _writes.undelete_model(self.db, model["model_id"])
        return model["model_id"]

    # ------------------------------------------------------------------ versions

    def get_versions(self, model_id: str) -> list[dict[str, Any]]:
        """Every version of a model, oldest first, with its parsed ``snapshot``."""
        model = self.require_model(model_id, include_deleted=True)
        return _versions.get_versions(self.db, model["model_id"])

    def rollback(self, model_id: str, version: int) -> WriteResult:
        """Restore a model's content to an earlier version, recorded as a new version."""
        canonical = self.require_model(model_id, include_deleted=True)["model_id"]
        return _writes.rollback(self.db, canonical, version)

    def diff(self, model_id: str, v1: int, v2: int) -> dict[str, tuple[Any, Any]]:
        """Fields that differ between two versions: ``{field: (value in v1, value in v2)}``.

        Raw config keys appear flattened as ``config.key`` (``config.text_config.hidden_size``).
        """
        model = self.require_model(model_id, include_deleted=True)
        return _versions.diff(self.db, model["model_id"], v1, v2)

    # ------------------------------------------------------------------ quality metrics

    def add_quality_metric(
        self,
        model_id: str,
        metric_name: str,
        metric_value: float | str,
        shots: int | str | None = None,
        *,
        unit: str | None = None,
        source: str | None = None,
        measured_at: str | None = None,
    ) -> dict[str, Any]:
        """Set one metric (unique per model, metric name and shots; a repeat replaces it).

        Scores are stored in percent (0-100, GenZ's scale), so a fraction and a percentage of
        the same score agree: with no ``unit``, a value from 0 to 1 is a fraction (``0.625`` is
        stored as 62.5) and a larger one is a percentage; ``unit="fraction"`` always scales by
        100, ``unit="percent"`` never does (for a score below 1 %). Any other unit (e.g.
        ``perplexity``) stores the value as given. Returns the stored row's values.
        """
        return self.add_quality_metrics(
            [
                {
                    "model_id": model_id,
                    "metric_name": metric_name,
                    "metric_value": metric_value,
                    "shots": shots,
                    "unit": unit,
                    "source": source,
                    "measured_at": measured_at,
                }
            ],
            row_labels=[None],
        )[0]

    def add_quality_metrics(
        self,
        metrics: Iterable[Mapping[str, Any]],
        *,
        row_labels: Sequence[str | None] | None = None,
    ) -> list[dict[str, Any]]:
        """Set many metrics at once: every item is checked first, then all are written in one
        transaction, so one bad item writes nothing.

        Items take the keyword arguments of :meth:`add_quality_metric` (``model_id``,
        ``metric_name``, ``metric_value``, optional ``shots``, ``unit``, ``source``,
        ``measured_at``). A bad item raises :class:`InvalidInputError` prefixed with its label
        from ``row_labels`` (default ``row N``, 1-based). Returns the stored values, in order.
        """
        checked: list[dict[str, Any]] = []
        for index, item in enumerate(metrics):
            try:
                checked.append(_metrics.check_metric(self.db, item))
            except CatalogError as exc:
                label = row_labels[index] if row_labels is not None else f"row {index + 1}"
                if label is None:
                    raise
                raise InvalidInputError(f"{label}: {exc}") from None
        now = utc_now()
        columns = (*_metrics.METRIC_KEY, "metric_value", "unit", "source", "measured_at")
        _metrics.upsert_metrics(
            self.db,
            (*columns, "created_at", "updated_at"),
            [(*(metric[c] for c in columns), now, now) for metric in checked],
            keep_on_conflict=("created_at",),
        )
        return checked

    def get_quality_metrics(self, model_id: str | None = None) -> list[dict[str, Any]]:
        """Metrics of one model, or of every model, ordered by model, metric and shots."""
        if model_id is not None:
            model_id = self.require_model(model_id, include_deleted=True)["model_id"]
        return _metrics.get_quality_metrics(self.db, model_id)

    # ------------------------------------------------------------------ cache

    def cache_value(self, model_id: str, key: str, value: Any, ttl: float | None = None) -> None:
        """Cache a JSON-serialisable value for a model for ``ttl`` seconds (None: no expiry).

        A value holding NaN or Infinity is not cached (the catalog stores strict JSON only).

        The entry is tied to the model's current config hash, so it is never served for a
        changed model.
        """
        _cache.check_ttl(ttl)
        model = self.require_model(model_id, include_deleted=True)
        _cache.cache_value(self.db, model, key, value, ttl)

    def get_cached_value(self, model_id: str, key: str, default: Any = None) -> Any:
        """The cached value if present, fresh and made for the model's current config."""
        row = _reads.model_row(self.db, model_id, include_deleted=True)
        if row is None:
            return default
        return _cache.get_cached_value(self.db, row, key, default)

    def clear_cache(self, model_id: str | None = None) -> int:
        """Drop every cached value, or one model's. Returns the number of entries removed."""
        if model_id is not None:
            model_id = self.require_model(model_id, include_deleted=True)["model_id"]
        return _cache.clear_cache(self.db, model_id)

    def purge_expired(self, model_id: str | None = None) -> int:
        """Drop expired cache entries (of every model, or of one). Returns how many."""
        if model_id is not None:
            model_id = self.require_model(model_id, include_deleted=True)["model_id"]
        return _cache.purge_expired(self.db, model_id)

    def cache_entries(self, model_id: str | None = None) -> list[dict[str, Any]]:
        """Cached values (of every model, or of one) with key, expiry and whether still fresh."""
        if model_id is not None:
            model_id = self.require_model(model_id, include_deleted=True)["model_id"]
        return _cache.cache_entries(self.db, model_id)

    # ------------------------------------------------------------------ stats

    def get_stats(self) -> dict[str, Any]:
        """Totals for the live (not deleted) catalog: by model type, attention, family and
        source; MoE count; metric, alias, version and cache counts; Hub count mismatches."""
        return _stats.get_stats(self.db)

    # ------------------------------------------------------------------ local files

    def import_config_file(
        self,
        path: str | os.PathLike[str],
        model_id: str | None = None,
        *,
        force: bool = False,
        source: str = "local",
    ) -> WriteResult:
        """Import a ``config.json`` file, or a model folder holding one.

        The id comes from ``model_id``, else the config's ``_name_or_path``, else the folder name.
        """
        config, resolved_id = read_config_file(path, model_id)
        return self.add_model(resolved_id, config, source=source, force=force)
