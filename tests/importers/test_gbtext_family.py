"""The family of converted Governing Body tables: lettered Parts, other headings, four columns, 'A.1' issues."""

from __future__ import annotations

from datetime import date

import pytest

from engine.actions.resolve import resolve_plan
from engine.errors import InputError
from engine.importers import gbtext
from engine.plandoc import PlanDocument

from ..conftest import ROOT

SECOND = ROOT / "tests" / "data" / "gb350-pfa7-plan-of-action.txt"
SECOND_TEXT = SECOND.read_text(encoding="utf-8")

# (id, time frame as printed, kind, due or start, responsible unit): read from the file by eye.
EXPECTED = [
    ("A.1.1", "By June 2024", "deadline", date(2024, 6, 30), "FINANCE"),
    ("A.1.2", "Starting July 2024", "start", date(2024, 7, 1), "HRD"),
    ("A.1.3", "Quarterly", "recurring", None, "FINANCE"),
    ("A.2.1", "Annually", "recurring", None, "PARDEV"),
    ("A.2.2", "By end 2024", "deadline", date(2024, 12, 31), "PARDEV"),
    ("B.1.1", "By September 2024", "deadline", date(2024, 9, 30), "CABINET"),
    ("B.1.2", "", "deadline", date(2024, 9, 30), "CABINET"),
    ("B.1.3", "Annually, at the March session", "recurring", None, "CABINET"),
    ("B.2.1", "By 31 December 2024", "deadline", date(2024, 12, 31), "IAO"),
    ("B.2.2", "Every six months", "recurring", None, "IAO"),
    ("B.2.3", "By March 2025", "deadline", date(2025, 3, 31), "IAO"),
    ("C.1.1", "Ongoing", "continuous", None, "HRD"),
    ("C.1.2", "Twice a year", "recurring", None, "HRD"),
    ("C.1.3", "Starting January 2025", "start", date(2025, 1, 1), "HRD"),
    ("C.2.1", "By April 2024", "deadline", date(2024, 4, 30), "ETHICS"),
    ("C.2.2", "By end 2025", "deadline", date(2025, 12, 31), "ETHICS"),
    ("C.2.3", "Continuously", "continuous", None, "ETHICS"),
]


@pytest.fixture(scope="module")
def doc() -> PlanDocument:
    return gbtext.parse(SECOND_TEXT, "tests/data/second.txt")


def test_the_second_plan_is_recognised_and_its_header_read(doc: PlanDocument) -> None:
    assert gbtext.looks_like(SECOND_TEXT)
    assert (doc.plan.symbol, doc.plan.id, doc.plan.ref_date) == ("GB.350/PFA/7", "gb350-pfa7", date(2024, 3, 4))
    assert doc.plan.title == "Follow-up to the recommendations of the External Auditor: Plan of action"
    assert doc.plan.body == "Programme, Financial and Administrative Section"
    assert (doc.plan.place, doc.plan.timezone) == ("Geneva", "Europe/Zurich")


def test_lettered_parts_in_any_case_and_lettered_issues(doc: PlanDocument) -> None:
    parts = [(s.key, s.title) for s in doc.sections if s.level == "part"]
    assert parts == [
        ("A", "Financial management and reporting"),
        ("B", "Oversight and risk management"),
        ("C", "Human resources and accountability"),  # written 'PART C: ...'
    ]
    issues = [(s.key, s.parent_key, s.number) for s in doc.sections if s.level == "issue"]
    assert issues == [(k, k[0], k) for k in ("A.1", "A.2", "B.1", "B.2", "C.1", "C.2")]


def test_every_action_imports_with_its_measure_and_reading(doc: PlanDocument) -> None:
    schedules = resolve_plan(doc.actions, doc.sections, doc.plan.ref_date)
    got = []
    for row in doc.actions:
        fields = schedules[row.ref]
        when = fields.get("due") or fields.get("start")
        unit = row.description.rsplit("Responsible unit: ", 1)[-1]
        got.append((row.ref, row.timeframe, fields["kind"], when, unit))
    assert got == EXPECTED


def test_measure_text_is_the_title_and_the_description(doc: PlanDocument) -> None:
    by_ref = {a.ref: a for a in doc.actions}
    first = by_ref["A.1.1"]
    assert first.title == "Introduce a monthly expenditure report for every project above US$1 million"
    assert first.description == (
        "Introduce a monthly expenditure report for every project above US$1 million\n\nResponsible unit: FINANCE"
    )
    assert not any("text not in source" in a.title for a in doc.actions)


def test_a_lead_in_row_is_context_and_a_merged_cell_proposes_the_one_above(doc: PlanDocument) -> None:
    sections = {s.key: s for s in doc.sections}
    assert sections["B.1"].context == (
        "The risk register does not yet cover the field offices.\n\nThe Office will, with each regional office:"
    )
    merged = next(a for a in doc.actions if a.ref == "B.1.2")
    assert (merged.timeframe, merged.timeframe_proposed) == ("", "By September 2024")
    schedules = resolve_plan(doc.actions, doc.sections, doc.plan.ref_date)
    assert schedules["B.1.2"]["needs_review"] is True


