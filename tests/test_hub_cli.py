"""``genz-catalog import``, ``sync`` and ``discover`` through CliRunner, against the Hub stand-in."""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_server import CONFIGS_DIR, running_hub

from genz_catalog.cli import cli
from genz_catalog.manager import ModelManager

DATA = Path(__file__).parent / "data"
with open(DATA / "truth.tsv", newline="") as _handle:
    TRUTH = {
        r["model_id"]: int(r["parameter_count"]) for r in csv.DictReader(_handle, delimiter="\t")
    }
QWEN = "Qwen/Qwen2.5-7B"
QWEN3B = "Qwen/Qwen2.5-3B"
MISTRAL = "mistralai/Mistral-7B-v0.1"
LLAMA = "meta-llama/Llama-3.1-8B"
SECRET = "hf_cli_secret_token_987"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with running_hub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def catalog_state() -> tuple:
    with ModelManager() as m:
        return (
            [dict(r) for r in m.db.query("SELECT * FROM models ORDER BY model_id")],
            [
                dict(r)
                for r in m.db.query("SELECT * FROM model_versions ORDER BY model_id, version")
            ],
        )


def model(model_id: str) -> dict:
    with ModelManager() as m:
        return m.get_model(model_id)


def test_commands_have_help():
    for name in ("import", "sync", "discover"):
        result = run(name, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.output


# ------------------------------------------------------------------------------ Hub import


def test_import_one_hub_model(hub):
    sha = hub.add_real_model(QWEN)
    result = run("import", QWEN)
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"imported {QWEN} (version 1)\n",
        "",
    )
    stored = model(QWEN)
    assert (stored["parameter_count"], stored["revision_sha"]) == (TRUTH[QWEN], sha)


def test_reimport_needs_force_and_identical_content_is_unchanged(hub):
    hub.add_real_model(QWEN)
    run("import", QWEN)
    again = run("import", QWEN)
    assert (again.exit_code, again.stdout, again.stderr) == (
        1,
        "",
        f"Error: model '{QWEN}' already exists; use --force to replace it\n",
    )
    forced = run("import", QWEN, "--force")
    assert (forced.exit_code, forced.stdout) == (
        0,
        f"unchanged {QWEN} (version 1): identical content, no new version\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nobody/nothing"],
            "nobody/nothing: no such model on the Hub ({url}); check the id "
            "(org/name), or set HF_TOKEN if the repository is private",
        ),
        (
            [LLAMA],
            f"{LLAMA}: gated model, and this token has no access; request access on the "
            "model page, then set HF_TOKEN",
        ),
        (
            [QWEN, "--token", SECRET],
            f"{QWEN}: the Hub rejected the token (401 Unauthorized); "
            "pass a valid --token or HF_TOKEN, or log in again with `hf auth login`",
        ),
        (
            [QWEN, "--revision", "nope"],
            f"{QWEN}: revision 'nope' not found; pass an existing "
            "branch, tag or commit sha with --revision",
        ),
        (
            ["acme/broken"],
            "acme/broken: config.json is not valid JSON (line 1 column 2: "
            "Expecting property name enclosed in double quotes); the repository's config is "
            "broken, try another --revision",
        ),
        (
            ["acme/slow", "--timeout", "0.25"],
            "acme/slow: the Hub at {url} did not answer within "
            "0.25 s; try again later, or allow more time with --timeout or "
            "GENZ_CATALOG_HUB_TIMEOUT",
        ),
        (["acme/down"], "acme/down: the Hub answered HTTP 500; try again later"),
        (["acme/files-down"], "acme/files-down: the Hub answered HTTP 500; try again later"),
        (
            ["acme/slow-file", "--timeout", "0.25"],
            "acme/slow-file: the Hub at {url} did not "
            "answer within 0.25 s; try again later, or allow more time with --timeout or "
            "GENZ_CATALOG_HUB_TIMEOUT",
        ),
    ],
    ids=[
        "not-found",
        "gated",
        "bad-token",
        "revision",
        "malformed",
        "timeout",
        "5xx",
        "5xx-on-config-download",
        "slow-config-download",
    ],
)
def test_import_errors_are_one_line_exit_1_and_write_nothing(hub, args, message):
    hub.add_real_model(QWEN)
    hub.add_real_model(LLAMA)
    hub.add_model("acme/broken", b"{oops")
    hub.add_model("acme/slow", {"model_type": "llama"}, delay=2.0)
    hub.add_model("acme/down", {"model_type": "llama"}, fault="server-error")
    # model_info answers; only the config.json download fails or is slow.
    hub.add_model("acme/files-down", {"model_type": "llama"}, fault="file-server-error")
    hub.add_model("acme/slow-file", {"model_type": "llama"}, file_delay=3.0)
    run("import", str(CONFIGS_DIR / "Qwen__Qwen2.5-3B"), "--id", "local/qwen-3b")
    before = catalog_state()
    started = time.monotonic()
    result = run("import", *args)
    # huggingface_hub's own retries (about 23 s on a 5xx) and its fixed 10 s download timeout
    # must not apply: every failure comes back within a few timeouts.
    assert time.monotonic() - started < 2.0
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: " + message.format(url=hub.url) + "\n"
    assert SECRET not in result.output
    assert catalog_state() == before


