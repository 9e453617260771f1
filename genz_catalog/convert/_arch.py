"""The intermediate description every family handler fills, and its conversion to a record.

A handler reads a config, counts parameters exactly, and returns an :class:`Architecture`. This
module turns it into the catalog record (:class:`~genz_catalog.record.ModelRecord`): the
contract fields, the ``memory`` dict that :mod:`genz_catalog.memory` consumes, and GenZ
``ModelConfig`` keyword arguments.
"""

from __future__ import annotations

from typing import Any

from genz_catalog.record import ModelRecord

# Keyword arguments GenZ 0.0.16 ``ModelConfig.__init__`` knows; it silently drops any other.
GENZ_KNOWN_KWARGS = frozenset(
    (
        "model",
        "vocab_size",
        "max_model_len",
        "hidden_size",
        "intermediate_size",
        "num_ffi",
        "num_encoder_layers",
        "num_decoder_layers",
        "num_attention_heads",
        "head_dim",
        "num_key_value_heads",
        "hidden_act",
        "sliding_window",
        "ffn_implementation",
        "moe_layer_freq",
        "num_experts",
        "expert_top_k",
        "moe_intermediate_size",
        "n_shared_experts",
        "shared_expert_intermediate_size",
        "first_k_dense_replace",
        "mamba_d_state",
        "mamba_d_conv",
        "mamba_expand",
        "mamba_dt_rank",
        "mamba_conv_bias",
        "mamba_proj_bias",
        "mamba_layer_period",
        "attn_layer_offset",
        "attn_layer_period",
        "expert_layer_offset",
        "expert_layer_period",
    )
)

GATED_ACTIVATIONS = frozenset(("silu", "swiglu", "swish", "geglu"))


class Architecture:
    """What a family handler found out about one model; plain attributes, filled by handlers."""

    __slots__ = (
        "family",
        "model_type",
        "attention_type",
        "parameter_count",
        "active_parameter_count",
        "text_parameter_count",
        "mtp_parameter_count",
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
        "kv_groups",
        "ssm",
        "genz_kwargs",
        "genz_unsupported",
        "warnings",
        "extra",
        "cross_attention_values_per_source_token",
    )

    def __init__(self, family: str) -> None:
        self.family = family
        self.model_type = "decoder-only"
        self.attention_type = "mha"
        self.parameter_count = 0
        self.active_parameter_count: int | None = None
        self.text_parameter_count: int | None = None
        # Multi-token-prediction modules the checkpoint ships beyond the model transformers loads.
        self.mtp_parameter_count: int | None = None
        self.num_layers: int | None = None
        self.hidden_size: int | None = None
        self.intermediate_size: int | None = None
        self.num_attention_heads: int | None = None
        self.num_key_value_heads: int | None = None
        self.head_dim: int | None = None
        self.num_experts: int | None = None
        self.experts_per_token: int | None = None
        self.context_length: int | None = None
        self.vocab_size: int | None = None
        # KV cache: {(values_per_token_per_layer, window or None): number_of_layers}
        self.kv_groups: dict[tuple[int, int | None], int] = {}
        # SSM state per layer: {"layers", "conv_state_values", "ssm_state_values"}
        self.ssm: dict[str, int] | None = None
        self.genz_kwargs: dict[str, Any] = {}
        self.genz_unsupported: str | None = None
        self.warnings: list[str] = []
        self.extra: dict[str, Any] = {}
        self.cross_attention_values_per_source_token = 0

    def add_kv_layers(self, count: int, values_per_token: int, window: int | None = None) -> None:
        """Record ``count`` layers caching ``values_per_token`` K+V values each (window in tokens)."""
        if count <= 0 or values_per_token <= 0:
            return
        key = (values_per_token, window)
        self.kv_groups[key] = self.kv_groups.get(key, 0) + count


def attention_type_for(num_attention_heads: int, num_key_value_heads: int) -> str:
    """``mha`` when every head has its own K/V, ``mqa`` for one shared K/V head, else ``gqa``."""
    if num_key_value_heads >= num_attention_heads:
        return "mha"
    if num_key_value_heads == 1:
        return "mqa"
    return "gqa"


def to_record(arch: Architecture, model_id: str | None) -> ModelRecord:
    """The catalog record of ``arch`` (:class:`~genz_catalog.record.ModelRecord`); its
    ``count_basis`` is ``formula`` (this converter's arithmetic)."""
    kv_layers = [
        {"count": count, "values_per_token": values, "window": window}
        for (values, window), count in sorted(
            arch.kv_groups.items(),
            key=lambda item: (item[0][1] is not None, item[0][1] or 0, item[0][0]),
        )
    ]
    kv_values_per_token = 0
    for (values, _window), count in arch.kv_groups.items():
        kv_values_per_token += values * count
    memory: dict[str, Any] = {
        "kv_values_per_token": kv_values_per_token,
        "kv_layers": kv_layers,
        "ssm": dict(arch.ssm) if arch.ssm else None,
    }
    if arch.cross_attention_values_per_source_token:
        memory["cross_attention_values_per_source_token"] = (
            arch.cross_attention_values_per_source_token
        )

    genz_kwargs = {
        key: value for key, value in arch.genz_kwargs.items() if key in GENZ_KNOWN_KWARGS
    }
    genz_kwargs["model"] = model_id or arch.family
    active = arch.active_parameter_count
    return ModelRecord(
        model_id=model_id,
        family=arch.family,
        model_type=arch.model_type,
        attention_type=arch.attention_type,
        is_moe=bool(arch.num_experts and arch.num_experts > 1),
        parameter_count=arch.parameter_count,
        active_parameter_count=arch.parameter_count if active is None else active,
        text_parameter_count=arch.text_parameter_count,
        mtp_parameter_count=arch.mtp_parameter_count,
        count_basis="formula",
        num_layers=arch.num_layers,
        hidden_size=arch.hidden_size,
        intermediate_size=arch.intermediate_size,
        num_attention_heads=arch.num_attention_heads,
        num_key_value_heads=arch.num_key_value_heads,
        head_dim=arch.head_dim,
        num_experts=arch.num_experts,
        experts_per_token=arch.experts_per_token,
        context_length=arch.context_length,
        vocab_size=arch.vocab_size,
        kv_values_per_token=kv_values_per_token,
        memory=memory,
        genz_kwargs=genz_kwargs,
        genz_unsupported=arch.genz_unsupported,
        warnings=list(arch.warnings),
        architecture=dict(arch.extra) if arch.extra else None,
    )
