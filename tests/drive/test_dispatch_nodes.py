"""Three planwatch nodes (OS processes) on one PostgreSQL database deliver every message exactly once.

The test drives the simulated time: it sends each instant to the three nodes and waits until all
three have finished that tick before it moves on. Each node reads the instant on a clock of its
own, ``SKEWS`` seconds off (one ahead, one behind), and starts each tick up to ``JITTER`` seconds
late (and a little late in real time too), so the nodes plan and dispatch concurrently at
instants a few seconds apart, never in step. Messages go over SMTP to a real aiosmtpd server in
this process, and are counted there by Message-ID.
"""

from __future__ import annotations

import inspect
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from engine.channels.pipeline import Pool
from engine.drive.delivery import read_pause
from engine.mail.messages import message_id
from engine.settings import Settings
from engine.store import make_engine

from ..node_worker import Node, NodeConfig, fork_server
from ..smtpserver import Recorder, free_port
from ..synthetic_world import DOMAIN, Final, Shape, build_world, read_final, ticks, utc, write_rules

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

START = utc(2030, 1, 7, 0, 30)  # a Monday; ticks every six hours fall at 00:30, 06:30, 12:30, 18:30 UTC
EVERY = timedelta(hours=6)
NODES = 3
SKEWS = (0.0, 2.6, -3.4)  # seconds each node's clock is off
JITTER = 2.0  # seconds each tick of a node may start late
# A pass that outlives its lease stops before each message whose lease is gone, but the messages it
# checked already are in its SMTP connections' queues: per connection DEPTH waiting and one on the wire,
# and one handed over. Those, and only those, may also be sent by the node that took the rows over.
DEPTH: int = inspect.signature(Pool).parameters["depth"].default
BOTH_BOUND = Settings().smtp_connections * (DEPTH + 1) + 1


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh database of its own on the test PostgreSQL server (the nodes connect to it by URL)."""
    base, _, _ = postgres_server.rpartition("/")
    name = f"pw_multinode_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class MailServer:
    """aiosmtpd on one fixed port that can be stopped (the mail server is down) and started again."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received(self) -> Counter[str]:
        """Return Message-ID -> how many times it arrived; each message's id must be the one of its outbox key."""
        parser, ids = BytesHeaderParser(), Counter[str]()
        for got in self.recorder.received:
            head = parser.parsebytes(got.data)
            assert head["Message-ID"] == message_id(str(head["X-Planwatch-Key"]), DOMAIN), head["X-Planwatch-Key"]
            ids[str(head["Message-ID"])] += 1
        return ids


class Cluster:
    """Three nodes; ``step`` runs one tick on all of them at once and returns their summaries."""

    def __init__(self, url: str, rules: Path, smtp_port: int) -> None:
        ctx = fork_server()
        smtp = f"smtp://127.0.0.1:{smtp_port}?timeout=10"
        self.nodes: list[Node] = []
        for i in range(NODES):
            config = NodeConfig(
                f"node{i}", url, str(rules), smtp_url=smtp, ahead=2 * EVERY, skew=SKEWS[i], jitter=JITTER
            )
            self.nodes.append(Node(ctx, config))
        self.sent = Counter[str]()
        self.paused: list[str] = []

    def step(self, now: datetime) -> list[dict[str, Any]]:
        for node in self.nodes:
            node.send("tick", now)
        done = [node.expect("done")[2] for node in self.nodes]
        for node, summary in zip(self.nodes, done, strict=True):
            self.sent[node.config.name] += summary["sent"]
            if summary["paused"]:
                self.paused.append(summary["paused"])
        return done

    def run(self, instants: Sequence[datetime]) -> None:
        for now in instants:
            self.step(now)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def check_exactly_once(final: Final, received: Counter[str], last: datetime) -> None:
    """The invariants of a finished run: every row that was to go went, once, and the log matches the outbox."""
    assert final.due_pending(last) == []
    assert {r["status"] for r in final.outbox} <= {
        "sent",
        "suppressed",
        "held",
        "digested",
        "pending",
    }  # pending: planned ahead
    sent = final.sent_ids()
    assert max(sent.values()) == 1  # one key, one Message-ID
    twice = {mid: n for mid, n in received.items() if n > 1}
    assert twice == {}, f"{len(twice)} messages arrived more than once"
    assert set(received) == set(sent), (len(set(received) - set(sent)), len(set(sent) - set(received)))
    log = final.log_steps()
    assert len(log) == len(set(log))
    assert set(log) == final.escalation_steps()


