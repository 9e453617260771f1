"""More DeepSeek-V3-layout mixture-of-experts families (branch fam-a; issue 11).

Each handler counts what transformers 5 allocates for the family's ``*ForCausalLM`` class,
checked to the parameter against the meta-device count on the family's default config in
``tests/test_families_fam_a.py``. They reuse the DeepSeek MLA counter and add only what the
family changes.
"""

from __future__ import annotations

from genz_catalog.convert import families_moe
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_moe_modern import (
    _mla_config,
    _mla_layer_params,
    _mtp_deepseek_layout,
)


def axk1(reader: ConfigReader) -> Architecture:
    """SK Telecom A.X K1 (``axk1``): DeepSeek-V3 plus an RMSNorm (``post_mlp_layernorm``,
    ``hidden_size`` weights) on the output of every MoE block.

    ``AXK1Config`` makes only layer 0 dense unless ``first_k_dense_replace`` or
    ``mlp_layer_types`` says otherwise, so a 4.x file without either key gets that default.
    The released checkpoints also store the norm for dense layers; transformers ignores those
    on load, so they are not counted.
    """
    config = _mla_config(reader, 1)
    inner = ConfigReader(config, reader.family, reader.where)
    arch = families_moe.deepseek(inner)
    hidden = arch.hidden_size or 0
    layers = arch.num_layers or 0
    first_dense = inner.int("first_k_dense_replace", minimum=0)
    frequency = inner.int("moe_layer_freq", default=1)
    moe_layers = sum(
        1 for index in range(layers) if index >= first_dense and index % frequency == 0
    )
    arch.parameter_count += moe_layers * hidden
    arch.active_parameter_count = (arch.active_parameter_count or 0) + moe_layers * hidden
    layer = _mla_layer_params(config, reader.family) + hidden
    _mtp_deepseek_layout(reader, arch, hidden, arch.vocab_size or 0, layer)
    return arch
