"""Project tags in the API: read on the member and public views, replaced by PATCH
with the edit page's rules (a 422 naming `tags`, nothing written on bad input)."""

from __future__ import annotations

import pytest

from .conftest import World, problem, snapshot_tables


def _patch(client, world: World, body: dict):
    return client.patch(
        f"/api/v1/projects/{world.project.id}", json=body, headers=world.headers("write")
    )


def test_patch_sets_tags_and_both_views_show_them(client, world: World, session):
    response = _patch(client, world, {"tags": ["NLP", " time   series ", "nlp", ""]})
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = [{"slug": "nlp", "label": "NLP"}, {"slug": "time-series", "label": "time series"}]
    assert response.get_json()["tags"] == expected
    read = client.get(f"/api/v1/projects/{world.project.id}", headers=world.headers("read"))
    assert read.get_json()["tags"] == expected
    # Other fields sent alongside change in the same request.
    both = _patch(client, world, {"title": "Houses again", "tags": ["Regression"]})
    assert both.get_json()["title"] == "Houses again"
    assert both.get_json()["tags"] == [{"slug": "regression", "label": "Regression"}]
    # Without `tags`, they are left alone; [] removes them all.
    assert _patch(client, world, {"summary": "s"}).get_json()["tags"] == both.get_json()["tags"]
    assert _patch(client, world, {"tags": []}).get_json()["tags"] == []


def test_public_view_shows_tags_of_a_public_project(client, world: World):
    other = client.patch(
        f"/api/v1/projects/{world.public_project.id}",
        json={"tags": ["Bird <song>", "Audio"]},
        headers=world.headers("other"),
    )
    assert other.status_code == 200, other.get_data(as_text=True)
    slug = world.public_project.slug
    public = client.get(f"/api/v1/public/projects/theo/{slug}")
    assert public.status_code == 200
    assert public.get_json()["tags"] == [
        {"slug": "bird-song", "label": "Bird <song>"},
        {"slug": "audio", "label": "Audio"},
    ]
    # maya's project is a draft: no public view, tags or not.
    _patch(client, world, {"tags": ["Secret"]})
    assert client.get(f"/api/v1/public/projects/maya/{world.project.slug}").status_code == 404


@pytest.mark.parametrize(
    "tags,message",
    [
        (["a", "b", "c", "d", "e", "f"], "Choose at most 5 tags."),
        (["x" * 33], "at most 32 characters"),
        (["<>"], "no letters or digits"),
        (["one, two"], "cannot contain a comma"),
    ],
)
def test_bad_tags_are_a_422_naming_the_field(client, world: World, session, tags, message):
    assert _patch(client, world, {"tags": ["keep"]}).status_code == 200
    before = snapshot_tables(session)
    response = _patch(client, world, {"title": "Renamed", "tags": tags})
    assert response.status_code == 422
    body = problem(response)
    assert message in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["tags"]
    assert snapshot_tables(session) == before  # neither the title nor the tags changed


@pytest.mark.parametrize(
    "tags,field",
    [
        ("NLP", "tags"),
        ([5], "tags.0"),
        (["ok", "nul\u0000"], "tags.1"),
        (["t"] * 21, "tags"),
        (["y" * 201], "tags.0"),
    ],
)
def test_tags_of_the_wrong_shape_are_refused(client, world: World, session, tags, field):
    before = snapshot_tables(session)
    response = _patch(client, world, {"tags": tags})
    assert response.status_code == 422
    assert field in [e["field"] for e in problem(response)["errors"]]
    assert snapshot_tables(session) == before


def test_read_token_cannot_set_tags(client, world: World, session):
    before = snapshot_tables(session)
    response = client.patch(
        f"/api/v1/projects/{world.project.id}", json={"tags": ["x"]}, headers=world.headers("read")
    )
    assert response.status_code == 403
    assert snapshot_tables(session) == before


def test_document_describes_tags(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert "tags" in schemas["ProjectOut"]["required"]
    assert "tags" in schemas["PublicProject"]["required"]
    assert schemas["TagOut"]["required"] == ["slug", "label"]
    assert "tags" in schemas["ProjectUpdate"]["properties"]
