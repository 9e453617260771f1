"""The compare page: ``/-/compare?model=A&model=B`` (up to six), and its JSON twin.

Models are named by id or alias, case-insensitively. Each row of the page is one fact for every
model, human-readable (``8.03B``, ``14.96 GiB``); rows whose exact values differ are marked. The
JSON twin (``/-/compare.json?...``) holds the same facts as exact integers (bytes, counts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from datasette.utils.asgi import Response

from . import DATABASE_NAME
from .functions import human_bytes, human_count
from .model_page import (
    COMPARE_PATH,
    FIT_DTYPES,
    model_facts,
    resolve_model,
    row_url,
    suggest_models,
)

__all__ = ["COMPARE_PATH", "MAX_MODELS", "compare_facts", "compare_view", "comparison_sections"]
#: Most models one comparison takes.
MAX_MODELS = 6
#: GPUs the comparison lists (the model page lists every common GPU).
COMPARE_GPUS = ("NVIDIA RTX 4090", "NVIDIA L40S", "NVIDIA A100 80GB", "NVIDIA H100 80GB")


class CompareError(Exception):
    """A request the page answers with a message instead of a table (``status``: HTTP status)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def requested_names(args) -> list[str]:  # noqa: ANN001 - Datasette's MultiParams
    """The ``model`` parameters in order, blanks and repeats (case-insensitive) dropped.

    A parameter may also hold several names separated by commas (``?model=a,b``).
    """
    names: list[str] = []
    seen: set[str] = set()
    for value in args.getlist("model"):
        for name in value.split(","):
            name = name.strip()
            if name and name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)
    return names


async def compare_facts(db, names: list[str]) -> list[dict[str, Any]]:  # noqa: ANN001 - Database
    """Facts of each named model (see :func:`model_facts`), one model listed once.

    Raises :class:`CompareError` for no names, more than :data:`MAX_MODELS`, or an unknown name
    (naming it, with close matches).
    """
    if not names:
        raise CompareError(
            f"name 1 to {MAX_MODELS} models to compare: /-/compare?model=A&model=B", 400
        )
    if len(names) > MAX_MODELS:
        raise CompareError(
            f"at most {MAX_MODELS} models can be compared at once; got {len(names)}", 400
        )
    rows = []
    seen: set[str] = set()
    for name in names:
        row = await resolve_model(db, name)
        if row is None:
            suggestions = await suggest_models(db, name)
            hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
            raise CompareError(f"unknown model {name!r}{hint}", 404)
        if row["model_id"].lower() not in seen:  # an alias and its model's id
            seen.add(row["model_id"].lower())
            rows.append(row)
    return [await model_facts(db, row) for row in rows]


# A fact row: its label, how to get the exact value from a model's facts, how to show it.
Fact = tuple[str, Callable[[dict[str, Any]], Any], Callable[[Any], str]]


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def _integer(value: Any) -> str:
    return "—" if value is None else f"{value:,}"


def _count(value: Any) -> str:
    return "—" if value is None else human_count(value)


def _bytes(value: Any) -> str:
    return "—" if value is None else human_bytes(value)


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _mem(*path: str) -> Callable[[dict[str, Any]], Any]:
    def get(facts: dict[str, Any]) -> Any:
        value: Any = facts["memory"]
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value

    return get


def _shape_total(seq_len: int) -> Callable[[dict[str, Any]], Any]:
    """Total bytes (bf16, batch 1) at ``seq_len`` tokens, None beyond the model's context."""

    def get(facts: dict[str, Any]) -> Any:
        for shape in facts["memory"].get("shapes", ()):
            if shape["seq_len"] == seq_len and shape["batch"] == 1:
                return shape["total_bytes"]
        return None

    return get


def _gpus(name: str) -> Callable[[dict[str, Any]], Any]:
    def get(facts: dict[str, Any]) -> Any:
        for gpu in _mem("gpu_fit", "gpus")(facts) or ():
            if gpu["gpu"] == name:
                return tuple(gpu[f"devices_{dtype}"] for dtype in FIT_DTYPES)
        return None

    return get


def _devices(value: Any) -> str:
    return "—" if value is None else " / ".join(str(v) for v in value)


