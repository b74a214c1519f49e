"""The commands that read what happened: outbox, escalations, why and report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ...conftest import snapshot

PLAN = "plans/gb276-tc2-implementation-plan.txt"


@pytest.fixture
def plan(cli):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli


def jsonl(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines()]


def test_why_explains_policy_and_messages(plan) -> None:  # type: ignore[no-untyped-def]
    plan("simulate", "--from", "1999-09-28", "--until", "2000-05-31", "--commit")
    out = plan("why", "I.1a.1").out
    assert "policy 'deadlines'" in out and "remind:due:30d" in out and "Messages about I.1a.1" in out


def test_why_shows_when_each_message_was_planned_and_when_it_was_sent(plan) -> None:  # type: ignore[no-untyped-def]
    plan("simulate", "--from", "1999-09-28", "--until", "2000-05-31", "--commit")
    out = plan("why", "I.1a.1").out
    assert "planned (UTC)" in out and "sent (UTC)" in out
    assert out.count("2000-03-31 07:00") == 2  # the 30-day reminder: planned for, and sent at, 09:00 in Geneva


def test_why_unknown_action_exits_2(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("why", "I.1a.9")
    assert result.code == 2 and result.err.startswith("planwatch: no action 'I.1a.9'")


def test_outbox_filters_by_status(plan) -> None:  # type: ignore[no-untyped-def]
    plan("simulate", "--from", "1999-09-28", "--until", "2000-05-31", "--commit")
    plan("not-mine", "I.2c.3", "--note", "belongs to EMP")
    every = jsonl(plan("outbox", "--json").out)
    sent = jsonl(plan("outbox", "--sent", "--json").out)
    pending = jsonl(plan("outbox", "--pending", "--json").out)
    assert sent and pending
    assert {r["status"] for r in sent} == {"sent"} and {r["status"] for r in pending} == {"pending"}
    assert sent == [r for r in every if r["status"] == "sent"]
    assert jsonl(plan("outbox", "--status", "pending", "--json").out) == pending
    assert plan("outbox", "--failed", "--json").out == ""
    table = plan("outbox", "--pending").out
    assert f"Outbox ({len(pending)})" in table and "tc-secretariat@example.org" in table


def test_escalations_on_a_fresh_plan_is_an_empty_log(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("escalations", "--json").out == ""
    assert plan("escalations", "--csv").out == "id\n"
    assert "Escalation log (0)" in plan("escalations").out
    bad = plan("escalations", "--since", "yesterday")
    assert bad.code == 2 and "--since: expected a date YYYY-MM-DD" in bad.err


def test_report_in_markdown_and_to_a_file(plan) -> None:  # type: ignore[no-untyped-def]
    printed = plan("report", "--as-of", "2000-12-31")
    assert printed.code == 0, printed.err
    assert printed.out.startswith("# Progress report: GB.276/TC/2\n")
    assert "As of 31 December 2000." in printed.out and "## Part I: " in printed.out
    written = plan("report", "--as-of", "2000-12-31", "--out", "report.md")
    assert written.out.strip() == "Wrote the report as of 2000-12-31 to report.md."
    assert Path("report.md").read_text(encoding="utf-8") == printed.out


def test_report_refuses_an_unknown_format_and_writes_nothing(plan) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    result = plan("report", "--as-of", "2000-12-31", "--format", "pdf", "--out", "report.pdf")
    assert result.code == 2
    assert result.err.strip() == "planwatch: --format: expected html or md, got 'pdf'"
    assert not Path("report.pdf").exists()
    assert snapshot(plan.url) == before


def test_report_takes_its_format_from_the_out_suffix_and_refuses_a_mismatch(plan) -> None:  # type: ignore[no-untyped-def]
    written = plan("report", "--as-of", "2000-12-31", "--out", "report.html")
    assert written.code == 0, written.err
    html = Path("report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "# Progress report" not in html
    clash = plan("report", "--as-of", "2000-12-31", "--format", "md", "--out", "other.html")
    assert clash.code == 2
    assert clash.err.strip() == "planwatch: --out: other.html names a html file but --format is md; make them agree"
    assert not Path("other.html").exists()


def test_the_implementation_report_in_every_format(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    import docx

    plan("simulate", "--from", "1999-09-28", "--until", "2000-05-31", "--commit")
    md = plan("report", "implementation", "--as-of", "2000-06-30", "--since", "2000-03-31")
    assert md.code == 0 and md.out.startswith("# GB.276/TC/2(Add.1): report on implementation")
    assert (
        "\n6. Since 31 March 2000, 0 actions have been newly implemented. 7 actions have become overdue " in md.out
        and "## By responsible unit" in md.out
    )  # nothing rated yet
    table = plan("report", "implementation", "--as-of", "2000-06-30", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(table.out)))
    assert len(rows) == 69 and rows[0]["ref"] == "I.1a.1" and rows[0]["unit"] == "Jonas Lindqvist"
    paper = tmp_path / "paper.docx"
    wrote = plan("report", "implementation", "--as-of", "2000-06-30", "--out", str(paper))
    assert wrote.code == 0 and "Wrote the implementation report as of 2000-06-30" in wrote.out
    assert docx.Document(str(paper)).paragraphs[1].text == "GB.276/TC/2(Add.1)"
    page = tmp_path / "paper.html"
    assert plan("report", "implementation", "--as-of", "2000-06-30", "--out", str(page)).code == 0
    assert page.read_text().startswith("<!doctype html>")
    assert plan("report", "--as-of", "2000-06-30").out.startswith("# Progress report: GB.276/TC/2")  # unchanged


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["report", "bogus", "--as-of", "2000-06-30"], "report: expected progress or implementation, got 'bogus'"),
        (["report", "--as-of", "2000-06-30", "--since", "2000-01-01"], "--since compares two days"),
        (["report", "implementation", "--as-of", "2000-06-30", "--since", "2000-07-01"], "is not before --as-of"),
        (["report", "implementation", "--as-of", "2000-06-30", "--format", "pdf"], "expected html, md, csv or docx"),
        (["report", "implementation", "--as-of", "2000-06-30", "--format", "docx"], "needs a file; add --out"),
        (["report", "implementation", "--as-of", "30/06/2000"], "--as-of"),
    ],
    ids=["kind", "since-progress", "since-later", "format", "docx-stdout", "date"],
)
def test_the_implementation_report_refuses_bad_input_with_exit_2(plan, args: list[str], words: str) -> None:  # type: ignore[no-untyped-def]
    result = plan(*args)
    assert result.code == 2 and words in result.err and result.out == ""


def test_the_implementation_report_compares_from_the_import_when_asked_for_an_earlier_day(plan) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()  # the import just made runs on the real clock
    as_of, asked = today + timedelta(days=2), today - timedelta(days=160)
    md = plan("report", "implementation", "--as-of", as_of.isoformat(), "--since", asked.isoformat())
    assert md.code == 0
    assert "planwatch has no record of this plan before " in md.out
    assert f"instead of {asked.day} " in md.out
    # no state is invented for the day before the import: the figures compared are the import day's
    assert f"On {asked.day} " not in md.out and f"Since {asked.day} " not in md.out
    assert "the rate was 0% (0 of 66)" in md.out  # every action stays accepted, none implemented yet
