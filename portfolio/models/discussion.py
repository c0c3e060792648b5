"""Progress updates, comments, feedback requests and reports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class CommentPolicy(StrEnum):
    cohort = "cohort"  # people enrolled in the project's season, plus mentors
    signed_in = "signed_in"
    mentors = "mentors"


class Update(SQLModel, table=True):
    """A short devlog post by a project member."""

    __tablename__ = "updates"
    __table_args__ = (Index("ix_updates_project_created", "project_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", ondelete="CASCADE")
    author_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    body_md: str = Field(sa_column=Column(Text, nullable=False))
    milestone_id: int | None = Field(default=None, foreign_key="milestones.id", ondelete="SET NULL")
    # Run links the update refers to ("checkpoint: val/acc 0.81 on run X").
    run_link_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Comment(SQLModel, table=True):
    """A comment on a project or an update; replies have a parent (one level)."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_project_created", "project_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", ondelete="CASCADE")
    update_id: int | None = Field(
        default=None, foreign_key="updates.id", index=True, ondelete="CASCADE"
    )
    parent_id: int | None = Field(
        default=None, foreign_key="comments.id", index=True, ondelete="CASCADE"
    )
    author_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    body_md: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class FeedbackRequest(SQLModel, table=True):
    """An update whose author asked mentors for feedback (Exercism-style queue)."""

    __tablename__ = "feedback_requests"
    __table_args__ = (Index("ix_feedback_open", "answered_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(foreign_key="updates.id", unique=True, ondelete="CASCADE")
    learner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    # The learner opted in to any mentor, not only their assigned ones.
    any_mentor: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # Set when it went unanswered too long and admins were told.
    flagged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CommentReport(SQLModel, table=True):
    __tablename__ = "comment_reports"
    # One report per person per comment, even when a double click races itself.
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    comment_id: int = Field(foreign_key="comments.id", index=True, ondelete="CASCADE")
    reporter_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False))


class ApiToken(SQLModel, table=True):
    """A personal access token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # First characters, shown in the list so a user can tell tokens apart.
    prefix: str = Field(max_length=16)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
