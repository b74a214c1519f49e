"""Bulk inserts: the values every row shares are stored as SQLAlchemy's own insert stores them, and on SQLite
they are written into the statement, bound for no row; a list met again is turned into JSON once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select, text

from engine.store import make_engine, upgrade
from engine.store.bulk import _stored_column, insert_values
from engine.store.models import Outbox

OUT = Outbox.__table__  # type: ignore[attr-defined]
AT = datetime(2030, 3, 30, 23, 30, tzinfo=ZoneInfo("Europe/Zurich"))
# Every row's values: a quote and a percent sign in a text, an integer, an aware time, a JSON dict, a None left
# to the column (NULL) and a None where the column has a default of its own.
SAME: dict[str, Any] = {
    "plan_id": "it's 100% planned",
    "occurrence": "2030-03-31",
    "step": "remind#1",
    "type": "reminder",
    "level": 3,
    "recipient": "a@example.org",
    "template": "reminder",
    "due_at": AT,
    "status": "pending",
    "reason": "",
    "attempts": 0,
    "last_error": "",
    "payload": {"ref": "I.1.2", "list": [1, "é", None]},
    "created_at": AT,
    "sent_at": None,
    "message_id": None,
}
SHOWN = [c.name for c in OUT.c if c.name not in {"id", "key"}]


def _stored(conn: Any, prefix: str) -> list[tuple[Any, ...]]:
    """Each row's columns (but id and key) with SQLite's or PostgreSQL's own storage type, in key order."""
    if conn.dialect.name == "sqlite":
        shown = ", ".join(f'typeof("{name}"), quote("{name}")' for name in SHOWN)
    else:
        shown = ", ".join(f'pg_typeof("{name}")::text, "{name}"::text' for name in SHOWN)
    rows = conn.execute(text(f"SELECT {shown} FROM outbox WHERE key LIKE :p ORDER BY key"), {"p": f"{prefix}%"})
    return [tuple(row) for row in rows]


def test_the_values_every_row_shares_are_stored_as_sqlalchemy_stores_them(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    statements: list[tuple[str, Any]] = []
    keys = [f"{n:03}" for n in range(300)]
    with engine.begin() as conn:
        conn.execute(OUT.insert(), [{"key": f"orm-{k}", "action_id": None, **SAME} for k in keys])

        def seen(*args: Any) -> None:
            statements.append((args[2], args[3]))

        event.listen(conn, "before_cursor_execute", seen)
        assert insert_values(conn, OUT, ["key"], [(f"new-{k}",) for k in keys], same=SAME) == 300
        event.remove(conn, "before_cursor_execute", seen)
        assert _stored(conn, "new-") == _stored(conn, "orm-")
        payloads = conn.execute(select(OUT.c.payload).where(OUT.c.key.like("new-%"))).scalars().all()
    engine.dispose()
    assert payloads == [SAME["payload"]] * 300
    [(sql, params)] = statements
    if database_url.startswith("sqlite"):  # written once into the statement; each row binds its key alone
        assert "'it''s 100% planned'" in sql and "'pending'" in sql
        assert {len(row) for row in params} == {1}
    else:  # PostgreSQL binds them all, as before
        assert {len(row) for row in params} == {1 + len(SAME) - 2}  # the key; message_id and sent_at left NULL


def test_rows_whose_every_value_is_shared_are_each_inserted(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    with engine.begin() as conn:  # message_id is None in every row: left out, the rows bind nothing
        rows = [(None,), (None,)]
        assert insert_values(conn, OUT, ["message_id"], rows, same={**SAME, "key": "k"}, skip_duplicate="key") == 1
        assert insert_values(conn, OUT, ["message_id"], rows[:1], same={**SAME, "key": "j"}) == 1
        assert conn.execute(select(OUT.c.key, OUT.c.plan_id).order_by(OUT.c.key)).all() == [
            ("j", SAME["plan_id"]),
            ("k", SAME["plan_id"]),
        ]
    engine.dispose()


def test_a_list_shared_by_rows_is_turned_into_json_once_and_each_list_alike_as_its_own() -> None:
    calls: list[Any] = []

    def process(value: Any) -> str:
        calls.append(value)
        return json.dumps(value)

    shared = [{"label": "first report", "due": "2000-03-31"}]
    other = [{"label": "first report", "due": "2000-03-31"}]
    values: list[Any] = [shared, [], shared, None, other, shared, {}]
    memo: dict[Any, Any] = {}
    stored = _stored_column(process, values, memo)
    again = _stored_column(process, [shared, other], memo)
    assert stored == [json.dumps(v) for v in values]
    assert again == [json.dumps(shared)] * 2
    assert [id(value) for value in calls].count(id(shared)) == 1  # once for its three rows and the later one
    assert [id(value) for value in calls].count(id(other)) == 1
    assert len(calls) == 5  # shared, other, the empty list, None, the empty dict
