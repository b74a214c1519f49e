"""``kill -9`` of a real ``planwatch run`` at random moments of dispatch: no message is lost, a message
repeated carries the same Message-ID, and a crash repeats at most the messages its SMTP connections held.

Each backend gets a small world (``synthetic_world``: 80 actions, 60 owners), planned once over a
simulated fortnight by the library's own plan step, so that its outbox holds a few hundred pending
messages: reminders, overdue notices and escalations, one per occurrence, step and recipient. Every
run works on a fresh copy whose messages fall due over the next ``SPREAD`` seconds of the real
clock ("near-future due messages"): ``planwatch run --interval 0.2`` itself, started from the
command line with the real clock, sends them to aiosmtpd in this process over SMTP, on SQLite and
on PostgreSQL alike.

A reference run is never killed. Each trial starts a service and ``kill -9``s it: most trials the
moment the mail server has taken the n-th message (n random; before the server's "250" reaches
the node, or a random few milliseconds after), some at a random moment of its first seconds (start,
first ticks, the first passes). A new ``planwatch run`` then finishes the work within ``FINISH``
seconds: alone (no other live node has ticked within the lease), it takes back at start the rows
the dead node had leased instead of waiting out the 5-minute lease, on SQLite and on PostgreSQL.

After each trial: the outbox holds the reference's keys with the reference's statuses (all sent),
every message arrived, every arrival carries the Message-ID of its own outbox key, and the messages
that arrived twice number at most ``REPEATS_BOUND``: what the SMTP connections held (per connection 4
waiting and one on the wire, ``engine.channels.pipeline``; 8 connections) and the message just handed
over, 41.

The planning trials kill the service inside its plan step: a world of the real calendar (7,000
actions due over the past weeks and the coming month, never planned) whose first tick plans about
2,500 outbox rows, in transactions of up to 1,000; each trial kills at a random moment between the
start and the end of the reference run's plan step (the service's log gives both), and a new service
plans again and finishes: the outbox equals the reference's, nothing sent twice beyond the bound.
The delivery hour is one whose instants lie hours away from the test's, so every run has the same work.

``PLANWATCH_CRASH_TRIALS=N`` runs N dispatch trials per backend (default 10) and N // 2 planning
trials; the seed is printed and ``PLANWATCH_CRASH_SEED=N`` replays a run.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import random
import shutil
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, select, text

from engine.channels.pipeline import Pool
from engine.drive.dispatch import CHECK_GROUP
from engine.mail.messages import message_id
from engine.settings import Settings
from engine.store import make_engine

from ..node_worker import NodeConfig, Service, due_soon, plan_outbox
from ..smtpserver import Recorder, smtp_server
from ..synthetic_world import (
    DOMAIN,
    OUT,
    RULES,
    ZONES,
    Final,
    Shape,
    build_world,
    read_final,
    ticks,
    utc,
    write_rules,
)

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("PLANWATCH_CRASH_SEED") or 27_601)
TRIALS = int(os.environ.get("PLANWATCH_CRASH_TRIALS") or 10)  # per backend
DEPTH: int = inspect.signature(Pool).parameters["depth"].default  # messages queued for a connection's thread
CONNECTIONS = Settings().smtp_connections  # SMTP connections a pass sends over (PLANWATCH_SMTP_CONNECTIONS)
# What a crash can repeat: messages the server took that the node had not marked sent yet. Between two
# marks the node hands at most CHECK_GROUP messages over; each connection's thread holds at most DEPTH
# waiting and one on the wire. So a crash repeats at most CONNECTIONS * (DEPTH + 1) + CHECK_GROUP messages.
REPEATS_BOUND = CONNECTIONS * (DEPTH + 1) + CHECK_GROUP
SIM_START = utc(2030, 1, 7, 0, 30)
EVERY = timedelta(hours=12)
SHAPE = Shape(actions=80, owners=60, managers=5, start=SIM_START, overdue_days=20, spread_days=36)
LEAD = 1.3  # seconds from a copy being made to its first message falling due (a service starts in about 1.2 s)
SPREAD = 1.0  # seconds over which the copy's messages fall due
FINISH = 60.0  # seconds a restarted service gets to send everything
AT_ONCE = 2  # trials run side by side (each its own copy, mail server and services)


class Store:
    """A template world on one backend, its outbox planned, and fresh copies of it due in the next seconds."""

    def __init__(
        self, backend: str, folder: Path, server: str | None, rules: Path, shape: Shape = SHAPE, *, plan: bool = True
    ) -> None:
        self.backend, self.folder, self.server = backend, folder, server
        self.copies: list[str] = []
        self._copying = threading.Lock()  # PostgreSQL copies a template for one CREATE DATABASE at a time
        if backend == "sqlite":
            self.template = folder / "template.db"
            url = f"sqlite:///{self.template}"
        else:
            assert server is not None
            self.template_name = self._create(f"pw_crash_tpl_{uuid.uuid4().hex[:8]}")
            url = f"{server.rpartition('/')[0]}/{self.template_name}"
        build_world(url, shape)
        self.plan = plan
        self.messages = plan_outbox(url, rules, ticks(SIM_START, 14, EVERY), 2 * EVERY) if plan else 0

    def _admin(self, sql: str) -> None:
        assert self.server is not None
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(sql))
        admin.dispose()

    def _create(self, name: str, template: str | None = None) -> str:
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def copy(self, label: str) -> str:
        """Return the URL of a fresh copy of the template whose messages fall due from ``LEAD`` s from now."""
        if self.backend == "sqlite":
            path = self.folder / f"{label}.db"
            shutil.copyfile(self.template, path)
            url = f"sqlite:///{path}"
        else:
            assert self.server is not None
            with self._copying:
                name = self._create(f"pw_crash_{label}_{uuid.uuid4().hex[:6]}", self.template_name)
            self.copies.append(name)
            url = f"{self.server.rpartition('/')[0]}/{name}"
        if self.plan:
            due_soon(url, datetime.now(UTC) + timedelta(seconds=LEAD), SPREAD)
        return url

    def wait_for_sessions_to_end(self, url: str) -> None:
        """Wait until PostgreSQL has ended a killed node's session (its locks go with it)."""
        if self.backend == "sqlite":
            return  # the kernel dropped the dead process's file locks with it
        assert self.server is not None
        name = url.rpartition("/")[2]
        admin = create_engine(self.server)
        try:
            for _ in range(200):
                with admin.connect() as conn:
                    if not conn.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"), {"d": name}
                    ).scalar():
                        return
                time.sleep(0.05)
            raise AssertionError(f"the killed node's session on {name} did not end")
        finally:
            admin.dispose()

    def drop(self) -> None:
        if self.backend == "postgres":
            for name in [*self.copies, self.template_name]:
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def leased(url: str) -> int:
    """Return how many pending rows are hidden by a lease now (a killed node's)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            now = datetime.now(UTC)
            return len(
                conn.execute(select(OUT.c.id).where(OUT.c.status == "pending", OUT.c.next_attempt_at > now)).all()
            )
    finally:
        engine.dispose()


@dataclass
class Trap(Recorder):
    """The mail server of a trial: it records, and ``kill -9``s the victim when the ``at``-th message has
    arrived: at once (the node never hears "250") or ``delay`` seconds later."""

    at: int = 0
    delay: float = 0.0
    victim: int = 0
    fired: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.at and len(self.received) >= self.at and not self.fired.is_set():
            self.fired.set()
            if self.delay <= 0:
                os.kill(self.victim, signal.SIGKILL)
            else:
                asyncio.get_running_loop().call_later(self.delay, os.kill, self.victim, signal.SIGKILL)
        return reply


def arrivals(recorder: Recorder) -> Counter[str]:
    """Return Message-ID -> arrivals; each message's id must be the one of its own outbox key."""
    parser, ids = BytesHeaderParser(), Counter[str]()
    for received in list(recorder.received):
        head = parser.parsebytes(received.data)
        key = str(head["X-Planwatch-Key"])
        assert head["Message-ID"] == message_id(key, DOMAIN), f"{key}: {head['Message-ID']}"
        ids[str(head["Message-ID"])] += 1
    return ids


