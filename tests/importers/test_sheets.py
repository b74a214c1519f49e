"""Spreadsheets (.xlsx, .ods, .csv): the example plan written by the tests imports as its text does."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from engine.actions.resolve import resolve_plan
from engine.importers import gbtext, sheets
from engine.plandoc import PlanDocument

from ..conftest import SEED
from .documents import HEADER, TITLE_ROWS, Cell, plan_rows, write_csv, write_ods, write_xlsx


@pytest.fixture(scope="module")
def text_doc() -> PlanDocument:
    return gbtext.parse(SEED.read_text(encoding="utf-8"), "plans/seed.txt")


def readings(doc: PlanDocument) -> dict[str, tuple[Any, ...]]:
    out = resolve_plan(doc.actions, doc.sections, doc.plan.ref_date, doc.plan.fy_start, ())
    return {ref: (f["kind"], f["start"], f["due"], f["rrule"], f["needs_review"]) for ref, f in out.items()}


def assert_same_actions(doc: PlanDocument, text_doc: PlanDocument) -> None:
    assert [(a.ref, a.section_key, a.title, a.timeframe, a.timeframe_proposed) for a in doc.actions] == [
        (a.ref, a.section_key, a.title, a.timeframe, a.timeframe_proposed) for a in text_doc.actions
    ]
    assert readings(doc) == readings(text_doc)
    assert doc.plan.ref_date == text_doc.plan.ref_date
    assert doc.plan.timezone == "Europe/Zurich"
    assert doc.plan.id == "gb276-tc2"


def test_xlsx_of_the_example_plan_reads_as_its_text(tmp_path: Path, text_doc: PlanDocument) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", {"Plan": [*TITLE_ROWS, HEADER, *plan_rows(text_doc)]})
    doc = sheets.read(path)
    assert_same_actions(doc, text_doc)
    assert doc.plan.source_format == "xlsx"
    assert {s.key for s in text_doc.sections if s.level != "subheading"} >= {s.key for s in doc.sections}


def test_ods_of_the_example_plan_reads_as_its_text(tmp_path: Path, text_doc: PlanDocument) -> None:
    path = write_ods(tmp_path / "plan.ods", {"Plan": [*TITLE_ROWS, HEADER, *plan_rows(text_doc)]})
    assert_same_actions(sheets.read(path), text_doc)


@pytest.mark.parametrize(("delimiter", "encoding"), [(";", "utf-8-sig"), (",", "utf-8"), ("\t", "utf-8-sig")])
def test_csv_of_the_example_plan_reads_as_its_text(
    tmp_path: Path, text_doc: PlanDocument, delimiter: str, encoding: str
) -> None:
    rows = [*TITLE_ROWS, HEADER, *plan_rows(text_doc)]
    path = write_csv(tmp_path / "plan.csv", rows, delimiter=delimiter, encoding=encoding)
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert_same_actions(sheets.read(path), text_doc)


def test_without_a_reference_column_ids_are_positions_in_each_section(tmp_path: Path, text_doc: PlanDocument) -> None:
    rows = [[c for i, c in enumerate(r) if i] for r in plan_rows(text_doc, refs=False)]
    path = write_xlsx(tmp_path / "plan.xlsx", {"Plan": [*TITLE_ROWS, HEADER[1:], *rows]})
    first = sheets.read(path)
    assert [a.ref for a in first.actions] == [a.ref for a in text_doc.actions]
    assert [a.ref for a in sheets.read(path).actions] == [a.ref for a in first.actions]


def test_a_date_cell_is_a_deadline_on_that_date_with_no_review(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [
        ["Geneva, 1 March 2026."],
        ["Ref", "Action", "Deadline"],
        ["R1", "Publish the report", date(2026, 6, 30)],
        ["R2", "Hold the review", "by end-2026"],
    ]
    for path in (write_xlsx(tmp_path / "d.xlsx", {"Plan": rows}), write_ods(tmp_path / "d.ods", {"Plan": rows})):
        doc = sheets.read(path)
        first = doc.actions[0]
        assert first.timeframe == "30 June 2026"
        assert first.override == {"kind": "deadline", "due": "2026-06-30"}
        kind, _, due, _, review = readings(doc)["R1"]
        assert (kind, due, review) == ("deadline", date(2026, 6, 30), False)
        assert doc.actions[1].override == {}


def test_header_below_title_rows_and_a_part_heading_row(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [
        ["Implementation plan of the Office"],
        ["New York, 3 February 2025."],
        [],
        ["", "Note: figures are indicative"],
        ["No.", "Recommendations", "Measures envisaged", "Time frame", "Responsible"],
        ["Part A -- Financial management and reporting"],
        ["A.1", "Budget", "Publish the accounts quarterly", "Quarterly", "finance"],
        ["PART II: Human resources"],
        ["B.1", "Staffing", "Fill the vacant posts", "within six months", "hr"],
    ]
    doc = sheets.read(write_xlsx(tmp_path / "p.xlsx", {"Plan": rows}))
    assert doc.plan.ref_date == date(2025, 2, 3)
    assert doc.plan.timezone == "America/New_York"
    assert doc.plan.title == "Implementation plan of the Office"
    assert [(a.ref, a.section_key, a.title, a.timeframe, a.owner) for a in doc.actions] == [
        ("A.1", "A.budget", "Publish the accounts quarterly", "Quarterly", "finance"),
        ("B.1", "II.staffing", "Fill the vacant posts", "within six months", "hr"),
    ]
    assert [(s.key, s.parent_key, s.title) for s in doc.sections] == [
        ("A", None, "Financial management and reporting"),
        ("A.budget", "A", "Budget"),
        ("II", None, "Human resources"),
        ("II.staffing", "II", "Staffing"),
    ]


def test_the_direct_xml_reader_reads_as_openpyxl_does(tmp_path: Path, text_doc: PlanDocument) -> None:
    from openpyxl.styles import NamedStyle

    rows: list[list[Cell]] = [*TITLE_ROWS, [*HEADER, "Count"], *plan_rows(text_doc)]
    rows[6] = [*rows[6][:4], date(2000, 3, 31), 12]
    rows[7] = [*rows[7][:4], None, 2.5]
    path = write_xlsx(tmp_path / "plan.xlsx", {"Plan": rows, "Other": [["x", None, "y"]]}, merges=["B6:B9"])
    book = load_workbook(path)
    book["Plan"]["E8"].style = NamedStyle(name="custom-date", number_format="d mmmm yyyy")
    book["Plan"]["E8"].value = date(2001, 1, 15)
    book.save(path)
    direct = sheets._xlsx_direct(path, "plan.xlsx", None)
    through_openpyxl = sheets._xlsx_openpyxl(path, "plan.xlsx", None)
    assert direct[0] == through_openpyxl[0]
    grid = direct[0][0]
    assert grid.rows[6][4] == date(2000, 3, 31) and grid.rows[6][5] == "12"
    assert grid.rows[7][4] == date(2001, 1, 15) and grid.rows[7][5] == "2.5"
    assert grid.rows[7][1] == grid.rows[5][1]  # merged down
    assert direct[1] == through_openpyxl[1]


def test_the_direct_ods_reader_reads_as_odfpy_does(tmp_path: Path, text_doc: PlanDocument) -> None:
    from odf.office import Annotation
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow
    from odf.text import P, S

    rows: list[list[Cell]] = [*TITLE_ROWS, HEADER, *plan_rows(text_doc)]
    rows[6] = [*rows[6][:4], date(2000, 3, 31)]
    path = write_ods(tmp_path / "plan.ods", {"Plan": rows, "Other": [["x", None, "y"]]}, spans={(6, 2): 3})
    doc = load(str(path))
    extra = Table(name="Odd cells")
    row = TableRow(numberrowsrepeated=2)
    cell = TableCell(valuetype="string", numbercolumnsrepeated=3)
    first = P(text="two")
    first.addElement(S(c=2))
    first.addText("spaces")
    cell.addElement(first)
    cell.addElement(P(text="second paragraph"))
    note = Annotation()
    note.addElement(P(text="a reviewer's note, not the cell's text"))
    cell.addElement(note)
    row.addElement(cell)
    extra.addElement(row)
    extra.addElement(TableRow(numberrowsrepeated=1048570))
    doc.spreadsheet.addElement(extra)
    doc.save(str(path))
    direct = sheets._ods_direct(path, "plan.ods", None)
    through_odfpy = sheets._ods_odfpy(path, "plan.ods", None)
    assert direct == through_odfpy
    grid = direct[0][0]
    assert grid.rows[6][4] == date(2000, 3, 31)
    assert grid.rows[7][1] == grid.rows[6][1] == grid.rows[5][1]  # merged down
    odd = direct[0][2]
    assert odd.rows == [["two  spaces\nsecond paragraph"] * 3] * 2
