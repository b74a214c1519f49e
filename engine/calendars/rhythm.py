"""A check-in rhythm (``checkin.every``) as an RRULE, or as explicit dates where no RRULE says it.

The planner steps from one check-in to the next with calendar arithmetic
(``Duration.after_day``): from 31 January, "every 3mo" gives 30 April, then 30 July, never 31
July. An RRULE cannot say that, so such rhythms are written as RDATEs for ``HORIZON_DAYS``.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

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
