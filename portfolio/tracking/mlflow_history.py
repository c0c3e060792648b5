"""Map MLflow ``metrics/get-history`` pages onto numbers: rows for the generic path, columns
for the sync's fast path (``MlflowProvider.iter_history_columns``).

Both give the same numbers (tests/tracking/test_tracking_mlflow_columns.py): a value is a
plain number, or "NaN"/"Infinity"/"-Infinity" text (``values.to_number``), and MLflow's SQL
stores save ±inf as ±1.7976931348623157e308, read back here as ±inf; points without a usable
step or value are skipped.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import values
from .provider import HistoryRow

STORED_INF = sys.float_info.max  # how MLflow's SQL stores save ±inf


def page_rows(points: Any, key: str) -> Iterator[HistoryRow]:
    """Map one ``metrics/get-history`` page onto ``(step, {key: value})`` rows.

    The hot loop of a metric with a million points: plain numbers take the short path;
    anything else goes through ``_metric_value``; points without a usable step are skipped.
    """
    if not isinstance(points, list):
        return
    for point in points:
        if type(point) is not dict:
            continue
        value = point.get("value")
        kind = type(value)
        if (kind is float or kind is int) and -STORED_INF < value < STORED_INF:
            number: float | None = float(value)
        else:
            number = metric_value(value)
            if number is None:
                continue
        step = point.get("step", 0)
        if type(step) is not int:
            step = _step(step)
            if step is None:
                continue
        yield step, {key: number}


def page_columns(points: Any, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Map one ``metrics/get-history`` page onto float step and value arrays.

    Same numbers as ``page_rows``, without a dict per point: when every point is a dict
    with an int step and a plain number, two list comprehensions and two numpy
    conversions do it, and MLflow's stored ±max-double becomes ±inf in one pass; any other
    page takes ``page_rows`` (rare: strings such as "NaN", text steps, odd points).
    """
    if isinstance(points, list) and set(map(type, points)) <= {dict}:
        steps = [p.get("step", 0) for p in points]
        numbers = [p.get("value") for p in points]
        if set(map(type, steps)) <= {int} and set(map(type, numbers)) <= {int, float}:
            try:
                x = np.array(steps, dtype=np.float64)
                y = np.array(numbers, dtype=np.float64)
            except OverflowError:  # an int beyond float range: the slow path decides
                pass
            else:
                stored = np.abs(y) == STORED_INF
                if stored.any():
                    y[stored] = np.copysign(np.inf, y[stored])
                return x, y
    rows = list(page_rows(points, key))
    x = np.array([step for step, _ in rows], dtype=np.float64)
    y = np.array([row[key] for _, row in rows], dtype=np.float64)
    return x, y


def _step(value: Any) -> int | None:
    """A step sent as text (protobuf's JSON writes int64 as strings) or float."""
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    if type(value) is float and math.isfinite(value):
        return int(value)
    return None


def metric_value(value: Any) -> float | None:
    """A metric value as float: "NaN"/"Infinity" strings and MLflow's stored ±inf too."""
    number = values.to_number(value)
    if number is not None and abs(number) == STORED_INF:
        return math.copysign(math.inf, number)
    return number
