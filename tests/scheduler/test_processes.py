"""Real scheduler processes: a restart catches up once; two at once send each reminder once."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bench.sweep_at_once import overlapped, race
from portfolio.models import Delivery, DeliveryStatus, Notification, SchedulerLease, utcnow
from tests.notify.builders import make_milestone, make_project, make_season

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run_once(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scheduler_down_over_a_reminder_sends_it_on_start_once(
    session, make_user, proc_env, smtp_server
) -> None:
    """Due an hour ago while no scheduler ran: `python -m scheduler --once` sends it late, once.

    A lease left by a killed scheduler does not hold the explicit sweep back.
    """
    ada = make_user("ada")
    project = make_project(session, ada, season=make_season(session, "cohort-x"))
    make_milestone(session, project, utcnow() - timedelta(hours=1))
    session.add(
        SchedulerLease(name="singleton", holder="killed", expires_at=utcnow() + timedelta(hours=1))
    )
    session.commit()

    first = run_once(proc_env)
    assert first.returncode == 0, first.stderr
    second = run_once(proc_env)  # restarted again: nothing new
    assert second.returncode == 0, second.stderr

    [n] = session.exec(select(Notification)).all()
    assert n.kind == "reminder_due" and n.user_id == ada.id
    [d] = session.exec(select(Delivery)).all()
    assert d.status == DeliveryStatus.sent
    [mail] = smtp_server.messages
    # An hour late, it says so (see reminder_mail.DUE_GRACE).
    assert mail.message["Subject"] in (
        "“Baseline” was due 60 minutes ago",
        "“Baseline” was due 1 hour ago",
    )


@pytest.mark.postgres
def test_two_schedulers_at_once_produce_each_reminder_once(
    database_url, session, make_user, proc_env, smtp_server, tmp_path
) -> None:
    """Two processes sweeping together: one notification and one email per reminder."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    owners = [make_user(f"learner-{i}") for i in range(3)]
    mate = make_user("teammate")
    season = make_season(session, "cohort-x")
    now = utcnow()
    expected = 0
    for i, owner in enumerate(owners):
        project = make_project(
            session, owner, season=season, members=(mate,), title=f"P{i}", slug=f"p{i}"
        )
        for j in range(20):
            make_milestone(session, project, now + timedelta(hours=2, minutes=j), f"M{j}")
            expected += 2
    session.commit()

    sweeps = race(2, proc_env, tmp_path)
    for sweep in sweeps:
        assert sweep.returncode == 0, sweep.stderr
    # The race really happened: each sweep started before the other one ended.
    spans = [sweep.span for sweep in sweeps]
    assert overlapped(spans), spans

    notifications = session.exec(select(Notification)).all()
    assert len(notifications) == expected
    assert len({n.dedupe_key for n in notifications}) == expected
    deliveries = session.exec(select(Delivery)).all()
    assert len(deliveries) == expected
    assert {d.status for d in deliveries} == {DeliveryStatus.sent}
    ids = [m.message["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == expected == len(set(ids))
