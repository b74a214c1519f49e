"""One plan, every format (``engine.importing``): the example plan imported from its text, Word, spreadsheet and
PDF versions stores the same actions, texts, readings and ids, and its YAML export imports back to them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from engine.importers import gbtext
from engine.importing import import_paths
from engine.plandoc import PlanDocument
from engine.read.export import export_plan
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.models import Action, Plan, Section
from engine.store.plans import ImportReport

from .conftest import OWNERS, ROOT, SEED
from .importers.documents import (
    HEADER,
    SECOND,
    SECOND_HEADERS,
    plan_rows,
    second_plan_sheets,
    write_csv,
    write_docx,
    write_ods,
    write_pdf,
    write_xlsx,
)
from .web_support import T0

FIELDS = (
    "ref",
    "section_key",
    "subheading",
    "ordinal",
    "title",
    "description",
    "timeframe",
    "timeframe_proposed",
    "owner_id",
    "owner_source",
    "kind",
    "start",
    "due",
    "rrule",
    "milestones",
    "event",
    "after_ref",
    "needs_review",
    "reason",
)

SHEET_LOSES = ("subheading", "description")


def _without(rows: list[tuple[object, ...]], fields: tuple[str, ...]) -> list[tuple[object, ...]]:
    keep = [i for i, f in enumerate(FIELDS) if f not in fields]
    return [tuple(row[i] for i in keep) for row in rows]


def _text(path: Path) -> PlanDocument:
    return gbtext.parse(path.read_text(encoding="utf-8"), str(path))


def _stored(url: str, plan_id: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], tuple[object, ...]]:
    """Import nothing; return the stored actions, sections and plan identity of ``plan_id``."""
    engine = make_engine(url)
    with transaction(engine) as session:
        actions = session.exec(select(Action).where(Action.plan_id == plan_id).order_by(Action.ordinal)).all()
        sections = session.exec(select(Section).where(Section.plan_id == plan_id).order_by(Section.ordinal)).all()
        plan = session.get(Plan, plan_id)
        assert plan is not None
        found = (
            [tuple(getattr(a, f) for f in FIELDS) for a in actions],
            [(s.key, s.parent_key, s.level, s.number, s.title) for s in sections],
            (plan.id, plan.symbol, plan.title, plan.ref_date, plan.timezone),
        )
    engine.dispose()
    return found


def _import(tmp_path: Path, name: str, plan: Path) -> str:
    """Import the owners and ``plan`` into a new SQLite database; return its URL."""
    url = f"sqlite:///{tmp_path / name}.db"
    engine = make_engine(url)
    upgrade(engine)
    import_paths(engine, [OWNERS, plan], Settings(database_url=url, rules_dir=ROOT / "rules"), T0)
    engine.dispose()
    return url


def _export(url: str, plan_id: str, path: Path) -> Path:
    engine = make_engine(url)
    with transaction(engine) as session:
        text, _ = export_plan(session, plan_id)
    engine.dispose()
    path.write_text(text, encoding="utf-8")
    return path


def _versions(tmp_path: Path) -> dict[str, Path]:
    doc = _text(SEED)
    front = [[doc.plan.symbol], [doc.plan.title], ["Geneva, 28 September 1999."]]  # the rows above the table
    return {
        "docx": write_docx(doc, tmp_path / "plan.docx"),
        "pdf": write_pdf(doc, tmp_path / "plan.pdf"),
        "xlsx": write_xlsx(tmp_path / "plan.xlsx", {"Plan": [*front, [], HEADER, *plan_rows(doc)]}),
    }


@pytest.fixture(scope="module")
def from_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _import(tmp_path_factory.mktemp("text"), "text", SEED)


@pytest.mark.parametrize("fmt", ["docx", "pdf", "xlsx"])
def test_every_format_of_the_example_plan_stores_what_its_text_stores(fmt: str, tmp_path: Path, from_text: str) -> None:
    url = _import(tmp_path, fmt, _versions(tmp_path)[fmt])
    actions, sections, plan = _stored(url, "gb276-tc2")
    text_actions, text_sections, text_plan = _stored(from_text, "gb276-tc2")
    assert plan == text_plan
    assert len(actions) == 69
    assert [a[0] for a in actions] == [a[0] for a in text_actions]  # the same ids, in the same order
    if fmt == "xlsx":  # a follow-up sheet (one row per action) keeps no issue context and no sub-headings
        actions, text_actions = _without(actions, SHEET_LOSES), _without(text_actions, SHEET_LOSES)
    else:
        assert sections == text_sections
    assert actions == text_actions  # titles, time frames, readings, review flags and reasons, owners by rule


@pytest.mark.parametrize("fmt", ["text", "docx", "pdf", "xlsx"])
def test_the_yaml_export_of_any_format_imports_back_to_the_same_actions(
    fmt: str, tmp_path: Path, from_text: str
) -> None:
    url = from_text if fmt == "text" else _import(tmp_path, fmt, _versions(tmp_path)[fmt])
    exported = _export(url, "gb276-tc2", tmp_path / f"{fmt}.yaml")
    again = _import(tmp_path, f"{fmt}-again", exported)
    actions, _sections, plan = _stored(again, "gb276-tc2")
    text_actions, _text_sections, text_plan = _stored(from_text, "gb276-tc2")
    assert plan == text_plan
    if fmt == "xlsx":
        actions, text_actions = _without(actions, SHEET_LOSES), _without(text_actions, SHEET_LOSES)
    assert actions == text_actions
    if fmt != "text":  # the usual round trip: export, edit, import into the same database; here nothing is edited
        engine = make_engine(url)
        (report,) = import_paths(engine, [exported], Settings(database_url=url, rules_dir=ROOT / "rules"), T0)
        engine.dispose()
        assert isinstance(report, ImportReport) and not report.changed and not report.warnings


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_the_second_plan_in_word_and_pdf_stores_what_its_text_stores(fmt: str, tmp_path: Path) -> None:
    doc = _text(SECOND)
    written = (write_docx if fmt == "docx" else write_pdf)(doc, tmp_path / f"pfa7.{fmt}", SECOND_HEADERS)
    by_text = _stored(_import(tmp_path, "text", SECOND), "gb350-pfa7")
    by_file = _stored(_import(tmp_path, fmt, written), "gb350-pfa7")
    assert len(by_file[0]) == 17
    assert by_file == by_text
    exported = _export(_import(tmp_path, "file", written), "gb350-pfa7", tmp_path / "pfa7.yaml")
    assert _stored(_import(tmp_path, "yaml", exported), "gb350-pfa7")[0] == by_text[0]


def _second_as_sheet(fmt: str, path: Path) -> Path:
    """The second plan as a follow-up workbook, one sheet a Part with that Part's headings; as a .csv, one table
    under Part A's headings."""
    by_part = second_plan_sheets(_text(SECOND), SECOND_HEADERS)
    if fmt == "xlsx":
        return write_xlsx(path, by_part)
    if fmt == "ods":
        return write_ods(path, by_part)
    first, *others = by_part.values()
    return write_csv(path, [*first, *(row for rows in others for row in rows[5:])], delimiter=",")


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
def test_the_second_plan_as_a_spreadsheet_stores_what_its_text_stores(fmt: str, tmp_path: Path) -> None:
    written = _second_as_sheet(fmt, tmp_path / f"pfa7.{fmt}")
    if fmt == "csv":
        assert written.read_text(encoding="utf-8").count("Recommendations,Measures envisaged,Target date") == 1
    actions, sections, plan = _stored(_import(tmp_path, fmt, written), "gb350-pfa7")
    text_actions, text_sections, text_plan = _stored(_import(tmp_path, "text", SECOND), "gb350-pfa7")
    assert plan == text_plan == ("gb350-pfa7", "GB.350/PFA/7", text_plan[2], date(2024, 3, 4), "Europe/Zurich")
    assert len(actions) == 17
    assert sections == text_sections  # Parts A to C, issues A.1 to C.2 keyed as in the text
    assert [a[0] for a in actions] == [a[0] for a in text_actions]
    assert _without(actions, SHEET_LOSES) == _without(text_actions, SHEET_LOSES)  # texts, readings, review
    review = [a for a in actions if a[FIELDS.index("needs_review")]]
    assert [(a[0], a[FIELDS.index("timeframe_proposed")]) for a in review] == [("B.1.2", "By September 2024")]


def test_a_text_plans_import_starts_without_the_other_formats_readers(tmp_path: Path) -> None:
    import subprocess
    import sys

    from engine.importers import sheets
    from engine.importing import SHEET_SUFFIXES

    assert set(sheets.SUFFIXES) == SHEET_SUFFIXES  # the names detect sends to the spreadsheet reader
    script = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from pathlib import Path\n"
        "from engine.importing import import_paths, sheet_options\n"
        "assert sheet_options(None, None, None, None)['columns'] == {}\n"
        "from engine.settings import Settings\n"
        "from engine.store import make_engine\n"
        f"settings = Settings(database_url='sqlite:///{tmp_path / 'p.db'}', rules_dir=Path({str(ROOT / 'rules')!r}))\n"
        f"import_paths(make_engine(settings.database_url), [Path({str(SEED)!r})], settings,"
        " datetime(2000, 1, 1, tzinfo=UTC))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[-1] in {'sheets', 'pdf', 'planyaml'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
