"""Hidden runs: one rule for pages and the API (members and admins, never mentors)."""

from __future__ import annotations

from sqlmodel import select

from portfolio.models import MentorAssignment, Role, RunLink
from tests.conftest import login

from .conftest import bearer


def test_assigned_mentor_sees_no_hidden_run_through_the_api(
    app, client, session, published, make_user, make_token
):
    """The project page hides "secret-experiment" from maya's mentor; so does the runs API."""
    maya, project = published
    mira = make_user("mira", role=Role.mentor)
    session.add(
        MentorAssignment(mentor_id=mira.id, learner_id=maya.id, season_id=project.season_id)
    )
    session.commit()
    hidden = session.exec(select(RunLink).where(RunLink.hidden.is_(True))).one()
    runs = f"/api/v1/projects/{project.id}/runs"

    mentor = bearer(make_token(mira, access="read"))
    listed = client.get(runs, headers=mentor)
    assert listed.status_code == 200
    names = [r["snapshot"]["name"] for r in listed.get_json()["items"]]
    assert sorted(names) == ["baseline", "deeper"]
    assert client.get(f"{runs}/{hidden.id}", headers=mentor).status_code == 404
    as_mira = app.test_client()
    login(as_mira, mira)
    page = as_mira.get(f"/u/maya/{project.slug}")
    assert page.status_code == 200 and "secret-experiment" not in page.get_data(as_text=True)

    owner = bearer(make_token(maya, access="read"))
    names = [r["snapshot"]["name"] for r in client.get(runs, headers=owner).get_json()["items"]]
    assert "secret-experiment" in names
    assert client.get(f"{runs}/{hidden.id}", headers=owner).status_code == 200
