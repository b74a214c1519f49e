"""Extension requests: asked for by an owner, listed for supervisors, granted (the due date moves, the
owner is told) or refused (nothing moves); each step is in the action's history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from engine.actions.extensions import decide, decider_of, pending_requests, request_extension, requests_for
from engine.errors import UsageError
from engine.store import transaction
from engine.store.models import Action, ActionChange, Escalation, Outbox, Owner

from ..web_support import NOW, web_world


@pytest.fixture
def world(database_url: str) -> Iterator[Engine]:
    engine = web_world(database_url)
    yield engine
    engine.dispose()


def _action(session: Session, ref: str) -> Action:
    return session.exec(select(Action).where(Action.ref == ref)).one()


def _history(session: Session, action: Action) -> list[tuple[str, str | None, str | None, str]]:
    changes = session.exec(select(ActionChange).where(ActionChange.action_id == action.id)).all()
    return [(c.field, c.old, c.new, c.note) for c in sorted(changes, key=lambda c: c.id or 0)]


def test_a_request_is_recorded_and_listed_for_those_who_supervise_it(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.a.1")  # pardev's, due 2000-06-30
        row = request_extension(
            session, action, date(2000, 8, 31), NOW, who="pardev", via="web", reason="waiting for the donors"
        )
        request_extension(
            session,
            _action(session, "I.2a.2"),
            date(2000, 12, 31),
            NOW + timedelta(hours=1),
            who="codev",
            via="web",
            reason="",
        )
    with transaction(world) as session:
        action = _action(session, "III.a.1")
        assert (row.status, row.requested_by, row.wanted, row.via) == ("pending", "pardev", date(2000, 8, 31), "web")
        assert _history(session, action) == [
            ("extension requested", "2000-06-30", "2000-08-31", "waiting for the donors")
        ]
        assert action.extended_to is None  # asking moves nothing
        assert [a.ref for _, a in pending_requests(session, None)] == ["III.a.1", "I.2a.2"]  # oldest first
        assert [a.ref for _, a in pending_requests(session, frozenset({"codev", "ro-lima"}))] == ["I.2a.2"]
        assert pending_requests(session, frozenset({"norms"})) == []
        assert [r.id for r in requests_for(session, action)] == [row.id]


def test_a_request_must_move_an_existing_due_date_later(world: Engine) -> None:
    with transaction(world) as session:
        with pytest.raises(UsageError, match=r"^I\.1a\.3 has no due date to extend$"):
            request_extension(
                session, _action(session, "I.1a.3"), date(2001, 1, 1), NOW, who="program", via="web", reason=""
            )
        with pytest.raises(UsageError, match="the new date 2000-06-30 is not after the current due date 2000-06-30"):
            request_extension(
                session, _action(session, "III.a.1"), date(2000, 6, 30), NOW, who="pardev", via="web", reason=""
            )


def test_granting_extends_the_action_and_tells_its_owner(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.d.1")  # due 1999-12-31, escalated (k2)
        request = request_extension(
            session, action, date(2000, 9, 30), NOW, who="pardev", via="web", reason="late data"
        )
    with transaction(world) as session:
        request = requests_for(session, _action(session, "III.d.1"))[0]
        decide(session, request, True, NOW + timedelta(hours=2), who="ed-devcoop", via="web")
    with transaction(world) as session:
        action = _action(session, "III.d.1")
        request = requests_for(session, action)[0]
        assert action.extended_to == date(2000, 9, 30) and action.due == date(1999, 12, 31)
        assert (request.status, request.decided_by, request.decided_at) == (
            "granted",
            "ed-devcoop",
            NOW + timedelta(hours=2),
        )
        assert ("extended", "1999-12-31", "2000-09-30", "late data") in _history(session, action)
        escalation = session.exec(select(Escalation).where(Escalation.key == "k2")).one()
        assert escalation.resolution == "extended to 2000-09-30"
        told = session.exec(select(Outbox).where(Outbox.template == "extension_granted")).one()
        assert (told.recipient, told.action_id, told.payload["from"], told.payload["to"]) == (
            "rafael.quispe@example.org",
            action.id,
            "1999-12-31",
            "2000-09-30",
        )
        assert pending_requests(session, None) == []
        with pytest.raises(UsageError, match="this request was already granted"):
            decide(session, request, False, NOW, who="ed-devcoop", via="web")


def test_refusing_moves_nothing_and_tells_the_owner(world: Engine) -> None:
    with transaction(world) as session:
        action = _action(session, "III.a.2")
        request = request_extension(session, action, date(2000, 7, 31), NOW, who="pardev", via="web", reason="")
        session.flush()
        decide(session, request, False, NOW, who="ed-devcoop", via="cli", note="the board meets in July")
    with transaction(world) as session:
        action = _action(session, "III.a.2")
        request = requests_for(session, action)[0]
        assert action.extended_to is None
        assert (request.status, request.decision_note) == ("refused", "the board meets in July")
        assert _history(session, action)[-1] == ("extension refused", None, "2000-07-31", "the board meets in July")
        assert session.exec(select(Outbox).where(Outbox.template == "extension_granted")).all() == []
        told = session.exec(select(Outbox).where(Outbox.template == "extension_refused")).one()
        assert (told.recipient_id, told.payload["role"], told.status) == ("pardev", "owner", "pending")
        assert (told.payload["from"], told.payload["to"]) == ("2000-06-30", "2000-07-31")  # both dates stay visible
        assert (told.payload["by"], told.payload["note"]) == ("Amara Okafor", "the board meets in July")


def test_a_request_tells_the_owners_supervisor_who_decides(world: Engine) -> None:
    with transaction(world) as session:
        request_extension(
            session, _action(session, "III.a.1"), date(2000, 8, 31), NOW, who="pardev", via="web", reason="donors"
        )
    with transaction(world) as session:
        asked = session.exec(select(Outbox).where(Outbox.template == "extension_requested")).one()
        assert (asked.recipient_id, asked.recipient, asked.payload["role"]) == (
            "ed-devcoop",
            "amara.okafor@example.org",
            "supervisor",
        )
        assert (asked.payload["from"], asked.payload["to"], asked.payload["reason"]) == (
            "2000-06-30",
            "2000-08-31",
            "donors",
        )
        assert asked.payload["asked_by"] == "Rafael Quispe" and asked.due_at == NOW and asked.status == "pending"


def test_a_request_of_an_owner_without_a_supervisor_goes_to_the_secretariat(world: Engine) -> None:
    with transaction(world) as session:
        owner = session.get(Owner, "pardev")
        assert owner is not None
        owner.supervisor_id = None
        session.add(owner)
    with transaction(world) as session:
        action = _action(session, "III.a.1")
        assert decider_of(session, action) is not None
        request_extension(session, action, date(2000, 8, 31), NOW, who="pardev", via="web", reason="")
    with transaction(world) as session:
        asked = session.exec(select(Outbox).where(Outbox.template == "extension_requested")).one()
        staff = session.get(Owner, asked.recipient_id)
        assert staff is not None and staff.role in {"secretariat", "admin"}
        assert asked.payload["role"] == "secretariat"
