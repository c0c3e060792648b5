"""The two-line client (clients/python, seasons_client) against the real app on 127.0.0.1.

The end-to-end tests run a training script in a subprocess (wandb.init, then the two
added lines), as a learner would; the failure tests call the client in process with a
stand-in run, since they are about what it does when things go wrong.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
from seasons_client import SeasonsWarning, link_run
from sqlmodel import select

from devtools.wandb.fakeserver import FakeWandb
from portfolio.models import ImportState, OfflineImport, RunLink, RunSnapshot
from scheduler import jobs

from .conftest import World

CLIENT_SRC = str(Path(__file__).resolve().parents[2] / "clients" / "python")

SCRIPT = """
import sys
import wandb

run = wandb.init(
    mode=sys.argv[3], dir=sys.argv[1], entity="maya", project="houses", id=sys.argv[2],
    settings=wandb.Settings(console="off", x_disable_stats=True, x_disable_meta=True),
)
from seasons_client import link_run
returned = link_run(run, project="house-prices")
run.log({"loss": 0.5})
if sys.argv[4] == "finish":
    run.finish()  # else the client's atexit hook finishes the run, then uploads it
print("RETURNED", returned)
"""


def run_script(
    tmp_path: Path, url: str, token: str, run_id: str, end: str = "finish"
) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(
        SEASONS_URL=url,
        SEASONS_TOKEN=token,
        WANDB_SILENT="true",
        WANDB_ERROR_REPORTING="false",
        WANDB_CACHE_DIR=str(tmp_path / "cache"),
        WANDB_CONFIG_DIR=str(tmp_path / "config"),
        WANDB_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=CLIENT_SRC,
    )
    return subprocess.run(
        [
            sys.executable,
            "-W",
            "error::UserWarning",
            str(script),
            str(tmp_path),
            run_id,
            "offline",
            end,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("end", ["finish", "exit"])
def test_a_training_script_uploads_its_offline_run(
    app, tmp_path, session, world: World, fake_wandb: FakeWandb, live_url: str, end: str
):
    """wandb.init(mode="offline") + two lines: uploaded at finish (or exit), then imported."""
    done = run_script(tmp_path, live_url, world.tokens["write"], "clientrun1", end)
    assert done.returncode == 0, done.stderr
    page = f"{live_url}/u/maya/house-prices"
    assert f"it will be uploaded to “House prices” when it finishes: {page}" in done.stdout
    assert "uploaded the offline run; importing it now: " in done.stdout
    assert f"RETURNED {page}" in done.stdout
    (job,) = session.exec(select(OfflineImport)).all()
    assert (job.project_id, job.state) == (world.project.id, ImportState.queued)
    assert jobs.import_offline_runs(app) == {"done": 1}
    session.expire_all()
    link = session.exec(select(RunLink).where(RunLink.ref == "maya/houses/clientrun1")).one()
    snapshot = session.get(RunSnapshot, link.current_snapshot_id)
    assert snapshot is not None and snapshot.summary["loss"] == 0.5


RUN = SimpleNamespace(entity="maya", project="houses", id="run2")


def test_linking_in_process(world: World, fake_wandb, live_url, capsys, monkeypatch):
    """With the settings in the environment, link_run returns the page and prints it."""
    monkeypatch.setenv("SEASONS_URL", live_url + "/")
    monkeypatch.setenv("SEASONS_TOKEN", world.tokens["write"])
    assert link_run(RUN, project="maya/house-prices") == f"{live_url}/u/maya/house-prices"
    assert link_run(RUN, project=world.project.id, label="v2") is not None
    assert "linked W&B run maya/houses/run2" in capsys.readouterr().out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("run", "kwargs", "words"),
    [
        (RUN, {"url": f"http://127.0.0.1:{closed_port()}"}, "could not reach Seasons"),
        (RUN, {"token": "revoked"}, "401: That token was revoked"),
        (RUN, {"token": "read"}, "403: This token has no write scope"),
        (RUN, {"project": "no-such-project"}, "none of your projects"),
        (SimpleNamespace(entity="", project="houses", id="x1"), {}, "no entity"),
        (object(), {}, "no entity"),
        (SimpleNamespace(entity="maya", project="houses", id="gone"), {}, "does not exist"),
    ],
)
def test_failures_warn_and_never_raise(world, fake_wandb, live_url, run, kwargs, words):
    """Training goes on: every failure is a SeasonsWarning and a None."""
    kwargs = dict(kwargs)
    token = world.tokens[kwargs.pop("token", "write")]
    options = {"url": live_url, "token": token, "project": "house-prices", **kwargs}
    with pytest.warns(SeasonsWarning, match=words):
        assert link_run(run, **options) is None


def test_missing_settings_warn(monkeypatch):
    monkeypatch.delenv("SEASONS_URL", raising=False)
    monkeypatch.delenv("SEASONS_TOKEN", raising=False)
    with pytest.warns(SeasonsWarning, match="SEASONS_URL"):
        assert link_run(RUN, project="p") is None
    with pytest.warns(SeasonsWarning, match="SEASONS_TOKEN"):
        assert link_run(RUN, project="p", url="http://127.0.0.1:9") is None


def test_a_silent_server_times_out_with_a_warning():
    """A server that accepts but never answers costs `timeout` seconds, then a warning."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.warns(SeasonsWarning, match="could not reach"):
            assert link_run(RUN, project="p", url=url, token="t", timeout=0.3) is None


def test_warnings_as_errors_still_do_not_raise(capsys):
    """Under -W error the message goes to stderr instead of stopping the script."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            link_run(RUN, project="p", url=f"http://127.0.0.1:{closed_port()}", token="t") is None
        )
    assert "could not reach Seasons" in capsys.readouterr().err
