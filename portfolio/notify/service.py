"""Notifications: one way to tell a user something, in-app and, if they want, by email.

`notify()` writes a Notification and, when the user's preference for the
category says email, a pending Delivery holding the rendered message, in the
caller's transaction (flush only: the view or job that caused it commits).
`write_notifications()` does the same for many at once with a single
INSERT … ON CONFLICT DO NOTHING, so an event with a dedupe key is recorded
once however many processes try (reminders, digests).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlmodel import Session

from ..db import insert_for
from ..models import (
    Delivery,
    DeliveryMode,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    User,
    utcnow,
)
from . import unsubscribe

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of notification a user can switch between email, in-app only and off."""

    name: str
    label: str
    help: str
    mentors_only: bool = False


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("reminders", "Milestone reminders", "7 days and 1 day before, at, and after."),
        Category("comments", "Comments", "Comments on your projects and updates."),
        Category("mentions", "Mentions and replies", "When someone mentions or answers you."),
        Category("feedback", "Feedback requests", "Answers to your requests for feedback."),
        Category("digest", "Weekly mentor digest", "Monday 08:00: who is behind or at risk.", True),
    )
}
DEFAULT_MODE = DeliveryMode.email


@dataclass(frozen=True, slots=True)
class EmailContent:
    """A rendered email: subject line, plain text and HTML."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification to write; `mode` is the recipient's resolved preference."""

    user_id: int
    to_address: str
    mode: DeliveryMode
    kind: str
    category: str
    title: str
    body: str
    url: str
    email: EmailContent | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None


def render_email(template: str, subject: str, **context: Any) -> EmailContent:
    """Render notify/email/<template>.txt and .html.

    Straight through Jinja, not render_template: emails need none of the
    request's context processors, and skipping them halves the cost of a
    sweep that queues thousands of reminders.
    """
    env = current_app.jinja_env
    return EmailContent(
        subject=subject,
        text=env.get_template(f"notify/email/{template}.txt").render(subject=subject, **context),
        html=env.get_template(f"notify/email/{template}.html").render(subject=subject, **context),
    )


def footer_context(user_id: int, category: str) -> dict[str, str]:
    """Links every email ends with: unsubscribe from this category, all settings."""
    base = current_app.config["BASE_URL"]
    return {
        "unsubscribe_url": unsubscribe.url(user_id, category),
        "settings_url": f"{base}/settings/notifications",
        "category_label": CATEGORIES[category].label if category in CATEGORIES else category,
    }


# Preferences ---------------------------------------------------------------


def modes_for(session: Session, user_id: int) -> dict[str, DeliveryMode]:
    """Every category's mode for one user, defaults filled in."""
    stored = {
        p.category: DeliveryMode(p.mode)
        for p in session.execute(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        ).scalars()
    }
    return {name: stored.get(name, DEFAULT_MODE) for name in CATEGORIES}


def mode_for(session: Session, user_id: int, category: str) -> DeliveryMode:
    """The user's mode for one category (email + in-app unless they chose otherwise)."""
    mode = session.execute(
        select(NotificationPreference.mode).where(
            NotificationPreference.user_id == user_id, NotificationPreference.category == category
        )
    ).scalar_one_or_none()
    return DeliveryMode(mode) if mode else DEFAULT_MODE


