"""From time-frame phrases to stored schedules: the plan file's own values win, then dated events,
then a proposed dependency on another section's action, then the phrase as read."""

from __future__ import annotations

import random
import time
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
    assert "confirm that it follows II.1.1, or give it a date of its own." in fields["reason"]
    assert "planwatch" not in fields["reason"]  # the reason is shown on web pages too: no command in it
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


def test_the_best_heading_wins_ties_go_to_the_first_section_and_a_proposal_can_be_followed() -> None:
    sections = [
        SectionRow("II", None, "part", "II", "Review of the field structure and staff"),  # a Part is never followed
        SectionRow("II.1", "II", "issue", "1", "Field offices"),
        SectionRow("II.2", "II", "issue", "2", "Structure of field offices"),
        SectionRow("II.3", "II", "issue", "3", "Review of field offices structure"),
        SectionRow("II.4", "II", "issue", "4", "Offices in the field"),
        SectionRow("II.5", "II", "issue", "5", "Staff review"),
    ]
    rows = [
        _row("II.1.1", "II.1", "By 31 March 2000"),
        _row("II.2.1", "II.2", "Linked to review of field structure"),  # II.3 shares three words, II.2 two
        _row("II.3.1", "II.3", "Continuously"),  # no due date: II.3 has none to follow yet
        _row("II.3.2", "II.3", "Linked to the field offices"),  # II.1, II.2 and II.4 share two: II.1 is first
        _row("II.4.1", "II.4", "Linked to review of field structure"),
        _row("II.5.1", "II.5", "Linked to the review of staff"),  # only the Part's heading shares more
    ]
    out = resolve_plan(rows, sections, REF_DATE)
    assert out["II.2.1"]["after_ref"] is None  # II.3 had no dated row when II.2.1 was read
    assert (out["II.3.2"]["after_ref"], out["II.3.2"]["due"]) == ("II.1.1", date(2000, 3, 31))
    # II.3.2 got its date from its proposal: it is now II.3's first dated row, and II.4.1 follows it.
    assert (out["II.4.1"]["after_ref"], out["II.4.1"]["due"]) == ("II.3.2", date(2000, 3, 31))
    assert out["II.5.1"]["after_ref"] is None


def test_event_linked_rows_are_resolved_in_time_linear_in_the_plan() -> None:
    sections = [SectionRow(f"S{k}", None, "issue", str(k), f"Review of the field structure {k}") for k in range(500)]
    rows = [
        _row(f"S{k % 500}.{k}", f"S{k % 500}", "By 31 March 2000" if k < 500 else "Linked to review of field structure")
        for k in range(20_000)
    ]
    started = time.perf_counter()
    out = resolve_plan(rows, sections, REF_DATE)
    seconds = time.perf_counter() - started
    assert (out["S1.501"]["after_ref"], out["S0.500"]["after_ref"]) == ("S0.0", "S1.1")  # ties: the first section
    assert sum(1 for f in out.values() if f["after_ref"]) == 19_500
    assert seconds < 5, f"{seconds:.1f} s: a scan of every row for every section per event-linked row is back"


def test_shared_readings_are_one_dict_per_phrase_and_rows_that_change_get_their_own() -> None:
    rows = [
        _row("II.1.1", "II.1", "By 31 December 2000"),
        _row("II.1.2", "II.1", "By 31 December 2000"),
        _row("II.1.3", "II.1", "By 31 December 2000", override={"due": "2000-10-15"}),
        _row("II.2.1", "II.2", "Following the review of field structure"),
        _row("II.2.2", "II.2", "Following the review of field structure"),
    ]
    out = resolve_plan(rows, SECTIONS, REF_DATE, shared=True)
    assert out["II.1.1"] is out["II.1.2"] and out["II.1.1"]["due"] == date(2000, 12, 31)
    assert out["II.1.3"] is not out["II.1.1"] and out["II.1.3"]["due"] == date(2000, 10, 15)
    # the same phrase following the same row: one dict of its own, not the phrase's reading
    assert out["II.2.1"] is out["II.2.2"] and out["II.2.1"]["after_ref"] == "II.1.1"
    assert out == resolve_plan(rows, SECTIONS, REF_DATE)  # the same fields as copies


def test_an_event_dated_by_the_rules_after_a_proposal_can_be_followed_by_a_later_one() -> None:
    sections = [
        SectionRow("II", None, "part", "II", "Field structure"),
        SectionRow("II.1", "II", "issue", "1", "Staff development"),
        SectionRow("II.2", "II", "issue", "2", "Review of the field structure"),
        SectionRow("II.3", "II", "issue", "3", "Visibility"),
    ]
    rows = [
        _row("II.1.1", "II.1", "Linked to the review of field structure"),  # II.2 has no dated row yet
        _row("II.2.1", "II.2", "Following the staff survey"),  # dated by rules/events.yaml
        _row("II.3.1", "II.3", "Linked to the review of field structure"),  # follows II.2.1, dated just above
    ]
    events = [NamedEvent("staff survey", ("staff survey",), date(2000, 11, 15))]
    out = resolve_plan(rows, sections, REF_DATE, events=events)
    assert out["II.1.1"]["after_ref"] is None
    assert out["II.2.1"]["due"] == date(2000, 11, 15)
    assert (out["II.3.1"]["after_ref"], out["II.3.1"]["due"]) == ("II.2.1", date(2000, 11, 15))
    assert out == resolve_plan(rows, sections, REF_DATE, events=events, shared=True)


def _scan_every_section(rows: list[ActionRow], sections: list[SectionRow]) -> dict[str, str | None]:
    """The proposal as a plain scan (every section for every event-linked row): what the index must agree with."""
    from engine.actions.resolve import _stems

    out = {row.ref: read_row(row, REF_DATE, None) for row in rows}
    for row in rows:
        fields = out[row.ref]
        if fields["kind"] != "event" or row.override:
            continue
        wanted, best = _stems(fields["event"] or ""), None
        for section in sections:
            if section.key == row.section_key or section.level == "part":
                continue
            score = len(wanted & _stems(section.title))
            target = next((r for r in rows if r.section_key == section.key and out[r.ref]["due"]), None)
            if target is not None and score >= 2 and (best is None or score > best[0]):
                best = (score, target)
        if best is not None:
            fields["after_ref"], fields["due"] = best[1].ref, out[best[1].ref]["due"]
    return {ref: fields["after_ref"] for ref, fields in out.items()}


def test_the_heading_index_proposes_what_a_scan_of_every_section_proposes() -> None:
    words = ["review", "field", "structure", "staff", "survey", "donors", "meeting", "evaluation", "report"]
    for seed in range(300):
        pick = random.Random(seed)
        sections = [SectionRow("P", None, "part", "P", " ".join(pick.sample(words, 3)))] + [
            SectionRow(f"S{i}", "P", "issue", str(i), " ".join(pick.sample(words, pick.randint(1, 4))))
            for i in range(pick.randint(1, 6))
        ]
        rows = []
        for k in range(pick.randint(1, 12)):
            section = pick.choice(sections).key
            linked = pick.random() < 0.5
            phrase = (
                "Linked to the " + " ".join(pick.sample(words, pick.randint(1, 3))) if linked else "By 31 March 2000"
            )
            rows.append(ActionRow(ref=f"{section}.{k}", section_key=section, ordinal=k, title="t", timeframe=phrase))
        expected = _scan_every_section(rows, sections)
        for shared in (False, True):
            found = resolve_plan(rows, sections, REF_DATE, shared=shared)
            assert {ref: f["after_ref"] for ref, f in found.items()} == expected, seed
