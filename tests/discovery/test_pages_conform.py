"""The search, tag and edit (tags form with errors) pages are valid HTML (Nu checker)."""

from __future__ import annotations

from portfolio.models import Visibility
from tests.conformance import crawl
from tests.conformance.test_conformance import _tools
from tests.conftest import csrf_token


def test_discovery_pages_conform(session, client, make_user, make_project, login_as, tmp_path):
    java = _tools()
    maya = make_user("maya")
    project = make_project(maya, title="Churn <model>")
    project.visibility = Visibility.public
    project.body_md = "We model churn with <b>trees</b> & boosting."
    session.add(project)
    session.commit()
    login_as(maya)
    edit = f"/u/maya/{project.slug}/edit"
    client.post(
        f"/u/maya/{project.slug}/tags",
        data={"tags-tags": "NLP, time series", "csrf_token": csrf_token(client, edit)},
    )
    bad = client.post(
        f"/u/maya/{project.slug}/tags",
        data={"tags-tags": "a,b,c,d,e,f", "csrf_token": csrf_token(client, edit)},
    )
    pages = [crawl.Page("learner", "tags-error", bad.status_code, "text/html", bad.data)]
    for url in [edit, "/search?q=churn+model", "/search", "/search?q=%22", "/tags/nlp"]:
        response = client.get(url)
        pages.append(crawl.Page("learner", url, response.status_code, "text/html", response.data))
    messages = crawl.check_html(java, pages, tmp_path / "pages")
    assert not messages, crawl.format_messages(messages)
