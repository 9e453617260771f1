"""More decoder families: Llama relatives whose differences are a few norms, biases or vectors.

Every handler here counts what transformers 5 allocates for the family's ``*ForCausalLM`` class
(checked against the meta-device count on the default config and on real configs in the tests).
Keys that transformers 4-era files spell differently are read through :func:`with_aliases`.
"""

from __future__ import annotations

from typing import Any

from genz_catalog.convert import counting, families_dense
from genz_catalog.convert._arch import Architecture
from genz_catalog.convert._decoder import (
    QK_NORM_FULL_WIDTH,
    QK_NORM_LAYERNORM_HEAD_DIM,
    QK_NORM_NONE,
    QK_NORM_PER_HEAD_DIM,
    MoeSpec,
    add_attention_kv,
    build_decoder,
    check_top_k,
    derived_head_dim,
    genz_dense_kwargs,
    genz_moe_kwargs,
    read_context_length,
    read_layer_types,
)
from genz_catalog.convert._reader import ConfigReader
from genz_catalog.convert.families_moe import _local_experts_in_every_layer


def with_aliases(
    reader: ConfigReader,
    aliases: dict[str, str] | None = None,
    defaults: dict[str, Any] | None = None,
) -> ConfigReader:
    """A reader over a copy of the config where ``aliases`` (old key -> canonical key) are resolved
    and ``defaults`` (the family's config-class defaults) fill keys the file leaves out.

    Only keys whose class default differs from what :func:`build_decoder` assumes go in
    ``defaults``; transformers applies exactly these values when it loads the same file.
    """
    config = dict(reader.config)
    for old, canonical in (aliases or {}).items():
        if config.get(canonical) is None and config.get(old) is not None:
            config[canonical] = config[old]
    for key, value in (defaults or {}).items():
        if config.get(key) is None:
            config[key] = value
    return ConfigReader(config, reader.family, reader.where)


def _kv_values(arch: Architecture) -> int:
    return 2 * (arch.num_key_value_heads or 0) * (arch.head_dim or 0)


def _every_nth_full(layers: int, period: int, full_at: int) -> list[str]:
    """Layer i is full attention when ``i % period == full_at``, sliding otherwise."""
    return [
        "full_attention" if index % period == full_at else "sliding_attention"
        for index in range(layers)
    ]


def _llama_like(
    reader: ConfigReader,
    *,
    gated: bool = True,
    tie_default: bool = False,
    mlp_bias_key: str | None = "mlp_bias",
    **kwargs: Any,
) -> Architecture:
    """:func:`build_decoder` with ``attention_bias`` on q/k/v/o and ``mlp_bias`` read from the config."""
    attention_bias = reader.bool("attention_bias", default=False)
    mlp_bias = reader.bool(mlp_bias_key, default=False) if mlp_bias_key else False
    return build_decoder(
        reader,
        gated=gated,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        mlp_bias=mlp_bias,
        tie_default=tie_default,
        **kwargs,
    )


def _full_attention(arch: Architecture) -> Architecture:
    add_attention_kv(arch, None, None, _kv_values(arch))
    return arch


def _sliding_layers(
    arch: Architecture, reader: ConfigReader, default_types: list[str], default_window: int | None
) -> Architecture:
    """KV layout from ``layer_types`` (or the config class's default pattern) and ``sliding_window``."""
    layers = arch.num_layers or 0
    layer_types = read_layer_types(reader, layers) or default_types
    window = reader.optional_int("sliding_window", minimum=1) or default_window
    add_attention_kv(arch, layer_types, window, _kv_values(arch))
    return arch


# --- plain Llama layout under another name ----------------------------------------------------


def llama_renamed(reader: ConfigReader) -> Architecture:
    """Families transformers builds as ``LlamaForCausalLM`` with their own config class:
    EXAONE 3/3.5 (``num_layers``, ``activation_function``; 8 K/V heads by default), InternLM3
    (``qkv_bias``/``bias``; head_dim 128, 2 K/V heads by default) and IQuest-Coder."""
    family = reader.family
    if family == "exaone":
        reader = with_aliases(
            reader,
            {
                "num_layers": "num_hidden_layers",
                "activation_function": "hidden_act",
                "n_embd": "hidden_size",
            },
            {"num_key_value_heads": 8},
        )
    elif family == "internlm3":
        reader = with_aliases(
            reader,
            {"qkv_bias": "attention_bias", "bias": "mlp_bias"},
            {"num_key_value_heads": 2, "head_dim": 128},
        )
    elif family == "iquestcoder":
        reader = with_aliases(reader, None, {"num_key_value_heads": 8, "head_dim": 128})
    return _full_attention(_llama_like(reader))


def helium(reader: ConfigReader) -> Architecture:
    """Kyutai Helium (Llama layout; ``attention_bias`` on q/k/v only; head_dim 128 by default)."""
    reader = with_aliases(reader, None, {"head_dim": 128})
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        mlp_bias=reader.bool("mlp_bias", default=False),
    )
    # Helium's o_proj is hidden x hidden: a model whose heads x head_dim differs cannot run.
    if (arch.num_attention_heads or 0) * (arch.head_dim or 0) != arch.hidden_size:
        raise reader.error(
            f"num_attention_heads x head_dim ({arch.num_attention_heads} x {arch.head_dim}) must "
            f"equal hidden_size ({arch.hidden_size}): Helium's output projection is hidden x hidden"
        )
    return _full_attention(arch)


def arcee(reader: ConfigReader) -> Architecture:
    """Arcee AFM (Llama layout with an ungated ReLU² MLP: up and down projections only)."""
    return _full_attention(_llama_like(reader, gated=False))


def hyperclovax(reader: ConfigReader) -> Architecture:
    """HyperCLOVA X SEED (Llama layout plus two post-norms per layer when ``use_post_norm``)."""
    post_norm = reader.bool("use_post_norm", default=True)
    return _full_attention(_llama_like(reader, norms_per_layer=4 if post_norm else 2))


def bitnet(reader: ConfigReader) -> Architecture:
    """BitNet b1.58 (Llama layout plus ``attn_sub_norm`` (hidden) and ``ffn_sub_norm`` (FFN width)).

    Counted as transformers allocates it (one value per weight); the checkpoint packs weights into
    ternary values, which changes bytes, not the number of parameters.
    """
    intermediate = reader.int("intermediate_size")
    hidden = reader.int("hidden_size")
    reader.check()
    arch = _llama_like(reader, mlp_bias_key=None, extra_params_per_layer=hidden + intermediate)
    arch.warnings.append(
        "BitNet weights are ternary (1.58 bit); GenZ simulates them at the chosen precision"
    )
    return _full_attention(arch)


def diffllama(reader: ConfigReader) -> Architecture:
    """DiffLlama (differential attention: four ``lambda`` vectors of head_dim per layer)."""
    arch = _llama_like(reader, mlp_bias_key=None)
    extra = 4 * (arch.head_dim or 0) * (arch.num_layers or 0)
    arch.parameter_count += extra
    arch.active_parameter_count = (arch.active_parameter_count or 0) + extra
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no differential attention (two softmax maps per head); it would "
        "simulate half the attention work"
    )
    return _full_attention(arch)


