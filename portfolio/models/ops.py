"""Operations: the scheduler's processes (heartbeats) and the lease of its singleton jobs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class SchedulerProcess(SQLModel, table=True):
    """One `python -m scheduler` (or embedded) process, as it last reported itself."""

    __tablename__ = "scheduler_processes"

    # host:pid:random, unique per process start.
    id: str = Field(primary_key=True, max_length=200)
    host: str = Field(max_length=200)
    pid: int
    # "active" while it holds the singleton lease, else "standby"; "stopped" after a clean exit.
    role: str = Field(default="standby", max_length=16)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    beat_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )


class SchedulerLease(SQLModel, table=True):
    """Who may run the singleton jobs until when; a dead holder's lease simply runs out."""

    __tablename__ = "scheduler_leases"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
