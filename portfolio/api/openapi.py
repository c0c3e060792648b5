"""The OpenAPI 3.1 document, built from the registered operations and their pydantic models.

Pydantic writes JSON Schema 2020-12, which is what OpenAPI 3.1 uses, so the
models that validate requests become the document's schemas unchanged: the
document is derived, never written by hand, and cannot drift from the code.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.http import HTTP_STATUS_CODES

from .blueprint import PREFIX
from .routing import OPERATIONS, Operation
from .schemas import MAX_ID, Problem

REF = "#/components/schemas/{model}"
_RULE_PART = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
# Path values other than ids, described by name (the view checks them the same way).
PATH_STRINGS = {
    "handle": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$", "maxLength": 30},
    "slug": {
        "type": "string",
        "pattern": "^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$",
        "maxLength": 80,
    },
}

TAGS = [
    ("me", "The account behind the token."),
    ("seasons", "Quarterly seasons (and admin-made cohorts)."),
    ("projects", "Your projects: plan, read, edit."),
    ("milestones", "A project's deadlines."),
    ("runs", "Linked W&B and MLflow runs and their sync state."),
    ("updates", "Progress updates on a project."),
    ("notifications", "Your in-app notifications."),
    ("public", "What any visitor may read; no token needed."),
]

DESCRIPTION = """\
JSON in and out. Create a personal access token in **Settings → API tokens** and send it as
`Authorization: Bearer <token>`. A *read* token can call every GET; a *write* token can
also change things. Tokens never work for admin actions, or for changing a password or
email. A signed-in browser may call the API too, sending its CSRF token as `X-CSRFToken`
on writes.

Errors are problem details (RFC 9457, `application/problem+json`) with a readable `detail`
and, for invalid fields, an `errors` list naming each field. Lists are paged: pass a page's
`next_cursor` back as `cursor` (null means the last page). Times are ISO 8601 in UTC.
"""


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch of Optional."""
    options = schema.get("anyOf")
    if options:
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            merged = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
            return {**rest[0], **merged}
    return {k: v for k, v in schema.items() if not (k == "default" and v is None)}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """ "/projects/<int(...):project_id>" → ("/projects/{project_id}", its parameters)."""
    params = []
    for converter, _args, name in _RULE_PART.findall(rule):
        if converter == "int":
            schema: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        else:
            schema = PATH_STRINGS.get(name, {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return PREFIX + _RULE_PART.sub(lambda m: "{" + m.group(3) + "}", rule), params


def _ref(key_map: dict, model: type[BaseModel], mode: str) -> dict[str, Any]:
    return key_map[(model, mode)]


def _problem(code: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": HTTP_STATUS_CODES.get(code, "Error"),
        "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
    }
    if code == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if code == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return response


def _operation(op: Operation, key_map: dict, defs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    path, params = _path(op.rule)
    if op.query is not None:
        name = _ref(key_map, op.query, "validation")["$ref"].rsplit("/", 1)[1]
        query = defs[name]
        for field, schema in query.get("properties", {}).items():
            params.append(
                {
                    "name": field,
                    "in": "query",
                    "required": field in query.get("required", []),
                    "description": schema.get("description", ""),
                    "schema": _not_null({k: v for k, v in schema.items() if k != "description"}),
                }
            )
    success: dict[str, Any] = {
        "description": op.summary,
        "content": {"application/json": {"schema": _ref(key_map, op.response, "serialization")}},
    }
    responses = {str(op.status): success}
    for code in op.also:
        responses[str(code)] = {**success, "description": HTTP_STATUS_CODES.get(code, "OK")}
    if op.status == 201:
        success["headers"] = {"Location": {"schema": {"type": "string"}}}
    doc: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "description": op.description,
        "tags": [op.tag],
        "parameters": params,
        "responses": responses | {str(c): _problem(c) for c in op.errors},
        "security": [{}]
        if op.scope is None
        else [{"bearerToken": [op.scope.value]}, {"sessionCookie": []}],
    }
    if op.body is not None:
        doc["requestBody"] = {
            # A body whose fields are all optional may be left out entirely.
            "required": any(f.is_required() for f in op.body.model_fields.values()),
            "content": {"application/json": {"schema": _ref(key_map, op.body, "validation")}},
        }
    if op.raw_body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {op.raw_body: {"schema": {"type": "string", "format": "binary"}}},
        }
    return path, doc


@lru_cache(maxsize=8)
def build(*, base_url: str) -> dict[str, Any]:
    """The whole document; ``base_url`` is the site's public address (BASE_URL).

    Operations are fixed once the package is imported, so one build per address
    serves every request; callers must not mutate the result.
    """
    models: list[tuple[type[BaseModel], str]] = [(Problem, "serialization")]
    for op in OPERATIONS:
        models.append((op.response, "serialization"))
        models += [(m, "validation") for m in (op.query, op.body) if m is not None]
    key_map, top = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    defs: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, doc = _operation(op, key_map, defs)
        paths.setdefault(path, {})[op.method.lower()] = doc
    query_names = {
        _ref(key_map, op.query, "validation")["$ref"].rsplit("/", 1)[1]
        for op in OPERATIONS
        if op.query is not None
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Seasons API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": base_url}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": paths,
        "components": {
            "schemas": {k: v for k, v in sorted(defs.items()) if k not in query_names},
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token from Settings → API tokens.",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "A signed-in browser; writes also need X-CSRFToken.",
                },
            },
        },
    }
