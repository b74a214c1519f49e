"""The shared read-side queries over the example plan: filters, finding by id with hints, owners, history."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest

from engine.actions.extensions import request_extension
from engine.actions.workflow import set_status
from engine.errors import NotFoundError, UsageError
from engine.read.queries import (
    ActionFilter,
    action_record,
    active_action,
    escalation_steps_by_level,
    find_action,
    find_owner,
    history,
    import_and_first_fire,
    last_done_at,
    list_actions,
    open_actions_of,
    open_alerts,
    owner_by_id_or_email,
    owners_with_chains,
    pending_extension_ids,
    plans,
    reading,
    sections,
    sent_by_type,
)
from engine.store import transaction
from engine.store.models import Escalation

from ..web_support import ESCALATIONS, NOW, T0, web_world


def test_list_actions_filters_and_keeps_plan_order(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        everything = list_actions(s)
        assert len(everything) == 69 and everything[0].ref == "I.1a.1"
        codev = [a.ref for a in list_actions(s, ActionFilter(owner="codev"))]
        assert codev[:4] == ["I.2a.1", "I.2a.2", "I.2a.3", "II.1.1"] and len(codev) == 13
        review = list_actions(s, ActionFilter(plan="gb276-tc2", needs_review=True))
        assert len(review) == 13 and all(a.needs_review for a in review)
        set_status(s, find_action(s, "I.2a.2"), "on_hold", NOW, who="mei", via="cli")
        assert [a.ref for a in list_actions(s, ActionFilter(status="on_hold"))] == ["I.2a.2"]
        assert list_actions(s, ActionFilter(plan="no-such-plan")) == []
    engine.dispose()


def test_find_action_by_id_or_plan_and_id_and_its_hints(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        assert find_action(s, "I.2a.1").owner_id == "codev"
        assert find_action(s, "gb276-tc2/I.2a.1").ref == "I.2a.1"
        assert active_action(s, "gb276-tc2", "I.2a.1") is not None
        assert active_action(s, "other", "I.2a.1") is None
        with pytest.raises(NotFoundError) as close:
            find_action(s, "I.2a.9")
        assert str(close.value) == "no action 'I.2a.9'; did you mean I.2a.3, I.2a.2, I.2a.1?"
        with pytest.raises(NotFoundError) as far:
            find_action(s, "other/zzz")
        assert str(far.value) == "no action 'other/zzz'; `planwatch actions` lists them"
        assert isinstance(far.value, UsageError) and far.value.exit_code == 2
    engine.dispose()


def test_owners_by_id_or_email_with_their_chains(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        assert find_owner(s, "codev").name == "Mei Tanaka"
        with pytest.raises(NotFoundError, match=r"^no owner 'codef'; did you mean codev\?$"):
            find_owner(s, "codef")
        by_mail = owner_by_id_or_email(s, "MEI.Tanaka@example.org")
        assert by_mail is not None and by_mail.id == "codev"
        assert owner_by_id_or_email(s, "nobody@example.org") is None
        chains = {o.id: chain for o, chain in owners_with_chains(s)}
        assert chains["ro-bangkok"] == ["codev", "ed-devcoop", "dg-office"] and chains["dg-office"] == []
        assert list(chains) == sorted(chains)
    engine.dispose()


def test_open_actions_pending_requests_and_history(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        action = find_action(s, "I.1a.1")  # due 30 April 2000
        assert action in open_actions_of(s, "program")
        set_status(s, action, "done", NOW, who="jonas", via="cli", note="circulated")
        assert action not in open_actions_of(s, "program")
        other = find_action(s, "I.1a.4")
        request_extension(s, other, date(2001, 3, 31), NOW + timedelta(hours=1), who="jonas", via="web", reason="r")
        s.flush()
        assert pending_extension_ids(s, [action.id, other.id]) == {other.id}
        changes = history(s, other)
        assert [(c.field, c.old, c.new) for c in changes] == [("extension requested", "2000-12-31", "2001-03-31")]
        assert [c.field for c in history(s, action)] == ["status"]
    engine.dispose()


def test_plans_sections_reading_and_the_json_record(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        assert [p.id for p in plans(s)] == ["gb276-tc2"]
        found = sections(s, "gb276-tc2")
        assert [x.key for x in found[:3]] == ["I", "I.1", "I.1a"]
        assert [x.ordinal for x in found] == sorted(x.ordinal for x in found)
        assert reading(find_action(s, "I.1a.1")) == "deadline due 2000-04-30"
        assert reading(find_action(s, "I.1a.2")) == "recurring FREQ=YEARLY"
        record = action_record(find_action(s, "I.1a.1"))
        wanted = ("I.1a.1", "program", "2000-04-30", None)
        assert (record["id"], record["owner"], record["due"], record["start"]) == wanted
        assert record["milestones"] == [] and record["status"] == "open"
    engine.dispose()


def test_outcome_counts_for_the_demo_summary(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        assert sent_by_type(s) == {}  # nothing was sent yet
        levels = escalation_steps_by_level(s)
        assert levels == {level: sum(1 for e in ESCALATIONS if e[1] == level) for level in {e[1] for e in ESCALATIONS}}
        assert last_done_at(s) == {}
        done = find_action(s, "I.1a.1")
        set_status(s, done, "done", NOW, who="jonas", via="cli")
    with transaction(engine) as s:
        marked = last_done_at(s)
        assert list(marked) == [find_action(s, "I.1a.1").id]
        assert marked[find_action(s, "I.1a.1").id].replace(tzinfo=UTC) == NOW
    engine.dispose()


def test_import_and_first_fire_are_aware_utc(database_url: str) -> None:
    engine = web_world(database_url)
    with engine.connect() as conn:
        imported, first = import_and_first_fire(conn)
    assert imported == T0
    assert first is not None and first.tzinfo is not None and first >= T0
    engine.dispose()


def test_open_alerts_say_what_is_open_in_plain_words(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        ids = {ref: find_action(s, ref).id for ref in ("I.2b.1", "I.3b.3", "I.1a.4", "II.3.1", "I.2a.2")}
        for key, ref, occurrence in (
            ("c1", "I.1a.4", "check-in 2000-05-20"),
            ("c2", "I.1a.4", "check-in 2000-05-06"),  # one check-in unanswered twice: said once
            ("d1", "I.2a.2", "2000-05-01"),
            ("s1", "I.2a.2", "start 2000-04-01"),
        ):
            s.add(
                Escalation(
                    key=key,
                    at=NOW,
                    action_id=ids[ref],
                    occurrence=occurrence,
                    level=1,
                    step="escalate:1",
                    policy="p",
                    recipients=["supervisor"],
                    days_overdue=3,
                )
            )
        request_extension(s, find_action(s, "II.3.1"), date(2000, 9, 30), NOW, who="hrd", via="web", reason="")
        s.flush()
        due = find_action(s, "I.2b.1").due  # its escalation's occurrence (the test world's)
        found = open_alerts(s, list(ids.values()), date(2000, 6, 1))
    assert found[ids["I.1a.4"]] == ["check-in unanswered"]
    assert found[ids["I.2a.2"]] == ["overdue by 31 days", "not started"]
    assert found[ids["II.3.1"]] == ["extension requested to 2000-09-30"]
    assert ids["I.3b.3"] not in found  # its escalation was acknowledged
    assert found[ids["I.2b.1"]] == (
        ["escalated"] if due is None else [f"overdue by {(date(2000, 6, 1) - due).days} days"]
    )
    assert open_alerts(s, [], date(2000, 6, 1)) == {}
    engine.dispose()
