"""``planwatch run``: APScheduler as the metronome of the tick's three steps (``engine.drive.tick``).

The plan step runs every interval (planning two intervals ahead), the digest step every five
intervals: the same steps ``run_tick`` chains at one instant. The dispatch step runs on a thread
of its own (``Waker``) at the next instant a queued message falls due, so a message leaves at its
instant, not up to a poll later; it also runs a quarter interval after its last pass at the
latest, for rows another process or node queued, and at once when the plan or digest step queued
something. APScheduler holds no state of ours: its jobs are fixed, rebuilt at every start in a memory
job store. Everything that must survive a restart (``next_fire_at``, the outbox, digests sent)
lives in planwatch's tables, so a restart or a crash loses nothing and a late start catches up.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import OperationalError as SAOperationalError

from engine.channels import channel_for
from engine.channels.admin import admin_route
from engine.clock import Clock, SystemClock
from engine.drive.tick import campaign_step, digest_step, dispatch_step, plan_step
from engine.errors import OperationalError, PlanwatchError
from engine.mail.compose import renderer_for
from engine.outbox import LEASE, take_back_leases
from engine.rules.loader import RuleSet, load_rules
from engine.settings import Settings
from engine.store import ensure_schema, make_engine
from engine.store.state import set_state
from engine.store.tables import OUTBOX, SERVICE_STATE

log = logging.getLogger("planwatch.service")
REMIND_EVERY = timedelta(minutes=1)  # while the database stays unreachable, say so again this often
EARLY = 0.002  # seconds: a thread's timed wait may end this much before its instant; wait that much longer


class RulesHolder:
    """The rules in force; a reload that fails keeps the previous rules and says why."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rules: RuleSet = load_rules(settings.rules_dir)
        self._stamp = self._mtimes()

    def _mtimes(self) -> tuple[float, ...]:
        folder = self.settings.rules_dir
        files = sorted(folder.glob("*.y*ml")) if folder.is_dir() else [folder]
        return tuple(p.stat().st_mtime for p in files if p.exists())

    def current(self) -> RuleSet:
        """Return the rules, reloading them when a file changed and the new ones are valid."""
        stamp = self._mtimes()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self.rules = load_rules(self.settings.rules_dir)
                log.info("rules reloaded from %s", self.settings.rules_dir)
            except PlanwatchError as exc:
                log.error("rules not reloaded, keeping the previous ones:\n%s", exc)
        return self.rules


class Outage:
    """Keeps the jobs alive through a database outage: one line when it starts, a reminder each
    minute while it lasts, one line when the database takes a write again. The next run is the retry.

    Only a job that wrote proves the outage over: a full disk or a locked SQLite file still
    answers reads, and a job that only read would announce a recovery that is not one. A job
    returns True when it wrote (committed) something.
    """

    def __init__(self, clock: Clock, every: float) -> None:
        self.clock, self.every = clock, every
        self._lock = threading.Lock()
        self._since: datetime | None = None  # when the outage began
        self._told: datetime | None = None  # when it was last logged
        self._failed = 0

    def guard(self, name: str, job: Callable[[], bool]) -> Callable[[], None]:
        """Return ``job`` wrapped: a lost or refused database connection is logged, not raised."""

        def guarded() -> None:
            started = self.clock.now()
            try:
                wrote = job()
            except Exception as exc:
                cause = _lost_database(exc)
                if cause is None:
                    raise  # a bug, not an outage: APScheduler logs it with its traceback
                self._down(name, cause)
            else:
                if wrote:
                    self._up(name, started)

        guarded.__name__ = guarded.__qualname__ = name
        return guarded

    def _down(self, name: str, exc: BaseException) -> None:
        now = self.clock.now()
        with self._lock:
            self._failed += 1
            if self._since is None:
                self._since = self._told = now
                log.error("database error in the %s job: %s; retrying every %g s", name, _reason(exc), self.every)
            elif self._told is not None and now - self._told >= REMIND_EVERY:
                self._told = now
                log.error(
                    "database still unreachable since %s (%d failed runs): %s; retrying",
                    f"{self._since:%H:%M:%S}Z",
                    self._failed,
                    _reason(exc),
                )

    def _up(self, name: str, started: datetime) -> None:
        # Only a run that began after the first failure proves the database is back.
        if self._since is None or started <= self._since:
            return
        with self._lock:
            if self._since is None or started <= self._since:
                return
            took = (self.clock.now() - self._since).total_seconds()
            log.warning(
                "database reachable again (it takes writes) after %.1f s (%d failed runs); the %s job carries on",
                took,
                self._failed,
                name,
            )
            self._since = self._told = None
            self._failed = 0


