"""Pydantic models: they validate requests, shape responses, and become the OpenAPI document.

Input models are strict (a number is not a string, ``1.0`` is not an int)
and forbid unknown fields, so a typo in a script is a 422 naming the field
rather than a silently ignored value. Output models carry no constraints: they
describe whatever the database holds. Field names are snake_case and times are
ISO 8601 in UTC ("2027-03-14T23:59:00Z").
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from ..markdown import MAX_MARKDOWN_CHARS

MAX_ID = 2**31 - 1
NO_NUL = r"^[^\u0000]*$"


def _clean_text(value: str) -> str:
    """Refuse text no database column can hold: NUL bytes and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("is out of range") from None


def text(max_length: int, min_length: int = 0) -> object:
    """A string field's validation: length, and nothing a database would choke on."""
    # The pattern is for the document only (clients and fuzzers learn NUL is refused);
    # _clean_text enforces it with a readable message.
    return Field(
        min_length=min_length, max_length=max_length, json_schema_extra={"pattern": NO_NUL}
    )


Text = Annotated[str, AfterValidator(_clean_text)]
# An instant with an explicit offset (naive times are refused), normalised to UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_to_utc)]
# Every output time: converted to UTC, so pydantic writes ISO 8601 with "Z".
UTCTime = Annotated[datetime, AfterValidator(_to_utc)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Markdown = Annotated[Text, text(MAX_MARKDOWN_CHARS)]


class Input(BaseModel):
    """Request bodies: strict JSON types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageQuery(BaseModel):
    """``limit`` and an opaque ``cursor`` from the previous page's ``next_cursor``."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=100, description="Items per page (1-100).")
    cursor: Annotated[Text, text(100)] | None = Field(
        default=None, description="The `next_cursor` of the previous page."
    )


# Errors ---------------------------------------------------------------------


class FieldError(Output):
    field: str = Field(description='Dotted path of the field, e.g. "title" or "team.2".')
    location: Literal["body", "query", "path"]
    message: str


class Problem(Output):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field(description='Always "about:blank": `title` is the HTTP status phrase.')
    title: str
    status: int
    detail: str = Field(description="What went wrong, in words you can show a person.")
    instance: str = Field(description="The path that was requested.")
    errors: list[FieldError] | None = Field(
        default=None, description="Field-level problems, for 409 and 422."
    )


# Me and seasons ---------------------------------------------------------------


class TokenInfo(Output):
    name: str
    prefix: str = Field(description="The first characters of the token, to tell tokens apart.")
    scopes: list[str]
    expires_at: UTCTime | None


class Me(Output):
    id: int
    handle: str
    display_name: str
    email: str
    timezone: str = Field(description="IANA zone used for `due_date` inputs.")
    role: str
    bio: str
    created_at: UTCTime
    auth: Literal["token", "session"]
    token: TokenInfo | None = Field(description="The token of this request; null for sessions.")


class SeasonOut(Output):
    slug: str
    title: str
    kind: str
    starts_on: date
    ends_on: date = Field(description="The last day of the season (inclusive).")
    current: bool


class SeasonPage(Output):
    items: list[SeasonOut]
    next_cursor: str | None


# Notifications -----------------------------------------------------------------


class NotificationOut(Output):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: UTCTime
    read_at: UTCTime | None
    read: bool


class NotificationPage(Output):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int = Field(description="Unread notifications (counted up to 100).")


class ReadAll(Output):
    marked: int = Field(description="How many notifications were marked read.")


# Projects ---------------------------------------------------------------------

Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$", max_length=80)]
Handle = Annotated[str, Field(pattern=r"^@?[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$", max_length=31)]
SeasonSlug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", max_length=40)]
Visibility = Literal["draft", "unlisted", "public"]


class TagOut(Output):
    """A project tag: its label as the learner wrote it and the slug of its page."""

    slug: str = Field(description="The tag page is /tags/{slug}.")
    label: str


# A label as sent: the same rules as the edit page apply (tags.parse_labels); these
# bounds only keep a request small, so the precise message comes from one place.
TagLabel = Annotated[Text, Field(max_length=200, json_schema_extra={"pattern": r"^[^,\u0000]*$"})]


class ProjectOut(Output):
    id: int
    slug: str
    title: str
    summary: str
    problem_md: str
    visibility: str
    repo_url: str
    headline_metric: str
    headline_goal: str
    season: str = Field(description="The season's slug, e.g. 2027-q1.")
    owner: str = Field(description="The owner's handle.")
    members: list[str] = Field(description="Handles of accepted members, owner first.")
    tags: list[TagOut] = Field(description="The project's tags, in the learner's order.")
    url: str = Field(description="The project page; visitors see it unless it is a draft.")
    public_url: str | None = Field(description="The page to share; null while a draft.")
    created_at: UTCTime
    updated_at: UTCTime
    last_activity_at: UTCTime


class ProjectPage(Output):
    items: list[ProjectOut]
    next_cursor: str | None


class ProjectQuery(PageQuery):
    season: SeasonSlug | None = Field(default=None, description="Only this season's projects.")
    slug: Slug | None = Field(default=None, description="Only the project with this slug.")


class ProjectCreate(Input):
    title: Annotated[Text, text(120, 1)]
    summary: Annotated[Text, text(200)] = ""
    problem_md: Markdown = ""
    repo_url: Annotated[Text, text(300)] = ""
    season: SeasonSlug | None = Field(default=None, description="Default: the current season.")
    team: list[Handle] = Field(default_factory=list, max_length=8, description="Handles to invite.")
    allow_second: bool = Field(
        default=False, description="Plan a second project in a season where you have one."
    )


class ProjectUpdate(Input):
    """Only the fields sent change."""

    title: Annotated[Text, text(120, 1)] | None = None
    summary: Annotated[Text, text(200)] | None = None
    problem_md: Markdown | None = None
    repo_url: Annotated[Text, text(300)] | None = None
    slug: Slug | None = Field(default=None, description="A new address; the old one redirects.")
    visibility: Visibility | None = None
    tags: list[TagLabel] | None = Field(
        default=None,
        max_length=20,
        description="Replaces every tag: up to 5 distinct labels of at most 32 characters "
        "with a letter or digit, no commas (as on the edit page); [] removes them all.",
    )


# Milestones -------------------------------------------------------------------


class MilestoneOut(Output):
    id: int
    project_id: int
    title: str
    description: str
    position: int
    due_at: UTCTime
    done: bool
    done_at: UTCTime | None
    done_note: str
    created_at: UTCTime


class MilestonePage(Output):
    items: list[MilestoneOut]
    next_cursor: str | None


class MilestoneDue(Input):
    """A due time: ``due_at`` (with an offset), or ``due_date`` in your profile's time zone."""

    due_at: Instant | None = Field(
        default=None, description='An instant with an offset, e.g. "2027-03-14T23:59:00Z".'
    )
    due_date: date | None = Field(
        default=None, description="A day in your time zone; due at `due_time` or 23:59."
    )
    due_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = Field(
        default=None, description='"HH:MM" with `due_date`.'
    )


class MilestoneCreate(MilestoneDue):
    title: Annotated[Text, text(120, 1)]


class MilestoneUpdate(MilestoneDue):
    """Only the fields sent change; moving the due time re-arms its reminders."""

    title: Annotated[Text, text(120, 1)] | None = None


class MilestoneComplete(Input):
    note: Annotated[Text, text(500)] = ""
