"""Builders of test plans as Word and PDF files, drawn from a plan read from its text (no binary files in git).

A plan's table is laid out as a Governing Body document lays it out: a Part heading, a header row
ending in the time-frame column, an issue row (heading and context), then one row per action;
a sub-heading is a row of its own and an empty time-frame cell is merged with the one above.
"""

from __future__ import annotations

import calendar
import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from engine.actions.resolve import resolve_plan
from engine.importers import gbtext
from engine.plandoc import ActionRow, PlanDocument, SectionRow

from ..conftest import ROOT

DERIVED = "(text not in source)"
EXAMPLE_HEADER = ["Issues to be addressed", "Context and elements for action", "Time frame"]
MONTHS = list(calendar.month_name)[1:]
SECOND = ROOT / "tests" / "data" / "gb350-pfa7-plan-of-action.txt"
SECOND_HEADERS = {
    "A": ["Recommendations", "Measures envisaged", "Responsible unit", "Target date"],
    "B": ["Recommendations", "Actions planned", "Responsible unit", "Deadline"],
    "C": ["Recommendations", "Measures", "Responsible unit", "Target date"],
}


def text_plan(path: Path) -> PlanDocument:
    return gbtext.parse(path.read_text(encoding="utf-8"), str(path))


def action_fields(doc: PlanDocument) -> list[tuple[object, ...]]:
    fields = ("ref", "section_key", "ordinal", "title", "timeframe", "subheading", "description", "timeframe_proposed")
    return [tuple(getattr(a, f) for f in fields) for a in doc.actions]


def section_fields(doc: PlanDocument) -> list[tuple[object, ...]]:
    return [(s.key, s.parent_key, s.level, s.number, s.title, s.context, s.ordinal) for s in doc.sections]


def readings(doc: PlanDocument) -> dict[str, dict[str, object]]:
    return resolve_plan(doc.actions, doc.sections, doc.plan.ref_date, doc.plan.fy_start)


@dataclass
class Row:
    """One table row: its cells, and whether its time-frame cell is merged with the row above."""

    cells: list[str]
    merged: bool = False
    issue: bool = False


@dataclass
class Table:
    part: str
    header: list[str]
    rows: list[Row]


def front_lines(doc: PlanDocument, appendix: str = "Appendix") -> list[str]:
    """The paragraphs before the table: symbol, body, agenda line, title, date line, 'Appendix' (or the
    paper's own word for it)."""
    d = doc.plan.ref_date
    return [
        doc.plan.symbol,
        doc.plan.body,
        "ITEM ON THE AGENDA",
        doc.plan.title,
        f"{doc.plan.place}, {d.day} {MONTHS[d.month - 1]} {d.year}.",
        appendix,
    ]


def tables(doc: PlanDocument, headers: dict[str, list[str]] | None = None) -> list[Table]:
    """The plan as one table per Part, rows as the reader expects them."""
    out: list[Table] = []
    children: dict[str | None, list[SectionRow]] = {}
    for section in doc.sections:
        children.setdefault(section.parent_key, []).append(section)
    by_section: dict[str, list[ActionRow]] = {}
    for row in doc.actions:
        by_section.setdefault(row.section_key, []).append(row)
    for part in children.get(None, []):
        header = (headers or {}).get(part.key, EXAMPLE_HEADER)
        table = Table(f"Part {part.number} -- {part.title}", header, [])
        for section in _issues(part.key, children):
            table.rows.extend(_issue_rows(section, by_section.get(section.key, []), children, header))
        out.append(table)
    return out


def _issues(key: str, children: dict[str | None, list[SectionRow]]) -> Iterator[SectionRow]:
    for section in children.get(key, []):
        if section.level in {"issue", "subissue"}:
            yield section
            yield from _issues(section.key, children)


def _issue_rows(
    section: SectionRow, actions: list[ActionRow], children: dict[str | None, list[SectionRow]], header: list[str]
) -> Iterator[Row]:
    width = len(header)
    paragraphs = section.context.split("\n\n") if section.context else []
    label = f"{section.number}." if section.number.isdigit() else section.number
    yield Row(_cells(width, f"{label} {section.title}", paragraphs[0] if paragraphs else ""), issue=True)
    shown = 1
    if actions and DERIVED not in actions[0].title:
        for paragraph in paragraphs[1:]:  # a lead-in such as 'The Office will:'
            yield Row(_cells(width, "", paragraph))
        shown = len(paragraphs)
    subheadings = [s.title for s in children.get(section.key, []) if s.level == "subheading"]
    groups = [("", [a for a in actions if not a.subheading])]
    groups += [(name, [a for a in actions if a.subheading == name]) for name in subheadings]
    for name, rows in groups:
        if name:
            yield Row(_cells(width, name, ""))
        for action in rows:
            if DERIVED in action.title:
                context = action.description.split("\n\n")[1:]
                for paragraph in context[shown:]:
                    yield Row(_cells(width, "", paragraph))
                shown = max(shown, len(context))
                yield Row(_cells(width, "", "", tf=action.timeframe), merged=not action.timeframe)
            else:
                measure, *notes = action.description.split("\n\n")
                extras = dict(note.split(": ", 1) for note in notes)
                cells = _cells(width, "", measure, tf=action.timeframe)
                for i, name_ in enumerate(header[2:-1], 2):
                    cells[i] = extras.get(name_, "")
                yield Row(cells, merged=not action.timeframe)


