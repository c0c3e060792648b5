"""Chart rules, checked on real renders by vl-convert: labels, gaps, clipping, phone layout."""

from __future__ import annotations

import re

import pytest

from portfolio.charts import (
    NARROW,
    OG,
    PAGE,
    ChartOptions,
    ChartSeries,
    build_og_spec,
    build_spec,
    build_thumb_spec,
    default_metric,
    render_svg,
)

TEXT = re.compile(r"<text[^>]*>([^<]*)</text>")
XS = list(range(50))


def y_labels(svg: str) -> list[str]:
    """The y axis tick labels: the axis whose labels are all right-aligned."""
    axes = re.findall(r'<g class="mark-text role-axis-label"[^>]*>(.*?)</g>', svg, re.S)
    for axis in axes:
        if set(re.findall(r'text-anchor="(\w+)"', axis)) == {"end"}:
            return TEXT.findall(axis)
    raise AssertionError("no y axis labels found")


def line_paths(svg: str) -> list[str]:
    """The `d` of every drawn line."""
    groups = re.findall(r'<g class="mark-line role-mark[^"]*"[^>]*>(.*?)</g>', svg, re.S)
    return [d for group in groups for d in re.findall(r' d="([^"]*)"', group)]


def y_coords(d: str) -> list[float]:
    return [float(y) for y in re.findall(r"[ML][-\d.e]+,([-\d.e]+)", d)]


def chart(ys, **options) -> str:
    s = ChartSeries(run="run", metric="val/acc", xs=XS[: len(ys)], ys=ys)
    return render_svg(build_spec("Validation accuracy", [s], ChartOptions(**options)))


def test_flat_line_gets_labels_that_show_its_value() -> None:
    """A flat 0.94 line is labelled around 0.94, never with a lone "1"."""
    labels = y_labels(chart([0.94] * 50))
    assert "0.94" in labels
    assert "1" not in labels and len(labels) >= 2


def test_near_one_values_are_not_rounded_to_one() -> None:
    """0.999996 and 1 get distinct labels with the digits that tell them apart."""
    labels = y_labels(chart([0.99999 + i * 2e-7 for i in range(50)]))
    assert len(set(labels)) == len(labels) >= 3
    assert any(label.startswith("0.99999") for label in labels)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None])
def test_non_finite_value_is_a_gap(bad) -> None:
    """A NaN/inf/missing value breaks the line into two pieces instead of joining across."""
    ys = [0.5 + i / 100 for i in range(50)]
    ys[20] = bad
    (d,) = line_paths(chart(ys))
    assert d.count("M") == 2


@pytest.mark.parametrize("style", [PAGE, NARROW])
def test_top_line_is_not_clipped(style) -> None:
    """The highest point sits at least half a stroke below the top of the plot."""
    s = ChartSeries(run="run", metric="m", xs=XS, ys=[i / 49 for i in XS])
    svg = render_svg(build_spec("Rising", [s], ChartOptions(), style=style))
    (d,) = line_paths(svg)
    assert min(y_coords(d)) >= style.line_width / 2


def test_og_image_line_and_title_are_not_clipped() -> None:
    """The OG render keeps its top line inside the plot and its title clear above it."""
    s = ChartSeries(run="run", metric="m", xs=XS, ys=[i / 49 for i in XS])
    spec = build_og_spec("A long project title", [s], ChartOptions())
    svg = render_svg(spec)
    (d,) = line_paths(svg)
    assert min(y_coords(d)) >= OG.line_width / 2
    assert spec["title"]["offset"] >= OG.font_size // 2
    assert "A long project title" in TEXT.findall(svg)


def test_phone_layout_is_narrow_with_fewer_ticks_and_larger_text() -> None:
    """NARROW fits a 390 px screen, with at most 4 x ticks and 13 px labels."""
    s = ChartSeries(
        run="run", metric="m", xs=list(range(0, 5000, 10)), ys=[1 / (i + 1) for i in range(500)]
    )
    spec = build_spec("Loss", [s], ChartOptions(), style=NARROW, interactive=False)
    svg = render_svg(spec)
    width = float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1))
    assert width <= 390
    assert spec["layer"][0]["encoding"]["x"]["axis"]["tickCount"] <= 4
    assert 'font-size="13px"' in svg or "font-size: 13px" in svg


def test_empty_series_is_never_drawn() -> None:
    """A series without a finite point adds no line and no legend entry."""
    good = ChartSeries(run="good", metric="m", xs=XS, ys=[i / 49 for i in XS])
    empty = ChartSeries(run="empty", metric="m", xs=[0, 1], ys=[float("nan"), None])
    spec = build_spec("t", [good, empty], ChartOptions())
    assert [r["run"] for r in spec["data"]["values"]] == ["good"]
    svg = render_svg(spec)
    assert len(line_paths(svg)) == 1 and "empty" not in TEXT.findall(svg)
    assert build_thumb_spec([empty], ChartOptions())["data"]["values"] == []


def test_untrusted_names_stay_text() -> None:
    """Markup in run and metric names is escaped text in the SVG, never elements."""
    payload = '<img src=x onerror=alert(1)>"&'
    s = ChartSeries(run=payload, metric=payload, xs=XS, ys=[i / 49 for i in XS])
    svg = render_svg(build_spec(payload, [s], ChartOptions()))
    assert "<img" not in svg and "&lt;img" in svg


def test_default_metric_prefers_headline_then_loss_or_accuracy() -> None:
    """Never epoch/_step/_runtime; a summary-only headline falls through to a real series."""
    keys = ["_runtime", "_step", "epoch", "lr", "train/loss", "val/acc"]
    assert default_metric(keys, "val/acc") == "val/acc"
    assert default_metric(keys, "best_val_acc") == "train/loss"  # summary-only headline
    assert default_metric(["epoch", "lr"], "") == "lr"
    assert default_metric(["_runtime", "_step", "epoch"], "") is None
