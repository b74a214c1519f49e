"""The implementation report as a Word document laid out as a Governing Body paper, for the secretariat to edit
and submit: the body and the office symbol, the title, the date line, numbered paragraphs stating the figures,
the figures' tables, and the appendix table of every action.

python-docx writes the paper; the tables go in afterwards, as WordprocessingML text put in the place of a
placeholder paragraph each: python-docx finds a row's cells by walking the whole table, so its own calls take
minutes over the appendix of 100,000 actions, and even lxml moving a parsed table into the document takes
seconds.
"""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime, time
from functools import lru_cache
from io import BytesIO
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from babel import Locale

from engine.languages import DEFAULT, LOCALES, NAMES, day, gettext
from engine.read.implementation import ImplementationReport, collector_paused
from engine.read.implementation_text import CSV_FIELDS, csv_row, paragraphs, sections, symbol, typeset

if TYPE_CHECKING:
    from docx.document import Document as DocumentObject

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # what XML 1.0 cannot hold
_MARK = "@@planwatch-table@@"  # a placeholder paragraph's text: the table with this number goes there
_PARAGRAPH = re.compile(r"<w:p>(?:(?!<w:p>).)*?" + _MARK + r"(\d+)" + _MARK + r".*?</w:p>", re.DOTALL)


def render_docx(report: ImplementationReport, language: str = DEFAULT) -> bytes:
    """Return the report as the bytes of a ``.docx`` file written in ``language``."""
    with collector_paused():
        return _render(report, language)


def _render(report: ImplementationReport, language: str) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = Document()
    doc.styles["Normal"].font.size = Pt(11)
    _describe(doc, report, language)
    _heading_block(doc, report, language, (WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER))
    for number, text in enumerate(paragraphs(report, language), start=1):
        para = doc.add_paragraph()
        para.add_run(f"{number}.\t")
        para.add_run(_clean(text))
        para.paragraph_format.space_after = Pt(8)
    tables: list[list[list[str]]] = []
    for title, head, rows in sections(report, language):
        doc.add_heading(title, level=2)
        if rows:
            tables.append(_placeholder(doc, len(tables), [head, *rows]))
        else:
            doc.add_paragraph(gettext(language, "None."))
    appendix = doc.add_section()
    appendix.orientation = WD_ORIENT.LANDSCAPE
    appendix.page_width, appendix.page_height = appendix.page_height, appendix.page_width
    when = {"day": day(report.as_of, language)}
    doc.add_heading(typeset(gettext(language, "Appendix: every action as of %(day)s") % when, language), level=2)
    head = [gettext(language, f) for f in CSV_FIELDS]
    tables.append(_placeholder(doc, len(tables), [head, *(csv_row(r, language) for r in report.rows)]))
    out = BytesIO()
    doc.save(out)
    return _with_tables(out.getvalue(), tables, _tag(language))


def _describe(doc: DocumentObject, report: ImplementationReport, language: str) -> None:
    """Tag the paper with its language (the styles' ``w:lang``, which every run inherits, so Word checks the
    spelling of the right language) and fill its properties: the title, planwatch as author, the report's day."""
    from docx.oxml.ns import qn

    tag = _tag(language)
    for lang in doc.styles.element.iter(qn("w:lang")):
        lang.set(qn("w:val"), tag)
        lang.set(qn("w:eastAsia"), tag)
    props = doc.core_properties
    props.title = gettext(language, "Report on implementation: %(title)s") % {"title": report.plan.title}
    props.subject = report.plan.title
    props.author = props.last_modified_by = "planwatch"
    props.comments = ""
    props.language = tag
    props.created = props.modified = datetime.combine(report.as_of, time(), UTC)


def _tag(language: str) -> str:
    """Return the language tag Word reads: en-GB, fr-FR, es-ES."""
    return LOCALES.get(language, LOCALES[DEFAULT]).replace("_", "-")


