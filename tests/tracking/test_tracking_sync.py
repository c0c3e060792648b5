"""Syncing: the real wandb client against the fake W&B, snapshots swapped in whole or not at all."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from devtools.wandb.fakeserver import FakeWandb
from portfolio.models import MetricSeries, Project, RunLink, RunSnapshot, SyncState
from portfolio.tracking import link, snapshots, sync
from portfolio.tracking.provider import RateLimited, Unavailable

from .syncing import sync_now
from .test_tracking_wandb import HISTORY, add_run

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def counts(session) -> tuple[int, int]:
    """Return (snapshots, metric series) in the whole database: orphans show up here."""
    snaps = session.exec(select(func.count()).select_from(RunSnapshot)).one()
    series = session.exec(select(func.count()).select_from(MetricSeries)).one()
    return snaps, series


def series_of(session, snapshot_id: int) -> dict[str, MetricSeries]:
    """Return a snapshot's metric series by key."""
    rows = session.exec(select(MetricSeries).where(MetricSeries.snapshot_id == snapshot_id))
    return {row.key: row for row in rows}


@pytest.fixture
def linked(ctx, session, fake_wandb: FakeWandb, project, learner, settings) -> RunLink:
    """The fake's run abc123, linked and committed (not yet synced)."""
    add_run(fake_wandb)
    created = link.add_run_link(
        session, project, learner, "learner/mnist/abc123", now=NOW, settings=settings
    )
    session.commit()
    fake_wandb.clear()
    return created


def test_sync_stores_what_the_fake_served(
    session, fake_wandb: FakeWandb, linked: RunLink, project, settings
) -> None:
    """Name, state, URL, tags, summary, config and every history point, NaN and inf kept."""
    version = project.version
    assert sync_now(session, linked, now=NOW, settings=settings) == "synced"
    session.commit()
    snap = session.get(RunSnapshot, linked.current_snapshot_id)
    assert snap.run_id == "abc123" and snap.state == "finished"
    assert snap.name.startswith("<img src=x onerror=alert(1)>") and len(snap.name) == 1_000
    assert snap.url == f"{fake_wandb.url}/learner/mnist/runs/abc123"
    assert snap.tags == ["portfolio"] and snap.fetched_at == NOW
    assert snap.started_at == datetime(2027, 1, 4, 9, tzinfo=UTC)
    assert snap.summary == {"loss": "NaN", "acc": 0.9, "best.acc": 0.95, "note": "done"}
    assert snap.config == {"lr": 0.001, "epochs": 3, "opt.name": "adam", "<b>x</b>": "<i>y</i>"}
    stored = series_of(session, snap.id)
    expected = {
        key: [[row["_step"], row[key] if math.isfinite(row[key]) else None]
              for row in HISTORY if key in row]
        for key in ("loss", "acc", "val/loss")
    }  # fmt: skip
    assert {key: s.points for key, s in stored.items()} == expected
    assert {key: s.original_count for key, s in stored.items()} == {
        "loss": 4, "acc": 3, "val/loss": 1,
    }  # fmt: skip
    session.refresh(linked)
    assert linked.sync_state == SyncState.synced and linked.failures == 0
    assert linked.last_synced_at == NOW and linked.next_sync_at == NOW + timedelta(days=1)
    session.refresh(project)
    assert project.version == version + 1
    assert fake_wandb.operations()[:2] == ["Viewer", "Run"]
    assert "HistoryPage" in fake_wandb.operations()


def test_running_runs_sync_every_15_minutes_and_long_ones_are_downsampled(
    session, fake_wandb: FakeWandb, linked: RunLink, settings
) -> None:
    """5,000 steps become ≤ 1,000 points that keep the first, last, min and max."""
    history = [
        {"_step": i, "loss": 1.0 / (i + 1) + (5.0 if i == 3_333 else 0.0)} for i in range(5_000)
    ]
    add_run(fake_wandb, state="running", history=history)
    sync_now(session, linked, now=NOW, settings=settings)
    session.commit()
    session.refresh(linked)
    assert linked.next_sync_at == NOW + timedelta(minutes=15)
    loss = series_of(session, linked.current_snapshot_id)["loss"]
    steps = [p[0] for p in loss.points]
    assert len(loss.points) <= 1_000 and loss.original_count == 5_000
    assert steps[0] == 0 and steps[-1] == 4_999 and 3_333 in steps  # the spike survives
    assert steps == sorted(steps) and min(p[1] for p in loss.points) == 1.0 / 5_000


def test_a_new_sync_replaces_the_old_snapshot(
    session, fake_wandb: FakeWandb, linked: RunLink, settings
) -> None:
    """The second sync swaps in a new snapshot and deletes the old one with its series."""
    sync_now(session, linked, now=NOW, settings=settings)
    session.commit()
    first = linked.current_snapshot_id
    # trained further: more steps (fewer would be held, see test_tracking_completeness.py)
    history = [{"_step": i, "acc": 0.99} for i in range(8)]
    add_run(fake_wandb, summary={"acc": 0.99}, history=history)
    sync_now(session, linked, now=NOW + timedelta(days=1), settings=settings)
    session.commit()
    session.refresh(linked)
    assert linked.current_snapshot_id != first
    assert session.get(RunSnapshot, first) is None
    assert counts(session) == (1, 1)
    assert session.get(RunSnapshot, linked.current_snapshot_id).summary == {"acc": 0.99}


