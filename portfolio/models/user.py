"""Accounts: people who sign in, with their public handle and role."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String, false
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class Role(StrEnum):
    learner = "learner"
    mentor = "mentor"
    admin = "admin"


def new_login_id() -> str:
    """A random id for the legacy login_id column (see User.login_id)."""
    return secrets.token_urlsafe(16)


class UserBase(SQLModel):
    handle: str = Field(max_length=30, unique=True, index=True)
    display_name: str = Field(max_length=80)
    timezone: str = Field(default="UTC", max_length=64)
    bio: str = Field(default="", max_length=500)


class User(UserBase, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    # Stored lower-cased: addresses are compared case-insensitively.
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.learner, sa_column=Column(String(16), nullable=False))
    # Until revision 0007 this keyed sessions; sign-ins are rows of user_sessions now.
    # Kept (and filled) because dropping a users column on SQLite rebuilds the table
    # that every other table references.
    login_id: str = Field(default_factory=new_login_id, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Suspended accounts cannot log in or post; their content stays for moderators.
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the address was confirmed by following an emailed link; None: not yet.
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Public profile extras (auth.profile): the avatar's stored file name
    # ("avatars/<name>" in portfolio.storage), http(s) links and one line on
    # what the person is looking for.
    avatar: str | None = Field(default=None, max_length=64)
    github_url: str = Field(default="", max_length=300)
    linkedin_url: str = Field(default="", max_length=300)
    website_url: str = Field(default="", max_length=300)
    looking_for: str = Field(default="", max_length=140)
    # Off: public pages show progress only (milestones done, seasons, streak). On: they
    # also show cadence health and the on-time share (seasons/public_record.py).
    public_full_record: bool = Field(default=False, sa_column_kwargs={"server_default": false()})

    # Flask-Login protocol, implemented here to keep the model free of mixins.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.suspended_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Flask-Login's stored id: "<user id>:<session key>" of this browser's session.

        The key is set by auth.sessions when the session starts or is loaded;
        without one there is nothing a cookie could be resumed with.
        """
        key = self.__dict__.get("_session_key")
        if not key:
            raise RuntimeError("sign-in goes through auth.sessions.start")
        return f"{self.id}:{key}"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_mentor(self) -> bool:
        return self.role in (Role.mentor, Role.admin)
