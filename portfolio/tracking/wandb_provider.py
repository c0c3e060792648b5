"""The W&B provider, on the real public ``wandb.Api`` (wandb 0.31), imported lazily.

Facts this module relies on (see /work/shared/notes/wandb-0.31.md):

- ``wandb.Api(overrides={"base_url", "entity"}, api_key=..., timeout=...)``: the key is
  passed explicitly (never read from ~/.netrc), the entity override skips a default-entity
  query, and a fresh ``Api`` is made per call because ``Api`` caches runs by path.
- Every request goes through the ``wandb-core`` sidecar, which retries 429/5xx/timeouts on
  its own. Left to its defaults that is unbounded for history pages (``scan_history`` waits
  on core without a timeout: a 500 there hung for over 14 minutes), so ``configure_wandb``
  bounds core's retries and per-request HTTP timeout; core then fails with a message that
  still names the status ("giving up after 2 attempt(s) ... HTTP 429"), which we map.
- History uses ``run.scan_history(page_size=..., use_cache=False)`` without keys: it pages
  by step range (bounded memory for any run size) and returns every row, whereas
  ``history(keys, samples)`` is W&B's sampling (it drops peaks) and keyed scans only return
  rows holding *all* keys. ``use_cache=False`` keeps parquet downloads out of the instance
  folder and never serves a stale copy of a running run.
- NaN arrives as float nan (full rows) or the string "NaN" (keyed/sampled rows); both become
  float nan where history is accumulated (``downsample.SeriesAccumulator``), which also
  drops ``_`` internals and non-numbers: rows are passed on untouched, because mapping
  every value of millions of rows in Python cost more than parsing them.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import values
from .errors import chain, network_error
from .provider import (
    HistoryRow,
    MissingApiKey,
    NotFound,
    RateLimited,
    RunData,
    TrackingError,
    Unauthorized,
    Unavailable,
    register,
)
from .refs import parse_project_ref, parse_run_ref, validate_base_url

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.wandb.ai"  # wandb's own default is now Forge; both answer
MAX_LISTED_RUNS = 200  # a project link follows at most this many runs
_configured: tuple[Any, ...] | None = None
_configure_lock = threading.Lock()


def configure_wandb(data_dir: str | os.PathLike[str], *, timeout: float, retries: int) -> None:
    """Point wandb's files into ``data_dir``, silence its telemetry and bound core's retries."""
    global _configured
    key = (str(data_dir), timeout, retries)
    with _configure_lock:
        if _configured == key:
            return
        root = Path(data_dir)
        dirs = {"WANDB_DIR": root, "WANDB_CACHE_DIR": root / "cache"}
        dirs |= {"WANDB_CONFIG_DIR": root / "config", "WANDB_DATA_DIR": root / "data"}
        for var, path in dirs.items():
            path.mkdir(parents=True, exist_ok=True)
            os.environ[var] = str(path)
        os.environ["WANDB_ERROR_REPORTING"] = "false"  # else core posts OTel to base_url
        os.environ["WANDB_SILENT"] = "true"
        import wandb

        wandb.setup(
            settings=wandb.Settings(
                root_dir=str(root),
                x_graphql_retry_max=retries,
                x_graphql_timeout_seconds=timeout,
                x_graphql_retry_wait_max_seconds=min(timeout, 5.0),
            )
        )
        _configured = key


@register("wandb")
class WandbProvider:
    """Read runs from W&B (cloud, Forge or a self-hosted server) through ``wandb.Api``."""

    def __init__(
        self,
        *,
        api_key: str | None,
        data_dir: str | os.PathLike[str],
        base_url: str | None = None,
        timeout: float = 15.0,
        retries: int = 2,
        page_size: int = 1_000,
    ) -> None:
        self.api_key = (api_key or "").strip()
        self.base_url = validate_base_url(base_url) or DEFAULT_BASE_URL
        self.data_dir = data_dir
        self.timeout = timeout
        self.retries = retries
        self.page_size = page_size

    def __repr__(self) -> str:
        return f"WandbProvider(base_url={self.base_url!r})"  # never show the key

    def _api(self, entity: str) -> Any:
        """Make a fresh ``wandb.Api`` (its run cache must not outlive one call)."""
        if not self.api_key:
            raise MissingApiKey()
        configure_wandb(self.data_dir, timeout=self.timeout, retries=self.retries)
        import wandb

        # core gives up after (retries + 1) bounded attempts; wait a little longer than
        # that so its message (which names the HTTP status) reaches us, not a bare timeout
        wait = (self.retries + 1) * self.timeout + self.retries * 5.0 + 5.0
        return wandb.Api(
            overrides={"base_url": self.base_url, "entity": entity},
            api_key=self.api_key,
            timeout=int(wait) + 1,
        )

    def verify_key(self) -> None:
        """Check the key with the server: ``wandb.Api`` sends ``Viewer`` when it starts."""
        try:
            self._api("")
        except TrackingError:
            raise
        except Exception as exc:
            raise map_error(exc, base_url=self.base_url) from exc

    def fetch_run(self, ref: str) -> RunData:
        """Fetch one run's metadata, summary and config."""
        parsed = parse_run_ref(ref, base_url=self.base_url)
        try:
            run = self._api(parsed.entity).run(parsed.path)
            return self._run_data(run, parsed.entity, parsed.project)
        except TrackingError:
            raise
        except Exception as exc:
            raise map_error(exc, base_url=self.base_url) from exc

    def list_runs(self, project_ref: str, *, tags: Sequence[str] = ()) -> list[RunData]:
        """List a project's runs carrying any of ``tags`` (oldest first, capped)."""
        parsed = parse_project_ref(project_ref, base_url=self.base_url)
        filters = {"tags": {"$in": [str(t) for t in tags]}} if tags else {}
        found: list[RunData] = []
        try:
            api = self._api(parsed.entity)
            runs = api.runs(parsed.project_path, filters=filters, per_page=50, lazy=False)
            for run in runs:
                found.append(self._run_data(run, parsed.entity, parsed.project))
                if len(found) >= MAX_LISTED_RUNS:
                    break
        except TrackingError:
            raise
        except Exception as exc:
            raise map_error(exc, what="project", base_url=self.base_url) from exc
        return found

    def iter_history(self, ref: str, keys: Sequence[str] | None = None) -> Iterator[HistoryRow]:
        """Stream ``(step, row)`` pairs as W&B sent the rows, page by page (a bad ref fails
        at once); ``downsample.SeriesAccumulator`` keeps the numbers."""
        parsed = parse_run_ref(ref, base_url=self.base_url)
        return self._scan(parsed.entity, parsed.path, None if keys is None else list(keys))

    def _scan(self, entity: str, path: str, keys: list[str] | None) -> Iterator[HistoryRow]:
        try:
            run = self._api(entity).run(path)
            pages = run.scan_history(page_size=self.page_size, use_cache=False)
            yield from values.step_rows(pages, keys)  # values as sent: see SeriesAccumulator
        except TrackingError:
            raise
        except Exception as exc:  # scan pages raise a raw WandbApiFailedError
            raise map_error(exc, base_url=self.base_url) from exc

    def _run_data(self, run: Any, entity: str, project: str) -> RunData:
        """Map a ``wandb.apis.public.Run`` (attributes via its public names) onto RunData."""
        run_id = values.clean_text(run.id, 200)
        return RunData(
            provider="wandb",
            path=f"{entity}/{project}/{run_id}",
            run_id=run_id,
            name=values.clean_text(run.name or run_id),
            state=values.clean_text(run.state or "unknown", 40),
            url=values.clean_text(run.url, 2_000),
            created_at=values.parse_time(getattr(run, "created_at", None)),
            heartbeat_at=values.parse_time(getattr(run, "heartbeat_at", None)),
            tags=values.clean_tags(getattr(run, "tags", None)),
            summary=values.flatten_summary(run.summary_metrics),
            config=values.flatten_config(run.config),
            history_keys=values.numeric_history_keys(getattr(run, "history_keys", None)),
            history_rows=getattr(run, "history_line_count", None),
        )


