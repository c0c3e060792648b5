"""Downsample metric series for charts: LTTB via tsdownsample, plus the points LTTB may drop.

``downsample(x, y, n_out)`` returns at most ``n_out`` points with x strictly increasing:

1. Points are ordered by x; for a repeated x the last value wins (a re-logged step).
2. Finite points go through ``tsdownsample.LTTBDownsampler`` (keeps the shape and peaks,
   unlike W&B's even sampling). LTTB always keeps the first and last finite points, but not
   necessarily the global min and max, so those are added back; to stay within the budget,
   for each added point the nearest LTTB-chosen neighbour that is not itself required is
   dropped. A learner's best epoch is therefore always on the chart.
3. NaN and ±inf are never fed to LTTB (its triangle areas would be NaN). They are kept as
   markers instead: the first point of each run of consecutive equal non-finite values
   (e.g. where a loss became NaN) and the series' last point when it is non-finite, within
   a tenth of the budget (at least 2, more when there are few finite points). The chart layer
   draws them as gaps or marks; ``Series.nonfinite`` counts all of them.

``SeriesAccumulator`` collects streamed ``(step, {metric: value})`` rows into ``array('d')``
buffers (16 bytes per point: 1,000,000 rows x 5 metrics is about 80 MB, with no per-row
Python objects kept), then hands zero-copy numpy views to ``downsample``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from tsdownsample import LTTBDownsampler

from portfolio.tracking.provider import HistoryRow
from portfolio.tracking.values import MAX_METRICS

DEFAULT_POINTS = 1_000
MIN_POINTS = 6  # first, last, min, max and two non-finite markers must fit


@dataclass(frozen=True)
class Series:
    """A downsampled metric: x (steps) strictly increasing, y may hold nan/±inf markers."""

    x: np.ndarray
    y: np.ndarray
    original_count: int
    nonfinite: int = 0

    def points(self) -> list[tuple[float, float]]:
        """Return ``(x, y)`` pairs, for storing as JSON-ish data."""
        return list(zip(self.x.tolist(), self.y.tolist(), strict=True))


def downsample(x: np.ndarray, y: np.ndarray, n_out: int = DEFAULT_POINTS) -> Series:
    """Reduce one series to at most ``n_out`` points (see the module docstring)."""
    if n_out < MIN_POINTS:
        raise ValueError(f"n_out must be at least {MIN_POINTS}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-d arrays of the same length")
    original = int(x.size)
    if not np.isfinite(x).all():
        raise ValueError("x (the step) must be finite")
    x, y = _sorted_unique(x, y)
    finite = np.isfinite(y)
    nonfinite_count = int(x.size - np.count_nonzero(finite))
    f_idx = np.flatnonzero(finite)
    n_idx = _nonfinite_markers(y, finite)
    n_budget = min(n_idx.size, max(2, n_out // 10, n_out - f_idx.size))
    n_keep = _spread(n_idx, n_budget)
    f_keep = f_idx[_select_finite(x[f_idx], y[f_idx], n_out - n_keep.size)]
    keep = np.union1d(f_keep, n_keep)
    return Series(x[keep], y[keep], original, nonfinite_count)


def _sorted_unique(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by x (stable) and keep the last value of each repeated x."""
    if x.size > 1 and not np.all(np.diff(x) > 0):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        last = np.append(np.diff(x) != 0, True)
        x, y = x[last], y[last]
    return x, y


def _nonfinite_markers(y: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Return the starts of runs of equal non-finite values, and the last point if non-finite."""
    idx = np.flatnonzero(~finite)
    if idx.size == 0:
        return idx
    kind = np.where(np.isnan(y[idx]), 0, np.sign(y[idx]))
    starts = np.ones(idx.size, dtype=bool)
    starts[1:] = (np.diff(idx) != 1) | (np.diff(kind) != 0)
    starts[-1] |= idx[-1] == y.size - 1
    return idx[starts]


def _spread(idx: np.ndarray, budget: int) -> np.ndarray:
    """Pick ``budget`` of ``idx`` evenly, always including the first and the last."""
    if budget <= 0:
        return idx[:0]
    if idx.size > budget:
        idx = idx[np.unique(np.linspace(0, idx.size - 1, budget).round().astype(np.int64))]
    return idx


def _select_finite(x: np.ndarray, y: np.ndarray, budget: int) -> np.ndarray:
    """Return indices of at most ``budget`` finite points: LTTB plus first/last/min/max."""
    if x.size <= budget:
        return np.arange(x.size)
    required = np.unique([0, x.size - 1, int(np.argmin(y)), int(np.argmax(y))])
    if budget <= required.size:
        return required[:budget]
    chosen = LTTBDownsampler().downsample(x, y, n_out=max(3, budget)).astype(np.int64)
    chosen = np.union1d(chosen, required)
    while chosen.size > budget:
        chosen = _drop_neighbour(chosen, required)
    return chosen


def _drop_neighbour(chosen: np.ndarray, required: np.ndarray) -> np.ndarray:
    """Drop the optional (LTTB-chosen) point nearest, by position, to a required point."""
    optional = ~np.isin(chosen, required)
    positions = np.flatnonzero(~optional)
    candidates = np.flatnonzero(optional)
    gaps = np.abs(candidates[:, None] - positions[None, :]).min(axis=1)
    return np.delete(chosen, candidates[int(np.argmin(gaps))])


class SeriesAccumulator:
    """Collect streamed history rows into compact per-metric float buffers."""

    def __init__(self, keys: Iterable[str] | None = None, *, max_metrics: int = MAX_METRICS):
        self._keys = None if keys is None else frozenset(keys)
        self._max = max_metrics
        self._x: dict[str, array] = {}
        self._y: dict[str, array] = {}
        self._append: dict[str, tuple[Any, Any]] = {}  # bound appends: this loop is hot
        self.rows = 0

    def add(self, step: float, metrics: Mapping[str, float]) -> None:
        """Append one row's values at ``step``."""
        self.rows += 1
        append = self._append
        for key, value in metrics.items():
            pair = append.get(key)
            if pair is None:
                pair = self._new_metric(key)
                if pair is None:
                    continue
            pair[0](step)
            pair[1](value)

    def _new_metric(self, key: str) -> tuple[Any, Any] | None:
        if (self._keys is not None and key not in self._keys) or len(self._x) >= self._max:
            return None
        self._x[key], self._y[key] = array("d"), array("d")
        self._append[key] = (self._x[key].append, self._y[key].append)
        return self._append[key]

    def extend(self, rows: Iterable[HistoryRow]) -> SeriesAccumulator:
        """Consume an iterator of ``(step, {metric: value})`` rows."""
        for step, metrics in rows:
            self.add(step, metrics)
        return self

    def arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Return ``{metric: (x, y)}`` as zero-copy views; add no rows while they live."""
        return {
            k: (np.frombuffer(self._x[k], dtype=np.float64), np.frombuffer(self._y[k]))
            for k in self._x
        }

    def downsample(self, n_out: int = DEFAULT_POINTS) -> dict[str, Series]:
        """Downsample every metric collected so far."""
        return {key: downsample(x, y, n_out) for key, (x, y) in self.arrays().items()}


def downsample_rows(
    rows: Iterable[HistoryRow], keys: Iterable[str] | None = None, n_out: int = DEFAULT_POINTS
) -> dict[str, Series]:
    """Stream rows into buffers and downsample each metric: the sync code's one call."""
    return SeriesAccumulator(keys).extend(rows).downsample(n_out)
