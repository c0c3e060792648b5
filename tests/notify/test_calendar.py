"""ICS feeds: parsed back with icalendar, checked line by line."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from portfolio.notify.calendar import CalendarEvent, build_calendar, clean_text, single_line

NOW = datetime(2026, 11, 26, 12, 30, 15, 123456, tzinfo=UTC)
HOST = "seasons.example.com"


def milestone(**changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": f"milestone-42@{HOST}",
        "summary": "Baseline model",
        "description": "Train a baseline and log it to W&B.",
        "starts_at": datetime(2027, 2, 3, 17, 0, tzinfo=ZoneInfo("Europe/Paris")),
        "url": f"https://{HOST}/ada/2027-q1/sentiment",
        "alarm_before": timedelta(days=1),
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def parse(feed: bytes) -> Calendar:
    return Calendar.from_ical(feed)


def unescape(value: str) -> str:
    """Undo RFC 5545 TEXT escaping; icalendar leaves X- properties as they are."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def calendar_name(cal: Calendar) -> str:
    assert unescape(cal["NAME"]) == unescape(cal["X-WR-CALNAME"])
    return unescape(cal["X-WR-CALNAME"])


def events(feed: bytes) -> dict[str, object]:
    return {str(e["UID"]): e for e in parse(feed).walk("VEVENT")}


