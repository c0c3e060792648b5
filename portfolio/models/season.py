"""Seasons, enrollments and mentor assignments."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class SeasonKind(StrEnum):
    quarter = "quarter"
    cohort = "cohort"


class Season(SQLModel, table=True):
    __tablename__ = "seasons"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True, index=True)
    title: str = Field(max_length=80)
    kind: SeasonKind = Field(
        default=SeasonKind.quarter, sa_column=Column(String(16), nullable=False)
    )
    starts_on: date
    # Inclusive: the last day of the season.
    ends_on: date
    # Milestone plan: [{"title", "week", "description"}], copied from content/ when created.
    plan: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "season_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    season_id: int = Field(foreign_key="seasons.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class MentorAssignment(SQLModel, table=True):
    __tablename__ = "mentor_assignments"
    __table_args__ = (UniqueConstraint("mentor_id", "learner_id", "season_id"),)

    id: int | None = Field(default=None, primary_key=True)
    mentor_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    learner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    season_id: int = Field(foreign_key="seasons.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
