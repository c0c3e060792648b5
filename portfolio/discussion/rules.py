"""Who may post what, and the text rules every update and comment goes through.

One place answers "may this person comment / moderate here?" so the page
(which hides the form) and the service (which refuses the post) never
disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlmodel import Session

from ..auth.rules import ValidationError
from ..errors import Forbidden
from ..models import CommentPolicy, Project, User
from ..projects import access
from ..seasons import service as seasons

MAX_COMMENT_CHARS = 5_000
MAX_UPDATE_CHARS = 20_000
MAX_REASON_CHARS = 500
# A comment naming more people than this is a broadcast, not a mention; the rest
# are ignored rather than refused, so a long list of credits still posts.
MAX_MENTIONS = 10

POLICY_LABELS = {
    CommentPolicy.cohort: "People in this season's cohort and mentors",
    CommentPolicy.signed_in: "Anyone who is signed in",
    CommentPolicy.mentors: "Mentors only",
}

# Characters that render as nothing: a body of only these is empty to a reader.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
# Code spans and fenced blocks are quoted text: an @name or URL there is not meant.
_CODE_RE = re.compile(r"(?ms)^(```|~~~).*?^\1|`[^`\n]*`")
_MENTION_RE = re.compile(r"(?<![\w@./+-])@([a-z0-9](?:[a-z0-9-]{1,28})[a-z0-9])(?![\w-])", re.I)
_LINK_RE = re.compile(r"(?i)\b(?:https?://|www\.)")


@dataclass(frozen=True)
class Limits:
    """The discussion settings, read once per call so tests can pass their own."""

    edit_window: timedelta = timedelta(minutes=15)
    new_account_age: timedelta = timedelta(hours=24)
    new_account_max_comments: int = 5
    new_account_max_links: int = 2
    feedback_flag_after: timedelta = timedelta(days=7)

    @classmethod
    def from_config(cls) -> Limits:
        config = current_app.config
        return cls(
            edit_window=timedelta(minutes=config["COMMENT_EDIT_MINUTES"]),
            new_account_age=timedelta(hours=config["NEW_ACCOUNT_HOURS"]),
            new_account_max_comments=config["NEW_ACCOUNT_MAX_COMMENTS"],
            new_account_max_links=config["NEW_ACCOUNT_MAX_LINKS"],
            feedback_flag_after=timedelta(days=config["FEEDBACK_FLAG_DAYS"]),
        )


def check_body(text: str | None, *, label: str, max_len: int, field: str = "body") -> str:
    """Return the trimmed text, or refuse empty and over-long bodies.

    NUL bytes are dropped: PostgreSQL cannot store them in text columns.
    """
    value = (text or "").replace("\x00", "").strip()
    if not value.translate(_INVISIBLE).strip():
        raise ValidationError(f"{label} cannot be empty.", field=field)
    if len(value) > max_len:
        raise ValidationError(
            f"{label} is at most {max_len:,} characters (this one has {len(value):,}).",
            field=field,
        )
    return value


def _without_code(text: str) -> str:
    return _CODE_RE.sub(" ", text)


def mentioned_handles(text: str) -> list[str]:
    """The @handles a text names outside code, lower-cased, first MAX_MENTIONS, no repeats."""
    seen: list[str] = []
    for match in _MENTION_RE.finditer(_without_code(text)):
        handle = match.group(1).lower()
        if "--" not in handle and handle not in seen:
            seen.append(handle)
    return seen[:MAX_MENTIONS]


def count_links(text: str) -> int:
    """Links in a text, bare or in markdown, code excluded (for new-account caps)."""
    return len(_LINK_RE.findall(_without_code(text)))


def is_new_account(user: User, now: datetime, limits: Limits) -> bool:
    """Accounts in their first hours have caps; mentors and admins are trusted by role."""
    return not user.is_mentor and now - user.created_at < limits.new_account_age


def require_active(user: User) -> None:
    """Suspended accounts cannot post, even on a session that predates the suspension."""
    if user.suspended_at is not None:
        raise Forbidden("Your account is suspended, so you cannot post.")


def is_moderator(session: Session, project: Project, user: User | None) -> bool:
    """Members, the members' mentors and admins may hide comments on a project."""
    return access.is_insider(session, project, user)


def comment_refusal(session: Session, project: Project, user: User | None) -> str | None:
    """Why `user` may not comment on `project`, or None when they may.

    Members, their mentors and admins may always comment (a learner must be
    able to answer on a mentors-only project); others per the project's policy.
    """
    if user is None or not user.is_authenticated:
        return "Log in to join the discussion."
    if user.suspended_at is not None:
        return "Your account is suspended."
    if not access.can_view(session, project, user):
        return "There is no such project."
    if is_moderator(session, project, user):
        return None
    policy = project.comment_policy
    if policy == CommentPolicy.signed_in:
        return None
    if policy == CommentPolicy.mentors:
        return None if user.is_mentor else "Only mentors can comment on this project."
    if user.is_mentor or seasons.is_enrolled(session, user.id, project.season_id):
        return None
    return "Only people in this season's cohort and mentors can comment on this project."


def check_policy(value: str) -> CommentPolicy:
    try:
        return CommentPolicy(value)
    except ValueError as exc:
        raise ValidationError(
            "Choose cohort, signed-in users or mentors.", field="comment_policy"
        ) from exc


def policy_label(project: Project) -> str:
    return next((label for p, label in POLICY_LABELS.items() if p == project.comment_policy), "")
