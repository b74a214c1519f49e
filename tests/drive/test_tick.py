"""The tick against a real database: local hours, catch-up, escalation log, extensions, check-ins, planning ahead."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from engine.actions.workflow import acknowledge, extend
from engine.channels.maildir import MaildirChannel
from engine.drive.simulate import start_cursors
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.render import Renderer
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.copy import copy_to_sqlite
from engine.store.tables import OUTBOX

from ..conftest import ROOT
from .conftest import DATA, T0, outbox, tick


def test_reminders_arrive_at_nine_local_for_each_owner(world) -> None:  # type: ignore[no-untyped-def]
    for hour in (2, 8, 14, 23):  # each owner's nine o'clock comes at a tick
        tick(world, datetime(2000, 3, 17, hour, 0, tzinfo=UTC))
    rows = {r.recipient_id: r for r in outbox(world[0]) if r.step == "remind:due:14d"}
    assert str(rows["zora"].due_at) == "2000-03-17 08:00:00+00:00"  # 09:00 CET
    assert str(rows["boon"].due_at) == "2000-03-17 02:00:00+00:00"  # 09:00 in Bangkok
    assert str(rows["luz"].due_at) == "2000-03-17 14:00:00+00:00"  # 09:00 in Lima
    assert all(r.status == "sent" for r in rows.values())
    assert world[2].count() == sum(r.status == "sent" for r in outbox(world[0]))


def test_ticking_twice_at_the_same_time_adds_nothing(world) -> None:  # type: ignore[no-untyped-def]
    at = datetime(2000, 3, 20, 12, tzinfo=UTC)
    first = tick(world, at)
    before = [(r.key, r.status) for r in outbox(world[0])]
    second = tick(world, at)
    assert first.planned.pending > 0
    assert second.planned.pending == 0 and second.dispatched.sent == 0
    assert [(r.key, r.status) for r in outbox(world[0])] == before


def test_catch_up_after_a_ten_day_gap_sends_once_and_floods_nothing(world) -> None:  # type: ignore[no-untyped-def]
    tick(world, datetime(2000, 3, 10, tzinfo=UTC))
    report = tick(world, datetime(2000, 3, 30, 12, tzinfo=UTC))  # the 14d and 2d reminders both fell in the gap
    rows = [r for r in outbox(world[0]) if r.recipient_id == "zora" and r.step.startswith("remind")]
    assert [(r.step, r.status) for r in rows] == [("remind:due:14d", "suppressed"), ("remind:due:2d", "sent")]
    at = datetime(2000, 3, 30, 12, tzinfo=UTC)
    assert report.dispatched.sent == len([r for r in outbox(world[0]) if r.sent_at == at])


def test_escalation_log_scoping_and_acknowledgement(world, cli) -> None:  # type: ignore[no-untyped-def]
    engine = world[0]
    tick(world, datetime(2000, 3, 20, 12, tzinfo=UTC))  # the owners are reminded of their dates first
    tick(world, datetime(2000, 4, 20, 12, tzinfo=UTC))  # three weeks after the due date
    url = cli.url
    rows = [json.loads(line) for line in cli("escalations", "--json", db=url).out.splitlines()]
    # levels are rungs of the supervisor chain: the owner's overdue notices 0, the supervisor's step 1
    assert {(r["action"], r["level"]) for r in rows} >= {("I.1.1", 0), ("I.1.1", 1), ("I.1.2", 1), ("I.1.3", 1)}
    mid = {
        r["action"]
        for r in map(json.loads, cli("escalations", "--json", "--supervisor", "mid", db=url).out.splitlines())
    }
    assert mid == {"I.1.1", "I.1.2", "I.1.4"}  # Zora and Boon report to mid; Luz does not
    boss = {
        r["action"]
        for r in map(json.loads, cli("escalations", "--json", "--supervisor", "boss", db=url).out.splitlines())
    }
    assert boss == {"I.1.1", "I.1.2", "I.1.3", "I.1.4"}
    level2 = next(r for r in rows if r["action"] == "I.1.1" and r["level"] == 1)
    with transaction(engine) as session:
        acknowledge(session, level2["id"], datetime(2000, 4, 20, 13, tzinfo=UTC), who="mid", note="on it")
    tick(world, datetime(2000, 5, 10, tzinfo=UTC))
    repeats = [r for r in outbox(engine) if r.key.startswith("small/I.1.1|2000-03-31|escalate:2#")]
    assert all(r.due_at < datetime(2000, 4, 20, 13, tzinfo=UTC) for r in repeats)
    csv_out = cli("escalations", "--csv", "--open", db=url).out.splitlines()
    assert csv_out[0].startswith("id,at,action") and not any(
        line.startswith(f"{level2['id']},") for line in csv_out[1:]
    )


def test_the_escalation_csv_defuses_a_title_a_spreadsheet_would_run(world, cli) -> None:  # type: ignore[no-untyped-def]
    import csv

    from engine.read.queries import find_action

    engine = world[0]
    tick(world, datetime(2000, 4, 20, 12, tzinfo=UTC))
    with transaction(engine) as session:
        action = find_action(session, "I.1.1")
        action.title = '=HYPERLINK("http://evil")'
        session.add(action)
    rows = list(csv.DictReader(cli("escalations", "--csv", db=cli.url).out.splitlines()))
    titles = {r["title"] for r in rows if r["action"] == "I.1.1"}
    assert titles == {'\'=HYPERLINK("http://evil")'}


def test_an_extension_replans_and_is_logged(world, cli) -> None:  # type: ignore[no-untyped-def]
    engine = world[0]
    tick(world, datetime(2000, 3, 1, tzinfo=UTC))
    with transaction(engine) as session:
        from engine.read.queries import find_action

        extend(
            session,
            find_action(session, "I.1.1"),
            date(2000, 6, 30),
            datetime(2000, 3, 2, tzinfo=UTC),
            who="mid",
            via="cli",
            reason="budget",
        )
    tick(world, datetime(2000, 6, 20, 12, tzinfo=UTC))
    zora = [r for r in outbox(engine) if r.recipient_id == "zora" and r.key.startswith("small/I.1.1")]
    assert not [r for r in zora if r.occurrence == "2000-03-31" and r.status in {"sent", "pending"}]
    assert [r.step for r in zora if r.occurrence == "2000-06-30"] == [
        "extension",
        "remind:due:14d",
    ]  # the owner is told
    assert next(r for r in zora if r.step == "extension").status == "sent"
    sheet = cli("show", "I.1.1", db=cli.url).out
    assert "extended" in sheet and "2000-06-30" in sheet and "budget" in sheet


def test_continuous_work_check_in_and_silence(world) -> None:  # type: ignore[no-untyped-def]
    tick(world, datetime(2000, 2, 20, tzinfo=UTC))
    rows = [
        (r.type, r.recipient_id, r.due_at.date().isoformat())
        for r in outbox(world[0])
        if r.key.startswith("small/I.1.4")
    ]
    # the check-in of 3 February, found late at this tick (Sunday 20 February), is caught up at the next delivery
    # hour of a business day (Monday 21 February): silence counts from then, so the escalation to mid waits its
    # 7 days after it (to Monday 28 February) rather than going out with it
    assert rows[:1] == [("checkin", "zora", "2000-02-21")]
    assert [r for r in rows if r[0] == "escalation"] == []
    tick(world, datetime(2000, 3, 10, tzinfo=UTC))
    later = [
        (r.type, r.recipient_id, r.payload.get("planned", r.due_at.isoformat())[:10])  # found late: a catch-up
        for r in outbox(world[0])
        if r.key.startswith("small/I.1.4") and r.type == "escalation"
    ]
    assert later[:1] == [("escalation", "mid", "2000-02-28")]


def _life(world, tmp_path: Path, ahead: timedelta, changes: dict[datetime, object]) -> int:  # type: ignore[no-untyped-def]
    """Tick hourly from T0 to mid-May planning ``ahead``, applying ``changes`` at their instants; return how
    many ticks left messages queued ahead of their instant."""
    engine, rules, _, renderer = world
    channel = MaildirChannel(tmp_path / f"mail-{ahead.total_seconds():g}")
    now, queued_ahead = T0, 0
    while now <= datetime(2000, 5, 15, tzinfo=UTC):
        for at, change in changes.items():
            if now - timedelta(hours=1) < at <= now:
                with transaction(engine) as session:
                    change(session, at)  # type: ignore[operator]
        run_tick(engine, rules, channel, renderer, now, ahead=ahead)
        queued_ahead += _pending_after(engine, now)
        now += timedelta(hours=1)
    return queued_ahead


def _pending_after(engine, now: datetime) -> bool:  # type: ignore[no-untyped-def]
    """Whether a pending message waits for an instant after ``now`` (one query, not the whole outbox each hour)."""
    pending = select(OUTBOX.c.id).where(OUTBOX.c.status == "pending", OUTBOX.c.due_at > now).limit(1)
    with engine.connect() as conn:
        return conn.execute(pending).first() is not None


def _changes() -> dict[datetime, object]:
    from engine.actions.workflow import set_status
    from engine.read.queries import find_action

    def done(session, at):  # type: ignore[no-untyped-def]  # Zora finishes I.1.1 half an hour before its 14-day reminder
        set_status(session, find_action(session, "I.1.1"), "done", at, who="zora", via="cli")

    def extended(session, at):  # type: ignore[no-untyped-def]  # Luz's deadline moves while a reminder is queued
        extend(session, find_action(session, "I.1.3"), date(2000, 4, 28), at, who="boss", via="cli", reason="late data")

    def acknowledged(session, at):  # type: ignore[no-untyped-def]  # Boon's supervisor acknowledges the first escalation
        from engine.store.models import Escalation

        entry = session.exec(select(Escalation).where(Escalation.key.startswith("small/I.1.2|"))).scalars().first()
        acknowledge(session, entry.id, at, who="mid", note="on it")

    return {
        datetime(2000, 3, 17, 7, 30, tzinfo=UTC): done,
        datetime(2000, 3, 29, 13, 30, tzinfo=UTC): extended,
        datetime(2000, 4, 14, 1, 30, tzinfo=UTC): acknowledged,
    }


def test_planning_ahead_sends_exactly_what_planning_at_each_tick_sends(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from engine.store.models import Escalation

    engine, rules, channel, renderer = world
    other = copy_to_sqlite(engine, tmp_path / "ahead.db")
    start_cursors(other, T0)
    plain = _life(world, tmp_path, timedelta(0), _changes())
    ahead = _life((other, rules, channel, renderer), tmp_path, timedelta(hours=2), _changes())
    assert plain == 0 and ahead > 20  # the second world really queued messages before their instant

    def rows(e):  # type: ignore[no-untyped-def]
        return sorted((r.key, r.status, r.due_at, r.sent_at, r.reason) for r in outbox(e))

    def log(e):  # type: ignore[no-untyped-def]
        with transaction(e) as session:
            return sorted(
                (x.key, x.at, x.acknowledged_at, x.resolved_at) for x in session.exec(select(Escalation)).scalars()
            )

    assert rows(engine) == rows(other)
    assert log(engine) == log(other)
    assert not [
        r for r in rows(engine) if r[0].startswith("small/I.1.1|") and r[2] > datetime(2000, 3, 17, 7, 30, tzinfo=UTC)
    ]
    assert any(r[0].startswith("small/I.1.3|2000-04-28|") and r[1] == "sent" for r in rows(engine))
    other.dispose()


LATE_OWNERS = """\
owners:
  - {id: boss, name: Big Boss, email: boss@example.org, timezone: Europe/Zurich}
  - {id: luz, name: Luz L, email: luz@example.org, timezone: America/Lima, supervisor: boss, digest: daily}
