"""Three planwatch nodes (OS processes) on one PostgreSQL database deliver every message exactly once.

The nodes are free-running: each ticks on its own schedule, every ``PERIOD`` real seconds give or
take ``FREE_JITTER`` of it, starting at a moment of its own, and reads a simulated clock
(``Schedule``: period ``k`` of real time stands for ``START + k * EVERY``, at the real pace within
the period) plus its own skew (``SKEWS``: one ahead, one behind). The test tells them nothing after
the start and never waits for one node before another ticks: they plan and dispatch concurrently,
at instants a few seconds apart, and a tick that runs long delays that node alone. Messages go over
SMTP to a real aiosmtpd server in this process, and are counted there by Message-ID.

What may go twice is what README promises: nothing, unless a pass outlives its lease. Here a pass
outlives its lease only when its tick is still running once a later period has begun (6 simulated
hours later) and another node starts a tick then (a "takeover", counted from the ticks' real start
and end); each may repeat at most ``BOTH_BOUND`` messages. Without one, nothing may repeat.
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from engine.channels.pipeline import Pool
from engine.drive.delivery import read_pause
from engine.drive.dispatch import CHECK_GROUP
from engine.mail.messages import message_id
from engine.settings import Settings
from engine.store import make_engine

from ..node_worker import Node, NodeConfig, Schedule, fork_server
from ..smtpserver import Recorder, free_port
from ..synthetic_world import DOMAIN, Final, Shape, build_world, read_final, ticks, utc, write_rules

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

START = utc(2030, 1, 7, 0, 30)  # a Monday; ticks every six hours fall at 00:30, 06:30, 12:30, 18:30 UTC
EVERY = timedelta(hours=6)
NODES = 3
SKEWS = (0.0, 2.6, -3.4)  # seconds each node's clock is off
JITTER = 2.0  # seconds each tick of a node may start late (the lease test's nodes, ticked by the test)
PERIOD = 0.8  # real seconds that stand for one EVERY of simulated time; each node ticks about this often
FREE_JITTER = 0.25  # each node's interval between ticks: PERIOD give or take this fraction of it
# A pass that outlives its lease stops before each message whose lease is gone, but the messages it
# checked already are in its SMTP connections' queues (per connection DEPTH waiting and one on the wire)
# or in the group it checked last (CHECK_GROUP rows, checked in one statement). Those, and only those,
# may also be sent by the node that took the rows over.
DEPTH: int = inspect.signature(Pool).parameters["depth"].default
OUTAGE = (8, 14)  # the mail server is down from period 8 to 14: Wednesday 00:30 to Thursday 12:30
BOTH_BOUND = Settings().smtp_connections * (DEPTH + 1) + CHECK_GROUP


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
    """Three nodes that ``run`` free-running over a span of simulated time."""

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
        self.ticks: dict[str, list[dict[str, Any]]] = {node.config.name: [] for node in self.nodes}
        self.origin, self.last = 0.0, START

    def run(self, instants: Sequence[datetime], events: dict[int, Callable[[], None]] | None = None) -> None:
        """Let the nodes run free over the span of ``instants`` (one ``PERIOD`` each) and call ``events[k]`` as
        period ``k`` begins; then one node ticks once more just after the span (what the last ticks left)."""
        schedule = Schedule(time.time() + 0.5, instants[0], EVERY, PERIOD, len(instants), FREE_JITTER)
        self.origin = schedule.origin
        for node in self.nodes:
            node.free(schedule)
        for k, event in sorted((events or {}).items()):
            time.sleep(max(0.0, schedule.origin + k * PERIOD - time.time()))
            event()
        for node in self.nodes:
            self.record(node, node.collect())
        self.last = instants[-1] + EVERY / 2
        self.nodes[0].send("tick", self.last)
        self.record(self.nodes[0], [self.nodes[0].expect("done")[2]])

    def record(self, node: Node, done: list[dict[str, Any]]) -> None:
        self.ticks[node.config.name].extend(d for d in done if "began" in d)
        for summary in done:
            self.sent[node.config.name] += summary["sent"]
            if summary["paused"]:
                self.paused.append(summary["paused"])

    def takeovers(self) -> int:
        """Return how many times a node started a tick in a later period while another node's tick was still
        running: that tick's leases had run out in simulated time, and the rows were another node's to take."""
        count = 0
        for name, mine in self.ticks.items():
            for late in mine:
                if int((late["ended"] - self.origin) // PERIOD) == late["period"]:
                    continue
                count += sum(
                    1
                    for other, theirs in self.ticks.items()
                    if other != name
                    for tick in theirs
                    if tick["period"] > late["period"] and late["began"] < tick["began"] < late["ended"]
                )
        return count

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def check_exactly_once(final: Final, received: Counter[str], last: datetime, takeovers: int = 0) -> int:
    """The invariants of a finished run: every row that was to go went, once (at most ``BOTH_BOUND`` twice for
    each takeover of a pass that outlived its lease), and the log matches the outbox."""
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
    print(f"\nsent by two nodes: {len(twice)}; takeovers of a pass that outlived its lease: {takeovers}")
    assert max(received.values()) <= 2, received.most_common(3)
    assert len(twice) <= BOTH_BOUND * takeovers, f"{len(twice)} messages arrived twice ({takeovers} takeovers)"
    assert set(received) == set(sent), (len(set(received) - set(sent)), len(set(sent) - set(received)))
    log = final.log_steps()
    assert len(log) == len(set(log))
    assert set(log) == final.escalation_steps()
    return len(twice)


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
    assert all(len(mine) >= len(instants) // 2 for mine in cluster.ticks.values()), cluster.ticks  # all ran free
    engine = make_engine(pg_url)
    final = read_final(engine)
    engine.dispose()
    types = Counter(r["type"] for r in final.outbox if r["status"] == "sent")
    assert (
        sum(types.values()) >= 2_500 and types["reminder"] >= 400 and types["overdue"] + types["escalation"] >= 2_000
    ), types
    assert types["digest"] > 0 and len(final.log) >= 700
    twice = check_exactly_once(final, server.received(), cluster.last, cluster.takeovers())
    print(f"\nsent per node: {dict(cluster.sent)}; by type: {dict(types)}; escalation log rows: {len(final.log)}")
    assert 0 <= sum(cluster.sent.values()) - sum(types.values()) <= twice  # a repeat is counted by both nodes
    assert all(cluster.sent[node.config.name] > 0 for node in cluster.nodes), cluster.sent  # the work was shared


def test_a_mail_server_outage_under_three_nodes_loses_nothing_and_repeats_nothing(pg_url: str, tmp_path: Path) -> None:
    shape = Shape(
        actions=3_000, owners=600, managers=20, start=START, overdue_days=20, spread_days=300, digest_every=25
    )
    build_world(pg_url, shape)
    instants = ticks(START, 10, EVERY)
    server = MailServer()
    server.start()
    cluster = Cluster(pg_url, write_rules(tmp_path / "rules"), server.port)
    engine = make_engine(pg_url)
    seen: dict[str, Any] = {}

    def down() -> None:
        seen["arrived"] = len(server.recorder.received)
        server.stop()

    def up() -> None:
        with engine.connect() as conn:
            seen["pause"] = read_pause(conn)
        seen["waiting"] = [r for r in read_final(engine).outbox if r["status"] == "pending"]
        server.start()

    try:
        cluster.run(instants, {OUTAGE[0]: down, OUTAGE[1]: up})
    finally:
        cluster.stop()
        server.stop()
    arrived, pause, waiting = seen["arrived"], seen["pause"], seen["waiting"]
    final = read_final(engine)
    with engine.connect() as conn:
        resumed = read_pause(conn) is None
    engine.dispose()
    assert arrived > 0 and len(server.recorder.received) > arrived
    assert pause is not None and pause.kind == "unreachable"
    assert len(waiting) >= 100 and {r["attempts"] for r in waiting} == {0}  # held back, not counted as failed tries
    assert cluster.paused
    assert lost(final, waiting) == []  # everything that waited went out afterwards, or its successor did
    check_exactly_once(final, server.received(), cluster.last, cluster.takeovers())
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
