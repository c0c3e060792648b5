"""The factory, config, health check, error pages and the demo loader."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portfolio import config, create_app
from portfolio.models import (
    Comment,
    FeedbackRequest,
    MentorAssignment,
    Project,
    RunSnapshot,
    Update,
    User,
)

DEMO_MODELS = (User, Project, RunSnapshot, Comment, Update, FeedbackRequest, MentorAssignment)


def test_secret_key_generated_once_and_kept(tmp_path):
    """Without SECRET_KEY, a random key is written to the instance folder and reused."""
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": None})
    second = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": None})
    assert len(first.config["SECRET_KEY"]) >= 40
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0


def test_known_dev_secret_refused_outside_debug(tmp_path):
    with pytest.raises(RuntimeError, match="well-known"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "dev"})
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "dev", "DEBUG": True})
    assert app.config["SECRET_KEY"] == "dev"


def test_config_defaults_and_url_rewrite(tmp_path):
    settings = config.from_env(tmp_path, {"DATABASE_URL": "postgres://u@h/db", "REDIS_URL": ""})
    assert settings["DATABASE_URL"] == "postgresql+psycopg://u@h/db"
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"  # empty counts as unset
    default = config.from_env(tmp_path, {})
    assert default["DATABASE_URL"] == f"sqlite:///{tmp_path / 'seasons.db'}"
    redis = config.from_env(tmp_path, {"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert redis["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_env_example_lists_every_setting():
    """Every environment variable config.py reads is documented in .env.example."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = (root / "portfolio/config.py").read_text()
    read = set(re.findall(r'_env\(\s*(?:env|os\.environ[^,]*),\s*"([A-Z_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert read, "no settings found"
    assert read <= documented, read - documented


def test_healthz_ok(client):
    """Liveness: 200 while the process serves."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_database_down_healthz_200_readyz_503(tmp_path):
    """No database: the process is alive (/healthz 200) but not ready (/readyz 503, says why)."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x" * 40,
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
        }
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "unreachable"
    assert body["failed"] == ["database", "scheduler"]


def test_home_page_renders_content(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ship one ML project every season" in html
    assert 'href="/signup"' in html
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("path", "status"), [("/nowhere", 404), ("/healthz", 405)])
def test_error_pages_html_and_json(client, path, status):
    method = client.get if status == 404 else client.delete
    html = method(path)
    assert html.status_code == status
    assert "<main" in html.get_data(as_text=True)
    data = method(path, headers={"Accept": "application/json"})
    assert data.status_code == status
    assert data.get_json()["status"] == status


def test_unhandled_error_is_a_500_page(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "kaboom" not in response.get_data(as_text=True)


def test_demo_loader_is_idempotent(runner, session):
    """The demo trains real offline runs, imports them, and a second load adds nothing."""
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = {m.__name__: len(session.exec(select(m)).all()) for m in DEMO_MODELS}
    assert counts["User"] >= 4 and counts["Project"] == 5
    assert counts["RunSnapshot"] == 8 and counts["Comment"] >= 3 and counts["Update"] == 2
    assert counts["FeedbackRequest"] == 1 and counts["MentorAssignment"] >= 1
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "0 people and 0 projects created" in second.output
    session.expire_all()
    assert {m.__name__: len(session.exec(select(m)).all()) for m in DEMO_MODELS} == counts
    maya = session.exec(select(User).where(User.handle == "maya-okafor")).one()
    housing = session.exec(select(Project).where(Project.owner_id == maya.id)).all()
    assert any(p.body_md and "/images/" in p.body_md for p in housing)


@pytest.mark.parametrize(
    "settings",
    [
        {"SCHEDULER_TICK_SECONDS": 60, "SCHEDULER_LEASE_SECONDS": 90},
        {"IMPORT_LEASE_SECONDS": 100, "OFFLINE_IMPORT_TIMEOUT": 300},
    ],
)
def test_leases_shorter_than_their_renewal_are_refused_at_start(tmp_path, settings):
    """A lease that a healthy process could not keep renewed is a start-up error."""
    with pytest.raises(ValueError, match="must exceed"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 40, **settings})
