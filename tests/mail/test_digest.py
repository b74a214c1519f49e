"""Digests: held notices bundled at the recipient's local hour, one a day, on one node at a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from engine.channels import MemoryChannel
from engine.drive.dispatch import dispatch
from engine.drive.planning import plan_due
from engine.drive.simulate import start_cursors
from engine.importing import import_paths
from engine.mail.digest import build_digests, digest_due, how_late, next_digest_time
from engine.mail.render import Renderer
from engine.rules.durations import BusinessCalendar
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade
from engine.store.models import Outbox
from engine.zones import zone

from ..conftest import ROOT

OUT = Outbox.__table__  # type: ignore[attr-defined]
START = datetime(2000, 2, 20, 12, tzinfo=UTC)
LIMA = zone("America/Lima")

OWNERS = """\
owners:
  - {id: boss, name: Big Boss, email: boss@example.org, timezone: Europe/Zurich}
  - {id: mid, name: Middle Manager, email: mid@example.org, timezone: Europe/Zurich, supervisor: boss, digest: daily}
  - {id: boon, name: Boon B, email: boon@example.org, timezone: Asia/Bangkok, supervisor: mid, digest: daily}
"""
PLAN = """\
plan: {id: dig, title: A plan for digests, symbol: D/1, date: 2000-01-03, timezone: Europe/Zurich}
sections:
  - {key: I, number: I, title: Part one}
  - {key: I.1, parent: I, number: "1", title: Early work}
  - {key: II, number: II, title: Part two}
  - {key: II.1, parent: II, number: "1", title: Later work}
actions:
  - {id: II.1.1, section: II.1, title: Late report, timeframe: By March 2000, owner: boon}
  - {id: I.1.1, section: I.1, title: Survey of offices, timeframe: By April 2000, owner: boon}
  - {id: I.1.2, section: I.1, title: Draft guidelines, timeframe: "By 20 April 2000", owner: boon}
"""
RULES = """\
defaults:
  delivery: {hour: "09:00", business_days: true}
policies:
  - name: deadlines
    match: {kind: [deadline]}
    remind: [{before: 30d}, {before: 7d}]
    escalate:
      - {after: 1d, to: [owner], template: overdue, repeat: 1d, until: 7d}
      - {after: 7d, to: [supervisor], repeat: 1w}