APPENDIX = "GB.1/X/1\nGeneva, 1 March 2024.\nAppendix\n| ||\n"


def _table(part: str, header: list[str], heading: str) -> str:
    cells = "".join(f"{h} |\n" for h in header)
    row = "|\nA measure |\nBy June 2024 | |\n"
    return f"{APPENDIX}{part} | ||\n| ||\n{cells}| ||\n{heading} |\nThe context. |\n|\n{row}"


@pytest.mark.parametrize(
    ("line", "key", "title"),
    [
        ("Part A -- Finance", "A", "Finance"),
        ("PART II: Oversight", "II", "Oversight"),
        ("Part 3. Staff", "3", "Staff"),
        ("part iv - Staff", "IV", "Staff"),
        ("Section 1 - Reporting", "1", "Reporting"),
        ("Part b: Budget", "B", "Budget"),
    ],
)
def test_part_lines(line: str, key: str, title: str) -> None:
    heading = f"{key}.1 An issue" if key.isalpha() and len(key) == 1 and key not in "IVXLC" else "1. An issue"
    doc = gbtext.parse(_table(line, ["Issue", "Measure", "Time frame"], heading), "p.txt")
    assert [(s.key, s.title) for s in doc.sections if s.level == "part"] == [(key, title)]
    assert [a.timeframe for a in doc.actions] == ["By June 2024"]


@pytest.mark.parametrize(
    "header",
    [
        ["Issue", "Time frame"],
        ["Recommendations", "Measures envisaged", "Timeframe"],
        ["Recommendation", "Measure", "Owner", "Time-frame"],
        ["Issue", "Action", "Unit", "Indicator", "Timeline"],
        ["Issue", "Action", "Deadline"],
        ["Issue", "Action", "Target date"],
        ["Issue", "Action", "Completion date"],
        ["Issue", "Action", "Calendar"],
        ["Issue", "Action", "Due"],
    ],
)
def test_header_rows_found_by_their_time_frame_column(header: list[str]) -> None:
    doc = gbtext.parse(_table("Part I -- One", header, "1. An issue"), "p.txt")
    assert [(a.ref, a.timeframe, a.title) for a in doc.actions] == [("I.1.1", "By June 2024", "A measure")]


@pytest.mark.parametrize(
    ("heading", "key", "number"),
    [("1. An issue", "I.1", "1"), ("1.1 An issue", "I.1.1", "1.1"), ("(a) An issue", "I.a", "(a)")],
)
def test_issue_heading_styles(heading: str, key: str, number: str) -> None:
    doc = gbtext.parse(_table("Part I -- One", ["Issue", "Measure", "Time frame"], heading), "p.txt")
    section = next(s for s in doc.sections if s.level != "part")
    assert (section.key, section.number, section.title) == (key, number, "An issue")
    assert [a.ref for a in doc.actions] == [f"{key}.1"]


def test_dotted_issues_nest_under_their_numbered_issue() -> None:
    text = _table("Part I -- One", ["Issue", "Measure", "Time frame"], "1. A group | ||\n| ||\n1.1 An issue")
    doc = gbtext.parse(text, "p.txt")
    assert [(s.key, s.parent_key, s.level) for s in doc.sections] == [
        ("I", None, "part"),
        ("I.1", "I", "issue"),
        ("I.1.1", "I.1", "subissue"),
    ]


def test_a_line_that_fits_nowhere_says_what_the_table_lines_look_like() -> None:
    text = SECOND_TEXT.replace("Part B -- Oversight and risk management | ||", "Part: Oversight | ||")
    number = text.splitlines().index("Part: Oversight | ||") + 1
    with pytest.raises(InputError) as info:
        gbtext.parse(text, "second.txt")
    message = str(info.value)
    assert message.startswith(f"second.txt:{number}:1: unexpected line 'Part: Oversight | ||'; expected a Part line")
    assert "'Part A -- Financial management | ||'" in message
    assert "'Time frame |'" in message
    assert "'TIME FRAME | |'" in message


@pytest.mark.parametrize(
    ("line", "place", "day"),
    [
        ("Genève, le 4 mars 2024.", "Genève", date(2024, 3, 4)),
        ("Washington, D.C., 4 March 2024.", "Washington, D.C.", date(2024, 3, 4)),
        ("Ginebra, 4 de marzo de 2024", "Ginebra", date(2024, 3, 4)),
        ("Wien, 4. März 2024", "Wien", date(2024, 3, 4)),
    ],
)
def test_date_lines_in_other_languages(line: str, place: str, day: date) -> None:
    assert gbtext.date_line([line], "p.txt") == (place, day)