def _lost_database(exc: BaseException) -> BaseException | None:
    """Return the database error behind ``exc`` (itself or what it was raised from), or None.

    A lost connection can surface as a later error: code that handles the first failure may
    touch the dead connection again and get "Can't reconnect until invalid transaction is rolled back".
    """
    seen: BaseException | None = exc
    for _ in range(20):  # a chain is short; the bound only guards against a cycle
        if seen is None:
            break
        if isinstance(seen, SAOperationalError | InterfaceError | OperationalError):
            return seen
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _reason(exc: BaseException) -> str:
    """Return the first line of what the driver said (no SQL, no traceback)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return lines[0].removeprefix("database error: ")


def next_due(engine: Engine, now: datetime) -> datetime | None:
    """Return the next instant after ``now`` at which a queued message falls due (its due time, or
    its next attempt when it waits for a retry or the next day), or None when none waits.

    Two indexed minimums: the pending rows' due times after ``now``, and the later attempts."""
    pending = OUTBOX.c.status == "pending"
    with engine.connect() as conn:
        due = conn.execute(select(func.min(OUTBOX.c.due_at)).where(pending, OUTBOX.c.due_at > now)).scalar()
        retry = conn.execute(
            select(func.min(OUTBOX.c.next_attempt_at)).where(pending, OUTBOX.c.next_attempt_at > now)
        ).scalar()
    found = [at for at in (due, retry) if at is not None]
    return min(found) if found else None


class Waker:
    """Runs the dispatch step on a thread of its own: again at ``next_at`` (set by the step: the next
    instant a message falls due), after ``poll`` seconds at the latest, and at once when ``nudge``d.

    The slow poll is the safety net for rows other processes or nodes queue; the wait is measured
    on ``clock``, and a pass that is running finishes before ``stop`` returns.
    """

    def __init__(self, clock: Clock, step: Callable[[], None], poll: float) -> None:
        self.clock, self.step, self.poll = clock, step, poll
        self.next_at: datetime | None = None
        self._nudged = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="planwatch-dispatch", daemon=True)

    def start(self) -> None:
        """Start the thread; its first pass runs at once."""
        self._thread.start()

    def nudge(self) -> None:
        """Look at the queue again now (something was queued)."""
        self._nudged.set()

    def stop(self) -> None:
        """Let the pass in progress finish, then end the thread."""
        self._stopping.set()
        self._nudged.set()
        if self._thread.is_alive():
            self._thread.join()

    def wait_seconds(self) -> float:
        """Return how long to wait before the next pass."""
        if self.next_at is None:
            return self.poll
        left = (self.next_at - self.clock.now()).total_seconds() + EARLY
        return min(self.poll, max(left, 0.0))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.step()
            except Exception:  # a bug, not an outage (``Outage`` keeps those): logged, and the next pass runs
                self.next_at = None
                log.exception("the dispatch pass failed; the next one runs in %g s", self.poll)
            if self._nudged.wait(self.wait_seconds()):
                self._nudged.clear()


