"""Season recaps: planned vs done, the headline improvement, time on track.

A recap is read, not stored: its figures come from milestones and their freezes
(seasons/freezes.py, the same frozen values as the progress timeline), so a later
sync never rewrites what the season showed. Only the learner's text and whether
the recap is public live in ``project_recaps``. An untouched recap reads well
anyway: its text is generated from the figures (``default_text``).

Visibility: a recap is public only when published *and* its project is public or
unlisted; hidden runs never count. On-time figures follow the public record rule
(seasons/public_record.py): visitors see them only when every member opted in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from markupsafe import Markup
from sqlmodel import Session, col, select

from ..auth.rules import check_length
from ..db import get_session
from ..errors import DomainError
from ..markdown import render_markdown
from ..models import (
    LinkKind,
    Project,
    ProjectRecap,
    RunLink,
    Season,
    User,
    Visibility,
)
from ..numbers import format_value
from ..page_version import bump_version
from ..projects import access
from ..public import progress
from ..public.compare import digits_for
from . import milestones as milestone_service
from . import public_record

MAX_BODY = 2000
VISIBLE = (Visibility.public, Visibility.unlisted)
NOT_YET = (
    "The recap opens when the season's last day has passed or the project's last milestone is done."
)


@dataclass(frozen=True)
class PlannedItem:
    title: str
    done: bool


@dataclass(frozen=True)
class Improvement:
    """The headline metric's best frozen value at the first and last completed milestone."""

    metric: str
    goal: str  # "max" or "min": which way is better
    first: float
    last: float
    first_shown: str
    last_shown: str

    @property
    def better(self) -> bool | None:
        """True when the value moved the right way, None when it did not move."""
        if self.first == self.last:
            return None
        return self.last < self.first if self.goal == "min" else self.last > self.first

    @property
    def line(self) -> str:
        """One line for cards and the profile: "val/acc 0.81 → 0.93 (higher is better)"."""
        way = "lower" if self.goal == "min" else "higher"
        return f"{self.metric} {self.first_shown} → {self.last_shown} ({way} is better)"


@dataclass
class RecapFigures:
    planned: int = 0
    done: int = 0
    items: list[PlannedItem] = field(default_factory=list)
    improvement: Improvement | None = None
    # (milestone title, best value, as shown) at each completed milestone, same metric.
    progression: list[tuple[str, float, str]] = field(default_factory=list)
    on_time: int | None = None  # done on or before due; None: not shown to this viewer
    span_days: int | None = None  # first to last completion; None under one completion
    runs: int = 0

    @property
    def done_line(self) -> str:
        return f"{self.done} of {self.planned} milestones done"


# --- figures ------------------------------------------------------------------


def improvement_of(points: list[progress.Checkpoint]) -> tuple[Improvement | None, list]:
    """First → last best frozen value of the latest headline metric, and the points."""
    metric = next((p.metric for p in reversed(points) if p.best), "")
    drawn = [p for p in points if p.best and p.metric == metric]
    if not drawn:
        return None, []
    digits = digits_for(p.best.value for p in drawn)
    shown = [(p.milestone.title, p.best.value, format_value(p.best.value, digits)) for p in drawn]
    goal = drawn[-1].freeze.headline_goal if drawn[-1].freeze else "max"
    first, last = shown[0], shown[-1]
    return Improvement(metric, goal, first[1], last[1], first[2], last[2]), shown


def recap_figures(session: Session, project: Project, viewer_is_insider: bool) -> RecapFigures:
    """The recap's figures for one project; on-time ones only for insiders or an open record."""
    planned = milestone_service.list_for(session, project.id)
    done = [m for m in planned if m.done_at]
    improvement, shown = improvement_of(progress.timeline(session, project))
    figures = RecapFigures(
        planned=len(planned),
        done=len(done),
        items=[PlannedItem(m.title, m.done_at is not None) for m in planned],
        improvement=improvement,
        progression=shown,
        runs=len(
            session.exec(
                select(RunLink.id).where(
                    RunLink.project_id == project.id,
                    RunLink.kind == LinkKind.run,
                    RunLink.hidden.is_(False),
                )
            ).all()
        ),
    )
    if done:
        times = sorted(m.done_at for m in done)
        figures.span_days = (times[-1] - times[0]).days if len(times) > 1 else None
        if viewer_is_insider or project.id in public_record.public_health_projects(
            session, [project.id]
        ):
            figures.on_time = sum(1 for m in done if m.done_at <= m.due_at)
    return figures


def default_text(project: Project, season: Season, figures: RecapFigures) -> str:
    """Plain sentences from the figures: what an untouched recap says."""
    lines = [
        f"In {season.title}, “{project.title}” completed {figures.done} of "
        f"{figures.planned} milestones."
    ]
    if figures.improvement is not None:
        imp = figures.improvement
        if imp.better is None:
            lines.append(f"The headline metric {imp.metric} held at {imp.last_shown}.")
        else:
            lines.append(
                f"The headline metric {imp.metric} went from {imp.first_shown} to "
                f"{imp.last_shown}" + (" — an improvement." if imp.better else ".")
            )
    if figures.on_time is not None and figures.done:
        lines.append(f"{figures.on_time} of {figures.done} milestones were done on time.")
    if figures.span_days is not None:
        lines.append(f"The work spanned {figures.span_days} days from first to last milestone.")
    if figures.runs:
        lines.append(f"{figures.runs} run{'s' if figures.runs != 1 else ''} linked.")
    return " ".join(lines)


