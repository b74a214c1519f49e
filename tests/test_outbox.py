"""The one enqueue: a known key is skipped, on SQLite and PostgreSQL, one row or many; leases taken
back; failed rows put back in the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from engine.outbox import (
    claim,
    enqueue,
    message_key,
    outbox_row,
    pending_query,
    requeue,
    take_back_leases,
    tell_now,
)
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


def test_tell_now_queues_one_message_to_one_person_due_at_once_once(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    later = AT + timedelta(hours=1)
    kwargs = {"plan_id": "gb276", "action_id": None, "occurrence": "", "step": "not-mine", "type": "escalation"}
    with engine.begin() as conn:
        sec = ("sec@example.org", "sec")
        assert tell_now(conn, "k", to=sec, template="not_mine", now=AT, payload={"a": 1}, **kwargs)
        assert not tell_now(conn, "k", to=("x@example.org", "x"), template="not_mine", now=later, payload={}, **kwargs)
    with engine.connect() as conn:
        (stored,) = conn.execute(select(OUTBOX)).mappings().all()
    expected = outbox_row(
        "k",
        recipient="sec@example.org",
        recipient_id="sec",
        template="not_mine",
        level=0,
        due_at=AT,
        now=AT,
        payload={"a": 1},
        **kwargs,  # type: ignore[arg-type]
    )
    assert {k: stored[k] for k in expected} == expected  # the first one, due at once, outside the ladder
    assert stored["due_at"] == stored["created_at"] == AT
    engine.dispose()


def test_only_untried_rows_hidden_for_less_than_a_lease_are_taken_back(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        enqueue(conn, [row(key) for key in ("leased", "retrying", "capped", "free", "sent")])
        conn.commit()
        leased = claim(conn, list(conn.execute(pending_query(AT, 10)).mappings()), AT)
        assert len(leased) == 5
        later = AT + timedelta(minutes=1)
        for key, values in {
            "retrying": {"attempts": 1, "last_error": "451 busy", "next_attempt_at": later + timedelta(minutes=2)},
            "capped": {"next_attempt_at": AT + timedelta(days=1)},
            "free": {"next_attempt_at": None},
            "sent": {"status": "sent"},
        }.items():
            conn.execute(update(OUTBOX).where(OUTBOX.c.key == key).values(**values))
        conn.commit()
        assert take_back_leases(conn, later) == 1
        due = {r["key"] for r in conn.execute(pending_query(later, 10)).mappings()}
    assert due == {"leased", "free"}  # the retry waits its turn, the capped row its day
    engine.dispose()


def test_requeue_puts_back_failed_rows_by_day_and_action_with_their_history(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        enqueue(conn, [row(key) for key in ("old", "new", "fine")])
        for key, day in (("old", 18), ("new", 21)):
            failed_at = datetime(2000, 3, day, 9, tzinfo=UTC).isoformat()
            payload = {"first_try": failed_at, "failed_at": failed_at, "history": [{"event": "failed"}]}
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.key == key)
                .values(status="failed", attempts=3, last_error="550 Rejected", payload=payload)
            )
        conn.commit()
        assert [r["key"] for r in requeue(conn, AT, since=datetime(2000, 3, 20, tzinfo=UTC), by="ops")] == ["new"]
        assert requeue(conn, AT, action_id=12345) == []
        rows = {r["key"]: r for r in conn.execute(select(OUTBOX)).mappings()}
    assert rows["new"]["status"] == "pending" and rows["new"]["next_attempt_at"] is None
    assert rows["new"]["payload"]["history"][-1] == {
        "at": AT.isoformat(),
        "event": "requeued",
        "by": "ops",
        "error": "550 Rejected",
    }
    assert "first_try" not in rows["new"]["payload"]  # three days of retries start again
    assert rows["old"]["status"] == "failed" and rows["fine"]["status"] == "pending"
    engine.dispose()
