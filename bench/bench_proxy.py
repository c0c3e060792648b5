"""Benchmark: the public project page through nginx's micro-cache vs a static file.

The page of bench/bench_page.py (20 runs × 1,000 points, 5 charts) served by
gunicorn (gunicorn.conf.py) behind nginx running deploy/nginx/seasons.conf on
loopback (only ports and paths swapped, as in tests/deploy/test_nginx.py), then
`wrk -t4 -c16 -d15s` against the page through nginx and against the same bytes
as a static file served by the same nginx from the collected static folder, in
one run. Target: page ≥ 0.5× static. For context it also measures the page
straight from gunicorn. Needs nginx and wrk (Debian packages):

    apt-get install nginx wrk      # or scripts/system-deps.sh for nginx

Usage: .venv/bin/python bench/bench_proxy.py [--duration 15s]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from bench_page import ROOT, build, wrk

from portfolio.static_files import collect
from tests.deploy.procs import free_port, gunicorn_cmd, nginx_cmd, render_nginx, running

STATIC_NAME = "bench-page.html"


def cache_status(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.headers.get("X-Cache-Status", "-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="15s", help="wrk's -d for each of the three runs")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="seasons-bench-proxy-"))
    path, settings = build(str(instance), "WARNING", None)
    prefix = instance / "nginx"
    prefix.mkdir()
    collect(prefix / "static")
    web, front = free_port(), free_port()
    conf = render_nginx(prefix, port=front, upstream=web, static=prefix / "static", workers="auto")
    env = {**os.environ, **settings, "BASE_URL": f"http://127.0.0.1:{front}", "PROXY_COUNT": "1"}
    direct, proxied = f"http://127.0.0.1:{web}", f"http://127.0.0.1:{front}"
    with ExitStack() as stack:
        stack.enter_context(
            running(
                gunicorn_cmd(port=web, workers=4), env=env, cwd=ROOT, ready_url=direct + "/healthz"
            )
        )
        stack.enter_context(
            running(nginx_cmd(prefix, conf), env=env, cwd=prefix, ready_url=proxied + "/healthz")
        )
        html = urllib.request.urlopen(direct + path, timeout=60).read()
        (prefix / "static" / STATIC_NAME).write_bytes(html)
        for _ in range(8):  # warm every worker's page cache, then nginx's
            urllib.request.urlopen(direct + path, timeout=60).read()
        warm = [cache_status(proxied + path) for _ in range(3)]
        assert urllib.request.urlopen(proxied + path, timeout=30).read() == html
        page = wrk(proxied + path, args.duration)
        static = wrk(f"{proxied}/static/{STATIC_NAME}", args.duration)
        app = wrk(direct + path, args.duration)
    ratio = page["rps"] / static["rps"]
    print(f"page: {len(html) // 1024} KiB; nginx cache status of three warm requests: {warm}")
    for name, run in (("via nginx", page), ("static", static), ("gunicorn", app)):
        print(
            f"{name:>9}: {run['rps']:.0f} req/s, p99 {run['p99_ms']:.1f} ms, errors {run['errors']}"
        )
    print(f"ratio page via nginx / static {ratio:.2f} (target ≥ 0.5)")
    print(f"ratio gunicorn alone / static {app['rps'] / static['rps']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
