"""Train the demo portfolio's models and record them as real W&B offline runs.

Run by `flask --app app demo` (once; the runs are kept in the instance
folder) or by hand: `python content/demo/train_runs.py OUT_DIR`. Small numpy
models on data this script generates, so it needs no network and no
download; `WANDB_MODE=offline` makes wandb write ordinary offline run folders,
which the demo then imports through the same path a learner's upload takes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

# (project key, run name, config) — one entry per run.
RUNS = [
    ("housing", "baseline-linear", {"model": "linear", "lr": 0.05, "l2": 0.0, "epochs": 60}),
    ("housing", "ridge-l2", {"model": "linear", "lr": 0.05, "l2": 0.1, "epochs": 60}),
    ("housing", "mlp-16", {"model": "mlp", "lr": 0.02, "l2": 0.01, "epochs": 60, "hidden": 16}),
    ("tickets", "bow-logreg", {"model": "logreg", "lr": 0.5, "vocab": 200, "epochs": 40}),
    ("tickets", "bow-logreg-bigrams", {"model": "logreg", "lr": 0.5, "vocab": 400, "epochs": 40}),
    ("tickets", "bow-logreg-tuned", {"model": "logreg", "lr": 0.2, "vocab": 400, "epochs": 40}),
    ("parcels", "seasonal-naive", {"model": "naive", "window": 7, "epochs": 30}),
    ("parcels", "ar-14", {"model": "ar", "window": 14, "lr": 0.01, "epochs": 30}),
]


def housing_data(rng: np.random.Generator):
    """Neighbourhoods: features → change in median income after adding affordable units."""
    n = 600
    units = rng.uniform(0, 200, n)
    share_renters = rng.uniform(0.2, 0.8, n)
    baseline_income = rng.normal(52, 9, n)
    transit = rng.uniform(0, 1, n)
    x = np.column_stack([units / 200, share_renters, (baseline_income - 52) / 9, transit])
    y = (
        -0.04 * units * share_renters
        + 1.5 * transit
        - 0.002 * units * transit
        + rng.normal(0, 0.8, n)
    )
    return x, y


def train_regression(cfg, rng, log):
    x, y = housing_data(rng)
    split = 480
    xt, yt, xv, yv = x[:split], y[:split], x[split:], y[split:]
    hidden = cfg.get("hidden")
    if hidden:
        w1 = rng.normal(0, 0.5, (x.shape[1], hidden))
        w2 = rng.normal(0, 0.5, hidden)
    else:
        w = np.zeros(x.shape[1])
    b = 0.0
    for epoch in range(cfg["epochs"]):
        if hidden:
            h = np.tanh(xt @ w1)
            pred = h @ w2 + b
            err = pred - yt
            g2 = h.T @ err / len(yt) + cfg["l2"] * w2
            gh = np.outer(err, w2) * (1 - h**2)
            g1 = xt.T @ gh / len(yt) + cfg["l2"] * w1
            w1 -= cfg["lr"] * 20 * g1
            w2 -= cfg["lr"] * 20 * g2
            val = np.tanh(xv @ w1) @ w2 + b
        else:
            pred = xt @ w + b
            err = pred - yt
            w -= cfg["lr"] * 20 * (xt.T @ err / len(yt) + cfg["l2"] * w)
            val = xv @ w + b
        b -= cfg["lr"] * 20 * err.mean()
        val_mse = float(np.mean((val - yv) ** 2))
        r2 = 1 - val_mse / float(np.var(yv))
        log(
            {
                "epoch": epoch,
                "train/loss": float(np.mean(err**2)),
                "val/loss": val_mse,
                "val/r2": r2,
            }
        )


def train_classifier(cfg, rng, log):
    vocab, classes, n = cfg["vocab"], 3, 900
    # Overlapping topics, short tickets and 8% mislabelled: hard enough to learn slowly.
    shared = rng.dirichlet(np.ones(vocab) * 0.3)
    topic = 0.7 * shared + 0.3 * rng.dirichlet(np.ones(vocab) * 0.3, classes)
    labels = rng.integers(0, classes, n)
    x = np.array([rng.multinomial(12, topic[c]) for c in labels], dtype=float)
    noisy = rng.random(n) < 0.08
    labels = np.where(noisy, rng.integers(0, classes, n), labels)
    x = x / x.sum(1, keepdims=True)
    xt, yt, xv, yv = x[:700], labels[:700], x[700:], labels[700:]
    w = np.zeros((vocab, classes))
    for epoch in range(cfg["epochs"]):
        logits = xt @ w * 10
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        onehot = np.eye(classes)[yt]
        w -= cfg["lr"] * 10 * xt.T @ (p - onehot) / len(yt)
        loss = float(-np.mean(np.log(p[np.arange(len(yt)), yt] + 1e-9)))
        acc = float(np.mean((xv @ w).argmax(1) == yv))
        log({"epoch": epoch, "train/loss": loss, "val/acc": acc})


def train_forecaster(cfg, rng, log):
    days = np.arange(400)
    series = 1000 + 200 * np.sin(2 * np.pi * days / 7) + 0.5 * days + rng.normal(0, 40, len(days))
    window = cfg["window"]
    for epoch in range(cfg["epochs"]):
        if cfg["model"] == "naive":
            pred = series[300 - 7 : 400 - 7]
        else:
            shrink = min(1.0, (epoch + 1) * cfg["lr"] * 4)
            pred = (1 - shrink) * series[300 - 7 : 400 - 7] + shrink * (
                np.convolve(series, np.ones(window) / window, "same")[300:400]
                + 200 * np.sin(2 * np.pi * days[300:400] / 7) * 0.9
            )
        mape = float(np.mean(np.abs(pred - series[300:400]) / series[300:400]))
        log({"epoch": epoch, "val/mape": mape})


TRAINERS = {"housing": train_regression, "tickets": train_classifier, "parcels": train_forecaster}
PROJECTS = {"housing": "housing-sim", "tickets": "ticket-router", "parcels": "parcel-forecast"}


def main(out_dir: Path) -> dict[str, list[str]]:
    """Write one offline run per RUNS entry under out_dir; return {project key: [run dirs]}."""
    os.environ["WANDB_MODE"] = "offline"
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ["WANDB_DIR"] = str(out_dir)
    os.environ.setdefault("WANDB_CACHE_DIR", str(out_dir / ".cache"))
    os.environ.setdefault("WANDB_CONFIG_DIR", str(out_dir / ".config"))
    os.environ["WANDB_ERROR_REPORTING"] = "false"
    import wandb

    out_dir.mkdir(parents=True, exist_ok=True)
    made: dict[str, list[str]] = {}
    for seed, (key, name, cfg) in enumerate(RUNS):
        rng = np.random.default_rng(seed)
        run = wandb.init(
            mode="offline",
            dir=str(out_dir),
            project=PROJECTS[key],
            entity="maya-okafor",
            name=name,
            config=cfg,
            tags=["portfolio"],
            reinit="finish_previous",
        )
        TRAINERS[key](cfg, rng, run.log)
        run_dir = Path(run.dir).parent
        run.finish()
        made.setdefault(key, []).append(str(run_dir))
    (out_dir / "runs.json").write_text(json.dumps(made, indent=2))
    return made


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-runs")), indent=2))
