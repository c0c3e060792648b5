"""The scheduler's shared state in the database: one lease and one heartbeat row per process.

Singleton jobs (queueing reminders and digests, season rollover, stale-feedback flags)
run on one scheduler process at a time. That process holds the lease row: ``take_lease``
is one conditional UPDATE — "make me the holder until ``now + ttl`` if I already am or
the current holder's time ran out" — which PostgreSQL and SQLite both evaluate
atomically (PostgreSQL re-checks the condition after waiting for a concurrent updater's
row lock; SQLite has one writer at a time). We chose a lease row over a PostgreSQL
advisory lock because it works the same on the embedded SQLite default, survives a
connection pooler, and is visible to admins; the price is that a dead holder is
replaced only when its lease runs out (``SCHEDULER_LEASE_SECONDS``), not at once.
Hosts must keep their clocks in sync (NTP): the expiry is written by the holder's clock.

Each process also upserts its own ``SchedulerProcess`` row on every tick, so /readyz
and the admin pages can tell when the scheduler last ran and who is active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from ..models import SchedulerLease, SchedulerProcess

SINGLETON = "singleton"
FORGET_AFTER = timedelta(days=1)  # rows of processes gone this long are dropped


def take_lease(
    session: Session, *, holder: str, now: datetime, ttl: timedelta, name: str = SINGLETON
) -> bool:
    """Take or renew the lease for ``holder`` until ``now + ttl``; False while another holds it."""
    renewed = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
        )
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount:  # type: ignore[attr-defined]
        return True
    if session.get(SchedulerLease, name) is not None:
        return False
    try:  # first use: the row does not exist yet; of two racing creators one wins
        with session.begin_nested():
            session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


def release_lease(session: Session, *, holder: str, now: datetime, name: str = SINGLETON) -> None:
    """Give the lease up (clean shutdown), so a standby takes it at its next tick."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def beat(
    session: Session, *, process_id: str, host: str, pid: int, role: str, now: datetime
) -> None:
    """Record that this process is alive (and its role); forget processes long gone."""
    updated = session.execute(
        update(SchedulerProcess)
        .where(SchedulerProcess.id == process_id)
        .values(role=role, beat_at=now)
        .execution_options(synchronize_session=False)
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        session.add(
            SchedulerProcess(
                id=process_id, host=host, pid=pid, role=role, started_at=now, beat_at=now
            )
        )
    session.execute(delete(SchedulerProcess).where(SchedulerProcess.beat_at < now - FORGET_AFTER))
    session.flush()


@dataclass(frozen=True)
class SchedulerStatus:
    """What admins and /readyz see: the last heartbeat, who holds the lease, every process."""

    last_beat: datetime | None
    holder: str | None
    lease_expires: datetime | None
    processes: list[SchedulerProcess]

    def stale(self, now: datetime, limit: timedelta) -> bool:
        """Whether no scheduler process beat within ``limit``."""
        return self.last_beat is None or now - self.last_beat > limit


def last_beat(session: Session) -> datetime | None:
    """The latest heartbeat of any scheduler process (one indexed MAX)."""
    return session.execute(select(func.max(SchedulerProcess.beat_at))).scalar()


def status(session: Session) -> SchedulerStatus:
    """Read the scheduler's state for the admin pages."""
    processes = list(
        session.scalars(select(SchedulerProcess).order_by(col(SchedulerProcess.beat_at).desc()))
    )
    lease = session.get(SchedulerLease, SINGLETON)
    return SchedulerStatus(
        last_beat=max((p.beat_at for p in processes), default=None),
        holder=lease.holder if lease else None,
        lease_expires=lease.expires_at if lease else None,
        processes=processes,
    )
