"""Schemathesis against /api/v1/openapi.json, in-process over WSGI.

Every operation gets schema-derived positive and negative requests (wrong
types, missing fields, odd unicode, huge numbers) sent with a write token.
Path ids are pinned to the learner's real project, milestone and notification
so requests reach the services instead of stopping at 404. The run is
bounded (few examples per operation, no example database, a fixed seed) to
keep CI fast and repeatable.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi import checks

from .conftest import World

CHECKS: list[CheckFunction] = [
    not_a_server_error,  # no 5xx on any input
    checks.status_code_conformance,  # every status is documented
    checks.content_type_conformance,  # application/json, or problem+json for errors
    checks.response_schema_conformance,  # every body matches its own schema
    checks.response_headers_conformance,
    checks.negative_data_rejection,  # schema-invalid input is refused
    checks.unsupported_method,  # 405 with Allow for methods not in the document
]


@schemathesis.serializer("application/zip")
def _zip_body(ctx, value) -> bytes:
    """The offline-run upload's raw body: generated text or bytes, sent as they are."""
    return value if isinstance(value, bytes) else str(value).encode()


# A deeper local run: API_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/api/test_schemathesis.py
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES") or 12)
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": int(os.environ.get("API_FUZZ_SEED") or 20270314),
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
    }
)


@pytest.fixture()
def ids(world: World, fake_wandb) -> dict[str, int]:
    """Real ids for the path parameters, so generated calls reach the services."""
    return {
        "project_id": world.project.id,
        "milestone_id": world.milestone.id,
        "link_id": world.link.id,
        "notification_id": world.notification.id,
    }


@pytest.fixture(autouse=True)
def _node_id_shim(request):
    """schemathesis 4.32's from_fixture reads Node._nodeid, which pytest 9.2 renamed."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture()
def api_schema(app, world: World):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_matches_its_document(case, world: World, ids: dict[str, int]):
    """No input makes a 5xx or a response that breaks the document."""
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if case.path_parameters and positive:
        case.path_parameters = {
            name: ids.get(name, value) for name, value in case.path_parameters.items()
        }
    case.call_and_validate(headers=world.headers("write"), checks=CHECKS)
