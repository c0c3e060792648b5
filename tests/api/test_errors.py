"""Bad input of every kind is a clear 4xx problem document, and writes nothing; never a 500."""

from __future__ import annotations

from portfolio.projects import service as project_service

from .conftest import World, problem, snapshot_tables


def post_raw(client, world: World, path: str, data, content_type="application/json"):
    return client.post(path, data=data, content_type=content_type, headers=world.headers("write"))


BAD_BODIES = [
    ("{bad json", "application/json", 400),
    ("[1, 2, 3]", "application/json", 400),
    ('"just a string"', "application/json", 400),
    ('{"title": NaN}', "application/json", 400),
    ('{"title": "x", "allow_second": ' + "9" * 5000 + "}", "application/json", 400),
    ("[" * 100_000 + "]" * 100_000, "application/json", 400),
    (b'{"title": "\xff\xfe"}', "application/json", 400),
    ('{"title": "\\ud800"}', "application/json", 400),
    ("title=x", "application/x-www-form-urlencoded", 415),
    ('{"title": "x"}', "text/plain", 415),
    ('{"title": 5}', "application/json", 422),
    ('{"title": "x", "unknown": 1}', "application/json", 422),
    ('{"title": "x", "allow_second": "yes"}', "application/json", 422),
    ('{"title": "x", "team": "maya"}', "application/json", 422),
    ('{"title": "x", "team": ["' + "a" * 40 + '"]}', "application/json", 422),
    ('{"title": "' + "t" * 121 + '"}', "application/json", 422),
    ('{"title": "nul\\u0000byte"}', "application/json", 422),
    ('{"title": "   "}', "application/json", 422),
    ('{"title": "x", "season": "1999-q9"}', "application/json", 422),
    ('{"title": "x", "repo_url": "javascript:alert(1)"}', "application/json", 422),
    ("{}", "application/json", 422),
]


def test_bad_project_bodies(client, session, world: World, subtests):
    """Each malformed or invalid body gets its status and a problem document."""
    before = snapshot_tables(session)
    for data, content_type, status in BAD_BODIES:
        with subtests.test(body=str(data)[:60], content_type=content_type):
            response = post_raw(client, world, "/api/v1/projects", data, content_type)
            assert response.status_code == status, response.get_data(as_text=True)
            body = problem(response)
            if status == 422:
                assert body["errors"] and all(e["field"] and e["message"] for e in body["errors"])
    assert snapshot_tables(session) == before


def test_field_errors_name_each_field(client, world: World):
    """Validation problems list every failing field with where it was."""
    response = client.post(
        "/api/v1/projects",
        json={"title": 3, "team": ["ok-handle", 7], "extra": True},
        headers=world.headers("write"),
    )
    errors = {(e["field"], e["location"]) for e in problem(response)["errors"]}
    assert errors == {("title", "body"), ("team.1", "body"), ("extra", "body")}


def test_unicode_round_trips(client, world: World):
    """Emoji, right-to-left and combining text are stored and returned as sent."""
    title = "Les maisons 🏠 — بيوت — ñ̃ — 家"
    response = client.post(
        "/api/v1/projects",
        json={"title": title, "summary": "Zürich ∑ ≠", "allow_second": True},
        headers=world.headers("write"),
    )
    assert response.status_code == 201
    assert response.get_json()["title"] == title
    assert (
        client.get(response.headers["Location"], headers=world.headers("read")).json["title"]
        == title
    )


ODD_PATHS = [
    "/api/v1/projects/0",
    "/api/v1/projects/2147483648",
    "/api/v1/projects/99999999999999999999999999",
    "/api/v1/projects/-1",
    "/api/v1/projects/abc",
    "/api/v1/projects/1.5",
    "/api/v1/projects/{project}/milestones/99999999999",
    "/api/v1/notifications/4294967296/read",
    "/api/v1/public/users/%00/projects",
    "/api/v1/public/users/MAYA/projects",
    "/api/v1/public/users/m%C3%A4ya/projects",
    "/api/v1/public/projects/maya/" + "s" * 81,
    "/api/v1/public/projects/maya/%F0%9F%8F%A0",
    "/api/v1/nothing-here",
    "/api/v1",
]


def test_odd_paths_are_404(client, world: World, subtests):
    """Ids out of range, odd handles and unknown paths are 404 problems, for every method."""
    for path in ODD_PATHS:
        path = path.format(project=world.project.id)
        for method in ("GET", "PATCH", "POST"):
            with subtests.test(method=method, path=path):
                response = client.open(path, method=method, headers=world.headers("write"), json={})
                assert response.status_code in (404, 405), response.status_code
                problem(response)


