"""A real ``genz-catalog serve`` process, checked over HTTP and in headless Chromium.

The server starts on an empty catalog, so it first builds the embedded default catalog (bundled
Hugging Face configs + GenZ static models). Chromium is Debian's package driven by Playwright
through ``executable_path``; Playwright never downloads a browser here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LLAMA_ROW_PATH = "/catalog/models/meta-llama~2FLlama-3~2E1-8B"
#: Screenshots the browser tests save, for people to look at (gitignored).
ARTIFACTS = Path(__file__).parent / "artifacts"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_json(url: str):  # noqa: ANN202
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("serve")
    port = _free_port()
    log = (folder / "serve.log").open("w+")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genz_catalog",
            "--db",
            str(folder / "catalog.db"),
            "serve",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            _get_json(base + "/-/versions.json")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                pytest.fail("genz-catalog serve did not start:\n" + log.read())
            time.sleep(0.3)
    yield {"base": base, "log": log, "port": port, "db": folder / "catalog.db"}
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_serve_builds_the_default_catalog_and_binds_localhost(server: dict) -> None:
    server["log"].seek(0)
    output = server["log"].read()
    assert "default catalog: imported 55 bundled Hugging Face configs" in output
    assert "default catalog: synced " in output
    assert f"Serving the catalog at http://127.0.0.1:{server['port']}/catalog" in output
    # One access-log line per request (written just after the response is sent).
    _get_json(server["base"] + "/catalog/statistics.json?_shape=array")
    line = '"GET /catalog/statistics.json?_shape=array HTTP/1.1" 200 '
    deadline = time.monotonic() + 10
    while line not in output and time.monotonic() < deadline:
        time.sleep(0.1)
        server["log"].seek(0)
        output = server["log"].read()
    assert line in output.split("Serving the catalog at")[1]
    stats = {
        (r["dimension"], r["value"]): r["models"]
        for r in _get_json(server["base"] + "/catalog/statistics.json?_shape=array")
    }
    assert stats[("source", "huggingface")] == 55
    assert stats[("source", "genz-static")] > 40
    models = _get_json(server["base"] + "/catalog/models.json?_shape=array&_size=max")
    assert len(models) == stats[("total", "all models")]
    # Listening on the loopback interface only.
    with (
        pytest.raises(OSError),
        socket.create_connection((_non_loopback_address(), server["port"]), timeout=2),
    ):
        pass


def test_serve_immutable_replica_from_an_installed_package(server: dict, tmp_path: Path) -> None:
    """``serve --immutable FILE``: the packaged metadata and plugins, no checkout paths."""
    copy = tmp_path / "published.db"
    subprocess.run(
        [sys.executable, "-m", "genz_catalog", "--db", str(server["db"]), "backup", str(copy)],
        check=True,
        capture_output=True,
    )
    before = copy.read_bytes()
    port = _free_port()
    replica = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genz_catalog",
            "serve",
            "--immutable",
            str(copy),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,  # not the checkout: nothing may come from ./metadata.yml or ./plugins
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                stats = _get_json(f"http://127.0.0.1:{port}/catalog/statistics.json?_shape=array")
                break
            except OSError:
                assert replica.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        expected = _get_json(server["base"] + "/catalog/statistics.json?_shape=array")
        assert stats == expected
        fit = _get_json(
            f"http://127.0.0.1:{port}/catalog/models_that_fit.json?_shape=array"
            "&gpu_memory_gib=99999999"
        )
        assert fit[0]["status"] == "gpu_memory_gib must be a number above 0 and at most 1048576"
    finally:
        replica.send_signal(signal.SIGINT)
        replica.wait(timeout=15)
    assert copy.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published.db"]


def _non_loopback_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent for UDP connect
            address = probe.getsockname()[0]
        except OSError:
            address = "127.0.0.1"
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback address to probe")
    return address


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.browser
def test_table_page_loads_with_facets(server: dict, browser, tmp_path: Path) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(server["base"] + "/catalog/models")
    assert page.title().startswith("catalog: models")
    facets = page.locator(".facet-info")
    # The facets the issue names: family, type, attention, MoE, source (count_basis is in the
    # JSON and on each model's page).
    assert facets.count() == 5
    facet_names = [facets.nth(i).get_attribute("data-column") for i in range(5)]
    assert sorted(facet_names) == [
        "attention_type",
        "family",
        "is_moe",
        "model_type",
        "source",
    ]
    assert page.locator(".facet-info[data-column=attention_type]").inner_text().count("gqa") == 1
    screenshot = tmp_path / "models.png"
    page.screenshot(path=str(screenshot), full_page=False)
    assert screenshot.stat().st_size > 10_000
    page.close()


@pytest.mark.browser
def test_search_for_llama_finds_the_llama_models(server: dict, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(server["base"] + "/catalog/models")
    page.fill("input[name=_search]", "llama")
    page.press("input[name=_search]", "Enter")
    page.wait_for_url("**_search=llama**")
    ids = page.locator("td.col-model_id").all_inner_texts()
    assert "meta-llama/Llama-3.1-8B" in ids
    assert "meta-llama/Llama-3.2-3B" in ids
    assert "meta-llama/Llama-2-7b-chat-hf" in ids
    assert "mistralai/Mistral-7B-v0.1" not in ids
    # Its facets count the matches (from model_facets): every facet's counts add up to the
    # models found, and the family facet's are the families of the rows shown (all of them).
    found = int(page.locator("p.genz-count strong").inner_text().split()[0].replace(",", ""))
    assert found == len(ids) == len(set(ids)) >= 3
    families = page.locator("td.col-family").all_inner_texts()
    for column in ("family", "model_type", "attention_type", "is_moe", "source"):
        counts = page.locator(f".facet-info[data-column={column}] span.genz-n").all_inner_texts()
        assert sum(int(c.replace(",", "")) for c in counts) == found, column
    family_counts = {
        name: int(count.replace(",", ""))
        for name, count in zip(
            page.locator(".facet-info[data-column=family] li a").all_inner_texts(),
            page.locator(".facet-info[data-column=family] span.genz-n").all_inner_texts(),
            strict=True,
        )
    }
    assert family_counts == {f: families.count(f) for f in set(families)}
    _screenshot(page, "models-search-llama")
    page.close()


@pytest.mark.browser
def test_row_page_shows_the_config(server: dict, browser, tmp_path: Path) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(server["base"] + LLAMA_ROW_PATH)
    config = page.locator("details.genz-config-json")
    assert "LlamaForCausalLM" in config.locator("summary").inner_text()
    config.locator("summary").click()
    text = config.locator("pre").inner_text()
    assert '"num_key_value_heads": 8,' in text
    assert '"rope_theta": 500000.0,' in text
    page.screenshot(path=str(tmp_path / "row.png"), full_page=True)
    assert (tmp_path / "row.png").stat().st_size > 10_000
    page.close()


@pytest.mark.browser
def test_chart_page_links_dots_to_rows(server: dict, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(server["base"] + "/-/genz-chart")
    dots = page.locator("svg.genz-chart circle[data-attention]")
    assert dots.count() > 60
    link = page.locator("svg.genz-chart a").first
    href = link.get_attribute("href")
    assert href.startswith("/catalog/models/")
    link.click()
    page.wait_for_url("**" + href)
    assert page.locator("details.genz-config").count() == 2  # config.json, GenZ arguments
    page.close()


def _screenshot(page, name: str) -> Path:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000
    return path


def _page_scroll_width(page) -> int:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.browser
def test_models_page_first_rows_on_the_first_screen(server: dict, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server["base"] + "/catalog/models")
    first_row = page.locator("table.rows-and-columns tbody tr").first
    box = first_row.bounding_box()
    assert box is not None and box["y"] + box["height"] <= DESKTOP["height"]
    assert page.locator("table.rows-and-columns tbody tr").nth(5).bounding_box()["y"] < 900
    assert _page_scroll_width(page) <= DESKTOP["width"]  # the page itself never scrolls sideways
    headers = page.locator("table.rows-and-columns thead th").all_inner_texts()
    assert [h.replace("\u00a0", " ").strip(" ▲▼") for h in headers[1:4]] == [
        "model",
        "family",
        "type",
    ]
    # The search box comes before the table, and the descriptions are not in between.
    search_y = page.locator("input[name=_search]").bounding_box()["y"]
    assert search_y < box["y"]
    assert not page.locator("#about-columns dl").is_visible()
    _screenshot(page, "models-1366x900")
    page.close()


@pytest.mark.browser
def test_models_page_reads_numbers_for_people_and_json_for_machines(server: dict, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server["base"] + "/catalog/models?_search=Llama-3.1-8B")
    row = page.locator("tr", has=page.locator('input[value="meta-llama/Llama-3.1-8B"]'))
    assert row.locator("td.col-parameter_count").inner_text() == "8.03B"
    assert row.locator("td.col-context_length").inner_text() == "131,072"
    exact = row.locator("td.col-parameter_count span").get_attribute("title")
    assert exact == "8,030,261,248 parameters"
    models = _get_json(
        server["base"]
        + "/catalog/models.json?_shape=array&_search=Llama-3.1-8B&_col=parameter_count"
    )
    llama = next(m for m in models if m["model_id"] == "meta-llama/Llama-3.1-8B")
    assert llama["parameter_count"] == 8_030_261_248
    page.goto(server["base"] + "/catalog/model_memory?model=meta-llama/Llama-3.1-8B")
    assert page.locator("td.col-weight_bytes").inner_text() == "14.96 GiB"
    assert not page.locator("textarea").count()  # the SQL is hidden
    _screenshot(page, "model-memory-1366x900")
    page.close()


@pytest.mark.browser
def test_compare_selected_goes_to_the_compare_page(server: dict, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server["base"] + "/catalog/models?_search=llama")
    button = page.locator("#genz-compare-button")
    assert button.is_disabled()  # nothing ticked yet
    page.check('input[name=model][value="meta-llama/Llama-3.1-8B"]')
    page.check('input[name=model][value="meta-llama/Llama-3.2-3B"]')
    assert button.inner_text() == "Compare selected (2)"
    button.click()
    page.wait_for_url("**/-/compare?**")
    assert page.url.endswith(
        "/-/compare?model=meta-llama%2FLlama-3.1-8B&model=meta-llama%2FLlama-3.2-3B"
    ) or page.url.endswith(
        "/-/compare?model=meta-llama%2FLlama-3.2-3B&model=meta-llama%2FLlama-3.1-8B"
    )
    page.close()


@pytest.mark.browser
def test_models_page_and_chart_fit_a_phone(server: dict, browser) -> None:  # noqa: ANN001
    page = browser.new_page(viewport=PHONE)
    page.goto(server["base"] + "/catalog/models")
    assert _page_scroll_width(page) <= PHONE["width"]
    first_row = page.locator("table.rows-and-columns tbody tr").first.bounding_box()
    assert first_row["y"] < PHONE["height"] and first_row["height"] < 250  # a compact card
    assert not page.locator("#genz-facets .facet-info").first.is_visible()  # folded on a phone
    _screenshot(page, "models-390x844")
    page.goto(server["base"] + "/-/genz-chart")
    assert _page_scroll_width(page) <= PHONE["width"]
    chart = page.locator("svg.genz-chart").bounding_box()
    assert chart["width"] > 300 and chart["x"] + chart["width"] <= PHONE["width"]
    _screenshot(page, "chart-390x844")
    page.close()
    page = browser.new_page(viewport=DESKTOP)
    page.goto(server["base"] + "/-/genz-chart")
    assert page.locator("svg.genz-chart").bounding_box()["width"] > 1200  # the page's width
    _screenshot(page, "chart-1366x900")
    page.close()


def test_serve_quiet_has_no_access_log_and_announces_only_when_listening(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genz_catalog",
            "--db",
            str(tmp_path / "catalog.db"),
            "serve",
            "--no-default-catalog",
            "--quiet",
            "--port",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        line = process.stderr.readline()
        assert line.startswith("Serving the catalog at http://127.0.0.1:")
        url = line.split()[4]
        # The line means the port is bound and served: the first request needs no retry.
        assert _get_json(url + ".json")["database"] == "catalog"
    finally:
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=15)
    assert '"GET /catalog.json' not in rest
