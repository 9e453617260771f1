"""How far GenZ's weight figure is from the catalog's exact one, and why. Pure: no GenZ, no I/O.

GenZ 0.0.16 simulates a model from its ``ModelConfig`` alone, so its weight total differs from the
real parameter count wherever the config cannot say what the model is. :func:`weight_gap`
compares the two and names the known causes with their size where the catalog can compute it:

- tied embeddings: GenZ always has an input embedding and a separate LM head (``+V x D``);
- shared experts: GenZ's prefill/decode FFN has no shared expert (the catalog simulates one as
  extra always-used experts when its width allows, see ``genz.simulation_kwargs``);
- dense layers of a MoE model (``first_k_dense_replace``): GenZ makes every layer MoE;
- vision tower: multimodal wrappers are simulated as their language model only;
- encoder: GenZ simulates decoder stacks only (T5's encoder is missing, BERT is run as decoder);
- MLA: multi-head latent attention is modelled as one wide K/V head (right KV cache, other
  attention weights);
- hybrid layers: attention/Mamba/MoE interleavings GenZ cannot build;
- Mamba-2: its SSD mixer is simulated as GenZ's Mamba-1 mixer;
- norms and biases: GenZ simulates neither (usually well under 1%).
"""

from __future__ import annotations

from typing import Any

#: Differences at or below this fraction of the exact figure are not explained (noise level).
REPORT_THRESHOLD = 0.01


def tied_embeddings(model: dict[str, Any]) -> bool | None:
    """Whether the model ties its LM head to its input embedding, per the catalog's converter.

    Decided by converting the stored ``config.json`` twice, with ``tie_word_embeddings`` forced
    off and on: the stored ``parameter_count`` equals one of them. So every family's own
    default (GPT-2 and Gemma tie by default, Llama does not) is the converter's, not repeated
    here. None when it cannot tell (GenZ static models, a family that ignores the key).
    """
    config = model.get("config") or {}
    if model.get("source") == "genz-static" or not isinstance(config, dict) or not config:
        return None
    from .convert import ConversionError, convert_hf_config

    counts = {}
    for tied in (False, True):
        try:
            record = convert_hf_config(_with_tie(config, tied), model.get("model_id"))
        except (ConversionError, ValueError, TypeError, KeyError):
            return None
        counts[tied] = record["parameter_count"]
    if counts[False] == counts[True]:
        return None
    for tied, count in counts.items():
        if count == model.get("parameter_count"):
            return tied
    return None


def _with_tie(config: dict[str, Any], tied: bool) -> dict[str, Any]:
    changed = {**config, "tie_word_embeddings": tied}
    for key in ("text_config", "language_config", "llm_config"):
        if isinstance(config.get(key), dict):
            changed[key] = {**config[key], "tie_word_embeddings": tied}
    return changed


