"""Bad spreadsheets: one clear line naming the file and the place, exit 2 through the CLI, the database unchanged."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from engine.errors import InputError
from engine.importers import sheets

from ..conftest import snapshot
from .documents import HEADER, TITLE_ROWS, write_csv, write_xlsx

PLAN = "plans/gb276-tc2-implementation-plan.txt"


@pytest.fixture
def loaded(cli):  # type: ignore[no-untyped-def]
    """A database holding the example plan and owners, and its snapshot."""
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli, snapshot(cli.url)


def refused(loaded, args: list[str], pattern: str) -> str:  # type: ignore[no-untyped-def]
    cli, before = loaded
    result = cli("import", *args)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert re.fullmatch(pattern, lines[0]), lines[0]
    after = snapshot(cli.url)
    assert after is not None and before is not None
    assert {t: len(rows) for t, rows in after.items()} == {t: len(rows) for t, rows in before.items()}
    assert after == before
    return lines[0]


def empty_workbook(path: Path) -> Path:
    Workbook().save(path)
    return path


def test_an_empty_workbook(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    empty_workbook(workdir / "empty.xlsx")
    refused(loaded, ["empty.xlsx"], r"empty\.xlsx: the workbook has no rows; expected a header row .*")


def test_a_sheet_without_a_time_frame_column_names_the_sheet_row_and_headings(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    rows = [*TITLE_ROWS, ["Reference", "Part", "Action", "Owner"], ["R1", "Part I -- One", "Do it", "hr"]]
    write_xlsx(workdir / "plan.xlsx", {"Actions": rows})
    line = refused(
        loaded,
        ["plan.xlsx"],
        r"plan\.xlsx:Actions!A5: the header row \(row 5\) has no time-frame column; "
        r"headings found: 'Reference', 'Part', 'Action', 'Owner'; expected .*--columns timeframe=HEADING",
    )
    assert "Time frame" in line


def test_a_password_protected_workbook(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    # An encrypted .xlsx is an OLE compound file (the same container as an old .xls), not a zip.
    (workdir / "secret.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    refused(loaded, ["secret.xlsx"], r"secret\.xlsx: is password-protected or an old \.xls workbook.*")


def test_garbage_bytes_named_xlsx(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "broken.xlsx").write_bytes(b"\x00\x01garbage that is no workbook" * 20)
    refused(loaded, ["broken.xlsx"], r"broken\.xlsx: is not an \.xlsx workbook \(not a zip file.*")


def test_a_zip_that_is_not_a_workbook(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(workdir / "archive.xlsx", "w") as z:
        z.writestr("readme.txt", "hello")
    refused(loaded, ["archive.xlsx"], r"archive\.xlsx: is a zip file but not an \.xlsx workbook .*")


def test_a_truncated_workbook(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    whole = write_xlsx(workdir / "whole.xlsx", {"Plan": [*TITLE_ROWS, HEADER, ["R1", "Part I", "", "Do", "soon"]]})
    (workdir / "cut.xlsx").write_bytes(whole.read_bytes()[:-200])
    refused(loaded, ["cut.xlsx"], r"cut\.xlsx: is a damaged \.xlsx workbook .*")


def test_a_latin_1_csv_without_a_declared_encoding(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    rows = [["Genève, 5 mars 2024"], ["Référence", "Mesure", "Échéance"], ["1", "Réunion annuelle", "fin 2024"]]
    write_csv(workdir / "plan.csv", rows, encoding="latin-1")
    refused(
        loaded,
        ["plan.csv"],
        r"plan\.csv:1: is not UTF-8 text \(byte 0xe8\); .*import it again with --encoding latin-1",
    )
    cli, _ = loaded
    result = cli("import", "--encoding", "latin-1", "plan.csv")
    assert result.code == 0, result.err
    assert "1 actions" in result.out or "1 action" in result.out


def test_an_unknown_sheet_and_bad_columns(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    write_xlsx(workdir / "plan.xlsx", {"Plan": [*TITLE_ROWS, HEADER, ["R1", "Part I", "", "Do", "soon"]]})
    refused(loaded, ["--sheet", "Other", "plan.xlsx"], r"plan\.xlsx: --sheet: no sheet named 'Other'; .*")
    refused(loaded, ["--columns", "when=Date", "plan.xlsx"], r"planwatch: --columns: expected FIELD=HEADING .*")


def test_a_duplicate_reference_names_both_cells(tmp_path: Path) -> None:
    rows = [*TITLE_ROWS, HEADER, ["R1", "Part I", "", "Do", "soon"], ["R1", "Part I", "", "Again", "later"]]
    with pytest.raises(InputError) as caught:
        sheets.read(write_xlsx(tmp_path / "plan.xlsx", {"Plan": rows}))
    assert str(caught.value.location).endswith("plan.xlsx:Plan!A7")
    assert "first at" in str(caught.value) and "Plan!A6" in str(caught.value)


def test_a_csv_without_a_plan_date(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [["Action", "Deadline"], ["Do it", "by end-2026"]], encoding="utf-8")
    with pytest.raises(InputError, match="no date for the plan") as caught:
        sheets.read(path)
    assert "give the plan's date with --date YYYY-MM-DD" in str(caught.value)


def test_date_gives_the_plan_date_when_the_file_has_none(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [["Action", "Deadline"], ["Do it", "within six months"]], encoding="utf-8")
    doc = sheets.read(path, plan_date=date(2024, 3, 4))
    assert doc.plan.ref_date == date(2024, 3, 4)
    assert doc.warnings == []


def test_the_file_date_wins_over_date_with_a_warning(tmp_path: Path) -> None:
    rows = [["Geneva, 28 September 1999."], ["Action", "Deadline"], ["Do it", "within six months"]]
    path = write_csv(tmp_path / "plan.csv", rows, delimiter=",", encoding="utf-8")
    assert path.read_text(encoding="utf-8").startswith('"Geneva, 28 September 1999."')
    path.write_text(path.read_text(encoding="utf-8").replace('"', ""), encoding="utf-8")  # cut at its comma
    doc = sheets.read(path, plan_date=date(2024, 3, 4))
    assert (doc.plan.ref_date, doc.plan.place) == (date(1999, 9, 28), "Geneva")
    assert doc.warnings == [
        "the file gives the plan's date as 1999-09-28; --date 2024-03-04 was not used (a date in the file wins; "
        "remove it from the file to use another)"
    ]
    assert sheets.read(path, plan_date=date(1999, 9, 28)).warnings == []


def test_date_through_the_cli_dates_a_csv_and_a_bad_date_is_refused(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    write_csv(workdir / "follow.csv", [["Action", "Deadline"], ["Do it", "within six months"]], encoding="utf-8")
    line = refused(loaded, ["follow.csv"], r"follow\.csv: no date for the plan: .*")
    assert line.endswith("or give the plan's date with --date YYYY-MM-DD")
    refused(loaded, ["--date", "4 March 2024", "follow.csv"], r"planwatch: --date: expected the plan's date .*")
    cli, _ = loaded
    result = cli("import", "--date", "2024-03-04", "follow.csv")
    assert result.code == 0, result.err
    shown = cli("actions", "--plan", "follow")
    assert "2024-09-04" in " ".join(shown.out.split()), shown.out


def test_empty_and_unreadable_ods_and_csv(tmp_path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table

    empty = OpenDocumentSpreadsheet()
    empty.spreadsheet.addElement(Table(name="Sheet1"))
    empty.save(str(tmp_path / "empty.ods"))
    (tmp_path / "empty.csv").write_text("\ufeff \n", encoding="utf-8")
    (tmp_path / "garbage.ods").write_bytes(b"garbage" * 10)
    with zipfile.ZipFile(tmp_path / "archive.ods", "w") as z:
        z.writestr("readme.txt", "hello")
    with zipfile.ZipFile(tmp_path / "locked.ods", "w") as z:
        z.writestr("content.xml", "<scrambled/>")
        z.writestr("META-INF/manifest.xml", '<manifest:encryption-data manifest:checksum="x"/>')
    expected = {
        "empty.ods": r"empty\.ods: the workbook has no rows; .*",
        "empty.csv": r"empty\.csv:1: is empty; .*",
        "garbage.ods": r"garbage\.ods: is not an \.ods workbook \(not a zip file.*",
        "archive.ods": r"archive\.ods: is a zip file but not an \.ods workbook .*",
        "locked.ods": r"locked\.ods: is password-protected; .*",
    }
    for name, pattern in expected.items():
        with pytest.raises(InputError) as caught:
            sheets.read(tmp_path / name)
        line = str(caught.value).replace(str(tmp_path) + "/", "")
        assert "\n" not in line
        assert re.fullmatch(pattern, line), line


def test_an_unknown_owner_names_its_sheet_and_cell(loaded, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    header = ["Reference", "Part", "Action", "Time frame", "Responsible unit"]
    rows = [*TITLE_ROWS, header, ["R1", "Part I", "Do", "soon", "codev"], ["R2", "Part I", "Again", "later", "FINANCE"]]
    write_xlsx(workdir / "plan.xlsx", {"Follow-up": rows})
    line = refused(loaded, ["plan.xlsx"], r"plan\.xlsx:Follow-up!E7: owner: unknown owner id 'FINANCE'; .*")
    assert "actions[" not in line
    write_csv(workdir / "plan.csv", rows)
    refused(loaded, ["plan.csv"], r"plan\.csv:7:5: owner: unknown owner id 'FINANCE'; .*")
    rows[6][4] = "pardev"
    write_xlsx(workdir / "plan.xlsx", {"Follow-up": rows})
    cli, _ = loaded
    assert cli("import", "plan.xlsx").code == 0
