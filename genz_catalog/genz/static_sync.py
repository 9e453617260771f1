"""GenZ's hard-coded models as a source: their records, aliases and quality metrics, synced into
the catalog through the catalog's write path (``genz-catalog sync --static``)."""

from __future__ import annotations

import inspect
import json
from typing import Any

from GenZ.Models import default_models as _genz_default_models
from GenZ.Models.default_models import ModelConfig

from ..record import ModelRecord

#: GenZ id -> the real Hugging Face Hub repository it describes (None: not on the Hub). Ids not
#: listed are not known to be Hub repositories. GenZ often names a family rather than a
#: checkpoint (``mistralai/Mistral-7B``), so the link is data, checked by hand against the Hub.
GENZ_HUB_IDS: dict[str, str | None] = {
    "Qwen/Qwen-14B": "Qwen/Qwen-14B",
    "Qwen/Qwen-1_8B": "Qwen/Qwen-1_8B",
    "Qwen/Qwen-72B": "Qwen/Qwen-72B",
    "Qwen/Qwen-7B": "Qwen/Qwen-7B",
    "Qwen/Qwen1.5-0.5B": "Qwen/Qwen1.5-0.5B",
    "Qwen/Qwen1.5-1.8B": "Qwen/Qwen1.5-1.8B",
    "Qwen/Qwen1.5-4B": "Qwen/Qwen1.5-4B",
    "Qwen/Qwen1.5-7B": "Qwen/Qwen1.5-7B",
    "Qwen/Qwen1.5-14B": "Qwen/Qwen1.5-14B",
    "Qwen/Qwen1.5-32B": "Qwen/Qwen1.5-32B",
    "Qwen/Qwen1.5-72B": "Qwen/Qwen1.5-72B",
    "Qwen/Qwen1.5-110B": "Qwen/Qwen1.5-110B",
    "Qwen/Qwen1.5-MoE-A2.7B": "Qwen/Qwen1.5-MoE-A2.7B",
    "Qwen/Qwen2-0.5B": "Qwen/Qwen2-0.5B",
    "Qwen/Qwen2.5-1.5B": "Qwen/Qwen2.5-1.5B",
    "Qwen/Qwen2.5-3B": "Qwen/Qwen2.5-3B",
    "Qwen/Qwen2.5-7B": "Qwen/Qwen2.5-7B",
    "Qwen/Qwen2.5-14B": "Qwen/Qwen2.5-14B",
    "Qwen/Qwen2.5-32B": "Qwen/Qwen2.5-32B",
    "Qwen/Qwen2.5-72B": "Qwen/Qwen2.5-72B",
    "google/gemma-2B": "google/gemma-2b",
    "google/gemma-7B": "google/gemma-7b",
    "google/gemma-2-2B": "google/gemma-2-2b",
    "google/gemma-2-9B": "google/gemma-2-9b",
    "google/gemma-2-27B": "google/gemma-2-27b",
    "google/gemma-3-1B": "google/gemma-3-1b-pt",
    "google/gemma-3-4B": "google/gemma-3-4b-pt",
    "google/gemma-3-12B": "google/gemma-3-12b-pt",
    "google/gemma-3-27B": "google/gemma-3-27b-pt",
    "google/palm": None,
    "intfloat/multilingual-e5-large-instruct": "intfloat/multilingual-e5-large-instruct",
    "intfloat/e5-mistral-7b-instruct": "intfloat/e5-mistral-7b-instruct",
    "microsoft/Phi-3-mini": "microsoft/Phi-3-mini-4k-instruct",
    "microsoft/Phi-3-small": "microsoft/Phi-3-small-8k-instruct",
    "microsoft/Phi-3-medium": "microsoft/Phi-3-medium-4k-instruct",
    "microsoft/Phi-3.5-MoE": "microsoft/Phi-3.5-MoE-instruct",
    "deepseek-ai/DeepSeek-V3-Base": "deepseek-ai/DeepSeek-V3-Base",
    "deepseek-ai/deepseek-moe-16b-base": "deepseek-ai/deepseek-moe-16b-base",
    "databricks/dbrx-base": "databricks/dbrx-base",
    "tiiuae/falcon-7b-instruct": "tiiuae/falcon-7b-instruct",
    "tiiuae/falcon-mamba-7b": "tiiuae/falcon-mamba-7b",
    "THUDM/glm-4-9b-chat": "THUDM/glm-4-9b-chat",
    "openai/GPT-4": None,
    "openai/GPT3-175B": None,
    "openai/gpt2": "openai-community/gpt2",
    "xai-org/grok-1": "xai-org/grok-1",
    "ai21labs/AI21-Jamba-1.5-Large": "ai21labs/AI21-Jamba-1.5-Large",
    "ai21labs/AI21-Jamba-1.5-Mini": "ai21labs/AI21-Jamba-1.5-Mini",
    "ai21labs/Jamba-v0.1": "ai21labs/Jamba-v0.1",
    "state-spaces/mamba-130m-hf": "state-spaces/mamba-130m-hf",
    "state-spaces/mamba-2.8b-hf": "state-spaces/mamba-2.8b-hf",
    "Hypothetical/SuperLLM-5T-Dense": None,
    "Hypothetical/SuperLLM-10T-MoE": None,
    "HuggingFaceH4/zephyr-7b-beta": "HuggingFaceH4/zephyr-7b-beta",
    "mistralai/Mistral-7B": "mistralai/Mistral-7B-v0.1",
    "mistralai/Mixtral-8x7B": "mistralai/Mixtral-8x7B-v0.1",
    "mistralai/Mixtral-8x22B": "mistralai/Mixtral-8x22B-v0.1",
    "mistralai/Ministral-8B-Instruct-2410": "mistralai/Ministral-8B-Instruct-2410",
    "mistralai/Mistral-NeMo-12B-Instruct": "mistralai/Mistral-Nemo-Instruct-2407",
    "mistralai/Mistral-Small": "mistralai/Mistral-Small-Instruct-2409",
    "mistralai/Mistral-Large": "mistralai/Mistral-Large-Instruct-2407",
    "meta-llama/Llama-2-7B": "meta-llama/Llama-2-7b-hf",
    "meta-llama/Llama-2-13B": "meta-llama/Llama-2-13b-hf",
    "meta-llama/Llama-2-70B": "meta-llama/Llama-2-70b-hf",
    "meta-llama/Llama-33B": None,
    "meta-llama/Llama-3.1-8B": "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B": "meta-llama/Llama-3.1-70B",
    "meta-llama/Llama-3.1-405B": "meta-llama/Llama-3.1-405B",
    "meta-llama/Llama-3.2-1B": "meta-llama/Llama-3.2-1B",
    "meta-llama/Llama-3.2-3B": "meta-llama/Llama-3.2-3B",
    "facebook/opt-125M": "facebook/opt-125m",
    "facebook/OPT-350M": "facebook/opt-350m",
    "facebook/OPT-1.3b": "facebook/opt-1.3b",
    "facebook/opt-6.7b": "facebook/opt-6.7b",
    "facebook/OPT-13B": "facebook/opt-13b",
    "facebook/opt-30B": "facebook/opt-30b",
    "facebook/opt-66B": "facebook/opt-66b",
    "nvidia/Mistral-NeMo-Minitron-8B-Base": "nvidia/Mistral-NeMo-Minitron-8B-Base",
    "nvidia/Nemotron-4-340B-Instruct": "nvidia/Nemotron-4-340B-Instruct",
}

