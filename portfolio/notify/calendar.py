"""ICS calendar feeds (RFC 5545) built from plain event records.

The notify service maps milestones and season boundaries onto
`CalendarEvent`s; `build_calendar` writes the feed that calendar apps
subscribe to. Nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vDuration, vText

PRODID = "-//Seasons//Seasons calendar feed//EN"
DEFAULT_REFRESH = timedelta(hours=1)

# RFC 5545 TEXT allows no control characters but HTAB (line breaks are
# escaped by icalendar); strip the rest so user titles cannot smuggle any in.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_SAFE_TOKEN = re.compile(r"[^\s\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One event in a feed: a timed event, or an all-day one when given dates.

    Timed: `starts_at` (and optional `ends_at`) are aware datetimes, written
    in UTC; without `ends_at` the event is an instant, as a deadline is.
    All-day: `starts_at` is a `date` and `ends_at` the last day, inclusive
    (like Season.ends_on); without `ends_at` the event lasts one day.
    `uid` must be stable for the thing it describes ("milestone-42@host"),
    so that calendar apps update the event instead of duplicating it.
    `updated_at`, when known, becomes DTSTAMP and LAST-MODIFIED, which keeps
    the feed byte-identical between requests until something changes.
    """

    uid: str
    summary: str
    starts_at: datetime | date
    ends_at: datetime | date | None = None
    description: str = ""
    url: str | None = None
    alarm_before: timedelta | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not _SAFE_TOKEN.fullmatch(self.uid):
            raise ValueError("uid must be non-empty, without spaces or control characters")
        if self.all_day:
            if self.ends_at is not None and (
                isinstance(self.ends_at, datetime) or self.ends_at < self.starts_at
            ):
                raise ValueError("an all-day event ends on a date on or after its start")
        else:
            _require_aware("starts_at", self.starts_at)
            if self.ends_at is not None:
                if not isinstance(self.ends_at, datetime):
                    raise ValueError("a timed event ends at a datetime, not a date")
                _require_aware("ends_at", self.ends_at)
                if self.ends_at < self.starts_at:
                    raise ValueError("ends_at is before starts_at")
        if self.url is not None and not (
            _SAFE_TOKEN.fullmatch(self.url) and self.url.startswith(("https://", "http://"))
        ):
            raise ValueError("url must be an http(s) URL without spaces")
        if self.alarm_before is not None and self.alarm_before <= timedelta(0):
            raise ValueError("alarm_before must be positive")
        if self.updated_at is not None:
            _require_aware("updated_at", self.updated_at)

    @property
    def all_day(self) -> bool:
        """Tell whether the event spans whole days (DATE values)."""
        return not isinstance(self.starts_at, datetime)


def build_calendar(
    name: str,
    events: Iterable[CalendarEvent],
    *,
    now: datetime | None = None,
    refresh: timedelta = DEFAULT_REFRESH,
) -> bytes:
    """Return an ICS feed named `name` holding `events`, ready to serve as text/calendar."""
    if refresh <= timedelta(0):
        raise ValueError("refresh must be positive")
    stamp = _utc(now or datetime.now(UTC))
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # X- properties default to an unescaped type; vText escapes them.
    calendar_name = vText(single_line(name))
    cal.add("name", calendar_name)  # RFC 7986
    cal.add("x-wr-calname", calendar_name)  # Google, Apple, Outlook
    cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})  # RFC 7986
    cal.add("x-published-ttl", vDuration(refresh))  # Outlook, Apple
    for event in events:
        cal.add_component(_event(event, stamp))
    return cal.to_ical()


def _event(item: CalendarEvent, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", _utc(item.updated_at) if item.updated_at else stamp)
    if item.updated_at:
        event.add("last-modified", _utc(item.updated_at))
    summary = single_line(item.summary)
    event.add("summary", summary)
    if item.all_day:
        last_day = item.ends_at or item.starts_at
        assert isinstance(last_day, date)
        event.add("dtstart", item.starts_at)
        # DTEND of a DATE event is exclusive: the day after the last day.
        event.add("dtend", last_day + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a season boundary does not make anyone busy
    else:
        assert isinstance(item.starts_at, datetime)
        event.add("dtstart", _utc(item.starts_at))
        if item.ends_at is not None:
            assert isinstance(item.ends_at, datetime)
            event.add("dtend", _utc(item.ends_at))
    if item.description:
        event.add("description", clean_text(item.description))
    if item.url:
        event.add("url", item.url)
    if item.alarm_before is not None:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", -item.alarm_before)
        alarm.add("description", summary or "Reminder")
        event.add_component(alarm)
    return event


def clean_text(text: str) -> str:
    """Normalize line breaks to \\n and drop control characters TEXT may not hold."""
    return _CONTROL_CHARS.sub("", _LINE_BREAKS.sub("\n", text))


def single_line(text: str) -> str:
    """Clean `text` and fold its lines into one, for titles and names."""
    return " ".join(clean_text(text).split())


def _utc(value: datetime) -> datetime:
    _require_aware("datetime", value)
    return value.astimezone(UTC).replace(microsecond=0)


def _require_aware(name: str, value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
