"""A project's place on its season's demo-day page: the learner's highlight and admin pins."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .types import UTCDateTime

HIGHLIGHT_MAX = 140


class ShowcaseEntry(SQLModel, table=True):
    """One row per project that was featured or pinned; absent means neither.

    Featuring is the learner's choice (with a one-line highlight); pinning is
    the admins'. Both live here so the showcase order is one join away.
    """

    __tablename__ = "showcase_entries"

    project_id: int = Field(foreign_key="projects.id", primary_key=True, ondelete="CASCADE")
    featured_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    highlight: str = Field(default="", max_length=HIGHLIGHT_MAX)
    pinned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pinned_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
