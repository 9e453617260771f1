"""transformers on the meta device as an oracle for the converter (the ``oracle`` extra).

Skipped unless torch and transformers are importable. Never a runtime dependency.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from genz_catalog.convert import convert_hf_config

pytestmark = pytest.mark.oracle

CONFIG_DIR = Path(__file__).parent / "data" / "hf-configs"
EXTRA_DIR = CONFIG_DIR / "_extra"

# Configs transformers cannot reproduce: legacy custom-code model types it does not know, and
# T5 v1.1 / mT5 with tie_word_embeddings=false (transformers 5 ties T5 heads unconditionally).
NOT_ORACLE_COMPARABLE = {"tiiuae__falcon-7b", "tiiuae__falcon-40b__legacy-RefinedWeb", "google__t5-v1_1-small", "google__mt5-small"}

MULTIMODAL = {"llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "gemma3", "mllama"}


def _config_paths() -> list[Path]:
    paths = sorted(CONFIG_DIR.glob("*/config.json"))
    with (EXTRA_DIR / "expected.tsv").open(newline="") as handle:
        paths += [EXTRA_DIR / row["folder"] / "config.json" for row in csv.DictReader(handle, delimiter="\t")]
    return [path for path in paths if path.parent.name not in NOT_ORACLE_COMPARABLE]


def meta_device_parameter_count(config: dict[str, Any]) -> int:
    """Unique parameters of the HF model class for ``config``, instantiated on the meta device."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    kwargs = {
        key: value for key, value in config.items()
        if key not in ("model_type", "architectures", "transformers_version", "torch_dtype", "auto_map")
    }
    model_type = config["model_type"]
    hf_config = transformers.AutoConfig.for_model(model_type, **kwargs)
    if model_type in ("t5", "mt5", "umt5"):
        auto = transformers.AutoModelForSeq2SeqLM
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


@pytest.mark.parametrize("path", _config_paths(), ids=lambda path: path.parent.name)
def test_parameter_count_equals_transformers_meta_device(path: Path) -> None:
    pytest.importorskip("transformers")
    config = json.loads(path.read_text())
    assert convert_hf_config(config)["parameter_count"] == meta_device_parameter_count(config)
