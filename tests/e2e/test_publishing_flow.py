"""A late joiner publishes in Chromium: kind public pages, the draft banner, the share link.

Screenshots (test artifacts): late-joiner-project-public.png, late-joiner-profile.png,
draft-with-banner.png, draft-with-banner-390.png, dashboard-publish-checklist.png and
published-share-link.png.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portfolio.models import Visibility
from portfolio.seasons import milestones
from portfolio.seasons import service as seasons
from tests.conftest import TEST_PASSWORD

from .conftest import shot

pytestmark = pytest.mark.browser


@pytest.fixture()
def late_joiner(app, session, make_user, make_project):
    """Maya joins a cohort season with 30 days left: one public project, one draft."""
    now = datetime.now(UTC)
    today = now.date()
    with app.app_context():
        cohort = seasons.create_cohort(
            session,
            slug="spring-cohort",
            title="Spring cohort",
            starts_on=today - timedelta(days=60),
            ends_on=today + timedelta(days=29),
        )
        session.commit()
    maya = make_user("maya")
    public = make_project(maya, season=cohort, title="Late starter", now=now)
    first = milestones.list_for(session, public.id)[0]
    milestones.complete(session, public, first, note="Proposal written", now=now)
    public.visibility = Visibility.public
    session.add(public)
    session.commit()
    draft = make_project(maya, season=cohort, title="Draft ideas", now=now, allow_second=True)
    return maya, public, draft


def test_late_joiner_public_pages_and_publishing(browser, live_server, late_joiner):
    maya, public, draft = late_joiner
    base = live_server

    visitor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    visitor.goto(f"{base}/u/maya/{public.slug}")
    html = visitor.content()
    assert "Missed" not in html and "Behind" not in html and "badge-behind" not in html
    assert "1 of 4 milestones done" in html
    shot(visitor, "late-joiner-project-public")
    visitor.goto(f"{base}/u/maya")
    html = visitor.content()
    assert "on time" not in html and "Behind" not in html
    assert visitor.locator(".stats").inner_text().count("milestones done") == 1
    shot(visitor, "late-joiner-profile")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login")
    page.fill("#email", maya.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button:has-text('Log in')")
    page.wait_for_url(f"{base}/dashboard")  # signing in lands on the dashboard
    checklist = page.locator(".dash-publish .publish-checklist")
    assert checklist.count() == 1 and "0 of 3 done" in checklist.inner_text()
    shot(page, "dashboard-publish-checklist")

    page.goto(f"{base}/u/maya/{draft.slug}")
    banner = page.locator(".draft-banner")
    assert "only your team and mentors can see this" in banner.inner_text()
    shot(page, "draft-with-banner")
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{base}/u/maya/{draft.slug}/edit")
    assert phone.locator(".draft-banner").is_visible()
    overflow = phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    shot(phone, "draft-with-banner-390")

    banner.locator("button:has-text('Make it public')").click()
    page.wait_for_url(f"{base}/u/maya/{draft.slug}")
    assert page.locator(".draft-banner").count() == 0
    assert "Your project is public" in page.locator(".flashes").inner_text()
    field = page.locator("#share-url")
    assert field.input_value() == f"{base}/u/maya/{draft.slug}"
    copy = page.locator("button[data-copy]")
    assert copy.is_visible()  # shown by copy-link.js
    copy.click()
    page.wait_for_function(
        "document.querySelector('.copy-status').textContent.length > 0", timeout=5_000
    )
    assert page.evaluate("navigator.clipboard.readText()") == f"{base}/u/maya/{draft.slug}"
    shot(page, "published-share-link")

    page.click("text=View public page")
    assert "You are seeing this page as visitors do" in page.content()
    assert page.locator("text=Edit project").count() == 0
    context.close()


def test_copy_link_field_works_without_js(browser, live_server, late_joiner):
    """With JS off the button stays hidden and the link is a selectable field."""
    maya, public, _ = late_joiner
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", maya.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button:has-text('Log in')")
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/u/maya/{public.slug}")
    assert page.locator("#share-url").input_value() == f"{live_server}/u/maya/{public.slug}"
    assert not page.locator("button[data-copy]").is_visible()
    context.close()
