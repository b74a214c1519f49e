"""The plan's own text format, read from the seed file."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.importers import gbtext
from engine.plandoc import PlanDocument

from ..conftest import SEED

SEED_TEXT = SEED.read_text(encoding="utf-8")


def seed_timeframe_cells() -> list[str]:
    """The seed's non-empty time-frame cells, read independently of the importer."""
    return [m.group(1) for m in re.finditer(r"^(.*\S) \| \|$", SEED_TEXT, re.MULTILINE)]


@pytest.fixture(scope="module")
def doc() -> PlanDocument:
    return gbtext.parse(SEED_TEXT, "plans/seed.txt")


def test_plan_header(doc: PlanDocument) -> None:
    assert doc.plan.symbol == "GB.276/TC/2"
    assert doc.plan.id == "gb276-tc2"
    assert doc.plan.ref_date == date(1999, 9, 28)
    assert doc.plan.timezone == "Europe/Zurich"
    assert doc.plan.body == "Committee on Technical Cooperation"
    assert doc.plan.title.startswith("Effect to be given to the conclusions")
    assert doc.plan.title.endswith("(June 1999): Implementation plan")


def test_every_nonempty_cell_is_one_action_in_order(doc: PlanDocument) -> None:
    cells = seed_timeframe_cells()
    assert len(cells) == 67
    assert [a.timeframe for a in doc.actions if a.timeframe] == cells


def test_empty_cells_are_kept_with_the_previous_time_frame_proposed(doc: PlanDocument) -> None:
    empty = [a for a in doc.actions if not a.timeframe]
    assert [a.ref for a in empty] == ["II.1.2", "II.1.3"]
    assert {a.timeframe_proposed for a in empty} == {"Planning of review to begin January 2000 and to finish end 2000"}
    assert [a.line for a in empty] == [142, 144]


def test_parts_issues_and_subheadings_are_all_present(doc: PlanDocument) -> None:
    parts = [(s.number, s.title) for s in doc.sections if s.level == "part"]
    assert parts == [
        ("I", "Enhancing the relevance and effectiveness of ILO technical cooperation"),
        ("II", "Improving the quality, visibility, efficiency and impact of ILO technical cooperation"),
        ("III", "Strengthening partnerships and resource mobilization"),
    ]
    numbers = [s.number for s in doc.sections if s.level in {"issue", "subissue"}]
    assert numbers == [
        "1",
        "1(a)",
        "1(b)",
        "2",
        "2(a)",
        "2(b)",
        "2(c)",
        "3",
        "3(a)",
        "3(b)",
        "4",
        "4(a)",
        "4(b)",
        "1",
        "2",
        "3",
        "4",
        "5",
        "1",
        "(a)",
        "(b)",
        "(c)",
        "(d)",
        "(e)",
    ]
    subheadings = [s.title for s in doc.sections if s.level == "subheading"]
    assert subheadings == [
        "Improving current arrangements and developing new approaches",
        "Learning from experience",
        "The Governing Body and the evaluation process",
        "General",
    ]


def test_ids_titles_and_descriptions(doc: PlanDocument) -> None:
    by_ref = {a.ref: a for a in doc.actions}
    assert by_ref["I.1a.2"].timeframe == "Annually or at least biennially"
    assert by_ref["I.1a.2"].title == "1(a) action 2 (text not in source)"
    assert by_ref["II.4.1"].timeframe == "Action on these initiatives to start January 2000"
    assert by_ref["II.4.1"].subheading == "Improving current arrangements and developing new approaches"
    assert by_ref["III.a.3"].timeframe == "First initiatives first half 2000"
    assert by_ref["III.1.1"].subheading == "General"
    assert by_ref["I.1a.1"].description.startswith("Ensuring that technical cooperation is coherent")
    assert "shared vision" in by_ref["I.1a.1"].description
    assert "In parallel with this exercise" in by_ref["II.2.4"].description
    assert len(by_ref) == len(doc.actions) == 69


def test_issue_without_context_has_no_actions_of_its_own(doc: PlanDocument) -> None:
    assert not [a for a in doc.actions if a.section_key == "I.1"]
    sections = {s.key: s for s in doc.sections}
    assert sections["I.1a"].parent_key == "I.1"
    assert sections["III.a"].parent_key == "III.1"


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [("GB.276/TC/2", "gb276-tc2"), ("GB.280/PFA/5", "gb280-pfa5"), ("ILC.88/Rep", "ilc88-rep")],
)
def test_plan_id_from_symbol(symbol: str, expected: str) -> None:
    assert gbtext.plan_id_from_symbol(symbol) == expected


def _error(text: str) -> str:
    with pytest.raises(InputError) as info:
        gbtext.parse(text, "p.txt")
    return str(info.value)


def test_truncated_in_the_middle_of_a_row_names_the_line() -> None:
    lines = SEED_TEXT.splitlines()
    cut = "\n".join(lines[:157]) + "\nFirst results by Ju"
    assert (
        _error(cut)
        == "p.txt:158: the table ends here; expected the rest of this row, ending in '|' (is the file truncated?)"
    )


def test_truncated_after_a_heading_names_the_heading() -> None:
    lines = SEED_TEXT.splitlines()
    cut = "\n".join(lines[:166])  # ends with "3. Improving human resources |"
    assert lines[165].startswith("3. Improving human resources")
    assert _error(cut).startswith("p.txt:166: the table ends here; expected its context and action rows")


def test_missing_appendix() -> None:
    text = SEED_TEXT.split("Appendix")[0]
    assert "expected a line 'Appendix'" in _error(text)


def test_missing_symbol() -> None:
    assert _error("Hello\n" + SEED_TEXT).startswith("p.txt:1:1: expected the plan's symbol")


def test_unexpected_line_in_table() -> None:
    text = SEED_TEXT.replace("Starting January 2000 | |", "Starting January 2000 |x| |", 1)
    message = _error(text)
    start = "p.txt:87:1: unexpected line 'Starting January 2000 |x| |'; expected a Part line"
    assert message.startswith(start), message
    assert "a header row ending in a time-frame heading (such as 'Time frame |')" in message
    assert "or a table row (an empty cell '|', the measure's cells, then 'TIME FRAME | |')" in message


def test_a_heading_twice_is_an_error() -> None:
    text = SEED_TEXT.replace("3. Improving human resources |", "2. Improving human resources |", 1)
    assert _error(text).startswith("p.txt:166:1: heading '2' appears twice (first at line 146)")


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab |\n\r\x0b\x0c\u2028\x85", max_size=60), part=st.integers(min_value=1, max_value=12))
def test_lines_read_a_part_at_a_time_are_the_lines_of_the_whole_text(text: str, part: int) -> None:
    assert list(gbtext._lines_of(text, part)) == text.splitlines()


def test_rows_of_a_plan_longer_than_one_part_keep_their_line_numbers() -> None:
    shift = 1_100_000  # blank lines before the table: it starts past the first part the rows are read in
    padded = SEED_TEXT.replace("\nAppendix\n", "\n" * (shift + 1) + "Appendix\n", 1)
    first, second = gbtext.parse(SEED_TEXT, "plans/seed.txt"), gbtext.parse(padded, "plans/seed.txt")
    assert [r.line + shift for r in first.actions] == [r.line for r in second.actions]
    assert [(r.ref, r.timeframe, r.title) for r in first.actions] == [
        (r.ref, r.timeframe, r.title) for r in second.actions
    ]
