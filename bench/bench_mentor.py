"""Benchmark: cadence health and the mentor dashboard at scale.

Builds 10,000 learners × 4 seasons × 5 milestones (bulk core inserts), assigns
50 learners to one mentor, then times `mentor_board()` and a full GET /mentor
(render included) through the real app. Usage:

    .venv/bin/python bench/bench_mentor.py                      # SQLite in a temp dir
    .venv/bin/python bench/bench_mentor.py postgresql+psycopg://postgres@127.0.0.1/bench

The PostgreSQL database must exist and may be wiped.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portfolio import create_app  # noqa: E402
from portfolio.auth.passwords import hash_password  # noqa: E402
from portfolio.db import make_engine  # noqa: E402
from portfolio.migrate import upgrade  # noqa: E402
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


def reset(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()


def populate(engine) -> None:
    pw = hash_password("bench password for everyone")
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


def main() -> None:
    tmp = tempfile.mkdtemp()
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/bench.db"
    reset(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": tmp,
            "SECRET_KEY": "b" * 40,
            "LOG_LEVEL": "WARNING",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
        }
    )
    engine = app.extensions["engine"]
    t = time.perf_counter()
    populate(engine)
    print(
        f"populated {LEARNERS} learners x {SEASONS} seasons x {MILESTONES} milestones "
        f"in {time.perf_counter() - t:.1f}s on {engine.dialect.name}"
    )

    statements = 0

    def count(*_a, **_k):
        nonlocal statements
        statements += 1

    from sqlmodel import Session

    with app.app_context(), Session(engine) as session:
        mentor = session.get(User, LEARNERS + 1)
        event.listen(engine, "before_cursor_execute", count)
        rows = mentor_board(session, mentor, NOW)
        event.remove(engine, "before_cursor_execute", count)
        board_ms = timed(lambda: mentor_board(session, mentor, NOW))
    client = app.test_client()
    client.post(
        "/login", data={"email": "m@bench.example.com", "password": "bench password for everyone"}
    )

    def page():
        response = client.get("/mentor")
        assert response.status_code == 200, response.status_code

    page_ms = timed(page)
    print(
        f"mentor_board: {len(rows)} rows, {statements} SQL statements, "
        f"median {board_ms[0]:.1f} ms, max {board_ms[1]:.1f} ms"
    )
    print(
        f"GET /mentor (50 learners, rendered): median {page_ms[0]:.1f} ms, max {page_ms[1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
