"""Who a role means for an action: owner, delegate, the supervisor chain and the secretariat, from the store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from engine.drive.people import MAX_LEVELS, Directory, load_directory
from engine.planner import ActionView, Away, History, Person, plan_action
from engine.rules.durations import BusinessCalendar
from engine.rules.policy import Policy
from engine.store import make_engine, tables, upgrade

OWNERS = [
    {"id": "boss", "name": "Big Boss", "email": "boss@example.org", "timezone": "Europe/Zurich"},
    {"id": "mid", "name": "Middle", "email": "mid@example.org", "timezone": "Europe/Zurich", "supervisor_id": "boss"},
    {
        "id": "zora",
        "name": "Zora Z",
        "email": "zora@example.org",
        "timezone": "Europe/Zurich",
        "supervisor_id": "mid",
        "delegate_id": "boon",
        "digest": "daily",
    },
    {"id": "boon", "name": "Boon B", "email": "boon@example.org", "timezone": "Asia/Bangkok", "supervisor_id": "mid"},
    {"id": "desk", "name": "Plan desk", "email": "desk@example.org", "timezone": "UTC", "role": "secretariat"},
]


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def directory(engine: Engine, owners: list[dict[str, Any]]) -> Directory:
    """Store ``owners`` (links set once everyone exists, as the foreign keys ask) and read them back."""
    table = tables.OWNER
    links = ("supervisor_id", "delegate_id", "away_from", "away_to", "deputy_id")
    with engine.begin() as conn:
        conn.execute(
            table.insert(),
            [{"role": "owner", "digest": "none"} | {k: v for k, v in o.items() if k not in links} for o in owners],
        )
        for o in owners:
            if any(k in o for k in links):
                conn.execute(table.update().where(table.c.id == o["id"]).values({k: o[k] for k in links if k in o}))
    with engine.connect() as conn:
        return load_directory(conn)


def ids(roles: dict[str, list[Person]]) -> dict[str, list[str]]:
    return {role: [p.id for p in people] for role, people in roles.items()}


def test_an_owner_has_a_delegate_a_chain_of_supervisors_and_the_secretariat(store: Engine) -> None:
    found = directory(store, OWNERS)
    assert ids(found.roles("zora")) == {
        "secretariat": ["desk"],
        "owner": ["zora", "boon"],
        "delegate": ["boon"],
        "supervisor": ["mid"],
        "supervisor.supervisor": ["boss"],
    }
    assert found.people["zora"] == Person("zora", "zora@example.org", "Europe/Zurich", "Zora Z", "daily")
    assert found.people["boon"].digest == "none"


def test_an_unknown_or_missing_owner_reaches_only_the_secretariat(store: Engine) -> None:
    found = directory(store, OWNERS)
    assert ids(found.roles("nobody")) == {"secretariat": ["desk"]}
    assert ids(found.roles(None)) == {"secretariat": ["desk"]}


def test_without_a_secretariat_role_the_owner_named_secretariat_is_it(store: Engine) -> None:
    owners = [o | {"role": "owner"} for o in OWNERS if o["id"] != "desk"]
    owners.append({"id": "secretariat", "name": "Sec", "email": "sec@example.org", "timezone": "UTC"})
    assert ids(directory(store, owners).roles("boon"))["secretariat"] == ["secretariat"]


def test_a_supervisor_loop_stops_after_the_last_level(store: Engine) -> None:
    loop = [
        {"id": "a", "name": "A", "email": "a@example.org", "timezone": "UTC", "supervisor_id": "b"},
        {"id": "b", "name": "B", "email": "b@example.org", "timezone": "UTC", "supervisor_id": "a"},
    ]
    roles = ids(directory(store, loop).roles("a"))
    chain = [role for role in roles if role.startswith("supervisor")]
    assert len(chain) == MAX_LEVELS and roles["supervisor"] == ["b"] and roles[chain[1]] == ["a"]


REMIND_OWNER = Policy.model_validate(
    {"name": "deadlines", "remind": [{"before": "7d", "to": ["owner"]}], "escalate": [{"after": "1d", "to": ["owner"]}]}
)


def reminded(found: Directory, owner: str, now: datetime, due: date = date(2000, 4, 28)) -> dict[str, str]:
    """Plan a deadline of ``owner``'s as a tick at ``now`` would; return recipient id -> role of the notices."""
    view = ActionView(
        action_id=1,
        plan_id="p",
        ref="I.1",
        kind="deadline",
        status="open",
        plan_tz="Europe/Zurich",
        plan_date=date(1999, 9, 28),
        due=due,
        people=found.roles(owner),
        away=found.away_of(owner),
    )
    result = plan_action(view, REMIND_OWNER, BusinessCalendar(), History(), datetime(2000, 4, 1, tzinfo=UTC), now)
    return {str(n.recipient.id): str(n.payload["role"]) for n in result.notices}


