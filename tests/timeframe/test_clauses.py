"""Tests of ``engine.timeframe.clauses``: one clause read by the first reader that recognises it."""

from __future__ import annotations

from datetime import date

import pytest

from engine.timeframe.clauses import clause, continuous, event, recurring, relative, unscheduled
from engine.timeframe.dates import Env
from engine.timeframe.reading import Ctx, Reading

REF = date(1999, 9, 28)
ENV = Env(REF, None)


def _ctx(text: str) -> Ctx:
    return Ctx(ENV, text, text.lower())


def _clause(text: str) -> Reading:
    ctx = _ctx(text)
    return clause(ctx, 0, len(ctx.skel))


@pytest.mark.parametrize(
    ("text", "kind", "start", "due", "rrule"),
    [
        ("Continuously", "continuous", None, None, None),
        ("Continuously until end 2000", "deadline", None, date(2000, 12, 31), None),
        ("as required", "unscheduled", None, None, None),
        ("when funding is available", "unscheduled", None, None, None),
        ("quarterly", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=3"),
        ("every year in October", "recurring", None, None, "FREQ=YEARLY;BYMONTH=10"),
        ("quarterly, starting May 2000", "recurring", date(2000, 5, 1), None, "FREQ=MONTHLY;INTERVAL=3"),
        ("within nine months", "deadline", None, date(2000, 6, 28), None),
        ("over the next nine months", "window", REF, date(2000, 6, 28), None),
        ("immediately", "start", REF, None, None),
        ("by May 2000", "deadline", None, date(2000, 5, 31), None),
    ],
)
def test_each_clause_is_read_by_its_reader(
    text: str, kind: str, start: date | None, due: date | None, rrule: str | None
) -> None:
    r = _clause(text)
    assert (r.kind, r.start, r.due, r.rrule) == (kind, start, due, rrule)


def test_events_keep_the_phrase_own_words() -> None:
    counted = _clause("within a year of approval")
    assert (counted.kind, counted.event) == ("event", "approval")
    assert counted.notes == ["'within a year of approval' counts from it"]
    board = _clause("at the next session of the Board")
    assert (board.kind, board.event) == ("event", "next session of the Board")
    assert _clause("with the team").kind == "unscheduled"  # a weak word before no event word names no event


def test_a_term_the_phrase_defines_itself_wins() -> None:
    short = _clause("Short term (within 3 months)")
    assert (short.kind, short.due) == ("deadline", date(1999, 12, 28))
    assert short.main.startswith("The phrase defines 'Short term' itself")
    vague = _clause("Medium term")
    assert vague.kind == "unscheduled" and "'Medium term' names no date" in vague.main


def test_a_named_part_before_a_colon_is_the_label() -> None:
    r = _clause("Phase 1: May 2000")
    assert (r.label, r.due) == ("Phase 1", date(2000, 5, 31))


def test_what_no_reader_recognises_is_unscheduled_with_its_words() -> None:
    status = _clause("completed")
    assert (
        status.kind == "unscheduled" and status.main == "Read as unscheduled: 'completed' is a status, not a time frame"
    )
    junk = _clause("blah blah")
    assert junk.main == "Read as unscheduled: no date, period, rhythm or event was recognised in 'blah blah'"
    asap = _clause("ASAP")
    assert (asap.kind, asap.start) == ("start", REF)
    assert asap.review == ["'ASAP' names no date, so the reference date is used"]


def test_each_reader_declines_what_is_not_its_own() -> None:
    dated = _ctx("by May 2000")
    end = len(dated.skel)
    assert continuous(dated, 0, end) is None
    assert unscheduled(dated, 0, end) is None
    assert recurring(dated, 0, end) is None
    assert relative(dated, 0, end) is None
    assert event(_ctx("soon"), 0, 4) is None
