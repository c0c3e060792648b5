"""Job functions: open an app context, call a service, commit.

Each takes the app (APScheduler passes it) and, for tests, an optional
clock. Per-item errors are caught and logged inside the services, so one
bad row never stops a sweep; an error here means the whole sweep failed,
and APScheduler logs it and tries again at the next tick.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, timedelta

from flask import Flask

from portfolio.db import get_session
from portfolio.discussion import feedback
from portfolio.discussion.rules import Limits
from portfolio.models import utcnow
from portfolio.notify import digest, outbox, reminders
from portfolio.seasons import freezes
from portfolio.seasons import service as seasons
from portfolio.tracking import import_queue, sync_pool
from portfolio.tracking import service as tracking
from portfolio.tracking.offline_zip import ZipLimits

logger = logging.getLogger(__name__)

# Bounds one run of the outbox job so it finishes well inside its interval.
MAX_BATCHES = 25
# Bounds one run of the import job; the next tick takes the rest.
MAX_IMPORTS = 10


def queue_reminders(app: Flask, now: datetime | None = None) -> int:
    """Queue the milestone reminders that are due."""
    with app.app_context():
        session = get_session()
        count = reminders.queue_due_reminders(session, now=now or utcnow())
        session.commit()
        return count


def deliver_emails(app: Flask, now: datetime | None = None) -> Counter[str]:
    """Send pending emails that are due, one commit per message.

    Before each message the rest of the batch is renewed (``outbox.extend``), so a
    claim outlives a slow batch here but a killed process's claims come back after
    one MAIL_LEASE_SECONDS.
    """
    outcomes: Counter[str] = Counter()

    def clock() -> datetime:
        return now or utcnow()

    with app.app_context():
        session = get_session()
        mailer = outbox.Mailer.from_config(app.config)
        lease = timedelta(seconds=app.config.get("MAIL_LEASE_SECONDS") or 120)
        for _ in range(MAX_BATCHES):
            claimed_at = clock()
            claimed = outbox.claim_due(session, now=claimed_at, lease=lease)
            session.commit()
            if not claimed:
                break
            held_until = claimed_at + lease
            while claimed:
                claimed, held_until = outbox.extend(
                    session, claimed, held_until=held_until, now=clock(), lease=lease
                )
                session.commit()
                if not claimed:
                    break
                delivery_id, claimed = claimed[0], claimed[1:]
                outcome = _send(session, delivery_id, mailer, clock())
                outcomes[outcome.value] += 1
                if outcome == outbox.Outcome.unreachable:
                    # The server is down: give the rest back untried and stop for now.
                    outbox.release(session, claimed, now=clock())
                    session.commit()
                    return outcomes
    if outcomes:
        logger.info("outbox run: %s", dict(outcomes))
    return outcomes


def _send(session, delivery_id: int, mailer: outbox.Mailer, now: datetime) -> outbox.Outcome:
    try:
        outcome = outbox.send_one(session, delivery_id, mailer=mailer, now=now)
        session.commit()
    except Exception:
        session.rollback()
        logger.exception("delivery %s could not be processed", delivery_id)
        outcome = outbox.Outcome.skipped
    return outcome


def season_rollover(app: Flask, today: date | None = None) -> None:
    """Make sure the current and the next quarter exist."""
    with app.app_context():
        session = get_session()
        seasons.ensure_current_and_next(session, today or utcnow().date())
        session.commit()


def freeze_due_milestones(app: Flask, now: datetime | None = None) -> int:
    """Freeze the figures of open milestones that came due (at most once each)."""
    with app.app_context():
        session = get_session()
        count = freezes.freeze_due(session, now=now or utcnow())
        session.commit()
        return count


def mentor_digest(app: Flask, now: datetime | None = None) -> int:
    """Queue the weekly digest of every mentor whose Monday 08:00 has come."""
    with app.app_context():
        session = get_session()
        count = digest.queue_weekly_digests(session, now=now or utcnow())
        session.commit()
        return count


def flag_stale_feedback(app: Flask, now: datetime | None = None) -> int:
    """Flag feedback requests nobody answered in time to admins (and tell the learner)."""
    with app.app_context():
        session = get_session()
        count = feedback.flag_stale(session, now=now or utcnow(), limits=Limits.from_config())
        session.commit()
        return count


def sync_due_runs(app: Flask, now: datetime | None = None) -> Counter[str]:
    """Sync the run links that are due, at most WANDB_SYNC_BATCH fetches per tick.

    Claims are committed before any tracker call; fetches run at once on at most
    SYNC_CONCURRENCY threads with a SYNC_FETCH_SECONDS deadline each, free slots claim
    the next due links, and a server that keeps timing out is paused
    (``tracking.sync_pool``), so one hanging tracker holds neither the job nor other
    servers' links. Runs found by a project link in this tick are synced in the same tick
    when the budget allows.
    """

    def clock() -> datetime:
        return now or utcnow()

    with app.app_context():
        session = get_session()
        settings = tracking.TrackingSettings.current()
        outcomes = sync_pool.sync_due(
            session, clock=clock, batch=settings.sync_batch,
            concurrency=settings.sync_concurrency, deadline=settings.fetch_seconds,
        )  # fmt: skip
    if outcomes:
        logger.info("run sync: %s", dict(outcomes))
    return outcomes


def import_offline_runs(app: Flask, now: datetime | None = None) -> Counter[str]:
    """Import queued offline-run uploads, one at a time, until none is left or MAX_IMPORTS.

    Claims are committed before the slow read and each import right after it (the
    four phases of ``import_queue``); the stored zip is deleted once its outcome is.
    """
    outcomes: Counter[str] = Counter()

    def clock() -> datetime:
        return now or utcnow()

    with app.app_context():
        session = get_session()
        lease = timedelta(seconds=app.config.get("IMPORT_LEASE_SECONDS") or 600)
        timeout = float(app.config.get("OFFLINE_IMPORT_TIMEOUT") or 300)
        limits = ZipLimits(max_zip_bytes=tracking.TrackingSettings.current().upload_max_bytes)
        for _ in range(MAX_IMPORTS):
            claimed = import_queue.claim_due(session, now=clock(), lease=lease)
            session.commit()
            if not claimed:
                break
            [(import_id, lease_until)] = claimed
            outcomes[_import_one(session, import_id, lease_until, limits, timeout, clock)] += 1
    if outcomes:
        logger.info("offline imports: %s", dict(outcomes))
    return outcomes


def _import_one(session, import_id: int, lease_until: datetime, limits, timeout, clock) -> str:
    plan = None
    try:
        plan = import_queue.prepare(session, import_id, lease_until)
        session.commit()  # end the read: nothing stays open while wandb reads the run
        if plan is None:
            return "gone"
        result = import_queue.fetch(plan, limits=limits, timeout=timeout)
        outcome = import_queue.apply(session, plan, result, now=clock())
        session.commit()
    except Exception:
        session.rollback()
        logger.exception("offline import %s could not be processed", import_id)
        if plan is None:
            return "crashed"
        import_queue.record_crash(session, plan, now=clock())
        session.commit()
        outcome = "crashed"
    if outcome in ("done", "failed", "crashed"):  # not "lost" (another has it) or "retry"
        import_queue.discard_upload(plan.storage_key)
    return outcome
