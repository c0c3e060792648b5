"""What each resource does through the API, with the same rules as the web pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import select

from portfolio.models import Milestone, MilestoneFreeze, Notification, Project, Visibility

from .conftest import World, problem

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_me(client, world: World):
    body = client.get("/api/v1/me", headers=world.headers("read")).get_json()
    assert body["handle"] == "maya" and body["auth"] == "token"
    assert body["token"]["scopes"] == ["read"] and body["token"]["prefix"].startswith("sns_")
    assert ISO_UTC.match(body["created_at"]) and ISO_UTC.match(body["token"]["expires_at"])


def test_seasons_are_public_and_paged(client, world: World):
    first = client.get("/api/v1/seasons?limit=1").get_json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = client.get(f"/api/v1/seasons?limit=1&cursor={first['next_cursor']}").get_json()
    assert second["items"][0]["slug"] != first["items"][0]["slug"]
    assert sum(s["current"] for s in first["items"] + second["items"]) == 1


def test_projects_list_create_read_update(client, session, world: World):
    """Plan, find by slug, edit (a new slug keeps the old address) and publish."""
    headers = world.headers("write")
    created = client.post(
        "/api/v1/projects",
        json={"title": "Bird songs", "summary": "Classify calls", "allow_second": True},
        headers=headers,
    )
    assert created.status_code == 201
    project = created.get_json()
    assert project["slug"] == "bird-songs" and project["members"] == ["maya"]
    assert project["public_url"] is None and project["url"].endswith("/u/maya/bird-songs")
    assert created.headers["Location"].endswith(f"/api/v1/projects/{project['id']}")
    milestones = client.get(f"/api/v1/projects/{project['id']}/milestones", headers=headers)
    assert len(milestones.get_json()["items"]) > 0  # the season's plan was seeded

    listed = client.get("/api/v1/projects?slug=bird-songs", headers=headers).get_json()
    assert [p["id"] for p in listed["items"]] == [project["id"]]
    season = project["season"]
    all_mine = client.get(f"/api/v1/projects?season={season}&limit=1", headers=headers).json
    assert len(all_mine["items"]) == 1 and all_mine["next_cursor"]

    updated = client.patch(
        f"/api/v1/projects/{project['id']}",
        json={"slug": "birds", "visibility": "public", "title": None},
        headers=headers,
    ).get_json()
    assert updated["slug"] == "birds" and updated["title"] == "Bird songs"
    assert updated["public_url"].endswith("/u/maya/birds")
    assert client.get("/u/maya/bird-songs").status_code == 301  # the old address redirects


def test_bad_visibility_is_422(client, world: World):
    response = client.patch(
        f"/api/v1/projects/{world.project.id}",
        json={"visibility": "secret"},
        headers=world.headers("write"),
    )
    assert response.status_code == 422
    assert problem(response)["errors"][0]["field"] == "visibility"


def test_milestones(client, session, world: World, make_user):
    """Add by date in the user's zone or by instant; rename keeps the time; complete."""
    headers = world.headers("write")
    base = f"/api/v1/projects/{world.project.id}/milestones"
    today = datetime.now(UTC).date()
    by_date = client.post(
        base, json={"title": "Demo", "due_date": today.isoformat()}, headers=headers
    )
    assert by_date.status_code == 201, by_date.get_data(as_text=True)
    assert by_date.get_json()["due_at"] == f"{today.isoformat()}T23:59:00Z"  # maya is on UTC
    instant = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    new_york = timezone(timedelta(hours=-5))
    by_instant = client.post(
        base,
        json={"title": "Write-up", "due_at": instant.astimezone(new_york).isoformat()},
        headers=headers,
    ).get_json()
    assert by_instant["due_at"] == instant.isoformat().replace("+00:00", "Z")

    mid = by_instant["id"]
    renamed = client.patch(f"{base}/{mid}", json={"title": "Final write-up"}, headers=headers)
    assert renamed.get_json()["due_at"] == by_instant["due_at"]
    assert renamed.get_json()["title"] == "Final write-up"
    done = client.post(f"{base}/{mid}/complete", json={"note": "Shipped"}, headers=headers)
    body = done.get_json()
    assert body["done"] and body["done_note"] == "Shipped" and ISO_UTC.match(body["done_at"])
    again = client.post(f"{base}/{mid}/complete", headers=headers).get_json()
    assert again["done_at"] == body["done_at"]  # completing twice keeps the first time
    assert client.get(f"{base}/{mid}", headers=headers).get_json()["done"]
    # Completing through the API freezes the figures as the page's button does.
    frozen = select(MilestoneFreeze).where(MilestoneFreeze.milestone_id == mid)
    assert session.exec(frozen).one().reason == "done"

    # A milestone of another project is not reachable through this one.
    other = session.exec(
        select(Milestone).where(Milestone.project_id == world.public_project.id)
    ).first()
    assert client.get(f"{base}/{other.id}", headers=headers).status_code == 404


