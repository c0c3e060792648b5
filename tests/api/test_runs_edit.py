"""Editing a run link through the API: a follow's tags and matched runs, held results."""

from __future__ import annotations

from sqlmodel import select

from devtools.wandb.fakeserver import FakeRun, FakeWandb
from portfolio.models import MentorAssignment, Role, RunLink, RunSnapshot
from scheduler import jobs

from .conftest import World, bearer, problem, snapshot_tables


def runs_path(world: World) -> str:
    return f"/api/v1/projects/{world.project.id}/runs"


def test_follow_shows_matched_runs_and_its_tags_can_change(
    app, client, session, world: World, fake_wandb: FakeWandb
):
    """matched_runs comes from the last listing; new tags queue the follow and relist."""
    fake_wandb.add_run(FakeRun(entity="maya", project="houses", run_id="run3", tags=["best"]))
    fake_wandb.add_run(FakeRun(entity="maya", project="houses", run_id="run4", tags=["final"]))
    headers = world.headers("write")
    created = client.post(
        runs_path(world), json={"ref": "maya/houses", "kind": "project", "tags": ["best"]},
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.get_data(as_text=True)
    one = f"{runs_path(world)}/{created.get_json()['id']}"
    jobs.sync_due_runs(app)
    body = client.get(one, headers=world.headers("read")).get_json()
    assert body["sync_state"] == "synced" and body["matched_runs"] == 1
    assert body["matched"] == "1 run carries the tag best in maya/houses"

    edited = client.patch(one, json={"tags": ["best", "final"]}, headers=headers)
    assert edited.status_code == 200, edited.get_data(as_text=True)
    body = edited.get_json()
    assert body["tags"] == ["best", "final"] and body["sync_state"] == "queued"
    assert body["matched_runs"] is None and body["matched"] == ""
    jobs.sync_due_runs(app)
    body = client.get(one, headers=headers).get_json()
    assert body["matched_runs"] == 2 and body["label"] == ""
    children = [r for r in client.get(runs_path(world), headers=headers).get_json()["items"]]
    assert sorted(r["ref"] for r in children if r["parent_id"] == body["id"]) == [
        "maya/houses/run3",
        "maya/houses/run4",
    ]

    relabelled = client.patch(one, json={"label": "Best runs", "hidden": True}, headers=headers)
    body = relabelled.get_json()
    assert body["label"] == "Best runs" and body["hidden"] is True
    assert body["tags"] == ["best", "final"] and body["matched_runs"] == 2  # tags kept


def test_bad_edits_are_clear_errors_and_change_nothing(client, session, world: World):
    """Tags on a run, commas, long tags, unknown fields, read tokens, others' links."""
    follow = RunLink(
        project_id=world.project.id, kind="project_filter", ref="maya/houses",
        base_url="https://api.wandb.ai", tag_filter="best", matched_runs=3,
        next_sync_at=world.link.next_sync_at, created_at=world.link.created_at,
    )  # fmt: skip
    session.add(follow)
    session.commit()
    run, one = f"{runs_path(world)}/{world.link.id}", f"{runs_path(world)}/{follow.id}"
    before = snapshot_tables(session)
    headers = world.headers("write")
    for path, body, field in [
        (run, {"tags": ["best"]}, "tags"),
        (one, {"tags": ["a,b"]}, "tags"),
        (one, {"tags": ["x" * 65]}, "tags"),
        (one, {"tags": [f"t{i}" for i in range(11)]}, "tags"),
        (one, {"tags": "best"}, "tags"),
        (one, {"label": "x" * 121}, "label"),
        (one, {"colour": "red"}, "colour"),
    ]:
        response = client.patch(path, json=body, headers=headers)
        assert response.status_code == 422, (body, response.get_data(as_text=True))
        assert field in str(problem(response)["errors"])
    assert client.patch(one, json={"tags": []}, headers=world.headers("read")).status_code == 403
    assert client.patch(one, json={"tags": []}, headers=world.headers("other")).status_code == 404
    assert snapshot_tables(session) == before
    body = client.get(one, headers=headers).get_json()
    assert body["tags"] == ["best"] and body["matched_runs"] == 3
    assert body["matched"] == "3 runs carry the tag best in maya/houses"
    assert client.get(run, headers=headers).get_json()["matched_runs"] is None


def _hold(session, world: World, name: str) -> int:
    """Put a less complete newer result beside the link's snapshot, as a sync would."""
    held = RunSnapshot(
        run_link_id=world.link.id, run_id="run1", name=name, state="running",
        url="https://wandb.ai/maya/houses/runs/run1", summary={"rmse": 0.5},
    )  # fmt: skip
    session.add(held)
    session.flush()
    link = session.get(RunLink, world.link.id)
    link.held_snapshot_id = held.id
    link.held_reason = "The new result has 150 steps; the current one has 300."
    session.add(link)
    session.commit()
    return held.id


def test_keep_the_current_results(client, session, world: World, make_user, make_token):
    """Members see why a result is held and keep the current one; mentors see no reason."""
    held = _hold(session, world, "half")
    one = f"{runs_path(world)}/{world.link.id}"
    assert (
        client.get(one, headers=world.headers("read"))
        .get_json()["held_reason"]
        .startswith("The new result has 150 steps")
    )
    mira = make_user("mira", role=Role.mentor)
    session.add(
        MentorAssignment(
            mentor_id=mira.id, learner_id=world.owner.id, season_id=world.project.season_id
        )
    )
    session.commit()
    mentor = bearer(make_token(mira, access="write"))
    assert client.get(one, headers=mentor).get_json()["held_reason"] == ""
    listed = client.get(runs_path(world), headers=mentor).get_json()["items"]
    assert all(item["held_reason"] == "" for item in listed)
    assert client.post(f"{one}/keep", headers=mentor).status_code == 403
    assert client.post(f"{one}/keep", headers=world.headers("read")).status_code == 403

    kept = client.post(f"{one}/keep", headers=world.headers("write"))
    assert kept.status_code == 200, kept.get_data(as_text=True)
    body = kept.get_json()
    assert body["held_reason"] == "" and body["snapshot"]["name"] == "baseline"
    session.expire_all()
    assert session.get(RunSnapshot, held) is None
    again = client.post(f"{one}/keep", headers=world.headers("write"))
    assert again.status_code == 422 and "no newer result" in problem(again)["detail"] + str(
        problem(again).get("errors", "")
    )


def test_replace_anyway(client, session, world: World):
    """Replacing makes the held result current and deletes the old snapshot."""
    old = world.link.current_snapshot_id
    held = _hold(session, world, "half")
    one = f"{runs_path(world)}/{world.link.id}"
    replaced = client.post(f"{one}/replace", headers=world.headers("write"))
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    body = replaced.get_json()
    assert body["held_reason"] == "" and body["snapshot"]["name"] == "half"
    session.expire_all()
    assert session.get(RunSnapshot, old) is None
    link = session.get(RunLink, world.link.id)
    assert link.current_snapshot_id == held and link.held_snapshot_id is None
    assert session.exec(select(RunSnapshot).where(RunSnapshot.run_link_id == link.id)).all()
    assert client.post(f"{one}/replace", headers=world.headers("write")).status_code == 422
