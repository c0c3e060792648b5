"""The singleton lease and heartbeats: one active process, standbys that take over."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

import scheduler
from portfolio.models import SchedulerLease, SchedulerProcess
from portfolio.ops import scheduler_state
from scheduler import JobSpec, build_scheduler, run_all
from scheduler.coordinator import Coordinator
from tests.notify.builders import NOW

TTL = timedelta(seconds=90)


def test_one_holder_at_a_time_until_its_lease_runs_out(session) -> None:
    """A takes it; B is refused while A renews; after A's lease runs out B takes it."""
    assert scheduler_state.take_lease(session, holder="a", now=NOW, ttl=TTL)
    session.commit()
    assert not scheduler_state.take_lease(session, holder="b", now=NOW, ttl=TTL)
    assert scheduler_state.take_lease(session, holder="a", now=NOW + TTL / 2, ttl=TTL)
    session.commit()
    later = NOW + TTL / 2 + TTL
    assert not scheduler_state.take_lease(
        session, holder="b", now=later - timedelta(seconds=1), ttl=TTL
    )
    assert scheduler_state.take_lease(session, holder="b", now=later, ttl=TTL)
    session.commit()
    assert not scheduler_state.take_lease(session, holder="a", now=later, ttl=TTL)
    [lease] = session.exec(select(SchedulerLease)).all()
    assert (lease.holder, lease.expires_at) == ("b", later + TTL)


def test_release_lets_a_standby_take_over_at_once(session) -> None:
    """A clean shutdown gives the lease up instead of making the standby wait it out."""
    assert scheduler_state.take_lease(session, holder="a", now=NOW, ttl=TTL)
    scheduler_state.release_lease(session, holder="a", now=NOW + timedelta(seconds=1))
    scheduler_state.release_lease(session, holder="nobody", now=NOW)  # not the holder: no effect
    session.commit()
    assert scheduler_state.take_lease(session, holder="b", now=NOW + timedelta(seconds=1), ttl=TTL)


def test_heartbeat_rows_upsert_and_old_ones_are_forgotten(session) -> None:
    """One row per process, updated in place; rows silent for a day are dropped."""
    kw = {"host": "h", "pid": 1}
    scheduler_state.beat(session, process_id="old", role="standby", now=NOW, **kw)
    scheduler_state.beat(session, process_id="p", role="standby", now=NOW, **kw)
    later = NOW + timedelta(days=1, seconds=1)
    scheduler_state.beat(session, process_id="p", role="active", now=later, **kw)
    session.commit()
    rows = session.exec(select(SchedulerProcess)).all()
    assert [(r.id, r.role, r.started_at, r.beat_at) for r in rows] == [("p", "active", NOW, later)]
    status = scheduler_state.status(session)
    assert status.last_beat == later
    assert not status.stale(later + timedelta(minutes=10), timedelta(minutes=10))
    assert status.stale(later + timedelta(minutes=11), timedelta(minutes=10))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


def test_coordinators_promote_a_standby_when_the_active_one_stops_beating(app, session) -> None:
    """Two processes: one active, one standby; the active one dies, the standby is promoted."""
    clock = Clock()
    a = Coordinator(app, tick=20, lease=90, clock=clock)
    b = Coordinator(app, tick=20, lease=90, clock=clock)
    promoted = []
    b.on_promoted = lambda: promoted.append("b")
    assert a.beat() and not b.beat()
    assert (a.role, b.role) == ("active", "standby")
    roles = {p.id: p.role for p in session.exec(select(SchedulerProcess))}
    assert roles == {a.process_id: "active", b.process_id: "standby"}
    clock.now += timedelta(seconds=89)  # a is killed: it beats no more
    assert not b.beat() and promoted == []
    clock.now += timedelta(seconds=1)
    assert not a.active  # its own view agrees: past its lease, it would skip singletons
    assert b.beat() and promoted == ["b"] and b.active
    assert not b.beat() or promoted == ["b"]  # renewing does not promote again


def test_standby_skips_singleton_jobs_but_runs_queue_jobs(app, session, monkeypatch) -> None:
    """The guard: singleton jobs do nothing on a standby, work-queue jobs run everywhere."""
    ran: list[str] = []
    monkeypatch.setattr(
        scheduler,
        "JOBS",
        [
            JobSpec("sweep", lambda app: ran.append("sweep"), "interval", {"minutes": 5}),
            scheduler.queue_job("queue", lambda app: ran.append("queue"), "NO_SUCH_SETTING", 60),
        ],
    )
    clock = Clock()
    active, standby = Coordinator(app, clock=clock), Coordinator(app, clock=clock)
    active.beat()
    standby.beat()
    assert run_all(app, coordinator=standby) == {"queue": True}
    assert run_all(app, coordinator=active) == {"sweep": True, "queue": True}
    sched = build_scheduler(app, coordinator=standby)
    sched.start(paused=True)
    try:
        for job in sched.get_jobs():
            job.func(*job.args)
    finally:
        sched.shutdown(wait=False)
    assert ran == ["queue", "sweep", "queue", "queue"]
    assert standby.on_promoted is not None


def test_stop_releases_and_marks_the_process_stopped(app, session) -> None:
    """A clean exit: the lease is free for a standby and the row says stopped."""
    clock = Clock()
    a = Coordinator(app, clock=clock)
    assert a.beat()
    a.stop()
    b = Coordinator(app, clock=clock)
    assert b.beat()
    roles = {p.id: p.role for p in session.exec(select(SchedulerProcess))}
    assert roles == {a.process_id: "stopped", b.process_id: "active"}
