"""Everything about one action, for its page: text and context, reading, owner, history, messages,
escalations, extension requests, extensions granted (from the original due date), completions and
calendar UIDs. Read-only; datetimes aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from engine.calendars.uids import event_uid, series_uid_day
from engine.importers.owners import supervisor_chain
from engine.plandoc import effective_due
from engine.read.extension_history import ExtensionHistory, extension_histories
from engine.read.queries import history
from engine.store.feed_models import FeedEvent
from engine.store.followup_models import ClosureReport, Evidence, ProgressUpdate
from engine.store.lookups import supervisors
from engine.store.models import (
    Action,
    ActionChange,
    Completion,
    Escalation,
    Outbox,
    Owner,
    Plan,
    Section,
)
from engine.store.web_models import ExtensionRequest


@dataclass
class Sheet:
    """One action and all that is recorded about it."""

    action: Action
    plan: Plan
    sections: list[Section]
    owner: Owner | None
    chain: list[str]
    changes: list[ActionChange]
    messages: list[Outbox]
    escalations: list[Escalation]
    requests: list[ExtensionRequest]
    completions: list[Completion]
    uids: list[tuple[str, str]] = field(default_factory=list)
    extensions: ExtensionHistory = field(default_factory=lambda: ExtensionHistory(None))
    updates: list[ProgressUpdate] = field(default_factory=list)  # dated progress reports, newest first
    closures: list[ClosureReport] = field(default_factory=list)  # reports of implementation, newest first
    evidence: list[Evidence] = field(default_factory=list)  # files and links, oldest first (no file bytes)

    @property
    def due(self) -> date | None:
        """Return the due date in force (an extension's, else the plan's)."""
        return effective_due(self.action.due, self.action.extended_to)

    @property
    def pending_request(self) -> ExtensionRequest | None:
        """Return the undecided extension request, if any."""
        return next((r for r in self.requests if r.status == "pending"), None)


def build_sheet(session: Session, action: Action) -> Sheet:
    """Return the sheet of ``action``."""
    plan = session.get(Plan, action.plan_id)
    assert plan is not None and action.id is not None
    owner = session.get(Owner, action.owner_id) if action.owner_id else None
    bosses = supervisors(session)
    return Sheet(
        action=action,
        plan=plan,
        sections=_path(session, action),
        owner=owner,
        chain=supervisor_chain(owner.id, bosses) if owner else [],
        changes=history(session, action),
        messages=list(
            session.exec(
                select(Outbox)
                .where(Outbox.action_id == action.id)
                .order_by(col(Outbox.due_at), col(Outbox.id))
                .limit(500)
            ).all()
        ),
        escalations=list(
            session.exec(
                select(Escalation)
                .where(Escalation.action_id == action.id)
                .order_by(col(Escalation.at), col(Escalation.id))
            ).all()
        ),
        requests=list(
            session.exec(
                select(ExtensionRequest)
                .where(ExtensionRequest.action_id == action.id)
                .order_by(col(ExtensionRequest.requested_at))
            ).all()
        ),
        completions=list(
            session.exec(
                select(Completion).where(Completion.action_id == action.id).order_by(col(Completion.occurrence))
            ).all()
        ),
        uids=calendar_uids(session, action),
        extensions=extension_histories(session, [action.id])[action.id],
        **follow_up(session, action.id),
    )


def follow_up(session: Session, action_id: int) -> dict[str, Any]:
    """Return the action's dated updates and closure reports (newest first) and its evidence (oldest first)."""
    updates = select(ProgressUpdate).where(ProgressUpdate.action_id == action_id)
    closures = select(ClosureReport).where(ClosureReport.action_id == action_id)
    files = select(Evidence).where(Evidence.action_id == action_id).options(defer(Evidence.data))  # type: ignore[arg-type]
    return {
        "updates": list(session.exec(updates.order_by(col(ProgressUpdate.at).desc(), col(ProgressUpdate.id).desc()))),
        "closures": list(
            session.exec(closures.order_by(col(ClosureReport.reported_at).desc(), col(ClosureReport.id).desc()))
        ),
        "evidence": list(session.exec(files.order_by(col(Evidence.at), col(Evidence.id)))),
    }


def _path(session: Session, action: Action) -> list[Section]:
    """Return the Part, issue and sub-issue the action sits in, outermost first."""
    rows = {s.key: s for s in session.exec(select(Section).where(Section.plan_id == action.plan_id)).all()}
    found: list[Section] = []
    key: str | None = action.section_key
    while key is not None and key in rows and len(found) < 10:
        found.append(rows[key])
        key = rows[key].parent_key
    return found[::-1]


def calendar_uids(session: Session, action: Action) -> list[tuple[str, str]]:
    """Return (what, UID) of the action's calendar events: as published, else as they will be (``calendars.uids``)."""
    published = _published(session, action)
    if published:
        return [(what, event_uid(action.plan_id, action.ref, what, day)) for what, day in published]
    planned = [("due", action.due), ("start", action.start)]
    if action.kind == "recurring":
        plan = session.get(Plan, action.plan_id)
        planned = [("recurring", series_uid_day(action.start, plan.ref_date) if plan else action.start)]
    return [(what, event_uid(action.plan_id, action.ref, what, day)) for what, day in planned if day is not None]


def _published(session: Session, action: Action) -> list[tuple[str, Any]]:
    rows = session.exec(
        select(col(FeedEvent.key), col(FeedEvent.uid_day))
        .where(FeedEvent.action_id == action.id)
        .order_by(col(FeedEvent.key))
    ).all()
    return [(key.rsplit("|", 1)[-1], day) for key, day in rows]
