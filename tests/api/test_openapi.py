"""The OpenAPI document and the docs page: complete, derived from the models, no CDN."""

from __future__ import annotations

import re

from portfolio.api import schemas
from portfolio.api.routing import OPERATIONS


def api_rules(app) -> set[tuple[str, str]]:
    """(METHOD, /api/v1/path/{param}) for every route of the API blueprint."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in (
            "api.docs",
            "api.openapi_json",
        ):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            found |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_document_lists_every_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == api_rules(app)
    assert len(documented) == len(OPERATIONS)


def test_document_uses_the_validating_models(client):
    """The request schema is the pydantic model's own: limits match what is enforced."""
    doc = client.get("/api/v1/openapi.json").get_json()
    components = doc["components"]["schemas"]
    create = components["ProjectCreate"]
    model = schemas.ProjectCreate.model_json_schema()
    assert (
        create["properties"]["title"]["maxLength"]
        == 120
        == model["properties"]["title"]["maxLength"]
    )
    assert create["additionalProperties"] is False and create["required"] == ["title"]
    op = doc["paths"]["/api/v1/projects"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ProjectCreate"
    )
    assert op["responses"]["422"]["content"]["application/problem+json"]
    assert op["security"] == [{"bearerToken": ["write"]}, {"sessionCookie": []}]
    public = doc["paths"]["/api/v1/public/projects/{handle}/{slug}"]["get"]
    assert public["security"] == [{}]


def test_docs_page_shows_every_operation_and_loads_nothing_remote(client):
    """The page is served by the app, lists every operation, and has no script or CDN."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for op in OPERATIONS:
        assert f'id="op-{op.endpoint}"' in html, op.endpoint
    assert "<script" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    with client.get("/static/css/api.css") as css:
        assert css.status_code == 200
