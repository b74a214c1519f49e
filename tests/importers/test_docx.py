"""Word plans: the example and the second plan written as .docx read exactly as their text; bad Word files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.importers import docx as word

from ..conftest import SEED, snapshot
from .documents import SECOND, SECOND_HEADERS, action_fields, readings, section_fields, text_plan, write_docx


@pytest.mark.parametrize(("text", "headers"), [(SEED, None), (SECOND, SECOND_HEADERS)], ids=["example", "second"])
def test_a_word_plan_reads_exactly_as_its_text(
    text: Path, headers: dict[str, list[str]] | None, tmp_path: Path
) -> None:
    expected = text_plan(text)
    doc = word.read(write_docx(expected, tmp_path / "plan.docx", headers))
    assert action_fields(doc) == action_fields(expected)
    assert section_fields(doc) == section_fields(expected)
    assert readings(doc) == readings(expected)
    got, want = doc.plan, expected.plan
    assert (got.id, got.symbol, got.title, got.body, got.ref_date, got.timezone, got.place) == (
        want.id,
        want.symbol,
        want.title,
        want.body,
        want.ref_date,
        want.timezone,
        want.place,
    )
    assert (got.source_format, doc.positional_refs) == ("docx", True)


def test_the_example_counts_and_its_merged_time_frame_cells(tmp_path: Path) -> None:
    doc = word.read(write_docx(text_plan(SEED), tmp_path / "plan.docx"))
    assert len(doc.actions) == 69
    merged = [(a.ref, a.timeframe, a.timeframe_proposed) for a in doc.actions if not a.timeframe]
    proposed = "Planning of review to begin January 2000 and to finish end 2000"
    assert merged == [("II.1.2", "", proposed), ("II.1.3", "", proposed)]


def _table_docx(path: Path, rows: list[list[str]], merge_first: tuple[int, int] | None = None) -> Path:
    import docx

    document = docx.Document()
    for line in ("GB.9/X/1", "Committee on Tests", "ITEM ON THE AGENDA", "A plan for tests", "Geneva, 1 May 2024."):
        document.add_paragraph(line)
    document.add_heading("Part A -- Finance", level=1)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text
    if merge_first:
        table.cell(merge_first[0], 0).merge(table.cell(merge_first[1], 0))
    document.save(str(path))
    return path


def test_an_issue_cell_merged_down_its_measures_and_headings_as_issues(tmp_path: Path) -> None:
    rows = [
        ["Recommendation", "Measure", "Deadline"],
        ["A.1 Close old audit findings", "Review every open finding", "By June 2024"],
        ["", "Report to the Governing Body", "Annually"],
        ["", "Train the auditors", "Starting July 2024"],
    ]
    doc = word.read(_table_docx(tmp_path / "merged.docx", rows, merge_first=(1, 3)))
    assert [(a.ref, a.title, a.timeframe) for a in doc.actions] == [
        ("A.1.1", "Review every open finding", "By June 2024"),
        ("A.1.2", "Report to the Governing Body", "Annually"),
        ("A.1.3", "Train the auditors", "Starting July 2024"),
    ]
    assert [(s.key, s.title) for s in doc.sections] == [("A", "Finance"), ("A.1", "Close old audit findings")]


def _error(path: Path) -> str:
    with pytest.raises(InputError) as info:
        word.read(path)
    return str(info.value)


def test_a_row_before_any_issue_names_the_table_and_row(tmp_path: Path) -> None:
    rows = [["Issue", "Measure", "Time frame"], ["", "A measure", "By June 2024"]]
    message = _error(_table_docx(tmp_path / "plan.docx", rows))
    assert message.startswith(f"{tmp_path / 'plan.docx'}:table 1, row 2: a table row ('By June 2024') before any issue")


def test_a_word_file_without_tables(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    for line in ("GB.9/X/1", "A plan without its table", "Geneva, 1 May 2024."):
        document.add_paragraph(line)
    document.save(str(tmp_path / "empty.docx"))
    assert _error(tmp_path / "empty.docx") == (
        f"{tmp_path / 'empty.docx'}: a Word document without tables; "
        "expected the plan's table (Parts, issues, time frames) in a Word table"
    )


def test_a_corrupted_word_file(tmp_path: Path) -> None:
    good = write_docx(text_plan(SEED), tmp_path / "good.docx")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(good.read_bytes()[:3000])
    message = _error(broken)
    assert message.startswith(f"{broken}: not a Word document that can be opened")
    assert message.endswith("expected a .docx saved by Word or LibreOffice")


def test_an_old_word_file_says_how_to_convert_it(tmp_path: Path) -> None:
    old = tmp_path / "plan.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert _error(old) == (
        f"{old}: an old Word document (.doc); planwatch reads .docx: convert it with LibreOffice "
        "(soffice --headless --convert-to docx plan.doc) and import the .docx"
    )


def test_planwatch_imports_a_word_plan_as_its_text(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    write_docx(text_plan(SEED), workdir / "plan.docx")
    assert cli("import", "plan.docx").code == 0
    from_word = [json.loads(line) for line in cli("actions", "--json").out.splitlines()]
    other = f"sqlite:///{workdir / 'text.db'}"
    assert cli("import", str(SEED), db=other).code == 0
    from_text = [json.loads(line) for line in cli("actions", "--json", db=other).out.splitlines()]
    assert len(from_word) == 69
    assert from_word == from_text
    again = cli("import", "plan.docx")
    assert again.code == 0 and "Nothing changed." in again.out


@pytest.mark.parametrize("case", ["no-tables", "corrupted", "doc"])
def test_bad_word_files_are_one_line_exit_2_and_change_nothing(cli, workdir: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    import docx

    assert cli("import", str(SEED)).code == 0
    before = snapshot(cli.url)
    path = workdir / ("plan.doc" if case == "doc" else "plan.docx")
    if case == "no-tables":
        document = docx.Document()
        document.add_paragraph("GB.9/X/1")
        document.save(str(path))
    elif case == "corrupted":
        path.write_bytes(b"PK\x03\x04 not really a zip file")
    else:
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    result = cli("import", path.name)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(path.name), result.err
    assert snapshot(cli.url) == before
