"""CSRF: token requests are exempt; requests riding on the session cookie are not."""

from __future__ import annotations

from ..conftest import csrf_token
from .conftest import World, bearer, problem, snapshot_tables

BODY = {"title": "From the browser", "allow_second": True}


def test_cookie_write_without_csrf_is_refused(client, session, world: World, login_as):
    """A signed-in browser's write without X-CSRFToken is a 403 and writes nothing."""
    login_as(world.owner)
    before = snapshot_tables(session)
    response = client.post("/api/v1/projects", json=BODY)
    assert response.status_code == 403
    assert "X-CSRFToken" in problem(response)["detail"]
    response = client.patch(
        f"/api/v1/projects/{world.project.id}",
        json={"title": "Hijacked"},
        headers={"X-CSRFToken": "not-the-token"},
    )
    assert response.status_code == 403
    assert snapshot_tables(session) == before


def test_cookie_write_with_csrf_header_works(client, world: World, login_as):
    """The same write with the page's CSRF token in X-CSRFToken goes through."""
    login_as(world.owner)
    token = csrf_token(client, "/settings/tokens")
    response = client.post("/api/v1/projects", json=BODY, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.get_data(as_text=True)
    me = client.get("/api/v1/me").get_json()  # reads need no CSRF token
    assert me["auth"] == "session" and me["token"] is None


def test_token_writes_need_no_csrf(client, world: World):
    """A Bearer request is exempt: browsers never attach a token on their own."""
    response = client.post("/api/v1/projects", json=BODY, headers=world.headers("write"))
    assert response.status_code == 201


def test_a_bad_token_never_falls_back_to_the_cookie(client, session, world: World, login_as):
    """With an Authorization header, the cookie is ignored: a bad token is a 401."""
    login_as(world.owner)
    before = snapshot_tables(session)
    token = csrf_token(client, "/settings/tokens")
    for state in ("revoked", "expired"):
        response = client.post(
            "/api/v1/projects",
            json=BODY,
            headers={**world.headers(state), "X-CSRFToken": token},
        )
        assert response.status_code == 401
    # Another user's token acts as that user, not as the signed-in one.
    response = client.get(f"/api/v1/projects/{world.project.id}", headers=world.headers("other"))
    assert response.status_code == 404
    assert snapshot_tables(session) == before


def test_token_and_cookie_together_use_the_token(client, world: World, login_as):
    """A read token stays read-only even when its holder is also signed in."""
    login_as(world.owner)
    response = client.post("/api/v1/projects", json=BODY, headers=world.headers("read"))
    assert response.status_code == 403
    assert client.get("/api/v1/me", headers=world.headers("read")).get_json()["auth"] == "token"


def test_anonymous_writes_are_401_not_403(client, world: World):
    """Without a session there is nothing to forge: the answer is "send a token"."""
    response = client.post("/api/v1/projects", json=BODY)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Seasons"'
    assert bearer(None) == {}
