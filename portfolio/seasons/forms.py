"""Forms for seasons, milestones and mentor assignments."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from ..forms import Form

DATE_MESSAGE = "Give a real date, e.g. 2027-03-14."


class MilestoneForm(Form):
    title = StringField("Milestone", validators=[DataRequired(), Length(max=120)])
    due_date = DateField("Due date", validators=[DataRequired(message=DATE_MESSAGE)])
    due_time = TimeField(
        "Time",
        validators=[Optional()],
        description="In your time zone. Empty means 23:59.",
    )


class CompleteForm(Form):
    note = StringField("Note (optional)", validators=[Length(max=500)])


class CohortForm(Form):
    slug = StringField(
        "Slug",
        validators=[DataRequired(), Length(min=3, max=40)],
        description="Part of the address: /seasons/<slug>. e.g. spring-cohort-2027",
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=80)])
    starts_on = DateField("First day", validators=[DataRequired(message=DATE_MESSAGE)])
    ends_on = DateField("Last day", validators=[DataRequired(message=DATE_MESSAGE)])


class PlanForm(Form):
    plan = TextAreaField(
        "Milestone plan",
        validators=[DataRequired(), Length(max=10_000)],
        description="One milestone per line: week | title | description.",
    )


class AssignMentorForm(Form):
    mentor = StringField("Mentor handle", validators=[DataRequired(), Length(max=31)])
    learner = StringField("Learner handle", validators=[DataRequired(), Length(max=31)])
    season = StringField("Season slug", validators=[DataRequired(), Length(max=40)])


class RecordForm(Form):
    full_record = BooleanField(
        "Show my full record on my public pages",
        description=(
            "Adds project health (on track, at risk, behind), deadlines and your share of "
            "milestones done on time to your profile and project pages. A team project shows "
            "its health only when every member chose this."
        ),
    )


QUIET_DAYS_DEFAULT = 14
QUIET_DAYS_MAX = 365


class OrganiserFilter(Form):
    """The organiser view's season and "no update in N days" choice (a GET form).

    No CSRF: it only reads, and its URL is meant to be shared and bookmarked.
    """

    class Meta:
        csrf = False

    season = SelectField("Season", choices=[])
    # A text input: a type="number" input may not carry back a bad value such as "abc".
    days = IntegerField(
        "No update for (days)",
        default=QUIET_DAYS_DEFAULT,
        widget=TextInput(),
        render_kw={"inputmode": "numeric"},
        validators=[
            NumberRange(
                min=1,
                max=QUIET_DAYS_MAX,
                message=f"Give a whole number of days from 1 to {QUIET_DAYS_MAX}.",
            )
        ],
    )


class RefreezeForm(Form):
    note = StringField(
        "Why freeze again",
        validators=[DataRequired(message="Say why the figures are frozen again."), Length(max=500)],
    )
