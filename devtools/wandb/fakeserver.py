"""A loopback W&B GraphQL server: a TEST AND DEV TOOL, never part of production serving.

The real, unmodified ``wandb.Api`` talks to it over HTTP on 127.0.0.1, so tests (and a
``flask dev-wandb`` mode) exercise the genuine client, its ``wandb-core`` sidecar and our
error mapping. It answers the operations wandb 0.31 sends, in W&B's response shape, records
every request, and can be told to fail (see ``FakeWandb.fail``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devtools.wandb.fakeserver_ops import answer
from devtools.wandb.fakeserver_upload import (
    FILE_STREAM_RE,
    UPLOAD_PREFIX,
    WRITE_OPERATIONS,
    file_stream,
    write_answer,
)

FAILURE_MODES = ("unauthorized", "rate_limited", "server_error", "slow", "malformed", "run_null")
_OPERATION_RE = re.compile(r"\b(?:query|mutation)\s+([A-Za-z_]\w*)")


@dataclass
class FakeRun:
    """One run as the fake server holds it: values as the learner logged them."""

    entity: str
    project: str
    run_id: str
    display_name: str = ""
    state: str = "finished"
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = "2027-01-04T09:00:00"
    heartbeat_at: str = "2027-01-04T10:00:00"


@dataclass(frozen=True)
class Received:
    """One request as it arrived, for assertions."""

    operation: str
    variables: dict[str, Any]
    authorization: str | None
    path: str


@dataclass
class _Failure:
    mode: str
    operations: frozenset[str] | None
    times: int | None
    delay: float


def basic_auth(api_key: str) -> str:
    """Return the Authorization header wandb sends for an API key."""
    return "Basic " + base64.b64encode(f"api:{api_key}".encode()).decode()


def operation_name(body: dict[str, Any]) -> str:
    """Name the operation: Python-side queries send an empty operationName."""
    name = body.get("operationName") or ""
    if name:
        return str(name)
    match = _OPERATION_RE.search(str(body.get("query") or ""))
    return match.group(1) if match else ""


def strict_json(value: Any) -> Any:
    """Replace non-finite floats by W&B's strings, for fields typed as JSON in GraphQL."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict_json(v) for v in value]
    return value


