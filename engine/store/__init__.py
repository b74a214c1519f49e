"""The store: tables, sessions, queries and migrations (SQLite and PostgreSQL)."""

from engine.store.db import ensure_schema, make_engine, transaction, upgrade
from engine.store.models import Action, ActionChange, Owner, Plan, Section

__all__ = [
    "Action",
    "ActionChange",
    "Owner",
    "Plan",
    "Section",
    "ensure_schema",
    "make_engine",
    "transaction",
    "upgrade",
]
