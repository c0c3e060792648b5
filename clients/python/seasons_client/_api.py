"""The few API calls the client needs, over urllib, and where its settings come from."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from typing import Any, BinaryIO

ENV_URL = "SEASONS_URL"
ENV_TOKEN = "SEASONS_TOKEN"
API_PREFIX = "/api/v1"


class SeasonsWarning(UserWarning):
    """Linking or uploading the run did not work; training goes on."""


class SeasonsError(Exception):
    """A failure with a message for the learner (the server's, when it answered)."""


def config_path() -> Path:
    """Where ``seasons login`` keeps the address and token (the user config dir)."""
    if sys.platform == "win32":
        root = Path(os.environ.get("APPDATA") or Path.home())
    else:
        root = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return root / "seasons" / "config.json"


def saved_config() -> dict[str, str]:
    """The stored login, or nothing when there is none or it cannot be read."""
    try:
        data = json.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_config(url: str, token: str) -> Path:
    """Store the login readable by the user alone (0600)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"url": url, "token": token}, fh)
    os.chmod(str(path), 0o600)  # an existing file keeps its mode on open
    return path


def settings(url: str | None = None, token: str | None = None) -> tuple[str, str]:
    """The site address and token: arguments, then the environment, then ``seasons login``."""
    saved = saved_config()
    base = (url or os.environ.get(ENV_URL) or saved.get("url") or "").strip().rstrip("/")
    secret = (token or os.environ.get(ENV_TOKEN) or saved.get("token") or "").strip()
    if not base:
        raise SeasonsError(
            f"set {ENV_URL} to your Seasons address (e.g. https://seasons.example.org) "
            "or run `seasons login`"
        )
    if not base.startswith(("http://", "https://")):
        raise SeasonsError(f"{base!r} is not a web address (it must start with https://)")
    if not secret:
        raise SeasonsError(f"set {ENV_TOKEN} to a write token from Settings → API tokens")
    return base, secret


class Api:
    """Authenticated JSON calls to one Seasons site."""

    def __init__(self, base: str, token: str, timeout: float = 10.0) -> None:
        self.base, self.token, self.timeout = base, token, timeout

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | bytes | BinaryIO | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request and return the decoded JSON answer (SeasonsError otherwise)."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": "seasons-client",
        }
        if data is not None:
            headers["Content-Type"] = content_type
        if hasattr(data, "read"):  # a file: streamed, so a big run never sits in memory
            headers["Content-Length"] = str(os.fstat(data.fileno()).st_size - data.tell())
        url = path if path.startswith("http") else self.base + API_PREFIX + path
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SeasonsError(f"Seasons answered {exc.code}: {_detail(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SeasonsError(f"could not reach Seasons at {self.base} ({reason})") from None
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise SeasonsError(
                f"{self.base} answered with something that is not the Seasons API; "
                "check the address"
            ) from None

    def find_project(self, project: str | int) -> dict[str, Any]:
        """Your project by id, slug, or "handle/slug"."""
        if isinstance(project, int) and not isinstance(project, bool):
            return self.request("GET", f"/projects/{project}")
        text = str(project).strip().strip("/")
        owner, _, slug = text.rpartition("/")
        query = urllib.parse.urlencode({"slug": slug, "limit": 100})
        items = (self.request("GET", f"/projects?{query}") or {}).get("items") or []
        if owner:
            items = [p for p in items if p.get("owner") == owner.lstrip("@")]
        if not items:
            raise SeasonsError(f"none of your projects has the address {text!r}")
        if len(items) > 1:
            choices = ", ".join(f"{p['owner']}/{p['slug']}" for p in items)
            raise SeasonsError(f"{text!r} matches several projects ({choices}); pass handle/slug")
        return items[0]


def _detail(exc: urllib.error.HTTPError) -> str:
    """The problem document's detail (and field messages), else the status phrase."""
    try:
        problem = json.loads(exc.read())
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors") or [])
        detail = problem.get("detail") or problem.get("title") or ""
        if fields and detail != fields:
            return f"{detail} ({fields})" if detail else fields
        return detail or str(exc.reason)
    except Exception:
        return str(exc.reason)


def warn(message: str) -> None:
    """Warn once; if warnings are turned into errors (-W error), print instead of raising."""
    try:
        warnings.warn(message, SeasonsWarning, stacklevel=3)
    except Warning:
        print(message, file=sys.stderr)
