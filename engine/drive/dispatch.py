"""The dispatcher: claim what is due in the outbox, check it is still true, render it, hand it to a
channel, mark it.

A row is marked sent with the pass's next lease check after its channel accepted it (one statement
for a group of ``CHECK_GROUP`` rows), so the crash of a node can repeat only the messages in flight
(up to the SMTP pipeline's depth on each connection) and those sent since that check, and those carry
the same Message-IDs. An SMTP channel sends over several connections at once; each recipient's
messages go over one of them, in order. On PostgreSQL the marks are committed without waiting for
the disk (see ``_Batch``): a crash of the database server itself can also repeat what was sent in
its last moments (at most about 0.6 s, three of its WAL writer's rounds), again with the same
Message-IDs.
A pass cut short (its database failed, its connection dropped) leaves rows under its lease; the
node remembers them and settles them at its next pass, once the database answers (see
``_CutShort``): those the server accepted are marked sent, those it never had go at once, and only
a message whose fate is unknown (on the wire when the pass broke) waits out the 5-minute lease.
A 4xx reply or a dropped connection is retried with exponential backoff and jitter (about 1
minute, doubling, capped near an hour, given up after 3 days); a 5xx reply about the recipient
fails the message with the server's reply kept; an authentication or TLS refusal, a refused sender
or relaying, and the same 5xx reply for several recipients in a row (see ``_Batch.settle``) pause
the whole queue without marking anything. Failures reach the administrator's report; a pause
and a burst of failures are also handed back as ``DispatchStats.alerts``, for the administrator's
second route (``engine.channels.admin``), since the report may wait in the paused queue itself.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import DBAPIError

from engine.channels.admin import Alert
from engine.channels.base import Channel, DeliveryError
from engine.channels.pipeline import SENT, SKIPPED, Inline, Pool, lanes_of, quick_handover
from engine.drive.delivery import (
    BURST,
    GIVE_UP_AFTER,
    Pause,
    first_try,
    gives_up,
    needs_telling,
    pause_queue,
    read_pause,
    record_failures,
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
    MARK_SENT_MANY,
    OWNED_ARRAY,
    OWNED_MANY,
    OWNED_MANY_AFTER_SENT,
    claim,
    claim_due,
    defer,
    give_back,
    note_escalation,
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
RUN_PAUSE = 10  # the same refusal for this many recipients in a row: the server refuses us, not them
RUN_AT_END = 2  # ... or for this many, when nothing at all went out in the pass
# Rows whose leases one statement checks before they are built; the messages sent since the last check
# are marked in the same round trip. A node's crash can repeat what was sent but not yet marked: this
# many more than its connections hold.
CHECK_GROUP = 32
MAILBOX_STATUS = re.compile(r"^5\.(1\.[0-6]|2\.\d{1,3})\b")  # RFC 3463 codes about one mailbox


@dataclass
class DispatchStats:
    """What one dispatch pass did; ``paused`` says why the queue is paused ("" when it is not);
    ``alerts``: what the administrator should hear at once, outside the outbox."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0
    suppressed: int = 0
    paused: str = ""
    alerts: list[Alert] = field(default_factory=list)

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
        self.alerts += other.alerts


