"""``planwatch status`` and ``planwatch db backup``, and the status figures read at a given ``now``."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from engine.read.status import action_counts, engine_status
from engine.store import transaction
from engine.store.models import Outbox, ServiceState

from ..web_support import NOW, web_world


def test_status_before_and_after_a_simulation(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/owners.yaml", "plans/gb276-tc2-implementation-plan.txt")
    first = json.loads(cli("status", "--json").out)
    assert first == {
        "last_tick": None,
        "pending": 0,
        "failed": 0,
        "oldest_pending": None,
        "lag_seconds": 0.0,
        "nodes": [],
        "delivery_paused": None,
        "failure_burst": None,
    }
    assert "never (is `planwatch run` running?)" in cli("status").out
    cli("simulate", "--from", "1999-09-28", "--until", "1999-12-31", "--commit")
    outbox = [json.loads(line) for line in cli("outbox", "--json").out.splitlines()]
    statuses = {row["status"] for row in outbox}
    assert len(outbox) > 10 and "sent" in statuses and not statuses & {"pending", "failed"}
    after = json.loads(cli("status", "--json").out)
    assert (after["pending"], after["failed"], after["oldest_pending"]) == (0, 0, None)  # every row went out


def test_backup_copies_the_embedded_database(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/gb276-tc2-implementation-plan.txt")
    result = cli("db", "backup", "backups/copy.db")
    if not cli.url.startswith("sqlite"):
        assert result.code == 2 and "pg_dump" in result.err
        return
    assert result.code == 0, result.err
    with sqlite3.connect(workdir / "backups" / "copy.db") as db:
        assert db.execute("select count(*) from action").fetchone() == (69,)
    again = cli("db", "backup", "backups/copy.db")
    assert again.code == 2 and "exists already" in again.err


def test_engine_status_counts_lag_and_recent_nodes_at_a_given_now(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        for n, (status, ago) in enumerate([("pending", 90), ("pending", -60), ("failed", 5), ("sent", 500)]):
            s.add(
                Outbox(
                    key=f"s{n}",
                    occurrence="",
                    step="remind",
                    type="reminder",
                    recipient="a@example.org",
                    template="reminder",
                    due_at=NOW - timedelta(minutes=ago),
                    created_at=NOW - timedelta(days=1),
                    status=status,
                )
            )
        s.add(ServiceState(key="last_tick", value="", updated_at=NOW - timedelta(minutes=1)))
        s.add(ServiceState(key="node:b", value="", updated_at=NOW - timedelta(minutes=2)))
        s.add(ServiceState(key="node:a", value="", updated_at=NOW - timedelta(minutes=9)))
        s.add(ServiceState(key="node:gone", value="", updated_at=NOW - timedelta(minutes=11)))
    status = engine_status(engine, NOW)
    assert (status.pending, status.failed) == (2, 1)  # the one not yet due counts, but adds no lag
    assert status.oldest_pending == NOW - timedelta(minutes=90) and status.lag_seconds == 5400.0
    assert [node for node, _ in status.nodes] == ["a", "b"]  # seen within ten minutes, by name
    shown = status.as_json()
    assert shown["last_tick"] == "2000-06-01T11:59:00Z" and shown["oldest_pending"] == "2000-06-01T10:30:00Z"
    assert shown["nodes"] == [
        {"node": "a", "seen": "2000-06-01T11:51:00Z"},
        {"node": "b", "seen": "2000-06-01T11:58:00Z"},
    ]
    assert engine_status(engine, NOW - timedelta(hours=2)).lag_seconds == 0.0  # nothing was due yet
    assert dict(action_counts(engine)) == {"open": 69}
    engine.dispose()


def test_a_message_deferred_by_the_daily_cap_is_not_lag_until_its_next_attempt(database_url: str) -> None:
    engine = web_world(database_url)
    with transaction(engine) as s:
        s.add(
            Outbox(
                key="capped",
                occurrence="",
                step="remind",
                type="reminder",
                recipient="a@example.org",
                template="reminder",
                due_at=NOW - timedelta(hours=3),
                next_attempt_at=NOW + timedelta(hours=21),
                reason="the recipient's daily cap was reached; deferred by a day",
                created_at=NOW - timedelta(days=1),
                status="pending",
            )
        )
    status = engine_status(engine, NOW)
    assert (status.pending, status.oldest_pending, status.lag_seconds) == (1, None, 0.0)
    later = engine_status(engine, NOW + timedelta(hours=22))  # an hour past its next attempt, still unsent
    assert later.oldest_pending == NOW + timedelta(hours=21) and later.lag_seconds == 3600.0
    engine.dispose()


def test_a_paused_queue_and_a_recent_burst_of_failures_are_shown(cli) -> None:  # type: ignore[no-untyped-def]
    from engine.clock import SystemClock
    from engine.drive.delivery import pause_queue, record_failures
    from engine.store import make_engine

    cli("import", "plans/gb276-tc2-implementation-plan.txt")
    engine = make_engine(cli.url)
    with engine.connect() as conn:
        pause_queue(conn, None, "config", "535 5.7.8 Authentication credentials invalid", NOW)
        record_failures(conn, 7, "550 5.1.1 User unknown", NOW)
    status = engine_status(engine, NOW + timedelta(minutes=5))
    assert status.paused == {
        "kind": "config",
        "reason": "535 5.7.8 Authentication credentials invalid",
        "since": "2000-06-01T12:00:00+00:00",
        "until": "2000-06-01T12:15:00+00:00",
    }
    assert status.failure_burst is not None and status.failure_burst["count"] == 7
    assert status.degraded.startswith("mail delivery paused since 2000-06-01T12:00:00+00:00: 535")
    assert engine_status(engine, NOW + timedelta(days=2)).failure_burst is None  # a burst is news for a day
    shown = cli("status").out
    assert "Mail delivery is PAUSED since 2000-06-01T12:00:00+00:00" in shown and "535 5.7.8" in shown
    with engine.connect() as conn:  # the command reads the system clock: a burst of today
        record_failures(conn, 9, "550 5.1.1 User unknown", SystemClock().now())
    assert "9 messages failed at once" in cli("status").out
    assert json.loads(cli("status", "--json").out)["delivery_paused"]["kind"] == "config"
    engine.dispose()
