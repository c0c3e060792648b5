"""Generic erasure steps of account deletion: notifications about things, user columns.

The sweep walks every foreign key to users.id in the models' metadata, so a
table added later is erased (or cleared, where the column is nullable)
without anyone remembering to extend the deletion code.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, update
from sqlmodel import Session, SQLModel, col, select

from ..models import Delivery, Notification


def forget_notifications(session: Session, key: str, ids: Any) -> None:
    """Delete notifications whose payload[key] is among `ids`, and every email made for them."""
    about = Notification.payload[key].as_integer().in_(ids)  # type: ignore[index]
    session.execute(
        delete(Delivery)
        .where(col(Delivery.notification_id).in_(select(Notification.id).where(about)))
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Notification).where(about).execution_options(synchronize_session=False))


def user_columns() -> list[tuple[Table, str, bool]]:
    """Every (table, column, nullable) that references users.id, children first."""
    found = []
    for table in reversed(SQLModel.metadata.sorted_tables):
        for column in table.columns:
            if table.name != "users" and any(
                fk.column.table.name == "users" for fk in column.foreign_keys
            ):
                found.append((table, column.name, bool(column.nullable)))
    return found


def sweep(session: Session, uid: int) -> None:
    """Delete the rows that belong to the person and clear columns that only mention them."""
    for table, name, nullable in user_columns():
        column = table.c[name]
        statement = (
            update(table).where(column == uid).values({name: None})
            if nullable
            else delete(table).where(column == uid)
        )
        session.execute(statement.execution_options(synchronize_session=False))
    session.expire_all()
