"""The genz-catalog command line: exact output, error text and exit codes, on real configs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from genz_catalog import ModelManager
from genz_catalog.cli import cli

CONFIGS = Path(__file__).parent / "data" / "hf-configs"
LLAMA = "meta-llama/Llama-3.1-8B"
MISTRAL = "mistralai/Mistral-7B-v0.1"
MIXTRAL = "mistralai/Mixtral-8x7B-v0.1"
STAMP = "2026-01-02T03:04:05.000Z"
LIST_HEADER = (
    "model_id,family,model_type,attention_type,parameter_count,active_parameter_count,"
    "count_basis,num_layers,hidden_size,num_attention_heads,num_key_value_heads,context_length,source"
)
LLAMA_CSV = "meta-llama/Llama-3.1-8B,llama,decoder-only,gqa,8030261248,8030261248,formula,32,4096,32,8,131072,local"
MISTRAL_CSV = "mistralai/Mistral-7B-v0.1,mistral,decoder-only,gqa,7241732096,7241732096,formula,32,4096,32,8,32768,local"
MIXTRAL_CSV = "mistralai/Mixtral-8x7B-v0.1,mixtral,decoder-only,gqa,46702792704,12879925248,formula,32,4096,32,8,32768,local"


def config_path(model_id: str) -> Path:
    return CONFIGS / model_id.replace("/", "__") / "config.json"


def freeze_times(manager: ModelManager) -> None:
    """Fixed timestamps, so outputs that show them can be compared exactly."""
    manager.db.execute("UPDATE models SET created_at = ?, updated_at = ?", [STAMP, STAMP])
    manager.db.execute("UPDATE model_versions SET created_at = ?", [STAMP])


@pytest.fixture
def catalog(isolated_catalog: Path):
    with ModelManager() as manager:
        for model_id in (LLAMA, MISTRAL, MIXTRAL):
            manager.import_config_file(config_path(model_id), model_id)
        freeze_times(manager)
        yield manager


def run(*args: str, input: str | None = None):  # noqa: A002 - mirrors CliRunner
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def assert_error(result, message: str, exit_code: int = 1) -> None:
    """An expected failure: exit 1 (2 for a usage error), exactly one line on stderr, nothing
    on stdout."""
    assert result.exit_code == exit_code, result.output
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""


def assert_usage_error(result, message: str) -> None:
    """A usage error: one line on stderr, click's conventional exit code 2."""
    assert_error(result, message, exit_code=2)


# ------------------------------------------------------------------ help


def all_commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*path, name))


def test_every_command_has_help_text():
    commands = dict(all_commands())
    # Ours are all there, whoever else has registered commands since.
    assert {
        ("list",),
        ("show",),
        ("search",),
        ("delete",),
        ("undelete",),
        ("history",),
        ("rollback",),
        ("diff",),
        ("metrics",),
        ("metrics", "add"),
        ("metrics", "list"),
        ("metrics", "import"),
        ("stats",),
        ("clear-cache",),
    } <= set(commands)
    for path, command in commands.items():
        assert command.help and command.help.strip(), f"{' '.join(path)} has no help"
        result = run(*path, "--help")
        assert result.exit_code == 0, path
        first_words = " ".join([w for w in command.help.split() if "\b" not in w][:6])
        assert first_words in " ".join(result.output.split()), path


FOUNDATION_COMMANDS = [
    "list",
    "show",
    "search",
    "delete",
    "undelete",
    "history",
    "rollback",
    "diff",
    "metrics",
    "metrics add",
    "metrics list",
    "metrics import",
    "stats",
    "clear-cache",
]


@pytest.mark.parametrize("command", FOUNDATION_COMMANDS)
def test_foundation_help_has_an_example(command: str):
    result = run(*command.split(), "--help")
    assert "Example:\n" in result.output
    assert "    genz-catalog " in result.output


def test_root_help_and_version():
    assert "A SQLite catalog of LLM architectures" in run("--help").output
    assert run("--version").output.endswith(" version 0.1.0\n")


# ------------------------------------------------------------------ list and search


def test_list_table(catalog):
    result = run("list")
    assert result.exit_code == 0
    assert lines(result.output) == [
        "model_id                     family    model_type    attention_type    parameter_count    active_parameter_count      num_layers    hidden_size    num_attention_heads    num_key_value_heads    context_length  source",
        "---------------------------  --------  ------------  ----------------  -----------------  ------------------------  ------------  -------------  ---------------------  ---------------------  ----------------  --------",
        "meta-llama/Llama-3.1-8B      llama     decoder-only  gqa               8.03B              8.03B                               32           4096                     32                      8            131072  local",
        "mistralai/Mistral-7B-v0.1    mistral   decoder-only  gqa               7.24B              7.24B                               32           4096                     32                      8             32768  local",
        "mistralai/Mixtral-8x7B-v0.1  mixtral   decoder-only  gqa               46.7B              12.9B                               32           4096                     32                      8             32768  local",
    ]


