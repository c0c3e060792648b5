"""The recap's Open Graph image: a 1200×630 PNG of the season in figures.

Drawn as one Vega-Lite spec in pixel coordinates (like public/cards.py) and rendered
by vl-convert, with no network. Every string (project title, learner's name, metric
name, milestone titles) goes in as a data value of a text mark: Vega draws it as
text, never as markup or an expression, so tracker and user text cannot inject.
"""

from __future__ import annotations

from typing import Any

from ..charts.render import render_png
from ..models import Project, Season, User
from .recaps import RecapFigures

WIDTH, HEIGHT = 1200, 630
BACKGROUND = "#1f2a44"
# The progression's box, in pixels from the top left.
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 100, 1100, 400, 560


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _axis(field: str, size: int, *, reverse: bool = False) -> dict[str, Any]:
    scale: dict[str, Any] = {"domain": [0, size]}
    if reverse:
        scale["reverse"] = True
    return {"field": field, "type": "quantitative", "scale": scale, "axis": None}


def _points(figures: RecapFigures) -> list[dict[str, Any]]:
    """The progression mapped into the chart box; one point is drawn in the middle."""
    values = [v for _, v, _ in figures.progression]
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        low, high = low - (abs(low) or 1) * 0.01, high + (abs(high) or 1) * 0.01
    n = len(values)
    step = (CHART_RIGHT - CHART_LEFT) / max(n - 1, 1)
    points = []
    for i, (title, value, shown) in enumerate(figures.progression):
        x = CHART_LEFT + i * step if n > 1 else (CHART_LEFT + CHART_RIGHT) / 2
        y = CHART_BOTTOM - (value - low) / (high - low) * (CHART_BOTTOM - CHART_TOP)
        points.append(
            {"x": round(x, 1), "y": round(y, 1), "v": shown, "m": _clip(title, 18), "ly": 600}
        )
    return points


def recap_card_spec(
    project: Project, season: Season, owner: User, figures: RecapFigures
) -> dict[str, Any]:
    """The card's Vega-Lite spec: texts at fixed places, the progression as a line."""
    imp = figures.improvement
    headline = (
        f"{_clip(imp.metric, 40)}: {imp.first_shown} → {imp.last_shown}"
        if imp
        else "No headline metric"
    )
    texts = [
        {"x": 80, "y": 60, "t": f"Season recap · {_clip(season.title, 60)}", "s": 28},
        {"x": 80, "y": 200, "t": f"by {_clip(owner.display_name, 40)} (@{owner.handle})", "s": 30},
        {"x": 80, "y": 265, "t": figures.done_line, "s": 38},
        {"x": 80, "y": 325, "t": headline, "s": 38},
    ]
    points = _points(figures)
    encoding = {"x": _axis("x", WIDTH), "y": _axis("y", HEIGHT, reverse=True)}
    # "limit": Vega cuts a longer text to this many pixels with an ellipsis.
    text_mark = {
        "type": "text",
        "align": "left",
        "baseline": "middle",
        "font": "sans-serif",
        "limit": WIDTH - 160,
    }
    layers: list[dict[str, Any]] = [
        {
            "data": {"values": [{"x": 80, "y": 130, "t": _clip(project.title, 80)}]},
            "mark": {**text_mark, "fontWeight": "bold", "fontSize": 56, "color": "#ffffff"},
            "encoding": {**encoding, "text": {"field": "t"}},
        },
        {
            "data": {"values": texts},
            "mark": {**text_mark, "color": "#c9d3ea"},
            "encoding": {
                **encoding,
                "text": {"field": "t"},
                "size": {"field": "s", "type": "quantitative", "scale": None},
            },
        },
    ]
    if points:
        layers += [
            {
                "data": {"values": points},
                "mark": {"type": "line", "color": "#7fb2ff", "strokeWidth": 4},
                "encoding": encoding,
            },
            {
                "data": {"values": points},
                "mark": {"type": "circle", "color": "#ffffff", "size": 120, "opacity": 1},
                "encoding": encoding,
            },
            {
                "data": {"values": points},
                "mark": {**text_mark, "align": "center", "dy": -20, "fontSize": 20, "limit": 200},
                "encoding": {**encoding, "text": {"field": "v"}, "color": {"value": "#ffffff"}},
            },
            {
                "data": {"values": points},
                "mark": {
                    **text_mark,
                    "align": "center",
                    "fontSize": 18,
                    "color": "#c9d3ea",
                    "limit": 200,
                },
                "encoding": {
                    "x": encoding["x"],
                    "y": _axis("ly", HEIGHT, reverse=True),
                    "text": {"field": "m"},
                },
            },
        ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": HEIGHT,
        "padding": 0,
        "autosize": "none",
        "background": BACKGROUND,
        "config": {"view": {"stroke": None}},
        "layer": layers,
    }


def recap_png(project: Project, season: Season, owner: User, figures: RecapFigures) -> bytes:
    return render_png(recap_card_spec(project, season, owner, figures))
