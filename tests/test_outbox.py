"""The one enqueue: a known key is skipped, on SQLite and PostgreSQL, one row or many."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from engine.outbox import enqueue, message_key, outbox_row
from engine.store import make_engine, upgrade
from engine.store.tables import OUTBOX

AT = datetime(2000, 3, 20, 10, tzinfo=UTC)


def row(key: str, level: int = 0) -> dict[str, object]:
    return outbox_row(
        key,
        plan_id="gb276",
        action_id=None,
        occurrence="2000-03-31",
        step="remind#1",
        type="reminder",
        level=level,
        recipient="zora@example.org",
        recipient_id="zora",
        template="reminder",
        due_at=AT,
        now=AT,
        payload={"date": "2000-03-31"},
    )


def test_message_keys_join_their_parts() -> None:
    assert message_key("gb276/I.1.1", "extension", "2000-06-30", "zora") == "gb276/I.1.1|extension|2000-06-30|zora"
    assert message_key("digest", "zora", "2000-03-20") == "digest|zora|2000-03-20"


def test_enqueue_skips_known_keys_and_says_how_many_were_new(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        assert enqueue(conn, [row("a")]) == 1
        assert enqueue(conn, [row("a", level=9)]) == 0  # the first one stays as it was
        assert enqueue(conn, [row("b"), row("a"), row("c"), row("b", level=2)]) == 2
        assert enqueue(conn, []) == 0
    with engine.connect() as conn:
        stored = dict(conn.execute(select(OUTBOX.c.key, OUTBOX.c.level)).all())
        assert stored == {"a": 0, "b": 0, "c": 0}
        assert conn.execute(select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status == "pending")).scalar() == 3
    engine.dispose()
