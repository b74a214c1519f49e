"""VEVENT and VTODO text of one ``EventSpec``, the way ``icalendar`` would write it (see ``calendars.text``).

All-day values are DATE values with an exclusive DTEND (the next day); DTSTAMP and
LAST-MODIFIED are UTC; a VTODO's DUE carries the plan's TZID.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from engine.calendars.model import EventSpec
from engine.calendars.text import (
    categories,
    dates,
    duration,
    escape,
    line,
    local,
    recur,
    text_line,
    utc,
    ymd,
)

DAY = timedelta(days=1)


def vevent(
    spec: EventSpec, alarms: bool, published: tuple[str, int, datetime] | None = None, description: str | None = None
) -> str:
    """Return the VEVENT block(s) of ``spec``: the event, then one override per done occurrence.

    ``published`` (UID, SEQUENCE, LAST-MODIFIED in UTC) and ``description`` override the spec's own fields.
    """
    uid, sequence, modified = published or (spec.uid, spec.sequence, spec.modified)
    stamp = utc(modified)
    shared = _shared(spec, stamp, spec.description if description is None else description)
    # Date, stamp and number lines are short and plain: written directly (the hot path of a big feed).
    parts = [
        "BEGIN:VEVENT\r\n",
        text_line("SUMMARY", spec.summary),
        f"DTSTART;VALUE=DATE:{ymd(spec.day)}\r\nDTEND;VALUE=DATE:{ymd(spec.day + DAY)}\r\nDTSTAMP:{stamp}\r\n",
        line("UID", uid),
        f"SEQUENCE:{sequence}\r\n",
    ]
    if spec.rrule:
        parts.append(line("RRULE", recur(spec.rrule)))
    if spec.rdates:
        parts.append(line("RDATE;VALUE=DATE", dates(spec.rdates)))
    if spec.exdates:
        parts.append(line("EXDATE;VALUE=DATE", dates(spec.exdates)))
    parts.append(shared)
    if alarms and spec.alarm is not None and spec.state == "open":
        parts.append(_alarm(spec))
    parts.append("END:VEVENT\r\n")
    parts.extend(_override(spec, day, (uid, sequence, stamp), shared) for day in spec.done_days)
    return "".join(parts)


def _shared(spec: EventSpec, stamp: str, description: str) -> str:
    """The properties after the canonical ones, alphabetical: CATEGORIES ... URL."""
    parts = [
        line("CATEGORIES", categories(spec.categories)) if spec.categories else "",
        text_line("DESCRIPTION", description),
        f"LAST-MODIFIED:{stamp}\r\nSTATUS:{spec.status}\r\nTRANSP:TRANSPARENT\r\n",
        line("URL", spec.url) if spec.url else "",
    ]
    return "".join(parts)


def _override(spec: EventSpec, day: date, published: tuple[str, int, str], shared: str) -> str:
    """A done occurrence of a series: same UID, RECURRENCE-ID, marked done in the summary."""
    uid, sequence, stamp = published
    when = ymd(day)
    return "".join(
        [
            "BEGIN:VEVENT\r\n",
            text_line("SUMMARY", spec.done_summary or spec.summary),
            line("DTSTART;VALUE=DATE", when),
            line("DTEND;VALUE=DATE", ymd(day + DAY)),
            line("DTSTAMP", stamp),
            line("UID", uid),
            line("RECURRENCE-ID;VALUE=DATE", when),
            line("SEQUENCE", str(sequence)),
            shared.replace(f"STATUS:{spec.status}\r\n", "STATUS:CONFIRMED\r\n"),
            "END:VEVENT\r\n",
        ]
    )


def _alarm(spec: EventSpec) -> str:
    assert spec.alarm is not None
    return "".join(
        [
            "BEGIN:VALARM\r\n",
            "ACTION:DISPLAY\r\n",
            text_line("DESCRIPTION", spec.summary),
            line("TRIGGER", duration(spec.alarm)),
            "END:VALARM\r\n",
        ]
    )


def vtodo(
    spec: EventSpec,
    uid: str,
    sequence: int | None = None,
    modified: datetime | None = None,
    description: str | None = None,
) -> str:
    """Return the VTODO twin of a due event (properties alphabetical, as ``icalendar`` orders them); ``sequence``,
    ``modified`` and ``description`` override the spec's own."""
    todo = spec.todo
    assert todo is not None
    stamp = utc(modified or spec.modified)
    zone_name = getattr(todo.due.tzinfo, "key", "UTC")
    parts = [
        "BEGIN:VTODO\r\n",
        line("CATEGORIES", categories(spec.categories)) if spec.categories else "",
        line("COMPLETED", utc(todo.completed)) if todo.completed is not None else "",
        text_line("DESCRIPTION", spec.description if description is None else description),
        line("DTSTAMP", stamp),
        line(f"DUE;TZID={zone_name}", local(todo.due)),
        line("LAST-MODIFIED", stamp),
        line("PERCENT-COMPLETE", str(todo.percent)),
        line("SEQUENCE", str(spec.sequence if sequence is None else sequence)),
        line("STATUS", todo.status),
        line("SUMMARY", escape(spec.summary)),
        line("UID", uid),
        line("URL", spec.url) if spec.url else "",
        "END:VTODO\r\n",
    ]
    return "".join(parts)
