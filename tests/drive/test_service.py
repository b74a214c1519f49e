"""The service: a reload that fails keeps the rules in force; the administrator hears of a pause at
once; the outage log; leases taken back at a lone node's start; a message leaves at its instant."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
from sqlalchemy import create_engine, select

from engine.cli.main import run
from engine.clock import FixedClock
from engine.drive.dispatch import dispatch
from engine.drive.planning import plan_due
from engine.drive.service import Outage, RulesHolder, other_nodes, take_back_own_leases
from engine.outbox import claim, pending_query
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade
from engine.store.state import set_state
from engine.store.tables import SERVICE_STATE

from ..conftest import ROOT
from ..smtpserver import Authenticator, Recorder, free_port, smtp_server, tls_server_context


def test_a_failed_reload_keeps_the_previous_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    holder = RulesHolder(Settings(rules_dir=rules))
    before = holder.current()
    assert [p.name for p in before.policies][:2] == ["recurring", "deadlines"]
    default = rules / "default.yaml"
    default.write_text(default.read_text().replace("before: 30d", "before: 30 dayz", 1))
    later = time.time() + 5
    os.utime(default, (later, later))
    assert holder.current() is before
    default.write_text(default.read_text().replace("before: 30 dayz", "before: 20d", 1))
    os.utime(default, (later + 5, later + 5))
    reloaded = holder.current()
    assert reloaded is not before
    assert str(reloaded.policies[0].remind[0].before) == "20d"


def wait_for(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}")
        time.sleep(0.1)


def planwatch(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``planwatch ARGS`` in-process; return what it printed (it must succeed)."""
    capsys.readouterr()
    assert run(list(args)) == 0
    return capsys.readouterr().out


