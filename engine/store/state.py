"""Small facts kept across restarts (``service_state``): last tick, and the like."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from engine.store.bulk import upsert_state
from engine.store.tables import SERVICE_STATE as T

LINK_KEY = "link_key"  # the key a demo database's links were signed with, none being configured (``planwatch demo``)


def set_state(engine: Engine, key: str, value: str, now: datetime) -> None:
    """Remember ``value`` under ``key``."""
    with engine.begin() as conn:
        upsert_state(conn, T, key, value, now)


def get_state(engine: Engine, key: str) -> str | None:
    """Return the value remembered under ``key``, or None."""
    with engine.connect() as conn:
        return conn.execute(select(T.c.value).where(T.c.key == key)).scalar()


def recorded_link_key(engine: Engine) -> str:
    """Return the key this database's links were signed with when no key was configured (a demo's), or ""."""
    try:
        return get_state(engine, LINK_KEY) or ""
    except SQLAlchemyError:  # no schema yet: nothing was signed
        return ""
