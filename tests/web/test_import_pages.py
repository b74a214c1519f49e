"""The secretariat's import page (``engine.web.import_pages``): upload, the preview of ``import --dry-run``, confirm."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import Engine, func
from sqlmodel import select

from engine.store import transaction
from engine.store.models import Action, Plan
from engine.web.import_pages import uploads_folder
from engine.web.templating import reading_words

from ..conftest import SEED
from ..importers.documents import SECOND, SECOND_HEADERS, readings, text_plan, write_docx, write_scanned_pdf
from ..web_support import csrf_of

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _upload(client: TestClient, path: Path, **fields: str) -> tuple[int, str]:
    token = csrf_of(client.get("/import").text)
    data = {"csrf": token, **fields}
    with path.open("rb") as f:
        answer = client.post("/import", data=data, files={"plan": (path.name, f, "application/octet-stream")})
    return answer.status_code, answer.text


def _token(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, "no upload token on the page"
    return found.group(1)


def _plans(engine: Engine) -> dict[str, int]:
    with transaction(engine) as session:
        rows = session.exec(select(Action.plan_id, func.count()).group_by(Action.plan_id)).all()
        return {plan: count for plan, count in rows}


def test_a_text_plan_is_previewed_then_imported_on_confirmation(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    admin = client("secretariat")
    form = admin.get("/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert 'href="/import" aria-current="page"' in form.text
    plan = tmp_path / "pfa7.txt"
    plan.write_text(SECOND.read_text(encoding="utf-8"), encoding="utf-8")
    status, html = _upload(admin, plan)
    assert status == 200, html
    doc = text_plan(SECOND)
    fields = readings(doc)
    assert "Preview of pfa7.txt" in html and "Part A — Financial management and reporting" in html
    for row in doc.actions:  # every action with its time frame and its reading, as import --dry-run reads them
        assert f'<th scope="row">{row.ref}</th>' in html
        assert reading_words(fields[row.ref], "en") in html
    assert "A new plan: nothing of it is stored yet." in html
    assert "gb350-pfa7" not in _plans(engine)  # the preview stored nothing
    token = _token(html)
    assert (uploads_folder() / token).is_dir()
    done = admin.post("/import/confirm", data={"csrf": csrf_of(html), "token": token})
    assert done.status_code == 200, done.text
    assert "gb350-pfa7: plan created, 17 actions." in done.text
    assert _plans(engine)["gb350-pfa7"] == len(doc.actions) == 17
    assert not (uploads_folder() / token).exists()
    with transaction(engine) as session:
        stored = session.get(Plan, "gb350-pfa7")
        assert stored is not None and stored.source == "pfa7.txt (uploaded by Technical Cooperation Secretariat)"
    again = admin.post("/import/confirm", data={"csrf": csrf_of(html), "token": token})
    assert again.status_code == 404 and "Upload the file again" in again.text


def test_a_word_plan_is_previewed_against_the_stored_plan_and_imported(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    admin = client("secretariat")
    second = write_docx(text_plan(SECOND), tmp_path / "plan of action.docx", SECOND_HEADERS)
    status, html = _upload(admin, second)
    assert status == 200, html
    assert "Preview of plan of action.docx" in html and "A.1.1" in html and "By June 2024" in html
    confirmed = admin.post("/import/confirm", data={"csrf": csrf_of(html), "token": _token(html)})
    assert "gb350-pfa7: plan created, 17 actions." in confirmed.text
    with transaction(engine) as session:
        first = session.exec(select(Action).where(Action.plan_id == "gb350-pfa7", Action.ref == "A.1.1")).one()
        assert first.title.startswith("Introduce a monthly expenditure report")
    status, html = _upload(admin, second)  # the same document again: the preview says nothing would change
    assert status == 200 and "Nothing would change." in html
    example = write_docx(text_plan(SEED), tmp_path / "example.docx")
    status, html = _upload(admin, example)
    assert status == 200 and "gb276-tc2" in html and "13 to review" in html
    assert "A new plan" not in html


def test_a_bad_file_shows_its_one_line_and_stores_nothing(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    admin = client("secretariat")
    before = _plans(engine)
    broken = tmp_path / "broken.txt"
    lines = SECOND.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Part B"))
    lines[at] = "Part: Oversight | ||"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, html = _upload(admin, broken)
    assert status == 400
    assert f"broken.txt:{at + 1}:1: unexpected line" in html
    assert "broken.txt was not imported; nothing was stored." in html
    assert str(uploads_folder()) not in html and 'name="token"' not in html
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"not a zip")
    status, html = _upload(admin, empty)
    assert status == 400 and "empty.docx" in html
    sheet = tmp_path / "follow-up.xlsx"
    book = Workbook()
    assert book.active is not None
    book.active.title = "Actions"
    book.active.append(["GB.350/PFA/7"])
    book.active.append(["Reference", "Part", "Action", "Owner"])  # no time-frame column
    book.active.append(["R1", "Part A -- Finance", "Introduce a monthly report", "FINANCE"])
    book.save(sheet)
    status, html = _upload(admin, sheet)
    assert status == 400 and "follow-up.xlsx:Actions!" in html and "follow-up.xlsx was not imported" in html
    status, html = _upload(admin, write_scanned_pdf(tmp_path / "scan.pdf"))
    assert status == 400 and "scan.pdf" in html and "text recognition" in html
    assert _plans(engine) == before


def test_an_unknown_place_is_to_review_and_a_zone_can_be_chosen(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, _engine, *_ = site
    admin = client("secretariat")
    plan = tmp_path / "atlantis.txt"
    plan.write_text(SECOND.read_text(encoding="utf-8").replace("Geneva, 4 March", "Atlantis, 4 March"), "utf-8")
    status, html = _upload(admin, plan)
    assert status == 200
    assert "To review: the plan's time zone." in html and "“Atlantis” is not a place planwatch knows" in html
    assert "time zone UTC" in html and "--tz" not in html
    again = admin.post(
        "/import/again", data={"csrf": csrf_of(html), "token": _token(html), "tz": "America/Lima", "sheet": ""}
    )
    assert again.status_code == 200 and "time zone America/Lima" in again.text
    assert "To review: the plan's time zone." not in again.text
    typo = admin.post("/import/again", data={"csrf": csrf_of(html), "token": _token(html), "tz": "Mars/Base"})
    assert typo.status_code == 400 and "Time zone: unknown time zone &#39;Mars/Base&#39;" in typo.text
    kept = admin.post("/import/again", data={"csrf": csrf_of(html), "token": _token(html), "tz": "Asia/Tokyo"})
    assert kept.status_code == 200 and "time zone Asia/Tokyo" in kept.text  # a wrong zone did not lose the upload


def test_a_plan_imported_with_an_unknown_place_is_in_review_on_the_plan_page(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, _engine, *_ = site
    admin = client("secretariat")
    plan = tmp_path / "atlantis.txt"
    plan.write_text(SECOND.read_text(encoding="utf-8").replace("Geneva, 4 March", "Atlantis, 4 March"), "utf-8")
    _status, html = _upload(admin, plan)
    done = admin.post("/import/confirm", data={"csrf": csrf_of(html), "token": _token(html)})
    assert "The plan is in review: its time zone was not recognised." in done.text and "--tz" not in done.text
    review = admin.get("/plan?plan=gb350-pfa7").text
    assert "The plan's time zone was not recognised" in review and "“Atlantis”" in review
    assert "The plan's time zone was not recognised" not in admin.get("/plan?plan=gb276-tc2").text
    _status, html = _upload(admin, plan, tz="Europe/Zurich")
    assert "time zone Europe/Zurich" in html
    admin.post("/import/confirm", data={"csrf": csrf_of(html), "token": _token(html)})
    assert "The plan's time zone was not recognised" not in admin.get("/plan?plan=gb350-pfa7").text


def test_only_the_secretariat_imports(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    owner = client("pardev")
    assert owner.get("/import").status_code == 403
    assert 'href="/import"' not in owner.get("/my").text
    token = csrf_of(owner.get("/my").text)
    with SECOND.open("rb") as f:
        refused = owner.post("/import", data={"csrf": token}, files={"plan": ("p.txt", f, "text/plain")})
    assert refused.status_code == 403
    admin = client("secretariat")
    status, html = _upload(admin, SECOND)
    assert status == 200
    stolen = owner.post("/import/confirm", data={"csrf": token, "token": _token(html)})
    assert stolen.status_code == 403
    assert client(None).get("/import").status_code == 401
    assert "gb350-pfa7" not in _plans(engine)


def test_every_post_needs_the_csrf_token(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    admin = client("secretariat")
    with SECOND.open("rb") as f:
        bare = admin.post("/import", data={"csrf": "forged"}, files={"plan": ("p.txt", f, "text/plain")})
    assert bare.status_code == 403 and "security token" in bare.text
    status, html = _upload(admin, SECOND)
    assert status == 200
    token = _token(html)
    assert admin.post("/import/confirm", data={"token": token}).status_code == 403
    assert admin.post("/import/again", data={"token": token, "tz": "UTC"}).status_code == 403
    assert "gb350-pfa7" not in _plans(engine)
    assert admin.post("/import/confirm", data={"csrf": csrf_of(html), "token": token}).status_code == 200
    assert "gb350-pfa7" in _plans(engine)


def _again(client: TestClient, html: str, **fields: str) -> tuple[int, str]:
    answer = client.post("/import/again", data={"csrf": csrf_of(html), "token": _token(html), **fields})
    return answer.status_code, answer.text


def test_a_csv_without_a_date_line_takes_the_plan_date_field(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    admin = client("secretariat")
    sheet = tmp_path / "follow-up.csv"
    sheet.write_text("Action,Deadline\nPublish the audit report,within six months\n", encoding="utf-8")
    status, html = _upload(admin, sheet)
    assert status == 400 and "follow-up.csv: no date for the plan" in html
    assert "give the plan&#39;s date in the Plan date field" in html and "--date" not in html
    assert 'name="date" type="date"' in html
    status, html = _upload(admin, sheet, date="2024-03-04")
    assert status == 200, html
    assert "Dated 4 March 2024" in html and "deadline due 4 September 2024" in html
    assert 'name="date" type="date" value="2024-03-04"' in html
    status, again = _again(admin, html, date="2024-05-01")
    assert status == 200 and "Dated 1 May 2024" in again and "deadline due 1 November 2024" in again
    status, bad = _again(admin, html, date="4 March")
    assert status == 400 and "Plan date: expected the plan&#39;s date as YYYY-MM-DD" in bad and "--date" not in bad
    dated = tmp_path / "dated.csv"
    dated.write_text("Geneva, 28 September 1999.\nAction,Deadline\nPublish it,within six months\n", encoding="utf-8")
    status, html = _upload(admin, dated, date="2024-03-04")
    assert status == 200 and "Dated 28 September 1999" in html
    assert "the file gives the plan&#39;s date as 1999-09-28; the Plan date 2024-03-04 was not used" in html
    assert "follow-up" not in _plans(engine)


def test_the_columns_and_encoding_fields_read_a_csv_as_the_options_do(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, _engine, *_ = site
    admin = client("secretariat")
    sheet = tmp_path / "suivi.csv"
    sheet.write_bytes(
        "Genève, le 4 mars 2024\nCe que nous ferons,Quand\nRédiger le rapport,by June 2024\n".encode("latin-1")
    )
    status, html = _upload(admin, sheet)
    assert status == 400 and "is not UTF-8" in html and "--encoding" not in html
    assert "import it again with latin-1 in the Encoding field" in html
    status, html = _upload(admin, sheet, encoding="latin-1")
    assert status == 400 and "suivi.csv:" in html and "no header row" in html
    status, html = _upload(admin, sheet, encoding="latin-1", columns="title=Ce que nous ferons,timeframe=Quand")
    assert status == 200, html
    assert "Rédiger le rapport" in html and "deadline due 30 June 2024" in html
    assert "Part  —" not in html and '<th scope="rowgroup" colspan="4">suivi</th>' in html  # no Parts: the file's name
    assert 'name="columns" type="text" value="title=Ce que nous ferons,timeframe=Quand"' in html
    status, html = _again(admin, html, encoding="latin-1", columns="when=Quand")
    assert status == 400 and "Columns: expected FIELD=HEADING" in html


def test_the_preview_shows_owner_changes_and_schedules_read_again(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, _engine, *_ = site
    admin = client("secretariat")
    sheet = tmp_path / "follow-up.csv"
    sheet.write_text("Reference,Action,Owner,Deadline\nR1,Publish the report,codev,within six months\n", "utf-8")
    status, html = _upload(admin, sheet, date="2024-03-04")
    assert status == 200, html
    admin.post("/import/confirm", data={"csrf": csrf_of(html), "token": _token(html)})
    sheet.write_text("Reference,Action,Owner,Deadline\nR1,Publish the report,pardev,within six months\n", "utf-8")
    status, html = _upload(admin, sheet, date="2024-05-01")
    assert status == 200, html
    assert "Owner changed: R1: Mei Tanaka → Rafael Quispe" in html
    assert "Schedule read again (same time frame, read differently now): R1" in html
    assert "Nothing would change." not in html
    done = admin.post("/import/confirm", data={"csrf": csrf_of(html), "token": _token(html)})
    assert "Owner changed: R1: Mei Tanaka → Rafael Quispe" in done.text


@pytest.mark.parametrize(
    ("language", "unscheduled", "event"),
    [
        ("en", "Read as unscheduled", "Read as tied to an event, 'next General Assembly'"),
        ("fr", "Lu comme non programmé", "Lu comme lié à un événement, «\u00a0next General Assembly\u00a0»"),
        ("es", "Leído como sin programar", "Leído como vinculado a un acontecimiento, «next General Assembly»"),
    ],
)
def test_the_preview_says_why_each_row_needs_review_in_the_readers_language(  # type: ignore[no-untyped-def]
    site, tmp_path: Path, language: str, unscheduled: str, event: str
) -> None:
    from markupsafe import escape

    from engine.store.models import Owner

    client, engine, *_ = site
    with transaction(engine) as session:
        person = session.get(Owner, "secretariat")
        assert person is not None
        person.language = language
        session.add(person)
    sheet = tmp_path / "suivi.csv"
    sheet.write_text(
        "Action,Deadline\nFund the audit,when funding allows\nBrief the members,after the next General Assembly\n",
        encoding="utf-8",
    )
    status, html = _upload(client("secretariat"), sheet, date="2024-03-04")
    assert status == 200, html
    review = html.split("</h2>\n<ul>", 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", review)
    assert len(items) == 2
    assert str(escape(unscheduled)) in items[0] and str(escape(event)) in items[1]
    assert language == "en" or "Read as" not in html
