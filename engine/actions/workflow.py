"""Changes people make to actions: status, progress, owners, extensions, acknowledgements.

Every change is recorded (who, when, through what) and makes the next tick plan the action
again, so reminders and escalations follow the new state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.rrule import rrulestr
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from engine.actions.resolve import resolve_plan
from engine.errors import UsageError
from engine.outbox import message_key, tell_now
from engine.plandoc import OVERRIDE_KEYS, ActionRow, SectionRow, effective_due
from engine.read.escalation_review import Directory, directory
from engine.rules.events import NamedEvent
from engine.rules.loader import working_instant
from engine.store.followup_models import ClosureReport, ProgressUpdate
from engine.store.models import (
    STATUSES,
    Action,
    ActionChange,
    Completion,
    Escalation,
    Outbox,
    Owner,
    Plan,
    Section,
)
from engine.store.plans import SCHEDULE_FIELDS, forget_planned_ahead, record_change
from engine.zones import zone

FINISHED = {"done", "dropped", "on_hold"}
UNDATED_KINDS = {"unscheduled", "event"}
SOURCE_CHANGED = "The source changed after your decision"
Row = Mapping[str, Any]


def _replan(session: Session, action: Action, now: datetime) -> None:
    """Plan the action again at the next tick, taking back what was planned ahead for it."""
    if action.id is not None and action.planned_through is not None and action.planned_through > now:
        forget_planned_ahead(session.connection(), [action.id], now)
        action.planned_through = now
    action.next_fire_at = None if action.status in FINISHED else now
    action.updated_at = now


def replan(session: Session, action: Action, now: datetime) -> None:
    """Plan the action again at the next tick (what was planned ahead for it is taken back)."""
    _replan(session, action, now)


def drop_stale_outbox(session: Session, action: Action, reason: str) -> None:
    """Messages about ``action`` waiting to be sent or held for a digest are suppressed with ``reason``."""
    _drop_stale_outbox(session, action, reason)


def set_status(
    session: Session, action: Action, status: str, now: datetime, *, who: str, via: str, note: str = ""
) -> bool:
    """Move an action to ``status``; return False when it already was there."""
    if status not in STATUSES:
        raise UsageError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if action.status == status and not note:
        return False
    old = action.status
    action.status, action.status_note = status, note
    _replan(session, action, now)
    if old in FINISHED and status not in FINISHED:
        # Reopened (after a hold, or done or dropped): planning goes on from now; what fell due meanwhile is never
        # sent. A date missed by then starts a new round of its ladder from now, owner first (the planner).
        action.planned_through = now
    session.add(action)
    record_change(session, action, now, who, via, "status", old, status, note)
    if old == "reported" and status != "reported":
        _settle_reports(session, action, now, who=who, verified=status == "done", note=note)
    if status in {"done", "dropped"}:
        resolve_escalations(session, action, now, f"action {status}")
    elif status == "on_hold" and old != status:
        _drop_stale_outbox(session, action, "the action was put on hold before it was sent")
    return old != status


def _settle_reports(session: Session, action: Action, now: datetime, *, who: str, verified: bool, note: str) -> None:
    """A reported action whose status is set by hand: its waiting report is verified (done) or taken back."""
    waiting = select(ClosureReport).where(
        ClosureReport.action_id == action.id, ClosureReport.occurrence == "", ClosureReport.status == "reported"
    )
    for report in session.exec(waiting).all():
        report.status = "verified" if verified else "returned"
        report.decided_at, report.decided_by = now, who
        report.comment = note or ("closed by hand" if verified else f"taken back: the action is {action.status}")
        session.add(report)
        resolve_escalations(session, action, now, "report settled", occurrence=f"verification {report.id}")


def complete(
    session: Session,
    action: Action,
    now: datetime,
    *,
    who: str,
    via: str,
    note: str = "",
    occurrence: date | None = None,
) -> tuple[str, bool]:
    """Mark an action (or, for a recurring one, one occurrence) done; return (what, whether it changed)."""
    if action.kind != "recurring" or not action.rrule:
        return "the action", set_status(session, action, "done", now, who=who, via=via, note=note)
    plan = session.get(Plan, action.plan_id)
    assert plan is not None
    day = occurrence or current_occurrence(action, plan, now)
    label = day.isoformat()
    if session.exec(
        select(Completion).where(Completion.action_id == action.id, Completion.occurrence == label)
    ).first():
        return f"occurrence {label}", False
    assert action.id is not None
    session.add(Completion(action_id=action.id, occurrence=label, at=now, who=who, via=via, note=note))
    action.last_completed = max(day, action.last_completed or day)
    _replan(session, action, now)
    session.add(action)
    record_change(session, action, now, who, via, "completed", None, label, note)
    resolve_escalations(session, action, now, "occurrence done", occurrence=label)
    return f"occurrence {label}", True


def reopen(session: Session, action: Action, now: datetime, *, who: str, via: str, note: str = "") -> str:
    """Undo "done" (or take back a report of implementation): the action goes back to the status it had before
    it was marked done or reported (open or in progress).

    Return that status. Reminders and escalations are planned again from ``now``.
    """
    if action.status not in {"done", "reported"}:
        raise UsageError(f"{action.ref} is not done, so there is nothing to reopen")
    last = session.exec(
        select(ActionChange)
        .where(ActionChange.action_id == action.id, ActionChange.field == "status", ActionChange.new == action.status)
        .order_by(col(ActionChange.at).desc(), col(ActionChange.id).desc())
    ).first()
    back = last.old if last is not None and last.old in {"open", "in_progress"} else "open"
    set_status(session, action, back or "open", now, who=who, via=via, note=note or "reopened")
    return back or "open"


def current_occurrence(action: Action, plan: Plan, now: datetime) -> date:
    """Return the occurrence a plain "done" refers to: the latest one up to a month ahead."""
    today = now.astimezone(zone(plan.timezone)).date()
    start = datetime.combine(action.start or plan.ref_date, time(0))
    rule = rrulestr(action.rrule or "FREQ=YEARLY", dtstart=start)
    found = rule.before(datetime.combine(today + timedelta(days=31), time(0)), inc=True)
    return found.date() if found is not None and found.date() > plan.ref_date else today


def progress(
    session: Session,
    action: Action,
    now: datetime,
    *,
    who: str,
    via: str,
    note: str,
    state: str = "on track",
    percent: int | None = None,
    campaign_id: int | None = None,
    occurrence: str = "",
) -> ProgressUpdate:
    """Record a progress report as a dated update (never overwritten) and return it; an open action becomes in
    progress, and check-ins (and staleness) count it as an answer. ``percent`` is 0 to 100, or None."""
    if state not in {"on track", "at risk"}:
        raise UsageError(f"unknown progress state {state!r}; expected 'on track' or 'at risk'")
    if percent is not None and not 0 <= percent <= 100:
        raise UsageError(f"percent complete {percent} is not between 0 and 100")
    assert action.id is not None
    update = ProgressUpdate(
        action_id=action.id,
        at=now,
        who=who,
        via=via,
        text=note,
        percent=percent,
        state=state,
        occurrence=occurrence,
        campaign_id=campaign_id,
    )
    session.add(update)
    action.last_progress_at = now
    if action.status == "open":
        record_change(session, action, now, who, via, "status", "open", "in_progress", "")
        action.status = "in_progress"
    _replan(session, action, now)
    session.add(action)
    record_change(session, action, now, who, via, "progress", None, state, note)
    _answer_questions(session, action, now)
    return update


ASKED = ("check-in ", "stale ")  # the occurrences that asked the owner for news: a progress update answers them


def _answer_questions(session: Session, action: Action, now: datetime) -> None:
    """Close the open escalations of the check-ins and silences a dated progress update answers, from whatever path
    it came (a check-in's link, a page, the CLI, a campaign); a missed date stays open until the work is done."""
    query = select(Escalation).where(Escalation.action_id == action.id, col(Escalation.resolved_at).is_(None))
    for entry in session.exec(query).all():
        if entry.occurrence.startswith(ASKED):
            entry.resolved_at, entry.resolution = now, "progress reported"
            session.add(entry)


def hold(session: Session, action: Action, now: datetime, *, who: str, via: str, reason: str) -> bool:
    """Put an action on hold (reminders stop) with a reason."""
    if not reason:
        raise UsageError("--reason is required: say why the action is on hold")
    return set_status(session, action, "on_hold", now, who=who, via=via, note=reason)


def reassign(
    session: Session, action: Action, owner_id: str | None, now: datetime, *, who: str, via: str, note: str = ""
) -> None:
    """Give an action to ``owner_id`` (None: nobody, waiting for the secretariat)."""
    if owner_id is not None and session.get(Owner, owner_id) is None:
        raise UsageError(f"no owner {owner_id!r}; `planwatch owners` lists them")
    old = action.owner_id
    # "cli:X": given by hand while the plan file named X (an import keeps it while the file still names X)
    source = action.owner_source
    named = old if source == "plan" else source.removeprefix("cli:") if source.startswith("cli:") else None
    action.owner_id, action.owner_source = owner_id, f"cli:{named}" if named else "cli"
    _replan(session, action, now)
    session.add(action)
    record_change(session, action, now, who, via, "owner", old, owner_id, note)


def not_mine(session: Session, action: Action, now: datetime, *, who: str, via: str, note: str = "") -> None:
    """The owner hands the action back; the secretariat is told and the action waits for a new owner."""
    old = action.owner_id
    reassign(session, action, None, now, who=who, via=via, note=note or "not mine")
    secretariat = session.exec(
        select(Owner).where(col(Owner.role).in_(["secretariat", "admin"]))
    ).first() or session.get(Owner, "secretariat")
    if secretariat is None:
        return
    assert action.id is not None
    session.flush()  # the action's new owner first, then the message, as the session would order them
    tell_now(
        session.connection(),
        message_key(f"{action.plan_id}/{action.ref}", "not-mine", now.isoformat(), secretariat.id),
        to=(secretariat.email, secretariat.id),
        plan_id=action.plan_id,
        action_id=action.id,
        occurrence="",
        step="not-mine",
        type="escalation",
        template="not_mine",
        now=now,
        payload={"from_owner": old or "", "note": note, "date": now.date().isoformat()},
        due_at=working_instant(now, secretariat.timezone, secretariat.country),  # in the secretariat's working day
    )


def extend(session: Session, action: Action, to: date, now: datetime, *, who: str, via: str, reason: str) -> None:
    """Grant an extension: the due date becomes ``to``; logged, and open escalations are resolved."""
    current = effective_due(action.due, action.extended_to)
    if action.due is None:
        raise UsageError(
            f"{action.ref} has no due date, so there is nothing to extend; the secretariat can give it one"
        )
    if current is not None and to <= current:
        raise UsageError(f"--to {to} is not after the current due date {current}")
    action.extended_to = to
    _replan(session, action, now)
    session.add(action)
    record_change(
        session, action, now, who, via, "extended", current.isoformat() if current else None, to.isoformat(), reason
    )
    resolve_escalations(session, action, now, f"extended to {to.isoformat()}")
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    if owner is not None and current is not None:
        session.flush()
        enqueue_extension_granted(
            session.connection(),
            {"id": action.id, "plan_id": action.plan_id, "ref": action.ref},
            {"id": owner.id, "email": owner.email, "timezone": owner.timezone, "country": owner.country},
            current,
            to,
            by=who,
            reason=reason,
            now=now,
        )


def enqueue_extension_granted(
    conn: Connection, action: Row, owner: Row, old: date, new: date, *, by: str, reason: str, now: datetime
) -> bool:
    """Queue the ``extension_granted`` message to an action's owner; return whether it was new.

    ``action``/``owner`` are rows (id, plan_id, ref / id, email, timezone); dates are plan-local.
    """
    payload = {
        "role": "owner",
        "role_tz": owner["timezone"],
        "date": new.isoformat(),
        "from": old.isoformat(),
        "to": new.isoformat(),
        "by": by,
        "reason": reason,
        "what": "due",
    }
    return tell_now(
        conn,
        message_key(f"{action['plan_id']}/{action['ref']}", "extension", new.isoformat(), owner["id"]),
        to=(owner["email"], owner["id"]),
        plan_id=action["plan_id"],
        action_id=action["id"],
        occurrence=new.isoformat(),
        step="extension",
        type="reminder",
        template="extension_granted",
        now=now,
        payload=payload,
        due_at=working_instant(now, owner["timezone"], owner.get("country")),  # in the owner's working day
    )


def step_recipients(session: Session, entry: Escalation, people: Directory | None = None) -> set[str]:
    """Return who the step ``entry`` was sent to: owner ids, and the addresses it names.

    The log keeps the step's recipients as the rules name them (``owner``, ``delegate``,
    ``supervisor``, ``supervisor.supervisor``, ``secretariat``, an owner id or an address);
    the chain is read from the action's owner (``Directory.recipients``, as the escalations page reads it).
    """
    action = session.get(Action, entry.action_id)
    people = people or directory(session.connection())
    return people.recipients(entry.recipients, action.owner_id if action else None)


def addressed_to(session: Session, entry: Escalation, who: str, people: Directory | None = None) -> bool:
    """Return True when the step ``entry`` was sent to ``who`` (an owner id, or an address)."""
    action = session.get(Action, entry.action_id)
    people = people or directory(session.connection())
    return people.addressed_to(entry.recipients, action.owner_id if action else None, who)


def may_acknowledge(session: Session, entry: Escalation, who: str, people: Directory | None = None) -> bool:
    """Return True when ``who`` received the step ``entry`` or is above one of its recipients in the chain."""
    action = session.get(Action, entry.action_id)
    people = people or directory(session.connection())
    return people.may_acknowledge(entry.recipients, action.owner_id if action else None, who)


def acknowledge(
    session: Session,
    escalation_id: int,
    now: datetime,
    *,
    who: str,
    note: str = "",
    via: str = "cli",
    scoped: bool = True,
) -> Escalation:
    """Someone the step was sent to (or someone above them) acknowledges an escalation: its step stops
    repeating. ``scoped=False`` is for replaying recorded history only."""
    entry = session.get(Escalation, escalation_id)
    if entry is None:
        raise UsageError(f"no escalation {escalation_id}; `planwatch escalations` lists them")
    if scoped and not may_acknowledge(session, entry, who):
        sent_to = ", ".join(entry.recipients) or "nobody"
        raise UsageError(
            f"{who} may not acknowledge escalation {escalation_id}: it was sent to {sent_to}, "
            "and only they or someone above them in the chain may acknowledge it"
        )
    if entry.acknowledged_at is None:
        entry.acknowledged_at, entry.acknowledged_by, entry.ack_note = now, who, note
        session.add(entry)
        action = session.get(Action, entry.action_id)
        if action is not None:
            _replan(session, action, now)
            session.add(action)
            record_change(
                session, action, now, who, via, "acknowledged", None, f"{entry.step} of {entry.occurrence}", note
            )
    return entry


def acknowledge_action(
    session: Session, action: Action, now: datetime, *, who: str, note: str = "", via: str = "cli"
) -> list[Escalation]:
    """Acknowledge every open step of ``action`` that was sent to ``who``; return them (oldest first)."""
    query = select(Escalation).where(
        Escalation.action_id == action.id,
        col(Escalation.acknowledged_at).is_(None),
        col(Escalation.resolved_at).is_(None),
    )
    people = directory(session.connection())
    found = session.exec(query.order_by(col(Escalation.at))).all()
    mine = [e for e in found if addressed_to(session, e, who, people)]
    return [acknowledge(session, e.id, now, who=who, note=note, via=via) for e in mine if e.id is not None]


def acknowledge_step(
    session: Session, escalation_id: int, now: datetime, *, who: str, note: str = "", via: str = "cli"
) -> list[Escalation]:
    """Acknowledge the step ``escalation_id`` with its open repeats (the same step of the same occurrence);
    return them (oldest first). Refused, like ``acknowledge``, to someone who may not acknowledge it."""
    entry = acknowledge(session, escalation_id, now, who=who, note=note, via=via)
    base = entry.step.partition("#")[0]
    query = select(Escalation).where(
        Escalation.action_id == entry.action_id,
        Escalation.occurrence == entry.occurrence,
        col(Escalation.acknowledged_at).is_(None),
        col(Escalation.resolved_at).is_(None),
    )
    repeats = [e for e in session.exec(query.order_by(col(Escalation.at))).all() if e.step.partition("#")[0] == base]
    done = [acknowledge(session, e.id, now, who=who, note=note, via=via) for e in repeats if e.id is not None]
    return sorted([entry, *done], key=lambda e: (e.at, e.id or 0))


def resolve_escalations(
    session: Session, action: Action, now: datetime, resolution: str, occurrence: str | None = None
) -> None:
    """Close the open escalations of an action (or of one occurrence)."""
    query = select(Escalation).where(Escalation.action_id == action.id, col(Escalation.resolved_at).is_(None))
    if occurrence is not None:
        query = query.where(Escalation.occurrence == occurrence)
    for entry in session.exec(query).all():
        entry.resolved_at, entry.resolution = now, resolution
        session.add(entry)
    _drop_stale_outbox(session, action)


def _drop_stale_outbox(session: Session, action: Action, reason: str = "the action changed before it was sent") -> None:
    """Messages about an action that changed, waiting to be sent or held for a digest, are planned again, not
    sent stale."""
    waiting = select(Outbox).where(Outbox.action_id == action.id, col(Outbox.status).in_(["pending", "held"]))
    for row in session.exec(waiting).all():
        row.status, row.reason = "suppressed", reason
        session.add(row)


def set_schedule(
    session: Session,
    action: Action,
    values: dict[str, Any],
    now: datetime,
    *,
    who: str,
    via: str,
    note: str = "",
    events: Sequence[NamedEvent] = (),
) -> None:
    """Record explicit schedule values for an action (as the plan file's ``schedule:`` does)."""
    unknown = set(values) - set(OVERRIDE_KEYS)
    if unknown or not values:
        raise UsageError(f"nothing to set; give one of --{', --'.join(OVERRIDE_KEYS)}")
    if "after" in values:
        _check_after(session, action, values["after"])
    override = dict(action.override or {})
    override.update({k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()})
    if "due" in values and "kind" not in values and action.kind in UNDATED_KINDS:
        override["kind"] = "deadline"  # a date given to a reading that had none makes it a deadline
    _check_order(override)
    if override.get("kind") == "deadline" and not override.get("due") and not override.get("after"):
        raise UsageError("--kind deadline needs a due date: add --due YYYY-MM-DD (or --after ID)")
    old = dict(action.override or {})
    action.override = override
    refresh_schedules(session, action.plan_id, now, events, decided=action.ref)
    record_change(session, action, now, who, via, "schedule", _fmt(old), _fmt(override), note)


def _fmt(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(values.items())) or "(as read)"


def _check_order(override: dict[str, Any]) -> None:
    start, due = override.get("start"), override.get("due")
    if start and due and due < start:
        raise UsageError(f"due {due} is before start {start}")


def _check_after(session: Session, action: Action, target: str) -> None:
    chain = [action.ref]
    current: str | None = target
    while current is not None:
        if current in chain:
            raise UsageError(f"dependency loop: {' -> '.join([*chain, current])}")
        chain.append(current)
        row = session.exec(select(Action).where(Action.plan_id == action.plan_id, Action.ref == current)).first()
        if row is None:
            raise UsageError(f"--after: no action {current!r} in plan {action.plan_id}")
        current = (row.override or {}).get("after")


def refresh_schedules(
    session: Session, plan_id: str, now: datetime, events: Sequence[NamedEvent] = (), *, decided: str | None = None
) -> None:
    """Re-read every action's schedule of a plan (after an override changed).

    An action put back in review because its source changed after a decision stays in review
    until that action itself is decided again (``decided`` names the action just decided).
    """
    plan = session.get(Plan, plan_id)
    assert plan is not None
    actions = list(
        session.exec(select(Action).where(Action.plan_id == plan_id, col(Action.removed_at).is_(None))).all()
    )
    sections = session.exec(select(Section).where(Section.plan_id == plan_id)).all()
    rows = [
        ActionRow(
            ref=a.ref,
            section_key=a.section_key,
            ordinal=a.ordinal,
            title=a.title,
            timeframe=a.timeframe,
            timeframe_proposed=a.timeframe_proposed,
            override=dict(a.override or {}),
        )
        for a in actions
    ]
    section_rows = [SectionRow(s.key, s.parent_key, s.level, s.number, s.title, s.context, s.ordinal) for s in sections]
    schedules = resolve_plan(rows, section_rows, plan.ref_date, plan.fy_start, events, language=plan.language or None)
    for action in actions:
        fields = schedules[action.ref]
        if action.ref != decided and awaits_redecision(action):
            fields["needs_review"], fields["reason"] = True, action.reason
        if any(getattr(action, k) != fields[k] for k in SCHEDULE_FIELDS):
            for k in SCHEDULE_FIELDS:
                setattr(action, k, fields[k])
            _replan(session, action, now)
            session.add(action)


def awaits_redecision(action: Action) -> bool:
    """Return True when the action's source changed after a decision that nobody has confirmed since."""
    return bool(action.needs_review and (action.reason or "").startswith(SOURCE_CHANGED))
