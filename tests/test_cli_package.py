"""The command line's shape: one group imported from one place, no import circle, every command
module registered, a lean start."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import genz_catalog.cli

ROOT = Path(__file__).resolve().parent.parent
CLI_PACKAGE = ROOT / "genz_catalog" / "cli"
COMMAND_MODULES = sorted(
    p.stem for p in CLI_PACKAGE.glob("*.py") if p.stem not in ("__init__", "group", "output")
)


def _imports(module: str) -> list[tuple[int, str, list[str]]]:
    """(level, module, names) of every ``from ... import`` in a module of the cli package."""
    tree = ast.parse((CLI_PACKAGE / f"{module}.py").read_text())
    return [
        (node.level, node.module or "", [a.name for a in node.names])
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    ]


def test_command_modules_take_the_group_from_group_and_never_import_the_package():
    for module in COMMAND_MODULES + ["group", "output"]:
        for level, name, names in _imports(module):
            absolute = name if level == 0 else None
            assert absolute != "genz_catalog.cli", (module, names)
            assert not (level == 1 and name == ""), f"{module} imports its package: {names}"
            assert not (level == 2 and name == "" and "cli" in names), module
            if "cli" in names and level == 1:
                assert name == "group", f"{module} takes cli from .{name}, not .group"
    # The group knows no command module: the arrows point one way.
    siblings = set(COMMAND_MODULES)
    assert not [n for level, n, _ in _imports("group") if level == 1 and n in siblings]


def test_every_command_module_is_registered_and_the_entry_point_is_main():
    # A module left out of the registration lines would silently have no commands.
    loaded = {m for m in COMMAND_MODULES if f"genz_catalog.cli.{m}" in sys.modules}
    assert loaded == set(COMMAND_MODULES)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '\n[project.scripts]\ngenz-catalog = "genz_catalog.cli:main"\n' in pyproject
    assert callable(genz_catalog.cli.main) and genz_catalog.cli.cli.name == "cli"


def test_help_starts_without_the_converter_or_the_catalog_library():
    code = (
        "import sys\n"
        "sys.argv = ['genz-catalog', '--help']\n"
        "from genz_catalog.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(sorted(m for m in ('genz_catalog.convert', 'genz_catalog.manager', 'tabulate',\n"
        "    'huggingface_hub', 'GenZ', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[]"


def test_python_dash_m_runs_the_same_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "genz_catalog", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.startswith("Usage: genz-catalog [OPTIONS] COMMAND [ARGS]...")
