"""The simulator: the very tick, driven by a simulated clock that jumps to the next instant with work;
replayed events applied at noon in the plan's zone; the messages sent as the simulate contract's objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from engine.channels import MemoryChannel, NullChannel
from engine.channels.maildir import MaildirChannel
from engine.drive.replay import ReplayEvent, load_replay
from engine.drive.simulate import next_wake, simulate, start_cursors
from engine.drive.tick import run_tick
from engine.importing import import_paths
from engine.mail.render import Renderer
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade
from engine.store.copy import copy_to_sqlite
from engine.store.models import Action, Outbox
from engine.zones import zone

from ..conftest import ROOT
from .conftest import DATA, T0, outbox


def test_simulator_equals_repeated_ticks(world: tuple[Any, ...], tmp_path: Path) -> None:
    engine, rules, channel, renderer = world
    other = copy_to_sqlite(engine, tmp_path / "copy.db")  # the same data, for the hourly ticks
    until = datetime(2000, 5, 15, tzinfo=UTC)
    simulate(engine, rules, channel, renderer, T0, until)
    start_cursors(other, T0)
    now = T0
    while now <= until:
        run_tick(other, rules, MaildirChannel(tmp_path / "mail2"), renderer, now)
        now += timedelta(hours=1)

    def rows(e: Engine) -> list[tuple[Any, ...]]:
        return sorted((r.key, r.status, r.due_at, r.sent_at, r.reason) for r in outbox(e))

    assert rows(engine) == rows(other)
    assert len(rows(engine)) > 20
    other.dispose()


def test_the_simulator_jumps_from_one_instant_with_work_to_the_next(world: tuple[Any, ...]) -> None:
    engine, rules, _, renderer = world
    channel = MemoryChannel()
    until = datetime(2000, 5, 15, tzinfo=UTC)
    result = simulate(engine, rules, channel, renderer, T0, until)
    hours = int((until - T0) / timedelta(hours=1))
    assert 0 < result.ticks < hours / 10  # far fewer ticks than an hourly metronome's
    assert len(result.notifications) == len(channel.messages) > 20
    assert result.replayed == 0


def test_the_notifications_are_the_contracts_objects_in_the_order_they_were_sent(world: tuple[Any, ...]) -> None:
    engine, rules, channel, renderer = world
    result = simulate(engine, rules, channel, renderer, T0, datetime(2000, 3, 20, tzinfo=UTC))
    first = result.notifications[0]
    assert set(first) == {
        "at",
        "sent_at",
        "action",
        "plan",
        "recipient",
        "recipient_id",
        "type",
        "level",
        "step",
        "occurrence",
        "key",
    }
    assert all(n["at"].endswith("Z") and n["sent_at"].endswith("Z") for n in result.notifications)
    assert [n["sent_at"] for n in result.notifications] == sorted(n["sent_at"] for n in result.notifications)
    reminders = {(n["action"], n["recipient_id"]) for n in result.notifications if n["step"] == "remind:due:14d"}
    assert reminders == {("I.1.1", "zora"), ("I.1.2", "boon"), ("I.1.3", "luz")}


def test_replayed_events_happen_at_noon_in_the_plans_zone_and_change_what_is_sent(world: tuple[Any, ...]) -> None:
    engine, rules, channel, renderer = world
    events = [
        ReplayEvent(at=date(2000, 3, 1), action="I.1.1", event="done", by="zora"),
        ReplayEvent(at=date(2000, 3, 1), action="I.1.3", event="extend", by="boss", to=date(2000, 6, 30)),
    ]
    result = simulate(engine, rules, channel, renderer, T0, datetime(2000, 4, 20, tzinfo=UTC), events)
    assert result.replayed == 2
    about = {n["action"] for n in result.notifications if n["sent_at"] > "2000-03-01T11:00:00Z"}
    assert "I.1.1" not in about  # done on 1 March: nothing more about it
    assert "I.1.2" in about  # Boon's, untouched, goes on to its escalations
    luz = [n for n in result.notifications if n["action"] == "I.1.3"]
    assert [n["step"] for n in luz if n["sent_at"] >= "2000-03-01T11:00:00Z"] == ["extension"]
    assert not [n for n in luz if n["type"] in {"overdue", "escalation"}]  # the deadline moved to June


def test_next_wake_is_the_earliest_instant_a_tick_can_do_anything(world: tuple[Any, ...]) -> None:
    engine, rules, channel, renderer = world
    assert next_wake(engine, T0 - timedelta(hours=1)) == T0  # every action is due for planning at T0
    run_tick(engine, rules, channel, renderer, T0)
    wake = next_wake(engine, T0)
    pending = [r.due_at for r in outbox(engine) if r.status == "pending"]
    assert wake is not None and wake > T0
    assert not pending or wake <= min(pending)
    assert run_tick(engine, rules, channel, renderer, wake - (wake - T0) / 2).idle  # nothing to do halfway to it
    assert not run_tick(engine, rules, channel, renderer, wake).idle  # and work at that instant


def example_life(tmp_path: Path, replay: Sequence[ReplayEvent]) -> list[dict[str, Any]]:
    """Play the example plan with the default rules from its date to the end of 2001; return every outbox row
    with its action's ref."""
    url = f"sqlite:///{tmp_path / 'example.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(
        database_url=url, rules_dir=ROOT / "rules", templates_dir=ROOT / "templates", maildir=tmp_path / "mail"
    )
    start = datetime(1999, 9, 28, tzinfo=UTC)
    plan = ROOT / "plans" / "gb276-tc2-implementation-plan.txt"
    import_paths(engine, [ROOT / "plans" / "owners.yaml", plan], settings, start)
    rules, renderer = load_rules(ROOT / "rules"), Renderer([ROOT / "templates"])
    simulate(engine, rules, MemoryChannel(), renderer, start, datetime(2001, 12, 31, tzinfo=UTC), replay)
    out, act = Outbox.__table__, Action.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(out, act.c.ref).join(act, act.c.id == out.c.action_id)).mappings()]
    engine.dispose()
    return rows


