"""Tests of ``engine.timeframe.dated``: clauses with a period, read by the connecting words before it."""

from __future__ import annotations

from datetime import date

import pytest

from engine.timeframe.dated import CONNECTORS, dated
from engine.timeframe.dates import Env
from engine.timeframe.reading import Ctx, Reading

ENV = Env(date(1999, 9, 28), None)


def _dated(text: str) -> Reading | None:
    ctx = Ctx(ENV, text, text.lower())
    return dated(ctx, 0, len(ctx.skel))


def _read(text: str) -> Reading:
    r = _dated(text)
    assert r is not None, text
    return r


@pytest.mark.parametrize(
    ("text", "kind", "start", "due"),
    [
        ("by May 2000", "deadline", None, "2000-05-31"),
        ("May 2000", "deadline", None, "2000-05-31"),
        ("starting May 2000", "start", "2000-05-01", None),
        ("May 2000 onwards", "start", "2000-05-01", None),
        ("since May 2000", "continuous", "2000-05-01", None),
        ("during May 2000", "window", "2000-05-01", "2000-05-31"),
        ("before May 2000", "deadline", None, "2000-04-30"),
        ("before end 2000", "deadline", None, "2000-12-31"),
        ("after June 2004", "start", "2004-07-01", None),
        ("2002-03", "window", "2002-01-01", "2003-12-31"),
        ("from mid-2002 to end 2003", "window", "2002-07-01", "2003-12-31"),
        ("between April and June 2003", "window", "2003-04-01", "2003-06-30"),
    ],
)
def test_the_connector_decides_how_the_period_is_used(text: str, kind: str, start: str | None, due: str | None) -> None:
    r = _read(text)
    iso = (r.start.isoformat() if r.start else None, r.due.isoformat() if r.due else None)
    assert (r.kind, *iso) == (kind, start, due)


def test_a_clause_without_a_period_is_not_dated() -> None:
    assert _dated("within nine months") is None
    assert _dated("quarterly") is None
    assert _dated("as required") is None


def test_the_reason_says_which_day_the_words_stand_for() -> None:
    assert _read("by May 2000").main == "Read as a deadline on 2000-05-31 (the last day of 'May 2000')"
    assert _read("before May 2000").main == "Read as a deadline on 2000-04-30, the day before 'May 2000' begins"
    assert _read("after June 2004").main == "Read as a start on 2004-07-01 (the day after 'June 2004')"
    assert _read("by May 2000").bare is False and _read("May 2000").bare is True


def test_the_words_around_the_period_become_label_and_qualifier() -> None:
    labelled = _read("First outputs by May 2000 for 2002-03 P&B")
    assert (labelled.label, labelled.qual, labelled.due) == ("First outputs", "2002-03 P&B", date(2000, 5, 31))
    soon = _read("Immediately and by May 2000")
    assert soon.label is None and "as soon as possible" in soon.notes[0]


def test_doubts_are_kept_in_review() -> None:
    assert _read("May 2000 to March 2000").review == ["the range runs backwards"]
    yearless = _read("by September")
    assert yearless.due == date(2000, 9, 30) and any("no year is given" in x for x in yearless.review)
    session = _read("by the 2003 session of the Board")
    assert "the meeting's month is not given, so the end of the year is used" in session.review


def test_connector_words_clash_in_favour_of_the_later_kind() -> None:
    assert CONNECTORS["by"] == "dl" and CONNECTORS["before"] == "be" and CONNECTORS["during"] == "du"
    assert CONNECTORS["since"] == "si" and CONNECTORS["underway since"] == "si"
    assert CONNECTORS["started in"] == "st"  # listed under both "si" and "st": the start wins
    started = _read("started in May 2000")
    assert (started.kind, started.start) == ("start", date(2000, 5, 1))
