"""Link an online W&B run, or upload an offline run folder, to a Seasons project.

``link_run`` on an offline run (``wandb.init(mode="offline")``) checks the project
and token at once, then uploads the run folder when the run finishes: it wraps
that run's ``finish`` (what ``wandb.finish()`` calls) and, for a script that never
calls it, an ``atexit`` hook finishes the run first. ``upload_run(run_dir)`` does
the upload by hand (e.g. for runs written earlier).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ._api import Api, SeasonsError, settings, warn

RUN_FILE = re.compile(r"run-[A-Za-z0-9_-]+\.wandb")
SETTLE_SECONDS = 1.0  # the writer may still be flushing right after finish()
SETTLE_LIMIT = 30.0
EXIT_WAIT = 10.0  # how long to wait for wandb to write the exit record after finish()


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

    Offline runs are uploaded when they finish. Returns None (with one
    ``SeasonsWarning``) when anything goes wrong; never raises.
    """
    try:
        api = Api(*settings(url, token), timeout)
        run = _the_run(run)
        found = api.find_project(project)
        page = found.get("public_url") or found.get("url") or api.base
        note = "" if found.get("public_url") else " (a draft: publish it to share this page)"
        if is_offline(run):
            _upload_when_finished(run, found, label, api)
            print(f"Seasons: offline run; it will be uploaded to “{found.get('title')}” "
                  f"when it finishes: {page}{note}")  # fmt: skip
            return page
        ref = run_path(run)
        body: dict[str, Any] = {"ref": ref}
        if label:
            body["label"] = label
        api.request("POST", f"/projects/{found['id']}/runs", body)
        print(f"Seasons: linked W&B run {ref} to “{found.get('title')}”: {page}{note}")
        return page
    except SeasonsError as exc:
        warn(f"Seasons: the run was not linked: {str(exc).rstrip('.')}.")
    except Exception as exc:  # never let a portfolio link stop a training run
        warn(f"Seasons: the run was not linked ({type(exc).__name__}: {exc}).")
    return None


def upload_run(
    run_dir: str | os.PathLike[str],
    *,
    project: str | int,
    label: str | None = None,
    url: str | None = None,
    token: str | None = None,
    timeout: float = 120.0,
) -> dict[str, Any] | None:
    """Zip an offline run folder and upload it; return the queued import (None on failure).

    The answer holds the import's ``id``, ``state`` and ``status_url``; the
    server imports the run in the background. A run file without an exit record
    (training interrupted) is still uploaded, with a ``SeasonsWarning``.
    """
    try:
        api = Api(*settings(url, token), timeout)
        job = push(api, api.find_project(project), run_dir, label=label)
        if job.get("incomplete"):
            warn(f"Seasons: {job['incomplete']}.")
        return job
    except SeasonsError as exc:
        warn(f"Seasons: the run was not uploaded: {str(exc).rstrip('.')}.")
    except Exception as exc:  # never let an upload stop a training script
        warn(f"Seasons: the run was not uploaded ({type(exc).__name__}: {exc}).")
    return None


