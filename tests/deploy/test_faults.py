"""Faults: with Redis down pages still serve; with the database down, a plain 503."""

from __future__ import annotations

import pytest
from flask import Flask

from portfolio import create_app
from portfolio.models import Season
from tests.conftest import CSRF_RE, login

from .procs import closed_port


def _app(tmp_path, secret: str, **overrides) -> Flask:
    """A production-like app (not TESTING: CSRF and error pages as served)."""
    return create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "faulty"),
            "SECRET_KEY": secret,
            "CREDENTIALS_KEY": "c" * 48,
            "LOG_FORMAT": "text",
            "SCHEDULER_IN_WEB": False,
            **overrides,
        }
    )


@pytest.fixture()
def redis_down(app, database_url, tmp_path):
    """The suite's database, and REDIS_URL pointing at a loopback port nobody listens on."""
    from portfolio.config import from_env

    settings = from_env(tmp_path, {"REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"})
    redis_keys = [k for k in settings if k.startswith(("CACHE_", "RATELIMIT_", "REDIS_"))]
    faulty = _app(
        tmp_path,
        app.config["SECRET_KEY"],
        DATABASE_URL=database_url,
        LOGIN_RATE_LIMIT="3 per minute",
        **{k: settings[k] for k in redis_keys},
    )
    assert faulty.config["CACHE_TYPE"].endswith("FailOpenRedisCache")
    yield faulty
    faulty.extensions["engine"].dispose()


def test_redis_down_public_pages_still_serve(redis_down, session, published):
    """Pages, charts and the discussion render with Redis refusing: the cache is a miss."""
    _, project = published
    season = session.get(Season, project.season_id)
    client = redis_down.test_client()
    base = f"/u/maya/{project.slug}"
    for path in ["/", "/u/maya", base, base, base + "/charts/0.svg", f"/seasons/{season.slug}"]:
        response = client.get(path)
        assert response.status_code == 200, path
    assert b"Digit classifier" in client.get(base).data


def test_redis_down_rate_limits_fall_back_to_memory(redis_down, make_user):
    """Log-in works with Redis down, and its limit still holds, per process, in memory."""
    user = make_user("maya")
    client = redis_down.test_client()
    statuses = []
    for _ in range(4):
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
        statuses.append(
            client.post(
                "/login", data={"email": user.email, "password": "wrong", "csrf_token": token}
            ).status_code
        )
    # A wrong password is the form's 422; the fourth try in a minute is refused.
    assert statuses == [422, 422, 422, 429]


@pytest.fixture()
def database_down(tmp_path, app):
    """An app whose DATABASE_URL points at a closed loopback port (same secret key)."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/seasons"
    faulty = _app(tmp_path, app.config["SECRET_KEY"], DATABASE_URL=url)
    yield faulty
    faulty.extensions["engine"].dispose()


def _assert_plain_503(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] and response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "briefly unavailable" in body
    assert "Traceback" not in body and "psycopg" not in body and "sqlalchemy" not in body


def test_database_down_pages_answer_a_plain_503(database_down):
    """Every page that needs the database answers the 503 page, not a traceback."""
    client = database_down.test_client()
    for path in ["/u/maya", "/u/maya/house-prices", "/seasons", "/seasons/2027-q1"]:
        response = client.get(path)
        _assert_plain_503(response)
        assert response.mimetype == "text/html", path
    api = client.get("/api/v1/public/users/maya/projects")
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    assert api.get_json()["status"] == 503 and api.headers["Retry-After"]
    # Liveness: the process answers; readiness names the database as what failed.
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "database" in ready.get_json()["failed"]


def test_database_down_signed_in_user_gets_the_503_page(database_down, client, make_user):
    """A signed-in visitor (whose user is loaded from the database) gets the same page."""
    assert login(client, make_user("maya")).status_code == 302
    cookie = client.get_cookie("session")
    down = database_down.test_client()
    down.set_cookie("session", cookie.value)
    _assert_plain_503(down.get("/dashboard"))
    _assert_plain_503(down.get("/"))


def test_fail_open_cache_stores_and_reads_when_redis_is_up(app, tmp_path):
    """The fail-open cache is a normal Redis cache while Redis answers.

    Database 14: test_two_hosts flushes 13, and the two test passes run at once.
    """
    from portfolio.config import from_env
    from portfolio.extensions import cache

    settings = from_env(tmp_path, {"REDIS_URL": "redis://127.0.0.1:6379/14"})
    live = _app(
        tmp_path,
        app.config["SECRET_KEY"],
        DATABASE_URL=app.config["DATABASE_URL"],
        **{k: v for k, v in settings.items() if k.startswith(("CACHE_", "RATELIMIT_", "REDIS_"))},
    )
    key = f"fault-test:{tmp_path.name}"
    with live.app_context():
        assert cache.set(key, b"bytes", timeout=30)
        assert cache.get(key) == b"bytes" and cache.get_many(key, key + "x") == [b"bytes", None]
        cache.delete(key)
        assert cache.get(key) is None
    live.extensions["engine"].dispose()