def test_unreachable_hub_via_cli():
    result = run("import", QWEN)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {QWEN}: cannot reach the Hub at http://127.0.0.1:9;")
    assert result.stderr.count("\n") == 1


def test_token_is_used_but_never_printed_or_stored(hub):
    hub.add_real_model(LLAMA)
    hub.valid_tokens.add(SECRET)
    hub.repos[LLAMA.lower()].granted_tokens.add(SECRET)
    result = run("import", LLAMA, "--token", SECRET, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"source": "hub", "status": "imported", "model_id": LLAMA, "version": 1, "detail": ""}
    ]
    assert SECRET not in result.output
    with ModelManager() as m:
        assert SECRET not in "\n".join(m.db.conn.iterdump())
    assert {r.authorization for r in hub.requests_for(LLAMA)} == {f"Bearer {SECRET}"}


# ------------------------------------------------------------------------------ bulk


def test_bulk_import_summary_with_one_failure(hub):
    for repo in (QWEN, QWEN3B, MISTRAL):
        hub.add_real_model(repo)
    hub.add_real_model(LLAMA)  # gated: fails without a token
    run("import", QWEN3B)
    result = run("import", QWEN, LLAMA, MISTRAL, QWEN3B, "--workers", "3")
    assert result.exit_code == 1
    assert result.stderr == "Error: 1 of 4 imports failed\n"
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["source", "status", "model_id", "version", "detail"]
    rows = [line.split(None, 4) for line in lines[2:-1]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("hub", "imported", QWEN),
        ("hub", "failed", LLAMA),
        ("hub", "imported", MISTRAL),
        ("hub", "skipped", QWEN3B),
    ]
    assert set(lines[1]) == {"-", " "}
    assert "gated model, and this token has no access" in lines[3]
    assert lines[-1] == "2 imported, 1 skipped, 1 failed"
    assert model(MISTRAL)["parameter_count"] == TRUTH[MISTRAL]
    assert model(LLAMA) is None


def test_from_file_with_comments(hub, tmp_path):
    for repo in (QWEN, MISTRAL):
        hub.add_real_model(repo)
    listing = tmp_path / "models.txt"
    listing.write_text(f"# models for the lab\n{QWEN}   # the 7B\n\n  {MISTRAL}\n#{QWEN3B}\n")
    result = run("import", "--from-file", str(listing), "--json")
    assert result.exit_code == 0, result.output
    assert [(r["model_id"], r["status"]) for r in json.loads(result.stdout)] == [
        (QWEN, "imported"),
        (MISTRAL, "imported"),
    ]
    assert model(QWEN3B) is None


def test_from_file_missing_is_one_line():
    result = run("import", "--from-file", "no-such-list.txt")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: no-such-list.txt: no such file (--from-file wants one model id per line)\n",
    )


# ------------------------------------------------------------------------------ local sources


