"""Mixture-of-experts families of the 2025 generation, and multi-token-prediction (MTP) modules.

gpt-oss, GLM-4.5 / GLM-4.7-Flash, DeepSeek-V3 derivatives (Kimi K2, DeepSeek-V3.2), Qwen3-Next,
Qwen3.5-MoE, Qwen3-VL-MoE, Llama 4, MiniMax-Text-01 / MiniMax-M2, ERNIE 4.5 MoE, Hunyuan MoE,
OLMoE, FlexOlmo, Granite MoE (shared), JetMoE, Cohere2 MoE, dots.llm1 and LFM2-MoE.

Every count is the number of unique parameters the transformers 5 class allocates for the config
(what ``model.parameters()`` yields on the meta device): buffers such as the DeepSeek-style
``e_score_correction_bias`` are not counted, parameters such as ERNIE's are.

MTP ("next-n") modules are not loaded by transformers, so they are not in ``parameter_count``;
they go to ``mtp_parameter_count`` as the checkpoint lays them out:

- DeepSeek layout (DeepSeek-V3/R1/V3.2, GLM-4.5, ``num_nextn_predict_layers``): per module two
  RMSNorms (``enorm``, ``hnorm``), ``eh_proj`` (2h -> h), one decoder layer like the last main
  layer, ``shared_head.norm`` and the module's own copies of the embedding and output head
  (``embed_tokens``, ``shared_head.head``). DeepSeek-V3: 671.0B loaded + 13.5B MTP = 684.5B, the
  Hub total. The copies duplicate the main model's (DeepSeek's README calls the module "11.5B
  unique parameters"); ``architecture.mtp_shared_copy_parameter_count`` says how many of them
  are copies, because some releases (GLM-4.6) leave the copies out of the checkpoint.
- Qwen layout (Qwen3-Next, Qwen3.5, ``mtp_num_hidden_layers``): one module with ``fc`` (2h -> h),
  ``pre_fc_norm_embedding``, ``pre_fc_norm_hidden``, its decoder layers and ``norm``; it reuses
  the main embedding and head.
- MiMo layout (Xiaomi MiMo, ``num_nextn_predict_layers``): per module ``token_layernorm``,
  ``hidden_layernorm``, ``input_proj`` (2h -> h), a Qwen2 decoder layer and ``final_layernorm``;
  MiMo's own modelling code loads them, transformers (which has no ``mimo`` type) would not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genz_catalog.convert import counting, families_dense, families_moe
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    QK_NORM_FULL_WIDTH,
    QK_NORM_NONE,
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
from genz_catalog.convert.families_multimodal import (
    _text_architecture,
    _vision_reader,
    finish_multimodal,
)

Dispatch = Callable[[dict[str, Any], str, str], Architecture]


def _kv_values(arch: Architecture) -> int:
    return 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0)


def _layers(reader: ConfigReader) -> int:
    layers = reader.int("num_hidden_layers")
    reader.check()
    return layers


def _attention_bias(reader: ConfigReader, default: bool = False) -> dict[str, bool]:
    bias = reader.bool("attention_bias", default=default)
    return {"q_bias": bias, "kv_bias": bias, "o_bias": bias}


def _window(reader: ConfigReader, class_default: int) -> int | None:
    """``sliding_window``: the class default when absent, ``None`` when explicitly null."""
    if "sliding_window" not in reader.config:
        return class_default
    return reader.optional_int("sliding_window", minimum=1)


def _warn_mixed_windows(arch: Architecture) -> None:
    """GenZ takes one sliding window for every layer; say so when the model mixes them."""
    windows = {window for (_values, window) in arch.kv_groups}
    if len(windows) > 1:
        arch.warnings.append(
            "GenZ simulates every layer with full attention; the sliding-window layers are not "
            "modelled (the catalog's KV-cache figures do model them)"
        )


def _moe_layer_types(reader: ConfigReader, layers: int) -> list[bool] | None:
    """``mlp_layer_types`` (transformers 5 spelling) as a sparse-layer mask, or ``None``."""
    types = reader.str_list("mlp_layer_types")
    if types is None:
        return None
    if len(types) != layers:
        raise reader.error(f"mlp_layer_types has {len(types)} entries for {layers} layers")
    unknown = sorted(set(types) - {"dense", "sparse"})
    if unknown:
        raise reader.error(f"mlp_layer_types has unknown entries {unknown}")
    return [kind == "sparse" for kind in types]


def _first_dense_layers(reader: ConfigReader, layers: int, *, default: int | None) -> int:
    """How many leading layers are dense: ``mlp_layer_types`` (5.x) or ``first_k_dense_replace``.

    transformers 5 builds the layers from ``mlp_layer_types`` when a config carries it, so that
    spelling wins; a layout that is not a dense prefix followed by MoE layers is refused.
    """
    mask = _moe_layer_types(reader, layers)
    if mask is not None:
        first = 0
        while first < layers and not mask[first]:
            first += 1
        if not all(mask[first:]):
            raise reader.error("mlp_layer_types mixes dense layers between MoE layers")
        return first
    if default is None:
        return reader.int("first_k_dense_replace", minimum=0)
    return reader.int("first_k_dense_replace", default=default, minimum=0)


# --- MTP modules -----------------------------------------------------------------------------


def _mtp_deepseek_layout(
    reader: ConfigReader, arch: Architecture, hidden: int, vocab: int, layer_params: int
) -> None:
    """Record DeepSeek-layout MTP modules (``num_nextn_predict_layers``) on ``arch``."""
    modules = reader.int("num_nextn_predict_layers", "num_mtp_layers", default=0, minimum=0)
    if not modules:
        return
    copies = 2 * vocab * hidden  # embed_tokens and shared_head.head, stored per module
    own = 3 * hidden + counting.linear(2 * hidden, hidden) + layer_params
    arch.mtp_parameter_count = modules * (own + copies)
    arch.extra["mtp_modules"] = modules
    arch.extra["mtp_shared_copy_parameter_count"] = modules * copies


def _mtp_qwen_layout(
    reader: ConfigReader, arch: Architecture, hidden: int, layer_params: int, default: int = 0
) -> None:
    """Record a Qwen3-Next-layout MTP module (``mtp_num_hidden_layers`` decoder layers).

    ``default`` applies when the config does not say: Qwen3-Next configs carry no MTP key, yet
    the released checkpoints ship one MTP layer (``mtp.*``, which transformers skips on load).
    """
    layers = reader.int("mtp_num_hidden_layers", default=-1, minimum=0)
    if layers == -1:
        layers = default
        if layers:
            arch.warnings.append(
                f"mtp_parameter_count assumes the checkpoint ships {layers} MTP layer(s) as "
                f"{reader.family} releases do (the config has no mtp_num_hidden_layers)"
            )
    if not layers:
        return
    arch.mtp_parameter_count = (
        counting.linear(2 * hidden, hidden) + 3 * hidden + layers * layer_params
    )
    arch.extra["mtp_modules"] = 1
    arch.extra["mtp_shared_copy_parameter_count"] = 0


def _moe_ffn_params(
    hidden: int,
    experts: int,
    expert_width: int,
    shared_width: int = 0,
    *,
    router_bias: bool = False,
    expert_bias: bool = False,
    shared_gate: bool = False,
) -> int:
    """One MoE block: router, gated experts, optional gated shared MLP (and its sigmoid gate)."""
    total = counting.linear(hidden, experts, router_bias) + experts * counting.mlp(
        hidden, expert_width, True, expert_bias
    )
    if shared_width:
        total += counting.mlp(hidden, shared_width, True)
        if shared_gate:
            total += counting.linear(hidden, 1)
    return total


# --- Llama-shaped attention with MoE FFNs ------------------------------------------------------


def gpt_oss(reader: ConfigReader) -> Architecture:
    """gpt-oss: biased attention with per-head sinks, biased experts and router, alternating
    sliding-window (128) and full attention."""
    layers = _layers(reader)
    experts = reader.int("num_local_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok", "experts_per_token")
    width = reader.int("intermediate_size")
    heads = reader.int("num_attention_heads")
    reader.check()
    moe = MoeSpec(experts, top_k, width, [True] * layers, router_bias=True, expert_bias=True)
    arch = build_decoder(
        reader,
        moe=moe,
        head_dim_default=64,  # GptOssConfig.head_dim
        extra_params_per_layer=heads,  # attention sinks
        **_attention_bias(reader, default=True),
    )
    layer_types = read_layer_types(reader, layers) or [
        "sliding_attention" if (index + 1) % 2 else "full_attention" for index in range(layers)
    ]
    window = _window(reader, 128)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    _warn_mixed_windows(arch)
    arch.warnings.append("GenZ does not model gpt-oss's attention sinks (one logit per head)")
    return arch


def flint(reader: ConfigReader) -> Architecture:
    """Flint: GQA with per-head attention sinks and per-head-dim q/k norms, sliding-window and full
    layers (``layer_types``), dense MLPs in ``mlp_only_layers`` and routed experts plus one ungated
    shared expert elsewhere (the Qwen-MoE ``decoder_sparse_step`` rule)."""
    layers = _layers(reader)
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("moe_intermediate_size")
    shared = reader.int("shared_expert_intermediate_size", minimum=0)
    heads = reader.int("num_attention_heads")
    reader.check()
    check_top_k(reader, top_k, experts)
    step = reader.int("decoder_sparse_step", default=1)
    # FlintConfig.__post_init__ fills an absent mlp_only_layers with [0, 1], not with [].
    listed = reader.int_list("mlp_only_layers")
    mlp_only = {0, 1} if listed is None else set(listed)
    pattern = [index not in mlp_only and (index + 1) % step == 0 for index in range(layers)]
    moe = MoeSpec(
        experts,
        top_k,
        width,
        pattern,
        shared_intermediate_size=shared,
        num_shared_experts=1 if shared else 0,
    )
    arch = build_decoder(
        reader,
        moe=moe,
        head_dim_default=128,  # FlintConfig.head_dim
        qk_norm=QK_NORM_PER_HEAD_DIM,
        extra_params_per_layer=heads,  # attention sinks, one per head
        tie_default=False,
        **_attention_bias(reader),
    )
    # FlintConfig.__post_init__: full attention on the first two layers, every fourth layer
    # (index % 4 == 1) and the last one; a sliding window everywhere else.
    layer_types = read_layer_types(reader, layers) or [
        "full_attention"
        if index < 2 or index % 4 == 1 or index == layers - 1
        else "sliding_attention"
        for index in range(layers)
    ]
    add_attention_kv(arch, layer_types, _window(reader, 513), _kv_values(arch))
    _warn_mixed_windows(arch)
    arch.warnings.append("GenZ does not model Flint's attention sinks (one logit per head)")
    return arch


def olmoe(reader: ConfigReader) -> Architecture:
    """OLMoE and FlexOlmo: full-width q/k RMSNorms, routed experts in every layer, no shared one.

    FlexOlmo normalises after attention and FFN instead of before: still two norms per layer.
    """
    layers = _layers(reader)
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("intermediate_size")
    reader.check()
    moe = MoeSpec(experts, top_k, width, [True] * layers)
    arch = build_decoder(reader, moe=moe, qk_norm=QK_NORM_FULL_WIDTH, **_attention_bias(reader))
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def granitemoeshared(reader: ConfigReader) -> Architecture:
    """Granite MoE with a shared expert (``shared_intermediate_size``, fused gate+up)."""
    layers = _layers(reader)
    experts = reader.int("num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("intermediate_size")
    reader.check()
    shared = reader.int("shared_intermediate_size", default=0, minimum=0)
    moe = MoeSpec(experts, top_k, width, [True] * layers, shared_intermediate_size=shared)
    arch = build_decoder(reader, moe=moe, tie_default=False, **_attention_bias(reader))
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def minimax_m2(reader: ConfigReader) -> Architecture:
    """MiniMax-M2: full-width q/k norms, 256 experts of ``intermediate_size``, top-8."""
    layers = _layers(reader)
    experts = reader.int("num_local_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("intermediate_size")
    reader.check()
    moe = MoeSpec(experts, top_k, width, [True] * layers)
    arch = build_decoder(reader, moe=moe, qk_norm=QK_NORM_FULL_WIDTH, head_dim_default=128)
    add_attention_kv(arch, None, None, _kv_values(arch))
    if reader.int("num_mtp_modules", default=0, minimum=0):
        arch.warnings.append(
            "the config declares MTP modules (num_mtp_modules) that released MiniMax-M2 "
            "checkpoints do not ship; not counted"
        )
    return arch


def _deepseek_style_moe(
    reader: ConfigReader, *, qk_norm: str, o_bias_follows: bool
) -> tuple[Architecture, int, int]:
    """GLM-4.5 / dots.llm1: standard attention, a dense prefix, then routed + shared experts.

    Returns the architecture, the parameters of one MoE decoder layer (for MTP modules) and the
    number of heads.
    """
    layers = _layers(reader)
    experts = reader.int("n_routed_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("moe_intermediate_size")
    shared = reader.int_or_null("n_shared_experts", minimum=0) or 0
    reader.check()
    first_dense = _first_dense_layers(reader, layers, default=None)
    reader.check()
    bias = reader.bool("attention_bias", default=False)
    pattern = [index >= first_dense for index in range(layers)]
    moe = MoeSpec(
        experts,
        top_k,
        width,
        pattern,
        shared_intermediate_size=width * shared,
        num_shared_experts=shared,
    )
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=bias,
        kv_bias=bias,
        o_bias=bias and o_bias_follows,
        qk_norm=qk_norm,
    )
    hidden = arch.hidden_size or 0
    head_dim = arch.head_dim or 0
    heads = arch.num_attention_heads or 0
    kv_heads = arch.num_key_value_heads or 0
    layer = (
        counting.attention(hidden, heads, kv_heads, head_dim, bias, bias, bias and o_bias_follows)
        + 2 * hidden
        + (2 * head_dim if qk_norm == QK_NORM_PER_HEAD_DIM else 0)
        + _moe_ffn_params(hidden, experts, width, width * shared)
    )
    return arch, layer, first_dense


def glm4_moe(reader: ConfigReader) -> Architecture:
    """GLM-4.5 / 4.6 / 4.7 (``glm4_moe``): GQA (o_proj without bias), optional per-head q/k norm,
    ``first_k_dense_replace`` dense layers, 1 shared + routed experts; DeepSeek-layout MTP."""
    qk_norm = QK_NORM_PER_HEAD_DIM if reader.bool("use_qk_norm", default=False) else QK_NORM_NONE
    arch, layer, _first = _deepseek_style_moe(reader, qk_norm=qk_norm, o_bias_follows=False)
    add_attention_kv(arch, None, None, _kv_values(arch))
    _mtp_deepseek_layout(reader, arch, arch.hidden_size or 0, arch.vocab_size or 0, layer)
    return arch


def dots1(reader: ConfigReader) -> Architecture:
    """dots.llm1: per-head q/k norms, dense prefix, routed + shared experts, optional sliding
    window from ``max_window_layers`` on."""
    arch, _layer, _first = _deepseek_style_moe(
        reader, qk_norm=QK_NORM_PER_HEAD_DIM, o_bias_follows=True
    )
    layers = arch.num_layers or 0
    window = reader.optional_int("sliding_window", minimum=1)
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        start = reader.int("max_window_layers", default=62, minimum=0)
        layer_types = [
            "sliding_attention" if window is not None and index >= start else "full_attention"
            for index in range(layers)
        ]
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    _warn_mixed_windows(arch)
    return arch


def ernie4_5_moe(reader: ConfigReader) -> Architecture:
    """ERNIE 4.5 MoE: ``use_bias`` on every projection, MoE layers from ``moe_layer_start_index``
    to ``moe_layer_end_index`` every ``moe_layer_interval``, shared experts, and a router
    ``e_score_correction_bias`` that is a parameter (counted)."""
    layers = _layers(reader)
    experts = reader.int("moe_num_experts", "num_experts")
    top_k = reader.int("moe_k", "num_experts_per_tok")
    width = reader.int("moe_intermediate_size")
    reader.check()
    shared = reader.int("moe_num_shared_experts", default=0, minimum=0)
    start = reader.int("moe_layer_start_index", default=1, minimum=0)
    end_value = reader.raw("moe_layer_end_index")
    end = layers - 1 if end_value in (None, -1) else reader.int("moe_layer_end_index", minimum=0)
    interval = reader.int("moe_layer_interval", default=1)
    bias = reader.bool("use_bias", default=False)
    pattern = [(index + 1) % interval == 0 and start <= index <= end for index in range(layers)]
    shared_width = width * shared
    extra = experts  # e_score_correction_bias (nn.Parameter, requires_grad=False)
    if bias and shared_width:
        extra += 2 * shared_width + reader.int("hidden_size")
    moe = MoeSpec(
        experts,
        top_k,
        width,
        pattern,
        shared_intermediate_size=shared_width,
        num_shared_experts=shared,
        router_extra_per_layer=extra,
    )
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=bias,
        kv_bias=bias,
        o_bias=bias,
        mlp_bias=bias,
        lm_head_bias=bias,
        tie_default=True,
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    if reader.int("num_nextn_predict_layers", default=0, minimum=0):
        arch.warnings.append(
            "num_nextn_predict_layers is set but ERNIE 4.5 checkpoints on the Hub ship no MTP "
            "weights transformers reads; not counted"
        )
    return arch


def hunyuan_v1_moe(reader: ConfigReader) -> Architecture:
    """Hunyuan MoE (Hunyuan-A13B): per-head q/k norms, experts and a shared MLP all sized by
    ``intermediate_size``; ``moe_topk`` may be a per-layer list."""
    layers = _layers(reader)
    experts = reader.int("num_experts", "num_local_experts")
    width = reader.int("intermediate_size")
    reader.check()
    top_k_value = reader.raw("moe_topk", "num_experts_per_tok")
    if isinstance(top_k_value, list):
        per_layer_top_k = reader.int_list("moe_topk") or []
        if len(per_layer_top_k) < layers:
            raise reader.error(f"moe_topk has {len(per_layer_top_k)} entries for {layers} layers")
        per_layer_top_k = per_layer_top_k[:layers]
    else:
        per_layer_top_k = [reader.int("moe_topk", "num_experts_per_tok")] * layers
    reader.check()
    if isinstance(reader.raw("num_experts"), list):
        raise reader.error("per-layer num_experts lists are not supported (transformers needs one)")
    top_k = max(per_layer_top_k)
    _refuse_unmodelled_hunyuan_keys(reader, width)
    moe = MoeSpec(experts, top_k, width, [True] * layers, shared_intermediate_size=width)
    # Tencent's original configs name the head width attention_head_dim.
    head_dim = reader.optional_int("attention_head_dim", minimum=1)
    arch = build_decoder(
        reader,
        moe=moe,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        head_dim_default=head_dim,
        **_attention_bias(reader),
    )
    one_expert = counting.mlp(arch.hidden_size or 0, width, True)
    arch.active_parameter_count = arch.parameter_count - sum(
        (experts - k) * one_expert for k in per_layer_top_k
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def _refuse_unmodelled_hunyuan_keys(reader: ConfigReader, width: int) -> None:
    """Tencent's remote-code configs (``model_type: hunyuan``) carry switches transformers'
    hunyuan_v1_moe does not have. Their release values (Hunyuan-A13B) are the layout counted
    here; any other value changes the weights (cross-layer KV sharing, no or several shared
    MLPs, experts of another width, latent attention, no q/k norms), so it is refused."""
    unmodelled = []
    if reader.raw("use_cla") is True:
        unmodelled.append("use_cla: true (cross-layer attention)")
    if reader.raw("use_mla") is True:
        unmodelled.append("use_mla: true (latent attention)")
    if reader.raw("use_mixed_mlp_moe") is False:
        unmodelled.append("use_mixed_mlp_moe: false (no shared MLP)")
    if reader.raw("use_qk_norm") is False:
        unmodelled.append("use_qk_norm: false")
    for key, wanted in (("moe_intermediate_size", width), ("num_shared_expert", 1)):
        value = reader.raw(key)
        values = value if isinstance(value, list) else [value]
        if value is not None and any(v != wanted for v in values):
            unmodelled.append(f"{key} other than {wanted}")
    if unmodelled:
        raise reader.error(
            "Tencent's Hunyuan switches this converter does not count: " + "; ".join(unmodelled)
        )


def cohere2_moe(reader: ConfigReader) -> Architecture:
    """Cohere2 MoE: one norm per layer (parallel block), dense prefix of
    ``prefix_dense_intermediate_size``, experts of ``intermediate_size``, optional shared experts,
    3 sliding-window layers to 1 global by default."""
    layers = _layers(reader)
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("intermediate_size")
    reader.check()
    mask = _moe_layer_types(reader, layers)
    first_dense = reader.int("first_k_dense_replace", default=0, minimum=0)
    if mask is None:
        mask = [index >= first_dense for index in range(layers)]
    dense_layers = layers - sum(mask)
    dense_width = reader.int("prefix_dense_intermediate_size") if dense_layers else 0
    reader.check()
    shared = reader.int("num_shared_experts", default=0, minimum=0)
    moe = MoeSpec(
        experts,
        top_k,
        width,
        mask,
        dense_intermediate_size=dense_width,
        shared_intermediate_size=width * shared,
        num_shared_experts=shared,
    )
    arch = build_decoder(
        reader, moe=moe, norms_per_layer=1, tie_default=True, **_attention_bias(reader)
    )
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        prefix_pattern = reader.int("prefix_dense_sliding_window_pattern", default=1)
        pattern = reader.int("sliding_window_pattern", default=4)
        layer_types = [
            "sliding_attention" if (index + 1) % prefix_pattern else "full_attention"
            for index in range(first_dense)
        ] + [
            "sliding_attention" if (index + 1) % pattern else "full_attention"
            for index in range(layers - first_dense)
        ]
    window = _window(reader, 4096)
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    _warn_mixed_windows(arch)
    return arch


# --- MLA families (DeepSeek-V3 derivatives) ----------------------------------------------------


def _mla_layer_params(config: dict[str, Any], family: str) -> int:
    """One DeepSeek-V3 MoE decoder layer (MLA, routed + shared experts, two norms)."""
    reader = ConfigReader(config, family)
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    experts = reader.int("n_routed_experts")
    width = reader.int("moe_intermediate_size")
    shared = reader.int_or_null("n_shared_experts", minimum=0) or 0
    attention = counting.mla_attention(
        hidden,
        heads,
        reader.int_or_null("q_lora_rank"),
        reader.int("kv_lora_rank"),
        reader.int("qk_nope_head_dim"),
        reader.int("qk_rope_head_dim"),
        reader.int("v_head_dim"),
        reader.bool("attention_bias", default=False),
    )
    reader.check()
    return attention + 2 * hidden + _moe_ffn_params(hidden, experts, width, width * shared)


def _mla_config(reader: ConfigReader, dense_default: int | None) -> dict[str, Any]:
    """The config with ``first_k_dense_replace`` settled from the 5.x ``mlp_layer_types``.

    Without ``mlp_layer_types`` the config goes through unchanged (so the DeepSeek handler
    names every missing key at once), unless ``dense_default`` supplies the class default.
    """
    if reader.str_list("mlp_layer_types") is None:
        if dense_default is None or reader.has("first_k_dense_replace"):
            return reader.config
        config = dict(reader.config)
        config["first_k_dense_replace"] = dense_default
        return config
    layers = _layers(reader)
    first_dense = _first_dense_layers(reader, layers, default=dense_default)
    config = dict(reader.config)
    config["first_k_dense_replace"] = first_dense
    return config


def deepseek_v3(reader: ConfigReader) -> Architecture:
    """DeepSeek-V3 and its derivatives (Kimi K2, DeepSeek-V3.1 / R1), with MTP modules counted
    apart; reads both the 4.x ``first_k_dense_replace`` and the 5.x ``mlp_layer_types``."""
    config = _mla_config(reader, None)
    arch = families_moe.deepseek(ConfigReader(config, reader.family, reader.where))
    layer = _mla_layer_params(config, reader.family)
    _mtp_deepseek_layout(reader, arch, arch.hidden_size or 0, arch.vocab_size or 0, layer)
    return arch


def deepseek_v32(reader: ConfigReader) -> Architecture:
    """DeepSeek-V3.2: DeepSeek-V3 plus the sparse-attention indexer in every layer (``wq_b``,
    ``wk``, a biased ``k_norm`` and ``weights_proj``), which transformers counts; its keys
    (``index_head_dim`` per layer and token) are cached beside the MLA latent."""
    config = _mla_config(reader, None)
    inner = ConfigReader(config, reader.family, reader.where)
    arch = families_moe.deepseek(inner)
    q_lora_rank = inner.int_or_null("q_lora_rank")
    if q_lora_rank is None:
        raise reader.error("q_lora_rank is null, but the DSA indexer projects from it")
    index_heads = inner.int("index_n_heads")
    index_dim = inner.int("index_head_dim")
    inner.check()
    hidden = arch.hidden_size or 0
    layers = arch.num_layers or 0
    indexer = (
        counting.linear(q_lora_rank, index_heads * index_dim)
        + counting.linear(hidden, index_dim)
        + counting.layer_norm(index_dim)
        + counting.linear(hidden, index_heads)
    )
    arch.parameter_count += layers * indexer
    arch.active_parameter_count = (arch.active_parameter_count or 0) + layers * indexer
    latent = next(iter(arch.kv_groups))[0]
    arch.kv_groups = {}
    arch.add_kv_layers(layers, latent + index_dim)
    # As for MLA: one GenZ KV head whose K+V width is the cached values (latent + index keys).
    arch.genz_kwargs["head_dim"] = (latent + index_dim + 1) // 2
    arch.extra.update({"index_n_heads": index_heads, "index_head_dim": index_dim})
    arch.extra["index_topk"] = inner.int("index_topk", default=2048)
    arch.warnings.append(
        "GenZ simulates DeepSeek sparse attention (top-"
        f"{arch.extra['index_topk']} tokens per query) as dense MLA without the indexer"
    )
    layer = _mla_layer_params(config, reader.family) + indexer
    _mtp_deepseek_layout(reader, arch, hidden, arch.vocab_size or 0, layer)
    return arch


def glm4_moe_lite(reader: ConfigReader) -> Architecture:
    """GLM-4.7-Flash (``glm4_moe_lite``): DeepSeek-V3 layout (MLA, routed + shared experts) with
    one dense layer first unless ``mlp_layer_types`` says otherwise, as transformers builds it."""
    layers = _layers(reader)
    if reader.str_list("mlp_layer_types") is None and reader.has("first_k_dense_replace"):
        # Glm4MoeLiteConfig ignores first_k_dense_replace and makes only layer 0 dense.
        first = reader.int("first_k_dense_replace", minimum=0)
        if first != 1:
            raise reader.error(
                f"first_k_dense_replace={first} but transformers builds one dense layer; "
                "give mlp_layer_types to say which layers are dense"
            )
        config = dict(reader.config)
        config["mlp_layer_types"] = ["dense"] + ["sparse"] * (layers - 1)
        reader = ConfigReader(config, reader.family, reader.where)
    config = _mla_config(reader, 1)
    arch = families_moe.deepseek(ConfigReader(config, reader.family, reader.where))
    layer = _mla_layer_params(config, reader.family)
    _mtp_deepseek_layout(reader, arch, arch.hidden_size or 0, arch.vocab_size or 0, layer)
    return arch


# --- Llama 4 -------------------------------------------------------------------------------------


def llama4_text(reader: ConfigReader) -> Architecture:
    """Llama 4 text: MoE layers (``moe_layers`` / ``interleave_moe_layer_step``) with one routed
    expert of ``intermediate_size`` plus a shared expert, dense layers of
    ``intermediate_size_mlp``; chunked attention (``attention_chunk_size``) on the RoPE layers."""
    layers = _layers(reader)
    experts = reader.int("num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("intermediate_size")
    reader.check()
    step = reader.int("interleave_moe_layer_step", default=1)
    moe_layers = reader.int_list("moe_layers")
    if moe_layers is None:
        moe_layers = list(range(step - 1, layers, step))
    chosen = set(moe_layers)
    pattern = [index in chosen for index in range(layers)]
    dense_width = reader.int("intermediate_size_mlp") if not all(pattern) else 0
    reader.check()
    moe = MoeSpec(
        experts,
        top_k,
        width,
        pattern,
        dense_intermediate_size=dense_width,
        shared_intermediate_size=width,
        num_shared_experts=1,
    )
    arch = build_decoder(reader, moe=moe, head_dim_default=128, **_attention_bias(reader))
    arch.intermediate_size = width
    layer_types = read_layer_types(reader, layers)
    chunk = reader.optional_int("attention_chunk_size", minimum=1)
    if layer_types is None:
        no_rope = reader.int_list("no_rope_layers")
        if not no_rope:
            interval = reader.int("no_rope_layer_interval", default=4)
            no_rope = [int((index + 1) % interval != 0) for index in range(layers)]
        if len(no_rope) != layers:
            raise reader.error(f"no_rope_layers has {len(no_rope)} entries for {layers} layers")
        layer_types = [
            "chunked_attention" if flag and chunk is not None else "full_attention"
            for flag in no_rope
        ]
    # A chunked-attention layer attends within its chunk only: it caches at most one chunk.
    layer_types = [
        "sliding_attention" if kind == "chunked_attention" else kind for kind in layer_types
    ]
    add_attention_kv(arch, layer_types, chunk, _kv_values(arch))
    if chunk is not None and any(kind == "sliding_attention" for kind in layer_types):
        arch.warnings.append(
            f"chunked attention ({chunk}-token chunks) is recorded as a {chunk}-token window"
        )
    _warn_mixed_windows(arch)
    return arch


def _llama4_vision_params(vision: ConfigReader) -> int:
    hidden = vision.int("hidden_size")
    layers = vision.int("num_hidden_layers")
    intermediate = vision.int("intermediate_size")
    image = vision.int("image_size")
    patch = vision.int("patch_size")
    projector_in = vision.int("projector_input_dim")
    projector_out = vision.int("projector_output_dim")
    vision.check()
    channels = vision.int("num_channels", default=3)
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
        + 2 * counting.layer_norm(hidden)
    )
    return (
        counting.linear(channels * patch * patch, hidden)  # unfold "convolution"
        + hidden  # class embedding
        + ((image // patch) ** 2 + 1) * hidden  # positional embedding
        + 2 * counting.layer_norm(hidden)  # pre / post
        + layers * per_layer
        + counting.linear(intermediate, projector_in)  # pixel-shuffle MLP
        + counting.linear(projector_out, projector_out)
    )


def llama4(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Llama 4 (Scout / Maverick) multimodal: vision encoder, pixel-shuffle adapter and a
    projector to the Llama 4 text model."""
    arch, warnings = _text_architecture(reader, dispatch, "llama4_text")
    text_params = arch.parameter_count
    vision = _vision_reader(reader, "llama4_vision_model", warnings)
    vision_params = _llama4_vision_params(vision)
    projector = counting.linear(vision.int("vision_output_dim"), arch.hidden_size or 0)
    vision.check()
    return finish_multimodal(arch, text_params, vision_params, projector, warnings)