def test_wrong_method_is_405_with_allow(client, world: World):
    response = client.delete(f"/api/v1/projects/{world.project.id}", headers=world.headers("write"))
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PATCH"}
    problem(response)


BAD_QUERIES = [
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=" + "9" * 40,
    "cursor=not-a-cursor",
    "cursor=%00",
    "cursor=" + "b" * 200,
    "cursor=YjoxMA",  # a notifications cursor ("b:10") on a list paged by offset
    "season=%F0%9F%8F%A0",
    "slug=UPPER",
]


def test_bad_query_parameters_are_422(client, world: World, subtests):
    for query in BAD_QUERIES:
        with subtests.test(query=query):
            response = client.get(f"/api/v1/projects?{query}", headers=world.headers("read"))
            assert response.status_code == 422, response.get_data(as_text=True)
            assert problem(response)["errors"][0]["location"] == "query"


BAD_MILESTONES = [
    ({"title": "x"}, "due_date"),
    ({"title": "x", "due_date": "2027-02-30"}, "due_date"),
    ({"title": "x", "due_date": "1900-01-01"}, "due_date"),
    ({"title": "x", "due_date": "9999-12-31"}, "due_date"),
    ({"title": "x", "due_at": "2027-03-14T23:59:00"}, "due_at"),
    ({"title": "x", "due_at": "0001-01-01T00:00:00+05:00"}, "due_at"),
    ({"title": "x", "due_at": "2026-10-10T10:00:00Z", "due_date": "2026-10-10"}, "due_at"),
    ({"title": "x", "due_time": "12:00"}, "due_date"),
    ({"title": "x", "due_date": "2026-10-10", "due_time": "25:00"}, "due_time"),
    ({"title": "x", "due_date": 20261010}, "due_date"),
]


def test_bad_milestones_are_422(client, session, world: World, subtests):
    before = snapshot_tables(session)
    path = f"/api/v1/projects/{world.project.id}/milestones"
    for body, field in BAD_MILESTONES:
        with subtests.test(body=body):
            response = client.post(path, json=body, headers=world.headers("write"))
            assert response.status_code == 422, response.get_data(as_text=True)
            assert field in {e["field"] for e in problem(response)["errors"]}
    assert snapshot_tables(session) == before


def test_conflicts_are_409_with_the_field(client, world: World, make_project):
    """A second project in a season, or an address already in use, is a 409."""
    response = client.post(
        "/api/v1/projects", json={"title": "Another"}, headers=world.headers("write")
    )
    assert response.status_code == 409
    assert problem(response)["errors"][0]["field"] == "allow_second"
    other = make_project(world.owner, title="Second one", allow_second=True)
    response = client.patch(
        f"/api/v1/projects/{other.id}",
        json={"slug": "house-prices"},
        headers=world.headers("write"),
    )
    assert response.status_code == 409
    assert problem(response)["errors"][0]["field"] == "slug"


def test_oversized_bodies_are_413(app, client, world: World):
    app.config["MAX_CONTENT_LENGTH"] = 1_000
    response = post_raw(client, world, "/api/v1/projects", '{"title": "' + "x" * 2_000 + '"}')
    assert response.status_code == 413
    problem(response)


def test_rate_limit_is_429_per_user(app, client, world: World):
    """Over API_RATE_LIMIT a caller gets 429 with Retry-After; other users are unaffected."""
    app.config["API_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert client.get("/api/v1/me", headers=world.headers("read")).status_code == 200
    # The budget is per person: maya's other token shares it.
    response = client.get("/api/v1/me", headers=world.headers("write"))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many" in problem(response)["detail"]
    assert client.get("/api/v1/me", headers=world.headers("other")).status_code == 200


def test_an_unexpected_error_is_a_500_problem_and_rolls_back(
    client, session, world: World, monkeypatch
):
    """The safety net: a bug still answers problem+json, and nothing is half-written."""

    def broken(*args, **kwargs):
        project = args[1]
        project.title = "half-written"
        args[0].flush()
        raise RuntimeError("bug")

    monkeypatch.setattr(project_service, "update", broken)
    before = snapshot_tables(session)
    response = client.patch(
        f"/api/v1/projects/{world.project.id}", json={"title": "x"}, headers=world.headers("write")
    )
    assert response.status_code == 500
    assert problem(response)["detail"].startswith("Something went wrong")
    assert snapshot_tables(session) == before
