"""The engine's commands end to end: tick, outbox, simulate, preview, why, workflow commands."""

from __future__ import annotations

import json
import mailbox
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import ROOT, snapshot

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


def test_preview_lists_the_day_and_records_nothing(plan) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    rows = jsonl(plan("preview", "--date", "2000-03-31", "--json").out)
    assert {(r["action"], r["type"]) for r in rows} >= {("I.1a.1", "reminder")}
    assert all(r["at"].startswith("2000-03-31") for r in rows)
    assert snapshot(plan.url) == before


def test_why_explains_policy_and_messages(plan) -> None:  # type: ignore[no-untyped-def]
    plan("simulate", "--from", "1999-09-28", "--until", "2000-05-31", "--commit")
    out = plan("why", "I.1a.1").out
    assert "policy 'deadlines'" in out and "remind:due:30d" in out and "Messages about I.1a.1" in out


def test_workflow_commands_record_and_replan(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("progress", "II.3.5", "--note", "two workshops", "--by", "kwame").code == 0
    assert plan("hold", "III.d.2", "--reason", "awaiting mandate").code == 0
    assert plan("reassign", "II.3.3", "hrd").code == 0
    assert plan("extend", "II.3.1", "--to", "2000-09-30", "--reason", "budget").code == 0
    assert plan("not-mine", "I.2c.3", "--note", "belongs to EMP").code == 0
    rows = {r["id"]: r for r in jsonl(plan("actions", "--json").out)}
    assert rows["II.3.5"]["status"] == "in_progress"
    assert rows["III.d.2"]["status"] == "on_hold"
    assert rows["I.2c.3"]["owner"] is None
    pending = [r for r in jsonl(plan("outbox", "--pending", "--json").out) if r["action"] == "I.2c.3"]
    assert [r["recipient"] for r in pending] == ["tc-secretariat@example.org"]
    assert plan("hold", "III.d.1").code == 2  # a reason is required
    assert "extended" in plan("show", "II.3.1").out


def test_done_on_a_recurring_action_completes_one_occurrence(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("done", "I.1a.2", "--occurrence", "2000-09-28")
    assert "occurrence 2000-09-28" in result.out
    row = {r["id"]: r for r in jsonl(plan("actions", "--json").out)}["I.1a.2"]
    assert row["status"] == "open"
    assert "was already" in plan("done", "I.1a.2", "--occurrence", "2000-09-28").out


def test_ack_of_unknown_escalation_is_clear(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("ack", "999")
    assert result.code == 2 and result.err.strip() == "planwatch: no escalation 999; `planwatch escalations` lists them"


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
