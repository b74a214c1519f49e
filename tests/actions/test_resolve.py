"""From time-frame phrases to stored schedules: the plan file's own values win, then dated events,
then a proposed dependency on another section's action, then the phrase as read."""

from __future__ import annotations

from datetime import date

from engine.actions.resolve import read_row, resolve_plan, schedule_fields
from engine.plandoc import ActionRow, SectionRow
from engine.rules.events import NamedEvent
from engine.timeframe import parse

REF_DATE = date(1999, 9, 28)
SECTIONS = [
    SectionRow("II", None, "part", "II", "Field structure"),
    SectionRow("II.1", "II", "issue", "1", "Review of the field structure"),
    SectionRow("II.2", "II", "issue", "2", "Staff development"),
]


def _row(ref: str, section: str, timeframe: str, **more: object) -> ActionRow:
    return ActionRow(
        ref=ref, section_key=section, ordinal=int(ref[-1]), title=f"Action {ref}", timeframe=timeframe, **more
    )  # type: ignore[arg-type]


def test_schedule_fields_are_the_stored_columns_of_a_reading() -> None:
    fields = schedule_fields(parse("By 30 June 2000", REF_DATE))
    assert fields == {
        "kind": "deadline",
        "start": None,
        "due": date(2000, 6, 30),
        "rrule": None,
        "milestones": [],
        "event": None,
        "after_ref": None,
        "needs_review": False,
        "reason": "Read as a deadline on 2000-06-30 ('30 June 2000').",
    }


def test_an_empty_cell_takes_the_proposed_phrase_for_review_and_readings_are_copies() -> None:
    readings: dict[str, dict[str, object]] = {}
    merged = read_row(_row("II.2.2", "II.2", "", timeframe_proposed="Annually"), REF_DATE, None, readings)
    assert (merged["kind"], merged["rrule"], merged["needs_review"]) == ("recurring", "FREQ=YEARLY", True)
    assert "The time-frame cell is empty in the source" in merged["reason"] and "'Annually'" in merged["reason"]
    own = read_row(_row("II.2.3", "II.2", "Annually"), REF_DATE, None, readings)
    assert own["needs_review"] is False  # the remembered reading was not changed by the merged row
    own["due"] = date(2001, 1, 1)
    assert readings["Annually"]["due"] is None
    assert read_row(_row("II.2.4", "II.2", ""), REF_DATE, None)["kind"] == "unscheduled"


def test_a_dated_event_gives_the_due_date() -> None:
    rows = [_row("II.2.1", "II.2", "Following the review of field structure")]
    events = [NamedEvent("field review", ("review of field structure",), date(2000, 9, 1))]
    fields = resolve_plan(rows, SECTIONS, REF_DATE, events=events)["II.2.1"]
    assert (fields["kind"], fields["due"], fields["needs_review"]) == ("event", date(2000, 9, 1), False)
    assert fields["reason"] == (
        "Tied to 'review of field structure', dated 2000-09-01 by the event 'field review' in rules/events.yaml."
    )
    assert fields["after_ref"] is None


def test_an_undated_event_proposes_to_follow_the_section_it_names() -> None:
    rows = [
        _row("II.1.1", "II.1", "By 31 December 2000"),
        _row("II.2.1", "II.2", "Following the review of field structure"),
    ]
    fields = resolve_plan(rows, SECTIONS, REF_DATE)["II.2.1"]
    assert (fields["after_ref"], fields["due"], fields["needs_review"]) == ("II.1.1", date(2000, 12, 31), True)
    assert "confirm with `planwatch set II.2.1 --after II.1.1`" in fields["reason"]
    unrelated = [_row("II.1.1", "II.1", "By 31 December 2000"), _row("II.2.1", "II.2", "Following the budget vote")]
    assert resolve_plan(unrelated, SECTIONS, REF_DATE)["II.2.1"]["after_ref"] is None


def test_the_plan_files_values_win_and_dependencies_are_followed() -> None:
    rows = [
        _row("II.1.1", "II.1", "By 31 December 2000", override={"due": "2000-10-15"}),
        _row("II.1.2", "II.1", "Continuously", override={"after": "II.1.1"}),
        _row("II.2.1", "II.2", "Ongoing", override={"after": "II.1.2"}),
        _row("II.2.2", "II.2", "Soon", override={"after": "II.2.3"}),
        _row("II.2.3", "II.2", "Soon", override={"after": "II.2.2"}),  # a loop: no due date, no hang
    ]
    out = resolve_plan(rows, SECTIONS, REF_DATE)
    assert (out["II.1.1"]["due"], out["II.1.1"]["needs_review"]) == (date(2000, 10, 15), False)
    assert out["II.1.1"]["reason"] == "Set in the plan file: due 2000-10-15."
    assert (out["II.1.2"]["after_ref"], out["II.1.2"]["due"]) == ("II.1.1", date(2000, 10, 15))
    assert out["II.2.1"]["due"] == date(2000, 10, 15)  # through II.1.2 to II.1.1
    assert out["II.1.2"]["reason"] == "Set in the plan file: after II.1.1."
    assert out["II.2.2"]["due"] is None and out["II.2.3"]["due"] is None
