"""In a real browser (Debian Chromium driven by Playwright): the Dagster UI shows every stage's
group and the session run's checks as succeeded; the report page draws every chart."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@contextmanager
def dagster_ui(home: Path):
    """dagster-webserver (no daemon: nothing gets scheduled) over the session's DAGSTER_HOME, in
    its own process group so that it and its code server stop with it."""
    port = free_port()
    workspace = home / "workspace.yaml"
    workspace.write_text("load_from:\n  - python_module:\n      module_name: pipelines.definitions"
                         "\n      location_name: overdue\n")
    env = {**os.environ, "OVERDUE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home"),
           "GX_ANALYTICS_ENABLED": "false"}
    webserver = Path(sys.executable).parent / "dagster-webserver"
    process = subprocess.Popen(
        [str(webserver), "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
        env=env, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Dagster UI did not start") from None
                time.sleep(0.5)
        # the newsletter pop-up of a new DAGSTER_HOME (STACK.md)
        assert graphql(url, "mutation { setNuxSeen }")["data"]["setNuxSeen"] is True
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/install-system-packages")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def code_location_groups() -> set[str]:
    from pipelines.definitions import defs

    graph = defs().resolve_asset_graph()
    return {graph.get(key).group_name for key in graph.materializable_asset_keys}


def test_ui_shows_every_stage_and_the_nights_checks_succeeded(report_book, browser):
    groups = code_location_groups()
    assert {"ingest", "features", "report"} <= groups
    with dagster_ui(report_book.home) as url:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{url}/asset-groups", wait_until="networkidle")
        tree = page.locator("body")
        for group in sorted(groups):
            page.get_by_text(group, exact=True).first.wait_for(state="attached", timeout=30_000)
        text = tree.inner_text()
        assert "newsletter" not in text.lower()
        assert all(group in text.split() for group in groups)
        for asset, checks in (("account_snapshots", ("account_snapshots_rows_reconcile",
                                                     "account_snapshots_contract")),
                              ("roll_rates", ("assert_roll_rate_rows_sum_to_one",
                                              "assert_roll_rate_totals_reconcile")),
                              ("risk_report", ("risk_report_charts_rendered",
                                               "risk_report_pdf_pages"))):
            page.goto(f"{url}/assets/{asset}?view=checks", wait_until="networkidle")
            page.get_by_text(checks[0], exact=True).first.wait_for(state="attached",
                                                                   timeout=30_000)
            page.get_by_text("Succeeded").first.wait_for(timeout=30_000)
            listing = page.locator("body").inner_text()
            assert all(check in listing for check in checks), asset
            assert listing.count("Succeeded") >= len(checks), asset
            assert "Failed" not in listing, asset
        page.close()


@pytest.mark.parametrize("language", ("zh-CN", "en"))
def test_the_report_page_draws_every_chart(report_book, browser, language):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((report_book.out_dir / f"risk_report.{language}.html").as_uri())
    charts = page.evaluate("""() => [...document.querySelectorAll('figure.chart')].map(f => {
        const svg = f.querySelector('svg');
        const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
        const drawn = svg ? [...svg.querySelectorAll('path, use, text')].filter(
            e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length : 0;
        return {key: f.dataset.chart, width: box.width, height: box.height, drawn};
    })""")
    broken = page.evaluate("""() => [...document.images].filter(
        i => !i.complete || i.naturalWidth === 0).map(i => i.src)""")
    assert len(charts) >= 11
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 80, chart
        assert chart["drawn"] >= 10, chart
    assert broken == []
    # opened offline: the page asked for nothing but itself
    assert [r for r in requests if not r.startswith("file://")] == []
    page.close()
