"""Job functions: open an app context, call a service, commit (STYLE.md §4).

Each takes the app (APScheduler passes it) and, for tests, an optional
clock. Per-item errors are caught and logged inside the services, so one
bad row never stops a sweep; an error here means the whole sweep failed,
and APScheduler logs it and tries again at the next tick.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime

from flask import Flask

from portfolio.db import get_session
from portfolio.models import utcnow
from portfolio.notify import digest, outbox, reminders
from portfolio.seasons import service as seasons

logger = logging.getLogger(__name__)

# Bounds one run of the outbox job so it finishes well inside its interval.
MAX_BATCHES = 25


def queue_reminders(app: Flask, now: datetime | None = None) -> int:
    """Queue the milestone reminders that are due."""
    with app.app_context():
        session = get_session()
        count = reminders.queue_due_reminders(session, now=now or utcnow())
        session.commit()
        return count


def deliver_emails(app: Flask, now: datetime | None = None) -> Counter[str]:
    """Send pending emails that are due, one commit per message."""
    outcomes: Counter[str] = Counter()

    def clock() -> datetime:
        return now or utcnow()

    with app.app_context():
        session = get_session()
        mailer = outbox.Mailer.from_config(app.config)
        for _ in range(MAX_BATCHES):
            claimed = outbox.claim_due(session, now=clock())
            session.commit()
            if not claimed:
                break
            for i, delivery_id in enumerate(claimed):
                try:
                    outcome = outbox.send_one(session, delivery_id, mailer=mailer, now=clock())
                    session.commit()
                except Exception:
                    session.rollback()
                    logger.exception("delivery %s could not be processed", delivery_id)
                    outcome = outbox.Outcome.skipped
                outcomes[outcome.value] += 1
                if outcome == outbox.Outcome.unreachable:
                    # The server is down: give the rest back untried and stop for now.
                    outbox.release(session, claimed[i + 1 :], now=clock())
                    session.commit()
                    return outcomes
    if outcomes:
        logger.info("outbox run: %s", dict(outcomes))
    return outcomes


def season_rollover(app: Flask, today: date | None = None) -> None:
    """Make sure the current and the next quarter exist."""
    with app.app_context():
        session = get_session()
        seasons.ensure_current_and_next(session, today or utcnow().date())
        session.commit()


def mentor_digest(app: Flask, now: datetime | None = None) -> int:
    """Queue the weekly digest of every mentor whose Monday 08:00 has come."""
    with app.app_context():
        session = get_session()
        count = digest.queue_weekly_digests(session, now=now or utcnow())
        session.commit()
        return count
