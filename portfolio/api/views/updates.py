"""A project's progress updates: list and post (discussion.service holds the rules)."""

from __future__ import annotations

from flask import current_app, url_for
from flask_limiter.util import get_remote_address

from ...auth.tokens import Scope
from ...db import get_session
from ...discussion import feedback, reading
from ...discussion import updates as discussion
from ...discussion.rules import Limits
from ...errors import DomainError
from ...extensions import limiter
from ...markdown import render_markdown
from ...models import User, utcnow
from .. import auth, schemas, schemas_discussion
from ..loading import commit, project_for
from ..pagination import decode, encode
from ..routing import Created, operation

BASE = "/projects/<int:project_id>/updates"


def _post_limit() -> str:
    return current_app.config["DISCUSSION_RATE_LIMIT"]


def _poster_key() -> str:
    """The web forms' bucket (discussion.views): one posting budget per person."""
    try:
        who = auth.principal()
    except DomainError:  # a bad token: the API's own hook answers 401
        who = None
    return f"user:{who.user.id}" if who is not None else get_remote_address()


def _out(view: reading.UpdateView) -> schemas_discussion.UpdateOut:
    update = view.update
    return schemas_discussion.UpdateOut(
        id=update.id,
        project_id=update.project_id,
        author=view.author.handle,
        body_md=update.body_md,
        body_html=str(view.html),
        milestone_id=update.milestone_id,
        run_link_ids=list(update.run_link_ids),
        feedback_requested=view.request is not None,
        created_at=update.created_at,
        edited_at=update.edited_at,
    )


def _views(user: User, project_id: int, *, offset: int, limit: int):
    session = get_session()
    project, _ = project_for(user, project_id)
    viewer = reading.viewer_for(session, project, user)
    return reading.updates(
        session,
        project,
        viewer,
        now=utcnow(),
        limits=Limits.from_config(),
        offset=offset,
        limit=limit,
    )


@operation(
    "GET",
    BASE,
    summary="List updates",
    tag="updates",
    scope=Scope.read,
    response=schemas_discussion.UpdatePage,
    query=schemas.PageQuery,
)
def list_updates(project_id: int, query: schemas.PageQuery) -> schemas_discussion.UpdatePage:
    """The project's progress updates, newest first."""
    offset = decode(query.cursor, "o") or 0
    views, more = _views(auth.caller(), project_id, offset=offset, limit=query.limit)
    return schemas_discussion.UpdatePage(
        items=[_out(v) for v in views],
        next_cursor=encode("o", offset + query.limit) if more else None,
    )


@operation(
    "POST",
    BASE,
    summary="Post an update",
    tag="updates",
    scope=Scope.write,
    response=schemas_discussion.UpdateOut,
    status=201,
    body=schemas_discussion.UpdateCreate,
)
@limiter.shared_limit(_post_limit, scope="discussion-post", key_func=_poster_key)
def create_update(project_id: int, body: schemas_discussion.UpdateCreate) -> Created:
    """Post a progress update as a member, optionally pointing at a milestone and runs.

    Shares the posting limit of the web forms (DISCUSSION_RATE_LIMIT).
    """
    user = auth.caller()
    project, _ = project_for(user, project_id, edit=True)
    session = get_session()
    update = discussion.post_update(
        session,
        project=project,
        author=user,
        body=body.body_md,
        milestone_id=body.milestone_id,
        run_link_ids=list(body.run_link_ids),
        ask_feedback=body.ask_feedback,
        any_mentor=body.any_mentor,
        now=utcnow(),
    )
    commit(session)
    view = reading.UpdateView(
        update=update,
        author=user,
        # The page's rendering (reading.updates): the one sanitising renderer, same ids.
        html=render_markdown(update.body_md, id_prefix=f"u{update.id}-"),
        milestone=None,
        runs=[],
        threads=[],
        request=feedback.request_for(session, update.id),
    )
    location = url_for("api.list_updates", project_id=project_id, _external=True)
    return Created(_out(view), location)
