"""Parse what a learner pastes into a W&B run or project reference, strictly.

Accepted:
- ``https://wandb.ai/<entity>/<project>/runs/<id>`` with an optional trailing slash, query,
  ``#fragment`` or run-page tab (``/overview``, ``/logs``, ``/files``, ...);
- the CoreWeave Forge form ``https://forge.coreweave.com[/wandb]/<entity>/<project>/runs/<id>``;
- a self-hosted W&B Server link, only when its host is the configured ``base_url``'s host
  (or that host's ``app.``/bare form when the API lives on ``api.``);
- the paths ``entity/project/id`` and ``entity/project/runs/id``;
- project references: ``https://wandb.ai/<entity>/<project>`` (``/workspace``, ``/table``...)
  and ``entity/project``.

Every segment must be a W&B name (letters, digits, ``-``, ``_``, ``.``; no leading dot)
within length limits; anything else raises ``InvalidReference`` with a message that says
what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .provider import InvalidReference

SAAS_HOSTS = frozenset({"wandb.ai", "www.wandb.ai", "app.wandb.ai"})
FORGE_HOSTS = frozenset({"forge.coreweave.com", "qa.forge.coreweave.com"})
MAX_INPUT = 2_000
LIMITS = {"entity": 64, "project": 128, "run id": 128}
RUN_TABS = frozenset(
    {"overview", "workspace", "logs", "files", "artifacts", "system", "code", "charts", "model"}
)
PROJECT_TABS = frozenset({"workspace", "table", "overview", "runs", "artifacts", "sweeps"})
_NAME_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_EXAMPLE = "https://wandb.ai/<entity>/<project>/runs/<run id>"

Kind = Literal["run", "project", "any"]


@dataclass(frozen=True)
class WandbRef:
    """A parsed W&B reference; ``run_id`` is None for a project."""

    entity: str
    project: str
    run_id: str | None = None
    host: str | None = None  # the host of a pasted URL, None for a bare path

    @property
    def path(self) -> str:
        """Return ``entity/project[/run_id]``, the form ``wandb.Api`` takes."""
        parts = [self.entity, self.project] + ([self.run_id] if self.run_id else [])
        return "/".join(parts)

    @property
    def project_path(self) -> str:
        """Return ``entity/project``."""
        return f"{self.entity}/{self.project}"

    @property
    def is_run(self) -> bool:
        """Tell a run reference from a project reference."""
        return self.run_id is not None


def parse_ref(text: str, *, base_url: str | None = None, kind: Kind = "any") -> WandbRef:
    """Parse a run or project link/path; ``kind`` demands one of them."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidReference(f"Paste a W&B run link like {_EXAMPLE}, or entity/project/run_id.")
    text = text.strip()
    if len(text) > MAX_INPUT:
        raise InvalidReference("That link is too long to be a W&B run link.")
    if any(c.isspace() for c in text):
        raise InvalidReference("A W&B link has no spaces in it; paste just the link.")
    host, segments = _split(text, base_url)
    ref = _from_segments(segments, host)
    if kind == "run" and not ref.is_run:
        raise InvalidReference(
            f"That points to the W&B project {ref.project_path}, not a run. "
            f"Open the run and paste its link ({_EXAMPLE})."
        )
    if kind == "project" and ref.is_run:
        raise InvalidReference(
            f"That points to a single run; to follow the whole project use {ref.project_path}."
        )
    return ref


def parse_run_ref(text: str, *, base_url: str | None = None) -> WandbRef:
    """Parse a run link or ``entity/project/run_id``."""
    return parse_ref(text, base_url=base_url, kind="run")


def parse_project_ref(text: str, *, base_url: str | None = None) -> WandbRef:
    """Parse a project link or ``entity/project``."""
    return parse_ref(text, base_url=base_url, kind="project")


def validate_base_url(url: str | None) -> str | None:
    """Check a W&B server address; map W&B's app hosts to their API host."""
    if url is None or not url.strip():
        return None
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise InvalidReference(
            "The W&B server address must be a web address like https://wandb.example.com."
        )
    if parts.hostname in SAAS_HOSTS:
        return "https://api.wandb.ai"
    if parts.hostname in FORGE_HOSTS:
        return f"https://api.{parts.hostname}"
    return url


