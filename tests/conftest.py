"""Shared fixtures. No test ever touches a real catalog or the real Hugging Face Hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).parent
DATA_DIR = TESTS_DIR / "data"


@pytest.fixture(autouse=True)
def isolated_catalog(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point GENZ_CATALOG_DB and the Hugging Face cache at a fresh temporary folder per test."""
    home = tmp_path_factory.mktemp("home")
    db_path = home / "catalog.db"
    monkeypatch.setenv("GENZ_CATALOG_DB", str(db_path))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("GENZ_CATALOG_AUTO_IMPORT", raising=False)
    monkeypatch.delenv("GENZ_CATALOG_EXACT", raising=False)
    # Anything that slips past the stand-in must fail fast, never reach the internet.
    monkeypatch.setenv("HF_ENDPOINT", os.environ.get("GENZ_TEST_HF_ENDPOINT", "http://127.0.0.1:9"))
    return db_path
