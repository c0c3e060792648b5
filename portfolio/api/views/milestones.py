"""A project's milestones: list, add, edit, complete (seasons.milestones holds the rules)."""

from __future__ import annotations

from datetime import date, time

from flask import url_for

from ...auth.rules import ValidationError
from ...auth.tokens import Scope
from ...db import get_session
from ...models import utcnow
from ...seasons import milestones
from .. import auth, present, schemas
from ..loading import commit, project_for
from ..pagination import offset_page
from ..routing import Created, operation

BASE = "/projects/<int:project_id>/milestones"
ONE = BASE + "/<int:milestone_id>"


def _due(body: schemas.MilestoneDue, tz_name: str) -> tuple[date, time | None, str] | None:
    """The due day, time and zone the service takes; None when no due field was sent."""
    if body.due_at is not None:
        if body.due_date is not None or body.due_time is not None:
            raise ValidationError(
                "Send due_at, or due_date (and due_time), not both.", field="due_at"
            )
        instant = body.due_at
        return instant.date(), instant.time().replace(tzinfo=None), "UTC"
    if body.due_date is None:
        if body.due_time is not None:
            raise ValidationError("due_time goes with a due_date.", field="due_date")
        return None
    at = None
    if body.due_time is not None:
        hours, minutes = body.due_time.split(":")
        at = time(int(hours), int(minutes))
    return body.due_date, at, tz_name


@operation(
    "GET",
    BASE,
    summary="List milestones",
    tag="milestones",
    scope=Scope.read,
    response=schemas.MilestonePage,
    query=schemas.PageQuery,
)
def list_milestones(project_id: int, query: schemas.PageQuery) -> schemas.MilestonePage:
    """The project's milestones, earliest due first."""
    project, _ = project_for(auth.caller(), project_id)
    rows = milestones.list_for(get_session(), project.id)
    page, next_cursor = offset_page(rows, cursor=query.cursor, limit=query.limit)
    return schemas.MilestonePage(
        items=[present.milestone(m) for m in page], next_cursor=next_cursor
    )


@operation(
    "POST",
    BASE,
    summary="Add a milestone",
    tag="milestones",
    scope=Scope.write,
    response=schemas.MilestoneOut,
    status=201,
    body=schemas.MilestoneCreate,
)
def create_milestone(project_id: int, body: schemas.MilestoneCreate) -> Created:
    """Add a milestone due at `due_at`, or on `due_date` (23:59 or `due_time`) in your zone."""
    user = auth.caller()
    project, season = project_for(user, project_id, edit=True)
    due = _due(body, user.timezone)
    if due is None:
        raise ValidationError("Give a due_at or a due_date.", field="due_date")
    day, at, tz_name = due
    session = get_session()
    milestone = milestones.add(
        session, project, season, title=body.title, day=day, at=at, tz_name=tz_name, now=utcnow()
    )
    commit(session)
    location = url_for(
        "api.get_milestone", project_id=project.id, milestone_id=milestone.id, _external=True
    )
    return Created(present.milestone(milestone), location)


@operation(
    "GET",
    ONE,
    summary="Read a milestone",
    tag="milestones",
    scope=Scope.read,
    response=schemas.MilestoneOut,
)
def get_milestone(project_id: int, milestone_id: int) -> schemas.MilestoneOut:
    """One milestone of the project."""
    project, _ = project_for(auth.caller(), project_id)
    return present.milestone(milestones.get(get_session(), project, milestone_id))


@operation(
    "PATCH",
    ONE,
    summary="Edit a milestone",
    tag="milestones",
    scope=Scope.write,
    response=schemas.MilestoneOut,
    body=schemas.MilestoneUpdate,
)
def update_milestone(
    project_id: int, milestone_id: int, body: schemas.MilestoneUpdate
) -> schemas.MilestoneOut:
    """Rename or move a milestone; moving it re-arms its reminders for the new time."""
    user = auth.caller()
    project, season = project_for(user, project_id, edit=True)
    session = get_session()
    milestone = milestones.get(session, project, milestone_id)
    due = _due(body, user.timezone)
    if due is None:  # keep the instant: the same UTC day and time
        due = milestone.due_at.date(), milestone.due_at.time(), "UTC"
    day, at, tz_name = due
    milestones.update(
        session,
        project,
        season,
        milestone,
        title=milestone.title if body.title is None else body.title,
        day=day,
        at=at,
        tz_name=tz_name,
        now=utcnow(),
    )
    commit(session)
    return present.milestone(milestone)


@operation(
    "POST",
    ONE + "/complete",
    summary="Complete a milestone",
    tag="milestones",
    scope=Scope.write,
    response=schemas.MilestoneOut,
    body=schemas.MilestoneComplete,
)
def complete_milestone(
    project_id: int, milestone_id: int, body: schemas.MilestoneComplete
) -> schemas.MilestoneOut:
    """Mark it done (with an optional note); its unsent reminders are cancelled. Repeatable."""
    project, _ = project_for(auth.caller(), project_id, edit=True)
    session = get_session()
    milestone = milestones.get(session, project, milestone_id)
    milestones.complete(session, project, milestone, note=body.note, now=utcnow())
    commit(session)
    return present.milestone(milestone)
