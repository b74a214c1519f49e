"""The implementation report's pages (``engine.web.report_pages``): the comparison view, the printable report,
the CSV and the Word paper, each for the secretariat and supervisors only and cut to the viewer's scope."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import docx

from engine.actions.followup import report_implemented, verify
from engine.actions.workflow import extend
from engine.read.queries import find_action
from engine.store import transaction

from ..web_support import XSS


def _life(engine) -> None:  # type: ignore[no-untyped-def]
    """I.2a.1 implemented and verified in March 2000; II.3.1 extended in April 2000."""
    with transaction(engine) as s:
        made = report_implemented(s, find_action(s, "I.2a.1"), datetime(2000, 3, 1, tzinfo=UTC), who="codev", via="web")
        assert made.report is not None and made.verifier is not None
        verify(s, made.report, datetime(2000, 3, 3, tzinfo=UTC), who=made.verifier.id, via="web")
        extend(s, find_action(s, "II.3.1"), date(2000, 12, 31), datetime(2000, 4, 2, tzinfo=UTC), who="ed-devcoop",
               via="web", reason="budget")  # fmt: skip


def test_the_comparison_view_sets_two_days_side_by_side(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    _life(engine)
    page = client("secretariat").get("/implementation?as_of=2000-06-01&since=2000-02-01")
    assert page.status_code == 200
    text = page.text
    assert 'name="since"' in text and 'value="2000-02-01"' in text and 'name="as_of"' in text
    assert "Side by side" in text and "Implementation by Part" in text and "By responsible unit" in text
    assert "1 action has been newly implemented (I.2a.1)" in text and "1 action has been extended (II.3.1)" in text
    later = client("secretariat").get("/implementation?as_of=2001-06-30").text
    assert "Overdue for more than twelve months" in later and "III.d.1" in later
    assert XSS not in later and "&lt;script&gt;" in later  # III.d.1's title, in the long-overdue list, is escaped
    alone = client("secretariat").get("/implementation?as_of=2000-06-01").text
    assert "Side by side" not in alone and 'value="1999-12-02"' in alone  # six months back is suggested


def test_a_day_before_the_plans_record_is_not_invented(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    page = client("secretariat").get("/implementation?as_of=2000-06-01&since=1990-01-01")
    assert page.status_code == 200
    assert "planwatch has no record of this plan before " in page.text and "instead of 1 January 1990." in page.text
    assert "On 1 January 1990" not in page.text and 'value="1990-01-01"' not in page.text


def test_an_owner_supervising_nobody_is_refused_and_a_supervisor_sees_their_scope(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    _life(engine)
    for path in ("/implementation", "/implementation/print", "/implementation.csv", "/implementation.docx"):
        refused = client("program").get(path + "?as_of=2000-06-01")
        assert refused.status_code == 403 and "secretariat and supervisors" in refused.text
        assert client(None).get(path).status_code == 401
    codev = client("codev").get("/implementation.csv?as_of=2000-06-01")
    refs = {row["ref"] for row in csv.DictReader(io.StringIO(codev.text))}
    assert "I.2a.1" in refs and "I.2b.1" in refs  # codev's own and ro-bangkok's
    assert "III.d.1" not in refs and "II.3.1" not in refs


def test_bad_dates_are_refused_with_what_was_expected(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    admin = client("secretariat")
    bad = admin.get("/implementation?as_of=31/12/2000")
    assert bad.status_code == 400 and "as_of: expected a date like 2001-12-31" in bad.text
    backwards = admin.get("/implementation?as_of=2000-06-01&since=2000-07-01")
    assert backwards.status_code == 400 and "is not before" in backwards.text


def test_the_printable_report_is_the_cli_report_and_the_downloads_open(site, cli) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    _life(engine)
    admin = client("secretariat")
    printed = admin.get("/implementation/print?as_of=2000-06-01&since=2000-02-01")
    made = cli("report", "implementation", "--as-of", "2000-06-01", "--since", "2000-02-01", "--format", "html")
    assert made.code == 0 and printed.text == made.out and "@media print" in printed.text
    paper = admin.get("/implementation.docx?as_of=2000-06-01")
    assert paper.headers["content-disposition"] == 'attachment; filename="implementation-2000-06-01.docx"'
    opened = docx.Document(io.BytesIO(paper.content))
    assert any(p.text == "GB.276/TC/2(Add.1)" for p in opened.paragraphs)
    table = admin.get("/implementation.csv?as_of=2000-06-01")
    rows = {r["ref"]: r for r in csv.DictReader(io.StringIO(table.text))}
    assert rows["I.2a.1"]["status as of"] == "implemented" and rows["I.2a.1"]["verified on"] == "2000-03-03"
    assert rows["II.3.1"]["extended to"] == "2000-12-31" and rows["II.3.1"]["extensions"] == "1"


def test_the_plan_page_links_the_report_for_those_who_may_read_it(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    assert 'href="/implementation?plan=gb276-tc2&amp;as_of=2000-06-01"' in client("ed-devcoop").get("/plan").text
    assert "/implementation?" not in client("program").get("/plan").text
