"""Time zones: instants are stored in UTC and shown in the viewer's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta

END_OF_DAY = time(23, 59)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_to_utc(day: date, at: time, tz_name: str) -> datetime:
    """The UTC instant of a wall-clock time in a zone (DST-aware)."""
    return datetime.combine(day, at, tzinfo=zone(tz_name)).astimezone(UTC)


def to_local(instant: datetime, tz_name: str) -> datetime:
    return instant.astimezone(zone(tz_name))


def format_local(instant: datetime | None, tz_name: str, fmt: str = "EEE d MMM y, HH:mm") -> str:
    """e.g. "Fri 26 Feb 2027, 23:59 PST" (the zone's own abbreviation, "UTC" for UTC)."""
    if instant is None:
        return ""
    local = instant.astimezone(zone(tz_name))
    return f"{format_datetime(local, fmt, tzinfo=local.tzinfo, locale='en')} {local.tzname()}"


def relative(instant: datetime | None, now: datetime) -> str:
    """ "in 3 days", "5 hours ago"."""
    if instant is None:
        return ""
    delta = instant - now
    if abs(delta) < timedelta(minutes=1):
        return "now"
    return format_timedelta(delta, add_direction=True, locale="en", threshold=1.1)


def week_due(starts_on: date, ends_on: date, week: int, tz_name: str) -> datetime:
    """23:59 on the last day of a plan week, never after the season's last day."""
    day = min(starts_on + timedelta(days=7 * week - 1), ends_on)
    return local_to_utc(day, END_OF_DAY, tz_name)


def iso_instant(instant: datetime | None) -> str:
    """An instant as ISO 8601 in UTC ("2027-03-14T09:30:00.250Z") for `<time datetime>`.

    HTML allows one to three digits of a second's fraction; Python's
    isoformat() writes six. Naive values are taken as UTC (how we store them).
    """
    if instant is None:
        return ""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace(".000+00:00", "Z").replace("+00:00", "Z")
