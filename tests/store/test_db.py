"""The store on a real SQLite file and on PostgreSQL: migrations, UTC datetimes, transactions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

from engine.errors import InputError, OperationalError
from engine.store import Plan, make_engine, transaction, upgrade
from engine.store.db import HEAD, current_revision, ensure_schema


def test_migrations_create_exactly_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    assert upgrade(engine) == (None, HEAD)
    assert upgrade(engine) == (HEAD, HEAD)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def _plan(stamp: datetime) -> Plan:
    return Plan(
        id="p", title="t", ref_date=date(1999, 9, 28), timezone="Europe/Zurich", imported_at=stamp, updated_at=stamp
    )


def test_a_failed_transaction_leaves_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    ensure_schema(engine)
    with pytest.raises(RuntimeError), transaction(engine) as session:
        session.add(_plan(datetime(2000, 1, 1, tzinfo=UTC)))
        session.flush()
        raise RuntimeError("boom")
    with transaction(engine) as session:
        assert session.exec(select(Plan)).all() == []
    engine.dispose()


def test_server_database_is_not_upgraded_behind_the_users_back(database_url: str) -> None:
    engine = make_engine(database_url)
    if database_url.startswith("sqlite"):
        ensure_schema(engine)
        assert current_revision(engine) == HEAD
    else:
        with pytest.raises(OperationalError, match="run `planwatch db upgrade` first"):
            ensure_schema(engine)
        assert current_revision(engine) is None
    engine.dispose()


def test_missing_database_folder_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="does not exist; create it or choose another --db"):
        make_engine(f"sqlite:///{tmp_path / 'nope' / 'x.db'}")


def test_a_database_at_an_older_revision_is_read_as_such_and_upgraded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from alembic.config import Config

    from engine.store.db import MIGRATIONS

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    assert current_revision(engine) == "0008"
    ensure_schema(engine)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_an_empty_database_has_no_revision_and_the_look_creates_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert current_revision(engine) is None
    assert current_revision(engine) is None  # the failed first query left no table behind
    assert upgrade(engine) == (None, HEAD)
    engine.dispose()
