"""Print the meta-device parameter count of real configs (the truth.tsv oracle) next to the converter's.

The count is the one ``tests/test_convert_oracle.py`` asserts: transformers' model class for the
config's ``model_type``, instantiated on the meta device, unique parameters summed. Use it to write
the ``parameter_count`` of a new truth.tsv row for a folder under tests/data/hf-configs.

    python scripts/meta_count.py tests/data/hf-configs/allenai__OLMoE-1B-7B-0125-Instruct ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main(folders: list[str]) -> int:
    from test_convert_oracle import meta_device_parameter_count

    from genz_catalog.convert import ConversionError, convert_hf_config

    for folder in folders:
        path = Path(folder) / "config.json"
        config = json.loads(path.read_text())
        model_id = Path(folder).name.replace("__", "/", 1)
        truth = meta_device_parameter_count(config)
        try:
            got: int | str = convert_hf_config(config, model_id)["parameter_count"]
        except ConversionError as error:
            got = f"refused: {error}"
        off = f"{(got - truth) / truth:+.4%}" if isinstance(got, int) else ""
        print(f"{model_id}\t{config.get('model_type')}\t{truth}\t{got}\t{off}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
