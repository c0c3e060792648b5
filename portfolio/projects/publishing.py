"""Publishing a project: who may change its visibility, and what helps before the first publish.

A project starts as a draft. Its members see a banner on each of its pages
with buttons to make it public or unlisted, a visibility control on the
project page, and, on the dashboard, a short checklist of what makes a page
worth sending (a write-up, a linked run, a headline metric). The checklist
guides; it never blocks publishing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from ..auth.rules import ValidationError, require_verified
from ..models import Project, RunLink, User, Visibility
from ..page_version import bump_version
from . import access

MESSAGES = {
    Visibility.public: "Your project is public: anyone can find it, and it shows on your profile.",
    Visibility.unlisted: (
        "Your project is unlisted: anyone with the link can see it; "
        "it is not on your profile, the season page or in search engines."
    ),
    Visibility.draft: "Your project is a draft again: only your team and mentors can see it.",
}


def check_visibility(project: Project, value: str | None, *, actor: User) -> Visibility:
    """Parse a requested visibility; leaving draft needs a confirmed address (if required)."""
    try:
        wanted = Visibility((value or "").strip())
    except ValueError as exc:
        raise ValidationError("Choose draft, unlisted or public.", field="visibility") from exc
    if wanted != Visibility.draft and project.visibility == Visibility.draft:
        require_verified(actor, "publish a project")
    return wanted


def set_visibility(
    session: Session, project: Project, value: str | None, *, actor: User, now: datetime
) -> Project:
    """Publish, unlist or return a project to draft; the same rule as the edit form."""
    wanted = check_visibility(project, value, actor=actor)
    if wanted == project.visibility:
        return project
    project.visibility = wanted
    project.updated_at = project.last_activity_at = now
    session.add(project)
    session.flush()
    bump_version(session, project.id)  # cached anonymous pages and the draft 404 follow
    return project


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool


@dataclass(frozen=True)
class PublishChecklist:
    """What makes a first publish worth sending, item by item."""

    items: tuple[ChecklistItem, ...]

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def done_count(self) -> int:
        return sum(item.done for item in self.items)


def checklists(session: Session, projects: list[Project]) -> dict[int, PublishChecklist]:
    """The first-publish checklist of each project, with one query for all of them."""
    ids = [p.id for p in projects if p.id is not None]
    linked: set[int] = set()
    if ids:
        # A run visitors will see: linked and not hidden (synced or still syncing).
        linked = set(
            session.exec(
                select(RunLink.project_id)
                .where(RunLink.project_id.in_(ids), RunLink.hidden.is_(False))
                .distinct()
            )
        )
    return {
        p.id: PublishChecklist(
            (
                ChecklistItem("write_up", "Write up what you did", bool(p.body_md.strip())),
                ChecklistItem("run", "Link a run", p.id in linked),
                ChecklistItem("headline", "Choose a headline metric", bool(p.headline_metric)),
            )
        )
        for p in projects
    }


@dataclass(frozen=True)
class Banner:
    """The draft banner of a project page: buttons for those who may publish."""

    can_publish: bool


def draft_banner(session: Session, project: Project, viewer: User | None) -> Banner | None:
    """A banner on every page of a draft project, for the people who can see the draft."""
    if project.visibility != Visibility.draft:
        return None
    if access.can_edit(session, project, viewer):
        return Banner(can_publish=True)
    if access.can_view(session, project, viewer):
        return Banner(can_publish=False)
    return None
