"""The static export in a real browser: a remote image in a write-up never loads."""

from __future__ import annotations

import pytest

from portfolio.public.export import export_site

pytestmark = pytest.mark.browser


def test_exported_page_blocks_a_remote_tracking_pixel(app, session, published, browser, tmp_path):
    """Opened from disk, the exported page loads its own CSS and charts but not a remote pixel."""
    maya, project = published
    project.body_md += "\n\n![pixel](https://tracker.example/pixel.png)"
    project.version += 1
    session.add(project)
    session.commit()
    export_site(app, tmp_path / "site", "maya")
    context = browser.new_context()
    requested: list[str] = []
    # Nothing leaves the machine: a request that is attempted is recorded, then aborted.
    context.route(
        "https://tracker.example/**",
        lambda route: (requested.append(route.request.url), route.abort()),
    )
    page = context.new_page()
    page.goto((tmp_path / "site" / project.slug / "index.html").as_uri())
    page.wait_for_load_state("load")
    assert page.locator("img[src='https://tracker.example/pixel.png']").count() == 1
    assert requested == []
    # The page's own files still load under the policy.
    assert page.evaluate("document.styleSheets.length") >= 1
    assert page.evaluate(
        "[...document.images].filter(i => i.src.startsWith('file:')).every(i => i.naturalWidth > 0)"
    )
    context.close()
