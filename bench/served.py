"""The app served as production serves it, for the HTTP benchmarks (bench_mentor, bench_page).

gunicorn runs with this repository's gunicorn.conf.py (the command of the Dockerfile
and the systemd unit, `tests/deploy/procs.gunicorn_cmd`) on a loopback port, with
LOG_LEVEL=INFO and LOG_FORMAT=json as the production defaults (portfolio/config.py):
one JSON line per request from `seasons.request` (portfolio/logs.py). Its log goes to
a file, so a benchmark can count those lines and read the server-side durations.
"""

from __future__ import annotations

import json
import os
import platform
import re
import runpy
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import text

from portfolio.db import make_engine
from portfolio.migrate import upgrade
from tests.deploy.procs import GUNICORN_CONF, app_env, free_port, gunicorn_cmd, wait_http

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# The worker count gunicorn.conf.py picks on this machine (WEB_CONCURRENCY or 2 x cores + 1).
# Logged once by each process that loads the app (see _wait_for_workers).
_APP_LOADED = "setup plugin alembic.autogenerate.schemas"
DEPLOY_WORKERS = int(runpy.run_path(str(GUNICORN_CONF))["workers"])


def reset(url: str) -> None:
    """Empty the database (PostgreSQL: the public schema) and migrate it to head."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()


def backend(url: str) -> str:
    """ "SQLite 3.x" or "PostgreSQL 15.x": the database a figure was measured on."""
    engine = make_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            version = conn.execute(text("SHOW server_version")).scalar()
            name = f"PostgreSQL {str(version).split()[0]}"
        else:
            name = f"SQLite {conn.execute(text('SELECT sqlite_version()')).scalar()}"
    engine.dispose()
    return name


def machine() -> str:
    """Cores, CPU model and the 1/5/15-minute load average, for the output's first line."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{len(os.sched_getaffinity(0))} cores ({model}), load average {load}"


def production_env(database_url: str, instance: str, **extra: str) -> dict[str, str]:
    """Settings of a production web process: INFO JSON log, keys set, no in-web scheduler."""
    return {
        **app_env(LOG_LEVEL="INFO", LOG_FORMAT="json"),
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": instance,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CREDENTIALS_KEY": secrets.token_urlsafe(48),
        **extra,
    }


@dataclass
class Server:
    base: str
    log: Path

    def request_log(self, path: str | None = None) -> list[dict]:
        """The `seasons.request` records the server wrote (optionally for one path)."""
        records = []
        for line in self.log.read_text(errors="replace").splitlines():
            if '"seasons.request"' not in line:
                continue
            record = json.loads(line)
            if path is None or record.get("path") == path:
                records.append(record)
        return records


@contextmanager
def gunicorn(env: dict[str, str], workers: int = DEPLOY_WORKERS) -> Iterator[Server]:
    """gunicorn -c gunicorn.conf.py app:app on 127.0.0.1, stopped (SIGTERM) afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(env["INSTANCE_PATH"]) / "gunicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            gunicorn_cmd(port=port, workers=workers),
            cwd=ROOT,
            env={**env, "BASE_URL": base},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_http(base + "/healthz", seconds=120, proc=proc)
            _wait_for_workers(log, workers)
            yield Server(base, log)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def _wait_for_workers(log: Path, workers: int, seconds: float = 120) -> None:
    """Wait until every worker has imported the app (the first answer needs only one).

    Workers import the app after gunicorn boots them, seconds of CPU each; timing
    requests while the others still import would measure the imports. Each import
    checks the migration head, which logs alembic's plugin setup once per process.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count(_APP_LOADED) >= workers:
            return
        time.sleep(0.2)
    print(f"warning: not every worker seemed loaded after {seconds:.0f} s", file=sys.stderr)


def login(base: str, email: str, password: str) -> requests.Session:
    """Log in through the form, as a browser does: GET it, POST it with its CSRF token."""
    client = requests.Session()
    page = client.get(base + "/login", timeout=30)
    token = CSRF.search(page.text)
    if page.status_code != 200 or token is None:
        raise SystemExit(f"GET /login answered {page.status_code} without a CSRF token")
    answer = client.post(
        base + "/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code not in (302, 303) or not client.cookies:
        raise SystemExit(f"login answered {answer.status_code}, not a redirect with a cookie")
    return client


def spread(samples_ms: list[float]) -> str:
    """Median, p95, p99 and max of a list of milliseconds, as the docs' tables give them."""
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return (
        f"median {statistics.median(samples_ms):.1f} ms, p95 {cuts[94]:.1f} ms, "
        f"p99 {cuts[98]:.1f} ms, max {max(samples_ms):.1f} ms (n={len(samples_ms)})"
    )
