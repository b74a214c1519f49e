"""The typed Core tables: one per table model, the very tables the models use, usable for Core statements."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlmodel import SQLModel

from engine.store import ensure_schema, make_engine, transaction
from engine.store import tables as T
from engine.store.models import Owner, ServiceState


def test_every_table_model_has_its_core_table_here() -> None:
    here = {getattr(T, name) for name in T.__all__ if name != "table_of"}
    assert {t.name for t in here} == set(SQLModel.metadata.tables)
    assert T.OWNER is Owner.__table__  # type: ignore[attr-defined]
    assert T.SERVICE_STATE is ServiceState.__table__  # type: ignore[attr-defined]
    assert T.ACTION_CHANGE.name == "action_change" and T.FEED_TOKEN.name == "feed_token"


def test_a_core_insert_is_read_back_by_the_model(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'planwatch.db'}")
    ensure_schema(engine)
    at = datetime(2000, 1, 1, 12, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(T.OWNER).values(id="o1", name="One", email="o1@example.org", timezone="UTC"))
        conn.execute(insert(T.SERVICE_STATE).values(key="k", value="v", updated_at=at))
    with transaction(engine) as session:
        owner = session.get(Owner, "o1")
        state = session.get(ServiceState, "k")
    with engine.connect() as conn:
        emails = conn.execute(select(T.OWNER.c.email)).scalars().all()
    engine.dispose()
    assert owner is not None and (owner.digest, owner.role) == ("none", "owner")  # server defaults
    assert state is not None and state.updated_at == at
    assert emails == ["o1@example.org"]
