"""A database outage under a running node: PostgreSQL stops and starts again; ``planwatch run`` carries on.

The tests run their own PostgreSQL cluster (so they may stop it) and a real ``planwatch run`` process
on the real clock. The first stops the server cleanly (``-m fast``) twice, delivering to a Maildir.
The second crashes it (``-m immediate``, commits waiting for their WAL as in service) in the middle
of a dispatch pass over SMTP, with a few hundred messages falling due over seconds, starts it again
two seconds later, and checks that every message in flight at the crash is delivered, each with
its own Message-ID and at most twice (a sent-mark the crash forgot), and how soon.
"""

from __future__ import annotations

import mailbox
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from engine.cli.main import run
from engine.clock import SystemClock
from engine.mail.messages import message_id

from ..node_worker import NodeConfig, Service, due_soon, plan_outbox
from ..pgcluster import Cluster, server_bin
from ..smtpserver import Recorder, smtp_server
from ..synthetic_world import DOMAIN, Shape, build_world, ticks, utc, write_rules

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PLAN = "plans/gb276-tc2-implementation-plan.txt"
DOWN = "database error in the"
UP = "database reachable again"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of the test's own, started; removed afterwards."""
    bindir = server_bin()
    if bindir is None:
        message = "no PostgreSQL server binaries (initdb, pg_ctl); set PLANWATCH_TEST_PG_BIN"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    made = Cluster(bindir)
    try:
        made.start()
        yield made
    finally:
        made.remove()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}")
        time.sleep(0.1)


def query(db: Engine, sql: str) -> object:
    """Return the first column of the first row of ``sql``, or None (also while the server is down)."""
    try:
        with db.connect() as conn:
            return conn.execute(text(sql)).scalar()
    except Exception:  # the server may be stopped on purpose
        return None


def last_tick(db: Engine) -> datetime | None:
    value = query(db, "SELECT value FROM service_state WHERE key = 'last_tick'")
    return datetime.fromisoformat(str(value)) if value else None


def delivered(maildir: Path) -> set[str]:
    """Return the Message-IDs in the Maildir."""
    if not maildir.exists():
        return set()
    return {str(m["Message-ID"]) for m in mailbox.Maildir(maildir, create=False)}


def test_the_node_survives_a_database_outage_and_resumes(cluster: Cluster, workdir: Path) -> None:
    url, maildir, err_path = cluster.url, workdir / "mail", workdir / "node.err"
    assert run(["--db", url, "db", "upgrade"]) == 0
    assert run(["--db", url, "import", "plans/owners.yaml", PLAN]) == 0
    assert run(["--db", url, "tick"]) == 0  # today's catch-ups, which would wait for the recipients' working morning
    db = create_engine(url, poolclass=NullPool)
    with db.begin() as conn:  # ...are due now, whatever the real day
        conn.execute(text("UPDATE outbox SET due_at = now() WHERE status = 'pending'"))
    env = os.environ | {"PLANWATCH_DATABASE_URL": url, "PLANWATCH_MAILDIR": str(maildir)}
    with open(workdir / "node.out", "w") as out, open(err_path, "w") as err:
        node = subprocess.Popen(
            [sys.executable, "-m", "engine", "run", "--interval", "0.2"],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=err,
            text=True,
        )

    def log() -> str:
        return err_path.read_text()

    try:
        # Running: the example plan's overdue actions are planned and their messages sent.
        wait_for("the first messages", lambda: last_tick(db) is not None and len(delivered(maildir)) > 0)

        # The outage: the node stays up and says so once, in one line, with no traceback.
        cluster.stop()
        wait_for("the node to log the database error", lambda: DOWN in log(), timeout=5)
        time.sleep(2.5)
        assert node.poll() is None, log()
        errors = [line for line in log().splitlines() if DOWN in line]
        assert len(errors) == 1, errors
        driver_said = ("refused", "shutting down", "terminat", "closed the connection")
        assert "retrying every 0.2 s" in errors[0] and any(words in errors[0] for words in driver_said), errors[0]
        assert "Traceback" not in log() and "raised an exception" not in log()

        # The server is back: ticks advance past the restart, and new mail goes out.
        cluster.start()
        back = SystemClock().now()
        wait_for("a tick after the restart", lambda: (last_tick(db) or back) > back)
        wait_for("the node to log the recovery", lambda: UP in log(), timeout=5)
        assert (
            run(["--db", url, "extend", "II.3.1", "--to", "2031-06-30", "--reason", "outage test", "--by", "test"]) == 0
        )
        with db.begin() as conn:  # it waits for the owner's working day: due now, whatever the real day
            conn.execute(text("UPDATE outbox SET due_at = now() WHERE step = 'extension' AND status = 'pending'"))
        sent = "SELECT message_id FROM outbox WHERE step = 'extension' AND status = 'sent'"
        wait_for("the extension message to be sent", lambda: query(db, sent) is not None)
        assert query(db, sent) in delivered(maildir)

        # A second outage is reported afresh, and SIGTERM still stops the node cleanly while it lasts.
        cluster.stop()
        wait_for("the second outage to be logged", lambda: log().count(DOWN) == 2, timeout=5)
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=15)
    finally:
        node.kill()
        node.wait()
        db.dispose()
    assert node.returncode == 0, log()
    assert "Stopped." in (workdir / "node.out").read_text()
    assert "Traceback" not in log(), log()