def nanochat(reader: ConfigReader) -> Architecture:
    """nanochat (parameter-free RMSNorms and q/k norms, ungated ReLU² MLP ``fc1``/``fc2``)."""
    arch = _llama_like(reader, gated=False, mlp_bias_key=None, norms_per_layer=0, final_norm=False)
    return _full_attention(arch)


def jais2(reader: ConfigReader) -> Architecture:
    """Jais 2 (LayerNorm with bias, ungated ReLU² MLP, biases from ``attention_bias``/``mlp_bias``)."""
    arch = _llama_like(reader, gated=False, norm_bias=True)
    return _full_attention(arch)


def persimmon(reader: ConfigReader) -> Architecture:
    """Adept Persimmon / Fuyu's decoder (fused qkv with bias, LayerNorm with bias, per-head q/k
    LayerNorm when ``qk_layernorm``, ungated ReLU² MLP with bias; multi-head attention)."""
    qk_norm = (
        QK_NORM_LAYERNORM_HEAD_DIM if reader.bool("qk_layernorm", default=True) else QK_NORM_NONE
    )
    arch = build_decoder(
        reader,
        gated=False,
        q_bias=True,
        kv_bias=True,
        o_bias=True,
        mlp_bias=True,
        norm_bias=True,
        qk_norm=qk_norm,
        tie_default=False,
    )
    return _full_attention(arch)


def doge(reader: ConfigReader) -> Architecture:
    """SmallDoge dense (Llama layout plus dynamic-mask attention: ``A`` and ``dt_proj`` per K/V
    head, learned residual scales, per-head q/k norms). The cross-domain MoE variant
    (``is_moe: true``) is refused: its expert embeddings are not counted here."""
    if reader.bool("is_moe", default=False):
        raise reader.error(
            "is_moe=true (Doge cross-domain MoE with num_experts expert embeddings) is not "
            "supported; only dense Doge configs can be counted"
        )
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    reader.check()
    kv_heads = reader.int("num_key_value_heads", default=heads)
    head_dim = reader.int("head_dim", default=0) or hidden // heads
    bias = reader.bool("attention_bias", default=False)
    dynamic_mask = kv_heads + counting.linear(kv_heads * head_dim, kv_heads, bias)
    arch = _llama_like(
        reader,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        extra_params_per_layer=dynamic_mask + 2 * hidden,
    )
    window = reader.optional_int("sliding_window", minimum=1)
    add_attention_kv(arch, None, window, _kv_values(arch))
    arch.genz_unsupported = (
        "GenZ 0.0.16 has no dynamic-mask attention (Doge's dt_proj mask over the keys)"
    )
    return arch


# --- with sliding-window layers ---------------------------------------------------------------


def olmo3(reader: ConfigReader) -> Architecture:
    """OLMo 3 (OLMo 2 layout: post-norms, full-width q/k norms; 3 sliding : 1 full layers)."""
    arch = _llama_like(reader, mlp_bias_key=None, qk_norm=QK_NORM_FULL_WIDTH)
    layers = arch.num_layers or 0
    default = ["sliding_attention" if (i + 1) % 4 else "full_attention" for i in range(layers)]
    return _sliding_layers(arch, reader, default, 4096)


def vaultgemma(reader: ConfigReader) -> Architecture:
    """VaultGemma (Gemma 2 without post-norms: two norms per layer; every other layer slides)."""
    reader = with_aliases(reader, None, {"num_key_value_heads": 4, "head_dim": 256})
    arch = _llama_like(reader, mlp_bias_key=None, tie_default=True)
    layers = arch.num_layers or 0
    default = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(layers)]
    return _sliding_layers(arch, reader, default, 4096)


def cwm(reader: ConfigReader) -> Architecture:
    """Meta Code World Model (Llama layout; every 4th layer full attention, others slide)."""
    reader = with_aliases(reader, None, {"num_key_value_heads": 8, "head_dim": 128})
    arch = _llama_like(reader)
    return _sliding_layers(arch, reader, _every_nth_full(arch.num_layers or 0, 4, 0), 8192)


def granite_swa(reader: ConfigReader) -> Architecture:
    """Granite with sliding-window attention and attention sinks (one value per head per layer)."""
    reader = with_aliases(reader, None, {"num_key_value_heads": 4})
    heads = reader.int("num_attention_heads")
    reader.check()
    arch = _llama_like(reader, tie_default=True, extra_params_per_layer=heads)
    arch.genz_unsupported = "GenZ 0.0.16 has no attention sinks"
    return _sliding_layers(arch, reader, _every_nth_full(arch.num_layers or 0, 4, 0), 128)


def granitemoe_swa(reader: ConfigReader) -> Architecture:
    """Granite MoE with sliding-window attention and attention sinks."""
    heads = reader.int("num_attention_heads")
    reader.check()
    moe = _local_experts_in_every_layer(
        reader, reader.int("shared_intermediate_size", default=0, minimum=0)
    )
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        tie_default=False,
        extra_params_per_layer=heads,
    )
    if arch.genz_unsupported is None:
        arch.genz_unsupported = "GenZ 0.0.16 has no attention sinks"
    return _sliding_layers(arch, reader, _every_nth_full(arch.num_layers or 0, 4, 0), 128)


# --- with per-head norms, gates or activation parameters --------------------------------------


def apertus1p5_text(reader: ConfigReader) -> Architecture:
    """Apertus 1.5 text model (per-head q/k norms, ungated MLP; xIELU carries two scalars per layer;
    the LM head may be pruned to ``output_vocab_size`` rows)."""
    activation = reader.str("hidden_act", default="xielu")
    activation_params = 2 if activation == "xielu" else 0
    vocab = reader.int("vocab_size")
    hidden = reader.int("hidden_size")
    reader.check()
    output_vocab = reader.optional_int("output_vocab_size", minimum=1)
    tied = reader.bool("tie_word_embeddings", default=False)
    if output_vocab is not None and output_vocab != vocab:
        if output_vocab > vocab:
            raise reader.error(
                f"output_vocab_size ({output_vocab}) is more than vocab_size ({vocab})"
            )
        if tied:
            raise reader.error(
                "tie_word_embeddings=true with a pruned output_vocab_size cannot be counted"
            )
    arch = _llama_like(
        reader,
        gated=False,
        mlp_bias_key=None,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        extra_params_per_layer=activation_params,
    )
    if output_vocab is not None and output_vocab != vocab and not tied:
        arch.parameter_count -= (vocab - output_vocab) * hidden
        arch.active_parameter_count = arch.parameter_count
    return _full_attention(arch)


