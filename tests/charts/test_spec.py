"""Vega-Lite specs: structure, options, and no way in for untrusted names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import vl_convert
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio.charts import VL_VERSION, ChartOptions, ChartSeries, build_og_spec, build_spec
from portfolio.charts.spec import FIELDS

from .conftest import MARK


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Yield (path, key, value) for every dict entry and list item, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield path, i, value
            yield from walk(value, f"{path}/{i}")


def points(spec: dict) -> list[dict]:
    """Expand the spec's per-series columns into rows, as its flatten transform does."""
    (flatten,) = spec["transform"]
    rows = []
    for record in spec["data"]["values"]:
        cols = [record[c] for c in flatten["flatten"]]
        for values in zip(*cols, strict=True):
            row = {k: v for k, v in record.items() if k not in flatten["flatten"]}
            row.update(zip(flatten["as"], values, strict=True))
            rows.append(row)
    return rows


def test_spec_structure(two_runs: list[ChartSeries]) -> None:
    """One metric: a v5 layered line chart with inline data, legend, tooltip, zoom."""
    spec = build_spec("Accuracy", two_runs, ChartOptions(metrics=["val/acc"]))
    json.dumps(spec, allow_nan=False)  # plain JSON, no NaN
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert set(spec["data"]) == {"values"}
    assert spec["width"] == 640 and spec["height"] == 260
    assert spec["title"]["text"] == "Accuracy"
    assert spec["description"].startswith("Accuracy. Line chart of val/acc by step for 2 runs")
    raw, hover = spec["layer"]
    assert raw["mark"]["type"] == "line"
    assert raw["encoding"]["color"]["field"] == "run"
    assert raw["encoding"]["color"]["scale"]["domain"] == ["baseline", "bigger lr"]
    assert raw["encoding"]["y"]["title"] == "val/acc"
    (zoom,) = raw["params"]
    assert zoom["bind"] == "scales" and zoom["select"]["type"] == "interval"
    assert hover["name"].startswith("interactive_")
    assert [t["field"] for t in hover["encoding"]["tooltip"]] == ["run", "metric", "x", "y"]
    rows = points(spec)
    assert len(rows) == 100
    assert {r["run"] for r in rows} == {"baseline", "bigger lr"}
    assert {r["metric"] for r in rows} == {"val/acc"}


def test_spec_compiles_without_warnings(two_runs: list[ChartSeries]) -> None:
    """vl-convert's Vega-Lite compiles the spec."""
    vega = vl_convert.vegalite_to_vega(build_spec("t", two_runs, ChartOptions()), VL_VERSION)
    assert vega["$schema"].endswith("vega/v5.json")


def test_several_metrics_get_one_row_each(two_runs: list[ChartSeries]) -> None:
    """Two metrics facet into rows, in the chosen order, each with its own y scale."""
    options = ChartOptions(metrics=["train/loss", "val/acc"])
    spec = build_spec("t", two_runs, options)
    assert spec["facet"]["row"]["field"] == "metric"
    assert spec["facet"]["row"]["sort"] == {"field": "m", "op": "min"}
    assert spec["resolve"]["scale"]["y"] == "independent"
    order = {r["metric"]: r["m"] for r in spec["data"]["values"]}
    assert order == {"train/loss": 0, "val/acc": 1}


def test_smoothing_adds_faded_raw_and_smoothed_line(two_runs: list[ChartSeries]) -> None:
    """With smoothing on, the raw line fades and an EMA line is drawn over it."""
    spec = build_spec("t", two_runs, ChartOptions(metrics=["val/acc"], smoothing=0.6))
    raw, smooth, _hover = spec["layer"]
    assert raw["mark"]["opacity"] < 1
    assert smooth["encoding"]["y"]["field"] == "s"
    first = spec["data"]["values"][0]
    assert first["ss"][0] == first["ys"][0]  # debiased: starts at the first value
    y0, y1 = first["ys"][:2]
    assert first["ss"][1] == pytest.approx((0.6 * 0.4 * y0 + 0.4 * y1) / (1 - 0.6**2), rel=1e-6)
    assert "Smoothed" in [t["title"] for t in _hover["encoding"]["tooltip"]]


