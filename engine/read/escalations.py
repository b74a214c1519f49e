"""The escalation log: scoped queries for supervisors (acknowledging is in ``workflow``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session, col, select

from engine.store.directory import everyone_below
from engine.store.lookups import supervisors
from engine.store.models import Action, Escalation


@dataclass(frozen=True, slots=True)
class EscalationFilter:
    """Which log entries to show; None means any."""

    supervisor: str | None = None
    open_only: bool = False
    since: date | None = None


def subordinates(session: Session, supervisor: str) -> set[str]:
    """Return the ids of everyone below ``supervisor``, at any depth (not the supervisor)."""
    return set(everyone_below(supervisor, supervisors(session)))


def escalation_log(session: Session, flt: EscalationFilter = EscalationFilter()) -> list[dict[str, Any]]:
    """Return log entries (newest first) as plain dicts, scoped and filtered."""
    query = select(Escalation, Action).join(Action, col(Action.id) == Escalation.action_id)
    if flt.supervisor is not None:
        from engine.read.queries import find_owner

        find_owner(session, flt.supervisor)
        query = query.where(col(Action.owner_id).in_(subordinates(session, flt.supervisor)))
    if flt.open_only:
        query = query.where(col(Escalation.acknowledged_at).is_(None), col(Escalation.resolved_at).is_(None))
    if flt.since is not None:
        query = query.where(Escalation.at >= datetime.combine(flt.since, time(0), UTC))
    rows = session.exec(query.order_by(col(Escalation.at).desc(), col(Escalation.id).desc())).all()
    return [_entry(e, a) for e, a in rows]


def _entry(e: Escalation, a: Action) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat().replace("+00:00", "Z"),
        "action": a.ref,
        "plan": a.plan_id,
        "title": a.title,
        "owner": a.owner_id,
        "occurrence": e.occurrence,
        "level": e.level,
        "step": e.step,
        "policy": e.policy,
        "recipients": list(e.recipients or []),
        "days_overdue": e.days_overdue,
        "acknowledged_by": e.acknowledged_by,
        "acknowledged_at": e.acknowledged_at.isoformat().replace("+00:00", "Z") if e.acknowledged_at else None,
        "note": e.ack_note,
        "resolution": e.resolution,
    }
