"""Benchmark: cadence health and the mentor dashboard at scale.

Builds 10,000 learners × 4 seasons × 5 milestones (bulk core inserts), assigns
50 learners to one mentor, then measures two things:

1. `mentor_board()` in-process (the service function, no HTTP): SQL statements
   counted, median and max of 20 calls;
2. GET /mentor over HTTP from gunicorn as deployed (`gunicorn.conf.py`, its
   worker count for this machine unless `--workers`, LOG_LEVEL=INFO with the JSON
   request log, see bench/served.py) on 127.0.0.1: the mentor logs in through the
   login form (CSRF token, session cookie), then, after 2 untimed GETs per
   worker (template compilation), `--requests` sequential GETs,
   each checked for status 200 and all 50 learners' names on the page. Client
   times include connecting (sync workers close each connection) and reading the
   body; the server's own `duration_ms` from its request log is given too.

Usage:

    .venv/bin/python bench/bench_mentor.py                      # SQLite in a temp dir
    .venv/bin/python bench/bench_mentor.py postgresql+psycopg://postgres@127.0.0.1/bench

The PostgreSQL database must exist and may be wiped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import (  # noqa: E402
    DEPLOY_WORKERS,
    backend,
    gunicorn,
    login,
    machine,
    production_env,
    reset,
    spread,
)
from portfolio import create_app  # noqa: E402
from portfolio.auth.passwords import hash_password  # noqa: E402
from portfolio.db import make_engine  # noqa: E402
from portfolio.models import (  # noqa: E402
    MemberStatus,
    MentorAssignment,
    Milestone,
    Project,
    ProjectMember,
    Season,
    User,
)
from portfolio.seasons.mentors import mentor_board  # noqa: E402

LEARNERS, SEASONS, MILESTONES, MENTORED = 10_000, 4, 5, 50
NOW = datetime(2027, 2, 15, 12, tzinfo=UTC)
PASSWORD = "bench password for everyone"


def populate(engine) -> None:
    pw = hash_password(PASSWORD)
    starts = [
        datetime(2026, 4, 1),
        datetime(2026, 7, 1),
        datetime(2026, 10, 1),
        datetime(2027, 1, 1),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                dict(
                    handle=f"l{i}",
                    display_name=f"Learner {i}",
                    timezone="UTC",
                    bio="",
                    email=f"l{i}@bench.example.com",
                    password_hash=pw,
                    role="learner",
                    login_id=f"x{i}",
                    created_at=NOW,
                )
                for i in range(LEARNERS)
            ]
            + [
                dict(
                    handle="mentor",
                    display_name="Mentor",
                    timezone="UTC",
                    bio="",
                    email="m@bench.example.com",
                    password_hash=pw,
                    role="mentor",
                    login_id="m",
                    created_at=NOW,
                )
            ],
        )
        conn.execute(
            insert(Season),
            [
                dict(
                    slug=f"s{k}",
                    title=f"S{k}",
                    kind="quarter",
                    starts_on=s.date(),
                    ends_on=(s + timedelta(days=89)).date(),
                    plan=[],
                    created_at=NOW,
                )
                for k, s in enumerate(starts)
            ],
        )
        projects, members, stones = [], [], []
        pid = 0
        for u in range(1, LEARNERS + 1):
            for k, s in enumerate(starts, start=1):
                pid += 1
                projects.append(
                    dict(
                        id=pid,
                        season_id=k,
                        owner_id=u,
                        title=f"P{pid}",
                        slug=f"p{pid}",
                        summary="",
                        problem_md="",
                        body_md="",
                        visibility="public",
                        repo_url="",
                        headline_metric="",
                        headline_goal="max",
                        version=1,
                        created_at=NOW,
                        updated_at=NOW,
                        last_activity_at=NOW - timedelta(days=(u * 7 + k) % 20),
                    )
                )
                members.append(
                    dict(project_id=pid, user_id=u, status=MemberStatus.accepted, created_at=NOW)
                )
                for m in range(MILESTONES):
                    due = s.replace(tzinfo=UTC) + timedelta(days=14 + 18 * m + (u % 5))
                    done = due - timedelta(hours=3) if (u + m + k) % 3 else None
                    stones.append(
                        dict(
                            project_id=pid,
                            title=f"M{m}",
                            description="",
                            position=m,
                            due_at=due,
                            done_at=done,
                            done_note="",
                            created_at=NOW,
                        )
                    )
        conn.execute(insert(Project), projects)
        conn.execute(insert(ProjectMember), members)
        for i in range(0, len(stones), 20_000):
            conn.execute(insert(Milestone), stones[i : i + 20_000])
        conn.execute(
            insert(MentorAssignment),
            [
                dict(mentor_id=LEARNERS + 1, learner_id=u, season_id=4, created_at=NOW)
                for u in range(1, MENTORED + 1)
            ],
        )
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('projects_id_seq', (SELECT max(id) FROM projects))"))
            conn.execute(text("ANALYZE"))


def timed(fn, n=20):
    fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples)


def board_in_process(url: str, instance: str) -> tuple[int, int, tuple[float, float]]:
    """mentor_board() called directly: rows, SQL statements of one call, (median, max) ms."""
    from sqlmodel import Session

    # TESTING only spares this in-process app the production key checks; no HTTP here.
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "b" * 40, "TESTING": True}
    )
    engine = app.extensions["engine"]
    statements = 0

    def count(*_a, **_k):
        nonlocal statements
        statements += 1

    with app.app_context(), Session(engine) as session:
        mentor = session.get(User, LEARNERS + 1)
        event.listen(engine, "before_cursor_execute", count)
        rows = mentor_board(session, mentor, NOW)
        event.remove(engine, "before_cursor_execute", count)
        board_ms = timed(lambda: mentor_board(session, mentor, NOW))
    engine.dispose()
    return len(rows), statements, board_ms


def page_over_http(url: str, instance: str, requests: int, workers: int) -> None:
    """GET /mentor from gunicorn as deployed, logged in through the form; print the spread."""
    # User ids 1..50 are the mentored learners, handles l0..l49.
    names = [f'Learner {u} <span class="muted">@l{u}</span>' for u in range(MENTORED)]
    with gunicorn(production_env(url, instance), workers=workers) as server:
        client = login(server.base, "m@bench.example.com", PASSWORD)
        samples = []
        # Untimed first: each worker's first page compiles the templates (about 100 ms).
        warm = 2 * workers
        for i in range(warm + requests):
            t = time.perf_counter()
            response = client.get(server.base + "/mentor", allow_redirects=False, timeout=60)
            body = response.text
            elapsed = (time.perf_counter() - t) * 1000
            if response.status_code != 200:
                raise SystemExit(f"GET /mentor answered {response.status_code}")
            missing = [n for n in names if n not in body]
            if missing or body.count('<td data-label="Health">') != MENTORED:
                raise SystemExit(f"GET /mentor lacks {missing or 'rows'}")
            if i >= warm:
                samples.append(elapsed)
        logged = [r["duration_ms"] for r in server.request_log("/mentor")]
    print(
        f"GET /mentor over HTTP (gunicorn, {workers} workers, LOG_LEVEL=INFO, logged in, "
        f"sequential, 50 learners on every page): {spread(samples)}"
    )
    print(
        f"  server-side duration_ms from the request log ({len(logged)} lines): "
        f"median {statistics.median(logged):.1f} ms, max {max(logged):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", nargs="?", help="default: SQLite in a temp dir")
    parser.add_argument("--requests", type=int, default=100, help="timed GET /mentor")
    parser.add_argument("--workers", type=int, default=DEPLOY_WORKERS)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="seasons-bench-mentor-")
    url = args.database_url or f"sqlite:///{instance}/bench.db"
    reset(url)
    print(f"{backend(url)}; machine: {machine()}")
    engine = make_engine(url)
    t = time.perf_counter()
    populate(engine)
    engine.dispose()
    print(
        f"populated {LEARNERS} learners x {SEASONS} seasons x {MILESTONES} milestones "
        f"in {time.perf_counter() - t:.1f}s"
    )
    rows, statements, board_ms = board_in_process(url, instance)
    print(
        f"mentor_board() in-process: {rows} rows, {statements} SQL statements, "
        f"median {board_ms[0]:.1f} ms, max {board_ms[1]:.1f} ms (20 calls)"
    )
    page_over_http(url, instance, args.requests, args.workers)
    print(f"load average after: {machine().split('load average ')[1]}")


if __name__ == "__main__":
    main()