def weight_gap(
    model: dict[str, Any],
    genz_parameters: float,
    *,
    genz_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """GenZ's weights against the exact parameter count, with the known causes of the gap.

    ``model`` is a hydrated catalog row (``parameter_count``, ``vocab_size``, ``hidden_size``,
    ``text_parameter_count``, ``model_type``, ``attention_type``, ``memory``, ``config``);
    ``genz_parameters`` the parameters GenZ's weight figure stands for (its bytes / bytes per
    value); ``genz_kwargs`` the arguments simulated (after
    :func:`genz_catalog.genz.simulation_kwargs`; default: the stored ones).

    Returns ``{"exact_parameters", "genz_parameters", "difference_parameters",
    "difference_pct", "causes"}``: ``difference`` is GenZ minus exact (percent of exact);
    ``causes`` lists sentences, empty when the gap is within :data:`REPORT_THRESHOLD`.
    """
    exact = int(model.get("parameter_count") or 0)
    difference = float(genz_parameters) - exact
    pct = 100.0 * difference / exact if exact else 0.0
    causes: list[str] = []
    if exact and abs(difference) > REPORT_THRESHOLD * exact:
        causes = known_causes(model, genz_kwargs or model.get("genz_config") or {})
        explained = sum(size for _, size in causes if size is not None)
        rest = difference - explained
        sentences = [text for text, _ in causes]
        if abs(rest) > REPORT_THRESHOLD * exact:
            sentences.append(
                f"other differences ({_signed(rest)} parameters: norms and biases GenZ does not "
                "simulate, layer layouts it approximates)"
            )
        causes = sentences
    return {
        "exact_parameters": exact,
        "genz_parameters": int(round(genz_parameters)),
        "difference_parameters": int(round(difference)),
        "difference_pct": round(pct, 2),
        "causes": causes,
    }


def known_causes(
    model: dict[str, Any], genz_kwargs: dict[str, Any]
) -> list[tuple[str, float | None]]:
    """``(sentence, GenZ-minus-exact parameters or None when not computed)`` for each known
    reason GenZ's weights differ from the exact count for this model."""
    causes: list[tuple[str, float | None]] = []
    vocab = int(model.get("vocab_size") or 0)
    hidden = int(model.get("hidden_size") or 0)
    if vocab and hidden and tied_embeddings(model):
        size = vocab * hidden
        causes.append(
            (
                f"tied embeddings counted twice: GenZ has no tied embeddings, so its LM head adds "
                f"a second {vocab:,} x {hidden:,} matrix ({_signed(size)} parameters)",
                size,
            )
        )
    shared = int(genz_kwargs.get("n_shared_experts") or 0)
    if shared and int(genz_kwargs.get("num_experts") or 1) > 1:
        width = int(genz_kwargs.get("shared_expert_intermediate_size") or 0) * shared
        ffi = int(genz_kwargs.get("num_ffi") or 1)
        moe_layers = int(genz_kwargs.get("num_decoder_layers") or 0) - int(
            genz_kwargs.get("first_k_dense_replace") or 0
        )
        size = -float(moe_layers * (ffi + 1) * hidden * width)
        causes.append(
            (
                f"shared experts dropped: GenZ's prefill/decode FFN has none (about "
                f"{_signed(size)} parameters)",
                size,
            )
        )
    first_dense = int(genz_kwargs.get("first_k_dense_replace") or 0)
    experts = int(genz_kwargs.get("num_experts") or 1)
    if first_dense and experts > 1:
        ffi = int(genz_kwargs.get("num_ffi") or 1)
        expert_width = int(genz_kwargs.get("intermediate_size") or 0)
        dense_width = int(model.get("intermediate_size") or 0)
        size = None
        if dense_width:
            moe_ffn = experts * (ffi + 1) * hidden * expert_width + experts * hidden
            size = float(first_dense * (moe_ffn - (ffi + 1) * hidden * dense_width))
        causes.append(
            (
                f"the first {first_dense} dense layers are simulated as MoE layers "
                f"(GenZ 0.0.16 builds one layer type; {_signed(size or 0)} parameters)",
                size,
            )
        )
    text = model.get("text_parameter_count")
    if text and exact_count(model) > int(text):
        size = -(exact_count(model) - int(text))
        causes.append(
            (
                f"vision tower not simulated: GenZ runs the language model only "
                f"({_signed(size)} parameters)",
                size,
            )
        )
    if model.get("model_type") == "encoder-decoder":
        causes.append(("encoder not simulated: GenZ 0.0.16 simulates the decoder stack", None))
    elif model.get("model_type") == "encoder-only":
        causes.append(("encoder simulated as decoder layers", None))
    if model.get("attention_type") == "mla":
        size = _mla_gap(model, genz_kwargs)
        causes.append(
            (
                "MLA approximation: latent attention modelled as one K/V head of "
                "(kv_lora_rank + qk_rope_head_dim) / 2; KV cache right, attention weights not"
                + (f" ({_signed(size)} parameters)" if size is not None else ""),
                size,
            )
        )
    if model.get("family") == "mamba2":
        causes.append(("Mamba-2 (SSD) mixers simulated as GenZ's Mamba-1 mixer", None))
    memory = model.get("memory") or {}
    if memory.get("ssm") and memory.get("kv_layers"):
        causes.append(("hybrid layers: attention and Mamba layers GenZ cannot interleave", None))
    return causes


def _mla_gap(model: dict[str, Any], genz_kwargs: dict[str, Any]) -> float | None:
    """GenZ's attention weights minus the real MLA projections, over all layers (or None)."""
    from .convert import counting

    config = model.get("config") or {}
    config = config.get("text_config", config) if isinstance(config, dict) else {}
    try:
        hidden = int(config["hidden_size"])
        heads = int(config["num_attention_heads"])
        real = counting.mla_attention(
            hidden,
            heads,
            config.get("q_lora_rank"),
            int(config["kv_lora_rank"]),
            int(config["qk_nope_head_dim"]),
            int(config["qk_rope_head_dim"]),
            int(config["v_head_dim"]),
            bool(config.get("attention_bias", False)),
        )
        head_dim = int(genz_kwargs["head_dim"])
        kv_heads = int(genz_kwargs["num_key_value_heads"])
        layers = int(genz_kwargs["num_decoder_layers"])
    except (KeyError, TypeError, ValueError):
        return None
    genz_attention = hidden * (heads + 2 * kv_heads) * head_dim + heads * head_dim * hidden
    return float(layers * (genz_attention - real))


def exact_count(model: dict[str, Any]) -> int:
    return int(model.get("parameter_count") or 0)


def _signed(value: float) -> str:
    value = float(value)
    sign = "+" if value >= 0 else "-"
    value = abs(value)
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= threshold:
            return f"{sign}{value / threshold:.3g}{suffix}"
    return f"{sign}{value:.0f}"
