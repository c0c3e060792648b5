"""Progress updates: members post them, they show newest first, feed the Atom feed
and count as activity."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from sqlmodel import select

from portfolio.models import Milestone, Project, RunLink, Update, User, Visibility
from portfolio.seasons import health

from .conftest import post


def _updates(world) -> list[Update]:
    world.session.expire_all()
    return list(world.session.exec(select(Update).order_by(Update.id)).all())


def test_member_posts_update_shown_newest_first_and_counted_as_activity(world, session) -> None:
    project = session.get(Project, world.project.id)
    project.last_activity_at -= timedelta(days=20)
    session.add(project)
    session.commit()
    version = world.refresh(project).version
    with world.app.app_context():
        before = health.health_of(
            session, [project.id], project.last_activity_at + timedelta(days=20)
        )
    maya = world.client(world.maya)
    first = post(maya, f"{world.url}/updates", {"body": "Week 1: baseline at **0.81**"})
    assert first.status_code == 303
    post(maya, f"{world.url}/updates", {"body": "Week 2: deeper net"})
    one, two = _updates(world)
    assert first.headers["Location"].endswith(f"#update-{one.id}")
    project = world.refresh(project)
    assert project.version == version + 2
    assert project.last_activity_at == two.created_at
    with world.app.app_context():
        after = health.health_of(session, [project.id], two.created_at)
    assert after[project.id][1].last_activity_at > before[project.id][1].last_activity_at
    html = world.client().get(world.url).get_data(as_text=True)
    assert html.index("Week 2") < html.index("Week 1") and "<strong>0.81</strong>" in html


def test_update_links_a_milestone_and_runs_of_the_same_project(
    world, session, make_project
) -> None:
    milestone = session.exec(
        select(Milestone).where(Milestone.project_id == world.project.id)
    ).first()
    run = RunLink(project_id=world.project.id, ref="ent/proj/run1", label="baseline run")
    hidden = RunLink(project_id=world.project.id, ref="ent/proj/run2", label="secret", hidden=True)
    other = make_project(session.get(User, world.pete.id), title="Other")
    foreign_ms = session.exec(select(Milestone).where(Milestone.project_id == other.id)).first()
    foreign_run = RunLink(project_id=other.id, ref="ent/proj/x", label="not yours")
    session.add_all([run, hidden, foreign_run])
    session.commit()
    maya = world.client(world.maya)
    path = f"{world.url}/updates"
    bad = post(maya, path, {"body": "x", "milestone_id": str(foreign_ms.id)})
    assert bad.status_code == 422 and "this project&#39;s milestones" in bad.get_data(as_text=True)
    bad = post(maya, path, {"body": "x", "run_link_ids": [str(foreign_run.id)]})
    assert bad.status_code == 422
    bad = post(maya, path, {"body": "x", "milestone_id": "first"})
    assert bad.status_code == 422
    assert _updates(world) == []
    ok = post(
        maya,
        path,
        {
            "body": "checkpoint: val/acc 0.81",
            "milestone_id": str(milestone.id),
            "run_link_ids": [str(run.id), str(hidden.id)],
        },
    )
    assert ok.status_code == 303
    [update] = _updates(world)
    assert update.milestone_id == milestone.id and update.run_link_ids == sorted(
        [run.id, hidden.id]
    )
    public = world.client().get(world.url).get_data(as_text=True)
    assert f"Milestone: {milestone.title}" in public and "baseline run" in public
    assert "secret" not in public  # hidden runs only for members
    assert "secret" in maya.get(world.url).get_data(as_text=True)


def test_only_members_post_updates(world) -> None:
    for user in (world.pete, world.mira, world.ada):
        response = post(world.client(user), f"{world.url}/updates", {"body": "Not mine"})
        assert response.status_code == 403
    assert _updates(world) == []


def test_author_edits_update_others_cannot(world) -> None:
    maya = world.client(world.maya)
    post(maya, f"{world.url}/updates", {"body": "Draft thought"})
    [update] = _updates(world)
    path = f"{world.url}/updates/{update.id}/edit"
    assert world.client(world.pete).get(path).status_code == 403
    assert post(world.client(world.ada), path, {"body": "Admin edit"}).status_code == 403
    assert maya.get(path).status_code == 200
    assert post(maya, path, {"body": "Clearer thought"}).status_code == 303
    [update] = _updates(world)
    assert update.body_md == "Clearer thought" and update.edited_at is not None


def test_updates_join_the_atom_feed_of_public_projects_only(world) -> None:
    maya = world.client(world.maya)
    post(maya, f"{world.url}/updates", {"body": "Shipped <v2> & more"})
    feed = world.client().get("/u/maya/feed.atom")
    root = ET.fromstring(feed.data)  # well-formed despite < and & in the text
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert "Digit classifier: progress update" in titles
    summaries = [e.findtext("a:summary", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert "Shipped <v2> & more" in summaries
    # The content is the page's HTML (the one markdown renderer): the raw tag shown as text.
    contents = [e.find("a:content", ns) for e in root.findall("a:entry", ns)]
    [content] = [c for c in contents if c is not None]
    assert content.get("type") == "html" and content.text.startswith("<p>Shipped &lt;v2&gt;")
    world.set_visibility(Visibility.draft)
    assert b"progress update" not in world.client().get("/u/maya/feed.atom").data


def test_updates_page_lists_all(world) -> None:
    maya = world.client(world.maya)
    for n in range(12):
        post(maya, f"{world.url}/updates", {"body": f"Update number {n}"})
    page = world.client().get(world.url).get_data(as_text=True)
    assert "Update number 11" in page and "Update number 1<" not in page
    assert "Older updates" in page
    all_ = world.client().get(f"{world.url}/updates").get_data(as_text=True)
    assert "Update number 0" in all_
