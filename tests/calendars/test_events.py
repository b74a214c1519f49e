"""An action's events (``calendars.events``): on the example plan's feeds, and from hand-made actions (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from engine.calendars.build import FeedOptions
from engine.calendars.events import (
    ActionContext,
    action_event_leads,
    action_events,
    escalation_event,
    long_date,
    sort_key,
)
from engine.calendars.model import ActionInfo, EscalationInfo, OwnerInfo, PlanInfo, SectionInfo
from engine.zones import zone

from ..feeds_support import PLAN, events, example_engine, service


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
    return {feed.id: svc.document(feed, options).body for feed in svc.event_set().feeds()}


# ------------------------------------------------------------------- on the example plan's feeds


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
    assert (
        "Context: To be effective and coherent" in text
        and "https://planwatch.example.org/actions/gb276-tc2/I.1a.1" in text
    )
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


# -------------------------------------------------------------------------- hand-made actions

CHANGED = datetime(2000, 3, 1, 9, tzinfo=UTC)
PLAN_INFO = PlanInfo("p", "A plan", "P/1", "Europe/Zurich", date(2000, 1, 1), CHANGED)
PATH = (
    SectionInfo("I", None, "part", "I", "First part"),
    SectionInfo("I.1", "I", "issue", "1", "An issue", context="Why it matters"),
)
OWNER = OwnerInfo("zv", "Zora Vidal", "zora@example.org", "Europe/Zurich")
CTX = ActionContext(PLAN_INFO, PATH, OWNER, None, "https://x.example/")


def action(**changes: object) -> ActionInfo:
    base: dict[str, object] = {
        "id": 1,
        "plan_id": "p",
        "ref": "I.1.1",
        "ordinal": 3,
        "section_key": "I.1",
        "title": "Write the report",
        "timeframe": "by 30 April 2000",
        "kind": "deadline",
        "status": "open",
        "owner_id": "zv",
        "updated_at": CHANGED,
        "due": date(2000, 4, 30),
    }
    base.update(changes)
    return ActionInfo(**base)  # type: ignore[arg-type]


def test_a_deadline_is_one_all_day_event_with_its_texts_and_a_todo_twin() -> None:
    (due,) = action_events(action(), CTX)
    assert (due.key, due.what, due.day, due.uid_day) == ("p|I.1.1|due", "due", date(2000, 4, 30), date(2000, 4, 30))
    assert due.summary == "I.1.1 due: Write the report"
    assert due.url == "https://x.example/actions/p/I.1.1" and due.categories == ("Part I", "deadline")
    assert due.description.split("\n") == [
        "Due 30 April 2000",
        "Write the report",
        "Part I: First part",
        "1: An issue",
        "Context: Why it matters",
        "Owner: Zora Vidal <zora@example.org>",
        "Time frame: by 30 April 2000",
        "Status: open",
        "Action: https://x.example/actions/p/I.1.1",
    ]
    assert (due.state, due.status, due.part, due.owner_id, due.alarm) == ("open", "CONFIRMED", "I", "zv", None)
    assert due.todo is not None and (due.todo.status, due.todo.percent) == ("NEEDS-ACTION", 0)
    assert due.todo.due == datetime(2000, 4, 30, 23, 59, 59, tzinfo=zone("Europe/Zurich"))


def test_the_events_keep_their_own_first_line_and_share_the_rest_the_sections_lines_once() -> None:
    """What the event cache keeps: each event's first line, the action's other lines once for its events, the
    section's lines one string for every action of the section; joined, the descriptions ``action_events`` gives."""
    window = action(start=date(2000, 2, 1))
    specs, notes = action_event_leads(window, CTX)
    assert [s.description for s in specs] == ["Starts 1 February 2000", "Due 30 April 2000"]
    assert [replace(s, description="\n".join((s.description, *notes))) for s in specs] == action_events(window, CTX)
    assert notes[:2] == ("Write the report", "Part I: First part\n1: An issue\nContext: Why it matters")
    assert notes[2:] == (
        "Owner: Zora Vidal <zora@example.org>\nTime frame: by 30 April 2000\nStatus: open",
        "Action: https://x.example/actions/p/I.1.1",
    )
    (other,), neighbour = action_event_leads(action(id=2, ref="I.1.2", title="Check the report"), CTX)
    assert neighbour[0] == "Check the report" and neighbour[1] is notes[1] and neighbour[2] is notes[2]
    assert neighbour[3] == "Action: https://x.example/actions/p/I.1.2" and other.categories is specs[1].categories
    assert action_event_leads(action(due=None), CTX) == ([], ())  # no event: nothing to share


