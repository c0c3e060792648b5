"""The storage interface: a plain dataclass, our own errors and a Protocol.

What one host writes and another must read (uploaded figures, queued offline
runs) goes through a ``Storage``, never to the instance folder: with several
web hosts behind a proxy, a file on one host's disk is a 404 on the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from sqlmodel import Session

from ..errors import DomainError


@dataclass(frozen=True)
class StoredObject:
    """The bytes of one object and the content type they were stored with."""

    data: bytes
    content_type: str


class StorageError(DomainError):
    """A storage failure, carrying a message a learner can read."""

    default_message: ClassVar[str] = "Something went wrong while reading or writing a file."

    def __init__(self, message: str | None = None, *, detail: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.detail = detail  # technical cause for logs; never holds secrets


class StorageNotFound(StorageError):
    """No object is stored under that key."""

    status = 404
    default_message = "That file does not exist (it may have been deleted)."


class StorageUnavailable(StorageError):
    """The store did not answer, refused us, or is misconfigured; nothing was written."""

    status = 503
    default_message = (
        "The file store is not reachable right now, so nothing was saved. "
        "Please try again in a few minutes."
    )


def check_key(key: str) -> str:
    """Refuse keys that would escape a prefix or mean different things per backend."""
    if not key or len(key) > 400 or key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"invalid storage key {key!r}")
    return key


@runtime_checkable
class Storage(Protocol):
    """Where uploads live.

    ``put`` and ``delete`` are durable when they return. Call ``put`` before the
    request writes the rows that point at the object, so no row ever points at a
    missing object, and ``delete`` the object if that commit fails.

    ``session``: the database backend then writes in that session's transaction
    (atomic with the caller's rows, committed by the caller's boundary). Pass it
    whenever the session has already written: SQLite has a single writer, so a
    second connection would wait for it. Other backends ignore it.
    """

    name: ClassVar[str]

    def put(
        self, key: str, data: bytes, content_type: str, *, session: Session | None = None
    ) -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        ...

    def get(self, key: str, *, session: Session | None = None) -> StoredObject:
        """Return the object under ``key``, or raise ``StorageNotFound``."""
        ...

    def delete(self, key: str, *, session: Session | None = None) -> None:
        """Remove the object under ``key``; a missing object is not an error."""
        ...
