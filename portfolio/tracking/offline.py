"""Read runs trained with ``WANDB_MODE=offline`` from their ``run-<id>.wandb`` file.

wandb 0.31 writes only ``offline-run-*/run-<id>.wandb`` (no config.yaml, no
wandb-summary.json), and its supported reader is ``wandb leet inspect``:

- ``--summary --json PATH`` prints one object (name, run_id, entity, project, state, tags,
  config, summary, start_time, last_write);
- ``--json PATH`` prints one record per line; history rows are
  ``{"type": "history", "history": {"item": {...}}}``, NaN/±inf as strings.

We run the ``wandb`` executable that sits next to ``sys.executable`` (the one matching the
installed package) as a subprocess, with no shell and a timeout, and stream its output, so
a big run is never held in memory. Its output is mapped onto the same ``RunData`` and
``(step, {metric: float})`` rows as the online provider (history items arrive already
flattened to "a.b" keys). Uploaded zips are unpacked by ``offline_zip.open_uploaded_run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import values
from .provider import HistoryRow, RunData, TrackingError, register

WANDB_MAGIC = b":W&B"


class OfflineImportError(TrackingError):
    """An offline run (or its upload) cannot be read; the message says why."""

    default_message = "That upload is not a W&B offline run we can read."


def wandb_executable() -> str:
    """Return the ``wandb`` CLI installed with this Python, or the one on PATH."""
    candidate = Path(sys.executable).with_name("wandb")
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which("wandb")
    if found:
        return found
    raise OfflineImportError("The wandb command-line tool is not installed on this server.")


def find_run_file(path: str | os.PathLike[str]) -> Path:
    """Return the single ``run-*.wandb`` file at ``path`` (a file, or up to 2 folders above)."""
    target = Path(path).resolve()  # absolute: a name starting with "-" is never an option
    if target.is_file():
        found = [target]
    elif target.is_dir():  # the run folder, its parent, or the wandb/ dir above that
        patterns = ("run-*.wandb", "*/run-*.wandb", "*/*/run-*.wandb")
        # resolve() merges wandb's "latest-run" symlink with the folder it points to
        found = sorted({p.resolve() for pat in patterns for p in target.glob(pat) if p.is_file()})
    else:
        raise OfflineImportError(f"There is no file or folder at {target}.")
    if len(found) != 1:
        raise OfflineImportError(
            f"A W&B offline run folder holds exactly one run-<id>.wandb file; found {len(found)}."
        )
    run_file = found[0]
    with run_file.open("rb") as fh:
        if fh.read(len(WANDB_MAGIC)) != WANDB_MAGIC:
            raise OfflineImportError(f"{run_file.name} is not a W&B run file.")
    return run_file


def _subprocess_env() -> dict[str, str]:
    # reading a local file needs no W&B key: keep server-wide secrets out of the child
    env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
    env.update(WANDB_ERROR_REPORTING="false", WANDB_SILENT="true", WANDB_MODE="offline")
    return env


def inspect_summary(
    run_file: Path, *, executable: str | None = None, timeout: float = 300.0
) -> dict[str, Any]:
    """Return ``wandb leet inspect --summary --json`` for a run file, as a dict."""
    command = [executable or wandb_executable(), "leet", "inspect", "--summary", "--json"]
    try:
        done = subprocess.run(
            [*command, str(run_file)],
            capture_output=True,
            timeout=timeout,
            env=_subprocess_env(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OfflineImportError("Reading the run file took too long.") from exc
    if done.returncode != 0:
        raise OfflineImportError(
            "wandb could not read this run file; it may be damaged.",
            detail=done.stderr.decode(errors="replace")[-2_000:],
        )
    try:
        info = json.loads(done.stdout)
    except ValueError as exc:
        raise OfflineImportError("wandb printed something unexpected.") from exc
    # leet reads any file: garbage comes back as an empty run in state "unknown"
    if not isinstance(info, dict) or not info.get("run_id"):
        raise OfflineImportError("That file holds no W&B run (it has no run id).")
    return info


def iter_history_items(
    run_file: Path, *, executable: str | None = None, timeout: float = 300.0
) -> Iterator[dict[str, Any]]:
    """Yield each history row (flat, "a.b" keys, NaN as "NaN") from ``leet inspect --json``."""
    command = [executable or wandb_executable(), "leet", "inspect", "--json", str(run_file)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            env=_subprocess_env(),
        )
        watchdog = threading.Timer(timeout, proc.kill)  # a hung reader must end
        watchdog.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                item = _history_item(line)
                if item is not None:
                    yield item
            code = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if code != 0:
            errors.seek(0)
            detail = errors.read()[-2_000:].decode(errors="replace")
            raise OfflineImportError(
                "wandb could not read this run file; it may be damaged, or reading it "
                "took too long.",
                detail=detail,
            )


@register("wandb-offline")
class OfflineProvider:
    """Read offline W&B runs; a reference is the path of a run file or run folder."""

    def __init__(self, *, executable: str | None = None, timeout: float = 300.0) -> None:
        self.executable = executable
        self.timeout = timeout

    def fetch_run(self, ref: str) -> RunData:
        """Read a run's metadata, config and summary, and which metrics it logged."""
        run_file = find_run_file(ref)
        info = inspect_summary(run_file, executable=self.executable, timeout=self.timeout)
        keys: set[str] = set()
        rows = 0
        for item in iter_history_items(run_file, executable=self.executable, timeout=self.timeout):
            rows += 1
            keys.update(k for k, v in item.items() if values.to_number(v) is not None)
        return run_data_from_summary(info, sorted(keys), rows)

    def list_runs(self, project_ref: str, *, tags: Sequence[str] = ()) -> list[RunData]:
        """Refuse: offline runs are imported one file at a time."""
        raise OfflineImportError("Offline runs are imported one run at a time, not by project.")

    def iter_history(self, ref: str, keys: Sequence[str] | None = None) -> Iterator[HistoryRow]:
        """Stream ``(step, {metric: float})`` rows from the run file."""
        wanted = None if keys is None else list(keys)
        run_file = find_run_file(ref)
        for item in iter_history_items(run_file, executable=self.executable, timeout=self.timeout):
            step = values.step_of(item)
            if step is None:
                continue
            metrics = values.history_values(item, wanted)
            if metrics:
                yield step, metrics


