"""VTIMEZONEs with yearly rules: the zone's transitions grouped into observances, checked by icalendar's parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice

import icalendar
import pytest
from dateutil.rrule import rrulestr

from engine.calendars.timezone import vtimezone
from engine.zones import zone


@pytest.mark.parametrize(
    ("zone_name", "years", "expected"),
    [
        (
            "Europe/Zurich",
            (2000, 2001),
            [
                "DAYLIGHT 19990328T020000 +0100>+0200 FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
                "STANDARD 19991031T030000 +0200>+0100 FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
            ],
        ),
        ("Asia/Bangkok", (2000, 2000), ["STANDARD 19990101T000000 +0700>+0700 -"]),
        (
            "America/New_York",
            (2006, 2008),
            [
                "DAYLIGHT 20050403T020000 -0500>-0400 FREQ=YEARLY;UNTIL=20060402T070000Z;BYDAY=1SU;BYMONTH=4",
                "STANDARD 20051030T020000 -0400>-0500 FREQ=YEARLY;UNTIL=20061029T060000Z;BYDAY=-1SU;BYMONTH=10",
                "DAYLIGHT 20070311T020000 -0500>-0400 FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
                "STANDARD 20071104T020000 -0400>-0500 FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
            ],
        ),
    ],
    ids=["zurich_eu_rule", "bangkok_no_dst", "new_york_rule_change_2007"],
)
def test_vtimezones_are_written_with_yearly_rules(zone_name: str, years: tuple[int, int], expected: list[str]) -> None:
    tz = icalendar.Calendar.from_ical(f"BEGIN:VCALENDAR\r\n{vtimezone(zone_name, *years)}END:VCALENDAR\r\n").walk(
        "VTIMEZONE"
    )[0]
    found = [
        f"{part.name} {_raw(part['DTSTART'])} {_raw(part['TZOFFSETFROM'])}>{_raw(part['TZOFFSETTO'])} "
        f"{_raw(part['RRULE']) if 'RRULE' in part else '-'}"
        for part in tz.subcomponents
    ]
    assert found == expected
    assert "RDATE" not in vtimezone(zone_name, *years)


def _raw(value: object) -> str:
    text = value.to_ical()  # type: ignore[attr-defined]
    return text.decode() if isinstance(text, bytes) else str(text)


def _observances(text: str) -> list[icalendar.cal.Component]:
    cal = icalendar.Calendar.from_ical(f"BEGIN:VCALENDAR\r\n{text}END:VCALENDAR\r\n")
    return list(cal.walk("VTIMEZONE")[0].subcomponents)


def _onsets(part: icalendar.cal.Component, before: timedelta) -> list[datetime]:
    """The UTC instants an observance starts at in 2005-2009: its DTSTART alone, or its RRULE expanded.

    DTSTART is local wall-clock time (in the offset before the change); UNTIL is a UTC instant.
    """
    onset = part["DTSTART"].dt
    local = [onset]
    until = None
    if "RRULE" in part:
        rule = part["RRULE"]
        until = rule.pop("UNTIL", [None])[0]
        local = list(islice(rrulestr(rule.to_ical().decode(), dtstart=onset), 30))
    instants = [(d - before).replace(tzinfo=UTC) for d in local]
    return [i for i in instants if 2005 <= i.year <= 2009 and (until is None or i <= until)]


@pytest.mark.parametrize("zone_name", ["Europe/Zurich", "America/New_York", "Australia/Sydney"])
def test_the_rules_land_on_the_zones_own_transitions_in_every_year_covered(zone_name: str) -> None:
    """Expanding each observance's RRULE gives the instants zoneinfo changes offset, and every change is one of them."""
    tz = zone(zone_name)
    found = set()
    for part in _observances(vtimezone(zone_name, 2005, 2009)):
        before, after = part["TZOFFSETFROM"].td, part["TZOFFSETTO"].td
        for instant in _onsets(part, before):
            minute = timedelta(minutes=1)
            assert ((instant - minute).astimezone(tz).utcoffset(), instant.astimezone(tz).utcoffset()) == (
                before,
                after,
            ), (zone_name, instant)
            found.add(instant)
    changes = {
        moment
        for moment in (datetime(2005, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(5 * 366 * 24))
        if moment.year < 2010
        and moment.astimezone(tz).utcoffset() != (moment - timedelta(hours=1)).astimezone(tz).utcoffset()
    }
    assert changes == found and len(found) == 10


def test_the_names_are_the_zones_abbreviations() -> None:
    names = {str(part.name): str(part["TZNAME"]) for part in _observances(vtimezone("Europe/Zurich", 2000, 2000))}
    assert names == {"DAYLIGHT": "CEST", "STANDARD": "CET"}


def test_an_unknown_zone_is_refused_with_advice() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus_Mons'"):
        vtimezone("Mars/Olympus_Mons", 2000, 2000)
