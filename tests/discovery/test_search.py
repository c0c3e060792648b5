"""Public search: ranking, pagination, what never shows, escaping and bad queries."""

from __future__ import annotations

import re

import pytest
from click.testing import Result
from sqlmodel import select

from portfolio.discovery import index
from portfolio.models import (
    LinkKind,
    ProjectSearch,
    RunLink,
    RunSnapshot,
    SyncState,
    User,
    Visibility,
)


@pytest.fixture()
def publish(session):
    def do(project, *, body: str = "", summary: str | None = None, visibility=Visibility.public):
        project = session.merge(project)
        project.visibility = visibility
        project.body_md = body
        if summary is not None:
            project.summary = summary
        session.add(project)
        session.commit()
        return project

    return do


@pytest.fixture()
def tagged_run(session):
    def do(project, tags: list[str], *, hidden: bool = False) -> RunLink:
        link = RunLink(
            project_id=project.id,
            ref=f"ent/proj/{'-'.join(tags)}-{hidden}",
            kind=LinkKind.run,
            hidden=hidden,
            sync_state=SyncState.synced,
        )
        session.add(link)
        session.flush()
        snap = RunSnapshot(run_link_id=link.id, run_id=f"r{link.id}", name="run", tags=tags)
        session.add(snap)
        session.flush()
        link.current_snapshot_id = snap.id
        session.add(link)
        session.commit()
        return link

    return do


def titles(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<li class="card search-hit">\s*<h2><a href="[^"]+">([^<]+)</a>', html)


def test_ranking_title_beats_body_and_only_public_show(client, make_user, make_project, publish):
    maya = make_user("maya")
    a = make_project(maya, title="Sentiment of reviews")
    b = make_project(maya, title="House prices", allow_second=True)
    c = make_project(maya, title="Draft sentiment study", allow_second=True)
    d = make_project(maya, title="Unlisted sentiment", allow_second=True)
    publish(a, body="Classifying review sentiment with a small transformer.")
    publish(b, body="A side note on sentiment in listings.")
    publish(c, body="sentiment", visibility=Visibility.draft)
    publish(d, body="sentiment", visibility=Visibility.unlisted)

    response = client.get("/search?q=sentiment")
    assert response.status_code == 200
    assert titles(response) == ["Sentiment of reviews", "House prices"]
    assert "<mark>sentiment</mark>" in response.get_data(as_text=True)

    # The learner's name is searchable too (both rank alike: newest first).
    assert sorted(titles(client.get("/search?q=maya"))) == ["House prices", "Sentiment of reviews"]


def test_visibility_change_and_deletion_follow(client, session, make_user, make_project, publish):
    maya = make_user("maya")
    project = publish(make_project(maya, title="Forecasting demand"))
    assert titles(client.get("/search?q=forecasting")) == ["Forecasting demand"]
    publish(project, visibility=Visibility.draft)
    assert titles(client.get("/search?q=forecasting")) == []
    assert session.exec(select(ProjectSearch)).all() == []
    publish(project)
    user = session.get(User, maya.id)
    user.display_name = "Zebediah Quill"
    session.add(user)
    session.commit()
    assert titles(client.get("/search?q=zebediah")) == ["Forecasting demand"]


def test_hidden_runs_tags_never_indexed(
    client, session, make_user, make_project, publish, tagged_run
):
    maya = make_user("maya")
    project = publish(make_project(maya, title="Speech model"))
    tagged_run(project, ["wav2vec"])
    secret = tagged_run(project, ["classifiedtopic"], hidden=True)
    assert titles(client.get("/search?q=wav2vec")) == ["Speech model"]
    assert titles(client.get("/search?q=classifiedtopic")) == []
    link = session.get(RunLink, secret.id)
    link.hidden = False
    session.add(link)
    session.commit()
    assert titles(client.get("/search?q=classifiedtopic")) == ["Speech model"]


def test_pagination_and_bad_page(client, make_user, make_project, publish):
    owners = [make_user(f"learner-{i}") for i in range(12)]
    for i, owner in enumerate(owners):
        publish(make_project(owner, title=f"Churn model {i}"), body="churn churn")
    first = client.get("/search?q=churn")
    second = client.get("/search?q=churn&page=2")
    assert len(titles(first)) == 10 and len(titles(second)) == 2
    assert not set(titles(first)) & set(titles(second))
    assert "Page 1 of 2" in first.get_data(as_text=True)
    for bad in ("0", "-1", "abc", "9" * 5000, "1.5", "٣"):
        response = client.get("/search", query_string={"q": "churn", "page": bad})
        assert response.status_code == 400
        assert "The page must be a whole number" in response.get_data(as_text=True)
    assert titles(client.get("/search?q=churn&page=3")) == []


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "*",
        "NEAR(",
        'NEAR("a" "b")',
        "a OR",
        "AND",
        "^title",
        "title:x",
        "(((",
        "'",
        "\\",
        '"unterminated',
        "-",
        "--",
        "col:*",
        "\x00",
        "x" * 199,
    ],
)
def test_fts_syntax_is_just_words(client, make_user, make_project, publish, q):
    maya = make_user("maya")
    publish(make_project(maya, title="Near field optics"))
    response = client.get("/search", query_string={"q": q})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "Type at least one word" in response.get_data(as_text=True)


def test_empty_and_huge_queries(client):
    empty = client.get("/search?q=")
    assert empty.status_code == 200 and "Search titles" in empty.get_data(as_text=True)
    huge = client.get("/search", query_string={"q": "model " * 200})
    assert huge.status_code == 400
    assert "shorten your search" in huge.get_data(as_text=True)


def test_html_in_query_and_content_is_escaped(client, make_user, make_project, publish):
    maya = make_user("maya")
    project = make_project(maya, title="<script>alert(1)</script> xss title")
    publish(
        project,
        body="Payload <img src=x onerror=alert(1)> and xss <b>bold</b>",
        summary="<i>xss</i> summary",
    )
    response = client.get("/search", query_string={"q": '"><i>xss</i>'})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert" not in html and "<img src=x" not in html and "<i>xss" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mark>xss</mark>" in html
    assert 'value="&#34;&gt;&lt;i&gt;xss&lt;/i&gt;"' in html


def test_snippet_escapes_even_when_match_is_inside_markup():
    from portfolio.discovery.engine import snippet

    out = str(snippet('<b onclick="x">model</b> models & more', ["model"]))
    expected = "&lt;b onclick=&#34;x&#34;&gt;<mark>model</mark>&lt;/b&gt; <mark>models</mark>"
    assert out == expected + " &amp; more"


def test_missing_index_is_filled_by_upgrade_and_reindex(
    app, runner, session, make_user, make_project, publish
):
    maya = make_user("maya")
    publish(make_project(maya, title="Graph networks"))
    session.exec(ProjectSearch.__table__.delete())
    session.commit()
    result: Result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Search index built." in result.output
    assert len(session.exec(select(ProjectSearch)).all()) == 1
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "Indexed 1 public projects." in result.output
    with app.app_context():
        assert index.fill_if_missing(session) is False


def test_first_search_fills_an_empty_index_and_later_ones_never_check_again(
    client, session, make_user, make_project, publish
):
    maya = make_user("maya")
    publish(make_project(maya, title="Graph networks"))
    session.exec(ProjectSearch.__table__.delete())
    session.commit()
    assert titles(client.get("/search?q=graph")) == ["Graph networks"]  # the fallback ran
    session.exec(ProjectSearch.__table__.delete())
    session.commit()
    # Once per process: a GET does not check (nor rebuild) the index again.
    assert titles(client.get("/search?q=graph")) == []
