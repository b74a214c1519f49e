"""The implementation report as a Word paper (``engine.read.implementation_docx``), opened back with python-docx."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH

from engine.read.implementation import ImplementationReport
from engine.read.implementation_docx import render_docx
from engine.read.implementation_text import CSV_FIELDS, csv_row, paragraphs, sections

from .test_implementation_text import REPORT, ROWS


def opened(report: ImplementationReport) -> docx.document.Document:
    return docx.Document(io.BytesIO(render_docx(report)))


def test_the_paper_has_the_symbol_title_date_line_and_numbered_paragraphs() -> None:
    paper = opened(REPORT)
    texts = [p.text for p in paper.paragraphs]
    assert texts[0] == "Committee on Technical Cooperation"
    symbol = paper.paragraphs[1]
    assert symbol.text == "GB.276/TC/2(Add.1)" and symbol.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert symbol.runs[0].bold
    assert texts[2] == "Date: 30 June 2001\nOriginal: English"
    assert texts[3] == "REPORT ON IMPLEMENTATION: A PLAN | WITH *MARKUP*"
    assert texts[4] == "As of 30 June 2001, compared with 31 December 2000"
    numbered = [t for t in texts if t[:1].isdigit() and ".\t" in t[:4]]
    assert numbered == [f"{n}.\t{text}" for n, text in enumerate(paragraphs(REPORT), start=1)]


def test_the_figures_tables_and_the_appendix_are_there() -> None:
    paper = opened(REPORT)
    expected = [(head, rows) for _, head, rows in sections(REPORT) if rows]
    found = [[[c.text for c in row.cells] for row in table.rows] for table in paper.tables]
    assert len(found) == len(expected) + 1
    for (head, rows), table in zip(expected, found, strict=False):
        assert table == [head, *rows]
    appendix = found[-1]
    assert appendix[0] == list(CSV_FIELDS)
    assert appendix[1:] == [csv_row(r) for r in ROWS]
    assert appendix[1][-1] == "2000-04-28, 80% complete, Jonas Lindqvist: guidelines | sent to the printer"
    assert paper.sections[-1].orientation == WD_ORIENT.LANDSCAPE
    headings = [p.text for p in paper.paragraphs if p.style is not None and p.style.name == "Heading 2"]
    assert "Appendix: every action as of 30 June 2001" in headings and "By responsible unit" in headings


def test_text_with_markup_and_control_characters_is_kept_as_text() -> None:
    odd = ROWS[0]._replace(owner="A & B <c>\x0b\x01")
    paper = opened(ImplementationReport(REPORT.plan, REPORT.as_of, [odd], None))
    assert paper.tables[-1].rows[1].cells[2].text == "A & B <c>  "


def test_the_paper_names_the_plans_language_and_no_body_the_plan_does_not_name() -> None:
    from dataclasses import replace

    plan = REPORT.plan.model_copy(update={"body": "", "language": "en"})
    french = docx.Document(io.BytesIO(render_docx(replace(REPORT, plan=plan), "fr")))
    texts = [p.text for p in french.paragraphs]
    assert texts[0] == "GB.276/TC/2(Add.1)" and "Governing Body" not in "".join(texts)
    assert texts[1] == "Date\u00a0: 30 juin 2001\nOriginal\u00a0: anglais"
    assert texts[2] == "RAPPORT SUR LA MISE EN ŒUVRE\u00a0: A PLAN | WITH *MARKUP*"
    spanish = docx.Document(io.BytesIO(render_docx(replace(REPORT, plan=plan), "es")))
    assert spanish.paragraphs[1].text == "Fecha: 30 de junio de 2001\nOriginal: inglés"


def test_the_paper_is_tagged_with_its_language_and_says_what_it_is() -> None:
    raw = render_docx(REPORT, "fr")
    with zipfile.ZipFile(io.BytesIO(raw)) as package:
        styles = package.read("word/styles.xml").decode()
        everything = "".join(package.read(n).decode("utf-8", "replace") for n in package.namelist())
    assert '<w:lang w:val="fr-FR" w:eastAsia="fr-FR"' in styles and "en-US" not in everything
    props = docx.Document(io.BytesIO(raw)).core_properties
    assert props.title == "Rapport sur la mise en œuvre : A plan | with *markup*"
    assert (props.author, props.last_modified_by, props.language) == ("planwatch", "planwatch", "fr-FR")
    assert props.created == props.modified == datetime(2001, 6, 30, tzinfo=UTC)  # the report's day
    assert "python-docx" not in everything
    spanish = docx.Document(io.BytesIO(render_docx(REPORT, "es")))
    assert spanish.core_properties.language == "es-ES"
    assert opened(REPORT).core_properties.language == "en-GB"
