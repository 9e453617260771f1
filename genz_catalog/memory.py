"""Weight, KV-cache and state memory of a converted model. Pure functions, no I/O.

Every function takes a converted record (see :mod:`genz_catalog.convert`) or any dict with at
least ``memory`` and ``parameter_count`` (the catalog stores them as ``memory_json`` and
``parameter_count`` columns). All results are in bytes.

KV cache: each entry of ``memory["kv_layers"]`` is ``{"count", "values_per_token", "window"}``:
``count`` layers each cache ``values_per_token`` values (K and V heads x head_dim, or the MLA
latent ``kv_lora_rank + qk_rope_head_dim``) per token, for at most ``window`` tokens when the
layer uses a sliding window (``None``: every token). State-space layers keep a fixed state per
sequence: ``memory["ssm"] = {"layers", "conv_state_values", "ssm_state_values"}`` (per layer).
"""

from __future__ import annotations

from math import ceil
from typing import Any

__all__ = [
    "BYTES_PER_VALUE",
    "bytes_per_value",
    "kv_cache_bytes",
    "kv_cache_bytes_per_token",
    "memory_report",
    "state_bytes",
    "weight_bytes",
]

# Storage width of one value, in bytes.
BYTES_PER_VALUE: dict[str, float] = {
    "fp32": 4.0,
    "float32": 4.0,
    "bf16": 2.0,
    "bfloat16": 2.0,
    "fp16": 2.0,
    "float16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
}

DEFAULT_SEQ_LEN = 4096  # tokens, used by memory_report when no sequence length is given


def bytes_per_value(dtype: str) -> float:
    """Bytes per stored value for ``dtype`` (e.g. 2.0 for ``"bf16"``, 0.5 for ``"int4"``).

    Raises ValueError naming the valid dtypes for anything else.
    """
    try:
        return BYTES_PER_VALUE[dtype.lower()] if isinstance(dtype, str) else BYTES_PER_VALUE[dtype]
    except (KeyError, TypeError):
        valid = ", ".join(BYTES_PER_VALUE)
        raise ValueError(f"unknown dtype {dtype!r}; valid dtypes: {valid}") from None


def _memory(record: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise ValueError("expected a record dict with 'memory' and 'parameter_count'")
    memory = record.get("memory")
    if memory is None and "kv_layers" in record:
        memory = record  # the memory sub-dict itself
    if not isinstance(memory, dict):
        raise ValueError("record has no 'memory' dict (convert the config first)")
    if memory.get("unknown"):
        # A count from transformers or the Hub (no converter handler): no cache layout is known.
        raise ValueError(str(memory["unknown"]))
    return memory


def _non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def weight_bytes(record_or_param_count: dict[str, Any] | int, dtype: str = "bf16") -> int:
    """Bytes to hold every parameter in ``dtype`` (rounded up to a whole byte).

    Accepts a record (uses ``parameter_count``) or a parameter count.
    """
    width = bytes_per_value(dtype)
    if isinstance(record_or_param_count, dict):
        count = record_or_param_count.get("parameter_count")
    else:
        count = record_or_param_count
    count = _non_negative_int("parameter_count", count)
    return ceil(count * width)


def _cached_values_per_sequence(memory: dict[str, Any], seq_len: int) -> int:
    """K/V values a sequence of ``seq_len`` tokens keeps in cache, over all layers."""
    total = 0
    for group in memory.get("kv_layers") or ():
        window = group.get("window")
        tokens = seq_len if window is None else min(seq_len, window)
        total += group["count"] * group["values_per_token"] * tokens
    total += (memory.get("cross_attention_values_per_source_token") or 0) * seq_len
    return total


def kv_cache_bytes_per_token(
    record: dict[str, Any], dtype: str = "bf16", seq_len: int | None = None
) -> float:
    """KV-cache bytes per token of context.

    ``seq_len=None``: every layer at full attention (the marginal cost of a token while the
    context is shorter than every sliding window). With ``seq_len``, sliding-window layers
    hold at most their window, so this is the cache for ``seq_len`` tokens divided by ``seq_len``.
    """
    memory = _memory(record)
    width = bytes_per_value(dtype)
    if seq_len is None:
        values = memory.get("kv_values_per_token")
        if values is None:
            values = sum(
                group["count"] * group["values_per_token"]
                for group in memory.get("kv_layers") or ()
            )
        values += memory.get("cross_attention_values_per_source_token") or 0
        return values * width
    seq_len = _non_negative_int("seq_len", seq_len)
    if seq_len == 0:
        return 0.0
    return _cached_values_per_sequence(memory, seq_len) * width / seq_len


def kv_cache_bytes(record: dict[str, Any], batch: int, seq_len: int, dtype: str = "bf16") -> int:
    """KV-cache bytes for ``batch`` sequences of ``seq_len`` tokens (sliding windows capped)."""
    memory = _memory(record)
    width = bytes_per_value(dtype)
    batch = _non_negative_int("batch", batch)
    seq_len = _non_negative_int("seq_len", seq_len)
    return ceil(batch * _cached_values_per_sequence(memory, seq_len) * width)


def state_bytes(record: dict[str, Any], batch: int = 1, dtype: str = "bf16") -> int:
    """State-space bytes (convolution + SSM state) for ``batch`` sequences; independent of length."""
    memory = _memory(record)
    width = bytes_per_value(dtype)
    batch = _non_negative_int("batch", batch)
    ssm = memory.get("ssm")
    if not ssm:
        return 0
    per_sequence = ssm["layers"] * (ssm["conv_state_values"] + ssm["ssm_state_values"])
    return ceil(batch * per_sequence * width)


def memory_report(
    record: dict[str, Any], batch: int = 1, seq_len: int = DEFAULT_SEQ_LEN, dtype: str = "bf16"
) -> dict[str, Any]:
    """Weights, KV cache and state for ``batch`` sequences of ``seq_len`` tokens, in bytes.

    Returns ``{"dtype", "batch", "seq_len", "weight_bytes", "kv_cache_bytes", "state_bytes",
    "total_bytes"}``; the cache and state use ``dtype`` too.
    """
    weights = weight_bytes(record, dtype)
    kv_cache = kv_cache_bytes(record, batch, seq_len, dtype)
    state = state_bytes(record, batch, dtype)
    return {
        "dtype": dtype,
        "batch": batch,
        "seq_len": seq_len,
        "weight_bytes": weights,
        "kv_cache_bytes": kv_cache,
        "state_bytes": state,
        "total_bytes": weights + kv_cache + state,
    }
