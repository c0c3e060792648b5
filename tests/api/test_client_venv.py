"""Done when: a learner's fresh venv (wandb + the client from the site) gets a run onto the page.

The venv is made without system site packages and wandb is installed into it with
pip, so the server's packages (Flask, portfolio) cannot leak in; the client is
pip-installed from the running app's /client/latest (``--no-index --no-deps``). The
training script is real (wandb.init(mode="offline") and the two lines); the scheduler's
import job then imports the upload. Slow (a venv and a wandb install), so SQLite pass only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from importlib.metadata import version
from pathlib import Path

import pytest

from scheduler import jobs

from .conftest import World, wandb_env

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


def sh(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_fresh_venv_installs_the_client_from_the_site_and_the_run_reaches_the_page(
    app, tmp_path, world: World, fake_wandb, live_url, client, login_as
):
    home = tmp_path / "learner"
    home.mkdir()
    venv.create(home / "venv", with_pip=True, system_site_packages=False)
    python = str(home / "venv" / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    got = sh(python, "-m", "pip", "install", "-q", f"wandb=={version('wandb')}", cwd=home, env=env)
    assert got.returncode == 0, got.stderr[-2000:]
    got = sh(python, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
             f"{live_url}/client/latest", cwd=home, env=env)  # fmt: skip
    assert got.returncode == 0, got.stderr[-2000:]
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
