"""Season pages, joining, the learner dashboard and the mentor dashboard."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from ..db import get_session
from ..discussion import feedback
from ..forms import ActionForm
from ..httpcache import shared_cacheable
from ..models import Project, User, Visibility, utcnow
from ..projects import publishing
from ..projects import service as projects
from . import demo_day, gallery, health, milestones, public_record, recap_lists, service
from .forms import CompleteForm, RecordForm
from .mentors import mentor_board

bp = Blueprint("seasons", __name__)


@bp.get("/seasons")
@shared_cacheable
def index():
    session = get_session()
    current, upcoming = service.ensure_current_and_next(session, utcnow().date())
    session.commit()
    return render_template(
        "seasons/index.html",
        cards=gallery.season_cards(session),
        current=current,
        upcoming=upcoming,
    )


@bp.get("/seasons/<slug>")
@shared_cacheable
def show(slug: str):
    """A season's plan and projects; after its last week, its demo-day showcase."""
    session = get_session()
    service.ensure_current_and_next(session, utcnow().date())
    session.commit()
    season = service.require(session, slug)
    now = utcnow()
    if demo_day.is_demo_day(season, now.date()):
        return render_template(
            "seasons/demo_day.html",
            season=season,
            demo=demo_day.demo_day(session, season),
            max_pins=demo_day.MAX_PINS,
            now=now,
        )
    gallery = list(
        session.exec(
            select(Project, User)
            .join(User, User.id == Project.owner_id)
            .where(Project.season_id == season.id, Project.visibility == Visibility.public)
            .order_by(Project.updated_at.desc())
        )
    )
    enrolled = current_user.is_authenticated and service.is_enrolled(
        session, current_user.id, season.id
    )
    return render_template(
        "seasons/show.html", season=season, gallery=gallery, enrolled=enrolled, now=now
    )


@bp.post("/seasons/<slug>/join")
@login_required
def join(slug: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    session = get_session()
    season = service.require(session, slug)
    service.enroll(session, current_user, season)
    session.commit()
    return redirect(url_for("projects.new", season=season.slug))


@bp.get("/dashboard")
@login_required
def dashboard():
    session = get_session()
    now = utcnow()
    current, _ = service.ensure_current_and_next(session, now.date())
    session.commit()
    mine = projects.projects_of(session, current_user.id)
    states = health.health_of(session, [p.id for p, _ in mine], now)
    # Projects in the current season and in seasons that have not ended yet.
    current_projects = [(p, s) for p, s in mine if s.ends_on >= now.date()]
    past = [(p, s) for p, s in mine if s.ends_on < now.date()]
    checklist = {p.id: milestones.list_for(session, p.id) for p, _ in current_projects}
    publish = publishing.checklists(session, [p for p, _ in current_projects])
    return render_template(
        "seasons/dashboard.html",
        current=current,
        current_projects=current_projects,
        past=past,
        states=states,
        checklist=checklist,
        publish=publish,
        record=health.learner_record(session, current_user.id, now),
        invitations=projects.pending_invitations(session, current_user),
        complete_form=CompleteForm(),
        to_recap=recap_lists.awaiting_recap(session, mine, now),
        now=now,
    )


@bp.get("/mentor")
@login_required
def mentor():
    if not current_user.is_mentor:
        abort(403)
    now = utcnow()
    return render_template(
        "seasons/mentor.html",
        board=mentor_board(get_session(), current_user, now),
        feedback_queue=feedback.queue_for(get_session(), current_user),
        now=now,
    )


@bp.route("/settings/record", methods=["GET", "POST"])
@login_required
def record_settings():
    """The opt-in to show cadence health and the on-time share in public."""
    form = RecordForm(data={"full_record": current_user.public_full_record})
    if form.validate_on_submit():
        session = get_session()
        public_record.set_full_record(session, current_user, show=form.full_record.data)
        session.commit()
        flash("Saved: what visitors see of your record.", "success")
        return redirect(url_for("seasons.record_settings"), 303)
    status = 422 if form.errors else 200
    return render_template("settings/record.html", form=form), status
