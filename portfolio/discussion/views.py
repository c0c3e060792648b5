"""Comments: post, edit, delete, hide, report; who may comment. Reading: page_views.

Views parse the form, call the service and commit once. A refused post is
shown again with the message and the text the person typed (never lost);
404 and 403 use the site's error pages. Every POST here shares one rate
limit per signed-in user.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from ..db import get_session
from ..errors import DomainError
from ..extensions import limiter
from ..forms import ActionForm, Form, apply_error, commit_or_show, safe_next
from ..models import Project, utcnow
from ..projects.loading import load_project, project_url
from . import moderation, service
from .forms import CommentForm, EditCommentForm, PolicyForm, ReportForm
from .rules import Limits

bp = Blueprint("discussion", __name__)

# Ids beyond PostgreSQL's integer range are 404s, not database errors.
ID = "int(max=2147483647)"


def _post_limit() -> str:
    return current_app.config["DISCUSSION_RATE_LIMIT"]


def _poster_key() -> str:
    """Per account when signed in, so people behind one address do not share a limit."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


post_limit = limiter.shared_limit(
    _post_limit, scope="discussion-post", key_func=_poster_key, methods=["POST"]
)


def back_to(project: Project, anchor: str = "", next_url: str | None = None):
    """303 to the page the form came from (same site only), at the right place."""
    target = safe_next(next_url, project_url(project))
    return redirect(f"{target}#{anchor}" if anchor else target, 303)


def form_page(form: Form, *, action: str, heading: str, project: Project) -> str:
    return render_template(
        "discussion/form.html",
        form=form,
        action=action,
        heading=heading,
        project=project,
        back=project_url(project),
    )


def refused(err: DomainError, form: Form, *, action: str, heading: str, project: Project):
    """Show a refused form again with its message and text; 404s are plain 404s.

    For the error of a ``commit_or_show(session, None, ...)``, which has rolled back.
    """
    if err.status == 404:
        abort(404)
    target = getattr(form, err.field, None) if err.field else None
    if target is not None and getattr(target, "type", "") == "HiddenField":
        form.form_errors.append(err.message)  # a hidden field cannot show its own error
    else:
        apply_error(form, err)
    return form_page(form, action=action, heading=heading, project=project), err.status


def commit_or_refuse(form: Form, call, *, action: str, heading: str, project: Project):
    """Commit a discussion form's service call and return its value.

    A refusal ends the request with ``refused``'s page (the form again, its
    text kept, the reason shown; a 404 as a plain 404), so each view reads as
    its success path only.
    """
    done = commit_or_show(get_session(), None, call)
    if not done:
        abort(
            make_response(
                refused(done.error, form, action=action, heading=heading, project=project)
            )
        )
    return done.value


def report_mentions(mentions) -> None:
    if mentions.skipped:
        names = ", ".join(f"@{h}" for h in mentions.skipped)
        flash(f"Nobody was notified for {names}: no such user, or they cannot see this project.")


@bp.post("/u/<handle>/<slug>/comments")
@post_limit
@login_required
def post_comment(handle: str, slug: str):
    session, project, _ = load_project(handle, slug)
    form = CommentForm()
    if not form.validate_on_submit():
        abort(400)
    action = url_for("discussion.post_comment", handle=handle, slug=slug)
    posted = commit_or_refuse(
        form,
        lambda: service.post_comment(
            session,
            project=project,
            author=current_user,
            body=form.body.data,
            update_id=service.parse_id(form.update_id.data, field="update_id", label="The update"),
            parent_id=service.parse_id(form.parent_id.data, field="parent_id", label="The reply"),
            now=utcnow(),
            limits=Limits.from_config(),
        ),
        action=action,
        heading="Your comment",
        project=project,
    )
    report_mentions(posted.mentions)
    flash("Feedback sent. Thank you!" if posted.answered else "Comment posted.", "success")
    return back_to(project, f"comment-{posted.comment.id}", form.next.data)