def test_list_csv_json_nl(catalog):
    assert (
        run("list", "--csv").output
        == "\n".join([LIST_HEADER, LLAMA_CSV, MISTRAL_CSV, MIXTRAL_CSV]) + "\n"
    )
    rows = json.loads(run("list", "--json", "--moe").output)
    assert rows == [
        {
            "model_id": MIXTRAL,
            "family": "mixtral",
            "model_type": "decoder-only",
            "attention_type": "gqa",
            "parameter_count": 46702792704,
            "active_parameter_count": 12879925248,
            "mtp_parameter_count": None,
            "count_basis": "formula",
            "num_layers": 32,
            "hidden_size": 4096,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "context_length": 32768,
            "source": "local",
        }
    ]
    nl = run("list", "--nl", "--dense").output.splitlines()
    assert [json.loads(line)["parameter_count"] for line in nl] == [8030261248, 7241732096]


def test_list_filters_and_sort(catalog):
    def csv_rows(*args: str) -> list[str]:
        return run("list", "--csv", *args).output.splitlines()[1:]

    assert csv_rows("--family", "mistral") == [MISTRAL_CSV]
    assert csv_rows("--attention", "gqa", "--type", "decoder-only", "--source", "local") == [
        LLAMA_CSV,
        MISTRAL_CSV,
        MIXTRAL_CSV,
    ]
    assert csv_rows("--min-params", "7.5B") == [LLAMA_CSV, MIXTRAL_CSV]
    assert csv_rows("--max-params", "8030261248") == [LLAMA_CSV, MISTRAL_CSV]
    assert csv_rows("--min-params", "7e9", "--max-params", "8000M") == [MISTRAL_CSV]
    assert csv_rows("--search", "Llama-3.1") == [LLAMA_CSV]
    assert csv_rows("--sort", "-parameter_count", "--limit", "2") == [MIXTRAL_CSV, LLAMA_CSV]


def test_list_deleted_column(catalog):
    catalog.delete_model(MISTRAL)
    assert run("list", "--csv").output.splitlines()[1:] == [LLAMA_CSV, MIXTRAL_CSV]
    out = run("list", "--deleted", "--csv").output.splitlines()
    assert out[0] == LIST_HEADER + ",is_deleted"
    assert out[2] == MISTRAL_CSV + ",1"


def test_list_formats(catalog):
    assert lines(run("list", "--fmt", "github", "--family", "llama").output)[1].startswith("|-----")
    assert lines(run("list", "--fmt", "plain", "--moe").output) == [
        "model_id                     family    model_type    attention_type    parameter_count    active_parameter_count      num_layers    hidden_size    num_attention_heads    num_key_value_heads    context_length  source",
        "mistralai/Mixtral-8x7B-v0.1  mixtral   decoder-only  gqa               46.7B              12.9B                               32           4096                     32                      8             32768  local",
    ]


def test_list_empty_catalog_prints_the_header(isolated_catalog):
    ModelManager(isolated_catalog).close()  # an existing, empty catalog
    assert run("list", "--csv").output == LIST_HEADER + "\n"
    assert run("list", "--json").output == "[]\n"
    assert run("list", "--nl").output == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--min-params", "abc"],
            "--min-params: invalid size 'abc': use a number with an "
            "optional K, M, B or T suffix, e.g. 7B, 500M, 1.5e9",
        ),
        (["--max-params", "-5B"], "--max-params: invalid size '-5B': must not be negative"),
        (
            ["--max-params", "1e400"],
            "--max-params: invalid size '1e400': infinite; give a finite size such as 70B",
        ),
        (["--min-params", "1e300"], "--min-params: invalid size '1e300': at most 1e+18 allowed"),
        (
            ["--sort", "stars"],
            "cannot sort by 'stars'; choose one of: model_id, model_name, "
            "family, model_type, attention_type, source, parameter_count, "
            "active_parameter_count, num_layers, hidden_size, "
            "num_attention_heads, num_key_value_heads, num_experts, "
            "context_length, vocab_size, downloads, likes, created_at, "
            "updated_at",
        ),
        (["--json", "--csv"], "use only one of --json, --csv"),
    ],
)
def test_list_bad_input(catalog, args, message):
    assert_error(run("list", *args), message)


def test_list_unknown_table_style(catalog):
    result = run("list", "--fmt", "fancy")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --fmt: unknown table style 'fancy'; choose one of: ")
    assert "github" in result.stderr and result.stderr.count("\n") == 1


