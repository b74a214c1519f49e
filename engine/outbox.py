"""The outbox: the one enqueue, and the lease, claim and mark statements the dispatcher runs.

Every message is a row with a deterministic ``key`` (UNIQUE in the table). ``enqueue`` is the
only way rows get in (``tell_now`` is its form for one message to one person at once), and it
skips a row whose key is there already (ON CONFLICT DO NOTHING on SQLite and PostgreSQL), so a
tick that is re-run, two nodes planning at once, or an action changed twice enqueue nothing
twice. Keys are ``message_key(subject, *parts)``: the planner's notices are
``plan/ref|occurrence|step|recipient``, the others name what makes them unique
(``plan/ref|extension|date|owner``, ``digest|owner|date``, ``report|address|date``).

The rest are plain store operations of the dispatcher (``engine.drive.dispatch``): which rows
may go at ``now``, the leases that keep two dispatchers off the same row, and the marks.
Datetimes are aware UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Connection, Integer, String, any_, bindparam, func, or_, select, update

from engine.store.bulk import among, insert_ignoring_duplicates
from engine.store.tables import ACTION_CHANGE
from engine.store.tables import OUTBOX as OUT

LEASE = timedelta(minutes=5)  # how long a claimed row stays hidden from other dispatchers
CHUNK = 500  # ids per IN (...) list
R = TypeVar("R", bound=Mapping[str, Any])

__all__ = [
    "LEASE",
    "claim",
    "claim_due",
    "defer",
    "enqueue",
    "give_back",
    "message_key",
    "note_escalation",
    "outbox_row",
    "pending_query",
    "release",
    "requeue",
    "sent_today",
    "take_back_leases",
    "tell_now",
]


def message_key(subject: str, *parts: str) -> str:
    """Return a message's deterministic key: ``subject`` (``plan/ref``, ``digest``, ``report``) and ``parts``,
    joined by ``|``."""
    return "|".join((subject, *parts))


def outbox_row(
    key: str,
    *,
    plan_id: str | None,
    action_id: int | None,
    occurrence: str,
    step: str,
    type: str,
    level: int,
    recipient: str,
    recipient_id: str | None,
    template: str,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any],
    status: str = "pending",
    reason: str = "",
) -> dict[str, Any]:
    """Return a new outbox row (every column but ``id``) for ``enqueue``; ``due_at`` and ``now`` are aware UTC."""
    return {
        "key": key,
        "plan_id": plan_id,
        "action_id": action_id,
        "occurrence": occurrence,
        "step": step,
        "type": type,
        "level": level,
        "recipient": recipient,
        "recipient_id": recipient_id,
        "template": template,
        "due_at": due_at,
        "status": status,
        "reason": reason,
        "attempts": 0,
        "last_error": "",
        "payload": payload,
        "created_at": now,
        "sent_at": None,
        "next_attempt_at": None,
        "message_id": None,
    }


def enqueue(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (``outbox_row``'s, all with the same columns) in bulk, skipping every key the
    outbox holds already; return how many were new (for one row: 1 when it was new, 0 when not)."""
    return insert_ignoring_duplicates(conn, OUT, rows)


def tell_now(
    conn: Connection,
    key: str,
    *,
    to: tuple[str, str | None],
    plan_id: str | None,
    action_id: int | None,
    occurrence: str,
    step: str,
    type: str,
    template: str,
    now: datetime,
    payload: dict[str, Any],
    due_at: datetime | None = None,
) -> bool:
    """Queue one message to one person, due at ``now`` (aware UTC; ``due_at`` when it must wait for the recipient's
    working day), outside any escalation ladder (level 0); ``to`` is their (address, owner id). Return whether it
    was new (its key not queued before)."""
    recipient, recipient_id = to
    row = outbox_row(
        key,
        plan_id=plan_id,
        action_id=action_id,
        occurrence=occurrence,
        step=step,
        type=type,
        level=0,
        recipient=recipient,
        recipient_id=recipient_id,
        template=template,
        due_at=due_at or now,
        now=now,
        payload=payload,
    )
    return enqueue(conn, [row]) == 1


def pending_query(now: datetime, limit: int) -> Any:
    """Return the query of pending rows that may go out at ``now`` (UTC)."""
    return (
        select(OUT)
        .where(
            OUT.c.status == "pending",
            OUT.c.due_at <= now,
            or_(OUT.c.next_attempt_at.is_(None), OUT.c.next_attempt_at <= now),
        )
        .order_by(OUT.c.due_at, OUT.c.id)
        .limit(limit)
    )