def _cells(width: int, first: str, second: str, tf: str = "") -> list[str]:
    cells = [""] * width
    cells[0] = first
    if width > 2:
        cells[1] = second
    elif second:
        cells[0] = cells[0] or second
    cells[-1] = tf
    return cells


def write_docx(
    doc: PlanDocument, path: Path, headers: dict[str, list[str]] | None = None, appendix: str = "Appendix"
) -> Path:
    """Write the plan as a Word document: front paragraphs, a heading per Part, a table per Part."""
    import docx

    document = docx.Document()
    for line in front_lines(doc, appendix):
        document.add_paragraph(line)
    for table in tables(doc, headers):
        document.add_heading(table.part, level=1)
        grid = document.add_table(rows=1 + len(table.rows), cols=len(table.header))
        for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
            cell.text = text
        for r, row in enumerate(table.rows, 1):
            for c, text in enumerate(row.cells):
                if text:
                    grid.cell(r, c).text = text
        for r, row in enumerate(table.rows, 1):
            if row.merged:
                top = r - 1
                while table.rows[top - 1].merged:
                    top -= 1
                grid.cell(top, len(table.header) - 1).merge(grid.cell(r, len(table.header) - 1))
    document.save(str(path))
    return path


def write_pdf(
    doc: PlanDocument, path: Path, headers: dict[str, list[str]] | None = None, appendix: str = "Appendix"
) -> Path:
    """Draw the plan as a PDF: front lines, then per Part its line and its table (merged cells as row spans)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", size=9)
    for line in front_lines(doc, appendix):
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    for table in tables(doc, headers):
        pdf.ln(3)
        pdf.multi_cell(0, 5, table.part, new_x="LMARGIN", new_y="NEXT")
        spans = _spans(table.rows)
        with pdf.table(col_widths=_widths(len(table.header)), text_align="LEFT", repeat_headings=0) as grid:
            grid.row(table.header)
            for row, span in zip(table.rows, spans, strict=True):
                cells = grid.row()
                for c, text in enumerate(row.cells):
                    if c == len(row.cells) - 1 and row.merged:
                        continue  # covered by the row span of the cell above
                    cells.cell(text, rowspan=span if c == len(row.cells) - 1 else 1)
    pdf.output(str(path))
    return path


def _spans(rows: Sequence[Row]) -> list[int]:
    spans = [1] * len(rows)
    for i, row in enumerate(rows):
        if row.merged:
            top = i - 1
            while rows[top].merged:
                top -= 1
            spans[top] += 1
    return spans


def _widths(count: int) -> tuple[int, ...]:
    return {2: (3, 1), 3: (3, 4, 2), 4: (3, 4, 2, 2), 5: (3, 4, 2, 2, 2)}[count]


def write_scanned_pdf(path: Path) -> Path:
    """A PDF with an image and no text layer, as a scanner makes one."""
    import struct
    import zlib

    from fpdf import FPDF

    raw = b"".join(b"\x00" + b"\xff" * 30 for _ in range(20))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30, 20, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    image = path.with_suffix(".png")
    image.write_bytes(png)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(image), x=10, y=10, w=180)
    pdf.output(str(path))
    return path


# --- spreadsheets ------------------------------------------------------------------------------------

Cell = str | date | None
HEADER = ["Reference", "Part", "Issue", "Action", "Time frame"]
TITLE_ROWS: list[list[Cell]] = [
    ["GB.276/TC/2"],
    ["Effect to be given to the conclusions: Implementation plan"],
    ["Geneva, 28 September 1999."],
    [],
]


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


def second_plan_sheets(doc: PlanDocument, headers: dict[str, list[str]] | None = None) -> dict[str, list[list[Cell]]]:
    """A plan as a follow-up workbook: the title rows, then one sheet per Part, each with the Part's own headings
    (``headers`` by Part number: issue, measure, any other columns, time frame; the others are left out) and a
    Part column, one row per action; the rows of a sub-heading's measures start with it, as in the document."""
    by_key = {s.key: s for s in doc.sections}
    d = doc.plan.ref_date
    front: list[list[Cell]] = [
        [doc.plan.symbol],
        [doc.plan.title],
        [f"{doc.plan.place}, {d.day} {MONTHS[d.month - 1]} {d.year}."],
        [],
    ]
    out: dict[str, list[list[Cell]]] = {}
    for row in doc.actions:
        section = by_key[row.section_key]
        part = section
        while part.parent_key is not None:
            part = by_key[part.parent_key]
        heads = (headers or {}).get(part.number, ["Issue", "Action", "Time frame"])
        rows = out.setdefault(f"Part {part.number}", [*front, ["Part", heads[0], heads[1], heads[-1]]])
        issue = f"{section.number} {section.title}" if section is not part else ""
        rows.append([f"Part {part.number} -- {part.title}", issue, row.title, row.timeframe])
    return out