def test_search(catalog):
    assert (
        run("search", "mistral", "--csv").output
        == "\n".join([LIST_HEADER, MISTRAL_CSV, MIXTRAL_CSV]) + "\n"
    )
    assert run("search", "Llama-3.1 8b", "--csv").output.splitlines()[1:] == [LLAMA_CSV]
    assert run("search", "llama OR mixtral", "--csv").output.splitlines()[1:] == [
        LLAMA_CSV,
        MIXTRAL_CSV,
    ]
    assert run("search", "mistral", "--limit", "1", "--csv").output.splitlines()[1:] == [
        MISTRAL_CSV
    ]


def test_search_invalid_query_says_how_to_write_one(catalog):
    assert_error(
        run("search", "llama AND ("),
        "invalid search query 'llama AND ('; write plain words (llama 8b), a \"quoted phrase\", "
        "word* for a prefix, or join terms with AND, OR, NOT (e.g. llama OR mistral)",
    )
    assert_error(
        run("search", " "),
        'search query is empty; write plain words (llama 8b), a "quoted phrase", '
        "word* for a prefix, or join terms with AND, OR, NOT (e.g. llama OR mistral)",
    )


@pytest.mark.parametrize("query", ['x"y', "*", '"abc', "nosuchcolumn:llama*", "NEAR("])
def test_search_never_leaks_an_sqlite_error(catalog, query):
    assert_error(
        run("search", query),
        f"invalid search query {query!r}; " + 'write plain words (llama 8b), a "quoted phrase", '
        "word* for a prefix, or join terms with AND, OR, NOT (e.g. llama OR mistral)",
    )


def test_list_search_with_nothing_searchable_lists_nothing(catalog):
    assert run("list", "--search", '"', "--csv").output == LIST_HEADER + "\n"
    assert run("list", "--search", "", "--json").output == "[]\n"


# ------------------------------------------------------------------ show


def test_show_summary(catalog):
    result = run("show", "mistral-7b-v0.1", "--fmt", "plain")
    assert result.exit_code == 0
    assert lines(result.output) == [
        "field                   value",
        "model_id                mistralai/Mistral-7B-v0.1",
        "model_name              Mistral-7B-v0.1",
        "aliases                 Mistral-7B-v0.1",
        "source                  local",
        "family                  mistral",
        "model_type              decoder-only",
        "attention_type          gqa",
        "is_moe                  False",
        "parameter_count         7.24B",
        "active_parameter_count  7.24B",
        "text_parameter_count",
        "mtp_parameter_count",
        "count_basis             formula",
        "num_layers              32",
        "hidden_size             4096",
        "intermediate_size       14336",
        "num_attention_heads     32",
        "num_key_value_heads     8",
        "head_dim                128",
        "num_experts",
        "experts_per_token",
        "context_length          32768",
        "vocab_size              32000",
        "kv_values_per_token     65536",
        "hub_id",
        "revision_sha",
        "hub_parameter_count",
        "parameter_mismatch      0",
        "license",
        "gated",
        "pipeline_tag",
        "library_name",
        "tags",
        "downloads",
        "likes",
        "hub_created_at",
        "hub_last_modified",
        "warnings",
        "current_version         1",
        f"created_at              {STAMP}",
        f"updated_at              {STAMP}",
        "is_deleted              False",
        "deleted_at",
    ]


def test_show_summary_has_the_stored_hub_metadata(catalog):
    catalog.update_model(
        MISTRAL,
        hub_metadata={
            "hub_id": MISTRAL,
            "revision_sha": "7231864981174d9bee8c7687c24c8344414eae6b",
            "hub_parameter_count": 7241732096,
            "license": "apache-2.0",
            "gated": False,
            "pipeline_tag": "text-generation",
            "library_name": "transformers",
            "tags": ["transformers", "safetensors", "mistral"],
            "downloads": 412345,
            "likes": 3901,
            "hub_created_at": "2023-09-20T13:03:50.000Z",
            "hub_last_modified": "2024-07-24T14:01:28.000Z",
        },
    )
    shown = dict(
        line.split(None, 1)
        for line in lines(run("show", MISTRAL, "--fmt", "plain").output)[1:]
        if len(line.split(None, 1)) == 2
    )
    assert {
        k: shown[k]
        for k in (
            "hub_id",
            "revision_sha",
            "hub_parameter_count",
            "license",
            "gated",
            "pipeline_tag",
            "library_name",
            "tags",
            "downloads",
            "likes",
            "hub_created_at",
            "hub_last_modified",
        )
    } == {
        "hub_id": MISTRAL,
        "revision_sha": "7231864981174d9bee8c7687c24c8344414eae6b",
        "hub_parameter_count": "7.24B",
        "license": "apache-2.0",
        "gated": "false",
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "tags": "transformers, safetensors, mistral",
        "downloads": "412345",
        "likes": "3901",
        "hub_created_at": "2023-09-20T13:03:50.000Z",
        "hub_last_modified": "2024-07-24T14:01:28.000Z",
    }
    as_json = json.loads(run("show", MISTRAL, "--json").output)
    assert (as_json["tags"], as_json["hub_parameter_count"], as_json["downloads"]) == (
        ["transformers", "safetensors", "mistral"],
        7241732096,
        412345,
    )


