"""Event UIDs: the scheme itself, and the feed saying what the planner reminds about: on the example plan, RRULE
expansions (recurring-ical-events) equal the occurrences the planner plans reminders and check-ins for, over the plan's
life and beyond, and an occurrence's e-mail attachment updates that occurrence of the feed's series."""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from sqlalchemy import Engine, update
from sqlmodel import select

from engine.calendars.build import Feed
from engine.calendars.uids import event_key, event_uid, series_uid_day
from engine.drive.planning import plan_due
from engine.mail.compose import ContextCache, compose
from engine.mail.messages import as_bytes
from engine.mail.render import MailIdentity, Renderer
from engine.planner import ActionView, History, Person, plan_action
from engine.read.explain import facts_for
from engine.rules.loader import RuleSet, calendar_for, load_rules
from engine.store import transaction
from engine.store.feed_models import FeedEvent
from engine.store.models import Action, Outbox, Plan

from ..conftest import ROOT
from ..feeds_support import PLAN, body, example_engine, parse, service

FIRST, LAST = date(1999, 9, 28), date(2004, 12, 31)  # the plan's life and three more years
Key = tuple[str, str]  # (action id, "due" | "check-in")


def test_uid_scheme_is_the_one_the_email_attachments_use() -> None:
    assert event_uid("gb276-tc2", "I.1a.1", "due", date(2000, 4, 30)) == "gb276-tc2-i.1a.1-due-2000-04-30@planwatch"
    assert event_uid("P/1", "Ré x", "due", "2000-01-01") == "p-1-r--x-due-2000-01-01@planwatch"
    assert event_uid("p", "A.1", "starts", date(2000, 1, 3)) == "p-a.1-start-2000-01-03@planwatch"
    assert event_uid("p", "A.1", "done-2000-02-01", date(2000, 2, 1)) == "p-a.1-done-2000-02-01@planwatch"


def test_a_registry_key_names_plan_ref_and_event_and_a_series_uid_its_anchor() -> None:
    assert event_key("gb276-tc2", "I.2b.1", "recurring") == "gb276-tc2|I.2b.1|recurring"
    assert series_uid_day(date(2000, 3, 1), date(1999, 9, 28)) == date(2000, 3, 1)
    assert series_uid_day(None, date(1999, 9, 28)) == date(1999, 9, 28)


@pytest.fixture(params=["completion_based", "fixed_rhythm"])
def rules_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The project's rules, and a copy whose recurring policy counts from each occurrence instead."""
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    if request.param == "fixed_rhythm":
        text = (folder / "default.yaml").read_text()
        assert "completion_based: true" in text
        (folder / "default.yaml").write_text(text.replace("completion_based: true", "completion_based: false"))
    return folder


