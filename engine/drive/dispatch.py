"""The outbox: claim what is due, check it is still true, render it, hand it to a channel, mark it.

A row is marked sent right after its channel accepted it, so the crash of a node can repeat only
the messages in flight (one, or up to the SMTP pipeline's depth), and those carry the same
Message-IDs. On PostgreSQL the marks are committed without waiting for the disk (see ``_Batch``):
a crash of the database server itself can also repeat what was sent in its last moments (at most
about 0.6 s, three of its WAL writer's rounds), again with the same Message-IDs.
A 4xx reply or a dropped connection is retried with exponential backoff and jitter (about 1
minute, doubling, capped near an hour, given up after 3 days); a 5xx reply fails the message
with the server's reply kept; an authentication or TLS refusal pauses the whole queue without
marking anything, and the administrator is told. Failures reach the administrator's report.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import Message
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Engine,
    Integer,
    String,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from engine.channels import Channel, DeliveryError
from engine.channels.pipeline import SENT, Inline, Pipeline, quick_handover
from engine.drive.delivery import (
    GIVE_UP_AFTER,
    Pause,
    first_try,
    gives_up,
    pause_queue,
    read_pause,
    resume_queue,
    retry_wait,
    stale_reason,
)
from engine.drive.planning import replan
from engine.mail.compose import ContextCache, compose
from engine.mail.context import Row, local_day
from engine.mail.digest import insert_new, report_to_admin
from engine.mail.messages import message_id
from engine.mail.render import Renderer, template_error
from engine.store.models import Outbox

__all__ = ["ContextCache", "DispatchStats", "dispatch", "enqueue_extension_granted", "pending_query"]

OUT = Outbox.__table__  # type: ignore[attr-defined]
log = logging.getLogger("planwatch.outbox")
LEASE = timedelta(minutes=5)  # how long a claimed row stays hidden from other dispatchers
# Built once: marking a row sent is the hot path of a batch (one statement and one commit per message).
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


# Whether a row is still leased by the pass that leased it at ``b_lease - LEASE``.
OWNED = select(OUT.c.id).where(
    OUT.c.id == bindparam("b_id"), OUT.c.status == "pending", OUT.c.next_attempt_at == bindparam("b_lease")
)
# PostgreSQL: mark the messages sent since the last check and ask whether the next row is still
# ours, in one statement and one commit (a data-modifying WITH runs whether or not the query reads it).
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
OWNED_AFTER_SENT = OWNED.add_cte(MARK_SENT_MANY.returning(OUT.c.id).cte("marked_sent"))
ASYNC_MARKS = "SET synchronous_commit = off"  # PostgreSQL: for the connection that marks rows sent
DURABLE_COMMITS = "RESET synchronous_commit"


@dataclass
class DispatchStats:
    """What one dispatch pass did; ``paused`` says why the queue is paused ("" when it is not)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0
    suppressed: int = 0
    paused: str = ""

    COUNTS = ("sent", "failed", "retried", "deferred", "suppressed")

    @property
    def handled(self) -> int:
        """Return how many rows the pass settled one way or another."""
        return sum(getattr(self, name) for name in self.COUNTS)

    def add(self, other: DispatchStats) -> None:
        """Add ``other``'s counts to these; its pause (or none) is the latest word."""
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.paused = other.paused


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


