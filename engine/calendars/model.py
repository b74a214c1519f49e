"""The feed's data, in and out: what the store says about a plan, and the events made of it.

Plain frozen dataclasses, so they hash (the text cache keys on them) and compare by value.
Dates are plan-local days; datetimes are aware UTC unless a field says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from engine.plandoc import effective_due


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """A plan: its id, title, zone (IANA), reference date and last change (UTC)."""

    id: str
    title: str
    symbol: str
    timezone: str
    ref_date: date
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SectionInfo:
    """A section as printed: key, parent, level (part, issue, ...), number, title, context."""

    key: str
    parent_key: str | None
    level: str
    number: str
    title: str
    context: str = ""


@dataclass(frozen=True, slots=True)
class OwnerInfo:
    """An owner: id, name, e-mail, IANA zone and supervisor id."""

    id: str
    name: str
    email: str
    timezone: str
    supervisor_id: str | None = None


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """One action with what its events depend on; ``finished_at`` is when it became done or dropped (UTC)."""

    id: int
    plan_id: str
    ref: str
    ordinal: int
    section_key: str
    title: str
    timeframe: str
    kind: str
    status: str
    owner_id: str | None
    updated_at: datetime
    start: date | None = None
    due: date | None = None
    extended_to: date | None = None
    rrule: str | None = None
    tags: tuple[str, ...] = ()
    milestones: tuple[tuple[str, str | None, str | None], ...] = ()  # (label, due ISO, start ISO)
    last_completed: date | None = None
    completed: tuple[str, ...] = ()  # occurrence labels done (recurring actions)
    finished_at: datetime | None = None
    removed_at: datetime | None = None
    extensions: tuple[ExtensionInfo, ...] = ()  # granted, oldest first

    @property
    def due_day(self) -> date | None:
        """Return the due date in force: the extension if one was granted."""
        return effective_due(self.due, self.extended_to)


@dataclass(frozen=True, slots=True)
class ExtensionInfo:
    """One extension granted: when (plan-local day), from which due date to which, who granted and who asked, why."""

    day: date
    old: date | None
    new: date
    granted_by: str  # a name
    asked_by: str = ""  # a name; empty when nobody asked
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EscalationInfo:
    """An open entry of the escalation log: when it fired (UTC), for which action, at which level."""

    id: int
    action_id: int
    at: datetime
    level: int
    step: str
    occurrence: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class FeedData:
    """Everything the feeds of a store are made of, read in one go."""

    plans: Mapping[str, PlanInfo]
    sections: Mapping[tuple[str, str], SectionInfo]
    owners: Mapping[str, OwnerInfo]
    actions: Sequence[ActionInfo]
    escalations: Sequence[EscalationInfo] = ()


@dataclass(frozen=True, slots=True)
class TodoSpec:
    """The VTODO twin of a due event (``?todo=1``): DUE is the end of the day in the plan's zone."""

    due: datetime  # aware, in the plan's zone (a TZID value)
    status: str  # NEEDS-ACTION | IN-PROCESS | COMPLETED | CANCELLED
    percent: int
    completed: datetime | None = None  # UTC


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One published VEVENT: an all-day event or a series (RRULE/RDATE, EXDATE, done overrides).

    ``modified`` (UTC) is both DTSTAMP and LAST-MODIFIED; ``alarm`` is the TRIGGER relative to
    the start of the day; ``cancelled_since`` (plan-local day) starts the grace period.
    """

    key: str
    plan_id: str
    ref: str
    what: str
    uid: str
    day: date
    summary: str
    description: str
    url: str
    categories: tuple[str, ...]
    state: str  # open | done | hold | cancelled
    modified: datetime
    sequence: int = 0
    rrule: str | None = None
    rdates: tuple[date, ...] = ()
    exdates: tuple[date, ...] = ()
    done_days: tuple[date, ...] = ()
    done_summary: str = ""
    alarm: timedelta | None = None
    owner_id: str | None = None
    part: str = ""
    ordinal: int = 0
    team_only: bool = False
    title: str = ""
    cancelled_since: date | None = None
    todo: TodoSpec | None = None
    uid_day: date | None = None  # the date a new UID is made from, when not ``day`` (see ``calendars.uids``)

    @property
    def status(self) -> str:
        """Return the VEVENT STATUS: CANCELLED, TENTATIVE (on hold) or CONFIRMED."""
        return {"cancelled": "CANCELLED", "hold": "TENTATIVE"}.get(self.state, "CONFIRMED")
