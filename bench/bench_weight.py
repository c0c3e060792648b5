"""Benchmark: what a public project page transfers in Chromium before any interaction.

Loads two pages in headless Chromium (Debian's /usr/bin/chromium, JS on) at
1280×900 and 390×844 without scrolling or touching anything, waits for the
network to go idle, and sums the bytes each response put on the wire (headers
plus the encoded body, so gzip counts as sent). The pages: the project of
bench/bench_page.py (20 runs × 1,000 points, 5 charts) and the demo learner's
most-charted project (`flask demo`). Also counts requests to other origins.
Target: ≤ 150 KB per page and 0 third-party requests.

Usage: .venv/bin/python bench/bench_weight.py
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_page import build
from werkzeug.serving import make_server

from portfolio import create_app
from portfolio.migrate import upgrade
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.weight import demo_project_path, page_weight

VIEWPORTS = [(1280, 900), (390, 844)]


@contextmanager
def serving(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)


def demo_app(instance: Path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/demo.db",
            "DATABASE_URL": f"sqlite:///{instance}/demo.db",
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench-weight-" + "x" * 40,
            "SCHEDULER_IN_WEB": False,
        }
    )
    upgrade(app.extensions["engine"])
    result = app.test_cli_runner().invoke(args=["demo"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return app


def main() -> None:
    from playwright.sync_api import sync_playwright

    root = Path(tempfile.mkdtemp(prefix="seasons-bench-weight-"))
    (root / "bench").mkdir()
    (root / "demo").mkdir()
    bench_path, env = build(str(root / "bench"), "WARNING", None)
    bench_app = create_app(env)
    dapp = demo_app(root / "demo")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print("| page | viewport | requests | transferred | largest | third-party |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, app, path in (
            ("bench (20 runs, 5 charts)", bench_app, lambda _a: bench_path),
            ("demo project", dapp, demo_project_path),
        ):
            with serving(app) as base:
                url = base + path(app)
                page_weight(browser, url, width=1280, height=900)  # render and cache charts
                for width, height in VIEWPORTS:
                    w = page_weight(browser, url, width=width, height=height)
                    largest = max(w.requests, key=lambda r: r[1])
                    print(
                        f"| {name} | {width}×{height} | {len(w.requests)} | "
                        f"{w.total / 1000:.1f} KB | {largest[0].rsplit('/', 1)[-1][:40]} "
                        f"{largest[1] / 1000:.1f} KB | {len(w.foreign)} |"
                    )
        browser.close()


if __name__ == "__main__":
    main()
