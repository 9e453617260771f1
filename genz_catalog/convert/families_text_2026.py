"""More text decoders and mixtures of experts of transformers 5.24.

DeepSeek-V3 derivatives (Mistral 4, A.X K1/K2, dots.3 Note, HY V4, Mistral Large 4), MiniMax-M3,
Lara Mini (gated DeltaNet), ZAYA (convolutional attention), and the looped or recurrent-depth
decoders HRM-Text and Dory. Each handler counts what transformers 5 allocates for the family's
model class, checked to the parameter against the meta-device count on the family's default
config (both spellings) and on layout variants in ``tests/test_families_fam_a.py``. They reuse
the DeepSeek MLA, DSA-indexer and gated-DeltaNet counters and add only what the family changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genz_catalog.convert import (
    counting,
    families_dense_modern,
    families_moe,
    families_moe_modern,
)
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    QK_NORM_PER_HEAD_DIM,
    MoeSpec,
    add_attention_kv,
    build_decoder,
    check_top_k,
    checked_attention_type,
    derived_head_dim,
    genz_dense_kwargs,
    genz_moe_kwargs,
    read_context_length,
    read_layer_types,
)
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_moe_modern import (
    _gated_delta_net,
    _mla_config,
    _mla_layer_params,
    _mtp_deepseek_layout,
    _warn_mixed_windows,
    _window,
)
from genz_catalog.convert.families_multimodal import finish_multimodal as finish_wrapper

#: Converts a nested language-model config (config, model_type, key prefix for errors).
Dispatch = Callable[[dict[str, Any], str, str], Architecture]


def dsa_indexer_params(query_width: int, hidden: int, index_heads: int, index_dim: int) -> int:
    """One DeepSeek sparse-attention indexer: ``wq_b`` (from ``query_width``: the query LoRA
    rank, or the hidden size where there is none), ``wk``, a biased LayerNorm on the keys and
    ``weights_proj``."""
    return (
        counting.linear(query_width, index_heads * index_dim)
        + counting.linear(hidden, index_dim)
        + counting.layer_norm(index_dim, bias=True)
        + counting.linear(hidden, index_heads)
    )


def finish_mla_moe(
    reader: ConfigReader,
    arch: Architecture,
    total: int,
    moe: MoeSpec,
    *,
    hidden: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    vocab: int,
    dense_width: int,
) -> None:
    """Complete ``arch`` for an MLA decoder whose KV layout is already on it: add the FFNs
    (``moe.moe_layers`` routed experts with a bias-free router and a gated shared MLP of
    ``moe.shared_intermediate_size``; gated dense MLPs of ``dense_width`` elsewhere) to
    ``total`` (every other parameter), and fill the counts, dimensions and GenZ arguments."""
    layers = len(moe.moe_layers)
    one_expert = counting.mlp(hidden, moe.expert_intermediate_size, True)
    moe_ffn = counting.linear(hidden, moe.num_experts) + moe.num_experts * one_expert
    if moe.shared_intermediate_size:
        moe_ffn += counting.mlp(hidden, moe.shared_intermediate_size, True)
    moe_layers = sum(moe.moe_layers)
    total += moe_layers * moe_ffn + (layers - moe_layers) * counting.mlp(hidden, dense_width, True)
    arch.parameter_count = total
    inactive = moe_layers * (moe.num_experts - moe.experts_per_token) * one_expert
    arch.active_parameter_count = total - inactive
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = dense_width or None
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = "mla"
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    arch.genz_kwargs.update(genz_moe_kwargs(arch, moe, layers))
    # GenZ caches 2 * kv_heads * head_dim values per layer: one KV head of half the widest
    # cached latent (indexer keys included) is the closest uniform stand-in for MLA.
    widest = max(values for values, _window in arch.kv_groups)
    arch.genz_kwargs["num_key_value_heads"] = 1
    arch.genz_kwargs["head_dim"] = (widest + 1) // 2


def mistral4(reader: ConfigReader) -> Architecture:
    """Mistral 4 (``mistral4``): the DeepSeek-V3 layout to the parameter (MLA with an optional
    query LoRA, routed + shared experts, ``first_k_dense_replace`` dense layers), counted by the
    DeepSeek-V3 handler; its Llama-4 attention-temperature scaling has no parameters."""
    return families_moe_modern.deepseek_v3(reader)


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


# --- dots.3 Note (text model) -------------------------------------------------------------------

#: ``Dots3NoteTextConfig``'s attention settings for sliding-window layers when a 4.x-era file
#: gives them as ``swa_*`` keys (or not at all) instead of a ``per_layer_config``.
_DOTS3_SWA_DEFAULTS = {
    "num_attention_heads": 64,
    "num_key_value_heads": 64,
    "q_lora_rank": 1024,
    "kv_lora_rank": 1024,
    "head_dim": 256,
    "qk_nope_head_dim": 192,
    "v_head_dim": 128,
}
_DOTS3_LAYER_KEYS = frozenset(
    (*_DOTS3_SWA_DEFAULTS, "qk_rope_head_dim", "attention_bias", "attention_dropout")
)


def _dots3_mlp_layer_types(reader: ConfigReader, layers: int) -> list[bool]:
    """Which layers are MoE: ``mlp_layer_types``, else ``first_k_dense_replace`` (default 1)
    and ``moe_layer_freq`` (an int period or a per-layer list), as the config class derives it."""
    types = reader.str_list("mlp_layer_types")
    if types is not None:
        if len(types) != layers:
            raise reader.error(f"mlp_layer_types has {len(types)} entries for {layers} layers")
        unknown = sorted(set(types) - {"dense", "sparse"})
        if unknown:
            raise reader.error(f"mlp_layer_types has unknown entries {unknown}")
        return [kind == "sparse" for kind in types]
    first_dense = reader.int("first_k_dense_replace", default=1, minimum=0)
    frequency = reader.raw("moe_layer_freq")
    if isinstance(frequency, list):
        if len(frequency) < layers:
            raise reader.error(f"moe_layer_freq has {len(frequency)} entries for {layers} layers")
        return [index >= first_dense and bool(frequency[index]) for index in range(layers)]
    period = reader.int("moe_layer_freq", default=1)
    return [index >= first_dense and index % period == 0 for index in range(layers)]


def _dots3_layer_types(reader: ConfigReader, layers: int) -> list[str]:
    """Attention kind per layer (``indexed_attention``, ``full_attention``,
    ``sliding_attention``), following ``Dots3NoteTextConfig.__post_init__``: legacy files call
    DSA layers ``full_attention`` and say ``use_dsa``; without ``layer_types`` the first two
    layers and every fourth from layer 1 are global, the rest slide."""
    use_dsa = reader.raw("use_dsa")
    if use_dsa is None and not reader.has("per_layer_config"):
        use_dsa = True
    types = reader.str_list("layer_types")
    if types is None:
        sliding = reader.bool("use_sliding_window", default=True)
        full = "full_attention" if use_dsa is False else "indexed_attention"
        types = [
            full if not sliding or index < 2 or index % 4 == 1 else "sliding_attention"
            for index in range(layers)
        ]
    elif len(types) != layers:
        raise reader.error(f"layer_types has {len(types)} entries for {layers} layers")
    if use_dsa is not None:
        old, new = (
            ("full_attention", "indexed_attention")
            if use_dsa
            else ("indexed_attention", "full_attention")
        )
        types = [new if kind == old else kind for kind in types]
    unknown = sorted(set(types) - {"indexed_attention", "full_attention", "sliding_attention"})
    if unknown:
        raise reader.error(f"layer_types has unknown entries {unknown}")
    return types


def _dots3_layer_attention(reader: ConfigReader, layer_types: list[str]) -> list[dict[str, Any]]:
    """Each layer's MLA settings: the top-level keys overridden by ``per_layer_config`` (keys are
    layer indices, possibly zero-padded strings), or for a file without it, by the ``swa_*``
    keys (class defaults where absent) on sliding layers."""
    base = {
        "num_attention_heads": reader.int("num_attention_heads"),
        "q_lora_rank": reader.int_or_null("q_lora_rank"),
        "kv_lora_rank": reader.int("kv_lora_rank"),
        "qk_nope_head_dim": reader.int("qk_nope_head_dim"),
        "qk_rope_head_dim": reader.int("qk_rope_head_dim"),
        "v_head_dim": reader.int("v_head_dim"),
        "attention_bias": reader.bool("attention_bias", default=False),
    }
    reader.check()
    base["num_key_value_heads"] = reader.int(
        "num_key_value_heads", default=base["num_attention_heads"]
    )
    per_layer = reader.sub("per_layer_config")
    overrides: dict[int, dict[str, Any]] = {}
    if per_layer is not None:
        for key, override in per_layer.items():
            if not str(key).isdigit() or not isinstance(override, dict):
                raise reader.error(f"per_layer_config entry {key!r} is not a layer index -> object")
            unknown = sorted(set(override) - _DOTS3_LAYER_KEYS)
            if int(key) >= len(layer_types) or unknown:
                raise reader.error(
                    f"per_layer_config[{key!r}] overrides keys this handler cannot count: {unknown}"
                )
            overrides[int(key)] = override
    else:
        swa = {
            name: reader.raw(f"swa_{name}") if reader.has(f"swa_{name}") else default
            for name, default in _DOTS3_SWA_DEFAULTS.items()
        }
        swa["qk_rope_head_dim"] = (
            reader.raw("swa_qk_rope_head_dim")
            if reader.has("swa_qk_rope_head_dim")
            else swa["head_dim"] - swa["qk_nope_head_dim"]
        )
        overrides = {
            index: swa for index, kind in enumerate(layer_types) if kind == "sliding_attention"
        }
    settings = []
    for index in range(len(layer_types)):
        layer = dict(base)
        layer.update({key: value for key, value in overrides.get(index, {}).items()})
        for key in ("num_attention_heads", "num_key_value_heads", "kv_lora_rank"):
            if not isinstance(layer[key], int) or isinstance(layer[key], bool) or layer[key] < 1:
                raise reader.error(f"layer {index}: {key} must be a positive integer")
        if layer["q_lora_rank"] is None:
            raise reader.error(
                f"layer {index}: q_lora_rank is null, but dots.3 MLA queries need it"
            )
        if layer["num_key_value_heads"] != layer["num_attention_heads"]:
            raise reader.error(f"layer {index}: num_key_value_heads must equal num_attention_heads")
        settings.append(layer)
    return settings


def dots3_note_text(reader: ConfigReader) -> Architecture:
    """rednote dots.3 Note text model (``dots3_note_text``): DeepSeek-style MLA (always with a
    query LoRA) plus a per-head output gate (``g_proj``) and a RMSNorm on the rotary key part;
    DSA indexers on ``indexed_attention`` layers; sliding-window layers with their own MLA
    shape (``per_layer_config`` or the legacy ``swa_*`` keys); a dense prefix then routed
    experts with a shared MLP of ``shared_experts_intermediate_size`` per shared expert."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    vocab = reader.int("vocab_size")
    experts = reader.int("n_routed_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    index_heads = reader.int("index_n_heads")
    index_dim = reader.int("index_head_dim")
    reader.check()
    check_top_k(reader, top_k, experts)
    shared_experts = reader.int("n_shared_experts", default=1)
    shared_width = reader.int(
        "shared_experts_intermediate_size", "moe_shared_expert_intermediate_size", default=1536
    )
    moe_mask = _dots3_mlp_layer_types(reader, layers)
    dense_width = reader.int("intermediate_size") if not all(moe_mask) else 0
    reader.check()
    layer_types = _dots3_layer_types(reader, layers)
    attention = _dots3_layer_attention(reader, layer_types)
    window = reader.int("sliding_window", "sliding_window_size", default=512)
    tied = reader.bool("tie_word_embeddings", default=False)

    arch = Architecture(reader.family)
    total = vocab * hidden * (1 if tied else 2) + hidden  # embeddings, head, final norm
    for index, layer in enumerate(attention):
        heads = layer["num_attention_heads"]
        q_lora = layer["q_lora_rank"]
        total += (
            counting.mla_attention(
                hidden,
                heads,
                q_lora,
                layer["kv_lora_rank"],
                layer["qk_nope_head_dim"],
                layer["qk_rope_head_dim"],
                layer["v_head_dim"],
                bool(layer["attention_bias"]),
            )
            + layer["qk_rope_head_dim"]  # k_rope_only_layernorm
            + counting.linear(hidden, heads)  # g_proj: one output gate per head
            + 2 * hidden  # input and post-attention RMSNorms
        )
        latent = layer["kv_lora_rank"] + layer["qk_rope_head_dim"]
        kind = layer_types[index]
        if kind == "indexed_attention":
            total += dsa_indexer_params(q_lora, hidden, index_heads, index_dim)
            arch.add_kv_layers(1, latent + index_dim)
        elif kind == "sliding_attention":
            arch.add_kv_layers(1, latent, window)
        else:
            arch.add_kv_layers(1, latent)
    base = attention[0]
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        moe_mask,
        shared_intermediate_size=shared_width * shared_experts,
        num_shared_experts=shared_experts,
    )
    finish_mla_moe(
        reader,
        arch,
        total,
        moe,
        hidden=hidden,
        heads=base["num_attention_heads"],
        kv_heads=base["num_key_value_heads"],
        head_dim=base["qk_nope_head_dim"] + base["qk_rope_head_dim"],
        vocab=vocab,
        dense_width=dense_width,
    )
    arch.warnings.append(
        "GenZ simulates every layer as the first layer's MLA shape with dense attention; the "
        "sliding-window layers' own MLA shape, the DSA indexer's top-k selection and the "
        "per-head output gate are not modelled (the catalog's KV-cache figures do model them)"
    )
    arch.extra.update(
        {
            "kv_lora_rank": base["kv_lora_rank"],
            "q_lora_rank": base["q_lora_rank"],
            "qk_rope_head_dim": base["qk_rope_head_dim"],
            "index_n_heads": index_heads,
            "index_head_dim": index_dim,
            "layer_types": {kind: layer_types.count(kind) for kind in sorted(set(layer_types))},
        }
    )
    return arch


