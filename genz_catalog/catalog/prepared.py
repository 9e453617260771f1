"""The prepared model: a model's row content, validated and converted outside any
transaction, so the writer (:mod:`.writes`) only writes. Bulk import builds these in worker
processes (:func:`prepare_model` needs no catalog then) and sends them to the writer.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import limits as _limits
from ..convert import ConversionError, convert_hf_config
from ..db import DERIVED_COLUMNS, SOURCES
from ..errors import InvalidInputError
from ..memo import remember
from ..record import STORED_COLUMNS
from ..store import (
    KnownDocument,
    genz_body_for,
    genz_text,
    known_document,
    pack_document,
    unpack_document,
)
from .config_files import (
    OpenedConfig,
    config_from_bytes,
    config_model_id,
    read_config_bytes,
)
from .ids import canonical_hash, validate_model_id

if TYPE_CHECKING:
    import sqlite_utils

#: Columns :func:`prepare_model` copies from a converted record as they are (it encodes the
#: JSON documents): every column field of :class:`~genz_catalog.record.ModelRecord` but the id.
RECORD_COLUMNS = STORED_COLUMNS

# Sanity bounds that turn absurd configs into errors instead of rows.
BOUNDS = {
    "num_layers": (1, 10_000),
    "hidden_size": (1, 1_000_000),
    "num_attention_heads": (1, 100_000),
    "num_key_value_heads": (1, 100_000),
    "head_dim": (1, 100_000),
    "vocab_size": (1, 100_000_000),
    "parameter_count": (1, 10**15),
    "context_length": (1, 1_000_000_000),
    "num_experts": (1, 1_000_000),
    # Zero is a real count here: no KV cache (encoders, state-space layers), no multi-token
    # prediction modules, no text part.
    "active_parameter_count": (0, 10**15),
    "text_parameter_count": (0, 10**15),
    "mtp_parameter_count": (0, 10**15),
    "kv_values_per_token": (0, 10**12),
}


@dataclass
class PreparedModel:
    """One model ready to write.

    ``content`` holds the ``models`` columns the model's own data decides (id, source, name,
    derived figures, JSON documents, config hash), in a fixed order. ``name_given`` says
    whether the caller chose ``model_name``: a defaulted name must not rename an existing
    model re-imported under a case variant of its id. ``exported`` marks a complete
    stored row from an export (``load``): written as it is, its versions come with it.
    ``documents``: the keys and stored forms of its four documents when a bulk-import worker
    knew them (see :func:`genz_catalog.store.to_stored_row`), so the writer need not hash or
    pack them.
    """

    content: dict[str, Any]
    name_given: bool = True
    exported: bool = False
    documents: tuple[KnownDocument | None, ...] | None = None

    @property
    def model_id(self) -> str:
        return self.content["model_id"]

    @classmethod
    def from_export_row(cls, row: Mapping[str, Any]) -> PreparedModel:
        """A ``models`` row from an export (checked by ``admin.check_export_row``)."""
        model_id = validate_model_id(row.get("model_id"))
        if model_id != row["model_id"]:
            raise InvalidInputError(f"model id {row['model_id']!r} has surrounding spaces")
        return cls(content=dict(row), exported=True)


def default_model_name(model_id: str) -> str:
    """The display name of a model whose caller gave none: its id's last part."""
    return model_id.split("/")[-1]


