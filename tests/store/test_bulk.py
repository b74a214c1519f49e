"""Bulk writes store the same rows on SQLite and PostgreSQL (PostgreSQL takes one array per column)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.store import make_engine, upgrade
from engine.store.bulk import insert_ignoring_duplicates, paused_gc, update_by_id
from engine.store.models import Outbox

OUT = Outbox.__table__  # type: ignore[attr-defined]
AT = datetime(2030, 3, 30, 23, 30, tzinfo=ZoneInfo("Europe/Zurich"))


def outbox_row(key: str, **changes: Any) -> dict[str, Any]:
    row = {
        "key": key,
        "plan_id": "P",
        "action_id": None,
        "occurrence": "2030-03-31",
        "step": "remind#1",
        "type": "reminder",
        "level": 0,
        "recipient": "a@example.org",
        "recipient_id": None,
        "template": "reminder",
        "due_at": AT,
        "status": "pending",
        "reason": "",
        "attempts": 0,
        "last_error": "",
        "payload": {},
        "created_at": AT,
        "sent_at": None,
        "next_attempt_at": None,
        "message_id": None,
    }
    return row | changes


def test_insert_ignoring_duplicates_skips_known_keys_and_stores_values_alike(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    payload = {"ref": "1.2", "list": [1, "é", None], "none": None, "percent": "100% done", "nested": {"a": True}}
    with engine.begin() as conn:
        assert insert_ignoring_duplicates(conn, OUT, [outbox_row("k0")]) == 1
        batch = [
            outbox_row("k0", level=9),
            outbox_row("k1", payload=payload, level=2, recipient_id="o1"),
            outbox_row("k2", sent_at=AT + timedelta(hours=1), message_id="<m@x>"),
            outbox_row("k1", level=7),
        ]
        assert insert_ignoring_duplicates(conn, OUT, batch) == 2
        assert insert_ignoring_duplicates(conn, OUT, []) == 0
        stored = conn.execute(select(OUT).order_by(OUT.c.id)).mappings().all()
    engine.dispose()
    assert [r["key"] for r in stored] == ["k0", "k1", "k2"]
    assert [r["level"] for r in stored] == [0, 2, 0]  # the first row of a key wins
    assert stored[1]["payload"] == payload and stored[0]["payload"] == {}
    assert stored[1]["recipient_id"] == "o1" and stored[0]["recipient_id"] is None
    assert stored[0]["due_at"] == AT and str(stored[0]["due_at"]) == "2030-03-30 22:30:00+00:00"
    assert stored[2]["sent_at"] == AT + timedelta(hours=1) and stored[2]["message_id"] == "<m@x>"
    assert stored[0]["sent_at"] is None and stored[0]["next_attempt_at"] is None


def test_update_by_id_sets_each_rows_values(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    later = datetime(2031, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        insert_ignoring_duplicates(conn, OUT, [outbox_row(f"k{n}") for n in range(3)])
        ids = list(conn.execute(select(OUT.c.id).order_by(OUT.c.id)).scalars())
        update_by_id(
            conn,
            OUT,
            [
                {"id": ids[0], "next_attempt_at": later, "reason": "a"},
                {"id": ids[2], "next_attempt_at": None, "reason": "c"},
            ],
        )
        update_by_id(conn, OUT, [])
        stored = conn.execute(select(OUT.c.next_attempt_at, OUT.c.reason).order_by(OUT.c.id)).all()
    engine.dispose()
    assert [tuple(r) for r in stored] == [(later, "a"), (None, ""), (None, "c")]


def test_paused_gc_pauses_the_collector_and_gives_it_back_even_after_an_error() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested: the inner end leaves it paused
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("the job failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # a caller that had paused it keeps it paused
    finally:
        gc.enable()