def test_the_administrator_hears_of_a_refused_login_at_once_by_the_second_route_and_once(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{workdir / 'planwatch.db'}"
    planwatch(capsys, "--db", url, "import", "plans/owners.yaml", "plans/gb276-tc2-implementation-plan.txt")
    planwatch(capsys, "--db", url, "tick")  # today's catch-ups, which would wait for the recipients' working morning
    from engine.clock import SystemClock
    from engine.store.tables import OUTBOX

    due = create_engine(url)
    with due.begin() as conn:  # ...are due now, whatever the real day: the relay is asked at once
        conn.execute(OUTBOX.update().where(OUTBOX.c.status == "pending").values(due_at=SystemClock().now()))
    due.dispose()
    relay, admin, ca = Recorder(), Recorder(), trustme.CA()
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    login = {
        "tls_context": tls_server_context(ca),
        "require_starttls": True,
        "auth_required": True,
        "authenticator": Authenticator("planwatch", "s3cret"),
    }
    with smtp_server(relay, **login) as relay_port, smtp_server(admin) as admin_port:
        env = os.environ | {
            "PLANWATCH_DATABASE_URL": url,
            "PLANWATCH_SMTP_URL": f"smtp://planwatch:wrong@127.0.0.1:{relay_port}?timeout=5&cafile={workdir}/ca.pem",
            "PLANWATCH_ADMIN_EMAIL": "ops@example.org",
            "PLANWATCH_ADMIN_SMTP_URL": f"smtp://127.0.0.1:{admin_port}?timeout=5",
            "PLANWATCH_METRICS_TOKEN": "ops-token",
        }
        err_path, ops = workdir / "node.err", f"127.0.0.1:{free_port()}"
        with open(err_path, "w") as err:
            node = subprocess.Popen(
                [sys.executable, "-m", "engine", "run", "--interval", "0.2", "--log-json", "--ops-listen", ops],
                cwd=workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        try:
            wait_for("the administrator's warning", lambda: len(admin.received) > 0)
            metrics = urllib.request.Request(f"http://{ops}/metrics", headers={"Authorization": "Bearer ops-token"})
            with urllib.request.urlopen(metrics, timeout=5) as answer:  # the engine's own address for them
                assert "planwatch_delivery_paused 1.0" in answer.read().decode()
            with pytest.raises(urllib.error.HTTPError, match="401"):
                urllib.request.urlopen(f"http://{ops}/healthz", timeout=5)
            time.sleep(3)  # some fifty dispatch runs more, while the relay still refuses
            assert node.poll() is None, err_path.read_text()
        finally:
            node.send_signal(signal.SIGTERM)
            node.wait(timeout=20)
        status = json.loads(planwatch(capsys, "--db", url, "status", "--json"))
    assert len(admin.received) == 1, [r.message["Subject"] for r in admin.received]
    warning = admin.received[0].message
    assert warning["To"] == "ops@example.org" and str(warning["Subject"]) == "planwatch: no e-mail can go out"
    body = warning.get_content()
    assert "535" in body and "Nothing has been marked failed" in body and "`" not in body
    assert not relay.received and status["failed"] == 0 and status["pending"] > 0
    assert status["delivery_paused"]["kind"] == "config" and status["delivery_paused"]["reason"].startswith("535")
    outbox = [json.loads(line) for line in planwatch(capsys, "--db", url, "outbox", "--json").splitlines()]
    report = [r for r in outbox if r["type"] == "report"]
    assert report and report[0]["status"] == "pending"  # the report in the outbox stays, for the record
    logged = [json.loads(line)["message"] for line in err_path.read_text().splitlines() if line.startswith("{")]
    assert sum("warned the administrator by smtp" in m for m in logged) == 1
    assert sum(m.startswith("mail delivery paused") for m in logged) == 1


def test_a_locked_sqlite_file_is_down_once_reminded_each_minute_and_up_only_when_a_write_succeeds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    setup = make_engine(url)  # WAL, as the service runs it: a locked file still answers reads
    upgrade(setup)
    setup.dispose()
    engine = create_engine(url, connect_args={"timeout": 0.05})
    clock = FixedClock(datetime(2000, 3, 17, 12, tzinfo=UTC))
    outage = Outage(clock, 1.0)

    def write() -> bool:
        set_state(engine, "probe", clock.now().isoformat(), clock.now())
        return True

    def read() -> bool:
        with engine.connect() as conn:
            conn.execute(select(SERVICE_STATE.c.key)).all()
        return False

    tick, dispatch = outage.guard("tick", write), outage.guard("dispatch", read)
    lock = sqlite3.connect(tmp_path / "planwatch.db")
    lock.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with caplog.at_level(logging.INFO, logger="planwatch.service"):
        for _ in range(13):  # 65 s of a locked file: reads work, every write fails
            tick()
            for _ in range(4):
                dispatch()
            clock.advance(timedelta(seconds=5))
        lines = [r.getMessage() for r in caplog.records]
        assert sum(line.startswith("database error in the tick job") for line in lines) == 1
        assert "database is locked" in lines[0]
        assert sum(line.startswith("database still unreachable") for line in lines) == 1  # one reminder a minute
        assert not any("reachable again" in line for line in lines)  # reads alone prove nothing
        lock.rollback()
        dispatch()
        assert not any("reachable again" in r.getMessage() for r in caplog.records)
        tick()
    back = [r.getMessage() for r in caplog.records if "reachable again" in r.getMessage()]
    assert len(back) == 1 and "after 65.0 s (13 failed runs); the tick job carries on" in back[0]
    lock.close()
    engine.dispose()


def test_a_lone_node_takes_back_the_leases_of_its_crashed_run_at_once_but_not_beside_another_node(
    world: tuple[Any, ...],
) -> None:
    engine, rules, channel, renderer = world
    at = datetime(2000, 3, 17, 20, tzinfo=UTC)
    step = datetime(2000, 3, 16, 12, tzinfo=UTC)
    while step <= at:  # planned hour by hour, as the service plans: each reminder on time in its zone
        plan_due(engine, rules, step)
        step += timedelta(hours=1)
    with engine.connect() as conn:
        leased = claim(conn, list(conn.execute(pending_query(at, 1000)).mappings()), at)  # then kill -9
    assert len(leased) >= 3
    here = socket.gethostname()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    set_state(engine, f"node:{here}:{gone.stdout.strip()}", "", at)  # the crashed run: this host, no such process
    set_state(engine, "node:elsewhere:7", "", at - timedelta(minutes=6))  # not seen for longer than a lease
    set_state(engine, "node:otherhost:42", "", at - timedelta(seconds=20))  # a node that may be running
    restart, me = at + timedelta(seconds=30), f"{here}:{os.getpid()}"

    assert other_nodes(engine, me, restart) == ["otherhost:42"]
    assert take_back_own_leases(engine, me, restart) == 0  # its lease may be in use: it waits
    assert dispatch(engine, channel, renderer, restart).sent == 0

    set_state(engine, "node:otherhost:42", "", at - timedelta(minutes=10))  # that node is long gone
    assert other_nodes(engine, me, restart) == []
    assert take_back_own_leases(engine, me, restart) == len(leased)
    sent = dispatch(engine, channel, renderer, restart)
    assert sent.sent == len(leased)  # at the restart, not five minutes later


def test_a_message_due_seconds_after_the_start_leaves_at_its_instant_not_at_the_next_poll(tmp_path: Path) -> None:
    from engine.clock import SystemClock
    from engine.drive.simulate import start_cursors
    from engine.importing import import_paths
    from engine.outbox import enqueue
    from engine.store.tables import ACTION, OUTBOX

    from .conftest import DATA, T0

    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates")
    import_paths(engine, [DATA / "small-owners.yaml", DATA / "small-plan.yaml"], settings, T0)
    start_cursors(engine, T0)
    at = datetime(2000, 3, 17, 20, tzinfo=UTC)
    plan_due(engine, load_rules(DATA / "rules"), at)
    launch = SystemClock().now()
    due = launch + timedelta(seconds=6)  # a few seconds after the service is up, long before its next poll
    with engine.begin() as conn:
        model = dict(conn.execute(select(OUTBOX).where(OUTBOX.c.recipient_id == "zora")).mappings().first() or {})
        conn.execute(OUTBOX.delete())  # nothing else to send
        conn.execute(ACTION.update().values(next_fire_at=None))  # and nothing to plan
        payload = dict(model["payload"]) | {"date": "2999-12-31"}  # a reminder still true on the real day
        row = {k: v for k, v in model.items() if k not in ("id", "message_id")}
        assert enqueue(conn, [row | {"key": "prompt|1", "due_at": due, "payload": payload}]) == 1
    engine.dispose()
    relay = Recorder()
    with smtp_server(relay) as port:
        env = os.environ | {
            "PLANWATCH_DATABASE_URL": url,
            "PLANWATCH_SMTP_URL": f"smtp://127.0.0.1:{port}?timeout=5",
            "PLANWATCH_RULES_DIR": str(DATA / "rules"),
            "PLANWATCH_TEMPLATES_DIR": str(ROOT / "templates"),
        }
        # A tick a minute: dispatch polls only every 15 s, so only the wake-up can send it on time.
        node = subprocess.Popen(
            [sys.executable, "-m", "engine", "run", "--interval", "60"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            check = create_engine(url)
            wait_for("the node's first tick", lambda: _ticked(check))
            started = SystemClock().now()
            assert started < due - timedelta(seconds=1), "the node took too long to start for this test"
            assert not relay.received  # its first pass, at the start, found nothing due yet
            wait_for("the message", lambda: len(relay.received) > 0, timeout=15)
        finally:
            node.send_signal(signal.SIGTERM)
            _, err = node.communicate(timeout=20)
            check.dispose()
    arrived = relay.received[0].at
    assert arrived is not None and due <= arrived <= due + timedelta(seconds=1), (arrived, due, err.decode())
    assert len(relay.received) == 1


def _ticked(engine: Any) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(select(SERVICE_STATE.c.key).where(SERVICE_STATE.c.key.startswith("node:"))).first() is not None
        )


def test_the_dispatch_thread_waits_for_the_next_instant_and_survives_a_failed_pass(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from engine.drive.service import Waker

    clock = FixedClock(datetime(2000, 3, 17, 9, tzinfo=UTC))
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug in the pass")

    waker = Waker(clock, step, poll=15.0)
    assert waker.wait_seconds() == 15.0  # nothing queued: the slow poll
    waker.next_at = clock.now() + timedelta(seconds=3)
    assert waker.wait_seconds() == pytest.approx(3.0, abs=0.01)  # the next instant comes first
    waker.next_at = clock.now() - timedelta(seconds=1)
    assert waker.wait_seconds() == 0.0
    waker.next_at = None
    with caplog.at_level(logging.ERROR, logger="planwatch.service"):
        waker.start()
        waker.nudge()  # something was queued: look again at once, not in 15 s
        wait_for("a second pass after the failed one", lambda: len(calls) >= 2, timeout=5)
        waker.stop()
    assert any("the dispatch pass failed" in r.getMessage() for r in caplog.records)
