"""Delivery decisions: retry waits, giving up after three days, stale reminders, and the paused queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from engine.drive.delivery import (
    CONFIG_PAUSE,
    first_try,
    gives_up,
    needs_telling,
    pause_queue,
    read_pause,
    record_failures,
    resume_queue,
    retry_wait,
    stale_reason,
)
from engine.store import make_engine, upgrade

NOW = datetime(2000, 3, 24, 8, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_retry_waits_double_with_a_stable_jitter_and_a_cap() -> None:
    waits = [retry_wait("k", n) for n in range(1, 12)]
    assert waits == [retry_wait("k", n) for n in range(1, 12)]  # no hidden random state
    assert timedelta(seconds=48) <= waits[0] <= timedelta(seconds=72)
    assert all(timedelta(minutes=48) <= w <= timedelta(minutes=72) for w in waits[7:])
    assert len({retry_wait(f"key{i}", 1) for i in range(20)}) == 20  # a burst spreads out


def test_a_reminder_is_stale_once_its_date_has_passed_where_the_recipient_is() -> None:
    row = {"type": "reminder", "payload": {"date": "2000-03-31", "role_tz": "Asia/Bangkok"}}
    assert stale_reason(row, datetime(2000, 3, 31, 16, 59, tzinfo=UTC)) is None  # 23:59 in Bangkok
    assert "no longer true" in str(stale_reason(row, datetime(2000, 3, 31, 17, 0, tzinfo=UTC)))  # 1 April there
    assert stale_reason(row | {"type": "overdue"}, datetime(2000, 5, 1, tzinfo=UTC)) is None


def test_a_row_failing_for_three_days_is_given_up() -> None:
    fresh = {"attempts": 0, "payload": {}}
    assert first_try(fresh, NOW) == NOW and not gives_up(fresh, NOW + timedelta(days=30))  # never tried yet
    tried = {"attempts": 4, "payload": {"first_try": (NOW - timedelta(days=3)).isoformat()}}
    assert first_try(tried, NOW) == NOW - timedelta(days=3)
    assert gives_up(tried, NOW)
    assert not gives_up(tried, NOW - timedelta(seconds=1))


def test_a_pause_is_shared_through_the_store_and_a_repeated_one_waits_longer(store: Engine) -> None:
    with store.connect() as conn:
        assert read_pause(conn) is None
        first = pause_queue(conn, None, "unreachable", "connection refused", NOW)
        again = pause_queue(conn, first, "unreachable", "connection refused", NOW + timedelta(minutes=5))
    with store.connect() as other:  # another process sees the pause
        seen = read_pause(other)
    assert seen == again
    assert (first.count, again.count) == (1, 2)
    assert again.since == first.since == NOW.isoformat()  # the outage started with the first pause
    assert first.until_at - NOW < again.until_at - (NOW + timedelta(minutes=5))
    with store.connect() as conn:
        resume_queue(conn)
    with store.connect() as conn:
        assert read_pause(conn) is None


def test_a_configuration_pause_waits_a_quarter_of_an_hour_and_restarts_the_count(store: Engine) -> None:
    with store.connect() as conn:
        unreachable = pause_queue(conn, None, "unreachable", "timed out", NOW)
        config = pause_queue(conn, unreachable, "config", "authentication failed", NOW)
        assert read_pause(conn) == config
    assert (config.kind, config.count, config.reason) == ("config", 1, "authentication failed")
    assert config.until_at == NOW + CONFIG_PAUSE


def test_the_administrator_is_told_of_a_refusal_at_once_of_an_unreachable_server_after_a_quarter_hour_and_once(
    store: Engine,
) -> None:
    assert needs_telling(None, "config", NOW)
    assert not needs_telling(None, "unreachable", NOW)
    with store.connect() as conn:
        down = pause_queue(conn, None, "unreachable", "connection refused", NOW)
        assert not needs_telling(down, "unreachable", NOW + timedelta(minutes=14))
        assert needs_telling(down, "unreachable", NOW + timedelta(minutes=15))
        told = pause_queue(conn, down, "unreachable", "connection refused", NOW + timedelta(minutes=15), told=True)
        later = pause_queue(conn, told, "config", "535 5.7.8 refused", NOW + timedelta(minutes=30))
    assert told.told and later.told  # once told, the pause stays told until it ends
    assert not needs_telling(later, "config", NOW + timedelta(hours=2))


def test_a_burst_of_failures_is_told_at_most_once_an_hour(store: Engine) -> None:
    with store.connect() as conn:
        assert record_failures(conn, 6, "550 5.1.1 User unknown", NOW)
        assert not record_failures(conn, 8, "550 5.1.1 User unknown", NOW + timedelta(minutes=59))
        assert record_failures(conn, 5, "550 5.1.1 User unknown", NOW + timedelta(minutes=61))
