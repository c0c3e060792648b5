"""The sync job under a hanging tracker: bounded pool, deadlines, a paused host.

Two loopback fake W&B servers: a healthy one and one that answers nothing for 30 s. The
real wandb client gives up on the slow one after its own (test-short) timeout, or the
sync's deadline fires first; either way it is a timeout. Assertions are on outcome counts
and stored state, never on elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from devtools.wandb.fakeserver import FakeWandb
from portfolio.models import RunLink, SyncState, TrackerHost, TrackingCredential
from portfolio.tracking import credentials, hosts
from scheduler import jobs

from .conftest import TEST_KEY
from .test_tracking_wandb import add_run

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
HEALTHY, SLOW = 3, 4


@pytest.fixture
def slow_wandb() -> Iterator[FakeWandb]:
    """A second fake W&B whose every answer takes 30 s (the sync gives up long before)."""
    with FakeWandb(api_key=TEST_KEY, default_entity="learner") as fake:
        fake.fail("slow", delay=30)
        yield fake


def link_to(session: Session, project, learner, base_url: str, run_id: str) -> RunLink:
    """A queued run link on ``base_url`` (no check with the server, as the API allows)."""
    link = RunLink(
        project_id=project.id, ref=f"learner/mnist/{run_id}", base_url=base_url,
        created_by_id=learner.id, sync_state=SyncState.queued, next_sync_at=NOW, created_at=NOW,
    )  # fmt: skip
    session.add(link)
    return link


@pytest.fixture
def world(ctx, session, wandb_app, fake_wandb, slow_wandb, project, learner):
    """HEALTHY links on the healthy server, SLOW links on the slow one, all due."""
    session.add(
        TrackingCredential(
            user_id=learner.id, base_url=slow_wandb.url, last4=TEST_KEY[-4:],
            secret_encrypted=credentials.fernet().encrypt(TEST_KEY.encode()),
        )
    )  # fmt: skip
    for i in range(HEALTHY):
        add_run(fake_wandb, f"ok{i}")
        link_to(session, project, learner, fake_wandb.url, f"ok{i}")
    for i in range(SLOW):
        link_to(session, project, learner, slow_wandb.url, f"slow{i}")
    session.commit()
    wandb_app.config.update(WANDB_SYNC_BATCH=20, SYNC_CONCURRENCY=2, SYNC_FETCH_SECONDS=60)
    return fake_wandb, slow_wandb


def states(session: Session, base_url: str) -> list[tuple[str, str]]:
    """Return (sync state, last error) of each link on ``base_url``."""
    session.expire_all()
    links = session.exec(select(RunLink).where(RunLink.base_url == base_url).order_by(RunLink.id))
    return [(str(link.sync_state), link.last_error) for link in links]


def host_row(session: Session, base_url: str) -> TrackerHost | None:
    session.expire_all()
    return session.get(TrackerHost, base_url)


def test_a_hanging_tracker_is_paused_and_others_sync_in_the_same_tick(
    session, wandb_app, world
) -> None:
    """Two timeouts pause the slow host; its other links wait; every healthy link syncs."""
    healthy, slow = world
    outcomes = jobs.sync_due_runs(wandb_app, now=NOW)
    assert outcomes == {"synced": HEALTHY, "error": hosts.TIMEOUTS_TO_PAUSE, "paused": 2}
    assert all(state == "synced" for state, _ in states(session, healthy.url))
    slow_states = states(session, slow.url)
    timed_out = [e for s, e in slow_states if "did not answer in time" in e]
    paused = [e for s, e in slow_states if "paused" in e]
    assert len(timed_out) == 2 and len(paused) == 2
    assert all(f"W&B at {slow.url[7:]}" in e for e in timed_out + paused)
    row = host_row(session, slow.url)
    assert row is not None and row.pauses == 1 and row.timeouts == 2
    assert row.paused_until == NOW + hosts.PAUSE_BASE
    assert host_row(session, healthy.url) is None  # a healthy server leaves no row

    # During the pause nothing on the slow host is fetched.
    slow.clear()
    slow.fail("slow", delay=30)
    assert jobs.sync_due_runs(wandb_app, now=NOW + timedelta(minutes=6)) == {"paused": 2}
    assert slow.received == []

    # After it, one probe times out again: the next pause is twice as long.
    after = NOW + hosts.PAUSE_BASE
    assert jobs.sync_due_runs(wandb_app, now=after) == {"error": 1, "paused": 3}
    row = host_row(session, slow.url)
    assert row.pauses == 2 and row.paused_until == after + 2 * hosts.PAUSE_BASE

    # Once it answers again, the probe succeeds and the record is forgotten.
    slow.clear()
    for i in range(SLOW):
        add_run(slow, f"slow{i}")
    later = after + 2 * hosts.PAUSE_BASE
    assert jobs.sync_due_runs(wandb_app, now=later + timedelta(hours=1)) == {"synced": SLOW}
    row = host_row(session, slow.url)
    assert (row.timeouts, row.pauses, row.paused_until) == (0, 0, None)


def test_the_fetch_deadline_counts_as_a_timeout(session, wandb_app, world) -> None:
    """A fetch still running at SYNC_FETCH_SECONDS is given up and counted for its host.

    Here the slow server answers every request in 0.5 s (within the client's timeout), so
    only the sync's own deadline can stop a fetch of several requests.
    """
    healthy, slow = world
    slow.clear()
    slow.latency = 0.5
    for i in range(SLOW):
        add_run(slow, f"slow{i}")
    wandb_app.config.update(SYNC_FETCH_SECONDS=1.5)
    jobs.sync_due_runs(wandb_app, now=NOW)
    slow_states = states(session, slow.url)
    assert sum("did not answer in time" in e for _, e in slow_states) == 2
    assert sum("paused" in e for _, e in slow_states) == 2
    assert "sync deadline of 1.5 s" in host_row(session, slow.url).last_error


def test_a_pause_made_by_another_process_is_respected(session, wandb_app, world) -> None:
    """A paused row in the database (any scheduler wrote it) keeps this one away too."""
    healthy, slow = world
    until = NOW + hosts.PAUSE_BASE
    session.add(TrackerHost(base_url=slow.url, timeouts=2, pauses=1, paused_until=until))
    session.commit()
    slow.clear()
    assert jobs.sync_due_runs(wandb_app, now=NOW) == {"synced": HEALTHY, "paused": SLOW}
    assert slow.received == []
    assert all(state == "error" and "paused" in e for state, e in states(session, slow.url))
    for link in session.exec(select(RunLink).where(RunLink.base_url == slow.url)):
        assert link.next_sync_at == until and link.failures == 0


def test_pause_lengths_double_up_to_the_cap() -> None:
    """10, 20, 40 minutes … at most six hours."""
    assert [hosts.pause_length(n) for n in (1, 2, 3)] == [
        timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=40),
    ]  # fmt: skip
    assert hosts.pause_length(30) == hosts.PAUSE_MAX
