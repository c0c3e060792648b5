"""Notification pages: bell, list, mark read, settings, unsubscribe, admin. CSRF on all."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portfolio.models import (
    CalendarFeed,
    Delivery,
    DeliveryMode,
    Notification,
    NotificationPreference,
    Role,
)
from portfolio.notify import inbox, service, unsubscribe
from portfolio.timeutil import iso_instant
from tests.conftest import csrf_token

from .builders import NOW


def notify(app, session, user, title="New comment"):
    with app.app_context():
        n = service.notify(
            session,
            user=user,
            kind="comment",
            category="comments",
            title=title,
            body="Hello",
            url="http://127.0.0.1:5000/u/ada/p",
            now=NOW,
        )
        session.commit()
        return n


def test_bell_shows_unread_count(app, session, make_user, login_as) -> None:
    """The nav bell counts unread notifications; none shows no number."""
    ada = make_user("ada")
    client = login_as(ada)
    assert 'aria-label="Notifications"' in client.get("/notifications").get_data(as_text=True)
    notify(app, session, ada)
    notify(app, session, ada, "Second")
    html = client.get("/notifications").get_data(as_text=True)
    assert 'aria-label="Notifications, 2 unread"' in html
    assert "New comment" in html and "Second" in html


def test_list_requires_login(client) -> None:
    assert client.get("/notifications").status_code == 302


def test_list_refuses_a_bad_cursor(make_user, login_as) -> None:
    client = login_as(make_user("ada"))
    assert client.get("/notifications?before=abc").status_code == 400


def test_mark_one_read_needs_csrf_and_ownership(app, session, make_user, login_as) -> None:
    """Without a token: 400 and still unread. Someone else's: 404. Own: read."""
    ada, bob = make_user("ada"), make_user("bob")
    n = notify(app, session, ada)
    client = login_as(ada)
    assert client.post(f"/notifications/{n.id}/read").status_code == 400
    session.refresh(n)
    assert n.read_at is None
    token = csrf_token(client, "/notifications")
    response = client.post(f"/notifications/{n.id}/read", data={"csrf_token": token})
    assert response.status_code == 303
    session.refresh(n)
    assert n.read_at is not None

    other = notify(app, session, bob)
    response = client.post(f"/notifications/{other.id}/read", data={"csrf_token": token})
    assert response.status_code == 404
    session.refresh(other)
    assert other.read_at is None


def test_mark_all_read(app, session, make_user, login_as) -> None:
    ada, bob = make_user("ada"), make_user("bob")
    notify(app, session, ada)
    notify(app, session, ada)
    bobs = notify(app, session, bob)
    client = login_as(ada)
    assert client.post("/notifications/read-all").status_code == 400
    assert inbox.unread_count(session, ada.id) == 2
    token = csrf_token(client, "/notifications")
    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code == 303
    assert inbox.unread_count(session, ada.id) == 0
    session.refresh(bobs)
    assert bobs.read_at is None