# (substring of the lower-cased GenZ id, catalog family, model type); first match wins.
_STATIC_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("multilingual-e5", "xlm-roberta", "encoder-only"),
    ("e5-mistral", "mistral", "decoder-only"),
    ("qwen1.5-moe", "qwen2_moe", "decoder-only"),
    ("qwen2", "qwen2", "decoder-only"),
    ("qwen1.5", "qwen2", "decoder-only"),
    ("qwen/qwen-", "qwen", "decoder-only"),
    ("gemma-3", "gemma3_text", "decoder-only"),
    ("gemma-2", "gemma2", "decoder-only"),
    ("gemma", "gemma", "decoder-only"),
    ("palm", "palm", "decoder-only"),
    ("phi-3.5-moe", "phimoe", "decoder-only"),
    ("phi-3", "phi3", "decoder-only"),
    ("deepseek-v3", "deepseek_v3", "decoder-only"),
    ("deepseek-moe", "deepseek", "decoder-only"),
    ("dbrx", "dbrx", "decoder-only"),
    ("falcon-mamba", "falcon_mamba", "decoder-only"),
    ("falcon", "falcon", "decoder-only"),
    ("glm", "chatglm", "decoder-only"),
    ("gpt-4", "gpt4", "decoder-only"),
    ("gpt3", "opt", "decoder-only"),
    ("gpt2", "gpt2", "decoder-only"),
    ("grok", "grok-1", "decoder-only"),
    ("jamba", "jamba", "decoder-only"),
    ("mamba", "mamba", "decoder-only"),
    ("superllm", "hypothetical", "decoder-only"),
    ("zephyr", "mistral", "decoder-only"),
    ("mixtral", "mixtral", "decoder-only"),
    ("mistral-nemo-minitron", "mistral", "decoder-only"),
    ("nemotron", "nemotron", "decoder-only"),
    ("mistral", "mistral", "decoder-only"),
    ("llama", "llama", "decoder-only"),
    ("opt-", "opt", "decoder-only"),
)


