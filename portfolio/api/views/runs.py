"""A project's linked W&B and MLflow runs: link, list with their sync state, ask for a sync now.

The rules (checking the run with W&B, keys, duplicates, queueing) are
tracking.service's, shared with the project's management page; syncing itself
is the scheduler's job, so "sync" here only queues.
"""

from __future__ import annotations

from flask import url_for

from ...auth.rules import ValidationError
from ...auth.tokens import Scope
from ...db import get_session
from ...errors import NotFound
from ...models import LinkKind, RunLink, utcnow
from ...projects import access
from ...tracking import completeness, mlflow_link
from ...tracking import service as tracking
from ...tracking import status as tracking_status
from ...tracking.link import LinkRow, resolve_target
from ...tracking.settings import TrackingSettings
from .. import auth, schemas, schemas_runs
from ..loading import commit, project_for
from ..pagination import offset_page
from ..routing import Created, operation

BASE = "/projects/<int:project_id>/runs"
ONE = BASE + "/<int:link_id>"


def _flat(rows: list[LinkRow]) -> list[LinkRow]:
    """Project filters followed by the runs they found, as one list (parent_id tells)."""
    out: list[LinkRow] = []
    for row in rows:
        out += [row, *row.children]
    return out


def _out(row: LinkRow, tz_name: str, *, member: bool) -> schemas_runs.RunLinkOut:
    """The link as JSON; why a result is held only for members (mentors just read)."""
    link, snap, now = row.link, row.snapshot, utcnow()
    status = tracking.describe(link, now, tz_name)
    return schemas_runs.RunLinkOut(
        id=link.id,
        project_id=link.project_id,
        kind=str(link.kind),
        provider=link.provider,
        ref=link.ref,
        server=link.base_url,
        label=link.label,
        hidden=link.hidden,
        tags=[t for t in link.tag_filter.split(",") if t],
        parent_id=link.parent_id,
        sync_state=status.state,
        sync_status=status.text,
        last_error=link.last_error,
        held_reason=link.held_reason if member else "",
        matched_runs=link.matched_runs if link.kind == LinkKind.project_filter else None,
        matched=tracking_status.matched_text(link),
        failures=link.failures,
        last_synced_at=link.last_synced_at,
        next_sync_at=link.next_sync_at,
        created_at=link.created_at,
        snapshot=None
        if snap is None
        else schemas_runs.SnapshotOut(
            name=snap.name,
            state=snap.state,
            url=snap.url,
            started_at=snap.started_at,
            fetched_at=snap.fetched_at,
            summary=snap.summary,
        ),
    )


def _member(project, user) -> bool:
    return access.is_member(get_session(), project, user)


def _links(project, user) -> list[LinkRow]:
    """The project's links as the caller may see them (hidden ones only for members)."""
    session = get_session()
    hidden = access.sees_hidden_runs(session, project, user)
    return _flat(tracking.list_links(session, project, include_hidden=hidden))


def _row(project, link_id: int, user) -> LinkRow:
    """One link with its snapshot, as the list shows it (NotFound for others' and hidden)."""
    link = tracking.get_link(get_session(), project, link_id)
    rows = _links(project, user)
    if link.hidden and all(r.link.id != link.id for r in rows):
        raise NotFound("There is no such run link on this project.")
    return next((r for r in rows if r.link.id == link.id), LinkRow(link, None))


@operation(
    "GET",
    BASE,
    summary="List linked runs",
    tag="runs",
    scope=Scope.read,
    response=schemas_runs.RunLinkPage,
    query=schemas.PageQuery,
)
def list_runs(project_id: int, query: schemas.PageQuery) -> schemas_runs.RunLinkPage:
    """The project's run links with their sync state and latest snapshot, oldest first."""
    user = auth.caller()
    project, _ = project_for(user, project_id)
    rows = _links(project, user)
    page, next_cursor = offset_page(rows, cursor=query.cursor, limit=query.limit)
    member = _member(project, user)
    return schemas_runs.RunLinkPage(
        items=[_out(r, user.timezone, member=member) for r in page],
        next_cursor=next_cursor,
    )


@operation(
    "GET",
    ONE,
    summary="Read a run link",
    tag="runs",
    scope=Scope.read,
    response=schemas_runs.RunLinkOut,
)
def get_run(project_id: int, link_id: int) -> schemas_runs.RunLinkOut:
    """One run link with its sync state; poll it after asking for a sync."""
    user = auth.caller()
    project, _ = project_for(user, project_id)
    return _out(_row(project, link_id, user), user.timezone, member=_member(project, user))