"""
LATE_PLAN = """\
plan: {id: late, title: A plan imported late, symbol: L/1, date: 2000-01-03, timezone: Europe/Zurich}
sections:
  - {key: I, number: I, title: Part one}
actions:
  - {id: I.1, section: I, title: Missed report, timeframe: "By 20 February 2000", owner: luz}
"""


def test_a_notice_held_by_a_ticks_planning_goes_in_the_digest_due_at_that_tick(
    database_url: str, tmp_path: Path
) -> None:
    """The catch-up a tick plans for a daily-digest owner is held, due at once: the digest due at that tick takes it,
    so running the tick again (a node cut short and restarted) finds nothing left to bundle and changes nothing."""
    for name, text in (("owners.yaml", LATE_OWNERS), ("plan.yaml", LATE_PLAN)):
        (tmp_path / name).write_text(text)
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(database_url=database_url, rules_dir=DATA / "rules", templates_dir=ROOT / "templates")
    at = datetime(2000, 3, 1, 15, tzinfo=UTC)  # 10:00 in Lima: luz's digest is due
    import_paths(engine, [tmp_path / "owners.yaml", tmp_path / "plan.yaml"], settings, at)
    start_cursors(engine, at)
    world = (engine, load_rules(DATA / "rules"), MaildirChannel(tmp_path / "mail"), Renderer([ROOT / "templates"]))
    try:
        tick(world, at)
        rows = [(r.key, r.status, r.reason) for r in outbox(engine)]
        assert ("late/I.1|2000-02-20|catch-up|luz", "digested", "sent in digest|luz|2000-03-01") in rows
        assert ("digest|luz|2000-03-01", "sent", "") in rows
        tick(world, at)
        assert [(r.key, r.status, r.reason) for r in outbox(engine)] == rows
    finally:
        engine.dispose()
