"""GraphQL answers for the fake W&B server (test/dev tool), in W&B's response shape.

Two NaN conventions, as W&B does: fields that hold JSON *strings* (config, summaryMetrics,
history lines) carry bare ``NaN``; fields typed as JSON (sampledHistory, liveData) must be
strict JSON, so non-finite floats travel there as the strings "NaN"/"Infinity"/"-Infinity".
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devtools.wandb.fakeserver import FakeRun, FakeWandb

RUN_OPERATIONS = frozenset(
    {
        "Run",
        "RunState",
        "RunSampledHistory",
        "RunFullHistory",
        "RunHistoryKeys",
        "RunParquetHistory",
        "HistoryPage",
        "SampledHistoryPage",
    }
)


def answer(
    fake: FakeWandb, operation: str, variables: dict[str, Any], *, query: str, run_null: bool
) -> dict[str, Any] | None:
    """Return the ``data`` object for an operation, or None when it is unknown."""
    if operation in ("Viewer", "GetViewer", "GetDefaultEntity"):
        return {"viewer": _viewer(fake.default_entity)}
    if operation == "ServerFeaturesQuery":
        return {"serverInfo": {"features": []}}
    if operation == "Runs":  # lazy listings ask for a LightweightRunFragment
        return _runs(fake, variables, full="...RunFragment" in query)
    if operation not in RUN_OPERATIONS:
        return None
    run_id = variables.get("name") or variables.get("run") or variables.get("runName") or ""
    run = None if run_null else fake.find_run(variables["entity"], variables["project"], run_id)
    if run is None:
        return {"project": {"run": None}}
    return {"project": {"run": _run_field(fake, run, operation, variables)}}


def _viewer(entity: str) -> dict[str, Any]:
    return {
        "id": "VXNlcjox",
        "name": entity,
        "username": entity,
        "email": f"{entity}@example.invalid",
        "admin": False,
        "flags": "{}",
        "entity": entity,
        "deletedAt": None,
        "teams": {"edges": []},
        "apiKeys": {"edges": []},
    }


def _lines(fake: FakeWandb, rows: list[dict[str, Any]]) -> list[str]:
    """Encode history rows as W&B's JSON-string lines (bare NaN unless asked otherwise)."""
    return [json.dumps(_strict([row])[0] if fake.nan_strings else row) for row in rows]


def _run_field(
    fake: FakeWandb, run: FakeRun, operation: str, variables: dict[str, Any]
) -> dict[str, Any]:
    if operation == "Run":
        return run_node(run, full=True)
    if operation == "RunState":
        return {"state": run.state}
    if operation == "RunHistoryKeys":
        return {"historyKeys": history_keys(run)}
    if operation == "RunFullHistory":
        rows = _sample(run.history, int(variables.get("samples") or 500))
        return {"history": _lines(fake, rows), "events": []}
    if operation == "RunSampledHistory":
        specs = [json.loads(spec) for spec in variables.get("specs") or []]
        return {"sampledHistory": [_sampled(run, spec, None, None) for spec in specs]}
    if operation == "RunParquetHistory":
        return {"parquetHistory": {"parquetUrls": [], "liveData": _strict(run.history)}}
    if operation == "HistoryPage":
        lo, hi = int(variables["minStep"]), int(variables["maxStep"])
        rows = [row for row in run.history if lo <= row.get("_step", 0) < hi]
        return {"history": _lines(fake, rows[: int(variables["pageSize"])])}
    spec = json.loads(variables["spec"])  # SampledHistoryPage: maxStep is inclusive
    return {"sampledHistory": [_sampled(run, spec, spec.get("minStep"), spec.get("maxStep"))]}


