"""Spreadsheets (.xlsx, .ods, .csv): the example plan written by the tests imports as its text does."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from engine.actions.resolve import resolve_plan
from engine.importers import gbtext, sheets
from engine.plandoc import PlanDocument

from ..conftest import SEED

Cell = str | date | None
HEADER = ["Reference", "Part", "Issue", "Action", "Time frame"]
TITLE_ROWS: list[list[Cell]] = [
    ["GB.276/TC/2"],
    ["Effect to be given to the conclusions: Implementation plan"],
    ["Geneva, 28 September 1999."],
    [],
]


@pytest.fixture(scope="module")
def text_doc() -> PlanDocument:
    return gbtext.parse(SEED.read_text(encoding="utf-8"), "plans/seed.txt")


def plan_rows(doc: PlanDocument, *, refs: bool = True) -> list[list[Cell]]:
    """The example plan as a follow-up table: one row per action, Parts and issues written out."""
    by_key = {s.key: s for s in doc.sections}
    rows: list[list[Cell]] = []
    for row in doc.actions:
        section = by_key[row.section_key]
        part = section
        while part.parent_key is not None:
            part = by_key[part.parent_key]
        label = f"{section.number}." if section.number.isdigit() else section.number
        issue = f"{label} {section.title}" if section is not part else ""
        rows.append([row.ref if refs else None, f"Part {part.number} -- {part.title}", issue, row.title, row.timeframe])
    return rows


def write_xlsx(path: Path, sheets_rows: dict[str, Sequence[Sequence[Cell]]], merges: Sequence[str] = ()) -> Path:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for name, rows in sheets_rows.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(list(row))
        for merged in merges:
            ws.merge_cells(merged)
    book.save(path)
    return path


def write_ods(
    path: Path, sheets_rows: dict[str, Sequence[Sequence[Cell]]], spans: dict[tuple[int, int], int] | None = None
) -> Path:
    """Write an .ods; ``spans`` maps (row, col) (1-based, first sheet) to the rows a cell is merged down over."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    spans = spans or {}
    doc = OpenDocumentSpreadsheet()
    covered: set[tuple[int, int]] = set()
    for (r, c), n in spans.items():
        covered.update((r + k, c) for k in range(1, n))
    for index, (name, rows) in enumerate(sheets_rows.items()):
        table = Table(name=name)
        for r, row in enumerate(rows, 1):
            tr = TableRow()
            for c, value in enumerate(row, 1):
                if index == 0 and (r, c) in covered:
                    tr.addElement(CoveredTableCell())
                    continue
                attrs: dict[str, Any] = {}
                if index == 0 and (r, c) in spans:
                    attrs["numberrowsspanned"] = spans[(r, c)]
                if isinstance(value, date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat(), **attrs)
                    cell.addElement(P(text=value.strftime("%d/%m/%Y")))
                elif value:
                    cell = TableCell(valuetype="string", **attrs)
                    cell.addElement(P(text=str(value)))
                else:
                    cell = TableCell(**attrs)
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def write_csv(path: Path, rows: Sequence[Sequence[Cell]], *, delimiter: str = ";", encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows([["" if v is None else str(v) for v in row] for row in rows])
    return path


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
