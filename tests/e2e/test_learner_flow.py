"""A learner's path through the app in a real browser."""

from __future__ import annotations

import pytest

from portfolio.models import Visibility

from .conftest import shot

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def _sign_up(page, base: str, handle: str) -> None:
    page.goto(base + "/signup")
    page.fill("#email", f"{handle}@example.com")
    page.fill("#handle", handle)
    page.fill("#display_name", handle.replace("-", " ").title())
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign up')")
    page.wait_for_url(base + "/dashboard")


def test_sign_up_join_plan_publish_and_view_signed_out(live_server, page, browser):
    base = live_server
    _sign_up(page, base, "maya")
    page.click("nav .nav-links >> text=Seasons")
    page.locator(".grid a").first.click()
    page.click("button:has-text('Join')")
    page.fill("#title", "Housing policy simulation")
    page.fill("#summary", "How affordable units shift median income")
    page.fill("#problem_md", "Does **zoning** matter?")
    page.click("button:has-text('Plan project')")
    page.wait_for_url(base + "/u/maya/housing-policy-simulation")
    assert page.locator(".timeline li").count() == 4
    shot(page, "project-member")
    page.click("text=Edit project")
    page.select_option("#visibility", Visibility.public.value)
    page.click("button:has-text('Save')")
    page.click("text=Write-up and charts")
    page.fill("#body_md", "## What I learned\n\nSimulations need **calibration**.")
    page.click("button:has-text('Save write-up')")
    page.click("nav .nav-links >> text=Dashboard")
    assert "Housing policy simulation" in page.content()
    shot(page, "dashboard")
    anonymous = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    anonymous.goto(base + "/u/maya/housing-policy-simulation")
    assert anonymous.locator("h1").inner_text().startswith("Housing policy simulation")
    assert "calibration" in anonymous.content()
    assert anonymous.locator("text=Edit project").count() == 0
    shot(anonymous, "project-public")
    anonymous.goto(base + "/u/maya")
    assert "Housing policy simulation" in anonymous.content()
    shot(anonymous, "profile")


def test_phone_width_has_no_horizontal_scroll(live_server, browser):
    """Key pages fit a 390 px wide phone screen."""
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    for path in ("/", "/signup", "/login", "/seasons"):
        page.goto(live_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    shot(page, "seasons-phone")


def test_keyboard_reaches_every_sign_up_field(live_server, page):
    """Tab order reaches each input and the submit button, with a visible focus ring."""
    page.goto(live_server + "/signup")
    seen = []
    for _ in range(30):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
    for field in ("email", "handle", "display_name", "password", "timezone", "Sign up"):
        assert field in seen, (field, seen)
    page.focus("#email")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
