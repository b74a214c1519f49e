"""accept, done (reported implemented), verify (or --return), delay and to-verify: what each records and says, and
bad input refused with exit code 2 and the database unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ...conftest import snapshot

PLAN = "plans/gb276-tc2-implementation-plan.txt"


@pytest.fixture
def plan(cli):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli


def rows(cli) -> dict[str, dict]:  # type: ignore[no-untyped-def, type-arg]
    return {r["id"]: r for r in map(json.loads, cli("actions", "--json").out.splitlines())}


def test_done_reports_the_action_and_the_supervisor_verifies_it(plan) -> None:  # type: ignore[no-untyped-def]
    said = plan("done", "I.1a.1", "--note", "circulated", "--link", "https://x.org/a.pdf", "--by", "program")
    assert (said.code, said.out.strip()) == (
        0,
        "I.1a.1 is reported implemented; Amara Okafor is asked to verify it.",
    )
    assert rows(plan)["I.1a.1"]["status"] == "reported"
    waiting = "implemented on {day} by Jonas Lindqvist, waiting for verification by Amara Okafor."
    shown, why = plan("show", "I.1a.1").out, plan("why", "I.1a.1").out
    day = next(line for line in shown.splitlines() if line.startswith("Reported implemented on ")).split()[3]
    assert f"Reported {waiting.format(day=day)}" in shown and f"Reported {waiting.format(day=day)}" in why
    assert plan("done", "I.1a.1").out.strip().startswith("I.1a.1 was already reported implemented")
    queue = [json.loads(line) for line in plan("to-verify", "--for", "ed-devcoop", "--json").out.splitlines()]
    assert [(q["action"], q["reported_by"], q["note"], q["links"]) for q in queue] == [
        ("I.1a.1", "Jonas Lindqvist", "circulated", ["https://x.org/a.pdf"])
    ]
    assert "I.1a.1  reported" in plan("to-verify").out
    refused = plan("verify", "I.1a.1", "--by", "codev")
    assert refused.code == 2 and "may not verify this report" in refused.err
    assert plan("verify", "I.1a.1", "--by", "ed-devcoop", "--comment", "seen").out.strip() == (
        "I.1a.1 is verified: done."
    )
    assert rows(plan)["I.1a.1"]["status"] == "done"
    assert plan("to-verify").out.strip() == "No report is waiting for verification."


def test_a_returned_report_opens_the_action_again(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("done", "I.1a.1", "--by", "program").code == 0
    no_comment = plan("verify", "I.1a.1", "--return", "--by", "ed-devcoop")
    assert no_comment.code == 2 and "needs a comment" in no_comment.err
    said = plan("verify", "I.1a.1", "--return", "--comment", "attach the letter", "--by", "ed-devcoop")
    assert said.out.strip() == "I.1a.1 is returned to its owner, who is told why."
    assert rows(plan)["I.1a.1"]["status"] == "open"
    told = [json.loads(line) for line in plan("outbox", "--pending", "--json").out.splitlines()]
    assert [r["recipient"] for r in told if r["step"] == "closure_returned"] == ["jonas.lindqvist@example.org"]


def test_verify_without_a_waiting_report_says_where_to_look(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("verify", "I.1a.1", "--by", "ed-devcoop")
    assert (result.code, result.err.strip()) == (
        2,
        "planwatch: I.1a.1 has no report waiting for verification; `planwatch to-verify` lists those that do",
    )


def test_one_step_rules_make_done_close_at_once(plan, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    rules = workdir / "rules" / "default.yaml"
    rules.write_text(rules.read_text().replace("    steps: 2 ", "    steps: 1 "))
    assert plan("done", "I.1a.1").out.strip() == "I.1a.1 is now done."


def test_reopen_takes_back_a_waiting_report(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("done", "I.1a.1", "--by", "program").code == 0
    assert plan("reopen", "I.1a.1").out.strip() == "I.1a.1 is now open."
    assert plan("to-verify").out.strip() == "No report is waiting for verification."


def test_accept_records_each_state_and_needs_a_reason_to_refuse(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("accept", "III.d.3", "--partially", "--reason", "the field part only").out.strip() == (
        "III.d.3 is now partially accepted."
    )
    assert plan("accept", "III.d.2", "--under-consideration").out.strip() == "III.d.2 is now under consideration."
    assert plan("accept", "III.d.2").out.strip() == "III.d.2 is now accepted."
    assert plan("accept", "III.d.2").out.strip() == "III.d.2 was already accepted."
    assert "Acceptance: partially accepted (the field part only)." in plan("show", "III.d.3").out
    assert "Acceptance: accepted." in plan("show", "III.d.2").out  # said even when plain


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("accept", "III.d.3", "--not"),
            "planwatch: a recommendation not accepted needs the reason: give it with --reason",
        ),
        (
            ("accept", "III.d.3", "--not", "--partially", "--reason", "x"),
            "planwatch: --partially and --not exclude each other; give one of them (or none: accepted)",
        ),
        (
            ("delay", "II.3.1", "weather"),
            "planwatch: unknown cause of delay 'weather'; expected one of resources, depends on another action, "
            "awaiting a decision, external factors, other",
        ),
        (
            ("delay", "II.3.1", "other"),
            'planwatch: the cause "other" needs a few words: say what delays the action (--note)',
        ),
        (
            ("to-verify", "--for", "nobody"),
            "planwatch: --for 'nobody': no one in the owners directory has this id (`planwatch owners`)",
        ),
        (
            ("done", "I.1a.1", "--rating", "perfect"),
            "planwatch: unknown rating 'perfect'; expected one of implemented, partially_implemented, not_implemented",
        ),
    ],
    ids=["not-without-reason", "two-states", "unknown-cause", "other-without-note", "unknown-verifier", "bad-rating"],
)
def test_bad_input_exits_2_and_changes_nothing(plan, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    result = plan(*args)
    assert (result.code, result.err.strip()) == (2, message)
    assert snapshot(plan.url) == before


def test_delay_records_the_cause_and_show_says_it(plan) -> None:  # type: ignore[no-untyped-def]
    said = plan("delay", "II.3.1", "awaiting a decision", "--note", "budget committee in May")
    assert said.out.strip() == "The cause of delay of II.3.1 is now awaiting a decision."
    assert "Cause of delay: awaiting a decision (budget committee in May)." in plan("show", "II.3.1").out


def test_progress_keeps_the_percent_complete(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("progress", "II.3.5", "--note", "two workshops", "--percent", "40").code == 0
    bad = plan("progress", "II.3.5", "--note", "x", "--percent", "140")
    assert (bad.code, bad.err.strip()) == (2, "planwatch: percent complete 140 is not between 0 and 100")


def test_done_without_a_rules_folder_reports_with_the_defaults(plan, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    shutil.rmtree(workdir / "rules")
    said = plan("done", "I.1a.1", "--by", "program").out.strip()
    assert said == "I.1a.1 is reported implemented; Amara Okafor is asked to verify it."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("done", "I.1a.1", "--by", "nobody"),
            "planwatch: --by nobody: is not in the owners directory; only Jonas Lindqvist (program) or the "
            "secretariat may report I.1a.1 implemented",
        ),
        (
            ("done", "I.1a.1", "--by", "codev"),
            "planwatch: --by codev: only Jonas Lindqvist (program) or the secretariat may report I.1a.1 implemented",
        ),
        (
            ("progress", "I.1a.1", "--note", "x", "--by", "codev"),
            "planwatch: --by codev: only Jonas Lindqvist (program) or the secretariat may report progress on I.1a.1",
        ),
        (
            ("delay", "I.1a.1", "resources", "--by", "ghost"),
            "planwatch: --by ghost: is not in the owners directory; only Jonas Lindqvist (program) or the "
            "secretariat may say why I.1a.1 is late",
        ),
        (
            ("accept", "I.1a.1", "--by", "program"),
            "planwatch: --by program: only the secretariat or an administrator may record whether I.1a.1 is accepted",
        ),
    ],
    ids=["done-unknown", "done-not-theirs", "progress", "delay", "accept"],
)
def test_by_must_name_someone_who_may_act(plan, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    result = plan(*args)
    assert (result.code, result.err.strip()) == (2, message)
    assert snapshot(plan.url) == before


def test_by_may_name_the_owner_their_delegate_or_the_secretariat(plan) -> None:  # type: ignore[no-untyped-def]
    owner = next(r for r in rows(plan).values() if "pardev" in (r.get("owner"), r.get("owner_id")))
    assert plan("progress", owner["id"], "--note", "x", "--by", "secretariat").code == 0  # pardev's delegate
    assert plan("done", "I.1a.1", "--by", "secretariat").code == 0
    assert plan("accept", "III.d.3", "--partially", "--by", "secretariat").code == 0


def test_delay_is_for_overdue_accepted_actions(plan) -> None:  # type: ignore[no-untyped-def]
    assert plan("extend", "II.3.1", "--to", "2099-01-31").code == 0
    before = snapshot(plan.url)
    result = plan("delay", "II.3.1", "resources")
    assert (result.code, result.err.strip()) == (
        2,
        "planwatch: II.3.1 is not overdue (due 31 January 2099); a cause of delay is for overdue actions",
    )
    assert snapshot(plan.url) == before
    assert plan("accept", "III.d.3", "--not", "--reason", "outside the mandate", "--by", "secretariat").code == 0
    before = snapshot(plan.url)
    result = plan("delay", "III.d.3", "resources")
    assert (result.code, result.err.strip()) == (
        2,
        "planwatch: III.d.3 is not accepted; a cause of delay is for accepted actions that are overdue",
    )
    assert snapshot(plan.url) == before


def test_done_refuses_a_link_that_is_not_a_web_address(plan) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(plan.url)
    result = plan("done", "I.1a.1", "--by", "program", "--link", "https://x.org/a.pdf", "--link", "notaurl")
    assert (result.code, result.err.strip()) == (
        2,
        "planwatch: --link 'notaurl' is not a web address; give links like https://example.org/report.pdf",
    )
    assert snapshot(plan.url) == before


def test_show_and_actions_say_the_acceptance_and_why_says_when_in_words(plan) -> None:  # type: ignore[no-untyped-def]
    assert "Acceptance: accepted." in plan("show", "I.1a.1").out
    assert "acceptance" not in plan("actions").out  # every action plainly accepted: no column
    assert plan("accept", "III.d.3", "--not", "--reason", "outside the mandate", "--by", "secretariat").code == 0
    assert "Acceptance: not accepted (outside the mandate)." in plan("show", "III.d.3").out
    table = plan("actions").out
    assert "acceptance" in table and "not accepted" in table
    why = plan("why", "I.1a.1").out
    assert re.search(r"Next planning: (\d{1,2} \w+ \d{4}, \d\d:\d\d UTC|nothing planned)\.", why), why
