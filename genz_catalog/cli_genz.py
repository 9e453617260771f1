"""``genz-catalog simulate`` and ``compare`` (registered on :data:`genz_catalog.cli.cli`).

Importing this module must stay cheap: GenZ is imported inside ``simulate`` only, so every other
command (and ``compare``) runs without it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

from .cli import cli, get_manager
from .output import OutputFormat, format_bytes, format_count, output_options, print_record

#: Precisions GenZ 0.0.16 knows (``GenZ.system.System.mem_multiplier``); listed here so that
#: ``--help`` and option parsing do not import GenZ.
GENZ_BITS = ("bf16", "f32", "fp8", "fp6", "fp4", "int8", "int4", "int2")
#: Bumped whenever the cached simulation result changes shape or meaning.
SIMULATION_CACHE_VERSION = 3
_MIB = 1024 * 1024


def simulation_cache_key(**arguments: Any) -> str:
    """The ``model_cache`` key of one simulation: every argument, canonical JSON.

    The manager ties the entry to the model's config hash, so a changed model never reuses it.
    """
    return f"genz-simulate:v{SIMULATION_CACHE_VERSION}:" + json.dumps(
        arguments, sort_keys=True, separators=(",", ":")
    )


def _genz_unsupported_reason(model: dict[str, Any]) -> str | None:
    """Why GenZ cannot simulate a catalog model, if the catalog knows (else None)."""
    if model.get("genz_unsupported"):
        return str(model["genz_unsupported"])
    if not model.get("genz_config"):
        return "the catalog holds no GenZ configuration for it"
    return None


def run_simulation(model: dict[str, Any], **arguments: Any) -> dict[str, Any]:
    """Run GenZ prefill and decode for a catalog model (a hydrated manager row).

    The model's own stored GenZ config is simulated (passed to GenZ as a ``ModelConfig``), so a
    catalog model that shares a name with a GenZ static one is simulated as catalogued.
    Raises :class:`click.ClickException` with one line if GenZ refuses.
    """
    from .genz import genz_kwargs_to_config, run_prefill_and_decode

    model_id = model["model_id"]
    kwargs = dict(model["genz_config"])
    kwargs["model"] = model_id
    try:
        config = genz_kwargs_to_config(kwargs)
    except (AssertionError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise click.ClickException(f"GenZ cannot simulate {model_id}: {_one_line(exc)}") from None
    if config.unique_layers > 1:
        raise click.ClickException(
            f"GenZ cannot simulate {model_id}: GenZ 0.0.16 supports one unique layer type, "
            f"this model has {config.unique_layers} (hybrid attention/Mamba/MoE layout)"
        )
    common = {
        "batch_size": arguments["batch"],
        "system_name": arguments["system"],
        "bits": arguments["bits"],
        "tensor_parallel": arguments["tensor_parallel"],
        "pipeline_parallel": arguments["pipeline_parallel"],
    }
    try:
        prefill, decode = run_prefill_and_decode(
            config,
            input_tokens=arguments["input_tokens"],
            output_tokens=arguments["output_tokens"],
            **common,
        )
    except (AssertionError, ValueError, ZeroDivisionError, KeyError) as exc:
        raise click.ClickException(f"GenZ cannot simulate {model_id}: {_one_line(exc)}") from None
    summary = decode["summary_table"]
    prefill_ms = float(prefill["Latency"])
    decode_ms = float(decode["Latency"])
    # GenZ's "Total Weights" / "KV Cache" hold one tensor-parallel share of every pipeline stage
    # (the model / TP): GenZ itself checks them against device memory x pipeline_parallel. So a
    # device holds them / PP, and the whole deployment them x TP.
    # With pipeline parallelism GenZ simulates one micro-batch (batch // PP sequences) and its
    # KV figure covers only that one; a stage holds the KV of every micro-batch in flight.
    tp, pp = arguments["tensor_parallel"], arguments["pipeline_parallel"]
    micro_batch = max(arguments["batch"] // pp, 1) if pp > 1 else arguments["batch"]
    weights_mib = float(prefill["summary_table"]["Total Weights (MB)"].values[0])
    kv_mib = float(summary["KV Cache (MB)"].values[0]) * (arguments["batch"] // micro_batch)
    return {
        "prefill_latency_ms": prefill_ms,
        "prefill_throughput_tokens_per_s": (
            1000.0 * arguments["batch"] * arguments["input_tokens"] / prefill_ms
        ),
        "decode_latency_ms_per_token": decode_ms,
        "decode_throughput_tokens_per_s": float(decode["Throughput"]),
        "end_to_end_latency_ms": prefill_ms + arguments["output_tokens"] * decode_ms,
        "devices": tp * pp,
        "weight_bytes_per_device": int(round(weights_mib / pp * _MIB)),
        "weight_bytes_total": int(round(weights_mib * tp * _MIB)),
        "kv_cache_bytes_per_device": int(round(kv_mib / pp * _MIB)),
        "kv_cache_bytes_total": int(round(kv_mib * tp * _MIB)),
    }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(a) for a in exc.args) if exc.args else type(exc).__name__
    return re.sub(r"\s+", " ", text).strip()


def _genz_systems() -> list[str]:
    from Systems.system_configs import system_configs  # shipped with genz-llm, no GenZ import

    return list(system_configs)


_SIMULATION_FORMATTERS = {
    "weight_bytes_per_device": format_bytes,
    "weight_bytes_total": format_bytes,
    "kv_cache_bytes_per_device": format_bytes,
    "kv_cache_bytes_total": format_bytes,
    **{
        k: (lambda v: f"{v:,.2f}")
        for k in (
            "prefill_latency_ms",
            "prefill_throughput_tokens_per_s",
            "decode_latency_ms_per_token",
            "decode_throughput_tokens_per_s",
            "end_to_end_latency_ms",
        )
    },
}


@cli.command()
@click.argument("model_id")
@click.option(
    "--system",
    default="A100_40GB_GPU",
    show_default=True,
    help="GenZ system name (e.g. A100_40GB_GPU, H100_GPU, TPUv5e).",
)
@click.option(
    "--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Sequences per batch."
)
@click.option(
    "--input-tokens",
    type=click.IntRange(min=1),
    default=1024,
    show_default=True,
    help="Prompt length (tokens).",
)
@click.option(
    "--output-tokens",
    type=click.IntRange(min=0),
    default=256,
    show_default=True,
    help="Generated tokens per sequence.",
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
@click.option("--no-cache", is_flag=True, help="Ignore and overwrite a cached result.")
@output_options
@click.pass_context
def simulate(
    ctx: click.Context,
    model_id: str,
    system: str,
    batch: int,
    input_tokens: int,
    output_tokens: int,
    bits: str,
    tensor_parallel: int,
    pipeline_parallel: int,
    no_cache: bool,
    output: OutputFormat,
) -> None:
    """Simulate inference of a catalog model with GenZ: prefill, decode, memory.

    Latency is in milliseconds (decode: per generated token), throughput in tokens per second,
    memory as GenZ computes it: per device (one of tensor-parallel x pipeline-parallel devices)
    and in total. Results are cached per model config and arguments.

    \b
    Example:
        genz-catalog simulate mistralai/Mistral-7B-v0.1 --system H100_GPU --batch 8
    """
    manager = get_manager(ctx)
    model = manager.require_model(model_id)
    systems = _genz_systems()
    if system not in systems:
        raise click.ClickException(
            f"unknown system {system!r}; choose one of: " + ", ".join(systems)
        )
    reason = _genz_unsupported_reason(model)
    if reason:
        raise click.ClickException(f"GenZ cannot simulate {model['model_id']}: {reason}")
    arguments = {
        "system": system,
        "batch": batch,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "bits": bits,
        "tensor_parallel": tensor_parallel,
        "pipeline_parallel": pipeline_parallel,
    }
    key = simulation_cache_key(**arguments)
    result = None if no_cache else manager.get_cached_value(model["model_id"], key)
    cached = result is not None
    if result is None:
        result = run_simulation(model, **arguments)
        manager.cache_value(model["model_id"], key, result)
    record = {"model_id": model["model_id"], **arguments, **result, "cached": cached}
    print_record(record, output, table_formatters=_SIMULATION_FORMATTERS)


# ------------------------------------------------------------------------------------ compare

_MEMORY_DTYPES = ("bf16", "fp16", "fp32", "fp8", "int8", "int4")


def compare_rows(
    models: list[dict[str, Any]], metrics: dict[str, list[dict[str, Any]]], dtype: str, seq_len: int
) -> list[dict[str, Any]]:
    """One dict per model with the compared fields (raw values: counts, bytes, percent)."""
    from .memory import memory_report, weight_bytes

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
