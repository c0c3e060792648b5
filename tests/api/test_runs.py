"""Linking W&B runs through the API, checked with the real wandb client against a fake W&B."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devtools.wandb.fakeserver import FakeRun, FakeWandb
from portfolio.models import RunLink, SyncState

from .conftest import World, problem, snapshot_tables


def runs_path(world: World) -> str:
    return f"/api/v1/projects/{world.project.id}/runs"


def test_link_by_url_then_by_path_is_idempotent(client, world: World, fake_wandb: FakeWandb):
    """A W&B URL links the run (queued for the scheduler); the same run again answers 200."""
    headers = world.headers("write")
    created = client.post(
        runs_path(world),
        json={"ref": f"{fake_wandb.url}/maya/houses/runs/run2/overview", "label": "v2"},
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    link = created.get_json()
    assert link["ref"] == "maya/houses/run2" and link["label"] == "v2"
    assert link["sync_state"] == "queued" and link["snapshot"] is None
    assert created.headers["Location"].endswith(f"/runs/{link['id']}")
    again = client.post(runs_path(world), json={"ref": "maya/houses/run2"}, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == link["id"]


def test_list_shows_sync_state_and_snapshot(client, world: World):
    items = client.get(runs_path(world), headers=world.headers("read")).get_json()["items"]
    [synced] = items
    assert synced["sync_state"] == "synced" and synced["sync_status"].startswith("synced")
    assert synced["snapshot"]["summary"]["rmse"] == 0.31
    assert synced["snapshot"]["url"] == "https://wandb.ai/maya/houses/runs/run1"


def test_missing_or_malformed_runs_are_422(client, session, world: World, fake_wandb):
    """W&B's own answer (no such run) and unreadable links are field errors; nothing saved."""
    before = snapshot_tables(session)
    for ref, words in [
        ("maya/houses/nope", "does not exist"),
        ("https://evil.example.com/maya/houses/runs/run2", "not W&B"),
        ("maya/houses", "not a run"),
    ]:
        response = client.post(runs_path(world), json={"ref": ref}, headers=world.headers("write"))
        assert response.status_code == 422, response.get_data(as_text=True)
        error = problem(response)["errors"][0]
        assert error["field"] == "ref" and words in error["message"]
    assert snapshot_tables(session) == before


def test_follow_a_wandb_project_by_tags(client, world: World, fake_wandb: FakeWandb):
    fake_wandb.add_run(FakeRun(entity="maya", project="houses", run_id="run3", tags=["best"]))
    response = client.post(
        runs_path(world),
        json={"ref": "maya/houses", "kind": "project", "tags": ["best", "final"]},
        headers=world.headers("write"),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["kind"] == "project_filter" and body["tags"] == ["best", "final"]


def test_sync_now_queues(client, session, world: World):
    """Asking for a sync queues it at once; the scheduler does the work."""
    path = f"{runs_path(world)}/{world.link.id}/sync"
    response = client.post(path, headers=world.headers("write"))
    assert response.status_code == 202
    assert response.get_json()["sync_state"] == "queued"
    session.expire_all()
    link = session.get(RunLink, world.link.id)
    assert link.sync_state == SyncState.queued
    assert link.next_sync_at <= datetime.now(UTC) + timedelta(seconds=1)
    got = client.get(f"{runs_path(world)}/{world.link.id}", headers=world.headers("read"))
    assert got.get_json()["sync_state"] == "queued"


def test_links_of_other_projects_are_404(client, session, world: World):
    other = RunLink(project_id=world.public_project.id, ref="theo/birds/r1", base_url="x")
    session.add(other)
    session.commit()
    for method, suffix in (("GET", ""), ("POST", "/sync")):
        response = client.open(
            f"{runs_path(world)}/{other.id}{suffix}", method=method, headers=world.headers("write")
        )
        assert response.status_code == 404


def test_without_a_wandb_key_the_reason_is_given(app, client, world: World, fake_wandb):
    """No server key and none of the learner's own: a 422 saying where to add one."""
    app.config["WANDB_API_KEY"] = None
    response = client.post(
        runs_path(world), json={"ref": "maya/houses/run2"}, headers=world.headers("write")
    )
    assert response.status_code == 422
    assert "key" in problem(response)["errors"][0]["message"]
