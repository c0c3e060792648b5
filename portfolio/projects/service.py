"""Projects: planning, team invitations, slugs, editing and carrying forward."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from slugify import slugify
from sqlmodel import Session, select

from ..auth import service as accounts
from ..auth.rules import ValidationError, check_http_url, check_length
from ..errors import Conflict, DomainError, NotFound
from ..markdown import MAX_MARKDOWN_CHARS
from ..models import (
    MemberStatus,
    Project,
    ProjectMember,
    ProjectSlug,
    Season,
    User,
)
from ..page_version import bump_version
from ..seasons import milestones
from ..seasons import service as seasons
from . import publishing

logger = logging.getLogger(__name__)

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MAX_TEAM = 8


class SecondProjectWarning(DomainError):
    """The learner already has a project this season; they must confirm a second."""

    status = 409


@dataclass
class ProjectFields:
    title: str
    summary: str = ""
    problem_md: str = ""
    repo_url: str = ""


def _check_fields(fields: ProjectFields) -> ProjectFields:
    title = check_length(fields.title, field="title", label="Title", max_len=120, required=True)
    summary = check_length(
        fields.summary, field="summary", label="Summary", max_len=200, required=False
    )
    if "\n" in summary:
        raise ValidationError("The summary is one line.", field="summary")
    problem = fields.problem_md or ""
    if len(problem) > MAX_MARKDOWN_CHARS:
        raise ValidationError(
            f"The problem statement is at most {MAX_MARKDOWN_CHARS:,} characters.",
            field="problem_md",
        )
    return ProjectFields(title, summary, problem, check_repo_url(fields.repo_url))


def check_repo_url(value: str) -> str:
    """Accept only http(s) URLs with a host: the link is rendered on public pages."""
    return check_http_url(
        value,
        field="repo_url",
        label="The repository link",
        example="https://github.com/you/project",
    )


def _slug_taken(session: Session, owner_id: int, slug: str, exclude: int | None) -> bool:
    q = select(Project.id).where(Project.owner_id == owner_id, Project.slug == slug)
    old = select(ProjectSlug.project_id).where(
        ProjectSlug.owner_id == owner_id, ProjectSlug.slug == slug
    )
    if exclude is not None:
        q = q.where(Project.id != exclude)
        old = old.where(ProjectSlug.project_id != exclude)
    return session.exec(q).first() is not None or session.exec(old).first() is not None


def unique_slug(session: Session, owner_id: int, title: str) -> str:
    """A slug from the title, made unique among the owner's current and old slugs."""
    base = slugify(title, max_length=70, word_boundary=True) or "project"
    slug, n = base, 2
    while _slug_taken(session, owner_id, slug, None):
        slug, n = f"{base}-{n}", n + 1
    return slug


def projects_in_season(session: Session, user_id: int, season_id: int) -> list[Project]:
    return list(
        session.exec(
            select(Project)
            .join(ProjectMember, ProjectMember.project_id == Project.id)
            .where(
                ProjectMember.user_id == user_id,
                ProjectMember.status == MemberStatus.accepted,
                Project.season_id == season_id,
            )
            .order_by(Project.created_at)
        )
    )


def _resolve_team(session: Session, owner: User, handles: list[str]) -> list[User]:
    users: list[User] = []
    for handle in handles:
        handle = handle.strip().lstrip("@").lower()
        if not handle or handle == owner.handle:
            continue
        user = accounts.get_user_by_handle(session, handle)
        if user is None:
            raise ValidationError(f"There is no one with the handle @{handle}.", field="team")
        if user not in users:
            users.append(user)
    if len(users) > MAX_TEAM:
        raise ValidationError(f"A team has at most {MAX_TEAM + 1} people.", field="team")
    return users


def parse_handles(text: str) -> list[str]:
    return [h for h in re.split(r"[\s,]+", text or "") if h]


