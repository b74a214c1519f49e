"""One planwatch node in its own OS process, driven tick by tick by a test or free-running.

A node owns an engine, the rules, a renderer and a channel (SMTP or Maildir) built from
``Settings`` exactly as ``planwatch run`` builds them, and runs ``run_tick`` at simulated instants.
``("tick", now)`` runs one tick at an instant the test sends (read on the node's own clock: ``skew``
seconds off, up to ``jitter`` seconds late); ``("run", [now, ...])`` runs several in a row.
``("free", Schedule)`` makes the node free-running: it ticks on its own, at its own intervals (with
jitter), reading a simulated clock mapped onto the real one (``Schedule``) plus its own skew, with no
word from the test and no wait for the other nodes, until the schedule ends.
With ``markers`` a node reports ``("tick", i)`` as tick ``i`` starts (planning comes first) and
``("sent", i, n)`` after the channel accepted the tick's ``n``-th message (before the dispatcher
marks it sent); every tick ends with ``("done", i, stats)``.

The processes come from a fork server that has imported this module (and so the engine)
once, so a node starts in milliseconds rather than in the second a fresh interpreter needs.
``python -m tests.node_worker --db URL --rules DIR --smtp-url URL --start ISO --days N``
runs one node over a period in the foreground, printing one JSON line per tick.

``Service`` is the other kind of node: ``planwatch run`` itself, a process started from the
command line with the real clock, for the tests that ``kill -9`` it or take its database away.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import signal
import subprocess
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, select, update

import engine.channels.maildir
import engine.channels.smtp  # noqa: F401  (imported by the fork server, not by each node)
from engine.channels import Channel, channel_for
from engine.drive.tick import TickReport, plan_step, run_tick
from engine.mail.compose import renderer_for
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine

from .synthetic_world import OUT

Report = Callable[[tuple[Any, ...]], None]


@dataclass(frozen=True)
class NodeConfig:
    """What a node is told at start; ``smtp_url`` empty means the Maildir at ``maildir``."""

    name: str
    database_url: str
    rules_dir: str
    smtp_url: str = ""
    maildir: str = ""
    markers: bool = False  # report each tick's start and each message the channel accepted
    ahead: timedelta = timedelta(0)  # plan this far ahead, as the service does (two tick intervals)
    smtp_rate: int = 0  # messages per minute (PLANWATCH_SMTP_RATE); 0: no limit
    skew: float = 0.0  # seconds this node's clock is ahead (negative: behind) of the instants it is sent
    jitter: float = 0.0  # each tick starts up to this many seconds late, by the node's clock and in real time

    def settings(self) -> Settings:
        return Settings(
            database_url=self.database_url,
            rules_dir=Path(self.rules_dir),
            smtp_url=self.smtp_url,
            smtp_rate=self.smtp_rate,
            maildir=Path(self.maildir or "out/maildir"),
            base_url="https://plans.example.org",
            sender="planwatch <planwatch@example.org>",
            admin_email="admin@example.org",
            secret_key="node-test-key",
        )


class Reporting(Channel):
    """A channel that says, after its inner channel accepted a message, that it did."""

    def __init__(self, inner: Channel, report: Report) -> None:
        self.inner, self.report = inner, report
        self.needs_message = inner.needs_message  # as the inner channel says
        self.waits = inner.waits
        self.tick, self.count = -1, 0

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def tally(self, count: int) -> None:
        self.inner.tally(count)

    def deliver(self, message: Message) -> None:
        self.inner.deliver(message)
        self.count += 1
        self.report(("sent", self.tick, self.count))


class NodeRuntime:
    """The node's engine, rules, renderer and channel, and one tick at a time."""

    def __init__(self, config: NodeConfig, report: Report) -> None:
        settings = config.settings()
        self.engine = make_engine(config.database_url)
        self.rules = load_rules(settings.rules_dir)
        self.renderer = renderer_for(settings)
        self.channel: Channel = channel_for(settings)
        self.report, self.ahead = report, config.ahead
        self.skew, self.jitter = timedelta(seconds=config.skew), config.jitter
        self.random = random.Random(config.name)
        if config.markers:
            self.channel = self.marked = Reporting(self.channel, report)

    def tick(self, index: int, now: datetime) -> dict[str, Any]:
        """Run one tick at ``now`` (aware UTC) as this node's clock reads it (skewed, a little late); return
        what it did."""
        late = self.random.uniform(0, self.jitter) if self.jitter else 0.0
        if late:
            time.sleep(late / 100)  # the nodes do not start their ticks together either
        return self.tick_at(index, now + self.skew + timedelta(seconds=late))

    def tick_at(self, index: int, now: datetime) -> dict[str, Any]:
        """Run one tick at ``now`` exactly (this node's reading already); return what it did."""
        marked = getattr(self, "marked", None)
        if marked is not None:
            marked.tick, marked.count = index, 0
            self.report(("tick", index))
        return summary(run_tick(self.engine, self.rules, self.channel, self.renderer, now, ahead=self.ahead))


