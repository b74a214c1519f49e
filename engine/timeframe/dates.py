"""Dates for the time-frame grammar: periods, durations, month arithmetic (pure, no clock).

A month index is ``year * 12 + month - 1``; a run of whole months is turned into a ``Period``
(an inclusive range of local dates) by ``mrange``, after an optional modifier (end, mid, early,
late, beginning). The conventions are stated in ``engine.timeframe``.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

_DIM = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
YEARLESS = "no year is given, so the next one after the reference date is assumed"


class Period(NamedTuple):
    """An inclusive range of local dates named by a phrase, and how sure the reading is."""

    start: date
    end: date
    unit: str
    exact: str = "period"  # "period", "point" (a day) or "mod" (mid-, early, late ...)
    span: bool = False  # several calendar years (a biennium): standing alone it is a window
    review: str = ""  # why the reading is uncertain ("" when it is certain)
    note: str = ""
    yearless: bool = False
    month: int = 0  # a year-less month or day: its month (a recurrence's BYMONTH)


class Duration(NamedTuple):
    """A length of time counted from the reference date."""

    months: int
    days: int
    note: str = ""


class Recurrence(NamedTuple):
    """A rhythm: ``rrule`` is an RFC 5545 RRULE value, or None when it is no calendar rule."""

    rrule: str | None
    event: str | None = None
    adjective: bool = False  # "annual" before a noun ("annual reports") names no rhythm alone
    review: str = ""


Value = Period | Duration | Recurrence
_new_period = tuple.__new__  # a Period from all its fields, without the named tuple's Python-level __new__


class Env(NamedTuple):
    ref: date
    fy: int | None
    dayfirst: bool = False  # numeric dates are only ever day-first (French, Spanish)


def days_in(y: int, m: int) -> int:
    if m == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        return 29
    return _DIM[m - 1]


def first_of(i: int) -> date:
    return date(i // 12, i % 12 + 1, 1)


def last_of(i: int) -> date:
    y, m0 = divmod(i, 12)
    return date(y, m0 + 1, days_in(y, m0 + 1))


def add_months(d: date, n: int) -> date:
    """Return ``d`` moved by ``n`` calendar months, the day clamped to the month's length."""
    y, m0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m0 + 1, min(d.day, days_in(y, m0 + 1)))


def shift_years(p: Period, k: int) -> Period:
    """Return ``p`` moved by ``k`` years (month ends stay month ends)."""
    fields = (_shift(p.start, k), _shift(p.end, k), p.unit, p.exact, p.span, "", p.note, False, p.month)
    return _new_period(Period, fields)  # p._replace(start=..., end=..., yearless=False, review=""), at a fifth the cost


def _shift(d: date, k: int) -> date:
    y = d.year + k
    at_end = d.day == days_in(d.year, d.month)
    return date(y, d.month, days_in(y, d.month) if at_end else min(d.day, days_in(y, d.month)))


# ---------------------------------------------------------------- periods made of whole months


@lru_cache(maxsize=4096)  # a plan names the same few months and years again and again; a Period is immutable
def mrange(
    i0: int,
    n: int,
    mod: str | None,
    unit: str,
    *,
    span: bool = False,
    review: str = "",
    yearless: bool = False,
    month: int = 0,
) -> Period:
    """Return the months ``i0 .. i0+n-1`` (a month index is year*12 + month-1) after ``mod``."""
    if mod is None:
        s, e, exact = first_of(i0), last_of(i0 + n - 1), "period"
    elif mod == "end":
        s = e = last_of(i0 + n - 1)
        exact = "mod"
    else:
        s, e = _mod_days(i0, mod) if n == 1 else _mod_months(i0, n, mod)
        exact = "mod"
    return _new_period(Period, (s, e, unit, exact, span, review, "", yearless, month))


def _mod_days(i0: int, mod: str) -> tuple[date, date]:
    s, e = first_of(i0), last_of(i0)
    if mod == "mid":  # like mid-year: due on the 15th, a start on the 16th
        return s.replace(day=16), s.replace(day=15)
    if mod == "late":
        return s.replace(day=21), e
    return s, s.replace(day=10)  # early / beginning: the first ten days


def _mod_months(i0: int, n: int, mod: str) -> tuple[date, date]:
    third = -(-n // 3)
    if mod == "mid":  # a year: due 30 June, start 1 July
        return first_of(i0 + n // 2), last_of(i0 + (n + 1) // 2 - 1)
    if mod == "late":
        return first_of(i0 + n - third), last_of(i0 + n - 1)
    if mod == "beginning":
        return first_of(i0), last_of(i0)
    return first_of(i0), last_of(i0 + third - 1)  # early: the first third (a year: Jan-Apr)


def anchor(ref: date, m0: int, n: int, ahead: bool) -> int:
    """Return the month index of the next ``n``-month period starting in month ``m0`` (0-11).

    The next one strictly after the reference month; with ``ahead`` (an end point or "this"),
    the current one while its end is still ahead.
    """
    r = ref.year * 12 + ref.month - 1
    for y in (ref.year - 1, ref.year, ref.year + 1):
        i0 = y * 12 + m0
        if (last_of(i0 + n - 1) >= ref) if ahead else i0 > r:
            return i0
    return (ref.year + 2) * 12 + m0


def year_of(text: str) -> int:
    v = int(text)
    if len(text) > 2:
        return v
    return 2000 + v if v < 70 else 1900 + v


def fy_base(n: int, fy: int | None) -> tuple[int, str]:
    """Month index where fiscal year ``n`` (named after the year it ends in) starts."""
    if fy is None:
        return n * 12, "no fiscal-year start is set, so the fiscal year is read as the calendar year"
    if fy == 1:
        return n * 12, ""
    review = "" if fy > 6 else "the fiscal year is taken to be named after the year it ends in"
    return (n - 1) * 12 + fy - 1, review


def fy_pair(a: int, b: int, fy: int | None) -> tuple[int, str]:
    if fy is None or fy == 1:
        why = "no fiscal-year start is set" if fy is None else "the fiscal year is the calendar year"
        return b * 12, f"{why}, so the fiscal year {a}/{b} is read as the calendar year {b}"
    return a * 12 + fy - 1, ""


@lru_cache(maxsize=4096)
def day(y: int, m: int, d: int, review: str = "", note: str = "") -> Period | None:
    if not (1 <= m <= 12 and 1 <= d <= days_in(y, m)):
        return None
    x = date(y, m, d)
    return Period(x, x, "day", "point", review=review, note=note)


@lru_cache(maxsize=4096)
def yearless_day(m: int, d: int, ref: date) -> Period | None:
    if not (1 <= m <= 12 and 1 <= d <= 31) or d > days_in(2000, m):
        return None
    for y in range(ref.year, ref.year + 9):
        if d <= days_in(y, m) and date(y, m, d) >= ref:
            x = date(y, m, d)
            return Period(x, x, "day", "point", review=YEARLESS, yearless=True, month=m)
    return None


def clear_periods() -> None:
    """Forget the Periods of months and days built (``engine.timeframe.clear_caches``)."""
    for kept in (mrange, day, yearless_day):
        kept.cache_clear()


def after(p: Period) -> date:
    """The day after a period (the start of "after June 2004")."""
    return p.end + timedelta(days=1)