def allowed_hosts(base_url: str | None) -> frozenset[str]:
    """Return the hosts whose links we accept: W&B's, plus a configured server's."""
    hosts = set(SAAS_HOSTS | FORGE_HOSTS)
    if base_url:
        netloc = _netloc(base_url)
        if netloc:
            hosts.add(netloc)
            if netloc.startswith("api."):  # W&B's app lives next to its API
                hosts.update({netloc[4:], "app." + netloc[4:]})
    return frozenset(hosts)


def _split(text: str, base_url: str | None) -> tuple[str | None, list[str]]:
    """Return (host or None, path segments) for a URL or a bare path."""
    hosts = allowed_hosts(base_url)
    lowered = text.lower()
    first = lowered.split("/", 1)[0]
    if "://" not in text and first not in hosts:
        if text.startswith("/") or "?" in text or "#" in text or ":" in text:
            raise InvalidReference(
                f"Paste a full W&B link ({_EXAMPLE}) or a path like entity/project/run_id."
            )
        return None, text.strip("/").split("/")
    url = urlsplit(text if "://" in text else "https://" + text)
    if url.scheme.lower() not in ("http", "https"):
        raise InvalidReference("Only web links (https://...) can be linked.")
    if url.username or url.password:
        raise InvalidReference("That link carries a user name or password; paste the plain link.")
    netloc = _netloc(text if "://" in text else "https://" + text)
    if netloc not in hosts:
        shown = url.hostname or netloc or "no host"
        hint = ""
        if base_url is None:
            hint = " For a self-hosted W&B server, save its address in your W&B settings first."
        raise InvalidReference(f"That URL is on {shown}, not W&B.{hint}")
    segments = [s for s in url.path.split("/") if s]
    if netloc in FORGE_HOSTS and len(segments) >= 3 and segments[0] == "wandb":
        segments = segments[1:]  # Forge serves the W&B app under /wandb
    return netloc, segments


def _netloc(url: str) -> str:
    """Return ``host[:port]`` in lower case, without a scheme's default port."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise InvalidReference("That link has an invalid port number.") from None
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return host if port is None or port == default else f"{host}:{port}"


def _from_segments(segments: list[str], host: str | None) -> WandbRef:
    if len(segments) < 2:
        raise InvalidReference(
            f"That link has no W&B project in it. A run link looks like {_EXAMPLE}."
        )
    entity, project, rest = segments[0], segments[1], segments[2:]
    run_id: str | None = None
    if rest and rest[0] in ("reports", "sweeps", "artifacts") and len(rest) > 1:
        what = {"reports": "report", "sweeps": "sweep", "artifacts": "artifact"}[rest[0]]
        raise InvalidReference(f"That is a W&B {what} link, not a run. Paste a run's link.")
    if host is None and len(rest) == 1:
        run_id = rest[0]  # entity/project/id
    elif rest and rest[0] == "runs" and len(rest) >= 2:
        run_id = rest[1]
        extra = rest[2:]
        if extra and (len(extra) > 1 or extra[0] not in RUN_TABS):
            raise InvalidReference(
                f"The part after the run id ({'/'.join(extra)[:60]}) is not a W&B run page."
            )
    elif rest and not (host and len(rest) == 1 and rest[0] in PROJECT_TABS):
        raise InvalidReference(
            f"That does not look like a W&B run or project link. A run link looks like {_EXAMPLE}."
        )
    _check("entity", entity)
    _check("project", project)
    if run_id is not None:
        _check("run id", run_id)
    return WandbRef(entity=entity, project=project, run_id=run_id, host=host)


def _check(what: str, value: str) -> None:
    limit = LIMITS[what]
    if len(value) > limit:
        raise InvalidReference(f"That W&B {what} is longer than {limit} characters.")
    if not _NAME_RE.fullmatch(value):
        shown = value if len(value) <= 40 else value[:39] + "…"
        raise InvalidReference(
            f"{shown!r} is not a valid W&B {what}: use letters, digits, '-', '_' and '.'."
        )