def test_import_local_file_folder_and_id(tmp_path):
    config = CONFIGS_DIR / "mistralai__Mistral-7B-v0.1" / "config.json"
    result = run("import", str(config), "--id", "lab/mistral")
    assert (result.exit_code, result.stdout) == (0, "imported lab/mistral (version 1)\n")
    folder = tmp_path / "my-qwen"
    shutil.copytree(CONFIGS_DIR / "Qwen__Qwen2.5-3B", folder)
    result = run("import", str(folder))
    stored_id = json.loads((folder / "config.json").read_text()).get("_name_or_path") or "my-qwen"
    assert (result.exit_code, result.stdout) == (0, f"imported {stored_id} (version 1)\n")
    assert model("lab/mistral")["source"] == "local"
    assert model("lab/mistral")["parameter_count"] == TRUTH[MISTRAL]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.json", "{p}/missing.json: no such file or folder"),
        (
            lambda p: (p / "bad.json").write_text('{"model_type": "llama",') and p / "bad.json",
            "{p}/bad.json: malformed JSON at line 1 column 24: Expecting property name enclosed in "
            "double quotes",
        ),
    ],
    ids=["missing", "malformed"],
)
def test_bad_local_sources_are_one_line(tmp_path, make, message):
    result = run("import", str(make(tmp_path)))
    assert result.exit_code == 1
    assert result.stderr == "Error: " + message.format(p=tmp_path) + "\n"


def test_local_id_that_exists_needs_force():
    config = str(CONFIGS_DIR / "mistralai__Mistral-7B-v0.1" / "config.json")
    run("import", config, "--id", "lab/mistral")
    before = catalog_state()
    result = run("import", config, "--id", "lab/mistral")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: model 'lab/mistral' already exists; use --force to replace it\n",
    )
    assert catalog_state() == before


def test_a_local_id_that_is_another_models_name_says_whose_and_force_does_not_help():
    config = str(CONFIGS_DIR / "mistralai__Mistral-7B-v0.1" / "config.json")
    run("import", config, "--id", "lab/mistral")
    before = catalog_state()
    for force in ([], ["--force"]):
        result = run("import", config, "--id", "MISTRAL", *force)
        assert (result.exit_code, result.stderr) == (
            1,
            "Error: 'MISTRAL' is already a name of model 'lab/mistral'; give the new model an "
            "org/name id\n",
        )
        assert catalog_state() == before


def test_id_needs_exactly_one_local_source():
    result = run("import", QWEN, MISTRAL, "--id", "x/y")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: --id names a single local config; give exactly one path with it\n",
    )


def test_mixed_local_and_hub_bulk_import(hub):
    hub.add_real_model(QWEN)
    result = run("import", str(CONFIGS_DIR / "mistralai__Mistral-7B-v0.1"), QWEN, "--json")
    assert result.exit_code == 0, result.output
    assert [(r["source"], r["status"]) for r in json.loads(result.stdout)] == [
        ("local", "imported"),
        ("hub", "imported"),
    ]


def test_failed_hub_import_creates_no_catalog_file(hub, tmp_path):
    db = tmp_path / "fresh" / "x.db"
    result = run("--db", str(db), "import", "no-such-org/no-such-model")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: no-such-org/no-such-model: no such model on the Hub ({hub.url}); check the id "
        "(org/name), or set HF_TOKEN if the repository is private\n",
    )
    assert not db.parent.exists()


def test_all_failing_bulk_import_creates_no_catalog_file(hub, tmp_path):
    hub.add_model("acme/down", {"model_type": "llama"}, fault="server-error")
    (tmp_path / "bad.json").write_text('{"model_type": "llama",')
    # Valid JSON that only the converter refuses: it fails inside the write itself.
    (tmp_path / "thin.json").write_text('{"model_type": "llama"}')
    db = tmp_path / "fresh" / "x.db"
    sources = [str(tmp_path / n) for n in ("bad.json", "thin.json", "missing.json")]
    result = run("--db", str(db), "import", *sources, "nobody/nothing", "acme/down", "--json")
    assert (result.exit_code, result.stderr) == (1, "Error: 5 of 5 imports failed\n")
    assert json.loads(result.stdout) == [
        {"source": "local", "status": "failed", "model_id": s, "version": None, "detail": d}
        for s, d in zip(
            sources,
            [
                "malformed JSON at line 1 column 24: Expecting property name enclosed in double "
                "quotes",
                "llama: config lacks required key(s): hidden_size, num_hidden_layers, "
                "num_attention_heads, vocab_size, intermediate_size",
                "no such file or folder",
            ],
            strict=True,
        )
    ] + [
        {
            "source": "hub",
            "status": "failed",
            "model_id": "nobody/nothing",
            "version": None,
            "detail": f"no such model on the Hub ({hub.url}); check the id (org/name), or set "
            "HF_TOKEN if the repository is private",
        },
        {
            "source": "hub",
            "status": "failed",
            "model_id": "acme/down",
            "version": None,
            "detail": "the Hub answered HTTP 500; try again later",
        },
    ]
    assert not db.parent.exists()


