"""Sync one link now through the phases the scheduler's job runs (``sync_pool.sync_due``).

Production has no "sync this link" shortcut: the job claims, prepares, commits (so no
transaction stays open while the tracker answers), fetches, applies and commits. Tests
that want one link synced at a given time call ``sync_now`` instead of the whole job.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from portfolio.models import RunLink
from portfolio.tracking import sync
from portfolio.tracking.settings import TrackingSettings


def sync_now(
    session: Session,
    link: RunLink | int,
    *,
    now: datetime,
    settings: TrackingSettings | None = None,
) -> str:
    """Prepare, commit, fetch and apply one link as the job does; the caller commits."""
    link_id = link if isinstance(link, int) else link.id
    plan = sync.prepare(session, link_id, settings=settings)
    if plan is None:
        return "gone"
    session.commit()  # as the job: end the reads before the tracker is asked
    return sync.apply(session, plan, sync.fetch(plan), now=now)
