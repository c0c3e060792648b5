"""The home page's examples and the season gallery's counts."""

from __future__ import annotations

from datetime import UTC, datetime

from portfolio.models import Visibility
from portfolio.seasons import service as seasons
from tests.queries import statements


def test_home_shows_this_seasons_public_projects_with_metric_and_thumbnail(
    client, session, published, make_user, make_project
):
    """Title, learner, headline value and a script-free thumbnail; drafts never."""
    _, project = published
    make_project(make_user("ivy"), title="Secret draft project")
    html = client.get("/").get_data(as_text=True)
    assert ": projects in progress" in html
    assert f'href="/u/maya/{project.slug}">Digit classifier</a>' in html
    assert 'href="/u/maya">Maya</a>' in html
    assert "<strong>0.93</strong>" in html and "val/acc" in html
    thumb = html.split('class="thumb-chart"', 1)[1].split("</div>", 1)[0]
    assert "<svg" in thumb and "<script" not in thumb
    assert "Secret draft project" not in html
    assert "secret-experiment" not in html


def test_home_falls_back_to_earlier_seasons_and_says_so(
    app, client, session, make_user, make_project
):
    """With no public project this season, the latest public ones of earlier seasons show."""
    today = datetime.now(UTC).date()
    year, quarter = seasons.quarter_of(today)
    with app.app_context():
        earlier = seasons.ensure_quarter(session, year - 1, quarter)
        session.commit()
    old = make_project(make_user("old-timer"), title="Last year's model", season=earlier)
    old.visibility = Visibility.public
    session.add(old)
    session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Recent projects" in html and "from earlier seasons" in html
    assert "Last year&#39;s model" in html or "Last year's model" in html


def test_demo_link_only_for_the_loaded_demo(client, session, make_user):
    """The demo's learner (handle and made-up address) is linked; a namesake is not."""
    assert "See a demo portfolio" not in client.get("/").get_data(as_text=True)
    impostor = make_user("maya-okafor", email="maya@real.example.com")
    assert "See a demo portfolio" not in client.get("/").get_data(as_text=True)
    session.delete(session.merge(impostor))
    session.commit()
    make_user("maya-okafor", email="maya@seasons-demo.example.com")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/u/maya-okafor">See a demo portfolio: Maya Okafor</a>' in html


def test_season_cards_count_learners_and_public_projects_in_one_query(
    app, client, session, make_user, make_project
):
    """Counts per season; more seasons add no queries (no N+1)."""
    with app.app_context():
        current = seasons.ensure_current_and_next(session, datetime.now(UTC).date())[0]
        session.commit()
    maya, ivy, tom = make_user("maya"), make_user("ivy"), make_user("tom")
    for user in (maya, ivy, tom):
        seasons.enroll(session, session.merge(user), current)
    session.commit()
    shown = make_project(maya, title="Shown", season=current)
    shown.visibility = Visibility.public
    session.add(shown)
    make_project(ivy, title="Still a draft", season=current)
    session.commit()
    with statements(app.extensions["engine"]) as few:
        html = client.get("/seasons").get_data(as_text=True)
    card = html.split(f'href="/seasons/{current.slug}"', 1)[1].split("</article>", 1)[0]
    assert "<strong>3</strong> learners" in card
    assert "<strong>1</strong> public project<" in card
    year, quarter = seasons.quarter_of(current.starts_on)
    with app.app_context():
        for back in range(1, 6):
            seasons.ensure_quarter(session, year - back, quarter)
        session.commit()
    with statements(app.extensions["engine"]) as many:
        html = client.get("/seasons").get_data(as_text=True)
    assert html.count('class="card season-card"') >= 7
    assert len(many) == len(few)
