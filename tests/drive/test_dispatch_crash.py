"""kill -9 a node at random moments of planning and dispatch: nothing is lost, nothing goes twice
except the messages in flight, and those carry the same Message-ID.

Each backend gets a small world (a template SQLite file or PostgreSQL database, copied for
every run) and a reference run of a fortnight's ticks by one node that is never killed. Each
trial then runs the same ticks on a fresh copy with a node that reports markers (see
``node_worker``) and is SIGKILLed a random few milliseconds after one of them: the start of a
busy tick (planning comes first) or the n-th message its channel accepted in a tick (before
the outbox marked it sent). A fresh node runs the ticks again from the one that was cut short;
rows the dead node had leased are free again at the next tick (12 simulated hours later, well
past the 5-minute lease). Afterwards the outbox must hold the reference's keys with the
reference's statuses, every sent row must have arrived once or twice (twice only with its own
Message-ID), and the escalation log must match the outbox.

SQLite trials deliver to a Maildir, PostgreSQL trials over SMTP to aiosmtpd in this process.
The seed is printed; ``PLANWATCH_CRASH_SEED=N`` replays a run.
"""

from __future__ import annotations

import os
import random
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from engine.mail.messages import message_id
from engine.store import make_engine

from ..node_worker import Node, NodeConfig, fork_server
from ..smtpserver import Recorder, smtp_server
from ..synthetic_world import (
    DOMAIN,
    A,
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
TRIALS = 15  # per backend
START = utc(2030, 1, 7, 0, 30)
EVERY = timedelta(hours=12)  # ticks at 00:30 and 12:30 UTC; no 09:00 of any zone lies within minutes after one
SHAPE = Shape(actions=80, owners=60, managers=5, start=START, overdue_days=20, spread_days=36, digest_every=10)
INSTANTS = [*ticks(START, 10, EVERY)]
INSTANTS.append(INSTANTS[-1] + timedelta(minutes=10))  # past the lease of a node killed in the last tick


class Store:
    """A template world on one backend and fresh copies of it."""

    def __init__(self, backend: str, folder: Path, server: str | None) -> None:
        self.backend, self.folder, self.server = backend, folder, server
        self.copies: list[str] = []
        if backend == "sqlite":
            self.template = folder / "template.db"
            build_world(f"sqlite:///{self.template}", SHAPE)
            assert not Path(f"{self.template}-wal").exists()
        else:
            assert server is not None
            self.template_name = self._create(f"pw_crash_tpl_{uuid.uuid4().hex[:8]}")
            build_world(f"{server.rpartition('/')[0]}/{self.template_name}", SHAPE)

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
        """Return the URL of a fresh copy of the template."""
        if self.backend == "sqlite":
            path = self.folder / f"{label}.db"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        assert self.server is not None
        name = self._create(f"pw_crash_{label}_{uuid.uuid4().hex[:6]}", self.template_name)
        self.copies.append(name)
        return f"{self.server.rpartition('/')[0]}/{name}"

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


@dataclass
class Mail:
    """Where a run's messages arrive: a Maildir folder, or an aiosmtpd recorder."""

    maildir: Path | None = None
    recorder: Recorder | None = None

    def received(self) -> Counter[str]:
        """Return Message-ID -> arrivals; each message's id must be the one of its own outbox key."""
        if self.recorder is not None:
            blobs = [r.data for r in self.recorder.received]
        else:
            assert self.maildir is not None
            blobs = [p.read_bytes() for sub in ("new", "cur") for p in sorted((self.maildir / sub).glob("*"))]
        parser, ids = BytesHeaderParser(), Counter[str]()
        for blob in blobs:
            head = parser.parsebytes(blob)
            assert head["Message-ID"] == message_id(str(head["X-Planwatch-Key"]), DOMAIN), head["X-Planwatch-Key"]
            ids[str(head["Message-ID"])] += 1
        return ids


@dataclass
class Reference:
    """The run without a crash: its final outbox and log, and per tick what it did and how long planning took."""

    final: Final
    planned: list[int] = field(default_factory=list)  # actions planned per tick
    sent: list[int] = field(default_factory=list)  # messages sent per tick
    planning: list[float] = field(default_factory=list)  # seconds from a tick's start to its first message (or end)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    made = Store(request.param, tmp_path, server)
    yield made
    made.drop()


@contextmanager
def mailbox(store: Store, label: str) -> Iterator[tuple[dict[str, str], Mail]]:
    """Yield the channel settings of a run and where its messages arrive."""
    if store.backend == "sqlite":
        path = store.folder / label / "maildir"
        yield {"maildir": str(path)}, Mail(maildir=path)
        return
    recorder = Recorder()
    with smtp_server(recorder) as port:
        yield {"smtp_url": f"smtp://127.0.0.1:{port}?timeout=10"}, Mail(recorder=recorder)


def node_config(name: str, url: str, rules: Path, channel: dict[str, str], *, markers: bool) -> NodeConfig:
    return NodeConfig(
        name,
        url,
        str(rules),
        smtp_url=channel.get("smtp_url", ""),
        maildir=channel.get("maildir", ""),
        markers=markers,
        ahead=2 * EVERY,
    )


def final_of(url: str) -> Final:
    engine = make_engine(url)
    try:
        return read_final(engine)
    finally:
        engine.dispose()


def reference_run(ctx: Any, store: Store, rules: Path) -> tuple[Reference, Counter[str]]:
    """Run every tick with one node that is never killed; time each tick's planning."""
    url = store.copy("reference")
    ref = Reference(Final([], []))
    with mailbox(store, "reference") as (channel, mail):
        node = Node(ctx, node_config("reference", url, rules, channel, markers=True))
        node.send("run", INSTANTS)
        started = first = 0.0
        while (message := node.receive())[0] != "finished":
            if message[0] == "tick":
                started, first = time.perf_counter(), 0.0
            elif message[0] == "sent" and message[2] == 1:
                first = time.perf_counter()
            elif message[0] == "done":
                ref.planning.append((first or time.perf_counter()) - started)
                ref.planned.append(message[2]["planned"])
                ref.sent.append(message[2]["sent"])
        node.stop()
        received = mail.received()
    ref.final = final_of(url)
    return ref, received


@dataclass
class Kill:
    """One trial: what it aimed at, and the last thing the node said before it died."""

    trial: int
    target: tuple[Any, ...]
    delay: float
    last: tuple[Any, ...] = ()
    duplicates: int = 0
    unplanned: int = 0  # actions the cut-short tick had yet to plan when the node died

    @property
    def phase(self) -> str:
        """Where the node died: "planning" (a tick began, no message accepted yet), "dispatch", or "between"."""
        return {"tick": "planning", "sent": "dispatch"}.get(str(self.last[0]) if self.last else "", "between")

    def __str__(self) -> str:
        return (
            f"trial {self.trial}: aimed at {self.target} + {self.delay * 1000:.1f} ms, "
            f"died after {self.last[:3]} ({self.phase}, {self.unplanned} actions left to plan)"
        )


def aim(trial: int, ref: Reference, rng: random.Random) -> tuple[tuple[Any, ...], float]:
    """Return the marker to kill after, and how long after it: even trials in planning, odd ones in dispatch."""
    if trial % 2 == 0:
        tick = rng.choice([i for i, n in enumerate(ref.planned) if n > 0])
        return ("tick", tick), rng.uniform(0, ref.planning[tick])
    tick = rng.choice([i for i, n in enumerate(ref.sent) if n > 0])
    return ("sent", tick, rng.randint(1, ref.sent[tick])), rng.uniform(0, 0.003)


def crash_trial(ctx: Any, store: Store, rules: Path, kill: Kill) -> tuple[Final, Counter[str]]:
    """Run the ticks with a node killed -9 as ``kill`` says, then finish them with a fresh node."""
    label = f"trial{kill.trial}"
    url = store.copy(label)
    with mailbox(store, label) as (channel, mail):
        victim = Node(ctx, node_config(f"victim{kill.trial}", url, rules, channel, markers=True))
        victim.send("run", INSTANTS)
        said: list[tuple[Any, ...]] = []
        while (message := victim.receive())[: len(kill.target)] != kill.target and message[0] != "finished":
            said.append(message)
        said.append(message)
        time.sleep(kill.delay)
        victim.process.kill()
        said += last_words(victim)
        kill.last = said[-1]
        store.wait_for_sessions_to_end(url)
        resume = max(m[1] for m in said if m[0] == "tick")  # the tick cut short runs again
        kill.unplanned = unplanned(url, INSTANTS[resume] + 2 * EVERY)
        finisher = Node(ctx, node_config(f"finisher{kill.trial}", url, rules, channel, markers=False))
        finisher.run(INSTANTS[resume:])
        finisher.stop()
        received = mail.received()
    return final_of(url), received


def unplanned(url: str, until: datetime) -> int:
    """Return how many actions are due for planning by ``until`` (a killed planning pass left them so)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(A.c.next_fire_at <= until)).scalar_one())
    finally:
        engine.dispose()


def last_words(node: Node) -> list[tuple[Any, ...]]:
    """Return what a killed node had said but the test had not read yet."""
    node.process.join(10)
    words = []
    while node.conn.poll(1):
        try:
            words.append(node.conn.recv())
        except EOFError:
            break
    node.conn.close()
    return words


def check(kill: Kill, final: Final, received: Counter[str], ref: Reference) -> None:
    """The invariants after a crash and a finished run, against the reference run."""
    where = f"seed {SEED}, {kill}"
    keys = [r["key"] for r in final.outbox]
    assert len(keys) == len(set(keys)), where
    got, want = final.statuses(), ref.final.statuses()
    differ = sorted((k, got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k))
    assert differ == [], (
        f"{where}: {len(differ)} outbox rows differ from the reference (key, got, wanted): {differ[:5]}"
    )
    assert final.due_pending(INSTANTS[-1]) == [], where
    sent = final.sent_ids()
    assert set(received) == set(sent), (
        f"{where}: lost {len(set(sent) - set(received))}, unknown {len(set(received) - set(sent))}"
    )
    assert max(received.values()) <= 2, f"{where}: {received.most_common(3)}"
    kill.duplicates = sum(1 for n in received.values() if n == 2)
    log = final.log_steps()
    assert len(log) == len(set(log)) and set(log) == final.escalation_steps(), where
    assert {r["key"] for r in final.log} == {r["key"] for r in ref.final.log}, where


def test_kill_9_at_random_moments_of_planning_and_dispatch_loses_nothing(store: Store, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}/{store.backend}")
    print(f"\ncrash trials on {store.backend}: seed {SEED} (PLANWATCH_CRASH_SEED={SEED} replays them)")
    ctx = fork_server()
    rules = write_rules(tmp_path / "rules")
    ref, received = reference_run(ctx, store, rules)
    types = Counter(r["type"] for r in ref.final.outbox if r["status"] == "sent")
    assert sum(ref.sent) >= 150 and types["reminder"] and types["digest"] and len(ref.final.log) >= 30, (
        types,
        len(ref.final.log),
    )
    check(Kill(-1, (), 0.0, ("finished",)), ref.final, received, ref)
    assert set(received.values()) == {1}  # without a crash every message arrives exactly once
    kills = []
    for trial in range(TRIALS):
        target, delay = aim(trial, ref, rng)
        kill = Kill(trial, target, delay)
        final, received = crash_trial(ctx, store, rules, kill)
        check(kill, final, received, ref)
        print(f"  {kill}; {kill.duplicates} delivered twice")
        kills.append(kill)
    phases = Counter(k.phase for k in kills)
    print(f"  phases {dict(phases)}; planning passes cut short: {sum(1 for k in kills if k.unplanned)}")
    assert phases["planning"] >= 3 and phases["dispatch"] >= 3, phases
    assert any(k.unplanned for k in kills)  # some kill landed inside a planning transaction