"""


@pytest.fixture
def digest_world(database_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Any]]:
    yield from world(database_url, tmp_path, OWNERS, RULES)


def world(database_url: str, tmp_path: Path, owners: str, rules_text: str) -> Iterator[tuple[Engine, Any]]:
    """The plan of three actions, planned a tick a day to 11 April 2000 with no digest built yet."""
    for name, text in (("owners.yaml", owners), ("plan.yaml", PLAN), ("rules/policies.yaml", rules_text)):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(database_url=database_url, rules_dir=tmp_path / "rules", templates_dir=ROOT / "templates")
    import_paths(engine, [tmp_path / "owners.yaml", tmp_path / "plan.yaml"], settings, START)
    start_cursors(engine, START)
    rules = load_rules(tmp_path / "rules")
    day = START
    while day <= datetime(2000, 4, 11, 1, 0, tzinfo=UTC):  # a tick a day, no digest built yet
        plan_due(engine, rules, day)
        day += timedelta(days=1)
    yield engine, rules
    engine.dispose()


def digests(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(OUT).where(OUT.c.type == "digest").order_by(OUT.c.due_at)).mappings())


def test_a_digest_goes_out_at_nine_in_the_recipients_zone_grouped_overdue_first(
    digest_world: tuple[Engine, Any],
) -> None:
    engine, rules = digest_world
    plan_due(engine, rules, datetime(2000, 4, 11, 2, 0, tzinfo=UTC))
    assert build_digests(engine, datetime(2000, 4, 11, 1, 59, tzinfo=UTC)) == 0  # 08:59 in Bangkok
    assert build_digests(engine, datetime(2000, 4, 11, 2, 0, tzinfo=UTC)) == 1  # 09:00 in Bangkok; 04:00 in Zurich
    assert build_digests(engine, datetime(2000, 4, 11, 2, 30, tzinfo=UTC)) == 0  # one a day
    [boon] = digests(engine)
    assert (boon["recipient_id"], boon["due_at"]) == ("boon", datetime(2000, 4, 11, 2, 0, tzinfo=UTC))
    channel = MemoryChannel()
    dispatch(engine, channel, Renderer([ROOT / "templates"]), datetime(2000, 4, 11, 2, 0, tzinfo=UTC))
    [message] = channel.messages
    text = message.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index, union-attr]
    lines = [line for line in text.splitlines() if line and not line.startswith("  Mark done:")]
    assert lines[:1] == ["3 items for you on 11 April 2000."]
    body = lines[lines.index("Overdue") : lines.index("Overdue") + 5]
    assert body == [
        "Overdue",
        "- [II.1.1] 11 days overdue (due 31 March 2000): Late report",
        "Part I: Part one",
        "- [I.1.2] Due in 9 days (20 April 2000): Draft guidelines",
        "- [I.1.1] Due in 19 days (30 April 2000): Survey of offices",
    ]
    with engine.connect() as conn:
        statuses = {
            s for (s,) in conn.execute(select(OUT.c.status).where(OUT.c.recipient_id == "boon", OUT.c.type != "digest"))
        }
    assert statuses == {"digested"}


def test_escalations_to_a_supervisor_are_batched_in_their_daily_digest(digest_world: tuple[Engine, Any]) -> None:
    engine, rules = digest_world
    plan_due(engine, rules, datetime(2000, 4, 11, 8, 0, tzinfo=UTC))
    assert build_digests(engine, datetime(2000, 4, 11, 6, 59, tzinfo=UTC)) == 1  # only Boon's: 08:59 in Zurich (CEST)
    assert build_digests(engine, datetime(2000, 4, 11, 7, 0, tzinfo=UTC)) == 1  # the manager's, at 09:00 in Zurich
    mid = next(d for d in digests(engine) if d["recipient_id"] == "mid")
    assert [(i["ref"], i["type"], i["overdue"]) for i in mid["payload"]["items"]] == [("II.1.1", "escalation", True)]


def test_a_supervisors_digest_names_each_escalated_action_once_with_its_owner_and_how_late(
    digest_world: tuple[Engine, Any],
) -> None:
    """Three weekly escalations about one action make one line: whose it is, how late, acknowledge, open."""
    engine, rules = digest_world
    at = datetime(2000, 4, 21, 7, 0, tzinfo=UTC)  # 09:00 in Zurich
    for day in range(12, 22):  # the escalation of 7 April and its repeats of 14 and 21
        plan_due(engine, rules, at.replace(day=day))
    assert build_digests(engine, at) == 2  # Boon's own, and the manager's
    mid = next(d for d in digests(engine) if d["recipient_id"] == "mid")
    [item] = mid["payload"]["items"]
    assert (item["ref"], item["owner"], item["notices"], item["days_late"]) == ("II.1.1", "Boon B", 3, 21)
    assert item["late"] == ["21 days overdue (due 31 March 2000)"] and item["role"] == "supervisor"
    channel = MemoryChannel()
    dispatch(engine, channel, Renderer([ROOT / "templates"]), at)
    message = next(m for m in channel.messages if "mid@example.org" in m["To"])
    assert message["Subject"] == "planwatch daily digest for Middle Manager: 1 action escalated to you"
    text = message.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index, union-attr]
    lines = text.splitlines()
    start = lines.index("Escalated to you: 1 action of other people, the longest overdue first")
    assert lines[start + 1 : start + 4] == [
        "- [II.1.1] Late report",
        "  Boon B's action: 21 days overdue (due 31 March 2000)",
        "  (3 escalation notices about it since your last digest)",
    ]
    assert lines[start + 4].startswith("  acknowledge: http") and lines[start + 5].startswith("  open in planwatch: ")
    assert "/done" not in text and "/not_mine" not in text  # a supervisor's links: never the owner's verbs


def test_an_unanswered_check_in_is_told_as_such_in_a_digest() -> None:
    payload = {"date": "2000-03-28", "missed": "check-in", "days_overdue": 14}
    assert how_late(payload, "check-in 2000-03-28", date(2000, 4, 20)) == (
        23,
        "status update asked for on 28 March 2000, unanswered for 23 days",
    )
    assert how_late({"date": "2000-04-19"}, "2000-04-19", date(2000, 4, 20)) == (1, "1 day overdue (due 19 April 2000)")


COMMITTEE = (
    OWNERS
    + "  - {id: committee, name: Audit Committee, email: committee@example.org, timezone: Europe/Zurich,"
    + " digest: daily}\n"
)


@pytest.fixture
def committee_world(database_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Any]]:
    """The rules name the committee by address only; the owners directory knows the address and its digest."""
    rules = RULES.replace("to: [supervisor]", "to: [Committee@example.org]")
    yield from world(database_url, tmp_path, COMMITTEE, rules)


def test_an_address_the_owners_directory_knows_takes_its_escalations_in_its_digest(
    committee_world: tuple[Engine, Any],
) -> None:
    engine, _ = committee_world
    with engine.connect() as conn:
        rows = conn.execute(select(OUT.c.recipient_id, OUT.c.status).where(OUT.c.type == "escalation")).all()
    assert rows and set(rows) == {("committee", "held")}  # not sent one by one
    assert build_digests(engine, datetime(2000, 4, 11, 9, 0, tzinfo=UTC)) == 2  # Boon's own, and the committee's
    committee = next(d for d in digests(engine) if d["recipient_id"] == "committee")
    assert committee["recipient"] == "committee@example.org"
    assert [(i["ref"], i["owner"], i["late"]) for i in committee["payload"]["items"]] == [
        ("II.1.1", "Boon B", ["11 days overdue (due 31 March 2000)"])
    ]


def test_next_digest_time_is_nine_local_today_or_tomorrow() -> None:
    assert next_digest_time(datetime(2000, 4, 11, 1, 0, tzinfo=UTC), "Asia/Bangkok") == datetime(
        2000, 4, 11, 2, 0, tzinfo=UTC
    )
    assert next_digest_time(datetime(2000, 4, 11, 3, 0, tzinfo=UTC), "Asia/Bangkok") == datetime(
        2000, 4, 12, 2, 0, tzinfo=UTC
    )
    assert next_digest_time(datetime(2000, 4, 11, 3, 0, tzinfo=UTC), "America/Lima") == datetime(
        2000, 4, 11, 14, 0, tzinfo=UTC
    )


def test_once_todays_digest_is_made_later_ticks_do_not_read_the_recipients_notices_again(
    digest_world: tuple[Engine, Any],
) -> None:
    engine, rules = digest_world
    plan_due(engine, rules, datetime(2000, 4, 11, 2, 0, tzinfo=UTC))
    assert build_digests(engine, datetime(2000, 4, 11, 2, 0, tzinfo=UTC)) == 1  # Boon's, at 09:00 in Bangkok
    with engine.begin() as conn:  # a notice held for Boon after today's digest: it waits for tomorrow's
        conn.execute(
            OUT.update()
            .where(OUT.c.id == select(func.min(OUT.c.id)).where(OUT.c.status == "digested").scalar_subquery())
            .values(status="held")
        )
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        for minute in range(10, 60, 10):  # the ticks of the rest of the day
            assert build_digests(engine, datetime(2000, 4, 11, 2, minute, tzinfo=UTC)) == 0
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert statements and not [s for s in statements if "outbox.recipient_id =" in s]
    assert build_digests(engine, datetime(2000, 4, 12, 2, 0, tzinfo=UTC)) == 1  # tomorrow's digest takes it


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # advisory locks are PostgreSQL's
def test_digests_run_on_one_node_at_a_time(digest_world: tuple[Engine, Any]) -> None:
    from sqlalchemy import create_engine

    from engine.store.bulk import run_once_lock

    engine, rules = digest_world
    assert engine.dialect.name == "postgresql"
    plan_due(engine, rules, datetime(2000, 4, 11, 2, 0, tzinfo=UTC))
    at = datetime(2000, 4, 11, 2, 0, tzinfo=UTC)  # 09:00 in Bangkok: Boon's digest is due
    other = create_engine(engine.url)
    with other.begin() as conn:
        assert run_once_lock(conn, "digests")  # another node is bundling digests
        assert build_digests(engine, at) == 0
    assert build_digests(engine, at) == 1  # the lock went with that node's transaction
    with engine.connect() as conn:
        held = conn.execute(select(func.count()).where(OUT.c.status == "held", OUT.c.recipient_id == "boon")).scalar()
    assert held == 0
    other.dispose()


def test_no_digest_on_a_holiday_of_the_recipients_own_calendar(digest_world: tuple[Engine, Any]) -> None:
    engine, _ = digest_world

    def songkran(tz: str, country: str | None) -> BusinessCalendar:
        return BusinessCalendar([date(2000, 4, 11)] if tz == "Asia/Bangkok" else [])

    assert build_digests(engine, datetime(2000, 4, 11, 2, 0, tzinfo=UTC), songkran) == 0  # 09:00, a Bangkok holiday
    assert build_digests(engine, datetime(2000, 4, 12, 2, 0, tzinfo=UTC), songkran) == 1  # the next business day


@pytest.mark.parametrize(
    ("period", "local", "due"),
    [
        ("daily", datetime(2000, 12, 25, 9, 0, tzinfo=LIMA), False),  # Christmas Day in Lima
        ("daily", datetime(2000, 12, 26, 9, 0, tzinfo=LIMA), True),
        ("daily", datetime(2000, 12, 23, 9, 0, tzinfo=LIMA), False),  # a Saturday
        ("weekly", datetime(2000, 12, 25, 9, 0, tzinfo=LIMA), False),
        ("weekly", datetime(2000, 12, 26, 9, 0, tzinfo=LIMA), True),  # the first business day of the week
        ("weekly", datetime(2000, 12, 27, 9, 0, tzinfo=LIMA), False),
    ],
)
def test_digests_go_out_on_business_days_only(period: str, local: datetime, due: bool) -> None:
    lima = BusinessCalendar([date(2000, 12, 25)])
    assert digest_due(period, local, lima) is due


def test_a_digest_keeps_the_holidays_of_the_recipients_country(digest_world: tuple[Engine, Any]) -> None:
    from engine.store import tables

    engine, rules = digest_world
    plan_due(engine, rules, datetime(2000, 4, 11, 2, 0, tzinfo=UTC))
    with engine.begin() as conn:
        conn.execute(tables.OWNER.update().where(tables.OWNER.c.id == "boon").values(country="TH"))
    thai = BusinessCalendar([date(2000, 4, 11)])  # a holiday in Thailand, not in Bangkok's zone list

    def calendar_of(tz: str, country: str | None) -> BusinessCalendar:
        return thai if country == "TH" else BusinessCalendar()

    assert build_digests(engine, datetime(2000, 4, 11, 2, 0, tzinfo=UTC), calendar_of) == 0  # Boon's holiday
    assert build_digests(engine, datetime(2000, 4, 12, 2, 0, tzinfo=UTC), calendar_of) == 1  # the next business day