def create(
    session: Session,
    *,
    owner: User,
    season: Season,
    fields: ProjectFields,
    team_handles: list[str],
    allow_second: bool,
    now: datetime,
) -> Project:
    """Plan a project: checks, enrollment, owner + invited members, the milestone plan."""
    fields = _check_fields(fields)
    team = _resolve_team(session, owner, team_handles)
    if projects_in_season(session, owner.id, season.id) and not allow_second:
        raise SecondProjectWarning(
            "You already have a project this season. One project per season is the norm; "
            "tick the box to plan a second one anyway.",
            field="allow_second",
        )
    seasons.enroll(session, owner, season)
    project = Project(
        season_id=season.id,
        owner_id=owner.id,
        title=fields.title,
        slug=unique_slug(session, owner.id, fields.title),
        summary=fields.summary,
        problem_md=fields.problem_md,
        repo_url=fields.repo_url,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    session.add(project)
    session.flush()
    session.add(
        ProjectMember(project_id=project.id, user_id=owner.id, status=MemberStatus.accepted)
    )
    for user in team:
        session.add(
            ProjectMember(
                project_id=project.id,
                user_id=user.id,
                status=MemberStatus.invited,
                invited_by_id=owner.id,
            )
        )
    milestones.seed_from_plan(session, project, season, owner.timezone, now=now)
    logger.info("project planned", extra={"project_id": project.id, "season": season.slug})
    return project


def update(
    session: Session,
    project: Project,
    *,
    fields: ProjectFields,
    slug: str,
    visibility: str,
    actor: User,
    now: datetime,
) -> Project:
    """Edit a project; a new slug keeps the old one as a redirect."""
    fields = _check_fields(fields)
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationError(
            "Use lowercase letters, digits and dashes for the address (at most 80).", field="slug"
        )
    new_visibility = publishing.check_visibility(project, visibility, actor=actor)
    if slug != project.slug:
        if _slug_taken(session, project.owner_id, slug, project.id):
            raise Conflict("You already use that address for another project.", field="slug")
        old = session.exec(
            select(ProjectSlug).where(
                ProjectSlug.owner_id == project.owner_id, ProjectSlug.slug == slug
            )
        ).first()
        if old is not None:  # taking back one of this project's own old slugs
            session.delete(old)
        session.add(
            ProjectSlug(owner_id=project.owner_id, project_id=project.id, slug=project.slug)
        )
        project.slug = slug
    project.title, project.summary = fields.title, fields.summary
    project.problem_md, project.repo_url = fields.problem_md, fields.repo_url
    project.visibility = new_visibility
    project.updated_at = project.last_activity_at = now
    session.add(project)
    session.flush()
    bump_version(session, project.id)
    return project


def resolve(session: Session, handle: str, slug: str) -> tuple[Project, bool]:
    """Find a project by URL; the bool says the URL is old and should redirect.

    The common case (current slug under the owner's handle) is one query that
    also loads the owner and the season, since every page needs them.
    """
    hit = session.exec(
        select(Project, User, Season)
        .join(User, User.id == Project.owner_id)
        .join(Season, Season.id == Project.season_id)
        .where(User.handle == handle.strip().lower(), Project.slug == slug)
    ).first()
    if hit is not None:
        return hit[0], False
    owner = accounts.get_user_by_handle(session, handle)
    if owner is None:
        raise NotFound("There is no such project.")
    project = session.exec(
        select(Project).where(Project.owner_id == owner.id, Project.slug == slug)
    ).first()
    if project is not None:
        return project, False
    old = session.exec(
        select(ProjectSlug).where(ProjectSlug.owner_id == owner.id, ProjectSlug.slug == slug)
    ).first()
    if old is not None:
        return session.get(Project, old.project_id), True
    # A team member's handle in the URL: send them to the owner's address.
    shared = session.exec(
        select(Project)
        .join(ProjectMember, ProjectMember.project_id == Project.id)
        .where(
            ProjectMember.user_id == owner.id,
            ProjectMember.status == MemberStatus.accepted,
            Project.slug == slug,
        )
    ).first()
    if shared is not None:
        return shared, True
    raise NotFound("There is no such project.")


def pending_invitations(session: Session, user: User) -> list[tuple[ProjectMember, Project]]:
    return list(
        session.exec(
            select(ProjectMember, Project)
            .join(Project, Project.id == ProjectMember.project_id)
            .where(ProjectMember.user_id == user.id, ProjectMember.status == MemberStatus.invited)
        )
    )


def answer_invitation(session: Session, user: User, invitation_id: int, *, accept: bool) -> None:
    invitation = session.get(ProjectMember, invitation_id)
    if invitation is None or invitation.user_id != user.id:
        raise NotFound("There is no such invitation.")
    if invitation.status != MemberStatus.invited:
        raise Conflict("You already answered that invitation.")
    if accept:
        invitation.status = MemberStatus.accepted
        session.add(invitation)
        project = session.get(Project, invitation.project_id)
        assert project is not None
        seasons.enroll(session, user, session.get(Season, project.season_id))
        bump_version(session, project.id)
    else:
        session.delete(invitation)
    session.flush()


def carry_forward(session: Session, project: Project, *, actor: User, now: datetime) -> Project:
    """Continue a project in the next season: new plan, the write-up kept."""
    season = session.get(Season, project.season_id)
    assert season is not None
    nxt = seasons.season_after(session, season)
    existing = session.exec(select(Project).where(Project.carried_from_id == project.id)).first()
    if existing is not None:
        raise Conflict("This project was already carried into the next season.")
    new = create(
        session,
        owner=actor,
        season=nxt,
        fields=ProjectFields(project.title, project.summary, project.problem_md, project.repo_url),
        team_handles=[],
        allow_second=True,
        now=now,
    )
    new.body_md = project.body_md
    new.headline_metric, new.headline_goal = project.headline_metric, project.headline_goal
    new.carried_from_id = project.id
    session.add(new)
    session.flush()
    return new


def projects_of(session: Session, user_id: int) -> list[tuple[Project, Season]]:
    """Every project the user is an accepted member of, newest season first."""
    return list(
        session.exec(
            select(Project, Season)
            .join(ProjectMember, ProjectMember.project_id == Project.id)
            .join(Season, Season.id == Project.season_id)
            .where(ProjectMember.user_id == user_id, ProjectMember.status == MemberStatus.accepted)
            .order_by(Season.starts_on.desc(), Project.created_at)
        )
    )


def members_of(session: Session, project_id: int) -> list[tuple[User, MemberStatus]]:
    return [
        (user, status)
        for user, status in session.exec(
            select(User, ProjectMember.status)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(ProjectMember.project_id == project_id)
            .order_by(ProjectMember.id)
        )
    ]