def mellum(reader: ConfigReader) -> Architecture:
    """JetBrains Mellum (per-head q/k norms; ``mlp_layer_types`` sparse/dense; optional sliding
    layers). A multi-token-prediction layer (``num_nextn_predict_layers``) is not loaded by
    transformers and not counted; it is reported in ``architecture.mtp_layers``."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("num_local_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    mlp_types = reader.str_list("mlp_layer_types") or ["sparse"] * layers
    if len(mlp_types) != layers or not set(mlp_types) <= {"sparse", "dense"}:
        raise reader.error(
            f"mlp_layer_types must list 'sparse' or 'dense' for each of {layers} layers"
        )
    moe = MoeSpec(experts, top_k, expert_width, [kind == "sparse" for kind in mlp_types])
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        tie_default=False,
    )
    mtp = reader.optional_int("num_nextn_predict_layers", "num_mtp_layers") or 0
    if mtp:
        arch.extra["mtp_layers"] = mtp
    return _sliding_layers(arch, reader, ["full_attention"] * layers, None)


def solar_open(reader: ConfigReader) -> Architecture:
    """Upstage Solar Open (every layer MoE: routed experts plus ``n_shared_experts`` shared; the
    router's score-correction bias is a buffer)."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("n_routed_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    shared = reader.int("n_shared_experts", default=1, minimum=0)
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        [True] * layers,
        shared_intermediate_size=shared * expert_width,
        num_shared_experts=shared,
    )
    reader = with_aliases(reader, None, {"head_dim": 128})
    bias = reader.bool("attention_bias", default=False)  # q/k/v only, as in GLM-4.5 MoE
    arch = build_decoder(reader, moe=moe, q_bias=bias, kv_bias=bias)
    return _full_attention(arch)


def kolibri1(reader: ConfigReader) -> Architecture:
    """Kolibri 1 (four norms per layer, per-head q/k norms, MoE with a shared expert in every
    layer; 4 sliding : 1 full attention layers)."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("num_local_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    shared_width = reader.int("shared_expert_intermediate_size")
    reader.check()
    moe = MoeSpec(
        experts, top_k, expert_width, [True] * layers, shared_intermediate_size=shared_width
    )
    arch = _llama_like(
        reader, mlp_bias_key=None, moe=moe, norms_per_layer=4, qk_norm=QK_NORM_PER_HEAD_DIM
    )
    default = ["full_attention" if (i + 1) % 5 == 0 else "sliding_attention" for i in range(layers)]
    return _sliding_layers(arch, reader, default, 513)


def sarvam_moe(reader: ConfigReader) -> Architecture:
    """Sarvam MoE (built as GLM-4.5 MoE: q/k/v bias from ``attention_bias``/``use_qkv_bias``,
    optional per-head q/k norm, ``first_k_dense_replace`` dense layers, shared experts)."""
    reader = with_aliases(reader, {"use_qkv_bias": "attention_bias"})
    layers = reader.int("num_hidden_layers")
    experts = reader.int("n_routed_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    first_dense = reader.int("first_k_dense_replace", default=1, minimum=0)
    shared = reader.int("n_shared_experts", "num_shared_experts", default=1, minimum=0)
    # The router's e_score_correction_bias is a buffer in GLM-4.5 MoE: not a parameter.
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        [index >= first_dense for index in range(layers)],
        shared_intermediate_size=shared * expert_width,
        num_shared_experts=shared,
    )
    bias = reader.bool("attention_bias", default=False)
    qk_norm = QK_NORM_PER_HEAD_DIM if reader.bool("use_qk_norm", default=False) else QK_NORM_NONE
    arch = build_decoder(reader, moe=moe, q_bias=bias, kv_bias=bias, qk_norm=qk_norm)
    mtp = reader.optional_int("num_nextn_predict_layers", "num_mtp_layers") or 0
    if mtp:
        arch.extra["mtp_layers"] = mtp
    return _full_attention(arch)


def youtu(reader: ConfigReader) -> Architecture:
    """Tencent Youtu-LLM (dense Llama MLP under DeepSeek multi-head latent attention)."""
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    kv_lora_rank = reader.int("kv_lora_rank")
    rope_dim = reader.int("qk_rope_head_dim")
    nope_dim = reader.int("qk_nope_head_dim")
    v_head_dim = reader.int("v_head_dim")
    reader.check()
    q_lora_rank = reader.int_or_null("q_lora_rank") if "q_lora_rank" in reader.config else 1536
    bias = reader.bool("attention_bias", default=False)
    attention = counting.mla_attention(
        hidden, heads, q_lora_rank, kv_lora_rank, nope_dim, rope_dim, v_head_dim, bias
    )
    standard = counting.attention(hidden, heads, heads, 1)  # replaced by the MLA projections
    # build_decoder counts standard q/k/v/o for head_dim; give it head_dim 1 and add the rest.
    plain = with_aliases(reader, None, None)
    plain.config["head_dim"] = 1
    plain.config["num_key_value_heads"] = heads
    arch = build_decoder(
        plain,
        mlp_bias=reader.bool("mlp_bias", default=False),
        tie_default=True,
        extra_params_per_layer=attention - standard,
    )
    return mla_finish(arch, reader, kv_lora_rank, rope_dim, nope_dim, v_head_dim, q_lora_rank)


def mla_finish(
    arch: Architecture,
    reader: ConfigReader,
    kv_lora_rank: int,
    rope_dim: int,
    nope_dim: int,
    v_head_dim: int,
    q_lora_rank: int | None,
) -> Architecture:
    """MLA cache and GenZ arguments (as families_moe.deepseek): the latent plus the rope key per
    layer, simulated by GenZ as one K/V head of half that width."""
    heads = arch.num_attention_heads or 0
    arch.head_dim = nope_dim + rope_dim
    arch.num_key_value_heads = reader.int("num_key_value_heads", default=heads)
    arch.attention_type = "mla"
    latent = kv_lora_rank + rope_dim
    arch.kv_groups = {}
    arch.add_kv_layers(arch.num_layers or 0, latent)
    arch.genz_kwargs["num_key_value_heads"] = 1
    arch.genz_kwargs["head_dim"] = (latent + 1) // 2
    arch.extra.update(
        {
            "q_lora_rank": q_lora_rank,
            "kv_lora_rank": kv_lora_rank,
            "qk_rope_head_dim": rope_dim,
            "qk_nope_head_dim": nope_dim,
            "v_head_dim": v_head_dim,
        }
    )
    arch.warnings.append(
        "GenZ models MLA as one KV head of (kv_lora_rank + qk_rope_head_dim) / 2 so KV traffic "
        "matches; GenZ's attention FLOPs and weights are approximate for MLA"
    )
    return arch


# --- GPT-era decoders -------------------------------------------------------------------------


def _classic(
    reader: ConfigReader,
    *,
    hidden: int,
    layers: int,
    heads: int,
    intermediate: int,
    vocab: int,
    total: int,
    context: int | None,
    hidden_keys: tuple[str, ...],
    heads_keys: tuple[str, ...],
) -> Architecture:
    head_dim = families_dense._implied_head_dim(reader, hidden, heads, hidden_keys, heads_keys)
    return families_dense.finish_classic_mha(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        context=context,
    )


def openai_gpt(reader: ConfigReader) -> Architecture:
    """OpenAI GPT-1 (GPT-2 layout without a final LayerNorm; learned positions; tied head)."""
    hidden = reader.int("n_embd", "hidden_size")
    layers = reader.int("n_layer", "num_hidden_layers")
    heads = reader.int("n_head", "num_attention_heads")
    vocab = reader.int("vocab_size")
    positions = reader.int("n_positions", "max_position_embeddings")
    reader.check()
    intermediate = 4 * hidden
    per_layer = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden, True)
        + counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
    )
    total = (vocab + positions) * hidden + layers * per_layer
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    return _classic(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        context=positions,
        hidden_keys=("n_embd", "hidden_size"),
        heads_keys=("n_head", "num_attention_heads"),
    )


def ctrl(reader: ConfigReader) -> Architecture:
    """Salesforce CTRL (sinusoidal positions, biases everywhere, ``dff`` FFN, tied head with bias)."""
    hidden = reader.int("n_embd", "hidden_size")
    layers = reader.int("n_layer", "num_hidden_layers")
    heads = reader.int("n_head", "num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("dff")
    reader.check()
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
        + 2 * counting.layer_norm(hidden)
    )
    total = vocab * hidden + layers * per_layer + counting.layer_norm(hidden) + vocab
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    return _classic(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        context=reader.optional_int("n_positions", "max_position_embeddings", minimum=1),
        hidden_keys=("n_embd", "hidden_size"),
        heads_keys=("n_head", "num_attention_heads"),
    )


def biogpt(reader: ConfigReader) -> Architecture:
    """Microsoft BioGPT (pre-norm, learned positions with offset 2, biases, tied head)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    positions = reader.int("max_position_embeddings")
    reader.check()
    per_layer = (
        4 * counting.linear(hidden, hidden, True)
        + counting.mlp(hidden, intermediate, False, True)
        + 2 * counting.layer_norm(hidden)
    )
    total = (vocab + positions + 2) * hidden + layers * per_layer + counting.layer_norm(hidden)
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    return _classic(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        context=positions,
        hidden_keys=("hidden_size",),
        heads_keys=("num_attention_heads",),
    )