def push(
    api: Api, project: dict[str, Any], run_dir: str | os.PathLike[str], *,
    label: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Upload one offline run folder to a found project (SeasonsError on failure)."""
    run_file = offline_run_file(Path(run_dir))
    ended = _wait_for_exit_record(run_file)
    with tempfile.TemporaryFile() as fh:
        zip_run(run_file, fh)
        fh.seek(0)
        query = {"filename": f"{run_file.parent.name}.zip", **({"label": label} if label else {})}
        path = f"/projects/{project['id']}/offline-runs?" + urlencode(query)
        job = api.request("POST", path, fh, content_type="application/zip") or {}
    if ended is False:
        job["incomplete"] = (
            f"{run_file.parent.name} has no exit record (training was interrupted, or wandb "
            "is still writing it); the site imports what it holds but keeps a run's more "
            "complete results"
        )
    return job


def exit_recorded(run_file: Path) -> bool | None:
    """Whether wandb's own reader finds the run's exit record; None when it cannot tell.

    Uses the ``wandb`` command of the training environment (``wandb leet inspect``),
    so the client itself still needs nothing but the standard library.
    """
    beside = Path(sys.executable).with_name("wandb")
    command = str(beside) if beside.is_file() else shutil.which("wandb")
    if not command:
        return None
    env = {**os.environ, "WANDB_SILENT": "true", "WANDB_ERROR_REPORTING": "false"}
    argv = [command, "leet", "inspect", "--summary", "--json", str(run_file.resolve())]
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL, check=False
        )
        info = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None  # an older wandb without leet, or no wandb at all
    return info.get("exit_code") is not None if isinstance(info, dict) else None


def _wait_for_exit_record(run_file: Path) -> bool | None:
    """Give wandb a few seconds to write the exit record (it may still flush after finish)."""
    deadline = time.monotonic() + EXIT_WAIT
    ended = exit_recorded(run_file)
    while ended is False and time.monotonic() < deadline:
        time.sleep(SETTLE_SECONDS)
        ended = exit_recorded(run_file)
    return ended


def offline_run_file(run_dir: Path) -> Path:
    """The folder's one ``run-<id>.wandb`` file, once it has stopped growing."""
    if not run_dir.is_dir():
        raise SeasonsError(f"{run_dir} is not a folder")
    found = [p for p in run_dir.iterdir() if p.is_file() and RUN_FILE.fullmatch(p.name)]
    if len(found) != 1:
        raise SeasonsError(
            f"{run_dir} is not a W&B offline run folder (it must hold one run-<id>.wandb "
            f"file; it holds {len(found)})"
        )
    _wait_until_settled(found[0])
    return found[0]


def zip_run(run_file: Path, out: Any) -> int:
    """Write a zip holding the run file under its folder's name; return its size."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(run_file, f"{run_file.parent.name}/{run_file.name}")
    return out.tell()


def _wait_until_settled(path: Path) -> None:
    """Wait for the file to stop growing: wandb may still flush after finish() returns."""
    deadline = time.monotonic() + SETTLE_LIMIT
    size = -1
    while time.monotonic() < deadline:
        now = path.stat().st_size
        if now == size:
            return
        size = now
        time.sleep(SETTLE_SECONDS if size else 0.2)


def is_offline(run: Any) -> bool:
    """Whether wandb writes this run to disk only (``mode="offline"``)."""
    run_settings = getattr(run, "settings", None)
    if run_settings is None:
        return False
    mode = getattr(run_settings, "mode", "")
    return bool(getattr(run_settings, "_offline", False)) or mode in ("offline", "dryrun")


def _run_dir(run: Any) -> Path:
    """The offline-run folder wandb writes (``.../wandb/offline-run-...``)."""
    sync_dir = getattr(getattr(run, "settings", None), "sync_dir", None)
    if sync_dir:
        return Path(sync_dir)
    return Path(run.dir).parent


def _upload_when_finished(run: Any, project: dict[str, Any], label: str | None, api: Api):
    """Upload the run folder right after the run finishes (once)."""
    original = run.finish
    state = {"done": False}
    upload_api = Api(api.base, api.token, max(api.timeout, 120.0))

    def upload() -> None:
        if state["done"]:
            return
        state["done"] = True
        try:
            job = push(upload_api, project, _run_dir(run), label=label)
            print(f"Seasons: uploaded the offline run; importing it now: {job.get('status_url')}")
            if job.get("incomplete"):
                warn(f"Seasons: {job['incomplete']}.")
        except SeasonsError as exc:
            warn(f"Seasons: the run was not uploaded: {str(exc).rstrip('.')}.")
        except Exception as exc:  # never let an upload stop a training script
            warn(f"Seasons: the run was not uploaded ({type(exc).__name__}: {exc}).")

    def finish(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        upload()
        return result

    def at_exit() -> None:
        if not state["done"]:
            finish()

    run.finish = finish
    atexit.register(at_exit)


def _the_run(run: Any) -> Any:
    if run is not None:
        return run
    try:
        import wandb
    except ImportError:
        raise SeasonsError("pass the run: link_run(run, project=...)") from None
    if wandb.run is None:
        raise SeasonsError("call wandb.init() first, or pass the run")
    return wandb.run


def run_path(run: Any = None) -> str:
    """``entity/project/run_id`` of a wandb Run (``wandb.run`` when not given)."""
    run = _the_run(run)
    parts = [str(getattr(run, name, "") or "").strip() for name in ("entity", "project", "id")]
    if not parts[0]:
        raise SeasonsError(
            "the W&B run has no entity (pass wandb.init(entity=...) or set WANDB_ENTITY)"
        )
    if not all(parts):
        raise SeasonsError("that does not look like a W&B run (no project or id)")
    return "/".join(parts)
