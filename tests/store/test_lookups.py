"""Lookups of the owners directory and a plan's section tree, on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.store import Owner, Plan, Section, ensure_schema, make_engine, transaction
from engine.store.lookups import owner_ids, owners_by_id, section_parents, supervisors

AT = datetime(2000, 3, 1, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'planwatch.db'}")
    ensure_schema(engine)
    with transaction(engine) as session:
        session.add(Owner(id="boss", name="Boss", email="boss@example.org", timezone="Europe/Zurich"))
        session.add(Owner(id="o1", name="One", email="o1@example.org", timezone="America/Lima", supervisor_id="boss"))
        for pid in ("p", "q"):
            session.add(
                Plan(id=pid, title=pid, ref_date=date(2000, 1, 1), timezone="UTC", imported_at=AT, updated_at=AT)
            )
        session.flush()
        session.add(Section(plan_id="p", key="I", parent_key=None, level="part", title="Part I", ordinal=1))
        session.add(Section(plan_id="p", key="I.1", parent_key="I", level="issue", title="One", ordinal=2))
        session.add(Section(plan_id="q", key="II", parent_key=None, level="part", title="Part II", ordinal=1))
    yield engine
    engine.dispose()


def test_owners_directory_lookups(engine: Engine) -> None:
    with transaction(engine) as session:
        assert owner_ids(session) == {"boss", "o1"}
        assert supervisors(session) == {"boss": None, "o1": "boss"}
        owners = owners_by_id(session)
    assert sorted(owners) == ["boss", "o1"]
    assert (owners["o1"].email, owners["o1"].timezone) == ("o1@example.org", "America/Lima")


def test_section_parents_are_those_of_one_plan(engine: Engine) -> None:
    with transaction(engine) as session:
        assert section_parents(session, "p") == {"I": None, "I.1": "I"}
        assert section_parents(session, "q") == {"II": None}
        assert section_parents(session, "nope") == {}


def test_an_empty_directory(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    ensure_schema(engine)
    with transaction(engine) as session:
        assert (owner_ids(session), owners_by_id(session), supervisors(session)) == (set(), {}, {})
    engine.dispose()
