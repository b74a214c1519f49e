"""The report's model: counts per Part and over the plan, and its lines in plan order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from engine.read.report_model import STATES, ActionLine, IssueBlock, PartBlock, Report
from engine.store.models import Plan

PLAN = Plan(id="p", title="A plan", ref_date=date(2000, 1, 1), timezone="UTC")


def line(ref: str, state: str) -> ActionLine:
    return ActionLine(ref=ref, title=ref, owner="o", state=state, kind="deadline", start=None, due=None)


def sample() -> Report:
    one = PartBlock(
        "I",
        "One",
        [
            IssueBlock("1", "a", [line("I.1.1", "done"), line("I.1.2", "overdue")]),
            IssueBlock("2", "b", [line("I.2.1", "overdue")]),
        ],
    )
    two = PartBlock("II", "Two", [IssueBlock("1", "c", [line("II.1.1", "on hold"), line("II.1.2", "done")])])
    return Report(PLAN, date(2000, 6, 1), [one, two], [])


def test_a_part_counts_every_state_even_when_none_is_there() -> None:
    counts = sample().parts[0].counts()
    assert list(counts) == list(STATES)
    assert counts == {
        "done": 1,
        "on track": 0,
        "needs attention": 0,
        "overdue": 2,
        "unscheduled": 0,
        "dropped": 0,
        "on hold": 0,
        "not accepted": 0,
    }


def test_totals_add_the_parts() -> None:
    totals = sample().totals()
    assert totals == {
        "done": 2,
        "on track": 0,
        "needs attention": 0,
        "overdue": 2,
        "unscheduled": 0,
        "dropped": 0,
        "on hold": 1,
        "not accepted": 0,
    }
    assert Report(PLAN, date(2000, 6, 1), [], []).totals() == dict.fromkeys(STATES, 0)


def test_lines_are_in_plan_order() -> None:
    assert [x.ref for x in sample().lines()] == ["I.1.1", "I.1.2", "I.2.1", "II.1.1", "II.1.2"]


def test_a_state_outside_the_list_is_refused_when_counted() -> None:
    part = PartBlock("I", "One", [IssueBlock("1", "a", [line("I.1.1", "lost")])])
    with pytest.raises(KeyError):
        part.counts()


def test_words_say_what_is_open() -> None:
    assert replace(line("I.1.1", "needs attention"), alerts=("check-in unanswered",)).words == "check-in unanswered"
    late = replace(line("I.1.2", "overdue"), days_overdue=1, alerts=("extension requested",))
    assert late.words == "overdue by 1 day (extension requested)"
    assert line("I.1.3", "on track").words == "on track"