def dispatch(
    engine: Engine, channel: Channel, renderer: Renderer, now: datetime, *, limit: int = 10_000, cap: int = 10
) -> DispatchStats:
    """Deliver the pending messages due at ``now`` (aware UTC) over one channel batch; return what happened."""
    stats = DispatchStats()
    # A channel that reads nothing (simulations) skips rendering, pauses and, as before, the daily cap.
    counting = not getattr(channel, "needs_message", True)
    with engine.connect() as conn:
        pause = None if counting else read_pause(conn)
        if pause is not None and now < pause.until_at:
            stats.paused = pause.reason
            return stats
        if counting:
            return _count_only(conn, channel, now, limit, stats)
        if conn.dialect.name == "postgresql":  # lease first: nodes skip each other's rows
            claimed = _screen(conn, _claim_due(conn, now, limit), now, cap, stats)
        else:
            claimed = _claim(
                conn, _screen(conn, list(conn.execute(pending_query(now, limit)).mappings()), now, cap, stats), now
            )
        if not claimed:
            return stats
        _deliver_batch(conn, channel, renderer, claimed, now, stats, pause)
        _release(conn, claimed, now)  # not after a crash: then the leases run out by themselves
    return stats


def _claim(conn: Connection, rows: list[Row], now: datetime) -> list[Row]:
    """Take the rows for this pass: each gets a lease (``next_attempt_at``) that hides it from other nodes.

    The UPDATE succeeds only for rows still pending and free, so two dispatchers (several nodes on
    one PostgreSQL) never send the same row; a process that dies holding a lease frees its rows
    when the lease runs out, and they go again with their Message-IDs.
    """
    free = or_(OUT.c.next_attempt_at.is_(None), OUT.c.next_attempt_at <= now)
    taken: set[int] = set()
    for start in range(0, len(rows), 500):
        ids = [r["id"] for r in rows[start : start + 500]]
        stmt = (
            update(OUT)
            .where(OUT.c.id.in_(ids), OUT.c.status == "pending", free)
            .values(next_attempt_at=now + LEASE)
            .returning(OUT.c.id)
        )
        taken.update(conn.execute(stmt).scalars())
    conn.commit()
    return [r for r in rows if r["id"] in taken]


