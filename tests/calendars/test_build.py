"""The feeds of a store (``calendars.build``): which feeds exist, what each holds, strict bytes, options, file names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import Engine

from engine.calendars import build
from engine.calendars.build import (
    EventSet,
    Feed,
    FeedOptions,
    compose,
    spec_from_snapshot,
    spec_snapshot,
    write_feeds,
)
from engine.calendars.cache import EventCache
from engine.calendars.events import sort_key
from engine.calendars.model import EventSpec
from engine.errors import UsageError

from ..feeds_support import BASE, NOW, PLAN, events, example_engine, parse, service


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, str]]:
    """The example plan in a SQLite file, shared by the read-only tests of this module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('example') / 'planwatch.db'}"
    engine = example_engine(url)
    yield engine, url
    engine.dispose()


def all_feeds(example: tuple[Engine, str], options: FeedOptions = FeedOptions()) -> dict[str, bytes]:
    engine, url = example
    svc = service(engine, url)
    found = svc.event_set().feeds()
    return {feed.id: svc.document(feed, options).body for feed in found}


# ------------------------------------------------------------ every feed of the example plan


def test_the_example_plan_has_a_feed_per_owner_team_plan_and_part(example: tuple[Engine, str]) -> None:
    feeds = all_feeds(example)
    assert {
        "owner:pardev",
        "owner:ro-lima",
        "team:ed-devcoop",
        "team:codev",
        f"plan:{PLAN}",
        f"part:{PLAN}:I",
        f"part:{PLAN}:II",
        f"part:{PLAN}:III",
    } <= set(feeds)
    assert "team:pardev" not in feeds  # nobody reports to pardev


@pytest.mark.parametrize(
    "options", [FeedOptions(), FeedOptions(alarms=False, overdue_today=True, todo=True)], ids=["default", "all_options"]
)
def test_every_feed_passes_the_strict_byte_checks(example: tuple[Engine, str], options: FeedOptions) -> None:
    for feed_id, data in all_feeds(example, options).items():
        problems = list(byte_problems(data))
        assert problems == [], (feed_id, problems[:5])