def _field(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda facts: facts.get(key)


FACTS: tuple[tuple[str, tuple[Fact, ...]], ...] = (
    (
        "Model",
        (
            ("Family", _field("family"), _text),
            ("Type", _field("model_type"), _text),
            ("Attention", _field("attention_type"), _text),
            ("Mixture of experts", _field("is_moe"), _yes_no),
            ("Source", _field("source"), _text),
            ("License", _field("license"), _text),
        ),
    ),
    (
        "Size",
        (
            ("Parameters", _field("parameter_count"), _count),
            ("Active parameters", _field("active_parameter_count"), _count),
            ("Layers", _field("num_layers"), _integer),
            ("Hidden size", _field("hidden_size"), _integer),
            ("FFN size", _field("intermediate_size"), _integer),
            ("Attention heads", _field("num_attention_heads"), _integer),
            ("KV heads", _field("num_key_value_heads"), _integer),
            ("Head dim", _field("head_dim"), _integer),
            ("Experts", _field("num_experts"), _integer),
            ("Experts per token", _field("experts_per_token"), _integer),
            ("Context (tokens)", _field("context_length"), _integer),
            ("Vocabulary", _field("vocab_size"), _integer),
        ),
    ),
    (
        "Memory (weights and KV cache in the same dtype; batch 1)",
        (
            ("Weights fp32", _mem("weight_bytes", "fp32"), _bytes),
            ("Weights bf16", _mem("weight_bytes", "bf16"), _bytes),
            ("Weights fp8", _mem("weight_bytes", "fp8"), _bytes),
            ("Weights int4", _mem("weight_bytes", "int4"), _bytes),
            ("KV cache per token bf16", _mem("kv_cache_bytes_per_token", "bf16"), _bytes),
            ("Total at 4,096 tokens bf16", _shape_total(4096), _bytes),
            ("Total at 32,768 tokens bf16", _shape_total(32768), _bytes),
            ("Total at 131,072 tokens bf16", _shape_total(131072), _bytes),
        ),
    ),
    (
        "GPUs needed, bf16 / fp8 (batch 1, 4,096 tokens; 90% of memory usable)",
        tuple((name, _gpus(name), _devices) for name in COMPARE_GPUS),
    ),
)


def _metric_key(metric: dict[str, Any]) -> tuple[str, Any]:
    return (metric["metric_name"].lower(), metric["shots"])


def _metric_label(metric: dict[str, Any]) -> str:
    shots = metric["shots"]
    return metric["metric_name"] + ("" if shots is None else f" ({shots}-shot)")


def comparison_sections(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's table: sections of rows ``{label, values, differs}`` (values shown)."""
    sections = []
    for title, facts in FACTS:
        rows = []
        for label, get, show in facts:
            exact = [get(model) for model in models]
            if all(value is None for value in exact):
                continue  # e.g. no model has experts
            rows.append(
                {
                    "label": label,
                    "values": [show(value) for value in exact],
                    "differs": len(set(map(repr, exact))) > 1,
                }
            )
        if rows:
            sections.append({"title": title, "rows": rows})
    simulations = simulation_section(models)
    if simulations:
        sections.append(simulations)
    labels: dict[tuple[str, Any], str] = {}
    for model in models:
        for metric in model["quality_metrics"]:
            labels.setdefault(_metric_key(metric), _metric_label(metric))
    if labels:
        rows = []
        for key in sorted(labels, key=lambda k: (k[0], -1 if k[1] is None else k[1])):
            exact = []
            for model in models:
                found = [m for m in model["quality_metrics"] if _metric_key(m) == key]
                exact.append((found[0]["metric_value"], found[0]["unit"]) if found else None)
            rows.append(
                {
                    "label": labels[key],
                    "values": [
                        "—"
                        if v is None
                        else f"{v[0]:g}" + ("%" if v[1] == "percent" else f" {v[1]}")
                        for v in exact
                    ],
                    "differs": len(set(exact)) > 1,
                }
            )
        sections.append({"title": "Quality metrics", "rows": rows})
    return sections


#: Most simulated workloads the comparison lists (those most of the models share first).
MAX_SIMULATION_ROWS = 12


def _workload(sim: dict[str, Any]) -> tuple[Any, ...]:
    return (
        sim.get("system"),
        sim.get("bits"),
        sim.get("batch_size"),
        sim.get("input_tokens"),
        sim.get("output_tokens"),
    )


def _best_deployment(sims: list[dict[str, Any]]) -> dict[str, Any]:
    """The fewest devices, then the highest decode throughput."""
    return min(
        sims,
        key=lambda s: (
            s.get("num_devices") or 0,
            -(s.get("decode_throughput_tokens_per_s") or 0),
        ),
    )


def simulation_section(models: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Cached GenZ results side by side: one row per simulated workload (system, bits, batch,
    input and output tokens), each model's smallest deployment and its decode throughput.

    Stale results (another config or GenZ version) are left out; None when nothing is left.
    """
    per_model: list[dict[tuple[Any, ...], list[dict[str, Any]]]] = []
    for model in models:
        grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for sim in model.get("simulations") or ():
            if not sim["stale"]:
                grouped.setdefault(_workload(sim), []).append(sim)
        per_model.append(grouped)
    workloads = {key for grouped in per_model for key in grouped}
    if not workloads:
        return None
    shared = sorted(
        workloads,
        key=lambda k: (-sum(k in g for g in per_model), tuple(str(part) for part in k)),
    )[:MAX_SIMULATION_ROWS]
    rows = []
    for key in shared:
        system, bits, batch, input_tokens, output_tokens = key
        best = [_best_deployment(g[key]) if key in g else None for g in per_model]
        exact = [
            None if b is None else (b.get("decode_throughput_tokens_per_s"), b.get("num_devices"))
            for b in best
        ]
        rows.append(
            {
                "label": f"{system} · {bits} · batch {_integer(batch)} · "
                f"{_integer(input_tokens)} → {_integer(output_tokens)} tokens",
                "values": [
                    "—"
                    if value is None or value[0] is None
                    else f"{value[0]:,.1f} tok/s, {value[1]} device"
                    + ("" if value[1] == 1 else "s")
                    for value in exact
                ],
                "differs": len(set(exact)) > 1,
            }
        )
    return {
        "title": "GenZ simulations: decode throughput of the smallest cached deployment",
        "rows": rows,
    }


def differing_fields(models: list[dict[str, Any]]) -> list[str]:
    """Labels of the facts whose exact values differ between the models."""
    return [
        row["label"]
        for section in comparison_sections(models)
        for row in section["rows"]
        if row["differs"]
    ]


async def compare_view(datasette, request) -> Response:  # noqa: ANN001
    """``/-/compare?model=A&model=B`` (HTML) and ``/-/compare.json?...`` (exact figures)."""
    wants_json = request.url_vars.get("format") == "json"
    db = datasette.get_database(DATABASE_NAME)
    names = requested_names(request.args)
    try:
        models = await compare_facts(db, names)
    except CompareError as error:
        if wants_json:
            return Response.json({"ok": False, "error": str(error)}, status=error.status)
        # No names at all is someone arriving at the page: show the form, not an error status.
        status = 200 if not names else error.status
        context = {"error": str(error) if names else None, "names": names, "models": []}
        return Response.html(
            await datasette.render_template("genz_compare.html", context, request=request),
            status=status,
        )
    if wants_json:
        return Response.json(
            {"ok": True, "models": models, "differing": differing_fields(models)},
            default=str,
        )
    query = "&".join(f"model={_quote(m['model_id'])}" for m in models)
    context = {
        "models": [
            {
                "model_id": m["model_id"],
                "model_name": m["model_name"],
                "url": row_url(datasette, m["model_id"]),
                "is_deleted": m["is_deleted"],
                "remove_url": datasette.urls.path(COMPARE_PATH)
                + "?"
                + "&".join(f"model={_quote(o['model_id'])}" for o in models if o is not m),
            }
            for m in models
        ],
        "sections": comparison_sections(models),
        "json_url": datasette.urls.path(COMPARE_PATH) + ".json?" + query,
        "names": [m["model_id"] for m in models],
        "can_add": len(models) < MAX_MODELS,
        "max_models": MAX_MODELS,
        "error": None,
    }
    return Response.html(
        await datasette.render_template("genz_compare.html", context, request=request)
    )


def _quote(text: str) -> str:
    return quote(text, safe="")
