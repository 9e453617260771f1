"""Running GenZ's own prefill and decode on a catalog model, with its config rebuilt so that
GenZ 0.0.16 simulates the real weights (see :func:`simulation_kwargs`)."""

from __future__ import annotations

import re
import warnings
from typing import Any

from GenZ.Models.default_models import ModelConfig


def run_prefill_and_decode(
    config: ModelConfig, *, input_tokens: int, output_tokens: int, **common: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """GenZ's own prefill then decode of one ``ModelConfig``; returns GenZ's two result dicts.

    ``common`` is passed to both (``batch_size``, ``system_name``, ``bits``,
    ``tensor_parallel``, ``pipeline_parallel``). Decode uses ``Bb=1``, plain sampling: GenZ's
    default of 4 simulates 4-beam search, with 4x the KV cache. GenZ's chatty warnings are muted.
    GenZ's refusal for capacity ("All params would not fit on chip ...") is raised as
    :class:`GenZCapacityError` (a ``ValueError``, so existing handlers still catch it).
    """
    from GenZ import decode_moddeling, prefill_moddeling

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prefill = prefill_moddeling(model=config, input_tokens=input_tokens, **common)
            decode = decode_moddeling(
                model=config,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                Bb=1,
                **common,
            )
        except ValueError as exc:
            if GENZ_CAPACITY_MESSAGE in str(exc):
                raise GenZCapacityError(one_line(exc)) from None
            raise
    return prefill, decode


#: The phrase GenZ's prefill and decode raise (``ValueError``) when weights + KV cache exceed the
#: devices' memory; :func:`run_prefill_and_decode` turns it into :class:`GenZCapacityError`.
GENZ_CAPACITY_MESSAGE = "All params would not fit on chip"


#: The figures of that refusal: "System Memory Cap:16.0 GB , Weights : 1.4375 GB, KV
#: Cache:36.0", for one tensor-parallel share, in GenZ's binary GB (2**30 bytes).
_CAPACITY_FIGURES = re.compile(
    r"Memory Cap:\s*(\d+(?:\.\d+)?)\s*GB\s*,\s*Weights\s*:\s*(\d+(?:\.\d+)?)\s*GB\s*,"
    r"\s*KV Cache:\s*(\d+(?:\.\d+)?)"
)


class GenZCapacityError(ValueError):
    """GenZ refused a deployment because its own weights + KV figure exceeds device memory.

    ``figures``: GenZ's ``(device memory, weights, KV cache)`` in bytes for one
    tensor-parallel share, read from its message; None when the message does not give them.
    """

    def __init__(self, message: str):
        super().__init__(message)
        found = _CAPACITY_FIGURES.search(message)
        self.figures: tuple[float, float, float] | None = None
        if found:
            memory, weights, kv_cache = (float(f) * 2**30 for f in found.groups())
            self.figures = (memory, weights, kv_cache)


def simulation_kwargs(
    kwargs: dict[str, Any], dense_intermediate_size: int | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The stored GenZ keyword arguments, rebuilt so GenZ 0.0.16 simulates the real weights.

    Returns ``(kwargs, adjustments)``; ``adjustments`` says in words what was changed (empty when
    nothing was). GenZ's prefill and decode builders use only its default FFN, in which every
    MoE layer has ``num_experts`` experts of ``intermediate_size`` and ``expert_top_k`` of them
    work per token: ``n_shared_experts`` and ``shared_expert_intermediate_size`` are read by
    the chunked builder's DeepSeek FFN alone, so shared experts vanish from prefill and decode
    (Qwen1.5-MoE -6%, Qwen2-57B-A14B -11% of the weights). A shared expert as wide as ``k``
    routed experts is exactly ``k`` more experts that every token uses: ``k`` more experts and
    ``k`` more per token give the same weights, the same FLOPs per token (prefill spreads
    ``tokens x top_k`` over the experts) and the same decode traffic; only the router grows by
    ``k x hidden_size`` values per layer (<0.01% of the model). A shared width that is not a
    whole number of expert widths is left alone (and stays a named difference).

    Dense layers of a MoE model (``first_k_dense_replace``, DeepSeek's first 1-3 layers of
    width ``dense_intermediate_size``): GenZ builds one layer type, so it simulated them as MoE
    layers (DeepSeek-R1 +33B parameters). Measured in expert widths, a dense layer is
    ``dense / expert`` experts that every token uses; spreading them over all layers gives one
    average layer of ``round((moe_layers x experts + dense_layers x dense/expert) / layers)``
    experts, with the per-token count averaged the same way. For DeepSeek-V3/R1 that is 245
    experts, 9 per token, in each of 61 layers: the weights within 0.1% (rounding), the work
    per token exact (a dense layer of 18,432 = 9 experts of 2,048, as many as a MoE layer's 8
    routed + 1 shared use). Needs ``dense_intermediate_size`` (the record's
    ``intermediate_size``; the stored arguments hold the expert width there).

    Tied embeddings cannot be told to GenZ: ``ModelConfig`` has no such argument, and halving
    ``vocab_size`` would make prefill's weights right but halve the LM head that decode (which
    models no input embedding) reads per token, so it is not done.
    """
    kwargs = dict(kwargs)
    adjustments: list[str] = []
    experts = int(kwargs.get("num_experts") or 1)
    shared = int(kwargs.get("n_shared_experts") or 0)
    expert_width = int(kwargs.get("intermediate_size") or 0)
    if experts > 1 and shared and expert_width:
        shared_width = shared * int(kwargs.get("shared_expert_intermediate_size") or expert_width)
        if shared_width % expert_width == 0:
            extra = shared_width // expert_width
            kwargs["num_experts"] = experts + extra
            kwargs["expert_top_k"] = int(kwargs.get("expert_top_k") or 1) + extra
            kwargs["n_shared_experts"] = 0
            kwargs["ffn_implementation"] = "default"
            adjustments.append(
                f"shared experts ({shared_width:,} wide) simulated as {extra} more routed "
                f"expert{'s' if extra != 1 else ''} of {expert_width:,} that every token uses"
            )
    first_dense = int(kwargs.get("first_k_dense_replace") or 0)
    layers = int(kwargs.get("num_decoder_layers") or 0)
    experts = int(kwargs.get("num_experts") or 1)
    if experts > 1 and expert_width and dense_intermediate_size and 0 < first_dense < layers:
        dense_units = dense_intermediate_size / expert_width
        moe_layers = layers - first_dense
        top_k = int(kwargs.get("expert_top_k") or 1)
        average = round((moe_layers * experts + first_dense * dense_units) / layers)
        per_token = round((moe_layers * top_k + first_dense * dense_units) / layers)
        kwargs["num_experts"] = average
        kwargs["expert_top_k"] = max(1, min(per_token, average))
        kwargs["first_k_dense_replace"] = None
        adjustments.append(
            f"{first_dense} dense layer{'s' if first_dense != 1 else ''} "
            f"({dense_intermediate_size:,} wide) and {moe_layers} MoE layers ({experts} experts "
            f"of {expert_width:,}, {top_k} per token) simulated as {layers} layers of "
            f"{average} experts, {kwargs['expert_top_k']} per token"
        )
    return kwargs, adjustments


def simulation_config(
    kwargs: dict[str, Any], model_id: str, dense_intermediate_size: int | None = None
) -> tuple[ModelConfig, list[str]]:
    """The ``ModelConfig`` that ``simulate`` and ``plan`` give GenZ for a catalog model, and
    the adjustments made (see :func:`simulation_kwargs`).

    Raises :class:`ValueError` (one line) when GenZ's ``ModelConfig`` rejects the arguments
    or GenZ 0.0.16 cannot build the layout (more than one unique layer type).
    """
    adjusted, adjustments = simulation_kwargs(kwargs, dense_intermediate_size)
    adjusted["model"] = model_id
    try:
        config = ModelConfig(**adjusted)
    except (AssertionError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise ValueError(one_line(exc)) from None
    if config.unique_layers > 1:
        raise ValueError(
            f"GenZ 0.0.16 supports one unique layer type, this model has {config.unique_layers} "
            "(hybrid attention/Mamba/MoE layout)"
        )
    return config, adjustments


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (GenZ's messages span several)."""
    text = " ".join(str(a) for a in exc.args) if exc.args else type(exc).__name__
    return re.sub(r"\s+", " ", text).strip()