def claim(conn: Connection, rows: Sequence[R], now: datetime) -> list[R]:
    """Take the rows for this pass: each gets a lease (``next_attempt_at``) that hides it from other nodes.

    The UPDATE succeeds only for rows still pending and free, so two dispatchers (several nodes on
    one PostgreSQL) never send the same row; a process that dies holding a lease frees its rows
    when the lease runs out, and they go again with their Message-IDs.
    """
    free = or_(OUT.c.next_attempt_at.is_(None), OUT.c.next_attempt_at <= now)
    taken: set[int] = set()
    for start in range(0, len(rows), CHUNK):
        ids = [r["id"] for r in rows[start : start + CHUNK]]
        stmt = (
            update(OUT)
            .where(OUT.c.id.in_(ids), OUT.c.status == "pending", free)
            .values(next_attempt_at=now + LEASE)
            .returning(OUT.c.id)
        )
        taken.update(conn.execute(stmt).scalars())
    conn.commit()
    return [r for r in rows if r["id"] in taken]


def _claim_due() -> Any:
    """Return ``claim_due``'s statement, with the parameters ``b_now``, ``b_limit`` and ``b_lease``."""
    now = bindparam("b_now", type_=OUT.c.due_at.type)
    free = (  # ``pending_query``'s rows
        select(OUT.c.id, OUT.c.next_attempt_at)
        .where(
            OUT.c.status == "pending",
            OUT.c.due_at <= now,
            or_(OUT.c.next_attempt_at.is_(None), OUT.c.next_attempt_at <= now),
        )
        .order_by(OUT.c.due_at, OUT.c.id)
        .limit(bindparam("b_limit", type_=Integer))
        .with_for_update(skip_locked=True)
        .subquery()
    )
    return (
        update(OUT)
        .where(OUT.c.id == free.c.id)
        .values(next_attempt_at=bindparam("b_lease", type_=OUT.c.next_attempt_at.type))
        .returning(*(c for c in OUT.c if c.name != "next_attempt_at"), free.c.next_attempt_at)
    )


CLAIM_DUE = _claim_due()  # built once: building it costs SQLAlchemy about as much CPU as running it


def claim_due(conn: Connection, now: datetime, limit: int, *, commit: bool = True) -> list[Mapping[str, Any]]:
    """PostgreSQL: lease the first ``limit`` pending rows free at ``now`` in one statement; return
    them in due order, each as it was before its lease. ``commit=False`` leaves the commit to the
    caller, who then knows the rows even when the commit fails (it may have taken effect).

    FOR UPDATE SKIP LOCKED passes over rows another node is leasing at the same moment, so two
    nodes take disjoint rows instead of both reading the same first rows and one winning them all.
    """
    result = conn.execute(CLAIM_DUE, {"b_now": now, "b_limit": limit, "b_lease": now + LEASE})
    names = list(result.keys())
    rows: list[Mapping[str, Any]] = [dict(zip(names, r, strict=True)) for r in result.all()]
    if commit:
        conn.commit()
    return sorted(rows, key=lambda r: (r["due_at"], r["id"]))


def release(conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime) -> None:
    """Give back the leases of rows a pass did not get to (a pause, a lost connection): due again at once."""
    _release_ids(conn, [r["id"] for r in rows], now)
    conn.commit()


def _release_ids(conn: Connection, ids: Sequence[int], now: datetime) -> int:
    """Free those of ``ids`` still leased by the pass of ``now`` (due again at ``now``); return how many."""
    freed = 0
    for start in range(0, len(ids), CHUNK):
        freed += (
            conn.execute(
                update(OUT)
                .where(
                    among(conn, OUT.c.id, ids[start : start + CHUNK]),
                    OUT.c.status == "pending",
                    OUT.c.next_attempt_at == now + LEASE,
                )
                .values(next_attempt_at=now)
            ).rowcount
            or 0
        )
    return freed


