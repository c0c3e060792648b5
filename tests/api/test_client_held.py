"""Re-uploading the same run with the client follows the never-worse rule, and says so.

A real 300-step offline run (written by wandb) is pushed and imported; then the same run
cut in half is pushed with ``--wait``: the client warns that the file has no exit record,
the import job holds it, the command exits 1 with the reason, and ``seasons status``
lists the held upload and the run's waiting result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from portfolio.models import ImportState, OfflineImport, RunLink, RunSnapshot
from scheduler import jobs

from .conftest import CLIENT_SRC, wandb_env
from .test_client_upload import seasons

HELPER = Path(__file__).resolve().parents[1] / "tracking" / "make_offline_run.py"
SPEC = {
    "entity": "maya",
    "project": "houses",
    "name": "long",
    "tags": [],
    "config": {},
    "history": [{"val_rmse": 1.0 / (i + 1)} for i in range(300)],
    "summary": {},
}


@pytest.fixture(scope="module")
def long_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A finished 300-step offline run folder, and a copy whose run file is cut in half."""
    root = tmp_path_factory.mktemp("held")
    (root / "spec.json").write_text(json.dumps(SPEC))
    env = wandb_env(root) | {"WANDB_MODE": "offline"}
    done = subprocess.run(
        [sys.executable, str(HELPER), str(root), str(root / "spec.json")],
        capture_output=True, text=True, env=env, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (whole,) = (root / "wandb").glob("offline-run-*")
    half = root / "cut" / whole.name
    shutil.copytree(whole, half)
    (run_file,) = half.glob("run-*.wandb")
    data = run_file.read_bytes()
    run_file.write_bytes(data[: len(data) // 2])
    return whole, half


def test_pushing_half_a_run_again_is_held_and_the_cli_says_why(
    app, session, world, fake_wandb, live_url, long_run
):
    whole, half = long_run
    root = whole.parent
    first = seasons(live_url, world.tokens["write"], "push", str(whole), "--project",
                    "house-prices", root=root)  # fmt: skip
    assert first.returncode == 0 and "warning" not in first.stderr, first.stderr
    assert jobs.import_offline_runs(app) == {"done": 1}

    # push --wait blocks until the import ends: run the job once the upload is queued.
    env = wandb_env(root) | {"PYTHONPATH": str(CLIENT_SRC), "XDG_CONFIG_HOME": str(root / "x")}
    env |= {"SEASONS_URL": live_url, "SEASONS_TOKEN": world.tokens["write"]}
    waiting = subprocess.Popen(
        [sys.executable, "-m", "seasons_client.cli", "push", str(half), "--project",
         "house-prices", "--wait", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        for _ in range(600):
            session.expire_all()
            queued = session.exec(
                select(OfflineImport).where(OfflineImport.state == ImportState.queued)
            ).first()
            if queued is not None or waiting.poll() is not None:
                break
            time.sleep(0.1)
        assert jobs.import_offline_runs(app) == {"held": 1}
        out, err = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            os.kill(waiting.pid, 9)
            waiting.wait()
    assert waiting.returncode == 1, (out, err)
    # The client saw it first: wandb's reader finds no exit record in the cut file.
    assert f"seasons: warning: {half.name} has no exit record" in err
    assert "held: This upload is incomplete:" in err and "of 300 steps" in err

    # The finished run is what the page keeps.
    session.expire_all()
    link = session.exec(select(RunLink).where(RunLink.provider == "wandb-offline")).one()
    assert session.get(RunSnapshot, link.current_snapshot_id).state == "finished"
    assert link.held_snapshot_id is not None

    status = seasons(live_url, world.tokens["read"], "status", "house-prices", root=root)
    assert status.returncode == 0, status.stderr
    assert f"upload {half.name}.zip\theld\tThis upload is incomplete:" in status.stdout
    assert "\tnot applied: This upload is incomplete:" in status.stdout
