"""Durations of rule files (``30d``, ``5bd``, ``P1M``): parsing, its errors, and calendar arithmetic."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.rules.durations import BusinessCalendar, Duration, parse_duration
from engine.rules.loader import load_rules

from ..conftest import ROOT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", Duration(days=30)),
        ("2w", Duration(days=14)),
        ("3mo", Duration(months=3)),
        ("1y", Duration(years=1)),
        ("36h", Duration(hours=36)),
        ("5bd", Duration(business_days=5)),
        ("5 BD", Duration(business_days=5)),
        ("P1M", Duration(months=1)),
        ("P1Y2M3D", Duration(years=1, months=2, days=3)),
        ("P2W", Duration(days=14)),
        ("PT36H", Duration(hours=36)),
        ("0d", Duration()),
    ],
    ids=[
        "days",
        "weeks",
        "months",
        "years",
        "hours",
        "business-days",
        "spaces-and-case",
        "iso-month",
        "iso-mixed",
        "iso-weeks",
        "iso-hours",
        "zero",
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


GENEVA = BusinessCalendar(load_rules(ROOT / "rules" / "default.yaml").policies[0].delivery.holidays)

# (duration, "before" or "after", day, expected): plain arithmetic, business days skip weekends and holidays.
ARITHMETIC = [
    pytest.param("5bd", "before", date(2000, 3, 13), date(2000, 3, 6), id="5bd-before-a-monday"),
    pytest.param(
        "5bd",
        "before",
        date(2000, 4, 25),
        date(2000, 4, 14),
        id="5bd-before-easter-tuesday-skips-good-friday-and-easter-monday",
    ),
    pytest.param(
        "1bd", "before", date(2000, 1, 3), date(1999, 12, 30), id="1bd-across-the-year-boundary-skips-31-december"
    ),
    pytest.param("2bd", "after", date(1999, 12, 30), date(2000, 1, 4), id="2bd-after-across-new-year"),
    pytest.param("30d", "before", date(2000, 1, 15), date(1999, 12, 16), id="30d-across-the-year-boundary"),
    pytest.param("P1M", "before", date(2000, 3, 31), date(2000, 2, 29), id="month-end-into-leap-february"),
    pytest.param("1mo", "after", date(2000, 1, 31), date(2000, 2, 29), id="month-end-forward-into-leap-february"),
    pytest.param("P1M", "before", date(2001, 3, 31), date(2001, 2, 28), id="month-end-into-common-february"),
    pytest.param("1mo", "after", date(2000, 4, 30), date(2000, 5, 30), id="30-april-plus-a-month"),
    pytest.param("P1M", "after", date(2000, 2, 29), date(2000, 3, 29), id="29-february-plus-P1M"),
    pytest.param("P1M", "before", date(2000, 2, 29), date(2000, 1, 29), id="29-february-minus-P1M"),
    pytest.param("1y", "after", date(2000, 2, 29), date(2001, 2, 28), id="29-february-plus-1y"),
    pytest.param("1y", "before", date(2000, 2, 29), date(1999, 2, 28), id="29-february-minus-1y"),
    pytest.param("4y", "after", date(2000, 2, 29), date(2004, 2, 29), id="29-february-plus-4y"),
]


@pytest.mark.parametrize(("text", "way", "day", "expected"), ARITHMETIC)
def test_duration_arithmetic(text: str, way: str, day: date, expected: date) -> None:
    duration = parse_duration(text)
    moved = duration.before(day, GENEVA) if way == "before" else duration.after_day(day, GENEVA)
    assert moved == expected


# An offset that lands on a weekend or holiday moves to the business day before.
LANDING = [
    pytest.param("7d", date(2000, 8, 8), date(2000, 7, 31), id="swiss-national-day-moves-to-monday"),
    pytest.param("7d", date(2000, 5, 1), date(2000, 4, 20), id="easter-monday-moves-before-good-friday"),
    pytest.param("30d", date(2000, 5, 1), date(2000, 3, 31), id="saturday-moves-to-friday"),
    pytest.param("7d", date(2002, 1, 7), date(2001, 12, 28), id="restauration-on-monday-31-december-moves-to-friday"),
    pytest.param("7d", date(2000, 9, 14), date(2000, 9, 6), id="jeune-genevois-moves-to-wednesday"),
    pytest.param("7d", date(2000, 3, 15), date(2000, 3, 8), id="business-day-stays"),
]


@pytest.mark.parametrize(("text", "due", "expected"), LANDING)
def test_offset_landing_on_a_holiday_moves_to_the_business_day_before(text: str, due: date, expected: date) -> None:
    assert GENEVA.on_or_before(parse_duration(text).before(due, GENEVA)) == expected


ZURICH, LIMA, BANGKOK = ZoneInfo("Europe/Zurich"), ZoneInfo("America/Lima"), ZoneInfo("Asia/Bangkok")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (datetime(2000, 12, 22, 9, tzinfo=ZURICH), "2000-12-26 09:00:00+01:00"),
        (datetime(2000, 3, 24, 9, tzinfo=ZURICH), "2000-03-27 09:00:00+02:00"),
        (datetime(2000, 10, 27, 9, tzinfo=ZURICH), "2000-10-30 09:00:00+01:00"),
        (datetime(2000, 12, 29, 9, tzinfo=LIMA), "2001-01-02 09:00:00-05:00"),
        (datetime(2000, 2, 28, 9, tzinfo=BANGKOK), "2000-02-29 09:00:00+07:00"),
    ],
    ids=[
        "over-christmas-zurich",
        "over-the-spring-change-zurich",
        "over-the-autumn-change-zurich",
        "over-new-year-lima",
        "into-29-february-bangkok",
    ],
)
def test_business_days_after_an_instant_keep_the_wall_clock(start: datetime, expected: str) -> None:
    assert str(parse_duration("1bd").after(start, GENEVA)) == expected


DURATION = 'expected a duration like "30d", "2w", "3mo", "1y", "36h", "5bd" (business days) or "P1M"'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("30 dayz", f"{DURATION}, got '30 dayz'", id="unknown-unit"),
        pytest.param("P", f"{DURATION}, got 'P'", id="bare-iso-prefix"),
        pytest.param(30, f"{DURATION}, got a bare number 30 (add a unit: 30d)", id="bare-number"),
        pytest.param(True, f"{DURATION}, got True", id="boolean"),
        pytest.param("30m", "'30m' is ambiguous; expected \"30mo\" for months (rules count no minutes)", id="minutes"),
        pytest.param(
            "-5d",
            "a duration cannot be negative, got '-5d'; expected '5d': "
            "'before' counts back from the date and 'after' forward by themselves",
            id="negative",
        ),
    ],
)
def test_parse_duration_refuses_what_is_not_a_duration(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message


def test_a_duration_is_written_back_in_its_shortest_form() -> None:
    assert [str(parse_duration(t)) for t in ("P1Y2M3D", "2w", "PT36H", "5bd", "0d")] == [
        "1y2mo3d",
        "14d",
        "36h",
        "5bd",
        "0d",
    ]
    assert parse_duration("0d").is_zero and not parse_duration("1h").is_zero
    assert parse_duration("1mo") < parse_duration("1y")  # ordered, for the ladder checks
    assert parse_duration("5bd").approx_days == 7


def test_business_calendar_skips_weekends_and_its_holidays_both_ways() -> None:
    calendar = BusinessCalendar([date(2000, 8, 1)])  # a Tuesday
    assert calendar.add_business_days(date(2000, 7, 31), 1) == date(2000, 8, 2)
    assert calendar.add_business_days(date(2000, 8, 2), -1) == date(2000, 7, 31)
    assert calendar.add_business_days(date(2000, 8, 4), 1) == date(2000, 8, 7)  # Friday to Monday
    assert calendar.on_or_after(date(2000, 8, 5)) == date(2000, 8, 7)
    assert calendar.on_or_before(date(2000, 8, 1)) == date(2000, 7, 31)
    everyday = BusinessCalendar([date(2000, 8, 1)], enabled=False)
    assert everyday.add_business_days(date(2000, 8, 4), 1) == date(2000, 8, 5)  # Saturday counts
    assert everyday.on_or_before(date(2000, 8, 1)) == date(2000, 8, 1)
