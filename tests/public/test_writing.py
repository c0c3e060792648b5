"""Writing comfort: live preview, figure snippets, metric checkboxes, TOC and table rules."""

from __future__ import annotations

import re

from portfolio.markdown import render_markdown
from portfolio.models import Project
from tests.conftest import csrf_token, login

XSS = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"


def _preview(client, project, body: str, *, token: str | None = None, handle: str = "maya"):
    page = f"/u/{handle}/{project.slug}/write-up"
    return client.post(
        f"{page}/preview",
        data={"body_md": body, "csrf_token": token or csrf_token(client, page)},
        headers={"Accept": "application/json"},
    )


def test_live_preview_renders_like_the_page_and_saves_nothing(client, session, published):
    """The preview is the page's own sanitized rendering; the stored write-up is untouched."""
    maya, project = published
    before = project.body_md
    login(client, maya)
    body = "## Results\n\nVery **good**. " + XSS + "\n\n|a|b|\n|-|-|\n|1|2|"
    response = _preview(client, project, body)
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert "<strong>good</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert '<div class="table-wrap"><table>' in html
    assert html == str(render_markdown(body, toc=True))
    session.expire_all()
    stored = session.get(Project, project.id)
    assert stored.body_md == before and stored.version == project.version


def test_preview_button_without_js_keeps_the_text_and_saves_nothing(client, session, published):
    """The Preview button re-renders the edit page with the preview and the unsaved text."""
    maya, project = published
    login(client, maya)
    url = f"/u/maya/{project.slug}/write-up"
    response = client.post(
        url,
        data={
            "body_md": "Draft with **emphasis** " + XSS,
            "headline_metric": "val/acc",
            "headline_goal": "max",
            "preview": "1",
            "csrf_token": csrf_token(client, url),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    preview = html.split('id="preview-body">', 1)[1].split("</div>", 1)[0]
    assert "<strong>emphasis</strong>" in preview and "<script>" not in preview
    # The textarea keeps what was typed (escaped), ready to save.
    assert "Draft with **emphasis** &lt;script&gt;" in html
    session.expire_all()
    assert session.get(Project, project.id).body_md == project.body_md


def test_preview_refuses_bad_input_and_other_peoples_projects(
    client, session, published, make_user
):
    """Too long: 422; no CSRF token: 400; a stranger: 403; signed out: to the login page."""
    maya, project = published
    signed_out = _preview(client, project, "hello", token=csrf_token(client, "/login"))
    assert signed_out.status_code in (302, 401)
    stranger = make_user("sam")
    login(client, stranger)
    theirs = client.post(
        f"/u/maya/{project.slug}/write-up/preview",
        data={"body_md": "hello", "csrf_token": csrf_token(client, "/settings/profile")},
    )
    assert theirs.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings/profile")})
    login(client, maya)
    too_long = _preview(client, project, "x" * 100_001)
    assert too_long.status_code == 422
    assert "100000" in too_long.get_json()["error"]
    no_token = client.post(
        f"/u/maya/{project.slug}/write-up/preview",
        data={"body_md": "hello"},
        headers={"Accept": "application/json"},
    )
    assert no_token.status_code == 400 and "expired" in no_token.get_json()["error"]
    # HTML too large to render (a formula repeated thousands of times) is refused too.
    huge = _preview(client, project, "$x^{2}_{3}$ " * 8000)
    assert huge.status_code in (200, 422)


def test_preview_and_save_share_the_write_up_rate_limit(app, client, published):
    """Each has WRITEUP_RATE_LIMIT per account: the next request is 429, JSON for the preview."""
    maya, project = published
    login(client, maya)
    app.config["WRITEUP_RATE_LIMIT"] = "2 per minute"
    token = csrf_token(client, f"/u/maya/{project.slug}/write-up")
    assert _preview(client, project, "one", token=token).status_code == 200
    assert _preview(client, project, "two", token=token).status_code == 200
    limited = _preview(client, project, "three", token=token)
    assert limited.status_code == 429
    assert limited.is_json
    url = f"/u/maya/{project.slug}/write-up"
    saves = [
        client.post(
            url,
            data={"body_md": f"v{i}", "headline_goal": "max", "csrf_token": token},
        ).status_code
        for i in range(3)
    ]
    assert saves == [302, 302, 429]


def test_editor_offers_snippets_checkboxes_and_preview_controls(client, session, published):
    """Figures have a copyable snippet and an insert button; metrics and runs are checkboxes."""
    from tests.public.test_images import _png, _upload

    maya, project = published
    login(client, maya)
    url = f"/u/maya/{project.slug}/write-up"
    assert _upload(client, project, _png(), "fig.png", alt="Loss curve").status_code == 302
    html = client.get(url).get_data(as_text=True)
    snippet = re.search(r'data-markdown="(!\[Loss curve\]\(/u/maya/[^"]+\.png\))"', html)
    assert snippet, html
    assert f'readonly value="{snippet.group(1)}"' in html
    assert 'name="preview"' in html and "js/writeup.js" in html
    assert "<select" not in html.split('id="charts"', 1)[1].split("</form>")[0].replace(
        "headline_goal", ""
    )
    assert 'type="checkbox" value="val/acc"' in html or 'value="val/acc" type="checkbox"' in html
    assert "<legend>Metrics</legend>" in html


def test_chart_metrics_from_checkboxes_are_saved(client, session, published):
    """Several ticked checkboxes arrive as a list, as the multi-select did."""
    maya, project = published
    login(client, maya)
    token = csrf_token(client, f"/u/maya/{project.slug}/write-up")
    ok = client.post(
        f"/u/maya/{project.slug}/charts",
        data={"metrics": ["train/loss", "val/acc"], "x_axis": "_step", "csrf_token": token},
    )
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(Project, project.id).charts[-1]["metrics"] == ["train/loss", "val/acc"]


def test_no_table_of_contents_below_three_headings():
    """One or two headings: no contents; three: contents first; [TOC] always honoured."""
    one = str(render_markdown("## Only\n\ntext", toc=True))
    two = str(render_markdown("## A\n\n## B\n\ntext", toc=True))
    three = str(render_markdown("## A\n\n## B\n\n### C\n\ntext", toc=True))
    asked = str(render_markdown("[TOC]\n\n## Only\n\ntext", toc=True))
    assert 'class="toc"' not in one and 'class="toc"' not in two
    assert three.startswith('<div class="toc">')
    assert 'class="toc"' in asked


def test_public_page_puts_tables_in_a_scroll_box_with_the_caption_outside(client, published):
    """The runs table scrolls inside its box; its caption is a label outside it."""
    _, project = published
    html = client.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    caption = html.index('id="runs-caption"')
    box = html.index('class="table-wrap" role="region" aria-labelledby="runs-caption"')
    assert caption < box
    assert '<table class="runs" aria-labelledby="runs-caption">' in html