def dispatch(
    engine: Engine,
    channel: Channel,
    renderer: Renderer,
    now: datetime,
    *,
    limit: int = 10_000,
    cap: int = 10,
    keep_open: bool = False,
    later: Later | None = None,
) -> DispatchStats:
    """Deliver the pending messages due at ``now`` (aware UTC) over one channel batch; return what happened.

    ``keep_open``: a pass that ends well leaves the channel's connections open for the next pass (the
    caller closes it); one that stops (a pause, a lost connection, an error) closes them. ``later`` says when
    each row past its recipient's daily cap goes instead (their next business day); without it, a day later."""
    stats = DispatchStats()
    # A channel that reads nothing (simulations) skips rendering, pauses and, as before, the daily cap.
    counting = not channel.needs_message
    try:
        with engine.connect() as conn:
            _settle_cut_short(engine, conn, stats)
            pause = None if counting else read_pause(conn)
            if pause is not None and now < pause.until_at:
                stats.paused = pause.reason
                return stats
            if counting:
                return _count_only(conn, channel, now, limit, stats)
            if conn.dialect.name == "postgresql":  # lease first: nodes skip each other's rows
                leased = claim_due(conn, now, limit, commit=False)
            else:
                leased = claim(
                    conn,
                    _screen(conn, list(conn.execute(pending_query(now, limit)).mappings()), now, cap, stats, later),
                    now,
                )
            if not leased:
                conn.commit()
                _answered(engine, now)
                return stats
            tally = _Tally()
            try:
                conn.commit()  # PostgreSQL's leases (SQLite's are committed): if this fails, they may still hold
                _answered(engine, now)
                claimed = _screen(conn, leased, now, cap, stats, later) if conn.dialect.name == "postgresql" else leased
                if claimed:
                    _deliver_batch(conn, channel, renderer, claimed, now, stats, pause, tally, keep_open=keep_open)
                release(conn, leased, now)
            except BaseException:
                _remember(engine, _CutShort.of(leased, now, tally, renderer.identity.domain))
                raise
            if tally.sent and conn.dialect.name == "postgresql":
                _remember(engine, _CutShort(now, (), tally.sent, renderer.identity.domain), completed=True)
    except BaseException:
        _recall_completed(engine)
        raise
    return stats


@dataclass
class _Tally:
    """What became of a pass's rows, as far as the node knows, whether or not their marks were written."""

    handed: set[int] = field(default_factory=set)  # given to the channel
    sent: dict[int, str] = field(default_factory=dict)  # accepted by the server: id -> key
    skipped: set[int] = field(default_factory=set)  # handed back unsent (the batch stopped first)


@dataclass(frozen=True)
class _CutShort:
    """A pass that ended without marking all it leased (a database error, a dropped connection, a crash
    of its channel): what this node knows of the rows it left under its lease (``now + LEASE``).

    ``sent`` (id -> key): accepted by the server, their marks unwritten, or forgotten by a crash of
    the database server: marked sent, never sent again. ``unsent``: never handed to the server, or
    handed back unsent: due again at once. A row handed to the server with no answer (on the wire
    when the pass broke) may have been accepted: it is in neither and waits out its lease, then goes
    again with its Message-ID, as after the crash of a node.
    """

    now: datetime
    unsent: tuple[int, ...]
    sent: dict[int, str]
    domain: str

    @classmethod
    def of(cls, rows: list[Row], now: datetime, tally: _Tally, domain: str) -> _CutShort:
        unsent = tuple(r["id"] for r in rows if r["id"] not in tally.handed or r["id"] in tally.skipped)
        return cls(now, unsent, tally.sent, domain)


@dataclass
class _Memory:
    """What one node (its engine) remembers of its own passes: those cut short, not settled yet, and,
    on PostgreSQL, the sent rows of the passes completed in the last moments, whose marks (committed
    without waiting for the disk) a crash of the server may still forget: a pass that fails next
    marks them again (a no-op for a mark that stuck)."""

    cut: list[_CutShort] = field(default_factory=list)
    recent: list[tuple[_CutShort, datetime | None]] = field(default_factory=list)  # with the next pass's start


FLUSHED = timedelta(seconds=10)  # a mark this old is on the server's disk (PostgreSQL flushes within 0.6 s)
# Per engine (one a node): only this node's own passes are there, and each is settled under its own
# lease, so no other node's row is ever touched.
_MEMORY: weakref.WeakKeyDictionary[Engine, _Memory] = weakref.WeakKeyDictionary()
_MEMORY_LOCK = threading.Lock()


def _remember(engine: Engine, cut: _CutShort, *, completed: bool = False) -> None:
    if cut.unsent or cut.sent:
        with _MEMORY_LOCK:
            memory = _MEMORY.setdefault(engine, _Memory())
            if completed:
                memory.recent.append((cut, None))
            else:
                memory.cut.append(cut)


def _answered(engine: Engine, now: datetime) -> None:
    """The database answered a pass started at ``now``: forget the completed passes whose marks are on its disk."""
    with _MEMORY_LOCK:
        memory = _MEMORY.get(engine)
        if memory is not None and memory.recent:
            memory.recent = [(c, seen or now) for c, seen in memory.recent if seen is None or now < seen + FLUSHED]


