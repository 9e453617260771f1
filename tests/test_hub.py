"""genz_catalog.hub against the local Hub stand-in, through the real huggingface_hub client."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hub_server import CONFIGS_DIR, running_hub

from genz_catalog import hub as hubmod
from genz_catalog.hub import (
    HubAuthError,
    HubConfigNotFoundError,
    HubGatedRepoError,
    HubMalformedConfigError,
    HubRepoNotFoundError,
    HubRevisionNotFoundError,
    HubServerError,
    HubTimeoutError,
    HubUnreachableError,
    UnsupportedArchitectureError,
    discover_models,
    import_hub_model,
    import_models_from_hf,
    sync_hub_models,
)
from genz_catalog.manager import ModelManager

DATA = Path(__file__).parent / "data"
with open(DATA / "truth.tsv", newline="") as _handle:
    TRUTH = {
        r["model_id"]: int(r["parameter_count"]) for r in csv.DictReader(_handle, delimiter="\t")
    }
QWEN = "Qwen/Qwen2.5-7B"
MISTRAL = "mistralai/Mistral-7B-v0.1"
LLAMA = "meta-llama/Llama-3.1-8B"  # gated ("manual") in its API body


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch):
    with running_hub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


@pytest.fixture
def manager():
    with ModelManager() as m:
        yield m


def api_body(repo_id: str) -> dict:
    return json.loads((DATA / "hf-api" / (repo_id.replace("/", "__") + ".json")).read_text())


def catalog_state(manager: ModelManager) -> tuple:
    """Everything a failed import must leave as it was."""
    return (
        [dict(r) for r in manager.db.query("SELECT * FROM models ORDER BY model_id")],
        [
            dict(r)
            for r in manager.db.query("SELECT * FROM model_versions ORDER BY model_id, version")
        ],
        [dict(r) for r in manager.db.query("SELECT * FROM model_aliases ORDER BY alias")],
    )


def seed_local_model(manager: ModelManager) -> None:
    manager.import_config_file(CONFIGS_DIR / "Qwen__Qwen2.5-3B", "local/qwen-3b")


# ------------------------------------------------------------------------------ import


def test_import_stores_converted_config_and_hub_metadata(hub, manager):
    sha = hub.add_real_model(QWEN)
    result = import_hub_model(QWEN, manager=manager)
    assert (result.model_id, result.status, result.version) == (QWEN, "imported", 1)
    model = manager.get_model(QWEN)
    body = api_body(QWEN)
    assert model["source"] == "huggingface"
    assert model["parameter_count"] == TRUTH[QWEN] == 7615616512
    assert model["hub_parameter_count"] == body["safetensors"]["total"]
    assert model["parameter_mismatch"] == 0
    assert model["revision_sha"] == sha == body["sha"]
    assert model["hub_id"] == QWEN
    assert model["license"] == "apache-2.0"
    assert model["pipeline_tag"] == "text-generation"
    assert model["library_name"] == "transformers"
    assert model["downloads"] == body["downloads"]
    assert model["likes"] == body["likes"]
    assert model["tags"] == body["tags"]
    assert model["hub_created_at"] == body["createdAt"]
    assert model["hub_last_modified"] == body["lastModified"]
    assert model["config"] == json.loads((CONFIGS_DIR / "Qwen__Qwen2.5-7B/config.json").read_text())


def test_config_lands_in_the_standard_hf_cache(hub, manager):
    sha = hub.add_real_model(MISTRAL)
    import_hub_model(MISTRAL, manager=manager)
    cached = (
        Path(os.environ["HF_HOME"])
        / "hub"
        / "models--mistralai--Mistral-7B-v0.1"
        / "snapshots"
        / sha
        / "config.json"
    )
    assert (
        cached.read_bytes() == (CONFIGS_DIR / "mistralai__Mistral-7B-v0.1/config.json").read_bytes()
    )
    refs_main = cached.parents[2] / "refs" / "main"
    assert not refs_main.exists() or refs_main.read_text() == sha


def test_recorded_api_response_and_legacy_id_redirect(hub, manager):
    """The real recorded bert body; the un-namespaced id redirects (307) like the Hub."""
    hub.add_real_model("google-bert/bert-base-uncased")
    hub.add_legacy_id("bert-base-uncased", "google-bert/bert-base-uncased")
    result = import_hub_model("bert-base-uncased", manager=manager)
    assert (result.model_id, result.status) == ("google-bert/bert-base-uncased", "imported")
    model = manager.get_model("bert-base-uncased")  # the short name became an alias
    assert model["model_id"] == "google-bert/bert-base-uncased"
    assert model["revision_sha"] == "86b5e0934494bd15c9632b12f734a8a67f723594"
    assert model["hub_parameter_count"] == 110106428
    assert model["parameter_count"] == TRUTH["google-bert/bert-base-uncased"] == 109514298
    assert model["parameter_mismatch"] == 0  # 0.54% apart: within the 1% tolerance
    assert model["license"] == "apache-2.0"
    assert model["pipeline_tag"] == "fill-mask"
    assert model["downloads"] == 72376843


def test_existing_model_is_skipped_without_asking_the_hub(hub, manager):
    hub.add_real_model(QWEN)
    import_hub_model(QWEN, manager=manager)
    asked = len(hub.requests)
    result = import_hub_model(QWEN, manager=manager)
    assert (result.status, result.version) == ("skipped", 1)
    assert len(hub.requests) == asked


def test_forced_reimport_of_identical_content_records_no_version(hub, manager):
    hub.add_real_model(QWEN)
    import_hub_model(QWEN, manager=manager)
    result = import_hub_model(QWEN, force_update=True, manager=manager)
    assert (result.status, result.version) == ("unchanged", 1)
    assert [v["version"] for v in manager.get_versions(QWEN)] == [1]


def test_revision_pins_config_and_sha(hub, manager):
    first = hub.add_real_model(QWEN)
    config = json.loads((CONFIGS_DIR / "Qwen__Qwen2.5-7B/config.json").read_text())
    hub.push_commit(QWEN, {**config, "max_position_embeddings": 65536})
    import_hub_model(QWEN, revision=first, manager=manager)
    model = manager.get_model(QWEN)
    assert model["revision_sha"] == first
    assert model["config"]["max_position_embeddings"] == config["max_position_embeddings"] == 131072


def test_parameter_mismatch_over_one_percent_is_flagged(hub, manager):
    hub.add_real_model(MISTRAL, safetensors_total=int(TRUTH[MISTRAL] * 1.05))
    import_hub_model(MISTRAL, manager=manager)
    assert manager.get_model(MISTRAL)["parameter_mismatch"] == 1
    assert manager.get_stats()["parameter_mismatches"] == [
        {
            "model_id": MISTRAL,
            "parameter_count": TRUTH[MISTRAL],
            "hub_parameter_count": int(TRUTH[MISTRAL] * 1.05),
        }
    ]


# ------------------------------------------------------------------------------ errors

ERROR_CASES = {
    "repo-not-found": (
        HubRepoNotFoundError,
        "nobody/nothing",
        {},
        "nobody/nothing: no such model on the Hub ({endpoint}); check the id "
        "(org/name), or set HF_TOKEN if the repository is private",
    ),
    "gated": (
        HubGatedRepoError,
        LLAMA,
        {},
        f"{LLAMA}: gated model, and this token has no access; request access on the model "
        "page, then set HF_TOKEN",
    ),
    "bad-token": (
        HubAuthError,
        QWEN,
        {"token": "hf_not_a_real_token"},
        f"{QWEN}: the Hub rejected the token (401 Unauthorized); pass a valid --token "
        "or HF_TOKEN, or log in again with `hf auth login`",
    ),
    "revision-not-found": (
        HubRevisionNotFoundError,
        QWEN,
        {"revision": "v9.9"},
        f"{QWEN}: revision 'v9.9' not found; pass an existing branch, tag or "
        "commit sha with --revision",
    ),
    "no-config": (
        HubConfigNotFoundError,
        "acme/weights-only",
        {},
        "acme/weights-only: the repository has no config.json at revision main "
        "({sha12}); only repositories with a transformers config.json can be imported",
    ),
    "malformed-config": (
        HubMalformedConfigError,
        "acme/broken",
        {},
        "acme/broken: config.json is not valid JSON (line 1 column 24: Expecting "
        "property name enclosed in double quotes); the repository's config is "
        "broken, try another --revision",
    ),
    "unsupported": (
        UnsupportedArchitectureError,
        "acme/mystery",
        {},
        "acme/mystery: cannot convert its config (brand-new: unsupported family and "
        "the config lacks the standard decoder key(s) num_hidden_layers, "
        "num_attention_heads, vocab_size, intermediate_size (for an exact count install "
        "the 'exact' extra (pip install 'genz-catalog[exact]') and import with --exact "
        "(counts transformers' own class on the meta device)))",
    ),
    "server-error": (
        HubServerError,
        "acme/flaky",
        {},
        "acme/flaky: the Hub answered HTTP 500; try again later",
    ),
    "timeout": (
        HubTimeoutError,
        "acme/slow",
        {"timeout": 0.3},
        "acme/slow: the Hub at {endpoint} did not answer within 0.3 s; try again later, "
        "or allow more time with --timeout or GENZ_CATALOG_HUB_TIMEOUT",
    ),
}


def populate_faulty_hub(hub) -> dict[str, str]:
    """Every repository the error cases need; returns shas by repo id."""
    shas = {
        QWEN: hub.add_real_model(QWEN),
        LLAMA: hub.add_real_model(LLAMA),
        "acme/weights-only": hub.add_model("acme/weights-only", None),
        "acme/broken": hub.add_model("acme/broken", b'{"model_type": "llama",'),
        "acme/mystery": hub.add_model(
            "acme/mystery", {"model_type": "brand-new", "hidden_size": 8}
        ),
        "acme/flaky": hub.add_model("acme/flaky", {"model_type": "llama"}, fault="server-error"),
        "acme/slow": hub.add_model("acme/slow", {"model_type": "llama"}, delay=2.0),
    }
    return shas


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_each_hub_failure_is_one_line_naming_the_model_and_writes_nothing(hub, manager, case):
    error_class, model_id, kwargs, template = ERROR_CASES[case]
    shas = populate_faulty_hub(hub)
    seed_local_model(manager)
    before = catalog_state(manager)
    with pytest.raises(error_class) as caught:
        import_hub_model(model_id, manager=manager, **kwargs)
    expected = template.format(endpoint=hub.url, sha12=shas.get(model_id, "")[:12])
    assert str(caught.value) == expected
    assert "\n" not in str(caught.value)
    assert catalog_state(manager) == before


def test_unreachable_hub_is_one_line_and_writes_nothing(manager):
    # conftest points HF_ENDPOINT at a closed local port.
    seed_local_model(manager)
    before = catalog_state(manager)
    with pytest.raises(HubUnreachableError) as caught:
        import_hub_model(QWEN, manager=manager)
    assert str(caught.value) == (
        f"{QWEN}: cannot reach the Hub at {os.environ['HF_ENDPOINT']}; check your network "
        "connection or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to import from the local cache"
    )
    assert catalog_state(manager) == before


def test_gated_model_imports_with_a_granted_token_which_is_never_stored(hub, manager):
    hub.add_real_model(LLAMA)
    secret = "hf_granted_secret_token_123"
    hub.valid_tokens.add(secret)
    hub.repos[LLAMA.lower()].granted_tokens.add(secret)
    result = import_hub_model(LLAMA, token=secret, manager=manager)
    assert result.status == "imported"
    assert manager.get_model(LLAMA)["gated"] == "manual"
    # The token really went to the Hub...
    assert {r.authorization for r in hub.requests_for(LLAMA)} == {f"Bearer {secret}"}
    # ...and nowhere into the catalog.
    dump = "\n".join(manager.db.conn.iterdump())
    assert secret not in dump


def test_token_from_hf_token_environment(hub, manager, monkeypatch):
    hub.add_real_model(LLAMA)
    hub.valid_tokens.add("hf_from_env")
    hub.repos[LLAMA.lower()].granted_tokens.add("hf_from_env")
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    assert import_hub_model(LLAMA, manager=manager).status == "imported"


# ------------------------------------------------------------------------------ offline


def _cli_subprocess(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "genz_catalog", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_offline_mode_imports_from_the_hf_cache_in_a_fresh_process(hub, manager, tmp_path):
    sha = hub.add_real_model(QWEN)
    import_hub_model(QWEN, manager=manager)  # online: fills the cache
    asked = len(hub.requests)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GENZ_CATALOG_DB": str(tmp_path / "offline.db")}
    done = _cli_subprocess(["import", QWEN], env)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"imported {QWEN} (version 1)\n", "")
    with ModelManager(tmp_path / "offline.db") as offline:
        model = offline.get_model(QWEN)
    assert model["revision_sha"] == sha
    assert model["parameter_count"] == TRUTH[QWEN]
    assert len(hub.requests) == asked  # not one request left the process

    missing = _cli_subprocess(["import", MISTRAL], env)
    cache = Path(os.environ["HF_HOME"]) / "hub"
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr == (
        f"Error: {MISTRAL}: not in the local Hugging Face cache ({cache}) and HF_HUB_OFFLINE=1; "
        "import it once while online, or unset HF_HUB_OFFLINE\n"
    )


# ------------------------------------------------------------------------------ bulk


def test_bulk_import_one_failure_never_stops_the_rest(hub, manager):
    for repo in (QWEN, MISTRAL, "Qwen/Qwen2.5-3B"):
        hub.add_real_model(repo)
    hub.add_model("acme/broken", b"{not json")
    outcomes = import_models_from_hf(
        [QWEN, "acme/broken", MISTRAL, "nobody/nothing", "Qwen/Qwen2.5-3B", QWEN.lower()],
        manager=manager,
        workers=4,
    )
    assert [(o.requested_id, o.status) for o in outcomes] == [
        (QWEN, "imported"),
        ("acme/broken", "failed"),
        (MISTRAL, "imported"),
        ("nobody/nothing", "failed"),
        ("Qwen/Qwen2.5-3B", "imported"),
    ]  # the lower-case duplicate of QWEN is dropped
    assert outcomes[1].detail.startswith("acme/broken: config.json is not valid JSON")
    assert manager.get_model("Qwen/Qwen2.5-3B")["parameter_count"] == TRUTH["Qwen/Qwen2.5-3B"]
    assert manager.get_model("acme/broken") is None


def test_bulk_import_writes_only_from_the_calling_thread(hub, manager, monkeypatch):
    for repo in (QWEN, MISTRAL, "Qwen/Qwen2.5-3B", "Qwen/Qwen2.5-14B"):
        hub.add_real_model(repo)
    writer_threads = set()
    real_add = manager.add_model

    def recording_add(*args, **kwargs):
        writer_threads.add(threading.get_ident())
        return real_add(*args, **kwargs)

    monkeypatch.setattr(manager, "add_model", recording_add)
    outcomes = import_models_from_hf(
        [QWEN, MISTRAL, "Qwen/Qwen2.5-3B", "Qwen/Qwen2.5-14B"], manager=manager, workers=4
    )
    assert {o.status for o in outcomes} == {"imported"}
    assert writer_threads == {threading.get_ident()}


# ------------------------------------------------------------------------------ sync


def test_sync_new_version_only_when_config_changed(hub, manager):
    for repo in (QWEN, MISTRAL, "Qwen/Qwen2.5-3B"):
        hub.add_real_model(repo)
    import_models_from_hf([QWEN, MISTRAL, "Qwen/Qwen2.5-3B"], manager=manager)
    untouched_before = manager.get_model("Qwen/Qwen2.5-3B")
    qwen_config = json.loads((CONFIGS_DIR / "Qwen__Qwen2.5-7B/config.json").read_text())
    new_qwen = hub.push_commit(QWEN, {**qwen_config, "max_position_embeddings": 65536})
    old_mistral = manager.get_model(MISTRAL)["revision_sha"]
    new_mistral = hub.push_commit(
        MISTRAL, (CONFIGS_DIR / "mistralai__Mistral-7B-v0.1/config.json").read_bytes()
    )
    asked_before = len(hub.requests)

    outcomes = {o.model_id: o for o in sync_hub_models(manager)}

    assert (outcomes[QWEN].status, outcomes[QWEN].version) == ("updated", 2)
    assert manager.get_model(QWEN)["context_length"] == 65536
    assert manager.get_model(QWEN)["revision_sha"] == new_qwen
    assert manager.get_versions(QWEN)[-1]["change_description"].startswith("sync: Hub revision")
    assert (outcomes[MISTRAL].status, outcomes[MISTRAL].version) == ("unchanged", 1)
    assert (outcomes[MISTRAL].old_revision, outcomes[MISTRAL].new_revision) == (
        old_mistral,
        new_mistral,
    )
    assert manager.get_model(MISTRAL)["revision_sha"] == new_mistral
    assert [v["version"] for v in manager.get_versions(MISTRAL)] == [1]
    assert outcomes["Qwen/Qwen2.5-3B"].detail == "same revision"
    assert manager.get_model("Qwen/Qwen2.5-3B") == untouched_before
    # Only the two moved repositories were downloaded again (an identical blob is HEAD only).
    resolved = {
        r.path.split("/resolve/")[0].lstrip("/")
        for r in hub.requests[asked_before:]
        if "/resolve/" in r.path
    }
    assert resolved == {QWEN, MISTRAL}


def test_sync_reports_failures_per_model(hub, manager):
    hub.add_real_model(QWEN)
    hub.add_real_model(MISTRAL)
    import_models_from_hf([QWEN, MISTRAL], manager=manager)
    hub.repos[MISTRAL.lower()].fault = "server-error"
    outcomes = {o.model_id: o for o in sync_hub_models(manager)}
    assert outcomes[QWEN].status == "unchanged"
    assert outcomes[MISTRAL].status == "failed"
    assert outcomes[MISTRAL].detail == f"{MISTRAL}: the Hub answered HTTP 500; try again later"


def test_sync_leaves_a_model_imported_at_a_commit_sha_where_it_is(hub, manager):
    first = hub.add_real_model(QWEN)
    qwen_config = json.loads((CONFIGS_DIR / "Qwen__Qwen2.5-7B/config.json").read_text())
    hub.push_commit(QWEN, {**qwen_config, "max_position_embeddings": 65536})
    import_hub_model(QWEN, revision=first, manager=manager)
    assert manager.get_model(QWEN)["hub_id"] == f"{QWEN}@{first}"
    before = catalog_state(manager)
    asked_before = len(hub.requests)

    [outcome] = sync_hub_models(manager)

    assert (outcome.status, outcome.version, outcome.old_revision, outcome.new_revision) == (
        "pinned",
        1,
        first,
        first,
    )
    assert outcome.detail == (
        f"imported at commit {first[:12]}; sync leaves it there "
        "(import --force without --revision to follow main)"
    )
    assert catalog_state(manager) == before
    assert hub.requests[asked_before:] == []  # a fixed commit needs no request


def test_sync_follows_the_branch_a_model_was_imported_at(hub, manager):
    hub.add_real_model(QWEN)
    qwen_config = json.loads((CONFIGS_DIR / "Qwen__Qwen2.5-7B/config.json").read_text())
    on_branch = hub.push_commit(
        QWEN, {**qwen_config, "max_position_embeddings": 65536}, branch="long-context"
    )
    import_hub_model(QWEN, revision="long-context", manager=manager)
    assert manager.get_model(QWEN)["hub_id"] == f"{QWEN}@long-context"
    # main moves, and so does the branch; sync must follow the branch, not main.
    hub.push_commit(QWEN, {**qwen_config, "max_position_embeddings": 4096})
    branch_head = hub.push_commit(
        QWEN, {**qwen_config, "max_position_embeddings": 262144}, branch="long-context"
    )

    [outcome] = sync_hub_models(manager)

    assert (outcome.status, outcome.version) == ("updated", 2)
    assert (outcome.old_revision, outcome.new_revision) == (on_branch, branch_head)
    assert outcome.detail == f"config changed at {branch_head[:12]} on long-context: version 1 -> 2"
    stored = manager.get_model(QWEN)
    assert (stored["context_length"], stored["revision_sha"], stored["hub_id"]) == (
        262144,
        branch_head,
        f"{QWEN}@long-context",
    )
    # Unchanged branch: a second sync is a no-op.
    [again] = sync_hub_models(manager)
    assert (again.status, again.detail) == ("unchanged", "same revision")


def test_forced_reimport_without_revision_unpins(hub, manager):
    first = hub.add_real_model(QWEN)
    qwen_config = json.loads((CONFIGS_DIR / "Qwen__Qwen2.5-7B/config.json").read_text())
    head = hub.push_commit(QWEN, {**qwen_config, "max_position_embeddings": 65536})
    import_hub_model(QWEN, revision=first, manager=manager)
    import_hub_model(QWEN, force_update=True, manager=manager)
    stored = manager.get_model(QWEN)
    assert (stored["hub_id"], stored["revision_sha"]) == (QWEN, head)
    [outcome] = sync_hub_models(manager)
    assert (outcome.status, outcome.detail) == ("unchanged", "same revision")


# ------------------------------------------------------------------------------ discover


def test_discover_filters_sorts_and_marks_catalogued_models(hub, manager):
    for repo in (QWEN, "Qwen/Qwen2.5-3B", "Qwen/Qwen2.5-14B", MISTRAL):
        hub.add_real_model(repo)
    import_hub_model("Qwen/Qwen2.5-3B", manager=manager)
    rows = discover_models(manager, author="Qwen", sort="likes", limit=2)
    qwens = sorted(
        (api_body(r) for r in (QWEN, "Qwen/Qwen2.5-3B", "Qwen/Qwen2.5-14B")),
        key=lambda b: b["likes"],
        reverse=True,
    )[:2]
    assert [r["model_id"] for r in rows] == [b["id"] for b in qwens]
    assert [r["likes"] for r in rows] == [b["likes"] for b in qwens]
    assert [r["in_catalog"] for r in rows] == [b["id"] == "Qwen/Qwen2.5-3B" for b in qwens]
    searched = discover_models(manager, search="mistral-7b")
    assert [r["model_id"] for r in searched] == [MISTRAL]
    assert searched[0]["downloads"] == api_body(MISTRAL)["downloads"]


def test_hub_module_does_not_read_environment_at_import(hub, monkeypatch, tmp_path):
    """huggingface_hub freezes HF_ENDPOINT/HF_HOME at import; hub.py reads them per call."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "elsewhere"))
    assert hubmod.hub_endpoint() == hub.url
    assert hubmod.hub_cache_dir() == tmp_path / "elsewhere" / "hub"
