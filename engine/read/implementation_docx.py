"""The implementation report as a Word document laid out as a Governing Body paper, for the secretariat to edit
and submit: the body and the office symbol, the title, the date line, numbered paragraphs stating the figures,
the figures' tables, and the appendix table of every action.

The appendix holds one row per action, so it is written as one piece of WordprocessingML rather than cell by
cell (python-docx's own cell calls take minutes over 100,000 actions); the rest goes through python-docx.
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from engine.read.implementation import ImplementationReport
from engine.read.implementation_text import CSV_FIELDS, csv_row, paragraphs, sections

if TYPE_CHECKING:
    from docx.document import Document as DocumentObject

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # what XML 1.0 cannot hold
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def render_docx(report: ImplementationReport) -> bytes:
    """Return the report as the bytes of a ``.docx`` file."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = Document()
    doc.styles["Normal"].font.size = Pt(11)
    _heading_block(doc, report, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER)
    for number, text in enumerate(paragraphs(report), start=1):
        para = doc.add_paragraph()
        para.add_run(f"{number}.\t")
        para.add_run(_clean(text))
        para.paragraph_format.space_after = Pt(8)
    for title, head, rows in sections(report):
        doc.add_heading(title, level=2)
        if rows:
            _small_table(doc, head, rows)
        else:
            doc.add_paragraph("None.")
    appendix = doc.add_section()
    appendix.orientation = WD_ORIENT.LANDSCAPE
    appendix.page_width, appendix.page_height = appendix.page_height, appendix.page_width
    doc.add_heading(f"Appendix: every action as of {report.as_of.isoformat()}", level=2)
    doc.element.body.insert(len(doc.element.body) - 1, _big_table([list(CSV_FIELDS), *map(csv_row, report.rows)]))
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def _heading_block(doc: DocumentObject, report: ImplementationReport, right: object, centre: object) -> None:
    """Write the paper's head: the body, the symbol on the right, the date line, the title."""
    top = doc.add_paragraph()
    top.add_run(_clean(report.plan.body or "Governing Body")).bold = True
    symbol = doc.add_paragraph()
    symbol.alignment = right  # type: ignore[assignment]
    symbol.add_run(_clean(report.symbol)).bold = True
    date_line = doc.add_paragraph()
    date_line.alignment = right  # type: ignore[assignment]
    date_line.add_run(f"Date: {report.as_of.day} {report.as_of.strftime('%B %Y')}")
    date_line.add_run("\nOriginal: English")
    title = doc.add_paragraph()
    title.alignment = centre  # type: ignore[assignment]
    run = title.add_run(_clean(f"Report on implementation: {report.plan.title}".upper()))
    run.bold = True
    subtitle = doc.add_paragraph()
    subtitle.alignment = centre  # type: ignore[assignment]
    since = f", compared with {report.changes.since.isoformat()}" if report.changes else ""
    subtitle.add_run(f"As of {report.as_of.isoformat()}{since}").italic = True


def _small_table(doc: DocumentObject, head: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(_clean(text)).bold = True
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = _clean(text)


def _big_table(rows: list[list[str]]) -> object:
    """Return a ``w:tbl`` element holding ``rows`` (the first is the header, repeated on every page)."""
    from docx.oxml import parse_xml

    width = len(rows[0])
    grid = "".join('<w:gridCol w:w="900"/>' for _ in range(width))
    head = "".join(
        f"<w:tc><w:p><w:r><w:rPr><w:b/></w:rPr><w:t>{escape(_clean(c))}</w:t></w:r></w:p></w:tc>" for c in rows[0]
    )
    parts = [
        f'<w:tbl {_W}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        '<w:tblLook w:val="04A0"/></w:tblPr>',
        f"<w:tblGrid>{grid}</w:tblGrid>",
        f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{head}</w:tr>",
    ]
    parts += ["<w:tr>" + "".join(map(_cell, row)) + "</w:tr>" for row in rows[1:]]
    parts.append("</w:tbl>")
    return parse_xml("".join(parts))


def _clean(text: str) -> str:
    """Return ``text`` with what XML cannot hold (control characters) as spaces."""
    return _NOT_XML.sub(" ", text)


def _cell(text: str) -> str:
    text = _clean(text)
    if not text:
        return "<w:tc><w:p/></w:tc>"
    return f'<w:tc><w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>'