# --- hybrids: linear attention / convolution layers with MoE FFNs --------------------------------


def _gated_delta_net(reader: ConfigReader, hidden: int) -> tuple[int, int, int]:
    """(parameters, conv state values, recurrent state values) of one Qwen3-Next linear layer."""
    key_heads = reader.int("linear_num_key_heads")
    value_heads = reader.int("linear_num_value_heads")
    key_dim = reader.int("linear_key_head_dim")
    value_dim = reader.int("linear_value_head_dim")
    kernel = reader.int("linear_conv_kernel_dim")
    reader.check()
    key_width = key_heads * key_dim
    value_width = value_heads * value_dim
    conv_dim = 2 * key_width + value_width
    params = (
        counting.linear(hidden, 2 * key_width + 2 * value_width)  # q, k, v, z
        + counting.linear(hidden, 2 * value_heads)  # b, a
        + conv_dim * kernel  # depthwise conv, no bias
        + value_dim  # gated RMSNorm
        + counting.linear(value_width, hidden)
        + 2 * value_heads  # dt_bias, A_log
    )
    return params, conv_dim * kernel, value_heads * key_dim * value_dim


def _qwen_next_family(
    reader: ConfigReader, *, dense_allowed: bool, mtp_default: int = 0
) -> Architecture:
    """Qwen3-Next / Qwen3.5-MoE text: gated DeltaNet linear-attention layers and gated full
    attention (q_proj twice as wide) per ``layer_types``; routed experts plus a gated shared one."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("moe_intermediate_size")
    shared_width = reader.int("shared_expert_intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = reader.int("head_dim", default=256)  # Qwen3NextConfig / Qwen3_5MoeTextConfig
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        interval = reader.int("full_attention_interval", default=4)
        layer_types = [
            "linear_attention" if (index + 1) % interval else "full_attention"
            for index in range(layers)
        ]
    unknown = sorted(set(layer_types) - {"linear_attention", "full_attention"})
    if unknown:
        raise reader.error(f"layer_types has unknown entries {unknown}")
    sparse = [True] * layers
    dense_width = 0
    if dense_allowed:
        step = reader.int("decoder_sparse_step", default=1)
        mlp_only = set(reader.int_list("mlp_only_layers") or ())
        sparse = [index not in mlp_only and (index + 1) % step == 0 for index in range(layers)]
        if not all(sparse):
            dense_width = reader.int("intermediate_size")
            reader.check()
    bias = reader.bool("attention_bias", default=False)
    tied = reader.bool("tie_word_embeddings", default=False)
    full_attention = (
        counting.linear(hidden, 2 * heads * head_dim, bias)  # query and its output gate
        + 2 * counting.linear(hidden, kv_heads * head_dim, bias)
        + counting.linear(heads * head_dim, hidden, bias)
        + 2 * head_dim  # q_norm, k_norm
    )
    linear, conv_state, recurrent_state = _gated_delta_net(reader, hidden)
    moe_ffn = _moe_ffn_params(hidden, experts, width, shared_width, shared_gate=True)
    full_layers = layer_types.count("full_attention")
    linear_layers = layers - full_layers
    moe_layers = sum(sparse)
    total = (
        vocab * hidden
        + full_layers * full_attention
        + linear_layers * linear
        + layers * 2 * hidden
        + moe_layers * moe_ffn
        + (layers - moe_layers) * counting.mlp(hidden, dense_width, True)
        + hidden
    )
    if not tied:
        total += vocab * hidden
    one_expert = counting.mlp(hidden, width, True)
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - moe_layers * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = width
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = attention_type
    arch.add_kv_layers(full_layers, 2 * kv_heads * head_dim)
    arch.ssm = {
        "layers": linear_layers,
        "conv_state_values": conv_state,
        "ssm_state_values": recurrent_state,
    }
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    moe = MoeSpec(
        experts,
        top_k,
        width,
        sparse,
        shared_intermediate_size=shared_width,
        num_shared_experts=1,
        shared_expert_gate=True,
    )
    arch.genz_kwargs.update(genz_moe_kwargs(arch, moe, layers))
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no gated-DeltaNet (linear attention) operator; "
        f"{linear_layers} of {layers} layers cannot be simulated"
    )
    mtp_layer = full_attention + 2 * hidden + moe_ffn
    _mtp_qwen_layout(reader, arch, hidden, mtp_layer, mtp_default)
    return arch


def qwen3_next(reader: ConfigReader) -> Architecture:
    """Qwen3-Next (80B-A3B): 3 gated-DeltaNet layers to 1 gated full-attention layer."""
    return _qwen_next_family(reader, dense_allowed=True, mtp_default=1)


def qwen3_5_moe_text(reader: ConfigReader) -> Architecture:
    """The Qwen3.5-MoE language model (Qwen3-Next layout, every layer MoE)."""
    return _qwen_next_family(reader, dense_allowed=False)


def _qwen3_vl_vision_params(vision: ConfigReader, deepstack_default: list[int]) -> int:
    """The Qwen3-VL / Qwen3.5 vision tower: biased 3-D patch embedding, learned positions,
    LayerNorm ViT blocks, a patch merger and one extra merger per DeepStack level."""
    hidden = vision.int("hidden_size")
    depth = vision.int("depth")
    intermediate = vision.int("intermediate_size")
    out_hidden = vision.int("out_hidden_size")
    vision.check()
    channels = vision.int("in_channels", default=3)
    patch = vision.int("patch_size", default=16)
    temporal = vision.int("temporal_patch_size", default=2)
    merge = vision.int("spatial_merge_size", default=2)
    positions = vision.int("num_position_embeddings", default=2304)
    deepstack = vision.int_list("deepstack_visual_indexes")
    levels = len(deepstack if deepstack is not None else deepstack_default)
    per_block = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    merged = hidden * merge * merge
    merger_linears = counting.linear(merged, merged, True) + counting.linear(
        merged, out_hidden, True
    )
    return (
        channels * temporal * patch * patch * hidden
        + hidden
        + positions * hidden
        + depth * per_block
        + counting.layer_norm(hidden)
        + merger_linears
        + levels * (counting.layer_norm(merged) + merger_linears)
    )


def _qwen_vl_wrapper(
    reader: ConfigReader, dispatch: Dispatch, text_type: str, deepstack_default: list[int]
) -> Architecture:
    text_config = reader.sub("text_config")
    if text_config is not None:
        # transformers 5 ties the head by the wrapper's tie_word_embeddings (class default
        # False), whatever the nested text_config says (Qwen3VLMoeTextConfig defaults to True).
        text_config = dict(text_config)
        text_config["tie_word_embeddings"] = reader.bool("tie_word_embeddings", default=False)
        config = dict(reader.config)
        config["text_config"] = text_config
        reader = ConfigReader(config, reader.family, reader.where)
    arch, warnings = _text_architecture(reader, dispatch, text_type)
    text_params = arch.parameter_count
    vision = _vision_reader(reader, text_type.replace("_text", "_vision"), warnings)
    vision_params = _qwen3_vl_vision_params(vision, deepstack_default)
    return finish_multimodal(arch, text_params, vision_params, 0, warnings)


def qwen3_vl_moe(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Qwen3-VL-MoE: Qwen3-VL vision tower (DeepStack mergers) + Qwen3-MoE language model."""
    return _qwen_vl_wrapper(reader, dispatch, "qwen3_vl_moe_text", [8, 16, 24])


