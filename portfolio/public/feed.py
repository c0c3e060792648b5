"""A learner's Atom feed: what it holds, and the validators readers poll with."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlmodel import Session, col, select

from ..discussion import updates as discussion
from ..markdown import MarkdownTooLong, render_markdown
from ..models import Project, User
from . import progress, service

MAX_ENTRIES = 50


@dataclass(frozen=True)
class FeedEntry:
    """One Atom entry; `content` is sanitized HTML (or None: the summary says it all)."""

    anchor: str  # the fragment of the project URL that makes the entry's id
    title: str
    updated: datetime
    published: datetime
    author: str
    project: Project
    owner_handle: str
    summary: str
    content: Markup | None


@dataclass(frozen=True)
class Feed:
    user: User
    entries: list[FeedEntry]
    updated: datetime  # the newest change in the feed: its Last-Modified

    def etag(self, body: str) -> str:
        return etag_of(body)


def etag_of(body: str) -> str:
    """A strong validator of a rendered feed: any changed byte changes it."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


def _html(markdown_text: str, prefix: str) -> Markup | None:
    """User markdown through the one sanitizing renderer; None when empty or too long."""
    if not markdown_text.strip():
        return None
    try:
        return render_markdown(markdown_text, id_prefix=prefix)
    except MarkdownTooLong:
        return None


def _excerpt(html: Markup | None, limit: int = 300) -> str:
    """The words of rendered HTML, for readers that show only the summary."""
    text = html.striptags() if html else ""
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _milestone_summary(title: str, note: str, point: progress.Checkpoint | None) -> str:
    """The note, then the figures frozen for the milestone and the change since the last."""
    parts = [note or f"{title} is done."]
    if point is not None and point.best is not None:
        runs = len(point.runs)
        parts.append(
            f"{point.metric} {point.shown}, best run {point.best.name} "
            f"({runs} run{'' if runs == 1 else 's'})."
        )
    if point is not None and point.change:
        parts.append(point.change + ".")
    return " ".join(parts)


def profile_feed(session: Session, user: User) -> Feed:
    """The newest entries about a learner's public projects: new projects, done
    milestones and progress updates, each with its own author."""
    projects = [p for p, _ in service.public_projects(session, user)]
    ids = [p.id for p in projects]
    milestones = service.completed_milestones(session, ids)
    with_done = {project.id for _, project in milestones}
    checkpoints = {
        c.milestone.id: c
        for project in projects
        if project.id in with_done
        for c in progress.timeline(session, project)
    }
    updates = discussion.public_updates(session, ids)
    people_ids = {p.owner_id for p in projects} | {u.author_id for u, _ in updates}
    people = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(people_ids))).all()}
    owners = {p.id: people[p.owner_id] for p in projects}

    def entry(project: Project, anchor: str, title: str, when: datetime, **rest) -> FeedEntry:
        rest.setdefault("author", owners[project.id].display_name)
        rest.setdefault("published", when)
        rest.setdefault("content", None)
        return FeedEntry(
            anchor=anchor,
            title=title,
            updated=when,
            project=project,
            owner_handle=owners[project.id].handle,
            **rest,
        )

    entries = [
        entry(p, "project", f"New project: {p.title}", p.created_at, summary=p.summary or p.title)
        for p in projects
    ]
    entries += [
        entry(
            p,
            f"milestone-{m.id}",
            f"{p.title}: {m.title} done",
            m.done_at,
            summary=_milestone_summary(m.title, m.done_note, checkpoints.get(m.id)),
        )
        for m, p in milestones
    ]
    for u, p in updates:
        author = people.get(u.author_id)
        html = _html(u.body_md, f"feed-u{u.id}-")
        entries.append(
            entry(
                p,
                f"update-{u.id}",
                f"{p.title}: progress update",
                u.edited_at or u.created_at,
                published=u.created_at,
                author=author.display_name if author else "A former member",
                summary=_excerpt(html) or f"A progress update on {p.title}.",
                content=html,
            )
        )
    entries.sort(key=lambda e: e.updated, reverse=True)
    entries = entries[:MAX_ENTRIES]
    newest = [e.updated for e in entries] + [p.updated_at for p in projects if p.updated_at]
    return Feed(user=user, entries=entries, updated=max(newest, default=user.created_at))