def _genz_init_parameters() -> tuple[str, ...]:
    names = inspect.signature(ModelConfig.__init__).parameters
    return tuple(n for n in names if n not in ("self", "kwargs", "model_quality"))


def static_genz_kwargs(config: ModelConfig) -> dict[str, Any]:
    """Keyword arguments that rebuild ``config`` exactly: ``ModelConfig(**kwargs)`` has the same
    ``vars()`` (minus ``model_quality``). GenZ stores every constructor argument under its own
    name, resolved (``head_dim``, ``num_key_value_heads``, ``mamba_dt_rank``), so passing the
    resolved values back reproduces them."""
    values = vars(config)
    return {name: values[name] for name in _genz_init_parameters() if name in values}


def config_vars(config: ModelConfig) -> dict[str, Any]:
    """``vars(config)`` without ``model_quality`` (and the catalog's private bookkeeping): the
    fields GenZ simulates with."""
    return {k: v for k, v in vars(config).items() if k != "model_quality" and not k.startswith("_")}


def _layer_kinds(config: ModelConfig) -> list[tuple[str, str]]:
    """(mixer, ffn) per layer: mixer ``attention``/``mamba``, ffn ``dense``/``moe``.

    For one unique layer this is what GenZ builds. For hybrids (Jamba; GenZ 0.0.16 cannot
    simulate them) it follows the model's real layout: attention where
    ``i % attn_layer_period == attn_layer_offset``, Mamba elsewhere.
    """
    kinds = []
    first_dense = config.first_k_dense_replace or 0
    for i in range(int(config.num_decoder_layers)):
        if config.is_mamba and config.unique_layers == 1:
            mixer = "mamba"
        elif config.is_mamba:
            mixer = (
                "attention" if i % config.attn_layer_period == config.attn_layer_offset else "mamba"
            )
        else:
            mixer = "attention"
        if not config.is_moe or i < first_dense:
            ffn = "dense"
        elif config.unique_layers == 1:
            ffn = "moe"
        else:
            ffn = "moe" if i % config.expert_layer_period == config.expert_layer_offset else "dense"
        kinds.append((mixer, ffn))
    return kinds