def test_calendar_properties() -> None:
    """The feed names itself and tells subscribers how often to refresh."""
    feed = build_calendar("Ada's milestones", [milestone()], now=NOW)
    cal = parse(feed)
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"] == "-//Seasons//Seasons calendar feed//EN"
    assert cal["CALSCALE"] == "GREGORIAN"
    assert cal["METHOD"] == "PUBLISH"
    assert calendar_name(cal) == "Ada's milestones"
    assert cal["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in feed
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in feed
    assert feed.startswith(b"BEGIN:VCALENDAR\r\n")
    assert feed.endswith(b"END:VCALENDAR\r\n")


def test_timed_event_is_in_utc_with_uid_stamp_url_and_alarm() -> None:
    """A deadline is written in UTC (Z) with a stable UID and a display alarm a day before."""
    feed = build_calendar("Ada", [milestone()], now=NOW)
    [event] = parse(feed).walk("VEVENT")

    assert event["UID"] == f"milestone-42@{HOST}"
    assert event["DTSTART"].dt == datetime(2027, 2, 3, 16, 0, tzinfo=UTC)
    assert b"\r\nDTSTART:20270203T160000Z\r\n" in feed
    assert "DTEND" not in event  # a deadline is an instant
    assert event["DTSTAMP"].dt == datetime(2026, 11, 26, 12, 30, 15, tzinfo=UTC)
    assert b"\r\nDTSTAMP:20261126T123015Z\r\n" in feed
    assert event["SUMMARY"] == "Baseline model"
    assert event["DESCRIPTION"] == "Train a baseline and log it to W&B."
    assert event["URL"] == f"https://{HOST}/ada/2027-q1/sentiment"
    [alarm] = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"].dt == -timedelta(days=1)
    assert b"\r\nTRIGGER:-P1D\r\n" in feed
    assert alarm["DESCRIPTION"] == "Baseline model"


def test_timed_event_with_end_and_no_alarm() -> None:
    """An end time is written in UTC too; no alarm unless asked."""
    start = datetime(2027, 2, 3, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    feed = build_calendar(
        "Ada", [milestone(starts_at=start, ends_at=start + timedelta(hours=1), alarm_before=None)]
    )
    [event] = parse(feed).walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2027, 2, 3, 14, 0, tzinfo=UTC)
    assert event["DTEND"].dt == datetime(2027, 2, 3, 15, 0, tzinfo=UTC)
    assert event.walk("VALARM") == []


def test_season_boundaries_are_all_day_events() -> None:
    """Dates become DATE values; the inclusive last day becomes an exclusive DTEND."""
    season = CalendarEvent(
        uid=f"season-2027-q1@{HOST}",
        summary="Season 2027-Q1",
        starts_at=date(2027, 1, 1),
        ends_at=date(2027, 3, 31),
    )
    start = CalendarEvent(
        uid=f"season-2027-q1-start@{HOST}", summary="Season starts", starts_at=date(2027, 1, 1)
    )
    feed = build_calendar("Ada", [season, start], now=NOW)
    found = events(feed)

    whole = found[f"season-2027-q1@{HOST}"]
    assert whole["DTSTART"].dt == date(2027, 1, 1)
    assert whole["DTEND"].dt == date(2027, 4, 1)
    assert b"\r\nDTSTART;VALUE=DATE:20270101\r\n" in feed
    assert b"\r\nDTEND;VALUE=DATE:20270401\r\n" in feed
    assert whole["TRANSP"] == "TRANSPARENT"
    one_day = found[f"season-2027-q1-start@{HOST}"]
    assert one_day["DTEND"].dt == date(2027, 1, 2)


def test_uids_are_stable_and_updated_at_makes_output_reproducible() -> None:
    """The same events give the same UIDs; with updated_at the bytes do not change."""
    updated = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    items = [milestone(updated_at=updated), milestone(uid=f"milestone-43@{HOST}")]
    first = build_calendar("Ada", items, now=NOW)
    second = build_calendar("Ada", items, now=NOW + timedelta(hours=3))
    assert list(events(first)) == [f"milestone-42@{HOST}", f"milestone-43@{HOST}"]
    assert list(events(first)) == list(events(second))

    only_stamped = [milestone(updated_at=updated)]
    assert build_calendar("Ada", only_stamped, now=NOW) == build_calendar(
        "Ada", only_stamped, now=NOW + timedelta(days=1)
    )
    event = events(first)[f"milestone-42@{HOST}"]
    assert event["DTSTAMP"].dt == updated
    assert event["LAST-MODIFIED"].dt == updated


HOSTILE = [
    "Eval, then ship; maybe",
    "Back\\slash and \"quotes\" and 'single'",
    "Résumé ✓ 机器学习 🚀 עִברִית",
    "END:VEVENT",
    "x" * 10_000,
    "mixed é" * 2_000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_untrusted_text_round_trips(text: str) -> None:
    """Commas, semicolons, backslashes, unicode and huge text come back unchanged."""
    feed = build_calendar(text, [milestone(summary=text, description=text)], now=NOW)
    cal = parse(feed)
    [event] = cal.walk("VEVENT")
    assert event["SUMMARY"] == text
    assert event["DESCRIPTION"] == text
    assert calendar_name(cal) == text
    assert len(cal.walk("VEVENT")) == 1
    assert_valid_lines(feed)


def test_line_breaks_cannot_inject_properties_or_components() -> None:
    """Newlines are escaped in descriptions and flattened in titles; nothing is injected."""
    attack = "Ship it\r\nEND:VEVENT\r\nBEGIN:VEVENT\nUID:evil@x\rSUMMARY:pwned"
    feed = build_calendar(attack, [milestone(summary=attack, description=attack)], now=NOW)
    cal = parse(feed)
    [event] = cal.walk("VEVENT")
    assert event["UID"] == f"milestone-42@{HOST}"
    assert event["SUMMARY"] == "Ship it END:VEVENT BEGIN:VEVENT UID:evil@x SUMMARY:pwned"
    assert event["DESCRIPTION"] == "Ship it\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil@x\nSUMMARY:pwned"
    assert calendar_name(cal) == event["SUMMARY"]
    assert feed.count(b"\r\nBEGIN:VEVENT\r\n") == 1
    assert feed.count(b"\r\nUID:") == 1
    assert_valid_lines(feed)


def test_control_characters_are_dropped() -> None:
    """Control characters that TEXT may not hold are removed; tabs stay."""
    feed = build_calendar("Ada", [milestone(summary="a\x00b\x1b[31mc", description="x\ty\x07")])
    [event] = parse(feed).walk("VEVENT")
    assert event["SUMMARY"] == "ab[31mc"
    assert event["DESCRIPTION"] == "x\ty"
    assert b"\x00" not in feed
    assert b"\x1b" not in feed


def test_empty_calendar_is_still_a_calendar() -> None:
    """A user without milestones gets a feed with no events."""
    cal = parse(build_calendar("Ada", [], now=NOW))
    assert cal.walk("VEVENT") == []
    assert cal["VERSION"] == "2.0"


@pytest.mark.parametrize(
    "changes",
    [
        {"starts_at": datetime(2027, 2, 3, 17, 0)},  # naive
        {"ends_at": datetime(2027, 2, 3, 17, 0)},  # naive
        {"ends_at": datetime(2020, 1, 1, tzinfo=UTC)},  # before start
        {"ends_at": date(2027, 2, 4)},  # date end for a timed event
        {"starts_at": date(2027, 2, 4), "ends_at": date(2027, 2, 3)},
        {"starts_at": date(2027, 2, 4), "ends_at": datetime(2027, 2, 5, tzinfo=UTC)},
        {"uid": ""},
        {"uid": "milestone 42@x"},
        {"uid": "milestone-42@x\r\nUID:evil"},
        {"url": "javascript:alert(1)"},
        {"url": "https://x.example/a\r\nATTACH:evil"},
        {"alarm_before": timedelta(0)},
        {"updated_at": datetime(2027, 1, 1)},
    ],
)
def test_invalid_events_are_refused(changes: dict[str, object]) -> None:
    """Naive times, reversed ranges, unsafe UIDs and URLs are refused up front."""
    with pytest.raises(ValueError):
        milestone(**changes)


def assert_valid_lines(feed: bytes) -> None:
    """Every content line ends in CRLF and is at most 75 octets (RFC 5545 3.1)."""
    assert feed.endswith(b"\r\n")
    lines = feed[:-2].split(b"\r\n")
    for line in lines:
        assert len(line) <= 75, line[:80]
        assert b"\r" not in line
        assert b"\n" not in line
        line.decode("utf-8")  # folding never splits a multi-byte character


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_round_trips_through_a_parser(text: str) -> None:
    """Whatever a user types comes back as typed, minus control characters."""
    feed = build_calendar(text, [milestone(summary=text, description=text)], now=NOW)
    cal = parse(feed)
    [event] = cal.walk("VEVENT")
    assert event["SUMMARY"] == single_line(text)
    assert event.get("DESCRIPTION", "") == clean_text(text)
    assert calendar_name(cal) == single_line(text)
    assert_valid_lines(feed)
