"""charts.js in headless Chromium under the app's CSP: a static SVG turns interactive on request."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from portfolio.charts import ChartOptions, ChartSeries, build_spec, render_svg, vega_embed_bundle

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'"
)
PAYLOAD = "<img src=x onerror=alert(1)>run"


def page_html(*svgs: str) -> str:
    figures = "".join(
        f'<figure class="chart" data-spec-url="/chart{i}.vl.json">'
        f'<div class="chart-view">{svg}</div><figcaption>Chart {i}</figcaption></figure>'
        for i, svg in enumerate(svgs)
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>chart</title>
<script src="/static/charts.js" data-bundle="/static/vega-embed.js" defer></script></head>
<body>{figures}</body></html>"""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """A loopback server with a page of two charts, served under the app's CSP."""
    xs = list(range(1, 51))
    series = [
        ChartSeries(run=PAYLOAD, metric="val/acc", xs=xs, ys=[i / 50 for i in xs]),
        ChartSeries(run="other", metric="val/acc", xs=xs, ys=[i / 60 for i in xs]),
        ChartSeries(run="other", metric="train/loss", xs=xs, ys=[1 / i for i in xs]),
    ]
    specs = [
        build_spec("Accuracy", series, ChartOptions(metrics=["val/acc"], smoothing=0.5)),
        build_spec("Both", series, ChartOptions(metrics=["train/loss", "val/acc"], log_y=True)),
    ]
    files = {
        "/": ("text/html", page_html(*map(render_svg, specs)).encode()),
        "/static/vega-embed.js": ("text/javascript", vega_embed_bundle().encode()),
        "/static/charts.js": (
            "text/javascript",
            (ROOT / "portfolio" / "static" / "js" / "charts.js").read_bytes(),
        ),
    }
    for i, spec in enumerate(specs):
        files[f"/chart{i}.vl.json"] = ("application/json", json.dumps(spec).encode())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
                return
            if self.path not in files:
                self.send_error(404)
                return
            kind, body = files[self.path]
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_chart_becomes_interactive_under_csp(site: str, browser) -> None:
    """Nothing heavy loads until asked; then, under script-src 'self', the charts upgrade,
    hover shows an escaped tooltip and no CSP error is logged."""
    page = browser.new_page(viewport={"width": 900, "height": 700})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(site + "/", wait_until="networkidle")
    # Nothing heavy until the visitor asks: no bundle, no spec.
    assert not [u for u in requested if u.endswith((".js", ".json")) and "charts.js" not in u]
    assert page.locator(".chart-view > svg").count() == 2
    page.locator("figure.chart").first.get_by_role("button", name="Explore this chart").click()
    for i in range(2):
        page.wait_for_selector(
            f"figure.chart:nth-of-type({i + 1})[data-chart-state=interactive]", timeout=15_000
        )
    assert page.locator(".chart-interactive svg").count() == 2
    assert page.locator(".chart-view > svg").count() == 0  # static pictures replaced
    assert page.locator(".chart-explore").count() == 0  # nothing left to ask for

    box = page.locator(".chart-interactive svg").first.bounding_box()
    assert box is not None
    tooltip = page.locator(".chart-tooltip")
    for dx in range(60, int(box["width"]) - 200, 25):  # sweep until a point is hovered
        page.mouse.move(box["x"] + dx, box["y"] + box["height"] / 2)
        if tooltip.count() and tooltip.is_visible():
            break
    assert tooltip.is_visible()
    assert "Run:" in tooltip.inner_text()
    assert page.locator(".chart-tooltip img").count() == 0  # text, not markup
    assert page.locator("img").count() == 0
    assert not problems, problems
    if shots := os.environ.get("CHART_SCREENSHOTS"):
        page.screenshot(path=str(Path(shots) / "chart-interactive.png"), full_page=True)
    page.close()


def test_chart_stays_static_when_spec_fails(site: str, browser) -> None:
    """A broken spec URL leaves the server-rendered SVG in place."""
    page = browser.new_page()
    page.route("**/chart0.vl.json", lambda route: route.fulfill(status=500, body="nope"))
    page.goto(site + "/")
    page.locator("figure.chart").first.get_by_role("button", name="Explore this chart").click()
    page.wait_for_selector("figure.chart[data-chart-state=static]", timeout=15_000)
    assert page.locator("figure.chart:first-of-type .chart-view > svg").count() == 1
    page.close()
