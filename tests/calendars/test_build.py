"""Feed content: UIDs, the writer against icalendar, every feed of the example plan parsed and checked byte by byte."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import Engine

from engine.calendars.build import Feed, FeedOptions
from engine.calendars.model import EventSpec, TodoSpec
from engine.calendars.rhythm import checkin_days
from engine.calendars.timezone import vtimezone
from engine.calendars.uids import event_uid
from engine.calendars.write import vevent, vtodo
from engine.rules.durations import parse_duration
from engine.zones import zone

from ..feeds_support import NOW, PLAN, events, example_engine, parse, service


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


# ------------------------------------------------------------------------------------- UIDs


def test_uid_scheme_is_the_one_the_email_attachments_use() -> None:
    assert event_uid("gb276-tc2", "I.1a.1", "due", date(2000, 4, 30)) == "gb276-tc2-i.1a.1-due-2000-04-30@planwatch"
    assert event_uid("P/1", "Ré x", "due", "2000-01-01") == "p-1-r--x-due-2000-01-01@planwatch"


# ---------------------------------------------------------------- the writer against icalendar


def _spec(**changes: object) -> EventSpec:
    base: dict[str, object] = {
        "key": "p|A.1|due",
        "plan_id": "p",
        "ref": "A.1",
        "what": "due",
        "uid": "p-a.1-due-2000-04-30@planwatch",
        "day": date(2000, 4, 30),
        "summary": "A.1 due: Texts, with; commas \\ and ünïcödé € 𝄞 over seventy-five octets of summary",
        "description": "Line one, with; everything\\\nLine two\r\nLine three " + "long " * 40,
        "url": "https://x.example/actions/A.1",
        "categories": ("Part I, the first", "deadline"),
        "state": "open",
        "modified": datetime(2000, 1, 2, 3, 4, 5, tzinfo=UTC),
        "sequence": 3,
        "alarm": timedelta(hours=9) - timedelta(days=30),
    }
    base.update(changes)
    return EventSpec(**base)  # type: ignore[arg-type]


def _reference(spec: EventSpec, alarms: bool) -> str:
    """The same event built and serialised by icalendar itself."""

    def event(summary: str, recurrence: date | None) -> icalendar.Event:
        e = icalendar.Event()
        e.add("summary", summary)
        e.add("dtstart", recurrence or spec.day)
        e.add("dtend", (recurrence or spec.day) + timedelta(days=1))
        e.add("dtstamp", spec.modified)
        e.add("uid", spec.uid)
        if recurrence:
            e.add("recurrence-id", recurrence)
        e.add("sequence", spec.sequence)
        if spec.rrule and not recurrence:
            e.add("rrule", icalendar.vRecur.from_ical(spec.rrule))
        if spec.rdates and not recurrence:
            e.add("rdate", list(spec.rdates))
        if spec.exdates and not recurrence:
            e.add("exdate", list(spec.exdates))
        e.add("categories", list(spec.categories))
        e.add("description", spec.description)
        e.add("last-modified", spec.modified)
        e.add("status", "CONFIRMED" if recurrence else spec.status)
        e.add("transp", "TRANSPARENT")
        e.add("url", spec.url)
        return e

    master = event(spec.summary, None)
    if alarms and spec.alarm is not None and spec.state == "open":
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", spec.summary)
        alarm.add("trigger", spec.alarm)
        master.add_component(alarm)
    parts = [master.to_ical().decode()]
    parts += [event(spec.done_summary, day).to_ical().decode() for day in spec.done_days]
    return "".join(parts)


@pytest.mark.parametrize("alarms", [True, False], ids=["alarm", "no_alarm"])
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"state": "cancelled"},
        {"state": "hold", "alarm": None},
        {
            "rrule": "FREQ=YEARLY;INTERVAL=2",
            "exdates": (date(2002, 4, 30),),
            "done_days": (date(2000, 4, 30), date(2004, 4, 30)),
            "done_summary": "A.1 due (done): x",
        },
        {"rrule": None, "rdates": (date(2000, 7, 31), date(2000, 10, 30))},
        {"summary": "plain", "description": "", "categories": ("Part II",)},
    ],
    ids=["deadline", "cancelled", "on_hold", "series_with_overrides", "rdates", "plain_texts"],
)
def test_event_text_is_what_icalendar_writes(changes: dict[str, object], alarms: bool) -> None:
    spec = _spec(**changes)
    assert vevent(spec, alarms) == _reference(spec, alarms)


def test_todo_text_is_what_icalendar_writes() -> None:
    due = datetime(2000, 4, 30, 23, 59, 59, tzinfo=zone("Europe/Zurich"))
    spec = _spec(todo=TodoSpec(due, "COMPLETED", 100, datetime(2000, 4, 3, 10, tzinfo=UTC)))
    todo = icalendar.Todo()
    for name, value in [
        ("categories", list(spec.categories)),
        ("completed", datetime(2000, 4, 3, 10, tzinfo=UTC)),
        ("description", spec.description),
        ("dtstamp", spec.modified),
        ("due", due),
        ("last-modified", spec.modified),
        ("percent-complete", 100),
        ("sequence", 3),
        ("status", "COMPLETED"),
        ("summary", spec.summary),
        ("uid", "t@planwatch"),
        ("url", spec.url),
    ]:
        todo.add(name, value)
    assert vtodo(spec, "t@planwatch") == todo.to_ical().decode()


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


def test_summaries_start_with_the_action_and_say_what_is_due(example: tuple[Engine, str]) -> None:
    data = all_feeds(example)[f"plan:{PLAN}"]
    summaries = [str(e["SUMMARY"]) for e in events(data)]
    assert all(re.match(r"^[IV]+\.[\w.]+ (due|starts|check-in)(\s\(\w+( \w+)?\))?: ", s) for s in summaries), summaries[
        :3
    ]
    deadline = next(e for e in events(data) if str(e["SUMMARY"]).startswith("I.1a.1 due"))
    assert deadline["DTSTART"].to_ical() == b"20000430" and deadline["DTEND"].to_ical() == b"20000501"
    assert [str(c) for c in deadline["CATEGORIES"].cats] == ["Part I", "deadline"]
    text = str(deadline["DESCRIPTION"])
    assert "Part I: Enhancing the relevance" in text and "Owner: Jonas Lindqvist <jonas.lindqvist@example.org>" in text
    assert "Context: To be effective and coherent" in text and "https://planwatch.example.org/actions/I.1a.1" in text
    assert str(deadline["UID"]) == "gb276-tc2-i.1a.1-due-2000-04-30@planwatch"


def test_a_window_has_a_start_event_and_a_due_event(example: tuple[Engine, str]) -> None:
    data = all_feeds(example)["owner:codev"]
    found = {
        str(e["SUMMARY"]).split(":")[0]: e["DTSTART"].to_ical()
        for e in events(data)
        if str(e["SUMMARY"]).startswith("II.1.1 ")
    }
    assert found == {"II.1.1 starts": b"20000101", "II.1.1 due": b"20001231"}


def test_the_alarm_is_the_policys_first_reminder_at_the_delivery_hour(example: tuple[Engine, str]) -> None:
    feeds = all_feeds(example)
    deadline = next(e for e in events(feeds["owner:program"]) if str(e["SUMMARY"]).startswith("I.1a.1 due"))
    alarms = deadline.walk("VALARM")
    assert len(alarms) == 1 and str(alarms[0]["ACTION"]) == "DISPLAY"
    assert alarms[0]["TRIGGER"].dt == timedelta(days=-30, hours=9)  # 30 days before, at 09:00
    quiet = all_feeds(example, FeedOptions(alarms=False))["owner:program"]
    assert b"BEGIN:VALARM" not in quiet


def test_check_ins_follow_the_rules_rhythm(example: tuple[Engine, str]) -> None:
    data = all_feeds(example)["owner:program"]
    checkin = next(e for e in events(data) if str(e["SUMMARY"]).startswith("I.1a.3 check-in"))
    assert checkin["DTSTART"].to_ical() == b"19991228"  # three months after the plan's date
    assert checkin["RRULE"].to_ical() == b"FREQ=MONTHLY;INTERVAL=3"


def test_recurring_actions_are_one_series_with_their_rule(example: tuple[Engine, str]) -> None:
    data = all_feeds(example)["owner:ro-bangkok"]
    series = next(e for e in events(data) if str(e["SUMMARY"]).startswith("I.2b.1 due"))
    assert series["RRULE"].to_ical() == b"FREQ=YEARLY;INTERVAL=2"
    assert series["DTSTART"].to_ical() == b"20010928"  # the first occurrence after the plan's date


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


# --------------------------------------------------------------------------- time zones, rhythms


@pytest.mark.parametrize(
    ("zone_name", "years", "expected"),
    [
        (
            "Europe/Zurich",
            (2000, 2001),
            [
                "DAYLIGHT 19990328T020000 +0100>+0200 FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
                "STANDARD 19991031T030000 +0200>+0100 FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
            ],
        ),
        ("Asia/Bangkok", (2000, 2000), ["STANDARD 19990101T000000 +0700>+0700 -"]),
        (
            "America/New_York",
            (2006, 2008),
            [
                "DAYLIGHT 20050403T020000 -0500>-0400 FREQ=YEARLY;UNTIL=20060402T070000Z;BYDAY=1SU;BYMONTH=4",
                "STANDARD 20051030T020000 -0400>-0500 FREQ=YEARLY;UNTIL=20061029T060000Z;BYDAY=-1SU;BYMONTH=10",
                "DAYLIGHT 20070311T020000 -0500>-0400 FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
                "STANDARD 20071104T020000 -0400>-0500 FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
            ],
        ),
    ],
    ids=["zurich_eu_rule", "bangkok_no_dst", "new_york_rule_change_2007"],
)
def test_vtimezones_are_written_with_yearly_rules(zone_name: str, years: tuple[int, int], expected: list[str]) -> None:
    tz = icalendar.Calendar.from_ical(f"BEGIN:VCALENDAR\r\n{vtimezone(zone_name, *years)}END:VCALENDAR\r\n").walk(
        "VTIMEZONE"
    )[0]
    found = [
        f"{part.name} {_raw(part['DTSTART'])} {_raw(part['TZOFFSETFROM'])}>{_raw(part['TZOFFSETTO'])} "
        f"{_raw(part['RRULE']) if 'RRULE' in part else '-'}"
        for part in tz.subcomponents
    ]
    assert found == expected
    assert "RDATE" not in vtimezone(zone_name, *years)


def _raw(value: object) -> str:
    text = value.to_ical()  # type: ignore[attr-defined]
    return text.decode() if isinstance(text, bytes) else str(text)


@pytest.mark.parametrize(
    ("every", "start", "rule", "first_rdates"),
    [
        ("3mo", date(1999, 9, 28), "FREQ=MONTHLY;INTERVAL=3", []),
        ("2w", date(2000, 1, 3), "FREQ=WEEKLY;INTERVAL=2", []),
        ("10d", date(2000, 1, 3), "FREQ=DAILY;INTERVAL=10", []),
        ("1y", date(1999, 9, 28), "FREQ=YEARLY", []),
        ("3mo", date(1999, 10, 31), None, [date(2000, 4, 30), date(2000, 7, 30), date(2000, 10, 30)]),
        ("1y", date(2000, 2, 29), "FREQ=YEARLY", []),  # 28 February 2001, then every 28 February
        ("6mo", date(1999, 8, 29), None, [date(2000, 8, 29), date(2001, 2, 28), date(2001, 8, 28)]),
    ],
    ids=["quarterly", "fortnightly", "ten_days", "yearly", "month_end_drifts", "from_feb29_yearly", "feb29_drifts"],
)
def test_check_in_rhythms_are_the_planners_dates(
    every: str, start: date, rule: str | None, first_rdates: list[date]
) -> None:
    found = checkin_days(parse_duration(every), start)
    assert found is not None
    _, rule_text, rdates = found
    assert rule_text == rule
    assert list(rdates[: len(first_rdates)]) == first_rdates
    assert bool(rdates) == (rule is None)  # a rule or a list of dates, never both


def test_example_feeds_land_as_files(example: tuple[Engine, str], tmp_path: Path) -> None:
    engine, url = example
    written = service(engine, url).write_all(tmp_path)
    assert all(changed for _, changed in written)
    assert {p.name for p, _ in written} >= {"owner-pardev.ics", "team-ed-devcoop.ics", "plan-gb276-tc2.ics"}
    assert [changed for _, changed in service(engine, url).write_all(tmp_path)] == [False] * len(written)


def test_file_names_are_safe_whatever_the_ids() -> None:
    names = {Feed("owner", raw).file_name() for raw in ["../etc/passwd", "a/b", "A", "a", "con", "ünï", "x" * 300]}
    assert len(names) == 7
    assert all(re.fullmatch(r"[a-z0-9_\-]{1,100}\.ics", n) for n in names), names