# --- Mistral Large 4 ----------------------------------------------------------------------------


def _flag_list(reader: ConfigReader, name: str, layers: int) -> list[Any] | None:
    """A per-layer list from the config, checked against the layer count; ``None`` if absent."""
    value = reader.raw(name)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != layers:
        raise reader.error(f"{name} must be a list with one entry per layer ({layers})")
    return value


def _mistral_large4_layout(
    reader: ConfigReader, layers: int
) -> tuple[list[bool], list[int], list[bool], list[bool]]:
    """Per layer: uses RoPE, K/V source layer, runs its own indexer, is a MoE layer.

    Follows ``MistralLarge4TextConfig.__post_init__``: RoPE except every
    ``no_rope_layer_interval``-th layer (default 4), every layer owns its K/V, indexers from
    ``index_topk_pattern`` (``F``/``S``) or ``index_topk_freq`` / ``index_skip_topk_offset``,
    ``first_k_dense_replace`` (default 1) dense layers."""
    no_rope = _flag_list(reader, "no_rope_layers", layers)
    if no_rope is None:
        interval = reader.int("no_rope_layer_interval", default=4)
        no_rope = [int((index + 1) % interval != 0) for index in range(layers)]
    sources = _flag_list(reader, "kv_source_layers", layers)
    if sources is None:
        sources = list(range(layers))
    for index, source in enumerate(sources):
        if not isinstance(source, int) or isinstance(source, bool) or not 0 <= source <= index:
            raise reader.error(f"kv_source_layers[{index}] must be a layer index up to {index}")
    indexers = _flag_list(reader, "indexer_types", layers)
    if indexers is None:
        pattern = reader.raw("index_topk_pattern")
        if isinstance(pattern, str):
            if len(pattern) != layers or set(pattern) - {"F", "S"}:
                raise reader.error(f"index_topk_pattern must be {layers} letters F or S")
            indexers = ["full" if letter == "F" else "shared" for letter in pattern]
        elif pattern is not None:
            indexers = _flag_list(reader, "index_topk_pattern", layers)
        else:
            frequency = max(reader.int("index_topk_freq", default=1), 1)
            offset = reader.int("index_skip_topk_offset", default=2, minimum=0)
            indexers = [
                "full" if max(index - offset + 1, 0) % frequency == 0 else "shared"
                for index in range(layers)
            ]
    assert indexers is not None
    unknown = sorted({str(kind) for kind in indexers} - {"full", "shared"})
    if unknown:
        raise reader.error(f"indexer_types has unknown entries {unknown}")
    mlp_types = reader.str_list("mlp_layer_types")
    if mlp_types is None:
        dense = min(reader.int("first_k_dense_replace", default=1, minimum=0), layers)
        moe_mask = [index >= dense for index in range(layers)]
    else:
        if len(mlp_types) != layers or set(mlp_types) - {"dense", "sparse"}:
            raise reader.error(f"mlp_layer_types must be {layers} entries 'dense' or 'sparse'")
        moe_mask = [kind == "sparse" for kind in mlp_types]
    return [bool(flag) for flag in no_rope], sources, [k == "full" for k in indexers], moe_mask