def prepare_model(
    model_id: str,
    config: Mapping[str, Any] | None,
    record: Mapping[str, Any] | None,
    source: str,
    model_name: str | None,
    *,
    db: sqlite_utils.Database | None = None,
    encoded: tuple[str, str] | None = None,
) -> PreparedModel:
    """Validate and convert one model (no transaction): from a Hugging Face ``config``, or an
    already converted ``record`` (whose ``config`` is the raw source).

    ``encoded``: ``config``'s stored text and hash (:func:`stored_config_and_hash`), given by
    a caller that has checked ``config`` against the limits and found no NaN or Infinity
    (:class:`BulkPreparer`), so neither the check nor the encoding is done again.

    With ``db``, a case variant of a stored id is converted under the stored spelling (the id
    is part of the GenZ config, so identical content stays "unchanged"). Without it (a worker
    process) the writer redoes the conversion when there is one (:func:`.writes.write_models`).
    """
    model_id = validate_model_id(model_id)
    if db is not None:
        # One indexed lookup (NOCASE primary key): it runs for every bulk item.
        stored = db.conn.execute(
            "SELECT model_id FROM models WHERE model_id = ?", [model_id]
        ).fetchone()
        if stored is not None:
            model_id = stored[0]
    if source not in SOURCES:
        raise InvalidInputError(
            f"unknown source {source!r}; use huggingface, local, genz-static or manual"
        )
    if record is None:
        if not isinstance(config, Mapping):
            raise InvalidInputError(f"{model_id}: config must be a JSON object")
        # Limits first: a config nested 1,000 deep or holding NaN must be refused with a
        # reason, before the converter or json.dumps meets it.
        non_finite = encoded is None and check_config_limits(model_id, config)
        record = convert_hf_config(dict(config), model_id=model_id)
        raw_config = dict(config)
    else:
        raw_config = dict(record.get("config") or config or {})
        non_finite = check_config_limits(model_id, raw_config)
        encoded = None  # a record's source config is encoded here
    check_bounds(model_id, record)
    # Stored strictly: NaN/Infinity become strings (SQLite's JSON functions refuse them).
    strict_warnings: list[str] = []
    if non_finite:  # rare (transformers' time_step_limit): copy only then
        raw_config, strict_warnings = _limits.strict_config(raw_config)
    content: dict[str, Any] = {
        "model_id": model_id,
        "source": source,
        "model_name": model_name or default_model_name(model_id),
    }
    for column in RECORD_COLUMNS:
        value = record.get(column)
        content[column] = int(value) if isinstance(value, bool) else value
    content["memory_json"] = _limits.dumps_strict(record.get("memory") or {}, sort_keys=True)
    content["genz_config_json"] = _limits.dumps_strict(
        record.get("genz_kwargs") or {}, sort_keys=True
    )
    content["warnings_json"] = json.dumps(list(record.get("warnings") or []) + strict_warnings)
    content["config_json"], content["config_hash"] = encoded or stored_config_and_hash(raw_config)
    return PreparedModel(content, name_given=model_name is not None)


def prepare_for_bulk(model_id: str, config: Mapping[str, Any], source: str) -> PreparedModel:
    """What a bulk-import worker produces for one config: the prepared model, so the writer
    only writes."""
    return prepare_model(model_id, config, None, source, None)


#: Keys a trainer's environment stamps into a fine-tune's config.json that no converted figure
#: depends on: the precision it saved in, its transformers release, its checkpoint folder.
#: Configs that differ only in these share one conversion (a test checks every real config).
ENVIRONMENT_KEYS = frozenset({"_name_or_path", "transformers_version", "torch_dtype", "dtype"})


