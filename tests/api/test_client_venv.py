"""Done when: a learner's fresh venv (wandb + the client from the site) gets a run onto the page.

The venv is made without system site packages and wandb is installed into it with
pip, so the server's packages (Flask, portfolio) cannot leak in; the client is
pip-installed from the running app's /client/latest (``--no-index --no-deps``). The
training scripts are real, with the two lines:

- offline (``wandb.init(mode="offline")``): the client uploads the run folder when the
  run finishes and the scheduler's import job imports it;
- online: the real wandb client creates the run on the loopback fake W&B server
  (``UpsertBucket``) and streams its history (``file_stream``); ``link_run`` links it,
  and the sync job reads it back through the same public API as in production.

Slow (a venv and a wandb install, shared by the module), so SQLite pass only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from scheduler import jobs

from .conftest import WANDB_KEY, World, wandb_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")),
        reason="the learner's side does not depend on the database; run on SQLite only",
    ),
]

TRAIN = """
import wandb

run = wandb.init(
    mode="offline", entity="maya", project="houses", id="venvrun1",
    settings=wandb.Settings(console="off", x_disable_stats=True, x_disable_meta=True),
)
from seasons_client import link_run
link_run(run, project="house-prices")
for step in range(5):
    run.log({"val_rmse": 0.9 - step * 0.1})
run.finish()
"""


TRAIN_ONLINE = """
import wandb

run = wandb.init(
    entity="maya", project="houses", id="online7", config={"lr": 0.01},
    settings=wandb.Settings(console="off", x_disable_stats=True, x_disable_meta=True),
)
from seasons_client import link_run
link_run(run, project="house-prices")
for step in range(5):
    run.log({"val_rmse": 0.9 - step * 0.1})
run.finish()
"""


def sh(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def learner_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with only wandb (the server's version) installed from the index."""
    home = tmp_path_factory.mktemp("learner")
    venv.create(home / "venv", with_pip=True, system_site_packages=False)
    python = str(home / "venv" / "bin" / "python")
    got = sh(python, "-m", "pip", "install", "-q", f"wandb=={version('wandb')}", cwd=home,
             env=base_env())  # fmt: skip
    assert got.returncode == 0, got.stderr[-2000:]
    yield home


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def install_client(home: Path, live_url: str) -> str:
    """pip-install the client from the running site only; return the venv's python."""
    python = str(home / "venv" / "bin" / "python")
    got = sh(python, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
             "--force-reinstall", f"{live_url}/client/latest", cwd=home,
             env=base_env())  # fmt: skip
    assert got.returncode == 0, got.stderr[-2000:]
    return python


def test_fresh_venv_installs_the_client_from_the_site_and_the_run_reaches_the_page(
    app, learner_venv: Path, world: World, fake_wandb, live_url, client, login_as
):
    home = learner_venv
    python = install_client(home, live_url)
    env = base_env()
    # The learner's venv has wandb and the client, and nothing of the server.
    for module in ("flask", "portfolio", "sqlmodel"):
        probe = sh(python, "-c", f"import {module}", cwd=home, env=env)
        assert probe.returncode == 1 and "ModuleNotFoundError" in probe.stderr, module
    assert sh(python, "-c", "import seasons_client, wandb", cwd=home, env=env).returncode == 0

    (home / "train.py").write_text(TRAIN)
    learner = wandb_env(home) | {
        "SEASONS_URL": live_url, "SEASONS_TOKEN": world.tokens["write"],
        "XDG_CONFIG_HOME": str(home / "xdg"),
    }  # fmt: skip
    learner.pop("PYTHONPATH", None)
    trained = sh(python, "-W", "error::UserWarning", "train.py", cwd=home, env=learner)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "uploaded the offline run; importing it now" in trained.stdout, trained.stderr

    assert jobs.import_offline_runs(app) == {"done": 1}
    login_as(world.owner)
    page = client.get("/u/maya/house-prices").get_data(as_text=True)
    assert "val_rmse" in page and "venvrun1" in page

    # The console script from the same wheel reads the same settings.
    seasons = str(home / "venv" / "bin" / "seasons")
    status = sh(seasons, "status", "house-prices", cwd=home, env=learner)
    assert status.returncode == 0 and "maya/houses/venvrun1\tsynced" in status.stdout
    assert sh(seasons, "nonsense", cwd=home, env=learner).returncode == 2
    assert sys.executable != python


def test_an_online_run_streamed_by_real_wandb_is_linked_and_reaches_the_page(
    app, learner_venv: Path, world: World, fake_wandb, live_url, client, login_as
):
    """wandb.init() online against the loopback W&B, the two lines, then the sync job."""
    home = learner_venv
    python = install_client(home, live_url)
    (home / "train_online.py").write_text(TRAIN_ONLINE)
    learner = wandb_env(home / "online") | {
        "WANDB_BASE_URL": fake_wandb.url, "WANDB_API_KEY": WANDB_KEY,
        "SEASONS_URL": live_url, "SEASONS_TOKEN": world.tokens["write"],
        "XDG_CONFIG_HOME": str(home / "xdg"),
    }  # fmt: skip
    learner.pop("PYTHONPATH", None)
    trained = sh(python, "-W", "error::UserWarning", "train_online.py", cwd=home, env=learner)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "linked W&B run maya/houses/online7" in trained.stdout, trained.stderr

    # What reached "W&B" came from wandb itself: the run, its config and streamed history.
    ops = fake_wandb.operations()
    assert "UpsertBucket" in ops and "Run" in ops  # created by the script, checked by the app
    assert any(r.operation == "file_stream" for r in fake_wandb.received)
    served = fake_wandb.find_run("maya", "houses", "online7")
    assert served is not None and served.state == "finished" and served.config == {"lr": 0.01}
    assert [row["val_rmse"] for row in served.history] == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5])

    assert jobs.sync_due_runs(app)["synced"] == 1
    login_as(world.owner)
    page = client.get("/u/maya/house-prices").get_data(as_text=True)
    assert "val_rmse" in page and "online7" in page
    runs = client.get(
        f"/api/v1/projects/{world.project.id}/runs", headers=world.headers("write")
    ).get_json()
    (linked,) = [r for r in runs["items"] if r["ref"] == "maya/houses/online7"]
    assert linked["sync_state"] == "synced" and linked["snapshot"]["state"] == "finished"
    assert linked["snapshot"]["summary"]["val_rmse"] == pytest.approx(0.5)
