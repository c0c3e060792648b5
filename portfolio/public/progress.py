"""The progress timeline: a project's frozen figures at each milestone it completed.

Read from milestone freezes (seasons/freezes.py), never from current snapshots, so a
later sync does not rewrite what the project showed at "Checkpoint". Runs hidden
since the freeze are left out; names and values are tracker data and stay plain text
(templates escape them; the SVG below escapes what it writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlmodel import Session, col, select

from ..models import Milestone, MilestoneFreeze, Project, RunLink
from ..numbers import as_number, format_value
from ..seasons import milestones as milestone_service
from .compare import digits_for


@dataclass(frozen=True)
class FrozenRun:
    name: str
    source: str
    value: float | None


@dataclass
class Checkpoint:
    """One completed milestone and the figures frozen for it (None: none were kept)."""

    milestone: Milestone
    freeze: MilestoneFreeze | None
    metric: str = ""
    runs: list[FrozenRun] = field(default_factory=list)
    best: FrozenRun | None = None
    change: str = ""  # "Checkpoint → Final: val/acc 0.81 → 0.93, 4 more runs"
    shown: str = ""  # the best value as the page prints it


def timeline(session: Session, project: Project) -> list[Checkpoint]:
    """Completed milestones in plan order, each with its frozen figures."""
    done = [m for m in milestone_service.list_for(session, project.id) if m.done_at]
    if not done:
        return []
    frozen = {
        f.milestone_id: f
        for f in session.exec(
            select(MilestoneFreeze).where(
                col(MilestoneFreeze.milestone_id).in_([m.id for m in done])
            )
        )
    }
    hidden = set(
        session.exec(
            select(RunLink.id).where(RunLink.project_id == project.id, RunLink.hidden.is_(True))
        )
    )
    points = [checkpoint(m, frozen.get(m.id), hidden) for m in done]
    digits = digits_for(p.best.value for p in points if p.best)
    previous: Checkpoint | None = None
    for point in points:
        point.shown = format_value(point.best.value, digits) if point.best else "–"
        if point.freeze is None:
            continue
        if previous is not None:
            point.change = _change(previous, point)
        previous = point
    return points


def checkpoint(
    milestone: Milestone, freeze: MilestoneFreeze | None, hidden: set[int]
) -> Checkpoint:
    """One milestone's frozen runs (hidden ones left out) and the best headline value.

    Public so that a list of projects (seasons/recaps.py) can build its points from
    freezes loaded in one query, by the same rule as the timeline.
    """
    if freeze is None:
        return Checkpoint(milestone, None)
    runs = [
        FrozenRun(str(r.get("name", "")), str(r.get("source", "")), as_number(r.get("value")))
        for r in freeze.runs
        if r.get("link_id") not in hidden
    ]
    scored = [r for r in runs if r.value is not None]
    best = None
    if scored and freeze.headline_metric:
        pick = min if freeze.headline_goal == "min" else max
        best = pick(scored, key=lambda r: r.value)
    return Checkpoint(milestone, freeze, freeze.headline_metric, runs, best)


def _change(before: Checkpoint, after: Checkpoint) -> str:
    """One line: what changed between two milestones' figures."""
    head = f"{before.milestone.title} → {after.milestone.title}"
    if after.metric and before.metric == after.metric:
        head += f": {after.metric} {before.shown} → {after.shown}"
    elif after.metric:
        head += f": headline now {after.metric} ({after.shown})"
    more = len(after.runs) - len(before.runs)
    if more:
        word = "more" if more > 0 else "fewer"
        head += f", {abs(more)} {word} run{'s' if abs(more) != 1 else ''}"
    return head


WIDTH, HEIGHT, PAD_X, PAD_Y = 480, 150, 40, 24


def chart_svg(points: list[Checkpoint]) -> Markup | None:
    """A small inline SVG: the best headline value at each milestone; None under 1 point.

    Drawn here rather than with Vega-Lite: a handful of points needs no renderer, and
    an inline SVG works without JS and in the static export as it is.
    """
    metric = next((p.metric for p in reversed(points) if p.best), "")
    drawn = [p for p in points if p.best and p.metric == metric]
    if not drawn:
        return None
    values = [p.best.value for p in drawn]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - (abs(low) or 1) * 0.01, high + (abs(high) or 1) * 0.01
    step = (WIDTH - 2 * PAD_X) / max(len(drawn) - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        x = PAD_X + i * step if len(drawn) > 1 else WIDTH / 2
        y = HEIGHT - PAD_Y - (value - low) / (high - low) * (HEIGHT - 2 * PAD_Y)
        return round(x, 1), round(y, 1)

    coords = [xy(i, v) for i, v in enumerate(values)]
    label = f"{metric} at each milestone: " + ", ".join(
        f"{p.milestone.title} {p.shown}" for p in drawn
    )
    parts = [
        f'<svg class="progress-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(label)}">',
        f'<line class="axis" x1="{PAD_X / 2}" y1="{HEIGHT - PAD_Y / 2}" '
        f'x2="{WIDTH - PAD_X / 2}" y2="{HEIGHT - PAD_Y / 2}"/>',
    ]
    if len(coords) > 1:
        path = " ".join(f"{x},{y}" for x, y in coords)
        parts.append(f'<polyline class="line" fill="none" points="{path}"/>')
    for (x, y), point in zip(coords, drawn, strict=True):
        parts.append(f'<circle class="dot" cx="{x}" cy="{y}" r="4"/>')
        parts.append(f'<text x="{x}" y="{y - 8}" text-anchor="middle">{escape(point.shown)}</text>')
        title = (
            point.milestone.title
            if len(point.milestone.title) <= 24
            else (point.milestone.title[:23] + "…")
        )
        parts.append(
            f'<text class="label" x="{x}" y="{HEIGHT - 2}" text-anchor="middle">'
            f"{escape(title)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
