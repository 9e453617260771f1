"""The model page (``/catalog/models/{id}``) and the version diff page (``/-/model-diff``).

Datasette's row view serves the page with the ``row-catalog-models.html`` template; the
``extra_template_vars`` hook below gives that template the model's facts. The row's JSON twin
(``/catalog/models/{id}.json``) stays Datasette's own; the facts themselves, with exact
integers, are the JSON twin of the compare page for one model (``/-/compare.json?model=ID``).

Every figure comes from the catalog: the ``models`` row, :mod:`genz_catalog.memory`, the
``model_versions``, ``model_aliases`` and ``model_quality_metrics`` tables, and the
``simulations`` table when the catalog has one. A figure the catalog cannot compute is left out
with the reason, never estimated.
"""

from __future__ import annotations

import json
from importlib import metadata as importlib_metadata
from typing import Any
from urllib.parse import quote

import sqlite_utils
from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components
from datasette.utils.asgi import Response

from .. import memory
from ..catalog.versions import version_snapshot
from ..errors import VersionNotFoundError
from ..gpus import COMMON_GPUS, USABLE_FRACTION, devices_needed, usable_bytes
from ..planner import genz_version
from ..store import MODEL_DOCUMENT_COLUMNS, MODEL_JSON_SQL
from . import DATABASE_NAME
from .cells import JSON_MAX_DEPTH, indented_json, json_nesting_depth
from .functions import human_bytes, human_count

#: Where a model's Hub page lives (the page links there; nothing here fetches from it).
HUB_WEB_URL = "https://huggingface.co"
#: URL of the version diff page.
DIFF_PATH = "/-/model-diff"
#: URL of the compare page (served by :mod:`genz_catalog.datasette.compare`).
COMPARE_PATH = "/-/compare"
#: dtypes of the weights table, widest first.
WEIGHT_DTYPES = ("fp32", "bf16", "fp8", "int4")
#: Sequence lengths (tokens) of the memory table; the model's own context length is added and
#: longer ones are left out.
MEMORY_SEQ_LENS = (4096, 32768, 131072)
#: Batch sizes (sequences) of the memory table.
MEMORY_BATCHES = (1, 8, 32)
#: dtype of the memory table (weights, KV cache and state alike).
MEMORY_DTYPE = "bf16"
#: The GPU table's workload: one sequence of this many tokens (or the whole context if shorter).
FIT_SEQ_LEN = 4096
FIT_BATCH = 1
#: dtypes of the GPU table (weights and KV cache both stored in that dtype).
FIT_DTYPES = ("bf16", "fp8")
#: Columns of ``simulations`` the page shows, in order (others the table may grow are left out).
SIMULATION_COLUMNS = (
    "system",
    "tensor_parallel",
    "pipeline_parallel",
    "num_devices",
    "bits",
    "batch_size",
    "input_tokens",
    "output_tokens",
    "prefill_latency_ms",
    "decode_latency_ms",
    "decode_throughput_tokens_per_s",
    "memory_per_device_bytes",
    "genz_version",
    "config_hash",
    "created_at",
)
#: Most simulation rows shown for one model.
MAX_SIMULATIONS = 200
#: Most same-family models offered for comparison.
MAX_SIMILAR = 4


# ------------------------------------------------------------------------------- pure figures


def _record(row: dict[str, Any]) -> dict[str, Any] | None:
    """The memory calculator's input from a ``models`` row, or None if the row lacks it."""
    if row.get("parameter_count") is None or not row.get("memory_json"):
        return None
    return {"memory": json.loads(row["memory_json"]), "parameter_count": row["parameter_count"]}


def hub_url(hub_id: str | None) -> str | None:
    """The Hub web page of ``org/name`` (or of ``org/name@REV`` at that revision)."""
    if not hub_id:
        return None
    repo, _, revision = hub_id.partition("@")
    return f"{HUB_WEB_URL}/{repo}" + (f"/tree/{revision}" if revision else "")


