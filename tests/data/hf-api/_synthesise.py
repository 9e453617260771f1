"""Synthesise model-info responses (same shape as the recorded ones) for tests/data/hf-configs.

Run from anywhere: ``python tests/data/hf-api/_synthesise.py``. Recorded responses are never
overwritten. sha is derived from the id and config bytes; downloads, likes and dates are
deterministic stand-ins; the safetensors total is the parameter count from truth.tsv.
"""

import csv
import hashlib
import json
from pathlib import Path

data = Path(__file__).resolve().parent.parent
with open(data / "truth.tsv", newline="") as handle:
    truth = {r["model_id"]: r for r in csv.DictReader(handle, delimiter="\t")}
licenses = {
    "meta-llama": "llama3.1",
    "mistralai": "apache-2.0",
    "Qwen": "apache-2.0",
    "google": "gemma",
    "deepseek-ai": "mit",
    "microsoft": "mit",
    "tiiuae": "apache-2.0",
    "EleutherAI": "apache-2.0",
}
gated_orgs = {"meta-llama": "manual", "google": "manual"}
for folder in sorted((data / "hf-configs").iterdir()):
    out = data / "hf-api" / f"{folder.name}.json"
    if out.exists():
        continue  # a recorded response wins
    config_bytes = (folder / "config.json").read_bytes()
    config = json.loads(config_bytes)
    org, name = folder.name.split("__", 1)
    repo_id = f"{org}/{name}"
    row = truth.get(repo_id)
    digest = hashlib.sha1(repo_id.encode() + b"\0" + config_bytes).hexdigest()
    seed = int(digest[:8], 16)
    lic = licenses.get(org, "apache-2.0")
    model_type = config.get("model_type") or config.get("text_config", {}).get("model_type")
    total = int(row["parameter_count"]) if row else None
    body = {
        "_id": digest[:24],
        "id": repo_id,
        "private": False,
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "tags": [
            "transformers",
            "safetensors",
            model_type,
            "text-generation",
            "conversational",
            "en",
            f"license:{lic}",
            "autotrain_compatible",
            "text-generation-inference",
            "endpoints_compatible",
            "region:us",
        ],
        "downloads": 1000 + seed % 5_000_000,
        "likes": seed % 5000,
        "modelId": repo_id,
        "author": org,
        "sha": digest,
        "lastModified": f"2024-{1 + seed % 12:02d}-{1 + seed % 28:02d}T12:00:00.000Z",
        "gated": gated_orgs.get(org, False),
        "disabled": False,
        "config": {"architectures": config.get("architectures"), "model_type": model_type},
        "cardData": {"license": lic, "language": ["en"], "pipeline_tag": "text-generation"},
        "transformersInfo": {
            "auto_model": "AutoModelForCausalLM",
            "pipeline_tag": "text-generation",
            "processor": "AutoTokenizer",
        },
        "siblings": [
            {"rfilename": ".gitattributes"},
            {"rfilename": "README.md"},
            {"rfilename": "config.json"},
            {"rfilename": "generation_config.json"},
            {"rfilename": "model.safetensors"},
        ],
        "spaces": [],
        "createdAt": f"2023-{1 + seed % 12:02d}-{1 + seed % 28:02d}T08:30:00.000Z",
    }
    if total:
        body["safetensors"] = {"parameters": {"BF16": total}, "total": total}
        body["usedStorage"] = total * 2
    out.write_text(json.dumps(body, indent=None, separators=(",", ":")) + "\n")
    print("wrote", out.name)
