"""Link W&B runs and projects to a Seasons project; label, hide, unlink, queue a sync.

These are the service functions the web views, the API and the CLI share. They add and
flush; the caller commits (and rolls back on a ``DomainError``).

A pasted link is checked with W&B before anything is saved, so a run that does not exist
or that the key may not read is a clear error and leaves nothing behind. The check waits
at most ``WANDB_LINK_CHECK_SECONDS``: when W&B is slow or down, the link is saved as
queued and the scheduler syncs it when W&B answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..auth.rules import ValidationError, check_length
from ..errors import Forbidden, NotFound
from ..models import LinkKind, Project, RunLink, RunSnapshot, SyncState, User
from ..projects import access
from . import credentials, snapshots
from .provider import InvalidReference, TrackingError
from .refs import FORGE_HOSTS, SAAS_HOSTS, WandbRef, parse_ref, validate_base_url
from .settings import OFFLINE_PROVIDER, TrackingSettings
from .wait import call_with_deadline

logger = logging.getLogger(__name__)

MAX_TAGS = 10
MAX_TAG = 64
MAX_TAG_FILTER = 200  # run_links.tag_filter holds them comma-separated


@dataclass(frozen=True)
class Target:
    """A parsed reference and the API server that holds it."""

    ref: WandbRef
    base_url: str


@dataclass
class LinkRow:
    """A link as the management page and the API list it."""

    link: RunLink
    snapshot: RunSnapshot | None
    children: list[LinkRow] = field(default_factory=list)


def resolve_target(
    session: Session, actor: User, text: str, *, kind: str, settings: TrackingSettings
) -> Target:
    """Parse pasted text against every W&B server the actor may use, and pick the server."""
    saved = credentials.list_credentials(session, actor.id)
    servers = [c.base_url for c in saved if c.provider == "wandb"]
    candidates = list(dict.fromkeys([*servers, settings.base_url]))
    for base_url in candidates:
        try:
            ref = parse_ref(text, base_url=base_url, kind=kind)  # type: ignore[arg-type]
        except InvalidReference:
            continue
        if ref.host is None:  # a bare path: the actor's one server, else the default
            server = servers[0] if len(set(servers)) == 1 else settings.base_url
        elif ref.host in SAAS_HOSTS or ref.host in FORGE_HOSTS:
            server = validate_base_url(f"https://{ref.host}") or settings.base_url
        else:
            server = base_url
        return Target(ref, server)
    try:  # no server accepts it: the message without a base URL explains best
        parse_ref(text, base_url=None, kind=kind)  # type: ignore[arg-type]
    except InvalidReference as err:
        raise ValidationError(err.message, field="ref") from None
    raise ValidationError("That is not a W&B link we can read.", field="ref")


def parse_tags(text: str | None) -> list[str]:
    """Parse a comma-separated tag filter (any of the tags matches)."""
    tags = list(dict.fromkeys(t.strip() for t in (text or "").split(",") if t.strip()))
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"Use at most {MAX_TAGS} tags.", field="tags")
    for tag in tags:
        if len(tag) > MAX_TAG or not tag.isprintable():
            raise ValidationError(f"A tag is at most {MAX_TAG} printable characters.", field="tags")
    if len(",".join(tags)) > MAX_TAG_FILTER:
        raise ValidationError(
            f"The tags together are at most {MAX_TAG_FILTER} characters.", field="tags"
        )
    return tags


def _check_label(label: str | None) -> str:
    return check_length(label or "", field="label", label="Label", max_len=120, required=False)


def _existing(session: Session, project: Project, ref: str) -> RunLink | None:
    return session.exec(
        select(RunLink).where(
            RunLink.project_id == project.id, RunLink.provider == "wandb", RunLink.ref == ref
        )
    ).first()


def _check_with_wandb(call: Callable[[], Any], settings: TrackingSettings) -> Any:
    """Refuse what W&B refuses; accept (and queue) when W&B is slow or down.

    Return what W&B answered in time (the run, or a project's matching runs), else None.
    """
    answer = call_with_deadline(call, settings.link_check_seconds)
    error = answer.error
    if isinstance(error, TrackingError) and not error.retryable:
        raise ValidationError(error.message, field="ref")
    if error is not None and not isinstance(error, TrackingError):
        logger.warning("checking a new W&B link failed: %r", error)
    if answer.timed_out:
        logger.info("W&B did not confirm a new link in time; it is queued")
    return answer.value


def _add(
    session: Session,
    project: Project,
    actor: User,
    text: str,
    *,
    kind: LinkKind,
    tags: list[str],
    label: str,
    hidden: bool,
    now: datetime,
    settings: TrackingSettings | None,
    verify: bool,
) -> RunLink:
    if not access.can_edit(session, project, actor):
        raise Forbidden("Only the project's members may link runs.")
    settings = settings or TrackingSettings.current()
    label = _check_label(label)
    target = resolve_target(
        session, actor, text, kind="run" if kind == LinkKind.run else "project", settings=settings
    )
    ref = target.ref.path
    if (found := _existing(session, project, ref)) is not None:
        what = "run" if kind == LinkKind.run else "W&B project"
        if found.parent_id is not None:
            raise ValidationError(
                f"This {what} is already on the project (found by a project link).", field="ref"
            )
        raise ValidationError(f"This {what} is already linked to the project.", field="ref")
    source = credentials.resolve_key(
        session, user_id=actor.id, base_url=target.base_url, settings=settings
    )
    if source.api_key is None:
        raise ValidationError(source.problem, field="ref")
    matched: int | None = None
    if verify:
        provider: Any = settings.provider(api_key=source.api_key, base_url=target.base_url)
        if kind == LinkKind.run:
            _check_with_wandb(lambda: provider.fetch_run(ref), settings)
        else:
            found = _check_with_wandb(lambda: provider.list_runs(ref, tags=tags), settings)
            matched = None if found is None else len(found)
    link = create_link(
        session, project, actor, provider="wandb", kind=kind, ref=ref,
        base_url=target.base_url, tags=tags, label=label, hidden=hidden, now=now,
        matched=matched,
    )  # fmt: skip
    logger.info("project %s linked %s %s", project.id, kind.value, ref)
    return link


def create_link(
    session: Session,
    project: Project,
    actor: User,
    *,
    provider: str,
    kind: LinkKind,
    ref: str,
    base_url: str,
    tags: list[str],
    label: str,
    hidden: bool,
    now: datetime,
    matched: int | None = None,
) -> RunLink:
    """Save a checked link as queued for the scheduler (any provider).

    `matched` is how many runs a project/experiment follow found when it was checked.
    """
    link = RunLink(
        project_id=project.id,
        provider=provider,
        kind=kind,
        ref=ref,
        base_url=base_url,
        tag_filter=",".join(tags),
        matched_runs=matched,
        label=label,
        hidden=bool(hidden),
        created_by_id=actor.id,
        sync_state=SyncState.queued,
        next_sync_at=now,
        created_at=now,
    )
    session.add(link)
    try:
        session.flush()
    except IntegrityError:  # a double submit won the race; the caller rolls back
        raise ValidationError("This is already linked to the project.", field="ref") from None
    return link


def add_run_link(
    session: Session,
    project: Project,
    actor: User,
    text: str,
    label: str = "",
    hidden: bool = False,
    *,
    now: datetime,
    settings: TrackingSettings | None = None,
    verify: bool = True,
) -> RunLink:
    """Link one W&B run (a URL or entity/project/run_id); it is synced within a minute."""
    return _add(
        session, project, actor, text, kind=LinkKind.run, tags=[], label=label,
        hidden=hidden, now=now, settings=settings, verify=verify,
    )  # fmt: skip


def add_project_filter(
    session: Session,
    project: Project,
    actor: User,
    text: str,
    tags: str = "",
    label: str = "",
    hidden: bool = False,
    *,
    now: datetime,
    settings: TrackingSettings | None = None,
    verify: bool = True,
) -> RunLink:
    """Follow a W&B project: its runs carrying any of ``tags`` (all runs without) get linked."""
    return _add(
        session, project, actor, text, kind=LinkKind.project_filter, tags=parse_tags(tags),
        label=label, hidden=hidden, now=now, settings=settings, verify=verify,
    )  # fmt: skip


def get_link(session: Session, project: Project, link_id: int) -> RunLink:
    """Return one of the project's links (NotFound for another project's)."""
    link = session.get(RunLink, link_id)
    if link is None or link.project_id != project.id:
        raise NotFound("There is no such run link on this project.")
    return link


def list_links(session: Session, project: Project, include_hidden: bool = True) -> list[LinkRow]:
    """Return the project's links, each project link with the runs it found."""
    query = (
        select(RunLink, RunSnapshot)
        .outerjoin(RunSnapshot, col(RunSnapshot.id) == RunLink.current_snapshot_id)
        .where(RunLink.project_id == project.id)
        .order_by(RunLink.created_at, RunLink.id)
    )
    if not include_hidden:
        query = query.where(col(RunLink.hidden).is_(False))
    rows = [LinkRow(link, snapshot) for link, snapshot in session.exec(query)]
    by_id = {row.link.id: row for row in rows}
    top: list[LinkRow] = []
    for row in rows:
        parent = by_id.get(row.link.parent_id) if row.link.parent_id else None
        if parent is not None:
            parent.children.append(row)
        else:  # a run found by a hidden project link may itself be shown
            top.append(row)
    return top


