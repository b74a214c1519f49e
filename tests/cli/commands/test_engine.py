"""The engine's commands end to end: tick, run, simulate, status, and ``db upgrade|backup``."""

from __future__ import annotations

import json
import mailbox
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ...conftest import ROOT, bring_pending_due, snapshot

PLAN = "plans/gb276-tc2-implementation-plan.txt"
SIM_KEYS = {"at", "action", "recipient", "type", "level"}


@pytest.fixture
def plan(cli):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli


def jsonl(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines()]


def test_simulate_json_follows_the_contract_and_touches_nothing(plan) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    result = plan("simulate", "--from", "1999-09-28", "--until", "2000-06-30", "--json")
    assert result.code == 0, result.err
    rows = jsonl(result.out)
    assert len(rows) > 50
    assert all(r.keys() >= SIM_KEYS for r in rows)
    assert {r["type"] for r in rows} <= {"reminder", "checkin", "overdue", "escalation", "digest"}
    assert all(r["at"].endswith("Z") for r in rows)
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    first = next(r for r in rows if r["action"] == "I.1a.1")
    assert (first["type"], first["recipient"], first["at"]) == (
        "reminder",
        "jonas.lindqvist@example.org",
        "2000-03-31T07:00:00Z",
    )
    assert snapshot(plan.url) == before


