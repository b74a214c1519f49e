"""Read-side queries shared by the CLI, the pages and the reports."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from engine.errors import NotFoundError, UsageError
from engine.store import tables
from engine.store.lookups import owner_ids
from engine.store.models import Action, ActionChange, Owner, Plan, Section
from engine.store.web_models import ExtensionRequest
from engine.zones import aware_utc

OPEN_STATUSES = ("open", "in_progress", "on_hold")


@dataclass(frozen=True, slots=True)
class ActionFilter:
    """Which actions to list; None means any."""

    plan: str | None = None
    owner: str | None = None
    status: str | None = None
    needs_review: bool | None = None


def list_actions(session: Session, flt: ActionFilter = ActionFilter()) -> list[Action]:
    """Return the active actions that pass ``flt``, in plan order."""
    query = select(Action).where(col(Action.removed_at).is_(None))
    if flt.plan is not None:
        query = query.where(Action.plan_id == flt.plan)
    if flt.owner is not None:
        query = query.where(Action.owner_id == flt.owner)
    if flt.status is not None:
        query = query.where(Action.status == flt.status)
    if flt.needs_review is not None:
        query = query.where(Action.needs_review == flt.needs_review)
    return list(session.exec(query.order_by(col(Action.plan_id), col(Action.ordinal))).all())


def find_action(session: Session, ident: str) -> Action:
    """Return the action ``ID`` or ``PLAN/ID``; raise a ``UsageError`` that suggests close ids."""
    plan, _, ref = ident.rpartition("/")
    query = select(Action).where(Action.ref == ref, col(Action.removed_at).is_(None))
    if plan:
        query = query.where(Action.plan_id == plan)
    found = list(session.exec(query).all())
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        plans = ", ".join(f"{a.plan_id}/{a.ref}" for a in found)
        raise UsageError(f"action {ident!r} is in several plans; write one of {plans}")
    refs = session.exec(select(Action.ref).where(col(Action.removed_at).is_(None))).all()
    close = difflib.get_close_matches(ref, list(refs), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `planwatch actions` lists them"
    raise NotFoundError(f"no action {ident!r}{hint}")


def active_action(session: Session, plan_id: str, ref: str) -> Action | None:
    """Return the action ``ref`` of ``plan_id`` unless it was removed from the plan."""
    return session.exec(
        select(Action).where(Action.plan_id == plan_id, Action.ref == ref, col(Action.removed_at).is_(None))
    ).first()


def open_actions_of(session: Session, owner_id: str) -> list[Action]:
    """Return the owner's actions still to be done (open, in progress or on hold), in no particular order."""
    return list(
        session.exec(
            select(Action).where(
                Action.owner_id == owner_id, col(Action.removed_at).is_(None), col(Action.status).in_(OPEN_STATUSES)
            )
        ).all()
    )


def pending_extension_ids(session: Session, action_ids: list[int | None]) -> set[int]:
    """Return which of ``action_ids`` have an extension request still to be decided."""
    rows = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.status == "pending", col(ExtensionRequest.action_id).in_(action_ids)
        )
    ).all()
    return {r.action_id for r in rows}


def open_alerts(session: Session, action_ids: list[int | None], today: date) -> dict[int, list[str]]:
    """Return, for each of ``action_ids`` with something open, what is open in plain words, as the report says it.

    An open escalation (neither acknowledged nor closed) about a check-in is "check-in unanswered", about a start
    "not started", about a date "overdue by N days" (from the earliest date missed, ``today`` being the viewer's
    day); an extension request still to be decided is "extension requested to DAY". An action with any of these
    is never shown as on track.
    """
    ids = [i for i in action_ids if i is not None]
    if not ids:
        return {}
    log = tables.ESCALATION
    query = sa_select(log.c.action_id, log.c.occurrence).where(
        log.c.action_id.in_(ids), log.c.acknowledged_at.is_(None), log.c.resolved_at.is_(None)
    )
    words: dict[int, list[str]] = {}
    missed: dict[int, date] = {}
    for action_id, occurrence in session.connection().execute(query.distinct()):
        said = _occurrence_alert(occurrence)
        if isinstance(said, date):
            missed[action_id] = min(said, missed.get(action_id, said))
        else:
            words.setdefault(action_id, []).append(said)
    for action_id, day in missed.items():
        days = max(0, (today - day).days)
        words.setdefault(action_id, []).insert(0, f"overdue by {days} day{'' if days == 1 else 's'}")
    requests = session.exec(
        select(ExtensionRequest)
        .where(ExtensionRequest.status == "pending", col(ExtensionRequest.action_id).in_(ids))
        .order_by(col(ExtensionRequest.requested_at))
    ).all()
    for request in requests:
        words.setdefault(request.action_id, []).append(f"extension requested to {request.wanted.isoformat()}")
    return {action_id: list(dict.fromkeys(said)) for action_id, said in words.items()}