def mistral_large4_text(reader: ConfigReader) -> Architecture:
    """Mistral Large 4 text model (``mistral_large4_text``): MLA without a query LoRA (a full
    ``q_proj``), learned per-head softmax scaling, a DSA indexer that projects its queries from
    the normalised hidden states, NoPE layers (no rotary slice in their latent), K/V sharing
    between layers (``kv_source_layers``: a reusing layer has no ``kv_a_proj``), indexers
    shared across layers (``indexer_types``), a learned LeRoPE vector at the model level, and a
    dense prefix followed by routed + shared experts."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    kv_lora = reader.int("kv_lora_rank")
    rope = reader.int("qk_rope_head_dim")
    nope = reader.int("qk_nope_head_dim")
    v_dim = reader.int("v_head_dim")
    experts = reader.int("n_routed_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    index_heads = reader.int("index_n_heads")
    index_dim = reader.int("index_head_dim")
    reader.check()
    check_top_k(reader, top_k, experts)
    if reader.raw("q_lora_rank") is not None:
        raise reader.error("q_lora_rank is set, but Mistral Large 4 builds a full q_proj")
    shared_experts = reader.int("n_shared_experts", default=1, minimum=0)
    bias = reader.bool("attention_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    checked_attention_type(reader, heads, kv_heads)
    uses_rope, sources, own_indexer, moe_mask = _mistral_large4_layout(reader, layers)
    dense_width = reader.int("intermediate_size") if not all(moe_mask) else 0
    reader.check()
    rope_parameters = reader.raw("rope_parameters")
    partial = (
        rope_parameters.get("partial_rotary_factor", 1.0)
        if isinstance(rope_parameters, dict)
        else reader.raw("partial_rotary_factor")
    )
    if partial not in (None, 1, 1.0):
        raise reader.error("partial_rotary_factor is not 1; the LeRoPE vector's length is unknown")

    arch = Architecture(reader.family)
    # Embeddings, final norm, LeRoPE ``alpha`` (one per rotary frequency: ceil(rope / 2)).
    total = vocab * hidden * (1 if tied else 2) + hidden + (rope + 1) // 2
    for index in range(layers):
        rotary = rope if uses_rope[index] else 0
        total += (
            counting.linear(hidden, heads * (nope + rope))  # q_proj
            + counting.linear(kv_lora, heads * (nope + rope - rotary + v_dim))  # kv_b_proj
            + counting.linear(heads * v_dim, hidden, bias)  # o_proj
            + 2 * heads  # softmax scaling: scale and bias per head
            + 2 * hidden  # input and post-attention RMSNorms
        )
        cached = 0
        if sources[index] == index:
            total += counting.linear(hidden, kv_lora + rotary, bias) + kv_lora
            cached += kv_lora + rotary
        if own_indexer[index]:
            total += (
                dsa_indexer_params(hidden, hidden, index_heads, index_dim)
                + counting.layer_norm(hidden, bias=True)  # q_input_norm
                + 2 * index_heads  # softmax scaling: scale and bias per indexer head
            )
            cached += index_dim
        arch.add_kv_layers(1, cached)
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        moe_mask,
        shared_intermediate_size=expert_width * shared_experts,
        num_shared_experts=shared_experts,
    )
    finish_mla_moe(
        reader,
        arch,
        total,
        moe,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=nope + rope,
        vocab=vocab,
        dense_width=dense_width,
    )
    arch.warnings.append(
        "GenZ simulates every layer as dense MLA caching the widest layer's latent; K/V sharing "
        "between layers, NoPE layers and the DSA indexer's top-k selection are not modelled "
        "(the catalog's KV-cache figures do model them)"
    )
    arch.extra.update(
        {
            "kv_lora_rank": kv_lora,
            "qk_rope_head_dim": rope,
            "index_n_heads": index_heads,
            "index_head_dim": index_dim,
            "kv_sharing_layers": sum(1 for i, s in enumerate(sources) if s != i),
        }
    )
    return arch


def mistral_large4(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Mistral Large 4 (``mistral_large4``): the Mistral 3 wrapper (Pixtral vision tower,
    patch-merging projector) around :func:`mistral_large4_text`, counted by the Mistral 3
    handler; only the wrapper's defaults differ (an untied LM head, the text model type)."""
    config = dict(reader.config)
    text_config = reader.sub("text_config")
    if text_config is not None and not text_config.get("model_type"):
        config["text_config"] = {**text_config, "model_type": "mistral_large4_text"}
    defaulted = config.get("tie_word_embeddings") is None
    if defaulted:
        config["tie_word_embeddings"] = False  # MistralLarge4Config's default
    arch = families_dense_modern.mistral3(
        ConfigReader(config, reader.family, reader.where), dispatch
    )
    if defaulted:
        arch.warnings.append(
            "tie_word_embeddings absent: transformers 5 unties the LM head "
            "(mistral_large4 class default)"
        )
    return arch


# --- HY V4 (Tencent Hunyuan) ----------------------------------------------------------------------


def _hy_v4_layout(reader: ConfigReader, layers: int) -> tuple[list[bool], list[bool]]:
    """Per layer: runs its own DSA indexer; is a MoE layer (``HYV4Config`` defaults: an
    indexer at layer 0 and every fourth layer from layer 1, only layer 0 dense)."""
    indexers = reader.str_list("indexer_types")
    if indexers is None:
        indexers = [
            "full" if index == 0 or (index - 1) % 4 == 0 else "shared" for index in range(layers)
        ]
    if len(indexers) != layers or set(indexers) - {"full", "shared"}:
        raise reader.error(f"indexer_types must be {layers} entries 'full' or 'shared'")
    mlp_types = reader.str_list("mlp_layer_types")
    if mlp_types is None:
        mlp_types = ["dense"] * min(1, layers) + ["sparse"] * max(layers - 1, 0)
    if len(mlp_types) != layers or set(mlp_types) - {"dense", "sparse"}:
        raise reader.error(f"mlp_layer_types must be {layers} entries 'dense' or 'sparse'")
    return [kind == "full" for kind in indexers], [kind == "sparse" for kind in mlp_types]