def test_deadlines_of_the_same_day_share_their_first_line_and_their_todo() -> None:
    ((first,), _), ((other,), _) = (action_event_leads(action(id=n, ref=f"I.1.{n}"), CTX) for n in (1, 2))
    assert first.description == "Due 30 April 2000" and first.description is other.description
    assert first.todo is not None and first.todo is other.todo


def test_an_action_outside_any_section_has_no_empty_line_in_its_description() -> None:
    (due,) = action_events(action(), replace(CTX, path=()))
    assert due.description.split("\n") == [
        "Due 30 April 2000",
        "Write the report",
        "Owner: Zora Vidal <zora@example.org>",
        "Time frame: by 30 April 2000",
        "Status: open",
        "Action: https://x.example/actions/p/I.1.1",
    ]


def test_an_extension_moves_the_event_but_not_its_uid_day() -> None:
    start, due = action_events(action(start=date(2000, 2, 1), extended_to=date(2000, 6, 30)), CTX)
    assert (start.what, start.day, start.summary) == ("start", date(2000, 2, 1), "I.1.1 starts: Write the report")
    assert (due.day, due.uid_day) == (date(2000, 6, 30), date(2000, 4, 30))
    assert due.description.startswith("Due 30 June 2000 (extended from 30 April 2000)\n")


def test_a_dropped_action_is_cancelled_from_the_day_it_was_dropped_in_the_plans_zone() -> None:
    dropped_at = datetime(2000, 3, 31, 22, 30, tzinfo=UTC)  # already 1 April in Zurich
    (due,) = action_events(action(status="dropped", finished_at=dropped_at), CTX)
    assert (due.state, due.status, due.cancelled_since) == ("cancelled", "CANCELLED", date(2000, 4, 1))
    assert due.summary == "I.1.1 due (dropped): Write the report"
    assert due.todo is not None and due.todo.status == "CANCELLED"


def test_a_recurring_action_is_one_series_with_done_overrides_and_extras() -> None:
    found = action_events(
        action(
            kind="recurring",
            due=None,
            start=date(2000, 1, 15),
            rrule="FREQ=MONTHLY",
            completed=("2000-02-15", "2000-02-20", "not a date"),
        ),
        CTX,
    )
    series, extra = found
    assert (series.key, series.day, series.rrule) == ("p|I.1.1|recurring", date(2000, 1, 15), "FREQ=MONTHLY")
    assert series.done_days == (date(2000, 2, 15),) and series.done_summary == "I.1.1 due (done): Write the report"
    assert series.uid_day == date(2000, 1, 15)
    assert (extra.key, extra.day, extra.state) == ("p|I.1.1|done-2000-02-20", date(2000, 2, 20), "done")
    done = action_events(
        action(
            kind="recurring",
            due=None,
            start=date(2000, 1, 15),
            rrule="FREQ=MONTHLY",
            status="done",
            finished_at=datetime(2000, 5, 3, 8, tzinfo=UTC),
        ),
        CTX,
    )
    assert done[0].rrule == "FREQ=MONTHLY;UNTIL=20000503"  # the series ends on the day it was done


def test_an_escalation_is_a_team_only_event_on_the_day_it_fired() -> None:
    fired = EscalationInfo(7, 1, datetime(2000, 5, 1, 23, 0, tzinfo=UTC), 2, "supervisor", "2000-04-30", 1)
    spec = escalation_event(fired, action(), CTX)
    assert (spec.key, spec.day, spec.team_only, spec.modified) == (
        "p|I.1.1|escalation-7",
        date(2000, 5, 2),
        True,
        fired.at,
    )
    assert spec.summary == "I.1.1 escalation level 2: Write the report (1 day overdue)"
    assert spec.categories == ("Part I", "escalation") and spec.state == "open"