class FakeWandb:
    """Serve fake runs over GraphQL on 127.0.0.1 and record what arrives."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        default_entity: str = "seasons-dev",
        port: int = 0,
        nan_strings: bool = False,
        latency: float = 0.0,
    ) -> None:
        self.api_key = api_key  # None accepts any key
        # Seconds every GraphQL answer waits, like a distant tracker (bench_scale_sync.py).
        self.latency = latency
        self.default_entity = default_entity
        self.nan_strings = nan_strings  # history lines carry "NaN" strings instead of bare NaN
        self.runs: dict[tuple[str, str, str], FakeRun] = {}
        self.received: list[Received] = []
        self.uploaded: dict[str, int] = {}  # files PUT by an online run: path -> bytes
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL to give wandb.Api as ``base_url``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeWandb:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the dev server)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        """Stop serving and wake up any slow handler."""
        self._stopping.set()
        if self._thread is not None:  # shutdown() waits for a loop that must be running
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> FakeWandb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def lock(self) -> threading.Lock:
        """The lock that guards ``runs`` (the upload side writes them from handler threads)."""
        return self._lock

    def add_run(self, run: FakeRun) -> FakeRun:
        """Add or replace a run."""
        with self._lock:
            self.runs[(run.entity, run.project, run.run_id)] = run
        return run

    def find_run(self, entity: str, project: str, run_id: str) -> FakeRun | None:
        """Return a run by path, or None."""
        with self._lock:
            return self.runs.get((entity, project, run_id))

    def project_runs(self, entity: str, project: str) -> list[FakeRun]:
        """Return a project's runs in creation order."""
        with self._lock:
            found = [r for (e, p, _), r in self.runs.items() if (e, p) == (entity, project)]
        return sorted(found, key=lambda r: r.created_at)

    def fail(
        self,
        mode: str,
        *,
        operations: set[str] | None = None,
        times: int | None = None,
        delay: float = 30.0,
    ) -> None:
        """Fail matching requests (all, or only ``operations``), ``times`` times or forever."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; use one of {FAILURE_MODES}")
        ops = frozenset(operations) if operations else None
        with self._lock:
            self._failures.append(_Failure(mode, ops, times, delay))

    def clear(self) -> None:
        """Forget failures and recorded requests."""
        with self._lock:
            self._failures.clear()
            self.received.clear()

    def operations(self) -> list[str]:
        """Return the names of the GraphQL operations received so far, in order."""
        with self._lock:
            return [r.operation for r in self.received if r.path.endswith("/graphql")]

    def _take_failure(self, operation: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.operations is not None and operation not in failure.operations:
                    continue
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def handle(
        self, path: str, headers: dict[str, str], raw: bytes, method: str = "POST"
    ) -> tuple[int, dict, bytes]:
        """Answer one HTTP request: (status, headers, body)."""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        stream = FILE_STREAM_RE.match(path.split("?", 1)[0]) is not None
        if stream:
            operation = "file_stream"
        else:
            operation = operation_name(body) if isinstance(body, dict) else ""
        graphql = not stream and isinstance(body, dict)
        variables = body.get("variables") if graphql else None
        auth = headers.get("authorization")
        with self._lock:
            self.received.append(Received(operation, dict(variables or {}), auth, path))
        if method == "PUT" and path.startswith(UPLOAD_PREFIX):
            with self._lock:  # a run's file (config.yaml, requirements.txt, ...)
                self.uploaded[path[len(UPLOAD_PREFIX) :]] = len(raw)
            return 200, {}, b""
        if not stream and not path.rstrip("/").endswith("/graphql"):
            return 404, {}, b"not found"
        if self.latency:
            self._stopping.wait(self.latency)
        failure = self._take_failure(operation)
        if failure and failure.mode == "slow":
            self._stopping.wait(failure.delay)
        elif failure and failure.mode != "run_null":
            return _failure_response(failure.mode)
        if self.api_key is not None and auth != basic_auth(self.api_key):
            return _failure_response("unauthorized")
        if stream:
            status, reply = file_stream(self, path, raw)
            return status, {"Content-Type": "application/json"}, json.dumps(reply).encode()
        if operation in WRITE_OPERATIONS:
            data: dict[str, Any] | None = write_answer(self, operation, dict(variables or {}))
        else:
            run_null = bool(failure and failure.mode == "run_null")
            query = str(body.get("query") or "") if isinstance(body, dict) else ""
            data = answer(self, operation, dict(variables or {}), query=query, run_null=run_null)
        if data is None:
            payload: dict[str, Any] = {"errors": [{"message": f"unknown operation {operation}"}]}
        else:
            payload = {"data": data}
        out = json.dumps(payload, allow_nan=False).encode()
        return 200, {"Content-Type": "application/json"}, out


def _failure_response(mode: str) -> tuple[int, dict, bytes]:
    if mode == "unauthorized":
        body = {"errors": [{"message": "user is not logged in"}]}
        return 401, {"Content-Type": "application/json"}, json.dumps(body).encode()
    if mode == "rate_limited":
        return 429, {"Retry-After": "1", "Content-Type": "text/plain"}, b"rate limit exceeded"
    if mode == "server_error":
        return 500, {"Content-Type": "text/plain"}, b"internal server error"
    return 200, {"Content-Type": "application/json"}, b"<html>this is not json</html>"


def _make_handler(fake: FakeWandb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._answer("POST")

        def do_PUT(self) -> None:
            self._answer("PUT")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, out = fake.handle(self.path, headers, raw, method)
            # the client may have given up waiting (a "slow" failure did its job)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        def do_GET(self) -> None:
            fake.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, b"")
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet: tests read ``FakeWandb.received`` instead."""

    return Handler


def main() -> None:
    """Run a dev server: ``python -m devtools.wandb --port 8765``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m devtools.wandb", description="Fake W&B GraphQL server (dev/test only)."
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=None, help="require this key (default: any)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args()
    from devtools.wandb.fakeserver_runs import seed_demo

    fake = FakeWandb(
        api_key=args.api_key, default_entity="demo-learner", port=args.port, latency=args.latency
    )
    seed_demo(fake)
    print(f"fake W&B on {fake.url} (base_url); demo run demo-learner/mnist/demo0001")
    with contextlib.suppress(KeyboardInterrupt):
        fake.serve_forever()


if __name__ == "__main__":
    main()
