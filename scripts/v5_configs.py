"""Write tests/data/hf-configs-v5: each real config of tests/data/hf-configs as transformers 5 saves it.

The shared real configs were mostly written by transformers 4; a Hub repo saved today has the
transformers 5 spelling (``rope_parameters``, ``dtype``, ``num_local_experts`` for Qwen3-MoE,
``layer_types`` ...). Loading each through ``AutoConfig.for_model`` and saving it with
``save_pretrained`` gives the same model in the new spelling, so the converter can be tested on
both. Configs transformers 5 cannot load (legacy custom-code model types) are skipped.

    python scripts/v5_configs.py                 # every folder; needs the oracle extra
    python scripts/v5_configs.py FOLDER [...]    # only these tests/data/hf-configs folders
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "tests" / "data"
SKIP_KEYS = ("model_type", "architectures", "transformers_version", "torch_dtype", "auto_map")


def main(folders: list[str]) -> int:
    import transformers

    transformers.logging.set_verbosity_error()
    written = 0
    paths = sorted((ROOT / "hf-configs").glob("*/config.json"))
    if folders:
        paths = [path for path in paths if path.parent.name in folders]
    for path in paths:
        config = json.loads(path.read_text())
        kwargs = {key: value for key, value in config.items() if key not in SKIP_KEYS}
        if "torch_dtype" in config:
            kwargs["dtype"] = config["torch_dtype"]
        try:
            new = transformers.AutoConfig.for_model(config["model_type"], **kwargs)
        except (ValueError, KeyError, TypeError) as error:
            print(f"skip {path.parent.name}: {str(error)[:80]}", file=sys.stderr)
            continue
        new.architectures = config.get("architectures")
        with tempfile.TemporaryDirectory() as folder:
            new.save_pretrained(folder)
            text = (Path(folder) / "config.json").read_text()
        target = ROOT / "hf-configs-v5" / path.parent.name / "config.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written += 1
    print(f"wrote {written} configs under {ROOT / 'hf-configs-v5'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
