"""Hostile input: fuzzed configs, bad ids, SQL fragments, absurd values, huge files, secrets."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_server import running_hub
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reliability_support import HF_CONFIGS, LLAMA_31_8B, dump_catalog, llama_record

from genz_catalog.cli import cli
from genz_catalog.manager import MAX_CONFIG_BYTES, ModelManager

REAL_CONFIGS = sorted(p.parent.name for p in HF_CONFIGS.glob("*/config.json"))
#: Keys the converter reads, so mutations hit the code that matters.
INTERESTING_KEYS = (
    "model_type",
    "num_hidden_layers",
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "max_position_embeddings",
    "num_local_experts",
    "num_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "tie_word_embeddings",
    "text_config",
    "sliding_window",
    "layer_types",
    "n_layer",
    "n_embd",
    "n_head",
    "d_model",
    "kv_lora_rank",
    "q_lora_rank",
    "qk_rope_head_dim",
    "first_k_dense_replace",
    "architectures",
    "torch_dtype",
    "_name_or_path",
)
HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(min_value=-5, max_value=10**6), max_size=4),
    st.dictionaries(st.sampled_from(INTERESTING_KEYS), st.integers(-2, 10**6), max_size=3),
)
MUTATION = st.tuples(
    st.sampled_from(INTERESTING_KEYS), st.one_of(st.just("<delete>"), HOSTILE_VALUES)
)
SQL = "'; drop table models; --"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def seeded(isolated_catalog: Path) -> Path:
    """A catalog holding one real model, so "write nothing" has something to protect."""
    with ModelManager(isolated_catalog) as manager:
        manager.import_config_file(LLAMA_31_8B, "meta-llama/Llama-3.1-8B")
    return isolated_catalog


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(base=st.sampled_from(REAL_CONFIGS), mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_fuzzed_configs_import_cleanly_or_fail_with_one_line_and_write_nothing(
    seeded: Path, tmp_path: Path, base: str, mutations: list
):
    config = json.loads((HF_CONFIGS / base / "config.json").read_text())
    for key, value in mutations:
        if value == "<delete>":
            config.pop(key, None)
        else:
            config[key] = value
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    before = dump_catalog(seeded)
    result = run("import", str(path), "--id", "fuzz/model")
    # Never a traceback: the only exits are success and a clear error.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    event("imported" if result.exit_code == 0 else "refused")
    if result.exit_code == 0:
        assert result.stdout.startswith("imported fuzz/model (version 1)")
        with ModelManager(seeded) as manager:
            assert manager.get_model("fuzz/model")["family"] is not None
            manager.delete_model("fuzz/model", hard=True)
        return
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert dump_catalog(seeded) == before


@pytest.mark.parametrize(
    ("model_id", "message"),
    [
        ("meta-llama/../secrets", "model id 'meta-llama/../secrets' must not contain '..'"),
        ("..", "model id '..' must not contain '..'"),
        (
            "org//name",
            "model id 'org//name' must be 'name' or 'org/name' (one '/', no empty parts)",
        ),
        (
            "org/name/extra",
            "model id 'org/name/extra' must be 'name' or 'org/name' (one '/', no empty parts)",
        ),
        ("/name", "model id '/name' must be 'name' or 'org/name' (one '/', no empty parts)"),
        ("org/", "model id 'org/' must be 'name' or 'org/name' (one '/', no empty parts)"),
        ("org/na\x00me", "model id must not contain control characters"),
        ("org/na\nme", "model id must not contain control characters"),
        ("org/\x1b[31mred", "model id must not contain control characters"),
        ("org/na\u200bme", "model id must not contain control characters"),
        ("o/" + "x" * 199, "model id is 201 characters long; at most 200 allowed"),
        (
            "org/name; drop",
            "model id 'org/name; drop' may only contain ASCII letters and digits, "
            "'.', '_', '+', '-' and one '/'",
        ),
    ],
)
def test_bad_model_ids_are_refused_with_the_rule_they_break(
    seeded: Path, model_id: str, message: str
):
    before = dump_catalog(seeded)
    result = run("import", str(LLAMA_31_8B), "--id", model_id)
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    with ModelManager(seeded) as manager, pytest.raises(ValueError) as raised:
        manager.add_model(model_id, record=llama_record())
    assert str(raised.value) == message
    assert dump_catalog(seeded) == before


@pytest.mark.parametrize(
    "option", ["--type", "--attention", "--family", "--source", "--search", "--sort"]
)
def test_sql_fragments_in_list_filters_are_data(seeded: Path, option: str):
    before = dump_catalog(seeded)
    result = run("list", option, SQL, "--json")
    if option == "--sort":
        assert result.exit_code == 1
        assert result.output.startswith(f"Error: cannot sort by {SQL!r}; choose one of: model_id,")
    elif option in ("--type", "--attention", "--source"):
        # A value outside the column's few is refused, naming them, not answered with nothing.
        assert result.exit_code == 2
        assert f"Error: Invalid value for '{option}'" in result.output
        assert {"--type": "'decoder-only'", "--attention": "'gqa'", "--source": "'local'"}[
            option
        ] in result.output
    else:
        assert (result.exit_code, result.stdout) == (0, "[]\n")
    assert dump_catalog(seeded) == before


def test_sql_fragments_in_sizes_and_search_are_data(seeded: Path):
    before = dump_catalog(seeded)
    for option in ("--min-params", "--max-params"):
        result = run("list", option, SQL)
        assert result.exit_code == 1
        assert result.output == (
            f"Error: {option}: invalid size {json.dumps(SQL)}: use a number with an optional "
            "K, M, B or T suffix, e.g. 7B, 500M, 1.5e9\n"
        )
    searched = run("search", SQL, "--json")
    assert (searched.exit_code, searched.stdout) == (0, "[]\n")
    assert dump_catalog(seeded) == before


def test_sql_fragments_stored_as_values_are_found_as_data(seeded: Path):
    with ModelManager(seeded) as manager:
        manager.add_model("evil/model", record=llama_record(family=SQL), model_name=SQL)
        assert [m["model_id"] for m in manager.list_models(family=SQL)] == ["evil/model"]
        assert [m["model_id"] for m in manager.search_models("drop table")] == ["evil/model"]
        assert manager.list_models(search=SQL)[0]["model_name"] == SQL
        assert manager.get_stats()["total_models"] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"num_hidden_layers": 1e30},
            "llama: num_hidden_layers must be between 1 and 65536, got "
            "1000000000000000019884624838656",
        ),
        (
            {"num_hidden_layers": 10**30},
            "llama: num_hidden_layers must be between 1 and 65536, got " + str(10**30),
        ),
        (
            {"num_attention_heads": -32},
            "llama: num_attention_heads must be between 1 and 1099511627776, got -32",
        ),
        (
            {"vocab_size": 10**12},
            "absurd/model: vocab_size=1000000000000 is outside the plausible range 1..100000000",
        ),
    ],
)
def test_absurd_values_are_refused_with_a_reason(
    seeded: Path, tmp_path: Path, change: dict, message: str
):
    config = {**json.loads(LLAMA_31_8B.read_text()), **change}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    before = dump_catalog(seeded)
    result = run("import", str(path), "--id", "absurd/model")
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    assert dump_catalog(seeded) == before


def test_config_over_the_size_limit_is_refused_before_parsing(seeded: Path, tmp_path: Path):
    config = json.loads(LLAMA_31_8B.read_text())
    config["padding"] = "x" * MAX_CONFIG_BYTES
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    size = path.stat().st_size
    before = dump_catalog(seeded)
    result = run("import", str(path), "--id", "huge/model")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {path}: config is {size} bytes; at most {MAX_CONFIG_BYTES} bytes are accepted\n",
    )
    assert dump_catalog(seeded) == before


# ------------------------------------------------------------------------------ secrets

SECRET = "hf_reliability_secret_7f3a9c"
GATED = "meta-llama/Llama-3.1-8B"
OPEN = "Qwen/Qwen2.5-7B"


def _everything_written(db: Path, hf_home: Path) -> bytes:
    """Every byte the catalog and the Hugging Face cache left on disk."""
    blobs = [p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file()]
    blobs += [p.read_bytes() for p in hf_home.rglob("*") if p.is_file()]
    return b"\n".join(blobs)


@pytest.mark.parametrize(
    ("args", "setup", "exit_code"),
    [
        ([GATED], "grant", 0),
        ([OPEN], "reject", 1),
        ([GATED], "no-access", 1),
        ([OPEN], "server-error", 1),
        (["no-such/model"], "grant", 1),
        ([GATED, OPEN, "no-such/model"], "grant", 1),
    ],
    ids=["success", "bad-token", "gated", "5xx", "not-found", "bulk"],
)
def test_token_never_reaches_the_database_logs_or_error_output(
    isolated_catalog: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    args: list,
    setup: str,
    exit_code: int,
):
    caplog.set_level(logging.DEBUG)  # every logger, huggingface_hub's and urllib3's included
    monkeypatch.setenv("HF_DEBUG", "1")
    with running_hub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.add_real_model(GATED)
        hub.add_real_model(OPEN, fault="server-error" if setup == "server-error" else None)
        if setup != "reject":
            hub.valid_tokens.add(SECRET)
        if setup == "grant":
            hub.repos[GATED.lower()].granted_tokens.add(SECRET)
        result = run("import", *args, "--token", SECRET)
        sent = {r.authorization for r in hub.requests}
    assert result.exit_code == exit_code, result.output
    assert f"Bearer {SECRET}" in sent  # the token was really used
    assert SECRET not in result.output
    assert SECRET not in caplog.text
    assert SECRET.encode() not in _everything_written(
        isolated_catalog, isolated_catalog.parent / "hf"
    )


def test_token_stays_secret_in_a_real_process_with_hub_debug_logging(isolated_catalog: Path):
    """HF_DEBUG=1 makes huggingface_hub log every request as a curl command, headers included."""
    with running_hub() as hub:
        hub.add_real_model(GATED)
        hub.add_real_model(OPEN)
        hub.valid_tokens.add(SECRET)
        hub.repos[GATED.lower()].granted_tokens.add(SECRET)
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_DEBUG": "1"}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "genz_catalog",
                "import",
                GATED,
                OPEN,
                "no-such/model",
                "--token",
                SECRET,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        sent = {r.authorization for r in hub.requests}
    assert done.returncode == 1  # no-such/model fails; the other two import
    assert f"Bearer {SECRET}" in sent
    assert "1 failed" in done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    with ModelManager(isolated_catalog) as manager:
        assert manager.get_model(GATED)["parameter_count"] == 8030261248
    assert SECRET.encode() not in _everything_written(
        isolated_catalog, isolated_catalog.parent / "hf"
    )


@pytest.mark.parametrize("path", ["", "  "])
def test_an_empty_db_path_is_refused_not_taken_for_the_default(seeded: Path, path: str):
    # An empty --db used to mean "not given": the import went to $GENZ_CATALOG_DB's catalog.
    before = dump_catalog(seeded)
    result = run("--db", path, "import", str(LLAMA_31_8B), "--id", "other/model")
    assert result.exit_code == 2
    assert "Error: Invalid value for '--db': the catalog path is empty" in result.output
    assert dump_catalog(seeded) == before


def test_a_failed_load_into_a_new_catalog_leaves_no_file_nor_folder(seeded: Path, tmp_path: Path):
    export = tmp_path / "good.jsonl"
    assert run("--db", str(seeded), "export", str(export)).exit_code == 0
    lines = export.read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    # A good header and model, then a line cut short: refused at line 3, after writing began.
    broken.write_text("\n".join([*lines[:2], lines[2][:40]]) + "\n")
    target = tmp_path / "new" / "deeper" / "catalog.db"
    for source in ("missing.jsonl", str(broken)):
        result = run("--db", str(target), "load", source)
        assert result.exit_code == 1 and result.output.startswith("Error: "), result.output
        assert len(result.output.splitlines()) == 1
        assert not (tmp_path / "new").exists()
    assert run("--db", str(target), "load", str(export)).exit_code == 0
    assert dump_catalog(target) == dump_catalog(seeded)


def test_an_export_or_backup_never_replaces_a_device_or_fifo(seeded: Path, tmp_path: Path):
    # Exports and backups are renamed into place: run as root, `export /dev/full` replaced the
    # device with a regular file.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for command in ("export", "backup"):
        for target in (fifo, Path(os.devnull)):
            result = run("--db", str(seeded), command, str(target))
            assert result.exit_code == 1
            what = "export" if command == "export" else "backup"
            assert result.output == (
                f"Error: {target}: is not a regular file (a device, FIFO or socket); give a "
                f"file name for the {what}\n"
            )
    assert fifo.is_fifo() and Path(os.devnull).is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary left


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="needs /dev/full")
def test_output_that_cannot_be_written_is_an_error_not_a_traceback_or_success(seeded: Path):
    env = {**os.environ, "GENZ_CATALOG_DB": str(seeded)}
    for args in (
        ["list", "--json"],
        ["show", "meta-llama/Llama-3.1-8B", "--config"],
        ["export", "-"],
    ):
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [sys.executable, "-m", "genz_catalog", *args],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                check=False,
            )
        assert (done.returncode, done.stderr) == (
            1,
            "Error: cannot write the output: No space left on device\n",
        ), args


def test_a_folder_import_follows_linked_model_folders_once_and_ends_on_a_loop(tmp_path: Path):
    from genz_catalog.catalog.config_files import find_config_files

    folder = tmp_path / "models"
    (folder / "org__own").mkdir(parents=True)
    (folder / "org__own" / "config.json").write_text(LLAMA_31_8B.read_text())
    (folder / "linked").symlink_to(HF_CONFIGS / "Qwen__Qwen3-8B", target_is_directory=True)
    (folder / "again").symlink_to(HF_CONFIGS / "Qwen__Qwen3-8B", target_is_directory=True)
    (folder / "org__own" / "loop").symlink_to(folder, target_is_directory=True)
    assert find_config_files(folder) == [
        str(folder / "again" / "config.json"),  # the first way to the linked folder, sorted
        str(folder / "org__own" / "config.json"),
    ]
    db = tmp_path / "c.db"
    result = run("--db", str(db), "import", str(folder), "--json")
    assert result.exit_code == 0, result.output
    with ModelManager(db) as manager:
        assert sorted(m["model_id"] for m in manager.list_models()) == ["Qwen/Qwen3-8B", "org/own"]


def test_a_model_twice_in_an_export_is_named_as_such(seeded: Path, tmp_path: Path):
    export = tmp_path / "good.jsonl"
    assert run("--db", str(seeded), "export", str(export)).exit_code == 0
    lines = export.read_text().splitlines()
    [model_line] = [
        n for n, line in enumerate(lines, 1) if json.loads(line).get("table") == "models"
    ]
    doubled = tmp_path / "doubled.jsonl"
    doubled.write_text("\n".join([*lines, lines[model_line - 1]]) + "\n")
    before = dump_catalog(seeded)
    result = run("--db", str(seeded), "load", str(doubled))
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {doubled}:{len(lines) + 1}: model 'meta-llama/Llama-3.1-8B' is in the file "
        f"twice (first at {doubled}:{model_line})\n",
    )
    assert dump_catalog(seeded) == before