def update_link(
    session: Session,
    link: RunLink,
    *,
    label: str,
    hidden: bool,
    now: datetime,
    tags: str | None = None,
) -> RunLink:
    """Change a link's label, whether the public page shows it and a project link's tags.

    New tags take effect at once: the project link is queued, and its next listing links
    the runs that now match and drops those that no longer do (no unlink needed).
    """
    link.label = _check_label(label)
    link.hidden = bool(hidden)
    if tags is not None and link.kind == LinkKind.project_filter:
        tag_filter = ",".join(parse_tags(tags))
        if tag_filter != link.tag_filter:
            link.tag_filter = tag_filter
            link.matched_runs = None  # unknown until the new tags are listed
            if not is_leased(link, now):
                link.sync_state = SyncState.queued
                link.next_sync_at = now
    session.add(link)
    project = session.get(Project, link.project_id)
    if project is not None:
        snapshots.bump(session, project, now)
        session.add(project)
    session.flush()
    return link


def unlink(session: Session, project: Project, link: RunLink, *, now: datetime) -> None:
    """Remove a link with its snapshots (and, for a project link, the runs it found)."""
    if link.parent_id is not None:
        raise ValidationError(
            "This run comes from a project link: hide it, or remove its tag in W&B, or "
            "unlink the project link."
        )
    children = session.exec(select(RunLink.id).where(RunLink.parent_id == link.id)).all()
    snapshots.delete_links(session, [*children, link.id])
    snapshots.bump(session, project, now)
    session.add(project)
    session.flush()
    session.expunge(link)


def is_leased(link: RunLink, now: datetime) -> bool:
    """Tell whether a sync holds the link right now (its lease has not run out)."""
    return link.sync_state == SyncState.syncing and link.next_sync_at > now


def request_sync(session: Session, link: RunLink, now: datetime) -> bool:
    """Queue a sync at once ("Sync now"); False when one is already running."""
    if link.provider == OFFLINE_PROVIDER:
        raise ValidationError("An imported offline run is updated by uploading it again.")
    if is_leased(link, now):
        return False
    links = [link]
    if link.kind == LinkKind.project_filter:
        links += list(session.exec(select(RunLink).where(RunLink.parent_id == link.id)))
    for item in links:
        if not is_leased(item, now):
            item.sync_state = SyncState.queued
            item.next_sync_at = now
            session.add(item)
    session.flush()
    return True
