"""Exact counts for families the converter has no handler for (the optional ``exact`` extra).

transformers knows hundreds of families; the converter has exact formulas for fewer. With the
``exact`` extra installed (``pip install 'genz-catalog[exact]'``: torch + transformers), a family
the converter refuses can still be counted exactly: transformers builds its own model class for
the config on PyTorch's ``meta`` device (shapes only, no memory, no weights downloaded) and the
parameters are summed. The record says so: ``count_basis = 'transformers-meta'``.

Never imported unless asked for: ``genz-catalog import --exact``, ``GENZ_CATALOG_EXACT=1``, or
:func:`enable_exact_counts` from Python. Only the parameter count and the dimensions transformers'
own config object reports are stored; the KV cache, the active parameters of a mixture of
experts and a GenZ configuration stay unknown (not guessed), so memory and simulation refuse.

Also here: :func:`hub_safetensors_record`, the record for a refused family whose Hub repository
publishes a safetensors parameter total (``count_basis = 'hub-safetensors'``).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from typing import Any

from genz_catalog.convert import (
    EXACT_ENV_VAR,
    ConversionError,
    UnhandledFamilyError,
    set_unhandled_family_counter,
)
from genz_catalog.record import ModelRecord

# Keys that are no constructor arguments of a transformers config (or must not reach one).
_NOT_CONFIG_ARGUMENTS = (
    "model_type",
    "architectures",
    "transformers_version",
    "auto_map",
    "torch_dtype",
    "dtype",
    "_name_or_path",
    "quantization_config",
)
_NO_GENZ = "no converter handler for this family: GenZ cannot simulate it from the catalog"
_UNKNOWN_MEMORY = "the KV cache of a family without a converter handler is unknown"


def exact_counts_unavailable() -> str | None:
    """Why exact counts cannot run here (the extra is not installed), or ``None`` when they can."""
    missing = [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
    if missing:
        return f"exact counts need {' and '.join(missing)}: pip install 'genz-catalog[exact]'"
    return None


def enable_exact_counts() -> None:
    """Count families without a handler on the meta device, in this process and its children.

    Raises :class:`ConversionError` when torch or transformers is not installed.
    """
    reason = exact_counts_unavailable()
    if reason is not None:
        raise ConversionError(reason)
    os.environ[EXACT_ENV_VAR] = "1"  # import workers are separate processes
    set_unhandled_family_counter(meta_device_record)


def disable_exact_counts() -> None:
    """Refuse families without a handler again (the default)."""
    os.environ.pop(EXACT_ENV_VAR, None)
    set_unhandled_family_counter(None)


def _model_class(transformers: Any, config: dict[str, Any], hf_config: Any) -> Any:
    """The transformers class a user would load: the one ``architectures`` names when
    transformers has it, else the family's image-text-to-text, causal-LM or seq2seq-LM class."""
    from transformers.models.auto import modeling_auto

    for name in config.get("architectures") or ():
        if isinstance(name, str) and isinstance(getattr(transformers, name, None), type):
            return getattr(transformers, name)
    model_type = hf_config.model_type
    for mapping in (
        modeling_auto.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
    ):
        name = mapping.get(model_type)
        if isinstance(name, str) and hasattr(transformers, name):
            return getattr(transformers, name)
    return None


def count_on_meta_device(config: dict[str, Any]) -> tuple[int, Any, bool]:
    """(unique parameters, transformers config object, has experts) of ``config``'s model class.

    Builds transformers' own class on the meta device (no memory, no download, no remote code).
    Raises :class:`UnhandledFamilyError` when transformers does not know the family or cannot
    build it (the family stays unhandled: a Hub safetensors total may still stand in).
    """
    import torch
    import transformers

    model_type = config.get("model_type")
    kwargs = {key: value for key, value in config.items() if key not in _NOT_CONFIG_ARGUMENTS}
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        try:
            hf_config = transformers.AutoConfig.for_model(model_type, **kwargs)
        except ValueError as error:
            raise UnhandledFamilyError(
                f"{model_type}: transformers {transformers.__version__} does not know this "
                "model_type either (custom code is never run)"
            ) from error
        model_class = _model_class(transformers, config, hf_config)
        if model_class is None:
            raise UnhandledFamilyError(
                f"{model_type}: transformers {transformers.__version__} has no language-model "
                "class for this family"
            )
        try:
            with warnings.catch_warnings(), torch.device("meta"):
                warnings.simplefilter("ignore")
                model = model_class._from_config(hf_config)
        except Exception as error:  # transformers' own code refusing this config
            raise UnhandledFamilyError(
                f"{model_type}: transformers cannot build {model_class.__name__} from this config "
                f"({type(error).__name__}: {str(error)[:120]})"
            ) from error
    finally:
        transformers.logging.set_verbosity(verbosity)
    total = sum(parameter.numel() for parameter in model.parameters())
    experts = any(".experts" in name for name, _ in model.named_parameters())
    return total, hf_config, experts


