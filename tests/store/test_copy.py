"""Copying a database (a SQLite file, or PostgreSQL) into a scratch SQLite file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import select

from engine.store import Owner, Plan, ensure_schema, make_engine, transaction, upgrade
from engine.store.copy import copy_to_sqlite
from engine.store.db import HEAD, current_revision
from engine.store.models import ServiceState

AT = datetime(2000, 3, 1, 9, 30, tzinfo=UTC)


def _fill(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    ensure_schema(engine) if url.startswith("sqlite") else upgrade(engine)
    with transaction(engine) as session:
        session.add(Plan(id="p", title="T", ref_date=date(1999, 9, 28), timezone="UTC", imported_at=AT, updated_at=AT))
        session.add(Owner(id="boss", name="Boss", email="boss@example.org", timezone="UTC"))
        session.add(Owner(id="o1", name="One", email="o1@example.org", timezone="UTC", supervisor_id="boss"))
        session.add(ServiceState(key="last_tick", value="x", updated_at=AT))
    return engine


def test_the_copy_holds_every_row_and_the_schema_revision(database_url: str, tmp_path: Path) -> None:
    source = _fill(database_url)
    copy = copy_to_sqlite(source, tmp_path / "scratch.db")
    source.dispose()
    with transaction(copy) as session:
        plans = session.exec(select(Plan)).all()
        owners = session.exec(select(Owner.id, Owner.supervisor_id).order_by(Owner.id)).all()
        state = session.exec(select(ServiceState)).one()
    assert current_revision(copy) == HEAD
    copy.dispose()
    assert [(p.id, p.imported_at) for p in plans] == [("p", AT)]
    assert [tuple(o) for o in owners] == [("boss", None), ("o1", "boss")]
    assert (state.key, state.value, state.updated_at) == ("last_tick", "x", AT)


def test_a_copy_replaces_an_older_scratch_file_and_leaves_the_source_alone(tmp_path: Path) -> None:
    source = _fill(f"sqlite:///{tmp_path / 'live.db'}")
    target = tmp_path / "scratch.db"
    target.write_bytes(b"an old scratch file")
    copy = copy_to_sqlite(source, target)
    with transaction(copy) as session:
        session.delete(session.get(Owner, "o1"))
    copy.dispose()
    with transaction(source) as session:
        assert session.get(Owner, "o1") is not None  # changing the copy leaves the source as it was
    source.dispose()
