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


def insert_values(conn: Connection, table: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert many rows (tuples of the columns ``names``) at the driver's speed, stored as SQLAlchemy would.

    SQLAlchemy's executemany runs every column's bind processors for every row (JSON encoding,
    the UTC conversion, datetime formatting): most of the time of a 100,000-action import. The
    values repeat a lot (the import's timestamp, empty lists, the plan id), so each column runs
    its processor once per distinct value and the driver gets the finished parameters.
    """
    if not rows:
        return
    dialect = conn.dialect
    compiled = table.insert().compile(dialect=dialect, column_keys=list(names))
    columns = {name: _stored_column(table.c[name].type.dialect_impl(dialect).bind_processor(dialect), values)
               for name, values in zip(names, zip(*rows, strict=True), strict=True)}
    if dialect.paramstyle in {"qmark", "format", "numeric"}:
        params: list[Any] = list(zip(*(columns[name] for name in compiled.positiontup or ()), strict=True))
    else:
        params = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    conn.exec_driver_sql(str(compiled), params)


def _stored_column(process: Any, values: Sequence[Any]) -> Sequence[Any]:
    """Return ``values`` as the driver gets them: ``process`` runs once per distinct value (empty
    lists and dicts included; other lists and dicts each time). One column holds one type (and
    None), so values that compare equal are stored alike."""
    if process is None:
        return values
    memo: dict[Any, Any] = {}
    get = memo.get
    out = []
    for value in values:
        key = value
        if value.__class__ is list or value.__class__ is dict:
            if value:
                out.append(process(value))
                continue
            key = value.__class__  # every empty list (or dict) is stored alike
        stored = get(key, _MISSING)
        if stored is _MISSING:
            stored = memo[key] = process(value)
        out.append(stored)
    return out


_MISSING = object()


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
