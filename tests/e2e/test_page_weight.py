"""Public project pages in Chromium: light before any interaction, legible at 390 px.

Loads the demo learner's most-charted public project at 1280 and 390 px with
JS on and touches nothing: the bytes on the wire (headers plus gzipped bodies)
stay within 150 KB, no request leaves the app's origin, and the vega-embed
bundle is not among them. Then, at 390 px, the phone layout of each chart
fills the screen width, and asking for an interactive chart loads the bundle.
Screenshot: demo-project-390-charts.png.

The heavy page (bench/bench_page.py's project: 20 runs × 1,000 points, 5 charts
of ~100 KB each) keeps within the same budget because the charts after the
first load only when scrolled near; scrolling down loads every one of them,
and with JS off the <noscript> copies show them all.
"""

from __future__ import annotations

import pytest

from .conftest import shot
from .weight import BUDGET, Weight, demo_project_path, heavy_project, page_weight

# Every chart image has arrived: a real chart SVG, not the lazy placeholder.
ALL_CHARTS_LOADED = """() => {
  const imgs = [...document.querySelectorAll('.chart-view img')];
  return imgs.length > 0 && imgs.every(
    i => i.complete && i.naturalWidth > 0 && /[.]svg$/.test(new URL(i.currentSrc).pathname));
}"""


def light_at_both_widths(browser, url: str, subtests) -> list[Weight]:
    """Load `url` at 1280 and 390 px; each load ≤ 150 KB with no third-party request.

    Returns both Weights, for the caller's own checks.
    """
    page_weight(browser, url, width=1280, height=900)  # render the charts once
    weights = []
    for width, height in ((1280, 900), (390, 844)):
        weights.append(page_weight(browser, url, width=width, height=height))
        with subtests.test(width=width):
            sizes = sorted(weights[-1].requests, key=lambda r: -r[1])
            assert weights[-1].total <= BUDGET, f"{weights[-1].total} bytes: {sizes[:5]}"
            assert weights[-1].foreign == []
    return weights


@pytest.fixture()
def demo_url(app, live_server) -> str:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return live_server + demo_project_path(app)


def test_demo_project_page_weight(browser, demo_url, subtests) -> None:
    """≤ 150 KB transferred and 0 third-party requests at both widths, no bundle."""
    for weight in light_at_both_widths(browser, demo_url, subtests):
        assert not [url for url, _ in weight.requests if "vega-embed" in url]
        assert any(url.endswith("site.css") or "site.css?" in url for url, _ in weight.requests)


def test_demo_project_charts_at_390px(browser, demo_url) -> None:
    """At 390 px the phone layout fills the width; Explore loads the bundle on request."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(30_000)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(demo_url, wait_until="networkidle")
        images = page.locator(".chart-view img")
        assert images.count() >= 1
        for i in range(images.count()):
            image = images.nth(i)
            image.scroll_into_view_if_needed()
            page.wait_for_function(
                "i => i.complete && i.naturalWidth > 0", arg=image.element_handle()
            )
            assert image.evaluate("i => i.currentSrc").endswith(".narrow.svg")
            box = image.bounding_box()
            assert box is not None and box["width"] >= 300  # full width, not a shrunk 640 px
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"page scrolls sideways by {overflow}px"
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "demo-project-390-charts")
        assert not [url for url in requested if "vega-embed" in url]
        figure = page.locator("figure.chart").first
        figure.scroll_into_view_if_needed()
        figure.get_by_role("button", name="Explore this chart").click()
        page.wait_for_selector("figure.chart[data-chart-state=interactive]")
        assert [url for url in requested if "vega-embed" in url]
        width = page.locator(".chart-interactive svg").first.bounding_box()["width"]
        assert width <= 390
    finally:
        context.close()


@pytest.fixture()
def heavy_url(app, live_server) -> str:
    return live_server + heavy_project(app)


def test_heavy_project_page_weight(browser, heavy_url, subtests) -> None:
    """5 charts of 20 runs: still ≤ 150 KB and no third-party request at both widths."""
    for weight in light_at_both_widths(browser, heavy_url, subtests):
        charts = [url for url, _ in weight.requests if "/charts/" in url]
        assert 1 <= len(charts) < 5, charts  # the first chart, not all five


def test_heavy_project_charts_load_on_scroll(browser, heavy_url) -> None:
    """Scrolling to the bottom loads every chart; with JS off every chart shows at once."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(heavy_url, wait_until="networkidle", timeout=180_000)
        assert page.locator(".chart-view img").count() == 5
        assert page.locator("picture.chart-lazy").count() >= 1  # waiting below the fold
        page.evaluate(
            """async () => {
              for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
                scrollTo(0, y);
                await new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)));
              }
              scrollTo(0, document.documentElement.scrollHeight);
            }"""
        )
        page.wait_for_function(ALL_CHARTS_LOADED)
        assert page.locator("picture.chart-lazy").count() == 0
        alts = page.locator(".chart-view img").evaluate_all("is => is.map(i => i.alt)")
        assert all(alt.startswith("Chart: ") for alt in alts)
    finally:
        context.close()
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(heavy_url, wait_until="networkidle", timeout=180_000)
        loaded = page.evaluate(
            """() => [...document.querySelectorAll('.chart-view img')]
                .filter(i => i.complete && i.naturalWidth > 0
                             && /[.]svg$/.test(new URL(i.currentSrc).pathname)).length"""
        )
        assert loaded == 5  # the first chart and the four <noscript> copies
        hidden = page.locator("picture.chart-lazy img").evaluate_all(
            "is => is.every(i => i.getBoundingClientRect().height === 0)"
        )
        assert hidden  # no empty placeholder boxes beside them
    finally:
        context.close()
