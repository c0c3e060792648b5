"""Turn what an MLflow server (or the way to it) did wrong into learner-readable errors.

Messages name the server's host, so a learner with two servers knows which one failed,
and never quote the server's answer: it is untrusted and may hold anything. The answer
goes into ``detail`` (capped) for the logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests

from .provider import (
    NotFound,
    RateLimited,
    TrackingError,
    Unauthorized,
    Unavailable,
)

SETTINGS_HINT = "check the token or user name and password saved under Settings → MLflow servers"


def unreadable(host: str, why: str) -> Unavailable:
    """The server answered, but not like an MLflow server does."""
    return Unavailable(
        f"The MLflow server {host} sent an answer we could not read; check the server "
        "address, or we will try again later.",
        detail=why,
    )


def _error_code(body: bytes) -> tuple[str, str]:
    try:
        data = json.loads(body[:100_000])
    except ValueError:
        return "", body[:300].decode("utf-8", "replace")
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("error_code") or ""), str(data.get("message") or "")[:300]


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    try:
        return float(headers.get("Retry-After") or "")
    except ValueError:
        return None


def map_http_error(
    status: int, body: bytes, host: str, headers: Mapping[str, Any]
) -> TrackingError:
    """Map a non-200 answer onto one of our errors."""
    code, message = _error_code(body)
    detail = f"HTTP {status} {code}: {message}"
    if status in (401, 403) or code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return Unauthorized(
            f"The MLflow server {host} refused access (HTTP {status}): {SETTINGS_HINT}.",
            detail=detail,
        )
    if status == 429 or code == "REQUEST_LIMIT_EXCEEDED":
        return RateLimited(
            f"The MLflow server {host} is limiting how often we may ask; we will try again later.",
            detail=detail,
            retry_after=_retry_after(headers),
        )
    if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
        return NotFound(
            f"The MLflow server {host} says this run or experiment does not exist (it may "
            "have been deleted, or the id is wrong).",
            detail=detail,
        )
    if 300 <= status < 400:
        return TrackingError(
            f"The MLflow server {host} redirected us elsewhere: save the address it redirects "
            "to (often https:// instead of http://, or a path like /mlflow).",
            detail=detail,
        )
    if status == 404:
        return TrackingError(
            f"{host} has no MLflow API at this address: check the server address (and any "
            "path prefix such as /mlflow).",
            detail=detail,
        )
    if status >= 500:
        return Unavailable(
            f"The MLflow server {host} had an internal error; we will try again later.",
            detail=detail,
        )
    return TrackingError(
        f"The MLflow server {host} refused the request (HTTP {status}).", detail=detail
    )


def map_request_error(exc: requests.RequestException, host: str) -> TrackingError:
    """Map a failure to reach the server: timeout, refused, DNS or TLS."""
    detail = f"{type(exc).__name__}: {str(exc)[:300]}"
    text = detail.lower()
    if isinstance(exc, requests.Timeout):
        return Unavailable(
            f"The MLflow server {host} did not answer in time; we will try again later.",
            detail=detail,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return Unavailable(
            f"The secure connection to the MLflow server {host} failed (its TLS certificate "
            "was not accepted).",
            detail=detail,
        )
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or ("failed to resolve" in text or "temporary failure in name resolution" in text)
    ):
        return Unavailable(
            f"The MLflow server's host name {host} could not be found (DNS); check the address.",
            detail=detail,
        )
    if isinstance(exc, requests.ConnectionError):
        return Unavailable(
            f"The MLflow server {host} could not be reached (connection refused or "
            "dropped); we will try again later.",
            detail=detail,
        )
    return Unavailable(
        f"The MLflow server {host} could not be asked; we will try again later.", detail=detail
    )