def _occurrence_alert(occurrence: str) -> str | date:
    """Return the words for an open escalation's occurrence, or the date it missed."""
    if occurrence.startswith("check-in "):
        return "check-in unanswered"
    if occurrence.startswith("start "):
        return "not started"
    if occurrence.startswith("stale "):
        return "no progress reported"
    try:
        return date.fromisoformat(occurrence)
    except ValueError:
        return "escalated"


def owner_by_id_or_email(session: Session, wanted: str) -> Owner | None:
    """Return the owner whose id is ``wanted``, else the one whose e-mail is (any case), else None."""
    owner = session.get(Owner, wanted)
    if owner is not None:
        return owner
    return session.exec(select(Owner).where(func.lower(Owner.email) == wanted.lower())).first()


def find_owner(session: Session, owner_id: str) -> Owner:
    """Return an owner by id or raise ``NotFoundError``."""
    owner = session.get(Owner, owner_id)
    if owner is None:
        close = difflib.get_close_matches(owner_id, sorted(owner_ids(session)), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `planwatch owners` lists them"
        raise NotFoundError(f"no owner {owner_id!r}{hint}")
    return owner


def owners_with_chains(session: Session) -> list[tuple[Owner, list[str]]]:
    """Return every owner with their supervisors, nearest first."""
    from engine.importers.owners import supervisor_chain

    owners = list(session.exec(select(Owner).order_by(col(Owner.id))).all())
    bosses = {o.id: o.supervisor_id for o in owners}
    return [(o, supervisor_chain(o.id, bosses)) for o in owners]


def history(session: Session, action: Action) -> list[ActionChange]:
    """Return the recorded changes of an action, oldest first."""
    return list(
        session.exec(
            select(ActionChange)
            .where(ActionChange.action_id == action.id)
            .order_by(col(ActionChange.at), col(ActionChange.id))
        ).all()
    )


def sections(session: Session, plan_id: str) -> list[Section]:
    """Return a plan's sections in document order."""
    return list(session.exec(select(Section).where(Section.plan_id == plan_id).order_by(col(Section.ordinal))).all())


def plans(session: Session) -> list[Plan]:
    """Return every plan."""
    return list(session.exec(select(Plan).order_by(col(Plan.id))).all())


def reading(action: Action) -> str:
    """Return a short account of how an action's time frame was read (kind, dates, rule, event)."""
    bits = [action.kind]
    if action.start:
        bits.append(f"from {action.start.isoformat()}")
    if action.due:
        bits.append(f"due {action.due.isoformat()}")
    if action.rrule:
        bits.append(action.rrule)
    if action.event:
        bits.append(f"on: {action.event}")
    if action.after_ref:
        bits.append(f"after {action.after_ref}")
    return " ".join(bits)


def action_record(action: Action) -> dict[str, Any]:
    """Return the ``planwatch actions --json`` object of an action (dates ISO)."""
    return {
        "id": action.ref,
        "plan": action.plan_id,
        "section": action.section_key,
        "subheading": action.subheading,
        "title": action.title,
        "owner": action.owner_id,
        "timeframe": action.timeframe,
        "timeframe_proposed": action.timeframe_proposed,
        "kind": action.kind,
        "start": action.start.isoformat() if action.start else None,
        "due": action.due.isoformat() if action.due else None,
        "rrule": action.rrule,
        "milestones": action.milestones or [],
        "event": action.event,
        "after": action.after_ref,
        "status": action.status,
        "needs_review": action.needs_review,
        "reason": action.reason,
    }


def sent_by_type(session: Session) -> dict[str, int]:
    """Return how many messages of each type (reminder, checkin, ...) were sent."""
    out = tables.OUTBOX
    query = sa_select(out.c.type, func.count()).where(out.c.status == "sent").group_by(out.c.type)
    return {kind: n for kind, n in session.connection().execute(query)}


def escalation_steps_by_level(session: Session) -> dict[int, int]:
    """Return how many steps of the escalation log each level has."""
    log = tables.ESCALATION
    return {
        level: n
        for level, n in session.connection().execute(sa_select(log.c.level, func.count()).group_by(log.c.level))
    }


def last_done_at(session: Session) -> dict[int, datetime]:
    """Return, for each action marked done, when it was last marked done (aware UTC)."""
    change = tables.ACTION_CHANGE
    query = (
        sa_select(change.c.action_id, func.max(change.c.at))
        .where(change.c.field == "status", change.c.new == "done")
        .group_by(change.c.action_id)
    )
    return {action_id: at for action_id, at in session.connection().execute(query)}


def import_and_first_fire(conn: Connection) -> tuple[datetime | None, datetime | None]:
    """Return when a plan was last imported and the earliest instant any current action is planned for (aware UTC)."""
    imported = conn.execute(sa_select(func.max(tables.PLAN.c.imported_at))).scalar()
    first = conn.execute(
        sa_select(func.min(tables.ACTION.c.next_fire_at)).where(tables.ACTION.c.removed_at.is_(None))
    ).scalar()
    return aware_utc(imported), aware_utc(first)


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One message that went out (or was folded into a digest that went out), as the delivery checks read it."""

    action_id: int | None
    occurrence: str
    type: str
    recipient_id: str | None
    timezone: str | None  # the recipient's zone (None for an address outside the owners directory)
    due_at: datetime  # when the planner meant it to go out (aware UTC)
    sent_at: datetime  # when it went out: for a notice folded into a digest, when that digest went out
    in_digest: bool = False


def sent_messages(session: Session) -> list[SentMessage]:
    """Return every message sent, and every notice sent in a digest, oldest first, with the recipient's zone."""
    out, owner = tables.OUTBOX, tables.OWNER
    query = (
        sa_select(out, owner.c.timezone.label("recipient_tz"))
        .outerjoin(owner, owner.c.id == out.c.recipient_id)
        .where(out.c.status.in_(("sent", "digested")))
        .order_by(out.c.sent_at, out.c.id)
    )
    rows = list(session.connection().execute(query).mappings())
    digests = {(r["recipient_id"], r["occurrence"]): r["sent_at"] for r in rows if r["type"] == "digest"}
    found: list[SentMessage] = []
    for r in rows:
        sent_at, in_digest = r["sent_at"], r["status"] == "digested"
        if in_digest:  # the reason names the digest: "sent in digest|RECIPIENT|DAY"
            _, recipient, day = ([*str(r["reason"]).split("|"), "", ""])[:3]
            sent_at = digests.get((recipient, day))
        if sent_at is None:
            continue
        found.append(
            SentMessage(
                r["action_id"],
                r["occurrence"],
                r["type"],
                r["recipient_id"],
                r["recipient_tz"],
                aware_utc(r["due_at"]),
                aware_utc(sent_at),
                in_digest,
            )
        )
    return sorted(found, key=lambda m: m.sent_at)


def owners_of_actions(session: Session) -> dict[int, set[str]]:
    """Return, for each action, who receives as its owner: the owner, their delegate and their deputy."""
    action, owner = tables.ACTION, tables.OWNER
    query = sa_select(action.c.id, action.c.owner_id, owner.c.delegate_id, owner.c.deputy_id).outerjoin(
        owner, owner.c.id == action.c.owner_id
    )
    return {
        action_id: {who for who in (owner_id, delegate, deputy) if who}
        for action_id, owner_id, delegate, deputy in session.connection().execute(query)
    }
