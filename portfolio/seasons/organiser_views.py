"""The organiser view (admins and mentors) and its CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from ..db import get_session
from ..models import Season, utcnow
from . import organiser, service
from .forms import OrganiserFilter

bp = Blueprint("organiser", __name__)


def _filter() -> tuple[OrganiserFilter, Season | None]:
    """The season and day count from the query string; the season is None when invalid."""
    if not current_user.is_mentor:
        abort(403)
    session = get_session()
    current, _ = service.ensure_current_and_next(session, utcnow().date())
    session.commit()
    seasons = service.list_seasons(session)
    form = OrganiserFilter(request.args, season=current.slug)
    form.season.choices = [(s.slug, s.title) for s in seasons]
    if not form.validate():
        return form, None
    organiser.without_jit(session)
    return form, next(s for s in seasons if s.slug == form.season.data)


@bp.get("/organiser")
@login_required
def page():
    form, season = _filter()
    if season is None:
        return render_template("seasons/organiser.html", form=form, season=None), 400
    session, now, days = get_session(), utcnow(), form.days.data
    return render_template(
        "seasons/organiser.html",
        form=form,
        season=season,
        days=days,
        summary=organiser.summary(session, season, current_user, now, days),
        milestones=organiser.milestone_rows(session, season, current_user, now),
        rows=organiser.learner_rows(
            session, season, current_user, now, days, limit=organiser.PAGE_ROWS
        ),
        page_rows=organiser.PAGE_ROWS,
    )


@bp.get("/organiser.csv")
@login_required
def export():
    form, season = _filter()
    if season is None:
        errors = [
            f"{form[name].label.text}: {' '.join(msgs)}" for name, msgs in form.errors.items()
        ]
        return Response("\n".join(errors) + "\n", 400, mimetype="text/plain")
    rows = organiser.learner_rows(get_session(), season, current_user, utcnow(), form.days.data)
    filename = f"organiser-{season.slug}-{form.days.data}d.csv"
    return Response(
        organiser.csv_lines(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