def test_show_json(catalog):
    shown = json.loads(run("show", "META-LLAMA/llama-3.1-8b", "--json").output)
    assert shown["model_id"] == LLAMA
    assert shown["parameter_count"] == 8030261248
    assert shown["aliases"] == ["Llama-3.1-8B"]
    assert shown["is_moe"] is False


def test_show_config_prints_the_config_json(catalog):
    result = run("show", LLAMA, "--config")
    assert json.loads(result.output) == json.loads(config_path(LLAMA).read_text())


def test_show_genz_prints_modelconfig_kwargs(catalog):
    genz = json.loads(run("show", MISTRAL, "--genz").output)
    assert genz == catalog.get_model_config(MISTRAL)
    assert (genz["num_decoder_layers"], genz["num_key_value_heads"], genz["num_ffi"]) == (32, 8, 2)


def test_show_versions_and_metrics_sections(catalog):
    catalog.add_quality_metric(LLAMA, "MMLU", 66.7, shots=5, source="model card")
    result = run("show", LLAMA, "--versions", "--metrics", "--fmt", "plain")
    assert lines(result.output) == [
        "versions:",
        "  version  created_at                change_description    parameter_count    config_hash",
        f"        1  {STAMP}  imported              8.03B              "
        + catalog.get_model(LLAMA)["config_hash"],
        "",
        "metrics:",
        "metric_name      shots    metric_value  unit     source      measured_at",
        "MMLU                 5            66.7  percent  model card",
    ]
    both = json.loads(run("show", LLAMA, "--versions", "--metrics", "--json").output)
    assert both["metrics"] == [
        {
            "metric_name": "MMLU",
            "shots": 5,
            "metric_value": 66.7,
            "unit": "percent",
            "source": "model card",
            "measured_at": None,
        }
    ]
    assert both["versions"][0]["parameter_count"] == 8030261248


def test_show_memory_is_computed_without_writing_a_cache_entry(catalog):
    result = run("show", LLAMA, "--memory", "--seq", "8192")
    assert lines(result.output) == [
        "dtype bf16, batch 1, sequence length 8192",
        "component          bytes  human",
        "-----------  -----------  ---------",
        "weight       16060522496  14.96 GiB",
        "kv cache      1073741824  1.00 GiB",
        "state                  0  0 B",
        "total        17134264320  15.96 GiB",
    ]
    # 8030261248 parameters x 2 bytes; 32 layers x 8 KV heads x 128 x (K, V) x 2 bytes x 8192.
    # show only reads (issue 12): the figures are computed, the file is not written.
    assert catalog.get_cached_value(LLAMA, "memory:bf16:1:8192") is None
    fp8 = json.loads(
        run(
            "show", LLAMA, "--memory", "--seq", "8192", "--batch", "4", "--dtype", "fp8", "--json"
        ).output
    )
    assert fp8 == {
        "dtype": "fp8",
        "batch": 4,
        "seq_len": 8192,
        "weight_bytes": 8030261248,
        "kv_cache_bytes": 2147483648,
        "state_bytes": 0,
        "total_bytes": 10177744896,
    }
    # A cached figure is served from the cache: prove it by planting a different value.
    catalog.cache_value(
        LLAMA,
        "memory:bf16:1:8192",
        {"weight_bytes": 1, "kv_cache_bytes": 2, "state_bytes": 3, "total_bytes": 6},
    )
    assert (
        json.loads(run("show", LLAMA, "--memory", "--seq", "8192", "--json").output)["total_bytes"]
        == 6
    )


def test_show_memory_defaults_to_the_context_length(catalog):
    shown = json.loads(run("show", MISTRAL, "--memory", "--json").output)
    assert shown["seq_len"] == 32768
    assert shown["weight_bytes"] == 2 * 7241732096


def test_show_memory_bad_dtype(catalog):
    result = run("show", LLAMA, "--memory", "--dtype", "fp7")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot compute memory: unknown dtype 'fp7'")
    assert result.stderr.count("\n") == 1


def test_memory_options_need_memory(catalog):
    assert_error(
        run("show", LLAMA, "--seq", "10", "--dtype", "fp8"),
        "--seq, --dtype only apply with --memory",
    )
    assert_error(run("show", LLAMA, "--seq", "10"), "--seq only applies with --memory")


