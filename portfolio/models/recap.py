"""A project's season recap: the learner's text and whether it is public."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class ProjectRecap(SQLModel, table=True):
    """One per project, written when the learner first saves or publishes the recap.

    The figures (planned vs done, headline improvement, time on track) are never
    stored: they are read from milestones and freezes each time, so a re-freeze or a
    hidden run shows up in the recap too. Only the text and the published state are
    the learner's own. An empty ``body_md`` means "use the generated text".
    """

    __tablename__ = "project_recaps"

    project_id: int = Field(foreign_key="projects.id", primary_key=True, ondelete="CASCADE")
    body_md: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
