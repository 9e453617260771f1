"""The catalog record: what the converter says about one model, as a type.

:class:`ModelRecord` is the one place that defines a figure. Each field that is stored as a
``models`` column carries a :class:`Column` (its SQL type, unit, Datasette description, where it
sorts, whether ``list`` shows it, its header on the models page), and everything else is
derived from the dataclass:

- ``db.FIGURE_COLUMNS`` / ``db.DERIVED_COLUMNS`` (what ``show`` lists and a version snapshots),
- ``catalog.prepared.RECORD_COLUMNS`` (what a prepared model copies from a record),
- ``catalog.reads.SORTABLE_COLUMNS`` (``list --sort``) and :data:`LIST_COLUMNS` (``list`` and
  ``search``), ``datasette.browse.COLUMN_LABELS`` (the models page's headers),
- the exact-count records (``exact._unhandled_record`` builds a ``ModelRecord``),
- the static-sync record (``genz.static_sync.static_model_record`` builds a ``ModelRecord``),
- the ``models`` column descriptions and ``sortable_columns`` in ``metadata.yml`` (the blocks
  between the ``BEGIN/END record columns`` markers, written by ``scripts/record_metadata.py``;
  a test fails while they are stale).

Adding a figure: a field here with its :class:`Column`, the handlers (or ``convert._arch``) that
fill it, a migration adding the column, ``python scripts/record_metadata.py`` (see
ARCHITECTURE.md, "How to add a figure column").

The converter hands callers the record as a plain ``dict`` (:meth:`ModelRecord.as_dict`: JSON
as it is, indexed like ``record["parameter_count"]``), the form every caller has used; the
dataclass is where the record's shape is written down and built.

This module imports nothing from the package: ``db.py``, the GenZ reader and Datasette import
it without paying for the converter (importing anything under ``convert/`` loads every family
handler, ~90 ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

#: ``Column.sortable`` places: ``list --sort`` (the CLI and ``ModelManager.list_models``) and
#: Datasette's ``sortable_columns`` of the ``models`` table.
SORT_LIST = "list"
SORT_WEB = "web"
SORT_BOTH = (SORT_LIST, SORT_WEB)


@dataclass(frozen=True)
class Column:
    """How a record field is stored in ``models`` and shown.

    ``sql_type``: the column's declared type (``INTEGER`` or ``TEXT``; booleans are
    ``INTEGER`` 0/1). ``description``: Datasette's column description (``metadata.yml``),
    naming the unit in words people read. ``unit``: the unit of the stored value (``count``,
    ``tokens``, ``values``...), ``None`` for labels; the description must name it.
    ``figure``: one of the converter's figures (``show`` lists them in field order; a version
    snapshots them). ``sortable``: where the column sorts, :data:`SORT_LIST` and/or
    :data:`SORT_WEB` (sorting needs an index at 100,000 models: add one in the migration).
    ``listed``: a column of ``list`` and ``search`` by default (the CLI heads it with the
    field name). ``header``: the column's header on Datasette's models page, when people should
    read something shorter than the name.
    """

    sql_type: str
    description: str
    unit: str | None = None
    figure: bool = True
    sortable: tuple[str, ...] = ()
    listed: bool = False
    header: str | None = None


def column_field(
    sql_type: str,
    description: str,
    *,
    unit: str | None = None,
    figure: bool = True,
    sortable: tuple[str, ...] = (),
    listed: bool = False,
    header: str | None = None,
    default: Any = None,
) -> Any:
    """A dataclass field stored as a ``models`` column (``None``, unknown, by default)."""
    column = Column(sql_type, description, unit, figure, sortable, listed, header)
    return field(default=default, metadata={"column": column})


@dataclass(kw_only=True)
class ModelRecord:
    """The converter's record of one model: the contract the rest of the package relies on.

    Fields carrying a :class:`Column` are ``models`` columns of the same name. ``memory``,
    ``genz_kwargs`` and ``warnings`` are JSON documents (stored as ``memory_json``,
    ``genz_config_json``, ``warnings_json``); ``hf_model_type`` and ``architecture`` are not
    stored as columns (the raw config keeps what they say). What each field holds:

    - ``model_id`` (str | None): as passed in.
    - ``family`` (str): the HF ``model_type`` whose handler counted it, as transformers names it
      today (e.g. ``"llama"``, ``"deepseek_v3"``, ``"falcon"`` for legacy ``RefinedWebModel``).
    - ``model_type`` (str): ``"decoder-only"``, ``"encoder-decoder"`` or ``"encoder-only"``.
    - ``attention_type`` (str): ``"mha"``, ``"gqa"``, ``"mqa"``, ``"mla"`` or ``"none"``.
    - ``is_moe`` (bool).
    - ``parameter_count`` (int): unique parameters (tied weights once, no buffers).
    - ``active_parameter_count`` (int): parameters touched per token (== total for dense).
    - ``text_parameter_count`` (int | None): the language model alone, for multimodal wrappers.
    - ``mtp_parameter_count`` (int | None): multi-token-prediction (MTP / "nextn") modules that the
      checkpoint stores but transformers does not load (DeepSeek-V3 ``num_nextn_predict_layers``,
      Qwen3-Next ``mtp_num_hidden_layers``); ``None`` when the config declares none. Not part of
      ``parameter_count``: ``parameter_count + mtp_parameter_count`` is the checkpoint's total.
    - ``num_layers``, ``hidden_size``, ``intermediate_size``, ``num_attention_heads``,
      ``num_key_value_heads``, ``head_dim``, ``num_experts``, ``experts_per_token``,
      ``context_length``, ``vocab_size`` (int | None).
    - ``kv_values_per_token`` (int): cached K/V (or MLA latent) values per token summed over all
      layers at full attention (no sliding window), 0 for pure state-space models and for
      encoder-only models (they keep no cache).
    - ``memory`` (dict, JSON-serialisable): everything :mod:`genz_catalog.memory` needs to compute
      weight, KV-cache and state bytes from the record alone (per-layer windows, SSM state sizes).
    - ``genz_kwargs`` (dict, JSON-serialisable): keyword arguments for ``GenZ.Models.ModelConfig``.
    - ``warnings`` (list[str]): e.g. "unknown family X converted with the standard decoder handler".
    - ``hf_model_type`` (str): the ``model_type`` exactly as the config wrote it. It differs from
      ``family`` for legacy names (``RefinedWebModel`` -> ``falcon``) and for a custom model_type
      converted through the class its ``architectures`` names (``kimi_k2`` -> ``deepseek_v3``); a
      warning says which.
    - ``count_basis`` (str): how ``parameter_count`` was obtained: ``"formula"`` (this converter);
      importers may store ``"transformers-meta"`` or ``"hub-safetensors"`` instead.

    - ``genz_unsupported`` (str | None): why GenZ cannot simulate this architecture faithfully
      (the simulate command raises it).
    - ``architecture`` (dict | None): family details such as MLA ranks or vision-tower size;
      the dict form has the key only when there are details.

    ``memory``'s layout is in :mod:`genz_catalog.convert`. A family the converter refuses but
    an exact counter counts (:mod:`genz_catalog.exact`) holds ``None`` for what is not known.
    """

    model_id: str | None = column_field(
        "TEXT",
        "Catalog id, usually the Hugging Face repo id (case-insensitive).",
        figure=False,
        header="model",
    )
    family: str | None = column_field(
        "TEXT",
        "Architecture family (the Hugging Face config's model_type, e.g. llama).",
        sortable=SORT_BOTH,
        listed=True,
    )
    model_type: str | None = column_field(
        "TEXT",
        "decoder-only, encoder-decoder or encoder-only.",
        sortable=(SORT_LIST,),
        listed=True,
        header="type",
    )
    attention_type: str | None = column_field(
        "TEXT",
        "mha (multi-head), gqa (grouped-query), mqa (multi-query), mla (multi-head latent) "
        "or none (state-space).",
        sortable=(SORT_LIST,),
        listed=True,
        header="attention",
    )
    is_moe: bool = column_field(
        "INTEGER", "1 for mixture-of-experts models.", default=False, header="MoE"
    )
    parameter_count: int | None = column_field(
        "INTEGER",
        "Unique parameters (count); tied embeddings counted once.",
        unit="count",
        sortable=SORT_BOTH,
        listed=True,
        header="parameters",
    )
    active_parameter_count: int | None = column_field(
        "INTEGER",
        "Parameters used per token (count); equals parameter_count for dense models.",
        unit="count",
        sortable=SORT_BOTH,
        listed=True,
        header="active",
    )
    text_parameter_count: int | None = column_field(
        "INTEGER",
        "Parameters of the language model alone (count), for multimodal models.",
        unit="count",
        header="text params",
    )
    mtp_parameter_count: int | None = column_field(
        "INTEGER",
        "Parameters of multi-token-prediction modules the checkpoint ships but transformers "
        "does not load (count); not in parameter_count, so parameter_count + "
        "mtp_parameter_count is the checkpoint total. NULL when the model has none.",
        unit="count",
    )
    count_basis: str | None = column_field(
        "TEXT",
        "How parameter_count was obtained: formula (the converter's exact per-family "
        "formulas), transformers-meta (transformers' own class instantiated on the meta "
        "device, import --exact) or hub-safetensors (the Hub's safetensors total, for a family "
        "the converter refuses).",
    )
    num_layers: int | None = column_field(
        "INTEGER",
        "Transformer (or state-space) layers.",
        unit="layers",
        sortable=SORT_BOTH,
        listed=True,
        header="layers",
    )
    hidden_size: int | None = column_field(
        "INTEGER",
        "Model width (values per token).",
        unit="values",
        sortable=SORT_BOTH,
        listed=True,
    )
    intermediate_size: int | None = column_field(
        "INTEGER", "Feed-forward width (values).", unit="values"
    )
    num_attention_heads: int | None = column_field(
        "INTEGER",
        "Query heads per layer.",
        unit="heads",
        sortable=SORT_BOTH,
        listed=True,
    )
    num_key_value_heads: int | None = column_field(
        "INTEGER",
        "Key/value heads per layer.",
        unit="heads",
        sortable=SORT_BOTH,
        listed=True,
    )
    head_dim: int | None = column_field("INTEGER", "Values per attention head.", unit="values")
    num_experts: int | None = column_field(
        "INTEGER", "Routed experts per MoE layer.", unit="experts", sortable=SORT_BOTH
    )
    experts_per_token: int | None = column_field(
        "INTEGER", "Experts each token is routed to.", unit="experts"
    )
    context_length: int | None = column_field(
        "INTEGER",
        "Longest sequence the config allows (tokens).",
        unit="tokens",
        sortable=SORT_BOTH,
        listed=True,
        header="context",
    )
    vocab_size: int | None = column_field(
        "INTEGER", "Vocabulary (tokens).", unit="tokens", sortable=SORT_BOTH
    )
    kv_values_per_token: int | None = column_field(
        "INTEGER",
        "K/V values cached per token over all layers at full attention (values; x bytes per "
        "value = KV bytes per token).",
        unit="values",
        sortable=(SORT_WEB,),
    )
    #: What :mod:`genz_catalog.memory` needs (layout in :mod:`genz_catalog.convert`).
    memory: dict[str, Any] = field(default_factory=dict)
    #: Keyword arguments for ``GenZ.Models.ModelConfig``.
    genz_kwargs: dict[str, Any] = field(default_factory=dict)
    genz_unsupported: str | None = column_field(
        "TEXT",
        "Why GenZ cannot simulate this architecture faithfully (NULL when it can); "
        "genz-catalog simulate refuses with this reason.",
        figure=False,
    )
    warnings: list[str] = field(default_factory=list)
    #: The ``model_type`` exactly as the config wrote it (``None`` for GenZ static models).
    hf_model_type: str | None = None
    #: Family details (MLA ranks, vision-tower size...); left out of :meth:`as_dict` when None.
    architecture: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record as a plain, JSON-serialisable dict keyed by field name, in field order (the
        form :func:`genz_catalog.convert.convert_hf_config` returns); ``architecture`` only
        when there is one."""
        # The dataclass __init__ sets every field, in field order, so the instance dict is the
        # record; copying it is the cheapest step of the converter's hot path (no __slots__).
        record = self.__dict__.copy()
        if record["architecture"] is None:
            del record["architecture"]
        return record

    @classmethod
    def from_mapping(cls, record: Any) -> ModelRecord:
        """A record from its dict form (keys that are not fields, such as a source's
        ``config``, are ignored; missing ones take their defaults: ``None``, empty)."""
        names = [f.name for f in fields(cls)]
        return cls(**{name: record[name] for name in names if name in record})


