"""Every table as a SQLAlchemy Core ``Table``, typed, for the queries written in Core.

Modules that build Core statements import the tables from here (``from engine.store.tables
import ACTION``) instead of reaching for a model's untyped ``__table__``.
"""

from __future__ import annotations

from sqlalchemy import Table

from engine.store.feed_models import FeedEvent, FeedToken
from engine.store.followup_models import Campaign, CampaignRequest, ClosureReport, Evidence, ProgressUpdate
from engine.store.models import (
    Action,
    ActionChange,
    Completion,
    Escalation,
    Outbox,
    Owner,
    Plan,
    Section,
    ServiceState,
)
from engine.store.types import table_of
from engine.store.web_models import ExtensionRequest, SigninMail, UsedLink, WebSession

__all__ = [
    "ACTION",
    "ACTION_CHANGE",
    "CAMPAIGN",
    "CAMPAIGN_REQUEST",
    "CLOSURE_REPORT",
    "COMPLETION",
    "ESCALATION",
    "EVIDENCE",
    "EXTENSION_REQUEST",
    "FEED_EVENT",
    "FEED_TOKEN",
    "OUTBOX",
    "OWNER",
    "PLAN",
    "PROGRESS_UPDATE",
    "SECTION",
    "SERVICE_STATE",
    "SIGNIN_MAIL",
    "USED_LINK",
    "WEB_SESSION",
    "table_of",
]

PLAN: Table = table_of(Plan)
SECTION: Table = table_of(Section)
OWNER: Table = table_of(Owner)
ACTION: Table = table_of(Action)
ACTION_CHANGE: Table = table_of(ActionChange)
OUTBOX: Table = table_of(Outbox)
ESCALATION: Table = table_of(Escalation)
COMPLETION: Table = table_of(Completion)
SERVICE_STATE: Table = table_of(ServiceState)
FEED_TOKEN: Table = table_of(FeedToken)
FEED_EVENT: Table = table_of(FeedEvent)
WEB_SESSION: Table = table_of(WebSession)
USED_LINK: Table = table_of(UsedLink)
SIGNIN_MAIL: Table = table_of(SigninMail)
EXTENSION_REQUEST: Table = table_of(ExtensionRequest)
CLOSURE_REPORT: Table = table_of(ClosureReport)
PROGRESS_UPDATE: Table = table_of(ProgressUpdate)
EVIDENCE: Table = table_of(Evidence)
CAMPAIGN: Table = table_of(Campaign)
CAMPAIGN_REQUEST: Table = table_of(CampaignRequest)
