"""The store: tables, sessions, queries and migrations (SQLite and PostgreSQL)."""

from engine.store.db import ensure_schema, make_engine, transaction, upgrade
from engine.store.feed_models import FeedEvent, FeedToken
from engine.store.followup_models import Campaign, CampaignRequest, ClosureReport, Evidence, ProgressUpdate
from engine.store.models import Action, ActionChange, Owner, Plan, Section
from engine.store.web_models import ExtensionRequest, SigninMail, UsedLink, WebSession

__all__ = [
    "Action",
    "ActionChange",
    "Campaign",
    "CampaignRequest",
    "ClosureReport",
    "Evidence",
    "ExtensionRequest",
    "FeedEvent",
    "FeedToken",
    "Owner",
    "Plan",
    "ProgressUpdate",
    "Section",
    "SigninMail",
    "UsedLink",
    "WebSession",
    "ensure_schema",
    "make_engine",
    "transaction",
    "upgrade",
]
