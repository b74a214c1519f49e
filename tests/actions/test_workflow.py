"""Changes people make to actions: each is in the action's history, makes the next tick plan the action
again, and closes what it settles (escalations, stale pending messages)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from engine.actions.workflow import (
    acknowledge,
    acknowledge_action,
    acknowledge_step,
    complete,
    current_occurrence,
    enqueue_extension_granted,
    extend,
    hold,
    not_mine,
    progress,
    reassign,
    reopen,
    set_schedule,
    set_status,
)
from engine.errors import UsageError
from engine.outbox import message_key, outbox_row
from engine.store import transaction
from engine.store.models import Action, ActionChange, Completion, Escalation, Outbox, Plan

from ..web_support import NOW, add_escalation, web_world


@pytest.fixture
def world(database_url: str) -> Iterator[Engine]:
    engine = web_world(database_url)
    yield engine
    engine.dispose()


def _action(session: Session, ref: str) -> Action:
    return session.exec(select(Action).where(Action.ref == ref)).one()


def _history(session: Session, ref: str) -> list[tuple[str, str, str, str | None, str | None, str]]:
    ident = _action(session, ref).id
    changes = session.exec(select(ActionChange).where(ActionChange.action_id == ident)).all()
    return [(c.who, c.via, c.field, c.old, c.new, c.note) for c in sorted(changes, key=lambda c: c.id or 0)]


def _escalation(session: Session, key: str) -> Escalation:
    return session.exec(select(Escalation).where(Escalation.key == key)).one()


def test_done_is_recorded_closes_escalations_and_suppresses_pending_messages(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert action.id is not None
        reminder = outbox_row(
            message_key("gb276-tc2/III.d.1", "overdue", "1999-12-31", "pardev"),
            plan_id="gb276-tc2",
            action_id=action.id,
            occurrence="1999-12-31",
            step="overdue",
            type="reminder",
            level=0,
            recipient="rafael.quispe@example.org",
            recipient_id="pardev",
            template="overdue",
            due_at=NOW + timedelta(hours=1),
            now=NOW,
            payload={},
        )
        session.add(Outbox(**reminder))
    with transaction(world) as session:
        assert (
            set_status(session, _action(session, "III.d.1"), "done", NOW, who="pardev", via="web", note="sent") is True
        )
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert (action.status, action.status_note, action.next_fire_at) == ("done", "sent", None)
        assert _history(session, "III.d.1") == [("pardev", "web", "status", "open", "done", "sent")]
        assert (_escalation(session, "k2").resolved_at, _escalation(session, "k2").resolution) == (NOW, "action done")
        assert _escalation(session, "k0").resolved_at is None  # another action's
        row = session.exec(select(Outbox).where(Outbox.template == "overdue")).one()
        assert (row.status, row.reason) == ("suppressed", "the action changed before it was sent")
        assert set_status(session, action, "done", NOW, who="pardev", via="web") is False
        with pytest.raises(UsageError, match="unknown status 'finished'; expected one of open, "):
            set_status(session, action, "finished", NOW, who="pardev", via="web")


def test_progress_moves_an_open_action_on_and_plans_it_again(world: Engine) -> None:
    later = NOW + timedelta(days=10)
    with transaction(world) as session:
        action = _action(session, "II.2.5")
        action.planned_through, action.next_fire_at = later, later
        session.add(action)
    with transaction(world) as session:
        progress(
            session, _action(session, "II.2.5"), NOW, who="codev", via="email link", note="drafted", state="at risk"
        )
    with transaction(world) as session:
        action = _action(session, "II.2.5")
        assert (action.status, action.last_progress_at) == ("in_progress", NOW)
        assert (action.planned_through, action.next_fire_at) == (NOW, NOW)  # the next tick plans it again
        assert _history(session, "II.2.5") == [
            ("codev", "email link", "status", "open", "in_progress", ""),
            ("codev", "email link", "progress", None, "at risk", "drafted"),
        ]
        with pytest.raises(UsageError, match="unknown progress state 'late'; expected 'on track' or 'at risk'"):
            progress(session, action, NOW, who="codev", via="web", note="", state="late")
        with pytest.raises(UsageError, match="--reason is required"):
            hold(session, action, NOW, who="codev", via="cli", reason="")
        assert hold(session, action, NOW, who="codev", via="cli", reason="budget frozen") is True
        assert (action.status, action.status_note, action.next_fire_at) == ("on_hold", "budget frozen", None)


def test_a_recurring_action_is_completed_one_occurrence_at_a_time(world: Engine) -> None:
    with transaction(world) as session:
        yearly = _action(session, "I.1a.2")  # FREQ=YEARLY from the plan's date, 1999-09-28
        plan = session.get(Plan, yearly.plan_id)
        assert plan is not None
        assert current_occurrence(yearly, plan, datetime(2000, 9, 15, tzinfo=UTC)) == date(2000, 9, 28)  # a month ahead
        assert current_occurrence(yearly, plan, datetime(2000, 6, 1, tzinfo=UTC)) == date(2000, 6, 1)
        assert complete(session, yearly, NOW, who="program", via="cli", occurrence=date(2000, 9, 28)) == (
            "occurrence 2000-09-28",
            True,
        )
        assert complete(session, yearly, NOW, who="program", via="web", occurrence=date(2000, 9, 28)) == (
            "occurrence 2000-09-28",
            False,
        )
        assert complete(session, _action(session, "II.2.2"), NOW, who="codev", via="cli") == ("the action", True)
    with transaction(world) as session:
        yearly = _action(session, "I.1a.2")
        assert (yearly.status, yearly.last_completed) == ("open", date(2000, 9, 28))
        done = session.exec(select(Completion).where(Completion.action_id == yearly.id)).all()
        assert [(c.occurrence, c.who) for c in done] == [("2000-09-28", "program")]
        assert _history(session, "I.1a.2") == [("program", "cli", "completed", None, "2000-09-28", "")]
        assert _action(session, "II.2.2").status == "done"


def test_not_mine_hands_the_action_back_and_tells_the_secretariat(world: Engine) -> None:
    with transaction(world) as session:
        with pytest.raises(UsageError, match="no owner 'nobody'; `planwatch owners` lists them"):
            reassign(session, _action(session, "III.a.3"), "nobody", NOW, who="secretariat", via="cli")
        not_mine(session, _action(session, "III.a.3"), NOW, who="pardev", via="email link", note="codev's field")
    with transaction(world) as session:
        action = _action(session, "III.a.3")
        assert (action.owner_id, action.owner_source) == (None, "cli")
        assert _history(session, "III.a.3") == [("pardev", "email link", "owner", "pardev", None, "codev's field")]
        told = session.exec(select(Outbox).where(Outbox.template == "not_mine")).one()
        assert (told.recipient, told.recipient_id, told.action_id) == (
            "tc-secretariat@example.org",
            "secretariat",
            action.id,
        )
        assert told.payload == {"from_owner": "pardev", "note": "codev's field", "date": "2000-06-01"}
        reassign(session, action, "codev", NOW, who="secretariat", via="cli")
        assert action.owner_id == "codev"


def test_extend_needs_a_later_date_and_queues_the_owners_message_once(world: Engine) -> None:
    with transaction(world) as session:
        with pytest.raises(
            UsageError,
            match=r"I\.1a\.3 has no due date, so there is nothing to extend; the secretariat can give it one",
        ):
            extend(session, _action(session, "I.1a.3"), date(2001, 1, 1), NOW, who="secretariat", via="cli", reason="")
        action = _action(session, "I.2a.2")  # codev's, due 2000-09-30
        with pytest.raises(UsageError, match="--to 2000-09-01 is not after the current due date 2000-09-30"):
            extend(session, action, date(2000, 9, 1), NOW, who="ed-devcoop", via="cli", reason="")
        extend(session, action, date(2000, 11, 30), NOW, who="ed-devcoop", via="cli", reason="field visit")
    with transaction(world) as session:
        action = _action(session, "I.2a.2")
        assert (action.due, action.extended_to) == (date(2000, 9, 30), date(2000, 11, 30))
        assert _history(session, "I.2a.2") == [
            ("ed-devcoop", "cli", "extended", "2000-09-30", "2000-11-30", "field visit")
        ]
        with pytest.raises(UsageError, match="not after the current due date 2000-11-30"):
            extend(session, action, date(2000, 10, 31), NOW, who="ed-devcoop", via="cli", reason="")
        owner = {"id": "codev", "email": "mei.tanaka@example.org", "timezone": "Europe/Zurich"}
        row = {"id": action.id, "plan_id": "gb276-tc2", "ref": "I.2a.2"}
        again = enqueue_extension_granted(
            session.connection(), row, owner, date(2000, 9, 30), date(2000, 11, 30), by="x", reason="", now=NOW
        )
        assert again is False  # the same extension is told once
        told = session.exec(select(Outbox).where(Outbox.template == "extension_granted")).one()
        assert (told.recipient, told.occurrence, told.payload["by"], told.payload["reason"]) == (
            "mei.tanaka@example.org",
            "2000-11-30",
            "ed-devcoop",
            "field visit",
        )


def test_acknowledging_an_escalation_keeps_the_first_supervisor(world: Engine) -> None:
    with transaction(world) as session:
        ident = _escalation(session, "k1").id
        assert ident is not None
        with pytest.raises(UsageError, match="no escalation 9999; `planwatch escalations` lists them"):
            acknowledge(session, 9999, NOW, who="ed-devcoop")
        entry = acknowledge(session, ident, NOW, who="ed-devcoop", note="on it", via="web")
        assert (entry.acknowledged_by, entry.acknowledged_at, entry.ack_note) == ("ed-devcoop", NOW, "on it")
        acknowledge(session, ident, NOW + timedelta(hours=1), who="dg-office")
    with transaction(world) as session:
        entry = _escalation(session, "k1")
        assert (entry.acknowledged_by, entry.acknowledged_at) == ("ed-devcoop", NOW)
        assert _history(session, "I.2a.1") == [("ed-devcoop", "web", "acknowledged", None, "escalate:1 of ", "on it")]


def test_set_schedule_overrides_the_reading_and_refuses_what_cannot_work(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "II.3.3")  # unscheduled, needs review
        assert (action.kind, action.needs_review) == ("unscheduled", True)
        set_schedule(session, action, {"kind": "deadline", "due": date(2000, 8, 15)}, NOW, who="secretariat", via="cli")
    with transaction(world) as session:
        action = _action(session, "II.3.3")
        assert (action.kind, action.due, action.needs_review) == ("deadline", date(2000, 8, 15), False)
        assert action.override == {"kind": "deadline", "due": "2000-08-15"}
        assert _history(session, "II.3.3")[-1] == (
            "secretariat",
            "cli",
            "schedule",
            "(as read)",
            "due=2000-08-15, kind=deadline",
            "",
        )
        with pytest.raises(UsageError, match=r"nothing to set; give one of --kind, --start, --due"):
            set_schedule(session, action, {}, NOW, who="secretariat", via="cli")
        with pytest.raises(UsageError, match="nothing to set"):
            set_schedule(session, action, {"owner": "codev"}, NOW, who="secretariat", via="cli")
        with pytest.raises(UsageError, match="due 2000-08-15 is before start 2000-09-01"):
            set_schedule(session, action, {"start": date(2000, 9, 1)}, NOW, who="secretariat", via="cli")
        with pytest.raises(UsageError, match=r"--after: no action 'IX\.9' in plan gb276-tc2"):
            set_schedule(session, action, {"after": "IX.9"}, NOW, who="secretariat", via="cli")
        set_schedule(session, _action(session, "II.3.4"), {"after": "II.3.3"}, NOW, who="secretariat", via="cli")
        with pytest.raises(UsageError, match=r"dependency loop: II\.3\.3 -> II\.3\.4 -> II\.3\.3"):
            set_schedule(session, action, {"after": "II.3.4"}, NOW, who="secretariat", via="cli")
        assert _action(session, "II.3.4").due == date(2000, 8, 15)  # it follows II.3.3


def _queued(session: Session, ref: str, step: str, status: str, due_at: datetime) -> None:
    action = _action(session, ref)
    assert action.id is not None
    row = outbox_row(
        message_key(f"gb276-tc2/{ref}", step, "2000-01-01", "pardev"),
        plan_id="gb276-tc2",
        action_id=action.id,
        occurrence="2000-01-01",
        step=step,
        type="checkin",
        level=0,
        recipient="rafael.quispe@example.org",
        recipient_id="pardev",
        template="checkin",
        due_at=due_at,
        now=NOW,
        payload={},
    )
    session.add(Outbox(**(row | {"status": status})))


@pytest.mark.parametrize("status", ["done", "dropped", "on_hold"])
def test_a_finished_or_held_action_sends_nothing_already_queued_or_held_for_a_digest(
    world: Engine, status: str
) -> None:
    with transaction(world) as session:
        _queued(session, "III.d.1", "queued", "pending", NOW - timedelta(minutes=5))
        _queued(session, "III.d.1", "digest", "held", NOW - timedelta(days=1))
    with transaction(world) as session:
        set_status(session, _action(session, "III.d.1"), status, NOW, who="pardev", via="web", note="why not")
    with transaction(world) as session:
        rows = session.exec(select(Outbox).where(Outbox.template == "checkin")).all()
        assert sorted((r.step, r.status) for r in rows) == [("digest", "suppressed"), ("queued", "suppressed")]


def test_reopening_a_held_action_plans_it_from_the_reopening(world: Engine) -> None:
    held_at, reopened_at = NOW, NOW + timedelta(days=93)
    with transaction(world) as session:
        action = _action(session, "II.2.5")
        action.planned_through = held_at
        hold(session, action, held_at, who="codev", via="cli", reason="budget frozen")
    with transaction(world) as session:
        assert _action(session, "II.2.5").planned_through == held_at
        set_status(session, _action(session, "II.2.5"), "open", reopened_at, who="codev", via="cli")
    with transaction(world) as session:
        action = _action(session, "II.2.5")
        # What fell due during the hold lies before planned_through: the next tick never sends it.
        assert (action.status, action.planned_through, action.next_fire_at) == ("open", reopened_at, reopened_at)


def test_reopening_a_done_action_plans_it_from_the_reopening(world: Engine) -> None:
    done_at, reopened_at = NOW, NOW + timedelta(days=80)
    with transaction(world) as session:
        action = _action(session, "II.2.5")
        action.planned_through = done_at
        set_status(session, action, "done", done_at, who="codev", via="web")
    with transaction(world) as session:
        assert reopen(session, _action(session, "II.2.5"), reopened_at, who="codev", via="web") == "open"
    with transaction(world) as session:
        action = _action(session, "II.2.5")
        # Nothing of the time it was done is replayed; a date missed by then starts its ladder again, owner first.
        assert (action.status, action.planned_through, action.next_fire_at) == ("open", reopened_at, reopened_at)


def test_only_the_recipients_of_a_step_or_those_above_them_acknowledge_it(world: Engine) -> None:
    over_her_head = add_escalation(world, "k-dg", "I.2b.1", 3, ["dg-office@example.org"])
    to_codev = add_escalation(world, "k-codev", "I.2b.1", 1, ["codev"])
    with transaction(world) as session:
        with pytest.raises(
            UsageError, match=r"ed-devcoop may not acknowledge escalation .*sent to dg-office@example.org"
        ):
            acknowledge(session, over_her_head, NOW, who="ed-devcoop")
        with pytest.raises(UsageError, match="ro-bangkok may not acknowledge"):
            acknowledge(session, to_codev, NOW, who="ro-bangkok")  # below the recipient
        assert acknowledge(session, to_codev, NOW, who="dg-office").acknowledged_by == "dg-office"  # above codev
        assert acknowledge(session, over_her_head, NOW, who="dg-office").acknowledged_by == "dg-office"  # by address
    with transaction(world) as session:
        assert _escalation(session, "k-dg").acknowledged_by == "dg-office"


def test_acknowledging_an_action_acknowledges_its_open_steps_sent_to_you(world: Engine) -> None:
    first = add_escalation(world, "k-a", "III.d.1", 1, ["ed-devcoop"], NOW - timedelta(days=4))
    second = add_escalation(world, "k-b", "III.d.1", 1, ["amara.okafor@example.org"])
    add_escalation(world, "k-c", "III.d.1", 3, ["dg-office"])
    with transaction(world) as session:
        done = acknowledge_action(session, _action(session, "III.d.1"), NOW, who="ed-devcoop", note="x", via="web")
        assert {e.key for e in done} == {"k2", "k-a", "k-b"} and {first, second} <= {e.id for e in done}
    with transaction(world) as session:
        assert _escalation(session, "k-c").acknowledged_at is None
        assert acknowledge_action(session, _action(session, "III.d.1"), NOW, who="ed-devcoop") == []


def test_a_step_logged_by_role_is_read_along_the_owners_chain(world: Engine) -> None:
    second_rung = add_escalation(world, "k-rung", "I.2b.1", 2, ["supervisor.supervisor"])  # ro-bangkok > codev > ed
    with transaction(world) as session:
        with pytest.raises(UsageError, match="codev may not acknowledge"):
            acknowledge(session, second_rung, NOW, who="codev")
        assert acknowledge(session, second_rung, NOW, who="ed-devcoop").acknowledged_by == "ed-devcoop"


def test_reopen_puts_a_done_action_back_as_it_was(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "II.3.1")
        progress(session, action, NOW, who="hrd", via="web", note="started")
        set_status(session, action, "done", NOW + timedelta(hours=1), who="hrd", via="web")
        assert reopen(session, action, NOW + timedelta(hours=2), who="hrd", via="web") == "in_progress"
        assert action.status == "in_progress" and action.next_fire_at == NOW + timedelta(hours=2)
        change = session.exec(select(ActionChange).order_by(ActionChange.id.desc())).first()  # type: ignore[union-attr]
        assert change is not None and (change.old, change.new, change.note) == ("done", "in_progress", "reopened")
        fresh = _action(session, "II.3.2")
        set_status(session, fresh, "done", NOW, who="hrd", via="web")
        assert reopen(session, fresh, NOW, who="ed-devcoop", via="web", note="not yet") == "open"
        with pytest.raises(UsageError, match=r"II\.3\.2 is not done, so there is nothing to reopen"):
            reopen(session, fresh, NOW, who="hrd", via="web")


def test_acknowledge_step_takes_the_step_with_its_open_repeats_only(world: Engine) -> None:
    first = add_escalation(world, "s1", "I.2b.1", 2, ["codev"], at=NOW - timedelta(days=2))
    repeat = add_escalation(world, "s2", "I.2b.1", 2, ["codev"], at=NOW - timedelta(days=1))
    other = add_escalation(world, "s3", "I.2b.1", 3, ["ed-devcoop"], at=NOW)
    with transaction(world) as session:
        for ident, step in ((repeat, "escalate:2#1"), (other, "escalate:3")):
            entry = session.get(Escalation, ident)
            assert entry is not None
            entry.step = step
            session.add(entry)
    with transaction(world) as session:
        done = acknowledge_step(session, repeat, NOW, who="codev", note="seen", via="web")
        world_step = session.exec(select(Escalation.id).where(Escalation.key == "k0")).one()  # I.2b.1's, to codev
        assert [e.id for e in done] == [world_step, first, repeat]  # the same step of the same occurrence
        still = session.get(Escalation, other)
        assert still is not None and still.acknowledged_at is None  # another step: not taken with it
        with pytest.raises(UsageError, match="may not acknowledge"):
            acknowledge_step(session, other, NOW, who="codev", via="web")  # over her head


def test_a_dated_progress_update_answers_the_open_check_in_and_silence_but_not_a_missed_date(world: Engine) -> None:
    from engine.read.queries import open_alerts

    overdue = add_escalation(world, "k-due", "III.d.1", 1, ["codev"])  # its due date, missed
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert action.id is not None
        for key, occurrence in [("k-checkin", "check-in 2000-04-03"), ("k-stale", "stale 2000-05-02")]:
            session.add(
                Escalation(
                    key=key,
                    at=NOW - timedelta(days=10),
                    action_id=action.id,
                    occurrence=occurrence,
                    level=1,
                    step="escalate:1",
                    policy="default",
                    recipients=["supervisor"],
                    days_overdue=0,
                )
            )
    with transaction(world) as session:
        ident = _action(session, "III.d.1").id
        before = open_alerts(session, [ident], NOW.date())[ident]  # type: ignore[index]
        assert "check-in unanswered" in before and "no progress reported" in before
        progress(session, _action(session, "III.d.1"), NOW, who="pardev", via="link", note="letter drafted")
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        assert _escalation(session, "k-checkin").resolution == "progress reported"
        assert _escalation(session, "k-stale").resolution == "progress reported"
        assert session.get(Escalation, overdue).resolved_at is None  # a report of progress is not the work done
        alerts = open_alerts(session, [action.id], NOW.date())[action.id]  # type: ignore[index]
        assert "check-in unanswered" not in alerts and "no progress reported" not in alerts
        assert alerts[0].startswith("overdue by")
