"""Link a W&B run to a Seasons project from a training script, in two lines::

    from portfolio.client import link_run
    link_run(run, project="my-project")

``run`` is what ``wandb.init()`` returned (its entity, project and id are
read); ``project`` is the slug of one of your projects (or ``"handle/slug"``,
or its numeric id). The address and token come from the environment:
``SEASONS_URL`` (e.g. https://seasons.example.org) and ``SEASONS_TOKEN`` (a
write token from Settings → API tokens). The project's page is printed and
returned.

It never breaks training: a missing setting, an unreachable server or a
refusal is reported as a ``SeasonsWarning`` and ``None`` is returned. Only the
standard library is used, so the helper adds nothing to a training
environment beyond this package.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

ENV_URL = "SEASONS_URL"
ENV_TOKEN = "SEASONS_TOKEN"
API_PREFIX = "/api/v1"


class SeasonsWarning(UserWarning):
    """Linking the run did not work; training goes on."""


class _Failed(Exception):
    """Internal: stop linking with this message for the warning."""


def link_run(
    run: Any = None,
    *,
    project: str | int,
    label: str | None = None,
    url: str | None = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> str | None:
    """Link ``run`` (default: ``wandb.run``) to ``project``; return the project's page URL.

    ``label`` names the run on the page; ``url`` and ``token`` override
    SEASONS_URL and SEASONS_TOKEN. Returns None (with a warning) when anything
    goes wrong.
    """
    try:
        base = (url or os.environ.get(ENV_URL) or "").strip().rstrip("/")
        secret = (token or os.environ.get(ENV_TOKEN) or "").strip()
        if not base:
            raise _Failed(
                f"set {ENV_URL} to your Seasons address, e.g. https://seasons.example.org"
            )
        if not secret:
            raise _Failed(f"set {ENV_TOKEN} to a write token from Settings → API tokens")
        api = _Api(base, secret, timeout)
        ref = run_path(run)
        found = api.find_project(project)
        body: dict[str, Any] = {"ref": ref}
        if label:
            body["label"] = label
        api.request("POST", f"/projects/{found['id']}/runs", body)
        page = found.get("public_url") or found.get("url") or base
        note = "" if found.get("public_url") else " (a draft: publish it to share this page)"
        print(f"Seasons: linked W&B run {ref} to “{found.get('title')}”: {page}{note}")
        return page
    except _Failed as exc:
        _warn(f"Seasons: the run was not linked: {str(exc).rstrip('.')}.")
    except Exception as exc:  # never let a portfolio link stop a training run
        _warn(f"Seasons: the run was not linked ({type(exc).__name__}: {exc}).")
    return None


def run_path(run: Any = None) -> str:
    """``entity/project/run_id`` of a wandb Run (``wandb.run`` when not given)."""
    if run is None:
        try:
            import wandb
        except ImportError:
            raise _Failed("pass the run: link_run(run, project=...)") from None
        run = wandb.run
        if run is None:
            raise _Failed("call wandb.init() first, or pass the run")
    parts = [str(getattr(run, name, "") or "").strip() for name in ("entity", "project", "id")]
    if not parts[0]:
        raise _Failed(
            "the W&B run has no entity (offline runs need wandb.init(entity=...) or WANDB_ENTITY)"
        )
    if not all(parts):
        raise _Failed("that does not look like a W&B run (no project or id)")
    return "/".join(parts)


class _Api:
    """The few calls the helper needs, over urllib."""

    def __init__(self, base: str, token: str, timeout: float) -> None:
        self.base, self.token, self.timeout = base, token, timeout

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + API_PREFIX + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "User-Agent": "seasons-client",
                **({"Content-Type": "application/json"} if data is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise _Failed(f"Seasons answered {exc.code}: {_detail(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Failed(f"could not reach Seasons at {self.base} ({reason})") from None

    def find_project(self, project: str | int) -> dict[str, Any]:
        """Your project by id, slug, or "handle/slug"."""
        if isinstance(project, int) and not isinstance(project, bool):
            return self.request("GET", f"/projects/{project}")
        text = str(project).strip().strip("/")
        owner, _, slug = text.rpartition("/")
        query = urllib.parse.urlencode({"slug": slug, "limit": 100})
        items = self.request("GET", f"/projects?{query}")["items"]
        if owner:
            items = [p for p in items if p.get("owner") == owner.lstrip("@")]
        if not items:
            raise _Failed(f"none of your projects has the address {text!r}")
        if len(items) > 1:
            choices = ", ".join(f"{p['owner']}/{p['slug']}" for p in items)
            raise _Failed(f"{text!r} matches several projects ({choices}); pass handle/slug")
        return items[0]


def _detail(exc: urllib.error.HTTPError) -> str:
    """The problem document's detail (and field messages), else the status phrase."""
    try:
        problem = json.loads(exc.read())
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors") or [])
        return problem["detail"] + (f" ({fields})" if fields else "")
    except Exception:
        return str(exc.reason)


def _warn(message: str) -> None:
    """Warn; if warnings are turned into errors (-W error), print instead of raising."""
    try:
        warnings.warn(message, SeasonsWarning, stacklevel=3)
    except Warning:
        print(message, file=sys.stderr)
