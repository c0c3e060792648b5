"""Log the MLflow test runs with the real ``mlflow`` client (run by .venv-mlflow's python).

Usage: make_mlflow_runs.py <tracking uri> [--only-baseline]; prints one JSON object naming
what was logged. Everything the tests check against is logged here, by MLflow itself, never faked.
"""

from __future__ import annotations

import json
import math
import sys

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

HUGE_TAG = "x" * 5_000  # MLflow accepts tag values up to 8,000 characters
MANY_POINTS = 3_500  # several pages at the tests' small page size


def main(uri: str, only_baseline: bool = False) -> dict:
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    exp_id = client.create_experiment("seasons-mlflow")
    out: dict = {"experiment_id": exp_id}

    with mlflow.start_run(experiment_id=exp_id, run_name="<b>baseline</b> run") as run:
        mlflow.log_params({"lr": "0.01", "batch": "32", "optimizer": "adam"})
        # MLflow refuses markup in keys (names are letters, digits and _-. :/), not in values
        mlflow.log_param("html value", "<script>alert('p')</script>")
        mlflow.set_tags({"portfolio": "yes", "note": "<i>first</i>", "huge": HUGE_TAG})
        stamp = 1_700_000_000_000
        curve = [Metric("loss", 1.0 / (s + 1), stamp + s, s) for s in range(300)]
        curve += [Metric("acc", s / 300, stamp + s, s) for s in range(300)]
        client.log_batch(run.info.run_id, metrics=curve)
        out["baseline"] = run.info.run_id
    if only_baseline:  # the basic-auth server: each request checks a password hash (slow)
        return out

    with mlflow.start_run(experiment_id=exp_id, run_name="nan run") as run:
        mlflow.log_params({"lr": "0.1", "batch": "32", "optimizer": "adam"})
        mlflow.set_tag("portfolio", "yes")
        for step, value in enumerate([1.0, math.nan, 0.5, math.inf, -math.inf, 0.25]):
            mlflow.log_metric("loss", value, step=step)
        out["nan"] = run.info.run_id

    with mlflow.start_run(experiment_id=exp_id, run_name="untagged") as run:
        mlflow.log_param("lr", "0.5")
        mlflow.log_metric("loss", 2.0, step=0)
        out["untagged"] = run.info.run_id

    with mlflow.start_run(experiment_id=exp_id, run_name="many points") as run:
        run_id = run.info.run_id
        stamp = 1_700_000_000_000
        points = [Metric("long", float(i % 97), stamp + i, i) for i in range(MANY_POINTS)]
        for start in range(0, len(points), 1_000):
            client.log_batch(run_id, metrics=points[start : start + 1_000])
        out["many"] = run_id
        out["many_points"] = MANY_POINTS

    with mlflow.start_run(experiment_id=exp_id, run_name="deleted") as run:
        mlflow.log_metric("loss", 1.0, step=0)
        out["deleted"] = run.info.run_id
    client.delete_run(out["deleted"])

    with mlflow.start_run(experiment_id=exp_id, run_name="deleted later") as run:
        mlflow.log_param("lr", "0.2")
        mlflow.log_metric("loss", 0.7, step=0)
        out["to_delete"] = run.info.run_id

    running = client.create_run(exp_id, run_name="still running", tags={"portfolio": "yes"})
    client.log_metric(running.info.run_id, "loss", 0.9, step=0)
    for key, value in {"lr": "0.05", "batch": "32", "optimizer": "sgd"}.items():
        client.log_param(running.info.run_id, key, value)
    out["running"] = running.info.run_id

    gone = client.create_experiment("deleted-experiment")
    client.delete_experiment(gone)
    out["deleted_experiment"] = gone
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], "--only-baseline" in sys.argv[2:])))