def test_simulate_with_replay_and_commit_fills_the_outbox(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan(
        "simulate",
        "--from",
        "1999-09-28",
        "--until",
        "2000-12-31",
        "--replay",
        "plans/progress.yaml",
        "--commit",
        "--json",
    )
    assert result.code == 0, result.err
    sent = jsonl(plan("outbox", "--sent", "--json").out)
    assert len(sent) == len(jsonl(result.out)) > 0
    statuses = {r["status"] for r in jsonl(plan("outbox", "--json").out)}
    assert statuses <= {"sent", "suppressed", "digested", "held", "pending"}
    assert mailbox.Maildir(Path("out/maildir"), create=False).__len__() == len(sent)
    done = {r["id"]: r for r in jsonl(plan("actions", "--json").out)}
    assert done["I.1a.1"]["status"] == "done"


def test_simulate_table_ends_with_the_count(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("simulate", "--from", "2000-03-31", "--until", "2000-03-31")
    assert result.code == 0, result.err
    assert "I.1a.1" in result.out and "reminder" in result.out
    assert re.search(r"^\d+ notification\(s\) in \d+ ticks; 0 event\(s\) replayed\.$", result.out, re.M)


def test_simulate_says_which_messages_could_not_be_rendered(plan, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    rules, text = workdir / "rules" / "default.yaml", (workdir / "rules" / "default.yaml").read_text(encoding="utf-8")
    rules.write_text(text.replace("template: overdue", "template: overdu"), encoding="utf-8")
    result = plan("simulate", "--from", "2000-04-01", "--until", "2000-05-31")
    assert result.code == 0, result.err
    line = re.search(
        r"^(\d+) message\(s\) not sent: their template could not be rendered \(overdu\); first, (.*)$", result.out, re.M
    )
    assert line and int(line[1]) > 0, result.out
    assert "overdue about " in line[2] and "template not found: email/overdu.txt.j2" in line[2]
    assert not re.search(r"\boverdue\b", result.out.split("notification(s) in")[0])  # none listed as sent
    rules.write_text(text, encoding="utf-8")
    ok = plan("simulate", "--from", "2000-04-01", "--until", "2000-05-31")
    assert "not sent" not in ok.out


def test_simulate_refuses_a_bad_day(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("simulate", "--from", "1999-09-28", "--until", "end of 2000")
    assert result.code == 2
    assert result.err.strip() == "planwatch: --until: expected a date YYYY-MM-DD, got 'end of 2000'"


def test_tick_at_a_given_time_sends_what_is_due(plan) -> None:  # type: ignore[no-untyped-def]
    plan("simulate", "--from", "1999-09-28", "--until", "2000-03-30", "--commit")
    result = plan("tick", "--now", "2000-03-31T07:00Z")
    assert result.code == 0, result.err
    assert "sent" in result.out
    rows = [r for r in jsonl(plan("outbox", "--json").out) if r["action"] == "I.1a.1"]
    assert [(r["step"], r["status"]) for r in rows] == [("remind:due:30d", "sent")]
    again = plan("tick", "--now", "2000-03-31T07:00Z")
    assert "planned 0 action(s)" in again.out or "sent 0" in again.out


def test_tick_refuses_a_time_without_zone(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("tick", "--now", "2000-03-31T07:00")
    assert result.code == 2 and "give a time zone" in result.err


def test_status_counts_the_outbox_and_says_when_no_service_ticked(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("not-mine", "I.2c.3", "--note", "belongs to EMP").code == 0  # queues a message to the secretariat
    pending = jsonl(plan("outbox", "--pending", "--json").out)
    assert bring_pending_due(plan.url) == len(pending)  # its recipient's working day has come
    report = json.loads(plan("status", "--json").out)
    assert report["last_tick"] is None  # no tick has run yet
    assert (report["pending"], report["failed"]) == (len(pending), 0)
    assert report["pending"] > 0 and report["oldest_pending"].endswith("Z")
    human = plan("status").out
    assert "Last tick: never (is `planwatch run` running?)" in human
    assert f"Outbox: {len(pending)} pending, 0 failed" in human
    assert plan("tick", "--now", "1999-10-01T09:00Z").code == 0  # a tick run by hand counts as a tick too
    ticked = json.loads(plan("status", "--json").out)["last_tick"]
    assert ticked is not None and ticked.endswith("Z") and "never" not in plan("status").out


def test_db_upgrade_creates_the_schema_then_says_it_is_current(cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("db", "upgrade")
    assert first.code == 0 and first.out.startswith("Database at revision ")
    second = cli("db", "upgrade")
    assert second.code == 0 and second.out.rstrip().endswith("(was already).")
    assert second.out.split()[3] == first.out.split()[3]  # the same revision


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_db_backup_copies_the_database_and_refuses_to_overwrite(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("db", "backup", "backups/copy.db")
    assert result.code == 0, result.err
    assert result.out.startswith("Backed up to backups/copy.db (")
    copy = f"sqlite:///{Path('backups/copy.db').resolve()}"
    assert snapshot(copy) == snapshot(plan.url)
    again = plan("db", "backup", "backups/copy.db")
    assert again.code == 2 and "exists already" in again.err


def wait_for_first_tick(db: Path, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Wait until the node recorded a tick: its signal handlers are installed by then (no race with a
    signal sent while it is still starting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the node stopped before its first tick"
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    if conn.execute("select 1 from service_state where key='last_tick'").fetchone():
                        return
            except sqlite3.OperationalError:
                pass  # the schema is being created
        time.sleep(0.05)
    raise AssertionError(f"no tick recorded in {timeout:g} s")


@pytest.mark.slow
def test_run_ticks_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = os.environ | {
        "PLANWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "PLANWATCH_MAILDIR": str(tmp_path / "mail"),
    }
    subprocess.run(
        [sys.executable, "-m", "engine", "import", "plans/owners.yaml", PLAN],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "run", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_first_tick(tmp_path / "run.db", proc)
        time.sleep(0.5)  # a few more ticks
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "planwatch is running" in out and "Stopped." in out
    with sqlite3.connect(tmp_path / "run.db") as conn:
        last = conn.execute("select value from service_state where key='last_tick'").fetchone()
    assert last is not None and last[0].startswith("20")


@pytest.mark.slow
def test_run_stops_quietly_when_sigterms_arrive_together(tmp_path: Path) -> None:
    env = os.environ | {
        "PLANWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "PLANWATCH_MAILDIR": str(tmp_path / "mail"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "run", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_first_tick(tmp_path / "run.db", proc)
        for _ in range(5):  # the first starts the stop; the others arrive while it stops, or after
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.005)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err and "Error" not in err, err
    assert out.count("Stopping after the current tick (SIGTERM).") == 1 and "Stopped." in out


@pytest.mark.slow
def test_run_with_log_json_writes_one_object_per_line(tmp_path: Path) -> None:
    env = os.environ | {
        "PLANWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "PLANWATCH_MAILDIR": str(tmp_path / "mail"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "run", "--interval", "0.2", "--log-json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_first_tick(tmp_path / "run.db", proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert proc.returncode == 0
    assert any(e["message"].startswith("tick planned") for e in lines)
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in lines)
    assert any("planwatch is running" in e["message"] for e in lines)


def test_simulate_refuses_a_reversed_range_and_touches_nothing(plan) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    result = plan("simulate", "--from", "2000-06-30", "--until", "2000-01-01")
    assert (result.code, result.out) == (2, "")
    assert result.err.strip() == "planwatch: --until: expected a day on or after --from (2000-06-30), got 2000-01-01"
    assert snapshot(plan.url) == before


def test_a_tick_before_the_import_says_why_nothing_came_due(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("tick", "--now", "1999-10-01T09:00Z")
    assert result.code == 0, result.err
    assert "planned 0 action(s)" in result.out
    assert "Nothing came due: 1999-10-01T09:00:00+00:00 is before the plan was imported (" in result.out
    assert "planwatch simulate --from DAY --until DAY" in result.out
    plan("simulate", "--from", "1999-09-28", "--until", "2000-03-30", "--commit")  # the plan's past, played
    for _ in range(2):  # the second finds nothing new: the played past is before the import, yet not a mistake
        after = plan("tick", "--now", "2000-03-31T07:00Z")
        assert after.code == 0 and "Nothing came due" not in after.out


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tick_simulate_and_run_without_rules_write_no_database(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    db = workdir / "planwatch.db"
    for args in (["tick"], ["simulate", "--from", "2000-01-01", "--until", "2000-01-02"], ["run"]):
        result = cli("--rules", str(workdir / "norules"), *args, db=f"sqlite:///{db}")
        assert result.code == 2 and "norules" in result.err, result.err
        assert not db.exists()


def test_a_second_commit_lists_nothing_already_sent_again(plan) -> None:  # type: ignore[no-untyped-def]
    first = plan("simulate", "--from", "1999-09-28", "--until", "2000-06-30", "--commit", "--json")
    assert first.code == 0, first.err
    sent = jsonl(first.out)
    assert len(sent) > 0
    again = plan("simulate", "--from", "1999-09-28", "--until", "2000-06-30", "--commit")
    assert again.code == 0, again.err
    assert "0 notification(s)" in again.out
    assert f"{len(sent)} message(s) of this period were already sent before" in again.out
    assert len(jsonl(plan("outbox", "--sent", "--json").out)) == len(sent)
