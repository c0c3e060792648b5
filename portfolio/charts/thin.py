"""Pick about one point per horizontal pixel of a line for static renders.

A stored series holds up to 1,000 points; a 640 px wide SVG of 20 such runs
drew 20,000 path vertices per chart, most of them several to a pixel, and
weighed 110–214 KB gzipped. `thin_series_indices` keeps at most about `budget`
points of a series with tsdownsample's MinMaxLTTB (the same library
portfolio/tracking/downsample.py stores series with): the shape, peaks and
the first and last points stay, so the picture looks the same.

Gaps are never lost: each finite run of points between gaps is thinned on
its own (its share of the budget in proportion to its length) and the first
point of every gap is kept, so the line still breaks exactly where it did.
The interactive spec and the data table keep the full stored series.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

MIN_SEGMENT = 3  # tsdownsample's LTTB needs at least three points out


def thin_series_indices(xs: Sequence[float], ys: Sequence[float | None], budget: int) -> list[int]:
    """Return sorted indices into `xs`/`ys` to draw: ≤ ~`budget` points, gaps kept.

    `ys[i]` is None where the line breaks. With no more than `budget` points,
    or x values out of order (nothing to thin safely), every index comes back.
    """
    count = len(xs)
    if count <= budget:
        return list(range(count))
    x = np.asarray(xs, dtype=np.float64)
    if np.any(np.diff(x) < 0):
        return list(range(count))
    valid = np.array([v is not None for v in ys], dtype=bool)
    y = np.array([np.nan if v is None else v for v in ys], dtype=np.float64)
    keep: list[np.ndarray] = [np.flatnonzero(valid[1:] < valid[:-1]) + 1]  # each gap's start
    if count and not valid[0]:
        keep.append(np.array([0]))
    segments = _segments(valid)
    total = sum(end - start for start, end in segments) or 1
    for start, end in segments:
        length = end - start
        share = max(MIN_SEGMENT, budget * length // total)
        if length <= share:
            keep.append(np.arange(start, end))
        else:
            chosen = MinMaxLTTBDownsampler().downsample(x[start:end], y[start:end], n_out=share)
            keep.append(np.asarray(chosen, dtype=np.int64) + start)
    return np.unique(np.concatenate(keep)).tolist()


def _segments(valid: np.ndarray) -> list[tuple[int, int]]:
    """Return (start, end) of each run of True in `valid`, end exclusive."""
    edges = np.diff(np.concatenate(([0], valid.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))