def memory_sequence_lengths(context_length: int | None) -> list[int]:
    """Sequence lengths (tokens) of the memory table: the standard ones below the context
    length, then the context length itself (4,096 alone when the config states none)."""
    if not context_length or context_length < 1:
        return [MEMORY_SEQ_LENS[0]]
    return [s for s in MEMORY_SEQ_LENS if s < context_length] + [int(context_length)]


def fit_sequence_length(context_length: int | None) -> int:
    """Tokens of the GPU table's workload: :data:`FIT_SEQ_LEN`, or the context if shorter."""
    if context_length and 0 < context_length < FIT_SEQ_LEN:
        return int(context_length)
    return FIT_SEQ_LEN


def memory_facts(row: dict[str, Any]) -> dict[str, Any]:
    """Weights per dtype, KV cache and totals per shape, and GPU counts, all in bytes.

    ``row`` is a ``models`` row. Without a parameter count or memory figures the result holds
    only ``{"unavailable": reason}``.
    """
    record = _record(row)
    if record is None:
        return {"unavailable": "the catalog has no parameter count or memory figures for it"}
    weights = {dtype: memory.weight_bytes(record, dtype) for dtype in WEIGHT_DTYPES}
    shapes = [
        memory.memory_report(record, batch=batch, seq_len=seq_len, dtype=MEMORY_DTYPE)
        for seq_len in memory_sequence_lengths(row.get("context_length"))
        for batch in MEMORY_BATCHES
    ]
    fit_seq = fit_sequence_length(row.get("context_length"))
    fit_totals = {
        dtype: memory.memory_report(record, batch=FIT_BATCH, seq_len=fit_seq, dtype=dtype)[
            "total_bytes"
        ]
        for dtype in FIT_DTYPES
    }
    gpus = [
        {
            "gpu": gpu.name,
            "nominal_memory_gb": gpu.nominal_memory_gb,
            "usable_bytes": usable_bytes(gpu),
            "fp8_native": gpu.fp8_native,
            **{f"devices_{dtype}": devices_needed(fit_totals[dtype], gpu) for dtype in FIT_DTYPES},
        }
        for gpu in COMMON_GPUS
    ]
    return {
        "weight_bytes": weights,
        "kv_cache_bytes_per_token": {
            dtype: int(memory.kv_cache_bytes_per_token(record, dtype)) for dtype in FIT_DTYPES
        },
        "has_state": any(shape["state_bytes"] for shape in shapes),
        "memory_dtype": MEMORY_DTYPE,
        "shapes": [
            {k: shape[k] for k in ("seq_len", "batch", "kv_cache_bytes", "state_bytes")}
            | {"total_bytes": shape["total_bytes"]}
            for shape in shapes
        ],
        "gpu_fit": {
            "seq_len": fit_seq,
            "batch": FIT_BATCH,
            "usable_fraction": USABLE_FRACTION,
            "total_bytes": fit_totals,
            "gpus": gpus,
        },
    }


def installed_genz_version() -> str | None:
    """The installed genz-llm version (:func:`genz_catalog.planner.genz_version`, read once,
    without importing GenZ), or None where GenZ is not installed."""
    try:
        return genz_version()
    except importlib_metadata.PackageNotFoundError:
        return None


# ------------------------------------------------------------------------------- reads


async def resolve_model(db, name: str) -> dict[str, Any] | None:  # noqa: ANN001 - Database
    """The ``models`` row named by id or alias (case-insensitive, soft-deleted ones too)."""
    name = name.strip()
    if not name:
        return None
    # The documents come back as the published text columns (config_json, ...): one query.
    result = await db.execute(
        f"SELECT m.*, {MODEL_JSON_SQL} FROM models m WHERE m.model_id = ?", [name]
    )
    rows = result.rows
    if not rows:
        result = await db.execute(
            f"SELECT m.*, {MODEL_JSON_SQL} FROM model_aliases a "
            "JOIN models m ON m.model_id = a.model_id WHERE a.alias = ?",
            [name],
        )
        rows = result.rows
    if not rows:
        return None
    row = dict(rows[0])
    for doc_column in MODEL_DOCUMENT_COLUMNS:
        row.pop(doc_column, None)
    return row


