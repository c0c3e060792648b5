"""Discussion forms.

Fields carry no validators of their own beyond CSRF: the service checks every
rule (length, targets, caps) and its messages land on the matching field, so
the page, the API and the tests all see the same wording.
"""

from __future__ import annotations

from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)

from ..forms import Form
from ..models import CommentPolicy
from .rules import MAX_COMMENT_CHARS, MAX_REASON_CHARS, MAX_UPDATE_CHARS, POLICY_LABELS


class UpdateForm(Form):
    body = TextAreaField(
        "Update",
        render_kw={"maxlength": MAX_UPDATE_CHARS, "rows": 5},
        description="Markdown. What you did, what you found, what is next.",
    )
    milestone_id = SelectField("Milestone (optional)", choices=[], validate_choice=False)
    run_link_ids = SelectMultipleField("Runs (optional)", choices=[], validate_choice=False)
    ask_feedback = BooleanField("Ask my mentors for feedback on this update")
    any_mentor = BooleanField("Any mentor may answer, not only mine")


class CommentForm(Form):
    body = TextAreaField(
        "Comment",
        render_kw={"maxlength": MAX_COMMENT_CHARS, "rows": 3},
        description="Markdown. Mention someone with @handle.",
    )
    update_id = HiddenField()
    parent_id = HiddenField()
    next = HiddenField()


class EditCommentForm(Form):
    body = TextAreaField("Comment", render_kw={"maxlength": MAX_COMMENT_CHARS, "rows": 4})


class AskFeedbackForm(Form):
    any_mentor = BooleanField("Any mentor may answer, not only mine")


class ReportForm(Form):
    reason = TextAreaField(
        "What is wrong with it? (optional)", render_kw={"maxlength": MAX_REASON_CHARS, "rows": 2}
    )


class PolicyForm(Form):
    comment_policy = SelectField(
        "Who may comment",
        choices=[SelectChoice(p.value, POLICY_LABELS[p]) for p in CommentPolicy],
        validate_choice=False,
    )
