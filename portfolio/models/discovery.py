"""Discovery: learner-chosen project tags and the public search index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class ProjectTag(SQLModel, table=True):
    """A topic the learner gave a project ("NLP", "time series"), with its URL slug."""

    __tablename__ = "project_tags"
    __table_args__ = (UniqueConstraint("project_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=40, index=True)
    label: str = Field(max_length=32)


class ProjectSearch(SQLModel, table=True):
    """One row per *public* project: the text search may match, already filtered.

    Only what a stranger may see goes in (hidden runs' tags never do), so a
    search can never leak a draft. The engine's index sits beside it: a
    generated tsvector column with a GIN index on PostgreSQL, an FTS5 table
    kept by triggers on SQLite (migration 0018; see discovery/engine.py).
    """

    __tablename__ = "project_search"

    project_id: int = Field(foreign_key="projects.id", primary_key=True, ondelete="CASCADE")
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Summary, learner, season, project tags and visible runs' tags.
    meta: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Problem statement and write-up as plain text (snippets come from here).
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