def genz_parameter_counts(config: ModelConfig) -> tuple[int, int]:
    """(total, active per token) parameters of a GenZ definition, as GenZ models it.

    Counted: input embedding and LM head separately (GenZ has no tied embeddings), attention
    projections, Mamba mixers, dense FFNs (``num_ffi`` up projections plus one down), MoE
    routers, experts and shared experts. Not counted: norms and biases (GenZ simulates neither).
    """
    d = int(config.hidden_size)
    embeddings = 2 * int(config.vocab_size) * d
    q_width = int(config.num_attention_heads) * int(config.head_dim)
    kv_width = int(config.num_key_value_heads) * int(config.head_dim)
    attention = d * (q_width + 2 * kv_width) + q_width * d
    inner = int(config.mamba_expand) * d
    mamba = 0
    if config.is_mamba:
        dt_rank, state, conv = (
            int(config.mamba_dt_rank),
            int(config.mamba_d_state),
            int(config.mamba_d_conv),
        )
        mamba = (
            d * 2 * inner
            + inner * conv
            + (inner if config.mamba_conv_bias else 0)
            + inner * (dt_rank + 2 * state)
            + dt_rank * inner
            + inner
            + inner * state
            + inner
            + inner * d
        )

    def ffn(width: float) -> int:
        return int(config.num_ffi * d * width + width * d)

    dense = ffn(config.intermediate_size)
    if config.ffn_implementation == "deepseek":
        expert = ffn(config.moe_intermediate_size)
        shared = int(config.n_shared_experts or 0) * ffn(config.shared_expert_intermediate_size)
    else:
        expert = ffn(config.intermediate_size)
        shared = 0
    router = int(config.num_experts) * d
    total = active = embeddings
    for mixer, kind in _layer_kinds(config):
        mixer_params = attention if mixer == "attention" else mamba
        total += mixer_params
        active += mixer_params
        if kind == "dense":
            total += dense
            active += dense
        else:
            total += router + int(config.num_experts) * expert + shared
            active += router + int(config.expert_top_k) * expert + shared
    return total, active


def static_model_record(config: ModelConfig) -> dict[str, Any]:
    """The catalog record (:class:`~genz_catalog.record.ModelRecord` as a dict, plus GenZ's
    ``config`` as the model's source) for one GenZ static model."""
    lowered = config.model.lower()
    family, model_type = next(
        ((fam, kind) for needle, fam, kind in _STATIC_FAMILIES if needle in lowered),
        ("unknown", "decoder-only"),
    )
    kinds = _layer_kinds(config)
    attention_layers = sum(1 for mixer, _ in kinds if mixer == "attention")
    mamba_layers = len(kinds) - attention_layers
    heads, kv_heads = int(config.num_attention_heads), int(config.num_key_value_heads)
    if attention_layers == 0:
        attention_type = "none"
    elif kv_heads == heads:
        attention_type = "mha"
    elif kv_heads == 1:
        attention_type = "mqa"
    else:
        attention_type = "gqa"
    values_per_token = 2 * kv_heads * int(config.head_dim)
    kv_layers = []
    if attention_layers:
        kv_layers.append(
            {
                "count": attention_layers,
                "values_per_token": values_per_token,
                "window": config.sliding_window,
            }
        )
    inner = int(config.mamba_expand) * int(config.hidden_size)
    ssm = None
    if mamba_layers:
        ssm = {
            "layers": mamba_layers,
            "conv_state_values": inner * int(config.mamba_d_conv),
            "ssm_state_values": inner * int(config.mamba_d_state),
        }
    total, active = genz_parameter_counts(config)
    kv_values = values_per_token * attention_layers
    genz_kwargs = static_genz_kwargs(config)
    warnings_list = []
    if config.unique_layers > 1:
        warnings_list.append(
            f"GenZ 0.0.16 cannot simulate {config.unique_layers} unique layer types "
            "(hybrid attention/Mamba/MoE layouts)"
        )
    record = ModelRecord(
        model_id=config.model,
        family=family,
        model_type=model_type,
        attention_type=attention_type,
        is_moe=bool(config.is_moe),
        parameter_count=total,
        active_parameter_count=active,
        count_basis="formula",  # GenZ's own arithmetic over its ModelConfig
        num_layers=int(config.num_decoder_layers),
        hidden_size=int(config.hidden_size),
        intermediate_size=int(config.intermediate_size),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=int(config.head_dim),
        num_experts=int(config.num_experts) if config.is_moe else None,
        experts_per_token=int(config.expert_top_k) if config.is_moe else None,
        context_length=int(config.max_model_len),
        vocab_size=int(config.vocab_size),
        kv_values_per_token=kv_values,
        memory={"kv_values_per_token": kv_values, "kv_layers": kv_layers, "ssm": ssm},
        genz_kwargs=genz_kwargs,
        warnings=warnings_list,
    ).as_dict()
    # The source itself, stored as the model's config (a static model has no config.json).
    record["config"] = config_vars(config)
    return record


