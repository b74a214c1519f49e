"""The dispatcher: due rows sent once with their Message-ID, nothing sent while the queue is paused,
the rules' daily cap, and queued messages superseded after downtime."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from engine.channels import MemoryChannel
from engine.channels.maildir import MaildirChannel
from engine.drive.delivery import pause_queue
from engine.drive.dispatch import CHECK_GROUP, dispatch
from engine.drive.planning import plan_due
from engine.drive.simulate import start_cursors
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.messages import as_bytes, message_id
from engine.mail.render import Renderer
from engine.outbox import LEASE, claim, enqueue, outbox_row
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade

from ..conftest import ROOT
from .conftest import DATA, T0, outbox, tick

REMINDERS = datetime(2000, 3, 17, 12, tzinfo=UTC)  # every 14-day reminder of the small plan is due


def test_due_rows_are_sent_once_each_with_the_message_id_of_their_key(world: tuple[Any, ...]) -> None:
    engine, rules, _, renderer = world
    plan_due(engine, rules, REMINDERS)
    due = [r for r in outbox(engine) if r.status == "pending" and r.due_at <= REMINDERS]
    channel = MemoryChannel()
    stats = dispatch(engine, channel, renderer, REMINDERS)
    assert stats.sent == len(due) > 0
    ids = [BytesHeaderParser().parsebytes(as_bytes(m))["Message-ID"] for m in channel.messages]
    assert sorted(ids) == sorted(message_id(r.key, "example.org") for r in due)
    sent = {r.key: r for r in outbox(engine) if r.status == "sent"}
    assert set(sent) == {r.key for r in due} and all(r.sent_at == REMINDERS for r in sent.values())
    assert dispatch(engine, channel, renderer, REMINDERS + timedelta(minutes=1)).sent == 0
    assert len(channel.messages) == len(due)


def test_nothing_is_sent_while_the_queue_is_paused(world: tuple[Any, ...]) -> None:
    engine, rules, _, renderer = world
    plan_due(engine, rules, REMINDERS)
    with engine.connect() as conn:
        pause = pause_queue(conn, None, "unreachable", "connection refused", REMINDERS)
    channel = MemoryChannel()
    stats = dispatch(engine, channel, renderer, REMINDERS + timedelta(seconds=1))
    assert stats.paused == "connection refused" and stats.sent == 0 and channel.messages == []
    assert not [r for r in outbox(engine) if r.status == "sent"]
    assert dispatch(engine, channel, renderer, pause.until_at).sent > 0  # the pause is over: it tries again


def test_the_rules_daily_cap_defers_the_rest_to_the_next_business_day(database_url: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    text = (DATA / "rules" / "policies.yaml").read_text()
    (rules / "policies.yaml").write_text(
        text.replace("    business_days: true\n", "    business_days: true\n  limits:\n    max_per_day: 1\n", 1)
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text((DATA / "small-plan.yaml").read_text().replace("    owner: boon", "    owner: zora"))
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(
        database_url=database_url, rules_dir=rules, templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    import_paths(engine, [DATA / "small-owners.yaml", plan], settings, T0)
    start_cursors(engine, datetime(2000, 3, 16, tzinfo=UTC))
    world = (engine, load_rules(rules), MaildirChannel(tmp_path / "mail"), Renderer([ROOT / "templates"]))
    first = tick(world, datetime(2000, 3, 17, 9, tzinfo=UTC))  # a Friday: both of Zora's 14-day reminders are due
    assert (first.dispatched.sent, first.dispatched.deferred) == (1, 1)
    deferred = [r for r in outbox(engine) if r.status == "pending"]
    assert len(deferred) == 1 and "daily cap" in deferred[0].reason
    monday = datetime(2000, 3, 20, 9, tzinfo=UTC)  # not Saturday: Zora's next business day, at the same hour
    assert deferred[0].next_attempt_at == monday
    assert tick(world, datetime(2000, 3, 18, 9, tzinfo=UTC)).dispatched.sent == 0
    tick(world, monday)
    to_zora = [r for r in outbox(engine) if r.recipient_id == "zora" and r.sent_at == monday]
    assert [r.key for r in to_zora] == [deferred[0].key]  # the deferred one goes out on Monday, alone
    engine.dispose()


@pytest.mark.parametrize("counting", [False, True], ids=["maildir", "null-channel"])
def test_messages_queued_ahead_that_waited_through_downtime_collapse(world: tuple[Any, ...], counting: bool) -> None:
    from engine.channels import NullChannel

    engine, rules, channel, renderer = world
    channel = NullChannel() if counting else channel  # the counting pass (simulations) screens rows alike
    run_tick(engine, rules, channel, renderer, datetime(2000, 3, 17, 7, tzinfo=UTC), ahead=timedelta(hours=2))
    queued = [r for r in outbox(engine) if r.recipient_id == "zora" and r.status == "pending" and r.type == "reminder"]
    assert [r.step for r in queued] == ["remind:due:14d"]  # Zora's reminder, queued for 08:00; then the node is down
    report = run_tick(engine, rules, channel, renderer, datetime(2000, 3, 30, 12, tzinfo=UTC), ahead=timedelta(hours=2))
    rows = [r for r in outbox(engine) if r.recipient_id == "zora" and r.step.startswith("remind")]
    assert [(r.step, r.status) for r in rows] == [("remind:due:14d", "suppressed"), ("remind:due:2d", "sent")]
    assert "superseded" in rows[0].reason and report.dispatched.suppressed >= 1


COPIED = ("plan_id", "action_id", "occurrence", "step", "type", "level", "recipient_id", "template", "due_at")


class LockingChannel(MemoryChannel):
    """Keeps its messages, and as the ``at``-th arrives another connection takes the outbox's write
    lock: the pass's next mark fails (SQLite: its busy timeout; PostgreSQL: its lock timeout)."""

    def __init__(self, url: str, at: int) -> None:
        super().__init__()
        self.url, self.at = url, at
        self.lock: Any = None

    def deliver(self, message: Any) -> None:
        super().deliver(message)
        if len(self.messages) == self.at:
            if self.url.startswith("sqlite"):
                self.lock = sqlite3.connect(str(make_url(self.url).database), isolation_level=None)
                self.lock.execute("BEGIN IMMEDIATE")
            else:
                self.lock = create_engine(self.url, poolclass=NullPool).connect()
                self.lock.exec_driver_sql("LOCK TABLE outbox IN EXCLUSIVE MODE")

    def unlock(self) -> None:
        self.lock.close()


