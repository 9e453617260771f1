"""The converter's ``genz_kwargs`` drive GenZ itself: ModelConfig builds, prefill runs."""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_convert_families import EXTRA_CONFIGS

from genz_catalog.convert import ConversionError, convert_hf_config
from genz_catalog.memory import kv_cache_bytes

GenZModels = pytest.importorskip("GenZ.Models")
llm_inference = pytest.importorskip("GenZ.LLM_inference")

CONFIG_DIR = Path(__file__).parent / "data" / "hf-configs"
SHARED_CONFIGS = sorted(CONFIG_DIR.glob("*/config.json"))
ALL_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    (path.parent.name, json.loads(path.read_text())) for path in SHARED_CONFIGS
] + [(extra.model_id, extra.config) for extra in EXTRA_CONFIGS]
# A small made-up accelerator: big enough memory for every shared model's weights.
SYSTEM = {
    "Flops": 1000,
    "Memory_size": 4_000_000,
    "Memory_BW": 3000,
    "ICN": 300,
    "real_values": True,
}


def record_for(folder: str) -> dict[str, Any]:
    path = CONFIG_DIR / folder / "config.json"
    return convert_hf_config(json.loads(path.read_text()), folder.replace("__", "/", 1))


def test_genz_kwargs_are_all_known_to_model_config() -> None:
    known = set(inspect.signature(GenZModels.ModelConfig.__init__).parameters) - {"self", "kwargs"}
    for name, config in ALL_CONFIGS:
        kwargs = convert_hf_config(config)["genz_kwargs"]
        assert set(kwargs) <= known, (name, set(kwargs) - known)


@pytest.mark.parametrize(("name", "config"), ALL_CONFIGS, ids=[name for name, _ in ALL_CONFIGS])
def test_model_config_constructs(name: str, config: dict[str, Any]) -> None:
    record = convert_hf_config(config, name)
    model = GenZModels.ModelConfig(**record["genz_kwargs"])
    assert model.num_decoder_layers == record["genz_kwargs"]["num_decoder_layers"]
    assert model.hidden_size == record["hidden_size"]
    simulated_like_for_like = (
        record["genz_unsupported"] is None
        and record["attention_type"] != "none"
        and record["model_type"] == "decoder-only"  # encoders keep no KV cache; GenZ assumes one
        and "cross_attention_layers" not in record.get("architecture", {})  # mllama: image KV
    )
    if simulated_like_for_like:
        # GenZ's KV cache per token equals the converter's, MLA included.
        genz_kv = 2 * model.num_key_value_heads * model.head_dim * model.num_decoder_layers
        assert genz_kv == record["kv_values_per_token"]


def _prefill(record: dict[str, Any], tokens: int = 512) -> tuple[Any, Any]:
    model = GenZModels.ModelConfig(**record["genz_kwargs"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return llm_inference.prefill_moddeling(
            model=model,
            batch_size=1,
            input_tokens=tokens,
            system_name=SYSTEM,
            bits="bf16",
            model_profilling=True,
        )


@pytest.mark.parametrize(
    "folder",
    [
        "meta-llama__Llama-3.1-8B",  # dense
        "mistralai__Mixtral-8x7B-v0.1",  # MoE
        "deepseek-ai__DeepSeek-V2-Lite",  # MLA + MoE with shared experts
        "deepseek-ai__DeepSeek-R1",  # MLA, 671B
        "ArthurZ__mamba-2.8b",  # Mamba
    ],
)
def test_prefill_runs_and_kv_cache_matches(folder: str) -> None:
    record = record_for(folder)
    model_df, summary = _prefill(record)
    assert len(model_df) > 0
    kv_column = next(column for column in summary.columns if column.startswith("KV Cache"))
    weights_column = next(
        column for column in summary.columns if column.startswith("Total Weights")
    )
    genz_kv_mib = float(summary[kv_column].values[0])
    genz_weights_mib = float(summary[weights_column].values[0])
    assert genz_weights_mib > 0
    if record["attention_type"] != "none":
        assert genz_kv_mib == pytest.approx(kv_cache_bytes(record, 1, 512) / 2**20)


def test_dense_weights_in_genz_match_parameter_count() -> None:
    record = record_for("meta-llama__Llama-3.1-8B")
    _, summary = _prefill(record)
    weights_column = next(
        column for column in summary.columns if column.startswith("Total Weights")
    )
    genz_params = float(summary[weights_column].values[0]) * 2**20 / 2
    # GenZ omits the norm weights (266,240 here); everything else must agree.
    assert genz_params == pytest.approx(record["parameter_count"], rel=1e-4)


def test_full_prefill_timing_runs_for_dense_moe_mla_and_mamba() -> None:
    for folder in (
        "Qwen__Qwen2.5-3B",
        "ibm-granite__granite-3.1-1b-a400m-instruct",
        "deepseek-ai__DeepSeek-V2-Lite",
        "ArthurZ__mamba-2.8b",
    ):
        model = GenZModels.ModelConfig(**record_for(folder)["genz_kwargs"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = llm_inference.prefill_moddeling(
                model=model, batch_size=1, input_tokens=256, system_name=SYSTEM, bits="bf16"
            )
        assert output["Latency"] > 0, folder


def test_unsupported_architectures_carry_a_reason() -> None:
    for folder in ("ai21labs__Jamba-v0.1", "google-t5__t5-base"):
        record = record_for(folder)
        assert isinstance(record["genz_unsupported"], str) and record["genz_unsupported"]
        GenZModels.ModelConfig(**record["genz_kwargs"])  # still constructs (jamba: 8 unique layers)


def test_mla_record_keeps_the_configs_head_counts() -> None:
    record = record_for("deepseek-ai__DeepSeek-R1")
    assert (record["num_attention_heads"], record["num_key_value_heads"], record["head_dim"]) == (
        128,
        128,
        192,
    )
    assert record["genz_kwargs"]["num_key_value_heads"] == 1


def test_indivisible_moe_period_still_constructs() -> None:
    config = json.loads(
        (CONFIG_DIR / "MaziyarPanahi__Qwen1.5-MoE-A2.7B-Wikihow" / "config.json").read_text()
    )
    config.update(decoder_sparse_step=2, num_hidden_layers=25)
    record = convert_hf_config(config)
    assert "divisible" in record["genz_unsupported"]
    GenZModels.ModelConfig(**record["genz_kwargs"])


_MUTABLE_KEYS = st.sampled_from(
    [
        "num_hidden_layers",
        "num_key_value_heads",
        "decoder_sparse_step",
        "first_k_dense_replace",
        "moe_layer_freq",
        "attn_layer_period",
        "expert_layer_period",
        "attn_layer_offset",
        "expert_layer_offset",
        "num_experts",
        "num_local_experts",
        "n_routed_experts",
        "expand",
        "num_experts_per_tok",
        "head_dim",
        "intermediate_size",
        "kv_lora_rank",
        "qk_rope_head_dim",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(ALL_CONFIGS),
    st.dictionaries(_MUTABLE_KEYS, st.integers(min_value=0, max_value=70), max_size=4),
)
def test_any_converted_record_constructs_in_genz(
    case: tuple[str, dict[str, Any]], changes: dict[str, int]
) -> None:
    config = dict(case[1], **changes)
    try:
        record = convert_hf_config(config)
    except ConversionError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        GenZModels.ModelConfig(**record["genz_kwargs"])