def test_no_smoothing_has_no_smoothed_field(two_runs: list[ChartSeries]) -> None:
    """Smoothing 0 draws the raw line only."""
    spec = build_spec("t", two_runs, ChartOptions(metrics=["val/acc"]))
    assert "ss" not in spec["data"]["values"][0]
    assert [layer["name"] for layer in spec["layer"]] == ["raw", "interactive_hover"]


def test_log_scale_drops_non_positive_values() -> None:
    """A log y scale is used, and y <= 0 become nulls (left out of the line)."""
    s = ChartSeries(run="r", metric="loss", xs=[0, 1, 2, 3], ys=[1.0, 0.0, -2.0, 0.5])
    spec = build_spec("t", [s], ChartOptions(log_y=True, smoothing=0.5))
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    record = spec["data"]["values"][0]
    assert record["ys"] == [1, None, None, 0.5]
    assert all(v is None or v > 0 for v in record["ss"])
    assert "logarithmic" in spec["description"]


def test_runs_filter_keeps_chosen_runs(two_runs: list[ChartSeries]) -> None:
    """Only the chosen runs reach the data and the legend."""
    spec = build_spec("t", two_runs, ChartOptions(metrics=["val/acc"], runs={"r1"}))
    assert {r["run"] for r in spec["data"]["values"]} == {"bigger lr"}
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == ["bigger lr"]


def test_non_finite_values_are_gaps_not_joined() -> None:
    """NaN, inf and None become nulls (strict JSON stays valid) that break the line."""
    nan, inf = float("nan"), float("inf")
    s = ChartSeries(run="r", metric="m", xs=[0, 1, 2, 3, 4, nan], ys=[1.0, nan, inf, None, 2.0, 3])
    spec = build_spec("t", [s], ChartOptions(smoothing=0.5))
    record = spec["data"]["values"][0]
    assert record["xs"] == [0, 1, 2, 3, 4]  # a point without a finite x is dropped
    assert record["ys"] == [1, None, None, None, 2]
    assert record["ss"][1:4] == [None, None, None]
    assert spec["layer"][0]["mark"]["invalid"] == "break-paths-filter-domains"
    json.dumps(spec, allow_nan=False)


def test_epoch_axis_uses_x_label() -> None:
    """A logged epoch on the x axis names the axis and the tooltip."""
    s = ChartSeries(run="r", metric="m", xs=[0, 1], ys=[1.0, 2.0], x_label="epoch")
    spec = build_spec("t", [s], ChartOptions(x_axis="epoch"))
    assert spec["layer"][0]["encoding"]["x"]["axis"]["title"] == "epoch"
    assert spec["layer"][1]["encoding"]["tooltip"][2]["title"] == "Epoch"


def test_empty_chart_is_still_a_valid_spec() -> None:
    """No series: a spec that renders empty axes instead of failing."""
    spec = build_spec("", [], ChartOptions(metrics=["val/acc"]))
    assert spec["data"]["values"] == [] and "title" not in spec


def test_colours_agree_across_charts_of_a_project() -> None:
    """A run keeps its colour in every chart; the legend lists only runs drawn."""
    a = ChartSeries(run="a", metric="loss", xs=[0], ys=[1.0], run_id="a")
    b = ChartSeries(run="b", metric="acc", xs=[0], ys=[1.0], run_id="b")
    loss = build_spec("t", [a, b], ChartOptions(metrics=["loss"]))["layer"][0]["encoding"]
    acc = build_spec("t", [a, b], ChartOptions(metrics=["acc"]))["layer"][0]["encoding"]
    assert loss["color"]["scale"]["domain"] == acc["color"]["scale"]["domain"] == ["a", "b"]
    assert loss["color"]["legend"]["values"] == ["a"]
    assert acc["color"]["legend"]["values"] == ["b"]


def test_duplicate_run_names_get_distinct_colours() -> None:
    """Two runs named alike stay apart in the legend."""
    a = ChartSeries(run="run", metric="m", xs=[0], ys=[1.0], run_id="a")
    b = ChartSeries(run="run", metric="m", xs=[0], ys=[2.0], run_id="b")
    spec = build_spec("t", [a, b], ChartOptions())
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == ["run", "run (2)"]


