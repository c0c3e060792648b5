"""Run comparison: best run, diff-only hyperparameters, the summary line."""

from __future__ import annotations

from datetime import UTC, datetime

from portfolio.numbers import format_value
from portfolio.public.compare import RunRow, compare


def _row(key, *, acc, cfg, started=None, state="finished"):
    return RunRow(
        key=key,
        label=f"run {key}",
        state=state,
        url="",
        started_at=started or datetime(2027, 1, key, tzinfo=UTC),
        summary={"val/acc": acc, "train/loss": 0.1 * key, "_runtime": 12, "note": "text"},
        config=cfg,
    )


def test_best_run_and_diff_only_and_summary():
    rows = [
        _row(1, acc=0.81, cfg={"lr": 0.01, "layers": 2, "seed": 1}),
        _row(2, acc=0.93, cfg={"lr": 0.003, "layers": 4, "seed": 1}),
        _row(3, acc="NaN", cfg={"lr": 0.001, "layers": 4, "seed": 1}),
    ]
    c = compare(rows, headline="val/acc", goal="max")
    assert c.best_key == 2
    assert c.baseline_key == 1
    assert c.config_diff == ["layers", "lr"]
    assert c.config_all == ["layers", "lr", "seed"]
    assert c.metric_columns == ["train/loss"]
    assert c.summary_line == "layers 2 → 4, lr 0.01 → 0.003: val/acc 0.81 → 0.93"


def test_min_goal_and_missing_values_never_win():
    rows = [
        _row(1, acc=None, cfg={}),
        _row(2, acc=float("inf"), cfg={}),
        _row(3, acc=0.5, cfg={}),
        _row(4, acc=0.2, cfg={}),
    ]
    assert compare(rows, headline="val/acc", goal="min").best_key == 4
    assert compare(rows, headline="val/acc", goal="max").best_key == 3


def test_no_headline_or_single_run_has_no_summary():
    one = [_row(1, acc=0.8, cfg={"lr": 1})]
    assert compare(one, headline="val/acc", goal="max").summary_line == ""
    assert compare(one, headline="", goal="max").best_key is None


def test_format_value():
    assert format_value(0.123456) == "0.1235"
    assert format_value(float("nan")) == "NaN"
    assert format_value("Infinity") == "∞"
    assert format_value(None) == "–"
    assert format_value("<b>x</b>") == "<b>x</b>"  # escaping is the template's job
