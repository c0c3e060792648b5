"""Sign-up, log-in, log-out and their bad inputs."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from portfolio.models import Role, User
from tests.conftest import TEST_PASSWORD, csrf_token, login


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def _signup(client, next_path: str | None = None, **fields):
    data = {
        "email": "ada@example.com",
        "handle": "ada-l",
        "display_name": "Ada L",
        "password": TEST_PASSWORD,
        "timezone": "Europe/London",
        "csrf_token": csrf_token(client, "/signup"),
    }
    data.update(fields)
    return client.post("/signup", data=data, query_string={"next": next_path} if next_path else {})


def test_signup_creates_learner_and_logs_in(client, session):
    """A new account is a learner, hashed with argon2, and signed in at once."""
    response = _signup(client)
    assert response.status_code == 302
    user = session.exec(select(User)).one()
    assert (user.email, user.handle, user.role, user.timezone) == (
        "ada@example.com",
        "ada-l",
        Role.learner,
        "Europe/London",
    )
    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash
    home = client.get("/").get_data(as_text=True)
    assert "Log out" in home


def test_email_is_unique_case_insensitively(client, session, make_user):
    """A second account with the same email in other case is refused."""
    make_user("first", email="Ada@Example.com")
    response = _signup(client, email="ADA@example.COM", handle="second")
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert _count(session) == 1


def test_duplicate_handle_refused(client, session, make_user):
    make_user("ada-l")
    response = _signup(client)
    assert response.status_code == 422
    assert "That handle is taken" in response.get_data(as_text=True)
    assert _count(session) == 1


def test_bad_fields_show_clear_errors_and_write_nothing(client, session):
    """Each bad field gets its own message; nothing is stored."""
    cases = {
        "email": ("not-an-email", "email address is not valid"),
        "handle": ("Ada_Lovelace", "lowercase letters"),
        "timezone": ("Mars/Olympus", "Unknown time zone"),
        "password": ("short", "at least 10 characters"),
    }
    for field, (value, message) in cases.items():
        response = _signup(client, **{field: value})
        assert response.status_code == 422, field
        assert message in response.get_data(as_text=True), field
    assert _count(session) == 0


def test_weak_overlong_and_reserved_values_refused(client, session):
    for fields, message in [
        ({"password": "password1234"}, "too weak"),
        ({"password": "x" * 200}, "Field cannot be longer than 128"),
        ({"handle": "admin"}, "reserved"),
        ({"handle": "ab"}, "Field must be between 3 and 30"),
        ({"handle": "a" * 31}, "Field must be between 3 and 30"),
        ({"display_name": "n" * 81}, "Field cannot be longer than 80"),
        ({"email": "a" * 250 + "@example.com"}, "Field cannot be longer than 254"),
    ]:
        response = _signup(client, **fields)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    assert _count(session) == 0


def test_missing_or_wrong_csrf_token_is_refused(client, session):
    """A form posted without our token is a 400 with a clear message."""
    for token in (None, "forged-token"):
        data = {
            "email": "ada@example.com",
            "handle": "ada-l",
            "display_name": "Ada",
            "password": TEST_PASSWORD,
        }
        if token:
            data["csrf_token"] = token
        response = client.post("/signup", data=data)
        assert response.status_code == 400
        assert "form expired" in response.get_data(as_text=True)
    assert _count(session) == 0


def test_csrf_error_as_json_when_asked(client):
    response = client.post("/login", data={}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.is_json
    assert "form expired" in response.get_json()["error"]


def test_login_logout_round_trip(client, make_user):
    user = make_user("grace")
    assert login(client, user).status_code == 302
    assert "Log out" in client.get("/").get_data(as_text=True)
    token = csrf_token(client, "/settings/profile")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/settings/profile").status_code == 302  # back to the login page


def test_logout_needs_csrf(client, make_user):
    """Another site cannot log you out with a bare POST."""
    login(client, make_user("grace"))
    assert client.post("/logout").status_code == 400
    assert client.get("/settings/profile").status_code == 200


def test_wrong_password_is_generic(client, make_user):
    user = make_user("grace")
    response = login(client, user, password="not the password at all")
    assert response.status_code == 422
    assert "do not match an account" in response.get_data(as_text=True)
    unknown = client.post(
        "/login",
        data={
            "email": "nobody@example.com",
            "password": "whatever-it-is",
            "csrf_token": csrf_token(client),
        },
    )
    assert "do not match an account" in unknown.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/\\evil.example/steal",
        "\\\\evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "/ok\\..\\evil",
        "/\t/evil.example",
        "/%0a/x\n",
        "http:/evil.example",
        "evil.example",
    ],
)
def test_next_pointing_off_site_is_ignored(client, make_user, target):
    """Off-site, scheme-relative, backslash, javascript: and control-character targets
    all land on the dashboard instead."""
    user = make_user("grace")
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_login_and_signup_land_on_a_same_site_next(client, make_user):
    """A relative same-site `next` is honoured after log-in and after sign-up."""
    user = make_user("grace")
    response = client.post(
        "/login?next=/settings/sessions",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.headers["Location"] == "/settings/sessions"
    fresh = client.application.test_client()
    response = _signup(fresh, next_path="/seasons?x=1")
    assert response.headers["Location"] == "/seasons?x=1"


def test_tampered_session_cookie_is_anonymous(client, make_user):
    """A session cookie with a broken signature is ignored, not a 500."""
    login(client, make_user("grace"))
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value[:-4] + "AAAA")
    response = client.get("/settings/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_is_rate_limited(app, make_user):
    """Too many attempts from one address get 429 before the password is checked."""
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    client = app.test_client()
    user = make_user("grace")
    statuses = [login(client, user, password="wrong password here").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    response = login(client, user)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_session_cookie_flags(client, make_user):
    """The session cookie is HttpOnly and SameSite=Lax; Secure only behind https."""
    response = login(client, make_user("grace"))
    header = " ".join(response.headers.getlist("Set-Cookie"))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header


def test_secure_cookie_behind_https(tmp_path):
    from portfolio import config

    settings = config.from_env(tmp_path, {"BASE_URL": "https://seasons.example"})
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True
