"""Tracking: credentials, run links and their synced snapshots."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class LinkKind(StrEnum):
    run = "run"
    project_filter = "project_filter"


class SyncState(StrEnum):
    queued = "queued"
    syncing = "syncing"
    synced = "synced"
    error = "error"


class TrackingCredential(SQLModel, table=True):
    """A learner's own API key for a provider; the secret is Fernet-encrypted."""

    __tablename__ = "tracking_credentials"
    __table_args__ = (UniqueConstraint("user_id", "provider", "base_url"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    provider: str = Field(default="wandb", max_length=32)
    base_url: str = Field(max_length=300)
    secret_encrypted: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Shown instead of the key, which is never rendered back.
    last4: str = Field(max_length=4)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RunLink(SQLModel, table=True):
    """One linked run, or a project filter whose matching runs become child links."""

    __tablename__ = "run_links"
    __table_args__ = (
        UniqueConstraint("project_id", "provider", "ref"),
        Index("ix_run_links_due", "next_sync_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    provider: str = Field(default="wandb", max_length=32)
    kind: LinkKind = Field(default=LinkKind.run, sa_column=Column(String(16), nullable=False))
    # "entity/project/run_id" for a run, "entity/project" for a filter.
    ref: str = Field(max_length=300)
    base_url: str = Field(default="", max_length=300)
    tag_filter: str = Field(default="", max_length=200)
    parent_id: int | None = Field(
        default=None, foreign_key="run_links.id", index=True, ondelete="CASCADE"
    )
    label: str = Field(default="", max_length=120)
    hidden: bool = Field(default=False)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    sync_state: SyncState = Field(
        default=SyncState.queued, sa_column=Column(String(16), nullable=False)
    )
    last_error: str = Field(default="", max_length=500)
    last_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_sync_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    failures: int = Field(default=0)
    current_snapshot_id: int | None = Field(default=None)
    # A project link: how many runs matched its tags on the last listing (None: not yet).
    matched_runs: int | None = Field(default=None)
    # A newer result that was less complete than the current snapshot (tracking/completeness.py):
    # kept aside, unseen by pages, until a member replaces the current one with it or drops it.
    held_snapshot_id: int | None = Field(default=None)
    held_reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RunSnapshot(SQLModel, table=True):
    """What a run looked like at one successful sync; pages read only these."""

    __tablename__ = "run_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    run_link_id: int = Field(foreign_key="run_links.id", index=True, ondelete="CASCADE")
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    run_id: str = Field(max_length=128)
    name: str = Field(default="", max_length=1000)
    state: str = Field(default="", max_length=32)
    url: str = Field(default="", max_length=500)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Flattened "a.b" keys; numbers as floats, NaN/inf as the strings "NaN"/"Infinity".
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class MetricSeries(SQLModel, table=True):
    """One metric of a snapshot, downsampled to at most 1,000 points."""

    __tablename__ = "metric_series"
    __table_args__ = (UniqueConstraint("snapshot_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="run_snapshots.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=300)
    # [[x, y], ...] with x = _step; y None for NaN/inf points.
    points: list[list[Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    original_count: int = Field(default=0)


class ImportState(StrEnum):
    queued = "queued"
    importing = "importing"
    done = "done"
    failed = "failed"
    held = "held"  # read, but less complete than the run's current snapshot: not applied


class OfflineImport(SQLModel, table=True):
    """An uploaded offline-run zip waiting for, or done by, the scheduler's import job."""

    __tablename__ = "offline_imports"
    __table_args__ = (Index("ix_offline_imports_due", "state", "lease_until"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # Where the uploaded bytes wait in the storage backend; deleted once imported.
    storage_key: str = Field(max_length=300)
    filename: str = Field(default="", max_length=200)
    size: int = Field(default=0)
    label: str = Field(default="", max_length=120)
    hidden: bool = Field(default=False)
    state: ImportState = Field(
        default=ImportState.queued, sa_column=Column(String(16), nullable=False)
    )
    error: str = Field(default="", max_length=1000)
    # What the uploader should know about a run that was read (e.g. the file ends early).
    warning: str = Field(default="", max_length=1000)
    # The run it became ("entity/project/run_id") and its link, once done.
    ref: str = Field(default="", max_length=300)
    link_id: int | None = Field(default=None, foreign_key="run_links.id", ondelete="SET NULL")
    attempts: int = Field(default=0)
    # A claim runs out at this time: a killed worker's import is taken up again after it.
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TrackerHost(SQLModel, table=True):
    """A tracker server's recent timeouts; while ``paused_until`` lies ahead, it is skipped.

    Kept in the database so that every scheduler process (on every host) sees one pause.
    """

    __tablename__ = "tracker_hosts"

    base_url: str = Field(primary_key=True, max_length=300)
    timeouts: int = Field(default=0)  # in a row; a success resets it
    pauses: int = Field(default=0)  # in a row: each one lasts twice as long
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
