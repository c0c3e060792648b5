"""The demo project page in Chromium: light before any interaction, legible at 390 px.

Loads the demo learner's most-charted public project at 1280 and 390 px with
JS on and touches nothing: the bytes on the wire (headers plus gzipped bodies)
stay within 150 KB, no request leaves the app's origin, and the vega-embed
bundle is not among them. Then, at 390 px, the phone layout of each chart
fills the screen width, and asking for an interactive chart loads the bundle.
Screenshot: demo-project-390-charts.png.
"""

from __future__ import annotations

import pytest

from .conftest import shot
from .weight import BUDGET, demo_project_path, page_weight


@pytest.fixture()
def demo_url(app, live_server) -> str:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return live_server + demo_project_path(app)


def test_demo_project_page_weight(browser, demo_url, subtests) -> None:
    """≤ 150 KB transferred and 0 third-party requests at both widths, no bundle."""
    page_weight(browser, demo_url, width=1280, height=900)  # render the charts once
    for width, height in ((1280, 900), (390, 844)):
        with subtests.test(width=width):
            weight = page_weight(browser, demo_url, width=width, height=height)
            sizes = sorted(weight.requests, key=lambda r: -r[1])
            assert weight.total <= BUDGET, f"{weight.total} bytes: {sizes[:5]}"
            assert weight.foreign == []
            assert not [url for url, _ in weight.requests if "vega-embed" in url]
            assert any(url.endswith("site.css") or "site.css?" in url for url, _ in sizes)


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
