"""CSV for spreadsheets: formulas defused, numbers and empty cells as they are, written in chunks; every CSV
planwatch writes (the CLI's escalation log, the web page's download) goes through it."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from engine.clock import FixedClock
from engine.read.csv_text import FORMULA_STARTS, csv_chunks, defuse
from engine.store import transaction
from engine.store.models import Action, Escalation
from engine.web import create_app

from ..conftest import ROOT
from ..web_support import NOW, sign_in, web_settings, web_world


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(start: str) -> None:
    assert defuse(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


def test_other_values_are_left_alone() -> None:
    assert defuse("plain = text") == "plain = text"
    assert defuse("") == ""
    assert defuse(-3) == -3 and defuse(None) is None


def test_chunks_hold_the_header_and_every_row_once() -> None:
    rows = [(n, f"=row {n}", None) for n in range(5)]
    chunks = list(csv_chunks(["id", "@title", "note"], rows, every=2))
    assert len(chunks) == 3 and all(chunks)  # rows 2, 4 and the rest
    read = list(csv.reader(io.StringIO("".join(chunks))))
    assert read[0] == ["id", "'@title", "note"]
    assert read[1:] == [[str(n), f"'=row {n}", ""] for n in range(5)]


def test_line_endings_are_chosen_and_a_round_number_of_rows_ends_with_an_empty_chunk() -> None:
    chunks = list(csv_chunks(["a"], [["x"], ["y"]], lineterminator="\n", every=2))
    assert chunks == ["a\nx\ny\n", ""]
    assert "".join(csv_chunks(["a"], [])) == "a\r\n"


# Every CSV planwatch writes: the escalation log from the CLI and the web page's download.
TITLES = {"I.1a.1": '=HYPERLINK("http://evil")', "I.2a.1": "+1+1", "I.2b.1": "-2+3", "III.d.1": "@SUM(A1)"}


def test_no_module_but_csv_text_writes_csv() -> None:
    writers = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        text = path.read_text()
        if path.name != "csv_text.py" and re.search(r"csv\.(writer|DictWriter)\b|from csv import", text):
            writers.append(str(path.relative_to(ROOT)))
    assert writers == []


def formulas_world(url: str) -> Engine:
    """The pages' example world with four titles that start a formula, each escalated with a note that does too."""
    engine = web_world(url)
    with transaction(engine) as session:
        for n, (ref, title) in enumerate(TITLES.items()):
            action = session.exec(select(Action).where(Action.ref == ref)).one()
            action.title = title
            session.add(action)
            assert action.id is not None
            entry = Escalation(
                key=f"formula-{n}",
                at=NOW,
                action_id=action.id,
                occurrence="2000-05-01",
                level=1,
                step="escalate:1",
                policy="default",
                recipients=["secretariat"],
                days_overdue=3,
                acknowledged_by="secretariat",
                acknowledged_at=NOW,
                ack_note=title,
            )
            session.add(entry)
    return engine


def assert_defused(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    titles = {row["title"] for row in rows}
    assert {f"'{title}" for title in TITLES.values()} <= titles
    assert not any(cell[:1] in FORMULA_STARTS for row in rows for cell in row.values() if cell)


def test_the_cli_escalation_log_defuses_formulas(cli) -> None:  # type: ignore[no-untyped-def]
    formulas_world(cli.url).dispose()
    printed = cli("escalations", "--csv")
    assert printed.code == 0, printed.err
    assert_defused(printed.out)
    notes = {row["note"] for row in csv.DictReader(io.StringIO(printed.out))}
    assert {f"'{title}" for title in TITLES.values()} <= notes


def test_the_web_download_defuses_formulas(database_url: str) -> None:
    engine = formulas_world(database_url)
    settings = web_settings(database_url)
    with TestClient(create_app(settings, clock=FixedClock(NOW), engine=engine)) as client:
        sign_in(client, settings, "secretariat")
        answer = client.get("/escalations.csv?state=all")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert_defused(answer.text)
    engine.dispose()