class BulkPreparer:
    """Prepares local config files for a bulk import, converting each architecture once.

    Hub fine-tunes mostly ship their base model's config.json byte for byte, or with only what
    the trainer's environment stamps in changed (:data:`ENVIRONMENT_KEYS`). So a file is
    converted only when its architecture (its config without those keys) is not among the
    last :attr:`ARCHITECTURES` converted; otherwise that conversion is reused with the file's
    own config, hash and names (its id, default name and the GenZ arguments' ``model``). A
    file whose bytes are among the last :attr:`FILES` distinct ones read is not even parsed:
    its canonical config text and hash are remembered, packed.

    Files holding NaN or Infinity (stored as strings, with a warning) and refused files are
    not remembered: they are checked again each time.

    Each prepared model carries its documents' keys and stored forms
    (:attr:`PreparedModel.documents`), computed once per distinct file and architecture here,
    where there is time to spare, instead of for every model by the writer.
    """

    #: Distinct files remembered (~0.6 KB each: the packed config text, its hash and document
    #: key, and the keys of the file's architecture and ``_name_or_path``).
    FILES = 16_384
    #: Distinct architectures remembered (~1.5 KB each: a conversion's columns as a tuple,
    #: without the config, and the keys of its other three documents).
    ARCHITECTURES = 16_384

    def __init__(self, source: str = "local") -> None:
        self.source = source
        #: Files prepared, and how many of them were remembered (not parsed again).
        self.files_prepared = 0
        self.files_remembered = 0
        # file bytes' digest ->
        # (architecture key, _name_or_path, packed config text, hash, config document key)
        self._files: OrderedDict[bytes, tuple[bytes, Any, str | bytes, str, bytes]] = OrderedDict()
        # architecture key -> its conversion's (columns, values), the config and names unset,
        # and its GenZ arguments', memory figures' and warnings' known documents
        self._architectures: OrderedDict[bytes, _Template] = OrderedDict()
        # The columns of every conversion are the same tuple (one copy, not one per entry).
        self._layouts: dict[tuple[str, ...], tuple[str, ...]] = {}

    def prepare_file(
        self, path: str | os.PathLike[str], opened: OpenedConfig | None = None
    ) -> tuple[str, PreparedModel]:
        """(model id, prepared model) of one config file (``opened``: as :func:`open_ahead`
        opened it); raises as :func:`read_config_file` and the converter do."""
        data, name = read_config_bytes(path, opened)
        key = hashlib.blake2b(data, digest_size=16).digest()
        known = self._files.get(key)
        self.files_prepared += 1
        if known is not None:
            architecture, name_or_path, packed, hash_, document_key = known
            template = self._architectures.get(architecture)
            if template is not None:  # else that conversion is forgotten: convert again
                self.files_remembered += 1
                self._files.move_to_end(key)
                self._architectures.move_to_end(architecture)
                # Naming a file needs only its _name_or_path (config_model_id).
                model_id = config_model_id({"_name_or_path": name_or_path}, name)
                config_json = unpack_document(packed)
                assert config_json is not None
                config_document = (config_json, document_key, packed)
                return model_id, _from_template(template, model_id, config_document, hash_)
        config = config_from_bytes(data, name)
        model_id = config_model_id(config, name)
        try:
            config_json, hash_ = stored_config_and_hash(config)
        except InvalidInputError:
            # NaN or Infinity: prepare_model stores them as strings with a warning. Rare, so
            # such a file is converted on its own and not remembered.
            return model_id, prepare_model(model_id, config, None, self.source, None)
        architecture = _architecture_key(config)
        config_document = known_document(config_json, pack_document(config_json))
        template = self._architectures.get(architecture)
        if template is None:
            # Checked (config_from_bytes) and encoded above, without NaN or Infinity.
            prepared = prepare_model(
                model_id, config, None, self.source, None, encoded=(config_json, hash_)
            )
            template = self._template(prepared)
            remember(self._architectures, architecture, template, self.ARCHITECTURES)
            prepared.documents = (config_document, *template[2])
        else:
            self._architectures.move_to_end(architecture)
            prepared = _from_template(template, model_id, config_document, hash_)
        _, document_key, packed = config_document
        remember(
            self._files,
            key,
            (architecture, config.get("_name_or_path"), packed, hash_, document_key),
            self.FILES,
        )
        return model_id, prepared

    def _template(self, prepared: PreparedModel) -> _Template:
        """A conversion as kept in :attr:`_architectures`: its columns (shared) and values,
        without its config, names and hash, its GenZ arguments without the model's id; and
        the known documents of those arguments, its memory figures and its warnings."""
        content = dict(prepared.content)
        content["genz_config_json"] = genz_body_for(
            content["genz_config_json"], content["model_id"]
        )
        for column in _OWN_COLUMNS:
            content[column] = None
        columns = tuple(content)
        documents = tuple(
            known_document(content[column])
            for column in ("genz_config_json", "memory_json", "warnings_json")
        )
        return self._layouts.setdefault(columns, columns), tuple(content.values()), documents