def keys_of(channel: MemoryChannel) -> list[str]:
    return [str(BytesHeaderParser().parsebytes(as_bytes(m))["X-Planwatch-Key"]) for m in channel.messages]


@pytest.mark.parametrize("back", [timedelta(seconds=1), LEASE + timedelta(seconds=1)], ids=["within", "after"])
def test_a_pass_cut_short_by_the_database_settles_its_own_leases_at_the_next_pass(
    world: tuple[Any, ...], database_url: str, back: timedelta
) -> None:
    engine, rules, _, renderer = world
    plan_due(engine, rules, REMINDERS)
    planned = [r for r in outbox(engine) if r.status == "pending" and r.due_at <= REMINDERS]
    copies = [  # the same messages to more addresses: a pass of more rows than one lease check covers
        outbox_row(
            f"{r.key}|{n}",
            **{c: getattr(r, c) for c in COPIED},
            recipient=f"copy{n}.{r.recipient}",
            now=REMINDERS,
            payload=r.payload,
        )
        for n in range(1, CHECK_GROUP // len(planned) + 2)
        for r in planned
    ]
    with engine.connect() as conn:
        enqueue(conn, copies)
        conn.commit()
    due = [r for r in outbox(engine) if r.status == "pending" and r.due_at <= REMINDERS]
    assert len(due) == (CHECK_GROUP // len(planned) + 2) * len(planned) > CHECK_GROUP, len(due)
    with engine.connect() as conn:  # another node leased the first row a minute before this node's pass
        assert len(claim(conn, [{"id": due[0].id}], REMINDERS - timedelta(minutes=1))) == 1
    if database_url.startswith("sqlite"):
        node = create_engine(database_url, connect_args={"timeout": 0.3})
    else:
        node = make_engine(database_url + "%20-clock_timeout%3D300")
    first = LockingChannel(database_url, at=2)
    # The first group's messages are sent; their marks go with the next group's lease check, which fails.
    with pytest.raises(DBAPIError):
        dispatch(node, first, renderer, REMINDERS)
    first.unlock()
    ours = {r.key: r for r in outbox(engine) if r.next_attempt_at == REMINDERS + LEASE}
    # (one group: CHECK_GROUP rows, less due[0] where the claim read it; others were left unsent)
    assert CHECK_GROUP - 1 <= len(keys_of(first)) < len(ours) and set(keys_of(first)) <= set(ours)
    assert len(ours) == len(due) - 1 and due[0].key not in ours
    taken = None
    if back > LEASE:  # the lease ran out before the database answered again: another node took a row
        taken = next(r for r in ours.values() if r.key not in keys_of(first))
        with engine.connect() as conn:
            claim(conn, [{"id": taken.id}], REMINDERS + LEASE)
    second = MemoryChannel()
    dispatch(node, second, renderer, REMINDERS + back)
    rows = {r.key: r for r in outbox(engine)}
    # The messages the server accepted are marked sent as of their pass, not sent again; the rest go at once.
    for key in keys_of(first):
        assert rows[key].status == "sent" and rows[key].sent_at == REMINDERS
        assert key not in keys_of(second)
    theirs = rows[due[0].key]  # another node's lease from before the pass: held when this node is back within it
    if back < LEASE:
        assert theirs.status == "pending" and theirs.next_attempt_at == REMINDERS - timedelta(minutes=1) + LEASE
    left = {due[0].key} if back < LEASE else set()
    if taken is not None:  # the row another node took after the lease ran out stays its own
        assert rows[taken.key].status == "pending" and rows[taken.key].next_attempt_at == REMINDERS + 2 * LEASE
        left.add(taken.key)
    assert sorted(keys_of(first) + keys_of(second)) == sorted(r.key for r in due if r.key not in left)
    node.dispose()