def _recall_completed(engine: Engine) -> None:
    """A pass failed: the marks of the passes completed just before may be lost with the server; mark them again."""
    with _MEMORY_LOCK:
        memory = _MEMORY.get(engine)
        if memory is not None and memory.recent:
            memory.cut += [c for c, _ in memory.recent]
            memory.recent = []


def _settle_cut_short(engine: Engine, conn: Connection, stats: DispatchStats) -> None:
    """Settle the rows this node's passes cut short left under their leases, now that the database
    answers; a pass that cannot keeps them for the next one."""
    with _MEMORY_LOCK:
        memory = _MEMORY.get(engine)
        cuts: list[_CutShort] = []
        if memory is not None:
            cuts, memory.cut = memory.cut, []
    while cuts:
        cut = cuts[0]
        try:
            sent = {i: message_id(key, cut.domain) for i, key in cut.sent.items()}
            marked, freed = give_back(conn, cut.now, cut.unsent, sent)
        except BaseException:
            with _MEMORY_LOCK:
                _MEMORY.setdefault(engine, _Memory()).cut[:0] = cuts
            raise
        cuts.pop(0)
        stats.sent += marked
        if marked or freed:
            log.info(
                "after a database failure, of the dispatch pass of %s: %d message(s) it sent marked sent, "
                "%d it did not send due again",
                _when(cut.now),
                marked,
                freed,
            )


def _screen(
    conn: Connection, rows: list[Row], now: datetime, cap: int | None, stats: DispatchStats, later: Later | None = None
) -> list[Row]:
    """Keep the rows to send now: stale ones are suppressed (and re-planned), over-cap ones wait for the
    recipient's next business day (``later``; a day without it)."""
    counts = sent_today(conn, {r["recipient"] for r in rows}, now) if cap is not None else defaultdict(int)
    keep, stale, deferred = [], [], []
    superseded = _superseded(rows)
    for row in rows:
        reason = SUPERSEDED if row["id"] in superseded else stale_reason(row, now)
        if reason is not None:
            stale.append((row, reason))
        elif cap is not None and counts[row["recipient"]] >= int((row["payload"] or {}).get("cap", cap)):
            deferred.append(row)
        else:
            counts[row["recipient"]] += 1
            keep.append(row)
    if deferred:
        defer(conn, [r["id"] for r in deferred], now, later(conn, deferred, now) if later is not None else None)
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


# When rows past their recipients' daily cap go instead: {row id: instant}; the drive layer knows the business days.
Later = Callable[[Connection, list[Row], datetime], Mapping[int, datetime]]

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
    tally: _Tally,
    *,
    keep_open: bool = False,
) -> None:
    """Send ``rows`` over one opened channel; stop at a pause or a lost connection. ``tally`` learns
    what became of each row, for a pass that breaks before it has marked them all. ``keep_open``: see
    ``dispatch``."""
    try:
        channel.open()
    except DeliveryError as exc:
        _paused(conn, renderer, exc, pause, now, stats)
        return
    try:
        renderer.refresh()  # templates edited since the last pass are read again
        batch = _Batch(conn, renderer, now, stats, pause, tally)
    except BaseException:
        channel.close()
        raise
    threaded = channel.waits  # a channel that waits on a server sends on threads of its own, one a connection
    pipe: Pool | Inline = Pool(lanes_of(channel)) if threaded else Inline(channel)
    batch.stop = pipe.stopped
    try:
        with quick_handover() if threaded else nullcontext():
            contexts = ContextCache(conn, renderer.identity)
            contexts.preload(rows)
            # What the preload wrote (a new thread's language, kept in its row) is committed now: on PostgreSQL
            # the marks go over a second connection, and would wait for this one's row locks for ever.
            conn.commit()
            for start in range(0, len(rows), CHECK_GROUP):
                if pipe.stopped.is_set():
                    break  # the rest wait for the next pass, untouched
                group = rows[start : start + CHECK_GROUP]
                ours = batch.still_ours(group, pipe.ready())
                for row in group:
                    batch.take(pipe.ready())  # a refusal is judged at once (the run of one refusal stops the pass)
                    if pipe.stopped.is_set():
                        break
                    if row["id"] not in ours:
                        continue  # this pass outlived its lease and another node took the row: it sends it
                    message = batch.build(contexts, row)
                    if message is not None:
                        tally.handed.add(row["id"])
                        pipe.put(row, message, row["recipient"])  # one recipient's messages: one connection, in order
    except BaseException:
        pipe.stopped.set()  # the pass breaks: what waits in the queues is not sent, it goes at the next pass
        raise
    finally:
        for done in pipe.finish():
            batch.settle_at_end(*done)
        batch.flush_at_end()
        if not keep_open or pipe.stopped.is_set() or batch.broken is not None:
            channel.close()
        batch.close()