async def suggest_models(db, name: str, limit: int = 3) -> list[str]:  # noqa: ANN001 - Database
    """Up to ``limit`` live model ids sharing a word with ``name`` (for "did you mean")."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in name).split() if w]
    if not words:
        return []
    # A short word as a prefix ("ft*") expands to every token starting with it: whole words only.
    terms = ['"' + w.replace('"', '""') + '"' + ("*" if len(w) > 2 else "") for w in words[:6]]
    # Every word first (few matches, quick to rank), then any word: at 100,000 models ranking
    # every model sharing one common word ("llama") takes ~150 ms.
    for operator in (" AND ", " OR "):
        result = await db.execute(
            "SELECT m.model_id FROM models_fts f JOIN models m ON m.rowid = f.rowid "
            "WHERE models_fts MATCH ? AND m.is_deleted = 0 ORDER BY rank LIMIT ?",
            [operator.join(terms), limit],
        )
        if result.rows:
            return [row["model_id"] for row in result.rows]
    return []


async def _table_exists(db, name: str) -> bool:  # noqa: ANN001 - Database
    result = await db.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", [name]
    )
    return bool(result.rows)


async def simulation_rows(db, row: dict[str, Any]) -> list[dict[str, Any]] | None:  # noqa: ANN001
    """Cached GenZ simulations of the model, or None when the catalog has no simulations table
    (a file from before migration m009, served immutable).

    Each row gets ``stale``: True when it was simulated from another config or GenZ version.
    A row of more tokens than the model's context length (stored before ``simulate`` refused
    such workloads, or loaded) is left out: the model cannot run it.
    """
    if not await _table_exists(db, "simulations"):
        return None
    context = row.get("context_length")
    result = await db.execute(
        "SELECT * FROM simulations WHERE model_id = :model "
        "AND (:context IS NULL OR input_tokens + output_tokens <= :context) "
        "ORDER BY system, num_devices, batch_size, input_tokens, output_tokens LIMIT :limit",
        {"model": row["model_id"], "context": context, "limit": MAX_SIMULATIONS},
    )
    genz_version = installed_genz_version()
    simulations = []
    for sim in result.rows:
        sim = dict(sim)
        entry = {column: sim.get(column) for column in SIMULATION_COLUMNS}
        entry["stale"] = bool(
            (sim.get("config_hash") and sim.get("config_hash") != row.get("config_hash"))
            or (genz_version and sim.get("genz_version") and sim["genz_version"] != genz_version)
        )
        simulations.append(entry)
    return simulations


async def model_facts(db, row: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001 - Database
    """Everything the model and compare pages show about one model, exact (bytes, counts)."""
    model_id = row["model_id"]
    aliases = await db.execute(
        "SELECT alias, kind FROM model_aliases WHERE model_id = ? ORDER BY kind, alias",
        [model_id],
    )
    metrics = await db.execute(
        "SELECT metric_name, shots, metric_value, unit, source, measured_at "
        "FROM model_quality_metrics WHERE model_id = ? ORDER BY metric_name, shots",
        [model_id],
    )
    versions = await db.execute(
        "SELECT version, config_hash, change_description, created_at FROM model_versions "
        "WHERE model_id = ? ORDER BY version DESC",
        [model_id],
    )
    facts = {
        key: row.get(key)
        for key in (
            "model_id",
            "model_name",
            "source",
            "family",
            "model_type",
            "attention_type",
            "parameter_count",
            "active_parameter_count",
            "text_parameter_count",
            "hub_parameter_count",
            "num_layers",
            "hidden_size",
            "intermediate_size",
            "num_attention_heads",
            "num_key_value_heads",
            "head_dim",
            "num_experts",
            "experts_per_token",
            "context_length",
            "vocab_size",
            "kv_values_per_token",
            "hub_id",
            "license",
            "config_hash",
            "current_version",
            "genz_unsupported",
            "created_at",
            "updated_at",
        )
    }
    facts["is_moe"] = bool(row.get("is_moe"))
    facts["is_deleted"] = bool(row.get("is_deleted"))
    facts["hub_url"] = hub_url(row.get("hub_id"))
    facts["warnings"] = json.loads(row.get("warnings_json") or "[]")
    facts["aliases"] = [dict(r) for r in aliases.rows]
    facts["quality_metrics"] = [dict(r) for r in metrics.rows]
    facts["versions"] = [dict(r) for r in versions.rows]
    facts["memory"] = memory_facts(row)
    facts["simulations"] = await simulation_rows(db, row)
    return facts


async def similar_models(db, row: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: ANN001
    """Up to :data:`MAX_SIMILAR` live models of the same family with other parameter counts,
    nearest in size first (one per size: a hundred fine-tunes of one base are one choice)."""
    if not row.get("family") or row.get("parameter_count") is None:
        return []
    result = await db.execute(
        "SELECT min(model_id) AS model_id, parameter_count FROM models "
        "WHERE family = ? AND is_deleted = 0 AND parameter_count IS NOT NULL "
        "AND parameter_count != ? GROUP BY parameter_count "
        "ORDER BY abs(parameter_count - ?), parameter_count LIMIT ?",
        [row["family"], row["parameter_count"], row["parameter_count"], MAX_SIMILAR],
    )
    return [dict(r) for r in result.rows]


# ------------------------------------------------------------------------------- the page


def row_url(datasette, model_id: str) -> str:  # noqa: ANN001
    """The model page URL of ``model_id``."""
    return datasette.urls.row(DATABASE_NAME, "models", tilde_encode(model_id))


def summary_items(facts: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(label, human-readable value, exact value as a tooltip) pairs for the summary list."""

    def count(key: str) -> tuple[str, str | None]:
        value = facts.get(key)
        return ("—", None) if value is None else (human_count(value), f"{value:,}")

    def integer(key: str) -> tuple[str, str | None]:
        value = facts.get(key)
        return ("—", None) if value is None else (f"{value:,}", None)

    items: list[tuple[str, str, str | None]] = [
        ("Parameters", *count("parameter_count")),
    ]
    if facts["is_moe"] or facts.get("active_parameter_count") != facts.get("parameter_count"):
        items.append(("Active parameters", *count("active_parameter_count")))
    if facts.get("text_parameter_count") is not None:
        items.append(("Language model parameters", *count("text_parameter_count")))
    if facts.get("hub_parameter_count") is not None:
        items.append(("Hub parameter total", *count("hub_parameter_count")))
    items += [
        ("Layers", *integer("num_layers")),
        ("Hidden size", *integer("hidden_size")),
        ("FFN size", *integer("intermediate_size")),
        ("Attention heads", *integer("num_attention_heads")),
        ("KV heads", *integer("num_key_value_heads")),
        ("Head dim", *integer("head_dim")),
    ]
    if facts["is_moe"]:
        items += [
            ("Experts", *integer("num_experts")),
            ("Experts per token", *integer("experts_per_token")),
        ]
    items += [
        ("Context", *integer("context_length")),
        ("Vocabulary", *integer("vocab_size")),
        ("KV values / token", *integer("kv_values_per_token")),
    ]
    per_token = facts["memory"].get("kv_cache_bytes_per_token")
    if per_token:
        items.append(
            ("KV cache / token (bf16)", human_bytes(per_token["bf16"]), f"{per_token['bf16']:,} B")
        )
    weights = facts["memory"].get("weight_bytes")
    if weights:
        items.append(("Weights (bf16)", human_bytes(weights["bf16"]), f"{weights['bf16']:,} B"))
    return items


