"""``genz-catalog simulate`` and ``compare`` (registered on :data:`genz_catalog.cli.cli`).

Importing this module must stay cheap: GenZ is imported only when ``simulate`` runs a simulation
(:mod:`genz_catalog.planner` does the work), so every other command (and ``compare``) runs
without it.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ..planner import GENZ_BITS, DoesNotFitError, SimulationError
from .group import cli, get_manager, given, refuse_beyond_context, requested_workload
from .output import (
    OutputFormat,
    check_columns,
    format_bytes,
    format_count,
    format_decimal,
    output_options,
    print_record,
    print_rows,
)

#: ``simulate``'s fields, in order: the arguments, GenZ's figures (memory as GenZ computes it,
#: per device and in total), then the catalog's exact memory and how GenZ's weights differ.
SIMULATE_FIELDS = (
    "model_id",
    "system",
    "batch",
    "input_tokens",
    "output_tokens",
    "bits",
    "tensor_parallel",
    "pipeline_parallel",
    "prefill_latency_ms",
    "prefill_throughput_tokens_per_s",
    "decode_latency_ms_per_token",
    "decode_throughput_tokens_per_s",
    "end_to_end_latency_ms",
    "devices",
    "weight_bytes_per_device",
    "weight_bytes_total",
    "kv_cache_bytes_per_device",
    "kv_cache_bytes_total",
    "exact_weight_bytes_total",
    "exact_kv_cache_bytes_total",
    "exact_memory_per_device",
    "weight_difference_pct",
    "difference_causes",
    "genz_adjustments",
    "genz_version",
    "cached",
)


def simulation_record(row: dict[str, Any]) -> dict[str, Any]:
    """A ``simulations`` row (:func:`genz_catalog.planner.simulate`) as ``simulate`` prints it."""
    return {
        "model_id": row["model_id"],
        "system": row["system"],
        "batch": row["batch_size"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "bits": row["bits"],
        "tensor_parallel": row["tensor_parallel"],
        "pipeline_parallel": row["pipeline_parallel"],
        "prefill_latency_ms": row["prefill_latency_ms"],
        "prefill_throughput_tokens_per_s": row["prefill_throughput_tokens_per_s"],
        "decode_latency_ms_per_token": row["decode_latency_ms"],
        "decode_throughput_tokens_per_s": row["decode_throughput_tokens_per_s"],
        "end_to_end_latency_ms": row["end_to_end_latency_ms"],
        "devices": row["num_devices"],
        "weight_bytes_per_device": row["genz_weight_bytes_per_device"],
        "weight_bytes_total": row["genz_weight_bytes"],
        "kv_cache_bytes_per_device": row["genz_kv_cache_bytes_per_device"],
        "kv_cache_bytes_total": row["genz_kv_cache_bytes"],
        "exact_weight_bytes_total": row["exact_weight_bytes"],
        "exact_kv_cache_bytes_total": row["exact_kv_cache_bytes"],
        "exact_memory_per_device": row["memory_per_device_bytes"],
        "weight_difference_pct": row["weight_difference_pct"],
        "difference_causes": row["difference_causes"],
        "genz_adjustments": row["genz_adjustments"],
        "genz_version": row["genz_version"],
        "cached": row["cached"],
    }


def _sentences(value: Any) -> Any:
    return "; ".join(value) if isinstance(value, list) else value


_SIMULATION_FORMATTERS = {
    **{
        k: format_bytes
        for k in (
            "weight_bytes_per_device",
            "weight_bytes_total",
            "kv_cache_bytes_per_device",
            "kv_cache_bytes_total",
            "exact_weight_bytes_total",
            "exact_kv_cache_bytes_total",
            "exact_memory_per_device",
        )
    },
    **{
        k: format_decimal
        for k in (
            "prefill_latency_ms",
            "prefill_throughput_tokens_per_s",
            "decode_latency_ms_per_token",
            "decode_throughput_tokens_per_s",
            "end_to_end_latency_ms",
        )
    },
    "weight_difference_pct": lambda v: f"{v:+.2f}%",
    "difference_causes": _sentences,
    "genz_adjustments": _sentences,
}

#: Columns of ``simulate --all-systems`` (or several models) as a table.
SIMULATE_LIST_COLUMNS = (
    "model_id",
    "system",
    "devices",
    "prefill_latency_ms",
    "decode_latency_ms_per_token",
    "decode_throughput_tokens_per_s",
    "exact_memory_per_device",
    "weight_difference_pct",
    "note",
)


@cli.command()
@click.argument("model_ids", metavar="MODEL_ID...", nargs=-1, required=True)
@click.option(
    "--system",
    "systems",
    multiple=True,
    default=("A100_40GB_GPU",),
    show_default=True,
    help="GenZ system name (e.g. A100_40GB_GPU, H100_GPU, TPUv5e); repeat for several.",
)
@click.option(
    "--all-systems",
    is_flag=True,
    help="Simulate on every GenZ system (one row each; a system it does not fit says why).",
)
@click.option(
    "--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Sequences per batch."
)
@click.option(
    "--input-tokens",
    type=click.IntRange(min=1),
    default=1024,
    show_default=True,
    help="Prompt length (tokens). Not given, it is shortened to fit a model of shorter context.",
)
@click.option(
    "--output-tokens",
    type=click.IntRange(min=0),
    default=256,
    show_default=True,
    help="Generated tokens per sequence. Not given, shortened to fit a short context.",
)
@click.option(
    "--bits",
    type=click.Choice(GENZ_BITS),
    default="bf16",
    show_default=True,
    help="Precision of weights and activations.",
)
@click.option("--tensor-parallel", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--pipeline-parallel", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--no-cache", is_flag=True, help="Ignore and overwrite a stored result.")
@output_options
@click.pass_context
def simulate(
    ctx: click.Context,
    model_ids: tuple[str, ...],
    systems: tuple[str, ...],
    all_systems: bool,
    batch: int,
    input_tokens: int,
    output_tokens: int,
    bits: str,
    tensor_parallel: int,
    pipeline_parallel: int,
    no_cache: bool,
    output: OutputFormat,
) -> None:
    """Simulate inference of catalog models with GenZ: prefill, decode, memory.

    Latency is in milliseconds (decode: per generated token), throughput in tokens per second.
    Memory is shown twice: as GenZ computes it (per device, one of tensor-parallel x
    pipeline-parallel devices, and in total) and the catalog's exact weights and KV cache;
    when GenZ's weights differ by more than 1% the known causes are named. A deployment whose
    exact memory does not fit says how many devices it needs and the command that runs it;
    prompt + generated tokens beyond the model's context length are refused. Results are
    stored in the catalog's ``simulations`` table (reused while the model and GenZ are
    unchanged).

    \b
    Example:
        genz-catalog simulate mistralai/Mistral-7B-v0.1 --system H100_GPU --batch 8
        genz-catalog simulate --all-systems meta-llama/Llama-3.1-8B Qwen/Qwen2.5-7B
    """
    from .. import planner

    if all_systems and given(ctx, "systems", systems) is not None:
        raise click.UsageError("give --system or --all-systems, not both")
    names = (
        list(planner.genz_systems())
        if all_systems
        else list(dict.fromkeys(planner.require_system(name).name for name in systems))
    )
    manager = get_manager(ctx)
    models = [manager.require_model(model_id) for model_id in model_ids]
    lengths = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    workloads = {
        model["model_id"]: requested_workload(ctx, model, batch=batch, bits=bits, **lengths)
        for model in models
    }
    single = len(workloads) == 1 and len(names) == 1
    if single:
        columns = list(SIMULATE_FIELDS)
    elif output.is_table:
        columns = list(SIMULATE_LIST_COLUMNS)
        if len({(w.input_tokens, w.output_tokens) for w in workloads.values()}) > 1:
            # Models of short context run shorter workloads: say which each row ran.
            columns[2:2] = ["input_tokens", "output_tokens"]
    else:
        columns = [*SIMULATE_FIELDS, "note"]
    check_columns(output, columns)  # before any run is paid for or stored
    # A workload beyond a model's context is that model's whatever the system: refused once.
    refused: dict[str, SimulationError] = {}
    for model in models:
        model_id = model["model_id"]
        try:
            refuse_beyond_context(model, workloads[model_id], input_tokens, output_tokens)
        except SimulationError as exc:
            refused.setdefault(model_id, exc)
    if len(refused) == len(workloads):
        raise SimulationError("; ".join(str(exc) for exc in refused.values()))
    shape = {"tensor_parallel": tensor_parallel, "pipeline_parallel": pipeline_parallel}
    if single:
        model_id = models[0]["model_id"]
        row = planner.simulate(
            manager, model_id, names[0], workload=workloads[model_id], refresh=no_cache, **shape
        )
        print_record(simulation_record(row), output, table_formatters=_SIMULATION_FORMATTERS)
        return
    records: list[dict[str, Any]] = [
        {"model_id": model_id, "note": str(exc)} for model_id, exc in refused.items()
    ]
    pairs = [(m, name) for m in workloads if m not in refused for name in names]
    with click.progressbar(
        pairs, label="Simulating", file=sys.stderr, show_pos=True, hidden=not sys.stderr.isatty()
    ) as bar:
        for model_id, name in bar:
            try:
                row = planner.simulate(
                    manager,
                    model_id,
                    name,
                    workload=workloads[model_id],
                    refresh=no_cache,
                    **shape,
                )
            except SimulationError as exc:
                # One refusal (a system it does not fit) is a row saying why, not an abort.
                records.append(
                    {
                        "model_id": model_id,
                        "system": name,
                        "devices": getattr(exc, "devices", None)
                        if isinstance(exc, DoesNotFitError)
                        else None,
                        "note": str(exc),
                    }
                )
                continue
            records.append({**simulation_record(row), "note": ""})
    position = {model_id: i for i, model_id in enumerate(workloads)}
    records.sort(key=lambda record: position[record["model_id"]])  # stable: systems in order
    print_rows(records, output, columns, table_formatters=_SIMULATION_FORMATTERS)


# ------------------------------------------------------------------------------------ compare

_MEMORY_DTYPES = ("bf16", "fp16", "fp32", "fp8", "int8", "int4")


def compare_rows(
    models: list[dict[str, Any]], metrics: dict[str, list[dict[str, Any]]], dtype: str, seq_len: int
) -> list[dict[str, Any]]:
    """One dict per model with the compared fields (raw values: counts, bytes, percent)."""
    from ..memory import memory_report, weight_bytes

    rows = []
    for model in models:
        try:
            report = memory_report(
                {"memory": model["memory"], "parameter_count": model["parameter_count"] or 0},
                batch=1,
                seq_len=seq_len,
                dtype=dtype,
            )
            weights, cache = (
                report["weight_bytes"],
                report["kv_cache_bytes"] + report["state_bytes"],
            )
        except ValueError:  # no cache layout known (counted without a converter handler)
            weights, cache = weight_bytes(model["parameter_count"] or 0, dtype), None
        row = {
            "model_id": model["model_id"],
            "parameters": model["parameter_count"],
            "active_parameters": model["active_parameter_count"],
            "layers": model["num_layers"],
            "hidden_size": model["hidden_size"],
            "attention_heads": model["num_attention_heads"],
            "kv_heads": model["num_key_value_heads"],
            "attention_type": model["attention_type"],
            "context_length": model["context_length"],
            f"weights_{dtype}": weights,
            f"kv_cache_{dtype}_seq{seq_len}": cache,
        }
        for metric in metrics.get(model["model_id"], []):
            row[_metric_label(metric)] = metric["metric_value"]
        rows.append(row)
    return rows


def _metric_label(metric: dict[str, Any]) -> str:
    shots = metric.get("shots")
    suffix = f" ({shots}-shot)" if shots is not None else ""
    return f"{metric['metric_name']}{suffix} %"


@cli.command()
@click.argument("model_ids", nargs=-1, required=True)
@click.option(
    "--dtype",
    type=click.Choice(_MEMORY_DTYPES),
    default="bf16",
    show_default=True,
    help="Precision for weight and KV-cache memory.",
)
@click.option(
    "--seq",
    "seq_len",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Sequence length (tokens) for KV-cache memory, batch 1.",
)
@output_options
@click.pass_context
def compare(
    ctx: click.Context, model_ids: tuple[str, ...], dtype: str, seq_len: int, output: OutputFormat
) -> None:
    """Show catalog models side by side: size, shape, attention, memory, quality metrics.

    KV cache includes Mamba state for state-space layers; quality metrics are in percent.

    \b
    Example:
        genz-catalog compare meta-llama/Llama-3.1-8B mistralai/Mistral-7B-v0.1 --seq 32768
    """
    manager = get_manager(ctx)
    models = [manager.require_model(model_id) for model_id in model_ids]
    metrics = {m["model_id"]: manager.get_quality_metrics(m["model_id"]) for m in models}
    rows = compare_rows(models, metrics, dtype, seq_len)
    if not output.is_table:
        from .output import print_rows

        columns: list[str] = []
        for row in rows:
            columns.extend(c for c in row if c not in columns)
        print_rows(rows, output, columns)
        return
    fields: list[str] = []
    for row in rows:
        fields.extend(f for f in row if f not in fields and f != "model_id")
    table = []
    for field in fields:
        cells = [_human(field, row.get(field)) for row in rows]
        table.append([field.replace("_", " ") if not field.endswith("%") else field, *cells])
    from tabulate import tabulate

    click.echo(
        tabulate(
            table,
            headers=["", *[r["model_id"] for r in rows]],
            tablefmt=output.table_style,
            missingval="",
            disable_numparse=True,
        )
    )


def _human(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in ("parameters", "active_parameters"):
        return format_count(value)
    if field.startswith(("weights_", "kv_cache_")):
        return format_bytes(value)
    if field.endswith("%"):
        return f"{value:g}"
    return str(value)
