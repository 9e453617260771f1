"""Helpers shared by the reliability, admin and hostile-input tests (not a test module)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from genz_catalog.admin import iter_export_lines
from genz_catalog.db import connect

HF_CONFIGS = Path(__file__).parent / "data" / "hf-configs"
LLAMA_31_8B = HF_CONFIGS / "meta-llama__Llama-3.1-8B" / "config.json"
#: meta-llama/Llama-3.1-8B parameter count from tests/data/truth.tsv.
LLAMA_31_8B_PARAMS = 8030261248


def llama_record(config: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A converted record for a Llama-3.1-8B-shaped config, built by hand.

    Lets the admin tests write realistic rows through ``add_model(record=...)`` without
    depending on the converter.
    """
    config = config or json.loads(LLAMA_31_8B.read_text())
    layers = config["num_hidden_layers"]
    kv_heads = config["num_key_value_heads"]
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    record = {
        "family": config["model_type"],
        "model_type": "decoder-only",
        "attention_type": "gqa",
        "is_moe": False,
        "parameter_count": LLAMA_31_8B_PARAMS,
        "active_parameter_count": LLAMA_31_8B_PARAMS,
        "text_parameter_count": None,
        "num_layers": layers,
        "hidden_size": config["hidden_size"],
        "intermediate_size": config["intermediate_size"],
        "num_attention_heads": config["num_attention_heads"],
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "num_experts": None,
        "experts_per_token": None,
        "context_length": config["max_position_embeddings"],
        "vocab_size": config["vocab_size"],
        "kv_values_per_token": layers * 2 * kv_heads * head_dim,
        "memory": {"num_layers": layers, "kv_heads": kv_heads, "head_dim": head_dim},
        "genz_kwargs": {"num_decoder_layers": layers, "hidden_size": config["hidden_size"]},
        "warnings": [],
        "config": config,
    }
    record.update(overrides)
    return record


def dump_catalog(path: str | Path) -> list[str]:
    """Every row of every table (cache included) as sorted JSON lines: equal dumps, equal data.

    Also lists the FTS rows, so a write that touched only the index shows up too.
    """
    db = connect(path)
    try:
        lines = list(iter_export_lines(db, include_cache=True))
        lines += [
            json.dumps(list(r))
            for r in db.execute("SELECT rowid, * FROM models_fts ORDER BY rowid").fetchall()
        ]
        return lines
    finally:
        db.conn.close()


def integrity(path: str | Path) -> str:
    """``PRAGMA integrity_check`` of the file, joined into one string (``"ok"`` when healthy)."""
    conn = sqlite3.connect(str(path))
    try:
        return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


#: Real configs the concurrency and crash tests vary (dense decoders the converter handles).
VARIANT_BASES = ("meta-llama__Llama-3.1-8B", "mistralai__Mistral-7B-v0.1", "Qwen__Qwen2.5-7B")


def write_config_variants(folder: Path, prefix: str, count: int) -> list[Path]:
    """Write ``count`` variants of the real configs in :data:`VARIANT_BASES` to ``folder``.

    Variant ``i`` is base ``i % 3`` with ``num_hidden_layers = 1 + i % 64`` and
    ``_name_or_path = "{prefix}/{prefix}-m{i}"`` (so the id comes from the file, as for any HF config).
    """
    folder.mkdir(parents=True, exist_ok=True)
    bases = [json.loads((HF_CONFIGS / name / "config.json").read_text()) for name in VARIANT_BASES]
    paths = []
    for i in range(count):
        variant = {
            **bases[i % len(bases)],
            "num_hidden_layers": 1 + i % 64,
            "_name_or_path": f"{prefix}/{prefix}-m{i}",
        }
        path = folder / f"{prefix}-{i}.json"
        path.write_text(json.dumps(variant))
        paths.append(path)
    return paths


def without_times(lines: list[str]) -> list[str]:
    """Export lines with their rows' timestamps removed (two imports of the same files)."""
    cleaned = []
    for line in lines:
        doc = json.loads(line)
        if isinstance(doc, dict) and "row" in doc:
            for key in ("created_at", "updated_at", "deleted_at"):
                doc["row"].pop(key, None)
        cleaned.append(json.dumps(doc, sort_keys=True))
    return cleaned
