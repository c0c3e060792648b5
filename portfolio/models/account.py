"""Account records: one-time email links, sign-in sessions, and what outlives a
deleted account (its reserved handle and the admin log).

Links and sessions hold a user's id with ON DELETE CASCADE, so deleting an
account removes their rows; only SHA-256 digests of the secrets are stored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class TokenPurpose(StrEnum):
    reset = "reset"
    verify = "verify"
    email_change = "email_change"


class EmailToken(SQLModel, table=True):
    """A link sent by email: reset a password, verify an address, confirm a new one."""

    __tablename__ = "email_tokens"
    __table_args__ = (Index("ix_email_tokens_user_purpose", "user_id", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    purpose: TokenPurpose = Field(sa_column=Column(String(16), nullable=False))
    # SHA-256 of the secret in the link; the secret itself is made when the email is
    # sent and is never stored (see auth.email_links).
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # The address being confirmed, for email_change.
    new_email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """One signed-in browser; deleting the row signs that browser out."""

    __tablename__ = "user_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    # SHA-256 of the random key kept in the signed session cookie.
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Shown so people can tell their devices apart; truncated. No IP address is kept.
    user_agent: str = Field(default="", max_length=200)


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
