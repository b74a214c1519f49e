"""Extension requests: an owner asks for a later due date; a supervisor grants or refuses it.

Asking queues the ``extension_requested`` message to whoever decides: the owner's supervisor, or
the secretariat when the owner has none (the rules name no other decider). Granting goes through
``workflow.extend`` (logged, escalations resolved, reminders re-planned, the ``extension_granted``
message queued to the owner); refusing queues ``extension_refused`` to the owner. Every message
goes through the outbox's one ``enqueue``. Datetimes are aware UTC; dates are plan-local days.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from engine.actions.workflow import extend
from engine.errors import UsageError
from engine.outbox import message_key, tell_now
from engine.plandoc import effective_due
from engine.rules.loader import working_instant
from engine.store.models import Action, Owner
from engine.store.plans import record_change
from engine.store.web_models import ExtensionRequest

SEES_ALL = frozenset({"secretariat", "admin"})  # who decides when the owner has no supervisor


def request_extension(
    session: Session, action: Action, wanted: date, now: datetime, *, who: str, via: str, reason: str
) -> ExtensionRequest:
    """Record a request to move ``action``'s due date to ``wanted``; return it (pending)."""
    current = effective_due(action.due, action.extended_to)
    if current is None:
        raise UsageError(f"{action.ref} has no due date to extend")
    if wanted <= current:
        raise UsageError(f"the new date {wanted.isoformat()} is not after the current due date {current.isoformat()}")
    assert action.id is not None
    row = ExtensionRequest(
        action_id=action.id, requested_by=who, requested_at=now, wanted=wanted, from_due=current, reason=reason, via=via
    )
    session.add(row)
    record_change(
        session, action, now, who, via, "extension requested", current.isoformat(), wanted.isoformat(), reason
    )
    session.flush()  # the request's id names its message
    decider = decider_of(session, action)
    if decider is not None:
        role = "supervisor" if decider.role not in SEES_ALL else "secretariat"
        _tell(session, action, row, decider, "extension_requested", role, current, now)
    return row


def decider_of(session: Session, action: Action) -> Owner | None:
    """Return who decides ``action``'s extension requests: its owner's supervisor, else the secretariat."""
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    boss = session.get(Owner, owner.supervisor_id) if owner is not None and owner.supervisor_id else None
    if boss is not None:
        return boss
    staff = session.exec(select(Owner).where(col(Owner.role).in_(sorted(SEES_ALL))).order_by(col(Owner.id))).first()
    return staff or session.get(Owner, "secretariat")


def _tell(
    session: Session,
    action: Action,
    request: ExtensionRequest,
    person: Owner,
    template: str,
    role: str,
    current: date,
    now: datetime,
) -> None:
    """Queue ``template`` about ``request`` to ``person``; the payload names people, never ids."""
    asker = session.get(Owner, request.requested_by)
    decider = session.get(Owner, request.decided_by) if request.decided_by else None
    assert action.id is not None and request.id is not None
    payload = {
        "role": role,
        "role_tz": person.timezone,
        "date": current.isoformat(),
        "from": current.isoformat(),
        "to": request.wanted.isoformat(),
        "reason": request.reason,
        "asked_by": asker.name if asker else request.requested_by,
        "asked_on": request.requested_at.date().isoformat(),
        "by": (decider.name if decider else request.decided_by) or "",
        "note": request.decision_note,
        "what": "due",
    }
    tell_now(
        session.connection(),
        message_key(f"{action.plan_id}/{action.ref}", template, str(request.id), person.id),
        to=(person.email, person.id),
        plan_id=action.plan_id,
        action_id=action.id,
        occurrence=current.isoformat(),
        step=template,
        type="extension_request",
        template=template,
        now=now,
        payload=payload,
        due_at=working_instant(now, person.timezone, person.country),  # someone else acted: their working day
    )


def pending_requests(session: Session, scope: frozenset[str] | None) -> list[tuple[ExtensionRequest, Action]]:
    """Return the undecided requests for actions of owners in ``scope`` (None: all), oldest first."""
    query = (
        select(ExtensionRequest, Action)
        .join(Action, col(Action.id) == ExtensionRequest.action_id)
        .where(ExtensionRequest.status == "pending")
    )
    if scope is not None:
        query = query.where(col(Action.owner_id).in_(sorted(scope)))
    return [(r, a) for r, a in session.exec(query.order_by(col(ExtensionRequest.requested_at))).all()]


def requests_for(session: Session, action: Action) -> list[ExtensionRequest]:
    """Return every extension request of one action, oldest first."""
    return list(
        session.exec(
            select(ExtensionRequest)
            .where(ExtensionRequest.action_id == action.id)
            .order_by(col(ExtensionRequest.requested_at), col(ExtensionRequest.id))
        ).all()
    )


def decide(
    session: Session, request: ExtensionRequest, grant: bool, now: datetime, *, who: str, via: str, note: str = ""
) -> None:
    """Grant or refuse a pending request; granting extends the action and tells its owner."""
    if request.status != "pending":
        raise UsageError(f"this request was already {request.status}")
    action = session.get(Action, request.action_id)
    assert action is not None
    current = effective_due(action.due, action.extended_to)
    if grant:
        grant_extension(session, action, request.wanted, now, who=who, via=via, reason=note or request.reason)
    else:
        record_change(session, action, now, who, via, "extension refused", None, request.wanted.isoformat(), note)
    request.status = "granted" if grant else "refused"
    request.decided_by, request.decided_at, request.decision_note = who, now, note
    session.add(request)
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    if not grant and owner is not None and current is not None:
        session.flush()
        _tell(session, action, request, owner, "extension_refused", "owner", current, now)


def pending_request(session: Session, action: Action) -> ExtensionRequest | None:
    """Return the newest undecided extension request of ``action``, or None."""
    waiting = [r for r in requests_for(session, action) if r.status == "pending"]
    return waiting[-1] if waiting else None


def grant_extension(
    session: Session, action: Action, to: date, now: datetime, *, who: str, via: str, reason: str
) -> None:
    """Extend ``action`` to ``to``; ``workflow.extend`` queues the ``extension_granted`` message to its owner."""
    extend(session, action, to, now, who=who, via=via, reason=reason)
