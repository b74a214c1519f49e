"""A database outage under a running node: PostgreSQL stops and starts again; ``planwatch run`` carries on.

The test runs its own PostgreSQL cluster (so it may stop it) and a real ``planwatch run`` process
on the real clock, delivering to a Maildir.
"""

from __future__ import annotations

import mailbox
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from engine.cli.main import run
from engine.clock import SystemClock

from ..pgcluster import Cluster, server_bin

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
    db = create_engine(url, poolclass=NullPool)
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