def test_the_owners_own_notice_is_an_overdue_notice_not_an_escalation_of_level_0() -> None:
    fired = EscalationInfo(8, 1, datetime(2000, 5, 1, 9, 0, tzinfo=UTC), 0, "escalate:0", "2000-04-30", 1)
    spec = escalation_event(fired, action(), CTX)
    assert spec.summary == "I.1.1 overdue notice: Write the report (1 day overdue)"
    assert "Overdue notice to the owner about the due date of 30 April 2000: 1 day overdue" in spec.description
    assert "level 0" not in spec.description and "escalate:" not in spec.description


def test_events_sort_by_plan_order_then_start_due_series_done_check_in() -> None:
    late = action_events(action(ref="I.1.2", ordinal=4, start=date(2000, 1, 2)), CTX)
    early = action_events(
        action(kind="recurring", due=None, start=date(2000, 1, 15), rrule="FREQ=MONTHLY", completed=("2000-02-20",)),
        CTX,
    )
    ordered = sorted([*late, *early], key=sort_key)
    assert [(s.ref, s.what) for s in ordered] == [
        ("I.1.1", "recurring"),
        ("I.1.1", "done-2000-02-20"),
        ("I.1.2", "start"),
        ("I.1.2", "due"),
    ]
    assert long_date(date(2000, 4, 3)) == "3 April 2000"


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        (
            "fr",
            [
                "Prorogations : 2 ; échéance initiale : 31 mai 2000",
                "- 4 mai 2000 : du 31 mai 2000 au 30 septembre 2000, accordée par Amara Okafor à la demande de "
                "Kwame Mensah (le budget arrive en juillet)",
                "- 1er septembre 2000 : au 31 décembre 2000, accordée par le Secrétariat",
            ],
        ),
        (
            "es",
            [
                "Prórrogas: 2; fecha límite inicial: 31 de mayo de 2000",
                "- 4 de mayo de 2000: del 31 de mayo de 2000 al 30 de septiembre de 2000, concedida por Amara Okafor "
                "a solicitud de Kwame Mensah (le budget arrive en juillet)",
                "- 1 de septiembre de 2000: al 31 de diciembre de 2000, concedida por le Secrétariat",
            ],
        ),
    ],
)
def test_an_actions_extensions_are_whole_sentences_in_the_feeds_language(language: str, lines: list[str]) -> None:
    from types import SimpleNamespace

    from engine.calendars.events import extension_lines
    from engine.calendars.model import ExtensionInfo

    granted = ExtensionInfo(
        date(2000, 5, 4),
        date(2000, 5, 31),
        date(2000, 9, 30),
        "Amara Okafor",
        "Kwame Mensah",
        "le budget arrive en juillet",
    )
    moved = ExtensionInfo(date(2000, 9, 1), None, date(2000, 12, 31), "le Secrétariat", "", "")
    action = SimpleNamespace(due=date(2000, 5, 31), extensions=(granted, moved))
    found = extension_lines(action, language)  # type: ignore[arg-type]
    assert found == lines


@pytest.mark.parametrize(
    ("occurrence", "language", "words"),
    [
        ("2000-05-31", "en", "the due date of 31 May 2000"),
        ("2000-05-31", "fr", "l'échéance du 31 mai 2000"),
        ("check-in 2000-03-28", "es", "la consulta de seguimiento del 28 de marzo de 2000"),
        ("start 2000-03-01", "fr", "le début prévu le 1er mars 2000"),
        (
            "2000-05-31 reopened 2000-06-10",
            "es",
            "la fecha límite del 31 de mayo de 2000, reabierta el 10 de junio de 2000",
        ),
        ("something else", "fr", "something else"),
    ],
)
def test_what_an_escalation_is_about_in_words(occurrence: str, language: str, words: str) -> None:
    from engine.calendars.events import occurrence_words

    assert occurrence_words(occurrence, language) == words
