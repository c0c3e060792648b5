"""Benchmark: one reminder sweep over 100,000 milestones and 10,000 users.

    .venv/bin/python bench/bench_reminders.py                      # SQLite (temp file)
    .venv/bin/python bench/bench_reminders.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The database is WIPED and rebuilt with the migrations, then filled with
core bulk inserts: one project per user (every fifth with a teammate), ten
milestones each, due times spread over the 90 days around "now", most past
ones done. Then it times:

- cold: the first sweep, which queues the whole backlog of due reminders
  (a fresh server, or one that was down for a week);
- steady: the next sweep five minutes later, the every-five-minutes case,
  which must find the few new reminders among 100,000 milestones.

Then, for information, the mean cost of rendering one queued email the way
the outbox does just before sending it (two small queries, Babel, Jinja).

Target: each sweep <= 2 s. Prints a markdown table row per sweep.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.served import reset  # noqa: E402
from portfolio import create_app  # noqa: E402
from portfolio.db import session_scope  # noqa: E402
from portfolio.models import (  # noqa: E402
    Delivery,
    MemberStatus,
    Milestone,
    Notification,
    Project,
    ProjectMember,
    Season,
    User,
)
from portfolio.notify.reminder_mail import render_delivery  # noqa: E402
from portfolio.notify.reminders import queue_due_reminders  # noqa: E402
from portfolio.timeutil import END_OF_DAY, local_to_utc  # noqa: E402

NOW = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata"]


def due_time(rng: random.Random, spread: str, tz_name: str, j: int) -> datetime:
    """A due time: random to the second, or as seeded from a plan (23:59 local, week j).

    With "plan", a quarter of the milestones were moved to a random time, as
    learners do; the rest keep the plan's deadline, so they share a few dozen
    instants per time zone, as real data does.
    """
    if spread == "random" or rng.random() < 0.25:
        return NOW + timedelta(seconds=rng.uniform(-45, 45) * 86400)
    week_end = NOW.date() - timedelta(days=45) + timedelta(days=9 * j + 8)
    return local_to_utc(week_end, END_OF_DAY, tz_name)


def fill(session, users: int, milestones: int, spread: str, seed: int = 4) -> None:
    """Bulk-insert the fixture with core INSERTs (no ORM objects)."""
    rng = random.Random(seed)
    conn = session.connection()
    conn.execute(
        insert(Season),
        [
            {
                "slug": "2027-q1",
                "title": "2027 Q1",
                "kind": "quarter",
                "starts_on": date(2027, 1, 1),
                "ends_on": date(2027, 3, 31),
                "plan": [],
                "created_at": NOW,
            }
        ],
    )
    season_id = conn.execute(select(Season.id)).scalar_one()
    conn.execute(
        insert(User),
        [
            {
                "handle": f"user-{i}",
                "display_name": f"User {i}",
                "timezone": ZONES[i % len(ZONES)],
                "bio": "",
                "email": f"user-{i}@example.com",
                "password_hash": "x",
                "role": "learner",
                "login_id": secrets.token_hex(8),
                "created_at": NOW,
            }
            for i in range(users)
        ],
    )
    user_ids = list(conn.execute(select(User.id).order_by(User.id)).scalars())
    conn.execute(
        insert(Project),
        [
            {
                "season_id": season_id,
                "owner_id": uid,
                "title": f"Project of {uid}",
                "slug": "project",
                "summary": "",
                "problem_md": "",
                "body_md": "",
                "visibility": "public",
                "repo_url": "",
                "headline_metric": "",
                "headline_goal": "max",
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
                "last_activity_at": NOW,
            }
            for uid in user_ids
        ],
    )
    projects = list(conn.execute(select(Project.id, Project.owner_id).order_by(Project.id)))
    zone_of = {uid: ZONES[i % len(ZONES)] for i, uid in enumerate(user_ids)}
    members = [
        {"project_id": pid, "user_id": owner, "status": MemberStatus.accepted.value}
        for pid, owner in projects
    ]
    members += [
        {
            "project_id": pid,
            "user_id": user_ids[(i + 1) % len(user_ids)],
            "status": MemberStatus.accepted.value,
        }
        for i, (pid, _) in enumerate(projects)
        if i % 5 == 0
    ]
    for m in members:
        m["created_at"] = NOW
    conn.execute(insert(ProjectMember), members)
    per_project = max(1, milestones // len(projects))
    rows = []
    for pid, owner in projects:
        for j in range(per_project):
            due = due_time(rng, spread, zone_of[owner], j)
            done = due < NOW and rng.random() < 0.8
            rows.append(
                {
                    "project_id": pid,
                    "title": f"Milestone {j}",
                    "description": "",
                    "position": j,
                    "due_at": due,
                    "done_at": due if done else None,
                    "done_note": "",
                    "created_at": NOW,
                }
            )
    for start in range(0, len(rows), 20_000):
        conn.execute(insert(Milestone), rows[start : start + 20_000])
    session.commit()
    if conn.dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()


def sweep(session, now: datetime) -> tuple[int, float]:
    started = time.perf_counter()
    queued = queue_due_reminders(session, now=now)
    session.commit()
    return queued, time.perf_counter() - started


def render_cost(session, now: datetime, count: int = 500) -> float:
    """Mean seconds to render one queued reminder email as the outbox does when sending."""
    rows = session.execute(
        select(Delivery, Notification)
        .join(Notification, Notification.id == Delivery.notification_id)
        .order_by(Delivery.id)
        .limit(count)
    ).all()
    started = time.perf_counter()
    for delivery, notification in rows:
        content = render_delivery(session, delivery, notification, now)
        assert not isinstance(content, str), content
    return (time.perf_counter() - started) / max(len(rows), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="WIPED; default: a temporary SQLite file")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--milestones", type=int, default=100_000)
    parser.add_argument(
        "--spread",
        choices=["plan", "random"],
        default="plan",
        help="due times as seeded from a plan (default) or all distinct",
    )
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-reminders-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    reset(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": tmp,
            "SECRET_KEY": secrets.token_hex(32),
            "CREDENTIALS_KEY": secrets.token_hex(32),
            "SCHEDULER_IN_WEB": False,
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
        }
    )
    backend = url.split(":", 1)[0].split("+", 1)[0]
    with app.app_context(), session_scope() as session:
        started = time.perf_counter()
        fill(session, args.users, args.milestones, args.spread)
        count = session.execute(select(func.count()).select_from(Milestone)).scalar_one()
        print(
            f"fixture: {count:,} milestones, {args.users:,} users in "
            f"{time.perf_counter() - started:.1f} s ({backend})",
            file=sys.stderr,
        )
        print("| backend | due times | sweep | reminders queued | seconds |")
        print("| --- | --- | --- | ---: | ---: |")
        later = NOW + timedelta(minutes=5)
        for label, now in (("cold (backlog)", NOW), ("steady (+5 min)", later), ("repeat", later)):
            queued, seconds = sweep(session, now)
            print(f"| {backend} | {args.spread} | {label} | {queued:,} | {seconds:.2f} |")
        emails = session.execute(select(func.count()).select_from(Delivery)).scalar_one()
        notes = session.execute(select(func.count()).select_from(Notification)).scalar_one()
        print(f"notifications {notes:,}, emails {emails:,}", file=sys.stderr)
        per_email = render_cost(session, NOW + timedelta(minutes=6))
        print(f"send-time rendering: {per_email * 1000:.2f} ms per email (mean of 500)")
    app.extensions["engine"].dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