def stored_config_and_hash(config: Mapping[str, Any]) -> tuple[str, str]:
    """A parsed config's stored text, ``dumps_strict(config, sort_keys=True)``, and its
    :func:`~.ids.config_hash`, from one encoding where it can (every write, and a bulk import
    for every distinct file: ~5 us a config of ~23). Raises :class:`InvalidInputError` for
    NaN or Infinity.

    The hashed form has no spaces after ``,`` and ``:``, the stored one has; when no key or
    string holds either character, every one of them in the text is a separator, and spacing
    them gives the stored text exactly. Otherwise it is encoded again."""
    compact = _limits.dumps_strict(config, sort_keys=True, separators=(",", ":"))
    keys, commas = _separator_counts(config)
    if compact.count(":") == keys and compact.count(",") == commas:
        text = compact.replace(",", ", ").replace(":", ": ")
    else:
        text = _limits.dumps_strict(config, sort_keys=True)
    return text, canonical_hash(compact)


def _separator_counts(value: Any) -> tuple[int, int]:
    """How many ``:`` and ``,`` the JSON of the parsed ``value`` writes as separators: one
    ``:`` per key, one ``,`` between two items of an object or array."""
    keys = commas = 0
    stack = [value] if type(value) in (dict, list) else []
    while stack:
        item = stack.pop()
        if not item:
            continue
        commas += len(item) - 1
        if type(item) is dict:
            keys += len(item)
            item = item.values()
        for child in item:
            if type(child) is dict or type(child) is list:
                stack.append(child)
    return keys, commas


#: Columns of a bulk-prepared model that are the file's own, not its architecture's.
_OWN_COLUMNS = ("model_id", "model_name", "config_json", "config_hash")
#: An architecture's conversion as :meth:`BulkPreparer._template` keeps it.
_Template = tuple[tuple[str, ...], tuple, tuple[KnownDocument, ...]]


def _architecture_key(config: Mapping[str, Any]) -> bytes:
    """The key of a parsed config's architecture: two configs with equal keys are equal
    without :data:`ENVIRONMENT_KEYS`, and two that are equal in the same key order (transformers
    writes them sorted) have equal keys. Equal configs in another order only miss the cache."""
    architecture = {k: v for k, v in config.items() if k not in ENVIRONMENT_KEYS}
    # repr: parsed JSON (dicts, lists, str, int, float, bool, None) reads back from it
    # unambiguously, and it is cheaper than a canonical json.dumps.
    return hashlib.blake2b(repr(architecture).encode(), digest_size=16).digest()


def _from_template(
    template: _Template, model_id: str, config_document: KnownDocument, hash_: str
) -> PreparedModel:
    """The prepared model of ``model_id`` with the config of ``config_document`` (hash
    ``hash_``) from a conversion of its architecture (:meth:`BulkPreparer._template`)."""
    columns, values, documents = template
    content = dict(zip(columns, values, strict=True))
    content["model_id"] = model_id
    content["model_name"] = default_model_name(model_id)
    content["genz_config_json"] = genz_text(content["genz_config_json"], model_id)
    content["config_json"] = config_document[0]
    content["config_hash"] = hash_
    return PreparedModel(content, name_given=False, documents=(config_document, *documents))


def prepare_item(db: sqlite_utils.Database, item: Mapping[str, Any]) -> PreparedModel:
    """Prepare an ``add_models`` item (its ``add_model`` keyword arguments) against ``db``.

    An item that arrived prepared (``prepared``, from a bulk-import worker) is redone from its
    stored ``config_json``: the writer calls this when the id turns out to be a case variant
    of a stored one.
    """
    done = item.get("prepared")
    if done is not None and item.get("config") is None and item.get("record") is None:
        return prepare_model(
            item["model_id"],
            json.loads(done.content["config_json"]),
            None,
            done.content["source"],
            done.content["model_name"] if done.name_given else None,
            db=db,
        )
    return prepare_model(
        item["model_id"],
        item.get("config"),
        item.get("record"),
        item.get("source", "manual"),
        item.get("model_name"),
        db=db,
    )


