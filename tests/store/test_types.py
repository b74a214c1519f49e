"""The UTC column type (aware in, UTC out, naive refused) on SQLite and PostgreSQL, and ``table_of``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError
from sqlmodel import SQLModel, select

from engine.store import Plan, make_engine, transaction, upgrade
from engine.store.db import ensure_schema
from engine.store.types import UTCDateTime, table_of


def _plan(stamp: datetime) -> Plan:
    return Plan(
        id="p", title="t", ref_date=date(1999, 9, 28), timezone="Europe/Zurich", imported_at=stamp, updated_at=stamp
    )


@pytest.mark.parametrize(
    "stamp",
    [
        datetime(2000, 3, 26, 1, 30, tzinfo=ZoneInfo("Europe/Zurich")),
        datetime(2000, 10, 29, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Zurich")),
        datetime(2000, 2, 29, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1999, 12, 31, 23, 0, tzinfo=UTC),
    ],
    ids=["spring_before_gap_zurich", "autumn_second_2_30_zurich", "feb29_lima_offset", "year_end_utc"],
)
def test_datetimes_come_back_as_the_same_instant_in_utc(database_url: str, stamp: datetime) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine) if database_url.startswith("sqlite") else upgrade(engine)
    with transaction(engine) as session:
        session.add(_plan(stamp))
    with transaction(engine) as session:
        stored = session.exec(select(Plan)).one()
    engine.dispose()
    # PEP 495: a fold=1 time never equals a time in another zone, so compare instants.
    assert stored.imported_at.timestamp() == stamp.timestamp()
    assert stored.imported_at.tzinfo == UTC
    assert str(stored.imported_at) == str(stamp.astimezone(UTC))


def test_naive_datetimes_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    ensure_schema(engine)
    with pytest.raises(StatementError, match="refusing to store naive datetime"), transaction(engine) as session:
        session.add(_plan(datetime(2000, 1, 1)))  # noqa: DTZ001 - the point of the test
    engine.dispose()


def test_the_type_converts_to_utc_on_the_way_in_and_marks_utc_on_the_way_out() -> None:
    column = UTCDateTime()
    zurich = datetime(2000, 7, 1, 9, tzinfo=ZoneInfo("Europe/Zurich"))
    assert column.process_bind_param(zurich, sqlite.dialect()) == datetime(2000, 7, 1, 7)  # noqa: DTZ001 - SQLite's form
    assert column.process_bind_param(zurich, postgresql.dialect()) == datetime(2000, 7, 1, 7, tzinfo=UTC)
    assert column.process_bind_param(None, sqlite.dialect()) is None
    back = column.process_result_value(datetime(2000, 7, 1, 7), sqlite.dialect())  # noqa: DTZ001 - as SQLite gives it
    assert back == zurich and back.tzinfo is UTC
    lima = datetime(2000, 7, 1, 2, tzinfo=timezone(timedelta(hours=-5)))
    assert column.process_result_value(lima, postgresql.dialect()).tzinfo is UTC  # type: ignore[union-attr]


def test_table_of_gives_a_table_models_table_and_refuses_a_plain_model() -> None:
    class NotATable(SQLModel):
        x: int = 0

    table = table_of(Plan)
    assert isinstance(table, Table) and table.name == "plan"
    assert "imported_at" in table.c and isinstance(table.c.imported_at.type, UTCDateTime)
    with pytest.raises(TypeError, match="NotATable is not a table model"):
        table_of(NotATable)
