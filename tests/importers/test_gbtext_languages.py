"""Governing Body papers in French and Spanish, converted to text: the same layout in the paper's own words."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from engine.actions.resolve import resolve_plan
from engine.errors import InputError
from engine.importers import gbtext
from engine.importing import detect
from engine.plandoc import PlanDocument
from engine.store import make_engine
from engine.store.models import Action, Plan

from ..conftest import snapshot

DATA = Path(__file__).parent / "data"
FRENCH = DATA / "gb350-pfa7-plan-fr.txt"
SPANISH = DATA / "gb350-pfa7-plan-es.txt"

# (id, time frame as printed, kind, due or start): read from the files by eye.
FRENCH_ROWS = [
    ("A.1.1", "D'ici juin 2024", "deadline", date(2024, 6, 30)),
    ("A.1.2", "À partir de juillet 2024", "start", date(2024, 7, 1)),
    ("A.1.3", "Chaque trimestre", "recurring", None),
    ("A.2.1", "D'ici fin 2024", "deadline", date(2024, 12, 31)),
    ("B.1.1", "Au plus tard le 30 septembre 2024", "deadline", date(2024, 9, 30)),
    ("B.1.2", "Tous les ans", "recurring", None),
]
SPANISH_ROWS = [
    ("A.1.1", "A más tardar en junio de 2024", "deadline", date(2024, 6, 30)),
    ("A.1.2", "A partir de julio de 2024", "start", date(2024, 7, 1)),
    ("A.1.3", "Cada trimestre", "recurring", None),
    ("A.2.1", "Para finales de 2024", "deadline", date(2024, 12, 31)),
    ("B.1.1", "A más tardar el 30 de septiembre de 2024", "deadline", date(2024, 9, 30)),
    ("B.1.2", "Anualmente", "recurring", None),
]
PAPERS = [
    pytest.param(FRENCH, "fr", "Genève", FRENCH_ROWS, id="fr"),
    pytest.param(SPANISH, "es", "Ginebra", SPANISH_ROWS, id="es"),
]


def _parse(path: Path, text: str | None = None) -> PlanDocument:
    return gbtext.parse(path.read_text(encoding="utf-8") if text is None else text, path.name)


@pytest.mark.parametrize(("path", "language", "place", "rows"), PAPERS)
def test_the_paper_is_read_with_its_place_date_language_and_title(
    path: Path, language: str, place: str, rows: list[tuple[str, str, str, date | None]]
) -> None:
    plan = _parse(path).plan
    assert detect(path)[0] == "gbtext"
    assert (plan.symbol, plan.place, plan.ref_date, plan.timezone) == (
        "GB.350/PFA/7",
        place,
        date(2024, 3, 4),
        "Europe/Zurich",
    )
    assert plan.language == language
    assert plan.title.startswith({"fr": "Suite donnée aux", "es": "Curso dado a las"}[language])
    assert plan.body.startswith({"fr": "Section du programme", "es": "Sección de Programa"}[language])


@pytest.mark.parametrize(("path", "language", "place", "rows"), PAPERS)
def test_parts_and_issues_under_the_papers_own_words(
    path: Path, language: str, place: str, rows: list[tuple[str, str, str, date | None]]
) -> None:
    doc = _parse(path)
    parts = {"fr": ["Gestion financière et rapports", "Contrôle et gestion des risques"]}
    parts["es"] = ["Gestión financiera y presentación de informes", "Supervisión y gestión de riesgos"]
    got = [(s.key, s.title) for s in doc.sections if s.level == "part"]
    assert got == list(zip("AB", parts[language], strict=True))
    assert [(s.key, s.parent_key) for s in doc.sections if s.level == "issue"] == [
        ("A.1", "A"),
        ("A.2", "A"),
        ("B.1", "B"),
    ]
    # Both header rows are found: 'Calendrier'/'Calendario' in Part A, the upper-case 'DÉLAI'/'PLAZO' in Part B.
    assert [a.ref for a in doc.actions] == [ref for ref, *_ in rows]
    assert all(a.description.count("\n\n") == 1 for a in doc.actions)  # the measure, then its responsible unit


@pytest.mark.parametrize(("path", "language", "place", "rows"), PAPERS)
def test_time_frames_are_read_in_the_papers_language(
    path: Path, language: str, place: str, rows: list[tuple[str, str, str, date | None]]
) -> None:
    doc = _parse(path)
    readings = resolve_plan(doc.actions, doc.sections, doc.plan.ref_date, None, (), language=doc.plan.language)
    got = []
    for action in doc.actions:
        reading = readings[action.ref]
        assert not reading["needs_review"], reading["reason"]
        got.append((action.ref, action.timeframe, reading["kind"], reading.get("due") or reading.get("start")))
    assert got == rows


@pytest.mark.parametrize(("path", "language", "place", "rows"), PAPERS)
def test_imported_the_plan_keeps_its_language_and_dates(  # type: ignore[no-untyped-def]
    cli, path: Path, language: str, place: str, rows: list[tuple[str, str, str, date | None]]
) -> None:
    assert cli("import", str(path)).code == 0
    engine = make_engine(cli.url)
    with Session(engine) as session:
        plan = session.exec(select(Plan)).one()
        actions = session.exec(select(Action).order_by(Action.ordinal)).all()
        stored = [(a.ref, a.timeframe, a.kind, a.due or a.start) for a in actions]
        assert (plan.language, plan.timezone, plan.ref_date) == (language, "Europe/Zurich", date(2024, 3, 4))
    engine.dispose()
    assert stored == rows


@pytest.mark.parametrize(
    ("path", "good", "bad", "expected"),
    [
        (FRENCH, "Partie B -- Contrôle", "Partie: Contrôle", "'Partie A -- Gestion financière | ||'"),
        (SPANISH, "Parte B -- Supervisión", "Parte: Supervisión", "'Parte A -- Gestión financiera | ||'"),
    ],
)
def test_a_bad_line_names_its_line_and_the_papers_forms(path: Path, good: str, bad: str, expected: str) -> None:
    text = path.read_text(encoding="utf-8").replace(good, bad, 1)
    number = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(bad))
    with pytest.raises(InputError) as info:
        _parse(path, text)
    message = str(info.value)
    assert message.startswith(f"{path.name}:{number}:1: unexpected line {text.splitlines()[number - 1][:40]!r}; ")
    assert expected in message
    assert ("'CALENDRIER | |'" if path == FRENCH else "'CALENDARIO | |'") in message


@pytest.mark.parametrize("path", [FRENCH, SPANISH], ids=["fr", "es"])
def test_a_bad_line_on_import_is_one_line_exit_2_and_nothing_written(cli, path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8").replace("FINANCE |\n", "FINANCE |x| |\n", 1)
    bad = tmp_path / path.name
    bad.write_text(text, encoding="utf-8")
    number = text.splitlines().index("FINANCE |x| |") + 1
    assert cli("import", "plans/owners.yaml").code == 0
    before = snapshot(cli.url)
    result = cli("import", str(bad))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and f"{path.name}:{number}:1: unexpected line 'FINANCE |x| |'" in lines[0], result.err
    assert snapshot(cli.url) == before


def test_a_paper_without_its_appendix_line_says_the_word_in_each_language() -> None:
    text = FRENCH.read_text(encoding="utf-8").replace("\nAnnexe\n", "\n")
    with pytest.raises(InputError) as info:
        gbtext.parse(text + "\n| |\n", "p.txt")
    assert "expected a line 'Appendix' (in a French paper 'Annexe', in a Spanish one 'Anexo')" in str(info.value)


@pytest.mark.parametrize(("word", "language"), [("Appendice", "fr"), ("Apéndice", "es"), ("Annexe", "fr")])
def test_every_appendix_word_is_read(word: str, language: str) -> None:
    source = FRENCH if language == "fr" else SPANISH
    text = source.read_text(encoding="utf-8").replace({"fr": "\nAnnexe\n", "es": "\nAnexo\n"}[language], f"\n{word}\n")
    assert gbtext.looks_like(text)
    doc = gbtext.parse(text, "p.txt")
    assert (doc.plan.language, len(doc.actions)) == (language, 6)


def test_an_english_paper_leaves_the_language_to_its_time_frames() -> None:
    root = Path(__file__).parents[2]
    doc = gbtext.parse((root / "plans" / "gb276-tc2-implementation-plan.txt").read_text(encoding="utf-8"), "p.txt")
    assert doc.plan.language == ""


@pytest.mark.parametrize(
    ("line", "key", "title"),
    [
        ("Partie I -- Gestion", "I", "Gestion"),
        ("PARTIE II : Contrôle", "II", "Contrôle"),
        ("Parte 3. Personal", "3", "Personal"),
        ("Sección 1 - Informes", "1", "Informes"),
        ("SECCIÓN b: Presupuesto", "B", "Presupuesto"),
    ],
)
def test_french_and_spanish_part_lines(line: str, key: str, title: str) -> None:
    heading = "1. Une question" if key not in "AB" else f"{key}.1 Une question"
    text = (
        "GB.1/X/1\nGenève, le 4 mars 2024.\nAnnexe\n"
        f"{line} | ||\n| ||\nQuestions |\nMesures |\nDélai |\n| ||\n{heading} |\nLe contexte. |\n|\n"
        "Une mesure |\nD'ici juin 2024 | |\n"
    )
    doc = gbtext.parse(text, "p.txt")
    assert [(s.key, s.title) for s in doc.sections if s.level == "part"] == [(key, title)]
    assert [(a.title, a.timeframe) for a in doc.actions] == [("Une mesure", "D'ici juin 2024")]


@given(
    heading=st.sampled_from(
        ["Calendrier", "Délai", "Délais", "Échéancier", "Échéance", "Calendario", "Plazo", "Plazos", "Fecha límite"]
    ),
    case=st.sampled_from([str.upper, str.lower, str.title, lambda s: s]),
    accents=st.booleans(),
    padding=st.sampled_from(["", " ", " :", "*"]),
)
def test_time_frame_headings_in_any_case_with_or_without_accents(  # type: ignore[no-untyped-def]
    heading: str, case, accents: bool, padding: str
) -> None:
    bare = "".join(c for c in unicodedata.normalize("NFD", heading) if not unicodedata.combining(c))
    cell = case(heading if accents else bare) + padding
    assert gbtext.is_timeframe_heading(cell)


@pytest.mark.parametrize("cell", ["Mesures", "Unité responsable", "Calendrier des réunions", "Plazo medio"])
def test_other_cells_are_not_time_frame_headings(cell: str) -> None:
    assert not gbtext.is_timeframe_heading(cell)


@pytest.mark.parametrize(
    ("line", "place", "day"),
    [
        ("Genève, le 1er mars 2024.", "Genève", date(2024, 3, 1)),
        ("Ginebra, 1.º de marzo de 2024.", "Ginebra", date(2024, 3, 1)),
        ("Ginebra, 1º de setiembre de 2024", "Ginebra", date(2024, 9, 1)),
        ("GENÈVE, le 4 mars 2024.", "GENÈVE", date(2024, 3, 4)),
    ],
)
def test_french_and_spanish_date_lines_of_the_first_of_a_month(line: str, place: str, day: date) -> None:
    assert gbtext.date_line([line], "p.txt") == (place, day)


def test_a_paper_without_a_date_line_is_shown_one_in_each_language() -> None:
    with pytest.raises(InputError) as info:
        gbtext.date_line(["GB.1/X/1", "Annexe"], "p.txt")
    message = str(info.value)
    assert message.startswith("p.txt:1: expected the plan's date line")
    assert "'Genève, le 4 mars 2024.'" in message and "'Ginebra, 4 de marzo de 2024.'" in message


@pytest.mark.parametrize("builder", ["docx", "pdf"])
@pytest.mark.parametrize(
    ("path", "language", "appendix", "rows"),
    [
        pytest.param(FRENCH, "fr", "Annexe", FRENCH_ROWS, id="fr"),
        pytest.param(SPANISH, "es", "Anexo", SPANISH_ROWS, id="es"),
    ],
)
def test_a_word_or_pdf_paper_finds_its_annex_and_reads_in_its_language(
    tmp_path: Path,
    builder: str,
    path: Path,
    language: str,
    appendix: str,
    rows: list[tuple[str, str, str, date | None]],
) -> None:
    from engine.importers import docx, pdf

    from .documents import write_docx, write_pdf

    paper = _parse(path)
    if builder == "docx":
        doc = docx.read(write_docx(paper, tmp_path / "plan.docx", appendix=appendix))
    else:
        doc = pdf.read(write_pdf(paper, tmp_path / "plan.pdf", appendix=appendix))
    assert doc.plan.language == language
    assert appendix not in doc.plan.body and [a.ref for a in doc.actions] == [r[0] for r in rows]
    readings = resolve_plan(doc.actions, doc.sections, doc.plan.ref_date, None, (), language=doc.plan.language)
    assert [
        (a.ref, readings[a.ref]["kind"], readings[a.ref].get("due") or readings[a.ref].get("start"))
        for a in doc.actions
    ] == [(ref, kind, when) for ref, _text, kind, when in rows]
