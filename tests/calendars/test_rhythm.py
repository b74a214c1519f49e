"""Check-in rhythms: an RRULE where one says the planner's dates, explicit RDATEs where none does, nothing for hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import islice

import pytest
from dateutil.rrule import rrulestr

from engine.calendars.rhythm import HORIZON_DAYS, checkin_days, rhythm_words
from engine.rules.durations import BusinessCalendar, Duration, parse_duration


@pytest.mark.parametrize(
    ("every", "start", "rule", "first_rdates"),
    [
        ("3mo", date(1999, 9, 28), "FREQ=MONTHLY;INTERVAL=3", []),
        ("2w", date(2000, 1, 3), "FREQ=WEEKLY;INTERVAL=2", []),
        ("10d", date(2000, 1, 3), "FREQ=DAILY;INTERVAL=10", []),
        ("1y", date(1999, 9, 28), "FREQ=YEARLY", []),
        ("3mo", date(1999, 10, 31), None, [date(2000, 4, 30), date(2000, 7, 30), date(2000, 10, 30)]),
        ("1y", date(2000, 2, 29), "FREQ=YEARLY", []),  # 28 February 2001, then every 28 February
        ("6mo", date(1999, 8, 29), None, [date(2000, 8, 29), date(2001, 2, 28), date(2001, 8, 28)]),
    ],
    ids=["quarterly", "fortnightly", "ten_days", "yearly", "month_end_drifts", "from_feb29_yearly", "feb29_drifts"],
)
def test_check_in_rhythms_are_the_planners_dates(
    every: str, start: date, rule: str | None, first_rdates: list[date]
) -> None:
    found = checkin_days(parse_duration(every), start)
    assert found is not None
    _, rule_text, rdates = found
    assert rule_text == rule
    assert list(rdates[: len(first_rdates)]) == first_rdates
    assert bool(rdates) == (rule is None)  # a rule or a list of dates, never both


@pytest.mark.parametrize(
    ("every", "start"), [("3mo", date(1999, 9, 28)), ("2w", date(2000, 1, 3)), ("1y", date(2000, 2, 29))]
)
def test_a_rule_expands_to_the_dates_the_planner_steps_to(every: str, start: date) -> None:
    duration, free = parse_duration(every), BusinessCalendar(enabled=False)
    found = checkin_days(duration, start)
    assert found is not None and found[1] is not None
    first, rule, _ = found
    expanded = [d.date() for d in islice(rrulestr(rule, dtstart=datetime.combine(first, time(0))), 12)]
    planner = [first]
    while len(planner) < 12:
        planner.append(duration.after_day(planner[-1], free))
    assert expanded == planner


def test_drifting_dates_are_listed_for_ten_years_and_no_further() -> None:
    found = checkin_days(parse_duration("1mo"), date(2000, 1, 31))
    assert found is not None
    first, rule, rdates = found
    assert (first, rule) == (date(2000, 2, 29), None)
    assert rdates[:3] == (date(2000, 3, 29), date(2000, 4, 29), date(2000, 5, 29))
    assert rdates[-1] <= first + timedelta(days=HORIZON_DAYS) < rdates[-1] + timedelta(days=31)


def test_a_rhythm_in_hours_does_not_move_forward_and_has_no_check_ins() -> None:
    assert checkin_days(parse_duration("12h"), date(2000, 1, 3)) is None


@pytest.mark.parametrize(
    ("every", "language", "words"),
    [
        (Duration(months=3), "en", "every 3 months"),
        (Duration(months=1), "fr", "tous les mois"),
        (Duration(months=3), "fr", "tous les 3 mois"),
        (Duration(months=3), "es", "cada 3 meses"),
        (Duration(days=14), "fr", "toutes les 2 semaines"),
        (Duration(days=7), "es", "cada semana"),
        (Duration(days=10), "en", "every 10 days"),
        (Duration(business_days=5), "es", "cada 5 días hábiles"),
        (Duration(years=1), "fr", "tous les ans"),
        (Duration(years=1, months=6), "es", "cada 1 año, 6 meses"),
    ],
    ids=lambda value: str(value),
)
def test_a_rhythm_in_words_in_each_language(every: Duration, language: str, words: str) -> None:
    assert rhythm_words(every, language) == words