def byte_problems(data: bytes) -> Iterator[str]:
    """Yield every way ``data`` breaks the rules subscribers rely on."""
    if b"\n" in data.replace(b"\r\n", b"") or b"\r" in data.replace(b"\r\n", b"") or not data.endswith(b"\r\n"):
        yield "a line does not end with CRLF"
    for n, raw in enumerate(data.split(b"\r\n")[:-1], 1):
        if len(raw) > 75:
            yield f"line {n} has {len(raw)} octets"
        raw.decode("utf-8")  # a fold never splits a UTF-8 sequence
    cal = parse(data)
    for name in ("PRODID", "VERSION", "X-WR-CALNAME", "X-WR-CALDESC", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        if name not in cal:
            yield f"calendar lacks {name}"
    if b"REFRESH-INTERVAL;VALUE=DURATION:" not in data:
        yield "REFRESH-INTERVAL is not a DURATION"
    seen: set[tuple[str, str]] = set()
    zones = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    for component in [*cal.walk("VEVENT"), *cal.walk("VTODO")]:
        key = (
            str(component["UID"]),
            component.get("RECURRENCE-ID").to_ical().decode() if "RECURRENCE-ID" in component else "",
        )
        if key in seen:
            yield f"UID {key} twice"
        seen.add(key)
        if "DTSTAMP" not in component:
            yield f"{key[0]} lacks DTSTAMP"
        yield from _all_day_problems(component, key[0])
    for tzid in set(re.findall(rb"TZID=([^:;]+)", data)):
        if tzid.decode() not in zones:
            yield f"TZID {tzid!r} has no VTIMEZONE"


def _all_day_problems(component: icalendar.cal.Component, uid: str) -> Iterator[str]:
    if component.name != "VEVENT":
        return
    start, end = component["DTSTART"].dt, component["DTEND"].dt
    if isinstance(start, datetime) or isinstance(end, datetime):
        yield f"{uid} is not all-day"
    elif end != start + timedelta(days=1):
        yield f"{uid}: DTEND {end} is not the day after DTSTART {start} (exclusive end)"


def test_an_unchanged_plan_gives_byte_identical_feeds(example: tuple[Engine, str]) -> None:
    first = all_feeds(example)
    engine, url = example
    later = service(engine, url, now=NOW + timedelta(hours=5))  # a new process, later the same day
    assert {f.id: later.document(f).body for f in later.event_set().feeds()} == first


def test_supervisor_feeds_hold_everyone_below(example: tuple[Engine, str]) -> None:
    feeds = all_feeds(example)
    refs = {str(e["SUMMARY"]).split()[0] for e in events(feeds["team:codev"])}
    own = {str(e["SUMMARY"]).split()[0] for e in events(feeds["owner:ro-bangkok"])} | {
        str(e["SUMMARY"]).split()[0] for e in events(feeds["owner:ro-lima"])
    }
    assert refs == own
    assert len(events(feeds["team:ed-devcoop"])) > len(events(feeds["team:codev"]))


def test_part_feeds_split_the_plan_feed(example: tuple[Engine, str]) -> None:
    feeds = all_feeds(example)
    uids = lambda data: sorted(str(e["UID"]) for e in events(data))  # noqa: E731
    assert uids(feeds[f"plan:{PLAN}"]) == sorted(
        uids(feeds[f"part:{PLAN}:I"]) + uids(feeds[f"part:{PLAN}:II"]) + uids(feeds[f"part:{PLAN}:III"])
    )


def test_todo_variant_adds_vtodos_with_a_due_time_in_the_plans_zone(example: tuple[Engine, str]) -> None:
    data = all_feeds(example, FeedOptions(todo=True))["owner:program"]
    todo = next(t for t in events(data, "VTODO") if str(t["SUMMARY"]).startswith("I.1a.1 due"))
    assert b"DUE;TZID=Europe/Zurich:20000430T235959" in data
    assert todo["DUE"].dt.astimezone(UTC) == datetime(2000, 4, 30, 21, 59, 59, tzinfo=UTC)  # CEST
    assert str(todo["STATUS"]) == "NEEDS-ACTION" and int(todo["PERCENT-COMPLETE"]) == 0
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in data and b"RDATE" not in data
    assert str(todo["UID"]) == "gb276-tc2-i.1a.1-todo-2000-04-30@planwatch"


def test_overdue_today_shows_missed_deadlines_again_on_today(example: tuple[Engine, str]) -> None:
    data = all_feeds(example, FeedOptions(overdue_today=True))["owner:program"]
    again = [e for e in events(data) if str(e["SUMMARY"]).startswith("I.1a.1 overdue")]
    assert len(again) == 1 and again[0]["DTSTART"].dt == NOW.date()
    assert str(again[0]["SUMMARY"]) == "I.1a.1 overdue (due 30 April 2000): 1(a) action 1 (text not in source)"
    assert int(again[0]["SEQUENCE"]) == (NOW.date() - date(2000, 4, 30)).days
    assert not [e for e in events(data) if str(e["SUMMARY"]).startswith("I.1a.4 overdue")]  # due end 2000: not yet


def test_an_overdue_copy_describes_its_deadline_in_full(example: tuple[Engine, str]) -> None:
    data = all_feeds(example, FeedOptions(overdue_today=True))["owner:program"]
    found = {str(e["SUMMARY"]).split(":")[0]: str(e["DESCRIPTION"]) for e in events(data)}
    copy, deadline = found["I.1a.1 overdue (due 30 April 2000)"], found["I.1a.1 due"]
    assert copy == deadline and "\nContext: " in copy and copy.endswith("/actions/gb276-tc2/I.1a.1")


def test_events_come_out_in_feed_order_however_they_come_in(example: tuple[Engine, str]) -> None:
    engine, url = example
    data = service(engine, url).event_set().data
    entries = compose(data, None, BASE, EventCache())
    ordered = EventSet(data, entries, {}, NOW).entries
    assert ordered == entries  # composed in plan order: kept as they are
    assert [sort_key(e.spec) for e in ordered] == sorted(sort_key(e.spec) for e in entries) and len(ordered) > 40
    assert EventSet(data, entries[::-1], {}, NOW).entries == ordered
    assert EventSet(data, [*entries[1:], entries[0]], {}, NOW).entries == ordered


def test_example_feeds_land_as_files(example: tuple[Engine, str], tmp_path: Path) -> None:
    engine, url = example
    written = service(engine, url).write_all(tmp_path)
    assert all(changed for _, changed in written)
    assert {p.name for p, _ in written} >= {"owner-pardev.ics", "team-ed-devcoop.ics", "plan-gb276-tc2.ics"}
    assert [changed for _, changed in service(engine, url).write_all(tmp_path)] == [False] * len(written)


def test_feeds_stream_and_land_as_files_byte_for_byte_what_is_served(
    example: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, url = example
    svc = service(engine, url)
    events_now = svc.event_set()
    feeds = events_now.feeds()
    options = FeedOptions(overdue_today=True, todo=True)
    for feed in feeds:
        doc = events_now.render(feed, options)
        chunks: list[bytes] = []
        assert events_now.stream(feed, chunks.append, options) == (doc.etag, doc.last_modified)
        assert b"".join(chunks) == doc.body
    assert sum(events_now.render(feed).body.count(b"BEGIN:VEVENT") for feed in feeds) > 100
    written = write_feeds(tmp_path, events_now, feeds)
    assert [p.read_bytes() for p, _ in written] == [events_now.render(feed).body for feed in feeds]
    assert all((p.stat().st_mode & 0o777) == 0o644 for p, _ in written)
    assert [changed for _, changed in write_feeds(tmp_path, events_now, feeds)] == [False] * len(feeds)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_feeds_are_written_in_groups_of_open_files_alike(
    example: tuple[Engine, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, url = example
    events_now = service(engine, url).event_set()
    feeds = events_now.feeds()
    monkeypatch.setattr(build, "OPEN_FILES", 3)
    written = write_feeds(tmp_path, events_now, feeds)
    assert [p.read_bytes() for p, _ in written] == [events_now.render(feed).body for feed in feeds]


def test_file_names_are_safe_whatever_the_ids() -> None:
    names = {Feed("owner", raw).file_name() for raw in ["../etc/passwd", "a/b", "A", "a", "con", "ünï", "x" * 300]}
    assert len(names) == 7
    assert all(re.fullmatch(r"[a-z0-9_\-]{1,100}\.ics", n) for n in names), names


# --------------------------------------------------------------------------- ids, options, snapshots


def test_feed_ids_read_back_and_bad_ones_are_usage_errors() -> None:
    for text in ("owner:pardev", "team:codev", f"plan:{PLAN}", f"part:{PLAN}:II"):
        assert Feed.parse(text).id == text
    assert Feed.parse(f"part:{PLAN}:II") == Feed("part", PLAN, "II")
    for bad in ("", "owner:", "group:x", f"part:{PLAN}", "plan"):
        with pytest.raises(UsageError, match="expected owner:ID, team:ID, plan:ID or part:PLAN:KEY"):
            Feed.parse(bad)


def test_options_come_from_the_query_and_ignore_the_rest() -> None:
    assert FeedOptions.from_query({}) == FeedOptions(alarms=True, overdue_today=False, todo=False)
    assert FeedOptions.from_query({"alarms": "OFF", "overdue": "Today", "todo": "yes", "x": "1"}) == FeedOptions(
        alarms=False, overdue_today=True, todo=True
    )
    assert FeedOptions.from_query({"alarms": "1", "overdue": "always", "todo": "2"}) == FeedOptions()


def test_a_snapshot_brings_an_event_back_as_cancelled() -> None:
    spec = EventSpec(
        key="p|A.1|checkin",
        plan_id="p",
        ref="A.1",
        what="checkin",
        uid="p-a.1-checkin-2000-01-01@planwatch",
        day=date(2000, 4, 1),
        summary="A.1 check-in: Texts",
        description="gone with the snapshot",
        url="https://x.example/actions/A.1",
        categories=("Part I", "deadline"),
        state="open",
        modified=datetime(2000, 1, 2, 3, 4, 5, tzinfo=UTC),
        rrule="FREQ=MONTHLY;INTERVAL=3",
        rdates=(date(2000, 7, 1),),
        owner_id="pardev",
        part="I",
        ordinal=7,
        title="Texts",
    )
    back = spec_from_snapshot(spec.key, spec_snapshot(spec), date(2000, 5, 1))
    kept = ("plan_id", "ref", "what", "day", "summary", "url", "categories", "rrule", "rdates", "owner_id", "part")
    assert {name: getattr(back, name) for name in kept} == {name: getattr(spec, name) for name in kept}
    assert (back.ordinal, back.title, back.state, back.status) == (7, "Texts", "cancelled", "CANCELLED")
    assert back.cancelled_since == date(2000, 5, 1) and "withdrawn" in back.description
