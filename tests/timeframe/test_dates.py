"""Tests of ``engine.timeframe.dates``: month arithmetic, periods made of whole months, year assumptions."""

from __future__ import annotations

from datetime import date

import pytest

from engine.timeframe.dates import (
    YEARLESS,
    Period,
    add_months,
    after,
    anchor,
    day,
    days_in,
    fy_base,
    fy_pair,
    mrange,
    shift_years,
    year_of,
    yearless_day,
)

REF = date(1999, 9, 28)


def _month(year: int, month: int) -> int:
    return year * 12 + month - 1


@pytest.mark.parametrize(
    ("year", "month", "days"), [(2000, 2, 29), (1900, 2, 28), (2004, 2, 29), (2003, 2, 28), (2003, 4, 30)]
)
def test_days_in_follows_the_gregorian_leap_years(year: int, month: int, days: int) -> None:
    assert days_in(year, month) == days


def test_add_months_clamps_the_day_to_the_month_and_crosses_years() -> None:
    assert add_months(date(2000, 1, 31), 1) == date(2000, 2, 29)
    assert add_months(date(1999, 1, 31), 1) == date(1999, 2, 28)
    assert add_months(date(1999, 9, 28), 9) == date(2000, 6, 28)
    assert add_months(date(2000, 3, 31), -13) == date(1999, 2, 28)


def test_mrange_turns_whole_months_into_periods_after_a_modifier() -> None:
    may = _month(2004, 5)
    assert mrange(may, 1, None, "month")[:4] == (date(2004, 5, 1), date(2004, 5, 31), "month", "period")
    assert mrange(may, 1, "end", "month")[:2] == (date(2004, 5, 31), date(2004, 5, 31))
    assert mrange(may, 1, "mid", "month")[:2] == (date(2004, 5, 16), date(2004, 5, 15))  # like mid-year
    assert mrange(may, 1, "late", "month")[:2] == (date(2004, 5, 21), date(2004, 5, 31))
    assert mrange(may, 1, "early", "month")[:2] == (date(2004, 5, 1), date(2004, 5, 10))
    year = _month(2004, 1)
    # mid-year: due 30 June, start 1 July; early: the first four months; late: the last four
    assert mrange(year, 12, "mid", "year")[:2] == (date(2004, 7, 1), date(2004, 6, 30))
    assert mrange(year, 12, "early", "year")[:2] == (date(2004, 1, 1), date(2004, 4, 30))
    assert mrange(year, 12, "late", "year")[:2] == (date(2004, 9, 1), date(2004, 12, 31))
    assert mrange(year, 12, "mid", "year").exact == "mod"
    biennium = mrange(_month(2002, 1), 24, None, "biennium", span=True)
    assert (biennium.start, biennium.end, biennium.span) == (date(2002, 1, 1), date(2003, 12, 31), True)


def test_anchor_picks_the_next_period_or_the_current_one_while_its_end_is_ahead() -> None:
    september = 8  # month 0-11
    assert anchor(REF, september, 1, False) == _month(2000, 9)  # strictly after the reference month
    assert anchor(REF, september, 1, True) == _month(1999, 9)  # 30 September 1999 is still ahead
    assert anchor(date(1999, 10, 1), september, 1, True) == _month(2000, 9)
    assert anchor(date(2003, 5, 10), 3, 3, True) == _month(2003, 4)  # the second quarter, still running


def test_years_and_fiscal_years_are_named_after_the_year_they_end_in() -> None:
    assert (year_of("04"), year_of("99"), year_of("2007")) == (2004, 1999, 2007)
    assert fy_base(2004, 10) == (_month(2003, 10), "")  # FY2004 starts October 2003
    assert fy_base(2004, 1) == (_month(2004, 1), "")
    start, why = fy_base(2004, None)
    assert start == _month(2004, 1) and "no fiscal-year start is set" in why
    assert fy_base(2004, 4)[1] == "the fiscal year is taken to be named after the year it ends in"
    assert fy_pair(2003, 2004, 4) == (_month(2003, 4), "")
    assert fy_pair(2003, 2004, None)[0] == _month(2004, 1)


def test_days_are_checked_and_a_day_without_a_year_is_the_next_one() -> None:
    assert day(2001, 2, 29) is None and day(2001, 13, 1) is None
    assert day(2000, 2, 29) == Period(date(2000, 2, 29), date(2000, 2, 29), "day", "point")
    leap = yearless_day(2, 29, REF)
    assert leap is not None and leap.start == date(2000, 2, 29)
    assert (leap.review, leap.yearless, leap.month) == (YEARLESS, True, 2)
    assert yearless_day(9, 28, REF) == Period(REF, REF, "day", "point", review=YEARLESS, yearless=True, month=9)
    assert yearless_day(9, 27, REF) == Period(
        date(2000, 9, 27), date(2000, 9, 27), "day", "point", review=YEARLESS, yearless=True, month=9
    )
    assert yearless_day(2, 30, REF) is None and yearless_day(4, 31, REF) is None


def test_shift_years_keeps_month_ends_and_after_is_the_next_day() -> None:
    february = mrange(_month(2004, 2), 1, "end", "month", review="doubt", yearless=True)
    moved = shift_years(february, -1)
    assert (moved.start, moved.end) == (date(2003, 2, 28), date(2003, 2, 28))
    assert (moved.review, moved.yearless) == ("", False)
    assert shift_years(moved, 1).end == date(2004, 2, 29)
    assert after(mrange(_month(2004, 6), 1, None, "month")) == date(2004, 7, 1)
    assert after(mrange(_month(2004, 12), 1, None, "month")) == date(2005, 1, 1)


def test_shift_years_keeps_every_other_field_and_clears_the_year_doubt() -> None:
    p = Period(date(2000, 4, 1), date(2000, 4, 30), "month", "mod", True, "assumed", "a note", True, 4)
    moved = shift_years(p, 3)
    assert type(moved) is Period
    assert moved == Period(date(2003, 4, 1), date(2003, 4, 30), "month", "mod", True, "", "a note", False, 4)