def _placeholder(doc: DocumentObject, n: int, rows: list[list[str]]) -> list[list[str]]:
    """Add the paragraph that table ``n`` replaces once the document is saved; return ``rows``."""
    doc.add_paragraph(f"{_MARK}{n}{_MARK}")
    return rows


def _with_tables(package: bytes, tables: list[list[list[str]]], tag: str) -> bytes:
    """Return ``package`` with each placeholder paragraph of ``word/document.xml`` replaced by its table, and the
    parts python-docx keeps as they came (the older styles' copy, the settings' theme language) tagged ``tag``."""
    source = zipfile.ZipFile(BytesIO(package))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                data = _PARAGRAPH.sub(lambda m: _table_xml(tables[int(m.group(1))]), text).encode("utf-8")
            elif item.filename in ("word/stylesWithEffects.xml", "word/settings.xml"):
                data = data.replace(b'"en-US"', f'"{tag}"'.encode())
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()


def _heading_block(
    doc: DocumentObject, report: ImplementationReport, language: str, align: tuple[object, object]
) -> None:
    """Write the paper's head: the body, the symbol on the right, the date line, the title."""
    right, centre = align
    if report.plan.body:  # no body is named when the plan does not say
        doc.add_paragraph().add_run(_clean(report.plan.body)).bold = True
    mark = doc.add_paragraph()
    mark.alignment = right  # type: ignore[assignment]
    mark.add_run(_clean(symbol(report, language))).bold = True
    date_line = doc.add_paragraph()
    date_line.alignment = right  # type: ignore[assignment]
    date_line.add_run(typeset(gettext(language, "Date: %(day)s") % {"day": day(report.as_of, language)}, language))
    original = gettext(language, "Original: %(language)s") % {
        "language": _language_name(report.plan.language, language)
    }
    date_line.add_run("\n" + typeset(original, language))
    title = doc.add_paragraph()
    title.alignment = centre  # type: ignore[assignment]
    heading = gettext(language, "Report on implementation: %(title)s") % {"title": report.plan.title}
    run = title.add_run(_clean(typeset(heading, language).upper()))
    run.bold = True
    subtitle = doc.add_paragraph()
    subtitle.alignment = centre  # type: ignore[assignment]
    when = {"day": day(report.as_of, language)}
    if report.changes:
        when["since"] = day(report.changes.since, language)
        line = gettext(language, "As of %(day)s, compared with %(since)s") % when
    else:
        line = gettext(language, "As of %(day)s") % when
    subtitle.add_run(line).italic = True


def _language_name(original: str, language: str) -> str:
    """Return the name of the language the plan was written in, as ``language`` writes it: "English", "anglais",
    "inglés"."""
    names = Locale.parse(language).languages
    return names.get(original) or names.get(DEFAULT) or NAMES[DEFAULT]


def _table_xml(rows: list[list[str]]) -> str:
    """Return a ``w:tbl`` holding ``rows`` (the first is the header, bold and repeated on every page)."""
    width = len(rows[0])
    grid = "".join('<w:gridCol w:w="900"/>' for _ in range(width))
    head = "".join(
        f"<w:tc><w:p><w:r><w:rPr><w:b/></w:rPr><w:t>{escape(_clean(c))}</w:t></w:r></w:p></w:tc>" for c in rows[0]
    )
    parts = [
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        '<w:tblLook w:val="04A0"/></w:tblPr>',
        f"<w:tblGrid>{grid}</w:tblGrid>",
        f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{head}</w:tr>",
    ]
    parts += ["<w:tr>" + "".join(map(_cell, row)) + "</w:tr>" for row in rows[1:]]
    parts.append("</w:tbl>")
    return "".join(parts)


def _clean(text: str) -> str:
    """Return ``text`` with what XML cannot hold (control characters) as spaces."""
    return _NOT_XML.sub(" ", text)


@lru_cache(maxsize=65536)
def _cell(text: str) -> str:
    text = _clean(text)
    if not text:
        return "<w:tc><w:p/></w:tc>"
    return f'<w:tc><w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>'
