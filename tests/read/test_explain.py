"""The CLI's views of the outbox and of why a policy applies to an action."""

from __future__ import annotations

from datetime import timedelta

from engine.read.explain import explain_policy, facts_for, outbox_rows
from engine.read.queries import find_action
from engine.rules.loader import load_rules
from engine.store import transaction
from engine.store.models import Outbox

from ..conftest import ROOT
from ..web_support import NOW, web_world


def add_messages(engine) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        action = find_action(s, "I.1a.1")
        for n, status in enumerate(["sent", "pending", "failed"]):
            s.add(
                Outbox(
                    key=f"m{n}",
                    plan_id="gb276-tc2",
                    action_id=action.id if n < 2 else None,
                    occurrence="2000-04-30",
                    step="remind",
                    type="reminder",
                    recipient="jonas.lindqvist@example.org",
                    template="reminder",
                    due_at=NOW - timedelta(days=n),
                    created_at=NOW - timedelta(days=3),
                    status=status,
                    sent_at=NOW if status == "sent" else None,
                )
            )


def test_outbox_rows_in_time_order_with_their_action(database_url: str) -> None:
    engine = web_world(database_url)
    add_messages(engine)
    with transaction(engine) as s:
        rows = outbox_rows(s, None)
        assert [r["key"] for r in rows] == ["m2", "m1", "m0"]  # the earliest first
        assert [r["action"] for r in rows] == [None, "I.1a.1", "I.1a.1"]  # a row without an action is kept
        assert rows[2]["sent_at"] == "2000-06-01T12:00:00Z" and rows[2]["at"] == "2000-06-01T12:00:00Z"
        assert [r["key"] for r in outbox_rows(s, "pending")] == ["m1"]
        action_id = find_action(s, "I.1a.1").id
        assert [r["key"] for r in outbox_rows(s, None, action_id=action_id)] == ["m1", "m0"]
        assert len(outbox_rows(s, None, limit=1)) == 1
    engine.dispose()


def test_facts_carry_the_section_chain_kind_and_owner(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        facts = facts_for(s, find_action(s, "I.2a.1"))
    engine.dispose()
    assert (facts.ref, facts.kind, facts.owner, facts.tags) == ("I.2a.1", "continuous", "codev", ())
    assert list(facts.sections) == ["I.2a", "I.2", "I"]


def test_explain_names_the_policy_its_place_and_the_ones_passed_over(database_url: str) -> None:
    engine = web_world(database_url)
    rules = load_rules(ROOT / "rules")
    with transaction(engine) as s:
        continuous = explain_policy(s, find_action(s, "I.2a.1"), rules)
        deadline = explain_policy(s, find_action(s, "I.1a.1"), rules)
    engine.dispose()
    first, second = continuous.splitlines()
    assert first.startswith("I.2a.1 (continuous, open): policy 'continuous' (rules/default.yaml:")
    assert "'deadlines' does not apply: kind continuous is not deadline or window" in first
    assert second == "Next planning: 1 October 1999, 08:00 UTC."
    assert deadline.startswith("I.1a.1 (deadline, open): policy 'deadlines' (rules/default.yaml:")


def test_follow_up_lines_name_the_acceptance_the_verifier_waited_for_and_the_cause_of_delay(database_url: str) -> None:
    from engine.actions.followup import report_implemented, set_acceptance, set_delay_cause
    from engine.read.explain import follow_up_lines

    engine = web_world(database_url)
    with transaction(engine) as s:
        action = find_action(s, "I.1a.1")
        assert follow_up_lines(s, action) == []
        set_acceptance(s, action, "partially_accepted", NOW, who="secretariat", via="cli", note="Geneva only")
        set_delay_cause(s, action, "resources", NOW, who="program", via="cli")
        report_implemented(s, action, NOW, who="program", via="cli")
        assert follow_up_lines(s, action) == [
            "Acceptance: partially accepted (Geneva only).",
            "Reported implemented on 2000-06-01 by Jonas Lindqvist, waiting for verification by Amara Okafor.",
            "Cause of delay: resources.",
        ]
        assert "waiting for verification by Amara Okafor" in explain_policy(s, action, load_rules(ROOT / "rules"))
    engine.dispose()
