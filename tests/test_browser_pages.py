"""The model page and the compare page in headless Chromium, at a laptop's and a phone's width.

A real ``genz-catalog serve`` process serves a catalog of real configs (with a ``simulations``
table shaped like the planner's); Chromium is Debian's package driven by Playwright. Every test
saves full-page screenshots under ``test-artifacts/`` (gitignored; ``GENZ_TEST_ARTIFACTS``
moves it) for a person to look at.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser_serve import CHROMIUM, CHROMIUM_ARGS, _free_port
from test_model_pages import (
    LLAMA_PARAMS,
    MISTRAL_PARAMS,
    MODELS,
    SIMULATION_COLUMNS,
    _config,
)

from genz_catalog.manager import ModelManager

ARTIFACTS = Path(
    os.environ.get("GENZ_TEST_ARTIFACTS")
    or Path(__file__).resolve().parent.parent / "test-artifacts"
)
VIEWPORTS = {"laptop": (1366, 900), "phone": (390, 844)}
LLAMA_ROW = "/catalog/models/meta-llama~2FLlama-3~2E1-8B"
PAGE_SCROLLS_SIDEWAYS = "document.documentElement.scrollWidth > window.innerWidth"


def _build_catalog(path: Path) -> None:
    with ModelManager(path) as manager:
        for model_id in MODELS:
            manager.add_model(
                model_id, _config(model_id), source="huggingface", hub_metadata={"hub_id": model_id}
            )
        manager.add_quality_metric("meta-llama/Llama-3.1-8B", "MMLU", 66.7, 5, source="card")
        manager.add_quality_metric("mistralai/Mistral-7B-v0.1", "MMLU", 60.1, 5, source="paper")
        manager.add_alias("mistralai/Mistral-7B-v0.1", "mistral-7b")
        config_hash = manager.get_model("meta-llama/Llama-3.1-8B")["config_hash"]
    conn = sqlite3.connect(path)
    conn.execute(
        f"INSERT INTO simulations ({SIMULATION_COLUMNS}) VALUES (?, ?, 'H100_GPU', 1, 1, 1, 'bf16', 8, 2048, 256, "
        "412.5, 9.75, 820.5, 21474836480, '0.0.16', '2026-12-01T10:00:00Z')",
        ["meta-llama/Llama-3.1-8B", config_hash],
    )
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("pages-serve")
    db = folder / "catalog.db"
    _build_catalog(db)
    port = _free_port()
    log = (folder / "serve.log").open("w+")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}
    process = subprocess.Popen(
        [sys.executable, "-m", "genz_catalog", "--db", str(db), "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                pytest.fail("genz-catalog serve did not start:\n" + log.read())
            time.sleep(0.3)
    yield base
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _screenshot(page, name: str) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


@pytest.mark.browser
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_model_page_reads_without_sideways_scrolling(server: str, browser, viewport: str) -> None:  # noqa: ANN001
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server + LLAMA_ROW)
    assert page.locator("h1").inner_text().replace("\n", "") == "meta-llama/Llama-3.1-8B"
    assert not page.evaluate(PAGE_SCROLLS_SIDEWAYS)
    parameters = page.locator("dl.genz-summary dd").first
    assert parameters.inner_text() == "8.03B"
    assert parameters.get_attribute("title") == "8,030,261,248"
    assert parameters.is_visible()
    assert parameters.bounding_box()["y"] < height  # the figures start on the first screen
    weights = page.locator("table.genz-table").first.inner_text()
    assert "14.96 GiB" in weights and "16,060,522,496" in weights
    simulations = page.locator("table.genz-simulations")
    assert "H100_GPU" in simulations.inner_text() and "820.5" in simulations.inner_text()
    if viewport == "phone":
        # The 14-column simulations table is wider than a phone: it scrolls in its own box.
        box = simulations.locator("xpath=..")
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")
        assert box.evaluate("e => e.getBoundingClientRect().right") <= width
    config = page.locator("details.genz-config-json")
    assert not config.locator("pre").is_visible()  # folded at first
    _screenshot(page, f"model-page-{viewport}")
    config.locator("summary").click()
    assert '"num_key_value_heads": 8,' in config.locator("pre").inner_text()
    assert not page.evaluate(PAGE_SCROLLS_SIDEWAYS)  # the open config scrolls in its own box
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_compare_from_the_model_page(server: str, browser, viewport: str) -> None:  # noqa: ANN001
    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server + LLAMA_ROW)
    page.fill("#genz-compare-with", "MISTRAL-7B")  # an alias, any case
    page.locator("form.genz-compare-form input[type=submit]").click()
    page.wait_for_url("**/-/compare?**")
    assert not page.evaluate(PAGE_SCROLLS_SIDEWAYS)
    heads = page.locator("th.genz-model-head a:not(.genz-remove)").all_inner_texts()
    assert [h.replace("\n", "") for h in heads] == [
        "meta-llama/Llama-3.1-8B",
        "mistralai/Mistral-7B-v0.1",
    ]
    parameters = page.locator("tr", has=page.locator("th", has_text="Parameters")).first
    assert parameters.locator("td").all_inner_texts() == ["8.03B", "7.24B"]
    assert "genz-differs" in parameters.get_attribute("class")
    layers = page.locator("tr", has=page.locator("th", has_text="Layers"))
    assert layers.locator("td").all_inner_texts() == ["32", "32"]
    assert not (layers.get_attribute("class") or "")
    simulated = page.locator("tr", has=page.locator("th", has_text="H100_GPU · bf16 · batch 8"))
    assert simulated.locator("td").all_inner_texts() == ["820.5 tok/s, 1 device", "—"]
    # Both models' figures are on the page at once, side by side.
    mistral_cell = parameters.locator("td").nth(1)
    mistral_cell.scroll_into_view_if_needed()
    assert mistral_cell.is_visible()
    _screenshot(page, f"compare-{viewport}")
    page.close()


@pytest.mark.browser
def test_compare_json_twin_and_unknown_model(server: str, browser) -> None:  # noqa: ANN001
    url = server + "/-/compare.json?model=llama-3.1-8b&model=mistral-7b"
    with urllib.request.urlopen(url, timeout=30) as response:
        data = json.loads(response.read())
    assert [m["parameter_count"] for m in data["models"]] == [LLAMA_PARAMS, MISTRAL_PARAMS]
    assert data["models"][0]["memory"]["weight_bytes"]["bf16"] == 16_060_522_496
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(server + "/-/compare.json?model=llama-3.1-8b&model=nope")
    assert error.value.code == 404
    page = browser.new_page(viewport={"width": 390, "height": 844})
    response = page.goto(server + "/-/compare?model=llama-3.1-8b&model=nope")
    assert response.status == 404
    assert page.locator(".genz-error").inner_text().startswith("unknown model 'nope'")
    assert not page.evaluate(PAGE_SCROLLS_SIDEWAYS)
    page.close()
