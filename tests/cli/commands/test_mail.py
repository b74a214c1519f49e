"""The e-mail commands: templates check, send-test (over a real SMTP server), dispatch and preview."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest

from ...conftest import bring_pending_due, snapshot
from ...smtpserver import Recorder, free_port, smtp_server

PLAN = "plans/gb276-tc2-implementation-plan.txt"


@pytest.fixture
def plan(cli):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli


def jsonl(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines()]


def test_templates_check_passes_on_the_shipped_templates(cli) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(cli.url)
    result = cli("templates", "check")
    assert (result.code, result.err) == (0, "")
    assert result.out.strip().endswith("templates render, build and parse back: all good.")
    assert snapshot(cli.url) == before


def test_templates_check_names_the_broken_file_and_line(cli) -> None:  # type: ignore[no-untyped-def]
    Path("templates/email/reminder.txt.j2").write_text("Hello\n{% if %}\n", encoding="utf-8")
    result = cli("templates", "check")
    assert (result.code, result.out) == (2, "")
    first = result.err.splitlines()[0]
    assert first.startswith("templates/email/reminder.txt.j2:2: ")
    assert "Traceback" not in result.err


def test_send_test_delivers_a_sample_reminder_over_smtp(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    with smtp_server(recorder) as port:
        monkeypatch.setenv("PLANWATCH_SMTP_URL", f"smtp://127.0.0.1:{port}")
        result = cli("send-test", "--to", "me@example.org")
    assert result.code == 0, result.err
    assert result.out.strip().endswith("to me@example.org over SMTP.")
    [received] = recorder.received
    assert received.rcpt_tos == ["me@example.org"]
    assert str(received.message["Message-ID"]) in result.out


def test_send_test_when_the_server_is_unreachable_exits_1(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PLANWATCH_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    result = cli("send-test", "--to", "me@example.org")
    assert result.code == 1
    assert result.err.startswith("planwatch: the test message was not sent: ")


def test_dispatch_sends_what_is_pending_to_the_maildir(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("not-mine", "I.2c.3", "--note", "belongs to EMP").code == 0  # queues a message to the secretariat
    pending = jsonl(plan("outbox", "--pending", "--json").out)
    assert len(pending) == 1
    assert bring_pending_due(plan.url) == 1  # its recipient's working day has come
    result = plan("dispatch")
    assert result.code == 0, result.err
    assert result.out.startswith("Sent 1, failed 0, retrying 0, deferred 0")
    assert plan("outbox", "--pending", "--json").out == ""
    assert len(mailbox.Maildir(Path("out/maildir"), create=False)) == 1
    assert plan("dispatch").out.startswith("Sent 0, failed 0")


def test_preview_lists_the_day_and_records_nothing(plan) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    rows = jsonl(plan("preview", "--date", "2000-03-31", "--json").out)
    assert {(r["action"], r["type"]) for r in rows} >= {("I.1a.1", "reminder")}
    assert all(r["at"].startswith("2000-03-31") for r in rows)
    assert snapshot(plan.url) == before


def test_preview_refuses_a_bad_day(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("preview", "--date", "31.03.2000")
    assert result.code == 2
    assert result.err.strip() == "planwatch: --date: expected a date YYYY-MM-DD, got '31.03.2000'"


def test_outbox_retry_refuses_a_bad_day_or_action_with_one_line_and_changes_nothing(plan) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    bad_day = plan("outbox", "retry", "--failed", "--since", "2000-13-01")
    assert (
        bad_day.code == 2 and bad_day.err.strip() == "planwatch: --since: expected a date YYYY-MM-DD, got '2000-13-01'"
    )
    unknown = plan("outbox", "retry", "--action", "I.1a.99")
    assert unknown.code == 2 and "no action 'I.1a.99'" in unknown.err and len(unknown.err.splitlines()) == 1
    assert snapshot(plan.url) == before
    nothing = plan("outbox", "retry")
    assert nothing.code == 0 and "No failed message matches: nothing was put back." in nothing.out
