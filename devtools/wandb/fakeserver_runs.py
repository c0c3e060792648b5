"""Runs for the fake W&B server (a TEST AND DEV TOOL): demo data and offline-run replays."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from devtools.wandb.fakeserver import FakeRun, FakeWandb


def revive_non_finite(value: Any) -> Any:
    """Turn W&B's "NaN"/"Infinity"/"-Infinity" strings back into floats, deeply."""
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(value, value)
    if isinstance(value, dict):
        return {k: revive_non_finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive_non_finite(v) for v in value]
    return value


def fake_run_from_offline(path: str | Path, *, entity: str | None = None) -> FakeRun:
    """Build a FakeRun from an offline run file, read with ``wandb leet inspect``."""
    from portfolio.tracking.offline import find_run_file, inspect_summary, iter_history_items

    run_file = find_run_file(path)
    info = inspect_summary(run_file)
    return FakeRun(
        entity=entity or info.get("entity") or "offline",
        project=info.get("project") or "uncategorized",
        run_id=info["run_id"],
        display_name=info.get("name") or "",
        state=info.get("state") or "finished",
        tags=list(info.get("tags") or []),
        config=revive_non_finite(info.get("config") or {}),
        summary=revive_non_finite(info.get("summary") or {}),
        history=[revive_non_finite(item) for item in iter_history_items(run_file)],
        created_at=info.get("start_time") or "",
        heartbeat_at=info.get("last_write") or "",
    )


def seed_demo(fake: FakeWandb, entity: str = "demo-learner", project: str = "mnist") -> None:
    """Add two demo runs (one tagged "portfolio") for a dev server."""
    steps = range(2_000)
    history = [
        {
            "_step": i,
            "loss": 2.3 * math.exp(-i / 400) + (0.8 if i == 1_234 else 0.0),
            "accuracy": 1 - 0.9 * math.exp(-i / 300),
        }
        for i in steps
    ]
    config = {"lr": 0.001, "batch_size": 64, "optimizer": {"name": "adam", "betas": [0.9, 0.999]}}
    summary = {"loss": history[-1]["loss"], "accuracy": history[-1]["accuracy"]}
    fake.add_run(
        FakeRun(
            entity=entity,
            project=project,
            run_id="demo0001",
            display_name="baseline CNN",
            tags=["portfolio"],
            config=config,
            summary=summary,
            history=history,
        )
    )
    fake.add_run(FakeRun(entity, project, "demo0002", display_name="scratch run", state="running"))
