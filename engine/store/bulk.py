"""Bulk writes that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import repeat
from operator import countOf, itemgetter
from typing import Any

from sqlalchemy import ARRAY, JSON, Connection, Dialect, Integer, any_, bindparam, literal_column
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
    same: Mapping[str, Any] | None = None,
    stored: bool = False,
) -> int:
    """Insert many rows (tuples of the columns ``names``) at the driver's speed, stored as SQLAlchemy would;
    return how many were inserted. ``same`` gives the columns that hold one value in every row (not in
    ``names``). ``skip_duplicate`` (SQLite): a unique column whose duplicates are skipped. With ``stored``,
    the rows hold what the driver gets already (made by ``stored_values``) and are passed on as they are
    when their columns are the statement's, in its order: they are not taken apart column by column.

    SQLAlchemy's executemany runs every column's bind processors for every row (JSON encoding,
    the UTC conversion, datetime formatting): most of the time of a 100,000-action import. The
    values repeat a lot (the import's timestamp, empty lists, the plan id), so each column runs
    its processor once per distinct value and the driver gets the finished parameters. On SQLite
    a value of ``same`` is written into the statement as its literal and bound for no row: SQLite
    binds only what it is given (a plan import's 12 shared columns were a fifth of its insert time).
    """
    if not rows:
        return 0
    dialect = conn.dialect
    if skip_duplicate is not None and dialect.name != "sqlite":
        raise ValueError("skip_duplicate is for SQLite; PostgreSQL inserts through insert_ignoring_duplicates")
    processors = {name: None if stored else _processor(dialect, table.c[name]) for name in names}
    # A column that is None in every row and NULL when left out is left out: binding nothing is
    # faster (the 11 empty columns of a plan import are a third of SQLite's own insert time).
    at = {name: i for i, name in enumerate(names)}
    empty = _null_columns(table, names, rows)
    fixed = {
        name: _stored_column(_processor(dialect, table.c[name]), [value])[0]
        for name, value in (same or {}).items()
        if not (value is None and _null_when_left_out(table.c[name]))
    }
    literals = {
        name: literal
        for name, value in fixed.items()
        if dialect.name == "sqlite" and (literal := _sql_literal(value)) is not None
    }
    repeated = {name: value for name, value in fixed.items() if name not in literals}  # bound in every row
    kept = [name for name in names if name not in empty] or ([] if fixed else list(names[:1]))
    sql, order = _insert_sql(dialect, table, (*kept, *repeated), skip_duplicate, tuple(literals.items()))
    driver = conn.connection.driver_connection if skip_duplicate is not None else None
    before = driver.total_changes if driver is not None else 0
    if stored and order is not None and not repeated and order:
        return _insert_stored(conn, sql, [at[name] for name in order], rows, driver, before)
    memos: dict[str, dict[Any, Any]] = {name: {} for name in kept}  # one processed value per distinct value
    for start in range(0, len(rows), INSERT_ROWS):  # in parts: the driver's parameters are the size of a part
        part = rows[start : start + INSERT_ROWS]
        by_column = list(zip(*part, strict=True))
        columns: dict[str, Sequence[Any]] = {
            name: _stored_column(processors[name], by_column[at[name]], memos[name]) for name in kept
        }
        columns.update((name, list(repeat(value, len(part)))) for name, value in repeated.items())
        del by_column
        if order is not None:
            params: list[Any] = list(zip(*(columns[name] for name in order), strict=True))
        else:
            params = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        if not columns:  # every column is in the statement: one empty set of parameters a row
            params = [()] * len(part)
        del columns
        conn.exec_driver_sql(sql, params)  # executemany cannot return rows: duplicates are counted by changes
    if driver is None:
        return len(rows)
    return int(driver.total_changes - before)


def _insert_stored(
    conn: Connection, sql: str, picked: list[int], rows: Sequence[tuple[Any, ...]], driver: Any, before: int
) -> int:
    """Insert rows of stored values, each row's values ``picked`` (the statement's, in its order) by position."""
    pick = None if picked == list(range(len(rows[0]))) else itemgetter(*picked)
    for start in range(0, len(rows), INSERT_ROWS):
        part = rows if len(rows) <= INSERT_ROWS else rows[start : start + INSERT_ROWS]
        if pick is not None:
            part = [(pick(row),) for row in part] if len(picked) == 1 else list(map(pick, part))
        conn.exec_driver_sql(sql, part)
    if driver is None:
        return len(rows)
    return int(driver.total_changes - before)


def stored_values(dialect: Dialect, table: Any, names: Sequence[str]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """Return a function that turns values of the columns ``names`` into what the driver gets for them, as
    SQLAlchemy stores them: the rows of ``insert_values(..., stored=True)``."""
    processors = [_processor(dialect, table.c[name]) for name in names]

    def store(values: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value) for process, value in zip(processors, values, strict=True)
        )

    return store


def _sql_literal(value: Any) -> str | None:
    """Return ``value`` (as the driver gets it) as an SQLite literal that stores it as binding it would, or None
    when it is not one of the plain values written so (NULL, a 64-bit integer, a short text)."""
    if value is None:
        return "NULL"
    if value.__class__ is int and -(2**63) <= value < 2**63:
        return str(value)
    if value.__class__ is str and len(value) <= 200 and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


@lru_cache(maxsize=64)
def _insert_sql(
    dialect: Dialect,
    table: Any,
    kept: tuple[str, ...],
    skip_duplicate: str | None,
    literals: tuple[tuple[str, str], ...] = (),
) -> tuple[str, list[str] | None]:
    """Return the INSERT of the columns ``kept`` and ``literals`` (name, SQL text) and the parameters' order (None:
    by name), compiled once: compiling costs more than inserting the few rows of a tick."""
    stmt = table.insert()
    if skip_duplicate is not None:
        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=[skip_duplicate])
    if literals:
        stmt = stmt.values({name: literal_column(text) for name, text in literals})
    compiled = stmt.compile(dialect=dialect, column_keys=list(kept))
    order = list(compiled.positiontup or ()) if dialect.paramstyle in {"qmark", "format", "numeric"} else None
    return str(compiled), order


def _null_columns(table: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> set[str]:
    """Return the columns that are None in every row and NULL too when left out of an INSERT."""
    empty: set[str] = set()
    for i, name in enumerate(names):
        if not _null_when_left_out(table.c[name]):
            continue
        # C loops: the first rows tell most columns apart, the rest is counted for the columns still empty
        if _all_none(rows[:INSERT_ROWS], i) and _all_none(rows, i):
            empty.add(name)
    return empty


def _null_when_left_out(column: Any) -> bool:
    return bool(column.nullable) and column.server_default is None and column.default is None


def _all_none(rows: Sequence[tuple[Any, ...]], index: int) -> bool:
    return countOf(map(itemgetter(index), rows), None) == len(rows)


INSERT_ROWS = 20_000  # rows per executemany of insert_values


def _stored_column(process: Any, values: Sequence[Any], memo: dict[Any, Any] | None = None) -> Sequence[Any]:
    """Return ``values`` as the driver gets them: ``process`` runs once per distinct value (every empty
    list or dict alike; another list or dict once per object), remembered in ``memo`` across calls.
    One column holds one type (and None), so values that compare equal are stored alike; a list or
    dict is not changed while ``memo`` lives."""
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
    # A list or dict met again (a reading's milestones, shared by the rows read alike) is processed once: by
    # identity, the object held beside what it gave so that its id is not reused while ``memo`` lives.
    seen: dict[int, tuple[Any, Any]] = memo.setdefault(_SEEN, {})
    out = []
    for value in values:
        key = value
        if value.__class__ is list or value.__class__ is dict:
            if value:
                held = seen.get(id(value))
                if held is None or held[0] is not value:
                    held = seen[id(value)] = (value, process(value))
                out.append(held[1])
                continue
            key = value.__class__  # every empty list (or dict) is stored alike
        stored = get(key, _MISSING)
        if stored is _MISSING:
            stored = memo[key] = process(value)
        out.append(stored)
    return out


_MISSING = object()
_SEEN = object()  # the key in a memo of the lists and dicts met, by identity


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
