"""Backup: every table to JSON and back (a person's own data is auth.personal_data).

Secrets (password hashes, encrypted W&B keys, token hashes, calendar tokens)
are left out unless asked for: a backup file is easy to mislay. Imported
accounts without a hash get an unusable one and must be given a new password.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, LargeBinary, insert, select, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from .models import User
from .models.types import UTCDateTime

FORMAT = "seasons-backup/1"
# (table, column) pairs that hold secrets.
SECRETS = {
    ("users", "password_hash"),
    ("users", "login_id"),
    ("tracking_credentials", "secret_encrypted"),
    ("api_tokens", "token_hash"),
    ("calendar_feeds", "token"),
    ("email_tokens", "token_hash"),
    ("user_sessions", "key_hash"),
}
UNUSABLE_HASH = "!imported-without-password"


class BackupError(Exception):
    pass


def encode_value(value: Any) -> Any:
    """A column value as JSON: dates as ISO 8601, bytes as base64."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def export_data(conn: Connection, *, include_secrets: bool = False) -> dict[str, Any]:
    """Every table's rows as JSON-ready dicts, in dependency order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in SQLModel.metadata.sorted_tables:
        rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        tables[table.name] = [
            {
                key: encode_value(value)
                for key, value in row.items()
                if include_secrets or (table.name, key) not in SECRETS
            }
            for row in rows
        ]
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return {"format": FORMAT, "revision": revision, "secrets": include_secrets, "tables": tables}


def _decode(column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    return value


def import_data(conn: Connection, data: dict[str, Any]) -> dict[str, int]:
    """Load a backup into an empty, migrated database; returns rows per table."""
    if data.get("format") != FORMAT:
        raise BackupError("That file is not a Seasons backup.")
    current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if data.get("revision") != current:
        raise BackupError(
            f"The backup is from schema {data.get('revision')}, this database is at {current}: "
            "restore into a database migrated to the same revision."
        )
    if conn.execute(select(User.__table__.c.id).limit(1)).first() is not None:
        raise BackupError("The database is not empty; import into a fresh database.")
    counts: dict[str, int] = {}
    for table in SQLModel.metadata.sorted_tables:
        rows = data["tables"].get(table.name, [])
        fixed = []
        for row in rows:
            values = {c.name: _decode(c, row[c.name]) for c in table.columns if c.name in row}
            if table.name == "users":
                values.setdefault("password_hash", UNUSABLE_HASH)
                values.setdefault("login_id", f"imported-{values['id']}")
            if table.name == "calendar_feeds" and "token" not in values:
                continue  # the user makes a new link in settings
            if table.name in ("api_tokens", "email_tokens") and "token_hash" not in values:
                continue
            if table.name == "user_sessions" and "key_hash" not in values:
                continue  # people sign in again
            if table.name == "tracking_credentials" and "secret_encrypted" not in values:
                continue
            fixed.append(values)
        if fixed:
            conn.execute(insert(table), fixed)
        counts[table.name] = len(fixed)
    if conn.dialect.name == "postgresql":
        for table in SQLModel.metadata.sorted_tables:
            # Serial ids only: scheduler_processes is keyed by a text process id.
            if "id" in table.columns and isinstance(table.c.id.type, Integer):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                    )
                )
    return counts
