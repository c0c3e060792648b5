"""Demo day: a past season's page showcases its public projects, pins, numbers and feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import feedparser
import pytest

from portfolio.models import (
    Role,
    ShowcaseEntry,
    User,
    Visibility,
    utcnow,
)
from portfolio.seasons import milestones, public_record
from portfolio.seasons import service as seasons
from tests.conftest import csrf_token, login
from tests.queries import page_statements


@pytest.fixture()
def past(app, session):
    """Last quarter's season: it has ended, so its page is demo day."""
    year, q = seasons.quarter_of(utcnow().date())
    year, q = (year - 1, 4) if q == 1 else (year, q - 1)
    with app.app_context():
        season = seasons.ensure_quarter(session, year, q)
        session.commit()
    return season


@pytest.fixture()
def add(app, session, make_user, make_project, past):
    """A project of the past season: visibility, milestones done (on time or late), owner."""

    def factory(
        title: str,
        *,
        handle: str | None = None,
        visibility: Visibility = Visibility.public,
        done: int = 0,
        late: bool = False,
        activity: int = 0,
        season=None,
    ):
        owner = make_user(handle)
        season = season or past
        start = datetime.combine(season.starts_on, time(9), UTC) + timedelta(days=1)
        project = make_project(owner, title=title, season=season, now=start)
        for m in milestones.list_for(session, project.id)[:done]:
            when = m.due_at + timedelta(days=2) if late else m.due_at - timedelta(hours=2)
            milestones.complete(session, project, m, note="", now=when)
        project.visibility = visibility
        project.last_activity_at = start + timedelta(days=activity)
        session.add(project)
        session.commit()
        return owner, project

    return factory


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/u/[^"]+">([^<]+)</a></h3>', html)


def _post(client, path: str, data: dict | None = None, *, token_from: str):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **(data or {})})


def test_the_current_season_keeps_its_page_and_an_ended_one_turns_into_demo_day(
    client, app, session, past, add
):
    add("Shipped thing", done=4)
    html = _page(client, f"/seasons/{past.slug}")
    assert "demo day" in html and "This season in numbers" in html
    assert _titles(html) == ["Shipped thing"]
    assert f'type="application/atom+xml" title="{past.title} demo day"' in html
    with app.app_context():
        current = seasons.current_season(session, utcnow().date())
        session.commit()
    html = _page(client, f"/seasons/{current.slug}")
    assert "This season in numbers" not in html and "The plan" in html


def test_order_is_pins_then_featured_then_milestones_and_activity(
    client, app, session, make_user, past, add
):
    """Pins in pin order, then featured in feature order, then most done, latest activity."""
    owners = {}
    for title, done, activity in [
        ("Plain few", 1, 20),
        ("Plain many", 3, 1),
        ("Plain many newer", 3, 5),
        ("Featured second", 0, 0),
        ("Featured first", 0, 0),
        ("Pinned second", 0, 0),
        ("Pinned first", 0, 0),
    ]:
        owners[title] = add(title, done=done, activity=activity)
    admin = make_user("boss", role=Role.admin)
    page = f"/seasons/{past.slug}"
    for title in ("Featured first", "Featured second"):
        owner, project = owners[title]
        member = app.test_client()
        login(member, owner)
        edit = f"/u/{owner.handle}/{project.slug}/edit"
        response = _post(
            member,
            f"/u/{owner.handle}/{project.slug}/showcase",
            {"showcase-featured": "y", "showcase-highlight": f"{title} line"},
            token_from=edit,
        )
        assert response.status_code == 303
    login(client, admin)
    for title in ("Pinned first", "Pinned second"):
        response = _post(
            client, f"{page}/pins", {"project_id": owners[title][1].id}, token_from=page
        )
        assert response.status_code == 303
    html = _page(app.test_client(), page)
    assert _titles(html) == [
        "Pinned first",
        "Pinned second",
        "Featured first",
        "Featured second",
        "Plain many newer",
        "Plain many",
        "Plain few",
    ]
    assert "Featured first line" in html and html.count('class="badge">Pinned<') == 2
    # Unpinned, a project falls back to its usual place.
    response = _post(client, f"{page}/pins/{owners['Pinned first'][1].id}/delete", token_from=page)
    assert response.status_code == 303
    assert _titles(_page(app.test_client(), page))[:2] == ["Pinned second", "Featured first"]