def test_settings_save_per_category(session, make_user, login_as) -> None:
    """Each category takes email, in-app only or off; the digest is for mentors only."""
    ada = make_user("ada")
    client = login_as(ada)
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert 'name="reminders"' in page and 'name="digest"' not in page
    token = csrf_token(client, "/settings/notifications")
    data = {
        "csrf_token": token,
        "reminders": "in_app",
        "comments": "off",
        "mentions": "email",
        "feedback": "email",
    }
    assert client.post("/settings/notifications", data=data).status_code == 303
    modes = service.modes_for(session, ada.id)
    assert modes["reminders"] == DeliveryMode.in_app and modes["comments"] == DeliveryMode.off


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"reminders": "sometimes"}, 422),
        ({"reminders": ""}, 422),
        ({}, 422),
    ],
)
def test_settings_bad_input_writes_nothing(session, make_user, login_as, data, status) -> None:
    ada = make_user("ada")
    client = login_as(ada)
    token = csrf_token(client, "/settings/notifications")
    full = {"csrf_token": token, "comments": "off", "mentions": "email", "feedback": "email"}
    response = client.post("/settings/notifications", data=full | data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "field has-error" in html
    assert "Not a valid choice" in html or "This field is required" in html
    assert session.exec(select(NotificationPreference)).all() == []


def test_settings_without_csrf_writes_nothing(session, make_user, login_as) -> None:
    client = login_as(make_user("ada"))
    response = client.post("/settings/notifications", data={"reminders": "off"})
    assert response.status_code == 400
    assert session.exec(select(NotificationPreference)).all() == []


def test_calendar_link_create_regenerate_revoke(session, make_user, login_as) -> None:
    """Create, regenerate (old URL dies), revoke; bad action and no CSRF are 400."""
    ada = make_user("ada")
    client = login_as(ada)
    token = csrf_token(client, "/settings/notifications")
    post = client.post
    assert (
        post("/settings/notifications/calendar", data={"action": "regenerate"}).status_code == 400
    )
    bad = {"csrf_token": token, "action": "explode"}
    assert post("/settings/notifications/calendar", data=bad).status_code == 400
    assert session.exec(select(CalendarFeed)).all() == []

    ok = {"csrf_token": token, "action": "regenerate"}
    assert post("/settings/notifications/calendar", data=ok).status_code == 303
    page = client.get("/settings/notifications").get_data(as_text=True)
    first = re.search(r"/calendar/([\w-]+)\.ics", page).group(1)
    assert client.get(f"/calendar/{first}.ics").status_code == 200

    assert post("/settings/notifications/calendar", data=ok).status_code == 303
    assert client.get(f"/calendar/{first}.ics").status_code == 404
    [feed] = session.exec(select(CalendarFeed)).all()
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 200

    revoke = {"csrf_token": token, "action": "revoke"}
    assert post("/settings/notifications/calendar", data=revoke).status_code == 303
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_unsubscribe_confirm_page_and_post(app, session, make_user, client) -> None:
    """GET asks (changes nothing); POST switches that category to in-app only."""
    ada = make_user("ada")
    with app.app_context():
        token = unsubscribe.make_token(ada.id, "reminders")
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "Milestone reminders" in page.get_data(as_text=True)
    assert service.mode_for(session, ada.id, "reminders") == DeliveryMode.email
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    assert service.mode_for(session, ada.id, "reminders") == DeliveryMode.in_app
    assert service.mode_for(session, ada.id, "comments") == DeliveryMode.email
    # Again: harmless. An "off" choice is never turned back into in-app.
    service.set_mode(session, ada.id, "reminders", DeliveryMode.off)
    session.commit()
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    session.expire_all()
    assert service.mode_for(session, ada.id, "reminders") == DeliveryMode.off


@pytest.mark.parametrize("token", ["garbage", "WzEsInJlbWluZGVycyJd.forged-signature"])
def test_unsubscribe_bad_token_is_404(session, make_user, client, token) -> None:
    make_user("ada")
    assert client.get(f"/unsubscribe/{token}").status_code == 404
    assert client.post(f"/unsubscribe/{token}").status_code == 404
    assert session.exec(select(NotificationPreference)).all() == []


def test_unsubscribe_unknown_category_is_404(app, make_user, client) -> None:
    ada = make_user("ada")
    with app.app_context():
        token = unsubscribe.make_token(ada.id, "spam")
    assert client.post(f"/unsubscribe/{token}").status_code == 404


def test_admin_deliveries_is_admins_only_and_requeues(app, session, make_user, login_as) -> None:
    """Learners get 403; an admin sees failed deliveries and queues one again (CSRF)."""
    ada = make_user("ada")
    notify(app, session, ada)
    [d] = session.exec(select(Delivery)).all()
    d.status, d.attempts, d.last_error = "failed", 10, "421 Service not available"
    session.add(d)
    session.commit()
    client = login_as(ada)
    assert client.get("/admin/deliveries").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/notifications")})

    client = login_as(make_user("boss", role=Role.admin))
    html = client.get("/admin/deliveries").get_data(as_text=True)
    assert "421 Service not available" in html
    assert client.post(f"/admin/deliveries/{d.id}/retry").status_code == 400
    token = csrf_token(client, "/admin/deliveries")
    assert (
        client.post(f"/admin/deliveries/{d.id}/retry", data={"csrf_token": token}).status_code
        == 303
    )
    session.refresh(d)
    assert (d.status, d.attempts) == ("pending", 0)
    # Only failed ones can be queued again; unknown ids are 404.
    assert (
        client.post(f"/admin/deliveries/{d.id}/retry", data={"csrf_token": token}).status_code
        == 409
    )
    assert client.post("/admin/deliveries/999/retry", data={"csrf_token": token}).status_code == 404
    assert len(session.exec(select(Notification)).all()) == 1


def test_admin_deliveries_shows_the_scheduler_and_the_oldest_pending_email(
    app, session, make_user, login_as
) -> None:
    """The page says when the oldest unsent email was queued and when the scheduler last beat."""
    from datetime import timedelta

    from portfolio.models import SchedulerProcess, utcnow

    client = login_as(make_user("boss", role=Role.admin))
    html = client.get("/admin/deliveries").get_data(as_text=True)
    assert "No email is waiting to be sent." in html and "never seen" in html
    notify(app, session, make_user("ada"))
    beat = utcnow() - timedelta(minutes=30)
    session.add(SchedulerProcess(id="h:1:x", host="sched-a", pid=4242, role="active", beat_at=beat))
    session.commit()
    html = client.get("/admin/deliveries").get_data(as_text=True)
    assert "Oldest email waiting to be sent: queued" in html
    assert f'datetime="{iso_instant(NOW)}"' in html
    assert f'datetime="{iso_instant(beat)}"' in html and ">stale<" in html
    assert "sched-a" in html and "4242" in html
