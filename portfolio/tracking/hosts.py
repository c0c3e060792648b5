"""Pause a tracker server that keeps timing out, for every scheduler process at once.

A hanging tracker costs a whole fetch deadline per link. After ``TIMEOUTS_TO_PAUSE``
timeouts in a row from one base URL, that server is paused: links on it are not fetched
until ``paused_until``, and each pause in a row lasts twice as long as the one before (up
to ``PAUSE_MAX``). The first sync after a pause is the probe: one more timeout pauses the
server again at once, a success forgets its record.

The record is a ``tracker_hosts`` row, so a pause seen by one scheduler process holds for
every other process on every host. Both writes are single statements (an upsert that adds
one timeout, an update that clears the row), made inside the sync's own short apply
transaction: they never wait on a tracker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from ..models import TrackerHost
from .values import clean_text

TIMEOUTS_TO_PAUSE = 2
PAUSE_BASE = timedelta(minutes=10)
PAUSE_MAX = timedelta(hours=6)


def paused(session: Session, *, now: datetime) -> dict[str, datetime]:
    """Return ``{base_url: paused_until}`` for the servers paused at ``now``."""
    rows = session.exec(
        select(TrackerHost.base_url, TrackerHost.paused_until).where(
            col(TrackerHost.paused_until) > now
        )
    )
    return {base_url: until for base_url, until in rows if until is not None}


def suspects(session: Session) -> set[str]:
    """Return the servers whose last answer was a timeout: probe them one fetch at a time."""
    return set(session.exec(select(TrackerHost.base_url).where(col(TrackerHost.timeouts) > 0)))


def pause_length(pauses: int) -> timedelta:
    """Return how long the ``pauses``-th pause in a row lasts (1 for the first)."""
    return min(PAUSE_BASE * 2 ** min(max(pauses - 1, 0), 16), PAUSE_MAX)


def record_timeout(
    session: Session, base_url: str, *, now: datetime, error: str = ""
) -> datetime | None:
    """Count one timeout from ``base_url``; return when its pause ends if it is now paused."""
    table = TrackerHost.__table__
    values = {
        "base_url": base_url,
        "timeouts": 1,
        "pauses": 0,
        "last_error": clean_text(error, 500),
        "updated_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.base_url],
            set_={
                "timeouts": table.c.timeouts + 1,
                "last_error": statement.excluded.last_error,
                "updated_at": now,
            },
        )
    )  # the row stays locked until the apply transaction commits: the read below is ours
    host = session.exec(
        select(TrackerHost)
        .where(TrackerHost.base_url == base_url)
        .execution_options(populate_existing=True)
    ).one()
    if host.paused_until is not None and host.paused_until > now:
        return host.paused_until  # paused meanwhile (by another process): keep that pause
    if host.timeouts < TIMEOUTS_TO_PAUSE:
        return None
    host.pauses += 1
    host.paused_until = now + pause_length(host.pauses)
    session.add(host)
    session.flush()
    return host.paused_until


def record_success(session: Session, base_url: str, *, now: datetime) -> None:
    """Forget a server's timeouts and pauses after it answered (no write when clean)."""
    session.execute(
        update(TrackerHost)
        .where(
            col(TrackerHost.base_url) == base_url,
            (col(TrackerHost.timeouts) > 0) | (col(TrackerHost.pauses) > 0),
        )
        .values(timeouts=0, pauses=0, paused_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
