"""The progress report and the timeline picture, from the recorded history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlmodel import select

from engine.actions.extensions import request_extension
from engine.actions.workflow import complete, extend, set_status
from engine.importing import import_paths
from engine.read.queries import find_action
from engine.read.report import Report, build_report, recurrence_rules, render_html, render_markdown
from engine.read.timeline import render_svg
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.models import Escalation

from ..conftest import OWNERS, ROOT, SEED

T0 = datetime(1999, 10, 1, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    upgrade(engine)
    import_paths(engine, [OWNERS, SEED], Settings(database_url=database_url, rules_dir=ROOT / "rules"), T0)
    with transaction(engine) as s:
        complete(
            s,
            find_action(s, "I.1a.1"),
            datetime(2000, 4, 12, 10, tzinfo=UTC),
            who="jonas",
            via="cli",
            note="circulated",
        )
        extend(
            s,
            find_action(s, "II.3.1"),
            date(2000, 9, 30),
            datetime(2000, 5, 2, tzinfo=UTC),
            who="amara",
            via="cli",
            reason="budget",
        )
        set_status(
            s,
            find_action(s, "III.d.3"),
            "dropped",
            datetime(2000, 6, 1, tzinfo=UTC),
            who="rafael",
            via="cli",
            note="no longer needed",
        )
    yield engine
    engine.dispose()


def states(engine, as_of: date) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        report = build_report(s, "gb276-tc2", as_of)
    return {line.ref: (line.state, line.days_overdue) for line in report.lines()}


def test_states_follow_the_history(engine) -> None:  # type: ignore[no-untyped-def]
    before = states(engine, date(2000, 4, 10))
    after = states(engine, date(2000, 6, 10))
    assert before["I.1a.1"] == ("on track", 0)  # not yet done, due 30 April
    assert after["I.1a.1"] == ("done", 0)
    assert after["I.3b.3"] == ("overdue", 71)  # due 31 March 2000, never done
    assert after["II.3.1"][0] == "on track"  # extended to 30 September
    assert before["II.3.1"][0] == "on track"
    assert states(engine, date(2000, 6, 2))["II.3.2"] == ("overdue", 2)
    assert after["III.d.3"][0] == "dropped" and before["III.d.3"][0] == "unscheduled"
    assert after["III.d.2"][0] == "unscheduled"  # "Under negotiation"


def test_an_action_not_accepted_is_counted_apart_and_never_overdue(engine) -> None:  # type: ignore[no-untyped-def]
    from engine.actions.acceptance import set_acceptance

    with transaction(engine) as s:
        set_acceptance(
            s,
            find_action(s, "I.3b.3"),
            "not_accepted",
            datetime(2000, 5, 1, tzinfo=UTC),
            who="secretariat",
            via="cli",
            note="outside the Office's mandate",
        )
    assert states(engine, date(2000, 4, 20))["I.3b.3"] == ("overdue", 20)  # due 31 March: overdue until the decision
    assert states(engine, date(2000, 6, 10))["I.3b.3"] == ("not accepted", 0)
    with transaction(engine) as s:
        report = build_report(s, "gb276-tc2", date(2000, 6, 10))
    line = next(x for x in report.lines() if x.ref == "I.3b.3")
    assert line.reason == "outside the Office's mandate" and report.totals()["not accepted"] == 1
    assert "| not accepted |" in render_markdown(report)  # a column of the counts


def _escalate(engine, ref: str, occurrence: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        action = find_action(s, ref)
        assert action.id is not None
        s.add(
            Escalation(
                key=f"gb276-tc2/{ref}|{occurrence}|escalate:1|kwame",
                at=at,
                action_id=action.id,
                occurrence=occurrence,
                level=1,
                step="escalate:1",
                policy="default",
                recipients=["kwame"],
                days_overdue=0,
            )
        )


def test_open_escalations_and_pending_extensions_are_never_on_track(engine) -> None:  # type: ignore[no-untyped-def]
    _escalate(engine, "I.1a.3", "check-in 2000-03-01", datetime(2000, 3, 20, tzinfo=UTC))
    _escalate(engine, "I.1a.2", "2000-04-30", datetime(2000, 5, 10, tzinfo=UTC))
    with transaction(engine) as s:
        request_extension(
            s,
            find_action(s, "I.1a.4"),
            date(2001, 3, 31),
            datetime(2000, 5, 20, tzinfo=UTC),
            who="jonas",
            via="web",
            reason="waiting for the budget",
        )
    lines = {line.ref: line for line in build(engine, date(2000, 6, 10)).lines()}
    assert lines["I.1a.3"].state == "needs attention" and lines["I.1a.4"].state == "needs attention"
    assert lines["I.1a.3"].words == "check-in unanswered"
    assert (lines["I.1a.2"].state, lines["I.1a.2"].days_overdue) == ("overdue", 41)  # the 30 April occurrence
    assert lines["I.1a.4"].words == "extension requested to 31 March 2001"
    text = render_markdown(build(engine, date(2000, 6, 10)))
    assert "| check-in unanswered |" in text and "| overdue by 41 days |" in text
    assert "extension requested to 31 March 2001" in render_html(build(engine, date(2000, 6, 10)))
    before = {line.ref: line.state for line in build(engine, date(2000, 3, 10)).lines()}
    assert before["I.1a.3"] == before["I.1a.2"] == before["I.1a.4"] == "on track"  # nothing was open yet
    with transaction(engine) as s:
        entry = s.exec(select(Escalation).where(Escalation.occurrence == "check-in 2000-03-01")).one()
        entry.acknowledged_at, entry.acknowledged_by = datetime(2000, 6, 20, tzinfo=UTC), "kwame"
        s.add(entry)
    assert {line.ref: line.state for line in build(engine, date(2000, 6, 30)).lines()}["I.1a.3"] == "on track"
    assert {line.ref: line.state for line in build(engine, date(2000, 6, 10)).lines()}["I.1a.3"] == "needs attention"


def build(engine, as_of: date) -> Report:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        return build_report(s, "gb276-tc2", as_of)


def test_counts_add_up_and_markdown_names_everything(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        report = build_report(s, "gb276-tc2", date(2000, 12, 31))
    assert sum(report.totals().values()) == len(report.lines()) == 69
    text = render_markdown(report)
    for part in ("## Part I:", "## Part II:", "## Part III:"):
        assert part in text
    assert "| II.3.1 | 31 May 2000 | 30 September 2000 | budget |" in text
    assert "overdue by" in text


def test_html_is_printable_with_the_timeline_inside(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        report = build_report(s, "gb276-tc2", date(2000, 12, 31))
        page = render_html(report, rrules=recurrence_rules(s, "gb276-tc2"))
    assert "@media print" in page and "<svg" in page
    assert page.index("<main>") < page.index("<h1>") and page.index("</table>") < page.index("</main>")  # a landmark


def test_markup_in_titles_is_escaped_everywhere(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(database_url=database_url, rules_dir=ROOT / "rules")
    import_paths(engine, [SEED], settings, T0)
    from engine.read.export import export_plan

    with transaction(engine) as s:
        text, _ = export_plan(s, None)
    evil = tmp_path / "plan.yaml"
    evil.write_text(
        text.replace("title: 1(a) action 1 (text not in source)", "title: '<script>alert(1)</script> & \"x\"'", 1)
    )
    import_paths(engine, [evil], settings, T0)
    with transaction(engine) as s:
        report = build_report(s, "gb276-tc2", date(2000, 12, 31))
        page = render_html(report)
    engine.dispose()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    ElementTree.fromstring(render_svg(report))  # still well-formed XML


PARTS_PLAN = """\
plan:
  id: parts-plan
  title: A plan with actions directly in its Parts
  date: 2000-01-10
  timezone: Europe/Zurich
