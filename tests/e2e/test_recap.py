"""The season recap in a real browser: write and publish it, then read it on a phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portfolio.models import Project, Visibility
from portfolio.seasons import milestones
from portfolio.seasons import service as seasons
from tests.conftest import TEST_PASSWORD

from .conftest import shot

pytestmark = pytest.mark.browser


def test_write_publish_and_read_a_recap_on_a_phone(
    app, live_server, page, browser, session, make_user, make_project, make_run
):
    base = live_server
    maya = make_user("maya")
    with app.app_context():
        season = seasons.ensure_quarter(session, 2026, 3)  # over before today
        session.commit()
    project = make_project(
        maya, title="Digit classifier", season=season, now=datetime(2026, 7, 1, 9, tzinfo=UTC)
    )
    project = session.get(Project, project.id)
    project.visibility = Visibility.public
    project.headline_metric = "val/acc"
    session.commit()
    plan = milestones.list_for(session, project.id)
    for value, milestone in zip((0.72, 0.81, 0.88, 0.93), plan, strict=True):
        make_run(
            project, name=f"run-{value}", summary={"val/acc": value}, config={},
            series={"val/acc": [(0, value - 0.2), (1, value)]},
        )  # fmt: skip
        milestones.complete(
            session, project, milestone, note="", now=milestone.due_at - timedelta(days=1)
        )
        session.commit()

    page.goto(base + "/login")
    page.fill("#email", maya.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(f"{base}/u/maya/{project.slug}")
    page.click("text=Edit and publish your recap")
    assert "4 of 4" in page.inner_text(".recap-stats")
    assert "0.72 → 0.93" in page.inner_text(".recap-stats")
    page.fill("#body", "Four milestones, **one** good idea: augmentation.")
    shot(page, "recap-edit-1280")
    page.click("button:has-text('Publish')")
    assert "Your recap is public." in page.content()

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"{base}/u/maya/{project.slug}")
    section = phone.locator("#season-recap").locator("xpath=..")
    assert "one good idea" in section.inner_text()
    assert section.locator("strong:has-text('one')").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    og = phone.locator('meta[property="og:image"]').get_attribute("content")
    assert og.endswith(f"/u/maya/{project.slug}/recap.png")
    image = phone.request.get(og)
    assert image.status == 200 and image.headers["content-type"] == "image/png"
    section.scroll_into_view_if_needed()
    shot(phone, "project-recap-390")
    phone.context.close()
