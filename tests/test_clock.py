"""The clock: the system's reading is aware UTC; a fixed clock says what it is told and refuses naive times."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.clock import FixedClock, ShiftedClock, SystemClock, require_aware

NAIVE = datetime(2000, 1, 1, 12)  # noqa: DTZ001 - what the clock must refuse


def test_system_clock_reads_the_current_time_in_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after


def test_fixed_clock_keeps_its_time_in_utc_and_moves_only_when_told() -> None:
    lima = timezone(timedelta(hours=-5))
    clock = FixedClock(datetime(2000, 1, 1, 7, tzinfo=lima))
    assert clock.now() == datetime(2000, 1, 1, 12, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock.now() == clock.now()
    clock.advance(timedelta(days=2, minutes=30))
    assert clock.now() == datetime(2000, 1, 3, 12, 30, tzinfo=UTC)
    clock.set(datetime(1999, 12, 31, 23, 59, tzinfo=UTC))
    assert clock.now() == datetime(1999, 12, 31, 23, 59, tzinfo=UTC)  # set may move it back


def test_shifted_clock_starts_where_it_is_told_and_runs_at_the_real_pace() -> None:
    start = datetime(2001, 12, 31, tzinfo=UTC)
    clock = ShiftedClock(start)
    first = clock.now()
    assert first.tzinfo is UTC
    assert start <= first < start + timedelta(seconds=1)
    time.sleep(0.02)
    second = clock.now()
    assert timedelta(seconds=0.015) <= second - first < timedelta(seconds=1)
    with pytest.raises(ValueError, match="aware"):
        ShiftedClock(NAIVE)


def test_fixed_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="at must be an aware datetime, got naive 2000-01-01T12:00:00"):
        FixedClock(NAIVE)
    clock = FixedClock(datetime(2000, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="aware"):
        clock.set(NAIVE)
    assert clock.now() == datetime(2000, 1, 1, tzinfo=UTC)


def test_require_aware_returns_the_value_itself_or_names_the_argument() -> None:
    value = datetime(2000, 6, 1, 9, tzinfo=timezone(timedelta(hours=2)))
    assert require_aware(value, "now") is value
    with pytest.raises(ValueError, match=r"^now must be an aware datetime"):
        require_aware(NAIVE, "now")
