"""Tables of the calendar feeds: subscriber tokens (hashes only) and the published-event registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from engine.store.types import UTCDateTime


class FeedToken(SQLModel, table=True):
    """One subscriber's secret link to one feed; only the SHA-256 of the token is kept."""

    __tablename__ = "feed_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    subscriber: str = Field(index=True)
    feed: str
    created_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class FeedEvent(SQLModel, table=True):
    """An event as last published: its UID day, SEQUENCE, LAST-MODIFIED (UTC) and content fingerprint.

    ``gone_at`` is set when the event stopped being produced; it is then published as
    CANCELLED (from ``snapshot``) for a grace period.
    """

    __tablename__ = "feed_event"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    plan_id: str = Field(index=True)
    action_id: int | None = None
    uid_day: date
    sequence: int = 0
    fingerprint: str
    modified_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))
    gone_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
