"""The web server under hostile SQL (issue 12): memory stays flat, no single function call
outlasts the time limit, and canned queries and pages answer while slow queries run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import HF_CONFIGS

from genz_catalog.datasette.functions import (
    CACHE_MAX_BYTES,
    SQL_FUNCTIONS,
    _guarded,
    memory_report_json,
)
from genz_catalog.datasette.sql_guard import MAX_PRINTF_WIDTH
from genz_catalog.limits import MAX_SQL_FUNCTION_ARG_BYTES
from genz_catalog.manager import ModelManager

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("meta-llama__Llama-3.1-8B", "mistralai__Mistral-7B-v0.1", "Qwen__Qwen2.5-7B")
#: How much the server's resident memory may grow under the hostile requests (bytes).
RSS_ALLOWANCE = 50 * 2**20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def fetch(base: str, path: str, timeout: float = 30) -> tuple[int, bytes, float]:
    """(HTTP status, body, seconds taken)."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as response:
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), time.monotonic() - started


def sql_path(sql: str) -> str:
    return "/catalog.json?" + urllib.parse.urlencode({"sql": sql, "_shape": "array"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("hostile-serve")
    db = folder / "catalog.db"
    with ModelManager(db) as manager:
        for name in MODELS:
            manager.import_config_file(HF_CONFIGS / name / "config.json", name.replace("__", "/"))
    port = _free_port()
    log = (folder / "serve.log").open("w+")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genz_catalog",
            "--db",
            str(db),
            "serve",
            "--port",
            str(port),
            "--no-default-catalog",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if fetch(base, "/-/versions.json", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.seek(0)
            pytest.fail("serve did not start:\n" + log.read())
        time.sleep(0.2)
    yield {"base": base, "pid": process.pid}
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


#: Visitor queries that used to grow the server (cached arguments, huge values).
MEMORY_SQL = [
    "SELECT genz_total_bytes(randomblob(50000000), 1, 1, 1, 'bf16')",
    "SELECT genz_weight_bytes(randomblob(50000000), 'bf16')",
    "SELECT genz_human_count(randomblob(50000000))",
    "SELECT genz_memory_report(hex(zeroblob(3000000)), 1, 1, 1, 'bf16')",
    "SELECT genz_bytes_per_value(hex(zeroblob(3000000)))",
    # 1,500 distinct 60 kB arguments (90 MB if every one were cached).
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1500) "
    "SELECT count(genz_memory_report('{\"p\":\"' || hex(zeroblob(30000)) || n || '\"}', "
    "1000, 1, 1, 'bf16')) FROM c",
    "SELECT group_concat(hex(zeroblob(1000000))) FROM (WITH RECURSIVE c(n) AS (SELECT 1 "
    "UNION ALL SELECT n + 1 FROM c WHERE n < 100) SELECT n FROM c)",
    "SELECT length(zeroblob(1000000000))",
]
#: Single function calls that held a query thread for seconds (the time limit cannot stop a
#: call in progress).
SLOW_CALL_SQL = [
    "SELECT printf('%.*c', 1000000000, 'x')",
    "SELECT format('%1000000000d', 1)",
    "SELECT length(replace(hex(zeroblob(4000000)), '0', '0000000000'))",
    "SELECT instr(hex(zeroblob(4000000)), hex(zeroblob(2000000)) || 'y')",
    "SELECT length(ltrim(hex(zeroblob(4000000)), hex(zeroblob(2000000)) || 'y'))",
    "SELECT hex(zeroblob(4000000)) LIKE '%0%0%0%0%0%0%0%0%0%0%0%0%0%0%y'",
]


def test_hostile_sql_leaves_the_servers_memory_flat(server: dict) -> None:
    base, pid = server["base"], server["pid"]
    for sql in MEMORY_SQL:  # warm-up: code paths, thread stacks, allocator arenas
        fetch(base, sql_path(sql))
    start = _rss_bytes(pid)
    peak = start
    for _ in range(3):
        for sql in MEMORY_SQL:
            fetch(base, sql_path(sql))
            peak = max(peak, _rss_bytes(pid))
    end = _rss_bytes(pid)
    assert end - start < RSS_ALLOWANCE, (start, end)
    assert peak - start < 2 * RSS_ALLOWANCE, (start, peak)
    # And the catalog still answers, with real figures.
    status, body, _ = fetch(base, "/catalog/model_memory.json?_shape=array&model=Llama-3.1-8B")
    assert status == 200
    assert json.loads(body)[0]["weight_bytes"] == 2 * 8030261248


def test_no_single_function_call_outlasts_the_time_limit(server: dict) -> None:
    for sql in MEMORY_SQL + SLOW_CALL_SQL:
        status, body, seconds = fetch(server["base"], sql_path(sql))
        # The 2 s limit, plus a margin for a loaded test machine.
        assert seconds < 3.0, (sql, seconds, status, body[:200])
        assert status in (200, 400), (sql, status)


def test_guarded_functions_still_answer_like_sqlite(server: dict) -> None:
    checks = {
        "SELECT printf('%5.2f|%-4s|%d', 3.14159, 'ab', 42)": " 3.14|ab  |42",
        "SELECT format('%05d', 42)": "00042",
        "SELECT instr('meta-llama/Llama', 'llama')": 6,
        "SELECT instr('abc', 'z')": 0,
        "SELECT replace('a-b-c', '-', '+')": "a+b+c",
        "SELECT replace('abc', '', 'x')": "abc",
        "SELECT ltrim('xxhixx', 'x') || '|' || rtrim('xxhixx', 'x') || '|' || trim('xxhixx', 'x')": "hixx|xxhi|hi",
        "SELECT trim('  padded  ')": "padded",
        f"SELECT length(printf('%.*c', {MAX_PRINTF_WIDTH}, 'x'))": MAX_PRINTF_WIDTH,
    }
    for sql, expected in checks.items():
        status, body, _ = fetch(server["base"], sql_path(sql))
        assert status == 200, (sql, body[:300])
        [row] = json.loads(body)
        assert list(row.values()) == [expected], sql


def test_canned_queries_and_pages_answer_while_slow_queries_run(server: dict) -> None:
    base = server["base"]
    # Each runs until the 2 s limit stops it.
    slow = sql_path(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"
    )
    stop = time.monotonic() + 4
    slow_results: list[tuple[int, float]] = []

    def hammer() -> None:
        while time.monotonic() < stop:
            status, _, seconds = fetch(base, slow, timeout=60)
            slow_results.append((status, seconds))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    timings = []
    try:
        for _ in range(3):
            for path in (
                "/catalog/largest_models.json?_shape=array",
                "/catalog/model_memory.json?_shape=array&model=Qwen/Qwen2.5-7B",
                "/catalog/models.json?_shape=array&_size=5",
                "/catalog/models",
            ):
                status, _, seconds = fetch(base, path)
                assert status == 200, path
                timings.append((path, seconds))
            time.sleep(0.3)
    finally:
        for thread in threads:
            thread.join(timeout=60)
    # Before the limiter, six slow queries made every page take 12-18 s. Now a canned query (one
    # SQL statement) answers within the 2 s limit (1.51 s was seen on a loaded CI machine, so
    # 1.5 was a bound on the machine, not on the server), and the models page (about eight
    # statements: rows, count, five facets) within a few seconds even on a loaded machine.
    canned = [t for t in timings if t[0] != "/catalog/models"]
    pages = [t for t in timings if t[0] == "/catalog/models"]
    assert max(canned, key=lambda t: t[1])[1] < 2.0, canned
    assert max(pages, key=lambda t: t[1])[1] < 3.0, pages
    # The slow queries were really running: stopped by the limit (400) or queued out (429).
    assert slow_results and all(status in (400, 429) for status, _ in slow_results)
    assert any(status == 400 for status, _ in slow_results)


def test_the_function_caches_are_bounded_by_bytes() -> None:
    function, _, positions = SQL_FUNCTIONS["genz_memory_report"]
    call = _guarded(function, positions)
    memory_report_json.cache_clear()
    for n in range(2000):
        call('{"p": "' + "0" * 60_000 + str(n) + '"}', 1000, 1, 1, "bf16")
    assert memory_report_json.cache.size_bytes <= CACHE_MAX_BYTES
    assert 0 < len(memory_report_json.cache) < 2000
    # An oversized argument is refused before the cache sees it.
    memory_report_json.cache_clear()
    assert call("{" + " " * MAX_SQL_FUNCTION_ARG_BYTES + "}", 1, 1, 1, "bf16") is None
    assert len(memory_report_json.cache) == 0
