"""Chart inputs: label cleaning, point filtering, run/metric selection and EMA smoothing."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.charts import ChartOptions, ChartSeries, clean_label, ema
from portfolio.charts.model import MAX_LABEL_CHARS, unique_labels

NAN, INF = float("nan"), float("inf")


def test_ema_matches_hand_computed_reference() -> None:
    """Debiased EMA, weight 0.5: 1 -> 1, 2 -> 1.25/0.75, 3 -> 2.125/0.875."""
    assert ema([1.0, 2.0, 3.0], 0.5) == pytest.approx([1.0, 5 / 3, 17 / 7])


def test_ema_weight_zero_is_identity() -> None:
    """Weight 0 leaves the values alone."""
    assert ema([3.0, 1.0, 2.0], 0.0) == [3.0, 1.0, 2.0]


def test_ema_first_point_is_unbiased() -> None:
    """The debias term keeps the first smoothed value at the first raw value, not near 0."""
    assert ema([10.0, 0.0], 0.99)[0] == pytest.approx(10.0)


def test_ema_skips_non_finite_values() -> None:
    """A NaN passes through and does not advance the state, as in TensorBoard."""
    out = ema([1.0, NAN, 2.0, 3.0], 0.5)
    assert math.isnan(out[1])
    assert [out[0], out[2], out[3]] == pytest.approx([1.0, 5 / 3, 17 / 7])


def test_ema_constant_series_unchanged() -> None:
    """A constant series is returned as is (no float drift)."""
    assert ema([0.3] * 5, 0.9) == [0.3] * 5


def test_ema_long_series_converges_to_level() -> None:
    """On a long step from 0 to 1 the smoothed value approaches 1."""
    out = ema([0.0] * 10 + [1.0] * 2000, 0.9)
    assert out[-1] == pytest.approx(1.0)
    assert out[10] == pytest.approx(0.1 / (1 - 0.9**11))


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5])
def test_ema_rejects_bad_weight(weight: float) -> None:
    """Weights outside [0, 1) are refused."""
    with pytest.raises(ValueError):
        ema([1.0], weight)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 0.99))
def test_ema_stays_within_range_of_values(values: list[float], weight: float) -> None:
    """A weighted average never leaves [min, max] of what it has seen."""
    for i, value in enumerate(ema(values, weight)):
        seen = values[: i + 1]
        assert min(seen) - 1e-6 <= value <= max(seen) + 1e-6


@pytest.mark.parametrize("smoothing", [-0.01, 0.995, 1.0])
def test_options_reject_smoothing_out_of_range(smoothing: float) -> None:
    """Smoothing is limited to 0..0.99."""
    with pytest.raises(ValueError):
        ChartOptions(smoothing=smoothing)


def test_options_normalise_lists() -> None:
    """Lists from forms become hashable tuples and frozensets."""
    options = ChartOptions(metrics=["a", "b"], runs=["r1"], smoothing=0.5)
    assert options.metrics == ("a", "b")
    assert options.runs == frozenset({"r1"})
    assert hash(options)


def test_series_rejects_mismatched_lengths() -> None:
    """xs and ys must pair up."""
    with pytest.raises(ValueError):
        ChartSeries(run="r", metric="m", xs=[1, 2], ys=[1.0])


def test_finite_points_drop_nan_inf_and_none() -> None:
    """Points with a non-finite or missing x or y are left out."""
    s = ChartSeries(
        run="r", metric="m", xs=[0, 1, 2, 3, INF, 5, 6], ys=[1.0, NAN, INF, -INF, 2.0, None, 3]
    )
    assert s.finite_points() == ([0.0, 6.0], [1.0, 3.0])


def test_select_filters_runs_and_orders_metrics(two_runs: list[ChartSeries]) -> None:
    """Only chosen runs are kept; metrics come in the chosen order."""
    picked = ChartOptions(metrics=["train/loss", "val/acc"], runs={"r1"}).select(two_runs)
    assert [(s.key, s.metric) for s in picked] == [("r1", "train/loss"), ("r1", "val/acc")]


def test_select_without_metrics_keeps_all(two_runs: list[ChartSeries]) -> None:
    """No metric list means every metric given."""
    assert len(ChartOptions().select(two_runs)) == 4


def test_clean_label_removes_controls_bidi_and_surrogates() -> None:
    """Controls, bidi overrides and lone surrogates go; whitespace collapses."""
    assert clean_label("a\x00b\x1b[31m\u202ec\ud800\n\td  ") == "ab[31mc d"


def test_clean_label_truncates_long_labels() -> None:
    """A 10,000-character run name is cut to the label limit with an ellipsis."""
    label = clean_label("x" * 10_000)
    assert len(label) == MAX_LABEL_CHARS
    assert label.endswith("…")


def test_clean_label_empty_gets_placeholder() -> None:
    """A name of only control characters still gets a visible label."""
    assert clean_label("\x00\x01 ") == "(unnamed)"


def test_unique_labels_number_repeats() -> None:
    """Two runs with one display name get different labels, even when long."""
    long = "y" * 200
    labels = unique_labels(["a", "b", "c", "d"], ["run", "run", long, long])
    assert labels["a"] == "run" and labels["b"] == "run (2)"
    assert labels["c"] != labels["d"]
    assert labels["d"].endswith(" (2)") and len(labels["d"]) <= MAX_LABEL_CHARS