def gpt_neox_japanese(reader: ConfigReader) -> Architecture:
    """GPT-NeoX-Japanese (bias-free fused qkv and MLP of ``intermediate_multiple_size`` x hidden;
    only the last layer's attention output has a bias; tied head)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    reader.check()
    intermediate = hidden * reader.int("intermediate_multiple_size", default=4)
    per_layer = (
        2 * counting.layer_norm(hidden)
        + counting.linear(hidden, 3 * hidden)
        + counting.linear(hidden, hidden)
        + counting.mlp(hidden, intermediate, False)
    )
    total = vocab * hidden + layers * per_layer + hidden + counting.layer_norm(hidden)
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    return _classic(
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        context=read_context_length(reader),
        hidden_keys=("hidden_size",),
        heads_keys=("num_attention_heads",),
    )


def ministral(reader: ConfigReader) -> Architecture:
    """Ministral (Mistral layout without biases; ``layer_types`` chooses sliding layers, all of
    them by default when ``sliding_window`` is set; 8 K/V heads by default). ``head_dim`` is
    required: transformers cannot build a Ministral without it."""
    reader.int("head_dim")
    reader.check()
    reader = with_aliases(reader, None, {"num_key_value_heads": 8})
    arch = build_decoder(reader)
    layers = arch.num_layers or 0
    window = reader.optional_int("sliding_window", minimum=1)
    default = ["sliding_attention" if window else "full_attention"] * layers
    return _sliding_layers(arch, reader, default, None)


def nemotron(reader: ConfigReader) -> Architecture:
    """NVIDIA Nemotron-3/4 and Minitron (LayerNorm1P with bias, ungated squared-ReLU MLP, biases
    from ``attention_bias``/``mlp_bias``). ``num_key_value_heads`` is required: transformers
    cannot build a Nemotron without it."""
    reader.int("num_key_value_heads")
    reader.check()
    arch = _llama_like(reader, gated=False, norm_bias=True)
    return _full_attention(arch)


# --- more mixtures of experts -----------------------------------------------------------------


def _mlp_pattern(reader: ConfigReader, layers: int, first_dense: int) -> list[bool]:
    """Sparse layers from ``mlp_layer_types`` ('dense'/'sparse'), else the first ``first_dense``
    layers dense and the rest sparse (the config classes' rule)."""
    kinds = reader.str_list("mlp_layer_types")
    if kinds is None:
        return [index >= first_dense for index in range(layers)]
    if len(kinds) != layers or not set(kinds) <= {"sparse", "dense"}:
        raise reader.error(
            f"mlp_layer_types must list 'sparse' or 'dense' for each of {layers} layers"
        )
    return [kind == "sparse" for kind in kinds]


def exaone_moe(reader: ConfigReader) -> Architecture:
    """K-EXAONE MoE (per-head q/k norms; routed experts plus ``num_shared_experts`` shared after
    ``first_k_dense_replace`` dense layers; 3 sliding : 1 full layers; the router's score
    correction is a buffer)."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("num_experts", "n_routed_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    shared = reader.int("num_shared_experts", "n_shared_experts", default=1, minimum=0)
    pattern = _mlp_pattern(
        reader, layers, reader.int("first_k_dense_replace", default=1, minimum=0)
    )
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        pattern,
        shared_intermediate_size=shared * expert_width,
        num_shared_experts=shared,
    )
    arch = build_decoder(reader, moe=moe, qk_norm=QK_NORM_PER_HEAD_DIM)
    window = reader.optional_int("sliding_window", minimum=1)
    if window is None:
        default = ["full_attention"] * layers
    else:
        period = reader.int("sliding_window_pattern", default=4)
        default = [
            "sliding_attention" if (index + 1) % period else "full_attention"
            for index in range(layers)
        ]
    return _sliding_layers(arch, reader, default, None)


def afmoe(reader: ConfigReader) -> Architecture:
    """Arcee AFMoE / Trinity (gated attention: a sigmoid gate projection per layer; four norms;
    per-head q/k norms; ``num_dense_layers`` dense, then routed + shared experts with a learned
    expert-bias vector; 3 sliding : 1 full layers by default)."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("num_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    reader.check()
    head_dim = reader.int("head_dim", default=0) or derived_head_dim(reader, hidden, heads)
    shared = reader.int("num_shared_experts", default=2, minimum=0)
    dense = reader.int("num_dense_layers", default=1, minimum=0)
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        [index >= dense for index in range(layers)],
        shared_intermediate_size=shared * expert_width,
        num_shared_experts=shared,
        router_extra_per_layer=experts,  # expert_bias is an nn.Parameter here
    )
    attention_bias = reader.bool("attention_bias", default=False)
    arch = build_decoder(
        reader,
        moe=moe,
        q_bias=attention_bias,
        kv_bias=attention_bias,
        o_bias=attention_bias,
        norms_per_layer=4,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        extra_params_per_layer=counting.linear(hidden, heads * head_dim),
    )
    period = reader.int("global_attn_every_n_layers", default=4)
    default = [
        "sliding_attention" if (index + 1) % period else "full_attention" for index in range(layers)
    ]
    arch.genz_unsupported = arch.genz_unsupported or "GenZ 0.0.16 has no gated attention"
    return _sliding_layers(arch, reader, default, 1024)