def test_og_spec_is_one_static_metric_at_1200x630(two_runs: list[ChartSeries]) -> None:
    """The Open Graph spec: headline metric only, fitted to 1200x630, nothing interactive."""
    spec = build_og_spec("Headline", two_runs, ChartOptions(metrics=["val/acc", "train/loss"]))
    assert (spec["width"], spec["height"]) == (1200, 630)
    assert spec["autosize"] == {"type": "fit", "contains": "padding"}
    assert {r["metric"] for r in spec["data"]["values"]} == {"val/acc"}
    assert not any(key == "params" for _, key, _ in walk(spec))


def test_og_spec_drops_legend_for_many_runs() -> None:
    """A preview card with many runs shows lines, not a long legend."""
    many = [ChartSeries(run=f"r{i}", metric="m", xs=[0, 1], ys=[1.0, 2.0]) for i in range(12)]
    spec = build_og_spec("t", many, ChartOptions())
    assert spec["layer"][0]["encoding"]["color"]["legend"] is None


# --- injection -------------------------------------------------------------------

# Where an untrusted string may appear: data values, literal titles and text,
# the description, and the colour scale's literal domain. Never a field name,
# a key, a signal, an expression or an event stream.
SAFE_SPEC_PATHS = re.compile(
    r"^/data/values/\d+/(run|metric)$|/(domain|legend/values)/\d+$|^/description$"
    r"|^/title/text$|/title$"
)
SAFE_VEGA_PATHS = re.compile(
    r"^/data/\d+/values/\d+/(run|metric)$|/domain/\d+$|^/legends/\d+/values/\d+$|^/description$"
    r"|/title(/text)?$|/encode/\w+/text/value$"
)


def assert_marker_only_in_safe_places(node: Any, safe: re.Pattern[str]) -> None:
    for path, key, value in walk(node):
        assert MARK not in str(key), f"untrusted text used as a key at {path}"
        if isinstance(value, str) and MARK in value:
            assert safe.search(f"{path}/{key}"), f"untrusted text at {path}/{key}: {value[:80]!r}"


@pytest.mark.parametrize("smoothing", [0.0, 0.7])
@pytest.mark.parametrize("metrics", [(), ("a.b[0]PWN",)])
def test_untrusted_names_stay_data(
    hostile_series: list[ChartSeries], smoothing: float, metrics: tuple[str, ...]
) -> None:
    """Run names and metric keys are only values or literal text, never fields or expressions."""
    options = ChartOptions(metrics=metrics, smoothing=smoothing, x_axis="ep\"och'] + PWN")
    spec = build_spec("title " + MARK, hostile_series, options)
    fields = {v for _, k, v in walk(spec) if k == "field"}
    assert fields <= set(FIELDS)
    assert_marker_only_in_safe_places(spec, SAFE_SPEC_PATHS)
    # Tooltip keys sit inside an expression: fixed words only.
    hover = (spec.get("spec") or spec)["layer"][-1]
    keys = [t["title"] for t in hover["encoding"]["tooltip"]][:4]
    assert keys == ["Run", "Metric", "X value", "Value"]
    # And after compiling to Vega, untrusted text is still only literal data/text.
    vega = vl_convert.vegalite_to_vega(spec, VL_VERSION)
    assert_marker_only_in_safe_places(vega, SAFE_VEGA_PATHS)
    assert any(MARK in v for _, _, v in walk(vega) if isinstance(v, str))


label_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("<>&\"'{}[].\\`$"), max_size=60
)


@settings(max_examples=40, deadline=None)
@given(run=label_text, metric=label_text)
def test_any_label_makes_strict_json_with_fixed_fields(run: str, metric: str) -> None:
    """Whatever the names, the spec is strict JSON and uses only the fixed fields."""
    s = ChartSeries(run=run, metric=metric, xs=[0, 1], ys=[0.5, 0.25])
    spec = build_spec(
        run, [s], ChartOptions(metrics=[metric], smoothing=0.5, x_axis=metric or "_step")
    )
    json.loads(json.dumps(spec, allow_nan=False))
    assert {v for _, k, v in walk(spec) if k == "field"} <= set(FIELDS)
