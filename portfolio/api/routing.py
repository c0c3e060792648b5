"""Declare an API operation once: its route, scope, and the models it reads and returns.

``@operation(...)`` registers the Flask route and records the same facts for
the OpenAPI document, so the document cannot drift from what is enforced:
the query and body models that validate a request are the ones it shows, and
the response model that serialises a result is the one it promises.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import pydantic
from flask import Response, current_app, request

from ..auth.tokens import Scope
from . import auth
from .blueprint import bp
from .errors import Problem, pydantic_errors
from .schemas import MAX_ID

# Every operation may answer these; body operations also 409, 413, 415.
COMMON_ERRORS = (400, 401, 403, 404, 422, 429)
BODY_ERRORS = (409, 413, 415)


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    tag: str
    scope: Scope | None
    response: type[pydantic.BaseModel]
    status: int = 200
    query: type[pydantic.BaseModel] | None = None
    body: type[pydantic.BaseModel] | None = None
    errors: tuple[int, ...] = field(default=COMMON_ERRORS)
    # Other success statuses with the same body (200 for "already there" on a create).
    also: tuple[int, ...] = ()
    # The media type of a raw (non-JSON) body the view reads itself, e.g. a zip upload.
    raw_body: str | None = None


OPERATIONS: list[Operation] = []


@dataclass(frozen=True)
class Created:
    """A 201 answer: the new resource and where it lives."""

    model: pydantic.BaseModel
    location: str


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    scope: Scope | None,
    response: type[pydantic.BaseModel],
    status: int = 200,
    query: type[pydantic.BaseModel] | None = None,
    body: type[pydantic.BaseModel] | None = None,
    also: tuple[int, ...] = (),
    raw_body: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``view`` under the API blueprint.

    The view receives the path values, plus ``query=`` and ``body=`` (validated
    models) when declared, and returns ``Created`` (201 with Location), or a
    response model: sent with ``status``, or 200 when ``status`` is 201.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        errors = COMMON_ERRORS + (BODY_ERRORS if body is not None else ())
        errors += (413,) if raw_body else ()
        OPERATIONS.append(
            Operation(
                method=method,
                rule=rule,
                endpoint=view.__name__,
                summary=summary,
                description=inspect.cleandoc(view.__doc__ or ""),
                tag=tag,
                scope=scope,
                response=response,
                status=status,
                query=query,
                body=body,
                errors=tuple(sorted(errors)),
                also=also,
                raw_body=raw_body,
            )
        )

        @wraps(view)
        def handler(**path: Any) -> Response:
            # Ids outside 1..2^31-1 name nothing (and would overflow PostgreSQL's integer);
            # checked here rather than by the URL converter so every method answers 404.
            if any(isinstance(v, int) and not 1 <= v <= MAX_ID for v in path.values()):
                raise Problem(404)
            auth.require(scope)
            kwargs: dict[str, Any] = dict(path)
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body)
            result = view(**kwargs)
            if isinstance(result, Created):
                out = _json(result.model, 201)
                out.headers["Location"] = result.location
                return out
            return _json(result, 200 if status == 201 else status)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handler, methods=[method])
        return view

    return decorate


def _json(model: pydantic.BaseModel, status: int) -> Response:
    # Pydantic's serialiser writes NaN/inf as null rather than invalid JSON.
    return current_app.response_class(
        model.model_dump_json(), status=status, mimetype="application/json"
    )


def parse_query(model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except pydantic.ValidationError as exc:
        raise Problem(422, errors=pydantic_errors(exc, "query")) from None


def _not_json(name: str) -> None:
    """NaN and Infinity are Python's extensions, not JSON."""
    raise ValueError(f"{name} is not JSON")


def parse_body(model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    """Read a JSON object: 415 for other media types, 400 for broken JSON, 422 for fields."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raw = b"{}"
    else:
        mimetype = request.mimetype
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise Problem(415)
        try:
            data = json.loads(raw, parse_constant=_not_json)
        except (ValueError, RecursionError):
            raise Problem(400, "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise Problem(400, "The body must be a JSON object.")
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise Problem(400, "The body is not valid JSON.") from None
        raise Problem(422, errors=pydantic_errors(exc, "body")) from None
