"""The columnar MLflow path (pages → float arrays → ``add_columns``) stores what rows store."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from portfolio.tracking.downsample import Series, SeriesAccumulator, collect
from portfolio.tracking.mlflow_history import page_columns, page_rows
from portfolio.tracking.mlflow_provider import MlflowProvider

from .mlflow_fixtures import LoggedMlflow

BIG = sys.float_info.max
PAGES = {
    "plain": [{"key": "m", "value": 0.5 * i, "step": i, "timestamp": 1} for i in range(50)],
    "ints and stored inf": [
        {"value": 3, "step": 0},
        {"value": BIG, "step": 1},
        {"value": -BIG, "step": 2},
        {"value": float("nan"), "step": 3},
        {"value": float("inf"), "step": 4},
        {"value": 2.0},  # no step: MLflow's default 0
    ],
    "strings and odd points": [
        {"value": "NaN", "step": 5},
        {"value": "Infinity", "step": "6"},
        {"value": "-Infinity", "step": 7.0},
        {"value": True, "step": 8},
        {"value": "text", "step": 9},
        {"value": 1.5, "step": None},
        {"value": 1.25, "step": "x"},
        "not a point",
        {"value": 4.0, "step": 10},
        {"step": 11},
    ],
    "empty": [],
    "not a list": {"value": 1.0},
}


def _row_arrays(points: object, key: str) -> tuple[np.ndarray, np.ndarray]:
    rows = list(page_rows(points, key))
    return (
        np.array([s for s, _ in rows], dtype=np.float64),
        np.array([r[key] for _, r in rows], dtype=np.float64),
    )


def _same_series(a: dict[str, Series], b: dict[str, Series]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].original_count == b[key].original_count
        assert a[key].nonfinite == b[key].nonfinite
        np.testing.assert_array_equal(a[key].x, b[key].x)
        np.testing.assert_array_equal(a[key].y, b[key].y)  # NaN equals NaN here


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_columns_match_page_rows(name: str) -> None:
    """Every kind of point (numbers, NaN/±inf text, stored ±max, odd steps) maps the same."""
    x, y = page_columns(PAGES[name], "m")
    rx, ry = _row_arrays(PAGES[name], "m")
    assert x.dtype == y.dtype == np.float64
    np.testing.assert_array_equal(x, rx)
    np.testing.assert_array_equal(y, ry)


def test_stored_max_double_and_text_become_infinite_markers() -> None:
    """MLflow's stored ±max-double and the "Infinity" strings are ±inf on both paths."""
    _, y = page_columns(PAGES["ints and stored inf"], "m")
    assert y[1] == math.inf and y[2] == -math.inf and math.isnan(y[3]) and y[4] == math.inf
    x, y = page_columns(PAGES["strings and odd points"], "m")
    assert (
        x.tolist() == [5, 6, 7, 10]
        and math.isnan(y[0])
        and y[1:3].tolist()
        == [
            math.inf,
            -math.inf,
        ]
    )


def test_add_columns_stores_what_rows_store() -> None:
    """The same pages as rows (``extend``) and as columns give the same downsampled series,
    with the same keys refused ("_" internals, beyond the metric cap)."""
    pages = [(key, PAGES[name]) for name in sorted(PAGES) for key in ("a", "_internal", "b")]
    long = [{"value": math.sin(i / 50) if i % 777 else "NaN", "step": i} for i in range(5_000)]
    pages += [("c", long), ("d", long)]
    by_rows = SeriesAccumulator(max_metrics=3)
    by_columns = SeriesAccumulator(max_metrics=3)
    for key, points in pages:
        by_rows.extend(page_rows(points, key))
        by_columns.add_columns(key, *page_columns(points, key))
    assert set(by_columns.arrays()) == {"a", "b", "c"}
    _same_series(by_rows.downsample(100), by_columns.downsample(100))


def test_add_columns_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        SeriesAccumulator().add_columns("m", np.arange(3.0), np.arange(2.0))


class _RowsOnly:
    """The same provider seen without its columnar method: what ``collect`` falls back to."""

    def __init__(self, provider: MlflowProvider) -> None:
        self.iter_history = provider.iter_history


@pytest.mark.parametrize("run", ["baseline", "nan", "many"])
def test_real_server_columns_and_rows_store_the_same_series(
    mlflow_logged: LoggedMlflow, run: str
) -> None:
    """Against a real ``mlflow server``: the sync's columnar path equals the row path."""
    ids = mlflow_logged.ids
    ref = f"{ids['experiment_id']}/{ids[run]}"
    provider = MlflowProvider(
        api_key="{}", base_url=mlflow_logged.url, timeout=10.0, history_page=1_000
    )
    by_columns = collect(provider, ref).downsample(200)
    by_rows = collect(_RowsOnly(provider), ref).downsample(200)
    assert by_columns
    _same_series(by_rows, by_columns)
    if run == "nan":
        assert by_columns["loss"].nonfinite == 3
