"""Anonymous public pages are shared-cacheable for a few seconds and never set a cookie."""

from __future__ import annotations

import pytest
from flask import session as flask_session

from portfolio import httpcache
from portfolio.models import Season

# What nginx may keep: five seconds at most, and browsers always revalidate.
assert httpcache.PUBLIC == "public, max-age=0, s-maxage=5"


@pytest.fixture()
def public_pages(app, session, published) -> list[str]:
    """Every page a visitor reaches without an account: home, profile, project, seasons."""
    _, project = published
    season = session.get(Season, project.season_id)
    return ["/", "/u/maya", f"/u/maya/{project.slug}", "/seasons", f"/seasons/{season.slug}"]


def test_anonymous_public_pages_are_shared_cacheable_without_cookies(app, public_pages):
    """A first-time visitor gets each public page as public, s-maxage=5, with no Set-Cookie."""
    for path in public_pages:
        for attempt in ("cold", "warm"):  # the project page is cached after the first
            response = app.test_client().get(path)
            assert response.status_code == 200, (path, attempt)
            assert response.headers["Cache-Control"] == httpcache.PUBLIC, (path, attempt)
            assert "Set-Cookie" not in response.headers, (path, attempt)


def test_signed_in_pages_are_private(app, login_as, make_user, public_pages):
    """The same pages for a signed-in person are never marked for a shared cache."""
    client = login_as(make_user("reader"))
    for path in public_pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert not response.cache_control.public and response.cache_control.s_maxage is None


def test_a_visitor_with_a_session_cookie_gets_private_pages(app, public_pages):
    """Anyone carrying a session (here a CSRF token from the login form) gets private pages."""
    client = app.test_client()
    client.get("/login")
    assert client.get_cookie("session") is not None
    for path in public_pages:
        assert client.get(path).headers["Cache-Control"] == httpcache.PRIVATE, path


def test_guard_makes_a_cookie_setting_public_response_private(app, caplog):
    """A shared-cacheable view that touches the session is caught: private, and logged."""

    @httpcache.shared_cacheable
    def leaky():
        flask_session["oops"] = 1
        return "hello"

    app.add_url_rule("/leaky", view_func=leaky)
    response = app.test_client().get("/leaky")
    assert response.status_code == 200 and "Set-Cookie" in response.headers
    assert response.headers["Cache-Control"] == httpcache.PRIVATE
    assert "shared-cacheable response set a cookie" in caplog.text
