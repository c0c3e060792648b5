"""Fixtures for the tracking tests: a loopback fake W&B and a real offline run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.wandb.fakeserver import FakeWandb
from portfolio.tracking.wandb_provider import WandbProvider, configure_wandb

TEST_KEY = "seasonstestkey" * 3  # wandb refuses keys shorter than 40 characters
TIMEOUT = 1.0  # per HTTP request inside wandb-core: keeps failure tests fast
RETRIES = 1

LOGGED: dict[str, Any] = {
    "entity": "learner",
    "project": "seasons-offline",
    "name": "<script>alert('run')</script> baseline",
    "tags": ["portfolio", "baseline"],
    "config": {
        "lr": 0.001,
        "epochs": 4,
        "use_amp": True,
        "optimizer": {"name": "adam", "betas": [0.9, 0.999]},
        "<b>html</b>": "<img src=x onerror=alert(1)>",
    },
    "history": [
        {"loss": 1.0, "acc": 0.25},
        {"loss": math.nan, "acc": 0.5},
        {"loss": 0.5, "acc": math.inf},
        {"loss": 0.25, "acc": 0.75, "val/loss": -math.inf},
    ],
    "summary": {"best": {"acc": 0.75, "epoch": 3}, "note": "<b>done</b>"},
}


@dataclass(frozen=True)
class OfflineRun:
    """A run written by ``wandb.init(mode="offline")`` and what was logged into it."""

    run_dir: Path
    run_file: Path
    run_id: str
    logged: dict[str, Any]


@pytest.fixture(scope="session")
def wandb_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point wandb's files into a temp dir and bound core's retries, once per session."""
    home = tmp_path_factory.mktemp("wandb-home")
    configure_wandb(home, timeout=TIMEOUT, retries=RETRIES)
    return home


@pytest.fixture
def fake_wandb() -> Iterator[FakeWandb]:
    """Serve a fake W&B on 127.0.0.1 that accepts only TEST_KEY."""
    with FakeWandb(api_key=TEST_KEY, default_entity="learner") as fake:
        yield fake


@pytest.fixture
def provider(fake_wandb: FakeWandb, wandb_home: Path) -> WandbProvider:
    """Return a W&B provider pointed at the fake server."""
    return make_provider(fake_wandb, wandb_home)


def make_provider(fake: FakeWandb, home: Path, api_key: str | None = TEST_KEY) -> WandbProvider:
    """Build a provider with the test timeouts (also used with other keys)."""
    return WandbProvider(
        api_key=api_key, base_url=fake.url, data_dir=home, timeout=TIMEOUT, retries=RETRIES
    )


@pytest.fixture(scope="session")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> OfflineRun:
    """Write a real offline run with wandb itself (a few seconds, so once per session)."""
    root = tmp_path_factory.mktemp("offline")
    spec = root / "spec.json"
    spec.write_text(json.dumps(LOGGED))
    env = dict(os.environ)
    env.update(
        WANDB_MODE="offline",
        WANDB_ERROR_REPORTING="false",
        WANDB_SILENT="true",
        WANDB_CACHE_DIR=str(root / "cache"),
        WANDB_CONFIG_DIR=str(root / "config"),
        WANDB_DATA_DIR=str(root / "data"),
    )
    env.pop("WANDB_DIR", None)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("make_offline_run.py")), str(root), spec],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip().splitlines()[-1]
    (run_file,) = (root / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb")
    return OfflineRun(run_file.parent, run_file, run_id, LOGGED)


# --- Fixtures for the database half: the app pointed at the fake W&B ------------------


@pytest.fixture
def wandb_app(app, fake_wandb: FakeWandb, wandb_home: Path, monkeypatch: pytest.MonkeyPatch):
    """The test app with its server-wide W&B key and base URL on the fake server."""
    # The session's wandb setup, never reconfigured: the settings read wandb's own variable.
    monkeypatch.setenv("WANDB_DIR", str(wandb_home))
    app.config.update(
        WANDB_BASE_URL=fake_wandb.url,
        WANDB_API_KEY=TEST_KEY,
        WANDB_TIMEOUT=TIMEOUT,
        WANDB_RETRIES=RETRIES,
        WANDB_LINK_CHECK_SECONDS=10.0,
        WANDB_SYNC_BATCH=10,
    )
    return app


@pytest.fixture
def settings(wandb_app):
    """The tracking settings the services read from that app."""
    from portfolio.tracking.settings import TrackingSettings

    with wandb_app.app_context():
        return TrackingSettings.current()


@pytest.fixture
def ctx(wandb_app):
    """An app context for calling services directly (credentials need the app's key)."""
    with wandb_app.app_context():
        yield


@pytest.fixture
def learner(make_user):
    """A learner who owns ``project``."""
    return make_user("lena")


@pytest.fixture
def project(make_project, learner):
    """A draft project of ``learner``."""
    return make_project(learner, title="Digits")
