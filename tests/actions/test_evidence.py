"""Evidence: files checked by name, first bytes and size, kept in the database or a folder by sha256; links."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from engine.actions.evidence import (
    EvidenceError,
    EvidenceStore,
    attach_file,
    attach_link,
    check_file,
    check_link,
    clean_name,
    content_of,
    disposition,
    evidence_for,
    evidence_of,
    megabytes,
    served_type,
)
from engine.store import transaction
from engine.store.followup_models import Evidence
from engine.store.models import Action

from ..web_support import NOW, web_world

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
EXE = b"MZ\x90\x00" + b"\x00" * 60


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Minutes of the meeting")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


@pytest.fixture
def world(database_url: str) -> Iterator[Engine]:
    engine = web_world(database_url)
    yield engine
    engine.dispose()


def _action(session: Session, ref: str) -> Action:
    return session.exec(select(Action).where(Action.ref == ref)).one()


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("report.pdf", PDF, "application/pdf"),
        ("photo.PNG", PNG, "image/png"),
        ("minutes.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("figures.xlsx", xlsx_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("notes.txt", b"Meeting held on 3 May; 14 offices trained.\n", "text/plain; charset=utf-8"),
        ("list.csv", b"office,trained\nLima,12\n", "text/csv; charset=utf-8"),
    ],
    ids=["pdf", "png", "docx", "xlsx", "txt", "csv"],
)
def test_files_of_the_accepted_types_pass(name: str, data: bytes, content_type: str) -> None:
    assert check_file(name, data) == (name, content_type)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tool.exe", EXE, "tool.exe: .exe files are not accepted as evidence; send PDF, Word (.docx)"),
        ("page.html", b"<html><script>x</script></html>", "page.html: .html files are not accepted"),
        ("README", b"text", "README: files without a type in their name are not accepted"),
        (
            "report.pdf",
            EXE,
            "report.pdf: the name says PDF, but its content is a .exe file; check it is the right file",
        ),
        ("report.pdf", b"just text", "report.pdf: the name says PDF, but its content is not a file of that type"),
        ("minutes.docx", PDF, "minutes.docx: the name says Word, but its content is a .pdf file"),
        ("notes.txt", PDF, "notes.txt: the name says plain text, but the file is not text"),
        ("notes.txt", b"\xff\xfe\x00bin", "notes.txt: the name says plain text, but the file is not text"),
        ("empty.pdf", b"", "empty.pdf: the file is empty; choose the file again"),
        ("", PDF, "the file has no name"),
    ],
    ids=[
        "exe",
        "html",
        "no-type",
        "exe-as-pdf",
        "text-as-pdf",
        "pdf-as-docx",
        "pdf-as-txt",
        "binary-txt",
        "empty",
        "no-name",
    ],
)
def test_other_files_are_refused_saying_why(name: str, data: bytes, message: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        check_file(name, data)
    assert message in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_file_over_the_limit_is_refused_with_both_sizes() -> None:
    with pytest.raises(EvidenceError, match=r"big\.pdf: the file is 2 MB, more than the 1 MB accepted; send a smaller"):
        check_file("big.pdf", PDF + b"0" * (2 * 1024 * 1024 - len(PDF)), max_bytes=1024 * 1024)
    assert check_file("ok.pdf", PDF, max_bytes=len(PDF)) == ("ok.pdf", "application/pdf")


def test_names_are_cleaned_of_paths_and_control_characters() -> None:
    assert clean_name("C:\\Users\\me\\report.pdf") == "report.pdf"
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name('a"b<c>\r\nd.pdf') == "abcd.pdf"
    long = clean_name("x" * 300 + ".pdf")
    assert len(long) == 120 and long.endswith(".pdf")
    assert (
        megabytes(800) == "800 bytes"
        and megabytes(800 * 1024) == "800 KB"
        and megabytes(int(2.5 * 1024 * 1024)) == "2.5 MB"
    )


@given(st.text(max_size=200))
def test_a_clean_name_never_holds_a_path_or_a_line_break(name: str) -> None:
    cleaned = clean_name(name)
    assert "/" not in cleaned and "\\" not in cleaned and len(cleaned) <= 120
    assert all(c.isprintable() for c in cleaned)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/report.pdf", True),
        ("http://intranet/minutes", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("example.org/report", False),
        ("https://exa mple.org/", False),
    ],
)
def test_links_must_be_web_addresses(url: str, ok: bool) -> None:
    if ok:
        assert check_link(url) == url
    else:
        with pytest.raises(EvidenceError, match="web address"):
            check_link(url)


def test_a_file_is_kept_in_the_database_without_a_folder(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "I.1a.1")
        row = attach_file(session, action, NOW, who="program", name="r.pdf", data=PDF, store=EvidenceStore())
        attach_link(session, action, NOW, who="program", url="https://example.org/r")
    with transaction(world) as session:
        action = _action(session, "I.1a.1")
        assert action.id is not None
        found = evidence_of(session, action.id)
        assert [(e.kind, e.name, e.size, e.stored_path) for e in found] == [
            ("file", "r.pdf", len(PDF), ""),
            ("link", "https://example.org/r", 0, ""),
        ]
        assert found[0].sha256 == hashlib.sha256(PDF).hexdigest()
        assert content_of(found[0], EvidenceStore()) == PDF
        assert row.id == found[0].id


def test_a_file_goes_to_the_folder_once_by_its_hash(world: Engine, tmp_path: Path) -> None:
    store = EvidenceStore(folder=tmp_path / "evidence")
    digest = hashlib.sha256(PDF).hexdigest()
    with transaction(world) as session:
        action = _action(session, "I.1a.1")
        first = attach_file(session, action, NOW, who="program", name="a.pdf", data=PDF, store=store, closure_id=7)
        second = attach_file(session, action, NOW, who="program", name="b.pdf", data=PDF, store=store, update_id=9)
    assert first.data is None and first.stored_path == f"{digest[:2]}/{digest}" == second.stored_path
    assert [p.name for p in (tmp_path / "evidence").rglob("*") if p.is_file()] == [digest]
    with transaction(world) as session:
        rows = evidence_for(session, closure_ids=[7], update_ids=[9])
        assert [(e.name, e.closure_id, e.update_id) for e in rows] == [("a.pdf", 7, None), ("b.pdf", None, 9)]
        assert content_of(rows[0], store) == PDF
    (tmp_path / "evidence" / first.stored_path).write_bytes(b"%PDF-changed")
    with pytest.raises(EvidenceError, match=r"a\.pdf: the file in the evidence folder was changed"):
        content_of(first, store)
    with pytest.raises(EvidenceError, match="no evidence folder is configured"):
        content_of(first, EvidenceStore())


def test_a_refused_file_leaves_nothing_behind(world: Engine, tmp_path: Path) -> None:
    store = EvidenceStore(folder=tmp_path / "evidence")
    with pytest.raises(EvidenceError), transaction(world) as session:
        attach_file(session, _action(session, "I.1a.1"), NOW, who="program", name="x.pdf", data=EXE, store=store)
    with transaction(world) as session:
        assert session.exec(select(Evidence)).all() == []
    assert not (tmp_path / "evidence").exists()


def test_files_are_served_as_attachments_with_their_checked_type() -> None:
    row = Evidence(action_id=1, name="Résumé “final”.pdf")
    assert served_type(row) == "application/pdf"
    assert served_type(Evidence(action_id=1, name="page.html")) == "application/octet-stream"
    header = disposition(row.name)
    assert header.startswith("attachment; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9")
