"""The plan page for one viewer: the plan's day, the report cut to a scope, the review queue, schedule decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.errors import UsageError
from engine.read.plan_scope import plan_day, review_queue, schedule_values, scoped_report, visible_refs
from engine.read.report import build_report
from engine.store import transaction
from engine.store.models import Plan

from ..web_support import web_world


def test_the_plan_day_is_in_the_plans_time_zone() -> None:
    plan = Plan(id="p", title="t", ref_date=date(2000, 1, 1), timezone="Europe/Zurich")
    assert plan_day(plan, datetime(2000, 6, 1, 21, 59, tzinfo=UTC)) == date(2000, 6, 1)
    assert plan_day(plan, datetime(2000, 6, 1, 22, 0, tzinfo=UTC)) == date(2000, 6, 2)  # midnight in Zurich


def test_the_report_is_cut_to_what_the_viewer_may_see(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        assert visible_refs(s, "gb276-tc2", None) is None
        refs = visible_refs(s, "gb276-tc2", frozenset({"ro-bangkok", "ro-lima"}))
        assert refs is not None and "I.2b.1" in refs and "I.2a.1" not in refs
        assert visible_refs(s, "gb276-tc2", frozenset()) == set()
        report = build_report(s, "gb276-tc2", date(2000, 6, 1))
    engine.dispose()
    assert scoped_report(report, None) is report
    cut = scoped_report(report, refs)
    assert {line.ref for line in cut.lines()} == refs
    assert [p.number for p in cut.parts] == ["I", "II", "III"]  # Parts stay even when empty
    assert all(issue.lines for part in cut.parts for issue in part.issues)  # empty issues go
    assert sum(cut.totals().values()) == len(refs) < sum(report.totals().values())


def test_the_review_queue_is_in_plan_order_with_its_total(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        first, total = review_queue(s, "gb276-tc2", limit=3)
        everything, same = review_queue(s, "gb276-tc2")
    engine.dispose()
    assert total == same == len(everything) == 13
    assert [a.ref for a in first] == ["I.2a.3", "I.3a.1", "I.3b.1"]
    assert [a.ref for a in everything[:3]] == [a.ref for a in first]
    assert all(a.needs_review for a in everything)


def test_schedule_values_keep_the_filled_fields_checked() -> None:
    form = {"kind": "window", "start": " 2000-03-01 ", "due": "2000-11-30", "rrule": "", "other": "x"}
    assert schedule_values(form) == {"kind": "window", "start": date(2000, 3, 1), "due": date(2000, 11, 30)}
    assert schedule_values({"rrule": "RRULE:FREQ=YEARLY"}) == {"rrule": "FREQ=YEARLY"}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "nothing to set: fill in at least the kind or a date"),
        ({"kind": "someday"}, "kind: expected one of "),
        ({"start": "2000-05-01", "due": "2000-04-01"}, "value: due 2000-04-01 is before start 2000-05-01"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule: expected an RFC 5545 rule like FREQ=YEARLY"),
    ],
)
def test_a_bad_schedule_decision_is_a_usage_error(form: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        schedule_values(form)
    assert str(info.value).startswith(message) and info.value.exit_code == 2