# --- state and changes ------------------------------------------------------------


def get(session: Session, project_id: int) -> ProjectRecap | None:
    return session.get(ProjectRecap, project_id)


def is_available(session: Session, project: Project, season: Season, now: datetime) -> bool:
    """Once the season's last day has passed, or the project's last milestone is done."""
    if now.date() > season.ends_on:
        return True
    planned = milestone_service.list_for(session, project.id)
    return bool(planned) and planned[-1].done_at is not None


def is_public(project: Project, recap: ProjectRecap | None) -> bool:
    return recap is not None and recap.published_at is not None and project.visibility in VISIBLE


def body_html(
    project: Project, season: Season, recap: ProjectRecap | None, figures: RecapFigures
) -> Markup:
    """The learner's text as sanitized Markdown HTML, or the generated text as plain text.

    The generated text quotes the project title and the metric name (user and tracker
    text), so it is escaped as a paragraph rather than read as Markdown.
    """
    if recap is not None and recap.body_md.strip():
        return render_markdown(recap.body_md, id_prefix="recap-")
    return Markup("<p>{}</p>").format(default_text(project, season, figures))


def _write(
    session: Session,
    project: Project,
    season: Season,
    user: User,
    body: str,
    now: datetime,
) -> ProjectRecap:
    """Validate and store the text (caller commits); an unchanged default stays empty."""
    body = check_length(body, field="body", label="Recap text", max_len=MAX_BODY, required=False)
    if not is_available(session, project, season, now):
        raise DomainError(NOT_YET, field="body")
    # The generated text, sent back unchanged, is not stored: it keeps following the figures.
    generated = default_text(project, season, recap_figures(session, project, False))
    if body == generated:
        body = ""
    recap = get(session, project.id) or ProjectRecap(project_id=project.id)
    recap.body_md = body
    recap.updated_at = now
    recap.updated_by_id = user.id
    session.add(recap)
    return recap


def save_text(
    session: Session, project: Project, season: Season, user: User, body: str, *, now: datetime
) -> ProjectRecap:
    """Save the text as it is; a published recap stays published (and its page renews)."""
    recap = _write(session, project, season, user, body, now)
    session.flush()
    bump_version(session, project.id)
    return recap


def publish(
    session: Session, project: Project, season: Season, user: User, body: str, *, now: datetime
) -> ProjectRecap:
    """Save the text and make the recap public (shown only while the project is visible)."""
    recap = _write(session, project, season, user, body, now)
    if recap.published_at is None:
        recap.published_at = now
    session.add(recap)
    session.flush()
    bump_version(session, project.id)
    return recap


def unpublish(session: Session, project: Project, *, now: datetime) -> ProjectRecap:
    """Take the recap back to a draft; its text is kept."""
    recap = get(session, project.id)
    if recap is None or recap.published_at is None:
        raise DomainError("This recap is not published.", field="body")
    recap.published_at = None
    recap.updated_at = now
    session.add(recap)
    session.flush()
    bump_version(session, project.id)
    return recap


# --- for other pages ----------------------------------------------------------------


def published_recaps(session: Session, project_ids: list[int]) -> set[int]:
    """The projects, among these, with a public recap (published, project visible): one query."""
    if not project_ids:
        return set()
    return set(
        session.exec(
            select(ProjectRecap.project_id)
            .join(Project, Project.id == ProjectRecap.project_id)
            .where(
                col(ProjectRecap.project_id).in_(project_ids),
                col(ProjectRecap.published_at).is_not(None),
                col(Project.visibility).in_(VISIBLE),
            )
        )
    )


def recap_image_url(project: Project) -> str | None:
    """The recap image's path, or None when the project has no public recap."""
    session = get_session()
    if not is_public(project, get(session, project.id)):
        return None
    owner = session.get(User, project.owner_id)
    return url_for("public.recap_image", handle=owner.handle, slug=project.slug)


@dataclass(frozen=True)
class RecapSection:
    html: Markup
    figures: RecapFigures


def page_section(
    session: Session, project: Project, season: Season, viewer: User | None, now: datetime
) -> tuple[RecapSection | None, str | None]:
    """The project page's recap: the section when public, and for a member the editor's
    link once the recap is available (the page invites them to write it until published)."""
    recap = get(session, project.id)
    section = None
    if is_public(project, recap):
        figures = recap_figures(session, project, access.is_insider(session, project, viewer))
        public = figures if figures.on_time is None else recap_figures(session, project, False)
        section = RecapSection(body_html(project, season, recap, public), figures)
    link = None
    if access.is_member(session, project, viewer) and is_available(session, project, season, now):
        owner = session.get(User, project.owner_id)
        link = url_for("projects.recap_edit", handle=owner.handle, slug=project.slug)
    return section, link