def hy_v4(reader: ConfigReader) -> Architecture:
    """Tencent HY V4 (``hy_v4``): MLA with a query LoRA, a per-head learned attention sink and a
    sigmoid output gate (``gate_proj``, ``v_head_dim`` per head), DSA indexers on ``full``
    layers (``shared`` layers reuse the previous selection), ``hc_mult`` hyper-connection
    streams (two mixers per layer and one before the head), only layer 0 dense by default."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    q_lora = reader.int("q_lora_rank")
    kv_lora = reader.int("kv_lora_rank")
    rope = reader.int("qk_rope_head_dim")
    nope = reader.int("qk_nope_head_dim")
    v_dim = reader.int("v_head_dim")
    experts = reader.int("n_routed_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    index_heads = reader.int("index_n_heads")
    index_dim = reader.int("index_head_dim")
    streams = reader.int("hc_mult")
    reader.check()
    check_top_k(reader, top_k, experts)
    shared_experts = reader.int("n_shared_experts", default=1, minimum=0)
    bias = reader.bool("attention_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    own_indexer, moe_mask = _hy_v4_layout(reader, layers)
    dense_width = reader.int("intermediate_size") if not all(moe_mask) else 0
    reader.check()

    # A hyper-connection mixer: 2 * streams logits from the flattened streams, their biases and
    # two scales; the head's mixer: streams logits, biases and one scale.
    mixer = 2 * streams * streams * hidden + 2 * streams + 2
    head_mixer = streams * streams * hidden + streams + 1
    layer = (
        counting.mla_attention(hidden, heads, q_lora, kv_lora, nope, rope, v_dim, bias)
        + counting.linear(hidden, heads * v_dim)  # gate_proj
        + heads  # sinks
        + 2 * hidden  # input and post-attention RMSNorms
        + 2 * mixer
    )
    indexer = dsa_indexer_params(q_lora, hidden, index_heads, index_dim)
    indexers = sum(own_indexer)
    total = (
        vocab * hidden * (1 if tied else 2)
        + hidden  # final norm
        + head_mixer
        + layers * layer
        + indexers * indexer
    )
    arch = Architecture(reader.family)
    latent = kv_lora + rope
    arch.add_kv_layers(indexers, latent + index_dim)
    arch.add_kv_layers(layers - indexers, latent)
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        moe_mask,
        shared_intermediate_size=expert_width * shared_experts,
        num_shared_experts=shared_experts,
    )
    # HYV4Config: MLA gives every query head its own K/V (num_key_value_heads = heads).
    finish_mla_moe(
        reader,
        arch,
        total,
        moe,
        hidden=hidden,
        heads=heads,
        kv_heads=heads,
        head_dim=nope + rope,
        vocab=vocab,
        dense_width=dense_width,
    )
    arch.genz_unsupported = (
        f"GenZ 0.0.16 cannot simulate hyper-connections ({streams} residual streams per layer)"
    )
    arch.extra.update(
        {
            "q_lora_rank": q_lora,
            "kv_lora_rank": kv_lora,
            "qk_rope_head_dim": rope,
            "index_n_heads": index_heads,
            "index_head_dim": index_dim,
            "hc_mult": streams,
        }
    )
    return arch


# --- A.X K2 ---------------------------------------------------------------------------------------


def axk2(reader: ConfigReader) -> Architecture:
    """SK Telecom A.X K2 (``axk2``): DeepSeek-V3.2-style MLA with a DSA indexer in every layer,
    but no ``q_b_proj``: one fused ``q_gate_proj`` maps the query LoRA and its compressed copy
    (``2 * q_lora_rank``) to the queries and a per-head output gate. Gated RMSNorms (a rank
    ``gated_norm_rank`` bottleneck) before attention, and before the FFN of MoE layers; dense
    layers keep a plain RMSNorm there. Only layer 0 is dense unless the config says otherwise."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    q_lora = reader.int("q_lora_rank")
    kv_lora = reader.int("kv_lora_rank")
    rope = reader.int("qk_rope_head_dim")
    nope = reader.int("qk_nope_head_dim")
    v_dim = reader.int("v_head_dim")
    experts = reader.int("n_routed_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    index_heads = reader.int("index_n_heads")
    index_dim = reader.int("index_head_dim")
    rank = reader.int("gated_norm_rank")
    reader.check()
    check_top_k(reader, top_k, experts)
    shared_experts = reader.int("n_shared_experts", default=1, minimum=0)
    bias = reader.bool("attention_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    checked_attention_type(reader, heads, kv_heads)
    moe_mask = _mla_moe_mask(reader, layers, first_dense_default=1, key="first_k_dense_replace")
    dense_width = reader.int("intermediate_size") if not all(moe_mask) else 0
    reader.check()

    gated_norm = hidden + 2 * counting.linear(hidden, rank)  # RMSNorm weight, fc1, fc2
    layer = (
        counting.linear(hidden, q_lora, bias)  # q_a_proj
        + q_lora  # q_a_layernorm
        + counting.linear(2 * q_lora, heads * (nope + rope + v_dim))  # q_gate_proj
        + counting.linear(hidden, kv_lora + rope, bias)  # kv_a_proj_with_mqa
        + kv_lora  # kv_a_layernorm
        + counting.linear(kv_lora, heads * (nope + v_dim))  # kv_b_proj
        + counting.linear(heads * v_dim, hidden, bias)  # o_proj
        + dsa_indexer_params(q_lora, hidden, index_heads, index_dim)
        + gated_norm  # input_layernorm
    )
    moe_layers = sum(moe_mask)
    total = (
        vocab * hidden * (1 if tied else 2)
        + hidden  # final norm
        + layers * layer
        + moe_layers * gated_norm
        + (layers - moe_layers) * hidden  # post-attention norms
    )
    arch = Architecture(reader.family)
    arch.add_kv_layers(layers, kv_lora + rope + index_dim)
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        moe_mask,
        shared_intermediate_size=expert_width * shared_experts,
        num_shared_experts=shared_experts,
    )
    finish_mla_moe(
        reader,
        arch,
        total,
        moe,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=nope + rope,
        vocab=vocab,
        dense_width=dense_width,
    )
    index_topk = reader.int("index_topk", default=2048)
    arch.warnings.append(
        f"GenZ simulates DeepSeek sparse attention (top-{index_topk} tokens per query) as dense "
        "MLA without the indexer, the query gate or the gated norms"
    )
    arch.extra.update(
        {
            "q_lora_rank": q_lora,
            "kv_lora_rank": kv_lora,
            "qk_rope_head_dim": rope,
            "index_n_heads": index_heads,
            "index_head_dim": index_dim,
            "index_topk": index_topk,
        }
    )
    return arch


def _mla_moe_mask(
    reader: ConfigReader, layers: int, *, first_dense_default: int, key: str
) -> list[bool]:
    """MoE layers from ``mlp_layer_types`` (5.x), else ``key`` dense layers first (the config
    class's default when absent) and ``moe_layer_freq`` (an int period), as DeepSeek-derived
    config classes derive them."""
    types = reader.str_list("mlp_layer_types")
    if types is not None:
        if len(types) != layers or set(types) - {"dense", "sparse"}:
            raise reader.error(f"mlp_layer_types must be {layers} entries 'dense' or 'sparse'")
        return [kind == "sparse" for kind in types]
    first_dense = reader.int(key, default=first_dense_default, minimum=0)
    period = reader.int("moe_layer_freq", default=1)
    return [index >= first_dense and index % period == 0 for index in range(layers)]


# --- MiniMax-M3 (text model of the VL release) -------------------------------------------------


def minimax_m3_vl_text(reader: ConfigReader) -> Architecture:
    """MiniMax-M3 language model (``minimax_m3_vl_text``): GQA with per-head q/k RMSNorms, a
    block-sparse "lightning" indexer (``q_proj``, ``k_proj`` and their per-head norms) on
    ``minimax_m3_sparse`` layers, MoE layers of ``num_local_experts`` experts of
    ``intermediate_size`` plus a shared MLP of ``shared_intermediate_size``, dense layers of
    ``dense_intermediate_size``. 4.x-era files nest the indexer settings and its layer pattern in
    ``sparse_attention_config`` and give the MoE pattern as a ``moe_layer_freq`` list."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("intermediate_size")
    shared_width = reader.int("shared_intermediate_size", minimum=0)
    reader.check()
    sparse = reader.sub("sparse_attention_config") or {}
    legacy_keys = {
        "index_n_heads": "sparse_num_index_heads",
        "index_head_dim": "sparse_index_dim",
    }
    config = dict(reader.config)
    for key, legacy in legacy_keys.items():
        if legacy in sparse:
            config[key] = sparse[legacy]
    inner = ConfigReader(config, reader.family, reader.where)
    index_heads = inner.int("index_n_heads", default=4)
    index_dim = inner.int("index_head_dim", default=128)
    layer_types = inner.str_list("layer_types")
    if layer_types is None and isinstance(sparse.get("sparse_attention_freq"), list):
        layer_types = [
            "minimax_m3_sparse" if flag else "full_attention"
            for flag in sparse["sparse_attention_freq"]
        ]
    if layer_types is None:
        layer_types = ["full_attention"] * layers
    if len(layer_types) != layers or set(layer_types) - {"full_attention", "minimax_m3_sparse"}:
        raise reader.error(
            f"layer_types must be {layers} entries 'full_attention' or 'minimax_m3_sparse'"
        )
    mlp_types = inner.str_list("mlp_layer_types")
    frequency = inner.raw("moe_layer_freq")
    if mlp_types is None and isinstance(frequency, list):
        mlp_types = ["sparse" if flag else "dense" for flag in frequency]
    if mlp_types is None:
        mlp_types = ["sparse"] * layers
    if len(mlp_types) != layers or set(mlp_types) - {"dense", "sparse"}:
        raise reader.error(f"mlp_layer_types must be {layers} entries 'dense' or 'sparse'")
    moe_mask = [kind == "sparse" for kind in mlp_types]
    dense_width = inner.int("dense_intermediate_size") if not all(moe_mask) else None
    inner.check()
    sparse_layers = layer_types.count("minimax_m3_sparse")
    indexer = (
        counting.linear(inner.int("hidden_size"), index_heads * index_dim)
        + counting.linear(inner.int("hidden_size"), index_dim)
        + 2 * index_dim  # q_norm, k_norm
    )
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        moe_mask,
        dense_intermediate_size=dense_width,
        shared_intermediate_size=shared_width,
    )
    arch = build_decoder(
        inner, qk_norm=QK_NORM_PER_HEAD_DIM, moe=moe, extra_params=sparse_layers * indexer
    )
    values = 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0)
    arch.add_kv_layers(layers - sparse_layers, values)
    arch.add_kv_layers(sparse_layers, values + index_dim)
    if sparse_layers:
        arch.warnings.append(
            "GenZ simulates the block-sparse attention layers as dense attention without the "
            "indexer (the catalog's KV-cache figures include the indexer keys)"
        )
    arch.extra.update({"index_n_heads": index_heads, "index_head_dim": index_dim})
    return arch


# --- HRM text (hierarchical recurrent model) ------------------------------------------------------


def hrm_text(reader: ConfigReader) -> Architecture:
    """HRM-Text (``hrm_text``): two weight-shared stacks (``H_module``, ``L_module``) of
    ``num_layers_per_stack`` layers, run ``H_cycles * (L_cycles + 1)`` times per token. Each
    layer: MHA with a sigmoid output gate (``gate_proj``), a gated MLP, weight-free RMSNorms; a
    frozen initial low-level state ``z_L_init`` (a parameter). transformers 5 stores the inflated
    ``num_hidden_layers`` (one KV-cache slot per layer invocation) beside
    ``num_layers_per_stack``; a 4.x file's ``num_hidden_layers`` is the per-stack count."""
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    high_cycles = reader.int("H_cycles", default=2)
    low_cycles = reader.int("L_cycles", default=3)
    per_stack = reader.int("num_layers_per_stack", default=0)
    if not per_stack:
        per_stack = reader.int("num_hidden_layers")
    invocations = per_stack * high_cycles * (low_cycles + 1)
    if reader.has("num_layers_per_stack") and reader.int("num_hidden_layers") != invocations:
        raise reader.error(
            f"num_hidden_layers ({reader.int('num_hidden_layers')}) is not num_layers_per_stack "
            f"x H_cycles x (L_cycles + 1) = {invocations}"
        )
    head_dim = reader.int("head_dim", default=128)
    bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool("mlp_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    reader.check()
    width = heads * head_dim
    layer = (
        counting.attention(hidden, heads, heads, head_dim, bias, bias, bias)
        + counting.linear(hidden, width, bias)  # gate_proj
        + counting.mlp(hidden, intermediate, True, mlp_bias)
    )
    arch = Architecture(reader.family)
    arch.parameter_count = vocab * hidden * (1 if tied else 2) + hidden + 2 * per_stack * layer
    arch.num_layers = invocations
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = "mha"
    # Every layer invocation keeps its own K/V: the cache grows with the unrolled depth.
    arch.add_kv_layers(invocations, 2 * width)
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    arch.genz_unsupported = (
        f"GenZ 0.0.16 cannot share weights between recurrent cycles ({2 * per_stack} unique "
        f"layers run as {invocations})"
    )
    arch.extra.update(
        {"num_layers_per_stack": per_stack, "H_cycles": high_cycles, "L_cycles": low_cycles}
    )
    return arch


# --- Dory (looped nGPT-style decoder) ---------------------------------------------------------------


def dory(reader: ConfigReader) -> Architecture:
    """Dory (``dory``): normalised-transformer layers (weight-free L2 norms; learned scales
    ``lambda_1`` / ``lambda_2`` per layer, ``sqk`` / ``s_gate`` in attention, ``suv_gate`` /
    ``suv_up`` in the gated MLP), GQA with a sigmoid output gate, an LM head with a learned
    per-token ``logit_scale`` and no final norm. The middle ``n_recurrent_layers`` run
    ``n_recurrent_loops`` times; with ``recurrent_kv_cache_mode`` ``per_loop`` each loop keeps
    its own K/V. Released files list attention and MLP blocks separately in ``layer_types``
    (``mlp`` entries): every count is then halved, as the config class does."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = reader.int("head_dim", default=0) or derived_head_dim(reader, hidden, heads)
    input_layers = reader.int("n_input_layers", default=8, minimum=0)
    output_layers = reader.int("n_output_layers", default=8, minimum=0)
    recurrent = reader.optional_int("n_recurrent_layers", minimum=0)
    layer_types = reader.str_list("layer_types")
    if layer_types is not None and "mlp" in layer_types:
        layer_types = layer_types[::2]
        layers //= 2
        input_layers //= 2
        output_layers //= 2
        if recurrent is not None:
            recurrent //= 2
    if layer_types is None:
        layer_types = [
            "full_attention" if (index + 1) % 4 == 0 else "sliding_attention"
            for index in range(layers)
        ]
    if len(layer_types) != layers:
        raise reader.error(f"layer_types has {len(layer_types)} entries for {layers} layers")
    if recurrent is None:
        recurrent = layers - input_layers - output_layers
    if recurrent < 0 or input_layers + recurrent > layers:
        raise reader.error(
            f"n_input_layers ({input_layers}) + n_recurrent_layers ({recurrent}) exceed the "
            f"{layers} layers"
        )
    loops = reader.int("n_recurrent_loops", default=2)
    per_loop = reader.str("recurrent_kv_cache_mode", default="per_loop") != "last_loop"
    bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool("mlp_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    window = reader.int("sliding_window", default=1024)
    reader.check()

    width = heads * head_dim
    layer = (
        counting.attention(hidden, heads, kv_heads, head_dim, bias, bias, bias)
        + counting.linear(hidden, width)  # gate_proj
        + 2 * width  # sqk, s_gate
        + 2 * hidden  # lambda_1, lambda_2
        + counting.mlp(hidden, intermediate, True, mlp_bias)
        + 2 * intermediate  # suv_gate, suv_up
    )
    arch = Architecture(reader.family)
    arch.parameter_count = vocab * hidden * (1 if tied else 2) + vocab + layers * layer
    values = 2 * kv_heads * head_dim
    for index, kind in enumerate(layer_types):
        copies = loops if per_loop and input_layers <= index < input_layers + recurrent else 1
        arch.add_kv_layers(copies, values, window if kind == "sliding_attention" else None)
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = attention_type
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    arch.genz_unsupported = (
        f"GenZ 0.0.16 cannot loop layers ({recurrent} recurrent layers run {loops} times)"
    )
    arch.extra.update(
        {
            "n_input_layers": input_layers,
            "n_recurrent_layers": recurrent,
            "n_recurrent_loops": loops,
        }
    )
    return arch


# --- ZAYA (Zyphra) ----------------------------------------------------------------------------------


def zaya(reader: ConfigReader) -> Architecture:
    """Zyphra ZAYA (``zaya``): compressed convolutional attention (CCA: GQA projections with
    the value split into a current and a one-token-delayed half, a depthwise then a
    head-grouped causal convolution over the concatenated queries and keys, a learned
    temperature per K/V head), a MoE in every layer whose router is a small MLP
    (``router_hidden_size``) with an extra "no expert" class and, after layer 0, a learned mix
    of the previous layer's router state; learned residual scalings around both blocks and on
    the embeddings. Caches K/V plus a convolution state and the delayed value per sequence."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    experts = reader.int("num_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = reader.int("head_dim", default=128)
    router = reader.int("router_hidden_size", default=256)
    depthwise_kernel = reader.int("cca_time0", default=2)
    grouped_kernel = reader.int("cca_time1", default=2)
    bias = reader.bool("attention_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=True)
    lm_head_bias = reader.bool("lm_head_bias", default=False)
    window = reader.optional_int("sliding_window", minimum=1)
    layer_types = reader.str_list("layer_types") or ["hybrid"] * layers
    if len(layer_types) != layers or set(layer_types) - {"hybrid", "hybrid_sliding"}:
        raise reader.error(f"layer_types must be {layers} entries 'hybrid' or 'hybrid_sliding'")
    reader.check()

    query, key_value = heads * head_dim, kv_heads * head_dim
    channels = query + key_value
    attention = (
        counting.linear(hidden, query, bias)
        + counting.linear(hidden, key_value, bias)
        + 2 * counting.linear(hidden, key_value // 2, bias)  # v_proj_current, v_proj_delayed
        + channels * depthwise_kernel
        + channels  # depthwise conv, with bias
        + channels * head_dim * grouped_kernel
        + channels  # grouped conv: one group per head
        + kv_heads  # qk_norm temperature
        + counting.linear(query, hidden, bias)
    )
    routing = (
        counting.linear(hidden, router, True)
        + router  # router MLP's RMSNorm
        + 2 * counting.linear(router, router, True)
        + counting.linear(router, experts + 1)  # one class more: "no expert"
    )
    one_expert = counting.mlp(hidden, expert_width, True)
    layer = attention + routing + experts * one_expert + 2 * hidden + 8 * hidden
    total = (
        layers * layer
        + (layers - 1) * router  # router_states_scale, from layer 1 on
        + vocab * hidden * (1 if tied else 2)
        + (vocab if lm_head_bias else 0)
        + hidden  # final norm
        + 2 * hidden  # input hidden-state scale and bias
    )
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - layers * (experts - top_k) * one_expert
    for kind in layer_types:
        arch.add_kv_layers(1, 2 * key_value, window if kind == "hybrid_sliding" else None)
    arch.ssm = {
        "layers": layers,
        "conv_state_values": channels * ((depthwise_kernel - 1) + (grouped_kernel - 1)),
        "ssm_state_values": key_value // 2,  # the delayed value of the last token
    }
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = expert_width
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = attention_type
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    arch.genz_kwargs.update(
        genz_moe_kwargs(arch, MoeSpec(experts, top_k, expert_width, [True] * layers), layers)
    )
    arch.genz_unsupported = "GenZ 0.0.16 cannot simulate compressed convolutional attention (CCA)"
    arch.extra.update(
        {"router_hidden_size": router, "cca_kernels": [depthwise_kernel, grouped_kernel]}
    )
    return arch


# --- Lara Mini ------------------------------------------------------------------------------------

_LARA_MINI_PATTERN = (
    "linear_attention",
    "sliding_attention",
    "linear_attention",
    "full_attention",
    "sliding_attention",
)


def lara_mini(reader: ConfigReader) -> Architecture:
    """Lara Mini (``lara_mini``): gated-DeltaNet linear-attention layers (the Qwen3-Next
    layout) between full and sliding-window GQA layers with per-head q/k norms (no output
    gate), by default in the released period-5 pattern; every layer a MoE with an ungated
    shared expert."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("moe_intermediate_size")
    shared_width = reader.int("shared_expert_intermediate_size", minimum=0)
    reader.check()
    layer_types = read_layer_types(reader, layers) or [
        _LARA_MINI_PATTERN[index % len(_LARA_MINI_PATTERN)] for index in range(layers)
    ]
    unknown = sorted(set(layer_types) - set(_LARA_MINI_PATTERN))
    if unknown:
        raise reader.error(f"layer_types has unknown entries {unknown}")
    linear_layers = layer_types.count("linear_attention")
    linear, conv_state, recurrent_state = _gated_delta_net(reader, hidden)
    bias = reader.bool("attention_bias", default=False)
    moe = MoeSpec(experts, top_k, width, [True] * layers, shared_intermediate_size=shared_width)
    # build_decoder counts attention in every layer; linear-attention layers swap it for the
    # gated DeltaNet, so the difference is added per linear layer.
    arch = build_decoder(
        reader,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        q_bias=bias,
        kv_bias=bias,
        o_bias=bias,
        tie_default=True,
        head_dim_default=128,
        moe=moe,
    )
    heads, kv_heads = arch.num_attention_heads or 0, arch.num_key_value_heads or 0
    head_dim = arch.head_dim or 0
    attention = counting.attention(hidden, heads, kv_heads, head_dim, bias, bias, bias)
    swap = linear_layers * (linear - attention - 2 * head_dim)
    arch.parameter_count += swap
    arch.active_parameter_count = (arch.active_parameter_count or 0) + swap
    window = reader.int("sliding_window", default=512)
    add_attention_kv(arch, layer_types, window, 2 * kv_heads * head_dim)
    arch.ssm = {
        "layers": linear_layers,
        "conv_state_values": conv_state,
        "ssm_state_values": recurrent_state,
    }
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no gated-DeltaNet (linear attention) operator; "
        f"{linear_layers} of {layers} layers cannot be simulated"
    )
    return arch


# --- Ling / Bailing hybrid ----------------------------------------------------------------------


def bailing_hybrid(reader: ConfigReader) -> Architecture:
    """Ant Ling hybrid (``bailing_hybrid``): linear-attention layers (separate q/k/v
    projections of ``num_attention_heads x head_dim``, a depthwise convolution over them, a
    forget gate with its own projection, ``b_proj``, a gated per-head RMSNorm and an output
    gate) and, every ``layer_group_size``-th layer, MLA without a query LoRA by default, with
    a per-head output gate (``g_proj``); ``first_k_dense_replace`` dense layers then routed
    experts plus a shared MLP. Multi-token-prediction layers (``num_mtp_layers``) are not built
    by transformers and not counted."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    kv_lora = reader.int("kv_lora_rank")
    rope = reader.int("qk_rope_head_dim")
    nope = reader.int("qk_nope_head_dim")
    v_dim = reader.int("v_head_dim")
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok", "num_experts_per_token")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    q_lora = reader.int_or_null("q_lora_rank") if reader.has("q_lora_rank") else None
    shared_experts = reader.int("n_shared_experts", "num_shared_experts", default=1, minimum=0)
    # transformers 5 writes the linear-attention width as linear_head_dim and repoints head_dim
    # at the MLA rotary slice; a 4.x file's head_dim is the linear-attention width.
    linear_dim = reader.int("linear_head_dim", "head_dim", default=128)
    linear_heads = reader.int("linear_num_heads", default=heads)
    kernel = reader.int("linear_conv_kernel_dim", "short_conv_kernel_size", default=4)
    group = reader.int("layer_group_size", default=6)
    layer_types = read_layer_types(reader, layers) or [
        "full_attention" if (index + 1) % group == 0 else "linear_attention"
        for index in range(layers)
    ]
    unknown = sorted(set(layer_types) - {"full_attention", "linear_attention"})
    if unknown:
        raise reader.error(f"layer_types has unknown entries {unknown}")
    mlp_types = reader.str_list("mlp_layer_types")
    if mlp_types is None:
        first_dense = reader.int("first_k_dense_replace", default=0, minimum=0)
        mlp_types = ["dense" if index < first_dense else "sparse" for index in range(layers)]
    if len(mlp_types) != layers or set(mlp_types) - {"dense", "sparse"}:
        raise reader.error(f"mlp_layer_types must be {layers} entries 'dense' or 'sparse'")
    moe_mask = [kind == "sparse" for kind in mlp_types]
    dense_width = reader.int("intermediate_size") if not all(moe_mask) else 0
    bias = reader.bool("attention_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    reader.check()

    qkv = linear_heads * linear_dim
    linear = (
        3 * counting.linear(hidden, qkv)  # q, k, v
        + 3 * qkv * kernel  # depthwise conv, no bias
        + linear_heads  # forget gate A_log
        + qkv  # forget gate dt_bias
        + counting.linear(hidden, qkv)  # forget gate f_proj
        + counting.linear(hidden, linear_heads)  # b_proj
        + linear_dim  # gated RMSNorm
        + counting.linear(qkv, hidden)  # o_proj
        + counting.linear(hidden, qkv)  # g_proj
    )
    full = counting.mla_attention(
        hidden, heads, q_lora, kv_lora, nope, rope, v_dim, bias
    ) + counting.linear(hidden, heads)  # g_proj: one output gate per head
    full_layers = layer_types.count("full_attention")
    linear_layers = layers - full_layers
    total = (
        vocab * hidden * (1 if tied else 2)
        + hidden  # final norm
        + layers * 2 * hidden  # input and post-attention RMSNorms
        + full_layers * full
        + linear_layers * linear
    )
    arch = Architecture(reader.family)
    arch.add_kv_layers(full_layers, kv_lora + rope)
    arch.ssm = {
        "layers": linear_layers,
        "conv_state_values": 3 * qkv * kernel,
        "ssm_state_values": linear_heads * linear_dim * linear_dim,
    }
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        moe_mask,
        shared_intermediate_size=expert_width * shared_experts,
        num_shared_experts=shared_experts,
    )
    finish_mla_moe(
        reader,
        arch,
        total,
        moe,
        hidden=hidden,
        heads=heads,
        kv_heads=reader.int("num_key_value_heads", default=heads),
        head_dim=nope + rope,
        vocab=vocab,
        dense_width=dense_width,
    )
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no linear-attention operator; "
        f"{linear_layers} of {layers} layers cannot be simulated"
    )
    mtp = reader.int("num_mtp_layers", "num_nextn_predict_layers", default=0, minimum=0)
    if mtp:
        arch.warnings.append(
            f"num_mtp_layers={mtp}: the checkpoint's multi-token-prediction layers are not "
            "counted (transformers does not build them; their layout is not in the config)"
        )
    return arch


# --- Step 3.7 (StepFun) ---------------------------------------------------------------------------


def _trimmed(reader: ConfigReader, name: str, layers: int, mtp: int) -> list[Any] | None:
    """A per-layer list; legacy files pad it with ``mtp`` trailing MTP entries (dropped)."""
    value = reader.raw(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise reader.error(f"{name} must be a list")
    if mtp and len(value) == layers + mtp:
        value = value[:layers]
    if len(value) != layers:
        raise reader.error(f"{name} has {len(value)} entries for {layers} layers")
    return value


def step3p5(reader: ConfigReader) -> Architecture:
    """Step 3.5 / 3.7 language model (``step3p5``): GQA with per-head q/k RMSNorms and a sigmoid
    output gate (``g_proj``: one per head with ``gating`` true or ``per-head``, else one per
    channel), sliding-window layers with their own head count (``per_layer_config``,
    ``num_sliding_attention_heads`` or the legacy ``attention_other_setting``), dense layers of
    ``intermediate_size`` then MoE layers (``mlp_layer_types``, legacy ``moe_layers_enum``;
    default from layer 3) of ``n_routed_experts`` plus a shared MLP of ``share_expert_dim``.
    Legacy files pad per-layer lists with ``num_nextn_predict_layers`` MTP entries, which
    transformers drops (and does not build)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    experts = reader.int("n_routed_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    head_dim = reader.int("head_dim", default=0) or derived_head_dim(reader, hidden, heads)
    mtp = reader.int("num_nextn_predict_layers", default=0, minimum=0)
    layer_types = _trimmed(reader, "layer_types", layers, mtp) or ["full_attention"] * layers
    unknown = sorted(set(layer_types) - {"full_attention", "sliding_attention"})
    if unknown:
        raise reader.error(f"layer_types has unknown entries {unknown}")
    mlp_types = _trimmed(reader, "mlp_layer_types", layers, mtp)
    if mlp_types is None:
        enum = reader.raw("moe_layers_enum")
        if enum is not None:
            items = enum.split(",") if isinstance(enum, str) else enum
            moe_set = {int(item) for item in items if str(item).strip()}
        else:
            moe_set = set(range(3, layers))
        mlp_types = ["sparse" if index in moe_set else "dense" for index in range(layers)]
    if set(mlp_types) - {"dense", "sparse"}:
        raise reader.error("mlp_layer_types entries must be 'dense' or 'sparse'")
    moe_mask = [kind == "sparse" for kind in mlp_types]
    dense_width = reader.int("intermediate_size") if not all(moe_mask) else 0
    shared_width = reader.int("share_expert_dim", default=1280, minimum=0)
    sliding_heads = reader.optional_int("num_sliding_attention_heads")
    if sliding_heads is None:
        other = reader.sub("attention_other_setting") or {}
        sliding_heads = other.get("num_attention_heads", heads)
    heads_per_layer = [
        sliding_heads if kind == "sliding_attention" else heads for kind in layer_types
    ]
    per_layer = reader.sub("per_layer_config")
    if per_layer is not None:
        heads_per_layer = [heads] * layers
        for key, override in per_layer.items():
            if not str(key).isdigit() or not isinstance(override, dict):
                raise reader.error(f"per_layer_config entry {key!r} is not a layer index -> object")
            unknown_keys = sorted(set(override) - {"num_attention_heads"})
            if int(key) >= layers or unknown_keys:
                raise reader.error(
                    f"per_layer_config[{key!r}] overrides keys this handler cannot count: "
                    f"{unknown_keys}"
                )
            heads_per_layer[int(key)] = override.get("num_attention_heads", heads)
    gating = reader.raw("gating")
    per_head_gate = gating is None or gating is True or gating == "per-head"
    bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool("mlp_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    window = reader.optional_int("sliding_window", minimum=1)
    reader.check()

    total = vocab * hidden * (1 if tied else 2) + hidden
    for layer_heads in heads_per_layer:
        if not isinstance(layer_heads, int) or isinstance(layer_heads, bool) or layer_heads < 1:
            raise reader.error("per-layer num_attention_heads must be positive integers")
        checked_attention_type(reader, layer_heads, kv_heads)
        total += (
            counting.attention(hidden, layer_heads, kv_heads, head_dim, bias, bias, bias)
            + 2 * head_dim  # q_norm, k_norm
            + counting.linear(hidden, layer_heads if per_head_gate else layer_heads * head_dim)
            + 2 * hidden  # input and post-attention RMSNorms
        )
    one_expert = counting.mlp(hidden, expert_width, True)
    moe_ffn = (
        counting.linear(hidden, experts)
        + experts * one_expert
        + counting.mlp(hidden, shared_width, True, mlp_bias)
    )
    moe_layers = sum(moe_mask)
    total += moe_layers * moe_ffn + (layers - moe_layers) * counting.mlp(
        hidden, dense_width, True, mlp_bias
    )
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - moe_layers * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = dense_width or None
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = checked_attention_type(reader, heads, kv_heads)
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    moe = MoeSpec(experts, top_k, expert_width, moe_mask, shared_intermediate_size=shared_width)
    arch.genz_kwargs.update(genz_moe_kwargs(arch, moe, layers))
    add_attention_kv(arch, layer_types, window, 2 * kv_heads * head_dim)
    if sliding_heads != heads:
        arch.warnings.append(
            f"GenZ simulates every layer with {heads} query heads; the sliding-window layers "
            f"have {sliding_heads}"
        )
    if mtp:
        arch.warnings.append(
            f"num_nextn_predict_layers={mtp}: the checkpoint's MTP layers are not counted "
            "(transformers does not build them)"
        )
    return arch


def step3p7(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Step 3.7 (``step3p7``): the :func:`step3p5` language model, a vision transformer (bias-free
    patch conv, learned position table of ``(image_size / patch_size)^2`` entries, a LayerNorm
    before the blocks, CLIP-style blocks with biases and layer scales ``lambda_1`` /
    ``lambda_2``, an MLP of ``hidden_size * mlp_ratio``), two stride-2 convolutions that double
    the width twice, and one linear projector into the text width."""
    text_config = reader.sub("text_config")
    if text_config is None:
        reader.require("text_config")
        reader.check()
    assert text_config is not None
    # Hub files are remote-code configs; Step3p7Config drops the sub-configs' model_type.
    text_config = {**text_config, "model_type": "step3p5"}
    # transformers 5 ties the head by the wrapper's own flag, which this class lacks (False).
    text_config["tie_word_embeddings"] = reader.bool("tie_word_embeddings", default=False)
    arch = dispatch(text_config, "step3p5", "text_config.")
    text_params = arch.parameter_count
    vision_config = reader.sub("vision_config") or {}
    vision = with_vision_aliases(ConfigReader(vision_config, reader.family, "vision_config."))
    hidden = vision.int("hidden_size", default=1536)
    layers = vision.int("num_hidden_layers", default=47)
    ratio = vision.raw("mlp_ratio")
    intermediate = int(hidden * (8960 / 1536 if ratio is None else ratio))
    patch = vision.int("patch_size", default=14)
    image = vision.int("image_size", default=728)
    channels = vision.int("num_channels", default=3)
    vision.check()
    block = (
        4 * counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
        + 2 * counting.layer_norm(hidden, True)
        + 2 * hidden  # lambda_1, lambda_2
    )
    vision_params = (
        channels * patch * patch * hidden
        + (image // patch) ** 2 * hidden
        + counting.layer_norm(hidden, True)
        + layers * block
        + (hidden * 9 * 2 * hidden + 2 * hidden)  # downsampler1: 3x3 conv, width doubled
        + (2 * hidden * 9 * 4 * hidden + 4 * hidden)  # downsampler2
    )
    projector = counting.linear(
        4 * hidden, arch.hidden_size or 0, reader.bool("projector_bias", default=False)
    )
    return finish_wrapper(arch, text_params, vision_params, projector, [])


def with_vision_aliases(vision: ConfigReader) -> ConfigReader:
    """The Step vision config with its remote-code names (``width``, ``layers``, ``heads``)
    resolved to the transformers names, as ``Step3p7VisionConfig`` does."""
    config = dict(vision.config)
    for old, new in (
        ("width", "hidden_size"),
        ("layers", "num_hidden_layers"),
        ("heads", "num_attention_heads"),
    ):
        if old in config:
            config[new] = config.pop(old)
    return ConfigReader(config, vision.family, vision.where)


# --- Muse Glimmer ---------------------------------------------------------------------------------


def muse_glimmer_text(reader: ConfigReader) -> Architecture:
    """Muse Glimmer language model (``muse_glimmer_text``): GQA with scale-free q/k norms (no
    weights) and a sigmoid output gate (``gate_proj``, one per channel), four RMSNorms per layer
    (before and after attention and FFN), a gated MLP; sliding-window layers except every fourth
    counted back from the last."""
    reader = with_aliases_and_defaults(reader)
    bias = reader.bool("attention_bias", default=False)
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    reader.check()
    gate = counting.linear(hidden, heads * reader.int("head_dim", default=128))
    arch = build_decoder(
        reader,
        q_bias=bias,
        kv_bias=bias,
        o_bias=bias,
        norms_per_layer=4,
        head_dim_default=128,
        extra_params_per_layer=gate,
    )
    layers = arch.num_layers or 0
    layer_types = read_layer_types(reader, layers) or [
        "full_attention" if (layers - 1 - index) % 4 == 0 else "sliding_attention"
        for index in range(layers)
    ]
    window = _window(reader, 2048)
    values = 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0)
    add_attention_kv(arch, layer_types, window, values)
    _warn_mixed_windows(arch)
    return arch


def with_aliases_and_defaults(reader: ConfigReader) -> ConfigReader:
    """``hidden_activation`` (Muse's spelling) as ``hidden_act`` for GenZ's arguments."""
    if reader.has("hidden_activation") and not reader.has("hidden_act"):
        config = dict(reader.config)
        config["hidden_act"] = config["hidden_activation"]
        return ConfigReader(config, reader.family, reader.where)
    return reader


def muse_glimmer_vision_params(vision: ConfigReader) -> int:
    """Muse Glimmer vision tower: a bias-free linear patch embedding over
    ``patch_temporal x 3 x patch_size^2`` pixels, a ``pos_emb_height x pos_emb_width`` position
    table, LayerNorms (with bias) before and after, ViT blocks with biased attention and MLP."""
    hidden = vision.int("hidden_size", default=1536)
    layers = vision.int("num_hidden_layers", default=50)
    intermediate = vision.int("intermediate_size", default=8960)
    patch = vision.int("patch_size", default=14)
    temporal = vision.int("patch_temporal", default=2)
    positions = vision.int("pos_emb_height", default=32) * vision.int("pos_emb_width", default=32)
    vision.check()
    block = (
        4 * counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
        + 2 * counting.layer_norm(hidden, True)
    )
    return (
        temporal * 3 * patch * patch * hidden
        + positions * hidden
        + 2 * counting.layer_norm(hidden, True)
        + layers * block
    )


def muse_glimmer(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Muse Glimmer (``muse_glimmer``): :func:`muse_glimmer_text` with the
    :func:`muse_glimmer_vision_params` tower, a two-layer bias-free adapter
    (``out_hidden_size`` -> ``projector_hidden_size`` -> same) and a projection into the text
    width."""
    text_config = reader.sub("text_config")
    if text_config is None:
        reader.require("text_config")
        reader.check()
    assert text_config is not None
    text_config = {"model_type": "muse_glimmer_text", **text_config}
    # transformers 5 ties the head by the wrapper's own flag, which this class lacks (False).
    text_config["tie_word_embeddings"] = reader.bool("tie_word_embeddings", default=False)
    arch = dispatch(text_config, text_config["model_type"], "text_config.")
    vision = ConfigReader(reader.sub("vision_config") or {}, reader.family, "vision_config.")
    out_hidden = reader.int("out_hidden_size", default=6144)
    projector_hidden = reader.int("projector_hidden_size", default=4096)
    projector = (
        counting.linear(out_hidden, projector_hidden)
        + counting.linear(projector_hidden, projector_hidden)
        + counting.linear(projector_hidden, arch.hidden_size or 0)
    )
    return finish_wrapper(
        arch, arch.parameter_count, muse_glimmer_vision_params(vision), projector, []
    )
