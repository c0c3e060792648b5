"""The notify service: notifications, emails per preference, dedupe, counts."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portfolio.models import Delivery, DeliveryMode, Notification
from portfolio.notify import inbox, service

from .builders import NOW

pytestmark = pytest.mark.usefixtures("app_ctx")


def send(session, user, **kw):
    args = {
        "user": user,
        "kind": "comment",
        "category": "comments",
        "title": "New comment",
        "body": "Looks <good>",
        "url": "http://127.0.0.1:5000/u/ada/p",
        "payload": {"comment_id": 7},
        "now": NOW,
    } | kw
    return service.notify(session, **args)


def test_notify_writes_notification_and_rendered_email(session, make_user) -> None:
    """By default a user gets the in-app notice and an email with both parts."""
    ada = make_user("ada")
    n = send(session, ada)
    session.commit()
    assert n is not None and n.title == "New comment" and n.read_at is None
    assert n.payload == {"comment_id": 7, "category": "comments"}
    [d] = session.exec(select(Delivery)).all()
    assert (d.notification_id, d.to_address, d.status) == (n.id, "ada@example.com", "pending")
    assert "Looks <good>" in d.text_body
    assert "Looks &lt;good&gt;" in d.html_body
    assert "/unsubscribe/" in d.text_body and "/unsubscribe/" in d.html_body


@pytest.mark.parametrize(
    ("mode", "notifications", "deliveries"),
    [(DeliveryMode.email, 1, 1), (DeliveryMode.in_app, 1, 0), (DeliveryMode.off, 0, 0)],
)
def test_preference_decides_what_is_written(session, make_user, mode, notifications, deliveries):
    """Email + in-app, in-app only, or nothing, per category."""
    ada = make_user("ada")
    service.set_mode(session, ada.id, "comments", mode)
    result = send(session, ada)
    assert (result is not None) == bool(notifications)
    assert len(session.exec(select(Notification)).all()) == notifications
    assert len(session.exec(select(Delivery)).all()) == deliveries
    # Other categories keep the default.
    assert service.mode_for(session, ada.id, "reminders") == DeliveryMode.email


def test_dedupe_key_makes_notify_idempotent(session, make_user) -> None:
    """The same event twice is recorded once."""
    ada = make_user("ada")
    assert send(session, ada, dedupe_key="comment:7:ada") is not None
    assert send(session, ada, dedupe_key="comment:7:ada") is None
    session.commit()
    assert len(session.exec(select(Notification)).all()) == 1
    assert len(session.exec(select(Delivery)).all()) == 1


def test_notify_does_not_commit(session, make_user) -> None:
    """The caller's transaction owns the writes: a rollback undoes them."""
    send(session, make_user("ada"))
    session.rollback()
    assert session.exec(select(Notification)).all() == []


def test_unknown_category_is_refused(session, make_user) -> None:
    with pytest.raises(ValueError, match="unknown notification category"):
        send(session, make_user("ada"), category="spam")


def test_unread_count_and_mark_read(session, make_user) -> None:
    """Counts stop at the cap; marking read works only on one's own."""
    from portfolio.errors import NotFound

    ada, bob = make_user("ada"), make_user("bob")
    ids = [send(session, ada).id for _ in range(3)]
    assert inbox.unread_count(session, ada.id) == 3
    inbox.mark_read(session, ada.id, ids[0], now=NOW)
    assert inbox.unread_count(session, ada.id) == 2
    with pytest.raises(NotFound):
        inbox.mark_read(session, bob.id, ids[1], now=NOW)
    assert inbox.mark_all_read(session, ada.id, now=NOW) == 2
    assert inbox.unread_count(session, ada.id) == 0


def test_unread_count_is_capped(session, make_user, monkeypatch) -> None:
    monkeypatch.setattr(inbox, "UNREAD_CAP", 2)
    ada = make_user("ada")
    for _ in range(5):
        send(session, ada)
    assert inbox.unread_count(session, ada.id) == 3  # "2+"
