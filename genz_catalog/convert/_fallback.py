"""What the generic Llama-layout fallback understands, and the refusal for everything else.

A config whose ``model_type`` has no handler is counted by
:func:`genz_catalog.convert.families_dense.generic_decoder` only when every key in it is one the
fallback can interpret: the standard decoder dimensions it reads, and metadata that cannot change
the parameter count (token ids, dtypes, initialisation, dropout, RoPE, generation defaults).
Anything else may change the architecture (experts, latent attention, state-space layers, hybrid
layer patterns, per-layer lists, extra norms or projections, nested sub-configs), and a count
that ignored it would be a plausible wrong number; such a config is refused with a
:class:`ConversionError` naming the keys. The check is a set difference over the config's keys,
so it costs well under a microsecond per config.
"""

from __future__ import annotations

from typing import Any

from genz_catalog.convert.errors import UnhandledFamilyError

#: How a user gets an exact count for a family the converter refuses (item 6 of issue 11).
EXACT_COUNT_HINT = (
    "for an exact count install the 'exact' extra (pip install 'genz-catalog[exact]') "
    "and import with --exact (counts transformers' own class on the meta device)"
)

#: The keys the generic decoder reads (dimensions, biases, tying) or that change no weight.
GENERIC_DECODER_KEYS = frozenset(
    (
        # Dimensions and switches generic_decoder reads.
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "num_key_value_heads",
        "head_dim",
        "intermediate_size",
        "vocab_size",
        "hidden_act",
        "attention_bias",
        "mlp_bias",
        "tie_word_embeddings",
        "max_position_embeddings",
        # Attention windows: the KV-cache layout, never a weight (layer_types is checked below).
        "sliding_window",
        "use_sliding_window",
        "max_window_layers",
        "layer_types",
        # RoPE, either spelling (transformers 4: rope_theta / rope_scaling; 5: rope_parameters).
        "rope_theta",
        "rope_scaling",
        "rope_parameters",
        "rope_type",
        "partial_rotary_factor",
        # Identity, provenance and loading.
        "model_type",
        "architectures",
        "auto_map",
        "transformers_version",
        "_name_or_path",
        "torch_dtype",
        "dtype",
        "quantization_config",
        "tokenizer_class",
        "unsloth_version",
        "unsloth_fixed",
        "_attn_implementation",
        "_attn_implementation_autoset",
        "attn_implementation",
        "torchscript",
        "use_bfloat16",
        "pruned_heads",
        "tie_encoder_decoder",
        "is_decoder",
        "is_encoder_decoder",
        "add_cross_attention",
        "cross_attention_hidden_size",
        "chunk_size_feed_forward",
        # Token ids and labels.
        "pad_token_id",
        "bos_token_id",
        "eos_token_id",
        "sep_token_id",
        "unk_token_id",
        "decoder_start_token_id",
        "id2label",
        "label2id",
        "num_labels",
        "problem_type",
        "finetuning_task",
        "prefix",
        "task_specific_params",
        # Runtime switches and numerics.
        "use_cache",
        "output_attentions",
        "output_hidden_states",
        "output_scores",
        "output_router_logits",
        "return_dict",
        "return_dict_in_generate",
        "pretraining_tp",
        "rms_norm_eps",
        "layer_norm_eps",
        "layer_norm_epsilon",
        "norm_eps",
        "initializer_range",
        "initializer_factor",
        "attention_dropout",
        "hidden_dropout",
        "dropout",
        "resid_pdrop",
        "embd_pdrop",
        "attn_pdrop",
        "gradient_checkpointing",
        "hidden_dropout_prob",
        "attention_probs_dropout_prob",
        "residual_dropout",
        "embedding_dropout",
        "classifier_dropout",
        "mlp_dropout",
        "num_logits_to_keep",
        # muP-style scalar multipliers (Granite, HyperCLOVA X): they scale activations, add no weight.
        "embedding_multiplier",
        "logits_scaling",
        "residual_multiplier",
        "attention_multiplier",
        # Generation defaults.
        "max_length",
        "min_length",
        "do_sample",
        "early_stopping",
        "num_beams",
        "num_beam_groups",
        "diversity_penalty",
        "temperature",
        "top_k",
        "top_p",
        "typical_p",
        "repetition_penalty",
        "length_penalty",
        "no_repeat_ngram_size",
        "encoder_no_repeat_ngram_size",
        "bad_words_ids",
        "num_return_sequences",
        "forced_bos_token_id",
        "forced_eos_token_id",
        "remove_invalid_values",
        "exponential_decay_length_penalty",
        "suppress_tokens",
        "begin_suppress_tokens",
    )
)

#: Keys the fallback understands only with a value that adds no weights (``False``/``None``/empty).
_ONLY_WHEN_OFF = (
    "is_encoder_decoder",
    "add_cross_attention",
    "pruned_heads",
    "cross_attention_hidden_size",
)

#: Activations of a gated (SwiGLU) Llama MLP; a plain or GeGLU MLP cannot be told apart by keys.
_GATED_LLAMA_ACTIVATIONS = frozenset(("silu", "swish"))

#: ``layer_types`` entries that only change the KV-cache layout, not the weights.
_ATTENTION_LAYER_TYPES = frozenset(("full_attention", "sliding_attention"))


def uninterpretable_keys(config: dict[str, Any]) -> list[str]:
    """The keys (``key`` or ``key=value``) of ``config`` the generic decoder cannot interpret.

    Empty means the fallback counts exactly what transformers' Llama layout would. Key order
    follows the config, so messages read like the file.
    """
    unknown = [key for key in config.keys() - GENERIC_DECODER_KEYS]
    for key in _ONLY_WHEN_OFF:
        if config.get(key):
            unknown.append(f"{key}={config[key]!r}")
    activation = config.get("hidden_act")
    if activation is not None and activation not in _GATED_LLAMA_ACTIVATIONS:
        unknown.append(f"hidden_act={activation!r}")
    layer_types = config.get("layer_types")
    if layer_types is not None:
        kinds = set(layer_types) if isinstance(layer_types, list) else {repr(layer_types)}
        odd = sorted(str(kind) for kind in kinds - _ATTENTION_LAYER_TYPES)
        if odd:
            unknown.append(f"layer_types with {', '.join(odd)}")
    if len(unknown) > 1:
        order = {key: index for index, key in enumerate(config)}
        unknown.sort(key=lambda item: order.get(item.split("=")[0], len(order)))
    return unknown


def refuse_unknown_family(family: str, where: str, keys: list[str]) -> UnhandledFamilyError:
    """The one-line refusal for an unhandled family whose config the fallback cannot interpret."""
    shown = ", ".join(where + key for key in keys[:8])
    if len(keys) > 8:
        shown += f", ... ({len(keys)} keys)"
    return UnhandledFamilyError(
        f"{family}: no handler for this family, and the generic Llama-layout count would ignore "
        f"{shown}; refusing rather than guessing ({EXACT_COUNT_HINT})"
    )
