"""PDF plans: the example and the second plan drawn as PDF read exactly as their text; scanned and bad PDFs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.importers import gbtext, pdf

from ..conftest import SEED, snapshot
from .documents import (
    SECOND,
    SECOND_HEADERS,
    action_fields,
    readings,
    section_fields,
    text_plan,
    write_pdf,
    write_scanned_pdf,
)


@pytest.mark.parametrize(("text", "headers"), [(SEED, None), (SECOND, SECOND_HEADERS)], ids=["example", "second"])
def test_a_pdf_plan_reads_exactly_as_its_text(text: Path, headers: dict[str, list[str]] | None, tmp_path: Path) -> None:
    expected = text_plan(text)
    doc = pdf.read(write_pdf(expected, tmp_path / "plan.pdf", headers))
    assert action_fields(doc) == action_fields(expected)
    assert section_fields(doc) == section_fields(expected)
    assert readings(doc) == readings(expected)
    got, want = doc.plan, expected.plan
    assert (got.id, got.symbol, got.title, got.body, got.ref_date, got.timezone) == (
        want.id,
        want.symbol,
        want.title,
        want.body,
        want.ref_date,
        want.timezone,
    )
    assert got.source_format == "pdf"


def test_the_example_spans_pages_and_keeps_its_merged_cells(tmp_path: Path) -> None:
    import pdfplumber

    path = write_pdf(text_plan(SEED), tmp_path / "plan.pdf")
    with pdfplumber.open(path) as document:
        assert len(document.pages) > 3
    doc = pdf.read(path)
    assert [a.ref for a in doc.actions if not a.timeframe] == ["II.1.2", "II.1.3"]


def _plan_with_a_stray_row(tmp_path: Path) -> Path:
    doc = text_plan(SECOND)
    first = doc.sections[1]
    first.number, first.title = "", "Strengthen the budgetary control"  # the heading loses its number
    return write_pdf(doc, tmp_path / "plan.pdf", SECOND_HEADERS)


def _error(path: Path) -> str:
    with pytest.raises(InputError) as info:
        pdf.read(path)
    return str(info.value)


def test_an_error_names_the_page_and_row(tmp_path: Path) -> None:
    message = _error(_plan_with_a_stray_row(tmp_path))
    assert message.startswith(f"{tmp_path / 'plan.pdf'}:page 1, row 2: a table row"), message
    assert "before any issue heading" in message


def test_a_scanned_pdf_is_one_clear_line(tmp_path: Path) -> None:
    assert _error(write_scanned_pdf(tmp_path / "scan.pdf")) == (
        f"{tmp_path / 'scan.pdf'}: a scanned PDF with no text layer; planwatch reads a PDF's text: "
        "run it through text recognition (OCR) first, or import the Word version of the plan"
    )


def test_a_file_that_is_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "plan.pdf"
    path.write_bytes(b"%PDF-1.4\nnothing else\n")
    message = _error(path)
    assert message.startswith(f"{path}: "), message
    assert "expected a PDF with a text layer" in message


def test_planwatch_imports_a_pdf_plan_as_its_text(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    write_pdf(text_plan(SEED), workdir / "plan.pdf")
    assert cli("import", "plan.pdf").code == 0
    from_pdf = [json.loads(line) for line in cli("actions", "--json").out.splitlines()]
    other = f"sqlite:///{workdir / 'text.db'}"
    assert cli("import", str(SEED), db=other).code == 0
    from_text = [json.loads(line) for line in cli("actions", "--json", db=other).out.splitlines()]
    assert len(from_pdf) == 69
    assert from_pdf == from_text


def test_a_preview_of_a_pdf_plan(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    write_pdf(text_plan(SECOND), workdir / "second.pdf", SECOND_HEADERS)
    before = snapshot(cli.url)
    result = cli("import", "--dry-run", "second.pdf")
    assert result.code == 0, result.err
    assert "17 actions, 1 to review" in result.out
    assert "C.2.3      Continuously → continuous" in result.out
    assert snapshot(cli.url) == before


def test_a_scanned_pdf_through_planwatch_is_exit_2_and_changes_nothing(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", str(SEED)).code == 0
    before = snapshot(cli.url)
    write_scanned_pdf(workdir / "scan.pdf")
    result = cli("import", "scan.pdf")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "scan.pdf: a scanned PDF with no text layer; planwatch reads a PDF's text: run it through text "
        "recognition (OCR) first, or import the Word version of the plan"
    ]
    assert snapshot(cli.url) == before


def test_gbtext_reads_no_pdf_by_mistake() -> None:
    assert not gbtext.looks_like("%PDF-1.4")
    assert pdf.handles("plan.PDF") and not pdf.handles("plan.txt")
