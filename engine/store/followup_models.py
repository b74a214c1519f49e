"""Tables of follow-up as governing bodies run it: closure reports with evidence, dated updates, campaigns.

An owner reports an action (or one occurrence) implemented in a ``ClosureReport``; a verifier confirms or
returns it. Each progress report is a ``ProgressUpdate`` row, never overwritten. ``Evidence`` is a file or a
link attached to a report or an update. An update ``Campaign`` asks owners, one ``CampaignRequest`` each,
to update all their open actions at once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime

CLOSURE_STATES = ("reported", "verified", "returned")
RATINGS = ("implemented", "partially_implemented", "not_implemented")


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class ClosureReport(SQLModel, table=True):
    """An owner's report that an action (or an occurrence: ``occurrence`` set) is implemented, and its verification."""

    __tablename__ = "closure_report"
    __table_args__ = (Index("ix_closure_report_state", "status", "verifier_id"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    occurrence: str = ""
    reported_at: datetime = _utc()
    reported_by: str
    via: str = "cli"
    note: str = ""
    links: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    owner_rating: str = "implemented"
    verifier_id: str | None = None
    status: str = "reported"
    decided_at: datetime | None = _utc(nullable=True)
    decided_by: str | None = None
    verifier_rating: str = ""
    comment: str = ""


class ProgressUpdate(SQLModel, table=True):
    """One dated progress report on an action: text, optional percent complete; never overwritten."""

    __tablename__ = "progress_update"
    __table_args__ = (Index("ix_progress_update_action_at", "action_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id")
    at: datetime = _utc()
    who: str
    via: str = "cli"
    text: str = ""
    percent: int | None = None
    state: str = "on track"
    occurrence: str = ""
    campaign_id: int | None = None


class Evidence(SQLModel, table=True):
    """A file (kept in the database or a configured folder) or a link attached to a closure report or an update."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    closure_id: int | None = None
    update_id: int | None = None
    kind: str = "file"  # file or link
    name: str = ""
    url: str = ""
    content_type: str = ""
    size: int = 0
    sha256: str = ""
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    stored_path: str = ""
    at: datetime = _utc()
    who: str = ""


class Campaign(SQLModel, table=True):
    """A request to every owner to update their open actions due within ``within_days`` (and the overdue ones)."""

    __tablename__ = "campaign"
    __table_args__ = (UniqueConstraint("plan_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: str = Field(foreign_key="plan.id", index=True)
    title: str
    created_at: datetime = _utc()
    created_by: str
    within_days: int = 45
    include_overdue: bool = True
    respond_by: date | None = None
    note: str = ""
    closed_at: datetime | None = _utc(nullable=True)
    # the month a campaign the rules start is for ("2000-05"), once per plan; None when started by hand
    period: str | None = None


class CampaignRequest(SQLModel, table=True):
    """One owner asked by a campaign: which actions, when asked, when answered."""

    __tablename__ = "campaign_request"
    __table_args__ = (UniqueConstraint("campaign_id", "owner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    owner_id: str
    action_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    queued_at: datetime = _utc()
    answered_at: datetime | None = _utc(nullable=True)
    updated: int = 0