def test_unknown_model_names_close_matches(catalog):
    assert_error(
        run("show", "mistralai/Mistral-7B-v0.2"),
        "no model named 'mistralai/Mistral-7B-v0.2'; did you mean: "
        "mistralai/Mistral-7B-v0.1, mistralai/Mixtral-8x7B-v0.1?",
    )
    assert_error(run("show", "zzz"), "no model named 'zzz'")
    for command in (
        ["history", "zzz"],
        ["delete", "zzz"],
        ["undelete", "zzz"],
        ["rollback", "zzz", "1"],
        ["diff", "zzz", "1", "2"],
        ["metrics", "list", "zzz"],
        ["metrics", "add", "zzz", "MMLU", "1"],
        ["clear-cache", "zzz"],
    ):
        assert_error(run(*command), "no model named 'zzz'")


# ------------------------------------------------------------------ delete


def test_soft_delete_and_undelete(catalog):
    result = run("delete", "llama-3.1-8b")
    assert result.output == (f"Deleted {LLAMA} (undo with: genz-catalog undelete {LLAMA})\n")
    assert catalog.get_model(LLAMA) is None
    assert_error(
        run("delete", LLAMA),
        f"model '{LLAMA}' is already deleted; use --hard to remove it for good",
    )
    assert run("undelete", LLAMA).output == f"Restored {LLAMA}\n"
    assert_error(run("undelete", LLAMA), f"model '{LLAMA}' is not deleted")


def test_hard_delete_asks_first(catalog):
    result = run("delete", LLAMA, "--hard", input="n\n")
    assert result.exit_code == 1
    assert result.output == (
        f"Remove {LLAMA} with its versions, aliases, metrics and cache for good? [y/N]: n\n"
        "Aborted!\n"
    )
    assert catalog.get_model(LLAMA) is not None
    result = run("delete", LLAMA, "--hard", input="y\n")
    assert result.exit_code == 0
    assert result.output.endswith(f"Removed {LLAMA}\n")
    assert catalog.get_model(LLAMA, include_deleted=True) is None


def test_hard_delete_with_yes(catalog):
    assert run("delete", MIXTRAL, "--hard", "-y").output == f"Removed {MIXTRAL}\n"
    assert (
        catalog.db.execute(
            "SELECT count(*) FROM model_versions WHERE model_id = ?", [MIXTRAL]
        ).fetchone()[0]
        == 0
    )


# ------------------------------------------------------------------ versions


@pytest.fixture
def two_versions(catalog):
    config = json.loads(config_path(LLAMA).read_text()) | {"num_hidden_layers": 16}
    catalog.update_model(LLAMA, config, change_description="half the layers")
    freeze_times(catalog)
    return catalog


def test_history(two_versions):
    hashes = [v["config_hash"] for v in two_versions.get_versions(LLAMA)]
    assert run("history", LLAMA, "--csv").output == (
        "version,created_at,change_description,parameter_count,config_hash\n"
        f"1,{STAMP},imported,8030261248,{hashes[0]}\n"
        f"2,{STAMP},half the layers,4540469248,{hashes[1]}\n"
    )


def test_diff(two_versions):
    rows = json.loads(run("diff", LLAMA, "1", "2", "--json").output)
    by_field = {r["field"]: (r["v1"], r["v2"]) for r in rows}
    assert by_field["num_layers"] == (32, 16)
    assert by_field["config.num_hidden_layers"] == (32, 16)
    assert by_field["parameter_count"] == (8030261248, 4540469248)
    assert by_field["genz_config.num_decoder_layers"] == (32, 16)
    assert set(by_field) == {
        "num_layers",
        "config.num_hidden_layers",
        "parameter_count",
        "active_parameter_count",
        "config_hash",
        "genz_config.num_decoder_layers",
        "kv_values_per_token",
        "memory.kv_values_per_token",
        "memory.kv_layers",
    }
    assert run("diff", LLAMA, "1", "1").output == "versions 1 and 1 are identical\n"
    assert run("diff", LLAMA, "1", "1", "--json").output == "[]\n"


def test_diff_table(two_versions):
    out = lines(run("diff", LLAMA, "1", "2", "--fmt", "plain").output)
    assert out[0].split() == ["field", "v1", "v2"]
    assert ["num_layers", "32", "16"] in [line.split() for line in out]
    # Counts for people in the table, as in list and show; --json above keeps the integers.
    assert ["parameter_count", "8.03B", "4.54B"] in [line.split() for line in out]
    assert ["active_parameter_count", "8.03B", "4.54B"] in [line.split() for line in out]