# ----- PostgreSQL crashes under a node that is sending ----------------------------------------------

SHAPE = Shape(actions=80, owners=60, managers=5, start=utc(2030, 1, 7, 0, 30), overdue_days=20, spread_days=36)
SPREAD = 4.0  # seconds over which the messages fall due once the node runs
PROMPT = 60.0  # seconds after the server's return within which every message must be out


@pytest.fixture
def durable_cluster() -> Iterator[Cluster]:
    """A cluster of the test's own whose commits wait for their WAL, as a server in service does."""
    bindir = server_bin()
    if bindir is None:
        message = "no PostgreSQL server binaries (initdb, pg_ctl); set PLANWATCH_TEST_PG_BIN"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    made = Cluster(bindir, durable=True)
    try:
        made.start()
        yield made
    finally:
        made.remove()


@dataclass
class Tripwire(Recorder):
    """A mail server that says when the ``at``-th message has arrived."""

    at: int = 0
    reached: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.received) >= self.at:
            self.reached.set()
        return reply


class LeaseWait(Exception):
    """Messages in flight at the crash waited for their lease instead of going out once the server was back."""


def test_a_crash_of_postgresql_loses_no_message_in_flight(durable_cluster: Cluster, tmp_path: Path) -> None:
    cluster, url = durable_cluster, durable_cluster.url
    rules = write_rules(tmp_path / "rules")
    build_world(url, SHAPE)
    total = plan_outbox(url, rules, ticks(SHAPE.start, 14, timedelta(hours=12)), timedelta(hours=24))
    assert total >= 150, total
    due_soon(url, datetime.now(UTC) + timedelta(seconds=1.5), SPREAD)
    db = create_engine(url, poolclass=NullPool)
    wire = Tripwire(at=total // 3)
    sent = "SELECT count(*) FROM outbox WHERE status = 'sent'"
    try:
        with smtp_server(wire) as port:
            config = NodeConfig("node", url, str(rules), smtp_url=f"smtp://127.0.0.1:{port}?timeout=10")
            node = Service(config, tmp_path / "node.log")
            try:
                assert wire.reached.wait(60), f"the first {wire.at} messages never came:\n{node.log()}"
                cluster.crash()  # in the middle of a dispatch pass: rows leased, messages on the wire, marks in hand
                arrived = len(wire.received)
                time.sleep(2.0)
                assert node.alive(), node.log()
                cluster.start()
                deadline = time.monotonic() + PROMPT
                while query(db, sent) != total and time.monotonic() < deadline:
                    time.sleep(0.2)
                late = total - int(str(query(db, sent) or 0))  # not sent within PROMPT s of the server's return
                if late:  # they must be waiting for a lease, not lost: a restart takes its own leases back
                    waiting = query(db, "SELECT count(*) FROM outbox WHERE status = 'pending' AND attempts = 0")
                    assert waiting == late, (late, waiting)
                    assert node.stop() == 0, node.log()
                    node = Service(config, tmp_path / "restarted.log")
                    wait_for("every message to be sent after a restart", lambda: query(db, sent) == total, 60)
                said = node.log_path.parent.joinpath("node.log").read_text()
            finally:
                code = node.stop()
        assert code == 0, node.log()
    finally:
        db.dispose()
    assert 0 < arrived < total, arrived  # the crash came in the middle of the sending
    parser, ids = BytesHeaderParser(), Counter[str]()
    for received in wire.received:
        head = parser.parsebytes(received.data)
        assert head["Message-ID"] == message_id(str(head["X-Planwatch-Key"]), DOMAIN)
        ids[str(head["Message-ID"])] += 1
    assert len(ids) == total  # every message arrived, those in flight at the crash too
    assert max(ids.values()) <= 2, ids.most_common(3)  # a mark the crash forgot: sent again, same Message-ID
    print(
        f"\n{total} messages, {arrived} arrived before the crash, {sum(ids.values()) - total} sent twice, {late} late"
    )
    assert said.count(DOWN) >= 1 and UP in said, said
    if late:
        raise LeaseWait(f"{late} messages in flight at the crash were not sent within {PROMPT:g} s of the restart")
