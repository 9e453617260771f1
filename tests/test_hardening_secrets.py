"""Hub tokens from every source (``--token``, ``HF_TOKEN``, the saved login under ``HF_HOME``)
never appear in a message, a log record or anything written to disk (issue 12)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_server import running_hub

from genz_catalog import redaction
from genz_catalog.cli import cli
from genz_catalog.manager import ModelManager

SECRET = "hf_hardening_secret_4d2e8b"
GATED = "meta-llama/Llama-3.1-8B"
OPEN = "Qwen/Qwen2.5-7B"
ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("flag", "env", "login-file", "stored-tokens")


def _provide(source: str, hf_home: Path, env: dict[str, str]) -> list[str]:
    """Make SECRET available from ``source``; returns extra CLI arguments."""
    hf_home.mkdir(parents=True, exist_ok=True)
    if source == "flag":
        return ["--token", SECRET]
    if source == "env":
        env["HF_TOKEN"] = SECRET
    elif source == "login-file":
        (hf_home / "token").write_text(SECRET)
    else:
        (hf_home / "stored_tokens").write_text(f"[work]\nhf_token = {SECRET}\n")
    return []


@pytest.mark.parametrize("source", SOURCES)
def test_redact_masks_every_token_source(
    source: str, isolated_catalog: Path, monkeypatch: pytest.MonkeyPatch
):
    env: dict[str, str] = {}
    args = _provide(source, Path(os.environ["HF_HOME"]), env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if args:
        redaction.register_secret(args[1])
    text = f"GET /api/models -H 'authorization: Bearer {SECRET}' failed"
    assert redaction.redact(text) == "GET /api/models -H 'authorization: Bearer ***' failed"


@pytest.mark.parametrize("source", SOURCES[1:])
def test_cli_errors_never_show_a_token(
    source: str, isolated_catalog: Path, monkeypatch: pytest.MonkeyPatch
):
    env: dict[str, str] = {}
    _provide(source, Path(os.environ["HF_HOME"]), env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ModelManager(isolated_catalog).close()
    # Any message that quotes what the user typed (here the token itself, pasted by mistake).
    result = CliRunner().invoke(cli, ["show", SECRET])
    assert result.exit_code == 1
    assert result.output == "Error: no model named '***'\n"


@pytest.mark.parametrize("source", SOURCES[1:])
def test_log_records_never_show_a_token(
    source: str,
    isolated_catalog: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    env: dict[str, str] = {}
    _provide(source, Path(os.environ["HF_HOME"]), env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    redaction.install_log_redaction()
    caplog.set_level(logging.DEBUG)
    # Any logger: the redaction sits in the record factory, before every handler.
    logging.getLogger("hardening.any_library").debug(
        "curl -H 'authorization: Bearer %s' %s", SECRET, "http://127.0.0.1/api"
    )
    assert "Bearer ***" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.parametrize("source", SOURCES[:3])  # huggingface_hub sends the active login only
def test_every_token_source_is_used_and_never_shown_or_stored(source: str, tmp_path: Path):
    """A real process with HF_DEBUG=1 (huggingface_hub logs each request as a curl command,
    headers included): the token reaches the Hub and nothing else."""
    hf_home = tmp_path / "hf"
    db = tmp_path / "catalog.db"
    with running_hub() as hub:
        hub.add_real_model(GATED)
        hub.add_real_model(OPEN, fault="server-error")
        hub.valid_tokens.add(SECRET)
        hub.repos[GATED.lower()].granted_tokens.add(SECRET)
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_TOKEN_PATH")},
            "HF_ENDPOINT": hub.url,
            "HF_DEBUG": "1",
            "HF_HOME": str(hf_home),
            "PYTHONPATH": str(ROOT),
            "GENZ_CATALOG_DB": str(db),
        }
        args = _provide(source, hf_home, env)
        done = subprocess.run(
            [sys.executable, "-m", "genz_catalog", "import", GATED, OPEN, "no-such/model", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        sent = {r.authorization for r in hub.requests}
    assert f"Bearer {SECRET}" in sent, source  # the token really was used
    assert done.returncode == 1, done.stderr  # OPEN (HTTP 500) and no-such/model fail
    assert "2 of 3 imports failed" in done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    with ModelManager(db) as manager:
        assert manager.get_model(GATED)["parameter_count"] == 8030261248
    written = b"".join(p.read_bytes() for p in tmp_path.glob("catalog.db*"))
    written += b"".join(
        p.read_bytes()
        for p in hf_home.rglob("*")
        if p.is_file() and p.name not in ("token", "stored_tokens")
    )
    assert SECRET.encode() not in written