sections:
  - key: A
    number: A
    title: Governance
  - key: B
    number: B
    title: Finance
  - key: B.1
    parent: B
    number: "1"
    title: Budget
  - key: A.1
    parent: A
    number: "1"
    title: Reporting, listed after Part B
actions:
  - id: A.x
    section: A
    title: Adopt the terms of reference
    timeframe: By 31 March 2000
  - id: A.y
    section: A
    title: Name a focal point
    timeframe: By 30 June 2000
  - id: B.1.1
    section: B.1
    title: Draft the budget
    timeframe: By 31 December 2000
  - id: A.1.1
    section: A.1
    title: Report to the Governing Body
    timeframe: By 31 March 2000
"""


def test_actions_directly_in_a_part_and_sections_placed_by_their_parent(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PARTS_PLAN)
    import_paths(engine, [plan], Settings(database_url=database_url, rules_dir=ROOT / "rules"), T0)
    with transaction(engine) as s:
        report = build_report(s, "parts-plan", date(2000, 5, 1))
    engine.dispose()
    by_number = {part.number: part for part in report.parts}
    assert [part.number for part in report.parts] == ["A", "B"]
    assert {ref: n for ref, n in by_number["A"].counts().items() if n} == {"overdue": 2, "on track": 1}
    assert [[line.ref for line in issue.lines] for issue in by_number["A"].issues] == [["A.x", "A.y"], ["A.1.1"]]
    assert [[line.ref for line in issue.lines] for issue in by_number["B"].issues] == [["B.1.1"]]
    assert report.totals()["overdue"] == 2 and sum(report.totals().values()) == 4
    text = render_markdown(report)
    assert "| actions | 0 | 1 | 0 | 2 | 0 | 0 | 0 |" in text  # Part A: on track 1, overdue 2
    assert text.index("A.1.1") < text.index("## Part B")


def test_an_extension_granted_on_request_shows_the_owners_reason_not_the_grant_note(engine) -> None:  # type: ignore[no-untyped-def]
    from engine.actions.extensions import decide

    with transaction(engine) as s:
        asked = request_extension(
            s,
            find_action(s, "I.1a.4"),
            date(2001, 3, 31),
            datetime(2000, 5, 20, tzinfo=UTC),
            who="jonas",
            via="web",
            reason="the survey data come in March",
        )
        decide(s, asked, True, datetime(2000, 5, 21, tzinfo=UTC), who="amara", via="web", note="ok")
    report = build(engine, date(2000, 6, 10))
    granted = {ref: (new, reason) for ref, _, new, reason in report.extensions}
    assert granted["I.1a.4"] == ("2001-03-31", "the survey data come in March")
    assert granted["II.3.1"] == ("2000-09-30", "budget")  # extended without a request: the note given with it
    assert "| the survey data come in March |" in render_markdown(report)


def test_a_reopened_actions_new_round_counts_as_the_missed_date_not_as_a_vague_escalation() -> None:
    from engine.read.report import _attention
    from engine.read.report_model import ActionLine

    base = dict(ref="A.1", title="t", owner="Ann", kind="recurring", start=None, due=None, recurring=True)
    line = _attention(ActionLine(state="on track", **base), {"2000-03-31 reopened 2000-06-01"}, [], date(2000, 6, 10))
    assert (line.state, line.days_overdue, line.alerts) == ("overdue", 71, ())
    dated = ActionLine(state="overdue", days_overdue=71, **(base | {"kind": "deadline", "recurring": False}))
    assert _attention(dated, {"2000-03-31 reopened 2000-06-01"}, [], date(2000, 6, 10)).words == "overdue by 71 days"
