"""Objects kept by the database storage backend (portfolio/storage/database.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class StoredBlob(SQLModel, table=True):
    """One stored object: uploaded figures and queued uploads every host must read."""

    __tablename__ = "stored_objects"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=512, unique=True)
    content_type: str = Field(max_length=128)
    size: int
    data: bytes = Field(sa_type=LargeBinary, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
