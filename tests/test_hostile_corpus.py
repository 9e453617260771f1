"""A generated corpus of hostile input (issue 12): configs, argument bytes and numbers, JSON
lines for ``load``, CSV for ``metrics import``, odd paths, foreign and damaged files.

For every input: exit status 1, one ``Error:`` line, no traceback, and the catalog unchanged
(the digest of its ``export``, FTS rows included, is the same before and after).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability_support import HF_CONFIGS, LLAMA_31_8B, dump_catalog, llama_record

from genz_catalog.cli import cli
from genz_catalog.datasette.functions import register_sql_functions
from genz_catalog.errors import InvalidInputError
from genz_catalog.limits import (
    MAX_CONFIG_DEPTH,
    MAX_NUMBER_CHARS,
    SQLITE_MAX_INT,
    loads_config,
    loads_strict,
)
from genz_catalog.manager import MAX_CONFIG_BYTES, ModelManager

MODEL = "meta-llama/Llama-3.1-8B"
TOO_BIG = str(2**63)
#: Non-UTF-8 bytes as Python hands them to a program (surrogateescape), e.g. from `$'\xff'`.
BAD_BYTES = "caf\udce9"


def llama() -> dict:
    return json.loads(LLAMA_31_8B.read_text())


def nested_text(depth: int) -> str:
    """JSON text of objects nested ``depth`` deep (built as text: json.dumps would recurse)."""
    return '{"x": ' * depth + "1" + "}" * depth


def with_key(config: dict, key: str, raw_json: str) -> bytes:
    """``config`` as JSON with one more key whose value is the raw JSON text given."""
    return (json.dumps(config)[:-1] + f', "{key}": {raw_json}}}').encode()


@pytest.fixture
def seeded(isolated_catalog: Path) -> Path:
    """A catalog with one real model, a version 2 (for rollback/diff) and a metric."""
    with ModelManager(isolated_catalog) as manager:
        manager.import_config_file(LLAMA_31_8B, MODEL)
        manager.add_model(MODEL, record=llama_record(num_layers=30), force=True)
        manager.add_quality_metric(MODEL, "MMLU", 66.7, 5)
    return isolated_catalog


def digest(path: Path) -> str:
    """sha256 of everything the catalog holds (export lines with cache, plus FTS rows)."""
    return hashlib.sha256("\n".join(dump_catalog(path)).encode()).hexdigest()


def assert_refused(args: list[str], catalog: Path, expected: str | None = None) -> str:
    """Run the CLI; check exit 1, exactly one 'Error:' line, no traceback, catalog unchanged."""
    before = digest(catalog)
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code == 1, (args, result.output)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, (
        args,
        result.stderr,
    )
    assert "Traceback" not in result.output
    if expected is not None:
        assert expected in result.stderr, (args, result.stderr)
    assert digest(catalog) == before, args
    return result.stderr


# ------------------------------------------------------------------------------ configs


def hostile_configs() -> list[tuple[str, bytes, str]]:
    """(name, file bytes, part of the expected message), generated."""
    base = llama()
    out = [
        ("nested-1000", with_key(base, "deep", nested_text(1000)), "nested deeper than the limit"),
        ("nested-100000", with_key(base, "deep", nested_text(100_000)), "nested deeper"),
        (
            f"nested-{MAX_CONFIG_DEPTH + 1}",
            with_key(base, "deep", nested_text(MAX_CONFIG_DEPTH)),
            f"limit of {MAX_CONFIG_DEPTH} levels",
        ),
        ("list-nesting", with_key(base, "deep", "[" * 900 + "]" * 900), "nested deeper"),
    ]
    big_int = json.dumps(base)[:-1] + ', "big": ' + "9" * 5000 + "}"
    out.append(("int-5000-digits", big_int.encode(), f"exceeds the limit of {MAX_NUMBER_CHARS}"))
    long_float = json.dumps(base)[:-1] + ', "f": 0.' + "1" * 200 + "}"
    out.append(("float-200-chars", long_float.encode(), "characters exceeds the limit"))
    huge_exp = json.dumps(base)[:-1] + ', "f": 1e999}'
    out.append(("float-overflow", huge_exp.encode(), "too large for a float"))
    out.append(("latin-1", json.dumps(base).encode()[:-1] + b', "n": "caf\xe9"}', "not UTF-8"))
    out.append(("top-level-list", b"[1, 2, 3]", "config must be a JSON object"))
    out.append(("top-level-string", b'"hello"', "config must be a JSON object"))
    out.append(("truncated", json.dumps(base).encode()[:100], "malformed JSON"))
    out.append(("empty", b"", "malformed JSON"))
    padding = json.dumps({**base, "pad": "x" * MAX_CONFIG_BYTES}).encode()
    out.append(("oversized", padding, f"at most {MAX_CONFIG_BYTES} bytes"))
    out.append(("mistyped-layers", json.dumps({**base, "num_hidden_layers": "32"}).encode(), ""))
    out.append(("mistyped-hidden", json.dumps({**base, "hidden_size": [4096]}).encode(), ""))
    out.append(("nul-bytes", b"\x00" * 64, ""))
    return out


CONFIGS = hostile_configs()


@pytest.mark.parametrize(("name", "data", "message"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_hostile_config_is_one_line_and_writes_nothing(
    seeded: Path, tmp_path: Path, name: str, data: bytes, message: str
):
    path = tmp_path / f"{name}.json"
    path.write_bytes(data)
    assert_refused(["import", str(path), "--id", "hostile/model"], seeded, message)


def test_a_bulk_import_reports_each_bad_file_on_its_own_line_and_imports_the_good(
    isolated_catalog: Path, tmp_path: Path
):
    good = []
    for i in range(3):
        path = tmp_path / f"good{i}.json"
        path.write_text(json.dumps({**llama(), "_name_or_path": f"good/model-{i}"}))
        good.append(str(path))
    bad = []
    for name, data, _ in CONFIGS:
        path = tmp_path / f"bad-{name}.json"
        path.write_bytes(data)
        bad.append(str(path))
    result = CliRunner().invoke(cli, ["import", *good[:1], *bad, *good[1:], "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    # One row per input, in input order; each bad file failed with a detail naming the problem.
    assert len(rows) == len(good) + len(bad)
    assert [(r["status"], r["model_id"]) for r in (rows[0], *rows[-2:])] == [
        ("imported", f"good/model-{i}") for i in range(3)
    ]
    for row, (name, _, message) in zip(rows[1:-2], CONFIGS, strict=True):
        assert row["status"] == "failed", (name, row)
        assert message in row["detail"], (name, row["detail"])
    assert result.stderr == f"Error: {len(bad)} of {len(rows)} imports failed\n"
    with ModelManager(isolated_catalog) as manager:
        assert {m["model_id"] for m in manager.list_models()} == {
            "good/model-0",
            "good/model-1",
            "good/model-2",
        }


def test_nan_and_infinity_are_stored_as_strict_json(isolated_catalog: Path, tmp_path: Path):
    path = tmp_path / "config.json"
    text = json.dumps(llama())[:-1] + ', "time_step_limit": [0.0, Infinity], "eps": NaN}'
    path.write_text(text)
    result = CliRunner().invoke(cli, ["import", str(path), "--id", "nan/model"])
    assert result.exit_code == 0, result.output
    assert "time_step_limit[1] is Infinity, which is not JSON" in result.stderr
    conn = sqlite3.connect(isolated_catalog)
    register_sql_functions(conn)  # genz_document, as the web server's SQL has it
    # json_extract reads every row: one NaN used to make it fail on the whole table.
    assert conn.execute(
        "SELECT json_extract(genz_document(d.body), '$.time_step_limit[1]'), "
        "json_extract(genz_document(d.body), '$.eps') "
        "FROM models m JOIN documents d ON d.id = m.config_doc"
    ).fetchall() == [("Infinity", "NaN")]
    assert conn.execute(
        "SELECT count(*) FROM documents WHERE NOT json_valid(genz_document(body))"
    ).fetchone() == (0,)
    conn.close()


def test_numbers_are_read_as_json_reads_them_up_to_the_limit():
    # The parse hands a text to the number-by-number parse only when it may hold a long
    # number: a long digit run in a string goes there too and must come back the same.
    base = llama()
    at_limit = "0." + "1" * (MAX_NUMBER_CHARS - 2)
    texts = [
        json.dumps({**base, "commit": "1" * 80, "eps": 1e-05}),
        json.dumps(base)[:-1] + f', "f": {at_limit}, "i": {"9" * MAX_NUMBER_CHARS}}}',
        *(p.read_text() for p in sorted(HF_CONFIGS.glob("*/config.json"))),
    ]
    assert len(texts) > 100
    for text in texts:
        assert loads_config(text) == json.loads(text)
        assert loads_config(text.encode()) == json.loads(text)
        if "NaN" not in text and "Infinity" not in text:  # which strict parses refuse
            assert loads_strict(text) == json.loads(text)
    over = json.dumps(base)[:-1] + f', "f": {at_limit}1}}'
    for parse in (loads_config, loads_strict):
        for given in (over, over.encode(), over.encode("utf-16")):  # bytes as json reads them
            with pytest.raises(InvalidInputError, match="65 characters exceeds the limit of 64"):
                parse(given)
    with pytest.raises(InvalidInputError, match="NaN is not JSON"):
        loads_strict(json.dumps(base)[:-1] + ', "f": NaN}')
    with pytest.raises(InvalidInputError, match="1e999 is too large for a float"):
        loads_config(json.dumps(base)[:-1] + ', "f": 1e999}')
    assert math.isinf(loads_config(json.dumps(base)[:-1] + ', "f": Infinity}')["f"])


# -------------------------------------------------------------------- argument bytes, numbers

#: Every command that takes text, with BAD_BYTES in one argument.
NON_UTF8_ARGS = [
    ["show", BAD_BYTES],
    ["list", "--family", BAD_BYTES],
    ["list", "--search", BAD_BYTES],
    ["search", BAD_BYTES],
    ["delete", BAD_BYTES, "-y"],
    ["undelete", BAD_BYTES],
    ["history", BAD_BYTES],
    ["rollback", BAD_BYTES, "1"],
    ["diff", BAD_BYTES, "1", "2"],
    ["compare", MODEL, BAD_BYTES],
    ["metrics", "add", MODEL, BAD_BYTES, "50"],
    ["metrics", "add", BAD_BYTES, "MMLU", "50"],
    ["metrics", "list", BAD_BYTES],
    ["metrics", "import", f"/tmp/{BAD_BYTES}.csv"],
    ["import", f"/tmp/{BAD_BYTES}.json"],
    ["import", f"org/{BAD_BYTES}"],
    ["export", f"/tmp/{BAD_BYTES}.jsonl"],
    ["backup", f"/tmp/{BAD_BYTES}.db"],
    ["load", f"/tmp/{BAD_BYTES}.jsonl"],
    ["clear-cache", BAD_BYTES],
    ["--db", f"/tmp/{BAD_BYTES}.db", "list"],
]


@pytest.mark.parametrize("args", NON_UTF8_ARGS, ids=lambda a: " ".join(a[:2]))
def test_non_utf8_argument_bytes_are_one_line(seeded: Path, args: list[str]):
    assert_refused(args, seeded, "is not valid UTF-8 text")


#: Every integer option or argument, given 2**63.
BIG_INTEGER_ARGS = [
    ["list", "--limit", TOO_BIG],
    ["search", "llama", "--limit", TOO_BIG],
    ["rollback", MODEL, TOO_BIG],
    ["diff", MODEL, TOO_BIG, "1"],
    ["diff", MODEL, "1", TOO_BIG],
    ["metrics", "add", MODEL, "MMLU", "50", "--shots", TOO_BIG],
    ["show", MODEL, "--memory", "--batch", TOO_BIG],
    ["show", MODEL, "--memory", "--seq", TOO_BIG],
    ["simulate", MODEL, "--batch", TOO_BIG],
    ["simulate", MODEL, "--input-tokens", TOO_BIG],
    ["simulate", MODEL, "--tensor-parallel", TOO_BIG],
    ["rollback", MODEL, "--", str(-(2**63) - 1)],
    ["rollback", MODEL, "9" * 5000],
]


@pytest.mark.parametrize("args", BIG_INTEGER_ARGS, ids=lambda a: " ".join(a[:2] + a[-2:-1]))
def test_integers_beyond_64_bits_are_one_line(seeded: Path, args: list[str]):
    message = assert_refused(args, seeded)
    assert "too large" in message or "is not" in message, message


@pytest.mark.parametrize(
    "shots",
    [TOO_BIG, "9" * 5000, "²", "-1", "1.5", str(SQLITE_MAX_INT + 10)],
)
def test_metrics_csv_with_hostile_numbers_is_one_line(seeded: Path, tmp_path: Path, shots: str):
    csv = tmp_path / "scores.csv"
    csv.write_text(
        f"model_id,metric_name,metric_value,shots\n{MODEL},MMLU,50,5\n{MODEL},GSM8K,40,{shots}\n"
    )
    assert_refused(["metrics", "import", str(csv)], seeded, f"{csv} line 3:")


def test_metrics_import_never_opens_a_fifo_or_a_device(seeded: Path, tmp_path: Path):
    fifo = tmp_path / "scores.csv"
    os.mkfifo(fifo)
    # Opening a FIFO with no writer would block forever; the command must not open it.
    assert_refused(["metrics", "import", str(fifo)], seeded, "not a regular file")
    assert_refused(["metrics", "import", "/dev/zero"], seeded, "not a regular file")
    assert_refused(["import", "/dev/zero"], seeded, "not a regular file")


# ---------------------------------------------------------------------------------- paths


def test_odd_catalog_paths_are_one_line(seeded: Path, tmp_path: Path):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    assert_refused(
        ["--db", str(a_file / "sub" / "x.db"), "import", str(LLAMA_31_8B)],
        seeded,
        "a parent of this path is a file",
    )
    assert_refused(["--db", "~no_such_user_xyz/x.db", "list"], seeded, "no such user")
    dangling = tmp_path / "dangling.db"
    dangling.symlink_to(tmp_path / "missing" / "target.db")
    assert_refused(["--db", str(dangling), "list"], seeded, "a symlink to a missing file")
    assert_refused(["--db", str(dangling), "import", str(LLAMA_31_8B)], seeded, "symlink")
    assert not (tmp_path / "missing").exists()
    assert_refused(["--db", str(tmp_path), "list"], seeded, "is a directory")


def test_a_dangling_symlink_is_a_path_not_a_hub_id(seeded: Path, tmp_path: Path):
    link = tmp_path / "org__name"
    link.symlink_to(tmp_path / "gone")
    # org__name looks like a plain name; it must be read as the path it is, never fetched.
    os.chdir(tmp_path)
    try:
        assert_refused(["import", "org__name"], seeded, "org__name: a symlink to a missing file")
    finally:
        os.chdir("/")


def test_a_foreign_sqlite_file_is_refused_and_left_byte_for_byte(seeded: Path, tmp_path: Path):
    foreign = tmp_path / "app.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    for args in (
        ["list"],
        ["stats"],
        ["import", str(LLAMA_31_8B)],
        ["doctor"],
        ["doctor", "--fix"],
    ):
        assert_refused(["--db", str(foreign), *args], seeded, "not a genz-catalog")
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]  # no -wal, no -shm


# ------------------------------------------------------------------------------ load


def _export_lines(catalog: Path) -> list[str]:
    result = CliRunner().invoke(cli, ["--db", str(catalog), "export", "-"])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def _with_model(lines: list[str], **changes: object) -> list[str]:
    out = []
    for line in lines:
        doc = json.loads(line)
        if doc.get("table") == "models":
            doc["row"].update(changes)
            line = json.dumps(doc)
        out.append(line)
    return out


def hostile_loads(lines: list[str]) -> list[tuple[str, list[str], str]]:
    header, body = lines[0], lines[1:]
    versions = [line for line in body if '"model_versions"' in line]
    no_version = [line for line in lines if line not in versions]
    model_line = next(i for i, line in enumerate(lines) if '"table": "models"' in line) + 1
    alias_row = json.dumps(
        {
            "table": "model_aliases",
            "row": {
                "alias": "Llama-3.1-8B",
                "model_id": "other/model",
                "kind": "user",
                "created_at": "t",
            },
        }
    )
    model = json.loads(lines[model_line - 1])["row"]
    shadow = json.dumps(
        {
            "table": "models",
            "row": {**model, "model_id": "Llama-3.1-8B", "model_name": "Llama-3.1-8B"},
        }
    )
    shadow_version = json.dumps(
        {
            "table": "model_versions",
            "row": {
                "model_id": "Llama-3.1-8B",
                "version": 2,
                "snapshot_json": "{}",
                "created_at": "t",
            },
        }
    )
    return [
        ("config-not-json", _with_model(lines, config_json="{not json"), "config_json is not JSON"),
        ("config-a-list", _with_model(lines, config_json="[1]"), "must hold a JSON dict"),
        ("config-nan", _with_model(lines, config_json='{"a": NaN}'), "NaN is not JSON"),
        ("config-deep", _with_model(lines, config_json=nested_text(200)), "nested deeper"),
        ("int-2^63", _with_model(lines, num_layers=2**63), "beyond 64-bit integers"),
        ("int-as-text", _with_model(lines, num_layers="32"), "must be an integer"),
        ("bool-as-int", _with_model(lines, hidden_size=True), "must be an integer"),
        ("absurd-layers", _with_model(lines, num_layers=10**9), "outside the plausible range"),
        (
            "negative-kv",
            _with_model(lines, kv_values_per_token=-5),
            "kv_values_per_token=-5 is outside the plausible range 0..1000000000000",
        ),
        (
            "negative-text",
            _with_model(lines, text_parameter_count=-1),
            "text_parameter_count=-1 is outside the plausible range",
        ),
        (
            "active-over-total",
            _with_model(lines, active_parameter_count=999 * 10**12),
            "active_parameter_count=999000000000000 is more than parameter_count=",
        ),
        ("bad-source", _with_model(lines, source="evil"), "models.source 'evil'"),
        ("flag-7", _with_model(lines, is_deleted=7), "must be 0 or 1"),
        ("surrogate", _with_model(lines, model_name="caf\udce9"), "not valid UTF-8"),
        ("memory-not-json", _with_model(lines, memory_json="nope"), "memory_json is not JSON"),
        ("no-current-version", no_version, "has no model_versions row for its current version"),
        ("version-ahead", _with_model(lines, current_version=9), "current version 9"),
        ("shadowed-id", [*lines, shadow, shadow_version], "is also an alias of"),
        ("alias-row-json", [header, *body, alias_row + " x"], "malformed JSON"),
        (
            "nan-metric",
            [
                *lines,
                json.dumps(
                    {
                        "table": "model_quality_metrics",
                        "row": {
                            "model_id": MODEL,
                            "metric_name": "X",
                            "metric_value": float("nan"),
                            "unit": "percent",
                            "created_at": "t",
                            "updated_at": "t",
                        },
                    }
                ),
            ],
            "NaN is not JSON",
        ),
        (
            "huge-line",
            [header, '{"table": "models", "row": {"x": "' + "y" * (13 * 2**20) + '"}}'],
            "bytes are accepted",
        ),
    ]


def test_hostile_export_files_are_refused_whole(seeded: Path, tmp_path: Path):
    lines = _export_lines(seeded)
    for name, content, message in hostile_loads(lines):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(content) + "\n", encoding="utf-8", errors="surrogatepass")
        for mode in ([], ["--replace"]):
            stderr = assert_refused(["load", *mode, str(path)], seeded, message)
            assert stderr.startswith(f"Error: {path}:"), (name, stderr)


def test_load_of_the_untouched_export_is_accepted(seeded: Path, tmp_path: Path):
    path = tmp_path / "same.jsonl"
    path.write_text("\n".join(_export_lines(seeded)) + "\n")
    before = digest(seeded)
    assert CliRunner().invoke(cli, ["load", "--replace", str(path)]).exit_code == 0
    assert digest(seeded) == before