def qwen3_5_moe(reader: ConfigReader, dispatch: Dispatch) -> Architecture:
    """Qwen3.5-MoE: Qwen3.5 vision tower + the Qwen3-Next-style MoE language model."""
    return _qwen_vl_wrapper(reader, dispatch, "qwen3_5_moe_text", [])


def qwen3_vl_moe_text(reader: ConfigReader) -> Architecture:
    """The Qwen3-VL-MoE language model: Qwen3-MoE, tied embeddings by default."""
    layers = _layers(reader)
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("moe_intermediate_size")
    reader.check()
    step = reader.int("decoder_sparse_step", default=1)
    mlp_only = set(reader.int_list("mlp_only_layers") or ())
    pattern = [index not in mlp_only and (index + 1) % step == 0 for index in range(layers)]
    moe = MoeSpec(experts, top_k, width, pattern)
    arch = build_decoder(
        reader, moe=moe, qk_norm=QK_NORM_PER_HEAD_DIM, tie_default=True, **_attention_bias(reader)
    )
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def minimax(reader: ConfigReader) -> Architecture:
    """MiniMax-Text-01: lightning (linear) attention layers and softmax attention layers per
    ``layer_types`` (or the original ``attn_type_list``: 0 lightning, 1 softmax), Mixtral-style
    experts in every layer. A lightning layer keeps a heads x head_dim x head_dim state."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    experts = reader.int("num_local_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = reader.int("head_dim", default=0) or derived_head_dim(reader, hidden, heads)
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        codes = reader.int_list("attn_type_list")
        if codes is not None:
            if len(codes) != layers:
                raise reader.error(f"attn_type_list has {len(codes)} entries for {layers} layers")
            layer_types = ["full_attention" if code else "linear_attention" for code in codes]
        else:
            layer_types = [
                "full_attention" if (index + 1) % 2 else "linear_attention"
                for index in range(layers)
            ]
    tied = reader.bool("tie_word_embeddings", default=False)
    width_qkv = heads * head_dim
    lightning = (
        width_qkv  # norm
        + counting.linear(hidden, 3 * width_qkv)
        + counting.linear(width_qkv, hidden)
        + counting.linear(hidden, width_qkv)  # output gate
    )
    softmax = counting.attention(hidden, heads, kv_heads, head_dim)
    full_layers = layer_types.count("full_attention")
    linear_layers = layers - full_layers
    one_expert = counting.mlp(hidden, width, True)
    total = (
        vocab * hidden
        + full_layers * softmax
        + linear_layers * lightning
        + layers * (2 * hidden + _moe_ffn_params(hidden, experts, width))
        + hidden
    )
    if not tied:
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - layers * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = width
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = attention_type
    arch.add_kv_layers(full_layers, 2 * kv_heads * head_dim)
    arch.ssm = {
        "layers": linear_layers,
        "conv_state_values": 0,
        "ssm_state_values": heads * head_dim * head_dim,
    }
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    arch.genz_kwargs.update(
        genz_moe_kwargs(arch, MoeSpec(experts, top_k, width, [True] * layers), layers)
    )
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no lightning (linear) attention operator; "
        f"{linear_layers} of {layers} layers cannot be simulated"
    )
    return arch


def lfm2_moe(reader: ConfigReader) -> Architecture:
    """LFM2-MoE: LFM2's gated short-convolution and attention layers (``layer_types``), dense
    FFNs in the first ``num_dense_layers``, then routed experts (router bias is a buffer)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    width = reader.int("moe_intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        indices = reader.int_list("full_attn_idxs")
        if indices is None:
            reader.require("layer_types")
            reader.check()
        chosen = set(indices or ())
        layer_types = ["full_attention" if index in chosen else "conv" for index in range(layers)]
    dense_layers = min(reader.int("num_dense_layers", default=2, minimum=0), layers)
    dense_width = reader.int("intermediate_size") if dense_layers else 0
    reader.check()
    kv_heads = reader.int("num_key_value_heads", default=heads)
    attention_type = checked_attention_type(reader, heads, kv_heads)
    head_dim = derived_head_dim(reader, hidden, heads, head_dim_key=None)
    conv_bias = reader.bool("conv_bias", default=False)
    kernel = reader.int("conv_L_cache", default=3)
    tied = reader.bool("tie_word_embeddings", "tie_embedding", default=True)
    attention = counting.attention(hidden, heads, kv_heads, head_dim) + 2 * head_dim
    conv = (
        counting.linear(hidden, 3 * hidden, conv_bias)
        + hidden * kernel
        + (hidden if conv_bias else 0)
        + counting.linear(hidden, hidden, conv_bias)
    )
    attention_layers = sum(1 for kind in layer_types if kind != "conv")
    conv_layers = layers - attention_layers
    moe_layers = layers - dense_layers
    one_expert = counting.mlp(hidden, width, True)
    total = (
        vocab * hidden
        + attention_layers * attention
        + conv_layers * conv
        + layers * 2 * hidden
        + dense_layers * counting.mlp(hidden, dense_width, True)
        + moe_layers * _moe_ffn_params(hidden, experts, width)
        + hidden  # embedding_norm (the final norm)
    )
    if not tied:
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - moe_layers * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = width
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = attention_type
    arch.add_kv_layers(attention_layers, 2 * kv_heads * head_dim)
    arch.ssm = {"layers": conv_layers, "conv_state_values": hidden * kernel, "ssm_state_values": 0}
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    pattern = [index >= dense_layers for index in range(layers)]
    arch.genz_kwargs.update(genz_moe_kwargs(arch, MoeSpec(experts, top_k, width, pattern), layers))
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no gated short-convolution operator; LFM2-MoE's "
        f"{conv_layers} convolution layers cannot be simulated"
    )
    return arch


