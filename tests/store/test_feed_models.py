"""The calendar feed tables on a real SQLite file: tokens by hash, unique; events with their snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from engine.store import FeedEvent, FeedToken, ensure_schema, make_engine, transaction

LIMA = timezone(timedelta(hours=-5))
AT = datetime(2000, 2, 29, 23, 59, tzinfo=LIMA)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'planwatch.db'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()


def test_a_token_round_trips_and_its_hash_is_unique(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(FeedToken(token_hash="h1", subscriber="o1", feed="owner:o1", created_at=AT))
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(FeedToken(token_hash="h1", subscriber="o2", feed="owner:o2", created_at=AT))
    with transaction(engine) as session:
        (token,) = session.exec(select(FeedToken)).all()
    assert (token.subscriber, token.feed, token.revoked_at) == ("o1", "owner:o1", None)
    assert token.created_at == AT and str(token.created_at) == "2000-03-01 04:59:00+00:00"


def test_an_event_keeps_its_day_sequence_and_snapshot(engine: Engine) -> None:
    snapshot = {"summary": "Report to the GB", "attendees": ["o1", "o2"], "all_day": True}
    gone = datetime(2000, 3, 2, tzinfo=UTC)
    with transaction(engine) as session:
        session.add(
            FeedEvent(
                key="p:I.1.1:due",
                plan_id="p",
                action_id=7,
                uid_day=date(2000, 2, 29),
                fingerprint="f",
                modified_at=AT,
                gone_at=gone,
                snapshot=snapshot,
            )
        )
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(
            FeedEvent(key="p:I.1.1:due", plan_id="p", uid_day=date(2000, 3, 1), fingerprint="g", modified_at=AT)
        )
    with transaction(engine) as session:
        (event,) = session.exec(select(FeedEvent)).all()
    assert (event.uid_day, event.sequence, event.snapshot, event.gone_at) == (date(2000, 2, 29), 0, snapshot, gone)
    assert event.modified_at.tzinfo is UTC and event.modified_at == AT


def test_a_token_needs_its_creation_time(engine: Engine) -> None:
    with pytest.raises(IntegrityError, match="NOT NULL"), transaction(engine) as session:
        session.add(FeedToken(token_hash="h2", subscriber="o1", feed="owner:o1"))
