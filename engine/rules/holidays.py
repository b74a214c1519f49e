"""Holiday lists that rule files name under ``delivery: holidays:``: a YAML list of dates or an .ics file.

YAML: ``holidays: [2000-01-01, ...]`` or a plain list. iCalendar: the days of every all-day
VEVENT (DTEND exclusive), a yearly RRULE expanded over 1995-2040. Errors name the holiday file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, RootModel

from engine import yamlfile
from engine.errors import InputError, Location, display_path

# Yearly holidays written as one RRULE are expanded over these years (enough for any plan here).
RRULE_YEARS = (1995, 2040)
IMPOSSIBLE_DATE = re.compile(r"(?<![\w.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.:-])")


class HolidayFile(BaseModel):
    """A holiday list written as ``holidays: [2000-01-01, ...]``."""

    model_config = ConfigDict(extra="forbid")

    holidays: list[date]


class HolidayList(RootModel[list[date]]):
    """A holiday list written as a plain list of dates."""


def read_holidays(path: Path, text: str) -> list[date]:
    """Return the days listed by the holiday file ``path`` whose content is ``text``."""
    name = display_path(path)
    if path.suffix.lower() == ".ics":
        return ics_dates(text, name)
    doc = parse_yaml(text, name)
    if isinstance(doc.data, Mapping):
        return yamlfile.validate(HolidayFile, doc).holidays
    if isinstance(doc.data, list):
        return yamlfile.validate(HolidayList, doc).root
    raise InputError("expected a holiday list: 'holidays:' followed by lines like '- 2000-01-01'", doc.locate(()))


def parse_yaml(text: str, name: str) -> yamlfile.Document:
    """Parse YAML with ``yamlfile.loads`` (which also says where an impossible date is)."""
    return yamlfile.loads(text, name)


def ics_dates(text: str, name: str) -> list[date]:
    """Return the days of the all-day events of an iCalendar text (RRULEs expanded over 1995-2040)."""
    from datetime import datetime, time, timedelta

    from dateutil.rrule import rrulestr
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(text)
    except ValueError as exc:
        raise InputError(
            f"not an iCalendar file ({exc}); expected BEGIN:VCALENDAR with all-day events", Location(name)
        ) from None
    days: set[date] = set()
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        first = start.dt if start is not None else None
        if not isinstance(first, date) or isinstance(first, datetime):
            continue  # timed events are meetings, not holidays
        end = event.get("DTEND")
        length = max(1, (end.dt - first).days) if end is not None and not isinstance(end.dt, datetime) else 1
        starts = [first]
        if event.get("RRULE") is not None:
            raw = event["RRULE"].to_ical()
            rule_text = raw.decode() if isinstance(raw, bytes) else str(raw)
            try:
                # Naive midnights: only the dates matter, and dtstart keeps dateutil off the clock.
                rule = rrulestr(rule_text, dtstart=datetime.combine(first, time()))
                low, high = (datetime(y, 1, 1) for y in (RRULE_YEARS[0], RRULE_YEARS[1] + 1))  # noqa: DTZ001
                starts = [d.date() for d in rule.between(low, high, inc=True)]
            except (ValueError, TypeError) as exc:
                what = event.get("SUMMARY", "an event")
                raise InputError(
                    f"RRULE {rule_text!r} of {what!s}: {exc}; expected a yearly rule like FREQ=YEARLY", Location(name)
                ) from None
        days.update(s + timedelta(days=n) for s in starts for n in range(length))
    return sorted(days)