def run_data_from_summary(info: dict[str, Any], keys: Sequence[str], rows: int) -> RunData:
    """Map leet's summary object onto ``RunData``."""
    run_id = values.clean_text(info["run_id"], 200)
    entity = values.clean_text(info.get("entity") or "offline", 200)
    project = values.clean_text(info.get("project") or "uncategorized", 200)
    return RunData(
        provider="wandb-offline",
        path=f"{entity}/{project}/{run_id}",
        run_id=run_id,
        name=values.clean_text(info.get("name") or run_id),
        state=values.clean_text(info.get("state") or "unknown", 40),
        url=None,
        created_at=values.parse_time(info.get("start_time")),
        heartbeat_at=values.parse_time(info.get("last_write")),
        tags=values.clean_tags(info.get("tags")),
        summary=values.flatten_summary(info.get("summary")),
        config=values.flatten_config(info.get("config")),
        history_keys=values.metric_keys(keys),
        history_rows=rows,
        # a file cut short (an interrupted copy, a crash, a run still writing) has no exit record
        ended=info.get("exit_code") is not None,
    )


def _history_item(line: bytes) -> dict[str, Any] | None:
    """Return a history record's item, or None for other records and blank lines."""
    if b'"history"' not in line:
        return None  # cheap skip: most records are not history
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("type") != "history":
        return None
    history = record.get("history") or {}
    item = history.get("item")
    if not isinstance(item, dict):
        return None
    if "_step" not in item and isinstance(history.get("step"), dict):
        item["_step"] = history["step"].get("num")
    return item
