"""The commands that change an action: done, drop, reopen, progress, extend, hold, reassign, not-mine, ack."""

from __future__ import annotations

import json

import pytest

PLAN = "plans/gb276-tc2-implementation-plan.txt"


@pytest.fixture
def plan(cli):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli


def jsonl(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines()]


def test_workflow_commands_record_and_replan(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("progress", "II.3.5", "--note", "two workshops", "--by", "hrd").code == 0
    assert plan("hold", "III.d.2", "--reason", "awaiting mandate").code == 0
    assert plan("reassign", "II.3.3", "eval").code == 0
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


def test_drop_then_reopen_round_trips_and_says_when_nothing_changed(plan) -> None:  # type: ignore[no-untyped-def]
    dropped = plan("drop", "III.d.3", "--note", "superseded", "--by", "mei")
    assert (dropped.code, dropped.out.strip()) == (0, "III.d.3 is now dropped.")
    assert plan("drop", "III.d.3").out.strip() == "III.d.3 was already dropped."
    status = {r["id"]: r["status"] for r in jsonl(plan("actions", "--json").out)}
    assert status["III.d.3"] == "dropped"
    assert plan("reopen", "III.d.3", "--by", "mei").out.strip() == "III.d.3 is now open."
    assert {r["id"]: r["status"] for r in jsonl(plan("actions", "--json").out)}["III.d.3"] == "open"
    sheet = plan("show", "III.d.3").out
    assert "mei" in sheet and "superseded" in sheet


def test_extend_refuses_a_bad_date_and_changes_nothing(plan) -> None:  # type: ignore[no-untyped-def]
    before = {r["id"]: r for r in jsonl(plan("actions", "--json").out)}["II.3.1"]
    result = plan("extend", "II.3.1", "--to", "30/09/2000")
    assert result.code == 2
    assert result.err.strip() == "planwatch: --to: expected a date YYYY-MM-DD, got '30/09/2000'"
    assert {r["id"]: r for r in jsonl(plan("actions", "--json").out)}["II.3.1"] == before


def test_a_workflow_command_on_an_unknown_action_exits_2(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("done", "I.1a.9")
    assert result.code == 2
    assert result.err.startswith("planwatch: no action 'I.1a.9'")


def test_ack_of_unknown_escalation_is_clear(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("ack", "999")
    assert result.code == 2 and result.err.strip() == "planwatch: no escalation 999; `planwatch escalations` lists them"


def test_ack_is_for_the_steps_recipients_and_those_above_them(plan) -> None:  # type: ignore[no-untyped-def]
    from engine.store import make_engine

    from ...conftest import snapshot
    from ...web_support import add_escalation

    engine = make_engine(plan.url)
    ident = add_escalation(engine, "k-cli", "I.2b.1", 1, ["supervisor"])  # ro-bangkok's supervisor: codev
    engine.dispose()
    before = snapshot(plan.url)
    refused = plan("ack", str(ident), "--by", "ro-bangkok")
    assert refused.code == 2
    assert refused.err.startswith(f"planwatch: Somchai Prasert may not acknowledge escalation {ident}: it was sent to ")
    assert snapshot(plan.url) == before
    unknown = plan("ack", str(ident), "--by", "nobody")
    assert unknown.code == 2
    assert unknown.err.strip() == (
        "planwatch: --by 'nobody': no one in the owners directory has this id; give your own id "
        "(`planwatch owners` lists them)"
    )
    assert snapshot(plan.url) == before
    done = plan("ack", str(ident), "--by", "ed-devcoop", "--note", "spoke to Mei")
    assert done.code == 0 and "acknowledged by Amara Okafor" in done.out


def test_reassigning_to_the_current_owner_is_refused_by_name(plan) -> None:  # type: ignore[no-untyped-def]
    from ...conftest import snapshot

    before = snapshot(plan.url)
    result = plan("reassign", "II.3.3", "hrd")  # hrd owns Part II.3 by rule
    assert result.code == 2
    assert "already owns II.3.3" in result.err and "hrd" not in result.err.replace("II.3.3", "")
    assert snapshot(plan.url) == before
    moved = plan("reassign", "II.3.3", "codev")
    assert moved.code == 0 and "II.3.3 now belongs to Mei Tanaka." in moved.out