def _human_simulation(sim: dict[str, Any]) -> dict[str, Any]:
    out = dict(sim)
    for key in ("prefill_latency_ms", "decode_latency_ms", "decode_throughput_tokens_per_s"):
        value = sim.get(key)
        if value is None:
            out[key] = "—"
        elif isinstance(value, (int, float)):
            out[key] = f"{value:,.1f}" if value >= 10 else f"{value:.3g}"
    for key in ("input_tokens", "output_tokens", "batch_size"):
        if isinstance(sim.get(key), int):
            out[key] = f"{sim[key]:,}"
    value = sim.get("memory_per_device_bytes")
    out["memory_per_device"] = "—" if value is None else human_bytes(value)
    return out


async def model_page_context(datasette, model_id: str) -> dict[str, Any] | None:  # noqa: ANN001
    """Template variables of the model page for ``model_id``, or None if it is not a model."""
    db = datasette.get_database(DATABASE_NAME)
    row = await resolve_model(db, model_id)
    if row is None:
        return None
    facts = await model_facts(db, row)
    similar = await similar_models(db, row)
    compare_path = datasette.urls.path(COMPARE_PATH)
    versions = facts["versions"]
    for entry in versions:
        entry["diff_url"] = (
            datasette.urls.path(DIFF_PATH)
            + f"?model={_quote(row['model_id'])}&from={entry['version'] - 1}&to={entry['version']}"
            if entry["version"] > 1
            else None
        )
    for entry in similar:
        entry["url"] = row_url(datasette, entry["model_id"])
        entry["compare_url"] = (
            f"{compare_path}?model={_quote(row['model_id'])}&model={_quote(entry['model_id'])}"
        )
        entry["parameters"] = human_count(entry["parameter_count"])
    mem = facts["memory"]
    return {
        "facts": facts,
        "summary": summary_items(facts),
        "memory": mem,
        "shapes": [
            {
                "seq_len": f"{s['seq_len']:,}",
                "batch": s["batch"],
                "kv_cache": human_bytes(s["kv_cache_bytes"]),
                "state": human_bytes(s["state_bytes"]),
                "total": human_bytes(s["total_bytes"]),
                "total_exact": f"{s['total_bytes']:,}",
            }
            for s in mem.get("shapes", ())
        ],
        "weights": [
            {"dtype": dtype, "human": human_bytes(value), "exact": f"{value:,}"}
            for dtype, value in mem.get("weight_bytes", {}).items()
        ],
        "fit_totals": {
            dtype: human_bytes(value)
            for dtype, value in mem.get("gpu_fit", {}).get("total_bytes", {}).items()
        },
        "simulations": (
            None
            if facts["simulations"] is None
            else [_human_simulation(s) for s in facts["simulations"]]
        ),
        "similar": similar,
        "compare_path": compare_path,
        "facts_json_url": f"{compare_path}.json?model={_quote(row['model_id'])}",
        "version_history_url": datasette.urls.path(
            f"/{DATABASE_NAME}/version_history?model={_quote(row['model_id'])}"
        ),
        "config_pretty": _pretty_json(row.get("config_json")),
        "genz_config_pretty": _pretty_json(row.get("genz_config_json")),
        "config_label": _config_label(row.get("config_json")),
    }


