"""Extension requests: an owner asks for a later due date; a supervisor grants or refuses it.

Granting goes through ``workflow.extend`` (logged, escalations resolved, reminders re-planned,
the ``extension_granted`` message queued to the owner). Datetimes are aware UTC; dates are
plan-local days.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from engine.actions.workflow import extend
from engine.errors import UsageError
from engine.plandoc import effective_due
from engine.store.models import Action
from engine.store.plans import record_change
from engine.store.web_models import ExtensionRequest


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
        action_id=action.id, requested_by=who, requested_at=now, wanted=wanted, reason=reason, via=via
    )
    session.add(row)
    record_change(
        session, action, now, who, via, "extension requested", current.isoformat(), wanted.isoformat(), reason
    )
    return row


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
    if grant:
        grant_extension(session, action, request.wanted, now, who=who, via=via, reason=note or request.reason)
    else:
        record_change(session, action, now, who, via, "extension refused", None, request.wanted.isoformat(), note)
    request.status = "granted" if grant else "refused"
    request.decided_by, request.decided_at, request.decision_note = who, now, note
    session.add(request)


def grant_extension(
    session: Session, action: Action, to: date, now: datetime, *, who: str, via: str, reason: str
) -> None:
    """Extend ``action`` to ``to``; ``workflow.extend`` queues the ``extension_granted`` message to its owner."""
    extend(session, action, to, now, who=who, via=via, reason=reason)