def run_service(
    settings: Settings, *, interval: float = 60.0, console: Console | None = None, clock: Clock | None = None
) -> None:
    """Run the tick's steps until SIGTERM or Ctrl-C (running jobs finish first): plan every ``interval``
    seconds, dispatch at each message's instant (and every quarter interval at the latest), bundle
    digests every five intervals."""
    from apscheduler.jobstores.base import JobLookupError
    from apscheduler.schedulers.blocking import BlockingScheduler

    clock = clock or SystemClock()
    holder = RulesHolder(settings)  # rules that cannot be read stop it before the database is created
    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    channel, renderer, route = channel_for(settings), renderer_for(settings), admin_route(settings)
    if not settings.secret_key:
        log.warning("PLANWATCH_SECRET_KEY is not set: action links are signed with the development key")

    def say(text: str) -> None:
        if console is not None:
            console.print(text)
        else:
            log.info("%s", text)

    node = f"{socket.gethostname()}:{os.getpid()}"
    taken = take_back_own_leases(engine, node, clock.now())
    if taken:
        say(f"Took back {taken} message(s) leased by a run of this node that ended without sending them.")

    def plan() -> bool:
        now = clock.now()
        # Plan two intervals ahead: at a message's instant the dispatch job only has to send it.
        stats = plan_step(engine, holder.current(), now, ahead=timedelta(seconds=2 * interval))
        set_state(engine, "last_tick", now.isoformat(), now)
        set_state(engine, f"node:{node}", now.isoformat(), now)
        log.info(
            "tick planned %d action(s), queued %d message(s)",
            stats.actions,
            stats.pending,
            extra={"node": node, "count": stats.pending, "tick_at": now.isoformat()},
        )
        if stats.actions:
            say(f"{now:%Y-%m-%d %H:%M:%S}Z tick: {stats.actions} action(s) planned, {stats.pending} message(s) queued")
        if stats.pending:
            waker.nudge()  # queued with their own instants: the dispatch thread looks at them now
        return True  # the heartbeat was written

    def send() -> bool:
        waker.next_at = None  # until this pass has looked (if the database fails, the slow poll goes on)
        stats = dispatch_step(engine, channel, renderer, clock, rules=holder.current())
        waker.next_at = next_due(engine, clock.now())
        if stats.sent or stats.failed or stats.retried:
            say(f"dispatch: {stats.sent} sent, {stats.failed} failed, {stats.retried} to retry")
        if stats.paused:
            say(f"dispatch paused: {stats.paused}")
        for alert in stats.alerts:  # outside the outbox: its own report may wait in the paused queue
            if route is not None:
                route.tell(alert)
            else:
                log.error(
                    "%s (no PLANWATCH_ADMIN_SMTP_URL, _SENDMAIL or _WEBHOOK to warn the administrator)", alert.subject
                )
        return stats.handled > 0  # a pass that marked rows wrote; one that found nothing only read

    def digests() -> bool:
        rules = holder.current()
        started = campaign_step(engine, rules, clock.now())  # the rules' update campaigns due today
        if digest_step(engine, clock.now(), rules) or started:
            waker.nudge()
        return False  # it may have had nothing to write: the tick's heartbeat says when writes work

    # APScheduler is only the metronome: fixed jobs, rebuilt at every start, nothing of ours in its store.
    # A database outage does not stop it: each job's next run is the retry (see Outage).
    scheduler = BlockingScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    )
    start, outage = clock.now(), Outage(clock, interval)
    scheduler.add_job(outage.guard("tick", plan), "interval", seconds=interval, id="tick", next_run_time=start)
    # Dispatch at each message's own instant, on a thread of its own; the quarter interval is the safety net.
    waker = Waker(clock, outage.guard("dispatch", send), poll=max(interval / 4, 0.05))
    scheduler.add_job(
        outage.guard("digests", digests), "interval", seconds=max(interval * 5, 0.05), id="digests", next_run_time=start
    )

    stopping: list[int] = []
    stoppers: list[threading.Thread] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        # A second signal while the first one stops the scheduler (two SIGTERMs at once, Ctrl-C twice)
        # changes nothing: the running jobs are already finishing and the service then ends.
        if stopping:
            return
        stopping.append(signum)
        say(f"Stopping after the current tick ({signal.Signals(signum).name}).")
        # Not in the handler itself: the signal may have come while the main loop held the executor's lock
        # (handing a job over), and a job that ends needs that lock; waiting here for it would never end.
        stopper = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, name="planwatch-stop")
        stoppers.append(stopper)
        stopper.start()

    previous: dict[int, Any] = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    say(
        f"planwatch is running: a tick every {interval:g} s on {settings.database_url}; "
        f"mail: {_mail_target(settings)}. Ctrl-C stops."
    )
    try:
        waker.start()
        scheduler.start()
    except JobLookupError:
        # Stopping from the signal handler empties APScheduler's memory job store (its shutdown removes
        # every job) while the main loop may be between running a job and rescheduling it; that loop then
        # finds its job gone. Once a signal asked us to stop, that is the stop, not a fault.
        if not stopping:
            raise
    finally:
        for stopper in stoppers:  # the tick in progress finishes first
            stopper.join()
        waker.stop()  # and the pass in progress
        # Stopped by a signal, the process is ending: a late one is ignored (to the interpreter's exit)
        # rather than killing it half-way; otherwise the caller's handlers come back.
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if stopping else handler)
        engine.dispose()
    say("Stopped.")


def other_nodes(engine: Engine, node: str, now: datetime) -> list[str]:
    """Return the nodes other than ``node`` that ticked within a lease of ``now`` and may still run.

    A node is ``host:pid``; one on this host whose process is gone (this node before a crash) is
    not running, whatever its last tick says.
    """
    with engine.connect() as conn:
        seen = conn.execute(
            select(SERVICE_STATE.c.key).where(
                SERVICE_STATE.c.key.startswith("node:"), SERVICE_STATE.c.updated_at > now - LEASE
            )
        ).scalars()
        names = [key.removeprefix("node:") for key in seen]
    here = node.rpartition(":")[0]
    others = []
    for name in names:
        host, _, pid = name.rpartition(":")
        if name != node and (host != here or _alive(pid)):
            others.append(name)
    return others


def _alive(pid: str) -> bool:
    """Return True when a process ``pid`` runs on this host (or it cannot be told)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True  # someone else's process, or not a pid: assume it runs
    return True


def take_back_own_leases(engine: Engine, node: str, now: datetime) -> int:
    """At start: when no other node may be running, free at once the rows a crashed run of this node
    had leased, instead of letting them wait out the lease (up to 5 minutes). Return how many.

    With other nodes seen within the lease (several nodes on PostgreSQL), a lease may be theirs
    and still in use: nothing is taken, and the rows wait out their lease as before.
    """
    others = other_nodes(engine, node, now)
    if others:
        log.info("other nodes seen within the lease (%s): leased rows wait out their lease", ", ".join(others))
        return 0
    with engine.connect() as conn:
        return take_back_leases(conn, now)


def _mail_target(settings: Settings) -> str:
    """Return where the mail goes, without any password."""
    if not settings.smtp_url:
        return f"Maildir {settings.maildir}"
    from engine.channels.smtp import parse_smtp_url

    return parse_smtp_url(settings.smtp_url).describe()
