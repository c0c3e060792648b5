"""Writing and first impressions in Chromium: the home page, live preview, insert image.

Screenshots (test-artifacts/screenshots/): home-1280.png, home-390.png,
results-table-390.png, write-up-preview.png.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from portfolio.projects import images
from tests.conftest import TEST_PASSWORD

from .conftest import shot

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"


def test_home_page_shows_real_projects_and_the_demo(live_server, browser, published, make_user):
    """This season's public project card (metric, thumbnail) and the demo link, at 1280 and 390."""
    _, project = published
    make_user("maya-okafor", email="maya@seasons-demo.example.com")
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(live_server + "/")
        card = page.locator(".showcase .project-card").first
        assert card.locator("h3").inner_text() == project.title
        assert "0.93" in card.locator(".headline-metric").inner_text()
        assert card.locator(".thumb-chart svg").count() == 1
        assert page.locator("a:has-text('See a demo portfolio')").is_visible()
        _no_sideways_scroll(page)
        shot(page, f"home-{width}")
        context.close()


def test_results_table_scrolls_with_its_caption_in_view_at_390(live_server, browser, published):
    """The runs table scrolls inside its box; the caption stays put and the page does not."""
    _, project = published
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/u/maya/{project.slug}?config=all")
    box = page.locator(".results .table-wrap").first
    box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert box.evaluate("el => el.scrollLeft") > 0, "the table should be wider than a phone"
    caption = page.locator("#runs-caption").bounding_box()
    assert caption is not None and caption["x"] >= 0 and caption["x"] + caption["width"] <= 390
    _no_sideways_scroll(page)
    box.scroll_into_view_if_needed()
    shot(page, "results-table-390")
    context.close()


def _png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 120, 200)).save(out, format="PNG")
    out.seek(0)
    return out


def test_live_preview_and_insert_image(app, live_server, browser, session, published):
    """Typing updates the server-rendered preview; "Insert" puts the figure at the cursor."""
    maya, project = published
    with app.test_request_context():
        images.save_image(session, project, uploader=maya, stream=_png(), alt="Loss curve")
        session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server + "/login")
    page.fill("#email", maya.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/u/maya/{project.slug}/write-up")
    editor = page.locator("#body_md")
    editor.fill("")
    editor.type("## Results\n\nIt **works** <script>window.pwned=1</script>\n\nThe end.")
    preview = page.locator("#preview-body")
    preview.locator("strong:has-text('works')").wait_for()
    assert preview.locator("script").count() == 0
    assert page.evaluate("window.pwned === undefined")
    # Put the cursor just before "The end." and insert the figure there.
    page.evaluate(
        "() => { const t = document.getElementById('body_md');"
        " const at = t.value.indexOf('The end.'); t.focus(); t.setSelectionRange(at, at); }"
    )
    page.click("button.insert-image")
    value = editor.input_value()
    figure = value.index("![Loss curve](/u/maya/")
    assert value.index("works") < figure < value.index("The end.")
    assert ".png)\n\nThe end." in value  # a paragraph of its own: a figure, not inline
    preview.locator("img[alt='Loss curve']").wait_for()
    shot(page, "write-up-preview")
    # Nothing was saved by previewing.
    session.expire_all()
    session.refresh(project)
    assert "works" not in project.body_md
    context.close()


def test_profile_shows_photo_links_and_what_they_look_for(
    app, live_server, browser, session, published
):
    """The photo, the "looking for" line and links with their host, on a phone."""
    from portfolio.auth import profile

    maya, _ = published
    with app.app_context():
        user = session.merge(maya)
        profile.set_avatar(session, user, stream=_png())
        profile.update_extras(
            session,
            user,
            github_url="https://github.com/maya",
            linkedin_url="https://www.linkedin.com/in/maya",
            website_url="https://maya.example.org",
            looking_for="Junior ML engineer roles, Berlin or remote",
        )
        session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/u/maya")
    photo = page.locator(".profile-head img.avatar")
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 40  # 60x40 cut square
    assert page.locator(".looking-for").inner_text().startswith("Looking for: Junior ML")
    links = page.locator(".profile-links a[rel='me noopener']")
    assert links.count() == 3
    assert "linkedin.com" in page.locator(".profile-links").inner_text()
    _no_sideways_scroll(page)
    shot(page, "profile-extras-390")
    context.close()
