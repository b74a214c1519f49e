"""The dispatcher: claim what is due in the outbox, check it is still true, render it, hand it to a
channel, mark it.

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
from datetime import datetime
from email.message import Message
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import DBAPIError

from engine.channels.base import Channel, DeliveryError
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
from engine.mail.compose import ContextCache, compose
from engine.mail.context import Row, local_day
from engine.mail.digest import report_to_admin
from engine.mail.messages import message_id
from engine.mail.render import Renderer, template_error
from engine.outbox import (
    LEASE,
    MARK_COUNTED,
    MARK_SENT,
    OWNED,
    OWNED_AFTER_SENT,
    claim,
    claim_due,
    defer,
    pending_query,
    release,
    sent_today,
)
from engine.store.plans import replan
from engine.store.tables import OUTBOX as OUT

__all__ = ["ContextCache", "DispatchStats", "dispatch"]

log = logging.getLogger("planwatch.dispatch")
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


def dispatch(
    engine: Engine, channel: Channel, renderer: Renderer, now: datetime, *, limit: int = 10_000, cap: int = 10
) -> DispatchStats:
    """Deliver the pending messages due at ``now`` (aware UTC) over one channel batch; return what happened."""
    stats = DispatchStats()
    # A channel that reads nothing (simulations) skips rendering, pauses and, as before, the daily cap.
    counting = not channel.needs_message
    with engine.connect() as conn:
        pause = None if counting else read_pause(conn)
        if pause is not None and now < pause.until_at:
            stats.paused = pause.reason
            return stats
        if counting:
            return _count_only(conn, channel, now, limit, stats)
        if conn.dialect.name == "postgresql":  # lease first: nodes skip each other's rows
            claimed = _screen(conn, claim_due(conn, now, limit), now, cap, stats)
        else:
            claimed = claim(
                conn, _screen(conn, list(conn.execute(pending_query(now, limit)).mappings()), now, cap, stats), now
            )
        if not claimed:
            return stats
        _deliver_batch(conn, channel, renderer, claimed, now, stats, pause)
        release(conn, claimed, now)  # not after a crash: then the leases run out by themselves
    return stats


def _screen(conn: Connection, rows: list[Row], now: datetime, cap: int | None, stats: DispatchStats) -> list[Row]:
    """Keep the rows to send now: stale ones are suppressed (and re-planned), over-cap ones wait a day."""
    counts = sent_today(conn, {r["recipient"] for r in rows}, now) if cap is not None else defaultdict(int)
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
        defer(conn, deferred, now)
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


def _count_only(conn: Connection, channel: Channel, now: datetime, limit: int, stats: DispatchStats) -> DispatchStats:
    """For a channel that reads nothing (simulations, the benchmark): screen the due rows as for a real
    channel, then mark the batch sent in one statement per 500 rows (no message was built: no Message-ID)
    and tell the channel how many with ``tally``.

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
    channel.tally(len(ids))
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
        channel.open()
    except DeliveryError as exc:
        _paused(conn, renderer, exc, pause, now, stats)
        return
    renderer.refresh()  # templates edited since the last pass are read again
    batch = _Batch(conn, renderer, now, stats, pause)
    threaded = channel.waits  # a channel that waits on a server sends on its own thread
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
        channel.close()
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
