"""Converter counts against totals published for checkpoints whose config.json is not at hand.

No real config.json of these families could be had offline (the Hub is out of reach here), but
the Hub's safetensors totals of their flagship checkpoints are published: transformer-lens 4.3.0
(PyPI) ships them as ``min_param_count`` per architecture in
``transformer_lens/tools/model_registry/data/architecture_gaps.json``. Each flagship's shape is
transformers' default config of the family (give or take the keys named below), so the
converter's count of that config must equal the published total to the parameter.
"""

from __future__ import annotations

import pytest

from genz_catalog.convert import convert_hf_config

transformers = pytest.importorskip("transformers")

#: (family, config class, keys changed from its defaults, checkpoint, published total)
PUBLISHED = [
    # ZambaConfig's defaults are Zamba-7B-v1's shape (76 Mamba layers, 13 shared-attention uses).
    ("zamba", "ZambaConfig", {}, "Zyphra/Zamba-7B-v1", 7_232_490_496),
    # The smallest FlexOlmo checkpoint: the default 7B expert shape with 2 experts, both active.
    (
        "flex_olmo",
        "FlexOlmoConfig",
        {"num_experts": 2, "num_experts_per_tok": 2},
        "allenai/Flex-reddit-2x7B-1T",
        11_627_401_216,
    ),
    # jetmoe-8b has 24 layers; JetMoeConfig's default has 12 and is otherwise its shape.
    ("jetmoe", "JetMoeConfig", {"num_hidden_layers": 24}, "jetmoe/jetmoe-8b", 8_522_237_952),
]


@pytest.mark.parametrize(
    ("family", "config_class", "changes", "checkpoint", "total"),
    PUBLISHED,
    ids=[row[3] for row in PUBLISHED],
)
def test_count_equals_the_published_total(
    family: str, config_class: str, changes: dict, checkpoint: str, total: int
) -> None:
    config = getattr(transformers, config_class)(**changes).to_dict()
    record = convert_hf_config(config)
    assert record["family"] == family
    assert record["parameter_count"] == total, checkpoint