@operation(
    "POST",
    BASE,
    summary="Link a run",
    tag="runs",
    scope=Scope.write,
    response=schemas_runs.RunLinkOut,
    status=201,
    body=schemas_runs.RunLinkCreate,
    also=(200,),
)
def create_run(
    project_id: int, body: schemas_runs.RunLinkCreate
) -> Created | schemas_runs.RunLinkOut:
    """Link a W&B or MLflow run by its URL or path (or, with kind "project", follow a W&B
    project or an MLflow experiment; MLflow needs the server saved in your settings).

    The run is checked with W&B first, then queued; the scheduler syncs it within a
    minute. Linking a run that is already linked answers 200 with the existing link,
    so a training script may call this on every start.
    """
    user = auth.caller()
    project, _ = project_for(user, project_id, edit=True)
    session = get_session()
    if body.kind == "run" and body.tags:
        raise ValidationError('Tags go with kind "project" (a followed W&B project).', field="tags")
    settings = TrackingSettings.current()
    mlflow = body.provider == "mlflow"
    if mlflow:
        kind = "run" if body.kind == "run" else "experiment"
        path = mlflow_link.resolve_target(session, user, body.ref, kind=kind).ref.path
    else:
        kind = "run" if body.kind == "run" else "project"
        path = resolve_target(session, user, body.ref, kind=kind, settings=settings).ref.path
    existing = next(
        (
            r
            for r in _flat(tracking.list_links(session, project))
            if r.link.ref == path and (r.link.provider == "mlflow") == mlflow
        ),
        None,
    )
    if existing is not None:
        return _out(existing, user.timezone, member=True)
    now = utcnow()
    if mlflow:
        link: RunLink = mlflow_link.add_mlflow_link(
            session, project, user, body.ref,
            kind=LinkKind.run if body.kind == "run" else LinkKind.project_filter,
            tags=",".join(body.tags), label=body.label, hidden=body.hidden, now=now,
            settings=settings,
        )  # fmt: skip
    elif body.kind == "run":
        link = tracking.add_run_link(
            session, project, user, body.ref, body.label, body.hidden, now=now, settings=settings
        )
    else:
        link = tracking.add_project_filter(
            session, project, user, body.ref, ",".join(body.tags), body.label, body.hidden,
            now=now, settings=settings,
        )  # fmt: skip
    commit(session)
    location = url_for("api.get_run", project_id=project.id, link_id=link.id, _external=True)
    return Created(_out(_row(project, link.id, user), user.timezone, member=True), location)


@operation(
    "POST",
    ONE + "/sync",
    summary="Sync a run now",
    tag="runs",
    scope=Scope.write,
    response=schemas_runs.RunLinkOut,
    status=202,
)
def sync_run(project_id: int, link_id: int) -> schemas_runs.RunLinkOut:
    """Queue a sync at once (the scheduler picks it up within a minute). 202 either way:
    a sync already running is left to finish. Poll the link for `sync_state`.
    """
    user = auth.caller()
    project, _ = project_for(user, project_id, edit=True)
    session = get_session()
    link = tracking.get_link(session, project, link_id)
    tracking.request_sync(session, link, utcnow())
    commit(session)
    return _out(_row(project, link_id, user), user.timezone, member=True)


@operation(
    "PATCH",
    ONE,
    summary="Edit a run link",
    tag="runs",
    scope=Scope.write,
    response=schemas_runs.RunLinkOut,
    body=schemas_runs.RunLinkUpdate,
)
def update_run(
    project_id: int, link_id: int, body: schemas_runs.RunLinkUpdate
) -> schemas_runs.RunLinkOut:
    """Change the fields sent: `label`, `hidden`, and a project filter's `tags` (checked as
    on the runs page; new tags queue the filter, whose next listing relinks the runs).
    """
    user = auth.caller()
    project, _ = project_for(user, project_id, edit=True)
    session = get_session()
    link = tracking.get_link(session, project, link_id)
    tags = None
    if body.tags is not None:
        if link.kind != LinkKind.project_filter:
            raise ValidationError(
                'Only a project filter (kind "project_filter") has tags to change.', field="tags"
            )
        if any("," in tag for tag in body.tags):
            raise ValidationError("A tag may not contain a comma.", field="tags")
        tags = ",".join(body.tags)
    tracking.update_link(
        session, link, label=link.label if body.label is None else body.label,
        hidden=link.hidden if body.hidden is None else body.hidden, now=utcnow(), tags=tags,
    )  # fmt: skip
    commit(session)
    return _out(_row(project, link_id, user), user.timezone, member=True)


def _choose(project_id: int, link_id: int, *, replace: bool) -> schemas_runs.RunLinkOut:
    """Apply a member's choice about a held (less complete) result, as the runs page does."""
    user = auth.caller()
    project, _ = project_for(user, project_id, edit=True)
    session = get_session()
    link = tracking.get_link(session, project, link_id)
    if replace:
        completeness.replace_anyway(session, project, link, now=utcnow())
    else:
        completeness.keep_current(session, link)
    commit(session)
    return _out(_row(project, link_id, user), user.timezone, member=True)


@operation(
    "POST",
    ONE + "/keep",
    summary="Keep the current results",
    tag="runs",
    scope=Scope.write,
    response=schemas_runs.RunLinkOut,
)
def keep_run_results(project_id: int, link_id: int) -> schemas_runs.RunLinkOut:
    """Drop the held (less complete) newer result and keep the current snapshot; 422 when
    no result is held (`held_reason` is empty)."""
    return _choose(project_id, link_id, replace=False)


@operation(
    "POST",
    ONE + "/replace",
    summary="Replace with the held results",
    tag="runs",
    scope=Scope.write,
    response=schemas_runs.RunLinkOut,
)
def replace_run_results(project_id: int, link_id: int) -> schemas_runs.RunLinkOut:
    """Make the held newer result current even though it is less complete ("Replace
    anyway"); the old snapshot is deleted. 422 when no result is held."""
    return _choose(project_id, link_id, replace=True)