def record_from_row(model: Mapping[str, Any]) -> dict[str, Any]:
    """A stored (hydrated) model as a converter record, to re-prepare it unchanged."""
    record = {c: model.get(c) for c in DERIVED_COLUMNS if not c.endswith("_json")}
    record["memory"] = model.get("memory") or {}
    record["genz_kwargs"] = model.get("genz_config") or {}
    record["warnings"] = model.get("warnings") or []
    record["config"] = model.get("config") or {}
    return record


def check_config(model_id: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Convert an HF config and check its figures are plausible, as an import does before it
    writes; raises :class:`ConversionError`. Lets a caller refuse bad input before opening
    (and so creating) a catalog file."""
    record = convert_hf_config(dict(config), model_id=model_id)
    check_bounds(model_id, record)
    return record


def check_config_limits(model_id: str, config: Mapping[str, Any]) -> bool:
    """Refuse a config beyond :mod:`genz_catalog.limits` (depth, number length); True when it
    holds NaN/Infinity (stored as strings, see ``limits.strict_config``)."""
    try:
        return _limits.check_json_value(config, allow_non_finite=True)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{model_id}: {exc}") from None


def check_bounds(model_id: str, record: Mapping[str, Any]) -> None:
    """Raise :class:`ConversionError` when a figure is outside :data:`BOUNDS` (an absurd
    config, or a hand-edited export row)."""
    for key, (low, high) in BOUNDS.items():
        value = record.get(key)
        if value is None:
            continue
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not (low <= value <= high)
        ):
            raise ConversionError(
                f"{model_id}: {key}={value!r} is outside the plausible range {low}..{high}"
            )
    total, active = record.get("parameter_count"), record.get("active_parameter_count")
    if total is not None and active is not None and active > total:
        raise ConversionError(
            f"{model_id}: active_parameter_count={active!r} is more than parameter_count={total!r}"
        )


#: Hub metadata keys ``add_model(hub_metadata=...)`` understands (columns of ``models``).
HUB_METADATA_KEYS = (
    "hub_id",
    "revision_sha",
    "hub_parameter_count",
    "license",
    "gated",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "likes",
    "hub_created_at",
    "hub_last_modified",
)
#: Relative gap between computed and Hub parameter counts above which a model is flagged.
PARAMETER_MISMATCH_TOLERANCE = 0.01


def hub_columns(
    hub_metadata: Mapping[str, Any] | None,
    parameter_count: int | None,
    mtp_parameter_count: int | None = None,
) -> dict[str, Any]:
    """The ``models`` columns Hub metadata sets (tags as JSON, the mismatch flag); raises
    :class:`InvalidInputError` for a key not in :data:`HUB_METADATA_KEYS`."""
    if not hub_metadata:
        return {}
    unknown = set(hub_metadata) - set(HUB_METADATA_KEYS)
    if unknown:
        raise InvalidInputError("unknown hub metadata keys: " + ", ".join(sorted(unknown)))
    columns = {k: v for k, v in hub_metadata.items() if k != "tags"}
    if "tags" in hub_metadata:
        columns["tags_json"] = json.dumps(list(hub_metadata["tags"] or []))
    if "gated" in columns and columns["gated"] is not None:
        columns["gated"] = str(columns["gated"]).lower()
    if "hub_parameter_count" in columns:
        columns["parameter_mismatch"] = parameter_mismatch(
            parameter_count, columns["hub_parameter_count"], mtp_parameter_count
        )
    return columns


def parameter_mismatch(
    parameter_count: int | None,
    hub_parameter_count: int | None,
    mtp_parameter_count: int | None = None,
) -> int:
    """1 when the computed count is more than 1% away from the Hub's, else 0 (or unknown).

    A checkpoint that ships multi-token-prediction modules counts them in its safetensors
    total, so ``parameter_count + mtp_parameter_count`` matching the Hub is no mismatch.
    """
    if not hub_parameter_count or not parameter_count:
        return 0
    candidates = [parameter_count]
    if mtp_parameter_count:
        candidates.append(parameter_count + mtp_parameter_count)
    gap = min(abs(count - hub_parameter_count) for count in candidates) / hub_parameter_count
    return int(gap > PARAMETER_MISMATCH_TOLERANCE)
