"""Server-side sessions: listed in settings, ended one by one or all at once, cheap to keep."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, update
from sqlmodel import select

from portfolio.models import Project, Role, User, UserSession, Visibility, utcnow
from tests.conftest import TEST_PASSWORD, csrf_token, login

from .conftest import post_form

WRITE_RE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)


@contextmanager
def writes(app):
    """Collect every INSERT/UPDATE/DELETE the app's engine runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if WRITE_RE.match(statement):
            seen.append(statement)

    engine = app.extensions["engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def browser(app, user, agent: str):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    assert login(client, user).status_code == 302
    return client


def test_settings_list_sessions_and_end_the_others(app, session, make_user):
    """Each sign-in is a row; 'everywhere else' ends all but this browser's."""
    ada = make_user("ada")
    laptop = browser(app, ada, "Firefox on Linux")
    phone = browser(app, ada, "Safari on iPhone")
    tablet = browser(app, ada, "Chrome on Android")
    page = laptop.get("/settings/sessions").get_data(as_text=True)
    assert page.count("This browser") == 1
    for agent in ("Firefox on Linux", "Safari on iPhone", "Chrome on Android"):
        assert agent in page
    assert "IP" not in page.replace("Seasons keeps no IP addresses", "")
    response = post_form(laptop, "/settings/sessions/end-others", {}, page="/settings/sessions")
    assert response.status_code == 303
    assert phone.get("/settings/profile").status_code == 302
    assert tablet.get("/settings/profile").status_code == 302
    assert laptop.get("/settings/profile").status_code == 200
    assert len(session.exec(select(UserSession)).all()) == 1


def test_one_session_can_be_signed_out(app, session, make_user):
    """Signing out one row ends that browser only; another user's row is a 404."""
    ada, bob = make_user("ada"), make_user("bob")
    laptop = browser(app, ada, "Laptop")
    phone = browser(app, ada, "Phone")
    bobs = browser(app, bob, "Bob")
    rows = {r.user_agent: r for r in session.exec(select(UserSession))}
    token = csrf_token(laptop, "/settings/sessions")
    assert (
        laptop.post(
            f"/settings/sessions/{rows['Phone'].id}/end", data={"csrf_token": token}
        ).status_code
        == 303
    )
    assert phone.get("/settings/profile").status_code == 302
    assert laptop.get("/settings/profile").status_code == 200
    foreign = laptop.post(f"/settings/sessions/{rows['Bob'].id}/end", data={"csrf_token": token})
    assert foreign.status_code == 404
    assert bobs.get("/settings/profile").status_code == 200
    own = laptop.post(f"/settings/sessions/{rows['Laptop'].id}/end", data={"csrf_token": token})
    assert own.status_code == 400  # this one ends by logging out
    missing = laptop.post("/settings/sessions/99999999999/end", data={"csrf_token": token})
    assert missing.status_code == 404
    no_csrf = laptop.post(f"/settings/sessions/{rows['Bob'].id}/end")
    assert no_csrf.status_code == 400


def test_logout_deletes_the_row_and_the_cookie_cannot_come_back(app, session, make_user):
    """After logging out, replaying the old session cookie gets nowhere."""
    ada = make_user("ada")
    client = browser(app, ada, "Laptop")
    cookie = client.get_cookie("session").value
    post_form(client, "/logout", {}, page="/settings/profile")
    assert session.exec(select(UserSession)).all() == []
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/settings/profile").status_code == 302


def test_remember_me_restores_the_same_session_until_it_is_ended(app, session, make_user):
    """The remember cookie resumes its session row; ending the row ends it too."""
    ada = make_user("ada")
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "email": ada.email,
            "password": TEST_PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    remember = client.get_cookie("remember_token").value
    fresh = app.test_client()  # the browser was closed: no session cookie, only remember
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/settings/profile").status_code == 200
    assert len(session.exec(select(UserSession)).all()) == 1
    other = browser(app, ada, "Other")
    post_form(other, "/settings/sessions/end-others", {}, page="/settings/sessions")
    again = app.test_client()
    again.set_cookie("remember_token", remember)
    assert again.get("/settings/profile").status_code == 302


def test_last_seen_is_written_at_most_every_few_minutes(app, session, make_user):
    """Browsing writes nothing; after five quiet minutes one request updates last_seen."""
    ada = make_user("ada")
    client = browser(app, ada, "Laptop")
    with writes(app) as seen:
        for _ in range(3):
            assert client.get("/settings/profile").status_code == 200
    assert seen == []
    row = session.exec(select(UserSession)).one()
    session.execute(
        update(UserSession)
        .where(UserSession.id == row.id)
        .values(last_seen_at=utcnow() - timedelta(minutes=6))
    )
    session.commit()
    with writes(app) as seen:
        client.get("/settings/profile")
        client.get("/settings/profile")
    assert len(seen) == 1 and "user_sessions" in seen[0]
    session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_anonymous_requests_write_nothing(app, session, make_user, make_project):
    """Public pages, cold or cached, never write for a visitor, cookie or not."""
    ada = make_user("ada")
    project = make_project(ada)
    session.get(Project, project.id).visibility = Visibility.public
    session.commit()
    client = app.test_client()
    with writes(app) as seen:
        for _ in range(3):
            page = client.get(f"/u/ada/{project.slug}")
            assert page.status_code == 200
        client.get("/u/ada")
    assert seen == []


def test_password_change_ends_other_sessions_but_keeps_this_one(app, session, make_user):
    """The row of the browser that changed the password stays; every other row goes."""
    ada = make_user("ada")
    here = browser(app, ada, "Here")
    browser(app, ada, "There")
    new = "another horse battery staple"
    response = post_form(
        here, "/settings/password", {"current": TEST_PASSWORD, "new": new, "confirm": new}
    )
    assert response.status_code == 302
    assert [r.user_agent for r in session.exec(select(UserSession))] == ["Here"]


def test_suspension_ends_every_session(app, session, make_user):
    """An admin's suspension deletes the account's session rows."""
    from portfolio.discussion import moderation

    ada, admin = make_user("ada"), make_user("chief", role=Role.admin)
    client = browser(app, ada, "Laptop")
    with app.app_context():
        moderation.suspend(session, user_id=ada.id, actor=session.get(User, admin.id), now=utcnow())
        session.commit()
    assert session.exec(select(UserSession).where(UserSession.user_id == ada.id)).all() == []
    assert client.get("/settings/profile").status_code == 302


def test_forged_session_ids_are_anonymous(app, make_user):
    """A cookie naming a user with a made-up or another user's key loads nobody."""
    ada, bob = make_user("ada"), make_user("bob")
    browser(app, bob, "Bob")
    client = app.test_client()
    for forged in (f"{ada.id}:nope", f"{ada.id}:", "x:y", f"{ada.id}", f"{ada.id}:{'A' * 5000}"):
        with client.session_transaction() as s:
            s["_user_id"] = forged
            s["_fresh"] = True
        assert client.get("/settings/profile").status_code == 302, forged


def test_signup_shows_every_error_at_once(client, session):
    """Every wrong field is reported in one response, and nothing is written."""
    response = client.post(
        "/signup",
        data={
            "email": "not-an-email",
            "handle": "Bad Handle!",
            "display_name": "",
            "password": "short",
            "timezone": "Mars/Olympus",
            "csrf_token": csrf_token(client, "/signup"),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in (
        "That email address is not valid",
        "Use lowercase letters, digits and single dashes",
        "This field is required",
        "Use at least 10 characters",
        "Unknown time zone",
    ):
        assert message in html, message
    assert session.exec(select(User)).all() == []


def test_signup_reports_taken_email_and_handle_together(client, session, make_user):
    """A taken email and a taken handle are both named in one pass."""
    make_user("ada-l", email="ada@example.com")
    response = client.post(
        "/signup",
        data={
            "email": "ADA@example.com",
            "handle": "ada-l",
            "display_name": "Ada",
            "password": TEST_PASSWORD,
            "timezone": "UTC",
            "csrf_token": csrf_token(client, "/signup"),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "already exists" in html and "That handle is taken" in html
    assert len(session.exec(select(User)).all()) == 1
