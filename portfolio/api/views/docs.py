"""The OpenAPI document and a docs page rendered from it on the server.

The page is plain HTML from the same document (no Swagger UI, no CDN, no
script): it loads under the site's strict Content-Security-Policy, works
without JavaScript, and shows exactly the operations the document lists.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, jsonify, render_template
from markupsafe import Markup, escape
from werkzeug.http import HTTP_STATUS_CODES

from .. import openapi
from ..blueprint import bp

METHOD_ORDER = {"get": 0, "post": 1, "patch": 2, "put": 3, "delete": 4}


def _document() -> dict[str, Any]:
    return openapi.build(base_url=current_app.config["BASE_URL"])


@bp.get("/openapi.json")
def openapi_json():
    response = jsonify(_document())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def _link(name: str) -> Markup:
    return Markup('<a href="#schema-{0}">{0}</a>').format(name)


def type_of(schema: dict[str, Any]) -> Markup:
    """A JSON schema in a few words: "list of ProjectOut", "string or null"."""
    if "$ref" in schema:
        return _link(schema["$ref"].rsplit("/", 1)[1])
    if "anyOf" in schema:
        return Markup(" or ").join(type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return Markup("one of ") + Markup(", ").join(
            Markup("<code>{}</code>").format(v) for v in schema["enum"]
        )
    if "const" in schema:
        return Markup("<code>{}</code>").format(schema["const"])
    kind = schema.get("type")
    if kind == "array":
        return Markup("list of ") + type_of(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return Markup("object of ") + type_of(schema["additionalProperties"])
    if kind is None:
        return Markup("any JSON value")
    if schema.get("format"):
        return escape(f"{kind} ({schema['format']})")
    return escape(str(kind))


def constraints(schema: dict[str, Any]) -> str:
    """Limits worth telling a person: lengths, ranges, item counts, defaults, patterns."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            schema = {**option, **{k: v for k, v in schema.items() if k != "anyOf"}}
    parts = []
    if "maxLength" in schema:
        parts.append(f"{schema.get('minLength', 0)}–{schema['maxLength']:,} characters")
    if "minimum" in schema or "maximum" in schema:
        parts.append(f"{schema.get('minimum', '…')}–{schema.get('maximum', '…')}")
    if "maxItems" in schema:
        parts.append(f"at most {schema['maxItems']} items")
    if schema.get("pattern") and schema["pattern"] != r"^[^\u0000]*$":
        parts.append(f"pattern {schema['pattern']}")
    if schema.get("default") not in (None, "", []):
        parts.append(f"default {json.dumps(schema['default'])}")
    return "; ".join(parts)


def notes(schema: dict[str, Any]) -> str:
    """The field's description, then its limits."""
    description = schema.get("description", "").rstrip(".")
    return "; ".join(part for part in (description, constraints(schema)) if part)


def fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": type_of(sub),
            "required": name in required,
            "notes": notes(sub),
        }
        for name, sub in schema.get("properties", {}).items()
    ]


def _param(param: dict[str, Any]) -> dict[str, Any]:
    schema = {**param["schema"], "description": param.get("description", "")}
    return {**param, "type": type_of(param["schema"]), "notes": notes(schema)}


def _schema_name(content: dict[str, Any]) -> str | None:
    for media in content.values():
        ref = media.get("schema", {}).get("$ref")
        if ref:
            return ref.rsplit("/", 1)[1]
    return None


def _operations(doc: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    found = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            if op["tags"][0] != tag:
                continue
            status, success = next((c, r) for c, r in op["responses"].items() if c < "400")
            scopes = [s for req in op["security"] for s in req.get("bearerToken", [])]
            found.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op["summary"],
                    "description": op["description"],
                    "scope": scopes[0] if scopes else None,
                    "params": [_param(p) for p in op["parameters"]],
                    "body": _schema_name(op.get("requestBody", {}).get("content", {})),
                    "status": status,
                    "response": _schema_name(success["content"]),
                    "errors": [
                        (c, HTTP_STATUS_CODES.get(int(c), ""))
                        for c in op["responses"]
                        if c >= "400"
                    ],
                    "order": (path, METHOD_ORDER.get(method, 9)),
                }
            )
    return sorted(found, key=lambda o: o["order"])


@bp.get("/docs")
def docs():
    doc = _document()
    sections = [
        {"name": tag["name"], "description": tag["description"], "operations": ops}
        for tag in doc["tags"]
        if (ops := _operations(doc, tag["name"]))
    ]
    schemas = [
        {"name": name, "description": schema.get("description", ""), "fields": fields(schema)}
        for name, schema in doc["components"]["schemas"].items()
    ]
    return render_template(
        "api/docs.html",
        doc=doc,
        sections=sections,
        schemas=schemas,
        base_url=current_app.config["BASE_URL"],
    )