@pytest.fixture
def example(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    engine = example_engine(url)
    yield engine, url
    engine.dispose()


def feed_occurrences(data: bytes) -> dict[Key, set[date]]:
    """Every occurrence of every series (RRULE or RDATE) in the feed, expanded by recurring-ical-events."""
    cal = parse(data)
    series = {str(e["UID"]): _key(str(e["SUMMARY"])) for e in cal.walk("VEVENT") if "RRULE" in e or "RDATE" in e}
    found: dict[Key, set[date]] = defaultdict(set)
    for occurrence in recurring_ical_events.of(cal).between(FIRST, LAST + timedelta(days=1)):
        uid = str(occurrence["UID"])
        if uid in series:
            found[series[uid]].add(occurrence["DTSTART"].dt)
    return dict(found)


def _key(summary: str) -> Key:
    ref, label = summary.split(":")[0].split(" ", 1)
    return ref, "check-in" if label.startswith("check-in") else "due"


def planned_occurrences(engine: Engine, rules: RuleSet) -> dict[Key, set[date]]:
    """The occurrences the planner reminds about (each done on its day) and the days it checks in, per action."""
    found: dict[Key, set[date]] = defaultdict(set)
    with transaction(engine) as session:
        plan = session.exec(select(Plan)).one()
        for action in session.exec(select(Action).where(Action.plan_id == PLAN)).all():
            policy, _ = rules.policy_for(facts_for(session, action))
            if policy is None:
                continue
            view = ActionView(
                action.id or 0,
                PLAN,
                action.ref,
                action.kind,
                action.status,
                plan.timezone,
                plan.ref_date,
                start=action.start,
                due=action.due,
                rrule=action.rrule,
                people={"owner": [Person(action.owner_id, "owner@example.org", "Europe/Zurich")]},
            )
            for kind, day in _planned(view, policy):
                if FIRST <= day <= LAST:
                    found[(action.ref, kind)].add(day)
    return {k: v for k, v in found.items() if k[1] == "check-in" or _recurring(engine, k[0])}


def _planned(view: ActionView, policy) -> Iterator[tuple[str, date]]:  # type: ignore[no-untyped-def]
    since = datetime(1998, 1, 1, tzinfo=UTC)
    until = datetime.combine(LAST + timedelta(days=60), datetime.min.time(), UTC)
    calendar = calendar_for(policy.delivery)
    while True:  # each step: the planner's reminders, then the occurrence they are about is done on its day
        result = plan_action(view, policy, calendar, History(), since, until)
        reminded = {
            date.fromisoformat(n.payload["occurrence"])
            for n in result.notices
            if n.type == "reminder" and view.kind == "recurring"
        }
        yield from (("check-in", date.fromisoformat(n.payload["date"])) for n in result.notices if n.type == "checkin")
        fresh = sorted(d for d in reminded if d.isoformat() not in view.completed)
        yield from (("due", d) for d in fresh)
        if not fresh or not policy.recurrence.completion_based or fresh[-1] > LAST:
            return
        view = replace(view, last_completed=fresh[-1], completed=view.completed | {d.isoformat() for d in fresh})


def _recurring(engine: Engine, ref: str) -> bool:
    with transaction(engine) as session:
        return session.exec(select(Action.kind).where(Action.ref == ref)).one() == "recurring"


def test_feed_series_expand_to_exactly_what_the_planner_reminds_about(
    example: tuple[Engine, str], rules_dir: Path
) -> None:
    engine, url = example
    data = body(service(engine, url, rules_dir=rules_dir), Feed("plan", PLAN))
    in_feed = feed_occurrences(data)
    planned = planned_occurrences(engine, load_rules(rules_dir))
    assert in_feed.keys() == planned.keys()
    differences = {k: (sorted(in_feed[k] ^ planned[k])[:4]) for k in in_feed if in_feed[k] != planned[k]}
    assert differences == {}
    assert sum(1 for ref, kind in in_feed if kind == "due") == 2  # I.1a.2 and I.2b.1 (I.3b.1 has no rule)
    assert sum(len(days) for days in in_feed.values()) > 300


def test_every_reminded_date_has_its_event(example: tuple[Engine, str]) -> None:
    engine, url = example
    data = body(service(engine, url), Feed("plan", PLAN))
    shown = {
        (str(e["SUMMARY"]).split()[0], str(e["SUMMARY"]).split()[1].rstrip(":"), e["DTSTART"].dt)
        for e in parse(data).walk("VEVENT")
    }
    rules = load_rules(ROOT / "rules")
    with transaction(engine) as session:
        plan = session.exec(select(Plan)).one()
        for action in session.exec(select(Action).where(Action.kind != "recurring")).all():
            policy, _ = rules.policy_for(facts_for(session, action))
            assert policy is not None
            view = ActionView(
                action.id or 0,
                PLAN,
                action.ref,
                action.kind,
                action.status,
                plan.timezone,
                plan.ref_date,
                start=action.start,
                due=action.due,
                people={"owner": [Person(action.owner_id, "o@example.org")]},
            )
            result = plan_action(
                view,
                policy,
                calendar_for(policy.delivery),
                History(),
                datetime(1998, 1, 1, tzinfo=UTC),
                datetime(2003, 1, 1, tzinfo=UTC),
            )
            for notice in (n for n in result.notices if n.type == "reminder"):
                assert (action.ref, notice.payload["what"], date.fromisoformat(notice.payload["date"])) in shown


def _attachment(engine: Engine, now: datetime) -> list[icalendar.cal.Component]:
    """The event of each reminder about a recurring action, as its e-mail's ``.ics`` attachment carries it."""
    out, actions = Outbox.__table__, Action.__table__  # type: ignore[attr-defined]
    renderer = Renderer([ROOT / "templates"], MailIdentity())
    found = []
    with engine.connect() as conn:
        query = (
            select(out)
            .join(actions, actions.c.id == out.c.action_id)
            .where(actions.c.kind == "recurring", out.c.type == "reminder")
            .order_by(out.c.id)
        )
        for row in conn.execute(query).mappings():
            msg = message_from_bytes(as_bytes(compose(renderer, ContextCache(conn), row, now)), policy=email_policy)
            [event] = icalendar.Calendar.from_ical(next(msg.iter_attachments()).get_content()).walk("VEVENT")
            found.append(event)
    return found


def _series_occurrence(data: bytes, uid: str, day: date) -> icalendar.cal.Component:
    """The occurrence of the feed's series ``uid`` on ``day``, expanded by recurring-ical-events."""
    found = [
        o
        for o in recurring_ical_events.of(parse(data)).between(day, day + timedelta(days=1))
        if str(o["UID"]) == uid and "RRULE" not in o
    ]
    assert len(found) == 1, (uid, day)
    return found[0]


def test_an_occurrences_email_attachment_updates_that_occurrence_of_the_feeds_series(
    example: tuple[Engine, str], rules_dir: Path
) -> None:
    engine, url = example
    rules = load_rules(rules_dir)
    now = datetime(2000, 9, 27, 12, tzinfo=UTC)
    plan_due(engine, rules, now)
    before = _attachment(engine, now)  # written before the feed was ever published
    assert {str(e["SUMMARY"]).split("]")[0] for e in before} >= {"[I.1a.2"}
    data = body(service(engine, url, now=now, rules_dir=rules_dir), Feed("plan", PLAN))
    series = {str(e["UID"]) for e in parse(data).walk("VEVENT") if "RRULE" in e}
    for event in before:
        day = event["RECURRENCE-ID"].dt
        assert str(event["UID"]) in series and event["DTSTART"].dt == day
        occurrence = _series_occurrence(data, str(event["UID"]), day)
        assert occurrence["RECURRENCE-ID"].dt == day == occurrence["DTSTART"].dt
    # A series published with another UID day keeps it (the registry): the e-mails follow the registry.
    registry = FeedEvent.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            update(registry).where(registry.c.key == f"{PLAN}|I.1a.2|recurring").values(uid_day=date(2000, 9, 28))
        )
    data = body(service(engine, url, now=now, rules_dir=rules_dir), Feed("plan", PLAN))
    after = [e for e in _attachment(engine, now) if str(e["SUMMARY"]).startswith("[I.1a.2]")]
    assert after and {str(e["UID"]) for e in after} == {"gb276-tc2-i.1a.2-recurring-2000-09-28@planwatch"}
    for event in after:
        _series_occurrence(data, str(event["UID"]), event["RECURRENCE-ID"].dt)