def test_a_delegate_gets_the_owners_reminder(store: Engine) -> None:
    found = directory(store, OWNERS)
    assert reminded(found, "zora", datetime(2000, 4, 21, 12, tzinfo=UTC)) == {"zora": "owner", "boon": "delegate"}
    assert reminded(found, "mid", datetime(2000, 4, 21, 12, tzinfo=UTC)) == {"mid": "owner"}


AWAY = [
    o | {"away_from": date(2000, 4, 20), "away_to": date(2000, 4, 30), "deputy_id": "boss"} if o["id"] == "mid" else o
    for o in OWNERS
]


def test_a_deputy_receives_in_the_owners_place_while_the_owner_is_away(store: Engine) -> None:
    found = directory(store, AWAY)
    assert reminded(found, "mid", datetime(2000, 4, 21, 12, tzinfo=UTC)) == {"boss": "owner"}
    assert reminded(found, "mid", datetime(2000, 4, 29, 12, tzinfo=UTC), due=date(2000, 4, 28)) == {"boss": "owner"}
    # outside the period (and without a date) the owner receives again
    assert reminded(found, "mid", datetime(2000, 4, 12, 12, tzinfo=UTC), due=date(2000, 4, 19)) == {"mid": "owner"}
    after = datetime(2000, 5, 2, 12, tzinfo=UTC)
    assert planned_for(found, "mid", after, after, date(2000, 5, 1))["escalate:1"] == "mid"  # the overdue notice
    assert ids(found.roles("mid"))["owner"] == ["mid"]


def test_the_away_period_is_the_owners_with_a_known_deputy(store: Engine) -> None:
    found = directory(store, AWAY)
    assert found.away_of("mid") == Away(date(2000, 4, 20), date(2000, 4, 30), found.people["boss"])
    assert found.away_of("zora") is None and found.away_of(None) is None and found.away_of("nobody") is None


def planned_for(found: Directory, owner: str, now: datetime, until: datetime, due: date) -> dict[str, str]:
    """Plan ``owner``'s deadline at ``now`` up to ``until`` (ahead); return step -> recipient id."""
    view = ActionView(1, "p", "I.1", "deadline", "open", "Europe/Zurich", date(1999, 9, 28), due=due)
    view = replace(view, people=found.roles(owner), away=found.away_of(owner))
    result = plan_action(view, REMIND_OWNER, BusinessCalendar(), History(), now - timedelta(days=1), now, until)
    return {n.step: str(n.recipient.id) for n in result.notices}


def test_the_deputy_is_chosen_by_when_a_message_goes_out_not_when_it_is_planned(store: Engine) -> None:
    """The away days are the owner's (Zurich): planned on 18 April for 20 April 09:00 Zurich, a reminder goes
    to the deputy; planned on 29 April for 1 May, to the owner."""
    found = directory(store, AWAY)
    before = datetime(2000, 4, 18, 12, tzinfo=UTC)
    assert planned_for(found, "mid", before, before + timedelta(days=2), date(2000, 4, 27)) == {"remind:due:7d": "boss"}
    during = datetime(2000, 4, 29, 12, tzinfo=UTC)
    assert planned_for(found, "mid", during, during + timedelta(days=2), date(2000, 5, 8)) == {"remind:due:7d": "mid"}
    # the same message, planned at any tick, goes to the same person under the same key
    keys = {
        n.key
        for now in (before, before + timedelta(hours=20))
        for n in plan_action(
            replace(
                ActionView(
                    1, "p", "I.1", "deadline", "open", "Europe/Zurich", date(1999, 9, 28), due=date(2000, 4, 27)
                ),
                people=found.roles("mid"),
                away=found.away_of("mid"),
            ),
            REMIND_OWNER,
            BusinessCalendar(),
            History(),
            before - timedelta(days=1),
            now,
            before + timedelta(days=2),
        ).notices
    }
    assert keys == {"p/I.1|2000-04-27|remind:due:7d|boss"}
