"""Project forms."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FloatField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form
from ..markdown import MAX_MARKDOWN_CHARS
from ..models import MetricGoal, Visibility


class ProjectForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(max=120)])
    summary = StringField(
        "One-line summary",
        validators=[Length(max=200)],
        description="What you will build, in one sentence a recruiter understands.",
    )
    problem_md = TextAreaField(
        "Problem statement",
        validators=[Length(max=MAX_MARKDOWN_CHARS)],
        description="Markdown. What problem, for whom, with which data, and how you will know.",
    )
    repo_url = URLField("Repository URL", validators=[Length(max=300)])
    team = StringField(
        "Team members (optional)",
        validators=[Length(max=300)],
        description="Handles separated by commas. They are invited and must accept.",
    )
    allow_second = BooleanField("Yes, plan a second project this season")


class ProjectEditForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        "Address",
        validators=[DataRequired(), Length(max=80)],
        description="The last part of the project's URL. Old addresses keep working.",
    )
    summary = StringField("One-line summary", validators=[Length(max=200)])
    problem_md = TextAreaField(
        "Problem statement", validators=[Length(max=MAX_MARKDOWN_CHARS)], description="Markdown."
    )
    repo_url = URLField("Repository URL", validators=[Length(max=300)])
    visibility = SelectField(
        "Visibility",
        choices=[
            SelectChoice(Visibility.draft.value, "Draft — members, mentors and admins"),
            SelectChoice(Visibility.unlisted.value, "Unlisted — anyone with the link"),
            SelectChoice(Visibility.public.value, "Public — on your profile and the gallery"),
        ],
    )


class WriteUpForm(Form):
    body_md = TextAreaField(
        "Write-up",
        validators=[Length(max=MAX_MARKDOWN_CHARS)],
        description=(
            "Markdown: problem, data, approach, results, what you learned. Tables, code, "
            "footnotes, $math$, task lists and [TOC] work."
        ),
    )
    headline_metric = StringField(
        "Headline metric",
        validators=[Length(max=200)],
        description="The summary metric that decides the best run, e.g. val/acc.",
    )
    headline_goal = SelectField(
        "Better is",
        choices=[
            SelectChoice(MetricGoal.max.value, "Higher (accuracy, F1…)"),
            SelectChoice(MetricGoal.min.value, "Lower (loss, error…)"),
        ],
    )


class PreviewForm(Form):
    """Only the text: a live preview renders it and saves nothing."""

    body_md = WriteUpForm.body_md


class ImageForm(Form):
    image = FileField("Image (PNG, JPEG, WebP or GIF)", validators=[FileRequired()])
    alt = StringField(
        "Description",
        validators=[DataRequired(), Length(max=200)],
        description="What the figure shows, for screen readers.",
    )


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes: no Ctrl-click needed."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChartForm(Form):
    metrics = CheckboxesField("Metrics", choices=[], validate_choice=False)
    x_axis = StringField("X axis", default="_step", validators=[Length(max=300)])
    smoothing = FloatField("Smoothing (0 to 0.99)", default=0.0, validators=[Optional()])
    log_y = BooleanField("Logarithmic y axis")
    runs = CheckboxesField("Runs (none: all visible runs)", choices=[], validate_choice=False)
