"""A check-in rhythm (``checkin.every``) as an RRULE, or as explicit dates where no RRULE says it.

The planner steps from one check-in to the next with calendar arithmetic
(``Duration.after_day``): from 31 January, "every 3mo" gives 30 April, then 30 July, never 31
July. An RRULE cannot say that, so such rhythms are written as RDATEs for ``HORIZON_DAYS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

from engine.languages import DEFAULT, gettext, ngettext
from engine.rules.durations import BusinessCalendar, Duration

HORIZON_DAYS = 3653  # ten years of explicit dates for a rhythm an RRULE cannot express
SHORTEST = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


@lru_cache(maxsize=4096)
def checkin_days(every: Duration, start: date) -> tuple[date, str | None, tuple[date, ...]] | None:
    """Return (first check-in, RRULE or None, RDATEs) for a rhythm counted from ``start`` (local days).

    None when the rhythm does not move forward (a duration in hours only).
    """
    free = BusinessCalendar(enabled=False)
    first = every.after_day(start, free)
    if first <= start:
        return None
    rule = _rule(every, first)
    if rule is not None:
        return first, rule, ()
    days: list[date] = []
    day, end = first, first + timedelta(days=HORIZON_DAYS)
    while True:
        day = every.after_day(day, free)
        if day > end:
            return first, None, tuple(days)
        days.append(day)


def _rule(every: Duration, first: date) -> str | None:
    days = every.days + every.business_days  # business days count as days on a free calendar
    months = 12 * every.years + every.months
    if days and months:
        return None
    if days:
        return _with_interval("WEEKLY", days // 7) if days % 7 == 0 else _with_interval("DAILY", days)
    visited = {(first.month - 1 + k * months) % 12 + 1 for k in range(12)}
    if any(SHORTEST[m] < first.day for m in visited):
        return None  # the planner's dates drift to shorter month ends
    return _with_interval("YEARLY", months // 12) if months % 12 == 0 else _with_interval("MONTHLY", months)


def _with_interval(freq: str, n: int) -> str:
    return f"FREQ={freq}" if n == 1 else f"FREQ={freq};INTERVAL={n}"


def rhythm_words(every: Duration, language: str = DEFAULT) -> str:
    """Return a rhythm as people say it in ``language``: "every 3 months", "tous les 3 mois", "cada 3 meses"."""
    units = [(n, unit) for n, unit in _units(every) if n]
    if len(units) == 1:
        n, unit = units[0]
        return EVERY[unit](language, n) % {"num": n}
    spans = ", ".join(SPAN[unit](language, n) % {"num": n} for n, unit in units)
    return gettext(language, "every %(span)s") % {"span": spans}


def _units(every: Duration) -> list[tuple[int, str]]:
    weeks = every.days // 7 if every.days % 7 == 0 else 0
    return [
        (every.years, "year"),
        (every.months, "month"),
        (weeks, "week"),
        (0 if weeks else every.days, "day"),
        (every.business_days, "business day"),
        (every.hours, "hour"),
    ]


# Whole messages, so that each language says "every month" and "every 3 months" its own way.
EVERY: dict[str, Callable[[str, int], str]] = {
    "year": lambda lang, n: ngettext(lang, "every year", "every %(num)d years", n),
    "month": lambda lang, n: ngettext(lang, "every month", "every %(num)d months", n),
    "week": lambda lang, n: ngettext(lang, "every week", "every %(num)d weeks", n),
    "day": lambda lang, n: ngettext(lang, "every day", "every %(num)d days", n),
    "business day": lambda lang, n: ngettext(lang, "every business day", "every %(num)d business days", n),
    "hour": lambda lang, n: ngettext(lang, "every hour", "every %(num)d hours", n),
}
SPAN: dict[str, Callable[[str, int], str]] = {
    "year": lambda lang, n: ngettext(lang, "%(num)d year", "%(num)d years", n),
    "month": lambda lang, n: ngettext(lang, "%(num)d month", "%(num)d months", n),
    "week": lambda lang, n: ngettext(lang, "%(num)d week", "%(num)d weeks", n),
    "day": lambda lang, n: ngettext(lang, "%(num)d day", "%(num)d days", n),
    "business day": lambda lang, n: ngettext(lang, "%(num)d business day", "%(num)d business days", n),
    "hour": lambda lang, n: ngettext(lang, "%(num)d hour", "%(num)d hours", n),
}
