"""SMTP delivery over several connections at once, against a real aiosmtpd server that answers late:
each recipient's messages on one connection and in order, every message once when a connection
drops mid-burst, a configuration fault that stops every connection, one rate limit for them all."""

# ruff: noqa: F811  (``world``, the fixture of test_smtp, is imported to be used as one)
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.channels.smtp import SmtpChannel, SmtpConfig
from engine.clock import FixedClock
from engine.drive.tick import dispatch_step
from engine.outbox import enqueue
from engine.settings import Settings

from ..smtpserver import Recorder, smtp_server
from .test_smtp import REMINDERS_DUE, World, world  # noqa: F401  (the fixture)

PEOPLE = 8
EACH = 5


def pooled(port: int, pool: int = 4, **kwargs: Any) -> SmtpChannel:
    return SmtpChannel(SmtpConfig("127.0.0.1", port, security="none", timeout=5), pool=pool, **kwargs)


def queue_burst(world: World, people: int = PEOPLE, each: int = EACH) -> None:
    """Queue ``each`` messages to each of ``people`` addresses, due one after another, people interleaved."""
    model = {k: v for k, v in world.row("zora").items() if k not in ("id", "message_id")}
    rows = [
        model
        | {
            "key": f"burst|{n}|{p}",
            "recipient": f"person{p}@example.org",
            "recipient_id": None,
            "occurrence": f"2000-03-{n + 1:02d}",  # a message of its own, not a repeat of another
            "due_at": REMINDERS_DUE - timedelta(minutes=60 - n),
        }
        for n in range(each)
        for p in range(people)
    ]
    with world.engine.connect() as conn:
        assert enqueue(conn, rows) == len(rows)
        conn.commit()


def expected_order(world: World) -> dict[str, list[str]]:
    """Return the Message-IDs each address should get, in the order its rows fell due."""
    order: dict[str, list[str]] = {}
    for row in world.rows():  # by due_at, then key
        if row["key"].startswith("burst|"):
            order.setdefault(row["recipient"], []).append(row["message_id"])
    return order


def test_a_burst_goes_over_several_connections_each_recipient_on_one_of_them_in_order(world: World) -> None:
    world.plan(REMINDERS_DUE)
    queue_burst(world)
    recorder = Recorder(latency=0.01)
    with smtp_server(recorder) as port:
        channel = pooled(port)
        stats = world.dispatch(channel, REMINDERS_DUE)
    assert (stats.sent, stats.failed, stats.retried) == (3 + PEOPLE * EACH, 0, 0)
    assert recorder.connections == channel.opened == 4  # the pool, each connection opened once for the pass
    arrived = recorder.by_recipient()
    for address, ids in expected_order(world).items():
        got = arrived[address]
        assert [str(r.message["Message-ID"]) for r in got] == ids, address  # in the order they fell due
        assert len({r.peer for r in got}) == 1, address  # one connection per recipient
    assert len(set(recorder.message_ids())) == len(recorder.received)


def test_the_passes_of_one_dispatch_step_share_their_connections_and_close_them_at_its_end(world: World) -> None:
    world.plan(REMINDERS_DUE)
    queue_burst(world)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        channel = pooled(port)
        stats = dispatch_step(world.engine, channel, world.renderer, FixedClock(REMINDERS_DUE), batch=10)
        assert all(getattr(lane, "_smtp", None) is None for lane in channel.lanes())  # closed when the step ended
    assert stats.sent == 3 + PEOPLE * EACH == len(set(recorder.message_ids()))  # five passes of 10 (the last short)
    assert recorder.connections == channel.opened == 4  # opened once for all the passes, not once a pass


def test_one_connection_dropped_mid_burst_loses_nothing_and_sends_nothing_twice(world: World) -> None:
    world.plan(REMINDERS_DUE)
    queue_burst(world)
    total = 3 + PEOPLE * EACH
    recorder = Recorder(drop_before=7, latency=0.005)  # the 7th message is lost on its way: never kept
    with smtp_server(recorder) as port:
        first = world.dispatch(pooled(port), REMINDERS_DUE)
        marked = {r["message_id"] for r in world.rows() if r["status"] == "sent" and r["message_id"]}
        assert first.retried == 1 and 0 < first.sent < total
        assert marked == set(recorder.message_ids())  # marked sent: exactly what the server kept
        second = world.dispatch(pooled(port), REMINDERS_DUE + timedelta(minutes=5))  # after the retry wait
    assert first.sent + second.sent == total
    ids = recorder.message_ids()
    assert len(ids) == len(set(ids)) == total  # each once, none lost
    assert {r["status"] for r in world.rows() if r["type"] == "reminder"} == {"sent"}
    assert {r["message_id"] for r in world.rows() if r["type"] == "reminder" and r["message_id"]} == set(ids)
    arrived = recorder.by_recipient()
    for address, expected in expected_order(world).items():
        assert [str(r.message["Message-ID"]) for r in arrived[address]] == expected, address


@dataclass
class RefusingLoginAfter(Recorder):
    """Accepts ``accept`` messages, then refuses every one as a server does when our credentials
    were revoked (535): a fault of our configuration, not of any message."""

    accept: int = 6

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_commands >= self.accept:
            self.data_commands += 1
            return "535 5.7.8 Authentication credentials invalid"
        return await super().handle_DATA(server, session, envelope)


def test_a_configuration_fault_on_one_connection_stops_every_connection(world: World) -> None:
    world.plan(REMINDERS_DUE)
    queue_burst(world)
    recorder = RefusingLoginAfter(latency=0.01)
    with smtp_server(recorder) as port:
        stats = world.dispatch(pooled(port), REMINDERS_DUE)
    assert stats.paused.startswith("535") and stats.failed == stats.retried == 0
    assert recorder.data_commands <= recorder.accept + 4  # then at most the one in flight on each connection
    rows = [r for r in world.rows() if r["type"] == "reminder"]
    sent = {r["message_id"] for r in rows if r["status"] == "sent" and r["message_id"]}
    assert sent == set(recorder.message_ids()) and len(sent) == stats.sent == recorder.accept
    assert all((r["status"], r["attempts"]) == ("pending", 0) for r in rows if r["status"] != "sent")


def test_the_rate_limit_holds_for_all_the_connections_together(world: World) -> None:
    world.plan(REMINDERS_DUE)
    queue_burst(world, people=3, each=1)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        started = time.perf_counter()
        stats = world.dispatch(pooled(port, rate_per_minute=600), REMINDERS_DUE)  # one every 0.1 s, in all
        elapsed = time.perf_counter() - started
    assert stats.sent == 6 and recorder.connections > 1
    assert elapsed >= 0.5
    times = [r.at for r in recorder.received if r.at is not None]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert len(times) == 6 and min(gaps) >= 0.08  # spaced, though they went over several connections


def test_the_setting_gives_the_channel_its_connections() -> None:
    from engine.channels import channel_for

    assert Settings.from_environ({}).smtp_connections == 8
    settings = Settings.from_environ({"PLANWATCH_SMTP_URL": "smtp://127.0.0.1:2525", "PLANWATCH_SMTP_CONNECTIONS": "3"})
    channel = channel_for(settings)
    assert isinstance(channel, SmtpChannel) and len(channel.lanes()) == 3
    assert Settings.from_environ({"PLANWATCH_SMTP_CONNECTIONS": "0"}).smtp_connections == 1
