"""From a model to hardware: GenZ simulations of catalog models, stored, and a deployment planner.

Library functions (no click); failures are the catalog's own errors (:mod:`genz_catalog.errors`).
GenZ is reached only through :mod:`genz_catalog.genz`, imported when a simulation actually runs,
so reading stored results costs no GenZ import.

Memory decisions use the catalog's exact figures (:mod:`genz_catalog.memory`: every parameter,
the KV cache of ``batch`` sequences of ``input_tokens + output_tokens`` tokens, state-space state),
never GenZ's weight figure, which differs from the truth for many models
(:mod:`genz_catalog.fidelity` names why). Both are stored and shown.

- :func:`simulate` runs (or reads back) one deployment: a system, tensor x pipeline parallelism,
  precision, batch and lengths. Each run is one row of the ``simulations`` table.
- :func:`plan` finds, for each system, the smallest deployment whose exact weights + KV cache
  fit, simulates it, and returns the deployments cheapest first (fewest devices, then the
  highest decode throughput).
- :func:`devices_needed` answers "how many devices of this system does it take".

Parallelism searched: every tensor degree of 1, 2, 4, 8 (one node, degrees dividing the
attention heads so each device gets whole heads) with every pipeline degree GenZ's stage split
leaves a layer in each stage, fewest devices first. A device holds its tensor share of its
pipeline stage; the fullest stage (``ceil(layers / PP)`` layers) sets the memory per device.

Stale results: a row is current while its ``config_hash`` is the model's and its
``genz_version`` is the installed GenZ's. Reads here only match current rows; writing a model's
new rows deletes its stale ones in the same transaction; the ``current_simulations`` view (what
Datasette's canned queries read) hides rows whose model changed since, and rows of any GenZ
version but the one that wrote last.
"""

from __future__ import annotations

import functools
import json
import shlex
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CatalogError, InvalidInputError

if TYPE_CHECKING:  # GenZ itself is imported only when a simulation runs
    from .genz import GenZCapacityError

#: Precisions GenZ 0.0.16 knows, with its bytes per value (``GenZ.system.System.mem_multiplier``);
#: listed here so that option parsing and reads do not import GenZ.
GENZ_BYTES_PER_VALUE: dict[str, float] = {
    "bf16": 2.0,
    "f32": 4.0,
    "fp8": 1.0,
    "fp6": 0.75,
    "fp4": 0.5,
    "int8": 1.0,
    "int4": 0.5,
    "int2": 0.25,
}
GENZ_BITS = tuple(GENZ_BYTES_PER_VALUE)
#: Tensor-parallel degrees tried, in order (one node of up to 8 devices).
TENSOR_PARALLEL_DEGREES = (1, 2, 4, 8)
#: Share of a device's memory a plan fills with weights + KV cache; the rest is left for
#: activations and the runtime (vLLM's default ``gpu_memory_utilization`` is 0.9 too).
DEFAULT_MEMORY_FRACTION = 0.9
#: Default prompt and generated lengths of a plan (tokens).
DEFAULT_INPUT_TOKENS = 2048
DEFAULT_OUTPUT_TOKENS = 256
_MIB = 1024 * 1024
_GIB = 1024 * _MIB

#: ``simulations`` columns, in table order (after ``id``).
SIMULATION_COLUMNS = (
    "model_id",
    "config_hash",
    "system",
    "tensor_parallel",
    "pipeline_parallel",
    "num_devices",
    "bits",
    "batch_size",
    "input_tokens",
    "output_tokens",
    "prefill_latency_ms",
    "prefill_throughput_tokens_per_s",
    "decode_latency_ms",
    "decode_throughput_tokens_per_s",
    "end_to_end_latency_ms",
    "memory_per_device_bytes",
    "device_memory_bytes",
    "fits",
    "exact_weight_bytes",
    "exact_kv_cache_bytes",
    "genz_weight_bytes",
    "genz_weight_bytes_per_device",
    "genz_kv_cache_bytes",
    "genz_kv_cache_bytes_per_device",
    "weight_difference_pct",
    "difference_causes",
    "genz_adjustments",
    "genz_version",
    "created_at",
)


class SimulationError(CatalogError):
    """GenZ cannot simulate this model or this deployment (the message says why)."""


class BeyondContextError(SimulationError):
    """A workload whose prompt + generated tokens exceed the model's context length: the model
    cannot run it, so no figure is given for it."""


class DoesNotFitError(SimulationError):
    """A deployment whose memory does not fit; the message names the deployment that does.

    ``devices`` is the smallest number of devices of ``system`` that fits (None: none up to
    the largest deployment searched), ``tensor_parallel``/``pipeline_parallel`` its shape.
    """

    def __init__(
        self,
        message: str,
        *,
        system: str,
        devices: int | None,
        tensor_parallel: int | None = None,
        pipeline_parallel: int | None = None,
    ):
        super().__init__(message)
        self.system = system
        self.devices = devices
        self.tensor_parallel = tensor_parallel
        self.pipeline_parallel = pipeline_parallel


