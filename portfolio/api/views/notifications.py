"""The caller's in-app notifications: list (newest first), mark read (notify.inbox)."""

from __future__ import annotations

from ...auth.tokens import Scope
from ...db import get_session
from ...models import Notification, utcnow
from ...notify import inbox
from .. import auth, present, schemas
from ..loading import commit
from ..pagination import decode, encode
from ..routing import operation

ONE = "/notifications/<int:notification_id>"


@operation(
    "GET",
    "/notifications",
    summary="List notifications",
    tag="notifications",
    scope=Scope.read,
    response=schemas.NotificationPage,
    query=schemas.PageQuery,
)
def list_notifications(query: schemas.PageQuery) -> schemas.NotificationPage:
    """Your notifications, newest first; the cursor stays valid while new ones arrive."""
    user = auth.caller()
    session = get_session()
    before = decode(query.cursor, "b")
    rows = inbox.list_for(session, user.id, before_id=before, limit=query.limit + 1)
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return schemas.NotificationPage(
        items=[present.notification(n, user) for n in page],
        next_cursor=encode("b", page[-1].id) if more and page else None,
        unread_count=min(inbox.unread_count(session, user.id), inbox.UNREAD_CAP + 1),
    )


@operation(
    "POST",
    ONE + "/read",
    summary="Mark a notification read",
    tag="notifications",
    scope=Scope.write,
    response=schemas.NotificationOut,
)
def read_notification(notification_id: int) -> schemas.NotificationOut:
    """Mark one of your notifications read; marking it again changes nothing."""
    user = auth.caller()
    session = get_session()
    inbox.mark_read(session, user.id, notification_id, now=utcnow())
    commit(session)
    notification = session.get(Notification, notification_id)
    assert notification is not None
    return present.notification(notification, user)


@operation(
    "POST",
    "/notifications/read-all",
    summary="Mark all notifications read",
    tag="notifications",
    scope=Scope.write,
    response=schemas.ReadAll,
)
def read_all_notifications() -> schemas.ReadAll:
    """Mark every unread notification of yours read."""
    session = get_session()
    marked = inbox.mark_all_read(session, auth.caller().id, now=utcnow())
    commit(session)
    return schemas.ReadAll(marked=marked)
