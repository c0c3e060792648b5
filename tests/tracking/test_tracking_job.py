"""The sync_due_runs scheduler job, called directly; project links and their runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from devtools.wandb.fakeserver import FakeWandb
from portfolio.models import LinkKind, RunLink, RunSnapshot, SyncState
from portfolio.tracking import link, sync
from scheduler import jobs

from .test_tracking_wandb import add_run

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def children_of(session: Session, parent: RunLink) -> dict[str, RunLink]:
    """Return a project link's child links by ref."""
    found = session.exec(select(RunLink).where(RunLink.parent_id == parent.id))
    return {child.ref: child for child in found}


def test_job_syncs_due_links_and_leaves_the_rest(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """Queued links are synced; a link synced a minute ago is not due again."""
    add_run(fake_wandb, "r1")
    add_run(fake_wandb, "r2", state="running")
    first = link.add_run_link(
        session, project, learner, "learner/mnist/r1", now=NOW, settings=settings
    )
    second = link.add_run_link(
        session, project, learner, "learner/mnist/r2", now=NOW, settings=settings
    )
    session.commit()
    assert jobs.sync_due_runs(wandb_app, now=NOW) == {"synced": 2}
    for item in (first, second):
        session.refresh(item)
        assert item.sync_state == SyncState.synced and item.current_snapshot_id
    assert second.next_sync_at == NOW + timedelta(minutes=15)
    assert jobs.sync_due_runs(wandb_app, now=NOW + timedelta(minutes=1)) == {}
    assert jobs.sync_due_runs(wandb_app, now=NOW + timedelta(minutes=15)) == {"synced": 1}


def test_job_takes_at_most_the_batch_per_tick(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """WANDB_SYNC_BATCH bounds one tick; the rest wait for the next."""
    for run_id in ("r1", "r2", "r3"):
        add_run(fake_wandb, run_id)
        link.add_run_link(
            session, project, learner, f"learner/mnist/{run_id}", now=NOW, settings=settings
        )
    session.commit()
    wandb_app.config["WANDB_SYNC_BATCH"] = 2
    assert jobs.sync_due_runs(wandb_app, now=NOW) == {"synced": 2}
    assert jobs.sync_due_runs(wandb_app, now=NOW) == {"synced": 1}


def test_claims_hold_a_lease_that_runs_out(
    ctx, session, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """A claimed link is "syncing" and not claimed again until its lease expires."""
    add_run(fake_wandb)
    created = link.add_run_link(
        session, project, learner, "learner/mnist/abc123", now=NOW, settings=settings
    )
    session.commit()
    assert sync.claim_due(session, now=NOW, limit=5) == [created.id]
    session.commit()
    session.refresh(created)
    assert created.sync_state == SyncState.syncing
    assert created.next_sync_at == NOW + sync.LEASE
    assert sync.claim_due(session, now=NOW + timedelta(minutes=5), limit=5) == []
    assert sync.claim_due(session, now=NOW + sync.LEASE, limit=5) == [created.id]


def test_offline_links_are_never_claimed(ctx, session, project) -> None:
    """Imported offline runs have nothing to sync with."""
    session.add(
        RunLink(project_id=project.id, provider="wandb-offline", ref="e/p/r", next_sync_at=NOW)
    )
    session.commit()
    assert sync.claim_due(session, now=NOW + timedelta(days=9), limit=5) == []


def test_job_records_a_crash_and_goes_on(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner, settings, monkeypatch
) -> None:
    """An unexpected error is logged, rolled back and backed off; other links still sync."""
    add_run(fake_wandb, "r1")
    add_run(fake_wandb, "r2")
    for run_id in ("r1", "r2"):
        link.add_run_link(
            session, project, learner, f"learner/mnist/{run_id}", now=NOW, settings=settings
        )
    session.commit()
    real = sync.snapshots.replace_snapshot

    def flaky(session_, item, run, series, now):
        if run.run_id == "r1":
            raise RuntimeError("boom")
        return real(session_, item, run, series, now)

    monkeypatch.setattr(sync.snapshots, "replace_snapshot", flaky)
    assert jobs.sync_due_runs(wandb_app, now=NOW) == {"crashed": 1, "synced": 1}
    broken = session.exec(select(RunLink).where(RunLink.ref == "learner/mnist/r1")).one()
    assert broken.sync_state == SyncState.error and broken.current_snapshot_id is None
    assert broken.last_error == sync.CRASH_MESSAGE
    assert broken.next_sync_at == NOW + sync.RETRY_BASE
    assert session.exec(select(RunSnapshot)).all()[0].run_id == "r2"


def test_project_link_finds_tagged_runs_and_syncs_them_in_the_same_tick(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """Tagged runs become child links (synced at once); untagged ones never appear."""
    add_run(fake_wandb, "r1", tags=["portfolio"])
    add_run(fake_wandb, "r2", tags=["scratch"])
    add_run(fake_wandb, "r3", tags=["portfolio", "best"])
    parent = link.add_project_filter(
        session, project, learner, "learner/mnist", "portfolio", hidden=True, now=NOW,
        settings=settings,
    )  # fmt: skip
    session.commit()
    assert jobs.sync_due_runs(wandb_app, now=NOW) == {"synced": 3}
    found = children_of(session, parent)
    assert set(found) == {"learner/mnist/r1", "learner/mnist/r3"}
    for child in found.values():
        assert child.kind == LinkKind.run and child.hidden and child.created_by_id == learner.id
        assert child.sync_state == SyncState.synced and child.current_snapshot_id
    session.refresh(parent)
    assert parent.sync_state == SyncState.synced
    assert parent.next_sync_at == NOW + sync.PROJECT_EVERY
    rows = link.list_links(session, project)
    assert len(rows) == 1 and len(rows[0].children) == 2


def test_project_link_follows_tag_changes(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """A newly tagged run appears; an untagged one goes; a directly linked one is not doubled."""
    add_run(fake_wandb, "r1", tags=["portfolio"])
    add_run(fake_wandb, "r2", tags=["portfolio"])
    link.add_run_link(session, project, learner, "learner/mnist/r2", now=NOW, settings=settings)
    parent = link.add_project_filter(
        session, project, learner, "learner/mnist", "portfolio", now=NOW, settings=settings
    )
    session.commit()
    jobs.sync_due_runs(wandb_app, now=NOW)
    assert set(children_of(session, parent)) == {"learner/mnist/r1"}
    add_run(fake_wandb, "r1", tags=[])
    add_run(fake_wandb, "r4", tags=["portfolio"])
    session.refresh(parent)
    assert link.request_sync(session, parent, NOW) is True
    session.commit()
    jobs.sync_due_runs(wandb_app, now=NOW)
    assert set(children_of(session, parent)) == {"learner/mnist/r4"}
    refs = session.exec(
        select(RunLink.ref).join(RunSnapshot, RunSnapshot.run_link_id == RunLink.id)
    )
    assert sorted(refs) == ["learner/mnist/r2", "learner/mnist/r4"]  # r1's snapshot went too
    with pytest.raises(Exception, match="comes from a project link"):
        link.unlink(session, project, children_of(session, parent)["learner/mnist/r4"], now=NOW)


def test_project_link_errors_keep_the_runs(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """A failed listing records the error on the project link and removes nothing."""
    add_run(fake_wandb, "r1", tags=["portfolio"])
    parent = link.add_project_filter(
        session, project, learner, "learner/mnist", "portfolio", now=NOW, settings=settings
    )
    session.commit()
    jobs.sync_due_runs(wandb_app, now=NOW)
    fake_wandb.fail("server_error", operations={"Runs"})
    session.refresh(parent)
    link.request_sync(session, parent, NOW)
    session.commit()
    outcomes = jobs.sync_due_runs(wandb_app, now=NOW)
    assert outcomes["error"] == 1
    session.refresh(parent)
    assert parent.sync_state == SyncState.error
    assert set(children_of(session, parent)) == {"learner/mnist/r1"}


@pytest.mark.postgres
def test_skip_locked_lets_two_schedulers_share_the_work(
    ctx, session, wandb_app, fake_wandb: FakeWandb, project, learner, settings
) -> None:
    """On PostgreSQL a link locked by one scheduler is skipped by the other."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    for run_id in ("r1", "r2"):
        add_run(fake_wandb, run_id)
        link.add_run_link(
            session, project, learner, f"learner/mnist/{run_id}", now=NOW, settings=settings
        )
    session.commit()
    with Session(wandb_app.extensions["engine"]) as other:
        locked = other.exec(
            select(RunLink.id).where(RunLink.ref == "learner/mnist/r1").with_for_update()
        ).one()
        claimed = sync.claim_due(session, now=NOW, limit=5)
        session.commit()
        assert locked not in claimed and len(claimed) == 1
        other.rollback()
    assert session.execute(text("SELECT 1")).scalar() == 1