def run_node(run: FakeRun, *, full: bool) -> dict[str, Any]:
    """Return a run as the Run fragments ask for it."""
    node: dict[str, Any] = {
        "id": f"UnVuOnYx{run.run_id}",
        "projectId": "7",
        "tags": list(run.tags),
        "name": run.run_id,
        "displayName": run.display_name or run.run_id,
        "sweepName": None,
        "state": run.state,
        "group": None,
        "jobType": None,
        "commit": None,
        "readOnly": False,
        "createdAt": run.created_at,
        "heartbeatAt": run.heartbeat_at,
        "description": None,
        "notes": None,
        "historyLineCount": len(run.history),
        "user": {"name": run.entity, "username": run.entity},
    }
    if full:
        config = {k: {"desc": None, "value": v} for k, v in run.config.items()}
        config["_wandb"] = {"desc": None, "value": {"cli_version": "0.31.0", "m": []}}
        last = run.history[-1] if run.history else {}
        summary = {"_step": last.get("_step", 0), "_wandb": {"runtime": 3}, **run.summary}
        node.update(
            config=json.dumps(config),
            summaryMetrics=json.dumps(summary),
            systemMetrics="{}",
            historyKeys=history_keys(run),
        )
    return node


def history_keys(run: FakeRun) -> dict[str, Any]:
    """Return W&B's historyKeys object: per key the types seen, and the last step."""
    counts: dict[str, dict[str, int]] = {}
    for row in run.history:
        for key, value in row.items():
            kind = "number" if isinstance(value, int | float) else type(value).__name__
            counts.setdefault(key, {}).setdefault(kind, 0)
            counts[key][kind] += 1
    keys = {
        k: {"typeCounts": [{"type": t, "count": n} for t, n in c.items()]}
        for k, c in counts.items()
    }
    last = max((row.get("_step", 0) for row in run.history), default=-1)
    return {"keys": keys, "lastStep": last}


def _sampled(
    run: FakeRun, spec: dict[str, Any], lo: int | None, hi: int | None
) -> list[dict[str, Any]]:
    keys = list(spec.get("keys") or [])
    rows = [
        {k: row[k] for k in keys}
        for row in run.history
        if all(k in row for k in keys)
        and (lo is None or row.get("_step", 0) >= lo)
        and (hi is None or row.get("_step", 0) <= hi)
    ]
    return _strict(_sample(rows, int(spec.get("samples") or 500)))


def _sample(rows: list[dict[str, Any]], samples: int) -> list[dict[str, Any]]:
    """Pick at most ``samples`` rows evenly, as W&B's sampling does (it may miss peaks)."""
    if samples <= 0 or len(rows) <= samples:
        return list(rows)
    stride = len(rows) / samples
    return [rows[int(i * stride)] for i in range(samples)]


def _strict(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from devtools.wandb.fakeserver import strict_json

    return strict_json(rows)


def _runs(fake: FakeWandb, variables: dict[str, Any], *, full: bool) -> dict[str, Any]:
    filters = json.loads(variables.get("filters") or "{}")
    every = fake.project_runs(variables["entity"], variables["project"])
    if not every:
        return {"project": None}  # W&B answers null for a project it does not know
    runs = [r for r in every if matches(r, filters)]
    start = int(variables.get("cursor") or 0)
    per_page = int(variables.get("perPage") or 50)
    page = runs[start : start + per_page]
    edges = [
        {"node": run_node(r, full=full), "cursor": str(start + i + 1)} for i, r in enumerate(page)
    ]
    end = str(start + len(page))
    return {
        "project": {
            "internalId": "7",
            "runCount": len(runs),
            "readOnly": False,
            "runs": {
                "edges": edges,
                "pageInfo": {"endCursor": end, "hasNextPage": start + per_page < len(runs)},
            },
        }
    }


def matches(run: FakeRun, filters: dict[str, Any]) -> bool:
    """Evaluate the small Mongo-style filter subset wandb users send for runs."""
    for key, cond in filters.items():
        if key == "$and":
            if not all(matches(run, f) for f in cond):
                return False
            continue
        if key == "$or":
            if not any(matches(run, f) for f in cond):
                return False
            continue
        values = {
            "tags": list(run.tags),
            "state": [run.state],
            "name": [run.run_id],
            "displayName": [run.display_name],
        }.get(key, [])
        if isinstance(cond, dict):
            if "$in" in cond and not set(values) & set(cond["$in"]):
                return False
            if "$nin" in cond and set(values) & set(cond["$nin"]):
                return False
            if "$eq" in cond and cond["$eq"] not in values:
                return False
        elif cond not in values:
            return False
    return True
