"""Bulk writes that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_ignoring_duplicates(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows``; a row whose unique ``key`` exists already is skipped (enqueue exactly once).

    Returns how many rows were inserted.
    """
    if not rows:
        return 0
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    # RETURNING counts what was really inserted: executemany's rowcount is not reliable on psycopg.
    stmt = maker(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
    return len(conn.execute(stmt, list(rows)).all())


def upsert_state(conn: Connection, table: Any, key: str, value: str, now: Any) -> None:
    """Insert or replace one ``service_state`` row."""
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = maker(table).values(key=key, value=value, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": now}))


# Advisory-lock numbers for jobs that must run on one node at a time (PostgreSQL).
LOCKS = {"digests": 7_301_001, "feeds": 7_301_002}


def run_once_lock(conn: Connection, job: str) -> bool:
    """Take the job's transaction-scoped advisory lock on PostgreSQL; return False if another node holds it.

    SQLite has one writer at a time anyway, so there it always succeeds.
    """
    if conn.dialect.name != "postgresql":
        return True
    from sqlalchemy import text

    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCKS[job]}).scalar())
