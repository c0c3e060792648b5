"""Scheduler wiring and each job function, called directly."""

from __future__ import annotations

import logging
import sys
import types
from datetime import date, timedelta

import click
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlmodel import select

import scheduler
from portfolio.models import (
    Delivery,
    MentorAssignment,
    Notification,
    Role,
    SchedulerProcess,
    Season,
)
from scheduler import JOBS, JobSpec, build_scheduler, jobs, run_all, should_start_in_web
from tests.notify.builders import NOW, make_milestone, make_project, make_season


def test_every_job_is_registered_with_the_safety_options(app) -> None:
    """Fixed ids, coalesce, one instance at a time, a misfire grace time, UTC."""
    sched = build_scheduler(app)
    assert isinstance(sched, BackgroundScheduler)
    sched.start(paused=True)
    try:
        found = {job.id: job for job in sched.get_jobs()}
        assert set(found) == {
            "season_rollover",
            "queue_reminders",
            "freeze_due_milestones",
            "deliver_emails",
            "sync_due_runs",
            "mentor_digest",
            "flag_stale_feedback",
            "import_offline_runs",
        }
        for spec in JOBS:
            job = found[spec.id]
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time == spec.misfire_grace_time
            assert job.args == (app,)
        assert found["queue_reminders"].trigger.interval == timedelta(minutes=5)
        assert found["deliver_emails"].trigger.interval == timedelta(minutes=1)
        assert str(sched.timezone) == "UTC"
    finally:
        sched.shutdown(wait=False)
    assert isinstance(build_scheduler(app, blocking=True), BlockingScheduler)


def test_catch_up_runs_every_job_at_start(app) -> None:
    sched = build_scheduler(app, catch_up=True)
    sched.start(paused=True)
    try:
        jobs_ = sched.get_jobs()
        soonest = max(job.next_run_time for job in jobs_)
        first_regular = min(job.trigger.get_next_fire_time(None, soonest) for job in jobs_)
        assert soonest < first_regular
    finally:
        sched.shutdown(wait=False)


def test_queue_reminders_job(app, session, make_user) -> None:
    make_milestone(session, make_project(session, make_user("ada")), NOW + timedelta(hours=3))
    session.commit()
    assert jobs.queue_reminders(app, now=NOW) == 1
    assert jobs.queue_reminders(app, now=NOW) == 0
    assert len(session.exec(select(Notification)).all()) == 1


def test_deliver_emails_job(app, session, make_user, caplog) -> None:
    caplog.set_level(logging.INFO)
    make_milestone(session, make_project(session, make_user("ada")), NOW + timedelta(hours=3))
    session.commit()
    jobs.queue_reminders(app, now=NOW)
    assert jobs.deliver_emails(app, now=NOW) == {"sent": 1}
    assert jobs.deliver_emails(app, now=NOW) == {}
    assert [d.status for d in session.exec(select(Delivery))] == ["sent"]


def test_season_rollover_job(app, session) -> None:
    """The current and the next quarter exist afterwards; running it again changes nothing."""
    jobs.season_rollover(app, today=date(2027, 12, 30))
    jobs.season_rollover(app, today=date(2027, 12, 30))
    slugs = sorted(s.slug for s in session.exec(select(Season)))
    assert slugs == ["2027-q4", "2028-q1"]


def test_mentor_digest_job(app, session, make_user) -> None:
    mentor = make_user("max", role=Role.mentor)
    learner = make_user("ada")
    season = make_season(session)
    make_milestone(session, make_project(session, learner, season=season), NOW)
    session.add(MentorAssignment(mentor_id=mentor.id, learner_id=learner.id, season_id=season.id))
    session.commit()
    monday_8 = NOW.replace(day=15, hour=8)  # Monday 15 Feb 2027, mentor in UTC
    assert jobs.mentor_digest(app, now=monday_8) == 1
    assert jobs.mentor_digest(app, now=monday_8 + timedelta(hours=1)) == 0


def test_run_all_runs_every_job_and_survives_a_failure(app, monkeypatch, caplog) -> None:
    """The catch-up sweep logs a failing job and still runs the others."""
    ran = []

    def boom(app):
        raise RuntimeError("boom")

    monkeypatch.setattr(
        scheduler,
        "JOBS",
        [JobSpec("first", boom, "interval"), JobSpec("second", ran.append, "interval")],
    )
    assert run_all(app) == {"first": False, "second": True}
    assert ran == [app]
    assert "catch-up run of first failed" in caplog.text


@pytest.fixture
def web_app(app):
    app.config.update(TESTING=False, SCHEDULER_IN_WEB=True)
    return app


@pytest.mark.parametrize(
    ("reload", "run_main", "expected"),
    [
        (False, None, True),  # flask run --no-reload: the one process serves
        (True, None, False),  # the reloader's watcher parent
        (True, "true", True),  # the reloader's serving child
    ],
)
def test_embedded_scheduler_starts_once_under_the_reloader(
    web_app, monkeypatch, reload, run_main, expected
) -> None:
    if run_main:
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", run_main)
    else:
        monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    ctx = click.Context(click.Command("run"), info_name="run")
    ctx.params["reload"] = reload
    with ctx:
        assert should_start_in_web(web_app) is expected


def test_embedded_scheduler_not_in_tests_commands_or_when_off(web_app, app) -> None:
    """Tests, other flask commands (db upgrade, demo) and SCHEDULER_IN_WEB=0 start none."""
    with click.Context(click.Command("db"), info_name="db"):
        assert should_start_in_web(web_app) is False
    assert should_start_in_web(web_app) is False  # no CLI at all (e.g. a script)
    with click.Context(click.Command("run"), info_name="run") as ctx:
        ctx.params["reload"] = False
        web_app.config["SCHEDULER_IN_WEB"] = False
        assert should_start_in_web(web_app) is False
        web_app.config.update(SCHEDULER_IN_WEB=True, TESTING=True)
        assert should_start_in_web(web_app) is False


def test_gunicorn_starts_one_only_when_the_setting_says_so(web_app, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gunicorn", types.ModuleType("gunicorn"))
    assert should_start_in_web(web_app) is False
    web_app.config["SCHEDULER_IN_GUNICORN"] = True
    assert should_start_in_web(web_app) is True


def test_start_in_web_starts_a_background_scheduler(web_app, session, monkeypatch) -> None:
    """The embedded scheduler starts with its heartbeat; stopping it stops both."""
    monkeypatch.setattr(scheduler, "JOBS", [])
    ctx = click.Context(click.Command("run"), info_name="run")
    ctx.params["reload"] = False
    with ctx:
        sched = scheduler.start_in_web(web_app)
    assert isinstance(sched, BackgroundScheduler) and sched.running
    web_app.extensions["scheduler_stop"]()  # the scheduler and its heartbeat thread
    assert not sched.running
    [process] = session.exec(select(SchedulerProcess)).all()
    assert process.role == "stopped"
    web_app.config["SCHEDULER_IN_WEB"] = False
    assert scheduler.start_in_web(web_app) is None
