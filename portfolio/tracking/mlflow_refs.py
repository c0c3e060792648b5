"""Parse what a learner pastes into an MLflow run or experiment reference, strictly.

Accepted:
- MLflow UI links, whose routes live in the fragment:
  ``<server>/#/experiments/<id>/runs/<run id>`` (any run-page tab after it) and
  ``<server>/#/experiments/<id>`` for an experiment (a ``?searchFilter=…`` in it is ignored);
- the same routes as a plain path (Databricks' ``<workspace>/ml/experiments/<id>/runs/<id>``);
- the bare forms ``experiment_id/run_id`` and ``experiment_id``.

``<server>`` is everything before the route (scheme, host, port and any path prefix, e.g.
``https://example.org/mlflow``). A link is only accepted on a server the learner saved
(``servers``): the sync then talks to a server the learner chose on purpose, never to any
address pasted into a form. MLflow experiment ids are digits; run ids are 32 hex digits
in open-source MLflow, but other servers use other alphabets, so letters, digits, ``-`` and
``_`` are allowed within length limits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .provider import InvalidReference

MAX_INPUT = 2_000
_EXPERIMENT_RE = re.compile(r"[0-9]{1,19}")
_RUN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# a run page may carry a tab after the id (/model-metrics, /artifacts/…): it is ignored
_ROUTE_RE = re.compile(r"(?:^|/)(?:ml/)?experiments/([^/?#]+)(?:/runs/([^/?#]+))?")
_EXAMPLE = "http://your-mlflow-server:5000/#/experiments/<id>/runs/<run id>"

Kind = Literal["run", "experiment"]


@dataclass(frozen=True)
class MlflowRef:
    """A parsed MLflow reference; ``run_id`` is None for an experiment."""

    experiment_id: str
    run_id: str | None = None
    server: str | None = None  # the server part of a pasted link, None for bare ids

    @property
    def path(self) -> str:
        """Return ``experiment_id[/run_id]``, the ``RunLink.ref`` of an MLflow link."""
        return f"{self.experiment_id}/{self.run_id}" if self.run_id else self.experiment_id

    @property
    def is_run(self) -> bool:
        """Tell a run reference from an experiment reference."""
        return self.run_id is not None


def validate_server_url(url: str | None) -> str:
    """Check an MLflow server address and return it without a trailing slash."""
    text = (url or "").strip().rstrip("/")
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in text)
        or len(text) > 300
    ):
        raise InvalidReference(
            "The MLflow server address must be a web address like http://mlflow.example.org:5000 "
            "(the page you open the MLflow UI on, without #/experiments/…)."
        )
    try:
        _ = parts.port  # urlsplit checks the port only when asked
    except ValueError:
        raise InvalidReference("That MLflow server address has an invalid port number.") from None
    return text


def run_url(server: str, experiment_id: str, run_id: str) -> str:
    """Return the MLflow UI page of a run."""
    return f"{server}/#/experiments/{experiment_id}/runs/{run_id}"


def parse_mlflow_ref(text: str, *, servers: Sequence[str], kind: Kind) -> MlflowRef:
    """Parse a run (``kind="run"``) or experiment link/id against the saved ``servers``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidReference(
            f"Paste an MLflow run link like {_EXAMPLE}, or experiment_id/run_id."
        )
    text = text.strip()
    if len(text) > MAX_INPUT:
        raise InvalidReference("That link is too long to be an MLflow link.")
    if any(c.isspace() for c in text):
        raise InvalidReference("An MLflow link has no spaces in it; paste just the link.")
    if "://" in text:
        ref = _from_url(text, servers)
    else:
        parts = text.strip("/").split("/")
        if len(parts) > 2:
            raise InvalidReference(
                f"Paste a full MLflow link ({_EXAMPLE}) or experiment_id/run_id."
            )
        ref = MlflowRef(parts[0], parts[1] if len(parts) == 2 else None)
    _check(ref)
    if kind == "run" and not ref.is_run:
        raise InvalidReference(
            f"That points to the MLflow experiment {ref.experiment_id}, not a run. Open the "
            "run and paste its link, or follow the experiment instead."
        )
    if kind == "experiment" and ref.is_run:
        raise InvalidReference(
            "That points to a single run; to follow the whole experiment use "
            f"its id ({ref.experiment_id}) or its link."
        )
    return ref


def _from_url(text: str, servers: Sequence[str]) -> MlflowRef:
    url = urlsplit(text)
    if url.scheme.lower() not in ("http", "https"):
        raise InvalidReference("Only web links (http:// or https://) can be linked.")
    if url.username or url.password:
        raise InvalidReference("That link carries a user name or password; paste the plain link.")
    route = url.fragment.split("?", 1)[0] if url.fragment.startswith("/") else ""
    match = _ROUTE_RE.search(route) if route else None
    server_path = url.path
    if match is None:  # no UI route in the fragment: the route is the path itself
        match = _ROUTE_RE.search(url.path)
        if match is None:
            raise InvalidReference(
                f"That is not an MLflow run or experiment link. A run link looks like {_EXAMPLE}."
            )
        server_path = url.path[: match.start()]
    server = f"{url.scheme.lower()}://{url.netloc.lower()}{server_path}".rstrip("/")
    known = {s.rstrip("/").lower(): s.rstrip("/") for s in servers}
    if server.lower() not in known:
        shown = url.hostname or "no host"
        raise InvalidReference(
            f"That link is on the MLflow server {server or shown}, which is not one of your "
            "saved MLflow servers: add it under Settings → MLflow servers first."
        )
    return MlflowRef(match.group(1), match.group(2), known[server.lower()])


def _check(ref: MlflowRef) -> None:
    if not _EXPERIMENT_RE.fullmatch(ref.experiment_id):
        shown = ref.experiment_id[:40]
        raise InvalidReference(f"{shown!r} is not an MLflow experiment id: those are digits.")
    if ref.run_id is not None and not _RUN_RE.fullmatch(ref.run_id):
        shown = ref.run_id[:40]
        raise InvalidReference(
            f"{shown!r} is not an MLflow run id: use letters, digits, '-' and '_' "
            "(at most 64 characters)."
        )
