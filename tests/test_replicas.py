"""Scaling out reads: published copies served by several read-only Datasette processes answer
identically, and ``check-replica`` tells which copies are current."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from genz_catalog import ModelManager

CONFIGS = Path(__file__).parent / "data" / "hf-configs"
MODELS = (
    "meta-llama/Llama-3.1-8B",
    "mistralai/Mixtral-8x7B-v0.1",
    "deepseek-ai/DeepSeek-V2-Lite",
    "Qwen/Qwen3-30B-A3B",
    "openai-community/gpt2",
)
#: What a visitor asks for, as JSON (rows only: no timings that differ from request to request).
URLS = (
    "/catalog/models.json?_shape=array&_size=max",
    "/catalog/models.json?_shape=array&_sort_desc=parameter_count&is_moe=1",
    "/catalog/statistics.json?_shape=array",
    "/catalog/largest_models.json?_shape=array&limit=3",
    "/catalog/search_models.json?_shape=array&q=llama",
    "/catalog/model_memory.json?_shape=array&model=meta-llama/Llama-3.1-8B&seq_len=8192",
    "/catalog/model_versions.json?_shape=array",
    "/catalog/catalog_publication.json?_shape=array",
)


def cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "genz_catalog", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


@contextmanager
def replica(path: Path) -> Iterator[str]:
    """``genz-catalog serve --immutable PATH`` on a free port; yields its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "genz_catalog", "serve", "--immutable", str(path)]
        + ["--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        cwd=path.parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(base + "/-/versions.json")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "replica did not start"
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def writer(isolated_catalog: Path) -> Path:
    with ModelManager(isolated_catalog) as manager:
        for model_id in MODELS:
            manager.import_config_file(CONFIGS / model_id.replace("/", "__"), model_id)
        manager.add_quality_metric(MODELS[0], "MMLU", 66.7, shots=5)
    return isolated_catalog


def test_two_replicas_on_published_copies_answer_identically(writer: Path, tmp_path: Path):
    # Publish once, copy the file to each replica's machine (here: folder).
    published = tmp_path / "publish" / "catalog.db"
    published.parent.mkdir()
    result = cli("backup", "--publish", str(published), db=writer)
    assert result.returncode == 0, result.stderr
    first, second = tmp_path / "a" / "catalog.db", tmp_path / "b" / "catalog.db"
    for copy in (first, second):
        copy.parent.mkdir()
        shutil.copyfile(published, copy)
    before = (first.read_bytes(), second.read_bytes())

    with replica(first) as one, replica(second) as two:
        for url in URLS:
            assert get(one + url) == get(two + url), url
        models = json.loads(get(one + URLS[0]))
        assert sorted(m["model_id"] for m in models) == sorted(MODELS)
        (publication,) = json.loads(get(one + URLS[-1]))
        assert publication["models"] == len(MODELS)

        checked = cli("check-replica", one, two, "--json", db=writer)
        assert checked.returncode == 0, checked.stderr
        assert [r["status"] for r in json.loads(checked.stdout)] == ["current", "current"]

        # The writer moves on: both copies are now behind, and the check says so.
        with ModelManager(writer) as manager:
            manager.add_quality_metric(MODELS[1], "MMLU", 70.6, shots=5)
        stale = cli("check-replica", one, two, "--json", db=writer)
        assert stale.returncode == 1
        assert [r["status"] for r in json.loads(stale.stdout)] == ["stale", "stale"]
        assert stale.stderr == (
            "Error: 2 of 2 replicas are not current; publish a new copy (genz-catalog backup "
            "--publish) and restart them one at a time\n"
        )
        unreachable = cli("check-replica", "http://127.0.0.1:9", db=writer)
        assert unreachable.returncode == 1 and "unreachable" in unreachable.stdout

    # Serving never wrote to the copies.
    assert (first.read_bytes(), second.read_bytes()) == before

    # Refresh one replica: publish a new copy, restart it on that copy.
    refreshed = tmp_path / "b" / "catalog-2.db"
    assert cli("backup", "--publish", str(refreshed), db=writer).returncode == 0
    with replica(first) as one, replica(refreshed) as two:
        rows = json.loads(cli("check-replica", one, two, "--json", db=writer).stdout)
        assert [r["status"] for r in rows] == ["stale", "current"]
        metrics = "/catalog/model_quality_metrics.json?_shape=array"
        assert len(json.loads(get(two + metrics))) == len(json.loads(get(one + metrics))) + 1


def test_a_copy_that_was_not_published_is_reported(writer: Path, tmp_path: Path):
    plain = tmp_path / "plain.db"
    assert cli("backup", str(plain), db=writer).returncode == 0
    with replica(plain) as base:
        result = cli("check-replica", base, "--json", db=writer)
    assert result.returncode == 1
    (row,) = json.loads(result.stdout)
    assert row["status"] == "unpublished"
