"""Spreadsheets as people lay them out: French and Spanish headings, merged cells, --columns, several sheets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.importers import sheets

from .documents import Cell, write_csv, write_ods, write_xlsx
from .test_sheets import readings

FRENCH: list[list[Cell]] = [
    ["Genève, 5 mars 2024"],
    ["Plan d'action"],
    ["Référence", "Partie", "Mesure", "Responsable", "Échéance", "État", "Observations"],
    [
        "1.1",
        "Partie I : Gouvernance",
        "Réviser le règlement financier",
        "fin",
        "d'ici fin 2024",
        "en cours",
        "Voir annexe",
    ],
    ["1.2", None, "Publier les comptes", "fin", date(2024, 9, 30), None, None],
]
SPANISH: list[list[Cell]] = [
    ["Ginebra, 5 de marzo de 2024"],
    ["REFERENCIA", "PARTE", "MEDIDA", "RESPONSABLE", "FECHA LÍMITE", "ESTADO", "OBSERVACIONES"],
    ["1.1", "Parte I - Gobernanza", "Revisar el reglamento financiero", "fin", "by end-2024", "en curso", "Ver anexo"],
    ["1.2", None, "Publicar las cuentas", "fin", date(2024, 9, 30), None, None],
]


@pytest.mark.parametrize("rows", [FRENCH, SPANISH], ids=["french", "spanish"])
def test_french_and_spanish_headings_any_case_and_accents(tmp_path: Path, rows: list[list[Cell]]) -> None:
    doc = sheets.read(write_xlsx(tmp_path / "plan.xlsx", {"Plan": rows}))
    assert (doc.plan.ref_date, doc.plan.timezone) == (date(2024, 3, 5), "Europe/Zurich")
    as_date_cell = sheets.read(write_xlsx(tmp_path / "cell.xlsx", {"Plan": [[date(2024, 3, 5)], *rows[1:]]}))
    assert as_date_cell.plan.ref_date == date(2024, 3, 5)
    first, second = doc.actions
    assert (first.ref, first.section_key, first.owner, first.status) == ("1.1", "I", "fin", rows[-2][5])
    assert first.title == rows[-2][2]
    assert first.status_note == rows[-2][6]
    assert (second.ref, second.section_key, second.timeframe) == ("1.2", "I", "30 September 2024")
    assert readings(doc)["1.2"][2] == date(2024, 9, 30)


def test_columns_name_headings_the_reader_does_not_know(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [
        ["Rome, 1 July 2025."],
        ["Code", "What we will do", "Responsible", "Target date"],
        ["X1", "Train the staff", "hr", "by end-2025"],
    ]
    path = write_xlsx(tmp_path / "plan.xlsx", {"Plan": rows})
    doc = sheets.read(path, columns=sheets.parse_columns("timeframe=Target date,title=What we will do,ref=Code"))
    assert [(a.ref, a.title, a.timeframe) for a in doc.actions] == [("X1", "Train the staff", "by end-2025")]
    assert doc.plan.timezone == "Europe/Rome"
    with pytest.raises(InputError, match=r"no time-frame column.*'Code', 'What we will do'.*headed 'Finish'"):
        sheets.read(path, columns=sheets.parse_columns("timeframe=Finish"))
    with pytest.raises(InputError, match="FIELD=HEADING"):
        sheets.parse_columns("when")


def test_merged_part_and_section_cells_apply_to_each_row(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [
        ["Geneva, 28 September 1999."],
        ["Part", "Issue", "Action", "Time frame"],
        ["Part I -- Relevance", "1. Needs", "Assess the needs", "By end 2000"],
        [None, None, "Publish the assessment", "Completed by April 2000"],
        [None, "2. Funds", "Seek funds", "Continuously"],
        ["Part II -- Quality", "1. Staff", "Train staff", "within six months"],
        [None, None, "Review training", None],
    ]
    # Merged ranges: Part I over rows 3-5, issue 1 over rows 3-4, Part II over 6-7, a time frame over 6-7.
    xlsx = write_xlsx(tmp_path / "m.xlsx", {"Plan": rows}, merges=["A3:A5", "B3:B4", "A6:A7", "B6:B7", "D6:D7"])
    ods = write_ods(tmp_path / "m.ods", {"Plan": rows}, spans={(3, 1): 3, (3, 2): 2, (6, 1): 2, (6, 2): 2, (6, 4): 2})
    for path in (xlsx, ods):
        doc = sheets.read(path)
        assert [(a.ref, a.timeframe) for a in doc.actions] == [
            ("I.1.1", "By end 2000"),
            ("I.1.2", "Completed by April 2000"),
            ("I.2.1", "Continuously"),
            ("II.1.1", "within six months"),
            ("II.1.2", "within six months"),  # the merged time-frame cell applies to both rows
        ], path.name
        assert [s.key for s in doc.sections] == ["I", "I.1", "I.2", "II", "II.1"]


def test_one_part_a_sheet_or_one_sheet_by_name(tmp_path: Path) -> None:
    header: list[Cell] = ["Ref", "Action", "Deadline"]
    book = {
        "Part A - Finance": [["Geneva, 1 March 2026."], header, ["F1", "Close the accounts", "by end-2026"]],
        "Notes": [["Anything the secretariat keeps here"]],
        "Part B - Staff": [
            ["Geneva, 1 March 2026."],
            header,
            ["S1", "Hire", "within three months"],
            ["S2", "Train", "within a year"],
        ],
    }
    for path in (write_xlsx(tmp_path / "s.xlsx", book), write_ods(tmp_path / "s.ods", book)):
        doc = sheets.read(path)
        assert [(s.key, s.title) for s in doc.sections] == [("A", "Finance"), ("B", "Staff")]
        assert [(a.ref, a.section_key) for a in doc.actions] == [("F1", "A"), ("S1", "B"), ("S2", "B")]
        only = sheets.read(path, sheet="Part B - Staff")
        assert [a.ref for a in only.actions] == ["S1", "S2"]
        with pytest.raises(InputError, match=r"no sheet named 'Staff'.*'Part A - Finance'"):
            sheets.read(path, sheet="Staff")


def test_a_sheet_without_parts_or_references_gets_readable_ids(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [
        ["Nairobi, 2 January 2026."],
        ["Action", "Owner", "Due"],
        ["Open the office", "ops", "by March 2026"],
        ["Hire staff", None, "within six months"],
    ]
    path = write_csv(tmp_path / "follow-up.csv", rows, delimiter=",", encoding="utf-8")
    doc = sheets.read(path)
    assert [a.ref for a in doc.actions] == ["follow-up.1", "follow-up.2"]
    assert doc.plan.id == "follow-up"
    assert doc.plan.timezone == "Africa/Nairobi"
    assert doc.actions[1].owner is None


def test_a_long_measure_is_the_description_and_its_first_sentence_the_title(tmp_path: Path) -> None:
    long = "Strengthen the field structure. " + "The Office will review each country office's capacity. " * 5
    rows: list[list[Cell]] = [["Lima, 1 May 2026."], ["Measure", "Time frame"], [long, "by end-2026"]]
    doc = sheets.read(write_xlsx(tmp_path / "l.xlsx", {"Plan": rows}))
    assert doc.actions[0].title == "Strengthen the field structure."
    assert doc.actions[0].description == long.strip()


def test_title_rows_that_mention_headings_are_not_the_header(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [
        ["Deadline: the Office reports in June"],
        ["Geneva, 1 March 2026.", "Due dates in the table are indicative"],
        ["Ref", "Action", "Time frame (indicative)", "Responsible unit(s)"],
        ["R1", "Report", "by June 2026", "ops"],
    ]
    doc = sheets.read(write_xlsx(tmp_path / "t.xlsx", {"Plan": rows}))
    assert [(a.ref, a.title, a.timeframe, a.owner) for a in doc.actions] == [("R1", "Report", "by June 2026", "ops")]
    assert doc.plan.title == "Deadline: the Office reports in June"


def test_headings_merged_across_the_table(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [
        ["Geneva, 28 September 1999."],
        ["Ref", "Action", "Time frame"],
        ["Part II -- Quality", None, None],
        ["3. Evaluation", None, None],
        ["R1", "Evaluate the projects", "by end-2000"],
        ["(a) Follow-up", None, None],
        ["R2", "Follow the evaluations up", "Continuously"],
    ]
    path = write_xlsx(tmp_path / "h.xlsx", {"Plan": rows}, merges=["A3:C3", "A4:C4", "A6:C6"])
    doc = sheets.read(path)
    assert [(a.ref, a.section_key, a.title) for a in doc.actions] == [
        ("R1", "II.3", "Evaluate the projects"),
        ("R2", "II.a", "Follow the evaluations up"),
    ]
    assert [(s.key, s.parent_key, s.title) for s in doc.sections] == [
        ("II", None, "Quality"),
        ("II.3", "II", "Evaluation"),
        ("II.a", "II.3", "Follow-up"),
    ]
