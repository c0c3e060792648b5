"""What outlives a deleted account: its reserved handle and the admin log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class HandleReservation(SQLModel, table=True):
    """A deleted account's handle, kept from sign-up and renames until it expires.

    Nobody can take over a deleted person's links (/u/<handle>) straight away.
    Only the handle is kept, never who held it.
    """

    __tablename__ = "handle_reservations"

    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=30, unique=True, index=True)
    reserved_until: datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class AdminLogEntry(SQLModel, table=True):
    """Something an admin did to another person's account, with the reason they gave."""

    __tablename__ = "admin_log"
    __table_args__ = (Index("ix_admin_log_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # Null once the admin's own account is deleted; the entry stays.
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    action: str = Field(max_length=32)
    # The account acted on, by handle: a deleted account has no row to point at.
    subject: str = Field(max_length=60)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
