"""The report pages as a reader opens them: Debian's Chromium (the Playwright setup of tests/ui) loads each
page from disk (file://), follows the index's links, and finds every chart drawn (a non-empty SVG), every
table filled, no console error and no request that leaves the report's directory. Screenshots go to the test's
temporary directory (paths printed with `pytest -s`). Every wait is on a DOM state, never a sleep."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gim_dagster.core.reports import write_reports
from tests.reports.conftest import OPTIONS, Mart
from tests.ui.test_dagster_ui import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS

try:
    from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
except ImportError:  # pragma: no cover - CI installs playwright with the test extras
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(
        sync_playwright is None, reason="playwright is not installed (pip install playwright)"
    ),
    pytest.mark.skipif(
        CHROMIUM is None, reason="no Chromium at /usr/bin/chromium (apt-get install -y chromium)"
    ),
]

CHARTS = {
    "queue-summary.html": 2,
    "agent-summary.html": 1,
    "abandon-delay.html": 1,
    "not-ready-reasons.html": 1,
    "volume.html": 2,
}
"""Each page and the charts it draws."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert sync_playwright is not None and CHROMIUM is not None
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _check_page(page: Page, name: str, shots: Path) -> None:
    expect(page.locator("h1")).to_be_visible()
    charts = page.locator("figure.chart > svg")
    expect(charts).to_have_count(CHARTS[name])
    for n in range(CHARTS[name]):
        chart = charts.nth(n)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, (name, n, box)
        assert chart.locator("path").count() > 10, f"{name}: chart {n} draws nothing"
        assert chart.locator("text").count() > 3, f"{name}: chart {n} has no labels"
    tables = page.locator("table.figures")
    assert tables.count() >= 1, name
    for n in range(tables.count()):
        table = tables.nth(n)
        caption = table.locator("caption").inner_text()
        expect(table.locator("tbody tr.empty")).to_have_count(0)
        assert table.locator("tbody tr").count() > 0, f"{name}: table {caption!r} is empty"
        assert table.locator("tbody td").first.inner_text().strip(), f"{name}: {caption!r}"
    shot = shots / name.replace(".html", ".png")
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


def test_every_page_opens_from_disk_with_charts_and_tables_and_no_network(
    mart: Mart, browser: Browser, tmp_path: Path
) -> None:
    index = write_reports(mart.engine, tmp_path / "reports", mart.first, mart.last, OPTIONS)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    report_dir = index.parent.as_uri() + "/"
    requested: list[str] = []
    outside: list[str] = []
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)

    def gatekeeper(route: Route) -> None:
        if route.request.url.startswith(report_dir):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", gatekeeper)
    page = context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(index.as_uri())
        links = page.locator("ul.pages a")
        expect(links).to_have_count(len(CHARTS))
        page.screenshot(path=str(shots / "index.png"), full_page=True)
        for name in CHARTS:
            page.goto(index.as_uri())
            page.locator(f'ul.pages a[href="{name}"]').click()  # the index's relative links work from disk
            expect(page).to_have_url(report_dir + name)
            _check_page(page, name, shots)
        # The header's links lead back to the index.
        page.locator("header a", has_text="Reports").click()
        expect(page).to_have_url(index.as_uri())
    finally:
        context.close()
    assert not outside, f"requests that left the report's directory: {outside}"
    assert not errors, errors
    assert set(requested) == {index.as_uri(), *(report_dir + name for name in CHARTS)}, requested
