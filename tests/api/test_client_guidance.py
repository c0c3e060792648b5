"""The runs page and the token page show the two lines with the learner's real project."""

from __future__ import annotations

import html
import re

from ..conftest import csrf_token
from .test_tokens import SECRET_RE


def test_runs_page_shows_the_snippet_and_a_prefilled_token_link(client, world, login_as):
    login_as(world.owner)
    page = html.unescape(client.get("/u/maya/house-prices/runs").get_data(as_text=True))
    assert 'link_run(run, project="house-prices")' in page
    assert re.search(r"pip install \S+/client/latest", page)
    assert "seasons push wandb/offline-run-* --project house-prices" in page
    link = re.search(r'href="(/settings/tokens\?[^"]+)"', page).group(1)
    for part in ("access=write", "expires=90", "project=house-prices", "name=Training"):
        assert part in link


def test_token_page_is_prefilled_and_names_the_project(client, world, login_as):
    """Query values fill the form; after creating, the snippet holds the secret and the slug."""
    login_as(world.owner)
    url = "/settings/tokens?name=Training+house-prices&access=write&expires=90&project=house-prices"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Training house-prices"' in page
    assert re.search(r'value="write"[^>]*checked|checked[^>]*value="write"', page)
    assert re.search(r'<option selected value="90">|<option value="90" selected', page)
    assert "<strong>house-prices</strong>" in page
    data = {"name": "Training", "access": "write", "expires": "90"}
    data["csrf_token"] = csrf_token(client, url)
    created = html.unescape(client.post(url, data=data).get_data(as_text=True))
    secret = SECRET_RE.search(created).group(1)
    assert f"export SEASONS_TOKEN={secret}" in created
    assert 'link_run(run, project="house-prices")' in created


def test_odd_query_values_are_ignored(client, world, login_as):
    login_as(world.owner)
    page = client.get("/settings/tokens?access=admin&expires=9999&project=<b>x</b>")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<b>x</b>" not in text and "9999" not in text
