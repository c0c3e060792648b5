"""Never worse than before: a less complete upload or sync is held, members choose.

The runs are real: 300 steps written by ``wandb.init(mode="offline")``, and the same
file cut in half (what an interrupted copy leaves), which wandb's reader reads as far as
it goes: about 150 steps, state "running", no exit record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import func, select

from devtools.wandb.fakeserver import FakeRun, FakeWandb
from devtools.wandb.fakeserver_runs import fake_run_from_offline
from portfolio.models import ImportState, MetricSeries, OfflineImport, RunLink, RunSnapshot
from portfolio.tracking import imports, sync
from portfolio.tracking.offline import OfflineProvider
from scheduler import jobs
from tests.conftest import csrf_token

from .syncing import sync_now
from .test_tracking_import import NOW
from .test_tracking_import_queue import queue
from .test_tracking_views import post
from .test_tracking_zip import zip_bytes

STEPS = 300
SPEC = {
    "entity": "lena",
    "project": "digits",
    "name": "long run",
    "tags": [],
    "config": {"lr": 0.01},
    "history": [{"loss": 1.0 / (i + 1)} for i in range(STEPS)],
    "summary": {},
}


@dataclass(frozen=True)
class Runs:
    """One real offline run, whole and cut in half."""

    whole: Path
    half: Path
    run_id: str
    half_steps: int  # as far as wandb's reader gets in the cut file (about 150)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Write the 300-step run with wandb itself (a subprocess), then cut a copy in half."""
    root = tmp_path_factory.mktemp("complete")
    spec = root / "spec.json"
    spec.write_text(json.dumps(SPEC))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(WANDB_MODE="offline", WANDB_ERROR_REPORTING="false", WANDB_SILENT="true")
    env.update(WANDB_CACHE_DIR=str(root / "c"), WANDB_CONFIG_DIR=str(root / "cf"))
    helper = Path(__file__).with_name("make_offline_run.py")
    done = subprocess.run(
        [sys.executable, str(helper), str(root), str(spec)],
        capture_output=True, text=True, env=env, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip().splitlines()[-1]
    (whole,) = (root / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb")
    data = whole.read_bytes()
    half = root / "half" / whole.name
    half.parent.mkdir()
    half.write_bytes(data[: len(data) // 2])
    half_steps = sum(1 for _ in OfflineProvider().iter_history(str(half)))
    assert 100 < half_steps < 200
    return Runs(whole, half, run_id, half_steps)


def steps(session, snapshot_id: int) -> int:
    query = select(func.max(MetricSeries.original_count))
    return session.exec(query.where(MetricSeries.snapshot_id == snapshot_id)).one()


def current(session, link: RunLink) -> RunSnapshot:
    session.refresh(link)
    snapshot = session.get(RunSnapshot, link.current_snapshot_id)
    assert snapshot is not None
    return snapshot


def test_half_an_upload_never_replaces_the_finished_run(
    ctx, session, project, learner, runs: Runs
) -> None:
    """The cut file is read but held; the finished 300 steps stay, and members see why."""
    first = imports.import_offline(session, project, learner, runs.whole, now=NOW)
    session.commit()
    assert first.verdict.applied and first.verdict.warning == ""
    link = first.link
    kept = current(session, link)
    assert kept.state == "finished" and steps(session, kept.id) == STEPS
    version = project.version

    again = imports.import_offline(session, project, learner, runs.half, now=NOW)
    session.commit()
    assert not again.verdict.applied and again.link.id == link.id
    assert again.verdict.reason == f"This upload is incomplete: {runs.half_steps} of 300 steps."
    assert f"ends after {runs.half_steps} steps" in again.verdict.warning
    after = current(session, link)
    assert after.id == kept.id and after.state == "finished" and steps(session, after.id) == STEPS
    held = session.get(RunSnapshot, link.held_snapshot_id)
    assert held is not None and held.state == "running"
    assert steps(session, held.id) == runs.half_steps
    assert link.held_reason == again.verdict.reason
    session.refresh(project)
    assert project.version == version  # the public page did not change

    # The whole file again: applied, and the held result is gone.
    last = imports.import_offline(session, project, learner, runs.whole, now=NOW)
    session.commit()
    assert last.verdict.applied
    session.refresh(link)
    assert link.held_snapshot_id is None and link.held_reason == ""
    assert session.exec(select(func.count()).select_from(RunSnapshot)).one() == 1


def test_a_first_upload_that_ends_early_is_imported_with_a_warning(
    ctx, session, project, learner, runs: Runs
) -> None:
    """Something beats nothing: with no results yet the partial run is shown, and flagged."""
    stored = imports.import_offline(session, project, learner, runs.half, now=NOW)
    session.commit()
    assert stored.verdict.applied
    assert f"ends after {runs.half_steps} steps" in stored.verdict.warning
    assert current(session, stored.link).state == "running"


def test_members_see_why_and_replace_anyway(
    wandb_app, session, project, learner, login_as, runs: Runs
) -> None:
    """The runs page names the reason; "Replace anyway" makes the partial run current."""
    with wandb_app.app_context():
        link = imports.import_offline(session, project, learner, runs.whole, now=NOW).link
        imports.import_offline(session, project, learner, runs.half, now=NOW)
        session.commit()
    client = login_as(learner)
    manage = f"/u/lena/{project.slug}/runs"
    page = client.get(manage).get_data(as_text=True)
    assert f"This upload is incomplete: {runs.half_steps} of 300 steps." in page
    assert "Keep the current results" in page and "Replace anyway" in page

    response = post(client, f"{manage}/{link.id}/replace", {}, page=manage)
    assert response.status_code == 303
    snapshot = current(session, link)
    assert snapshot.state == "running" and steps(session, snapshot.id) == runs.half_steps
    assert link.held_snapshot_id is None
    assert session.exec(select(func.count()).select_from(RunSnapshot)).one() == 1
    # Nothing is waiting any more: a second press changes nothing and says so.
    again = post(client, f"{manage}/{link.id}/replace", {}, page=manage)
    assert again.status_code == 422
    assert "no newer result" in again.get_data(as_text=True)
    assert current(session, link).id == snapshot.id


def test_members_keep_the_current_results(
    wandb_app, session, project, learner, login_as, make_user, runs: Runs
) -> None:
    """ "Keep the current results" drops the held one; strangers may do neither."""
    with wandb_app.app_context():
        link = imports.import_offline(session, project, learner, runs.whole, now=NOW).link
        imports.import_offline(session, project, learner, runs.half, now=NOW)
        session.commit()
    session.refresh(link)
    kept, held = link.current_snapshot_id, link.held_snapshot_id
    make_user("mallory")
    from portfolio.models import User

    stranger = session.exec(select(User).where(User.handle == "mallory")).one()
    manage = f"/u/lena/{project.slug}/runs"
    client = login_as(stranger)
    refused = post(client, f"{manage}/{link.id}/replace", {})
    assert refused.status_code in (403, 404)
    session.refresh(link)
    assert link.current_snapshot_id == kept and link.held_snapshot_id == held
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings/wandb")})
    client = login_as(learner)
    response = post(client, f"{manage}/{link.id}/keep", {}, page=manage)
    assert response.status_code == 303
    session.refresh(link)
    assert link.current_snapshot_id == kept and link.held_snapshot_id is None
    assert session.get(RunSnapshot, held) is None


def test_queued_import_of_half_a_run_is_held_and_tells_the_uploader(
    ctx, wandb_app, session, project, learner, runs: Runs
) -> None:
    """The import job marks the upload "held" with the reason; the old snapshot stays."""
    imports.import_offline(session, project, learner, runs.whole, now=NOW)
    session.commit()
    name = f"{runs.half.parent.name}/{runs.half.name}"
    job = queue(session, project, learner, zip_bytes({name: runs.half.read_bytes()}).getvalue())
    assert jobs.import_offline_runs(wandb_app, now=NOW) == {"held": 1}
    job = session.get(OfflineImport, job.id, populate_existing=True)
    assert job.state == ImportState.held and job.error == ""
    assert job.warning == f"This upload is incomplete: {runs.half_steps} of 300 steps."
    assert job.ref.endswith(runs.run_id)


def test_a_sync_that_turns_a_finished_run_running_is_held(
    ctx, session, project, learner, fake_wandb: FakeWandb, runs: Runs
) -> None:
    """Online too: W&B answering with fewer steps and "running" keeps the finished run."""
    whole = fake_run_from_offline(runs.whole)
    fake_wandb.add_run(whole)
    from portfolio.tracking import link as links

    new = links.add_run_link(session, project, learner, whole_path(whole), now=NOW)
    session.commit()
    assert sync_now(session, new, now=NOW) == "synced"
    session.commit()
    kept = current(session, new)
    assert kept.state == "finished" and steps(session, kept.id) == STEPS

    fake_wandb.add_run(fake_run_from_offline(runs.half))  # same path: W&B now answers this
    assert sync_now(session, new, now=NOW) == "synced"
    session.commit()
    assert current(session, new).id == kept.id
    expected = f"The new result says the run is running again ({runs.half_steps} of 300 steps)"
    assert new.held_reason.startswith(expected)
    assert new.next_sync_at == NOW + sync.RUNNING_EVERY  # looked at again soon


def whole_path(run: FakeRun) -> str:
    return f"{run.entity}/{run.project}/{run.run_id}"


def test_the_operators_import_command_follows_the_rule(runner, session, project, runs: Runs):
    """`flask import-wandb-offline` imports the whole run, then refuses the half, saying why."""
    target = ["--project", f"lena/{project.slug}"]
    whole = runner.invoke(args=["import-wandb-offline", str(runs.whole), *target])
    assert whole.exit_code == 0, whole.output
    half = runner.invoke(args=["import-wandb-offline", str(runs.half), *target])
    assert half.exit_code == 1
    assert f"ends after {runs.half_steps} steps" in half.output  # the warning
    assert f"This upload is incomplete: {runs.half_steps} of 300 steps." in half.output
    link = session.exec(select(RunLink)).one()
    assert current(session, link).state == "finished" and link.held_snapshot_id is not None
