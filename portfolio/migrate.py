"""Run Alembic migrations against the app's engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock every `flask db upgrade` holds: "Seasons" in ASCII.
MIGRATION_LOCK_KEY = int.from_bytes(b"Seasons", "big")


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Hold the migration lock on ``connection`` (PostgreSQL) so hosts migrate one at a time.

    Several hosts running `db upgrade` at once would each create the same tables;
    with the lock, the second waits, then finds the schema at head and does
    nothing. It is a session lock, so it spans Alembic's transaction; the server
    releases it anyway if the process dies. SQLite has one writer and needs none.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.commit()  # end the implicit transaction; the session lock stays held
    try:
        yield
    finally:
        connection.rollback()  # a failed migration leaves an aborted transaction
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that hands env.py our engine instead of a URL string."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