def test_rollback(two_versions):
    result = run("rollback", "llama-3.1-8b", "1")
    assert result.output == f"Rolled back {LLAMA} to version 1 (now version 3)\n"
    assert two_versions.get_model(LLAMA)["parameter_count"] == 8030261248
    assert_error(
        run("rollback", LLAMA, "7"), f"model '{LLAMA}' has no version 7; versions: 1, 2, 3"
    )
    assert_error(
        run("rollback", LLAMA, "1"),
        f"model '{LLAMA}' already matches version 1; nothing to roll back",
    )
    assert_usage_error(
        run("rollback", LLAMA, "x"), "Invalid value for 'VERSION': 'x' is not a valid integer."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rollback", LLAMA, "abc"], "Invalid value for 'VERSION': 'abc' is not a valid integer."),
        (["rollback", LLAMA], "Missing argument 'VERSION'."),
        (
            ["show", LLAMA, "--memory", "--seq", "0"],
            "Invalid value for '--seq': 0 is not in the range x>=1.",
        ),
        (["diff", LLAMA, "1", "two"], "Invalid value for 'V2': 'two' is not a valid integer."),
        (["list", "--limit", "-1"], "Invalid value for '--limit': -1 is not in the range x>=0."),
        (
            ["metrics", "add", LLAMA, "MMLU", "66", "--shots", "many"],
            "Invalid value for '--shots': 'many' is not a valid integer range.",
        ),
        (
            ["list", "--colour"],
            "No such option '--colour'. (Did you mean one of: '--columns', '--source'?)",
        ),
        (["frobnicate"], "No such command 'frobnicate'."),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(catalog, args, message):
    assert_usage_error(run(*args), message)


@pytest.mark.parametrize("args", [["--help"], ["rollback", "--help"], ["metrics", "add", "--help"]])
def test_help_still_exits_0(args):
    result = run(*args)
    assert result.exit_code == 0 and "Example:" in result.output and result.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "No such option '--bogus'."),
        (["--dbb", "{db}", "list"], "No such option '--dbb'. Did you mean '--db'?"),
        (["--db"], "Option '--db' requires an argument."),
        (["--db", "{db}", "frobnicate"], "No such command 'frobnicate'."),
    ],
)
def test_top_level_usage_errors_are_one_line_and_exit_2(tmp_path, args, message):
    db = tmp_path / "fresh" / "x.db"
    assert_usage_error(run(*[a.format(db=db) for a in args]), message)
    assert not db.parent.exists()


@pytest.mark.parametrize("args", [[], ["metrics"]])
def test_a_bare_group_prints_its_help_and_exits_0(args):
    result = run(*args)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == run(*args, "--help").stdout


# ------------------------------------------------------------------ metrics


def test_metrics_add_and_list(catalog):
    assert run("metrics", "add", "llama-3.1-8b", "MMLU", "66.7", "--shots", "5").output == (
        f"Set MMLU (5-shot) = 66.7 for {LLAMA}\n"
    )
    assert (
        run(
            "metrics", "add", MISTRAL, "GSM8K", "52.2", "--source", "paper", "--date", "2023-10-10"
        ).output
        == f"Set GSM8K = 52.2 for {MISTRAL}\n"
    )
    assert run("metrics", "list", "--csv").output == (
        "model_id,metric_name,shots,metric_value,unit,source,measured_at\n"
        f"{LLAMA},MMLU,5,66.7,percent,,\n"
        f"{MISTRAL},GSM8K,,52.2,percent,paper,2023-10-10\n"
    )
    assert (
        run("metrics", "list", MISTRAL, "--nl").output
        == json.dumps(
            {
                "model_id": MISTRAL,
                "metric_name": "GSM8K",
                "shots": None,
                "metric_value": 52.2,
                "unit": "percent",
                "source": "paper",
                "measured_at": "2023-10-10",
            }
        )
        + "\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["abc"], "metric value 'abc' for MMLU is not a number"),
        (["120"], "metric value 120 for MMLU is outside 0-100 (unit: percent)"),
        (["inf"], "metric value 'inf' for MMLU is not finite"),
        (
            ["66.7", "--date", "notadate"],
            "date 'notadate' is not a date; use YYYY-MM-DD "
            "(2024-07-23) or ISO-8601 (2024-07-23T12:00:00Z)",
        ),
    ],
)
def test_metrics_add_bad_value_writes_nothing(catalog, args, message):
    assert_error(run("metrics", "add", LLAMA, "MMLU", *args), message)
    assert catalog.get_quality_metrics() == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("BAD\x1b[31mRED", "metric name 'BAD\\x1b[31mRED' holds a control character"),
        ("two\nlines", "metric name 'two\\nlines' holds a control character"),
    ],
)
def test_metric_names_with_control_characters_are_refused(catalog, name, message):
    # They are printed in tables and on pages as they are: a terminal escape would recolour
    # the reader's terminal, a line break would break the table.
    assert_error(run("metrics", "add", LLAMA, name, "66.7"), message)
    assert catalog.get_quality_metrics() == []
    assert_error(
        run("metrics", "add", LLAMA, "MMLU", "66.7", "--source", "a\tb"),
        "metric source 'a\\tb' holds a control character",
    )
    assert run("metrics", "add", LLAMA, "MMLU-Pro ü", "66.7").exit_code == 0


