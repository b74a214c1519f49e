"""The event cache: fingerprints of what subscribers see, hits and misses across rebuilds, texts made once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from engine.calendars.cache import EventCache, EventEntry, fingerprint
from engine.calendars.model import EventSpec, TodoSpec
from engine.calendars.uids import event_uid
from engine.calendars.write import vevent, vtodo

AT = datetime(2000, 1, 2, 3, 4, 5, tzinfo=UTC)
SPEC = EventSpec(
    key="p|A.1|due",
    plan_id="p",
    ref="A.1",
    what="due",
    uid="",
    day=date(2000, 4, 30),
    summary="A.1 due: Texts",
    description="Due 30 April 2000",
    url="https://x.example/actions/A.1",
    categories=("Part I", "deadline"),
    state="open",
    modified=AT,
    alarm=timedelta(hours=9) - timedelta(days=30),
    todo=TodoSpec(datetime(2000, 4, 30, 21, 59, 59, tzinfo=UTC), "NEEDS-ACTION", 0),
)


class Computer:
    """Counts how often the cache asks for an action's events."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list[EventSpec]:
        self.calls += 1
        return [SPEC]


def test_the_fingerprint_sees_what_subscribers_see_and_not_the_stamps() -> None:
    print_ = fingerprint(SPEC)
    assert fingerprint(replace(SPEC, uid="x@planwatch", sequence=4, modified=AT + timedelta(days=1))) == print_
    for change in ({"summary": "A.1 due: other"}, {"day": date(2000, 5, 1)}, {"state": "done"}, {"alarm": None}):
        assert fingerprint(replace(SPEC, **change)) != print_, change  # type: ignore[arg-type]


def test_a_key_computes_once_until_the_rules_or_link_base_change() -> None:
    cache, compute, rules = EventCache(), Computer(), object()
    cache.bind(rules, "https://x.example")
    first = cache.events(("a", 1), compute)
    assert cache.events(("a", 1), compute) is first and compute.calls == 1
    cache.bind(rules, "https://x.example")  # the same rules and base: kept
    assert cache.events(("a", 1), compute) is first and compute.calls == 1
    cache.bind(object(), "https://x.example")  # other rules: forgotten
    assert cache.events(("a", 1), compute) is not first and compute.calls == 2
    cache.bind(cache, "https://y.example")
    assert len(cache) == 0


def test_a_sweep_drops_the_keys_a_rebuild_did_not_ask_for() -> None:
    cache, compute = EventCache(), Computer()
    cache.bind(None, "")
    for n in range(20):
        cache.events(n, compute)
    cache.sweep()
    for n in range(19):  # one of twenty left out: under a tenth, kept for now
        cache.events(n, compute)
    cache.sweep()
    assert len(cache) == 20
    for n in range(10):
        cache.events(n, compute)
    cache.sweep()
    assert len(cache) == 10
    cache.events(15, compute)
    assert compute.calls == 21  # key 15 was swept: computed again


def test_texts_carry_the_published_stamp_and_are_made_again_after_a_new_one() -> None:
    entry = EventEntry(SPEC)
    assert entry.sequence == 0 and entry.modified == AT
    later = AT + timedelta(days=3)
    entry.publish((date(2000, 4, 30), 2, later), "e@planwatch", "t@planwatch", "o@planwatch")
    assert entry.text(alarms=True) == vevent(replace(SPEC, uid="e@planwatch", sequence=2, modified=later), True)
    assert "BEGIN:VALARM" not in entry.text(alarms=False) and "BEGIN:VALARM" in entry.text(alarms=True)
    assert entry.todo_text() == vtodo(SPEC, "t@planwatch", 2, later)
    assert entry.published == replace(SPEC, uid="e@planwatch", sequence=2, modified=later)
    entry.publish((date(2000, 4, 30), 3, later), "e@planwatch", "t@planwatch", "o@planwatch")
    assert "SEQUENCE:3\r\n" in entry.text(alarms=True) and "SEQUENCE:3\r\n" in entry.todo_text()


def test_a_cancelled_event_never_rings() -> None:
    entry = EventEntry(replace(SPEC, state="cancelled"))
    assert "BEGIN:VALARM" not in entry.text(alarms=True)


def test_the_todo_and_overdue_uids_are_made_from_the_stamped_day_when_first_asked() -> None:
    entry = EventEntry(SPEC)
    entry.publish((date(2000, 3, 1), 1, AT), "e@planwatch")
    assert entry.todo_uid == event_uid(SPEC.plan_id, SPEC.ref, "todo", date(2000, 3, 1))
    assert entry.overdue_uid == event_uid(SPEC.plan_id, SPEC.ref, "overdue", date(2000, 3, 1))
    assert entry.todo_data() == vtodo(SPEC, entry.todo_uid, 1, AT).encode()


def test_an_entry_kept_in_parts_is_written_and_fingerprinted_as_the_whole_event() -> None:
    notes = ("Texts, in full", "Part I: First part\nContext: why; it matters", "Owner: Zora Vidal <zora@example.org>")
    whole = EventEntry(replace(SPEC, description="\n".join((SPEC.description, *notes))))
    parts = EventEntry(SPEC, notes)
    assert parts.description == whole.description and parts.content == whole.content
    assert parts.fingerprint == whole.fingerprint != EventEntry(SPEC).fingerprint
    for entry in (whole, parts):
        entry.publish((date(2000, 4, 30), 2, AT), "e@planwatch")
    assert parts.published == whole.published
    assert parts.data(True) == whole.data(True) and parts.data(False) == whole.data(False)
    assert parts.todo_data() == whole.todo_data()
    assert b"Context: why\\; it matters" in parts.todo_data().replace(b"\r\n ", b"")  # unfolded
