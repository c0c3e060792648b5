"""The default backend: objects in the ``stored_objects`` table, so every host and
the scheduler read them, and ``flask export-data`` backs them up with the rest."""

from __future__ import annotations

import logging
from typing import ClassVar

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from ..db import insert_for
from ..models import StoredBlob, utcnow
from .base import StorageNotFound, StorageUnavailable, StoredObject, check_key

logger = logging.getLogger(__name__)
TABLE = StoredBlob.__table__  # type: ignore[attr-defined]


class DatabaseStorage:
    """Objects as rows, each call in its own short transaction (like an object store)."""

    name: ClassVar[str] = "database"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Insert or replace the row for ``key`` (one statement, safe under concurrency)."""
        values = {
            "key": check_key(key),
            "content_type": content_type,
            "size": len(data),
            "data": data,
            "created_at": utcnow(),
        }
        try:
            with self.engine.begin() as conn:
                stmt = insert_for(conn, TABLE).values(**values)
                replace = {k: stmt.excluded[k] for k in ("content_type", "size", "data")}
                conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=replace))
        except OperationalError as exc:
            logger.warning("database storage: put %s failed: %s", key, exc)
            raise StorageUnavailable(detail=str(exc.orig)) from exc

    def get(self, key: str) -> StoredObject:
        """Read one row's bytes."""
        query = select(TABLE.c.data, TABLE.c.content_type).where(TABLE.c.key == check_key(key))
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
        except OperationalError as exc:
            raise StorageUnavailable(detail=str(exc.orig)) from exc
        if row is None:
            raise StorageNotFound(detail=key)
        return StoredObject(data=bytes(row.data), content_type=row.content_type)

    def delete(self, key: str) -> None:
        """Delete the row if there is one."""
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(TABLE).where(TABLE.c.key == check_key(key)))
        except OperationalError as exc:
            raise StorageUnavailable(detail=str(exc.orig)) from exc
