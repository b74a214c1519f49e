"""The outbox: claim what is due, check it is still true, render it, hand it to a channel, mark it.

A row is marked sent right after its channel accepted it, one commit per message, so a crash
can repeat at most the message in flight, and that one carries the same Message-ID.
A 4xx reply or a dropped connection is retried with exponential backoff and jitter (about 1
minute, doubling, capped near an hour, given up after 3 days); a 5xx reply fails the message
with the server's reply kept; an authentication or TLS refusal pauses the whole queue without
marking anything, and the administrator is told. Failures reach the administrator's report.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, or_, select, update

from engine.channels import Channel, DeliveryError
from engine.delivery import Pause, first_try, gives_up, pause_queue, read_pause, resume_queue, retry_wait, stale_reason
from engine.digest import report_to_admin
from engine.compose import ContextCache, compose
from engine.messages import message_id
from engine.planning import replan
from engine.render import Renderer, template_error
from engine.store.models import Outbox

__all__ = ["ContextCache", "DispatchStats", "dispatch", "pending_query"]

O = Outbox.__table__  # type: ignore[attr-defined]
log = logging.getLogger("planwatch.outbox")


@dataclass
class DispatchStats:
    """What one dispatch pass did; ``paused`` says why the queue is paused ("" when it is not)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0
    suppressed: int = 0
    paused: str = ""


def pending_query(now: datetime, limit: int) -> Any:
    """Return the query of pending rows that may go out at ``now`` (UTC)."""
    return (
        select(O).where(O.c.status == "pending", O.c.due_at <= now,
                        or_(O.c.next_attempt_at.is_(None), O.c.next_attempt_at <= now))
        .order_by(O.c.due_at, O.c.id).limit(limit)
    )


def dispatch(engine: Engine, channel: Channel, renderer: Renderer, now: datetime, *, limit: int = 10_000, cap: int = 10) -> DispatchStats:
    """Deliver the pending messages due at ``now`` (aware UTC) over one channel batch; return what happened."""
    stats = DispatchStats()
    with engine.connect() as conn:
        pause = read_pause(conn)
        if pause is not None and now < pause.until_at:
            stats.paused = pause.reason
            return stats
        rows = list(conn.execute(pending_query(now, limit)).mappings())
        rows = _screen(conn, rows, now, cap, stats)
        if not rows:
            return stats
        if not getattr(channel, "needs_message", True):
            return _count_only(conn, channel, rows, now, stats, renderer)
        _deliver_batch(conn, channel, renderer, rows, now, stats, pause)
    return stats


def _screen(conn: Connection, rows: list[Mapping[str, Any]], now: datetime, cap: int, stats: DispatchStats) -> list[Mapping[str, Any]]:
    """Keep the rows to send now: stale ones are suppressed (and re-planned), over-cap ones wait a day."""
    counts = _sent_today(conn, rows, now)
    keep, stale = [], []
    for row in rows:
        reason = stale_reason(row, now)
        if reason is not None:
            stale.append((row, reason))
        elif counts[row["recipient"]] >= int((row["payload"] or {}).get("cap", cap)):
            _defer(conn, row, now)
            stats.deferred += 1
        else:
            counts[row["recipient"]] += 1
            keep.append(row)
    if stale:
        for row, reason in stale:
            conn.execute(update(O).where(O.c.id == row["id"]).values(status="suppressed", reason=reason))
        replan(conn, {r["action_id"] for r, _ in stale if r["action_id"] is not None}, now)
        conn.commit()
        stats.suppressed += len(stale)
    return keep


