"""Benchmark: the organiser view and its CSV export for a season of 10,000 learners.

Seeds (bulk core INSERTs) 10,000 learners enrolled in one season, each with a
project of 5 milestones; every second project has a linked run and two thirds
of the learners posted updates (one each, 0–40 days ago). 50 of them are
assigned to one mentor. Then the app is served by a real WSGI server on
loopback (werkzeug, one thread, in this process so its CPU time is measured)
and timed over HTTP with a session signed in through the login form
(bench/served.py, as bench_mentor and bench_page do): GET /organiser as the
admin (summary, milestones, the first 200 learner rows, rendered), the same
as the mentor, and GET /organiser.csv (all 10,000 rows). Usage:

    .venv/bin/python bench/bench_organiser.py                      # SQLite in a temp dir
    .venv/bin/python bench/bench_organiser.py postgresql+psycopg://postgres@127.0.0.1/bench

The PostgreSQL database must exist and may be wiped.
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, text
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import backend, login, machine, reset  # noqa: E402
from portfolio import create_app  # noqa: E402
from portfolio.auth.passwords import hash_password  # noqa: E402
from portfolio.models import (  # noqa: E402
    Enrollment,
    MentorAssignment,
    Milestone,
    Project,
    ProjectMember,
    RunLink,
    Season,
    Update,
    User,
)

LEARNERS, MILESTONES, MENTORED = 10_000, 5, 50
NOW = datetime.now(UTC)
STARTS = NOW - timedelta(days=45)
PASSWORD = "bench password for everyone"


def _user(i: int, handle: str, role: str, pw: str) -> dict:
    return dict(
        id=i,
        handle=handle,
        display_name=handle.title(),
        timezone="UTC",
        bio="",
        email=f"{handle}@bench.example.com",
        password_hash=pw,
        role=role,
        login_id=f"x{i}",
        created_at=NOW,
    )


def populate(engine) -> None:
    pw = hash_password(PASSWORD)
    users = [_user(u, f"l{u}", "learner", pw) for u in range(1, LEARNERS + 1)]
    users += [_user(LEARNERS + 1, "boss", "admin", pw), _user(LEARNERS + 2, "dan", "mentor", pw)]
    season = dict(
        id=1,
        slug="bench",
        title="Bench season",
        kind="cohort",
        starts_on=STARTS.date(),
        ends_on=(STARTS + timedelta(days=89)).date(),
        plan=[],
        created_at=NOW,
    )
    enrolled, projects, members, stones, links, updates = [], [], [], [], [], []
    for u in range(1, LEARNERS + 1):
        enrolled.append(dict(user_id=u, season_id=1, created_at=STARTS))
        projects.append(
            dict(
                id=u,
                season_id=1,
                owner_id=u,
                title=f"Project {u}",
                slug=f"p{u}",
                summary="",
                problem_md="",
                body_md="",
                visibility="public" if u % 3 else "draft",
                repo_url="",
                headline_metric="",
                headline_goal="max",
                charts=[],
                comment_policy="cohort",
                version=1,
                created_at=STARTS,
                updated_at=NOW,
                last_activity_at=NOW,
            )
        )
        members.append(dict(project_id=u, user_id=u, status="accepted", created_at=STARTS))
        for m in range(MILESTONES):
            due = STARTS + timedelta(days=14 + 18 * m)
            done = due - timedelta(hours=3 - (u + m) % 5) if (u + m) % 3 and due < NOW else None
            stones.append(
                dict(
                    project_id=u,
                    title=f"Milestone {m + 1}",
                    description="",
                    position=m,
                    due_at=due,
                    done_at=done,
                    done_note="",
                    created_at=STARTS,
                )
            )
        if u % 2:
            links.append(dict(project_id=u, provider="wandb", kind="run", ref=f"e/p/r{u}"))
        if u % 3:
            when = NOW - timedelta(days=u % 41)
            updates.append(
                dict(project_id=u, author_id=u, body_md="x", run_link_ids=[], created_at=when)
            )
    defaults = dict(
        base_url="",
        tag_filter="",
        label="",
        hidden=False,
        sync_state="queued",
        last_error="",
        next_sync_at=NOW,
        failures=0,
        held_reason="",
        created_at=NOW,
    )
    with engine.begin() as conn:
        conn.execute(insert(User), users)
        conn.execute(insert(Season), [season])
        conn.execute(insert(Enrollment), enrolled)
        conn.execute(insert(Project), projects)
        conn.execute(insert(ProjectMember), members)
        conn.execute(insert(Milestone), stones)
        conn.execute(insert(RunLink), [{**defaults, **link} for link in links])
        conn.execute(insert(Update), updates)
        conn.execute(
            insert(MentorAssignment),
            [
                dict(mentor_id=LEARNERS + 2, learner_id=u, season_id=1, created_at=NOW)
                for u in range(1, MENTORED + 1)
            ],
        )
        if conn.dialect.name == "postgresql":
            for table in ("users", "seasons", "projects"):
                conn.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
            conn.execute(text("ANALYZE"))


def timed(fn, n: int = 20) -> tuple[float, float, float]:
    """Median and max wall time, and median CPU time of this process, in ms.

    The server runs in this process, so on SQLite the CPU time is the whole
    request's work whatever else the machine is doing; on PostgreSQL the
    database server's share is missing from it.
    """
    fn()
    wall, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), max(wall), statistics.median(cpu)


def main() -> None:
    tmp = tempfile.mkdtemp()
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/bench.db"
    reset(url)
    print(f"{backend(url)}; machine: {machine()}")
    # TESTING only spares this in-process app the production key checks; CSRF stays on.
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": tmp,
            "SECRET_KEY": "b" * 40,
            "LOG_LEVEL": "WARNING",
            "TESTING": True,
            "SCHEDULER_IN_WEB": False,
        }
    )
    engine = app.extensions["engine"]
    t = time.perf_counter()
    populate(engine)
    print(
        f"populated {LEARNERS} learners x {MILESTONES} milestones in "
        f"{time.perf_counter() - t:.1f}s on {engine.dialect.name}"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    admin = login(base, "boss@bench.example.com", PASSWORD)
    mentor = login(base, "dan@bench.example.com", PASSWORD)
    for client in (admin, mentor):  # the page a login leads to, as a browser follows it
        client.get(f"{base}/dashboard", timeout=60)

    statements = 0

    def count(*_a, **_k):
        nonlocal statements
        statements += 1

    def get(client, path: str) -> int:
        response = client.get(f"{base}{path}", allow_redirects=False, timeout=60)
        assert response.status_code == 200, response.status_code
        return len(response.content)

    query = "?season=bench&days=14"
    for label, client, path in (
        ("GET /organiser (admin, 10,000 learners, 200 rows shown)", admin, f"/organiser{query}"),
        ("GET /organiser (mentor, 50 learners)", mentor, f"/organiser{query}"),
        ("GET /organiser.csv (admin, 10,000 rows)", admin, f"/organiser.csv{query}"),
    ):
        statements = 0
        event.listen(engine, "before_cursor_execute", count)
        size = get(client, path)
        event.remove(engine, "before_cursor_execute", count)
        median, worst, cpu = timed(lambda c=client, p=path: get(c, p), 5 if "csv" in path else 20)
        print(
            f"{label}: {size / 1024:.0f} KiB, {statements} SQL statements, "
            f"median {median:.1f} ms, max {worst:.1f} ms, CPU median {cpu:.1f} ms"
        )
    server.shutdown()


if __name__ == "__main__":
    main()
