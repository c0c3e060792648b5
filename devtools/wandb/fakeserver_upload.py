"""The writing side of the fake W&B server (a TEST AND DEV TOOL): what online ``wandb.init`` sends.

A training script in online mode talks to W&B through the ``wandb-core`` sidecar:

- the GraphQL mutation ``UpsertBucket`` creates or updates the run (name, display name,
  config as ``{key: {"value": v}}``, tags, and later the summary);
- ``POST /files/<entity>/<project>/<run id>/file_stream`` streams the run: history rows as
  JSON lines appended at an ``offset`` to ``wandb-history.jsonl``, the latest summary as
  ``wandb-summary.json``, console output, and at the end ``complete`` with the exit code;
- ``CreateRunFiles`` asks where to upload the run's files (config.yaml, requirements.txt,
  the metadata), which are then sent with ``PUT`` to the URLs it answers.

We keep only what the read side needs: a ``FakeRun`` whose history, summary, config, tags
and state come from what the client sent, so the app reads the run back through the
same public-API operations it uses in production (``fakeserver_ops``). Uploaded files
are counted, not kept. Exit code 0 finishes the run, any other code fails it, as W&B does.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devtools.wandb.fakeserver import FakeRun, FakeWandb

WRITE_OPERATIONS = frozenset({"UpsertBucket", "CreateRunFiles"})
FILE_STREAM_RE = re.compile(r"^/files/([^/]+)/([^/]+)/([^/]+)/file_stream/?$")
UPLOAD_PREFIX = "/fake-storage/"
HISTORY_FILE = "wandb-history.jsonl"
SUMMARY_FILE = "wandb-summary.json"


def write_answer(fake: FakeWandb, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Return the ``data`` object of a run-writing mutation."""
    if operation == "UpsertBucket":
        return {"upsertBucket": {"bucket": _upsert(fake, variables), "inserted": True}}
    return {"createRunFiles": _run_files(fake, variables)}


def _upsert(fake: FakeWandb, variables: dict[str, Any]) -> dict[str, Any]:
    from devtools.wandb.fakeserver import FakeRun

    entity = str(variables.get("entity") or fake.default_entity)
    project = str(variables.get("project") or "uncategorized")
    run_id = str(variables.get("name") or variables.get("id") or "")
    with fake.lock:
        run = fake.runs.get((entity, project, run_id))
        if run is None:
            run = FakeRun(entity=entity, project=project, run_id=run_id, state="running")
            fake.runs[(entity, project, run_id)] = run
        if variables.get("displayName"):
            run.display_name = str(variables["displayName"])
        if variables.get("tags") is not None:
            run.tags = [str(t) for t in variables["tags"]]
        if variables.get("config"):
            run.config.update(_unwrap_config(variables["config"]))
        if variables.get("summaryMetrics"):
            run.summary.update(_summary(variables["summaryMetrics"]))
        config = json.dumps({k: {"value": v} for k, v in run.config.items()}, allow_nan=True)
        history_lines = len(run.history)
    return {
        "id": f"UnVuOnYx{run_id}",
        "name": run_id,
        "displayName": run.display_name or run_id,
        "description": None,
        "config": config,
        "sweepName": None,
        "project": {"id": "7", "name": project, "entity": {"id": "1", "name": entity}},
        "historyLineCount": history_lines,
    }


def _unwrap_config(text: str) -> dict[str, Any]:
    """``{"lr": {"value": 0.1}, "_wandb": {...}}`` → ``{"lr": 0.1}`` (wandb's own key dropped)."""
    data = json.loads(text)
    out: dict[str, Any] = {}
    for key, item in (data if isinstance(data, dict) else {}).items():
        if key == "_wandb":
            continue
        out[key] = item.get("value") if isinstance(item, dict) and "value" in item else item
    return out


def _revive(value: Any) -> Any:
    from devtools.wandb.fakeserver_runs import revive_non_finite  # it imports fakeserver

    return revive_non_finite(value)


def _summary(text: str) -> dict[str, Any]:
    data = _revive(json.loads(text))
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _run_files(fake: FakeWandb, variables: dict[str, Any]) -> dict[str, Any]:
    files = [str(f) for f in variables.get("files") or []]
    base = fake.url
    run_id = str(variables.get("run") or variables.get("name") or "")
    return {
        "runID": f"UnVuOnYx{run_id}",
        "uploadHeaders": [],
        "files": [{"name": f, "uploadUrl": f"{base}{UPLOAD_PREFIX}{run_id}/{f}"} for f in files],
    }


def file_stream(fake: FakeWandb, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
    """Apply one file_stream request to its run; answer as W&B does."""
    match = FILE_STREAM_RE.match(path.split("?", 1)[0])
    if match is None:
        return 404, {"error": "not found"}
    entity, project, run_id = match.groups()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return 400, {"error": "invalid JSON"}
    with fake.lock:
        run = fake.runs.get((entity, project, run_id))
        if run is None:
            return 404, {"error": f"run {entity}/{project}/{run_id} not found"}
        files = body.get("files") or {}
        if HISTORY_FILE in files:
            _append_history(run, files[HISTORY_FILE])
        if SUMMARY_FILE in files:
            for line in files[SUMMARY_FILE].get("content") or []:
                run.summary = _summary(line)
        if body.get("complete"):
            run.state = "finished" if int(body.get("exitcode") or 0) == 0 else "failed"
        elif run.state not in ("finished", "failed", "crashed"):
            run.state = "running"
    return 200, {"exitcode": None, "limits": {}}


def _append_history(run: FakeRun, chunk: dict[str, Any]) -> None:
    """Write lines at their offset: a retried request repeats lines, it never duplicates them."""
    offset = int(chunk.get("offset") or 0)
    rows = [_revive(json.loads(line)) for line in chunk.get("content") or []]
    del run.history[offset:]
    run.history.extend(rows)
