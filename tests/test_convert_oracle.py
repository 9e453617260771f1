"""transformers on the meta device as an oracle for the converter (the ``oracle`` extra).

Skipped unless torch and transformers are importable. Never a runtime dependency.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from test_convert_families import EXTRA_CONFIGS

from genz_catalog.convert import convert_hf_config
from genz_catalog.convert.families_seq2seq import SEQ2SEQ_FAMILIES

pytestmark = pytest.mark.oracle

CONFIG_DIR = Path(__file__).parent / "data" / "hf-configs"

# Configs transformers cannot reproduce: legacy custom-code model types it does not know, and
# T5 v1.1 / mT5 with tie_word_embeddings=false (transformers 5 ties T5 heads unconditionally).
NOT_ORACLE_COMPARABLE = {
    "tiiuae/falcon-7b",
    "tiiuae/falcon-40b (legacy RefinedWeb)",
    "google/t5-v1_1-small",
    "google/mt5-small",
    # Custom-code families (checked against published totals in
    # tests/test_families_dense_legacy.py) and an EXAONE 4 config whose string sliding pattern
    # transformers 5.24 cannot expand without layer_types (TypeError in Exaone4Config).
    "Qwen/Qwen-7B",
    "THUDM/chatglm3-6b",
    "internlm/internlm2_5-7b-chat",
    "LGAI-EXAONE/EXAONE-4.0-1.2B",
    "baichuan-inc/Baichuan2-7B-Chat",
    "openbmb/MiniCPM-2B-sft-bf16",
    "openbmb/MiniCPM-MoE-8x2B",
    # Tencent's remote-code model_type "hunyuan" (transformers knows the class, not the type).
    "tencent/Hunyuan-A13B-Instruct",
    # MiniMax's remote-code model_type minimax_m1 (transformers loads it as minimax).
    "MiniMaxAI/MiniMax-M1-80k",
    # Custom model_type kimi_k2 (transformers knows the architecture, DeepseekV3ForCausalLM, not
    # the type): tests/test_families_moe_modern.py counts it as deepseek_v3.
    "moonshotai/Kimi-K2-Instruct",
}

MULTIMODAL = {"llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "gemma3", "mllama"}
MULTIMODAL |= {"qwen3_vl", "qwen3_5", "mistral3", "qwen3_vl_moe", "qwen3_5_moe", "llama4"}
# Encoder-decoder families counted as their generation model (``*ForConditionalGeneration``),
# not the decoder-only ``*ForCausalLM`` that transformers also registers for them.
SEQ2SEQ = set(SEQ2SEQ_FAMILIES)
MULTIMODAL |= {"paligemma", "smolvlm"}  # wrappers with real configs in tests/data


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases = [
        (path.parent.name.replace("__", "/", 1), json.loads(path.read_text()))
        for path in sorted(CONFIG_DIR.glob("*/config.json"))
    ]
    cases += [(extra.model_id, extra.config) for extra in EXTRA_CONFIGS]
    return [
        (model_id, config) for model_id, config in cases if model_id not in NOT_ORACLE_COMPARABLE
    ]


CASES = _cases()


def meta_device_parameter_count(config: dict[str, Any]) -> int:
    """Unique parameters of the HF model class for ``config``, instantiated on the meta device."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    kwargs = {
        key: value
        for key, value in config.items()
        if key
        not in ("model_type", "architectures", "transformers_version", "torch_dtype", "auto_map")
    }
    model_type = config["model_type"]
    if model_type == "gemma3n":
        pytest.importorskip("timm")  # its vision tower is a timm model
    hf_config = transformers.AutoConfig.for_model(model_type, **kwargs)
    if model_type in ("t5", "mt5", "umt5", "qwen2_audio") or model_type in SEQ2SEQ:
        auto = transformers.AutoModelForSeq2SeqLM
    elif model_type == "whisper":
        auto = transformers.AutoModelForSpeechSeq2Seq
    elif model_type == "roberta":
        auto = transformers.AutoModelForMaskedLM
    elif model_type in MULTIMODAL:
        auto = transformers.AutoModelForImageTextToText
    else:
        auto = transformers.AutoModelForCausalLM
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = auto.from_config(hf_config)
    return sum(parameter.numel() for parameter in model.parameters())


@pytest.mark.parametrize(("model_id", "config"), CASES, ids=[model_id for model_id, _ in CASES])
def test_parameter_count_equals_transformers_meta_device(
    model_id: str, config: dict[str, Any]
) -> None:
    pytest.importorskip("transformers")
    assert convert_hf_config(config, model_id)["parameter_count"] == meta_device_parameter_count(
        config
    )