def test_the_example_plans_check_ins_go_out_when_planned_on_business_days(tmp_path: Path) -> None:
    """The example plan's life with the sample progress file: every check-in leaves at the instant the planner
    gave it (a weekday morning in the owner's zone), never when a later progress report happens to replan it;
    one the owner answered early is recorded as skipped, with the reason."""
    rows = example_life(tmp_path, load_replay(ROOT / "plans" / "progress.yaml"))
    sent = [r for r in rows if r["type"] == "checkin" and r["status"] == "sent"]
    assert len(sent) > 50
    late = [(r["ref"], r["due_at"], r["sent_at"]) for r in sent if r["sent_at"] - r["due_at"] > timedelta(hours=1)]
    assert late == []
    local = [(r["ref"], r["sent_at"].replace(tzinfo=UTC).astimezone(zone(r["payload"]["role_tz"]))) for r in sent]
    assert [(ref, at) for ref, at in local if at.weekday() >= 5 or at.hour != 9] == []
    skipped = [r for r in rows if r["type"] == "checkin" and r["status"] == "suppressed"]
    assert skipped and all(r["reason"].startswith("answered early: progress reported on ") for r in skipped)


def test_a_hold_is_silence_and_reopening_replays_nothing(tmp_path: Path) -> None:
    """On hold from 1 November 2000 to 2 February 2001 (93 days): nothing about the actions is sent in between,
    and what fell due during the hold (check-ins, the window's due date and its ladder) is never sent later."""
    held = ["I.2c.3", "II.1.2", "III.1.1"]
    hold_day, reopen_day = date(2000, 11, 1), date(2001, 2, 2)
    events = [ReplayEvent(at=hold_day, action=a, event="hold", note="waiting for funds") for a in held]
    events += [ReplayEvent(at=reopen_day, action=a, event="reopen") for a in held]
    rows = [r for r in example_life(tmp_path, events) if r["ref"] in held and r["status"] in {"sent", "digested"}]
    hold_at, reopen_at = datetime(2000, 11, 1, 11, tzinfo=UTC), datetime(2001, 2, 2, 11, tzinfo=UTC)
    assert [r for r in rows if r["due_at"] < hold_at] != []  # they were talked about before the hold
    during = [(r["ref"], r["step"], r["due_at"]) for r in rows if hold_at <= (r["sent_at"] or r["due_at"]) < reopen_at]
    assert during == []
    replayed = [(r["ref"], r["step"], r["due_at"]) for r in rows if hold_at <= r["due_at"] < reopen_at]
    assert replayed == []
    at_reopen = [(r["ref"], r["step"]) for r in rows if r["due_at"] == reopen_at]
    assert len(at_reopen) <= len(held) and len({ref for ref, _ in at_reopen}) == len(at_reopen)


def test_a_message_whose_template_does_not_render_is_not_counted_as_sent(
    world: tuple[Any, ...], tmp_path: Path
) -> None:
    engine, _, _, renderer = world
    rules = tmp_path / "rules"
    rules.mkdir()
    text = (DATA / "rules" / "policies.yaml").read_text(encoding="utf-8")
    (rules / "policies.yaml").write_text(text.replace("template: overdue", "template: overdu", 1), encoding="utf-8")
    start, until = datetime(2000, 3, 1, tzinfo=UTC), datetime(2000, 5, 1, tzinfo=UTC)
    result = simulate(engine, load_rules(rules), NullChannel(), renderer, start, until)
    assert result.unrenderable and all(m["template"] == "overdu" for m in result.unrenderable)
    assert all(m["status"] == "failed" for m in result.unrenderable)
    assert result.unrenderable[0]["error"].startswith("cannot build the message: ")
    assert result.unrenderable[0]["error"].endswith("template not found: email/overdu.txt.j2")
    assert not [n for n in result.notifications if n["type"] == "overdue"]  # none of them is listed as sent
    assert [n for n in result.notifications if n["type"] == "reminder"]  # the others still go out


def test_a_digest_goes_out_at_its_hour_when_its_notice_appears_then(database_url: str, tmp_path: Path) -> None:
    from ..mail.test_digest import OWNERS, PLAN, RULES, START

    for name, text in (("owners.yaml", OWNERS), ("plan.yaml", PLAN), ("rules/policies.yaml", RULES)):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(database_url=database_url, rules_dir=tmp_path / "rules", templates_dir=ROOT / "templates")
    import_paths(engine, [tmp_path / "owners.yaml", tmp_path / "plan.yaml"], settings, START)
    rules = load_rules(tmp_path / "rules")
    simulate(engine, rules, NullChannel(), Renderer([ROOT / "templates"]), START, datetime(2000, 5, 1, tzinfo=UTC))
    boon = [r for r in outbox(engine) if r.type == "digest" and r.recipient == "boon@example.org"]
    engine.dispose()
    assert boon
    local = {aware(r.due_at).astimezone(zone("Asia/Bangkok")) for r in boon}
    assert {(t.hour, t.minute) for t in local} == {(9, 0)}  # never at the next tick (15:00, 09:00 in Zurich)
    assert all(t.weekday() < 5 for t in local)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