@bp.route(f"/u/<handle>/<slug>/comments/<{ID}:comment_id>/edit", methods=["GET", "POST"])
@post_limit
@login_required
def edit_comment(handle: str, slug: str, comment_id: int):
    session, project, _ = load_project(handle, slug)
    comment = _comment(session, project, comment_id)
    form = EditCommentForm(data={"body": comment.body_md})
    action = url_for("discussion.edit_comment", handle=handle, slug=slug, comment_id=comment_id)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        mentions = commit_or_refuse(
            form,
            lambda: service.edit_comment(
                session,
                project=project,
                comment=comment,
                actor=current_user,
                body=form.body.data,
                now=utcnow(),
                limits=Limits.from_config(),
            ),
            action=action,
            heading="Edit your comment",
            project=project,
        )
        report_mentions(mentions)
        flash("Comment saved.", "success")
        return back_to(project, f"comment-{comment.id}")
    if not service.can_edit_comment(comment, current_user, utcnow(), Limits.from_config()):
        abort(403)
    return form_page(form, action=action, heading="Edit your comment", project=project)


def _comment(session, project: Project, comment_id: int):
    try:
        return service.get_comment(session, project, comment_id)
    except DomainError:
        abort(404)


def _action(handle: str, slug: str, comment_id: int):
    """Load project and comment for a one-button form, after its CSRF check."""
    session, project, _ = load_project(handle, slug)
    comment = _comment(session, project, comment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return session, project, comment


@bp.post(f"/u/<handle>/<slug>/comments/<{ID}:comment_id>/delete")
@post_limit
@login_required
def delete_comment(handle: str, slug: str, comment_id: int):
    session, project, comment = _action(handle, slug, comment_id)
    service.delete_comment(
        session, project=project, comment=comment, actor=current_user, now=utcnow()
    )
    session.commit()
    flash("Comment deleted.", "success")
    return back_to(project, f"comment-{comment.parent_id or comment.id}")


@bp.post(f"/u/<handle>/<slug>/comments/<{ID}:comment_id>/<any(hide, unhide):action>")
@post_limit
@login_required
def moderate(handle: str, slug: str, comment_id: int, action: str):
    session, project, comment = _action(handle, slug, comment_id)
    do = moderation.hide if action == "hide" else moderation.unhide
    do(session, project=project, comment=comment, actor=current_user, now=utcnow())
    session.commit()
    flash("Comment hidden." if action == "hide" else "Comment shown again.", "success")
    return back_to(project, f"comment-{comment.id}")


@bp.route(f"/u/<handle>/<slug>/comments/<{ID}:comment_id>/report", methods=["GET", "POST"])
@post_limit
@login_required
def report(handle: str, slug: str, comment_id: int):
    session, project, _ = load_project(handle, slug)
    comment = _comment(session, project, comment_id)
    form = ReportForm()
    action = url_for("discussion.report", handle=handle, slug=slug, comment_id=comment_id)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        commit_or_refuse(
            form,
            lambda: moderation.report(
                session, comment=comment, actor=current_user, reason=form.reason.data, now=utcnow()
            ),
            action=action,
            heading="Report a comment",
            project=project,
        )
        flash("Thank you. An admin will look at this comment.", "success")
        return back_to(project, f"comment-{comment.id}")
    return form_page(form, action=action, heading="Report a comment", project=project)


@bp.post("/u/<handle>/<slug>/comment-policy")
@post_limit
@login_required
def set_policy(handle: str, slug: str):
    session, project, _ = load_project(handle, slug, edit=True)
    form = PolicyForm()
    if not form.validate_on_submit():
        abort(400)
    commit_or_refuse(
        form,
        lambda: service.set_policy(
            session,
            project=project,
            actor=current_user,
            policy=form.comment_policy.data,
            now=utcnow(),
        ),
        action=url_for("discussion.set_policy", handle=handle, slug=slug),
        heading="Who may comment",
        project=project,
    )
    flash("Saved who may comment.", "success")
    return back_to(project, "discussion")