@dataclass(frozen=True)
class System:
    """A GenZ system preset: ``memory_bytes`` per device (GenZ reads its ``Memory_size`` in GB
    as GiB: ``x 1024`` MB of ``2**20`` bytes), peak TFLOPS, memory bandwidth in GB/s."""

    name: str
    memory_bytes: int
    tflops: float
    memory_bandwidth_gbs: float


@dataclass(frozen=True)
class Workload:
    """What is simulated: ``batch`` sequences of ``input_tokens`` prompt tokens generating
    ``output_tokens`` each, weights and KV cache in ``bits`` (a GenZ precision name)."""

    batch: int = 1
    input_tokens: int = DEFAULT_INPUT_TOKENS
    output_tokens: int = DEFAULT_OUTPUT_TOKENS
    bits: str = "bf16"

    def check(self) -> None:
        if self.bits not in GENZ_BYTES_PER_VALUE:
            raise InvalidInputError(
                f"unknown precision {self.bits!r}; choose one of: " + ", ".join(GENZ_BITS)
            )
        for name in ("batch", "input_tokens"):
            if int(getattr(self, name)) < 1:
                raise InvalidInputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if int(self.output_tokens) < 0:
            raise InvalidInputError(f"output_tokens must be >= 0, got {self.output_tokens}")