class _Batch:
    """Marks the rows of one dispatch pass as their outcomes come in (on the database's thread)."""

    def __init__(
        self,
        conn: Connection,
        renderer: Renderer,
        now: datetime,
        stats: DispatchStats,
        pause: Pause | None,
        tally: _Tally,
    ) -> None:
        self.conn, self.renderer, self.now, self.stats, self.pause = conn, renderer, now, stats, pause
        self.tally = tally
        self.broken: Exception | None = None  # the error (the database's) that stopped the marks, if any
        self.failures: list[dict[str, Any]] = []
        self.crash: BaseException | None = None
        self.stop = threading.Event()  # set: the rest of the batch is not sent (the pipeline's own event)
        self.held: list[tuple[Row, DeliveryError]] = []  # refusals that may turn out to be one fault of ours
        self.run_reply = ""  # the refusal that paused this pass: more of it in flight stay unmarked
        self.any_sent = False
        self.unmarked: list[Row] = []  # sent, to be marked with the next check (or at the end of the pass)
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

    def still_ours(self, rows: list[Row], done: Iterable[tuple[Row, Any]] = ()) -> set[int]:
        """Settle the outcomes ``done`` that came in, then return the ids of ``rows`` whose lease from
        this pass still holds (a slow pass may outlive it: then another node may have taken a row,
        and only that node may send it).

        The messages sent since the last check are marked in the same round trip as the check (on
        PostgreSQL in the same statement): one statement and one commit for a group of rows
        (``CHECK_GROUP``) instead of two for each message, so a node waits less on its database and
        leaves it more CPU.
        """
        self.take(done)
        sent, self.unmarked = self.unmarked, []
        check = {"b_check": [r["id"] for r in rows], "b_lease": self.now + LEASE}
        if sent and self.autocommit:
            found = self.quick.execute(OWNED_MANY_AFTER_SENT, check | self._sent_many(sent))
        else:
            if sent:
                self.quick.execute(MARK_SENT, [self._sent(r) for r in sent])
            found = self.quick.execute(OWNED_ARRAY if self.autocommit else OWNED_MANY, check)
        ours = set(found.scalars())
        if not self.autocommit:
            self.quick.commit()  # the marks; and the read ends: a SQLite write must not start from an older snapshot
        self.stats.sent += len(sent)
        return ours

    def take(self, done: Iterable[tuple[Row, Any]]) -> None:
        """Settle the outcomes ``done`` that came in: a message sent waits for the next check to be marked."""
        for row, outcome in done:
            self.settle(row, outcome)

    def flush_at_end(self) -> None:
        """Mark the messages sent that no check has marked yet (at the end of the pass), in one statement."""
        sent, self.unmarked = self.unmarked, []
        if not sent or self.broken is not None:
            return  # the tally has them: the next pass marks them (``_CutShort``)
        try:
            if self.autocommit:
                self.quick.execute(MARK_SENT_MANY, self._sent_many(sent))
            else:
                self.quick.execute(MARK_SENT, [self._sent(r) for r in sent])
                self.quick.commit()
        except Exception as exc:
            self.broken = exc
            self.stop.set()
            return
        self.stats.sent += len(sent)

    def _sent_many(self, rows: list[Row]) -> dict[str, Any]:
        """Return MARK_SENT_MANY's parameters for ``rows``."""
        domain = self.renderer.identity.domain
        return {
            "b_at": self.now,
            "b_ids": [r["id"] for r in rows],
            "b_mids": [message_id(r["key"], domain) for r in rows],
        }

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
        """Mark ``row`` with what its delivery came to: sent, failed, retried, paused (unmarked) or skipped.

        A 5xx refusal that names no recipient and no mailbox, given for one recipient after another
        with the same words, is held back unmarked: if it comes back for ``RUN_PAUSE`` recipients in a
        row, or for every message of a pass that sent nothing, it is the server refusing us (our
        sender, our relaying), and the queue pauses as for a refused login; once a message goes out
        or another answer breaks the run, the held ones fail as any 5xx does.
        """
        self._note(row, outcome)
        if self.held and _breaks_run(outcome, self.held[-1][1].reply):
            self._fail_held()  # another refusal breaks the run (a message sent does too: ``_went_out``)
        if outcome == SENT:
            self._went_out()
            self.unmarked.append(row)  # marked with the next check, or by ``flush_at_end``
        elif isinstance(outcome, DeliveryError) and outcome.pause:
            if not self.stats.paused:
                _paused(self.conn, self.renderer, outcome, self.pause, self.now, self.stats)
        elif isinstance(outcome, DeliveryError) and self.run_reply and outcome.reply == self.run_reply:
            return  # in flight when the pass paused for this very refusal: left for after the pause
        elif isinstance(outcome, DeliveryError) and _may_be_ours(row, outcome):
            self.held.append((row, outcome))
            if len({r["recipient"] for r, _ in self.held}) >= RUN_PAUSE:
                self._pause_for_run()
        elif isinstance(outcome, DeliveryError):
            self._count(
                row, _failed(self.conn, row, self.now, outcome.reply or str(outcome), permanent=outcome.permanent)
            )
        elif isinstance(outcome, BaseException):
            self.crash = self.crash or outcome  # the row stays pending: sent at least once, resent with its Message-ID

    def _note(self, row: Row, outcome: Any) -> None:
        if outcome == SENT:
            self.tally.sent[row["id"]] = row["key"]
        elif outcome == SKIPPED:
            self.tally.skipped.add(row["id"])

    def settle_at_end(self, row: Row, outcome: Any) -> None:
        """Settle an outcome that came in as the pass ends; once a mark has failed, only note it (the rest
        of the queue is then not sent: ``stop``), for the next pass to settle. A connection the database
        dropped raises its own error again, or SQLAlchemy's (a transaction to roll back, a closed
        connection): any error stops the marks, so no outcome goes unnoted."""
        if self.broken is not None:
            self._note(row, outcome)
            return
        try:
            self.settle(row, outcome)
        except Exception as exc:
            self.broken = exc
            self.stop.set()

    def _went_out(self) -> None:
        self.any_sent = True
        if self.held:
            self._fail_held()

    def _fail_held(self) -> None:
        held, self.held = self.held, []
        for row, outcome in held:
            self._count(row, _failed(self.conn, row, self.now, outcome.reply, permanent=True))

    def _pause_for_run(self) -> None:
        """Pause the queue for the refusal held: the same for every recipient, so it is about us."""
        reply, count = self.held[-1][1].reply, len({r["recipient"] for r, _ in self.held})
        self.held = []
        self.run_reply = reply
        self.stop.set()
        if not self.stats.paused:
            fault = DeliveryError(
                f"the mail server gave the same refusal for {count} recipients in a row: {reply}",
                pause=True,
                reply=f"{reply} (the same refusal for {count} recipients in a row: the server refuses "
                "the sender or the relaying, not the messages)",
            )
            _paused(self.conn, self.renderer, fault, self.pause, self.now, self.stats)

    def _settle_held(self) -> None:
        """At the end of the pass: a run of one refusal through a pass that sent nothing is a fault of
        ours (or the same one the queue was paused for); otherwise the held messages fail."""
        if not self.held:
            return
        reply = self.held[-1][1].reply
        recipients = {r["recipient"] for r, _ in self.held}
        again = self.pause is not None and self.pause.kind == "config" and self.pause.reason.startswith(reply)
        if not self.any_sent and (len(recipients) >= RUN_AT_END or again):
            self._pause_for_run()
        else:
            self._fail_held()

    def _count(self, row: Row, status: str) -> None:
        setattr(self.stats, status, getattr(self.stats, status) + 1)
        if status == "failed":
            self.failures.append(_failure(self.conn, row))

    def close(self) -> None:
        """Resume a paused queue that works again, tell the administrator of failures, re-raise a crash
        (or the database error that stopped the marks)."""
        if self.broken is not None:
            if self.quick is not self.conn:
                try:
                    self.quick.invalidate()  # not handed out again
                finally:
                    self.quick.close()
            raise self.broken
        self._settle_held()
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
        if len(self.failures) >= BURST:
            self._burst()
        if self.crash is not None:
            raise self.crash

    def _burst(self) -> None:
        """Many messages failed for good at once: log it, keep it for ``planwatch status``, and hand
        the administrator an alert (at most one an hour)."""
        count, last = len(self.failures), self.failures[-1]["error"]
        log.error("%d messages failed for good in one dispatch pass; the last: %s", count, last)
        if record_failures(self.conn, count, last, self.now):
            sample = "\n".join(
                f"- {f['type']} about {f['ref']} to {f['recipient']}: {f['error']}" for f in self.failures[:10]
            )
            self.stats.alerts.append(
                Alert(
                    "failures",
                    f"planwatch: {count} messages failed at once",
                    f"{count} messages could not be delivered and were marked failed at "
                    f"{_when(self.now)}. The first of them:\n{sample}\n\n"
                    "They can be put back in the queue once the cause is fixed; the daily delivery "
                    "report lists them all.",
                )
            )