def give_back(conn: Connection, now: datetime, unsent: Sequence[int], sent: Mapping[int, str]) -> tuple[int, int]:
    """Settle what a pass leased at ``now`` left behind when it was cut short (its database failed,
    its connection dropped): ``sent`` (row id to Message-ID), rows the server accepted, are marked
    sent at ``now``; ``unsent``, rows never handed to the server (or handed back unsent), are due
    again at once. Return how many of each, in one commit.

    Only rows still under that pass's lease are touched: its lease ``now + LEASE`` is its own (a row
    it leased could only be leased again by a later pass, once that lease had run out, and so with
    a later one), so a row another node leased since, or that was marked since, is left alone.
    """
    lease = now + LEASE
    marked = 0
    for row_id, mid in sent.items():
        marked += (
            conn.execute(
                update(OUT)
                .where(OUT.c.id == row_id, OUT.c.status == "pending", OUT.c.next_attempt_at == lease)
                .values(
                    status="sent",
                    sent_at=now,
                    attempts=OUT.c.attempts + 1,
                    message_id=mid,
                    last_error="",
                    next_attempt_at=None,
                )
            ).rowcount
            or 0
        )
    freed = _release_ids(conn, list(unsent), now)
    conn.commit()
    return marked, freed


def take_back_leases(conn: Connection, now: datetime) -> int:
    """Free, at ``now``, the leases a pass took and never gave back (it crashed); return how many.

    Only for a node that knows it is alone: another node's pass may still be sending these rows.
    A row counts as leased when it is pending, was never tried and is hidden until some time
    within ``LEASE`` of ``now``: nothing else hides an untried row for less than a day (the
    daily cap defers by a day). A row that was tried before is left to its lease: its retry
    wait looks the same, and it waits at most as long.
    """
    stmt = (
        update(OUT)
        .where(
            OUT.c.status == "pending",
            OUT.c.attempts == 0,
            OUT.c.next_attempt_at > now,
            OUT.c.next_attempt_at <= now + LEASE,
        )
        .values(next_attempt_at=now)
    )
    taken = conn.execute(stmt).rowcount
    conn.commit()
    return int(taken or 0)


def requeue(
    conn: Connection,
    now: datetime,
    *,
    since: datetime | None = None,
    action_id: int | None = None,
    by: str = "",
) -> list[dict[str, Any]]:
    """Put failed messages back in the queue, due at once; return them (id, key, type, recipient,
    action_id, occurrence, step, last_error), in due order.

    ``since``: only those that failed at or after it (UTC; a row failed before its failure was
    dated counts from its due time); ``action_id``: only those about that action. A row keeps its
    key, so it goes out with the same Message-ID; its payload's ``history`` records the requeue
    (when, by whom, the error it had), and its three days of retries start again.
    """
    query = select(OUT.c.id, OUT.c.key, OUT.c.type, OUT.c.recipient, OUT.c.action_id, OUT.c.occurrence, OUT.c.step)
    query = query.add_columns(OUT.c.last_error, OUT.c.payload, OUT.c.due_at).where(OUT.c.status == "failed")
    if action_id is not None:
        query = query.where(OUT.c.action_id == action_id)
    done: list[dict[str, Any]] = []
    for row in conn.execute(query.order_by(OUT.c.due_at, OUT.c.id)).mappings():
        payload = dict(row["payload"] or {})
        failed_at = payload.get("failed_at")
        when = datetime.fromisoformat(failed_at) if failed_at else row["due_at"]
        if since is not None and when < since:
            continue
        entry = {"at": now.isoformat(), "event": "requeued", "by": by, "error": row["last_error"]}
        payload["history"] = [*payload.get("history", []), entry]
        payload.pop("first_try", None)  # three days of retries from now
        payload.pop("failed_at", None)
        conn.execute(
            update(OUT)
            .where(OUT.c.id == row["id"], OUT.c.status == "failed")
            .values(status="pending", next_attempt_at=None, payload=payload)
        )
        done.append({k: v for k, v in row.items() if k not in ("payload", "due_at")})
        note_escalation(conn, row, "put back in the queue", f"was: {row['last_error']}", now, by or "planwatch")
    conn.commit()
    return done


def note_escalation(
    conn: Connection, row: Mapping[Any, Any], outcome: str, detail: str, now: datetime, by: str = "planwatch"
) -> None:
    """Tell the action's history what became of an escalation step's message (failed, put back in the
    queue): the escalation log says the step fired, this says whether its message got through.
    Rows of other steps are left alone. The caller commits."""
    step, action_id = str(row["step"]), row["action_id"]
    if action_id is None or step.split(":", 1)[0].split("#", 1)[0] != "escalate":
        return
    conn.execute(
        ACTION_CHANGE.insert().values(
            action_id=action_id,
            at=now,
            who=by,
            via="outbox",
            field="escalation message",
            old=step,
            new=outcome,
            note=f"{step} of {row['occurrence'] or 'the action'} to {row['recipient']}: {detail}"[:2000],
        )
    )