def _claim_due(conn: Connection, now: datetime, limit: int) -> list[Row]:
    """PostgreSQL: lease the first ``limit`` pending rows free at ``now`` in one statement; return
    them in due order, each as it was before its lease.

    FOR UPDATE SKIP LOCKED passes over rows another node is leasing at the same moment, so two
    nodes take disjoint rows instead of both reading the same first rows and one winning them all.
    """
    free = (
        pending_query(now, limit)
        .with_only_columns(OUT.c.id, OUT.c.next_attempt_at)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    stmt = (
        update(OUT)
        .where(OUT.c.id == free.c.id)
        .values(next_attempt_at=now + LEASE)
        .returning(*(c for c in OUT.c if c.name != "next_attempt_at"), free.c.next_attempt_at)
    )
    rows: list[Row] = [dict(r) for r in conn.execute(stmt).mappings()]
    conn.commit()
    return sorted(rows, key=lambda r: (r["due_at"], r["id"]))


def _release(conn: Connection, rows: list[Row], now: datetime) -> None:
    """Give back the leases of rows this pass did not get to (a pause, a lost connection): due again at once."""
    ids = [r["id"] for r in rows]
    for start in range(0, len(ids), 500):
        conn.execute(
            update(OUT)
            .where(
                OUT.c.id.in_(ids[start : start + 500]), OUT.c.status == "pending", OUT.c.next_attempt_at == now + LEASE
            )
            .values(next_attempt_at=now)
        )
    conn.commit()


def _screen(conn: Connection, rows: list[Row], now: datetime, cap: int | None, stats: DispatchStats) -> list[Row]:
    """Keep the rows to send now: stale ones are suppressed (and re-planned), over-cap ones wait a day."""
    counts = _sent_today(conn, rows, now) if cap is not None else defaultdict(int)
    keep, stale, deferred = [], [], []
    superseded = _superseded(rows)
    for row in rows:
        reason = SUPERSEDED if row["id"] in superseded else stale_reason(row, now)
        if reason is not None:
            stale.append((row, reason))
        elif cap is not None and counts[row["recipient"]] >= int((row["payload"] or {}).get("cap", cap)):
            deferred.append(row["id"])
        else:
            counts[row["recipient"]] += 1
            keep.append(row)
    if deferred:
        _defer(conn, deferred, now)
        stats.deferred += len(deferred)
    if stale:
        for row, reason in stale:
            # A row leased before screening (PostgreSQL) keeps the next_attempt_at it had, as one screened unleased.
            kept = {"next_attempt_at": row["next_attempt_at"]} if "next_attempt_at" in row else {}
            conn.execute(update(OUT).where(OUT.c.id == row["id"]).values(status="suppressed", reason=reason, **kept))
        replan(
            conn, {r["action_id"] for r, reason in stale if r["action_id"] is not None and reason != SUPERSEDED}, now
        )
        conn.commit()
        stats.suppressed += len(stale)
    return keep


SUPERSEDED = "superseded by a later message about the same occurrence (catch-up)"
FAMILIES = ("remind", "escalate", "checkin")


def _superseded(rows: list[Row]) -> set[int]:
    """Return the ids of rows that a later row about the same occurrence, to the same person, supersedes.

    The planner collapses what it finds due together; rows planned ahead that waited through
    downtime, or were deferred by the daily cap, meet their successors only here.
    """
    latest: dict[tuple[Any, ...], Row] = {}
    dropped: set[int] = set()
    for row in rows:  # in due_at order
        group = _group(row["step"], row["action_id"], row["occurrence"], row["recipient"])
        if group is None:
            continue
        previous = latest.get(group)
        if previous is not None:
            dropped.add(previous["id"])
        latest[group] = row
    return dropped


def _group(step: str, action_id: int | None, occurrence: str, recipient: str) -> tuple[Any, ...] | None:
    """Return the group of rows that supersede one another (None for a row in no such group)."""
    family = step.split(":", 1)[0].split("#", 1)[0]
    if family not in FAMILIES or action_id is None:
        return None
    return (action_id, occurrence, family, recipient)


# What a channel that reads nothing needs of a row: the screening's columns, two payload fields read in SQL.
COUNTED = (
    OUT.c.id,
    OUT.c.key,
    OUT.c.type,
    OUT.c.step,
    OUT.c.occurrence,
    OUT.c.action_id,
    OUT.c.recipient,
    OUT.c.payload["date"].as_string().label("date"),
    OUT.c.payload["role_tz"].as_string().label("role_tz"),
)


MARK_COUNTED = (
    update(OUT)
    .where(OUT.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(status="sent", sent_at=bindparam("b_at"), attempts=OUT.c.attempts + 1, last_error="", next_attempt_at=None)
)


def _count_only(conn: Connection, channel: Channel, now: datetime, limit: int, stats: DispatchStats) -> DispatchStats:
    """For a channel that reads nothing (simulations, the benchmark): screen the due rows as for a real
    channel, then mark the batch sent in one statement per 500 rows (no message was built: no Message-ID).

    Only the rows the screening could stop go through it: reminders whose date is not after
    today in every zone of the batch, and rows that share an occurrence with another row.
    """
    result = conn.execute(pending_query(now, limit).with_only_columns(*COUNTED))
    names = list(result.keys())
    rows = [tuple(r) for r in result]  # plain tuples: a Row's attributes cost microseconds each
    if not rows:
        return stats
    latest_today = max(local_day(now, tz or "UTC").isoformat() for tz in {r[8] for r in rows})
    grouped = [(r, _group(r[3], r[5], r[4], r[6])) for r in rows]
    counts = Counter(group for _, group in grouped)
    ids: list[int] = []
    suspects: list[Row] = []
    for r, group in grouped:  # id, key, type, step, occurrence, action_id, recipient, date, role_tz
        if (group is not None and counts[group] > 1) or (r[2] == "reminder" and r[7] and r[7] < latest_today):
            suspects.append(dict(zip(names, r, strict=True)) | {"payload": {"date": r[7], "role_tz": r[8]}})
        else:
            ids.append(r[0])
    ids += [r["id"] for r in _screen(conn, suspects, now, None, stats)]
    for start in range(0, len(ids), 500):
        conn.execute(MARK_COUNTED, {"b_ids": ids[start : start + 500], "b_at": now})
    for _ in ids:
        channel.deliver(None)  # type: ignore[arg-type]
    conn.commit()
    stats.sent += len(ids)
    return stats


def _deliver_batch(
    conn: Connection,
    channel: Channel,
    renderer: Renderer,
    rows: list[Row],
    now: datetime,
    stats: DispatchStats,
    pause: Pause | None,
) -> None:
    """Send ``rows`` over one opened channel; stop at a pause or a lost connection."""
    try:
        _open(channel)
    except DeliveryError as exc:
        _paused(conn, renderer, exc, pause, now, stats)
        return
    renderer.refresh()  # templates edited since the last pass are read again
    batch = _Batch(conn, renderer, now, stats, pause)
    threaded = getattr(channel, "waits", False)  # a channel that waits on a server sends on its own thread
    pipe: Pipeline | Inline = Pipeline(channel) if threaded else Inline(channel)
    try:
        with quick_handover() if threaded else nullcontext():
            contexts = ContextCache(conn, renderer.identity)
            contexts.preload(rows)
            for row in rows:
                if pipe.stopped.is_set():
                    break  # the rest wait for the next pass, untouched
                if not batch.still_ours(row, pipe.ready()):
                    continue  # this pass outlived its lease and another node took the row: it sends it
                message = batch.build(contexts, row)
                if message is not None:
                    pipe.put(row, message)
    finally:
        for done in pipe.finish():
            batch.settle(*done)
        _close(channel)
        batch.close()


class _Batch:
    """Marks the rows of one dispatch pass as their outcomes come in (on the database's thread)."""

    def __init__(
        self, conn: Connection, renderer: Renderer, now: datetime, stats: DispatchStats, pause: Pause | None
    ) -> None:
        self.conn, self.renderer, self.now, self.stats, self.pause = conn, renderer, now, stats, pause
        self.failures: list[dict[str, Any]] = []
        self.crash: BaseException | None = None
        # The two statements of every message (is the row still ours, it is sent) are each a
        # transaction of their own: on PostgreSQL a second connection in autocommit makes each one
        # round trip instead of three (BEGIN, the statement, COMMIT).
        self.autocommit = conn.dialect.name == "postgresql"
        self.quick = conn.engine.connect().execution_options(isolation_level="AUTOCOMMIT") if self.autocommit else conn
        if self.autocommit:
            # A mark is committed without waiting for its WAL to reach the disk. Losing one takes a
            # crash of the database server (a node's crash loses nothing the server has), and then
            # costs a resend with the same Message-ID, never a lost message. Waiting would hold
            # every node up behind the disk: one flush a message, and nodes that share a server
            # wait on each other's flushes. Only this connection, and only until close().
            self.quick.exec_driver_sql(ASYNC_MARKS)

    def still_ours(self, row: Row, done: Iterable[tuple[Row, Any]] = ()) -> bool:
        """Settle the outcomes ``done`` that came in, then return True while this pass's lease on
        ``row`` holds (a slow pass may outlive it: then another node may have taken the row, and
        only that node may send it).

        On PostgreSQL the messages sent since the last check are marked in the same statement as
        the check: one round trip and one commit for them all instead of one each, so a node waits
        less on its database and leaves it more CPU.
        """
        lease = self.now + LEASE
        sent: list[Row] = []
        for other, outcome in done:
            if outcome == SENT and self.autocommit:
                sent.append(other)
            else:
                self.settle(other, outcome)
        if not sent:
            found = self.quick.execute(OWNED, {"b_id": row["id"], "b_lease": lease}).first()
        else:
            domain = self.renderer.identity.domain
            found = self.quick.execute(
                OWNED_AFTER_SENT,
                {
                    "b_id": row["id"],
                    "b_lease": lease,
                    "b_at": self.now,
                    "b_ids": [r["id"] for r in sent],
                    "b_mids": [message_id(r["key"], domain) for r in sent],
                },
            ).first()
            self.stats.sent += len(sent)
        if not self.autocommit:
            self.quick.commit()  # end the read: a SQLite write must not start from an older snapshot
        return found is not None

    def _sent(self, row: Row) -> dict[str, Any]:
        """Return MARK_SENT's parameters for ``row``."""
        return {
            "b_id": row["id"],
            "b_at": self.now,
            "b_attempts": row["attempts"] + 1,
            "b_mid": message_id(row["key"], self.renderer.identity.domain),
        }

    def build(self, contexts: ContextCache, row: Row) -> Message | None:
        """Return the row's message, or None when the row failed before sending (given up, unbuildable)."""
        if gives_up(row, self.now):
            self._count(
                row,
                _failed(
                    self.conn,
                    row,
                    self.now,
                    f"gave up after 3 days of retries; last error: {row['last_error']}",
                    permanent=True,
                ),
            )
            return None
        try:
            return compose(self.renderer, contexts, row, self.now)
        except DBAPIError:
            raise  # the database, not the message: the pass stops and the row stays pending
        except Exception as exc:  # a broken template or address: retried (someone may fix it), and reported
            self._count(
                row,
                _failed(
                    self.conn,
                    row,
                    self.now,
                    f"cannot build the message: {template_error(exc, row['template'])}",
                    permanent=False,
                ),
            )
            return None

    def settle(self, row: Row, outcome: Any) -> None:
        """Mark ``row`` with what its delivery came to: sent, failed, retried, paused (unmarked) or skipped."""
        if outcome == SENT:
            self.quick.execute(MARK_SENT, self._sent(row))
            if not self.autocommit:
                self.quick.commit()
            self.stats.sent += 1
        elif isinstance(outcome, DeliveryError) and outcome.pause:
            if not self.stats.paused:
                _paused(self.conn, self.renderer, outcome, self.pause, self.now, self.stats)
        elif isinstance(outcome, DeliveryError):
            self._count(
                row, _failed(self.conn, row, self.now, outcome.reply or str(outcome), permanent=outcome.permanent)
            )
        elif isinstance(outcome, BaseException):
            self.crash = self.crash or outcome  # the row stays pending: sent at least once, resent with its Message-ID

    def _count(self, row: Row, status: str) -> None:
        setattr(self.stats, status, getattr(self.stats, status) + 1)
        if status == "failed":
            self.failures.append(_failure(self.conn, row))

    def close(self) -> None:
        """Resume a paused queue that works again, tell the administrator of failures, re-raise a crash."""
        if self.quick is not self.conn:
            try:
                self.quick.exec_driver_sql(DURABLE_COMMITS)  # the pool's next user commits as configured
            except DBAPIError:
                self.quick.invalidate()  # a broken connection is not handed out again
            finally:
                self.quick.close()
        if self.pause is not None and self.stats.sent and not self.stats.paused:
            resume_queue(self.conn)
            log.warning("mail delivery works again after the pause since %s", self.pause.since)
        if self.failures:
            report_to_admin(self.conn, self.renderer.identity, self.now, failures=self.failures)
        if self.crash is not None:
            raise self.crash


def _failed(conn: Connection, row: Row, now: datetime, error: str, *, permanent: bool) -> str:
    """Mark a failed attempt: failed for good, or pending again after the retry wait."""
    attempts, started = row["attempts"] + 1, first_try(row, now)
    payload = dict(row["payload"] or {}) | {"first_try": started.isoformat()}
    later = now + retry_wait(row["key"], attempts)
    status, wait = ("failed", None) if permanent or later - started > GIVE_UP_AFTER else ("pending", later)
    conn.execute(
        update(OUT)
        .where(OUT.c.id == row["id"])
        .values(status=status, attempts=attempts, last_error=error[:2000], next_attempt_at=wait, payload=payload)
    )
    conn.commit()
    return "failed" if status == "failed" else "retried"


def _paused(
    conn: Connection,
    renderer: Renderer,
    exc: DeliveryError,
    previous: Pause | None,
    now: datetime,
    stats: DispatchStats,
) -> None:
    """Pause the queue (nothing is marked); a configuration fault is logged and told to the administrator."""
    kind = "config" if exc.pause else "unreachable"
    reason = exc.reply or str(exc)
    pause = pause_queue(conn, previous, kind, reason, now)
    stats.paused = reason
    if kind == "config":
        log.error("mail delivery paused until %s, nothing marked failed: %s", pause.until, reason)
        if previous is None:
            report_to_admin(conn, renderer.identity, now, pauses=[{"since": pause.since, "reason": reason}])
    else:
        log.warning("mail server unreachable, next try at %s: %s", pause.until, reason)


def _failure(conn: Connection, row: Row) -> dict[str, Any]:
    error = conn.execute(select(OUT.c.last_error).where(OUT.c.id == row["id"])).scalar() or ""
    return {
        "key": row["key"],
        "recipient": row["recipient"],
        "type": row["type"],
        "error": error,
        "ref": (row["payload"] or {}).get("ref") or row["key"].split("|", 1)[0].rpartition("/")[2],
    }


def _open(channel: Channel) -> None:
    opener = getattr(channel, "open", None)
    if callable(opener):
        opener()


def _close(channel: Channel) -> None:
    closer = getattr(channel, "close", None)
    if callable(closer):
        closer()


def _defer(conn: Connection, ids: list[int], now: datetime) -> None:
    """Move rows past a recipient's daily cap to the same time tomorrow, in one commit."""
    later = now + timedelta(days=1)
    for start in range(0, len(ids), 500):
        conn.execute(
            update(OUT)
            .where(OUT.c.id.in_(ids[start : start + 500]))
            .values(next_attempt_at=later, reason="the recipient's daily cap was reached; deferred by a day")
        )
    conn.commit()


def _sent_today(conn: Connection, rows: list[Row], now: datetime) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    recipients = {r["recipient"] for r in rows}
    if not recipients:
        return counts
    query = (
        select(OUT.c.recipient, func.count())
        .where(OUT.c.status == "sent", OUT.c.sent_at > now - timedelta(days=1), OUT.c.recipient.in_(recipients))
        .group_by(OUT.c.recipient)
    )
    for recipient, n in conn.execute(query):
        counts[recipient] = n
    return counts


def enqueue_extension_granted(
    conn: Connection, action: Row, owner: Row, old: date, new: date, *, by: str, reason: str, now: datetime
) -> bool:
    """Queue the ``extension_granted`` message to an action's owner (for ``workflow.extend`` to call); return
    whether it was new. ``action``/``owner`` are rows (id, plan_id, ref / id, email, timezone); dates are plan-local."""
    key = f"{action['plan_id']}/{action['ref']}|extension|{new.isoformat()}|{owner['id']}"
    payload = {
        "role": "owner",
        "role_tz": owner["timezone"],
        "date": new.isoformat(),
        "from": old.isoformat(),
        "to": new.isoformat(),
        "by": by,
        "reason": reason,
        "what": "due",
    }
    row = {
        "key": key,
        "plan_id": action["plan_id"],
        "action_id": action["id"],
        "occurrence": new.isoformat(),
        "step": "extension",
        "type": "reminder",
        "level": 0,
        "recipient": owner["email"],
        "recipient_id": owner["id"],
        "template": "extension_granted",
        "due_at": now,
        "status": "pending",
        "reason": "",
        "attempts": 0,
        "last_error": "",
        "payload": payload,
        "created_at": now,
        "sent_at": None,
        "next_attempt_at": None,
        "message_id": None,
    }
    return insert_new(conn, row)