def _breaks_run(outcome: Any, reply: str) -> bool:
    """Return True when ``outcome`` is another 5xx refusal than ``reply``."""
    return isinstance(outcome, DeliveryError) and outcome.permanent and not outcome.pause and outcome.reply != reply


def _may_be_ours(row: Row, error: DeliveryError) -> bool:
    """Return True when a refusal could be about us rather than its recipient: a 5xx that neither
    names the recipient's address nor carries a status code about one mailbox (5.1.1 no such user)."""
    if not error.permanent or not error.reply:
        return False
    words = error.reply.split(" ", 1)[-1].strip()
    return row["recipient"].lower() not in error.reply.lower() and MAILBOX_STATUS.match(words) is None


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _failed(conn: Connection, row: Row, now: datetime, error: str, *, permanent: bool) -> str:
    """Mark a failed attempt: failed for good, or pending again after the retry wait."""
    attempts, started = row["attempts"] + 1, first_try(row, now)
    payload = dict(row["payload"] or {}) | {"first_try": started.isoformat()}
    later = now + retry_wait(row["key"], attempts)
    status, wait = ("failed", None) if permanent or later - started > GIVE_UP_AFTER else ("pending", later)
    if status == "failed":  # dated, and kept in the row's history (``planwatch outbox retry`` adds to it)
        payload["failed_at"] = now.isoformat()
        payload["history"] = [*payload.get("history", []), {"at": now.isoformat(), "event": "failed", "error": error}]
        note_escalation(conn, row, "failed", error, now)
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
    tell = needs_telling(previous, kind, now)
    pause = pause_queue(conn, previous, kind, reason, now, told=tell)
    stats.paused = reason
    if kind == "config":
        log.error("mail delivery paused until %s, nothing marked failed: %s", pause.until, reason)
        if previous is None:
            report_to_admin(conn, renderer.identity, now, pauses=[{"since": pause.since, "reason": reason}])
    else:
        log.warning("mail server unreachable, next try at %s: %s", pause.until, reason)
    if tell:
        since = _when(datetime.fromisoformat(pause.since))
        cause = (
            "the mail server refuses planwatch itself (its login, its sender address or its relaying)"
            if kind == "config"
            else "the mail server cannot be reached"
        )
        stats.alerts.append(
            Alert(
                "pause",
                "planwatch: no e-mail can go out",
                f"Since {since}, {cause}.\nThe server said: {reason}\n\n"
                "Nothing has been marked failed: the queue is paused and tried again every few minutes, "
                "and every message waiting goes out once, as soon as the server accepts again. "
                "This warning is sent once; the next daily delivery report also lists the pause.",
            )
        )


def _failure(conn: Connection, row: Row) -> dict[str, Any]:
    error = conn.execute(select(OUT.c.last_error).where(OUT.c.id == row["id"])).scalar() or ""
    return {
        "key": row["key"],
        "recipient": row["recipient"],
        "type": row["type"],
        "error": error,
        "ref": (row["payload"] or {}).get("ref") or row["key"].split("|", 1)[0].rpartition("/")[2],
    }
