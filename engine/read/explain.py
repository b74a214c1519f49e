"""Read-side views of the engine's tables for the CLI: the outbox and "why"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from engine.store.lookups import section_parents
from engine.store.models import Action, Outbox

if TYPE_CHECKING:
    from datetime import datetime

    from engine.rules.loader import RuleSet
    from engine.rules.policy import ActionFacts


def outbox_rows(
    session: Session, status: str | None, *, action_id: int | None = None, limit: int = 5000
) -> list[dict[str, Any]]:
    """Return outbox rows (by scheduled time) as plain dicts."""
    query = select(Outbox, Action.ref).join(Action, col(Action.id) == Outbox.action_id, isouter=True)
    if status is not None:
        query = query.where(Outbox.status == status)
    if action_id is not None:
        query = query.where(Outbox.action_id == action_id)
    rows = session.exec(query.order_by(col(Outbox.due_at), col(Outbox.id)).limit(limit)).all()
    return [
        {
            "id": o.id,
            "key": o.key,
            "at": o.due_at.isoformat().replace("+00:00", "Z"),
            # a catch-up goes at ``at`` but was planned for an earlier instant, which its payload keeps
            "planned": _utc_text((o.payload or {}).get("planned")) or o.due_at.isoformat().replace("+00:00", "Z"),
            "catch_up": bool((o.payload or {}).get("catch_up")),
            "action": ref,
            "recipient": o.recipient,
            "type": o.type,
            "level": o.level,
            "step": o.step,
            "occurrence": o.occurrence,
            "status": o.status,
            "reason": o.reason,
            "attempts": o.attempts,
            "last_error": o.last_error,
            "sent_at": o.sent_at.isoformat().replace("+00:00", "Z") if o.sent_at else None,
        }
        for o, ref in rows
    ]


def _utc_text(value: object) -> str | None:
    """Return an ISO instant from a payload as UTC text ending in Z (None when there is none)."""
    if not value:
        return None
    from datetime import UTC, datetime

    return datetime.fromisoformat(str(value)).astimezone(UTC).isoformat().replace("+00:00", "Z")


def facts_for(session: Session, action: Action) -> ActionFacts:
    """Return what policy matching needs to know about ``action``."""
    from engine.rules.owners import section_chain  # the rules are imported where used: ``outbox`` needs none
    from engine.rules.policy import ActionFacts, matching_kind

    parents = section_parents(session, action.plan_id)
    kind = matching_kind(action.kind, action.due)
    return ActionFacts(
        action.ref, section_chain(action.section_key, parents), kind, action.owner_id, tuple(action.tags or ())
    )


def explain_policy(session: Session, action: Action, rules: RuleSet) -> str:
    """Return a paragraph: which policy applies to ``action`` and why, and when it is next planned."""
    _, why = rules.policy_for(facts_for(session, action))
    nxt = _when(action.next_fire_at) if action.next_fire_at else "nothing planned"
    said = "".join(f"\n{line}" for line in follow_up_lines(session, action))
    return f"{action.ref} ({action.kind}, {action.status}): {why}{said}\nNext planning: {nxt}."


def _when(value: datetime) -> str:
    """Return an instant as people read it: "6 December 2026, 05:11 UTC"."""
    from datetime import UTC

    from engine.languages import moment

    at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return f"{moment(at.astimezone(UTC))} UTC"


def find_removed(session: Session, ident: str) -> Action | None:
    """Return the action ``ID`` or ``PLAN/ID`` removed from its plan (the latest removed, if several), or None."""
    plan, _, ref = ident.rpartition("/")
    query = select(Action).where(Action.ref == ref, col(Action.removed_at).is_not(None))
    if plan:
        query = query.where(Action.plan_id == plan)
    return session.exec(query.order_by(col(Action.removed_at).desc())).first()


def removed_note(session: Session, action: Action) -> str:
    """Say when and by which import a removed action left its plan, in the plan's time zone."""
    from engine.store.models import ActionChange, Plan
    from engine.zones import zone

    change = session.exec(
        select(ActionChange)
        .where(ActionChange.action_id == action.id, ActionChange.field == "removed")
        .order_by(col(ActionChange.at).desc(), col(ActionChange.id).desc())
    ).first()
    plan = session.get(Plan, action.plan_id)
    assert action.removed_at is not None
    day = action.removed_at.astimezone(zone(plan.timezone)).date() if plan is not None else action.removed_at.date()
    via = change.via if change is not None else ""
    source = f"the import of {via.removeprefix('import:')}" if via.startswith("import:") else "an import"
    return (
        f"{action.ref} was removed from the plan on {day.isoformat()} by {source}; "
        "importing a plan file that has it again restores it."
    )


def follow_up_lines(session: Session, action: Action) -> list[str]:
    """Return sentences on an action's follow-up: its acceptance, a report waiting for verification (by whom),
    and the cause of delay; none for an accepted action with neither."""
    from engine.store.followup_models import ClosureReport
    from engine.store.models import Owner

    lines = []
    if action.acceptance != "accepted" or action.acceptance_note:
        words = action.acceptance.replace("_", " ")
        lines.append(f"Acceptance: {words}" + (f" ({action.acceptance_note})." if action.acceptance_note else "."))
    waiting = session.exec(
        select(ClosureReport)
        .where(ClosureReport.action_id == action.id, ClosureReport.status == "reported")
        .order_by(col(ClosureReport.reported_at), col(ClosureReport.id))
    ).all()
    for report in waiting:
        reporter = session.get(Owner, report.reported_by)
        verifier = session.get(Owner, report.verifier_id) if report.verifier_id else None
        lead = f"Occurrence {report.occurrence} reported" if report.occurrence else "Reported"
        lines.append(
            f"{lead} implemented on {report.reported_at.date().isoformat()} by "
            f"{reporter.name if reporter else report.reported_by}, waiting for verification by "
            f"{verifier.name if verifier else 'the secretariat'}."
        )
    if action.delay_cause:
        note = f" ({action.delay_note})" if action.delay_note else ""
        lines.append(f"Cause of delay: {action.delay_cause}{note}.")
    return lines
