"""``genz-catalog plan``: the cheapest deployment of a model on each GenZ system (thin; the work
is :func:`genz_catalog.planner.plan`). Registered on :data:`genz_catalog.cli.cli`.

Importing this module stays cheap: GenZ is imported only when a simulation runs.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from ..planner import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_MEMORY_FRACTION,
    DEFAULT_OUTPUT_TOKENS,
    GENZ_BITS,
    PLAN_COLUMNS,
    genz_systems,
    plan,
)
from .group import cli, get_manager, refuse_beyond_context, requested_workload
from .output import (
    OutputFormat,
    check_columns,
    format_bytes,
    format_decimal,
    output_options,
    print_rows,
)

#: How the table shows a plan's raw values (machine formats keep them raw).
PLAN_FORMATTERS = {
    "memory_per_device_bytes": format_bytes,
    "device_memory_bytes": format_bytes,
    "exact_weight_bytes": format_bytes,
    "exact_kv_cache_bytes": format_bytes,
    "genz_weight_bytes": format_bytes,
    "prefill_latency_ms": format_decimal,
    "decode_latency_ms": format_decimal,
    "decode_throughput_tokens_per_s": format_decimal,
    "weight_difference_pct": lambda v: f"{v:+.1f}%",
    "difference_causes": lambda v: "; ".join(v) if isinstance(v, list) else v,
}


#: The table's short headers and the plan columns they show.
TABLE_COLUMNS = {
    "system": "system",
    "devices": "num_devices",
    "tp": "tensor_parallel",
    "pp": "pipeline_parallel",
    "prefill_ms": "prefill_latency_ms",
    "decode_ms": "decode_latency_ms",
    "decode_tok_s": "decode_throughput_tokens_per_s",
    "mem_per_device": "memory_per_device_bytes",
    "device_mem": "device_memory_bytes",
    "exact_weights": "exact_weight_bytes",
    "exact_kv": "exact_kv_cache_bytes",
    "genz_weights": "genz_weight_bytes",
    "genz_diff": "weight_difference_pct",
    "causes": "difference_causes",
    "note": "note",
}

#: Columns only ``--json``/``--nl``/``--csv`` carry (the table has the workload in its options).
MACHINE_ONLY_COLUMNS = (
    "bits",
    "batch_size",
    "input_tokens",
    "output_tokens",
    "prefill_throughput_tokens_per_s",
    "end_to_end_latency_ms",
    "genz_adjustments",
    "genz_version",
    "cached",
)


@cli.command(name="plan")
@click.argument("model_id")
@click.option(
    "--system",
    "systems",
    multiple=True,
    metavar="NAME",
    help="GenZ system to plan for (repeatable; default: every GenZ system).",
)
@click.option(
    "--seq",
    "--input-tokens",
    "input_tokens",
    type=click.IntRange(min=1),
    default=DEFAULT_INPUT_TOKENS,
    show_default=True,
    help="Prompt length (tokens; --input-tokens as in simulate). Not given, it is shortened to "
    "fit a model of shorter context.",
)
@click.option(
    "--output-tokens",
    type=click.IntRange(min=0),
    default=DEFAULT_OUTPUT_TOKENS,
    show_default=True,
    help="Generated tokens per sequence (the KV cache holds prompt + generated). Not given, "
    "shortened to fit a short context.",
)
@click.option(
    "--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Sequences per batch."
)
@click.option(
    "--bits",
    type=click.Choice(GENZ_BITS),
    default="bf16",
    show_default=True,
    help="Precision of weights, activations and KV cache.",
)
@click.option(
    "--memory-fraction",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=DEFAULT_MEMORY_FRACTION,
    show_default=True,
    help="Share of each device's memory weights + KV cache may fill.",
)
@click.option("--refresh", is_flag=True, help="Simulate again instead of reusing stored results.")
@output_options
@click.pass_context
def plan_command(
    ctx: click.Context,
    model_id: str,
    systems: tuple[str, ...],
    input_tokens: int,
    output_tokens: int,
    batch: int,
    bits: str,
    memory_fraction: float,
    refresh: bool,
    output: OutputFormat,
) -> None:
    """Find the cheapest deployment of a model on each GenZ system, and simulate it.

    For each system: the fewest devices (every tensor degree 1-8 with every number of
    pipeline stages; of as many devices, the fastest decode) whose exact weights + KV cache
    fit, with GenZ's prefill latency (ms), decode latency (ms per token), decode throughput
    (tokens/s) and memory per device. Cheapest first: fewest devices, then fastest decode.
    GenZ's own weight figure is shown beside the exact one, with the causes when they differ
    by more than 1%. Results are stored in the catalog's ``simulations`` table and reused
    while the model and GenZ are unchanged. Prompt + generated tokens beyond the model's
    context length are refused.

    \b
    Example:
        genz-catalog plan meta-llama/Llama-3.1-8B --system H100_GPU --system A100_40GB_GPU
        genz-catalog plan deepseek-ai/DeepSeek-R1 --seq 8192 --bits fp8 --json
    """
    manager = get_manager(ctx)
    names = list(systems) or list(genz_systems())
    model = manager.require_model(model_id)
    workload = requested_workload(
        ctx,
        model,
        batch=batch,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        bits=bits,
    )
    columns = (
        list(TABLE_COLUMNS)
        if output.is_table
        else ["model_id", *PLAN_COLUMNS, *MACHINE_ONLY_COLUMNS]
    )
    check_columns(output, columns)  # before any simulation is run and stored
    refuse_beyond_context(model, workload, input_tokens, output_tokens)
    if len(names) > 1:
        with click.progressbar(
            length=len(names),
            label="Simulating",
            file=sys.stderr,
            show_pos=True,
            hidden=not sys.stderr.isatty(),
        ) as bar:
            rows = plan(
                manager,
                model["model_id"],
                names,
                workload=workload,
                memory_fraction=memory_fraction,
                refresh=refresh,
                progress=lambda _name: bar.update(1),
            )
    else:
        rows = plan(
            manager,
            model["model_id"],
            names,
            workload=workload,
            memory_fraction=memory_fraction,
            refresh=refresh,
        )
    if output.is_table:
        # Short headers keep the table readable; machine formats keep the column names.
        table = [{short: row.get(key) for short, key in TABLE_COLUMNS.items()} for row in rows]
        formatters = {
            short: PLAN_FORMATTERS[key]
            for short, key in TABLE_COLUMNS.items()
            if key in PLAN_FORMATTERS
        }
        formatters["causes"] = short_causes
        print_rows(table, output, columns, table_formatters=formatters)
        return
    print_rows(rows, output, columns, table_formatters=PLAN_FORMATTERS)


def short_causes(causes: Any) -> Any:
    """Each cause sentence cut to its lead and its size: ``tied embeddings counted twice
    (+524M parameters)``."""
    if not isinstance(causes, list):
        return causes
    short = []
    for sentence in causes:
        lead = sentence.split(":")[0].split(" (")[0]
        size = re.search(r"\(([+-][^()]*parameters)\)", sentence)
        short.append(f"{lead} ({size.group(1)})" if size else lead)
    return "; ".join(short)