def _dimensions(hf_config: Any) -> dict[str, int | None]:
    """Dimensions as transformers' own config object reports them (its text model's, if any)."""
    text = hf_config.get_text_config() if hasattr(hf_config, "get_text_config") else hf_config

    def integer(*names: str) -> int | None:
        for name in names:
            value = getattr(text, name, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return None

    return {
        "num_layers": integer("num_hidden_layers"),
        "hidden_size": integer("hidden_size"),
        "num_attention_heads": integer("num_attention_heads"),
        "vocab_size": integer("vocab_size"),
        "context_length": integer("max_position_embeddings"),
    }


def _unhandled_record(
    config: dict[str, Any],
    model_id: str | None,
    parameter_count: int,
    basis: str,
    note: str,
    *,
    dimensions: dict[str, int | None] | None = None,
    is_moe: bool = False,
    encoder_decoder: bool = False,
) -> dict[str, Any]:
    """A record (:class:`~genz_catalog.record.ModelRecord` as a dict) holding only what is known
    exactly; ``dimensions`` name record fields (any other name is a ``TypeError``)."""
    model_type = str(config.get("model_type"))
    record = ModelRecord(
        model_id=model_id,
        family=model_type,
        hf_model_type=model_type,
        model_type="encoder-decoder" if encoder_decoder else "decoder-only",
        is_moe=is_moe,
        parameter_count=parameter_count,
        active_parameter_count=None if is_moe else parameter_count,
        count_basis=basis,
        memory={"unknown": _UNKNOWN_MEMORY},
        genz_unsupported=_NO_GENZ,
        warnings=[note],
        **(dimensions or {}),
    )
    return record.as_dict()


def meta_device_record(
    config: dict[str, Any], model_id: str | None, refusal: UnhandledFamilyError
) -> dict[str, Any]:
    """The record of a refused family, counted by transformers on the meta device.

    Raises :class:`ConversionError` (naming the converter's refusal too) when the extra is not
    installed or transformers cannot count the config either.
    """
    reason = exact_counts_unavailable()
    if reason is not None:
        raise UnhandledFamilyError(f"{refusal}; {reason}") from refusal
    import transformers

    total, hf_config, experts = count_on_meta_device(config)
    return _unhandled_record(
        config,
        model_id,
        total,
        "transformers-meta",
        f"no converter handler: parameter_count counted by transformers "
        f"{transformers.__version__} on the meta device (count_basis transformers-meta); "
        "KV cache, active parameters and GenZ simulation unknown",
        dimensions=_dimensions(hf_config),
        is_moe=experts,
        encoder_decoder=bool(getattr(hf_config, "is_encoder_decoder", False)),
    )


def hub_safetensors_record(
    config: dict[str, Any], model_id: str, hub_parameter_count: int
) -> dict[str, Any] | None:
    """The record of a refused family whose Hub repo publishes a safetensors parameter total.

    ``None`` for a quantized checkpoint (packed or scaled tensors: the stored total is not the
    parameter count). The total is what the checkpoint stores, so it includes any extra
    checkpoint-only weights (multi-token-prediction layers, for example); the warning says so.
    """
    if config.get("quantization_config") or hub_parameter_count <= 0:
        return None
    return _unhandled_record(
        config,
        model_id,
        hub_parameter_count,
        "hub-safetensors",
        "no converter handler: parameter_count is the Hub's safetensors total "
        "(count_basis hub-safetensors: every stored tensor, checkpoint-only layers included); "
        "KV cache, active parameters and GenZ simulation unknown; import --exact counts the "
        "model transformers loads",
        is_moe=_names_experts(config),
    )


def _names_experts(config: dict[str, Any]) -> bool:
    """Whether the config declares more than one expert under any ``*expert*`` count key."""
    for key, value in config.items():
        if "expert" in key and isinstance(value, int) and not isinstance(value, bool):
            if value > 1 and "per_tok" not in key and "top" not in key:
                return True
        if key == "text_config" and isinstance(value, dict) and _names_experts(value):
            return True
    return False
