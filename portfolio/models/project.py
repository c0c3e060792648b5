"""Projects, their members, old slugs and milestones."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class Visibility(StrEnum):
    draft = "draft"
    unlisted = "unlisted"
    public = "public"


class MetricGoal(StrEnum):
    min = "min"
    max = "max"


class MemberStatus(StrEnum):
    invited = "invited"
    accepted = "accepted"


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("owner_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    season_id: int = Field(foreign_key="seasons.id", index=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    title: str = Field(max_length=120)
    slug: str = Field(max_length=80)
    summary: str = Field(default="", max_length=200)
    problem_md: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    body_md: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    visibility: Visibility = Field(
        default=Visibility.draft, sa_column=Column(String(16), nullable=False)
    )
    repo_url: str = Field(default="", max_length=300)
    headline_metric: str = Field(default="", max_length=200)
    headline_goal: MetricGoal = Field(
        default=MetricGoal.max, sa_column=Column(String(8), nullable=False)
    )
    # Charts the learner chose: [{"metrics": [...], "x": "_step", "smoothing": 0.6,
    # "log_y": false, "runs": [run link ids] (empty: all visible)}].
    charts: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    # Who may comment: cohort (default), signed_in, or mentors (see CommentPolicy).
    comment_policy: str = Field(
        default="cohort", sa_column=Column(String(16), nullable=False, default="cohort")
    )
    carried_from_id: int | None = Field(default=None, foreign_key="projects.id")
    # Bumped by every change that alters what the public page shows (cache key).
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Last thing a member did (edit, milestone, update): feeds cadence health.
    last_activity_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )


class ProjectMember(SQLModel, table=True):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    status: MemberStatus = Field(
        default=MemberStatus.invited, sa_column=Column(String(16), nullable=False)
    )
    invited_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ProjectSlug(SQLModel, table=True):
    """A slug a project had before; its URL redirects to the current one."""

    __tablename__ = "project_slugs"
    __table_args__ = (UniqueConstraint("owner_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=80)


class Milestone(SQLModel, table=True):
    __tablename__ = "milestones"
    __table_args__ = (Index("ix_milestones_due_open", "done_at", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=500)
    position: int = Field(default=0)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ProjectImage(SQLModel, table=True):
    """An uploaded figure for a write-up, re-encoded; its bytes are in the storage backend."""

    __tablename__ = "project_images"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    uploaded_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # Random name in storage and in the URL, with the extension of the stored format.
    filename: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=32)
    alt: str = Field(default="", max_length=200)
    width: int
    height: int
    size: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class MilestoneFreeze(SQLModel, table=True):
    """What the project's results showed when a milestone was reached, copied out of the
    snapshots so that later syncs (which replace and delete snapshots) never change it.

    One row per milestone: written when it is marked done, or by the scheduler at its
    due time while it is still open (a later completion replaces that one); a learner may
    re-freeze a done milestone once (``refrozen_at``, ``note``).
    """

    __tablename__ = "milestone_freezes"

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="milestones.id", unique=True, ondelete="CASCADE")
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    reason: str = Field(default="done", max_length=16)  # "done" or "due"
    frozen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    headline_metric: str = Field(default="", max_length=200)
    headline_goal: str = Field(default="max", max_length=8)
    # [{"link_id", "name", "source", "value", "series": [[x, y], ...]}] of the runs
    # that were visible (not hidden) then; values are copies of untrusted tracker data.
    runs: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    refrozen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = Field(default="", max_length=500)
