"""The feeds' reads and the registry of published events, on SQLite and PostgreSQL: one read of the store, and
each event recorded once, its SEQUENCE raised when what subscribers see changes, marked gone when no longer made."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text

from engine.actions.workflow import complete, set_status
from engine.calendars.build import RegistryEntry, compose
from engine.calendars.cache import EventCache, EventEntry
from engine.calendars.feed_store import load_feed_data, sync_registry
from engine.read.queries import find_action
from engine.store import transaction
from engine.store.models import Action

from ..feeds_support import BASE, PLAN, body, events, example_engine, service


@pytest.fixture
def store(database_url: str) -> Iterator[tuple[Engine, str]]:
    """The example plan in a fresh database (SQLite file, and PostgreSQL under the marker)."""
    engine = example_engine(database_url)
    yield engine, database_url
    engine.dispose()


def stamp(entry: RegistryEntry) -> tuple[object, ...]:
    """What the registry publishes of an event (the snapshot is read back for gone events only)."""
    return entry.uid_day, entry.sequence, entry.modified, entry.gone_at


def test_one_read_holds_plans_sections_owners_and_actions_in_plan_order(store: tuple[Engine, str]) -> None:
    engine, _ = store
    at = datetime(2000, 4, 3, 10, tzinfo=UTC)
    with transaction(engine) as session:
        complete(session, find_action(session, "I.1a.1"), at, who="t", via="test")
        set_status(session, find_action(session, "I.1a.4"), "dropped", at + timedelta(hours=1), who="t", via="test")
    with engine.connect() as conn:
        data = load_feed_data(conn)
        count = conn.execute(text("SELECT count(*) FROM action")).scalar()
    assert set(data.plans) == {PLAN} and data.plans[PLAN].timezone == "Europe/Zurich"
    assert {"pardev", "codev", "ro-lima"} <= set(data.owners) and data.owners["ro-lima"].supervisor_id == "codev"
    assert data.sections[(PLAN, "I")].level == "part"
    assert len(data.actions) == count
    assert [a.ordinal for a in data.actions] == sorted(a.ordinal for a in data.actions)
    by_ref = {a.ref: a for a in data.actions}
    assert (by_ref["I.1a.1"].status, by_ref["I.1a.1"].finished_at) == ("done", at)
    assert (by_ref["I.1a.4"].status, by_ref["I.1a.4"].finished_at) == ("dropped", at + timedelta(hours=1))
    assert by_ref["I.1a.2"].finished_at is None


def test_the_registry_stamps_new_events_then_raises_sequence_on_a_change_and_marks_the_vanished(
    store: tuple[Engine, str],
) -> None:
    engine, _ = store
    with engine.begin() as conn:
        data = load_feed_data(conn)
        entries = compose(data, None, BASE, EventCache())
        first = sync_registry(conn, entries, data)
    assert set(first) == {e.content.key for e in entries}
    assert all(r.sequence == 0 and r.gone_at is None for r in first.values())
    changed, vanished = entries[0], entries[1]
    edited = EventEntry(replace(changed.content, summary=changed.content.summary + " (edited)"))
    with engine.begin() as conn:
        again = sync_registry(conn, entries, data)  # nothing new: nothing written
        second = sync_registry(conn, [edited, *entries[2:]], data)
        gone = conn.execute(text("SELECT count(*) FROM feed_event WHERE gone_at IS NOT NULL")).scalar()
    assert {k: stamp(r) for k, r in again.items()} == {k: stamp(r) for k, r in first.items()}
    was, now = first[changed.content.key], second[changed.content.key]
    assert (now.sequence, now.uid_day) == (1, was.uid_day)
    assert now.modified >= was.modified + timedelta(seconds=1)
    left = second[vanished.content.key]
    assert left.sequence == 1 and left.gone_at == left.modified and gone == 1
    assert left.snapshot["ref"] == vanished.content.ref
    untouched = entries[2].content.key
    assert stamp(second[untouched]) == stamp(first[untouched])


def test_registry_survives_two_builders_at_once(store: tuple[Engine, str]) -> None:
    engine, url = store
    first, second = service(engine, url), service(engine, url)
    assert body(first, f"plan:{PLAN}") == body(second, f"plan:{PLAN}")
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM feed_event")).scalar()
        assert count == conn.execute(text("SELECT count(DISTINCT key) FROM feed_event")).scalar()


def test_the_registry_records_each_event_once(store: tuple[Engine, str]) -> None:
    engine, url = store
    svc = service(engine, url)
    published = sum(len(events(body(svc, f"part:{PLAN}:{p}"))) for p in ("I", "II", "III"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM feed_event")).scalar() <= published
    with transaction(engine) as session:
        assert session.exec(select(Action)).scalars().first() is not None  # type: ignore[call-overload]


def test_extensions_reach_the_due_events_description_with_who_asked_who_granted_and_why(
    store: tuple[Engine, str],
) -> None:
    from datetime import date

    from engine.actions.extensions import decide, request_extension
    from engine.actions.workflow import extend
    from engine.calendars.model import ExtensionInfo

    engine, url = store
    with transaction(engine) as session:
        action = find_action(session, "II.3.1")
        asked = request_extension(
            session, action, date(2000, 9, 30), datetime(2000, 5, 2, 10, tzinfo=UTC), who="hrd", via="web",
            reason="the budget arrives in July",
        )  # fmt: skip
        decide(session, asked, True, datetime(2000, 5, 4, 10, tzinfo=UTC), who="ed-devcoop", via="web")
        extend(session, action, date(2000, 12, 31), datetime(2000, 9, 1, 10, tzinfo=UTC), who="secretariat",
               via="cli", reason="the new budget cycle")  # fmt: skip
    with engine.connect() as conn:
        found = {a.ref: a for a in load_feed_data(conn).actions}
    assert found["II.3.1"].extensions == (
        ExtensionInfo(date(2000, 5, 4), date(2000, 5, 31), date(2000, 9, 30), "Amara Okafor", "Kwame Mensah",
                      "the budget arrives in July"),
        ExtensionInfo(date(2000, 9, 1), date(2000, 9, 30), date(2000, 12, 31), "Technical Cooperation Secretariat",
                      "", "the new budget cycle"),
    )  # fmt: skip
    assert found["II.3.2"].extensions == ()
    feed = body(service(engine, url), f"plan:{PLAN}")
    due = next(e for e in events(feed) if str(e["SUMMARY"]).startswith("II.3.1 due"))
    text_ = str(due["DESCRIPTION"])
    assert "Extensions: 2; originally due 31 May 2000" in text_
    assert (
        "- 4 May 2000: 31 May 2000 to 30 September 2000, granted by Amara Okafor at the request of Kwame Mensah"
        " (the budget arrives in July)" in text_
    )
    assert "- 1 September 2000: 30 September 2000 to 31 December 2000, granted by Technical Cooperation" in text_
