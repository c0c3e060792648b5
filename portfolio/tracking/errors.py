"""Tell network failures apart for any tracker: refused, unknown host, TLS, timeout.

A learner who reads "W&B did not answer in time" when the server refused the connection
looks in the wrong place. Each provider (W&B, MLflow, ...) hands whatever its client
raised to ``network_error``; when the cause is one of the four network failures, it gets
an ``Unavailable`` subclass whose message names the tracker and the host and says what to
check. The classification reads the exception chain: Python's own exception types first
(``ConnectionRefusedError``, ``socket.gaierror``, ``ssl.SSLError``, ``TimeoutError``; the
``requests``/``urllib3`` errors wrap these), then the text, because the W&B client reports
errors of its Go sidecar as text ("dial tcp ...: connect: connection refused",
"lookup ... no such host", "tls: ...", "x509: ...", "context deadline exceeded").

The sync treats ``TimedOut`` specially: repeated timeouts pause a whole host
(``tracking/hosts.py``), so one hanging server cannot hold every other learner's sync.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from enum import StrEnum
from urllib.parse import urlsplit

from .provider import Unavailable


class Problem(StrEnum):
    """The network failures a learner can tell apart and act on."""

    refused = "refused"
    dns = "dns"
    tls = "tls"
    timeout = "timeout"


class NetworkError(Unavailable):
    """The tracker's host could not be reached; ``host`` names it, ``problem`` says how."""

    problem: Problem

    def __init__(self, message: str, *, host: str, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.host = host


class ConnectionRefused(NetworkError):
    """Nothing listens at the address (server down, wrong port)."""

    problem = Problem.refused


class HostNotFound(NetworkError):
    """The host name does not resolve (a typo, or DNS is down)."""

    problem = Problem.dns


class TlsFailed(NetworkError):
    """The secure connection failed: a certificate we cannot trust, or not TLS at all."""

    problem = Problem.tls


class TimedOut(NetworkError):
    """The host did not answer within the time allowed."""

    problem = Problem.timeout


_TEXT: tuple[tuple[Problem, tuple[str, ...]], ...] = (
    (Problem.refused, ("connection refused", "actively refused", "errno 111")),
    (
        Problem.dns,
        (
            "no such host",
            "name or service not known",
            "nodename nor servname",
            "temporary failure in name resolution",
            "failed to resolve",
            "name resolution",
            "getaddrinfo failed",
            "server misbehaving",
        ),
    ),
    (
        Problem.tls,
        (
            "x509:",
            "tls:",
            "certificate verify failed",
            "certificate signed by unknown authority",
            "ssl:",
            "sslerror",
            "wrong version number",
            "does not look like a tls handshake",
        ),
    ),
    (
        Problem.timeout,
        (
            "timed out",
            "timeout",
            "deadline exceeded",
            "did not respond in time",
        ),
    ),
)
_CLASSES: dict[Problem, type[NetworkError]] = {
    Problem.refused: ConnectionRefused,
    Problem.dns: HostNotFound,
    Problem.tls: TlsFailed,
    Problem.timeout: TimedOut,
}


def chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield ``exc`` and every exception behind it (cause, context, wrapped ``exc``)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "exc", None)
        todo += [current.__cause__, current.__context__]
        if isinstance(wrapped, BaseException):
            todo.append(wrapped)
        todo += [a for a in current.args if isinstance(a, BaseException)]


def _by_type(err: BaseException) -> Problem | None:
    # order matters: ssl.SSLError and socket.gaierror are OSErrors, and so is TimeoutError
    if isinstance(err, ConnectionRefusedError):
        return Problem.refused
    if isinstance(err, socket.gaierror):
        return Problem.dns
    if isinstance(err, ssl.SSLError | ssl.CertificateError):
        return Problem.tls
    if isinstance(err, TimeoutError):
        return Problem.timeout
    return None


def classify(exc: BaseException) -> Problem | None:
    """Return which network failure ``exc`` (or anything behind it) is, or None."""
    errors = list(chain(exc))
    for err in errors:
        if (problem := _by_type(err)) is not None:
            return problem
    text = " | ".join(f"{type(e).__name__}: {e}" for e in errors).lower()
    for problem, needles in _TEXT:
        if any(needle in text for needle in needles):
            return problem
    return None


def host_of(base_url: str | None) -> str:
    """Return the host (and a non-default port) a learner recognises in a base URL."""
    parts = urlsplit(base_url or "")
    return parts.netloc.rpartition("@")[2] or (base_url or "the server")


def message(problem: Problem, *, tracker: str, host: str) -> str:
    """Return the learner-readable sentence for a network failure at ``host``."""
    if problem == Problem.refused:
        return (
            f"{host} refused the connection: no {tracker} server is listening there (it may "
            f"be down, or the address or port is wrong). We will try again later."
        )
    if problem == Problem.dns:
        return (
            f"The {tracker} server name {host} could not be found (DNS): check the server "
            f"address for typos. We will try again later."
        )
    if problem == Problem.tls:
        return (
            f"The secure connection to {host} failed (TLS): its certificate is not trusted, "
            f"or the address should start with http:// instead of https://. We will try "
            f"again later."
        )
    return f"{tracker} at {host} did not answer in time; we will try again later."


def network_error(
    exc: BaseException, *, tracker: str, base_url: str | None, detail: str | None = None
) -> NetworkError | None:
    """Return the error to report when ``exc`` is a network failure, else None."""
    problem = classify(exc)
    if problem is None:
        return None
    host = host_of(base_url)
    detail = detail or " | ".join(str(e)[:300] for e in chain(exc))
    return _CLASSES[problem](message(problem, tracker=tracker, host=host), host=host, detail=detail)


def timed_out(*, tracker: str, base_url: str | None, seconds: float) -> TimedOut:
    """Return the error for a fetch stopped by the sync's own deadline."""
    host = host_of(base_url)
    return TimedOut(
        message(Problem.timeout, tracker=tracker, host=host),
        host=host,
        detail=f"no answer within the sync deadline of {seconds:g} s",
    )