def test_bulk_import_creates_the_catalog_at_its_first_success(hub, tmp_path):
    hub.add_real_model(QWEN)
    db = tmp_path / "fresh" / "x.db"
    result = run("--db", str(db), "import", "nobody/nothing", QWEN, "--json")
    assert (result.exit_code, result.stderr) == (1, "Error: 1 of 2 imports failed\n")
    assert [(r["model_id"], r["status"]) for r in json.loads(result.stdout)] == [
        ("nobody/nothing", "failed"),
        (QWEN, "imported"),
    ]
    with ModelManager(db) as m:
        assert [r["model_id"] for r in m.list_models()] == [QWEN]


# ------------------------------------------------------------------------------ sync


def test_sync_summary(hub):
    for repo in (QWEN, MISTRAL):
        hub.add_real_model(repo)
    run("import", QWEN, MISTRAL)
    config = json.loads((CONFIGS_DIR / "Qwen__Qwen2.5-7B" / "config.json").read_text())
    new_sha = hub.push_commit(QWEN, {**config, "max_position_embeddings": 65536})
    result = run("sync", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["model_id"]: r for r in json.loads(result.stdout)}
    assert rows[QWEN]["status"] == "updated"
    assert rows[QWEN]["new_revision"] == new_sha[:12]
    assert rows[QWEN]["detail"] == f"config changed at {new_sha[:12]}: version 1 -> 2"
    assert (rows[MISTRAL]["status"], rows[MISTRAL]["detail"]) == ("unchanged", "same revision")
    table = run("sync")
    assert table.stdout.splitlines()[-1] == (
        "2 checked: 0 updated (config changed, new version), 0 new revision with the same "
        "config, 2 unchanged, 0 pinned to a commit, 0 failed"
    )


def test_sync_keeps_a_model_imported_at_a_commit_sha(hub):
    first = hub.add_real_model(QWEN)
    config = json.loads((CONFIGS_DIR / "Qwen__Qwen2.5-7B" / "config.json").read_text())
    hub.push_commit(QWEN, {**config, "max_position_embeddings": 65536})
    imported = run("import", QWEN, "--revision", first)
    assert (imported.exit_code, imported.stdout) == (0, f"imported {QWEN} (version 1)\n")
    before = catalog_state()
    result = run("sync", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "model_id": QWEN,
            "status": "pinned",
            "version": 1,
            "old_revision": first[:12],
            "new_revision": first[:12],
            "detail": f"imported at commit {first[:12]}; sync leaves it there (import --force "
            "without --revision to follow main)",
        }
    ]
    table = run("sync")
    assert table.stdout.splitlines()[-1] == (
        "1 checked: 0 updated (config changed, new version), 0 new revision with the same "
        "config, 0 unchanged, 1 pinned to a commit, 0 failed"
    )
    assert catalog_state() == before
    assert model(QWEN)["context_length"] == config["max_position_embeddings"]


def test_sync_with_nothing_to_check():
    result = run("sync")
    assert (result.exit_code, result.stdout) == (
        0,
        "no Hub-imported models in the catalog; add some with: genz-catalog import org/name\n",
    )


def test_sync_static_calls_the_genz_bridge(monkeypatch):
    import genz_catalog.genz as genz_bridge

    seen = []

    def fake_sync(manager):
        seen.append(manager)
        return {
            "imported": 3,
            "updated": 0,
            "unchanged": 1,
            "merged": ["x"],
            "metrics": 7,
            "total": 5,
        }

    monkeypatch.setattr(genz_bridge, "sync_static_models", fake_sync)
    result = run("sync", "--static")
    assert (result.exit_code, result.stdout) == (
        0,
        "GenZ static models: 5 seen, 3 imported, 0 updated, 1 unchanged, 1 merged into a "
        "model from another source, 7 metric values written\n",
    )
    assert isinstance(seen[0], ModelManager)


# ------------------------------------------------------------------------------ discover