def _count_only(conn: Connection, channel: Channel, rows: list[Mapping[str, Any]], now: datetime,
                stats: DispatchStats, renderer: Renderer) -> DispatchStats:
    """For a channel that reads nothing (simulations): mark the batch sent in one statement."""
    for _ in rows:
        channel.deliver(None)  # type: ignore[arg-type]
    domain = renderer.identity.domain
    conn.execute(update(O).where(O.c.id == bindparam("b_id")).values(
        status="sent", sent_at=now, attempts=bindparam("b_attempts"), message_id=bindparam("b_mid"), last_error=""),
        [{"b_id": r["id"], "b_attempts": r["attempts"] + 1, "b_mid": message_id(r["key"], domain)} for r in rows])
    conn.commit()
    stats.sent += len(rows)
    return stats


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of one row: "sent", "failed", "retried" or "paused" (nothing marked)."""

    status: str
    error: DeliveryError | None = None

    @property
    def stops_batch(self) -> bool:
        """A pause or a dropped connection ends the batch: the rest wait for the next pass."""
        return self.status == "paused" or (self.error is not None and self.error.connection_lost)


def _deliver_batch(conn: Connection, channel: Channel, renderer: Renderer, rows: list[Mapping[str, Any]],
                   now: datetime, stats: DispatchStats, pause: Pause | None) -> None:
    """Send ``rows`` over one opened channel; stop at a pause or a lost connection."""
    try:
        _open(channel)
    except DeliveryError as exc:
        _paused(conn, renderer, exc, pause, now, stats)
        return
    failures: list[dict[str, Any]] = []
    try:
        contexts = ContextCache(conn, renderer.identity)
        for row in rows:
            outcome = _deliver_one(conn, channel, renderer, contexts, row, now)
            if outcome.status == "paused":
                assert outcome.error is not None
                _paused(conn, renderer, outcome.error, pause, now, stats)
                return
            setattr(stats, outcome.status, getattr(stats, outcome.status) + 1)
            if outcome.status == "failed":
                failures.append(_failure(conn, row))
            if outcome.stops_batch:
                break
        if pause is not None and stats.sent:
            resume_queue(conn)
            log.warning("mail delivery works again after the pause since %s", pause.since)
    finally:
        _close(channel)
        if failures:
            report_to_admin(conn, renderer.identity, now, failures=failures)


def _deliver_one(conn: Connection, channel: Channel, renderer: Renderer, contexts: ContextCache,
                 row: Mapping[str, Any], now: datetime) -> _Outcome:
    """Build and deliver one row's message, and mark the row."""
    if gives_up(row, now):
        return _Outcome(_failed(conn, row, now, f"gave up after 3 days of retries; last error: {row['last_error']}", permanent=True))
    try:
        message = compose(renderer, contexts, row, now)
    except Exception as exc:  # a broken template or address: retried (someone may fix it), and reported
        return _Outcome(_failed(conn, row, now, f"cannot build the message: {template_error(exc, row['template'])}", permanent=False))
    try:
        channel.deliver(message)
    except DeliveryError as exc:
        if exc.pause:
            return _Outcome("paused", exc)
        return _Outcome(_failed(conn, row, now, exc.reply or str(exc), permanent=exc.permanent), exc)
    conn.execute(update(O).where(O.c.id == row["id"]).values(
        status="sent", sent_at=now, attempts=row["attempts"] + 1, message_id=message_id(row["key"], renderer.identity.domain),
        last_error="", next_attempt_at=None))
    conn.commit()
    return _Outcome("sent")


def _failed(conn: Connection, row: Mapping[str, Any], now: datetime, error: str, *, permanent: bool) -> str:
    """Mark a failed attempt: failed for good, or pending again after the retry wait."""
    attempts = row["attempts"] + 1
    payload = dict(row["payload"] or {}) | {"first_try": first_try(row, now).isoformat()}
    if permanent or now + retry_wait(row["key"], attempts) - first_try(row, now) > timedelta(days=3):
        status, wait = "failed", None
    else:
        status, wait = "pending", now + retry_wait(row["key"], attempts)
    conn.execute(update(O).where(O.c.id == row["id"]).values(
        status=status, attempts=attempts, last_error=error[:2000], next_attempt_at=wait, payload=payload))
    conn.commit()
    return "failed" if status == "failed" else "retried"


def _paused(conn: Connection, renderer: Renderer, exc: DeliveryError, previous: Pause | None, now: datetime, stats: DispatchStats) -> None:
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


def _failure(conn: Connection, row: Mapping[str, Any]) -> dict[str, Any]:
    error = conn.execute(select(O.c.last_error).where(O.c.id == row["id"])).scalar() or ""
    return {"key": row["key"], "recipient": row["recipient"], "type": row["type"], "error": error,
            "ref": (row["payload"] or {}).get("ref") or row["key"].split("|", 1)[0].rpartition("/")[2]}


def _open(channel: Channel) -> None:
    opener = getattr(channel, "open", None)
    if callable(opener):
        opener()


def _close(channel: Channel) -> None:
    closer = getattr(channel, "close", None)
    if callable(closer):
        closer()


def _defer(conn: Connection, row: Mapping[str, Any], now: datetime) -> None:
    later = now + timedelta(days=1)
    conn.execute(update(O).where(O.c.id == row["id"]).values(
        next_attempt_at=later, reason="the recipient's daily cap was reached; deferred by a day"))
    conn.commit()


def _sent_today(conn: Connection, rows: list[Mapping[str, Any]], now: datetime) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    recipients = {r["recipient"] for r in rows}
    if not recipients:
        return counts
    query = (select(O.c.recipient, func.count()).where(O.c.status == "sent", O.c.sent_at > now - timedelta(days=1),
                                                        O.c.recipient.in_(recipients)).group_by(O.c.recipient))
    for recipient, n in conn.execute(query):
        counts[recipient] = n
    return counts
