"""VEVENT and VTODO text: byte for byte what icalendar writes, and every feed of the example plan read by a real
calendar client's parser, ical.js (Mozilla Thunderbird's).

``tests/js`` holds the node test and its lock file; ``make test`` (and so CI) runs ``npm ci`` there
first. Without node or ical.js the test is skipped on a developer's machine and fails in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events

from engine.actions.workflow import complete, set_status
from engine.calendars.build import FeedOptions
from engine.calendars.model import EventSpec, TodoSpec
from engine.calendars.write import vevent, vtodo
from engine.read.queries import find_action
from engine.store import transaction
from engine.zones import zone

from ..conftest import ROOT
from ..feeds_support import example_engine, parse, service

JS = ROOT / "tests" / "js"


def _node() -> str:
    node = shutil.which("node")
    missing = (
        "node is not installed"
        if node is None
        else "ical.js is not installed (run `npm ci` in tests/js)"
        if not (JS / "node_modules" / "ical.js" / "package.json").exists()
        else ""
    )
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must run the ical.js test")
        pytest.skip(missing)
    assert node is not None
    return node


def _expect(data: bytes) -> dict[str, object]:
    cal = parse(data)
    expanded: dict[str, set[date]] = {}
    for o in recurring_ical_events.of(cal).between(date(1999, 1, 1), date(2006, 1, 1)):
        expanded.setdefault(str(o["UID"]), set()).add(o["DTSTART"].dt)
    events = []
    for e in cal.walk("VEVENT"):
        series = "RRULE" in e or "RDATE" in e
        occurrences = sorted(expanded.get(str(e["UID"]), ()))[:6] if series else None
        alarms = e.walk("VALARM")
        events.append(
            {
                "uid": str(e["UID"]),
                "summary": str(e["SUMMARY"]),
                "description": str(e["DESCRIPTION"]),
                "start": e["DTSTART"].dt.isoformat(),
                "end": e["DTEND"].dt.isoformat(),
                "status": str(e["STATUS"]),
                "recurrence_id": e["RECURRENCE-ID"].dt.isoformat() if "RECURRENCE-ID" in e else None,
                "occurrences": [d.isoformat() for d in occurrences] if occurrences is not None else None,
                "alarms": len(alarms),
                "trigger_seconds": int(alarms[0]["TRIGGER"].dt.total_seconds()) if alarms else None,
            }
        )
    todos = [
        {
            "uid": str(t["UID"]),
            "summary": str(t["SUMMARY"]),
            "tzid": t["DUE"].dt.tzinfo.key,
            "due_unix": int(t["DUE"].dt.timestamp()),
            "status": str(t["STATUS"]),
            "percent": int(t["PERCENT-COMPLETE"]),
        }
        for t in cal.walk("VTODO")
    ]
    return {"events": events, "todos": todos}


def test_ical_js_reads_every_feed_of_the_example_plan(tmp_path: Path) -> None:
    node = _node()
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    engine = example_engine(url)
    at = datetime(2001, 10, 2, 9, tzinfo=UTC)
    with transaction(engine) as session:  # a done occurrence, a skipped one, a done and a dropped action, tricky texts
        complete(session, find_action(session, "I.1a.2"), at, who="t", via="test", occurrence=date(2001, 9, 28))
        complete(session, find_action(session, "I.1a.1"), at, who="t", via="test")
        set_status(session, find_action(session, "I.1a.4"), "dropped", at, who="t", via="test")
        action = find_action(session, "I.1b.2")
        action.title = 'Commas, semicolons; back\\slash "quoted"\nsecond line – Genève Δ 東京 🎉 ' + "long " * 20
        session.add(action)
    out = tmp_path / "feeds"
    out.mkdir()
    svc = service(engine, url, now=at)
    expectations = {}
    for feed in svc.event_set().feeds():
        for suffix, options in [
            ("", FeedOptions()),
            ("-all", FeedOptions(alarms=False, overdue_today=True, todo=True)),
        ]:
            data = svc.document(feed, options).body
            name = feed.file_name().replace(".ics", f"{suffix}.ics")
            (out / name).write_bytes(data)
            expectations[name] = _expect(data)
    engine.dispose()
    (out / "expectations.json").write_text(json.dumps(expectations, ensure_ascii=False))
    run = subprocess.run(
        [node, "--test", str(JS / "feeds.test.mjs")],
        env={**os.environ, "FEEDS_DIR": str(out)},
        capture_output=True,
        text=True,
        cwd=JS,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"# pass {len(expectations) + 1}" in run.stdout and "# fail 0" in run.stdout


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