def test_discover_marks_catalogued_models_and_imports_the_rest(hub):
    for repo in (QWEN, QWEN3B, MISTRAL):
        hub.add_real_model(repo)
    run("import", QWEN3B)
    listed = run("discover", "--author", "Qwen", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert {r["model_id"]: r["in_catalog"] for r in rows} == {QWEN: False, QWEN3B: True}
    assert rows == sorted(rows, key=lambda r: r["downloads"], reverse=True)
    imported = run("discover", "--author", "Qwen", "--import", "--json")
    assert imported.exit_code == 0, imported.output
    assert [
        (r["model_id"], r["in_catalog"], r["status"], r["version"], r["detail"])
        for r in json.loads(imported.stdout)
    ] == [
        (
            r["model_id"],
            r["in_catalog"],
            *(
                ("skipped", None, "already in the catalog")
                if r["in_catalog"]
                else ("imported", 1, "new model")
            ),
        )
        for r in rows
    ]
    assert model(QWEN)["parameter_count"] == TRUTH[QWEN]
    assert model(MISTRAL) is None


def test_discover_import_prints_the_listing_then_the_summary(hub):
    hub.add_real_model(QWEN3B)
    hub.add_real_model(QWEN)
    hub.add_model("Qwen/Qwen-broken", {"model_type": "llama"}, fault="file-server-error")
    run("import", QWEN3B)
    listing = run("discover", "--author", "Qwen").stdout
    result = run("discover", "--author", "Qwen", "--import")
    assert result.exit_code == 1
    assert result.stderr == "Error: 1 of 2 imports failed\n"
    table, summary = result.stdout.split("\n\n")
    # The listing exactly as plain discover shows it: marks as they were before the import.
    assert table + "\n" == listing
    marks = {line.split()[0]: line.endswith(" yes") for line in table.splitlines()[2:]}
    assert marks == {QWEN3B: True, QWEN: False, "Qwen/Qwen-broken": False}
    summary_lines = summary.splitlines()
    assert summary_lines[0].split() == ["source", "status", "model_id", "version", "detail"]
    assert sorted(line.split()[:3] for line in summary_lines[2:4]) == [
        ["hub", "failed", "Qwen/Qwen-broken"],
        ["hub", "imported", QWEN],
    ]
    assert summary_lines[-1] == "1 imported, 1 failed"


def test_sync_and_discover_leave_a_missing_catalog_uncreated(hub, tmp_path):
    hub.add_real_model(QWEN)
    db = tmp_path / "fresh" / "x.db"
    result = run("--db", str(db), "sync")
    assert (result.exit_code, result.stdout) == (
        0,
        "no Hub-imported models in the catalog; add some with: genz-catalog import org/name\n",
    )
    listed = run("--db", str(db), "discover", "--author", "Qwen", "--json")
    assert listed.exit_code == 0
    assert [(r["model_id"], r["in_catalog"]) for r in json.loads(listed.stdout)] == [(QWEN, False)]
    # A listing the Hub refuses (a bad token) writes nothing either, --import or not.
    refused = run("--db", str(db), "discover", "--import", "--token", "hf_not_a_valid_token")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: discover: ")
    assert "hf_not_a_valid_token" not in refused.output
    assert not db.parent.exists()
    # The first model written creates it.
    imported = run("--db", str(db), "discover", "--author", "Qwen", "--import", "--json")
    assert imported.exit_code == 0
    with ModelManager(db) as m:
        assert [r["model_id"] for r in m.list_models()] == [QWEN]


def test_discover_gives_up_on_a_slow_listing_at_the_timeout(hub):
    hub.add_real_model(QWEN)
    hub.delay = 3.0
    began = time.perf_counter()
    result = run("discover", "--author", "Qwen", "--timeout", "0.5")
    elapsed = time.perf_counter() - began
    hub.delay = 0.0
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: discover: the Hub at {hub.url} did not answer within 0.5 s; try again later, "
        "or allow more time with --timeout or GENZ_CATALOG_HUB_TIMEOUT\n"
    )
    assert elapsed < 2.5