def laguna(reader: ConfigReader) -> Architecture:
    """Poolside Laguna (per-layer query-head counts, per-head q/k norms, a sigmoid output gate per
    head (``gating: per-element`` or false: one gate per channel), ``mlp_layer_types`` dense/sparse with
    routed experts, a shared expert and a learned score-correction vector)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    experts = reader.int("num_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    kv_heads = reader.int("num_key_value_heads", default=8)
    head_dim = reader.int("head_dim", default=128)
    shared_width = reader.int("shared_expert_intermediate_size", default=512, minimum=0)
    heads_per_layer = reader.int_list("num_attention_heads_per_layer") or [heads] * layers
    if len(heads_per_layer) != layers:
        raise reader.error(
            f"num_attention_heads_per_layer has {len(heads_per_layer)} entries for {layers} layers"
        )
    for layer_heads in heads_per_layer:
        families_dense.checked_attention_type(reader, layer_heads, kv_heads)
    pattern = _mlp_pattern(reader, layers, 1)
    check_top_k(reader, top_k, experts)
    gating = reader.raw("gating")
    # transformers gates per head only for true / "per-head"; anything else gets a gate per channel.
    per_element = not (gating is None or gating is True or gating == "per-head")
    if gating not in (None, True, False, "per-head", "per-element"):
        raise reader.error(f"gating must be true, 'per-head' or 'per-element', got {gating!r}")
    bias = reader.bool("attention_bias", default=False)
    total = vocab * hidden + hidden
    for layer_heads in heads_per_layer:
        total += counting.attention(hidden, layer_heads, kv_heads, head_dim, bias, bias, bias)
        total += 2 * head_dim + 2 * hidden
        total += counting.linear(hidden, layer_heads * head_dim if per_element else layer_heads)
    one_expert = counting.mlp(hidden, expert_width, True)
    sparse_ffn = (
        experts * one_expert
        + counting.linear(hidden, experts)
        + experts  # e_score_correction_bias is an nn.Parameter in Laguna
        + (counting.mlp(hidden, shared_width, True) if shared_width else 0)
    )
    sparse = sum(pattern)
    total += sparse * sparse_ffn + (layers - sparse) * counting.mlp(hidden, intermediate, True)
    if not reader.bool("tie_word_embeddings", default=False):
        total += vocab * hidden
    arch = families_dense.finish_plain(
        Architecture(reader.family),
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        gated=True,
        context=read_context_length(reader),
    )
    arch.active_parameter_count = total - sparse * (experts - top_k) * one_expert
    arch.num_experts = experts
    arch.experts_per_token = top_k
    moe = MoeSpec(experts, top_k, expert_width, pattern, shared_intermediate_size=shared_width)
    arch.genz_kwargs.update(genz_moe_kwargs(arch, moe, layers))
    if len(set(heads_per_layer)) > 1:
        arch.extra["num_attention_heads_per_layer"] = heads_per_layer
        arch.genz_unsupported = "GenZ 0.0.16 needs one query-head count for every layer"
    else:
        arch.genz_unsupported = arch.genz_unsupported or "GenZ 0.0.16 has no gated attention"
    return _sliding_layers(arch, reader, ["full_attention"] * layers, None)


# --- recurrent ---------------------------------------------------------------------------------


# --- flagship mixtures of experts ---------------------------------------------------------------


def mimo_v2_flash(reader: ConfigReader) -> Architecture:
    """Xiaomi MiMo-V2-Flash as transformers builds it: full-attention layers (the first and every
    6th) and sliding layers with twice the K/V heads and attention sinks; queries/keys of
    ``head_dim``, values of ``v_head_dim``; one dense layer, then routed experts.

    Hub files written for the reference code also carry ``hybrid_layer_pattern`` /
    ``swa_num_key_value_heads``; transformers ignores them, so a file where they disagree with
    the layout transformers builds is refused rather than counted either way.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    experts = reader.int("n_routed_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    kv_heads = reader.int("num_key_value_heads", default=4)
    head_dim = reader.int("head_dim", default=192)
    v_head_dim = reader.int("v_head_dim", default=128)
    layer_types = read_layer_types(reader, layers) or [
        "full_attention" if index == 0 or not (index + 1) % 6 else "sliding_attention"
        for index in range(layers)
    ]
    pattern = reader.int_list("hybrid_layer_pattern")
    if (
        pattern is not None
        and ["sliding_attention" if flag else "full_attention" for flag in pattern] != layer_types
    ):
        raise reader.error(
            "hybrid_layer_pattern disagrees with the layer_types transformers builds; "
            "cannot tell which layout the checkpoint holds"
        )
    swa_kv = reader.optional_int("swa_num_key_value_heads", minimum=1)
    if swa_kv is not None and swa_kv != 2 * kv_heads:
        raise reader.error(
            f"swa_num_key_value_heads ({swa_kv}) is not twice num_key_value_heads ({kv_heads}), "
            "the layout transformers builds"
        )
    sliding = layer_types.count("sliding_attention")
    full = layers - sliding
    bias = reader.bool("attention_bias", default=False)

    def attention(kv: int) -> int:
        return (
            counting.linear(hidden, heads * head_dim, bias)
            + counting.linear(hidden, kv * head_dim, bias)
            + counting.linear(hidden, kv * v_head_dim, bias)
            + counting.linear(heads * v_head_dim, hidden)
        )

    pattern_sparse = _mlp_pattern(reader, layers, 1)
    one_expert = counting.mlp(hidden, expert_width, True)
    sparse = sum(pattern_sparse)
    total = (
        vocab * hidden
        + hidden
        + layers * 2 * hidden
        + full * attention(kv_heads)
        + sliding * (attention(2 * kv_heads) + heads)
        + sparse * (experts * one_expert + counting.linear(hidden, experts))
        + (layers - sparse) * counting.mlp(hidden, intermediate, True)
    )
    if not reader.bool("tie_word_embeddings", default=False):
        total += vocab * hidden
    arch = families_dense.finish_plain(
        Architecture(reader.family),
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        gated=True,
        context=read_context_length(reader),
    )
    arch.active_parameter_count = total - sparse * (experts - top_k) * one_expert
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.genz_kwargs.update(
        genz_moe_kwargs(arch, MoeSpec(experts, top_k, expert_width, pattern_sparse), layers)
    )
    per_kv_head = head_dim + v_head_dim
    arch.add_kv_layers(full, kv_heads * per_kv_head)
    window = reader.optional_int("sliding_window", minimum=1) or 129
    arch.add_kv_layers(sliding, 2 * kv_heads * per_kv_head, window)
    arch.extra["v_head_dim"] = v_head_dim
    mtp = reader.optional_int("num_nextn_predict_layers") or 0
    if mtp:
        arch.extra["mtp_layers"] = mtp
    arch.genz_unsupported = (
        "GenZ 0.0.16 needs one K/V head count and one head width for every layer; MiMo-V2-Flash "
        "varies both and adds attention sinks"
    )
    return arch


def glm_moe_dsa(reader: ConfigReader) -> Architecture:
    """GLM-5 (DeepSeek-style MLA with a DSA lightning indexer on ``indexer_types: full`` layers;
    ``mlp_layer_types`` dense/sparse; routed plus shared experts; the router's score correction
    is a buffer). The indexer's key cache (``index_head_dim`` per token) is part of the KV layout."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    kv_lora_rank = reader.int("kv_lora_rank")
    q_lora_rank = reader.int("q_lora_rank")
    rope_dim = reader.int("qk_rope_head_dim")
    nope_dim = reader.int("qk_nope_head_dim")
    v_head_dim = reader.int("v_head_dim")
    experts = reader.int("n_routed_experts", "num_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    index_heads = reader.int("index_n_heads")
    index_dim = reader.int("index_head_dim")
    reader.check()
    check_top_k(reader, top_k, experts)
    shared = reader.int("n_shared_experts", default=1, minimum=0)
    pattern = _mlp_pattern(
        reader, layers, reader.int("first_k_dense_replace", default=3, minimum=0)
    )
    indexer_types = reader.str_list("indexer_types")
    if indexer_types is None:
        # No pattern in the file: transformers' default schedule (every layer from the third on
        # reuses nothing: freq 1) unless index_topk_pattern / index_topk_freq say otherwise.
        pattern_text = reader.raw("index_topk_pattern")
        if isinstance(pattern_text, str):
            indexer_types = [{"F": "full", "S": "shared"}.get(c, "?") for c in pattern_text]
        else:
            freq = max(reader.int("index_topk_freq", default=1), 1)
            offset = reader.int("index_skip_topk_offset", default=2, minimum=0)
            indexer_types = [
                "full" if max(index - offset + 1, 0) % freq == 0 else "shared"
                for index in range(layers)
            ]
    if len(indexer_types) != layers or set(indexer_types) - {"full", "shared"}:
        raise reader.error(
            f"indexer_types must list 'full' or 'shared' for each of {layers} layers"
        )
    bias = reader.bool("attention_bias", default=False)
    attention = counting.mla_attention(
        hidden, heads, q_lora_rank, kv_lora_rank, nope_dim, rope_dim, v_head_dim, bias
    )
    indexer = (
        counting.linear(q_lora_rank, index_heads * index_dim)
        + counting.linear(hidden, index_dim)
        + counting.layer_norm(index_dim)
        + counting.linear(hidden, index_heads)
    )
    with_indexer = indexer_types.count("full")
    one_expert = counting.mlp(hidden, expert_width, True)
    sparse = sum(pattern)
    total = (
        vocab * hidden
        + hidden
        + layers * (attention + 2 * hidden)
        + with_indexer * indexer
        + sparse
        * (
            experts * one_expert
            + counting.linear(hidden, experts)
            + (counting.mlp(hidden, shared * expert_width, True) if shared else 0)
        )
        + (layers - sparse) * counting.mlp(hidden, intermediate, True)
    )
    if not reader.bool("tie_word_embeddings", default=False):
        total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - sparse * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "hidden_act": reader.str("hidden_act", default="silu"),
    }
    if arch.context_length:
        arch.genz_kwargs["max_model_len"] = arch.context_length
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        pattern,
        shared_intermediate_size=shared * expert_width,
        num_shared_experts=shared,
    )
    arch.genz_kwargs.update(genz_moe_kwargs(arch, moe, layers))
    mla_finish(arch, reader, kv_lora_rank, rope_dim, nope_dim, v_head_dim, q_lora_rank)
    latent = kv_lora_rank + rope_dim
    arch.kv_groups = {}
    arch.add_kv_layers(with_indexer, latent + index_dim)
    arch.add_kv_layers(layers - with_indexer, latent)
    arch.extra.update({"index_n_heads": index_heads, "index_head_dim": index_dim})
    mtp = reader.optional_int("num_nextn_predict_layers") or 0
    if mtp:
        arch.extra["mtp_layers"] = mtp
    arch.genz_unsupported = "GenZ 0.0.16 has no DeepSeek sparse attention (lightning indexer)"
    return arch


def hy_v3(reader: ConfigReader) -> Architecture:
    """Tencent Hunyuan V3 (per-head q/k norms; ``mlp_layer_types`` dense/sparse, one dense layer
    by default; routed experts plus ``num_shared_experts`` shared; biases from
    ``attention_bias``; the router's score correction is a buffer)."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("num_experts", "num_local_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    if reader.bool("mlp_bias", default=False):
        raise reader.error(
            "mlp_bias=true is not supported: it biases the dense and shared MLPs but not the "
            "routed experts, a layout this handler does not count"
        )
    shared = reader.int("num_shared_experts", default=1, minimum=0)
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        _mlp_pattern(reader, layers, 1),
        shared_intermediate_size=shared * expert_width,
        num_shared_experts=shared,
    )
    arch = _llama_like(reader, mlp_bias_key=None, moe=moe, qk_norm=QK_NORM_PER_HEAD_DIM)
    return _full_attention(arch)


def kimi_linear(reader: ConfigReader) -> Architecture:
    """Moonshot Kimi-Linear (Kimi delta attention layers with short convolutions, and MLA full
    attention layers; one dense layer then routed + shared experts). Reads the checkpoint's
    ``linear_attn_config`` (1-based ``kda_layers`` / ``full_attn_layers``) as transformers does.

    State per KDA layer and sequence: the convolution window (3 x heads x head_dim x (kernel-1))
    and the recurrent matrix (heads x head_dim x head_dim); MLA layers cache the latent.
    """
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    kv_lora_rank = reader.int("kv_lora_rank")
    rope_dim = reader.int("qk_rope_head_dim")
    nope_dim = reader.int("qk_nope_head_dim")
    v_head_dim = reader.int("v_head_dim")
    experts = reader.int("num_experts", "n_routed_experts")
    top_k = reader.int("num_experts_per_token", "num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    reader.check()
    check_top_k(reader, top_k, experts)
    q_lora_rank = reader.optional_int("q_lora_rank", minimum=1)
    linear = ConfigReader(
        reader.sub("linear_attn_config") or {}, reader.family, "linear_attn_config."
    )
    linear_dim = linear.int("head_dim", default=reader.int("linear_head_dim", default=128))
    linear_heads = linear.int("num_heads", default=reader.int("linear_num_heads", default=32))
    kernel = linear.int(
        "short_conv_kernel_size", default=reader.int("linear_conv_kernel_dim", default=4)
    )
    layer_types = read_layer_types(reader, layers)
    if layer_types is None:
        full_layers = linear.int_list("full_attn_layers")
        kda_layers = linear.int_list("kda_layers")
        if full_layers is not None and kda_layers is not None:
            layer_types = ["?"] * layers
            for number, kind in [(n, "full_attention") for n in full_layers] + [
                (n, "linear_attention") for n in kda_layers
            ]:
                if not 1 <= number <= layers:
                    raise reader.error(f"linear_attn_config names layer {number} of {layers}")
                layer_types[number - 1] = kind
            if "?" in layer_types:
                raise reader.error("linear_attn_config leaves some layers without a type")
        else:
            layer_types = [
                "full_attention" if index and index % 4 == 0 else "linear_attention"
                for index in range(layers)
            ]
    if set(layer_types) - {"full_attention", "linear_attention"}:
        raise reader.error("layer_types must list 'full_attention' or 'linear_attention'")
    shared = reader.int("num_shared_experts", "n_shared_experts", default=1, minimum=0)
    pattern = _mlp_pattern(
        reader, layers, reader.int("first_k_dense_replace", default=1, minimum=0)
    )
    bias = reader.bool("attention_bias", default=False)
    width = linear_heads * linear_dim
    kda = (
        3 * counting.linear(hidden, width)
        + 3 * width * kernel
        + width  # dt_bias
        + linear_heads  # A_log
        + counting.linear(hidden, linear_dim)
        + counting.linear(linear_dim, width)  # forget gate
        + counting.linear(hidden, linear_heads)  # beta
        + counting.linear(hidden, linear_dim)
        + counting.linear(linear_dim, width)  # output gate
        + linear_dim  # o_norm
        + counting.linear(width, hidden)
    )
    mla = counting.mla_attention(
        hidden, heads, q_lora_rank, kv_lora_rank, nope_dim, rope_dim, v_head_dim, bias
    )
    full = layer_types.count("full_attention")
    one_expert = counting.mlp(hidden, expert_width, True)
    sparse = sum(pattern)
    total = (
        vocab * hidden
        + hidden
        + layers * 2 * hidden
        + full * mla
        + (layers - full) * kda
        + sparse
        * (
            experts * one_expert
            + counting.linear(hidden, experts)
            + (counting.mlp(hidden, shared * expert_width, True) if shared else 0)
        )
        + (layers - sparse) * counting.mlp(hidden, intermediate, True)
    )
    # KimiLinearForCausalLM declares no tied weights: the head is its own matrix whatever
    # tie_word_embeddings says.
    total += vocab * hidden
    arch = Architecture(reader.family)
    arch.parameter_count = total
    arch.active_parameter_count = total - sparse * (experts - top_k) * one_expert
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.context_length = reader.optional_int("model_max_length", "max_position_embeddings")
    arch.vocab_size = vocab
    arch.num_experts = experts
    arch.experts_per_token = top_k
    arch.genz_kwargs = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_ffi": 2,
        "num_decoder_layers": layers,
        "num_attention_heads": heads,
        "hidden_act": reader.str("hidden_act", default="silu"),
    }
    moe = MoeSpec(
        experts,
        top_k,
        expert_width,
        pattern,
        shared_intermediate_size=shared * expert_width,
        num_shared_experts=shared,
    )
    arch.genz_kwargs.update(genz_moe_kwargs(arch, moe, layers))
    mla_finish(arch, reader, kv_lora_rank, rope_dim, nope_dim, v_head_dim, q_lora_rank)
    arch.kv_groups = {}
    arch.add_kv_layers(full, kv_lora_rank + rope_dim)
    arch.ssm = {
        "layers": layers - full,
        "conv_state_values": 3 * width * (kernel - 1),
        "ssm_state_values": linear_heads * linear_dim * linear_dim,
    }
    arch.genz_unsupported = (
        f"GenZ 0.0.16 has no Kimi delta attention; {layers - full} of {layers} layers cannot be "
        "simulated"
    )
    return arch


def gemma4_unified_text(reader: ConfigReader) -> Architecture:
    """Gemma 4 "unified" text model: the Gemma 4 layout without per-layer input embeddings or
    the MoE block (its classes ignore those keys), sliding window 1024 by default."""
    return gemma4_text(reader, unified=True)


def gemma4_text(reader: ConfigReader, unified: bool = False) -> Architecture:
    """Gemma 4 text model (Gemma 3 layout plus: full-attention layers with their own head width
    (``global_head_dim``, or ``per_layer_config``) and, with ``attention_k_eq_v``, K/V heads
    (``num_global_key_value_heads``) and no V projection; the last ``num_kv_shared_layers``
    reuse earlier K/V (no K/V weights, no cache; a double-wide MLP with ``use_double_wide_mlp``);
    per-layer input embeddings (``hidden_size_per_layer_input``); an optional MoE block beside
    the MLP in every layer (``enable_moe_block``)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    intermediate = reader.int("intermediate_size")
    reader.check()
    kv_heads = reader.int("num_key_value_heads", default=4)
    head_dim = reader.int("head_dim", default=256)
    layer_types = list(
        read_layer_types(reader, layers)
        or ["sliding_attention" if (index + 1) % 6 else "full_attention" for index in range(layers)]
    )
    if layer_types:
        layer_types[-1] = "full_attention"  # transformers forces the last layer global
    k_eq_v = reader.bool("attention_k_eq_v", default=False)
    per_layer = reader.sub("per_layer_config")
    head_dims = [head_dim] * layers
    kv_per_layer = [kv_heads] * layers
    if per_layer is not None:
        for key, override in per_layer.items():
            if not str(key).isdigit() or not isinstance(override, dict):
                raise reader.error(f"per_layer_config entry {key!r} is not a layer index -> object")
            index = int(key)
            if index >= layers or set(override) - {"head_dim", "num_key_value_heads"}:
                raise reader.error(
                    f"per_layer_config[{key!r}] overrides keys this handler cannot count"
                )
            head_dims[index] = override.get("head_dim", head_dim)
            kv_per_layer[index] = override.get("num_key_value_heads", kv_heads)
    else:
        global_head_dim = reader.int("global_head_dim", default=512)
        global_kv = reader.optional_int("num_global_key_value_heads", minimum=1) if k_eq_v else None
        for index, kind in enumerate(layer_types):
            if kind == "full_attention":
                head_dims[index] = global_head_dim
                if global_kv is not None:
                    kv_per_layer[index] = global_kv
    shared_layers = reader.int("num_kv_shared_layers", default=0, minimum=0)
    first_shared = layers - shared_layers
    double_wide = reader.bool("use_double_wide_mlp", default=False)
    bias = reader.bool("attention_bias", default=False)
    per_layer_width = (
        0 if unified else reader.int("hidden_size_per_layer_input", default=256, minimum=0)
    )
    moe_block = not unified and reader.bool("enable_moe_block", default=False)
    experts = top_k = expert_width = 0
    if moe_block:
        experts = reader.int("num_experts")
        top_k = reader.int("top_k_experts")
        expert_width = reader.int("moe_intermediate_size")
        reader.check()
        check_top_k(reader, top_k, experts)
    total = vocab * hidden + hidden  # embeddings, final norm
    window = reader.optional_int("sliding_window", minimum=1) or (1024 if unified else 512)
    arch = Architecture(reader.family)
    for index in range(layers):
        dim = head_dims[index]
        kv = kv_per_layer[index]
        families_dense.checked_attention_type(reader, heads, kv)
        shared = index >= first_shared
        total += counting.linear(hidden, heads * dim, bias) + counting.linear(
            heads * dim, hidden, bias
        )
        total += dim  # q_norm
        if not shared:
            k_only = k_eq_v and layer_types[index] != "sliding_attention"
            total += (
                counting.linear(hidden, kv * dim, bias) * (1 if k_only else 2) + dim
            )  # + k_norm
            arch.add_kv_layers(
                1, 2 * kv * dim, window if layer_types[index] == "sliding_attention" else None
            )
        width = intermediate * (2 if double_wide and shared else 1)
        total += counting.mlp(hidden, width, True) + 4 * hidden
        if per_layer_width:
            total += 2 * hidden * per_layer_width + hidden
        if moe_block:
            total += (
                experts * counting.mlp(hidden, expert_width, True)
                + counting.linear(hidden, experts)
                + hidden
                + experts
                + 3 * hidden
            )
    if per_layer_width:
        per_layer_vocab = reader.int("vocab_size_per_layer_input", default=262144)
        total += (per_layer_vocab + hidden) * layers * per_layer_width + per_layer_width
    if not reader.bool("tie_word_embeddings", default=True):
        total += vocab * hidden
    inactive = layers * (experts - top_k) * counting.mlp(hidden, expert_width, True)
    arch.parameter_count = total
    arch.active_parameter_count = total - inactive
    arch.num_layers = layers
    arch.hidden_size = hidden
    arch.intermediate_size = intermediate
    arch.num_attention_heads = heads
    arch.num_key_value_heads = kv_heads
    arch.head_dim = head_dim
    arch.context_length = read_context_length(reader)
    arch.vocab_size = vocab
    arch.attention_type = families_dense.checked_attention_type(reader, heads, kv_heads)
    if moe_block:
        arch.num_experts = experts
        arch.experts_per_token = top_k
    arch.genz_kwargs = genz_dense_kwargs(reader, arch, True)
    arch.extra.update(
        {
            "global_head_dim": max(head_dims),
            "kv_shared_layers": shared_layers,
            "per_layer_input_width": per_layer_width,
        }
    )
    arch.genz_unsupported = (
        "GenZ 0.0.16 needs one head width for every layer and has no per-layer input embeddings "
        "or shared-KV layers (Gemma 4)"
    )
    return arch


def aria_text(reader: ConfigReader) -> Architecture:
    """Aria's text model (every layer MoE: ``moe_num_experts`` experts of ``intermediate_size``,
    ``moe_topk`` routed, plus ``moe_num_shared_experts`` shared experts fused into one MLP)."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("moe_num_experts")
    top_k = reader.int("moe_topk")
    width = reader.int("intermediate_size")
    reader.check()
    shared = reader.int("moe_num_shared_experts", default=2, minimum=0)
    moe = MoeSpec(
        experts,
        top_k,
        width,
        [True] * layers,
        shared_intermediate_size=shared * width,
        num_shared_experts=shared,
    )
    # mlp_bias gives the shared-expert MLP biases (the routed experts never have any).
    hidden = reader.int("hidden_size")
    shared_bias = 2 * shared * width + hidden if reader.bool("mlp_bias", default=False) else 0
    arch = _llama_like(reader, mlp_bias_key=None, moe=moe, extra_params_per_layer=shared_bias)
    return _full_attention(arch)


