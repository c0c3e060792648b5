"""Personal access tokens: the settings page, storage, expiry, revocation, and their limits."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from portfolio.auth import tokens
from portfolio.auth.rules import ValidationError
from portfolio.errors import Conflict
from portfolio.models import ApiToken, Role

from ..conftest import csrf_token
from .conftest import bearer, problem

SECRET_RE = re.compile(r'id="new-token" type="text" readonly value="(sns_[A-Za-z0-9_-]+)"')


def create_on_page(client, **fields) -> tuple[int, str]:
    data = {"name": "laptop", "access": "write", "expires": "90", **fields}
    data["csrf_token"] = csrf_token(client, "/settings/tokens")
    response = client.post("/settings/tokens", data=data)
    return response.status_code, response.get_data(as_text=True)


def test_token_is_shown_once_and_stored_hashed(client, session, make_user, login_as):
    """The page shows the secret once; the database keeps its SHA-256 and a short prefix."""
    user = make_user("maya")
    login_as(user)
    status, html = create_on_page(client)
    assert status == 200
    secret = SECRET_RE.search(html).group(1)
    row = session.exec(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:12] and secret not in str(row.model_dump())
    assert row.scopes == ["read", "write"]
    assert row.expires_at is not None
    assert timedelta(days=89) < row.expires_at - datetime.now(UTC) <= timedelta(days=90)
    page = client.get("/settings/tokens")
    assert page.headers["Cache-Control"] == "no-store"
    listing = page.get_data(as_text=True)
    assert secret not in listing and f"{row.prefix}…" in listing and "never" in listing
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["handle"] == "maya"


def test_read_token_and_no_expiry(client, session, make_user, login_as):
    """Read access stores only the read scope; "never" leaves the expiry empty."""
    login_as(make_user("maya"))
    status, _ = create_on_page(client, access="read", expires="never", name="notebook")
    assert status == 200
    row = session.exec(select(ApiToken)).one()
    assert row.scopes == ["read"] and row.expires_at is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "This field is required"),
        ({"name": "x" * 81}, "80 characters"),
        ({"access": "admin"}, "Not a valid choice"),
        ({"expires": "9999"}, "Not a valid choice"),
    ],
)
def test_bad_token_forms_write_nothing(client, session, make_user, login_as, fields, message):
    """A bad form is a 422 with the reason; no token is made."""
    login_as(make_user("maya"))
    status, html = create_on_page(client, **fields)
    assert status == 422 and message in html
    assert session.exec(select(ApiToken)).all() == []


def test_revoking_on_the_page(client, session, make_user, login_as):
    """Revoked tokens get 401 at once and show as revoked; others' tokens are 404."""
    maya, theo = make_user("maya"), make_user("theo")
    login_as(maya)
    _, html = create_on_page(client)
    secret = SECRET_RE.search(html).group(1)
    row = session.exec(select(ApiToken)).one()
    token = csrf_token(client, "/settings/tokens")
    done = client.post(f"/settings/tokens/{row.id}/revoke", data={"csrf_token": token})
    assert done.status_code == 303
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401 and "revoked" in problem(response)["detail"]
    assert ">revoked<" in client.get("/settings/tokens").get_data(as_text=True)
    # Without the CSRF token nothing happens; someone else's token id is a 404.
    assert client.post(f"/settings/tokens/{row.id}/revoke").status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings/tokens")})
    login_as(theo)
    response = client.post(
        f"/settings/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/")}
    )
    assert response.status_code == 404


def test_tokens_page_needs_a_login(client):
    """Signed-out visitors are sent to log in."""
    assert client.get("/settings/tokens").status_code == 302


def test_service_rules(app, session, make_user):
    """Names are unique among active tokens; expiry is within a year; write implies read."""
    user = make_user("maya")
    now = datetime.now(UTC)
    with app.app_context():
        tokens.create(session, user, name="ci", access="write", expires_at=None, now=now)
        with pytest.raises(Conflict):
            tokens.create(session, user, name="ci", access="read", expires_at=None, now=now)
        with pytest.raises(ValidationError, match="within a year"):
            tokens.create(
                session, user, name="old", access="read", expires_at=now - timedelta(1), now=now
            )
        with pytest.raises(ValidationError, match="within a year"):
            later = now + timedelta(days=400)
            tokens.create(session, user, name="late", access="read", expires_at=later, now=now)
        with pytest.raises(ValidationError):
            tokens.create(session, user, name="x", access="admin", expires_at=None, now=now)
    assert tokens.scopes_for("write") == ["read", "write"]


def test_last_use_is_recorded_at_most_once_a_minute(client, session, make_user, make_token):
    """A script calling every second does not turn each read into a write."""
    user = make_user("maya")
    secret = make_token(user)
    client.get("/api/v1/me", headers=bearer(secret))
    first = session.exec(select(ApiToken)).one().last_used_at
    assert first is not None
    client.get("/api/v1/me", headers=bearer(secret))
    session.expire_all()
    assert session.exec(select(ApiToken)).one().last_used_at == first


def test_suspended_accounts_tokens_stop_working(client, session, make_user, make_token):
    """Suspending a user stops their scripts too."""
    user = make_user("maya")
    secret = make_token(user)
    user = session.merge(user)
    user.suspended_at = datetime.now(UTC)
    session.commit()
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401 and "suspended" in problem(response)["detail"]


@pytest.mark.parametrize(
    "header",
    ["Basic bWF5YTpwYXNz", "Bearer", "Bearer ", "Token abc", "bearer sns_" + "x" * 300],
)
def test_malformed_authorization_is_401(client, world, header):
    """Any Authorization header that is not a valid token is refused, never ignored."""
    response = client.get("/api/v1/seasons", headers={"Authorization": header})
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    problem(response)


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/settings/tokens", None),
        ("POST", "/settings/tokens", {"name": "more", "access": "write", "expires": "30"}),
        ("POST", "/settings/password", {"current": "x", "new": "y", "confirm": "y"}),
        ("POST", "/settings/profile", {"display_name": "Mallory", "handle": "mallory"}),
        ("GET", "/admin/users", None),
    ],
)
def test_tokens_do_not_work_outside_the_api(
    client, session, make_user, make_token, method, path, data
):
    """No admin page, password, email/profile change or token management with a token."""
    admin = make_user("ops-lead", role=Role.admin)
    secret = make_token(admin)
    response = client.open(path, method=method, data=data, headers=bearer(secret))
    # Not signed in: a redirect to the login page (or a 400 for a form without CSRF).
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
    assert len(session.exec(select(ApiToken)).all()) == 1


def test_admin_token_has_no_admin_powers_in_the_api(client, make_user, make_token, make_project):
    """An admin's token sees other people's drafts no more than anyone else's."""
    admin = make_user("ops-lead", role=Role.admin)
    draft = make_project(make_user("maya"))
    secret = make_token(admin)
    assert client.get(f"/api/v1/projects/{draft.id}", headers=bearer(secret)).status_code == 404
    response = client.patch(
        f"/api/v1/projects/{draft.id}", json={"title": "Mine"}, headers=bearer(secret)
    )
    assert response.status_code == 404
