"""In-app notifications, email deliveries, preferences and calendar feeds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class DeliveryMode(StrEnum):
    email = "email"  # email and in-app
    in_app = "in_app"
    off = "off"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    # e.g. reminder, comment, reply, mention, feedback, digest
    kind: str = Field(max_length=32)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    url: str = Field(default="", max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Set for events that must happen once (reminders); UNIQUE makes a second sweep harmless.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """An email waiting to be sent, sent, or given up on; never deleted."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int | None = Field(
        default=None, foreign_key="notifications.id", index=True, ondelete="SET NULL"
    )
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    channel: str = Field(default="email", max_length=16)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending, sa_column=Column(String(16), nullable=False)
    )
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Empty: the subject and bodies above are the message. Otherwise the name of
    # the renderer that writes them when the email is sent (e.g. "reminder").
    template: str = Field(default="", max_length=32)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_error: str = Field(default="", max_length=1000)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class NotificationPreference(SQLModel, table=True):
    """How a user wants one category of notification; absent means the default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "category"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    # reminders, comments, mentions, feedback, digest
    category: str = Field(max_length=32)
    mode: DeliveryMode = Field(sa_column=Column(String(16), nullable=False))


class CalendarFeed(SQLModel, table=True):
    """A private, revocable ICS address for one user."""

    __tablename__ = "calendar_feeds"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True, ondelete="CASCADE")
    token: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