# --- what the rest of the package derives from the record -------------------------------------


def record_columns(record_type: type[ModelRecord] = ModelRecord) -> dict[str, Column]:
    """Every field of ``record_type`` stored as a ``models`` column, in field order."""
    return {f.name: f.metadata["column"] for f in fields(record_type) if "column" in f.metadata}


def figure_columns(record_type: type[ModelRecord] = ModelRecord) -> tuple[str, ...]:
    """The converter's figures as ``models`` columns, in ``show`` order (field order)."""
    return tuple(name for name, c in record_columns(record_type).items() if c.figure)


def stored_columns(record_type: type[ModelRecord] = ModelRecord) -> tuple[str, ...]:
    """Columns a prepared model copies from a record: every column field but ``model_id``
    (the caller's id, validated apart), figures first."""
    columns = record_columns(record_type)
    figures = figure_columns(record_type)
    return (*figures, *(n for n in columns if n not in figures and n != "model_id"))


def sortable_columns(
    place: str, record_type: type[ModelRecord] = ModelRecord, *, sql_type: str | None = None
) -> tuple[str, ...]:
    """Record columns that sort in ``place`` (:data:`SORT_LIST` or :data:`SORT_WEB`), in
    field order; only those of ``sql_type`` when given."""
    return tuple(
        name
        for name, c in record_columns(record_type).items()
        if place in c.sortable and (sql_type is None or c.sql_type == sql_type)
    )


def listed_columns(record_type: type[ModelRecord] = ModelRecord) -> tuple[str, ...]:
    """Record columns ``list`` and ``search`` show by default, in field order."""
    return tuple(name for name, c in record_columns(record_type).items() if c.listed)


def column_headers(record_type: type[ModelRecord] = ModelRecord) -> dict[str, str]:
    """Record column -> its header on Datasette's models page, for columns that have one."""
    return {name: c.header for name, c in record_columns(record_type).items() if c.header}


def list_columns(record_type: type[ModelRecord] = ModelRecord) -> tuple[str, ...]:
    """Columns of ``list`` and ``search``: the id, the listed figures, the source."""
    return ("model_id", *listed_columns(record_type), "source")


#: The converter's figures as ``models`` columns, in ``show`` order.
FIGURE_COLUMNS = figure_columns()
#: Every record field stored as a column (figures, then the rest), ``model_id`` aside.
STORED_COLUMNS = stored_columns()
#: Columns of ``list`` and ``search``, in order.
LIST_COLUMNS = list_columns()
