"""Deleting one's account in a real browser: the public pages are gone at once."""

from __future__ import annotations

import pytest

from portfolio.models import Project, Visibility
from tests.conftest import TEST_PASSWORD

from .conftest import shot

pytestmark = pytest.mark.browser


def test_delete_account_in_settings_then_public_pages_404(
    live_server, page, browser, session, make_user, make_project
):
    """Sign in, delete the account from settings; profile and project pages answer 404."""
    base = live_server
    bob = make_user("bob")
    project = session.get(Project, make_project(bob, title="Bird songs").id)
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    visitor = browser.new_context().new_page()
    for path in ("/u/bob", "/u/bob/bird-songs"):
        assert visitor.goto(base + path).status == 200, path

    page.goto(base + "/login")
    page.fill("#email", bob.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(base + "/settings/profile")
    page.click("nav.subnav >> text=Delete account")
    assert page.locator("a:has-text('Download my data')").count() == 1
    page.fill("#password", TEST_PASSWORD)
    page.fill("#confirm_handle", "bobby")
    page.click("button:has-text('Delete my account')")
    assert "Type your handle, bob" in page.content()  # a typo deletes nothing
    page.fill("#password", TEST_PASSWORD)
    page.fill("#confirm_handle", "bob")
    shot(page, "delete-account")
    page.click("button:has-text('Delete my account')")
    page.wait_for_url(base + "/")
    assert "Your account and your data are deleted" in page.content()

    for path in ("/u/bob", "/u/bob/bird-songs"):
        assert visitor.goto(base + path).status == 404, path
    visitor.context.close()
