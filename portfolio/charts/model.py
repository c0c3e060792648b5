"""Plain chart inputs: series, options, label cleaning and smoothing.

Everything here is database-free; the tracking service maps snapshots onto
`ChartSeries` and the learner's chart settings onto `ChartOptions`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

STEP = "_step"
MAX_SMOOTHING = 0.99
# Run names and metric keys arrive from W&B and may be 10,000 characters long.
# Legends, tooltips and tables show at most this many.
MAX_LABEL_CHARS = 80

# C0/C1 controls are not allowed in XML text; lone surrogates cannot be encoded;
# bidi overrides can make a label render as something else (Trojan Source).
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]"
)
_SPACES = re.compile(r"\s+")

Number = float | int | None


@dataclass(frozen=True)
class ChartSeries:
    """One metric of one run.

    `run` and `metric` are untrusted strings from the tracking provider; they
    are only ever used as data values, never as field names or in expressions.
    `xs` and `ys` may hold NaN, ±inf or None. A point whose x is not finite is
    dropped; one whose y is not finite is a gap: the line breaks there (it is
    never joined across) and the data table counts it.
    `run_id` is the stable id that `ChartOptions.runs` selects by (defaults
    to the label); `x_label` names the x values when they are not steps.
    """

    run: str
    metric: str
    xs: Sequence[Number]
    ys: Sequence[Number]
    x_label: str | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        if len(self.xs) != len(self.ys):
            raise ValueError(f"xs and ys differ in length ({len(self.xs)} != {len(self.ys)})")

    @property
    def key(self) -> str:
        """Return the id that `ChartOptions.runs` matches."""
        return self.run if self.run_id is None else self.run_id

    def points_with_gaps(self) -> tuple[list[float], list[float | None]]:
        """Return the points with a finite x; y is None where it was NaN, ±inf or missing."""
        xs: list[float] = []
        ys: list[float | None] = []
        for x, y in zip(self.xs, self.ys, strict=True):
            fx = _to_float(x)
            if fx is not None:
                xs.append(fx)
                ys.append(_to_float(y))
        return xs, ys

    def gaps(self) -> int:
        """Return how many points have a finite x but no finite y (drawn as gaps)."""
        return sum(1 for y in self.points_with_gaps()[1] if y is None)

    def finite_points(self) -> tuple[list[float], list[float]]:
        """Return the points whose x and y are both finite numbers."""
        xs: list[float] = []
        ys: list[float] = []
        for x, y in zip(self.xs, self.ys, strict=True):
            fx, fy = _to_float(x), _to_float(y)
            if fx is not None and fy is not None:
                xs.append(fx)
                ys.append(fy)
        return xs, ys


@dataclass(frozen=True)
class ChartOptions:
    """What the learner picked for one chart.

    metrics: metric keys to draw, in order; empty means every metric given.
    x_axis: "_step" or the name of a logged metric such as "epoch".
    smoothing: EMA weight in [0, 0.99]; 0 draws the raw line only.
    log_y: logarithmic y scale (points with y <= 0 are dropped).
    runs: run ids to show; None shows every run given.
    """

    metrics: tuple[str, ...] = ()
    x_axis: str = STEP
    smoothing: float = 0.0
    log_y: bool = False
    runs: frozenset[str] | None = None

    def __post_init__(self) -> None:
        # Accept lists and sets from forms and JSON, store hashable values.
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if self.runs is not None:
            object.__setattr__(self, "runs", frozenset(self.runs))
        weight = float(self.smoothing)
        if not (0.0 <= weight <= MAX_SMOOTHING):
            raise ValueError(f"smoothing must be between 0 and {MAX_SMOOTHING}, got {weight!r}")
        object.__setattr__(self, "smoothing", weight)
        if not isinstance(self.x_axis, str) or not self.x_axis:
            raise ValueError("x_axis must be '_step' or a metric name")

    def chosen_runs(self, series: Iterable[ChartSeries]) -> list[ChartSeries]:
        """Keep the series of the chosen runs, whatever their metric."""
        return [s for s in series if self.runs is None or s.key in self.runs]

    def run_labels(self, series: Iterable[ChartSeries]) -> dict[str, str]:
        """Map each chosen run's id to its legend label, in the order of `series`.

        Labels and colours depend on the runs only, not on the metrics, so the
        charts of one project agree when they are given the same series list.
        """
        chosen = self.chosen_runs(series)
        return unique_labels([s.key for s in chosen], [s.run for s in chosen])

    def select(self, series: Iterable[ChartSeries]) -> list[ChartSeries]:
        """Keep the drawable series of the chosen runs and metrics, metrics in chosen order.

        A series without one finite point is left out: it would add a legend
        entry (or a thumbnail) with nothing drawn.
        """
        chosen = [s for s in self.chosen_runs(series) if s.finite_points()[0]]
        if not self.metrics:
            return chosen
        order = {m: i for i, m in enumerate(self.metrics)}
        picked = [s for s in chosen if s.metric in order]
        return sorted(picked, key=lambda s: order[s.metric])  # stable: run order kept


def unique_labels(keys: Sequence[str], names: Sequence[str]) -> dict[str, str]:
    """Map each key to a clean label, numbering repeats so two runs never share a colour."""
    labels: dict[str, str] = {}
    used: set[str] = set()
    for key, name in zip(keys, names, strict=True):
        if key in labels:
            continue
        label = base = clean_label(name)
        n = 1
        while label in used:
            n += 1
            suffix = f" ({n})"
            label = clean_label(base, limit=MAX_LABEL_CHARS - len(suffix)) + suffix
        used.add(label)
        labels[key] = label
    return labels


# Logged alongside metrics but never worth a chart of their own.
_NOT_METRICS = frozenset(
    {"_step", "_runtime", "_timestamp", "_wandb", "epoch", "step", "global_step"}
)
_LIKELY = re.compile(r"loss|acc|f1|auc|error|err\b|map\b|iou|bleu|rouge|perplexity|ppl", re.I)


def default_metric(metric_keys: Sequence[str], headline: str = "") -> str | None:
    """Pick the metric a project charts when nothing is configured.

    The headline metric when it has a series (a summary-only headline such
    as best_val_acc has none), else the first loss/accuracy-like metric, else
    the first other metric; never a counter such as `epoch`, `_step` or
    `_runtime`, and None when only counters were logged.
    """
    keys = [k for k in metric_keys if k.lower() not in _NOT_METRICS and not k.startswith("_")]
    if headline and headline in keys:
        return headline
    return next((k for k in keys if _LIKELY.search(k)), keys[0] if keys else None)


def x_axis_title(selected: Sequence[ChartSeries], options: ChartOptions) -> str:
    """Return the x-axis title: "Step", or the name of the metric on the x axis."""
    if options.x_axis == STEP:
        return "Step"
    named = next((s.x_label for s in selected if s.x_label), None)
    return clean_label(named or options.x_axis)


def _to_float(value: Number) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def clean_label(text: object, *, limit: int = MAX_LABEL_CHARS, empty: str = "(unnamed)") -> str:
    """Return `text` fit for a legend: no control characters, one line, at most `limit` chars.

    This is not HTML escaping (the SVG renderer and Jinja do that); it removes
    what no renderer can show safely and keeps labels short.
    """
    label = _SPACES.sub(" ", _UNSAFE_CHARS.sub("", str(text))).strip()
    if len(label) > limit:
        label = label[: limit - 1].rstrip() + "…"
    return label or empty


def ema(values: Sequence[float], weight: float) -> list[float]:
    """Smooth `values` with the debiased exponential moving average of TensorBoard and W&B.

    This is W&B's "Exponential moving average (EMA)" smoothing, which W&B
    documents as identical to TensorBoard's scalar smoothing::

        last_0 = 0
        last_t = weight * last_{t-1} + (1 - weight) * y_t
        smoothed_t = last_t / (1 - weight ** t)      # debias: no pull toward 0

    where t counts finite points only: a non-finite value is passed through and
    leaves the state alone. As in TensorBoard, a constant series is returned
    unchanged. (W&B's newer default, "time weighted EMA", also scales the
    weight by the x spacing with an unpublished viewport constant, so it cannot
    be reproduced exactly; this one can.)
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"weight must be in [0, 1), got {weight!r}")
    out = list(values)
    if weight == 0.0 or not out or all(v == out[0] for v in out):
        return out
    last = 0.0
    count = 0
    for i, value in enumerate(out):
        if not math.isfinite(value):
            continue
        last = last * weight + (1.0 - weight) * value
        count += 1
        out[i] = last / (1.0 - weight**count)
    return out
