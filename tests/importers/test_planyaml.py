"""The YAML plan file: read into a ``PlanDocument`` with every error at its line, and written back."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import InputError, ValidationErrors
from engine.importers import gbtext, planyaml

from ..conftest import SEED

PLAN = """\
plan:
  id: small
  title: A small plan
  symbol: GB.1/X/1
  date: 2000-01-15
  timezone: Europe/Zurich
sections:
  - key: I
    title: Part one
  - key: I.1
    parent: I
    number: "1"
    title: Issue one
    context: Why it matters.
actions:
  - id: I.1.1
    section: I.1
    title: Write the report
    timeframe: By June 2000
    owner: codev
    tags: [report]
  - id: I.1.2
    section: I.1
    title: Review it
    timeframe: Later
    description: Our own words.
    schedule:
      kind: deadline
      due: 2000-09-30
      after: I.1.1
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        planyaml.parse(text, "plan.yaml")
    assert info.value.exit_code == 2
    found = info.value.errors if isinstance(info.value, ValidationErrors) else [info.value]
    return [str(e) for e in found]


def test_a_plan_file_is_read_with_lines_levels_and_descriptions() -> None:
    doc = planyaml.parse(PLAN, "plan.yaml")
    assert (doc.plan.id, doc.plan.ref_date, doc.plan.timezone, doc.plan.source) == (
        "small",
        date(2000, 1, 15),
        "Europe/Zurich",
        "plan.yaml",
    )
    assert [(s.key, s.level, s.ordinal) for s in doc.sections] == [("I", "part", 1), ("I.1", "issue", 2)]
    first, second = doc.actions
    assert (first.ref, first.ordinal, first.line, first.owner, first.tags) == ("I.1.1", 1, 16, "codev", ["report"])
    assert first.description == "Issue one\n\nWhy it matters."  # the section's heading and context
    assert second.description == "Our own words."
    assert second.override == {"kind": "deadline", "due": "2000-09-30", "after": "I.1.1"}


def test_dump_reads_back_the_same_document() -> None:
    doc = planyaml.parse(PLAN, "plan.yaml")
    text = planyaml.dump(doc)
    again = planyaml.parse(text, "plan.yaml")
    assert again.plan == doc.plan and again.sections == doc.sections
    assert [(a.ref, a.title, a.description, a.owner, a.tags, a.override) for a in again.actions] == [
        (a.ref, a.title, a.description, a.owner, a.tags, a.override) for a in doc.actions
    ]
    assert "description: Our own words." in text and "Why it matters" in text.split("actions:")[0]


def test_the_seed_plan_round_trips_and_rule_owners_are_comments() -> None:
    doc = gbtext.parse(SEED.read_text(encoding="utf-8"), "plans/seed.txt")
    text = planyaml.dump(doc, {"I.1a.1": "program"})
    assert "title: 1(a) action 1 (text not in source)  # owner by rule: program" in text
    again = planyaml.parse(text, "seed.yaml")
    assert [(a.ref, a.timeframe, a.timeframe_proposed) for a in again.actions] == [
        (a.ref, a.timeframe, a.timeframe_proposed) for a in doc.actions
    ]
    assert again.actions[0].owner is None


def test_references_are_checked_and_each_error_names_its_place() -> None:
    text = (
        PLAN.replace("  - key: I.1\n    parent: I\n", "  - key: I.1\n    parent: II\n")
        .replace("  - id: I.1.2\n    section: I.1\n", "  - id: I.1.1\n    section: I.9\n")
        .replace("after: I.1.1", "after: I.7.7")
    )
    assert errors_of(text) == [
        "plan.yaml:11:13: sections[1].parent: unknown parent 'II'; a parent must be listed before its sections",
        "plan.yaml:22:9: actions[1].id: duplicate action id 'I.1.1' (first at line 16); each action needs its own id",
        "plan.yaml:23:14: actions[1].section: unknown section 'I.9'; expected a key listed under 'sections:'",
        "plan.yaml:30:14: actions[1].schedule.after: unknown action 'I.7.7'; expected the id of another action",
    ]


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (("kind: deadline", "kind: someday"), "plan.yaml:28:13: actions[1].schedule.kind:", "got 'someday'"),
        (
            ("due: 2000-09-30", "due: 2000-09-30\n      start: 2000-10-01"),
            "plan.yaml:28:7: actions[1].schedule:",
            "is before start",
        ),
        (
            ("timezone: Europe/Zurich", "timezone: Mars/Base"),
            "plan.yaml:6:13: plan.timezone:",
            "unknown time zone 'Mars/Base'",
        ),
        (("  - id: I.1.1\n", "  - id: I.1.1\n    colour: red\n"), "plan.yaml:17:5: actions[0].colour:", "unknown key"),
    ],
)
def test_bad_values_name_file_and_line(change: tuple[str, str], where: str, words: str) -> None:
    found = errors_of(PLAN.replace(*change, 1))
    assert len(found) == 1 and found[0].startswith(where) and words in found[0], found


def test_what_a_plan_file_looks_like() -> None:
    assert planyaml.looks_like(PLAN)
    assert not planyaml.looks_like("owners:\n  - id: a\n") and not planyaml.looks_like("plan:\n  id: x\n")
    assert errors_of("- just\n- a list\n") == [
        "plan.yaml:1:1: expected a plan file with 'plan:', 'sections:' and 'actions:'"
    ]
