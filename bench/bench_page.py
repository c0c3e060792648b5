"""Benchmark: public project pages under gunicorn as deployed, with a share of cache misses.

Seeds `--projects` public projects (default 50, each `--runs` runs × 1,000
points and 5 charts, `tests/e2e/weight.heavy_project` under its own handle) on
SQLite in a temp dir or on `--database-url` (PostgreSQL: the database must exist
and may be wiped), then serves them with gunicorn.conf.py on 127.0.0.1 with
`--workers` workers and LOG_LEVEL=INFO, the JSON request log on, as production
(bench/served.py).

Load: `--connections` client threads (Python, `requests`; one TCP connection per
request since sync workers close it) for `--seconds`. Each request picks one of
the project URLs at random; with probability `--cold-share` (default 0.1) the
client first bumps that project's version with the atomic
`UPDATE projects SET version = version + 1` every edit, sync and comment runs,
so that request is a guaranteed cache miss in every worker (the key holds the
version). The UPDATE is not timed. Every other request finds the page cached
once the warm-up has passed: every URL is fetched 3 × workers times before
timing (per-worker caches; with `--redis-url` one shared cache, which must be an
empty Redis database and is flushed afterwards). With per-worker caches a bump
also makes the next request of that page in each other worker a miss, so more
requests rebuild than `--cold-share`; the output gives the share the server
actually spent ≥ 20 ms on (a rebuild takes hundreds, a cached answer about one).

Every response is checked: status 200 and the page's own canonical link
(`<link rel="canonical" href="…/u/<handle>/bench-project">`). Baseline: the same
client for the same time against project 0's HTML bytes as a static file of the
same server. Targets: page throughput ≥ 0.5× static, p99 ≤ 100 ms. If `wrk` is
installed, it also measures one warm page and the static file as before
(`wrk -t4 -c16 -d15s`).

Usage: .venv/bin/python bench/bench_page.py [--database-url URL] [--cold-share 0.1]
       [--projects 50] [--runs 4] [--seconds 20] [--connections 16] [--workers 4]
       [--redis-url redis://127.0.0.1:6379/15]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import backend, gunicorn, machine, production_env, reset, spread  # noqa: E402
from portfolio import create_app  # noqa: E402
from portfolio.db import make_engine  # noqa: E402
from tests.e2e.weight import heavy_project  # noqa: E402

STATIC_NAME = "bench-page.html"
BUMP = text("UPDATE projects SET version = version + 1 WHERE id = :id")
PROJECT_ID = text(
    "SELECT p.id FROM projects p JOIN users u ON u.id = p.owner_id WHERE u.handle = :handle"
)


def build(url: str, instance: str, count: int, runs: int) -> list[tuple[str, int]]:
    """Seed `count` public projects; return (path, project id) of each."""
    reset(url)
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "b" * 40, "TESTING": True}
    )
    paths = [heavy_project(app, runs=runs, handle=f"bench{i}") for i in range(count)]
    with app.extensions["engine"].connect() as conn:
        ids = [conn.execute(PROJECT_ID, {"handle": f"bench{i}"}).scalar_one() for i in range(count)]
    app.extensions["engine"].dispose()
    return list(zip(paths, ids, strict=True))


@dataclass
class Load:
    """What the client threads saw, split by warm and cold requests."""

    warm_ms: list[float] = field(default_factory=list)
    cold_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_load(
    base: str,
    targets: list[tuple[str, str, int]],
    seconds: float,
    connections: int,
    cold_share: float,
    url: str | None,
) -> tuple[Load, float]:
    """`connections` threads GET random targets (url path, marker, id) for `seconds`."""
    load = Load()
    engine = make_engine(url) if url and cold_share else None
    deadline = time.perf_counter() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        http = requests.Session()
        while time.perf_counter() < deadline:
            path, marker, project_id = rng.choice(targets)
            cold = engine is not None and rng.random() < cold_share
            if cold:
                with engine.begin() as conn:
                    conn.execute(BUMP, {"id": project_id})
            t = time.perf_counter()
            try:
                response = http.get(base + path, timeout=60)
                body = response.text
            except requests.RequestException as err:
                with load.lock:
                    load.errors.append(f"{path}: {err}")
                continue
            elapsed = (time.perf_counter() - t) * 1000
            with load.lock:
                if response.status_code != 200 or marker not in body:
                    load.errors.append(
                        f"{path}: {response.status_code}, marker in body: {marker in body}"
                    )
                (load.cold_ms if cold else load.warm_ms).append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if engine is not None:
        engine.dispose()
    return load, time.perf_counter() - started


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


def report(name: str, load: Load, elapsed: float) -> float:
    """Print one load's throughput and spreads; return its requests per second."""
    done = len(load.warm_ms) + len(load.cold_ms)
    rps = done / elapsed
    print(
        f"{name}: {done} requests in {elapsed:.1f} s = {rps:.0f} req/s, errors {len(load.errors)}"
    )
    print(f"  all:  {spread(load.warm_ms + load.cold_ms)}")
    if load.cold_ms:
        print(f"  warm: {spread(load.warm_ms)}")
        print(f"  cold: {spread(load.cold_ms)} ({len(load.cold_ms) / done:.1%} of requests)")
    for error in load.errors[:5]:
        print(f"  error: {error}")
    return rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: SQLite in a temp dir")
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--runs", type=int, default=4, help="runs per project (1,000 points)")
    parser.add_argument("--cold-share", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--redis-url", help="share the page cache in Redis, as production does")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="seasons-bench-page-")
    url = args.database_url or f"sqlite:///{instance}/bench.db"
    t = time.perf_counter()
    projects = build(url, instance, args.projects, args.runs)
    print(f"seeded {args.projects} projects x {args.runs} runs in {time.perf_counter() - t:.0f} s")
    extra = {"REDIS_URL": args.redis_url} if args.redis_url else {}
    if args.redis_url and redis.Redis.from_url(args.redis_url).dbsize():
        raise SystemExit(f"{args.redis_url} is not empty: pick an unused Redis database")
    cache = "Redis (shared)" if args.redis_url else "per-worker (no REDIS_URL)"
    print(
        f"{backend(url)}; gunicorn.conf.py, {args.workers} sync workers, LOG_LEVEL=INFO; "
        f"page cache {cache}; machine: {machine()}"
    )
    static_file = ROOT / "portfolio" / "static" / STATIC_NAME
    with gunicorn(production_env(url, instance, **extra), workers=args.workers) as server:
        targets = [
            (path, f'<link rel="canonical" href="{server.base}{path}">', pid)
            for path, pid in projects
        ]
        try:
            html = requests.get(server.base + targets[0][0], timeout=60).content
            static_file.write_bytes(html)
            for _ in range(3 * args.workers):  # fill every worker's cache
                for path, _marker, _pid in targets:
                    requests.get(server.base + path, timeout=60)
            logged_before = len(server.request_log())
            print(
                f"load: {args.connections} client threads, {args.seconds:.0f} s, "
                f"{len(targets)} URLs at random, cold share {args.cold_share:.0%} "
                f"(version bump before the request)"
            )
            page, page_s = run_load(
                server.base, targets, args.seconds, args.connections, args.cold_share, url
            )
            static_target = [(f"/static/{STATIC_NAME}", targets[0][1], 0)]
            static, static_s = run_load(
                server.base, static_target, args.seconds, args.connections, 0, None
            )
            durations = [r["duration_ms"] for r in server.request_log()[logged_before:]]
            if shutil.which("wrk"):
                page_wrk = wrk(server.base + targets[0][0])
                static_wrk = wrk(f"{server.base}/static/{STATIC_NAME}")
        finally:
            static_file.unlink(missing_ok=True)
            if args.redis_url:
                redis.Redis.from_url(args.redis_url).flushdb()
    page_rps = report("pages", page, page_s)
    static_rps = report("static", static, static_s)
    slow = sum(d >= 20 for d in durations) / max(len(durations), 1)
    print(
        f"page: {len(html) // 1024} KiB; request log: {len(durations)} lines during the page "
        f"load, {slow:.1%} took the server ≥ 20 ms (rebuilds)"
    )
    print(f"ratio {page_rps / static_rps:.2f} (target ≥ 0.5), p99 target ≤ 100 ms")
    if shutil.which("wrk"):
        print(f"wrk, project 0 warm: {page_wrk['rps']:.0f} req/s, p99 {page_wrk['p99_ms']:.1f} ms")
        print(f"wrk, static: {static_wrk['rps']:.0f} req/s, p99 {static_wrk['p99_ms']:.1f} ms")
    else:
        print("wrk not installed: Python client only")
    print(f"load average after: {machine().split('load average ')[1]}")
    if page.errors or static.errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
