"""Tables of the web pages: signed-in sessions, used one-time links, sign-in mails, extension requests.

Also the indexes the escalation review page needs on the engine's log (declared here so the
models and the migrations stay one and the same).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from engine.store.models import Escalation
from engine.store.types import UTCDateTime, table_of

EXTENSION_STATES = ("pending", "granted", "refused")


class WebSession(SQLModel, table=True):
    """A signed-in browser: only the SHA-256 of the cookie's token is kept; ``csrf`` guards its forms."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True)
    owner_id: str = Field(foreign_key="owner.id", index=True)
    csrf: str
    created_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))


class UsedLink(SQLModel, table=True):
    """A one-time link already used (a sign-in link, an action link's verb): the digest of its token."""

    __tablename__ = "used_link"

    digest: str = Field(primary_key=True)
    kind: str
    used_by: str = ""
    used_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))


class SigninMail(SQLModel, table=True):
    """A sign-in link e-mailed to an owner: how many went out lately is what limits the next ones."""

    __tablename__ = "signin_mail"
    __table_args__ = (Index("ix_signin_mail_owner_sent", "owner_id", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: str = Field(foreign_key="owner.id")
    sent_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False, index=True))


class ExtensionRequest(SQLModel, table=True):
    """An owner's request for a later due date, and the supervisor's decision on it."""

    __tablename__ = "extension_request"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    requested_by: str
    requested_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))
    wanted: date
    from_due: date | None = None  # the due date in force when it was asked for
    reason: str = ""
    via: str = "web"
    status: str = Field(default="pending", index=True)
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    decision_note: str = ""


_LOG = table_of(Escalation)
# The review page over 100,000 entries: a page is read from the lateness order without touching
# the table (covering), and its count per action in scope from the second index (covering too).
Index(
    "ix_escalation_lateness",
    _LOG.c.days_overdue,
    _LOG.c.at,
    _LOG.c.id,
    _LOG.c.resolved_at,
    _LOG.c.acknowledged_at,
    _LOG.c.level,
    _LOG.c.action_id,
)
Index("ix_escalation_review", _LOG.c.action_id, _LOG.c.resolved_at, _LOG.c.acknowledged_at, _LOG.c.level, _LOG.c.at)
