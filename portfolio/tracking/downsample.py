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
Python objects kept), converting a chunk of rows per metric at a time, then hands
zero-copy numpy views to ``downsample``. A provider whose pages are per metric already
(MLflow) skips the rows: ``add_columns(metric, steps, values)`` appends whole float arrays,
so no per-point dict is built (see ``collect``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, islice, repeat
from typing import Any

import numpy as np
from tsdownsample import LTTBDownsampler

from .provider import HistoryRow
from .values import MAX_METRICS, MAX_TEXT, NON_FINITE

DEFAULT_POINTS = 1_000
CHUNK = 256  # rows converted at once: enough for numpy, few enough to stay in CPU caches
_PLAIN = frozenset({float, int})
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
    """Collect streamed history rows into compact per-metric float buffers, a chunk at a time.

    Rows arrive as ``(step, {metric: value})`` with values as the tracker sent them (the
    W&B provider passes its parsed rows through untouched): numbers are kept, W&B's
    "NaN"/"Infinity"/"-Infinity" strings become floats, anything else (booleans, text,
    media dicts, a missing key) is skipped, and ``_`` internals are never metrics. The
    work is columnar: ``CHUNK`` rows at a time, one list comprehension and one numpy
    conversion per metric, instead of a Python loop over every value of every row.
    """

    def __init__(self, keys: Iterable[str] | None = None, *, max_metrics: int = MAX_METRICS):
        self._keys = None if keys is None else frozenset(keys)
        self._max = max_metrics
        self._x: dict[str, array] = {}
        self._y: dict[str, array] = {}
        self._refused: set[str] = set()
        self.rows = 0

    def add(self, step: float, metrics: Mapping[str, Any]) -> None:
        """Append one row's values at ``step``."""
        self._add_chunk((step,), (metrics,))

    def extend(self, rows: Iterable[HistoryRow]) -> SeriesAccumulator:
        """Consume an iterator of ``(step, {metric: value})`` rows."""
        it = iter(rows)
        while chunk := list(islice(it, CHUNK)):
            steps, metrics = zip(*chunk, strict=True)
            self._add_chunk(steps, metrics)
        return self

    def _add_chunk(self, steps: Sequence[float], rows: Sequence[Mapping[str, Any]]) -> None:
        self.rows += len(rows)
        xs = np.array(steps, dtype=np.float64)
        plain = set(map(type, rows)) == {dict}  # parsed JSON: C-level dict.get reads a column
        keys = set().union(*rows)
        if keys - self._x.keys() - self._refused:  # new metrics: first seen, first kept
            keys = dict.fromkeys(chain.from_iterable(rows))  # type: ignore[assignment]
        for key in keys:
            if key in self._refused or (key not in self._x and not self._accepts(key)):
                continue
            if plain:
                column = list(map(dict.get, rows, repeat(key)))
            else:
                column = [row.get(key) for row in rows]
            x, y = _numbers(xs, column)
            if not y.size:
                continue
            if key not in self._x:
                if len(self._x) >= self._max:
                    self._refused.add(key)
                    continue
                self._x[key], self._y[key] = array("d"), array("d")
            self._x[key].frombytes(memoryview(x).cast("B"))  # numpy buffers are typed "d"
            self._y[key].frombytes(memoryview(y).cast("B"))

    def add_columns(self, key: str, steps: np.ndarray, values: np.ndarray) -> None:
        """Append one metric's float ``steps``/``values`` (already numbers, NaN/±inf kept).

        The same keys are kept or refused as for rows (first seen, first kept), so the
        columnar and the row path store the same series.
        """
        if key in self._refused or (key not in self._x and not self._accepts(key)):
            return
        y = np.ascontiguousarray(values, dtype=np.float64)
        if not y.size:
            return
        x = np.ascontiguousarray(steps, dtype=np.float64)
        if x.shape != y.shape:
            raise ValueError("steps and values must have the same length")
        if key not in self._x:
            if len(self._x) >= self._max:
                self._refused.add(key)
                return
            self._x[key], self._y[key] = array("d"), array("d")
        self._x[key].frombytes(memoryview(x).cast("B"))
        self._y[key].frombytes(memoryview(y).cast("B"))

    def _accepts(self, key: Any) -> bool:
        ok = isinstance(key, str) and (
            key in self._keys
            if self._keys is not None
            else (key[:1] != "_" and len(key) <= MAX_TEXT)
        )
        if not ok:
            self._refused.add(key)
        return ok

    def arrays(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Return ``{metric: (x, y)}`` as zero-copy views; add no rows while they live."""
        return {
            k: (np.frombuffer(self._x[k], dtype=np.float64), np.frombuffer(self._y[k]))
            for k in self._x
        }

    def downsample(self, n_out: int = DEFAULT_POINTS) -> dict[str, Series]:
        """Downsample every metric collected so far."""
        return {key: downsample(x, y, n_out) for key, (x, y) in self.arrays().items()}


def _numbers(xs: np.ndarray, column: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Return the steps and float values of a column's numbers (see SeriesAccumulator)."""
    kinds = set(map(type, column))
    if kinds <= _PLAIN:  # every row has a plain number: the common case, all in C
        try:
            return xs, np.array(column, dtype=np.float64)
        except OverflowError:  # an int beyond float range: sort it out below
            pass
    keep: list[int] = []
    found: list[float] = []
    for i, value in enumerate(column):
        kind = type(value)
        if kind is float or kind is int:
            try:
                number = float(value)
            except OverflowError:
                continue
        elif kind is str and value in NON_FINITE:
            number = NON_FINITE[value]
        else:
            continue
        keep.append(i)
        found.append(number)
    return xs[keep], np.array(found, dtype=np.float64)


def collect(provider: Any, ref: str, keys: Iterable[str] | None = None) -> SeriesAccumulator:
    """Fill an accumulator from a provider: its columns when it has them, else its rows.

    ``iter_history_columns(ref, keys)`` (optional) yields ``(metric, steps, values)`` float
    arrays; it must give the same numbers as ``iter_history`` (tests check both paths).
    """
    accumulator = SeriesAccumulator(keys)
    columns = getattr(provider, "iter_history_columns", None)
    if columns is None:
        return accumulator.extend(provider.iter_history(ref, None))
    for key, steps, values in columns(ref, None):
        accumulator.add_columns(key, steps, values)
    return accumulator


def downsample_rows(
    rows: Iterable[HistoryRow], keys: Iterable[str] | None = None, n_out: int = DEFAULT_POINTS
) -> dict[str, Series]:
    """Stream rows into buffers and downsample each metric: the sync code's one call."""
    return SeriesAccumulator(keys).extend(rows).downsample(n_out)