def test_discover_table_and_stats_show_parameter_mismatch(hub):
    hub.add_real_model(MISTRAL, safetensors_total=int(TRUTH[MISTRAL] * 1.05))
    run("import", MISTRAL)
    table = run("discover", "--search", "mistral")
    assert table.stdout.splitlines()[0].split() == [
        "model_id",
        "downloads",
        "likes",
        "pipeline_tag",
        "library",
        "created_at",
        "in_catalog",
    ]
    assert table.stdout.splitlines()[2].split()[0] == MISTRAL
    assert table.stdout.splitlines()[2].split()[-1] == "yes"
    stats = run("stats")
    assert MISTRAL in stats.stdout.split("parameter_mismatch", 1)[1]


def test_show_json_gives_gated_as_the_documented_string(hub):
    token = "hf_granted_token_123"
    hub.valid_tokens.add(token)
    hub.add_real_model(QWEN)
    qwen_config = (CONFIGS_DIR / "Qwen__Qwen2.5-7B" / "config.json").read_bytes()
    for repo_id, gating in (("acme/auto-gated", "auto"), ("acme/manual-gated", "manual")):
        hub.add_model(repo_id, qwen_config, gated=gating)
        hub.repos[repo_id.lower()].granted_tokens.add(token)
    assert run("import", QWEN).exit_code == 0
    assert run("import", "acme/auto-gated", "acme/manual-gated", "--token", token).exit_code == 0
    gated = {
        m: json.loads(run("show", m, "--json").stdout)["gated"]
        for m in (QWEN, "acme/auto-gated", "acme/manual-gated")
    }
    assert gated == {QWEN: "false", "acme/auto-gated": "auto", "acme/manual-gated": "manual"}


# ------------------------------------------------------------------------------ bulk local


@pytest.mark.parametrize("workers_from", [10_000, 1], ids=["one-process", "convert-workers"])
def test_bulk_local_import_reports_in_source_order_and_one_refusal_stops_nothing(
    tmp_path, monkeypatch, workers_from
):
    from genz_catalog.cli import imports as cli_imports

    monkeypatch.setattr(cli_imports, "LOCAL_WORKERS_FROM", workers_from)
    mistral_config = CONFIGS_DIR / "mistralai__Mistral-7B-v0.1" / "config.json"
    assert run("import", str(mistral_config), "--id", "lab/mistral").exit_code == 0
    llama = json.loads((CONFIGS_DIR / "meta-llama__Llama-3.1-8B" / "config.json").read_text())
    deep = tmp_path / "deep.json"
    deep.write_text(json.dumps({**llama, "_name_or_path": "lab/deep", "num_hidden_layers": 16}))
    again = tmp_path / "again.json"
    again.write_text(
        json.dumps({**json.loads(mistral_config.read_text()), "_name_or_path": "lab/mistral"})
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"model_type": "llama",')
    # A folder whose bare name is lab/mistral's name alias: refused when its batch is written.
    bare = tmp_path / "mistral"
    bare.mkdir()
    (bare / "config.json").write_text(json.dumps(llama))
    sources = [str(p) for p in (deep, again, broken, bare, deep)]
    result = run("import", *sources, "--json")
    assert (result.exit_code, result.stderr) == (1, "Error: 2 of 5 imports failed\n")
    rows = json.loads(result.stdout)
    assert [(r["model_id"], r["status"], r["version"]) for r in rows] == [
        ("lab/deep", "imported", 1),
        ("lab/mistral", "skipped", 1),
        (str(broken), "failed", None),
        (str(bare), "failed", None),
        ("lab/deep", "skipped", 1),
    ]
    assert rows[1]["detail"] == "already in the catalog; --force re-imports"
    assert rows[2]["detail"].startswith("malformed JSON at line 1 column 24")
    assert rows[3]["detail"] == (
        "'mistral' is already a name of model 'lab/mistral'; give the new model an org/name id"
    )
    assert model("lab/deep")["parameter_count"] < TRUTH[LLAMA]
    assert model("mistral")["model_id"] == "lab/mistral"  # the alias still names it
    listing = tmp_path / "sources.txt"
    listing.write_text(f"# local paths work in --from-file too\n{deep}\n{again}\n")
    forced = run("import", "--from-file", str(listing), "--force", "--json")
    assert forced.exit_code == 0
    assert [(r["model_id"], r["status"]) for r in json.loads(forced.stdout)] == [
        ("lab/deep", "unchanged"),
        ("lab/mistral", "updated"),  # its _name_or_path key is new content
    ]