def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scores.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_metrics_import(catalog, tmp_path):
    path = write_csv(
        tmp_path,
        (
            "model_id,metric_name,metric_value,shots,unit,source,date\n"
            f"{LLAMA},MMLU,66.7,5,,model card,2024-07-23\n"
            "\n"
            "mistral-7b-v0.1,GSM8K,52.2,,,,\n"
        ),
    )
    assert run("metrics", "import", path).output == f"Imported 2 metrics from {path}\n"
    rows = catalog.get_quality_metrics()
    assert [
        (
            r["model_id"],
            r["metric_name"],
            r["shots"],
            r["metric_value"],
            r["source"],
            r["measured_at"],
        )
        for r in rows
    ] == [
        (LLAMA, "MMLU", 5, 66.7, "model card", "2024-07-23"),
        (MISTRAL, "GSM8K", None, 52.2, None, None),
    ]


def test_metrics_import_bad_row_writes_nothing_and_names_the_line(catalog, tmp_path):
    path = write_csv(
        tmp_path, (f"model_id,metric_name,metric_value\n{LLAMA},MMLU,66.7\n{MISTRAL},GSM8K,lots\n")
    )
    assert_error(
        run("metrics", "import", path),
        f"{path} line 3: metric value 'lots' for GSM8K is not a number",
    )
    assert catalog.get_quality_metrics() == []
    path = write_csv(tmp_path, "model_id,metric_name,metric_value\nllama-9,MMLU,1\n")
    result = run("metrics", "import", path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path} line 2: no model named 'llama-9'")


def test_metrics_import_bad_date_names_the_line(catalog, tmp_path):
    path = write_csv(
        tmp_path,
        (
            "model_id,metric_name,metric_value,date\n"
            f"{LLAMA},MMLU,66.7,2024-07-23\n"
            f"{MISTRAL},GSM8K,52.2,July 2024\n"
        ),
    )
    assert_error(
        run("metrics", "import", path),
        f"{path} line 3: date 'July 2024' is not a date; use YYYY-MM-DD (2024-07-23) "
        "or ISO-8601 (2024-07-23T12:00:00Z)",
    )
    assert catalog.get_quality_metrics() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "{path}: empty file; expected a header row"),
        (
            "model_id,metric_value\nx,1\n",
            "{path}: missing column metric_name; columns are model_id, metric_name, metric_value "
            "and optionally shots, unit, source, date",
        ),
        (
            "model_id,metric_name,metric_value,score\nx,y,1,2\n",
            "{path}: unknown column score; columns are model_id, metric_name, metric_value "
            "and optionally shots, unit, source, date",
        ),
        ("model_id,metric_name,metric_value\n", "{path}: no metric rows"),
        ("model_id,metric_name,metric_value\na,b,1,2\n", "{path} line 2: more values than columns"),
    ],
)
def test_metrics_import_bad_file(catalog, tmp_path, text, message):
    path = write_csv(tmp_path, text)
    assert_error(run("metrics", "import", path), message.format(path=path))


def test_metrics_import_missing_file(catalog, tmp_path):
    path = str(tmp_path / "nope.csv")
    assert_error(run("metrics", "import", path), f"{path}: no such file")


# ------------------------------------------------------------------ stats and cache


def test_stats(catalog):
    catalog.add_quality_metric(LLAMA, "MMLU", 66.7, shots=5)
    catalog.update_model(MIXTRAL, hub_metadata={"hub_parameter_count": 46_000_000_000})
    result = run("stats", "--fmt", "plain")
    assert lines(result.output) == [
        "group            name            count",
        "models           total               3",
        "models           deleted             0",
        "models           moe                 1",
        "quality_metrics  total               1",
        "model_type       decoder-only        3",
        "attention_type   gqa                 3",
        "family           llama               1",
        "family           mistral             1",
        "family           mixtral             1",
        "source           local               3",
        "",
        "parameter_mismatch (computed vs Hub count differs by more than 1%):",
        "model_id                       parameter_count    hub_parameter_count  difference",
        "mistralai/Mixtral-8x7B-v0.1        46702792704            46000000000  +1.53%",
    ]
    as_json = json.loads(run("stats", "--json").output)
    assert as_json["by_family"] == {"llama": 1, "mistral": 1, "mixtral": 1}
    assert as_json["parameter_mismatches"] == [
        {"model_id": MIXTRAL, "parameter_count": 46702792704, "hub_parameter_count": 46000000000}
    ]
    csv_lines = run("stats", "--csv").output.splitlines()
    assert csv_lines[0] == "group,name,count,hub_count"
    assert csv_lines[-1] == f"parameter_mismatch,{MIXTRAL},46702792704,46000000000"


def test_clear_cache(catalog):
    catalog.cache_value(LLAMA, "a", 1)
    catalog.cache_value(LLAMA, "old", 1, ttl=60)
    catalog.db.execute("UPDATE model_cache SET expires_at = ? WHERE cache_key = 'old'", [STAMP])
    catalog.cache_value(MISTRAL, "b", 1)
    assert run("clear-cache", "--expired").output == "Removed 1 expired cached value\n"
    assert run("clear-cache", "llama-3.1-8b").output == f"Removed 1 cached value of {LLAMA}\n"
    assert run("clear-cache").output == "Removed 1 cached value\n"
    assert run("clear-cache").output == "Removed 0 cached values\n"


