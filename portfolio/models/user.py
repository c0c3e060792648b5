"""Accounts: people who sign in, with their public handle and role."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class Role(StrEnum):
    learner = "learner"
    mentor = "mentor"
    admin = "admin"


def new_login_id() -> str:
    """A random id that is part of the session; rotating it logs other sessions out."""
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
    login_id: str = Field(default_factory=new_login_id, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Suspended accounts cannot log in or post; their content stays for moderators.
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

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
        return f"{self.id}:{self.login_id}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_mentor(self) -> bool:
        return self.role in (Role.mentor, Role.admin)