def cpmant(reader: ConfigReader) -> Architecture:
    """OpenBMB CPM-Ant (pre-norm, bias-free attention of ``dim_head`` heads, gated FFN of
    ``dim_ff``; an input table with ``prompt_types`` x ``prompt_length`` extra prompt rows,
    segment embeddings and a segment-aware relative position bias; its own output head, which
    cannot be tied: the input table is wider)."""
    hidden = reader.int("hidden_size")
    layers = reader.int("num_hidden_layers")
    heads = reader.int("num_attention_heads")
    vocab = reader.int("vocab_size")
    reader.check()
    head_dim = reader.int("dim_head", default=128)
    intermediate = reader.int("dim_ff", default=10240)
    segments = reader.int("segment_types", default=32)
    prompts = reader.int("prompt_types", default=32, minimum=0) * reader.int(
        "prompt_length", default=32, minimum=0
    )
    buckets = reader.int("position_bias_num_buckets", default=512)
    per_layer = (
        2 * hidden + 4 * heads * head_dim * hidden + counting.mlp(hidden, intermediate, True)
    )
    total = (
        (vocab + prompts) * hidden
        + segments * hidden
        + (segments * segments + buckets) * heads
        + layers * per_layer
        + hidden
        + vocab * hidden
    )
    arch = families_dense.finish_plain(
        Architecture(reader.family),
        reader,
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=heads,
        head_dim=head_dim,
        intermediate=intermediate,
        vocab=vocab,
        total=total,
        gated=True,
        context=read_context_length(reader),
    )
    return _full_attention(arch)


