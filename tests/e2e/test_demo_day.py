"""A past demo season's demo day in Chromium, at desktop and phone widths.

After `flask demo`, the past seasons have ended: its page is the showcase
(the pinned project first, cards with images that load, the season's numbers).
Screenshots saved as test artifacts: demo-day-<width>.png, and the demo
project's progress timeline clipped to its section, progress-timeline-<width>.png.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from portfolio.models import Project, Season, ShowcaseEntry, User, Visibility, utcnow

from .conftest import shot


@pytest.fixture()
def demo_site(app, live_server) -> str:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return live_server


@pytest.mark.timeout(900)
def test_a_past_demo_season_shows_its_demo_day(browser, demo_site, session, subtests) -> None:
    # The demo pins a past season's project and features the others (content/demo).
    project, owner, season = session.exec(
        select(Project, User, Season)
        .join(ShowcaseEntry, ShowcaseEntry.project_id == Project.id)
        .join(User, User.id == Project.owner_id)
        .join(Season, Season.id == Project.season_id)
        .where(ShowcaseEntry.pinned_at.is_not(None), Project.visibility == Visibility.public)
    ).one()
    assert season.ends_on < utcnow().date()
    for width in (1280, 390):
        with subtests.test(width=width):
            _check(browser, demo_site, season, project, owner, width)


def _check(browser, demo_site: str, season, project, owner, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        response = page.goto(f"{demo_site}/seasons/{season.slug}")
        assert response is not None and response.status == 200
        assert "demo day" in page.locator("h1").inner_text()
        assert "This season in numbers" in page.content()
        card = page.locator(".demo-card").first
        assert project.title in card.inner_text()
        assert "Pinned" in card.inner_text()  # the demo admin pinned it
        image = card.locator("img.demo-image")
        image.scroll_into_view_if_needed()
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle())
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"page scrolls sideways by {overflow}px"
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, f"demo-day-{width}")

        response = page.goto(f"{demo_site}/u/{owner.handle}/{project.slug}")
        assert response is not None and response.status == 200
        timeline = page.locator("section.progress")
        assert timeline.count() == 1
        shot(page, f"progress-timeline-{width}", element=timeline)
    finally:
        context.close()
    assert not problems, problems