def _quote(text: str) -> str:
    return quote(text, safe="")


def _loads_shallow(text: str | None, default: str) -> Any:
    """The JSON document, or the stored text itself when it is not JSON or nests deeper than
    :data:`.cells.JSON_MAX_DEPTH` (parsing and walking it would recurse past Python's limit:
    stored data must never break a page)."""
    text = text or default
    if json_nesting_depth(text) > JSON_MAX_DEPTH:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pretty_json(text: str | None) -> str | None:
    if not text:
        return None
    document = _loads_shallow(text, "null")
    if isinstance(document, str) and document == text:
        return text
    return indented_json(document)[0]


def _config_label(text: str | None) -> str:
    """``LlamaForCausalLM · 24 keys``: what the folded config holds."""
    depth = json_nesting_depth(text or "{}")
    if depth > JSON_MAX_DEPTH:
        return f"JSON nested {depth} levels deep; shown as stored"
    document = _loads_shallow(text, "{}")
    if isinstance(document, str) and document == (text or "{}"):
        return "not valid JSON"
    if not isinstance(document, dict):
        return type(document).__name__
    architectures = document.get("architectures")
    label = ", ".join(map(str, architectures)) + " · " if isinstance(architectures, list) else ""
    return f"{label}{len(document)} keys"


@hookimpl(specname="extra_template_vars")
async def model_page_template_vars(
    database: str | None,
    table: str | None,
    view_name: str,
    request,  # noqa: ANN001
    datasette,  # noqa: ANN001
) -> dict[str, Any]:
    """Give ``row-catalog-models.html`` the model's facts (``genz_model``); nothing elsewhere."""
    if (
        view_name != "row"
        or database != DATABASE_NAME
        or table != "models"
        or request is None
        or "pks" not in request.url_vars
    ):
        return {}
    [model_id] = urlsafe_components(request.url_vars["pks"])[:1]
    return {"genz_model": await model_page_context(datasette, model_id)}


