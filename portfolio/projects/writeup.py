"""The write-up, the headline metric and the learner's chart choices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlmodel import Session

from ..auth.rules import ValidationError
from ..charts.model import MAX_SMOOTHING, STEP
from ..markdown import MAX_MARKDOWN_CHARS, MarkdownTooLong
from ..models import MetricGoal, Project
from ..page_version import bump_version
from ..public.service import render_write_up

MAX_CHARTS = 8
MAX_CHART_METRICS = 4


def _touch(session: Session, project: Project, now: datetime) -> None:
    bump_version(session, project.id)
    project.updated_at = project.last_activity_at = now


def _check_body(body_md: str) -> str:
    if len(body_md or "") > MAX_MARKDOWN_CHARS:
        raise ValidationError(
            f"The write-up is at most {MAX_MARKDOWN_CHARS:,} characters. Move long parts "
            "to your repository and link them.",
            field="body_md",
        )
    return body_md or ""


def preview_write_up(body_md: str) -> Markup:
    """Render unsaved write-up text exactly as the project page will; nothing is stored.

    The same length rule as saving, and the same renderer and sanitizer as the
    page, so what the preview shows is what visitors get.
    """
    try:
        return render_write_up(_check_body(body_md)) or Markup("")
    except MarkdownTooLong as exc:
        raise ValidationError(str(exc), field="body_md") from exc


def update_write_up(
    session: Session,
    project: Project,
    *,
    body_md: str,
    headline_metric: str,
    headline_goal: str,
    now: datetime,
) -> Project:
    body_md = _check_body(body_md)
    headline_metric = (headline_metric or "").strip()
    if len(headline_metric) > 200:
        raise ValidationError("The metric name is at most 200 characters.", field="headline_metric")
    try:
        goal = MetricGoal(headline_goal)
    except ValueError as exc:
        raise ValidationError(
            "Choose whether lower or higher is better.", field="headline_goal"
        ) from exc
    project.body_md, project.headline_metric, project.headline_goal = (
        body_md or "",
        headline_metric,
        goal,
    )
    _touch(session, project, now)
    session.add(project)
    session.flush()
    return project


def add_chart(
    session: Session,
    project: Project,
    *,
    metrics: list[str],
    x_axis: str,
    smoothing: float,
    log_y: bool,
    runs: list[int],
    available_metrics: list[str],
    available_runs: list[int],
    now: datetime,
) -> dict[str, Any]:
    """Add a chart; every metric and run must be one the project actually has."""
    if len(project.charts or []) >= MAX_CHARTS:
        raise ValidationError(f"A project has at most {MAX_CHARTS} charts.", field="metrics")
    if not metrics:
        raise ValidationError("Pick at least one metric to chart.", field="metrics")
    if len(metrics) > MAX_CHART_METRICS:
        raise ValidationError(
            f"A chart shows at most {MAX_CHART_METRICS} metrics.", field="metrics"
        )
    unknown = [m for m in metrics if m not in available_metrics]
    if unknown:
        raise ValidationError("Pick metrics from the list of synced metrics.", field="metrics")
    if x_axis != STEP and x_axis not in available_metrics:
        raise ValidationError("The x axis is the step or a logged metric.", field="x_axis")
    if not 0 <= smoothing <= MAX_SMOOTHING:
        raise ValidationError(f"Smoothing is between 0 and {MAX_SMOOTHING}.", field="smoothing")
    if any(r not in available_runs for r in runs):
        raise ValidationError("Pick runs from this project.", field="runs")
    chart = {"metrics": metrics, "x": x_axis, "smoothing": smoothing, "log_y": log_y, "runs": runs}
    project.charts = [*(project.charts or []), chart]
    _touch(session, project, now)
    session.add(project)
    session.flush()
    return chart


def remove_chart(session: Session, project: Project, index: int, *, now: datetime) -> None:
    charts = list(project.charts or [])
    if not 0 <= index < len(charts):
        raise ValidationError("No such chart.", field="charts")
    del charts[index]
    project.charts = charts
    _touch(session, project, now)
    session.add(project)
    session.flush()