CAPPED = "the recipient's daily cap was reached; deferred to their next business day"


def defer(conn: Connection, ids: list[int], now: datetime, until: Mapping[int, datetime] | None = None) -> None:
    """Move rows past a recipient's daily cap to ``until[id]`` (the recipient's next business day at the same
    hour, when the caller knows it), else to the same time tomorrow, in one commit."""
    tomorrow = now + timedelta(days=1)
    by_time: dict[datetime, list[int]] = defaultdict(list)
    for row_id in ids:
        by_time[(until or {}).get(row_id, tomorrow)].append(row_id)
    for later, group in sorted(by_time.items()):
        for start in range(0, len(group), CHUNK):
            conn.execute(
                update(OUT)
                .where(OUT.c.id.in_(group[start : start + CHUNK]))
                .values(
                    next_attempt_at=later, reason="the recipient's daily cap was reached; deferred to their next day"
                )
            )
    conn.commit()


def sent_today(conn: Connection, recipients: set[str], now: datetime) -> dict[str, int]:
    """Return how many messages each of ``recipients`` was sent in the day before ``now`` (0 for none)."""
    counts: dict[str, int] = defaultdict(int)
    if not recipients:
        return counts
    named = sorted(recipients)
    # PostgreSQL: one array parameter, not one a recipient (a pass has some hundred)
    among_them = (
        OUT.c.recipient == any_(bindparam(None, named, type_=ARRAY(String)))
        if conn.dialect.name == "postgresql"
        else OUT.c.recipient.in_(named)
    )
    query = (
        select(OUT.c.recipient, func.count())
        .where(OUT.c.status == "sent", OUT.c.sent_at > now - timedelta(days=1), among_them)
        .group_by(OUT.c.recipient)
    )
    for recipient, n in conn.execute(query):
        counts[recipient] = n
    return counts


# Marking a row sent (SQLite: several in one executemany and one commit): built once.
MARK_SENT = (
    update(OUT)
    .where(OUT.c.id == bindparam("b_id"))
    .values(
        status="sent",
        sent_at=bindparam("b_at"),
        attempts=bindparam("b_attempts"),
        message_id=bindparam("b_mid"),
        last_error="",
        next_attempt_at=None,
    )
)
# Which of the rows ``b_check`` are still leased by the pass that leased them at ``b_lease - LEASE``.
OWNED_MANY = select(OUT.c.id).where(
    OUT.c.id.in_(bindparam("b_check", expanding=True)),
    OUT.c.status == "pending",
    OUT.c.next_attempt_at == bindparam("b_lease"),
)
# PostgreSQL: mark the messages sent since the last check (several at once, one Message-ID each).
_JUST_SENT = (
    func.unnest(bindparam("b_ids", type_=ARRAY(Integer)), bindparam("b_mids", type_=ARRAY(String)))
    .table_valued("id", "mid")
    .render_derived(name="just_sent")
)
MARK_SENT_MANY = (
    update(OUT)
    .where(OUT.c.id == _JUST_SENT.c.id)
    .values(
        status="sent",
        sent_at=bindparam("b_at"),
        attempts=OUT.c.attempts + 1,
        message_id=_JUST_SENT.c.mid,
        last_error="",
        next_attempt_at=None,
    )
)
# ... and ask which of the next rows are still ours, in one statement and one commit (a data-modifying
# WITH runs whether or not the query reads it; the rows it marks are not among those it checks).
# PostgreSQL: the ids to check as one array parameter (the statement's text is the same for every group).
OWNED_ARRAY = select(OUT.c.id).where(
    OUT.c.id == any_(bindparam("b_check", type_=ARRAY(Integer))),
    OUT.c.status == "pending",
    OUT.c.next_attempt_at == bindparam("b_lease"),
)
OWNED_MANY_AFTER_SENT = OWNED_ARRAY.add_cte(MARK_SENT_MANY.returning(OUT.c.id).cte("marked_sent"))
# Rows settled without a message (a channel that reads none): no Message-ID.
MARK_COUNTED = (
    update(OUT)
    .where(OUT.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(status="sent", sent_at=bindparam("b_at"), attempts=OUT.c.attempts + 1, last_error="", next_attempt_at=None)
)
