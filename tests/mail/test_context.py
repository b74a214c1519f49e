"""The template context of an outbox row: the recipient's zone and day, roles and threads, summaries,
digest sections, and the calendar event a message carries."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.mail.checks import sample_facts, sample_row
from engine.mail.context import (
    action_context,
    calendar_event,
    digest_sections,
    local_day,
    recipient_zone,
    role_of,
    summary,
    thread_of,
)
from engine.mail.render import MailIdentity

IDENTITY = MailIdentity(base_url="https://plans.example.org/", secret_key="test-key")


def test_digest_sections_put_overdue_first_then_parts_in_plan_order() -> None:
    items = [
        {"ref": "II.1", "due": "2000-05-01", "overdue": False, "part": "Part II", "part_order": 9},
        {"ref": "I.2", "due": "2000-06-01", "overdue": False, "part": "Part I", "part_order": 1},
        {"ref": "I.1", "due": "2000-05-15", "overdue": False, "part": "Part I", "part_order": 1},
        {"ref": "III.1", "due": "2000-03-01", "overdue": True, "part": "Part III", "part_order": 20},
        {"ref": "I.9", "due": "2000-02-01", "overdue": True, "part": "Part I", "part_order": 1},
    ]
    groups = [(g["heading"], [i["ref"] for i in g["entries"]]) for g in digest_sections(items)]
    assert groups == [("Overdue", ["I.9", "III.1"]), ("Part I", ["I.1", "I.2"]), ("Part II", ["II.1"])]


def test_the_recipients_zone_comes_from_the_row_then_the_person_then_utc() -> None:
    row = {"payload": {"role_tz": "Asia/Bangkok"}}
    assert recipient_zone(row, {"timezone": "America/Lima"}) == "Asia/Bangkok"
    assert recipient_zone({"payload": {}}, {"timezone": "America/Lima"}) == "America/Lima"
    assert recipient_zone({"payload": None}, None) == "UTC"
    evening = datetime(2000, 3, 31, 17, 0, tzinfo=UTC)
    assert local_day(evening, "Asia/Bangkok") == date(2000, 4, 1)  # midnight has passed there
    assert local_day(evening, "America/Lima") == date(2000, 3, 31)


def test_owners_and_delegates_share_the_actions_thread_everyone_else_the_escalations() -> None:
    assert [
        (role_of(r), thread_of(r))
        for r in (
            sample_row("reminder", "reminder", "owner"),
            sample_row("reminder", "reminder", "delegate"),
            sample_row("escalation", "escalation", "supervisor.supervisor"),
        )
    ] == [("owner", "action"), ("delegate", "action"), ("supervisor.supervisor", "escalation")]
    not_mine = {"type": "escalation", "step": "not-mine", "payload": {}}
    assert (role_of(not_mine), thread_of(not_mine)) == ("secretariat", "escalation")
    assert role_of({"type": "reminder", "step": "remind", "payload": None}) == "owner"


def test_a_summary_is_one_line_cut_at_a_word_near_110_characters() -> None:
    assert summary({"title": "Draft\r\nthe\tguidelines"}) == "Draft the guidelines"
    long = summary({"title": "word " * 40})
    assert long.endswith("…") and len(long) <= 111 and not long[:-1].endswith(" ")
    assert long[:-1].split() == ["word"] * len(long[:-1].split())  # no word cut in half
    assert summary({"title": None}) == ""


def test_days_left_and_overdue_count_from_the_recipients_own_day() -> None:
    facts = sample_facts()
    row = sample_row("reminder", "reminder", role_tz="Asia/Bangkok", date="2000-03-31")
    before_midnight = action_context(row, facts, {"name": "Jonas"}, IDENTITY, datetime(2000, 3, 24, 16, tzinfo=UTC))
    after_midnight = action_context(row, facts, {"name": "Jonas"}, IDENTITY, datetime(2000, 3, 24, 17, tzinfo=UTC))
    assert (before_midnight["days_left"], after_midnight["days_left"]) == (7, 6)
    assert after_midnight["headline"] == "Due in 6 days (31 March 2000)"
    assert after_midnight["recipient"] == {
        "name": "Jonas",
        "email": "jonas.lindqvist@example.org",
        "role": "owner",
        "role_words": "its owner",
        "deputy": False,
        "timezone": "Asia/Bangkok",
    }
    assert {"preferences", "done"} <= set(after_midnight["links"])
    assert after_midnight["links"]["done"].startswith("https://plans.example.org/")
    late = sample_row("overdue", "overdue", date="2000-03-12", role_tz="Europe/Zurich")
    assert action_context(late, facts, {}, IDENTITY, datetime(2000, 3, 24, 8, tzinfo=UTC))["days_overdue"] == 12


def test_only_a_milestone_gets_a_calendar_event_and_an_extension_keeps_the_uid_of_the_old_date() -> None:
    facts = sample_facts()
    reminder = calendar_event(sample_row("reminder", "reminder"), facts)
    assert reminder is not None
    assert (reminder.uid, reminder.day) == ("gb276-tc2-i.1a.1-due-2000-03-31@planwatch", date(2000, 3, 31))
    assert reminder.summary.startswith("[I.1a.1] Due: ")
    extended = calendar_event(sample_row("extension_granted", "reminder", to="2000-06-30"), facts)
    assert extended is not None
    assert (extended.uid, extended.day) == (reminder.uid, date(2000, 6, 30))  # the same event, moved
    assert calendar_event(sample_row("escalation", "escalation", "supervisor"), facts) is None
    assert calendar_event(sample_row("overdue", "overdue", missed="check-in"), facts) is None


def test_a_recipients_role_is_said_in_words() -> None:
    from engine.mail.context import role_words

    assert role_words("supervisor") == "its owner's supervisor"
    assert role_words("supervisor.supervisor") == "2 levels above its owner"
    assert role_words("committee@example.org") == "someone the plan's rules name"
    row = sample_row("escalation", "escalation", "supervisor.supervisor")
    context = action_context(row, sample_facts(), {"name": "Amara Okafor"}, IDENTITY, datetime(2000, 3, 24, tzinfo=UTC))
    assert context["recipient"]["role_words"] == "2 levels above its owner"


def test_a_stale_notice_and_its_ladder_get_no_calendar_event() -> None:
    facts = sample_facts()
    stale = sample_row("stale", "reminder", occurrence="stale 2000-03-31", since="2000-01-15")
    assert calendar_event(stale, facts) is None
    assert calendar_event(sample_row("overdue", "overdue", missed="update"), facts) is None
