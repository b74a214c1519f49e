"""The dispatcher: due rows sent once with their Message-ID, nothing sent while the queue is paused,
the rules' daily cap, and queued messages superseded after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest

from engine.channels import MemoryChannel
from engine.channels.maildir import MaildirChannel
from engine.drive.delivery import pause_queue
from engine.drive.dispatch import dispatch
from engine.drive.planning import plan_due
from engine.drive.simulate import start_cursors
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.messages import as_bytes, message_id
from engine.mail.render import Renderer
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


def test_the_rules_daily_cap_defers_the_rest_to_the_next_day(database_url: str, tmp_path: Path) -> None:
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
    first = tick(world, datetime(2000, 3, 17, 9, tzinfo=UTC))  # both of Zora's 14-day reminders are due
    assert (first.dispatched.sent, first.dispatched.deferred) == (1, 1)
    deferred = [r for r in outbox(engine) if r.status == "pending"]
    assert len(deferred) == 1 and "daily cap" in deferred[0].reason
    assert deferred[0].next_attempt_at == datetime(2000, 3, 18, 9, tzinfo=UTC)
    tick(world, datetime(2000, 3, 18, 9, tzinfo=UTC))
    to_zora = [
        r for r in outbox(engine) if r.recipient_id == "zora" and r.sent_at == datetime(2000, 3, 18, 9, tzinfo=UTC)
    ]
    assert [r.key for r in to_zora] == [deferred[0].key]  # the deferred one goes out the next day, alone
    engine.dispose()


@pytest.mark.parametrize("counting", [False, True], ids=["maildir", "null-channel"])
def test_messages_queued_ahead_that_waited_through_downtime_collapse(world: tuple[Any, ...], counting: bool) -> None:
    from engine.channels import NullChannel

    engine, rules, channel, renderer = world
    channel = NullChannel() if counting else channel  # the counting pass (simulations) screens rows alike
    run_tick(engine, rules, channel, renderer, datetime(2000, 3, 17, 7, tzinfo=UTC), ahead=timedelta(hours=2))
    queued = [r for r in outbox(engine) if r.recipient_id == "zora" and r.status == "pending"]
    assert [r.step for r in queued] == ["remind:due:14d"]  # Zora's reminder, queued for 08:00; then the node is down
    report = run_tick(engine, rules, channel, renderer, datetime(2000, 3, 30, 12, tzinfo=UTC), ahead=timedelta(hours=2))
    rows = [r for r in outbox(engine) if r.recipient_id == "zora" and r.step.startswith("remind")]
    assert [(r.step, r.status) for r in rows] == [("remind:due:14d", "suppressed"), ("remind:due:2d", "sent")]
    assert "superseded" in rows[0].reason and report.dispatched.suppressed >= 1
