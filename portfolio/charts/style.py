"""How a chart looks: sizes per place, font, palette, legend columns and y tick labels.

Split from spec.py, which assembles the Vega-Lite spec from these; ``spec`` re-exports
the styles, so ``from portfolio.charts.spec import PAGE`` keeps working.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"  # Liberation ships in vl-convert and
# is metric-compatible with Arial/Helvetica, so text measured on the server fits in browsers.
PALETTE = [  # Tableau 10: distinguishable, and readable on white
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
]  # fmt: skip
MANY = {"scheme": "tableau20"}  # past ten runs


@dataclass(frozen=True)
class ChartStyle:
    """Sizes for one place a chart appears."""

    width: int = 640
    height: int = 260  # per metric panel
    font_size: int = 11
    title_size: int = 15
    line_width: float = 1.75
    legend_columns: int = 3
    fit: bool = False  # fit the whole image into width x height (Open Graph)
    max_legend: int | None = None  # past this many runs, leave the legend out
    padding: int = 8
    axis_titles: bool = True  # a thumbnail has no room for "Step" and the metric name


PAGE = ChartStyle()
OG = ChartStyle(  # 1200 x 630, the Open Graph image size
    width=1200,
    height=630,
    font_size=20,
    title_size=40,
    line_width=4,
    legend_columns=3,
    fit=True,
    padding=36,
    max_legend=8,  # a preview card has no room for a long list
)
NARROW = ChartStyle(  # a phone (390 px): full width, fewer ticks, larger text
    width=330,
    height=220,
    font_size=13,
    title_size=16,
    line_width=2,
    legend_columns=2,
)
THUMB = ChartStyle(  # the small chart on a profile card
    width=260,
    height=72,
    font_size=9,
    title_size=9,
    line_width=1.5,
    fit=True,
    padding=2,
    max_legend=0,
    axis_titles=False,
)


def y_format(values: Sequence[dict[str, Any]], ticks: int) -> tuple[str, list[float] | None]:
    """Return a d3 tick format with enough decimals to tell the ticks apart, and a domain.

    Vega's default shortens labels to the tick step, so a flat 0.94 line got
    the single label "1" and 0.999996 read "1". The decimals come from the
    step between ticks in the narrowest panel; a flat series gets a domain of
    ±1% around its value (so its ticks, and its label, show that value).
    """
    spans = []
    flat: list[float] = []
    for metric in {r["m"] for r in values}:
        ys = [
            v
            for r in values
            if r["m"] == metric
            for column in ("ys", "ss")
            for v in r.get(column, ())
            if v is not None
        ]
        if not ys:
            continue
        low, high = min(ys), max(ys)
        if high - low <= 1e-12 * max(abs(high), 1e-300):
            flat.append(low)
            spans.append(max(abs(low) * 0.02, 1e-9) if low else 2.0)
        else:
            spans.append(high - low)
    if not spans:
        return ",~r", None
    step = min(spans) / max(ticks, 1)
    decimals = max(0, min(12, math.ceil(-math.log10(step)) + (1 if step < 1 else 0)))
    fmt = f",.{decimals}~f" if decimals else ",~r"
    domain = None
    if len(flat) == 1 and len(spans) == 1:
        v = flat[0]
        pad = abs(v) * 0.01 if v else 1.0
        domain = [compact_number(v - pad), compact_number(v + pad)]
    return fmt, domain


def compact_number(value: float) -> float | int:
    """Return a compact JSON number: integers as int, others to 10 significant digits.

    Ten digits: 0.999996 and 1 stay apart, as do values logged as float32.
    """
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return float(f"{value:.10g}")


def legend_columns(runs: Sequence[str], style: ChartStyle) -> int:
    """Return as many legend columns as the longest run name allows.

    Names that fit are shown whole; and Vega only has to shorten a label
    (a costly search by text measurement) when this estimate is too low.
    """
    longest = max((len(run) for run in runs), default=0)
    entry = (0.6 * longest + 3) * style.font_size  # average glyph, plus symbol and gap
    return max(1, min(style.legend_columns, int(style.width // entry)))


def vega_config(style: ChartStyle) -> dict[str, Any]:
    axis = {
        "labelFontSize": style.font_size,
        "titleFontSize": style.font_size + 1,
        "labelColor": "#444",
        "titleColor": "#222",
        "gridColor": "#e8e8e8",
        "domainColor": "#888",
        "tickColor": "#888",
    }
    return {
        "font": FONT,
        "view": {"stroke": None},
        "axis": axis,
        "legend": {"labelFontSize": style.font_size, "titleFontSize": style.font_size + 1},
        "header": {"labelFontSize": style.font_size + 1, "labelFontWeight": "bold"},
        "title": {"fontSize": style.title_size, "color": "#222"},
    }