_STATUS_RE = re.compile(r"(?:HTTP |returned error |status(?: code)?:? )(\d{3})\b")


def _status(exc: BaseException) -> int | None:
    for err in chain(exc):
        response = getattr(err, "response", None)
        status = getattr(response, "http_status", None)
        if isinstance(status, int) and status:
            return status
    match = _STATUS_RE.search(" ".join(str(e) for e in chain(exc)))
    return int(match.group(1)) if match else None


def map_error(
    exc: BaseException, *, what: str = "run", base_url: str | None = None
) -> TrackingError:
    """Translate anything the wandb client raised into one of our errors."""
    detail = " | ".join(str(e)[:300] for e in chain(exc))
    text = detail.lower()
    status = _status(exc)
    logger.info("W&B request failed (status %s): %s", status, detail)
    if status == 429:
        return RateLimited(detail=detail)
    if status in (401, 403) or "not logged in" in text or "permission" in text:
        return Unauthorized(detail=detail)
    if "api key must" in text or "api key may only" in text or "api key is empty" in text:
        return Unauthorized(
            "That W&B API key does not look right: W&B keys are 40 or more letters and digits.",
            detail=detail,
        )
    if status == 404 or "could not find" in text or "no parquet history found" in text:
        if what == "project":
            return NotFound("W&B says this project does not exist.", detail=detail)
        return NotFound(detail=detail)
    if status is None and (network := network_error(exc, tracker="W&B", base_url=base_url)):
        return network  # refused, unknown host, TLS or timeout, naming the host
    if "invalid character" in text or "cannot unmarshal" in text:
        return Unavailable(
            "W&B sent an answer we could not read; check the server address, or we will "
            "try again later.",
            detail=detail,
        )
    if status is not None and status >= 500:
        return Unavailable("W&B had an internal error; we will try again later.", detail=detail)
    if type(exc).__name__ in ("UsageError", "UnsupportedError"):
        return TrackingError(
            "The W&B client refused this request; check the server address.", detail=detail
        )
    return Unavailable(detail=detail)