def static_models() -> list[tuple[ModelConfig, list[str]]]:
    """GenZ's static models, each with every other GenZ key naming it, in GenZ's order.

    Reads GenZ's own dict (not the catalog) whether or not :func:`enable` has run.
    """
    grouped: dict[int, tuple[ModelConfig, list[str]]] = {}
    for name, config in _genz_default_models.MODEL_DICT.models.items():
        entry = grouped.setdefault(id(config), (config, []))
        if name != config.model:
            entry[1].append(name)
    return list(grouped.values())


def static_model_records() -> list[dict[str, Any]]:
    """``manager.add_model`` keyword arguments for every GenZ static model (see sync below)."""
    items = []
    for config, aliases in static_models():
        record = static_model_record(config)
        hub_id = GENZ_HUB_IDS.get(config.model)
        metrics = []
        if config.model_quality is not None:
            for metric in config.model_quality.metrics:
                metrics.append(
                    {
                        "metric_name": metric.name,
                        "metric_value": float(metric.accuracy),
                        "shots": metric.shots,
                    }
                )
        items.append(
            {
                "model_id": config.model,
                "record": record,
                "source": "genz-static",
                "aliases": [(alias, "genz") for alias in aliases],
                "hub_metadata": {"hub_id": hub_id} if hub_id else None,
                "metrics": metrics,
            }
        )
    return items


def sync_static_models(manager: Any = None) -> dict[str, Any]:
    """Bring every GenZ static model into the catalog (source ``genz-static``); idempotent.

    Each model gets its GenZ config exactly (``genz_config_json`` rebuilds an equal
    ``ModelConfig``), every GenZ alias, its Hub link from :data:`GENZ_HUB_IDS`, and its quality
    metrics in percent (0-100, GenZ's own scale, unit ``percent``, source ``genz-static``).

    Where GenZ meets a model from another source (e.g. imported from the Hub):

    - same id (case-insensitive): the real model keeps its config and no ``genz-static`` row is
      made; GenZ's aliases that are still free and GenZ's quality metrics are added to it
      ("merged");
    - the GenZ id is free but its Hub link or one of its ``org/name`` aliases is a real catalog
      model (``mistralai/Mistral-7B`` -> ``mistralai/Mistral-7B-v0.1``): both rows are kept, the
      GenZ row with GenZ's config and aliases and ``hub_id`` pointing at the real one, and GenZ's
      quality metrics are also added to the real model ("linked").

    A metric the other model already has from another source (e.g. a CSV import) is never
    overwritten. Re-running writes nothing.

    Returns ``{"imported": n, "updated": n, "unchanged": n, "merged": [ids], "linked": [ids],
    "metrics": n, "total": n}`` (``merged``/``linked``: the real models GenZ's names or metrics
    went to; ``metrics`` counts metric values written).
    """
    from ..manager import ModelManager, config_hash

    own_manager = manager is None
    if own_manager:
        manager = ModelManager()
    summary: dict[str, Any] = {
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "merged": [],
        "linked": [],
        "metrics": 0,
        "total": 0,
    }
    try:
        for item in static_model_records():
            summary["total"] += 1
            model_id = item["model_id"]
            existing = manager.get_model(model_id, include_deleted=True)
            if existing is not None and existing["source"] != "genz-static":
                summary["merged"].append(existing["model_id"])
                _merge_aliases(manager, existing["model_id"], item["aliases"])
                summary["metrics"] += _sync_metrics(
                    manager, existing["model_id"], item["metrics"], fill_only=True
                )
                continue
            record = item["record"]
            wanted_aliases = {a.lower() for a, _ in item["aliases"]}
            hub_id = (item["hub_metadata"] or {}).get("hub_id")
            if (
                existing is not None
                and not existing["is_deleted"]
                and existing["config_hash"] == config_hash(record["config"])
                and existing["genz_config"] == json.loads(json.dumps(record["genz_kwargs"]))
                and existing.get("hub_id") == hub_id
                and wanted_aliases <= _owned_or_taken(manager, wanted_aliases, existing)
            ):
                summary["unchanged"] += 1
            else:
                result = manager.add_model(
                    model_id,
                    record=record,
                    source="genz-static",
                    aliases=item["aliases"],
                    hub_metadata=item["hub_metadata"],
                    if_exists="update",
                    change_description="synced from GenZ static models",
                )
                summary[result.status] = summary.get(result.status, 0) + 1
            summary["metrics"] += _sync_metrics(manager, model_id, item["metrics"])
            for real_id in _linked_real_models(manager, item, hub_id):
                summary["linked"].append(real_id)
                summary["metrics"] += _sync_metrics(
                    manager, real_id, item["metrics"], fill_only=True
                )
    finally:
        if own_manager:
            manager.close()
    return summary


