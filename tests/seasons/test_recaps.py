"""Season recaps: figures, who edits them, validation, visibility, the image, the profile."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import select

from portfolio.auth import deletion
from portfolio.errors import DomainError
from portfolio.models import Project, ProjectRecap, Role, User, Visibility
from portfolio.seasons import milestones, recap_lists, recaps
from portfolio.seasons.mentors import assign
from tests.conftest import csrf_token, login
from tests.queries import statements

OLD = (2026, 3)  # Q3 2026: over before "now" in these tests
STARTED = datetime(2026, 7, 1, 9, tzinfo=UTC)


def _series(value: float) -> dict:
    return {"val/acc": [(0, value - 0.2), (1, value)]}


@pytest.fixture()
def ended(quarter, session, make_user, make_project, make_run):
    """A public project of a season that is over: two of four milestones done, frozen.

    Done on time once (0.81 best visible then) and late once (0.9); a hidden run with
    0.99 is linked all along and must never count.
    """
    maya = make_user("maya")
    project = make_project(
        maya, title="Digit <classifier>", season=quarter(session, *OLD), now=STARTED
    )
    project.visibility = Visibility.public
    project.headline_metric = "val/acc"
    session.add(project)
    session.commit()
    make_run(project, name="baseline", summary={"val/acc": 0.81}, config={}, series=_series(0.81))
    make_run(
        project,
        name="secret",
        summary={"val/acc": 0.99},
        config={},
        series=_series(0.99),
        hidden=True,
    )
    plan = milestones.list_for(session, project.id)
    plan[1].title = "<img src=x onerror=alert(1)>"
    session.add(plan[1])
    milestones.complete(session, project, plan[0], note="", now=plan[0].due_at - timedelta(days=1))
    session.commit()
    make_run(project, name="<b>wider</b>", summary={"val/acc": 0.9}, config={}, series=_series(0.9))
    milestones.complete(session, project, plan[1], note="", now=plan[1].due_at + timedelta(days=2))
    session.commit()
    session.refresh(project)
    return maya, project


def _edit(client, project, handle: str = "maya") -> str:
    return f"/u/{handle}/{project.slug}/recap/edit"


def _post(client, project, action: str, body: str):
    url = _edit(client, project)
    return client.post(
        url, data={"body": body, "action": action, "csrf_token": csrf_token(client, url)}
    )


def _recap(session, project) -> ProjectRecap | None:
    session.expire_all()
    return session.get(ProjectRecap, project.id)


def _png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


def test_figures_planned_done_improvement_time_on_track(app, session, ended):
    maya, project = ended
    plan = milestones.list_for(session, project.id)
    outsider = recaps.recap_figures(session, project, False)
    assert (outsider.planned, outsider.done) == (4, 2)
    assert [i.done for i in outsider.items] == [True, True, False, False]
    imp = outsider.improvement
    assert (imp.metric, imp.goal, imp.first, imp.last) == ("val/acc", "max", 0.81, 0.9)
    assert imp.better is True and imp.line == "val/acc 0.81 → 0.9 (higher is better)"
    assert [v for _, v, _ in outsider.progression] == [0.81, 0.9]  # the hidden 0.99 never
    assert outsider.runs == 2  # baseline and wider; the hidden run is not counted
    assert outsider.on_time is None  # the public record rule: visitors see no on-time figure
    expected_span = (
        (plan[1].due_at + timedelta(days=2)) - (plan[0].due_at - timedelta(days=1))
    ).days
    assert outsider.span_days == expected_span
    assert recaps.recap_figures(session, project, True).on_time == 1
    season = session.get(Project, project.id)
    with app.app_context():
        from portfolio.models import Season

        text = recaps.default_text(project, session.get(Season, season.season_id), outsider)
    assert "completed 2 of 4 milestones." in text
    assert "from 0.81 to 0.9 — an improvement" in text and "on time" not in text


def test_a_recap_opens_when_the_season_ends_or_the_last_milestone_is_done(
    app, session, make_user, make_project, ended
):
    from portfolio.models import Season

    _, old = ended
    assert recaps.is_available(session, old, session.get(Season, old.season_id), datetime.now(UTC))
    ada = make_user("ada")
    current = make_project(ada, title="Now")
    season = session.get(Season, current.season_id)
    now = datetime.now(UTC)
    assert not recaps.is_available(session, current, season, now)
    with pytest.raises(DomainError, match="last milestone is done"):
        recaps.publish(session, current, season, ada, "", now=now)
    session.rollback()
    for m in milestones.list_for(session, current.id):
        milestones.complete(session, current, m, note="", now=now)
    session.commit()
    assert recaps.is_available(session, current, season, now)
    assert recaps.is_available(
        session, current, season, datetime.combine(season.ends_on + timedelta(days=1), now.timetz())
    )


def test_only_members_edit_others_get_403_unknown_404(app, client, session, make_user, ended):
    maya, project = ended
    assert client.get(_edit(client, project)).status_code == 302  # to the login page
    others = {
        "bob": make_user("bob"),
        "ada": make_user("ada", role=Role.admin),
        "dan": make_user("dan", role=Role.mentor),
    }
    assign(session, mentor_handle="dan", learner_handle="maya", season=_season(session, project))
    session.commit()
    for handle, user in others.items():
        other = app.test_client()
        login(other, user)
        assert other.get(_edit(other, project)).status_code == 403, handle
        url = _edit(other, project)
        response = other.post(url, data={"body": "x", "action": "publish"})
        assert response.status_code in (400, 403), handle  # no CSRF token or not a member
    assert _recap(session, project) is None
    login(client, maya)
    assert client.get("/u/maya/no-such-project/recap/edit").status_code == 404
    page = client.get(_edit(client, project))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Publish" in html and "Keep as draft" in html and "Unpublish" not in html
    assert "&lt;img src=x" in html and "<img src=x" not in html
    # A draft project is not found for someone outside it.
    session.get(Project, project.id).visibility = Visibility.draft
    session.commit()
    bob = app.test_client()
    login(bob, others["bob"])
    assert bob.get(_edit(bob, project)).status_code == 404


def _season(session, project):
    from portfolio.models import Season

    return session.get(Season, project.season_id)


def test_bad_input_is_refused_and_nothing_changes(
    app, client, session, make_user, make_project, ended
):
    maya, project = ended
    login(client, maya)
    too_long = _post(client, project, "publish", "x" * (recaps.MAX_BODY + 1))
    assert too_long.status_code == 422
    assert "2000" in too_long.get_data(as_text=True)
    assert _recap(session, project) is None
    assert _post(client, project, "shout", "hello").status_code == 400
    assert _recap(session, project) is None
    # The service refuses too long text on its own, whatever the form does.
    with pytest.raises(DomainError, match="at most 2000"):
        recaps.save_text(
            session, project, _season(session, project), maya, "y" * 2001, now=datetime.now(UTC)
        )
    session.rollback()
    # Not yet available: a current-season project with milestones open.
    current = make_project(maya, title="Still going", allow_second=True)
    url = f"/u/maya/{current.slug}/recap/edit"
    response = client.post(
        url, data={"body": "hi", "action": "publish", "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 422
    assert "last milestone is done" in response.get_data(as_text=True)
    assert _recap(session, current) is None
    assert _post(client, project, "unpublish", "").status_code == 422  # not published


def test_publish_shows_the_section_the_image_and_unpublish_hides_them(app, client, session, ended):
    maya, project = ended
    version = session.get(Project, project.id).version
    login(client, maya)
    body = "Went **well**.\n\n<script>alert(1)</script>"
    assert _post(client, project, "publish", body).status_code == 302
    recap = _recap(session, project)
    assert recap.published_at is not None and recap.updated_by_id == maya.id
    assert session.get(Project, project.id).version > version
    visitor = app.test_client()
    page = visitor.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    section = page[
        page.index('id="season-recap"') : page.index("</section>", page.index('id="season-recap"'))
    ]
    assert "<strong>well</strong>" in section and "<script>alert" not in page
    assert "2 of 4" in section and "0.81 → 0.9" in section
    assert "on time" not in section  # visitors: no on-time figure without the full record
    assert "&lt;img src=x" in section and "<img src=x" not in page
    og_image = re.search(r'<meta property="og:image" content="([^"]*)"', page)[1]
    assert og_image.endswith(f"/u/maya/{project.slug}/recap.png")
    png = visitor.get(f"/u/maya/{project.slug}/recap.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert _png_size(png.data) == (1200, 630)
    assert png.headers["ETag"]
    again = visitor.get(
        f"/u/maya/{project.slug}/recap.png", headers={"If-None-Match": png.headers["ETag"]}
    )
    assert again.status_code == 304
    member_png = client.get(f"/u/maya/{project.slug}/recap.png")
    assert member_png.status_code == 200 and member_png.headers["ETag"]
    member_again = client.get(
        f"/u/maya/{project.slug}/recap.png", headers={"If-None-Match": member_png.headers["ETag"]}
    )
    assert member_again.status_code == 304
    # Saving keeps it public; the edit page offers Unpublish now.
    assert _post(client, project, "draft", "Went well.").status_code == 302
    assert _recap(session, project).published_at is not None
    assert "Unpublish" in client.get(_edit(client, project)).get_data(as_text=True)
    assert _post(client, project, "unpublish", "").status_code == 302
    assert _recap(session, project).published_at is None
    assert _recap(session, project).body_md == "Went well."
    assert visitor.get(f"/u/maya/{project.slug}/recap.png").status_code == 404
    page = visitor.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    assert 'id="season-recap"' not in page and "recap.png" not in page
    assert re.search(r'<meta property="og:image" content="[^"]*/og.png"', page)


def test_drafts_never_appear_and_unlisted_stays_off_the_profile(app, client, session, ended):
    maya, project = ended
    login(client, maya)
    generated = recaps.default_text(
        project, _season(session, project), recaps.recap_figures(session, project, False)
    )
    assert _post(client, project, "draft", generated).status_code == 302
    assert _recap(session, project).body_md == ""  # the untouched text keeps following the figures
    visitor = app.test_client()
    assert visitor.get(f"/u/maya/{project.slug}/recap.png").status_code == 404
    assert 'id="season-recaps"' not in visitor.get("/u/maya").get_data(as_text=True)
    # The member sees a link to the editor (page and dashboard) while it is unpublished.
    assert _edit(client, project) in client.get("/dashboard").get_data(as_text=True)
    assert _edit(client, project) in client.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    assert _edit(client, project) not in visitor.get(f"/u/maya/{project.slug}").get_data(
        as_text=True
    )
    assert _post(client, project, "publish", generated).status_code == 302
    assert _edit(client, project) not in client.get("/dashboard").get_data(as_text=True)
    profile = visitor.get("/u/maya").get_data(as_text=True)
    assert 'id="season-recaps"' in profile and f"/u/maya/{project.slug}/recap.png" in profile
    assert "Digit &lt;classifier&gt;" in profile and "val/acc 0.81 → 0.9" in profile
    section = visitor.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    assert "Digit &lt;classifier&gt;" in section and "<classifier>" not in section
    for visibility, png, listed in (
        (Visibility.unlisted, 200, False),
        (Visibility.draft, 404, False),
    ):
        row = session.get(Project, project.id)
        row.visibility = visibility
        row.version += 1
        session.commit()
        assert visitor.get(f"/u/maya/{project.slug}/recap.png").status_code == png
        assert ('id="season-recaps"' in visitor.get("/u/maya").get_data(as_text=True)) is listed
        assert recaps.published_recaps(session, [project.id]) == (
            {project.id} if png == 200 else set()
        )


def test_batch_helpers_for_other_pages(app, client, session, ended):
    maya, project = ended
    with app.test_request_context():
        assert recaps.recap_image_url(session.get(Project, project.id)) is None
    assert recaps.published_recaps(session, [project.id]) == set()
    login(client, maya)
    _post(client, project, "publish", "")
    session.expire_all()
    assert recaps.published_recaps(session, [project.id, 999_999]) == {project.id}
    assert recaps.published_recaps(session, []) == set()
    with app.test_request_context():
        url = recaps.recap_image_url(session.get(Project, project.id))
    assert url == f"/u/maya/{project.slug}/recap.png"


def test_profile_recaps_take_the_same_statements_for_2_and_10_projects(
    app, session, make_user, make_project, make_run
):
    lea = make_user("lea")
    counts = []
    made = 0
    for total in (2, 10):
        while made < total:
            project = make_project(lea, title=f"Project {made}", allow_second=True)
            project.visibility = Visibility.public
            project.headline_metric = "val/acc"
            session.add(ProjectRecap(project_id=project.id, published_at=datetime.now(UTC)))
            session.commit()
            make_run(
                project,
                name="r",
                summary={"val/acc": 0.5 + made / 100},
                config={},
                series=_series(0.5),
            )
            first = milestones.list_for(session, project.id)[0]
            milestones.complete(session, project, first, note="", now=datetime.now(UTC))
            session.commit()
            made += 1
        session.expire_all()
        user = session.get(User, lea.id)
        with statements(app.extensions["engine"]) as seen:
            listed = recap_lists.profile_recaps(session, user)
        assert len(listed) == total
        assert all(r.improvement is not None for r in listed)
        counts.append(len(seen))
    assert counts[0] == counts[1] == 3, counts


def test_recaps_are_in_the_data_download_and_go_with_the_account(app, client, session, ended):
    maya, project = ended
    login(client, maya)
    _post(client, project, "publish", "Mine.")
    rows = client.get("/settings/data.json").get_json()["project_recaps"]
    assert [(r["project_id"], r["body_md"]) for r in rows] == [(project.id, "Mine.")]
    with app.app_context():
        deletion.delete_account(session, session.get(User, maya.id), now=datetime.now(UTC))
        session.commit()
    session.expire_all()
    assert session.exec(select(ProjectRecap)).all() == []


def test_static_export_carries_the_published_recap_and_its_image(
    app, client, session, ended, tmp_path
):
    from portfolio.public.export import export_site

    maya, project = ended
    login(client, maya)
    _post(client, project, "draft", "Draft words.")
    export_site(app, tmp_path / "draft", "maya")
    assert "Draft words." not in (tmp_path / "draft" / project.slug / "index.html").read_text()
    assert not (tmp_path / "draft" / project.slug / "recap.png").exists()
    _post(client, project, "publish", "Public words.")
    out = tmp_path / "site"
    export_site(app, out, "maya")
    html = (out / project.slug / "index.html").read_text()
    assert "Public words." in html and 'href="../digit-classifier/recap.png"' in html
    assert _png_size((out / project.slug / "recap.png").read_bytes()) == (1200, 630)
    assert 'src="digit-classifier/recap.png"' in (out / "index.html").read_text()