@dataclass(frozen=True)
class Schedule:
    """A free-running node's time: real seconds mapped onto simulated instants, the same map for every node.

    Real time runs from ``origin`` (a ``time.time()`` reading shared by the nodes) in periods of
    ``period`` seconds; period ``k`` is simulated ``start + k * every`` plus the real seconds into the
    period, so within a period the simulated clock runs at the real pace and a lease (5 minutes) lasts
    far longer than any tick, and from one period to the next it jumps ``every``. A node reads this
    clock plus its own ``skew`` when a tick starts, and schedules its next tick ``period`` seconds later,
    give or take ``jitter`` (a fraction of the period), from its own first tick in the first half of
    period 0; it stops when the next tick would fall beyond ``periods`` periods. A tick that has not
    ended when the next is due delays it (the next starts at once), as ``planwatch run`` does.
    """

    origin: float
    start: datetime
    every: timedelta
    period: float
    periods: int
    jitter: float = 0.2

    def instant(self, real: float) -> tuple[int, datetime]:
        """Return the period of the real instant ``real`` and the simulated instant it stands for."""
        k, into = divmod(real - self.origin, self.period)
        return int(k), self.start + int(k) * self.every + timedelta(seconds=into)


def free_run(runtime: NodeRuntime, schedule: Schedule, report: Report) -> int:
    """Tick on ``schedule`` by the node's own clock until its end, reporting ``("done", i, stats)`` with each
    tick's real start and end (``began``, ``ended``) and period; return how many ticks ran."""
    rng = runtime.random
    due = schedule.origin + rng.uniform(0, schedule.period / 2)
    end = schedule.origin + schedule.periods * schedule.period
    index = 0
    while due < end:
        time.sleep(max(0.0, due - time.time()))
        began = time.time()
        period, now = schedule.instant(began)
        stats = runtime.tick_at(index, now + runtime.skew)
        stats |= {"began": began, "ended": time.time(), "period": period}
        report(("done", index, stats))
        index += 1
        due += schedule.period * (1 + rng.uniform(-schedule.jitter, schedule.jitter))
    return index


def summary(report: TickReport) -> dict[str, Any]:
    """Return a tick's report as plain data."""
    sent = report.dispatched
    return {
        "at": report.at.isoformat(),
        "idle": report.idle,
        "planned": report.planned.actions,
        "escalations": report.planned.escalations,
        "digests": report.digests,
        "sent": sent.sent,
        "failed": sent.failed,
        "retried": sent.retried,
        "suppressed": sent.suppressed,
        "paused": sent.paused,
    }