# ------------------------------------------------------------------------------- version diffs


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}", out)
    else:
        out[prefix] = value


def flatten_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A version snapshot as flat ``field -> value`` pairs, JSON columns opened into
    ``config.key`` / ``memory.key`` paths (the same fields ``genz-catalog diff`` compares)."""
    flat: dict[str, Any] = {}
    for key, value in snapshot.items():
        if key == "config_json":
            _flatten(_loads_shallow(value, "{}"), "config", flat)
        elif key in ("genz_config_json", "memory_json", "warnings_json"):
            _flatten(_loads_shallow(value, "null"), key[: -len("_json")], flat)
        else:
            flat[key] = value
    return flat


class DiffError(Exception):
    """A diff request the page answers with a message: ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


async def version_diff(db, name: str, v1: str, v2: str) -> dict[str, Any]:  # noqa: ANN001
    """Fields that differ between two versions of a model (raises :class:`DiffError`)."""
    row = await resolve_model(db, name or "")
    if row is None:
        raise DiffError(f"unknown model {name!r}", 404)
    # Plain ASCII digits only: int() also reads '1_0' and a full-width '１', and a number past
    # SQLite's integers cannot be a version.
    texts = [str(v).strip() if v is not None else "" for v in (v1, v2)]
    if not all(t.isascii() and t.isdigit() and len(t) <= 18 for t in texts):
        raise DiffError("from and to must be version numbers, e.g. ?from=1&to=2")
    versions = (int(texts[0]), int(texts[1]))
    snapshots = {}
    for version in versions:
        try:
            snapshot = await db.execute_fn(
                lambda conn, v=version: version_snapshot(
                    sqlite_utils.Database(conn), row["model_id"], v
                )
            )
        except VersionNotFoundError as exc:
            raise DiffError(str(exc), 404) from None
        snapshots[version] = flatten_snapshot(snapshot)
    a, b = snapshots[versions[0]], snapshots[versions[1]]
    changes = [
        {"field": key, "from": a.get(key), "to": b.get(key)}
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]
    return {"model_id": row["model_id"], "from": versions[0], "to": versions[1], "changes": changes}


async def model_diff_view(datasette, request) -> Response:  # noqa: ANN001
    """``/-/model-diff?model=ID&from=1&to=2`` (and ``.json``): what changed between versions."""
    wants_json = request.url_vars.get("format") == "json"
    db = datasette.get_database(DATABASE_NAME)
    args = request.args
    try:
        diff = await version_diff(db, args.get("model", ""), args.get("from"), args.get("to"))
    except DiffError as error:
        if wants_json:
            return Response.json({"ok": False, "error": str(error)}, status=error.status)
        return Response.html(
            await datasette.render_template(
                "genz_model_diff.html", {"error": str(error)}, request=request
            ),
            status=error.status,
        )
    if wants_json:
        return Response.json({"ok": True, **diff})
    context = {
        **diff,
        "model_url": row_url(datasette, diff["model_id"]),
        "changes": [
            {**change, "from": _display(change["from"]), "to": _display(change["to"])}
            for change in diff["changes"]
        ],
    }
    return Response.html(
        await datasette.render_template("genz_model_diff.html", context, request=request)
    )


def _display(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value)
