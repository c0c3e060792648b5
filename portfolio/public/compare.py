"""Run comparison for the results section: best run, diff-only hyperparameters,
and a one-line summary of what changed between the baseline and the best run.

Pure functions over plain values so pages, feeds and the static export share
them. Values come from W&B and are untrusted: they are only ever returned as
text or numbers for templates to escape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..charts import distinguishing_digits
from ..numbers import as_number, format_value

# Summary keys W&B adds itself; they clutter a comparison.
_SYSTEM_PREFIXES = ("_", "system/", "system.")
MAX_METRIC_COLUMNS = 8


@dataclass(frozen=True)
class RunRow:
    """One visible run: what the comparison needs from its latest snapshot."""

    key: int
    label: str
    state: str
    url: str
    started_at: Any
    summary: dict[str, Any]
    config: dict[str, Any]
    source: str = ""  # the tracker, named for people ("W&B", "MLflow")


@dataclass
class Comparison:
    rows: list[RunRow]
    headline: str
    goal: str  # "min" or "max"
    best_key: int | None
    baseline_key: int | None
    metric_columns: list[str]
    config_all: list[str]
    config_diff: list[str]
    headline_values: dict[int, float | None] = field(default_factory=dict)
    summary_line: str = ""
    # Significant digits per metric column: enough to tell its values apart.
    digits: dict[str, int] = field(default_factory=dict)


def digits_for(values: Iterable[Any]) -> int:
    """Significant digits that tell a column's numbers apart (text and NaN ignored)."""
    return distinguishing_digits(as_number(v) for v in values)


def _metric_keys(rows: Sequence[RunRow], headline: str) -> list[str]:
    keys: dict[str, int] = {}
    for row in rows:
        for key, value in row.summary.items():
            if key == headline or key.startswith(_SYSTEM_PREFIXES):
                continue
            if as_number(value) is not None or value in ("NaN", "Infinity", "-Infinity"):
                keys[key] = keys.get(key, 0) + 1
    # Metrics most runs have first, then by name: a stable, useful order.
    return sorted(keys, key=lambda k: (-keys[k], k))[:MAX_METRIC_COLUMNS]


def compare(rows: Sequence[RunRow], *, headline: str, goal: str) -> Comparison:
    """Compare runs on the headline metric; missing or non-finite values never win."""
    rows = list(rows)
    values = {row.key: as_number(row.summary.get(headline)) if headline else None for row in rows}
    scored = [(v, row.key) for row in rows if (v := values[row.key]) is not None]
    best_key = None
    if scored:
        best_key = (min(scored) if goal == "min" else max(scored, key=lambda s: (s[0], -s[1])))[1]
    ordered = sorted(rows, key=lambda r: (r.started_at is None, r.started_at or 0, r.key))
    baseline_key = ordered[0].key if ordered else None
    config_all = sorted({k for row in rows for k in row.config})
    config_diff = [
        k for k in config_all if len({_freeze(row.config.get(k, _MISSING)) for row in rows}) > 1
    ]
    comparison = Comparison(
        rows=rows,
        headline=headline,
        goal=goal,
        best_key=best_key,
        baseline_key=baseline_key,
        metric_columns=_metric_keys(rows, headline),
        config_all=config_all,
        config_diff=config_diff,
        headline_values=values,
    )
    comparison.summary_line = summary_line(comparison)
    comparison.digits = {
        key: digits_for(row.summary.get(key) for row in rows)
        for key in [headline, *comparison.metric_columns]
        if key
    }
    return comparison


_MISSING = object()


def _freeze(value: Any) -> Any:
    if isinstance(value, dict | list):
        return repr(value)
    return value


def summary_line(c: Comparison, *, max_changes: int = 4) -> str:
    """e.g. "lr 0.01 → 0.003, layers 2 → 4: val/acc 0.81 → 0.93"."""
    if c.best_key is None or c.baseline_key is None or c.best_key == c.baseline_key:
        return ""
    best = next(r for r in c.rows if r.key == c.best_key)
    base = next(r for r in c.rows if r.key == c.baseline_key)
    changes = [
        f"{k} {format_value(base.config.get(k))} → {format_value(best.config.get(k))}"
        for k in c.config_diff
        if _freeze(base.config.get(k, _MISSING)) != _freeze(best.config.get(k, _MISSING))
    ]
    head = (
        f"{c.headline} {format_value(c.headline_values.get(base.key))} → "
        f"{format_value(c.headline_values.get(best.key))}"
    )
    if not changes:
        return f"Best run vs baseline: {head}"
    more = f" and {len(changes) - max_changes} more" if len(changes) > max_changes else ""
    return f"{', '.join(changes[:max_changes])}{more}: {head}"