def serve(conn: Connection, config: NodeConfig) -> None:
    """The node process: obey ``tick``, ``run`` and ``quit`` commands from ``conn`` until told to quit."""
    lock = threading.Lock()

    def report(message: tuple[Any, ...]) -> None:
        with lock:  # the SMTP channel delivers on its own thread
            conn.send(message)

    runtime = NodeRuntime(config, report)
    report(("ready", config.name))
    while True:
        command = conn.recv()
        if command[0] == "quit":
            break
        if command[0] == "free":
            try:
                report(("finished", free_run(runtime, command[1], report)))
            except Exception:
                report(("error", -1, traceback.format_exc()))
            continue
        instants: Sequence[datetime] = [command[1]] if command[0] == "tick" else command[1]
        for index, now in enumerate(instants):
            try:
                report(("done", index, runtime.tick(index, now)))
            except Exception:
                report(("error", index, traceback.format_exc()))
                break
        if command[0] == "run":
            report(("finished", len(instants)))
    runtime.engine.dispose()


def fork_server() -> ForkServerContext:
    """Return the multiprocessing context whose fork server has this module imported.

    ``__main__`` (pytest's script) is preloaded too, or every node would import it, and pytest, again.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", __name__])
    return ctx


class NodeError(Exception):
    """A node's tick raised: the node's traceback (not an AssertionError, so no xfail can take it for one)."""


class Node:
    """The test's handle on a node process."""

    def __init__(self, ctx: ForkServerContext, config: NodeConfig, *, timeout: float = 120.0) -> None:
        self.config, self.timeout = config, timeout
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(child, config), name=config.name, daemon=True)
        self.process.start()
        child.close()
        self.expect("ready")

    def send(self, *command: Any) -> None:
        self.conn.send(command)

    def receive(self, timeout: float | None = None) -> tuple[Any, ...]:
        """Return the node's next message; raise ``NodeError`` when its tick failed, ``TimeoutError``, or
        ``EOFError`` when the node died."""
        if not self.conn.poll(self.timeout if timeout is None else timeout):
            raise TimeoutError(f"{self.config.name} said nothing for {self.timeout} s")
        message: tuple[Any, ...] = self.conn.recv()
        if message[0] == "error":
            raise NodeError(f"{self.config.name} failed in tick {message[1]}:\n{message[2]}")
        return message

    def expect(self, kind: str) -> tuple[Any, ...]:
        """Return the next message of ``kind``, skipping markers."""
        while True:
            message = self.receive()
            if message[0] == kind:
                return message

    def run(self, instants: Sequence[datetime]) -> list[dict[str, Any]]:
        """Run the ticks at ``instants`` and return their summaries (markers skipped)."""
        self.send("run", list(instants))
        done: list[dict[str, Any]] = []
        while (message := self.receive())[0] != "finished":
            if message[0] == "done":
                done.append(message[2])
        return done

    def free(self, schedule: Schedule) -> None:
        """Start ticking on ``schedule``, on the node's own; ``collect`` gathers the ticks' summaries."""
        self.send("free", schedule)

    def collect(self) -> list[dict[str, Any]]:
        """Return the summaries of a free run's ticks once it has finished (markers skipped)."""
        done: list[dict[str, Any]] = []
        while (message := self.receive())[0] != "finished":
            if message[0] == "done":
                done.append(message[2])
        return done

    def kill(self) -> None:
        """SIGKILL the node and reap it."""
        self.process.kill()
        self.process.join(10)
        self.conn.close()

    def stop(self) -> None:
        """Ask the node to quit; kill it if it does not."""
        if self.process.is_alive():
            with contextlib.suppress(OSError):  # it died already
                self.send("quit")
            self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)
        self.conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one node in the foreground over a simulated period; print one JSON line per tick."""
    parser = argparse.ArgumentParser(prog="python -m tests.node_worker", description=main.__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--rules", required=True)
    parser.add_argument("--smtp-url", default="")
    parser.add_argument("--maildir", default="")
    parser.add_argument("--start", required=True, type=datetime.fromisoformat, help="aware ISO instant")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--every-hours", type=float, default=6.0)
    args = parser.parse_args(argv)
    every = timedelta(hours=args.every_hours)
    config = NodeConfig("main", args.db, args.rules, args.smtp_url, args.maildir, ahead=2 * every)
    runtime = NodeRuntime(config, lambda message: None)
    now, index = args.start, 0
    while now <= args.start + timedelta(days=args.days):
        print(json.dumps(runtime.tick(index, now)), flush=True)
        now, index = now + every, index + 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# ----- `planwatch run` itself, in a process of its own ----------------------------------------------

PLANWATCH = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "planwatch"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class Service:
    """A real ``planwatch run`` process (``subprocess``, the real clock), configured by its environment as in
    service; its standard error goes to ``log``. ``kill`` is ``kill -9``; ``stop`` is SIGTERM and a wait."""

    def __init__(self, config: NodeConfig, log: Path, *, interval: float = 0.2, **extra: str) -> None:
        settings = config.settings()
        self.config, self.log_path = config, log
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLANWATCH_") or k.startswith("PLANWATCH_TEST")}
        env |= {
            "PLANWATCH_DATABASE_URL": config.database_url,
            "PLANWATCH_RULES_DIR": config.rules_dir,
            "PLANWATCH_TEMPLATES_DIR": str(TEMPLATES),
            "PLANWATCH_SMTP_URL": config.smtp_url,
            "PLANWATCH_MAILDIR": str(settings.maildir),
            "PLANWATCH_SMTP_RATE": str(config.smtp_rate),
            "PLANWATCH_BASE_URL": settings.base_url,
            "PLANWATCH_SENDER": settings.sender,
            "PLANWATCH_ADMIN_EMAIL": settings.admin_email,
            "PLANWATCH_SECRET_KEY": settings.secret_key,
            **extra,
        }
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [str(PLANWATCH), "run", "--interval", f"{interval:g}", "--log-json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """``kill -9`` the service and reap it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._log.close()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM the service and wait for it to end by itself; return its exit code (a hang is killed: -9)."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return int(self.process.returncode)

    def log(self) -> str:
        """Return what the service has written to its log so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# ----- an outbox planned in simulated time, due in the next seconds of the real clock ---------------

FAMILIES = ("remind", "escalate", "checkin")  # rows of one occurrence in these supersede each other in a pass


def plan_outbox(url: str, rules: Path, instants: Sequence[datetime], ahead: timedelta) -> int:
    """Plan the world at ``url`` at the simulated ``instants`` with the library's plan step (nothing sent);
    keep one pending message per occurrence, step family and recipient (the latest, as a dispatch pass
    would keep it); return how many are pending."""
    engine = make_engine(url)
    try:
        ruleset = load_rules(rules)
        for now in instants:
            plan_step(engine, ruleset, now, ahead=ahead)
        with engine.begin() as conn:
            rows = conn.execute(
                select(OUT.c.id, OUT.c.step, OUT.c.action_id, OUT.c.occurrence, OUT.c.recipient)
                .where(OUT.c.status == "pending")
                .order_by(OUT.c.due_at, OUT.c.id)
            ).all()
            latest: dict[tuple[Any, ...], int] = {}
            for row in rows:
                family = row.step.split(":", 1)[0].split("#", 1)[0]
                group = (row.action_id, row.occurrence, family, row.recipient) if family in FAMILIES else (row.id,)
                latest[group] = row.id
            keep = set(latest.values())
            gone = [r.id for r in rows if r.id not in keep]
            for start in range(0, len(gone), 500):
                conn.execute(delete(OUT).where(OUT.c.id.in_(gone[start : start + 500])))
        return len(keep)
    finally:
        engine.dispose()


def due_soon(url: str, first: datetime, spread: float) -> None:
    """Make the pending messages fall due one after the other from ``first`` (aware) over ``spread`` seconds
    of the real clock, in their order."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(OUT.c.id).where(OUT.c.status == "pending").order_by(OUT.c.due_at, OUT.c.id)
                ).scalars()
            )
            step = spread / max(len(ids), 1)
            conn.execute(
                update(OUT).where(OUT.c.id == bindparam("b_id")).values(due_at=bindparam("b_due")),
                [{"b_id": i, "b_due": first + timedelta(seconds=n * step)} for n, i in enumerate(ids)],
            )
    finally:
        engine.dispose()