def config(name: str, url: str, rules: Path, port: int) -> NodeConfig:
    return NodeConfig(name, url, str(rules), smtp_url=f"smtp://127.0.0.1:{port}?timeout=10")


def final_of(url: str) -> Final:
    engine = make_engine(url)
    try:
        return read_final(engine)
    finally:
        engine.dispose()


def _rows(engine: Engine, due_only: bool) -> tuple[int, int]:
    """Return how many outbox rows there are, and how many of them are pending (``due_only``: and due now)."""
    with engine.connect() as conn:
        rows = len(conn.execute(select(OUT.c.id)).all())
        pending = select(OUT.c.id).where(OUT.c.status == "pending")
        if due_only:
            pending = pending.where(OUT.c.due_at <= datetime.now(UTC))
        return rows, len(conn.execute(pending).all())


def _errors(url: str) -> Counter[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return Counter(
                str(e) for e in conn.execute(select(OUT.c.last_error).where(OUT.c.status == "pending")).scalars()
            )
    finally:
        engine.dispose()


def finish(service: Service, url: str, what: str, *, due_only: bool = False) -> float:
    """Wait until the outbox has rows and none is pending (``due_only``: none that is due), then stop
    ``service``; fail (with its log) after ``FINISH`` seconds. Return the seconds from the service's start
    until the outbox first had rows."""
    deadline, engine, planned = time.monotonic() + FINISH, make_engine(url), 0.0
    rows = left = 0
    try:
        while time.monotonic() < deadline and service.alive():
            rows, left = _rows(engine, due_only)
            if rows and not planned:
                planned = time.monotonic() - service.started
            if rows and not left and "tick planned" in service.log():  # it has ticked: a stop ends it cleanly
                break
            time.sleep(0.1)
    finally:
        engine.dispose()
    code = service.stop()
    said = "\n".join(line for line in service.log().splitlines() if "tick planned 0 action" not in line)
    assert rows and not left, (
        f"{what}: {left} messages still pending after {FINISH:g} s ({_errors(url).most_common(3)}); "
        f"the service said:\n{said}"
    )
    assert code == 0, f"{what}: the service ended with {code}:\n{said}"
    return planned


@dataclass
class Kill:
    """One trial: how the node was to die, and what it came to."""

    trial: int
    at: int  # the n-th message to arrive (0: at a moment of the first seconds instead)
    delay: float
    arrived: int = 0  # messages the server had when the node died
    leased: int = 0  # rows the node held leased when it died
    planned: int = -1  # outbox rows when it died (the planning trials; fewer than the reference's: mid-plan)
    repeats: int = 0  # messages that arrived twice

    def __str__(self) -> str:
        moment = f"at arrival {self.at} + {self.delay * 1000:.1f} ms" if self.at else f"at {self.delay:.2f} s"
        rows = f", {self.planned} outbox rows" if self.planned >= 0 else ""
        return (
            f"trial {self.trial}: killed {moment} ({self.arrived} arrived, {self.leased} leased{rows}); "
            f"{self.repeats} repeated"
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    rules = write_rules(tmp_path / "rules")
    made = Store(request.param, tmp_path, server, rules)
    yield made, rules
    made.drop()


def plan_window(log: str, started: float) -> tuple[float, float]:
    """Return when, in seconds from ``started`` (a ``time.time()``), the service's first plan step that planned
    something began and ended, from its JSON log lines."""
    for line in log.splitlines():
        if line.startswith("{") and (record := json.loads(line)).get("message", "").startswith("tick planned"):
            if record["message"].startswith("tick planned 0 "):
                continue
            began = datetime.fromisoformat(record["tick_at"]).timestamp()
            ended = datetime.fromisoformat(record["time"].replace("Z", "+00:00")).timestamp()
            return began - started, ended - started
    raise AssertionError(f"the service never planned:\n{log}")


def reference_run(
    store: Store, rules: Path, folder: Path, label: str = "reference"
) -> tuple[Final, tuple[float, float]]:
    """Run a service that is never killed; return what it did and when its first plan step began and ended."""
    url = store.copy(label)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        service = Service(config(label, url, rules, port), folder / f"{label}.log")
        started = time.time()
        finish(service, url, "the reference run", due_only=not store.plan)
        window = plan_window(service.log(), started) if not store.plan else (0.0, 0.0)
        received = arrivals(recorder)
    final = final_of(url)
    assert set(received.values()) <= {1}, received.most_common(3)  # none may be due yet: the planning world
    assert not store.plan or len(received) == store.messages, len(received)
    assert not store.plan or set(final.statuses().values()) == {"sent"}, Counter(final.statuses().values())
    return final, window


def crash_trial(store: Store, rules: Path, kill: Kill, folder: Path) -> tuple[Final, Counter[str]]:
    """Run a service, kill it as ``kill`` says, and finish with a new one."""
    url = store.copy(f"trial{kill.trial}")
    trap = Trap(at=kill.at, delay=kill.delay)
    with smtp_server(trap) as port:
        victim = Service(config(f"victim{kill.trial}", url, rules, port), folder / f"victim{kill.trial}.log")
        trap.victim = victim.pid
        if kill.at:
            assert trap.fired.wait(LEAD + SPREAD + 30), f"trial {kill.trial}: message {kill.at} never came"
            victim.process.wait(10)
        else:
            time.sleep(max(0.0, kill.delay - (time.monotonic() - victim.started)))
            victim.process.send_signal(signal.SIGKILL)
        victim.kill()
        kill.arrived = len(trap.received)
        store.wait_for_sessions_to_end(url)
        kill.leased = leased(url)
        kill.planned = len(final_of(url).outbox) if not store.plan else -1
        finisher = Service(config(f"finisher{kill.trial}", url, rules, port), folder / f"finisher{kill.trial}.log")
        finish(finisher, url, f"trial {kill.trial} (seed {SEED})", due_only=not store.plan)
        received = arrivals(trap)
    return final_of(url), received


def check(kill: Kill, final: Final, received: Counter[str], ref: Final) -> None:
    where = f"seed {SEED}, {kill}"
    keys = [r["key"] for r in final.outbox]
    assert len(keys) == len(set(keys)), where
    got, want = final.statuses(), ref.statuses()
    differ = sorted((k, got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k))
    assert differ == [], (
        f"{where}: {len(differ)} outbox rows differ from the reference (key, got, wanted): {differ[:5]}"
    )
    sent = final.sent_ids()
    assert set(received) == set(sent), (
        f"{where}: lost {sorted(set(sent) - set(received))[:3]}, unknown {sorted(set(received) - set(sent))[:3]}"
    )
    kill.repeats = sum(n - 1 for n in received.values())
    assert kill.repeats <= REPEATS_BOUND, f"{where}: {received.most_common(REPEATS_BOUND + 1)}"


def test_kill_9_of_planwatch_run_loses_nothing_and_repeats_at_most_the_pipeline_depth(
    store: tuple[Store, Path], tmp_path: Path
) -> None:
    world, rules = store
    rng = random.Random(f"{SEED}/{world.backend}")
    print(f"\ncrash trials on {world.backend}: {TRIALS}, seed {SEED} (PLANWATCH_CRASH_SEED={SEED} replays them)")
    assert world.messages >= 150, world.messages
    ref, _ = reference_run(world, rules, tmp_path)
    kills = []
    for trial in range(TRIALS):
        if trial % 5 == 4:  # a moment of the first seconds: start, the first ticks and passes
            kills.append(Kill(trial, 0, rng.uniform(0.3, LEAD + SPREAD)))
        else:  # right after the server took a message: before its "250" reached the node, or a little later
            kills.append(Kill(trial, rng.randint(1, world.messages - 1), rng.choice([0.0, rng.uniform(0, 0.004)])))
    with ThreadPoolExecutor(AT_ONCE) as pool:
        runs = [pool.submit(crash_trial, world, rules, kill, tmp_path) for kill in kills]
        try:
            for kill, run in zip(kills, runs, strict=True):
                final, received = run.result()
                check(kill, final, received, ref)
                print(f"  {kill}")
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # the trials under way end; the others never start
            raise
    print(f"  repeats per crash: {sorted(Counter(k.repeats for k in kills).items())} (bound {REPEATS_BOUND})")
    assert sum(1 for k in kills if k.at and 0 < k.arrived < world.messages) >= TRIALS // 2  # died mid-dispatch
    assert any(k.repeats for k in kills)  # some kill landed between a message's arrival and its mark


# ----- kills while planning ------------------------------------------------------------------------

# A world of the real calendar, planned by the service itself: its actions fall due over the past weeks
# and the coming month of the real clock, so the first tick of ``planwatch run`` plans them all at once
# (thousands of outbox rows in the plan step's transaction) and then sends what is due.
PLANNING_SHAPE = dict(actions=7_000, owners=2_500, managers=20, overdue_days=20, spread_days=36)
PLANNING_TRIALS = max(TRIALS // 2, 1)  # per backend


def quiet_hour(now: datetime) -> int:
    """Return a delivery hour (local, the same in the world's three zones) whose instants in UTC all lie
    far from ``now``, so that no message falls due while the reference and the trials run and every run
    has the same work."""
    offsets = [now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0) for zone in ZONES]
    hour_now = now.hour + now.minute / 60

    def margin(hour: int) -> float:
        gaps = [abs((hour - off.total_seconds() / 3600 - hour_now) % 24) for off in offsets]
        return min(min(g, 24 - g) for g in gaps)

    return max(range(24), key=margin)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unplanned(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    now = datetime.now(UTC)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "policies.yaml").write_text(RULES.replace('hour: "09:00"', f'hour: "{quiet_hour(now):02d}:00"'))
    shape = Shape(start=now.replace(minute=0, second=0, microsecond=0), **PLANNING_SHAPE)
    made = Store(request.param, tmp_path, server, rules, shape, plan=False)
    yield made, rules
    made.drop()


def test_kill_9_while_planning_loses_nothing_and_repeats_at_most_the_pipeline_depth(
    unplanned: tuple[Store, Path], tmp_path: Path
) -> None:
    """``kill -9`` of ``planwatch run`` at random moments from its start to just after its first plan step has
    committed: most land inside the plan step's transaction (the outbox has fewer rows than the reference's
    at death), a few in the dispatch that follows. A new service finishes: the outbox equals the reference."""
    world, rules = unplanned
    rng = random.Random(f"{SEED}/planning/{world.backend}")
    print(f"\nplanning crash trials on {world.backend}: {PLANNING_TRIALS}, seed {SEED}")
    # The first service of a run starts slower than the next ones (what it compiles and reads, later ones find
    # ready: Python's bytecode, the templates, the catalogs), so the plan step's moment is taken from a second
    # run, as the trials start: from the first, most kills would land after their plan step had committed.
    reference_run(world, rules, tmp_path, "warm-up")
    ref, (began, ended) = reference_run(world, rules, tmp_path)
    print(f"  the reference planned {len(ref.outbox)} outbox rows from {began:.2f} s to {ended:.2f} s after its start")
    assert len(ref.outbox) >= 1_000 and ended - began >= 0.5, (len(ref.outbox), began, ended)
    kills = [Kill(trial, 0, rng.uniform(began, ended + 0.2)) for trial in range(PLANNING_TRIALS)]
    with ThreadPoolExecutor(AT_ONCE) as pool:
        runs = [pool.submit(crash_trial, world, rules, kill, tmp_path / "planning") for kill in kills]
        try:
            for kill, run in zip(kills, runs, strict=True):
                final, received = run.result()
                check(kill, final, received, ref)
                print(f"  {kill}")
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    print(f"  repeats per crash: {sorted(Counter(k.repeats for k in kills).items())} (bound {REPEATS_BOUND})")
    mid_plan = sum(1 for k in kills if k.delay >= began and 0 <= k.planned < len(ref.outbox) and k.arrived == 0)
    assert mid_plan >= PLANNING_TRIALS // 3, [str(k) for k in kills]  # died before the plan step committed
