"""Benchmark: a public project page (20 runs, 5 charts) under gunicorn and wrk.

Builds a throwaway SQLite instance with one public project of 20 runs × 1,000
points and 5 charts, serves it with gunicorn (4 workers) on 127.0.0.1, warms
the cache, then runs wrk with 16 connections for 15 s against the page and
against the same HTML bytes as a static file from the same server. Targets:
page throughput ≥ 0.5× static, p99 ≤ 100 ms. Needs `wrk` (Debian package).

Usage: .venv/bin/python bench/bench_page.py [--log-level INFO] [--redis-url redis://127.0.0.1:6379/15]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portfolio import create_app  # noqa: E402
from portfolio.migrate import upgrade  # noqa: E402
from tests.deploy.procs import gunicorn_cmd  # noqa: E402
from tests.e2e.weight import heavy_project  # noqa: E402

STATIC_NAME = "bench-page.html"


def build(instance: str, log_level: str, redis_url: str | None) -> tuple[str, dict]:
    env = {
        "DATABASE_URL": f"sqlite:///{instance}/bench.db",
        "INSTANCE_PATH": instance,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "LOG_LEVEL": log_level,
        "SCHEDULER_IN_WEB": "0",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    app = create_app({k: v for k, v in env.items()})
    upgrade(app.extensions["engine"])
    return heavy_project(app), env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url: str, duration: str = "15s") -> dict:
    out = subprocess.run(
        ["wrk", "-t", "4", "-c", "16", "-d", duration, "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale,
        "errors": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--log-level", default="WARNING", help="INFO adds the one-line JSON log per request"
    )
    parser.add_argument("--redis-url", help="share the page cache in Redis, as production does")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="seasons-bench-page-")
    path, env = build(instance, args.log_level, args.redis_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        gunicorn_cmd(port=port, workers=4),
        cwd=ROOT,
        env={**os.environ, **env, "BASE_URL": base},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    static_file = ROOT / "portfolio" / "static" / STATIC_NAME
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        t = time.perf_counter()
        html = urllib.request.urlopen(base + path, timeout=60).read()
        cold = time.perf_counter() - t
        for _ in range(8):  # warm every worker's cache
            urllib.request.urlopen(base + path, timeout=60).read()
        static_file.write_bytes(html)
        page = wrk(base + path)
        static = wrk(f"{base}/static/{STATIC_NAME}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        static_file.unlink(missing_ok=True)
    ratio = page["rps"] / static["rps"]
    print(f"page: {len(html) // 1024} KiB, first render {cold * 1000:.0f} ms")
    print(f"page:   {page['rps']:.0f} req/s, p99 {page['p99_ms']:.1f} ms, errors {page['errors']}")
    print(f"static: {static['rps']:.0f} req/s, p99 {static['p99_ms']:.1f} ms")
    print(f"ratio {ratio:.2f} (target ≥ 0.5), p99 target ≤ 100 ms")


if __name__ == "__main__":
    main()
