"""A new SQLite file's first import is written with a rollback journal, then the file is WAL again: the rows
are the same, an error or a ``kill -9`` leaves the empty file as it was, and another connection keeps WAL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from engine.importing import import_paths
from engine.settings import Settings
from engine.store import make_engine
from engine.store.db import HEAD, current_revision, ensure_schema, first_transaction

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)


def _state(session: Any, key: str) -> None:
    session.connection().execute(
        text("INSERT INTO service_state (key, value, updated_at) VALUES (:k, 'v', '2026-12-06 09:00:00.000000')"),
        {"k": key},
    )


def _modes(conn: Any) -> tuple[str, int]:
    """The file's journal mode and the connection's synchronous setting (1 NORMAL, 2 FULL)."""
    return conn.exec_driver_sql("PRAGMA journal_mode").scalar(), conn.exec_driver_sql("PRAGMA synchronous").scalar()


def test_the_first_writes_keep_a_rollback_journal_synced_in_full_and_the_file_is_wal_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert ensure_schema(engine) is True  # made just now
    assert ensure_schema(engine) is False
    with first_transaction(engine) as session:
        assert _modes(session.connection()) == ("delete", 2)
        _state(session, "a")
    with engine.connect() as conn:  # the pooled connection, given back as every other is made
        assert _modes(conn) == ("wal", 1)
        assert conn.exec_driver_sql("SELECT key FROM service_state").scalars().all() == ["a"]
    engine.dispose()
    assert not Path(f"{tmp_path / 'new.db'}-journal").exists()


def test_an_error_leaves_the_new_file_as_it_was_and_in_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    ensure_schema(engine)
    with pytest.raises(RuntimeError, match="boom"), first_transaction(engine) as session:
        _state(session, "a")
        session.flush()
        raise RuntimeError("boom")
    with engine.connect() as conn:
        assert _modes(conn) == ("wal", 1)
        assert conn.exec_driver_sql("SELECT count(*) FROM service_state").scalar() == 0
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_another_connection_to_the_file_keeps_it_in_wal_and_the_writes_go_in(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    ensure_schema(engine)
    other = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with other.connect() as reader:
        reader.exec_driver_sql("SELECT count(*) FROM service_state").scalar()
        with first_transaction(engine) as session:
            assert _modes(session.connection()) == ("wal", 1)
            _state(session, "a")
        assert reader.exec_driver_sql("SELECT count(*) FROM service_state").scalar() == 1
    other.dispose()
    engine.dispose()


def test_on_postgresql_and_sqlite_it_commits_what_was_written(database_url: str) -> None:
    engine = make_engine(database_url)
    from engine.store import upgrade

    upgrade(engine)
    with first_transaction(engine) as session:
        _state(session, "a")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT key FROM service_state").scalars().all() == ["a"]
    engine.dispose()


def _journal_modes_of_action_inserts(engine: Any) -> list[str]:
    modes: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO action"):
            modes.append(cursor.connection.execute("PRAGMA journal_mode").fetchone()[0])

    event.listen(engine, "before_cursor_execute", seen)
    return modes


def test_an_import_writes_a_new_files_actions_with_the_journal_and_a_later_import_with_wal(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}", rules_dir=ROOT / "rules")
    plan, owners = ROOT / "plans" / "gb276-tc2-implementation-plan.txt", ROOT / "plans" / "owners.yaml"
    engine = make_engine(settings.database_url)
    modes = _journal_modes_of_action_inserts(engine)
    import_paths(engine, [owners, plan], settings, NOW)
    assert modes == ["delete"]
    engine.dispose()
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        assert _modes(conn) == ("wal", 1)
        assert conn.exec_driver_sql("SELECT count(*) FROM action").scalar() == 69
        conn.exec_driver_sql("DELETE FROM action_change")
        conn.exec_driver_sql("DELETE FROM action")
        conn.commit()
    modes = _journal_modes_of_action_inserts(engine)
    import_paths(engine, [plan], settings, NOW)  # the file was there: WAL, as every other write
    assert modes == ["wal"]
    engine.dispose()


CHILD = """
import sys
from engine.store import make_engine
from engine.store.db import ensure_schema, first_transaction
from sqlalchemy import text

engine = make_engine(sys.argv[1])
ensure_schema(engine)
with first_transaction(engine) as session:
    conn = session.connection()
    n = 0
    while True:
        rows = [{"k": f"k{n + i}", "v": "x" * 2000} for i in range(500)]
        conn.execute(text("INSERT INTO service_state (key, value, updated_at) VALUES (:k, :v, '2026-12-06')"), rows)
        n += 500
        print(n, flush=True)
"""


def test_a_kill_while_the_first_writes_reach_the_file_leaves_it_empty_whole_and_ready(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), f"sqlite:///{path}"],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    assert child.stdout is not None
    try:
        empty = 0
        deadline = time.monotonic() + 60
        for line in child.stdout:  # wait until the cache has spilled rows into the file itself
            if not empty:
                empty = path.stat().st_size
            if int(line) >= 10_000 and path.stat().st_size > empty + 8_000_000:
                break
            assert time.monotonic() < deadline, "the child never wrote into the file"
        assert Path(f"{path}-journal").exists()  # a hot journal: the file holds uncommitted pages
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:  # opening rolls the hot journal back
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("SELECT count(*) FROM service_state").scalar() == 0
        assert _modes(conn) == ("wal", 1)
    assert current_revision(engine) == HEAD
    assert not Path(f"{path}-journal").exists()
    with first_transaction(engine) as session:  # and it takes its first writes again
        _state(session, "a")
    engine.dispose()
