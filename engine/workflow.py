"""Changes people make to actions: status, and schedule decisions. Each is recorded with who and how."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from engine.errors import UsageError
from engine.importers.document import ActionRow, SectionRow
from engine.resolve import NamedEvent, resolve_plan
from engine.store.models import STATUSES, Action, Plan, Section
from engine.store.plans import SCHEDULE_FIELDS, record_change


def set_status(session: Session, action: Action, status: str, now: datetime, *, who: str, via: str, note: str = "") -> bool:
    """Move an action to ``status``; return False when it already was there."""
    if status not in STATUSES:
        raise UsageError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if action.status == status and not note:
        return False
    old = action.status
    action.status, action.status_note, action.updated_at = status, note, now
    session.add(action)
    record_change(session, action, now, who, via, "status", old, status, note)
    return old != status


OVERRIDE_KEYS = ("kind", "start", "due", "rrule", "event", "after")


def set_schedule(
    session: Session, action: Action, values: dict[str, Any], now: datetime, *,
    who: str, via: str, note: str = "", events: Sequence[NamedEvent] = (),
) -> None:
    """Record explicit schedule values for an action (as the plan file's ``schedule:`` does)."""
    unknown = set(values) - set(OVERRIDE_KEYS)
    if unknown or not values:
        raise UsageError(f"nothing to set; give one of --{', --'.join(OVERRIDE_KEYS)}")
    if "after" in values:
        _check_after(session, action, values["after"])
    override = dict(action.override or {})
    override.update({k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()})
    _check_order(override)
    old = dict(action.override or {})
    action.override = override
    refresh_schedules(session, action.plan_id, now, events)
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


def refresh_schedules(session: Session, plan_id: str, now: datetime, events: Sequence[NamedEvent] = ()) -> None:
    """Re-read every action's schedule of a plan (after an override changed)."""
    plan = session.get(Plan, plan_id)
    assert plan is not None
    actions = list(session.exec(select(Action).where(Action.plan_id == plan_id, Action.removed_at == None)).all())  # noqa: E711
    sections = session.exec(select(Section).where(Section.plan_id == plan_id)).all()
    rows = [ActionRow(ref=a.ref, section_key=a.section_key, ordinal=a.ordinal, title=a.title,
                      timeframe=a.timeframe, timeframe_proposed=a.timeframe_proposed, override=dict(a.override or {}))
            for a in actions]
    section_rows = [SectionRow(s.key, s.parent_key, s.level, s.number, s.title, s.context, s.ordinal) for s in sections]
    schedules = resolve_plan(rows, section_rows, plan.ref_date, plan.fy_start, events)
    for action in actions:
        fields = schedules[action.ref]
        if any(getattr(action, k) != fields[k] for k in SCHEDULE_FIELDS):
            for k in SCHEDULE_FIELDS:
                setattr(action, k, fields[k])
            action.updated_at = now
            session.add(action)
