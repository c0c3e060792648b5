"""Fixtures for the API tests: tokens in every state, a learner's world, a fake W&B.

The app is pointed at a FakeWandb on 127.0.0.1 (the real wandb client talks to it), so
linking a run is checked with "W&B" exactly as in production, without the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlmodel import select
from werkzeug.serving import make_server

from devtools.wandb.fakeserver import FakeRun, FakeWandb
from portfolio.auth import tokens
from portfolio.models import (
    ApiToken,
    Milestone,
    Notification,
    Project,
    RunLink,
    RunSnapshot,
    SyncState,
    User,
    Visibility,
)
from portfolio.tracking.wandb_provider import configure_wandb

TOKEN_STATES = ("none", "read", "revoked", "expired", "other", "write")
WANDB_KEY = "seasonsapitestkey" * 3  # wandb refuses keys shorter than 40 characters
WANDB_TIMEOUT = 2.0
# Tables an API call may change; the API-token table is left out (last use is recorded).
WATCHED = (
    "projects",
    "project_slugs",
    "project_members",
    "project_tags",
    "milestones",
    "updates",
    "feedback_requests",
    "run_links",
    "notifications",
)


@pytest.fixture()
def make_token(app, session) -> Callable[..., str]:
    """Create a token through the service; returns the secret a script would hold."""

    def factory(
        user: User, *, access: str = "write", state: str = "active", name: str | None = None
    ) -> str:
        now = datetime.now(UTC)
        with app.app_context():
            new = tokens.create(
                session,
                session.merge(user),
                name=name or f"{access}-{state}-{now.timestamp()}",
                access=access,
                expires_at=now + timedelta(days=30),
                now=now,
            )
            if state == "revoked":
                tokens.revoke(session, user.id, new.token.id, now=now)
            elif state == "expired":
                token = session.get(ApiToken, new.token.id)
                token.expires_at = now - timedelta(seconds=1)
                session.add(token)
            session.commit()
        return new.secret

    return factory


def bearer(secret: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


@dataclass
class World:
    """maya's draft project (with a synced run and a notification); theo's public one."""

    owner: User
    project: Project
    milestone: Milestone
    link: RunLink
    notification: Notification
    other: User
    public_project: Project
    tokens: dict[str, str | None]

    def headers(self, state: str) -> dict[str, str]:
        return bearer(self.tokens[state])


@pytest.fixture()
def world(make_user, make_project, make_token, session) -> World:
    owner = make_user("maya")
    other = make_user("theo")
    project = make_project(owner, title="House prices")
    public_project = make_project(other, title="Bird songs")
    public_project.visibility = Visibility.public
    session.add(public_project)
    milestone = session.exec(select(Milestone).where(Milestone.project_id == project.id)).first()
    now = datetime.now(UTC)
    link = RunLink(
        project_id=project.id,
        ref="maya/houses/run1",
        base_url="https://api.wandb.ai",
        label="Baseline",
        sync_state=SyncState.synced,
        last_synced_at=now,
        next_sync_at=now + timedelta(hours=1),
        created_at=now,
    )
    session.add(link)
    session.flush()
    snapshot = RunSnapshot(
        run_link_id=link.id,
        run_id="run1",
        name="baseline",
        state="finished",
        url="https://wandb.ai/maya/houses/runs/run1",
        summary={"rmse": 0.31, "loss": "NaN", "note": "<b>ok</b>"},
    )
    session.add(snapshot)
    session.flush()
    link.current_snapshot_id = snapshot.id
    notification = Notification(user_id=owner.id, kind="comment", title="Theo commented")
    session.add_all([link, notification])
    session.commit()
    states: dict[str, str | None] = {
        "none": None,
        "read": make_token(owner, access="read"),
        "write": make_token(owner, access="write"),
        "revoked": make_token(owner, state="revoked"),
        "expired": make_token(owner, state="expired"),
        # Another user's valid write token: it must not reach maya's things.
        "other": make_token(other, access="write"),
    }
    return World(
        owner,
        project,
        session.get(Milestone, milestone.id),
        link,
        notification,
        other,
        public_project,
        states,
    )


@pytest.fixture(scope="session")
def wandb_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("api-wandb")
    configure_wandb(home, timeout=WANDB_TIMEOUT, retries=0)
    return home


@pytest.fixture()
def fake_wandb(app, wandb_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWandb]:
    """A fake W&B on 127.0.0.1 holding maya's run; the app's server-wide key fits it."""
    # The session's wandb setup, never reconfigured: the settings read wandb's own variable.
    monkeypatch.setenv("WANDB_DIR", str(wandb_home))
    with FakeWandb(api_key=WANDB_KEY, default_entity="maya") as fake:
        fake.add_run(FakeRun(entity="maya", project="houses", run_id="run2", display_name="v2"))
        app.config.update(
            WANDB_BASE_URL=fake.url,
            WANDB_API_KEY=WANDB_KEY,
            WANDB_TIMEOUT=WANDB_TIMEOUT,
            WANDB_RETRIES=0,
            WANDB_LINK_CHECK_SECONDS=10.0,
        )
        yield fake


def snapshot_tables(session) -> dict[str, list[tuple]]:
    """Every row of the tables an API call may change, to prove a refused call wrote nothing."""
    session.expire_all()
    return {
        name: [tuple(r) for r in session.execute(text(f"SELECT * FROM {name} ORDER BY id"))]
        for name in WATCHED
    }


def problem(response) -> dict:
    """Assert an RFC 9457 problem document and return it."""
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    body = response.get_json(force=True)
    assert body["status"] == response.status_code
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"] and body["instance"]
    return body


def call(client: FlaskClient, method: str, path: str, **kwargs):
    return client.open(path, method=method, **kwargs)


@pytest.fixture()
def live_url(app) -> Iterator[str]:
    """Serve the app on 127.0.0.1 in a thread, as `flask run` would."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join()
    server.server_close()


CLIENT_SRC = Path(__file__).resolve().parents[2] / "clients" / "python"

OFFLINE_RUNS = """
import sys
import wandb

for n, run_id in enumerate(sys.argv[2:]):
    run = wandb.init(
        mode="offline", dir=sys.argv[1], entity="maya", project="houses", id=run_id,
        settings=wandb.Settings(console="off", x_disable_stats=True, x_disable_meta=True),
    )
    run.log({"loss": 1.0 / (n + 1)})
    run.finish()
"""


def wandb_env(root: Path) -> dict[str, str]:
    """A training process's environment: wandb quiet and kept inside ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SEASONS_"))}
    env.update(
        WANDB_SILENT="true",
        WANDB_ERROR_REPORTING="false",
        WANDB_CACHE_DIR=str(root / "cache"),
        WANDB_CONFIG_DIR=str(root / "config"),
        WANDB_DATA_DIR=str(root / "data"),
    )
    return env


def write_offline_runs(root: Path, *run_ids: str) -> list[Path]:
    """Write real offline runs with wandb (in a subprocess) and return their folders."""
    script = root / "offline_runs.py"
    script.write_text(OFFLINE_RUNS)
    done = subprocess.run(
        [sys.executable, str(script), str(root), *run_ids],
        capture_output=True, text=True, env=wandb_env(root), timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [next((root / "wandb").glob(f"offline-run-*-{r}")) for r in run_ids]