def beam(reader: ConfigReader) -> Architecture:
    """Beam (gated attention: a per-channel sigmoid gate projection plus a per-head gate bias;
    per-head q/k norms; four norms per layer; ``mlp_layer_types`` with three dense layers by
    default, then routed experts (score correction is a buffer); 5 sliding : 1 full layers and
    the last layer full)."""
    layers = reader.int("num_hidden_layers")
    experts = reader.int("num_experts", "n_routed_experts")
    top_k = reader.int("num_experts_per_tok")
    expert_width = reader.int("moe_intermediate_size")
    hidden = reader.int("hidden_size")
    heads = reader.int("num_attention_heads")
    reader.check()
    reader = with_aliases(reader, None, {"num_key_value_heads": 8, "head_dim": 128})
    head_dim = reader.int("head_dim")
    moe = MoeSpec(experts, top_k, expert_width, _mlp_pattern(reader, layers, min(3, layers)))
    arch = _llama_like(
        reader,
        mlp_bias_key=None,
        moe=moe,
        norms_per_layer=4,
        qk_norm=QK_NORM_PER_HEAD_DIM,
        extra_params_per_layer=counting.linear(hidden, heads * head_dim) + heads,
    )
    default = [
        "sliding_attention" if (index + 1) % 6 else "full_attention" for index in range(layers)
    ]
    if default:
        default[-1] = "full_attention"
    arch.genz_unsupported = arch.genz_unsupported or "GenZ 0.0.16 has no gated attention"
    return _sliding_layers(arch, reader, default, 512)
