"""Shared fixtures: an app on SQLite (or PostgreSQL when TEST_DATABASE_URL is set).

The schema is built once per test session by running the real migrations,
and every table is emptied after each test, which is much faster than
rebuilding the schema and still gives each test a clean database.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from portfolio import create_app
from portfolio.db import make_engine
from portfolio.migrate import upgrade
from portfolio.models import Project, Role, Season, User
from portfolio.projects import service as project_service
from portfolio.seasons import service as season_service

# Fixtures that build projects with synced runs live in their own module.
pytest_plugins = ["tests.fixtures_runs", "tests.fixtures_storage", "tests.tracking.mlflow_fixtures"]

TEST_PASSWORD = "correct horse battery staple"


def reset_database(engine: Engine) -> None:
    """Drop everything so the migrations start from nothing."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            SQLModel.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            if _has_sequence(conn):
                conn.execute(text("DELETE FROM sqlite_sequence"))


def _has_sequence(conn) -> bool:
    return bool(
        conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sqlite_sequence'")
        ).first()
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        from portfolio.config import normalize_database_url

        return normalize_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    reset_database(engine)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def app(migrated_engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": secrets.token_hex(32),
            "LOG_FORMAT": "text",
            "SCHEDULER_IN_WEB": False,
            # Rate limits have their own tests, which lower these again.
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "SIGNUP_RATE_LIMIT": "1000 per minute",
            "ACCOUNT_EMAIL_RATE_LIMIT": "1000 per minute",
            "ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT": "1000 per minute",
        }
    )
    yield app
    app.extensions["engine"].dispose()
    empty_tables(migrated_engine)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture()
def session(app: Flask) -> Iterator[Session]:
    """A session of its own, for arranging and checking data outside requests."""
    with Session(app.extensions["engine"], expire_on_commit=False) as session:
        yield session


@pytest.fixture()
def make_user(app: Flask):
    """Create a user through the real service; returns the User."""
    from portfolio.auth import service

    counter = iter(range(1, 10_000))

    def factory(
        handle: str | None = None,
        *,
        role: Role = Role.learner,
        email: str | None = None,
        timezone: str = "UTC",
        password: str = TEST_PASSWORD,
    ) -> User:
        n = next(counter)
        handle = handle or f"user-{n}"
        with Session(app.extensions["engine"], expire_on_commit=False) as s:
            user = service.register(
                s,
                email=email or f"{handle}@example.com",
                handle=handle,
                display_name=handle.replace("-", " ").title(),
                password=password,
                timezone=timezone,
                role=role,
            )
            s.commit()
            return user

    return factory


@pytest.fixture()
def make_project(app, session):
    """Plan a project through the real service and commit it.

    The app context is pushed only for the call: a context left pushed would be
    shared by the test client's requests (and with it ``g`` and the login).
    """

    def factory(
        owner: User,
        *,
        title: str = "House prices",
        season: Season | None = None,
        team: list[str] | None = None,
        now: datetime | None = None,
        allow_second: bool = False,
    ) -> Project:
        now = now or datetime.now(UTC)
        with app.app_context():
            season = season or season_service.ensure_current_and_next(session, now.date())[0]
            project = project_service.create(
                session,
                owner=session.merge(owner),
                season=season,
                fields=project_service.ProjectFields(title, "A one-line summary", "## Problem", ""),
                team_handles=team or [],
                allow_second=allow_second,
                now=now,
            )
            session.commit()
        return project

    return factory


@pytest.fixture()
def fresh_engine(database_url: str, tmp_path) -> Iterator[Engine]:
    """An empty database of the suite's kind: a new SQLite file or a new PG database."""
    if not database_url.startswith("postgresql"):
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    url = make_url(database_url)
    name = f"seasons_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """Fetch a page and read the CSRF token its form carries."""
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, user: User, password: str = TEST_PASSWORD):
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}
    )


@pytest.fixture()
def login_as(client: FlaskClient):
    def do(user: User, password: str = TEST_PASSWORD) -> FlaskClient:
        response = login(client, user, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass (TEST_DATABASE_URL set), run only tests that reach it.

    A test that never asks for `database_url` (directly or through `app`, `session`,
    `make_user`, …) and is not marked `postgres` does exactly the same work on both
    passes: it renders charts, parses markdown, builds a wheel or starts its own SQLite
    app. The SQLite pass has run it; running it again would only cost CI time.
    Browser tests drive pages whose database work the other PostgreSQL tests cover;
    they run here only when marked `postgres`.
    """
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    kept, deselected = [], []
    for item in items:
        names = getattr(item, "fixturenames", ())
        reaches = "database_url" in names
        browser = item.get_closest_marker("browser") or {"page", "browser"} & set(names)
        if browser and not item.get_closest_marker("postgres"):
            reaches = False
        (kept if reaches or item.get_closest_marker("postgres") else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


# Playwright's own browser download does not work on these machines, so browser tests
# use Debian's Chromium (installed by scripts/system-deps.sh).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the run, started on first use.

    Playwright allows one ``sync_playwright()`` at a time per process, so all browser
    tests (tests/e2e, tests/charts, tests/discussion) share this fixture; runs that
    ask for no browser never start it.
    """
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: scripts/system-deps.sh should have installed it")
        pytest.skip("Chromium is not installed (run scripts/system-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