def lost(final: Final, waiting: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Return (key, status, reason) of the rows in ``waiting`` that never went out and were not superseded.

    A row that waited through the outage may be superseded at dispatch by a later row about the
    same occurrence to the same person (catch-up); then that later row must have gone out.
    """
    rows = {r["key"]: r for r in final.outbox}
    sent_groups = {group(r) for r in final.outbox if r["status"] == "sent"}
    out = []
    for key in (r["key"] for r in waiting):
        row = rows[key]
        if row["status"] == "sent" or (row["reason"].startswith("superseded") and group(row) in sent_groups):
            continue
        out.append((key, row["status"], row["reason"]))
    return out


def group(row: dict[str, Any]) -> tuple[Any, ...]:
    """Return what catch-up collapses on: (action, occurrence, family, recipient)."""
    return row["action_id"], row["occurrence"], row["step"].split(":", 1)[0], row["recipient"]


def test_three_nodes_deliver_thousands_of_messages_exactly_once(pg_url: str, tmp_path: Path) -> None:
    shape = Shape(
        actions=10_000, owners=2_000, managers=50, start=START, overdue_days=40, spread_days=1000, digest_every=25
    )
    build_world(pg_url, shape)
    instants = ticks(START, 28, EVERY)
    server = MailServer()
    server.start()
    cluster = Cluster(pg_url, write_rules(tmp_path / "rules"), server.port)
    try:
        cluster.run(instants)
    finally:
        cluster.stop()
        server.stop()
    engine = make_engine(pg_url)
    final = read_final(engine)
    engine.dispose()
    types = Counter(r["type"] for r in final.outbox if r["status"] == "sent")
    assert (
        sum(types.values()) >= 2_500 and types["reminder"] >= 400 and types["overdue"] + types["escalation"] >= 2_000
    ), types
    assert types["digest"] > 0 and len(final.log) >= 700
    check_exactly_once(final, server.received(), instants[-1])
    print(f"\nsent per node: {dict(cluster.sent)}; by type: {dict(types)}; escalation log rows: {len(final.log)}")
    assert sum(cluster.sent.values()) == sum(types.values())
    assert all(cluster.sent[node.config.name] > 0 for node in cluster.nodes), cluster.sent  # the work was shared


def test_a_mail_server_outage_under_three_nodes_loses_nothing_and_repeats_nothing(pg_url: str, tmp_path: Path) -> None:
    shape = Shape(
        actions=3_000, owners=600, managers=20, start=START, overdue_days=20, spread_days=300, digest_every=25
    )
    build_world(pg_url, shape)
    instants = ticks(START, 10, EVERY)
    before, down, after = instants[:8], instants[8:14], instants[14:]  # down from Wednesday 00:30 to Thursday 12:30
    server = MailServer()
    server.start()
    cluster = Cluster(pg_url, write_rules(tmp_path / "rules"), server.port)
    engine = make_engine(pg_url)
    try:
        cluster.run(before)
        arrived = len(server.recorder.received)
        server.stop()
        cluster.run(down)
        with engine.connect() as conn:
            pause = read_pause(conn)
        waiting = [r for r in read_final(engine).outbox if r["status"] == "pending"]
        server.start()
        cluster.run(after)
    finally:
        cluster.stop()
        server.stop()
    final = read_final(engine)
    with engine.connect() as conn:
        resumed = read_pause(conn) is None
    engine.dispose()
    assert arrived > 0 and len(server.recorder.received) > arrived
    assert pause is not None and pause.kind == "unreachable"
    assert len(waiting) >= 100 and {r["attempts"] for r in waiting} == {0}  # held back, not counted as failed tries
    assert cluster.paused
    assert lost(final, waiting) == []  # everything that waited went out afterwards, or its successor did
    check_exactly_once(final, server.received(), instants[-1])
    assert resumed  # the queue resumed once the server answered again


def test_a_batch_slower_than_its_lease_is_not_sent_again_by_another_node(pg_url: str, tmp_path: Path) -> None:
    """Node A sends a rate-limited batch (PLANWATCH_SMTP_RATE); its lease runs out while it is still sending.

    Simulated time stands for the real time the batch takes: node B ticks six minutes after A's
    instant while A is still at its first messages, as it would when A's batch lasts more than five
    minutes (a provider's limit of 30 a minute and a backlog of 200 messages is enough). The two
    clocks are a few seconds apart (A's behind, B's ahead). Only what A's SMTP connections held when
    the lease ran out may go twice (``BOTH_BOUND``), with the same Message-ID.
    """
    build_world(pg_url, Shape(actions=400, owners=300, managers=10, start=START, overdue_days=20, spread_days=36))
    rules = write_rules(tmp_path / "rules")
    server = MailServer()
    server.start()
    ctx = fork_server()
    smtp = f"smtp://127.0.0.1:{server.port}?timeout=10"
    slow = Node(
        ctx, NodeConfig("slow", pg_url, str(rules), smtp_url=smtp, markers=True, smtp_rate=1_200, skew=SKEWS[2])
    )
    quick = Node(ctx, NodeConfig("quick", pg_url, str(rules), smtp_url=smtp, skew=SKEWS[1]))
    busy = START + EVERY * 2
    try:
        slow.send("tick", START)
        slow.expect("done")
        slow.send("tick", busy)
        while slow.receive()[:3] != ("sent", 0, 3):
            pass  # the slow node has claimed the batch and is sending it, a message every 0.05 s
        quick.send("tick", busy + timedelta(minutes=6))
        quick_done = quick.expect("done")[2]
        slow_done = slow.expect("done")[2]
    finally:
        slow.stop()
        quick.stop()
        server.stop()
    assert slow_done["sent"] >= 3 and quick_done["sent"] >= 20, (slow_done, quick_done)  # the quick node took over
    engine = make_engine(pg_url)
    final = read_final(engine)
    engine.dispose()
    assert final.due_pending(busy + timedelta(minutes=6)) == []
    assert set(server.received()) == set(final.sent_ids())
    twice = [mid for mid, n in server.received().items() if n > 1]
    print(f"\nsent by both nodes: {len(twice)} (bound {BOTH_BOUND})")
    assert len(twice) <= BOTH_BOUND, f"{len(twice)} of {len(server.received())} messages were sent by both nodes"
    assert max(server.received().values()) <= 2
