"""Data-table alternative, cache keys and the vega-embed bundle."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from portfolio.charts import (
    ChartOptions,
    ChartSeries,
    bundle_filename,
    chart_cache_key,
    data_table,
    distinguishing_digits,
    vega_embed_bundle,
    write_bundle,
)

ROOT = Path(__file__).resolve().parents[2]


def test_data_table_summarises_each_series() -> None:
    """One row per charted series: count, x range, last, min and max of finite points."""
    s = ChartSeries(
        run="<b>run</b>", metric="val/acc", xs=[0, 1, 2, 3], ys=[0.5, float("nan"), 0.9, 0.7]
    )
    table = data_table([s], ChartOptions(smoothing=0.5))
    (row,) = table.rows
    assert table.x_title == "Step"
    assert table.columns[0] == "Run"
    assert row.run == "<b>run</b>"  # plain text; the template escapes
    assert (row.points, row.first_x, row.last_x) == (3, 0.0, 3.0)
    assert (row.last, row.min, row.max) == (0.7, 0.5, 0.9)
    assert row.last_smoothed == pytest.approx((0.125 * 0.5 + 0.25 * 0.9 + 0.5 * 0.7) / 0.875)


def test_data_table_follows_options(two_runs: list[ChartSeries]) -> None:
    """The table shows the same runs and metrics as the chart."""
    rows = data_table(two_runs, ChartOptions(metrics=["val/acc"], runs={"r0"})).rows
    assert [(r.run, r.metric) for r in rows] == [("baseline", "val/acc")]
    assert rows[0].last_smoothed is None


def test_data_table_leaves_out_empty_series_and_counts_gaps() -> None:
    """A series with no finite point is neither drawn nor listed; NaN/inf are counted."""
    empty = ChartSeries(run="empty", metric="m", xs=[0], ys=[float("inf")])
    holes = ChartSeries(run="holes", metric="m", xs=[0, 1, 2], ys=[1.0, float("nan"), 2.0])
    table = data_table([empty, holes])
    (row,) = table.rows
    assert row.run == "holes" and row.points == 2 and row.gaps == 1
    assert table.gap_rows == [row]


def test_data_table_digits_tell_values_apart() -> None:
    """0.999996 and 1 print differently; plain values keep 4 digits."""
    close = ChartSeries(run="r", metric="m", xs=[0, 1], ys=[0.999996, 1.0])
    assert data_table([close]).digits == 6
    plain = ChartSeries(run="r", metric="m", xs=[0, 1], ys=[0.5, 0.25])
    assert data_table([plain]).digits == 4
    assert distinguishing_digits([0.94, 0.94, None]) == 4


def test_cache_key_is_stable_and_sensitive() -> None:
    """Same inputs, same key; snapshot order does not matter; any option change does."""
    base = ChartOptions(metrics=["val/acc"], smoothing=0.6, runs={"a", "b"})
    key = chart_cache_key([3, 1, 2], base)
    assert key == chart_cache_key(
        [1, 2, 3], ChartOptions(["val/acc"], smoothing=0.6, runs=["b", "a"])
    )
    assert len(key) == 32 and int(key, 16) >= 0
    others = [
        chart_cache_key([1, 2, 4], base),
        chart_cache_key(
            [1, 2, 3], ChartOptions(metrics=["val/acc"], smoothing=0.5, runs={"a", "b"})
        ),
        chart_cache_key([1, 2, 3], ChartOptions(metrics=["val/acc"], smoothing=0.6)),
        chart_cache_key([1, 2, 3], ChartOptions(metrics=["val/acc"], smoothing=0.6, runs={"a"})),
        chart_cache_key(
            [1, 2, 3], ChartOptions(metrics=["val/acc"], smoothing=0.6, log_y=True, runs={"a", "b"})
        ),
        chart_cache_key([1, 2, 3], base, variant="png"),
        chart_cache_key([1, 2, 3], base, title="Renamed"),
    ]
    assert len({key, *others}) == len(others) + 1


def test_bundle_contains_vega_embed_and_interpreter() -> None:
    """The bundle defines window.vegaEmbed and carries the CSP-safe expression interpreter."""
    bundle = vega_embed_bundle()
    assert "window.vegaEmbed=" in bundle
    assert "expressionInterpreter" in bundle


def test_write_bundle_writes_whole_file(tmp_path: Path) -> None:
    """write_bundle creates folders and writes the bundle and its gzip, leaving no temp files."""
    target = write_bundle(tmp_path / "js" / bundle_filename())
    assert target.read_text(encoding="utf-8") == vega_embed_bundle()
    assert sorted(os.listdir(target.parent)) == [target.name, target.name + ".gz"]
    packed = (target.parent / (target.name + ".gz")).read_bytes()
    assert gzip.decompress(packed) == target.read_bytes()
    assert len(packed) < len(vega_embed_bundle()) / 2
    assert bundle_filename().startswith("vega-embed-vl5.")


def test_charts_js_is_csp_friendly() -> None:
    """charts.js uses no eval, no innerHTML and asks vega-embed for the interpreter."""
    source = (ROOT / "portfolio" / "static" / "js" / "charts.js").read_text(encoding="utf-8")
    js = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
    assert "ast: true" in js and "defaultStyle: false" in js and "actions: false" in js
    for banned in ["eval(", "new Function", "innerHTML", "insertAdjacentHTML", "document.write"]:
        assert banned not in js