# ------------------------------------------------------------------ the catalog file


def test_db_option_overrides_the_environment(catalog, tmp_path):
    other = tmp_path / "other.db"
    assert run("--db", str(other), "import", str(config_path(MISTRAL))).output == (
        f"imported {MISTRAL} (version 1)\n"
    )
    assert other.is_file()
    assert (
        run("--db", str(other), "list", "--csv").output == LIST_HEADER + "\n" + MISTRAL_CSV + "\n"
    )
    assert run("list", "--csv").output.count("\n") == 4


#: What a command that needs an existing catalog says when --db names a missing file.
NO_CATALOG = (
    "no catalog at {fresh}; create one with `genz-catalog sync --defaults`, "
    "`genz-catalog import ...` or `genz-catalog load FILE`"
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "foo"], NO_CATALOG),
        (["history", "foo"], NO_CATALOG),
        (["diff", "foo", "1", "2"], NO_CATALOG),
        (["delete", "foo"], NO_CATALOG),
        (["rollback", "foo", "1"], NO_CATALOG),
        (["metrics", "add", "foo", "MMLU", "1"], NO_CATALOG),
        (["metrics", "list", "foo"], NO_CATALOG),
        (["search", '"'], NO_CATALOG),
        (
            ["import", "{bad}"],
            "{bad}: malformed JSON at line 1 column 2: Expecting property "
            "name enclosed in double quotes",
        ),
        (["import", "{tmp}/nothing-here.json"], "{tmp}/nothing-here.json: no such file or folder"),
        (
            ["import", "{llama}", "--id", "."],
            "model id '.': a name or org must not start with '.' or '-' or end "
            "with '.' (unsafe as a file name or a command-line argument)",
        ),
        (
            ["import", "{absurd}", "--id", "big/model"],
            "big/model: context_length=2000000000 is outside the plausible range 1..1000000000",
        ),
    ],
)
def test_a_failed_command_does_not_create_the_catalog(tmp_path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text("{bad")
    absurd = tmp_path / "absurd.json"
    absurd.write_text(
        json.dumps(
            json.loads(config_path(LLAMA).read_text()) | {"max_position_embeddings": 2_000_000_000}
        )
    )
    fresh = tmp_path / "fresh" / "x.db"
    names = {
        "bad": bad,
        "tmp": tmp_path,
        "llama": config_path(LLAMA),
        "absurd": absurd,
        "fresh": fresh,
    }
    args = [a.format(**names) for a in args]
    assert_error(run("--db", str(fresh), *args), message.format(**names))
    assert not fresh.parent.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--csv"],
        ["search", "llama", "--json"],
        ["metrics", "list", "--json"],
        ["stats", "--json"],
        ["show", "llama"],
        ["history", "llama"],
        ["clear-cache"],
        ["export", "-"],
    ],
)
def test_commands_on_a_missing_catalog_are_an_error_and_create_nothing(tmp_path, args):
    # A typo in --db must not look like an empty catalog (issue 14).
    fresh = tmp_path / "fresh" / "x.db"
    result = CliRunner().invoke(cli, ["--db", str(fresh), *args])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no catalog at {fresh}; create one with `genz-catalog sync --defaults`, "
        "`genz-catalog import ...` or `genz-catalog load FILE`\n"
    )
    assert not fresh.parent.exists()


def test_not_a_database_is_one_line(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_text("this is not sqlite" * 100)
    assert_error(run("--db", str(junk), "list"), "catalog database error: file is not a database")


def test_sqlite_utils_still_works_after_the_lean_start_and_pandas_imports_later():
    code = (
        "import sys\n"
        "import genz_catalog.cli\n"
        "assert 'sqlite_utils' in sys.modules and 'pandas' not in sys.modules\n"
        "import pandas, sqlite_utils\n"
        "db = sqlite_utils.Database(memory=True)\n"
        "db['t'].insert({'a': 1})\n"
        "print(pandas.__name__, db['t'].count)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "pandas 1\n"


def test_list_show_stats_never_import_genz(catalog, isolated_catalog):
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from genz_catalog.cli import cli\n"
        "for args in (['list'], ['show', 'llama-3.1-8b'], ['stats'], ['search', 'llama'],\n"
        "             ['show', 'llama-3.1-8b', '--memory']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
        "print(sorted(m for m in ('GenZ', 'torch', 'transformers', 'matplotlib', 'pandas', "
        "'genz_catalog.genz') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "GENZ_CATALOG_DB": str(isolated_catalog)},
    )
    assert out.stdout == "[]\n"