def sync_static_models_to_db(manager: Any = None) -> int:
    """The original API's static sync: the number of GenZ static models now in the catalog.

    Same work as :func:`sync_static_models`, which returns the full summary (imported, updated,
    unchanged, merged, linked, metric values written).
    """
    return sync_static_models(manager)["total"]


def _merge_aliases(manager: Any, model_id: str, aliases: list[tuple[str, str]]) -> None:
    """Add GenZ's aliases to a model from another source; names already taken stay theirs."""
    for alias, kind in aliases:
        if manager.get_model(alias, include_deleted=True) is None:
            manager.add_alias(model_id, alias, kind=kind)


def _linked_real_models(manager: Any, item: dict[str, Any], hub_id: str | None) -> list[str]:
    """Ids of catalog models from another source that GenZ's Hub link or ``org/name`` aliases
    name (real ids only, not aliases), in GenZ's order, without repeats."""
    names = [hub_id] if hub_id else []
    names += [alias for alias, _ in item["aliases"] if "/" in alias]
    found: list[str] = []
    for name in names:
        if name.lower() == item["model_id"].lower():
            continue
        model = manager.get_model(name, include_deleted=True, follow_aliases=False)
        if (
            model is not None
            and model["source"] != "genz-static"
            and model["model_id"] not in found
        ):
            found.append(model["model_id"])
    return found


def _owned_or_taken(manager: Any, aliases: set[str], model: dict[str, Any]) -> set[str]:
    """Of ``aliases``, those already settled: owned by this model, or taken by another name."""
    if not aliases:
        return set()
    from ..catalog.ids import names_taken

    settled = names_taken(manager.db, sorted(aliases))
    settled |= {a for a in aliases if a == model["model_id"].lower()}
    return settled


def _sync_metrics(
    manager: Any, model_id: str, metrics: list[dict[str, Any]], fill_only: bool = False
) -> int:
    """Write the metrics whose stored value differs; returns how many were written.

    ``fill_only`` (a model from another source): only metrics it lacks or that an earlier sync
    wrote (source ``genz-static``); a value from anywhere else stays.
    """
    if not metrics:
        return 0
    stored = {
        (m["metric_name"].lower(), m["shots"]): m for m in manager.get_quality_metrics(model_id)
    }
    changed = []
    for metric in metrics:
        current = stored.get((metric["metric_name"].lower(), metric["shots"]))
        if current is not None and (current["metric_value"], current["unit"]) == (
            metric["metric_value"],
            "percent",
        ):
            continue
        if fill_only and current is not None and current["source"] != "genz-static":
            continue
        changed.append({"model_id": model_id, "unit": "percent", "source": "genz-static", **metric})
    if changed:
        manager.add_quality_metrics(changed)
    return len(changed)