def jetmoe(reader: ConfigReader) -> Architecture:
    """JetMoE: mixture-of-attention-heads (``num_local_experts`` query/output experts sharing one
    K/V projection, ``num_experts_per_tok`` active) and a mixture-of-experts FFN; both expert
    sets carry an output bias. Attention heads = ``num_key_value_heads`` x experts per token."""
    hidden = reader.int("hidden_size", "n_embd")
    layers = reader.int("num_hidden_layers", "n_layer")
    vocab = reader.int("vocab_size")
    kv_heads = reader.int("num_key_value_heads")
    head_dim = reader.int("kv_channels", "head_dim")
    experts = reader.int("num_local_experts", "moe_num_experts")
    top_k = reader.int("num_experts_per_tok", "moe_top_k")
    width = reader.int("intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    tied = reader.bool("tie_word_embeddings", default=True)
    kv_width = kv_heads * head_dim
    attention_expert = 2 * hidden * kv_width
    ffn_expert = counting.mlp(hidden, width, True)
    per_layer = (
        hidden  # MoA output bias
        + experts * attention_expert
        + counting.linear(hidden, experts)  # MoA router
        + counting.linear(hidden, 2 * kv_width)  # shared K/V projection
        + hidden  # MoE output bias
        + experts * ffn_expert
        + counting.linear(hidden, experts)  # MoE router
        + 2 * hidden  # norms
    )
    total = vocab * hidden + layers * per_layer + hidden
    if not tied:
        total += vocab * hidden
    heads = kv_heads * top_k
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - layers * (experts - top_k) * (
        attention_expert + ffn_expert
    )
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = width
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = checked_attention_type(reader, heads, kv_heads)
    arch.add_kv_layers(layers, 2 * kv_width)
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    arch.genz_kwargs.update(
        genz_moe_kwargs(arch, MoeSpec(experts, top_k, width, [True] * layers), layers)
    )
    arch.warnings.append(
        "GenZ simulates JetMoE's mixture of attention heads as ordinary attention with "
        f"{heads} query heads (the active experts' heads); FLOPs match, expert weights do not"
    )
    return arch


def mimo(reader: ConfigReader) -> Architecture:
    """Xiaomi MiMo (custom ``model_type`` ``mimo``): a Qwen2 decoder plus MTP layers
    (``num_nextn_predict_layers``), counted apart in ``mtp_parameter_count``."""
    arch = families_dense.qwen2(reader)
    modules = reader.int("num_nextn_predict_layers", default=0, minimum=0)
    if modules:
        hidden = arch.hidden_size or 0
        layer = (
            counting.attention(
                hidden,
                arch.num_attention_heads or 0,
                arch.num_key_value_heads or 0,
                arch.head_dim or 0,
                q_bias=True,
                kv_bias=True,
            )
            + counting.mlp(hidden, arch.intermediate_size or 0, True)
            + 2 * hidden
        )
        own = 3 * hidden + counting.linear(2 * hidden, hidden)
        arch.mtp_parameter_count = modules * (layer + own)
        arch.extra["mtp_modules"] = modules
        arch.extra["mtp_shared_copy_parameter_count"] = 0
    return arch
