"""Write the record's part of metadata.yml: the models table's column descriptions and sortable
columns for every field of ``genz_catalog.record.ModelRecord`` stored as a column.

    python scripts/record_metadata.py            # rewrite the marked blocks of metadata.yml
    python scripts/record_metadata.py --check    # exit 1 when metadata.yml is stale

metadata.yml is one static file (``genz-catalog serve`` serves it, and so does plain
``datasette -m metadata.yml``), so the figures' part of it is generated here rather than merged
at load time. Only the lines between the ``BEGIN record columns`` and ``END record columns``
markers are written; everything else (the catalog's own columns such as ``model_name``,
``source``, the Hub columns, the JSON documents; facets; canned queries) stays hand-written.
Run it after adding or changing a field of the record (a test fails while the file is stale).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genz_catalog.record import (  # noqa: E402 - after the path set-up above
    SORT_WEB,
    ModelRecord,
    record_columns,
    sortable_columns,
)

METADATA = ROOT / "metadata.yml"
BEGIN = "# BEGIN record columns: written by scripts/record_metadata.py from genz_catalog/record.py"
END = "# END record columns"
# A marked block: its indentation, the BEGIN line, the lines it holds, the END line.
_BLOCK = re.compile(
    r"^(?P<indent>[ ]*)" + re.escape(BEGIN) + r"\n(?P<body>.*?)^(?P=indent)" + re.escape(END),
    re.MULTILINE | re.DOTALL,
)


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back unchanged, else double-quoted
    (a JSON string is a valid YAML double-quoted scalar)."""
    try:
        if yaml.safe_load(f"key: {text}") == {"key": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def block_lines(kind: str, record_type: type[ModelRecord] = ModelRecord) -> list[str]:
    """The lines of a marked block without indentation: ``kind`` ``sortable_columns`` (the
    record columns marked sortable on the web) or ``columns`` (their descriptions)."""
    if kind == "sortable_columns":
        return [f"- {name}" for name in sortable_columns(SORT_WEB, record_type)]
    if kind == "columns":
        return [
            f"{name}: {_scalar(column.description)}"
            for name, column in record_columns(record_type).items()
        ]
    raise ValueError(f"unknown block kind {kind!r}")


def render(text: str, record_type: type[ModelRecord] = ModelRecord) -> str:
    """``text`` (metadata.yml) with both marked blocks of the models table rewritten.

    A block's kind is the key its BEGIN marker sits under (``sortable_columns:`` or
    ``columns:``, the nearest less-indented line above it). Raises ``ValueError`` unless there
    is exactly one block of each kind.
    """
    seen: list[str] = []

    def rewrite(match: re.Match[str]) -> str:
        indent = match.group("indent")
        before = text[: match.start()].splitlines()
        owner = next(
            line.strip()
            for line in reversed(before)
            if line.strip() and len(line) - len(line.lstrip()) < len(indent)
        )
        kind = owner.rstrip(":")
        seen.append(kind)
        lines = [indent + line for line in block_lines(kind, record_type)]
        return "\n".join([indent + BEGIN, *lines, indent + END])

    rendered = _BLOCK.sub(rewrite, text)
    if sorted(seen) != ["columns", "sortable_columns"]:
        raise ValueError(
            f"metadata.yml must hold one marked block under sortable_columns: and one under "
            f"columns: of the models table; found {seen}"
        )
    return rendered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if metadata.yml is stale")
    args = parser.parse_args()
    current = METADATA.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if current != wanted:
            print(f"{METADATA} is stale: run python scripts/record_metadata.py", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        METADATA.write_text(wanted, encoding="utf-8")
        print(f"wrote {METADATA}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
