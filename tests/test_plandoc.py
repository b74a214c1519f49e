"""The plan document every importer produces: the due date in force, the kinds, fresh defaults per row."""

from __future__ import annotations

from datetime import date

from engine.plandoc import KINDS, OVERRIDE_KEYS, ActionRow, PlanDocument, PlanInfo, SectionRow, effective_due
from engine.timeframe import parse


def test_an_extension_wins_over_the_plans_due_date() -> None:
    assert effective_due(date(2000, 6, 30), None) == date(2000, 6, 30)
    assert effective_due(date(2000, 6, 30), date(2000, 9, 30)) == date(2000, 9, 30)
    assert effective_due(None, None) is None


def test_rows_do_not_share_their_overrides_or_tags() -> None:
    first = ActionRow(ref="I.1a.1", section_key="I.1a", ordinal=1, title="Report", timeframe="By June 2000")
    second = ActionRow(ref="I.1a.2", section_key="I.1a", ordinal=2, title="Review", timeframe="Annually")
    first.override["due"] = "2000-07-01"
    first.tags.append("urgent")
    assert (second.override, second.tags) == ({}, [])
    assert (second.owner, second.status, second.timeframe_proposed) == (None, None, None)  # the file does not say


def test_a_document_holds_its_plan_sections_and_actions() -> None:
    info = PlanInfo(id="p", title="Plan", symbol="GB.1/2", ref_date=date(1999, 9, 28), timezone="Europe/Zurich")
    section = SectionRow(key="I", parent_key=None, level="part", number="I", title="Part one", line=4)
    row = ActionRow(ref="I.1", section_key="I", ordinal=1, title="Act", timeframe="", line=9)
    doc = PlanDocument(info, [section], [row])
    assert (doc.plan.fy_start, doc.positional_refs, doc.path) == (None, False, "")
    assert doc.actions[0].line == 9 and doc.sections[0].line == 4


def test_every_kind_the_time_frame_reader_gives_is_a_known_kind() -> None:
    phrases = ["By 30 June 2000", "From January 2000", "Annually", "Continuously", "Following the review", ""]
    kinds = {parse(p, date(1999, 9, 28)).kind for p in phrases}
    assert kinds == {"deadline", "start", "recurring", "continuous", "event", "unscheduled"}
    assert kinds < set(KINDS)
    assert "after" in OVERRIDE_KEYS and "kind" in OVERRIDE_KEYS
