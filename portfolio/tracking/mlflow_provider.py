"""The MLflow provider, on MLflow's documented REST API (``/api/2.0/mlflow/…``) via requests.

Why REST and not ``mlflow-skinny``'s client: the provider needs five read-only endpoints
(``runs/get``, ``metrics/get-history``, ``runs/search``, ``experiments/get`` and
``experiments/search``), all plain JSON over HTTP. ``mlflow-skinny`` 3.17 resolves to 41
packages, 17 of them new to the app (fastapi, starlette, uvicorn, databricks-sdk,
google-auth, GitPython, cloudpickle, sqlparse, …), for a client that takes its server and
credentials from process-wide environment variables (``MLFLOW_TRACKING_URI``/``_TOKEN``/
``_USERNAME``), which does not fit one server and one learner's credentials per call in a
shared worker. ``requests`` is already installed (wandb depends on it): no new package.

Facts this module relies on (checked against a real ``mlflow server``, see the tests):

- Errors answer ``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": …}`` with a 4xx status;
  an unknown run is a 404, a malformed id a 400 ``INVALID_PARAMETER_VALUE``.
- Deleted runs and experiments are still returned, with ``lifecycle_stage: "deleted"``.
- ``metrics/get-history`` pages with ``max_results``/``page_token`` and returns one metric;
  NaN and ±inf arrive as the JSON strings ``"NaN"``/``"Infinity"``/``"-Infinity"`` (or as
  bare literals from some servers), both handled by ``values.to_number``.
- Pages come ordered by timestamp, not step; the downsampling sorts by step anyway.
- MLflow's SQL stores cannot hold infinity: on write they replace ±inf with
  ±1.7976931348623157e308, the largest double. That exact value is read back as ±inf, so a
  diverged loss shows as the marker it was logged as.
- Authentication is a bearer token (Databricks, proxies) or HTTP basic auth
  (``mlflow server --app-name basic-auth``).

Every answer is untrusted: sizes are capped while reading, texts are capped and keys
counted (values.py), and nothing from the server is rendered without escaping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import requests

from . import values
from .mlflow_errors import map_http_error, map_request_error, unreadable
from .mlflow_history import metric_value, page_columns, page_rows
from .mlflow_refs import parse_mlflow_ref, run_url, validate_server_url
from .provider import HistoryRow, NotFound, RunData, TrackingError, register

logger = logging.getLogger(__name__)

API = "/api/2.0/mlflow/"
MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # one answer; a history page of 25,000 points is ~2 MB
HISTORY_PAGE = 25_000  # metrics/get-history's own page size (and its maximum)
MAX_LISTED_RUNS = 200  # like a W&B project link: at most this many runs are followed
MAX_SCANNED_RUNS = 20_000  # tag matching is done here, so bound how many runs are looked at
SEARCH_PAGE = 1_000
MAX_TAG_VALUE = 200
STATES = {
    "RUNNING": "running",
    "SCHEDULED": "pending",
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "killed",
}


def parse_auth(secret: str | None) -> dict[str, str]:
    """Decode the saved auth (JSON: ``token``, or ``username`` and ``password``, or nothing)."""
    try:
        data = json.loads(secret or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(v) for k, v in data.items() if k in ("token", "username", "password")}


@register("mlflow")
class MlflowProvider:
    """Read runs from one MLflow tracking server with one learner's credentials."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str,
        timeout: float = 15.0,
        history_page: int = HISTORY_PAGE,
        **_unused: Any,  # the W&B-only settings (data_dir, retries, page_size) the factory passes
    ) -> None:
        self.server = validate_server_url(base_url)
        self.host = urlsplit(self.server).netloc
        self.timeout = timeout
        self.history_page = max(1, min(int(history_page), HISTORY_PAGE))
        self._auth = parse_auth(api_key)

    def __repr__(self) -> str:
        return f"MlflowProvider(server={self.server!r})"  # never show the credentials

    # -- HTTP ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no ~/.netrc or proxy variables: only what the learner saved
        session.headers["Accept"] = "application/json"
        if token := self._auth.get("token"):
            session.headers["Authorization"] = f"Bearer {token}"
        elif "username" in self._auth:
            session.auth = (self._auth["username"], self._auth.get("password", ""))
        return session

    def _call(
        self, session: requests.Session, method: str, endpoint: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Send one request; return the JSON object, or raise one of our errors."""
        url = self.server + API + endpoint
        try:
            with session.request(
                method, url, timeout=(min(self.timeout, 10.0), self.timeout), stream=True,
                allow_redirects=False, **kwargs,
            ) as response:  # fmt: skip
                body = _read_capped(response)
                if response.status_code != 200:
                    raise map_http_error(response.status_code, body, self.host, response.headers)
        except TrackingError:
            raise
        except requests.RequestException as exc:
            raise map_request_error(exc, self.host) from exc
        try:
            data = json.loads(body)
        except ValueError:
            raise unreadable(self.host, "not JSON") from None
        if not isinstance(data, dict):
            raise unreadable(self.host, "not a JSON object")
        return data

    def verify(self) -> None:
        """Check the address and credentials with the cheapest authenticated call."""
        with self._session() as session:
            self._call(session, "POST", "experiments/search", json={"max_results": 1})

    # -- runs ---------------------------------------------------------------------------

    def fetch_run(self, ref: str) -> RunData:
        """Fetch one run's status, times, params, latest metrics and tags."""
        parsed = parse_mlflow_ref(ref, servers=(self.server,), kind="run")
        with self._session() as session:
            data = self._call(session, "GET", "runs/get", params={"run_id": parsed.run_id})
        run = data.get("run")
        if not isinstance(run, dict):
            raise unreadable(self.host, "no run in the answer")
        info = _obj(run.get("info"))
        if str(info.get("experiment_id", "")) != parsed.experiment_id:
            raise NotFound(
                f"MLflow has no run {parsed.run_id} in experiment {parsed.experiment_id} "
                "(the run may have been moved to another experiment)."
            )
        if info.get("lifecycle_stage") == "deleted":
            raise NotFound("MLflow says this run was deleted.")
        return self._run_data(info, _obj(run.get("data")))

    def list_runs(self, project_ref: str, *, tags: Sequence[str] = ()) -> list[RunData]:
        """List an experiment's active runs carrying any of ``tags`` (oldest first, capped).

        A tag matches a run's tag key (``portfolio``), or key and value (``stage=final``).
        MLflow's filter language has no OR, so matching is done here, page by page.
        """
        parsed = parse_mlflow_ref(project_ref, servers=(self.server,), kind="experiment")
        wanted = [str(t) for t in tags]
        found: list[RunData] = []
        with self._session() as session:
            self._check_experiment(session, parsed.experiment_id)
            token, scanned = None, 0
            while len(found) < MAX_LISTED_RUNS and scanned < MAX_SCANNED_RUNS:
                body: dict[str, Any] = {
                    "experiment_ids": [parsed.experiment_id],
                    "run_view_type": "ACTIVE_ONLY",
                    "max_results": SEARCH_PAGE,
                    "order_by": ["attributes.start_time ASC"],
                }
                if token:
                    body["page_token"] = token
                data = self._call(session, "POST", "runs/search", json=body)
                page = data.get("runs") or []
                for run in page if isinstance(page, list) else []:
                    scanned += 1
                    run = _obj(run)
                    run_data = _obj(run.get("data"))
                    if wanted and not _matches(_pairs(run_data.get("tags")), wanted):
                        continue
                    found.append(self._run_data(_obj(run.get("info")), run_data))
                    if len(found) >= MAX_LISTED_RUNS:
                        break
                token = data.get("next_page_token")
                if not token or not page:
                    break
            if token and scanned >= MAX_SCANNED_RUNS and len(found) < MAX_LISTED_RUNS:
                # a partial listing would drop the runs found earlier: refuse it instead
                raise TrackingError(
                    f"This MLflow experiment has more than {MAX_SCANNED_RUNS:,} runs; follow "
                    "it with a tag, or link the runs you want one by one."
                )
        return found

    def _check_experiment(self, session: requests.Session, experiment_id: str) -> None:
        data = self._call(
            session, "GET", "experiments/get", params={"experiment_id": experiment_id}
        )
        experiment = _obj(data.get("experiment"))
        if experiment.get("lifecycle_stage") == "deleted":
            raise NotFound("MLflow says this experiment was deleted.")

    def iter_history(self, ref: str, keys: Sequence[str] | None = None) -> Iterator[HistoryRow]:
        """Stream each metric's full history, page by page, one metric after another.

        Rows come per metric in MLflow's order (by step); ``SeriesAccumulator`` keeps one
        buffer per metric, so rows of different metrics need not interleave.
        """
        parsed = parse_mlflow_ref(ref, servers=(self.server,), kind="run")
        return self._history(parsed.run_id or "", None if keys is None else list(keys))

    def iter_history_columns(
        self, ref: str, keys: Sequence[str] | None = None
    ) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Stream each page as ``(metric, steps, values)`` float arrays (see ``page_columns``).

        The sync's fast path: get-history pages are per metric already, so no per-point
        row dict is built; the numbers are the ones ``iter_history`` yields.
        """
        parsed = parse_mlflow_ref(ref, servers=(self.server,), kind="run")
        keys = None if keys is None else list(keys)
        for key, points in self._history_pages(parsed.run_id or "", keys):
            steps, numbers = page_columns(points, key)
            yield key, steps, numbers

    def _history(self, run_id: str, keys: list[str] | None) -> Iterator[HistoryRow]:
        for key, points in self._history_pages(run_id, keys):
            yield from page_rows(points, key)

    def _history_pages(self, run_id: str, keys: list[str] | None) -> Iterator[tuple[str, Any]]:
        with self._session() as session:
            if keys is None:
                data = self._call(session, "GET", "runs/get", params={"run_id": run_id})
                metrics = _obj(_obj(data.get("run")).get("data")).get("metrics")
                keys = list(values.metric_keys(_pairs(metrics)))
            for key in keys:
                yield from self._metric_pages(session, run_id, key)

    def _metric_pages(
        self, session: requests.Session, run_id: str, key: str
    ) -> Iterator[tuple[str, Any]]:
        token: str | None = None
        while True:
            params = {"run_id": run_id, "metric_key": key, "max_results": self.history_page}
            if token:
                params["page_token"] = token
            data = self._call(session, "GET", "metrics/get-history", params=params)
            points = data.get("metrics") or []
            yield key, points
            token = data.get("next_page_token")
            if not token or not points:
                return

    def _run_data(self, info: dict[str, Any], data: dict[str, Any]) -> RunData:
        """Map MLflow's ``RunInfo`` and ``RunData`` JSON onto our RunData."""
        run_id = values.clean_text(info.get("run_id") or info.get("run_uuid") or "", 64)
        experiment_id = values.clean_text(info.get("experiment_id") or "", 19)
        tags = _pairs(data.get("tags"))
        name = info.get("run_name") or tags.get("mlflow.runName") or run_id
        metrics = {k: metric_value(v) for k, v in _pairs(data.get("metrics")).items()}
        status = str(info.get("status") or "")
        return RunData(
            provider="mlflow",
            path=f"{experiment_id}/{run_id}",
            run_id=run_id,
            name=values.clean_text(name, 300),
            state=STATES.get(status, values.clean_text(status.lower() or "unknown", 40)),
            url=run_url(self.server, experiment_id, run_id),
            created_at=_millis(info.get("start_time")),
            heartbeat_at=_millis(info.get("end_time")),
            tags=values.clean_tags(_tag_labels(tags)),
            summary=values.flatten_summary(metrics),
            config=values.flatten_config(
                {k: _param(v) for k, v in _pairs(data.get("params")).items()}
            ),
            history_keys=values.metric_keys(metrics),
        )


def _read_capped(response: requests.Response) -> bytes:
    """Read a body of at most ``MAX_RESPONSE_BYTES`` (a hostile server may send more)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=256 * 1024):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise unreadable(urlsplit(response.url).netloc, "answer too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pairs(items: Any) -> dict[str, Any]:
    """Turn MLflow's ``[{"key": k, "value": v}, …]`` lists into a dict (first wins)."""
    out: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out.setdefault(item["key"], item.get("value"))
        if len(out) >= values.MAX_KEYS:
            break
    return out


def _tag_labels(tags: dict[str, Any]) -> list[str]:
    """Show the learner's tags (not MLflow's own ``mlflow.*``) as ``key`` or ``key=value``."""
    labels = []
    for key, value in tags.items():
        if key.startswith("mlflow."):
            continue
        text = values.clean_text(value if isinstance(value, str) else "", MAX_TAG_VALUE)
        labels.append(f"{key}={text}" if text else key)
    return labels


def _matches(tags: dict[str, Any], wanted: Sequence[str]) -> bool:
    for tag in wanted:
        key, sep, value = tag.partition("=")
        if key in tags and (not sep or str(tags[key]) == value):
            return True
    return False


def _param(value: Any) -> Any:
    """MLflow params are strings; show numbers as numbers so they compare and format."""
    if not isinstance(value, str):
        return values.clean_text(json.dumps(value, default=str))
    text = value.strip()
    if text.lstrip("-").isdigit() and len(text) < 19:
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return value
    return number if number == number and abs(number) != float("inf") else value


def _millis(value: Any) -> datetime | None:
    try:
        millis = int(value)
    except (TypeError, ValueError):
        return None
    if millis <= 0 or millis > 10**14:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)
