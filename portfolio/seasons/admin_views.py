"""Admin pages for cohort seasons, milestone plans and mentor assignments."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from ..admin.views import admin_required
from ..db import get_session
from ..errors import DomainError
from ..forms import ActionForm, commit_or_show
from . import mentors, service
from .forms import AssignMentorForm, CohortForm, PlanForm

bp = Blueprint("seasons_admin", __name__, url_prefix="/admin")


def _page(cohort_form: CohortForm | None = None, assign_form: AssignMentorForm | None = None):
    session = get_session()
    failed = any(f is not None and (f.errors or f.form_errors) for f in (cohort_form, assign_form))
    return render_template(
        "seasons/admin.html",
        seasons=service.list_seasons(session),
        assignments=mentors.list_assignments(session),
        cohort_form=cohort_form or CohortForm(formdata=None),
        assign_form=assign_form or AssignMentorForm(formdata=None),
    ), (422 if failed else 200)


@bp.get("/seasons")
@admin_required
def seasons():
    return _page()


@bp.post("/seasons")
@admin_required
def create_season():
    form = CohortForm()
    if form.validate_on_submit():
        session = get_session()
        done = commit_or_show(
            session,
            form,
            lambda: service.create_cohort(
                session,
                slug=form.slug.data,
                title=form.title.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
            ),
        )
        if done:
            season = done.value
            flash(f"Season {season.title} created with the default plan.", "success")
            return redirect(url_for("seasons_admin.plan", slug=season.slug))
    return _page(cohort_form=form)


@bp.route("/seasons/<slug>/plan", methods=["GET", "POST"])
@admin_required
def plan(slug: str):
    session = get_session()
    season = service.require(session, slug)
    form = PlanForm(data={"plan": service.plan_text(season)})
    if form.validate_on_submit() and commit_or_show(
        session,
        form,
        lambda: service.set_plan(session, season, service.parse_plan_text(form.plan.data)),
    ):
        flash("Plan saved. New projects in this season get it.", "success")
        return redirect(url_for("seasons_admin.plan", slug=slug))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("seasons/plan.html", season=season, form=form), status


@bp.post("/mentors")
@admin_required
def assign_mentor():
    form = AssignMentorForm()
    if form.validate_on_submit():
        session = get_session()

        def assign() -> None:
            season = service.get_by_slug(session, form.season.data.strip())
            if season is None:
                raise DomainError("There is no season with that slug.", field="season")
            mentors.assign(
                session,
                mentor_handle=form.mentor.data,
                learner_handle=form.learner.data,
                season=season,
            )

        if commit_or_show(session, form, assign):
            flash("Mentor assigned.", "success")
            return redirect(url_for("seasons_admin.seasons"))
    return _page(assign_form=form)


@bp.post("/mentors/<int:assignment_id>/delete")
@admin_required
def unassign_mentor(assignment_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    session = get_session()
    mentors.unassign(session, assignment_id)
    session.commit()
    flash("Assignment removed.", "success")
    return redirect(url_for("seasons_admin.seasons"))
