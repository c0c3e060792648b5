"""The default backend: objects in the ``stored_objects`` table, so every host and
the scheduler read them, and ``flask export-data`` backs them up with the rest."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from ..db import insert_for
from ..models import StoredBlob, utcnow
from .base import StorageNotFound, StorageUnavailable, StoredObject, check_key

logger = logging.getLogger(__name__)
TABLE: Any = StoredBlob.__table__  # type: ignore[attr-defined]


class DatabaseStorage:
    """Objects as rows: in the caller's session when given, else in a short transaction."""

    name: ClassVar[str] = "database"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _connection(self, session: Session | None, key: str) -> Iterator[Connection | Session]:
        """Yield where to run a statement; database outages become StorageUnavailable."""
        try:
            if session is not None:
                yield session
            else:
                with self.engine.begin() as conn:
                    yield conn
        except OperationalError as exc:
            logger.warning("database storage: %s failed: %s", key, exc.orig)
            raise StorageUnavailable(detail=str(exc.orig)) from exc

    def put(
        self, key: str, data: bytes, content_type: str, *, session: Session | None = None
    ) -> None:
        """Insert or replace the row for ``key`` (one statement, safe under concurrency)."""
        values = {
            "key": check_key(key),
            "content_type": content_type,
            "size": len(data),
            "data": data,
            "created_at": utcnow(),
        }
        with self._connection(session, key) as conn:
            stmt = insert_for(conn, TABLE).values(**values)
            replace = {k: stmt.excluded[k] for k in ("content_type", "size", "data")}
            conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=replace))

    def get(self, key: str, *, session: Session | None = None) -> StoredObject:
        """Read one row's bytes."""
        query = select(TABLE.c.data, TABLE.c.content_type).where(TABLE.c.key == check_key(key))
        with self._connection(session, key) as conn:
            row = conn.execute(query).first()
        if row is None:
            raise StorageNotFound(detail=key)
        return StoredObject(data=bytes(row.data), content_type=row.content_type)

    def delete(self, key: str, *, session: Session | None = None) -> None:
        """Delete the row if there is one."""
        with self._connection(session, key) as conn:
            conn.execute(delete(TABLE).where(TABLE.c.key == check_key(key)))
