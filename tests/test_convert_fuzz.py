"""Fuzzing: any dict yields a JSON-serialisable record or a ConversionError, never another exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_convert_families import EXTRA_CONFIGS

from genz_catalog.convert import ConversionError, convert_hf_config, supported_families

CONFIGS = [
    json.loads(path.read_text())
    for path in sorted((Path(__file__).parent / "data" / "hf-configs").glob("*/config.json"))
] + [extra.config for extra in EXTRA_CONFIGS]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# Small positive ints are the values most likely to reach deep arithmetic.
dimension_like = st.one_of(st.integers(min_value=0, max_value=64), json_values)


def check(config: Any) -> None:
    try:
        record = convert_hf_config(config)
    except ConversionError:
        return
    assert isinstance(record["parameter_count"], int)
    assert 0 <= record["active_parameter_count"] <= record["parameter_count"]
    assert record["kv_values_per_token"] >= 0
    json.dumps(record, allow_nan=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=20), json_values, max_size=10))
def test_arbitrary_dicts(config: dict[str, Any]) -> None:
    check(config)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(supported_families()),
    st.dictionaries(
        st.sampled_from(
            [
                "hidden_size",
                "num_hidden_layers",
                "num_attention_heads",
                "num_key_value_heads",
                "vocab_size",
                "intermediate_size",
                "head_dim",
                "n_embd",
                "n_layer",
                "n_head",
                "d_model",
                "n_heads",
                "n_layers",
                "num_local_experts",
                "num_experts",
                "num_experts_per_tok",
                "moe_intermediate_size",
                "kv_lora_rank",
                "q_lora_rank",
                "qk_rope_head_dim",
                "qk_nope_head_dim",
                "v_head_dim",
                "n_routed_experts",
                "state_size",
                "conv_kernel",
                "expand",
                "num_heads",
                "d_kv",
                "d_ff",
                "num_layers",
                "layer_types",
                "sliding_window",
                "text_config",
                "vision_config",
                "attn_config",
                "ffn_config",
                "attn_layer_period",
                "expert_layer_period",
                "time_step_rank",
                "tie_word_embeddings",
                "max_position_embeddings",
                "ffn_dim",
                "decoder_sparse_step",
                "mlp_only_layers",
                "first_k_dense_replace",
                "moe_layer_freq",
            ]
        ),
        dimension_like,
        max_size=16,
    ),
)
def test_known_families_with_fuzzed_keys(family: str, values: dict[str, Any]) -> None:
    check({"model_type": family, **values})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(CONFIGS))), st.data())
def test_real_configs_with_one_key_broken(index: int, data: st.DataObject) -> None:
    config = dict(CONFIGS[index])
    key = data.draw(st.sampled_from(sorted(config)))
    if data.draw(st.booleans()):
        del config[key]
    else:
        config[key] = data.draw(dimension_like)
    check(config)
