"""Milestone freezes and the progress timeline: what a project showed at each milestone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlmodel import select

from portfolio.models import (
    MemberStatus,
    Milestone,
    MilestoneFreeze,
    Project,
    ProjectMember,
    RunLink,
    Visibility,
)
from portfolio.public.export import export_site
from portfolio.seasons import milestones as milestone_service
from portfolio.tracking.downsample import Series
from portfolio.tracking.provider import RunData
from portfolio.tracking.snapshots import replace_snapshot
from scheduler import jobs
from tests.conftest import csrf_token, login

NOW = datetime(2027, 2, 15, 12, tzinfo=UTC)


def _milestones(session, project) -> list[Milestone]:
    session.expire_all()
    return milestone_service.list_for(session, project.id)


def _complete(app, session, project, milestone, note: str = "", now: datetime = NOW) -> None:
    """Mark a milestone done through the service both the page and the API call."""
    with app.app_context():
        project = session.get(Project, project.id)
        milestone = session.get(Milestone, milestone.id)
        milestone_service.complete(session, project, milestone, note=note, now=now)
        session.commit()


def _freeze_of(session, milestone) -> MilestoneFreeze | None:
    session.expire_all()
    return session.exec(
        select(MilestoneFreeze).where(MilestoneFreeze.milestone_id == milestone.id)
    ).first()


def _progress(html: str) -> str:
    """The progress section of a project page."""
    start = html.index('aria-labelledby="progress"')
    return html[start : html.index("</section>", start)]


def test_marking_done_on_the_page_freezes_the_visible_runs(client, session, published):
    """Done through the web: a freeze of every visible run, the hidden one left out."""
    maya, project = published
    first = _milestones(session, project)[0]
    version = project.version
    login(client, maya)
    url = f"/u/maya/{project.slug}"
    response = client.post(
        f"{url}/milestones/{first.id}/done",
        data={"note": "Baseline trained", "csrf_token": csrf_token(client, url)},
    )
    assert response.status_code == 302
    freeze = _freeze_of(session, first)
    assert freeze is not None and freeze.reason == "done"
    assert freeze.headline_metric == "val/acc"
    by_name = {r["name"]: r for r in freeze.runs}
    assert set(by_name) == {"baseline", "deeper"}
    assert by_name["deeper"]["value"] == 0.93
    assert 3 <= len(by_name["baseline"]["series"]) <= 50  # downsampled from 100 points
    assert by_name["baseline"]["source"]
    assert session.get(Project, project.id).version > version
    mine = client.get("/settings/data.json").get_json()["milestone_freezes"]
    assert [row["milestone_id"] for row in mine] == [first.id]


def test_sync_after_a_freeze_leaves_the_frozen_figures(app, client, session, published):
    """A new snapshot (the old one deleted, as a sync does) changes results, not the past."""
    _maya, project = published
    first = _milestones(session, project)[0]
    _complete(app, session, project, first, note="Checkpoint reached")
    before = _freeze_of(session, first).runs
    deeper = session.exec(select(RunLink).where(RunLink.project_id == project.id)).all()[1]
    run = RunData(
        provider="wandb", path=deeper.ref, run_id="r-new", name="deeper-v2", state="finished",
        summary={"val/acc": 0.42},
    )  # fmt: skip
    series = {"val/acc": Series(np.arange(5.0), np.full(5, 0.42), 5)}
    with app.app_context():
        replace_snapshot(session, deeper, run, series, NOW + timedelta(days=1))
        project = session.get(Project, project.id)
        project.version += 1
        session.commit()
    assert _freeze_of(session, first).runs == before
    progress = _progress(client.get(f"/u/maya/{project.slug}").get_data(as_text=True))
    assert "0.93" in progress and "deeper" in progress
    assert "0.42" not in progress and "deeper-v2" not in progress


def test_timeline_shows_change_chart_export_and_feed(
    app, client, session, published, make_run, tmp_path
):
    """Per milestone: date, note, best run then and the change since the one before."""
    _maya, project = published
    first, second = _milestones(session, project)[:2]
    _complete(app, session, project, first, note="Baseline & MLP")
    for name, value in (("wider", 0.95), ("wider-dropout", 0.97)):
        make_run(
            project, name=name, summary={"val/acc": value}, config={"lr": 0.001},
            series={"val/acc": [(s, value - 0.1 + s / 1000) for s in range(100)]},
        )  # fmt: skip
    _complete(app, session, project, second, note="Tuned", now=NOW + timedelta(days=14))
    html = client.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    progress = _progress(html)
    assert "Baseline &amp; MLP" in progress and "Tuned" in progress
    assert "best run wider-dropout" in progress
    assert f"{first.title} → {second.title}: val/acc 0.93 → 0.97, 2 more runs" in progress
    assert '<svg class="progress-chart"' in progress and "<time datetime=" in progress
    assert "secret-experiment" not in progress

    export_site(app, tmp_path / "site", "maya")
    exported = (tmp_path / "site" / project.slug / "index.html").read_text(encoding="utf-8")
    assert "2 more runs" in exported and 'class="progress-chart"' in exported

    feed = client.get("/u/maya/feed.atom").get_data(as_text=True)
    assert f"{project.title}: {second.title} done" in feed
    assert "val/acc 0.97, best run wider-dropout (4 runs)" in feed
    assert "2 more runs" in feed


def test_job_freezes_due_open_milestones_once(app, session, published):
    """Due in the last 7 days, open, no freeze: frozen once; a later completion replaces it."""
    _maya, project = published
    due, old, done = _milestones(session, project)[:3]
    for milestone, due_at in ((due, NOW - timedelta(hours=2)), (old, NOW - timedelta(days=9))):
        milestone.due_at = due_at
        session.add(milestone)
    done.due_at = NOW - timedelta(days=1)
    done.done_at = NOW - timedelta(days=2)
    session.add(done)
    session.commit()
    assert jobs.freeze_due_milestones(app, now=NOW) == 1
    assert jobs.freeze_due_milestones(app, now=NOW + timedelta(minutes=10)) == 0
    assert _freeze_of(session, due).reason == "due"
    assert _freeze_of(session, old) is None and _freeze_of(session, done) is None
    count = len(session.exec(select(MilestoneFreeze)).all())
    assert count == 1
    _complete(app, session, project, due, now=NOW + timedelta(days=1))
    freeze = _freeze_of(session, due)
    assert freeze.reason == "done" and freeze.frozen_at == NOW + timedelta(days=1)


def test_refreeze_once_with_a_note_owner_only(app, client, session, published, make_user, make_run):
    """The owner re-freezes a done milestone once; others get 403/404, bad input 4xx."""
    maya, project = published
    first, open_one = _milestones(session, project)[:2]
    _complete(app, session, project, first)
    url = f"/u/maya/{project.slug}"
    target = f"{url}/milestones/{first.id}/refreeze"

    ana = make_user("ana")
    stranger = make_user("stranger")
    session.add(ProjectMember(project_id=project.id, user_id=ana.id, status=MemberStatus.accepted))
    session.commit()
    for other in (ana, stranger):  # a member who may edit, and someone who may not
        browser = app.test_client()
        token = csrf_token(browser, "/login")
        login(browser, other)
        assert browser.post(target, data={"note": "x", "csrf_token": token}).status_code == 403

    login(client, maya)
    token = csrf_token(client, url)
    assert client.post(target, data={"note": "no token"}).status_code == 400
    empty = client.post(target, data={"note": " ", "csrf_token": token})
    assert empty.status_code == 422 and "Say why" in empty.get_data(as_text=True)
    not_done = client.post(
        f"{url}/milestones/{open_one.id}/refreeze", data={"note": "n", "csrf_token": token}
    )
    assert not_done.status_code == 422
    assert "Only a milestone that is done" in not_done.get_data(as_text=True)
    elsewhere = f"{url}/milestones/999999/refreeze"
    assert client.post(elsewhere, data={"note": "n", "csrf_token": token}).status_code == 404
    assert _freeze_of(session, first).refrozen_at is None

    make_run(project, name="late-fix", summary={"val/acc": 0.96}, config={}, series={})
    ok = client.post(target, data={"note": "Found a leak in the split", "csrf_token": token})
    assert ok.status_code == 302
    freeze = _freeze_of(session, first)
    assert freeze.refrozen_at is not None and freeze.note == "Found a leak in the split"
    assert "late-fix" in {r["name"] for r in freeze.runs}
    again = client.post(target, data={"note": "once more", "csrf_token": token})
    assert again.status_code == 409
    assert "can be re-frozen only once" in again.get_data(as_text=True)
    assert _freeze_of(session, first).note == "Found a leak in the split"
    page = client.get(url).get_data(as_text=True)
    assert "Found a leak in the split" in _progress(page)


def test_hidden_runs_and_drafts_never_show(app, client, session, published, make_project):
    """A run hidden after the freeze drops out; a draft's timeline is nowhere public."""
    maya, project = published
    first = _milestones(session, project)[0]
    _complete(app, session, project, first)
    baseline = session.exec(
        select(RunLink).where(RunLink.project_id == project.id).order_by(RunLink.id)
    ).first()
    baseline.hidden = True
    project = session.get(Project, project.id)
    project.version += 1
    session.add_all([baseline, project])
    session.commit()
    progress = _progress(client.get(f"/u/maya/{project.slug}").get_data(as_text=True))
    assert "baseline" not in progress and "secret-experiment" not in progress
    assert "1 run" in progress

    draft = make_project(maya, title="Hidden draft", allow_second=True)
    assert draft.visibility == Visibility.draft
    _complete(app, session, draft, _milestones(session, draft)[0], note="draft note")
    assert client.get(f"/u/maya/{draft.slug}").status_code == 404
    assert "draft note" not in client.get("/u/maya/feed.atom").get_data(as_text=True)


def test_tracker_text_is_escaped_in_the_timeline_and_feed(
    app, client, session, published, make_run
):
    """Run names and milestone titles are text everywhere, the inline SVG included."""
    _maya, project = published
    first = _milestones(session, project)[0]
    first.title = '<b onmouseover="x()">Check</b>'
    session.add(first)
    session.commit()
    make_run(
        project, name="<script>alert(1)</script>", summary={"val/acc": 0.99}, config={},
        series={"val/acc": [(0, 0.9), (1, 0.99)]},
    )  # fmt: skip
    _complete(app, session, project, first, note="<img src=x onerror=y()>")
    html = client.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    progress = _progress(html)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in progress
    assert "<b onmouseover" not in html and "<img src=x" not in html
    svg = progress[progress.index("<svg") : progress.index("</svg>")]
    assert "<b " not in svg and "&lt;b" in svg
    feed = client.get("/u/maya/feed.atom").get_data(as_text=True)
    assert "<script>" not in feed and "&lt;script&gt;" in feed
