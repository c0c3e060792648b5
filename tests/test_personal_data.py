"""The personal data download: only what its owner may see, never cached."""

from __future__ import annotations

import json

from portfolio.models import Visibility
from tests.conftest import login


def test_pending_invitee_gets_no_draft_content_in_their_export(
    app, session, make_user, make_project, make_run
):
    """Invited but not accepted: the draft is 404 to them, and absent from their data."""
    maya = make_user("maya")
    ivy = make_user("ivy")
    draft = make_project(maya, title="Stealth startup idea", team=["ivy"])
    draft.problem_md = "Confidential problem statement"
    draft.body_md = "Confidential write-up"
    session.add(draft)
    session.commit()
    make_run(draft, name="hidden-run-name", summary={"acc": 0.9}, config={}, series={}, hidden=True)
    client = app.test_client()
    login(client, ivy)
    assert client.get(f"/u/maya/{draft.slug}").status_code == 404
    data = client.get("/settings/data.json").get_json()
    text = json.dumps(data)
    for secret in ("Confidential", "hidden-run-name", "A one-line summary", "ent/proj/"):
        assert secret not in text, secret
    assert data["projects"] == [] and data["milestones"] == [] and data["run_links"] == []
    assert data["run_snapshots"] == []
    # The invitation itself is theirs, by title only (as the invitations page shows it).
    assert [i["title"] for i in data["invitations"]] == ["Stealth startup idea"]


def test_export_has_the_owners_projects_runs_and_settings_without_secrets(
    client, session, published
):
    """The owner gets their projects, hidden runs included, and no secret column."""
    maya, project = published
    login(client, maya)
    data = client.get("/settings/data.json").get_json()
    assert [p["title"] for p in data["projects"]] == [project.title]
    assert len(data["run_links"]) == 3 and len(data["run_snapshots"]) == 3
    assert data["invitations"] == [] and len(data["enrollments"]) == 1
    text = json.dumps(data)
    assert "password_hash" not in text and "login_id" not in text and "token_hash" not in text
    assert project.visibility == Visibility.public


def test_personal_pages_are_never_stored_by_caches(client, make_user, make_project):
    """The data download and other personal pages say Cache-Control: no-store."""
    maya = make_user("maya")
    make_project(maya)
    login(client, maya)
    for path in ("/settings/data.json", "/settings/data", "/settings/profile", "/notifications"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers.get("Cache-Control") == "no-store", path
    public = client.get("/u/maya")
    assert "no-store" not in public.headers.get("Cache-Control", "")
