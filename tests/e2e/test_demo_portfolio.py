"""The demo learner's portfolio in Chromium: desktop and phone widths, JS on and off.

What a recruiter opens: the profile (cards with headline metric and a
thumbnail chart) and a project page with real runs (comparison, charts).
Every asset comes from the app itself, nothing scrolls sideways on a phone,
charts draw with JS off and become interactive with JS on when asked, and the console
stays clean (a CSP violation would show there). Screenshots are saved as
test artifacts: demo-profile-<width>-<js|nojs>.png, demo-project-….png.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from portfolio.models import Project, RunLink, User, Visibility

from .conftest import shot

DEMO_LEARNER = "maya-okafor"
VIEWS = [(1280, True), (1280, False), (390, True), (390, False)]


@pytest.fixture()
def demo_site(app, live_server) -> str:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return live_server


def _charted_project(session) -> Project:
    """The demo learner's public project with the most linked runs."""
    maya = session.exec(select(User).where(User.handle == DEMO_LEARNER)).one()
    projects = session.exec(
        select(Project).where(Project.owner_id == maya.id, Project.visibility == Visibility.public)
    ).all()
    runs = {p.id: len(session.exec(select(RunLink).where(RunLink.project_id == p.id)).all())
            for p in projects}  # fmt: skip
    best = max(projects, key=lambda p: runs[p.id])
    assert runs[best.id] >= 2, "the demo should give its learner a project with runs"
    return best


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"


def test_demo_portfolio_looks_finished(browser, demo_site, session, subtests) -> None:
    """One demo load, then each of desktop/phone × JS on/off as a subtest."""
    project = _charted_project(session)
    for width, js in VIEWS:
        with subtests.test(width=width, js=js):
            _check_view(browser, demo_site, project, width, js)


def _check_view(browser, demo_site: str, project: Project, width: int, js: bool) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=js)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(demo_site) else foreign.append(r.url))
    label = f"{width}-{'js' if js else 'nojs'}"
    try:
        response = page.goto(f"{demo_site}/u/{DEMO_LEARNER}")
        assert response is not None and response.status == 200
        assert page.locator(".project-card").count() >= 2
        thumbs = page.locator(".thumb-chart svg")
        assert thumbs.count() >= 1
        assert thumbs.first.bounding_box()["width"] > 100
        _no_sideways_scroll(page)
        shot(page, f"demo-profile-{label}")

        response = page.goto(f"{demo_site}/u/{DEMO_LEARNER}/{project.slug}")
        assert response is not None and response.status == 200
        assert project.title in page.locator("h1").first.inner_text()
        assert page.locator("table").count() >= 1  # run comparison and data tables
        if js:
            # charts.js upgrades a chart when the visitor asks for it.
            figure = page.locator("figure.chart").first
            figure.scroll_into_view_if_needed()
            figure.get_by_role("button", name="Explore this chart").click()
            page.wait_for_selector("figure.chart[data-chart-state=interactive]")
            assert page.locator(".chart-interactive svg").count() >= 1
        else:
            images = page.locator(".chart-view img")
            assert images.count() >= 1
            images.first.scroll_into_view_if_needed()
            first = images.first.element_handle()
            page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=first)
        _no_sideways_scroll(page)
        shot(page, f"demo-project-{label}")
    finally:
        context.close()
    assert not foreign, f"requests left the app: {foreign}"
    assert not problems, problems