def test_pins_are_for_admins_on_public_projects_of_the_season_at_most_six(
    client, app, session, make_user, make_project, past, add
):
    page = f"/seasons/{past.slug}"
    projects = [add(f"Project {i}")[1] for i in range(7)]
    _, draft = add("Draft one", visibility=Visibility.draft)
    _, unlisted = add("Unlisted one", visibility=Visibility.unlisted)
    with app.app_context():
        current = seasons.current_season(session, utcnow().date())
        session.commit()
    _, elsewhere = add("Other season", season=current)
    learner = make_user("learner")
    login(client, learner)
    token = csrf_token(client, page)
    refused = client.post(f"{page}/pins", data={"csrf_token": token, "project_id": projects[0].id})
    assert refused.status_code == 403
    assert "Pin<" not in _page(client, page)

    admin_client = app.test_client()
    login(admin_client, make_user("boss", role=Role.admin))
    token = csrf_token(admin_client, page)
    admin_html = _page(admin_client, page)
    assert f'action="/seasons/{past.slug}/pins"' in admin_html and "0 of 6 pins used" in admin_html

    def pin(project_id) -> int:
        data = {"csrf_token": token, "project_id": project_id}
        return admin_client.post(f"{page}/pins", data=data).status_code

    assert admin_client.post(f"{page}/pins", data={"project_id": projects[0].id}).status_code == 400
    for hidden in (draft, unlisted, elsewhere):
        assert pin(hidden.id) == 404
    assert pin(999_999) == 404
    assert pin(2**63) == 404 and pin(-1) == 404
    huge = admin_client.post(f"{page}/pins/{2**40}/delete", data={"csrf_token": token})
    assert huge.status_code == 404
    assert pin("seven") == 400
    assert pin(projects[0].id) == 303
    assert pin(projects[0].id) == 409
    for project in projects[1:6]:
        assert pin(project.id) == 303
    response = admin_client.post(
        f"{page}/pins", data={"csrf_token": token, "project_id": projects[6].id}
    )
    assert response.status_code == 422 and "At most 6" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(ShowcaseEntry, projects[6].id) is None
    gone = admin_client.post(f"{page}/pins/{projects[6].id}/delete", data={"csrf_token": token})
    assert gone.status_code == 409
    assert (
        admin_client.post(f"{page}/pins/{draft.id}/delete", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(
            f"{page}/pins/{projects[0].id}/delete", data={"csrf_token": csrf_token(client, page)}
        ).status_code
        == 403
    )
    assert admin_client.post("/seasons/no-such/pins", data={"csrf_token": token}).status_code == 404


def test_numbers_and_cards_hold_public_projects_and_visible_runs_only(
    client, app, session, make_run, past, add
):
    maya, shown = add("Shown", handle="maya", done=4)  # all on time
    _, late = add("Late", done=4, late=True)
    add("Draft", visibility=Visibility.draft, done=4)
    add("Unlisted", visibility=Visibility.unlisted, done=4)
    shown.headline_metric = "val/acc"
    session.add(shown)
    session.commit()
    make_run(
        shown, name="seen", summary={"val/acc": 0.8123}, config={}, series={"val/acc": [(0, 0.8)]}
    )
    make_run(shown, name="hidden", summary={"val/acc": 0.999}, config={}, series={}, hidden=True)
    with app.app_context():
        public_record.set_full_record(session, session.merge(maya), show=True)
        session.commit()
    html = _page(client, f"/seasons/{past.slug}")
    assert sorted(_titles(html)) == ["Late", "Shown"]
    assert "Draft" not in html and "Unlisted" not in html
    assert "0.8123" in html and "0.999" not in html
    numbers = re.sub(r"\s+", " ", html.split("This season in numbers", 1)[1].split("</ul>")[0])
    assert "<strong>2</strong> learners" in numbers
    assert "<strong>2</strong> projects shipped" in numbers
    assert "<strong>8</strong> milestones done" in numbers
    # On time only over Maya's project: she opted in, the late project's learner did not.
    assert "<strong>4 of 4</strong> milestones on time" in numbers
    assert "over the 1 project whose learners" in html
    assert f'src="/u/maya/{shown.slug}/og.png"' in html
    assert html.count('<img class="demo-image"') == 1  # the late one has no chart


def test_a_member_features_the_project_non_members_cannot_bad_highlights_change_nothing(
    client, app, session, make_user, past, add
):
    owner, project = add("Forecasts", handle="maya")
    base = f"/u/maya/{project.slug}"
    login(client, owner)
    assert "Save demo-day highlight" in _page(client, f"{base}/edit")
    for bad in ("x" * 141, "two\nlines"):
        response = _post(
            client,
            f"{base}/showcase",
            {"showcase-featured": "y", "showcase-highlight": bad},
            token_from=f"{base}/edit",
        )
        assert response.status_code == 422
        session.expire_all()
        assert session.get(ShowcaseEntry, project.id) is None
    ok = _post(
        client,
        f"{base}/showcase",
        {"showcase-featured": "y", "showcase-highlight": "  Cut MAPE from 4.3 % to 3.1 %  "},
        token_from=f"{base}/edit",
    )
    assert ok.status_code == 303
    session.expire_all()
    assert session.get(ShowcaseEntry, project.id).highlight == "Cut MAPE from 4.3 % to 3.1 %"
    assert "Cut MAPE from 4.3 % to 3.1 %" in _page(app.test_client(), f"/seasons/{past.slug}")
    # An admin may edit the project, but the highlight is the learner's choice.
    admin = app.test_client()
    login(admin, make_user("boss", role=Role.admin))
    assert "Save demo-day highlight" not in _page(admin, f"{base}/edit")
    refused = _post(
        admin, f"{base}/showcase", {"showcase-highlight": "mine"}, token_from=f"{base}/edit"
    )
    assert refused.status_code == 403
    stranger = app.test_client()
    login(stranger, make_user("stranger"))
    assert _post(stranger, f"{base}/showcase", token_from=base).status_code == 403
    # Unfeaturing takes it off the card.
    _post(client, f"{base}/showcase", {"showcase-highlight": "Cut"}, token_from=f"{base}/edit")
    assert "Cut MAPE" not in _page(app.test_client(), f"/seasons/{past.slug}")


def test_hostile_titles_and_highlights_are_escaped_on_the_page_and_in_the_feed(
    client, app, session, past, add
):
    owner, project = add('<script>alert("t")</script>', handle="maya")
    with app.app_context():
        from portfolio.seasons import demo_day

        demo_day.set_feature(
            session,
            project,
            owner,
            featured=True,
            highlight="<img src=x onerror=alert(1)>",
            now=utcnow(),
        )
        session.commit()
    html = _page(client, f"/seasons/{past.slug}")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    body = client.get(f"/seasons/{past.slug}/feed.xml").get_data(as_text=True)
    assert "<script>" not in body and "<img" not in body
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    assert parsed.entries[0].title == '<script>alert("t")</script>'


def test_feed_is_valid_atom_with_validators_and_304s(client, app, session, make_user, past, add):
    _, alpha = add("Alpha", handle="ada", done=2)
    add("Hidden draft", visibility=Visibility.draft)
    path = f"/seasons/{past.slug}/feed.xml"
    first = client.get(path)
    assert first.status_code == 200 and first.mimetype == "application/atom+xml"
    parsed = feedparser.parse(first.data)
    assert not parsed.bozo and parsed.version == "atom10"
    assert [e.title for e in parsed.entries] == ["Alpha"]
    [entry] = parsed.entries
    assert entry.author == "Ada" and entry.link.endswith("/u/ada/alpha")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/seasons/no-such-season/feed.xml").status_code == 404
    # A pin changes both validators.
    admin = app.test_client()
    login(admin, make_user("boss", role=Role.admin))
    page = f"/seasons/{past.slug}"
    pinned = _post(admin, f"{page}/pins", {"project_id": alpha.id}, token_from=page)
    assert pinned.status_code == 303
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_the_showcase_runs_as_many_statements_for_30_projects_as_for_3(
    client, app, session, make_run, past, add
):
    def statements(n: int, offset: int) -> tuple[int, ...]:
        for i in range(n):
            _, project = add(f"Project {offset + i}", done=i % 4)
            project.headline_metric = "loss"
            session.add(project)
            session.commit()
            if i % 2:
                make_run(
                    project,
                    name=f"r{i}",
                    summary={"loss": 1 / (i + 1)},
                    config={},
                    series={"loss": [(0, 1.0)]},
                )
        with app.app_context():
            from portfolio.seasons import demo_day

            demo_day.set_feature(
                session,
                project,
                session.get(User, project.owner_id),
                featured=True,
                highlight="h",
                now=utcnow(),
            )
            session.commit()
        paths = (f"/seasons/{past.slug}", f"/seasons/{past.slug}/feed.xml")
        engine = app.extensions["engine"]
        return page_statements(client, engine, paths, shows=f"Project {offset + n - 1}")

    small = statements(3, 0)
    large = statements(27, 100)  # 30 in all
    assert small == large


def test_a_published_recap_gives_the_card_its_recap_image(client, app, session, past, add):
    from portfolio.seasons import recaps

    owner, project = add("Recapped", handle="rosa", done=4)
    _, other = add("Plain", handle="sam", done=4)
    html = _page(client, f"/seasons/{past.slug}")
    assert "recap.png" not in html  # nothing published yet, and no chart: no picture
    with app.test_request_context():
        recaps.publish(session, project, past, owner, "Four milestones, one model.", now=utcnow())
        session.commit()
    html = _page(client, f"/seasons/{past.slug}")
    assert f'src="/u/rosa/{project.slug}/recap.png"' in html
    assert f"/u/sam/{other.slug}/recap.png" not in html
    assert client.get(f"/u/rosa/{project.slug}/recap.png").status_code == 200
