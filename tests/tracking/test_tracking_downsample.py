"""Downsampling properties: at most N points, ends and extremes kept, x increasing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio.tracking.downsample import SeriesAccumulator, downsample, downsample_rows

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
anything = st.one_of(finite, st.just(math.nan), st.just(math.inf), st.just(-math.inf))


@st.composite
def series(draw: st.DrawFn, values: st.SearchStrategy[float] = finite) -> tuple:
    """Draw steps (unsorted, maybe repeated) and values."""
    ys = draw(st.lists(values, min_size=1, max_size=3_000))
    steps = draw(
        st.one_of(
            st.just(list(range(len(ys)))),
            st.lists(st.integers(0, 10_000), min_size=len(ys), max_size=len(ys)),
        )
    )
    n_out = draw(st.integers(6, 400))
    return np.array(steps, dtype=float), np.array(ys, dtype=float), n_out


def _dedupe_last(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference meaning of "last value per step wins"."""
    last = {}
    for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
        last[xi] = yi
    xs = sorted(last)
    return np.array(xs), np.array([last[k] for k in xs])


@settings(max_examples=200, deadline=None)
@given(series())
def test_finite_series_properties(case: tuple) -> None:
    """≤ N points, x strictly increasing, first/last and global min/max kept."""
    x, y, n_out = case
    out = downsample(x, y, n_out)
    ux, uy = _dedupe_last(x, y)
    assert out.original_count == x.size
    assert out.x.size <= n_out
    assert np.all(np.diff(out.x) > 0)
    assert out.x[0] == ux[0] and out.x[-1] == ux[-1]
    assert out.y[0] == uy[0] and out.y[-1] == uy[-1]
    assert out.y.min() == uy.min() and out.y.max() == uy.max()
    assert set(zip(out.x.tolist(), out.y.tolist(), strict=True)) <= set(
        zip(ux.tolist(), uy.tolist(), strict=True)
    )
    if ux.size <= n_out:
        assert out.x.size == ux.size


@settings(max_examples=200, deadline=None)
@given(series(anything))
def test_non_finite_values_are_markers_not_lttb_input(case: tuple) -> None:
    """nan/±inf never break the budget or order; the finite extremes and ends stay."""
    x, y, n_out = case
    out = downsample(x, y, n_out)
    ux, uy = _dedupe_last(x, y)
    assert out.x.size <= n_out
    assert np.all(np.diff(out.x) > 0)
    assert out.nonfinite == int(np.count_nonzero(~np.isfinite(uy)))
    fin = np.isfinite(uy)
    if fin.any():
        got = out.y[np.isfinite(out.y)]
        assert got.min() == uy[fin].min() and got.max() == uy[fin].max()
        assert ux[fin][0] in out.x and ux[fin][-1] in out.x
    if (~fin).any():
        first_bad = ux[~fin][0]
        assert first_bad in out.x  # where the metric first became nan/inf is shown
        assert ux[-1] in out.x  # so is the series' last point, whatever its value


def test_lttb_keeps_a_spike_that_even_sampling_misses() -> None:
    """A one-step spike in 100,000 points survives (W&B's sampling would drop it)."""
    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 5_000)
    y[54_321] = 50.0
    out = downsample(x, y)
    assert out.x.size == 1_000
    assert 54_321.0 in out.x


def test_small_budget_and_bad_input() -> None:
    """The budget must fit the required points; x must be finite."""
    with pytest.raises(ValueError, match="at least 6"):
        downsample(np.arange(10.0), np.arange(10.0), 5)
    with pytest.raises(ValueError, match="finite"):
        downsample(np.array([0.0, np.nan]), np.array([1.0, 2.0]))
    empty = downsample(np.array([]), np.array([]))
    assert empty.x.size == 0 and empty.original_count == 0


def test_accumulator_streams_rows_into_compact_buffers() -> None:
    """Rows go into 16 bytes per point; metrics appear lazily; max_metrics caps them."""
    rows = (
        (i, {"loss": 1 / (i + 1), "acc": i % 7, "late": 1.0} if i > 5 else {"loss": 1.0})
        for i in range(200_000)
    )
    acc = SeriesAccumulator(max_metrics=2).extend(rows)
    arrays = acc.arrays()
    assert set(arrays) == {"loss", "acc"}
    x, y = arrays["loss"]
    assert x.size == 200_000 and x.nbytes + y.nbytes == 200_000 * 16
    result = acc.downsample(500)
    assert result["loss"].original_count == 200_000 and result["loss"].x.size == 500
    assert result["acc"].x[0] == 6.0


def test_downsample_rows_filters_keys() -> None:
    """Only the requested metrics are kept."""
    rows = [(i, {"a": float(i), "b": 2.0}) for i in range(10)]
    got = downsample_rows(rows, keys=["a"], n_out=6)
    assert list(got) == ["a"] and got["a"].points()[0] == (0.0, 0.0)


def test_accumulator_keeps_numbers_from_raw_rows() -> None:
    """Raw tracker rows: numbers and NaN strings kept; text, bools, media, internals not."""
    rows = [
        (0, {"_step": 0, "_runtime": 1.5, "loss": 1, "flag": True, "note": "hi"}),
        (1, {"_step": 1, "loss": "NaN", "media": {"_type": "image"}, "acc": "-Infinity"}),
        (2, {"_step": 2, "loss": 10**400, "acc": 0.5}),  # an int no float can hold
        (3, {"loss": 0.25, "note": "Infinity"}),
    ]
    got = {
        k: (x.tolist(), y.tolist())
        for k, (x, y) in SeriesAccumulator().extend(rows).arrays().items()
    }
    assert set(got) == {"loss", "acc", "note"}
    assert got["loss"][0] == [0.0, 1.0, 3.0] and got["loss"][1][0] == 1.0
    assert math.isnan(got["loss"][1][1]) and got["loss"][1][2] == 0.25
    assert got["acc"] == ([1.0, 2.0], [-math.inf, 0.5])
    assert got["note"] == ([3.0], [math.inf])


def test_accumulator_chunks_give_the_same_series_as_one_row_at_a_time() -> None:
    """Rows spanning several chunks, sparse metrics included, land in step order."""
    rows = [(i, {"a": float(i)} | ({"b": i * 2} if i % 3 == 0 else {})) for i in range(10_000)]
    chunked = SeriesAccumulator().extend(rows).arrays()
    single = SeriesAccumulator()
    for step, row in rows:
        single.add(step, row)
    for key in ("a", "b"):
        assert np.array_equal(chunked[key][0], single.arrays()[key][0])
        assert np.array_equal(chunked[key][1], single.arrays()[key][1])
    assert chunked["b"][0].size == 3_334
