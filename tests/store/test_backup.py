"""Backups of the embedded database: a complete, openable copy; refusals are usage errors (exit code 2)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from engine.errors import UsageError
from engine.store import Plan, ensure_schema, make_engine, transaction
from engine.store.backup import backup_sqlite

AT = datetime(2000, 3, 1, 9, tzinfo=UTC)


def _source(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
    ensure_schema(engine)
    with transaction(engine) as session:
        session.add(Plan(id="p", title="T", ref_date=date(1999, 9, 28), timezone="UTC", imported_at=AT, updated_at=AT))
    return engine


def test_the_backup_holds_the_rows_and_its_size_is_returned(tmp_path: Path) -> None:
    engine = _source(tmp_path)
    target = tmp_path / "backups" / "copy.db"  # the folder is made
    size = backup_sqlite(engine, target)
    engine.dispose()
    assert size == target.stat().st_size and size > 0
    copy = make_engine(f"sqlite:///{target}")
    with transaction(copy) as session:
        (plan,) = session.exec(select(Plan)).all()
    copy.dispose()
    assert (plan.id, plan.title, plan.imported_at) == ("p", "T", AT)


def test_an_existing_target_is_never_overwritten(tmp_path: Path) -> None:
    engine = _source(tmp_path)
    target = tmp_path / "copy.db"
    target.write_bytes(b"keep me")
    with pytest.raises(UsageError, match=r"copy\.db exists already; choose a new file name") as caught:
        backup_sqlite(engine, target)
    engine.dispose()
    assert caught.value.exit_code == 2
    assert target.read_bytes() == b"keep me"


@pytest.mark.parametrize("url", ["postgresql+psycopg://u@localhost/planwatch", "sqlite://"])
def test_only_a_sqlite_file_can_be_backed_up(tmp_path: Path, url: str) -> None:
    engine = make_engine(url)  # no connection is made
    with pytest.raises(UsageError, match="for PostgreSQL use pg_dump --format=custom"):
        backup_sqlite(engine, tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()
