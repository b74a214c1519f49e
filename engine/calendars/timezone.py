"""VTIMEZONE components written with yearly RRULEs (``BYMONTH``/``BYDAY``), as clients expect.

``icalendar``'s ``add_missing_timezones()`` writes one RDATE-style observance per transition;
ical.js and Outlook read those an hour off, so planwatch derives the rule itself: it finds the
zone's transitions over the years in use (from ``zoneinfo``), groups consecutive years that
follow the same rule (month, weekday of the month, local time, offsets) and writes one
observance per group; the rule still in force at the end is left open (no UNTIL).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from engine.zones import zone

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class _Transition:
    at: datetime  # UTC instant
    before: timedelta
    after: timedelta
    name: str
    dst: bool

    @property
    def onset(self) -> datetime:
        """Local wall-clock time of the transition, in the offset before it (naive)."""
        return (self.at + self.before).replace(tzinfo=None)

    def rules(self) -> list[str]:
        """Return the BYDAY/BYMONTHDAY rules this day fits: 2SU, -1SU, or the month day."""
        day = self.onset
        weekday = WEEKDAYS[day.weekday()]
        found = [f"{(day.day - 1) // 7 + 1}{weekday}"]
        if day.day + 7 > calendar.monthrange(day.year, day.month)[1]:
            found.insert(0, f"-1{weekday}")
        return [*found, f"D{day.day}"]

    def shape(self) -> tuple[object, ...]:
        day = self.onset
        return (self.dst, self.before, self.after, self.name, day.month, day.time(), day.weekday())


@lru_cache(maxsize=64)
def vtimezone(name: str, first_year: int, last_year: int) -> str:
    """Return the VTIMEZONE text of IANA zone ``name`` valid for local times in the given years."""
    tz = Timezone()
    tz.add("tzid", name)
    transitions = _transitions(name, first_year - 1, last_year + 1)
    if not transitions:
        tz.add_component(_fixed(name, first_year - 1))
    for group, rule, open_ended in _groups(transitions, last_year + 1):
        tz.add_component(_observance(group, rule, open_ended))
    return str(tz.to_ical().decode())


def _transitions(name: str, first_year: int, last_year: int) -> list[_Transition]:
    """Every change of UTC offset or abbreviation between the two years (inclusive), in order."""
    tz = zone(name)
    found = []
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    state = _state(moment, tz)
    while moment < end:
        step = moment + timedelta(days=1)
        after = _state(step, tz)
        if after != state:
            at = _bisect(moment, step, state, tz)
            found.append(_Transition(at, state[0], after[0], after[1], after[2]))
        moment, state = step, after
    return found


def _state(moment: datetime, tz: object) -> tuple[timedelta, str, bool]:
    local = moment.astimezone(tz)  # type: ignore[arg-type]
    return local.utcoffset() or timedelta(0), local.tzname() or "", bool(local.dst())


def _bisect(low: datetime, high: datetime, state: tuple[timedelta, str, bool], tz: object) -> datetime:
    """Return the first minute at or after which the state differs from ``state``."""
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if _state(middle, tz) == state:
            low = middle
        else:
            high = middle
    return high


def _groups(transitions: list[_Transition], last_year: int) -> list[tuple[list[_Transition], str, bool]]:
    """Split each stream (standard, daylight) into runs of consecutive years with one rule."""
    out: list[tuple[list[_Transition], str, bool]] = []
    for dst in (False, True):
        run: list[_Transition] = []
        rules: list[str] = []
        for item in (t for t in transitions if t.dst == dst):
            fits = [r for r in rules if r in item.rules()]
            if run and item.shape() == run[-1].shape() and item.onset.year == run[-1].onset.year + 1 and fits:
                run.append(item)
                rules = fits
                continue
            if run:
                out.append((run, rules[0], False))
            run, rules = [item], item.rules()
        if run:
            out.append((run, rules[0], run[-1].onset.year == last_year))
    return sorted(out, key=lambda g: g[0][0].at)


def _observance(group: list[_Transition], rule: str, open_ended: bool) -> TimezoneStandard | TimezoneDaylight:
    first = group[0]
    part = TimezoneDaylight() if first.dst else TimezoneStandard()
    part.add("dtstart", first.onset)
    part.add("tzoffsetfrom", first.before)
    part.add("tzoffsetto", first.after)
    part.add("tzname", first.name)
    if len(group) > 1 or open_ended:
        recur: dict[str, object] = {"freq": "yearly", "bymonth": first.onset.month}
        if rule.startswith("D"):
            recur["bymonthday"] = int(rule[1:])
        else:
            recur["byday"] = rule
        if not open_ended:
            recur["until"] = group[-1].at
        part.add("rrule", vRecur(recur))
    return part


def _fixed(name: str, year: int) -> TimezoneStandard:
    """A zone without transitions over the years in use: one standard observance."""
    tz = zone(name)
    start = datetime(year, 1, 1, tzinfo=UTC)
    offset, abbreviation, _ = _state(start, tz)
    start = start.replace(tzinfo=None)  # a VTIMEZONE's DTSTART is local time
    part = TimezoneStandard()
    part.add("dtstart", start)
    part.add("tzoffsetfrom", offset)
    part.add("tzoffsetto", offset)
    part.add("tzname", abbreviation)
    return part