def workload_for(
    model: dict[str, Any],
    *,
    batch: int = 1,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    bits: str = "bf16",
    default_input_tokens: int = DEFAULT_INPUT_TOKENS,
    default_output_tokens: int = DEFAULT_OUTPUT_TOKENS,
) -> Workload:
    """The workload for ``model`` with the lengths (tokens) given, the others defaulted.

    A defaulted length is shortened so that prompt + generated fit the model's context
    (``context_length``): GPT-2 (1,024 tokens) gets a 768-token prompt and 256 generated
    where Llama 3.1 gets 2,048 + 256; with neither given, a quarter of a short context (at most
    the default) is generated. Lengths given are kept as they are; when they leave the other
    no room, it keeps its default too (:func:`require_within_context` then refuses them).
    """
    context = int(model.get("context_length") or 0)
    prompt = default_input_tokens if input_tokens is None else int(input_tokens)
    generated = default_output_tokens if output_tokens is None else int(output_tokens)
    if context and prompt + generated > context:
        if input_tokens is None and output_tokens is None:
            generated = min(generated, context // 4)
            prompt = context - generated
        elif input_tokens is None and generated < context:
            prompt = min(prompt, context - generated)
        elif output_tokens is None and prompt <= context:
            generated = context - prompt
    return Workload(batch, prompt, generated, bits)


def shortened(
    model: dict[str, Any], workload: Workload, input_tokens: int, output_tokens: int
) -> str | None:
    """What :func:`workload_for` shortened, as a sentence for the user (None when ``workload``
    holds ``input_tokens`` + ``output_tokens``, the lengths asked for or defaulted)."""
    if (workload.input_tokens, workload.output_tokens) == (input_tokens, output_tokens):
        return None
    return (
        f"{model['model_id']} reads at most {int(model.get('context_length') or 0):,} tokens: "
        f"{workload.input_tokens:,} prompt + {workload.output_tokens:,} generated, not "
        f"{input_tokens:,} + {output_tokens:,}"
    )


def require_within_context(model: dict[str, Any], workload: Workload) -> None:
    """Refuse (:class:`BeyondContextError`) a workload whose prompt + generated tokens exceed
    the model's ``context_length``: it cannot attend that far (learned positions end there;
    vLLM refuses a longer ``max_model_len``), so GenZ's figures for it would be fiction. A
    model of unknown context (a state-space model, say) is not judged."""
    context = int(model.get("context_length") or 0)
    tokens = workload.input_tokens + workload.output_tokens
    if not context or tokens <= context:
        return
    room = context - workload.output_tokens
    fix = (
        f"a prompt of at most {room:,} tokens fits with {workload.output_tokens:,} generated"
        if room >= 1
        else f"generate fewer than {context:,} tokens"
    )
    raise BeyondContextError(
        f"{model['model_id']} reads at most {context:,} tokens (its context length); the "
        f"workload is {tokens:,} ({workload.input_tokens:,} prompt + "
        f"{workload.output_tokens:,} generated): {fix}"
    )


@functools.lru_cache(maxsize=1)
def _system_presets() -> tuple[System, ...]:
    from Systems.system_configs import system_configs

    return tuple(
        System(
            name=name,
            memory_bytes=int(float(spec["Memory_size"]) * _GIB),
            tflops=float(spec["Flops"]),
            memory_bandwidth_gbs=float(spec["Memory_BW"]),
        )
        for name, spec in system_configs.items()
    )


def genz_systems() -> dict[str, System]:
    """GenZ's system presets, by name, in GenZ's order (read from genz-llm's ``Systems``
    package, which does not import GenZ)."""
    return {system.name: system for system in _system_presets()}


def require_system(name: str) -> System:
    """The GenZ system called ``name``, or :class:`InvalidInputError` listing the known ones."""
    systems = genz_systems()
    if name not in systems:
        raise InvalidInputError(f"unknown system {name!r}; choose one of: " + ", ".join(systems))
    return systems[name]


@functools.lru_cache(maxsize=1)
def genz_version() -> str:
    """The installed genz-llm version (without importing GenZ; read once per process, since
    ``importlib.metadata`` scans the installed distributions, ~1 ms)."""
    from importlib.metadata import version

    return version("genz-llm")


# ------------------------------------------------------------------------------ exact memory


def exact_memory(model: dict[str, Any], workload: Workload) -> dict[str, int]:
    """The catalog's exact bytes for ``workload``: ``weight_bytes`` (every parameter),
    ``kv_cache_bytes`` (K/V of ``batch`` sequences of ``input + output`` tokens, sliding
    windows capped, plus state-space state) and ``total_bytes``."""
    from .memory import kv_cache_bytes, state_bytes

    width = GENZ_BYTES_PER_VALUE[workload.bits]
    record = {"memory": model.get("memory") or {}, "parameter_count": model["parameter_count"]}
    tokens = workload.input_tokens + workload.output_tokens
    # memory.py counts in its own dtypes; fp32 (4 bytes) gives the value count exactly.
    values = kv_cache_bytes(record, workload.batch, tokens, "fp32") / 4
    values += state_bytes(record, workload.batch, "fp32") / 4
    weights = ceil(int(model["parameter_count"]) * width)
    kv = ceil(values * width)
    return {"weight_bytes": weights, "kv_cache_bytes": kv, "total_bytes": weights + kv}


def memory_per_device(total_bytes: int, layers: int, tensor_parallel: int, pipeline: int) -> int:
    """Bytes on the fullest device: a ``1/TP`` share of the fullest pipeline stage, which holds
    ``ceil(layers / PP)`` of the ``layers`` layers (embeddings counted pro rata)."""
    layers = max(int(layers or 1), 1)
    stage_share = ceil(layers / pipeline) / layers if pipeline > 1 else 1.0
    return ceil(total_bytes * stage_share / tensor_parallel)


def kv_shares(model: dict[str, Any], tensor_parallel: int) -> int:
    """How many ways tensor parallelism splits a model's KV cache. Each device holds whole K/V
    heads, so with fewer K/V heads than devices a head is kept on several of them (Gemma 2B's
    one head is whole on every device); MLA's latent cache is one vector a token, held whole
    on every device. Unknown heads: split evenly."""
    if model.get("attention_type") == "mla":
        return 1
    kv_heads = int(model.get("num_key_value_heads") or 0)
    return max(1, min(tensor_parallel, kv_heads)) if kv_heads > 0 else tensor_parallel


def exact_per_device(
    model: dict[str, Any], exact: dict[str, int], tensor_parallel: int, pipeline: int
) -> int:
    """Bytes of exact weights + KV cache on the fullest device: a ``1/TP`` share of the fullest
    stage's weights (see :func:`memory_per_device`) and a ``1/`` :func:`kv_shares` share of
    its KV cache."""
    layers = int(model.get("num_layers") or 1)
    weights = memory_per_device(exact["weight_bytes"], layers, tensor_parallel, pipeline)
    kv = memory_per_device(exact["kv_cache_bytes"], layers, 1, pipeline)
    return weights + ceil(kv / kv_shares(model, tensor_parallel))


def _splits_heads(heads: int, tensor_parallel: int) -> bool:
    """Whether tensor parallelism ``tensor_parallel`` shares out ``heads`` attention heads
    evenly (unknown heads: not judged)."""
    return tensor_parallel == 1 or not heads or heads % tensor_parallel == 0


def _gives_every_stage_a_layer(layers: int, pipeline_parallel: int) -> bool:
    """Whether ``pipeline_parallel`` stages all get a layer: GenZ gives every stage but the last
    ``ceil(layers / PP)`` layers, and the last one what is left."""
    return layers - ceil(layers / pipeline_parallel) * (pipeline_parallel - 1) >= 1


def _ranges(values: list[int]) -> str:
    """``[1, 2, 3, 5, 8, 9]`` -> ``'1-3, 5, 8, 9'``."""
    parts: list[str] = []
    start = previous = values[0]
    for value in [*values[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        if previous - start > 1:
            parts.append(f"{start}-{previous}")
        else:
            parts.extend(str(v) for v in range(start, previous + 1))
        if value is not None:
            start = previous = value
    return ", ".join(parts)


def parallelism_problem(
    model: dict[str, Any], tensor_parallel: int, pipeline_parallel: int
) -> str | None:
    """Why ``model`` cannot be split over ``tensor_parallel`` x ``pipeline_parallel`` devices
    the way GenZ splits it, naming the degrees that work; None when it can."""
    heads = int(model.get("num_attention_heads") or 0)
    layers = int(model.get("num_layers") or 0) or 1
    if not _splits_heads(heads, tensor_parallel):
        divisors = [d for d in range(1, heads + 1) if heads % d == 0]
        return (
            f"tensor parallel {tensor_parallel} does not divide its {heads} attention heads "
            f"(use one of {_ranges(divisors)})"
        )
    if not _gives_every_stage_a_layer(layers, pipeline_parallel):
        valid = [pp for pp in range(1, layers + 1) if _gives_every_stage_a_layer(layers, pp)]
        return (
            f"pipeline parallel {pipeline_parallel} leaves a stage without a layer of its "
            f"{layers} (use one of {_ranges(valid)})"
        )
    return None


def candidate_degrees(model: dict[str, Any]) -> list[tuple[int, int]]:
    """Every ``(tensor_parallel, pipeline_parallel)`` pair GenZ can split ``model`` over, in
    the order a plan tries them: fewest devices first, and of as many devices the higher
    tensor degree first (8 x 1 before 4 x 2 before 1 x 8). Tensor degrees are
    :data:`TENSOR_PARALLEL_DEGREES` dividing the attention heads (unknown heads: 1 only);
    pipeline degrees every one that leaves each stage a layer."""
    heads = int(model.get("num_attention_heads") or 0)
    layers = int(model.get("num_layers") or 0) or 1
    tensor = [tp for tp in TENSOR_PARALLEL_DEGREES if tp == 1 or (heads and heads % tp == 0)]
    stages = [pp for pp in range(1, layers + 1) if _gives_every_stage_a_layer(layers, pp)]
    return sorted(((tp, pp) for tp in tensor for pp in stages), key=lambda d: (d[0] * d[1], -d[0]))


def _most_devices(model: dict[str, Any]) -> int:
    """The largest deployment a plan tries, in devices."""
    return max(tp * pp for tp, pp in candidate_degrees(model))


def devices_needed(
    model: dict[str, Any],
    system: System,
    workload: Workload,
    memory_fraction: float = 1.0,
    *,
    genz_weight_bytes: int | None = None,
    more_than: int = 0,
    skip: Collection[tuple[int, int]] = (),
) -> tuple[int, int] | None:
    """The smallest ``(tensor_parallel, pipeline_parallel)`` whose exact weights + KV cache fit
    in ``memory_fraction`` of each device, or None when none does.

    With ``genz_weight_bytes`` (GenZ's own weight total), GenZ's own capacity check must pass
    too: GenZ refuses a deployment when its weights / TP + KV cache exceed PP devices' memory.
    ``more_than`` skips deployments of that many devices or fewer, ``skip`` those
    ``(tensor_parallel, pipeline_parallel)`` pairs (ones GenZ refused).
    """
    exact = exact_memory(model, workload)
    usable = system.memory_bytes * memory_fraction
    for tp, pp in candidate_degrees(model):
        if tp * pp <= more_than or (tp, pp) in skip:
            continue
        if exact_per_device(model, exact, tp, pp) > usable:
            continue
        if genz_weight_bytes is not None:
            genz_need = (genz_weight_bytes + exact["kv_cache_bytes"]) / tp
            if genz_need > system.memory_bytes * pp:
                continue
        return tp, pp
    return None


# ------------------------------------------------------------------------------ simulations


def unsupported_reason(model: dict[str, Any]) -> str | None:
    """Why GenZ cannot simulate a catalog model, if the catalog knows (else None)."""
    if model.get("genz_unsupported"):
        return str(model["genz_unsupported"])
    if not model.get("genz_config"):
        return "the catalog holds no GenZ configuration for it"
    if not model.get("parameter_count"):
        return "the catalog holds no parameter count for it, so its memory is unknown"
    return None


def stored_simulation(
    manager: Any, model: dict[str, Any], system: str, tp: int, pp: int, workload: Workload
) -> dict[str, Any] | None:
    """The current stored row for this deployment (same config hash and GenZ version), or None."""
    rows = manager.db.execute(
        "SELECT * FROM simulations WHERE model_id = ? AND config_hash = ? AND genz_version = ? "
        "AND system = ? AND tensor_parallel = ? AND pipeline_parallel = ? AND bits = ? "
        "AND batch_size = ? AND input_tokens = ? AND output_tokens = ?",
        [
            model["model_id"],
            model.get("config_hash") or "",
            genz_version(),
            system,
            tp,
            pp,
            workload.bits,
            workload.batch,
            workload.input_tokens,
            workload.output_tokens,
        ],
    )
    columns = [d[0] for d in rows.description]
    row = rows.fetchone()
    return _decode_row(dict(zip(columns, row, strict=True))) if row else None


def _decode_row(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    for key in ("difference_causes", "genz_adjustments"):
        row[key] = json.loads(row.get(key) or "[]")
    row["fits"] = bool(row.get("fits"))
    return row


def simulate(
    manager: Any,
    model_id: str,
    system: str,
    *,
    workload: Workload | None = None,
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
    refresh: bool = False,
) -> dict[str, Any]:
    """Simulate one deployment of a catalog model with GenZ, or read back its stored result.

    Returns the ``simulations`` row (plus ``cached``: whether it was read back). Latencies in
    milliseconds (decode: per generated token), throughputs in tokens per second, memory in
    bytes. Raises :class:`SimulationError` when GenZ cannot simulate the model, and
    :class:`DoesNotFitError` (naming the devices it needs and the command that runs it) when
    the exact weights + KV cache do not fit the devices, or GenZ's own larger figure does not.
    Without ``workload``, :func:`workload_for` the model; a workload longer than the model's
    context is refused (:class:`BeyondContextError`).
    """
    return _simulate(
        manager,
        model_id,
        system,
        workload=workload,
        tensor_parallel=tensor_parallel,
        pipeline_parallel=pipeline_parallel,
        refresh=refresh,
        verify_hint=True,
    )


def _simulate(
    manager: Any,
    model_id: str,
    system: str,
    *,
    workload: Workload | None,
    tensor_parallel: int,
    pipeline_parallel: int,
    refresh: bool,
    verify_hint: bool,
) -> dict[str, Any]:
    """:func:`simulate`; ``verify_hint``: run GenZ on the deployment a refusal names until GenZ
    accepts one (the plan walks the deployments itself and passes False)."""
    if workload is not None:
        workload.check()
    spec = require_system(system)
    model = manager.require_model(model_id)
    workload = workload or workload_for(model)
    require_within_context(model, workload)
    tp, pp = int(tensor_parallel), int(pipeline_parallel)
    if tp < 1 or pp < 1:
        raise InvalidInputError("tensor and pipeline parallelism must be at least 1")
    problem = parallelism_problem(model, tp, pp)
    if problem:
        raise InvalidInputError(f"{model['model_id']}: {problem}")
    if not refresh:
        stored = stored_simulation(manager, model, system, tp, pp, workload)
        if stored is not None:
            return {**stored, "cached": True}
    reason = unsupported_reason(model)
    if reason:
        raise SimulationError(f"GenZ cannot simulate {model['model_id']}: {reason}")
    exact = exact_memory(model, workload)
    per_device = exact_per_device(model, exact, tp, pp)
    deployment = (model, spec, workload, tp, pp, exact, per_device)
    catalog_option = _catalog_option(manager)  # the refusal's command runs on this catalog
    if per_device > spec.memory_bytes:
        raise _does_not_fit(*deployment, None, verify=verify_hint, catalog_option=catalog_option)
    row = _run(*deployment, verify_hint=verify_hint, catalog_option=catalog_option)
    row = _store(manager, model, row)
    return {**row, "cached": False}


def _catalog_option(manager: Any) -> str:
    """``--db PATH `` for a command the user is told to run, when the catalog is not the one
    ``genz-catalog`` opens by default (absolute: the command may be run from another folder)."""
    from .db import resolve_db_path

    path = getattr(manager, "path", None)
    if path is None or str(path) == ":memory:":
        return ""
    path = Path(path).absolute()
    if path == Path(resolve_db_path(None)).absolute():
        return ""
    return f"--db {shlex.quote(str(path))} "


def _run(
    model: dict[str, Any],
    system: System,
    workload: Workload,
    tp: int,
    pp: int,
    exact: dict[str, int],
    per_device: int,
    *,
    verify_hint: bool = False,
    catalog_option: str = "",
    refused: frozenset[tuple[int, int]] = frozenset(),
) -> dict[str, Any]:
    """GenZ prefill + decode of one deployment, as a ``simulations`` row (not yet stored).
    Raises :class:`DoesNotFitError` when GenZ refuses it (see :func:`_does_not_fit`;
    ``refused``: deployments GenZ refused before, which its hint skips)."""
    from . import genz
    from .fidelity import weight_gap

    try:
        config, adjustments = genz.simulation_config(
            model["genz_config"], model["model_id"], model.get("intermediate_size")
        )
    except ValueError as exc:
        raise SimulationError(f"GenZ cannot simulate {model['model_id']}: {exc}") from None
    common = {
        "batch_size": workload.batch,
        "system_name": system.name,
        "bits": workload.bits,
        "tensor_parallel": tp,
        "pipeline_parallel": pp,
    }
    try:
        prefill, decode = genz.run_prefill_and_decode(
            config,
            input_tokens=workload.input_tokens,
            output_tokens=workload.output_tokens,
            **common,
        )
    except genz.GenZCapacityError as refusal:
        genz_weights = genz.genz_parameter_counts(config)[0] * GENZ_BYTES_PER_VALUE[workload.bits]
        raise _does_not_fit(
            model,
            system,
            workload,
            tp,
            pp,
            exact,
            per_device,
            int(genz_weights),
            verify=verify_hint,
            genz_refusal=refusal,
            catalog_option=catalog_option,
            refused=refused,
        ) from None
    except (AssertionError, ValueError, ZeroDivisionError, KeyError) as exc:
        raise SimulationError(
            f"GenZ cannot simulate {model['model_id']}: {genz.one_line(exc)}"
        ) from None
    prefill_ms = float(prefill["Latency"])
    decode_ms = float(decode["Latency"])
    # GenZ's "Total Weights" / "KV Cache" hold one tensor-parallel share of every pipeline stage
    # (the model / TP): GenZ itself checks them against device memory x pipeline_parallel. So a
    # device holds them / PP, and the whole deployment them x TP. With pipeline parallelism
    # GenZ simulates one micro-batch (batch // PP sequences) and its KV figure covers only that
    # one; a stage holds the KV of every micro-batch in flight.
    micro_batch = max(workload.batch // pp, 1) if pp > 1 else workload.batch
    weights_mib = float(prefill["summary_table"]["Total Weights (MB)"].values[0])
    # Per sequence, times every sequence in flight (a batch PP does not divide has a last,
    # larger micro-batch: 5 sequences in 2 stages are 2 + 3, not 2 x 2).
    kv_mib = float(decode["summary_table"]["KV Cache (MB)"].values[0]) * (
        workload.batch / micro_batch
    )
    genz_weight_bytes = int(round(weights_mib * tp * _MIB))
    width = GENZ_BYTES_PER_VALUE[workload.bits]
    gap = weight_gap(model, genz_weight_bytes / width, genz_kwargs=genz.config_vars(config))
    from .manager import utc_now

    return {
        "model_id": model["model_id"],
        "config_hash": model.get("config_hash") or "",
        "system": system.name,
        "tensor_parallel": tp,
        "pipeline_parallel": pp,
        "num_devices": tp * pp,
        "bits": workload.bits,
        "batch_size": workload.batch,
        "input_tokens": workload.input_tokens,
        "output_tokens": workload.output_tokens,
        "prefill_latency_ms": prefill_ms,
        "prefill_throughput_tokens_per_s": (
            1000.0 * workload.batch * workload.input_tokens / prefill_ms
        ),
        "decode_latency_ms": decode_ms,
        "decode_throughput_tokens_per_s": float(decode["Throughput"]),
        "end_to_end_latency_ms": prefill_ms + workload.output_tokens * decode_ms,
        "memory_per_device_bytes": per_device,
        "device_memory_bytes": system.memory_bytes,
        "fits": per_device <= system.memory_bytes,
        "exact_weight_bytes": exact["weight_bytes"],
        "exact_kv_cache_bytes": exact["kv_cache_bytes"],
        "genz_weight_bytes": genz_weight_bytes,
        "genz_weight_bytes_per_device": int(round(weights_mib / pp * _MIB)),
        "genz_kv_cache_bytes": int(round(kv_mib * tp * _MIB)),
        "genz_kv_cache_bytes_per_device": int(round(kv_mib / pp * _MIB)),
        "weight_difference_pct": gap["difference_pct"],
        "difference_causes": gap["causes"],
        "genz_adjustments": adjustments,
        "genz_version": genz_version(),
        "created_at": utc_now(),
    }


def _store(manager: Any, model: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """Write one row, dropping the model's stale rows in the same transaction."""
    from .db import write_transaction

    values = {
        **row,
        "fits": int(bool(row["fits"])),
        "difference_causes": json.dumps(row["difference_causes"]),
        "genz_adjustments": json.dumps(row["genz_adjustments"]),
    }
    columns = ", ".join(SIMULATION_COLUMNS)
    marks = ", ".join("?" * len(SIMULATION_COLUMNS))
    with write_transaction(manager.db):
        manager.db.execute(
            "DELETE FROM simulations WHERE model_id = ? AND (config_hash != ? OR genz_version != ?)",
            [model["model_id"], row["config_hash"], row["genz_version"]],
        )
        manager.db.execute(
            f"INSERT OR REPLACE INTO simulations ({columns}) VALUES ({marks})",
            [values[c] for c in SIMULATION_COLUMNS],
        )
    return row


def clear_simulations(manager: Any, model_id: str | None = None, stale_only: bool = False) -> int:
    """Delete stored simulations (of every model, or of one); returns how many.

    ``stale_only``: only rows that are no longer current (the model's config hash changed, the
    model is gone or soft-deleted, or another GenZ version made them).
    """
    from .db import write_transaction

    where, params = [], []
    if model_id is not None:
        where.append("model_id = ?")
        params.append(manager.require_model(model_id, include_deleted=True)["model_id"])
    if stale_only:
        where.append(
            "(genz_version != ? OR NOT EXISTS (SELECT 1 FROM models m WHERE m.model_id = "
            "simulations.model_id AND m.is_deleted = 0 "
            "AND COALESCE(m.config_hash, '') = simulations.config_hash))"
        )
        params.append(genz_version())
    sql = "DELETE FROM simulations" + (" WHERE " + " AND ".join(where) if where else "")
    with write_transaction(manager.db):
        return manager.db.execute(sql, params).rowcount


def _human_bytes(value: float) -> str:
    return f"{value / _GIB:,.2f} GiB"


def _does_not_fit(
    model: dict[str, Any],
    system: System,
    workload: Workload,
    tp: int,
    pp: int,
    exact: dict[str, int],
    per_device: int,
    genz_weight_bytes: int | None,
    *,
    verify: bool = False,
    genz_refusal: GenZCapacityError | None = None,
    catalog_option: str = "",
    refused: frozenset[tuple[int, int]] = frozenset(),
) -> DoesNotFitError:
    """The error for a deployment that does not fit, naming the smallest one that does.

    The memory model (:func:`devices_needed`) names the smallest deployment the exact figures
    and GenZ's capacity check, as the catalog models it, allow. GenZ's real check can refuse
    that too (Mistral 7B on TPUv5e, 64 x 8,192 tokens: the exact figures fit 4 devices, GenZ
    counts more KV cache per device and accepts 8), so with ``verify`` GenZ is run on the named
    deployment, and on the next, until it accepts one. ``refused``: deployments GenZ already
    refused, never named. ``catalog_option`` (``--db PATH ``) goes into the command it prints.
    """
    model_id = model["model_id"]
    devices = tp * pp
    if genz_weight_bytes is None:
        why = (
            f"its exact weights ({_human_bytes(exact['weight_bytes'])}) and KV cache "
            f"({_human_bytes(exact['kv_cache_bytes'])}) need {_human_bytes(per_device)} per "
            f"device, {system.name} has {_human_bytes(system.memory_bytes)}"
        )
    else:
        weights = (
            f"its weights in all are {_human_bytes(genz_weight_bytes)}, the exact ones "
            f"{_human_bytes(exact['weight_bytes'])}"
        )
        figures = genz_refusal.figures if genz_refusal is not None else None
        if figures is None:
            why = (
                f"GenZ refuses it ({genz_refusal or 'weights and KV cache do not fit'}); {weights}"
            )
        else:
            # GenZ's own terms: one tensor-parallel share (a KV cache of fewer heads than the
            # tensor degree is not split) against the memory of the pipeline's devices.
            memory, share_weights, share_kv = figures
            why = (
                f"GenZ's own figures per tensor-parallel share (weights "
                f"{_human_bytes(share_weights)}, KV cache {_human_bytes(share_kv)}) exceed "
                f"{pp} x {_human_bytes(memory)}; {weights}"
            )
    # After a GenZ refusal, GenZ itself is the judge: never name a deployment it refused (one
    # of fewer devices but another shape may still pass: Mistral 7B on TPUv5e at 64 x 8,192
    # tokens, refused as 4 x 1, runs as 1 x 3).
    if genz_weight_bytes is not None:
        refused = refused | {(tp, pp)}
    found = devices_needed(
        model, system, workload, 1.0, genz_weight_bytes=genz_weight_bytes, skip=refused
    )
    if verify and found is not None:
        found = _accepted_by_genz(model, system, workload, exact, found, refused)
    where = f"{devices} {system.name}{'' if devices == 1 else ' devices'}"
    head = f"{model_id} does not fit on {where} at {workload.bits}: {why}"
    if found is None:
        return DoesNotFitError(
            f"{head}; it does not fit on up to {_most_devices(model)} {system.name} devices "
            "either (try a lower precision, a shorter context or a smaller batch)",
            system=system.name,
            devices=None,
        )
    need_tp, need_pp = found
    command = (
        f"genz-catalog {catalog_option}simulate {model_id} --system {system.name} "
        f"--bits {workload.bits} "
        f"--batch {workload.batch} --input-tokens {workload.input_tokens} "
        f"--output-tokens {workload.output_tokens} --tensor-parallel {need_tp} "
        f"--pipeline-parallel {need_pp}"
    )
    return DoesNotFitError(
        f"{head}; it needs {need_tp * need_pp} devices (tensor parallel {need_tp} x pipeline "
        f"parallel {need_pp}): {command}",
        system=system.name,
        devices=need_tp * need_pp,
        tensor_parallel=need_tp,
        pipeline_parallel=need_pp,
    )


def _accepted_by_genz(
    model: dict[str, Any],
    system: System,
    workload: Workload,
    exact: dict[str, int],
    found: tuple[int, int] | None,
    refused: frozenset[tuple[int, int]] = frozenset(),
) -> tuple[int, int] | None:
    """From ``found`` on, the first deployment GenZ simulates without refusing it (None when
    it refuses every one up to the largest, or fails otherwise); nothing is stored. Each
    refusal names the next deployment, never one refused before, so the walk ends."""
    while found is not None:
        tp, pp = found
        per_device = exact_per_device(model, exact, tp, pp)
        try:
            _run(model, system, workload, tp, pp, exact, per_device, refused=refused)
        except DoesNotFitError as refusal:
            refused = refused | {found}
            if refusal.devices is None:
                return None
            found = (int(refusal.tensor_parallel or 1), int(refusal.pipeline_parallel or 1))
            continue
        except SimulationError:
            return None
        return found
    return None


# ------------------------------------------------------------------------------ plan

#: Columns of a plan, in the order the CLI prints them.
PLAN_COLUMNS = (
    "system",
    "num_devices",
    "tensor_parallel",
    "pipeline_parallel",
    "prefill_latency_ms",
    "decode_latency_ms",
    "decode_throughput_tokens_per_s",
    "memory_per_device_bytes",
    "device_memory_bytes",
    "exact_weight_bytes",
    "exact_kv_cache_bytes",
    "genz_weight_bytes",
    "weight_difference_pct",
    "difference_causes",
    "note",
)


def plan(
    manager: Any,
    model_id: str,
    systems: Iterable[str] | None = None,
    *,
    workload: Workload | None = None,
    memory_fraction: float = DEFAULT_MEMORY_FRACTION,
    refresh: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """The cheapest deployment of ``model_id`` on each system (default: every GenZ system).

    For each system: the fewest devices, as tensor x pipeline parallel, whose exact weights +
    KV cache fit in ``memory_fraction`` of each device; every such deployment of that many
    devices is simulated with GenZ (stored in ``simulations``; a current stored row is reused
    unless ``refresh``) and the fastest decode is kept. When GenZ's own memory check refuses
    them, the next ones it accepts are simulated and ``note`` says so. Systems where nothing
    fits come last with ``num_devices`` None and a note. Sorted cheapest first: fewest
    devices, then the highest decode throughput. ``progress(system)`` is called after each
    system. Without ``workload``, :func:`workload_for` the model; a workload longer than the
    model's context is refused (:class:`BeyondContextError`).
    """
    if workload is not None:
        workload.check()
    if not 0 < memory_fraction <= 1:
        raise InvalidInputError(f"memory fraction must be in (0, 1], got {memory_fraction}")
    known = genz_systems()
    names = list(systems) if systems else list(known)
    for name in names:
        require_system(name)
    model = manager.require_model(model_id)
    workload = workload or workload_for(model)
    require_within_context(model, workload)
    reason = unsupported_reason(model)
    if reason:
        raise SimulationError(f"GenZ cannot simulate {model['model_id']}: {reason}")
    deployments = []
    for name in names:
        deployments.append(
            _plan_system(manager, model, known[name], workload, memory_fraction, refresh)
        )
        if progress is not None:
            progress(name)
    deployments.sort(
        key=lambda d: (
            d["num_devices"] is None,
            d["num_devices"] or 0,
            -(d.get("decode_throughput_tokens_per_s") or 0.0),
            d["system"],
        )
    )
    return deployments


def _plan_system(
    manager: Any,
    model: dict[str, Any],
    system: System,
    workload: Workload,
    memory_fraction: float,
    refresh: bool,
) -> dict[str, Any]:
    exact = exact_memory(model, workload)
    usable = system.memory_bytes * memory_fraction
    fitting = [
        (tp, pp)
        for tp, pp in candidate_degrees(model)
        if exact_per_device(model, exact, tp, pp) <= usable
    ]
    base = {
        "model_id": model["model_id"],
        "system": system.name,
        "device_memory_bytes": system.memory_bytes,
        "exact_weight_bytes": exact["weight_bytes"],
        "exact_kv_cache_bytes": exact["kv_cache_bytes"],
        "bits": workload.bits,
        "batch_size": workload.batch,
        "input_tokens": workload.input_tokens,
        "output_tokens": workload.output_tokens,
    }
    if not fitting:
        return {
            **base,
            "num_devices": None,
            "tensor_parallel": None,
            "pipeline_parallel": None,
            "note": f"does not fit on up to {_most_devices(model)} devices",
        }
    fewest = fitting[0][0] * fitting[0][1]
    last_error: DoesNotFitError | None = None
    while fitting:
        # Every deployment of the fewest devices left is simulated; the fastest decode wins
        # (8 x 1 and 1 x 8 hold the same memory, but not the same speed).
        devices = fitting[0][0] * fitting[0][1]
        group = [d for d in fitting if d[0] * d[1] == devices]
        fitting = fitting[len(group) :]
        rows = []
        for tp, pp in group:
            try:
                rows.append(
                    _simulate(
                        manager,
                        model["model_id"],
                        system.name,
                        workload=workload,
                        tensor_parallel=tp,
                        pipeline_parallel=pp,
                        refresh=refresh,
                        verify_hint=False,
                    )
                )
            except DoesNotFitError as exc:
                last_error = exc
        if rows:
            best = max(rows, key=lambda row: row.get("decode_throughput_tokens_per_s") or 0.0)
            note = ""
            if devices != fewest:
                note = (
                    f"exact figures fit on {fewest} device{'' if fewest == 1 else 's'}; GenZ's "
                    f"own memory check (its weights and KV cache) needs {devices}"
                )
            return {**base, **best, "note": note}
        # GenZ refused them all: its own check, as the catalog models it, names the smallest
        # deployment beyond these that it accepts; go straight there.
        if last_error is None or last_error.devices is None:
            break
        fitting = [d for d in fitting if d[0] * d[1] >= last_error.devices]
    return {
        **base,
        "num_devices": None,
        "tensor_parallel": None,
        "pipeline_parallel": None,
        "note": str(last_error) if last_error else "GenZ refused every deployment tried",
    }
