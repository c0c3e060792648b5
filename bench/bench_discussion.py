"""Discussion under load: 16 readers of a public project page, 4 writers commenting.

Everything runs on 127.0.0.1 and stops by itself (about `--seconds` plus setup):

1. a throwaway PostgreSQL database is created and migrated; a learner's public
   project and four writer accounts (in the same season, a month old so the
   new-account caps do not apply) are created through the services;
2. gunicorn serves the app with several workers; REDIS_URL (database 15,
   flushed first) shares page caches and rate limits across them;
3. for `--seconds`, 16 anonymous reader threads GET the project page while 4
   writer threads, each logged in with its own account, load the page, take
   the CSRF token from its comment form and post a comment; after every
   successful post the writer reads the page anonymously (the cached path) and
   checks that its comment is there;
4. checks: no HTTP errors, every comment whose POST succeeded is in the
   database and on the discussion pages, no read after a write missed it.

The posting rate limit is raised for the run (this measures throughput; the
limit itself is tested in tests/discussion). Usage:

    .venv/bin/python bench/bench_discussion.py [--seconds 60] [--workers 4]

Exit status 0 when every check passes. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.deploy.procs import gunicorn_cmd  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS = "redis://127.0.0.1:6379/15"
PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
COMMENT_ID = re.compile(r'id="comment-(\d+)"')
READERS, WRITERS = 16, 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {seconds}s")


def prepare(url: str, instance: str, writers: int) -> str:
    """Migrate the database and create the project and accounts; returns the page path."""
    from sqlmodel import Session

    from portfolio import create_app
    from portfolio.auth import service as accounts
    from portfolio.db import make_engine
    from portfolio.migrate import upgrade
    from portfolio.models import User, Visibility
    from portfolio.projects import service as projects
    from portfolio.seasons import service as seasons

    engine = make_engine(url)
    upgrade(engine)
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "b" * 40, "TESTING": True}
    )
    month_ago = datetime.now(UTC) - timedelta(days=30)
    with app.app_context(), Session(app.extensions["engine"], expire_on_commit=False) as session:
        people = [
            accounts.register(
                session,
                email=f"{handle}@bench.example.com",
                handle=handle,
                display_name=handle.title(),
                password=PASSWORD,
            )
            for handle in ["owner", *[f"writer-{i}" for i in range(writers)]]
        ]
        season = seasons.current_season(session, datetime.now(UTC).date())
        project = projects.create(
            session,
            owner=people[0],
            season=season,
            fields=projects.ProjectFields("Load test", "A project under load", "## Problem", ""),
            team_handles=[],
            allow_second=False,
            now=datetime.now(UTC),
        )
        project.visibility = Visibility.public
        for user in people:
            seasons.enroll(session, user, season)
            session.get(User, user.id).created_at = month_ago
        session.commit()
        path = f"/u/owner/{project.slug}"
    app.extensions["engine"].dispose()
    engine.dispose()
    return path


@dataclass
class Stats:
    read_ms: list[float] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    posted: dict[str, int] = field(default_factory=dict)  # marker -> comment id
    stale: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, message: str) -> None:
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(message)
            else:
                self.errors.append("…")


def reader(base: str, path: str, stop: threading.Event, stats: Stats) -> None:
    http = requests.Session()
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = http.get(base + path, timeout=30)
        except requests.RequestException as exc:
            stats.error(f"read: {exc!r}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            stats.error(f"read: HTTP {response.status_code}")
        with stats.lock:
            stats.read_ms.append(elapsed)


def writer(n: int, base: str, path: str, stop: threading.Event, stats: Stats) -> None:
    http, anonymous = requests.Session(), requests.Session()
    login = http.get(base + "/login", timeout=30)
    token = CSRF.search(login.text).group(1)
    data = {"email": f"writer-{n}@bench.example.com", "password": PASSWORD, "csrf_token": token}
    if http.post(base + "/login", data=data, allow_redirects=False, timeout=30).status_code != 302:
        stats.error(f"writer {n}: login failed")
        return
    count = 0
    while not stop.is_set():
        count += 1
        marker = f"bench-{n}-{count}-{secrets.token_hex(3)}"
        started = time.perf_counter()
        try:
            page = http.get(base + path, timeout=30)
            match = CSRF.search(page.text)
            if page.status_code != 200 or match is None:
                stats.error(f"writer {n}: page HTTP {page.status_code}")
                continue
            body = f"Comment {marker}: *nice* run, try `lr=3e-4` next? (@owner)"
            response = http.post(
                base + path + "/comments",
                data={"body": body, "csrf_token": match.group(1)},
                allow_redirects=False,
                timeout=30,
            )
        except requests.RequestException as exc:
            stats.error(f"write: {exc!r}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        location = response.headers.get("Location", "")
        if response.status_code != 303 or "#comment-" not in location:
            stats.error(f"write: HTTP {response.status_code}")
            continue
        with stats.lock:
            stats.write_ms.append(elapsed)
            stats.posted[marker] = int(location.rsplit("-", 1)[1])
        # The next read, on the cached anonymous path, must already show it.
        try:
            fresh = anonymous.get(base + path, timeout=30)
        except requests.RequestException as exc:
            stats.error(f"read after write: {exc!r}")
            continue
        if fresh.status_code != 200:
            stats.error(f"read after write: HTTP {fresh.status_code}")
        elif marker not in fresh.text:
            with stats.lock:
                stats.stale.append(marker)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def shown_comment_ids(base: str, path: str) -> set[int]:
    """Every comment id on the discussion pages, read the way a visitor would."""
    ids: set[int] = set()
    for page in range(1, 10_000):
        html = requests.get(f"{base}{path}/discussion?page={page}", timeout=30).text
        ids |= {int(i) for i in COMMENT_ID.findall(html)}
        if ">Older</a>" not in html:
            return ids
    return ids


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=READERS)
    parser.add_argument("--writers", type=int, default=WRITERS)
    args = parser.parse_args()
    db = f"seasons_bench_disc_{secrets.token_hex(4)}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    url = f"{PG}/{db}"
    instance = tempfile.mkdtemp(prefix="seasons-bench-disc-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CREDENTIALS_KEY": secrets.token_urlsafe(48),
        "INSTANCE_PATH": instance,
        "BASE_URL": base,
        "SCHEDULER_IN_WEB": "0",
        "LOG_LEVEL": "WARNING",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "DISCUSSION_RATE_LIMIT": "100000 per minute",
    }
    web: subprocess.Popen | None = None
    try:
        path = prepare(url, instance, args.writers)
        subprocess.run(["redis-cli", "-n", "15", "FLUSHDB"], check=False, capture_output=True)
        web = subprocess.Popen(
            gunicorn_cmd(port=port, workers=args.workers),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(base + "/healthz")
        requests.get(base + path, timeout=30)  # warm one worker's imports
        stats, stop = Stats(), threading.Event()
        threads = [
            threading.Thread(target=reader, args=(base, path, stop, stats))
            for _ in range(args.readers)
        ] + [
            threading.Thread(target=writer, args=(n, base, path, stop, stats))
            for n in range(args.writers)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        elapsed = time.monotonic() - started
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT id, body_md FROM comments")).all()
        engine.dispose()
        found = {m for _, body in stored for m in re.findall(r"bench-\d+-\d+-[0-9a-f]{6}", body)}
        missing_db = sorted(set(stats.posted) - found)
        missing_page = sorted(set(stats.posted.values()) - shown_comment_ids(base, path))
    finally:
        if web is not None:
            os.killpg(web.pid, signal.SIGTERM)
            try:
                web.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(web.pid, signal.SIGKILL)
                web.wait()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()

    reads, writes = len(stats.read_ms), len(stats.write_ms)
    print(
        f"{args.workers} gunicorn workers, {args.readers} readers + {args.writers} writers, "
        f"{elapsed:.1f} s"
    )
    print(
        f"reads: {reads} ({reads / elapsed:.1f}/s), median {percentile(stats.read_ms, 50):.1f} ms,"
        f" p95 {percentile(stats.read_ms, 95):.1f} ms, p99 {percentile(stats.read_ms, 99):.1f} ms"
    )
    print(
        f"comments posted: {writes} ({writes / elapsed:.1f}/s), page+post median "
        f"{percentile(stats.write_ms, 50):.1f} ms, p95 {percentile(stats.write_ms, 95):.1f} ms"
    )
    print(f"HTTP errors: {len(stats.errors)} {stats.errors[:5]}")
    print(f"posted comments missing in the database: {len(missing_db)} {missing_db[:5]}")
    print(f"posted comments missing on the discussion pages: {len(missing_page)}")
    print(f"reads right after a write that missed it: {len(stats.stale)} {stats.stale[:5]}")
    ok = not (stats.errors or missing_db or missing_page or stats.stale)
    ok = ok and (writes > 0 or args.writers == 0)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
