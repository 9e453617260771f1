"""docs/families.md is generated (scripts/families_table.py) and must be fresh (issue 11 item 7)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from genz_catalog.convert import supported_families

ROOT = Path(__file__).resolve().parent.parent


def _script():  # noqa: ANN202 - a module loaded from scripts/
    spec = importlib.util.spec_from_file_location(
        "families_table", ROOT / "scripts" / "families_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_families_page_is_fresh() -> None:
    page = ROOT / "docs" / "families.md"
    assert page.read_text() == _script().render(), (
        "docs/families.md is stale: run python scripts/families_table.py"
    )


def test_families_page_lists_every_handled_family_with_its_genz_status() -> None:
    text = (ROOT / "docs" / "families.md").read_text()
    for family in supported_families():
        assert f"`{family}`" in text
    rows = {
        line.split(" | ")[0].strip("| `"): line
        for line in text.splitlines()
        if line.startswith("| `")
    }
    assert "| simulated |" in rows["llama"]
    assert "cannot simulate: GenZ 0.0.16 simulates decoder stacks only" in rows["t5"]
    assert "simulated with approximations: GenZ models MLA" in rows["deepseek_v3"]
    assert "`RefinedWebModel`" in rows["falcon"]
