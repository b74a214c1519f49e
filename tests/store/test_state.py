"""Small facts kept across restarts (``service_state``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine.store import make_engine, upgrade
from engine.store.state import get_state, set_state
from engine.store.tables import SERVICE_STATE

NOW = datetime(2000, 3, 1, 9, tzinfo=UTC)


def test_a_value_is_remembered_replaced_and_missing_keys_are_none(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    assert get_state(engine, "last_tick") is None
    set_state(engine, "last_tick", "2000-03-01T09:00:00+00:00", NOW)
    set_state(engine, "digest:o1", "2000-02-28", NOW)
    set_state(engine, "last_tick", "2000-03-01T10:00:00+00:00", NOW + timedelta(hours=1))
    assert get_state(engine, "last_tick") == "2000-03-01T10:00:00+00:00"
    assert get_state(engine, "digest:o1") == "2000-02-28"
    with engine.connect() as conn:
        rows = conn.execute(select(SERVICE_STATE.c.key, SERVICE_STATE.c.updated_at).order_by("key")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("digest:o1", NOW), ("last_tick", NOW + timedelta(hours=1))]
