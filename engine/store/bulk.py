"""Bulk writes that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from operator import countOf, itemgetter
from typing import Any

from sqlalchemy import ARRAY, JSON, Connection, Dialect, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cycle collector for the length of a bulk job; reference counting still frees as usual.

    A 100,000-action import keeps millions of tuples, strings and dicts alive until its insert, and
    the collector walks all of them again at every full collection: about 0.9 s of a 2.9 s import.
    Such a job makes few reference cycles; what it made is collected once the collector runs again.
    Nested uses leave the collector as the outermost found it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def insert_ignoring_duplicates(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows``; a row whose unique ``key`` exists already is skipped (enqueue exactly once).

    Returns how many rows were inserted.
    """
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        return _insert_unnest(conn, table, rows)
    names = list(rows[0])
    take = itemgetter(*names)
    return insert_values(
        conn, table, names, [take(row) if len(names) > 1 else (take(row),) for row in rows], skip_duplicate="key"
    )


UNNEST_ROWS = 10_000  # rows per statement: one array per column each


def _insert_unnest(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> int:
    """PostgreSQL: ``INSERT ... SELECT FROM unnest(one array per column) ON CONFLICT (key) DO NOTHING``.

    SQLAlchemy's multi-VALUES batches carry a parameter per cell, and psycopg rewrites each
    statement's placeholders in Python; one array per column is a parameter per column.
    """
    names = list(rows[0])
    sql = _unnest_sql(
        conn.dialect,
        table,
        names,
        f"INSERT INTO {{table}} ({{names}}) SELECT {{values}} FROM {{unnest}} "
        f"ON CONFLICT ({_quote(conn.dialect, 'key')}) DO NOTHING RETURNING 1",
    )
    inserted = 0
    for start in range(0, len(rows), UNNEST_ROWS):
        part = rows[start : start + UNNEST_ROWS]
        arrays = tuple(_column_array(conn.dialect, table.c[name], [row[name] for row in part]) for name in names)
        inserted += len(conn.exec_driver_sql(sql, arrays).all())
    return inserted


def update_by_id(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Set columns of many rows, each row a dict of ``id`` and the new values (the same keys in every row).

    PostgreSQL gets one ``UPDATE ... FROM unnest(...)``; SQLite an executemany.
    """
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    if conn.dialect.name != "postgresql":
        columns = [
            _stored_column(_processor(conn.dialect, table.c[name]), [row[name] for row in rows])
            for name in [*names, "id"]
        ]
        sets = ", ".join(f"{_quote(conn.dialect, name)} = ?" for name in names)
        conn.exec_driver_sql(
            f"UPDATE {_quote(conn.dialect, table.name)} SET {sets} WHERE id = ?", list(zip(*columns, strict=True))
        )
        return
    sets = ", ".join(f"{_quote(conn.dialect, name)} = u.{_quote(conn.dialect, name)}" for name in names)
    sql = _unnest_sql(
        conn.dialect, table, ["id", *names], f"UPDATE {{table}} SET {sets} FROM {{unnest}} WHERE {{table}}.id = u.id"
    )
    for start in range(0, len(rows), UNNEST_ROWS):
        part = rows[start : start + UNNEST_ROWS]
        conn.exec_driver_sql(
            sql,
            tuple(_column_array(conn.dialect, table.c[name], [row[name] for row in part]) for name in ["id", *names]),
        )


def _unnest_sql(dialect: Dialect, table: Any, names: list[str], template: str) -> str:
    """Fill ``template``'s {table}, {names}, {values} (cast back to the columns' types) and {unnest} (aliased u)."""
    quoted = [_quote(dialect, name) for name in names]
    types = [table.c[name].type.compile(dialect=dialect) for name in names]
    # %b: psycopg sends the arrays in binary; its text format escapes every element in Python (10x slower).
    unnest = ", ".join(
        f"%b::{'TEXT' if _is_json(table.c[name]) else kind}[]" for name, kind in zip(names, types, strict=True)
    )
    values = ", ".join(
        f"u.{q}::{kind}" if _is_json(table.c[name]) else f"u.{q}"
        for name, q, kind in zip(names, quoted, types, strict=True)
    )
    return template.format(
        table=_quote(dialect, table.name),
        names=", ".join(quoted),
        values=values,
        unnest=f"unnest({unnest}) AS u({', '.join(quoted)})",
    )


def _column_array(dialect: Dialect, column: Any, values: list[Any]) -> list[Any]:
    """Return one column's values as PostgreSQL gets them in an array: stored as SQLAlchemy would
    store them, JSON as its text (cast back in SQL), as SQLAlchemy's JSON type writes it."""
    if _is_json(column):
        dumps = getattr(dialect, "_json_serializer", None) or json.dumps
        as_null = column.type.none_as_null
        return [None if value is None and as_null else dumps(value) for value in values]
    return list(_stored_column(_processor(dialect, column), values))  # the values repeat (one instant for a batch)


def _processor(dialect: Dialect, column: Any) -> Any:
    """Return the function that turns a value of ``column`` into what the driver gets (None: as it is)."""
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _is_json(column: Any) -> bool:
    return isinstance(column.type, JSON)


def among(conn: Connection, column: Any, ids: Sequence[int]) -> Any:
    """Return ``column IN (ids)``; on PostgreSQL ``column = ANY(array)``: one parameter, not one per id."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def _quote(dialect: Dialect, name: str) -> str:
    return str(dialect.identifier_preparer.quote(name))


def insert_values(
    conn: Connection,
    table: Any,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    skip_duplicate: str | None = None,
) -> int:
    """Insert many rows (tuples of the columns ``names``) at the driver's speed, stored as SQLAlchemy would;
    return how many were inserted. ``skip_duplicate`` (SQLite): a unique column whose duplicates are skipped.

    SQLAlchemy's executemany runs every column's bind processors for every row (JSON encoding,
    the UTC conversion, datetime formatting): most of the time of a 100,000-action import. The
    values repeat a lot (the import's timestamp, empty lists, the plan id), so each column runs
    its processor once per distinct value and the driver gets the finished parameters.
    """
    if not rows:
        return 0
    dialect = conn.dialect
    if skip_duplicate is not None and dialect.name != "sqlite":
        raise ValueError("skip_duplicate is for SQLite; PostgreSQL inserts through insert_ignoring_duplicates")
    processors = {name: _processor(dialect, table.c[name]) for name in names}
    # A column that is None in every row and NULL when left out is left out: binding nothing is
    # faster (the 11 empty columns of a plan import are a third of SQLite's own insert time).
    at = {name: i for i, name in enumerate(names)}
    empty = _null_columns(table, names, rows)
    kept = [name for name in names if name not in empty] or list(names[:1])
    sql, order = _insert_sql(dialect, table, tuple(kept), skip_duplicate)
    driver = conn.connection.driver_connection if skip_duplicate is not None else None
    before = driver.total_changes if driver is not None else 0
    memos: dict[str, dict[Any, Any]] = {name: {} for name in kept}  # one processed value per distinct value
    for start in range(0, len(rows), INSERT_ROWS):  # in parts: the driver's parameters are the size of a part
        by_column = list(zip(*rows[start : start + INSERT_ROWS], strict=True))
        columns = {name: _stored_column(processors[name], by_column[at[name]], memos[name]) for name in kept}
        del by_column
        if order is not None:
            params: list[Any] = list(zip(*(columns[name] for name in order), strict=True))
        else:
            params = [dict(zip(kept, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        del columns
        conn.exec_driver_sql(sql, params)  # executemany cannot return rows: duplicates are counted by changes
    if driver is None:
        return len(rows)
    return int(driver.total_changes - before)


@lru_cache(maxsize=64)
def _insert_sql(
    dialect: Dialect, table: Any, kept: tuple[str, ...], skip_duplicate: str | None
) -> tuple[str, list[str] | None]:
    """Return the INSERT of the columns ``kept`` and its parameters' order (None: by name), compiled once: compiling
    costs more than inserting the few rows of a tick."""
    stmt = table.insert()
    if skip_duplicate is not None:
        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=[skip_duplicate])
    compiled = stmt.compile(dialect=dialect, column_keys=list(kept))
    order = list(compiled.positiontup or ()) if dialect.paramstyle in {"qmark", "format", "numeric"} else None
    return str(compiled), order


def _null_columns(table: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> set[str]:
    """Return the columns that are None in every row and NULL too when left out of an INSERT."""
    empty: set[str] = set()
    for i, name in enumerate(names):
        column = table.c[name]
        if not column.nullable or column.server_default is not None:
            continue
        # C loops: the first rows tell most columns apart, the rest is counted for the columns still empty
        if _all_none(rows[:INSERT_ROWS], i) and _all_none(rows, i):
            empty.add(name)
    return empty


def _all_none(rows: Sequence[tuple[Any, ...]], index: int) -> bool:
    return countOf(map(itemgetter(index), rows), None) == len(rows)


INSERT_ROWS = 20_000  # rows per executemany of insert_values


def _stored_column(process: Any, values: Sequence[Any], memo: dict[Any, Any] | None = None) -> Sequence[Any]:
    """Return ``values`` as the driver gets them: ``process`` runs once per distinct value (empty
    lists and dicts included; other lists and dicts each time), remembered in ``memo`` across
    calls. One column holds one type (and None), so values that compare equal are stored alike."""
    if process is None:
        return values
    memo = {} if memo is None else memo
    try:
        for value in dict.fromkeys(values).keys() - memo.keys():  # most columns: few distinct values, hashable
            memo[value] = process(value)
    except TypeError:  # lists and dicts (JSON columns)
        pass
    else:
        return list(map(memo.__getitem__, values))
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
