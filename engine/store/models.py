"""The tables. Every datetime column is aware UTC (``UTCDateTime``); dates are plan-local days."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime

STATUSES = ("open", "in_progress", "reported", "done", "dropped", "on_hold")
ACCEPTANCE = ("accepted", "partially_accepted", "not_accepted", "under_consideration")


def _utc(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Plan(SQLModel, table=True):
    """An implementation plan: its identity, reference date and time zone."""

    id: str = Field(primary_key=True)
    title: str
    symbol: str = ""
    body: str = ""
    ref_date: date
    timezone: str
    fy_start: int | None = None
    source: str = ""
    source_format: str = ""
    imported_at: datetime = _utc()
    updated_at: datetime = _utc()
    # the date line's place when planwatch knows no time zone for it: the plan is in review until one is chosen
    zone_review: str = Field(default="", sa_column_kwargs={"server_default": ""})
    language: str = Field(default="en", sa_column_kwargs={"server_default": "en"})  # en, fr or es


class Section(SQLModel, table=True):
    """A Part, an issue, a sub-issue or a sub-heading, numbered as printed."""

    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: str = Field(foreign_key="plan.id", index=True)
    key: str
    parent_key: str | None = None
    level: str
    number: str = ""
    title: str
    context: str = ""
    ordinal: int


class Owner(SQLModel, table=True):
    """A person (or an office) who owns actions or supervises those who do."""

    id: str = Field(primary_key=True)
    name: str
    email: str
    timezone: str
    supervisor_id: str | None = Field(default=None, foreign_key="owner.id")
    delegate_id: str | None = None
    digest: str = Field(default="none", sa_column_kwargs={"server_default": "none"})
    role: str = Field(default="owner", sa_column_kwargs={"server_default": "owner"})
    away_from: date | None = None
    away_to: date | None = None
    deputy_id: str | None = None
    country: str | None = None  # ISO 3166 alpha-2: whose holidays the owner keeps
    language: str | None = None  # en, fr or es; None: the plan's language
    unit: str | None = None  # the unit the implementation report counts their actions under; None: worked out


class Action(SQLModel, table=True):
    """One row of the plan: what is to be done, by whom, and its time frame as printed and as read."""

    __table_args__ = (
        UniqueConstraint("plan_id", "ref"),
        Index("ix_action_plan_ordinal", "plan_id", "ordinal"),
        Index("ix_action_ref", "ref"),  # the escalations page's one-action filter
        Index("ix_action_section_key", "section_key"),  # the escalations page's Part filter
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: str = Field(foreign_key="plan.id")
    ref: str
    section_key: str
    subheading: str = ""
    ordinal: int
    title: str
    description: str = ""
    timeframe: str = ""
    timeframe_proposed: str | None = None
    owner_id: str | None = Field(default=None, foreign_key="owner.id", index=True)
    owner_source: str = ""
    status: str = "open"
    status_note: str = ""
    kind: str = "unscheduled"
    start: date | None = None
    due: date | None = None
    rrule: str | None = None
    milestones: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    event: str | None = None
    after_ref: str | None = None
    needs_review: bool = True
    reason: str = ""
    override: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    removed_at: datetime | None = _utc(nullable=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    next_fire_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))
    planned_through: datetime | None = _utc(nullable=True)
    extended_to: date | None = None
    last_completed: date | None = None
    last_progress_at: datetime | None = _utc(nullable=True)
    policy: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # accepted, partially_accepted, not_accepted (with the reason in acceptance_note) or under_consideration
    acceptance: str = Field(default="accepted", sa_column_kwargs={"server_default": "accepted"})
    acceptance_note: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # why an overdue action is late: one of the rules' delay causes, and the owner's words
    delay_cause: str = Field(default="", sa_column_kwargs={"server_default": ""})
    delay_note: str = Field(default="", sa_column_kwargs={"server_default": ""})


class ActionChange(SQLModel, table=True):
    """One recorded change to an action: who changed which field, when and through what."""

    __tablename__ = "action_change"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    at: datetime = _utc()
    who: str
    via: str
    field: str
    old: str | None = None
    new: str | None = None
    note: str = ""


class Outbox(SQLModel, table=True):
    """One message to send (or deliberately not send), unique by its idempotency key."""

    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    plan_id: str | None = None
    action_id: int | None = Field(default=None, foreign_key="action.id", index=True)
    occurrence: str
    step: str
    type: str
    level: int = 0
    recipient: str
    recipient_id: str | None = Field(default=None, index=True)
    template: str
    due_at: datetime = _utc()
    status: str = "pending"
    reason: str = ""
    attempts: int = 0
    last_error: str = ""
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = _utc()
    sent_at: datetime | None = _utc(nullable=True)
    next_attempt_at: datetime | None = _utc(nullable=True)
    message_id: str | None = None


class Escalation(SQLModel, table=True):
    """The append-only escalation log: one row per step fired for an occurrence."""

    # The escalations page (a page of actions in lateness order) and the report (the open occurrences of each
    # action) read from an index alone (covering).
    __table_args__ = (
        Index(
            "ix_escalation_by_action",
            "action_id",
            "resolved_at",
            "acknowledged_at",
            "level",
            "at",
            "days_overdue",
            "occurrence",
        ),
        Index("ix_escalation_by_time", "at", "action_id", "days_overdue", "level", "resolved_at", "acknowledged_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    action_id: int = Field(foreign_key="action.id", index=True)
    occurrence: str
    level: int
    step: str
    policy: str
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    days_overdue: int
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = _utc(nullable=True)
    ack_note: str = ""
    resolved_at: datetime | None = _utc(nullable=True)
    resolution: str = ""


class Completion(SQLModel, table=True):
    """One occurrence of a recurring action done (or the action itself: occurrence "")."""

    __table_args__ = (UniqueConstraint("action_id", "occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id")
    occurrence: str
    at: datetime = _utc()
    who: str
    via: str
    note: str = ""


class ServiceState(SQLModel, table=True):
    """Small facts the service keeps across restarts (last tick, last digest per recipient)."""

    __tablename__ = "service_state"

    key: str = Field(primary_key=True)
    value: str
    updated_at: datetime = _utc()
