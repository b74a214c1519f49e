"""Tests of ``engine.timeframe.tokens``: the scanner and the value each token builds."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.timeframe.dates import Duration, Env, Period, Recurrence, Value
from engine.timeframe.tokens import MARKS, SIEVED, build, pattern, rule, scan, sieve

ENV = Env(date(1999, 9, 28), None)


def _values(text: str, env: Env = ENV) -> list[tuple[str, Value | None]]:
    return [(m.group(), build(m, env)) for m in scan(text.lower())]


def test_dates_and_periods_build_periods() -> None:
    [(word, may)] = _values("by May 2000")
    assert word == "may 2000"
    assert may == Period(date(2000, 5, 1), date(2000, 5, 31), "month")
    assert _values("end 2000") == [("end 2000", Period(date(2000, 12, 31), date(2000, 12, 31), "year", "mod"))]
    assert _values("winter 2003/04") == [("winter 2003/04", Period(date(2003, 12, 1), date(2004, 2, 29), "season"))]
    assert _values("2002-03") == [("2002-03", Period(date(2002, 1, 1), date(2003, 12, 31), "biennium", span=True))]


def test_numeric_dates_read_day_first_unless_only_month_first_is_valid() -> None:
    [(_, both)] = _values("05/08/2004")
    assert isinstance(both, Period) and both.start == date(2004, 8, 5)
    assert "month-first" in both.review
    [(_, only)] = _values("12/31/2004")
    assert isinstance(only, Period) and only.start == date(2004, 12, 31) and only.review == ""
    [(_, impossible)] = _values("31/02/2004")
    assert impossible is None


def test_a_month_without_a_year_is_the_next_one_and_says_so() -> None:
    [(_, september)] = _values("by September")
    assert isinstance(september, Period)
    assert (september.end, september.yearless, september.month) == (date(2000, 9, 30), True, 9)
    assert "no year is given" in september.review


def test_durations_and_recurrences() -> None:
    assert _values("within nine months") == [("nine months", Duration(9, 0))]
    assert _values("two weeks") == [("two weeks", Duration(0, 14))]
    assert _values("quarterly") == [("quarterly", Recurrence("FREQ=MONTHLY;INTERVAL=3"))]
    assert _values("every two years") == [("every two years", Recurrence("FREQ=YEARLY;INTERVAL=2"))]
    [(_, annual)] = _values("annual reports")
    assert annual == Recurrence("FREQ=YEARLY", adjective=True)  # an adjective names no rhythm alone
    [(_, biweekly)] = _values("biweekly")
    assert isinstance(biweekly, Recurrence) and "ambiguous" in biweekly.review
    assert rule("MONTHLY", 12) == "FREQ=YEARLY" and rule("MONTHLY", 24) == "FREQ=YEARLY;INTERVAL=2"
    assert rule("WEEKLY", 1) == "FREQ=WEEKLY"


def test_the_verb_may_is_no_month_and_tokens_do_not_overlap() -> None:
    assert [v for _, v in _values("may continue")] == [None]
    matches = scan("draft by march 2004; final by october 2004, then quarterly")
    assert [m.group() for m in matches] == ["march 2004", "october 2004", "quarterly"]
    ends = [m.end() for m in matches]
    assert all(m.start() >= end for m, end in zip(matches[1:], ends, strict=False))
    assert set(MARKS.values()) == {"@", "#", "%"}


def test_fiscal_years_follow_the_env() -> None:
    [(_, calendar)] = _values("FY2004")
    assert isinstance(calendar, Period) and (calendar.start, calendar.end) == (date(2004, 1, 1), date(2004, 12, 31))
    assert "no fiscal-year start" in calendar.review
    [(_, october)] = _values("FY2004", Env(date(1999, 9, 28), 10))
    assert isinstance(october, Period) and (october.start, october.end) == (date(2003, 10, 1), date(2004, 9, 30))
    assert october.review == ""


_SIEVE_WORDS = [
    "the",
    "end",
    "of",
    "close",
    "mid",
    "mid-",
    "middle",
    "early",
    "late",
    "beginning",
    "start",
    "year-end",
    "yearend",
    "in",
    "on",
    "at",
    "for",
    "during",
    "every",
    "each",
    "year",
    "years",
    "month",
    "next",
    "following",
    "coming",
    "current",
    "present",
    "this",
    "calendar",
    "fiscal",
    "financial",
    "fy",
    "f.y.",
    "biennium",
    "triennium",
    "quarter",
    "first",
    "second",
    "half",
    "h1",
    "q3",
    "spring",
    "fall",
    "winter",
    "may",
    "june",
    "sept",
    "2004",
    "2002-03",
    "05/08/2004",
    "15",
    "3",
    "1st",
    "a",
    "an",
    "twice",
    "annually",
    "once",
    "regular",
    "basis",
    "session",
    "meeting",
    "review",
    "work",
    "quarantieme",
    ",",
    "(",
    "-",
    "/",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_SIEVE_WORDS), min_size=1, max_size=8).map(" ".join))
def test_a_sieve_lets_through_every_token_its_pattern_finds(text: str) -> None:
    for group in SIEVED:
        for start in range(len(text)):
            if pattern(group).match(text, start) is not None:
                assert sieve(group).match(text, start) is not None, (group, text, start)


def test_a_sieve_turns_away_words_that_begin_no_token() -> None:
    assert sieve("full").match("the review of the work") is None
    assert sieve("full").match("the end of 2004") is not None
    assert sieve("full").match("end of the quarantieme session") is None
    assert sieve("full").match("end of the fiscal year") is not None
    assert scan("the end of the year 2004") != []


def test_importing_the_reader_compiles_no_token_pattern_until_a_phrase_needs_one() -> None:
    code = """
from datetime import date
from engine.timeframe import parse
from engine.timeframe.tokens import pattern
print(pattern.cache_info().currsize)
print(parse("By April 2000", date(1999, 9, 28), language="en").due, pattern.cache_info().currsize)
"""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["0", "2000-04-30 1"]  # the pattern of the tokens a month begins, no other