def set_mode(session: Session, user_id: int, category: str, mode: DeliveryMode) -> None:
    """Store one category's mode; the caller has validated both values."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown notification category {category!r}")
    pref = session.execute(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id, NotificationPreference.category == category
        )
    ).scalar_one_or_none()
    if pref is None:
        pref = NotificationPreference(user_id=user_id, category=category, mode=mode)
    pref.mode = mode
    session.add(pref)
    session.flush()


def may_email(user: User) -> bool:
    """Notification emails go to confirmed addresses only, when REQUIRE_VERIFIED_EMAIL is on.

    The in-app notification is written either way; account emails (links,
    notices) do not pass through here.
    """
    return (
        not current_app.config.get("REQUIRE_VERIFIED_EMAIL") or user.email_verified_at is not None
    )


# Writing -------------------------------------------------------------------


def notify(
    session: Session,
    *,
    user: User,
    kind: str,
    category: str,
    title: str,
    body: str,
    url: str,
    payload: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
    email: EmailContent | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """Tell `user` something, per their preference for `category`.

    Returns the new Notification, or None when the user turned the category
    off or an event with the same `dedupe_key` was already recorded. Without
    `email`, the email (if the user wants one) is the title, body and link.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown notification category {category!r}")
    mode = mode_for(session, user.id, category)
    if mode == DeliveryMode.off:
        return None
    if mode == DeliveryMode.email and not may_email(user):
        mode = DeliveryMode.in_app
    if email is None and mode == DeliveryMode.email:
        email = render_email(
            "generic",
            title,
            title=title,
            body=body,
            url=url,
            user=user,
            **footer_context(user.id, category),
        )
    item = Outgoing(
        user_id=user.id,
        to_address=user.email,
        mode=mode,
        kind=kind,
        category=category,
        title=title,
        body=body,
        url=url,
        email=email,
        payload=dict(payload or {}),
        dedupe_key=dedupe_key,
    )
    [new_id] = write_notifications(session, [item], now=now or utcnow()) or [None]
    return session.get(Notification, new_id) if new_id is not None else None


def write_notifications(session: Session, items: Sequence[Outgoing], *, now: datetime) -> list[int]:
    """Insert notifications (skipping dedupe keys already present) and their emails.

    Returns the ids of the notifications actually written. Items whose mode
    is off are skipped; in_app items get no Delivery.
    """
    items = [i for i in items if i.mode != DeliveryMode.off]
    if not items:
        return []
    session.flush()
    written: list[tuple[int, Outgoing]] = []
    keyed = {i.dedupe_key: i for i in items if i.dedupe_key}
    if keyed:
        table = Notification.__table__  # type: ignore[attr-defined]
        stmt = (
            insert_for(session, table)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id, table.c.dedupe_key)
        )
        rows = session.execute(stmt, [_notification_row(i, now) for i in keyed.values()])
        written += [(nid, keyed[key]) for nid, key in rows]
    for item in (i for i in items if not i.dedupe_key):
        notification = Notification(**_notification_row(item, now))
        session.add(notification)
        session.flush()
        assert notification.id is not None
        written.append((notification.id, item))
    deliveries = [
        _delivery_row(nid, item, now)
        for nid, item in written
        if item.mode == DeliveryMode.email and item.email is not None
    ]
    if deliveries:
        table = Delivery.__table__  # type: ignore[attr-defined]
        session.execute(
            insert_for(session, table).on_conflict_do_nothing(index_elements=["dedupe_key"]),
            deliveries,
        )
    return [nid for nid, _ in written]


def _notification_row(item: Outgoing, now: datetime) -> dict[str, Any]:
    return {
        "user_id": item.user_id,
        "kind": item.kind[:32],
        "title": item.title[:200],
        "body": item.body,
        "url": item.url[:500],
        # The outbox reads the category to honour later unsubscribes.
        "payload": {**item.payload, "category": item.category},
        "dedupe_key": item.dedupe_key,
        "created_at": now,
        "read_at": None,
    }


def _delivery_row(notification_id: int, item: Outgoing, now: datetime) -> dict[str, Any]:
    assert item.email is not None
    return {
        "notification_id": notification_id,
        "user_id": item.user_id,
        "channel": "email",
        "status": DeliveryStatus.pending.value,
        "to_address": item.to_address,
        "subject": " ".join(item.email.subject.split())[:300],
        "text_body": item.email.text,
        "html_body": item.email.html,
        "dedupe_key": item.dedupe_key,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "sent_at": None,
        "created_at": now,
    }


def categories_for(user: User) -> Iterable[Category]:
    """The categories a user can set: the digest only for mentors."""
    return [c for c in CATEGORIES.values() if user.is_mentor or not c.mentors_only]