FAILURES = [
    ("unauthorized", {"Run"}, "W&B did not accept the API key", False),
    ("run_null", {"Run"}, "W&B says this run does not exist", False),
    ("rate_limited", {"Run"}, "W&B is limiting how often", True),
    ("server_error", {"Run"}, "W&B had an internal error", True),
    ("slow", {"Run"}, "did not answer in time", True),
    ("malformed", {"Run"}, "could not read", True),
    ("server_error", {"HistoryPage"}, "W&B had an internal error", True),
]


@pytest.mark.parametrize(("mode", "operations", "message", "retryable"), FAILURES)
def test_failed_sync_keeps_the_last_good_snapshot(
    session, fake_wandb: FakeWandb, linked: RunLink, project, settings,
    mode: str, operations: set, message: str, retryable: bool,
) -> None:  # fmt: skip
    """401, 404, 429, 5xx, timeout, malformed JSON: old data intact, error in plain words."""
    sync_now(session, linked, now=NOW, settings=settings)
    session.commit()
    good = linked.current_snapshot_id
    before = counts(session)
    session.refresh(project)
    version = project.version
    fake_wandb.fail(mode, operations=operations, delay=5)
    later = NOW + timedelta(days=1)
    assert sync_now(session, linked, now=later, settings=settings) == "error"
    session.commit()
    session.refresh(linked)
    session.refresh(project)
    assert linked.current_snapshot_id == good and counts(session) == before
    assert linked.sync_state == SyncState.error and linked.failures == 1
    assert message in linked.last_error and "wandb" not in linked.last_error
    expected = sync.RETRY_BASE if retryable else sync.REFUSED_BASE
    assert linked.next_sync_at == later + expected
    assert linked.last_synced_at == NOW and project.version == version


def test_backoff_doubles_and_honours_retry_after() -> None:
    """5, 10, 20 … minutes up to a day; a longer Retry-After wins."""
    err = Unavailable()
    assert [sync.next_try(n, err, NOW) - NOW for n in (1, 2, 3)] == [
        timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20),
    ]  # fmt: skip
    assert sync.next_try(40, err, NOW) - NOW == timedelta(days=1)
    assert sync.next_try(1, RateLimited(retry_after=3600), NOW) - NOW == timedelta(hours=1)


def test_a_second_failure_backs_off_further_and_success_resets(
    session, fake_wandb: FakeWandb, linked: RunLink, settings
) -> None:
    """failures counts up; a successful sync clears the error."""
    fake_wandb.fail("server_error", operations={"Run"}, times=4)  # core tries each twice
    sync_now(session, linked, now=NOW, settings=settings)
    sync_now(session, linked, now=NOW, settings=settings)
    session.commit()
    session.refresh(linked)
    assert linked.failures == 2 and linked.next_sync_at == NOW + timedelta(minutes=10)
    assert linked.current_snapshot_id is None  # never synced: nothing to show yet
    assert sync_now(session, linked, now=NOW, settings=settings) == "synced"
    session.commit()
    session.refresh(linked)
    assert linked.failures == 0 and linked.last_error == ""


def test_nan_and_infinity_are_stored_as_strings(
    session, linked: RunLink, fake_wandb, settings
) -> None:
    """PostgreSQL JSON cannot hold NaN/inf: summary/config keep W&B's strings, points null."""
    add_run(
        fake_wandb,
        summary={"a": math.inf, "b": -math.inf, "c": math.nan},
        config={"x": math.nan, "nested": {"y": math.inf}},
        history=[{"_step": 0, "m": math.inf}, {"_step": 1, "m": 1.0}],
    )
    sync_now(session, linked, now=NOW, settings=settings)
    session.commit()
    snap = session.get(RunSnapshot, linked.current_snapshot_id)
    assert snap.summary == {"a": "Infinity", "b": "-Infinity", "c": "NaN"}
    assert snap.config == {"x": "NaN", "nested.y": "Infinity"}
    assert series_of(session, snap.id)["m"].points == [[0, None], [1, 1.0]]


def test_a_link_deleted_during_its_sync_is_left_alone(
    session, linked: RunLink, project, settings
) -> None:
    """Unlinking while W&B answers: the fetched data is dropped, nothing is orphaned."""
    plan = sync.prepare(session, linked.id, settings=settings)
    fetched = sync.fetch(plan)
    link.unlink(session, project, linked, now=NOW)
    session.commit()
    assert sync.apply(session, plan, fetched, now=NOW) == "gone"
    session.commit()
    assert counts(session) == (0, 0)


def test_a_crash_while_saving_rolls_back_everything(
    session, fake_wandb: FakeWandb, linked: RunLink, settings, monkeypatch
) -> None:
    """An error after the new rows were flushed leaves the old snapshot and no orphans."""
    sync_now(session, linked, now=NOW, settings=settings)
    session.commit()
    good, before = linked.current_snapshot_id, counts(session)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    real = snapshots.delete_snapshots
    monkeypatch.setattr(snapshots, "delete_snapshots", explode)
    with pytest.raises(RuntimeError):
        sync_now(session, linked, now=NOW, settings=settings)
    session.rollback()
    monkeypatch.setattr(snapshots, "delete_snapshots", real)
    session.refresh(linked)
    assert linked.current_snapshot_id == good and counts(session) == before


def test_headline_metrics_for_reminders(session, linked: RunLink, project, settings) -> None:
    """The best visible run's headline value, formatted, for reminder emails."""
    from portfolio.notify.reminder_mail import headline_metrics

    sync_now(session, linked, now=NOW, settings=settings)
    stored = session.get(Project, project.id)
    stored.headline_metric = "acc"
    session.add(stored)
    session.commit()
    assert headline_metrics(session, [project.id]) == {project.id: "acc 0.9"}
    linked.hidden = True
    session.add(linked)
    session.commit()
    assert headline_metrics(session, [project.id]) == {}