def test_mentor_reads_but_cannot_write(client, session, world: World, make_user, make_token):
    """An assigned mentor's token reads the mentee's draft; changing it is a 403."""
    from portfolio.models import MentorAssignment, Role

    mentor = make_user("mira", role=Role.mentor)
    session.add(
        MentorAssignment(
            mentor_id=mentor.id, learner_id=world.owner.id, season_id=world.project.season_id
        )
    )
    session.commit()
    secret = make_token(mentor)
    headers = {"Authorization": f"Bearer {secret}"}
    path = f"/api/v1/projects/{world.project.id}"
    assert client.get(path, headers=headers).status_code == 200
    assert client.get(path + "/updates", headers=headers).status_code == 200
    response = client.patch(path, json={"title": "Mentor edit"}, headers=headers)
    assert response.status_code == 403
    assert "members" in problem(response)["detail"]


def test_notifications(client, session, world: World):
    """Newest first, paged by a cursor that survives new arrivals; mark one or all read."""
    for n in range(3):
        session.add(Notification(user_id=world.owner.id, kind="comment", title=f"n{n}"))
    session.add(Notification(user_id=world.other.id, kind="comment", title="theo's"))
    session.commit()
    headers = world.headers("write")
    page = client.get("/api/v1/notifications?limit=2", headers=headers).get_json()
    assert [n["title"] for n in page["items"]] == ["n2", "n1"] and page["unread_count"] == 4
    session.add(Notification(user_id=world.owner.id, kind="comment", title="newer"))
    session.commit()
    rest = client.get(f"/api/v1/notifications?cursor={page['next_cursor']}", headers=headers).json
    assert [n["title"] for n in rest["items"]] == ["n0", "Theo commented"]
    assert rest["next_cursor"] is None

    first = page["items"][0]["id"]
    read = client.post(f"/api/v1/notifications/{first}/read", headers=headers).get_json()
    assert read["read"] and ISO_UTC.match(read["read_at"])
    theirs = session.exec(select(Notification).where(Notification.user_id == world.other.id)).one()
    assert (
        client.post(f"/api/v1/notifications/{theirs.id}/read", headers=headers).status_code == 404
    )
    assert client.post("/api/v1/notifications/read-all", headers=headers).json["marked"] == 4
    assert client.get("/api/v1/notifications", headers=headers).json["unread_count"] == 0


def test_updates(client, session, world: World):
    """Post with a milestone and a run; the list shows it rendered and sanitised."""
    headers = world.headers("write")
    base = f"/api/v1/projects/{world.project.id}/updates"
    created = client.post(
        base,
        json={
            "body_md": "RMSE **0.31** <script>alert(1)</script>",
            "milestone_id": world.milestone.id,
            "run_link_ids": [world.link.id],
            "ask_feedback": True,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    update = created.get_json()
    assert "<script>" not in update["body_html"] and "<strong>0.31</strong>" in update["body_html"]
    assert update["feedback_requested"] and update["run_link_ids"] == [world.link.id]
    listed = client.get(base, headers=headers).get_json()["items"]
    assert [u["id"] for u in listed] == [update["id"]]
    assert listed[0]["body_html"] == update["body_html"]
    bad = client.post(base, json={"body_md": "x", "run_link_ids": [999999]}, headers=headers)
    assert bad.status_code == 422 and problem(bad)["errors"][0]["field"] == "run_link_ids"
    empty = client.post(base, json={"body_md": "\u200b"}, headers=headers)
    assert empty.status_code == 422


def test_update_posting_shares_the_discussion_limit(app, client, world: World):
    """DISCUSSION_RATE_LIMIT applies to API posts as to the web forms."""
    app.config["DISCUSSION_RATE_LIMIT"] = "2 per minute"
    base = f"/api/v1/projects/{world.project.id}/updates"
    codes = [
        client.post(base, json={"body_md": f"post {n}"}, headers=world.headers("write")).status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]


def test_public_endpoints_follow_visibility(client, session, world: World):
    """Public projects are listed and readable; unlisted only by address; drafts never."""
    listed = client.get("/api/v1/public/users/theo/projects").get_json()["items"]
    assert [p["slug"] for p in listed] == ["bird-songs"]
    page = client.get("/api/v1/public/projects/theo/bird-songs").get_json()
    assert page["owner"] == "theo" and page["milestones"] and page["runs"] == []
    assert client.get("/api/v1/public/projects/maya/house-prices").status_code == 404
    assert client.get("/api/v1/public/users/nobody-here/projects").status_code == 404

    project = session.get(Project, world.project.id)
    project.visibility = Visibility.unlisted
    session.commit()
    assert client.get("/api/v1/public/users/maya/projects").get_json()["items"] == []
    page = client.get("/api/v1/public/projects/maya/house-prices").get_json()
    assert page["runs"][0]["label"] == "Baseline"
    assert page["runs"][0]["summary"] == {"rmse": 0.31, "loss": "NaN", "note": "<b>ok</b>"}
    # A token never widens the public view: maya's own draft stays 404 here.
    project.visibility = Visibility.draft
    session.commit()
    response = client.get(
        "/api/v1/public/projects/maya/house-prices", headers=world.headers("read")
    )
    assert response.status_code == 404
