"""E-mail messages: headers, parts, threading, calendar attachment, signed links, golden files."""

from __future__ import annotations

import base64
import os
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from engine.actions.links import (
    OWNER_VERBS,
    LinkError,
    action_links,
    preferences_url,
    read_link,
    sign_link,
)
from engine.calendars.uids import event_uid
from engine.mail.checks import (
    SAMPLE_NOW,
    sample_facts,
    sample_message,
    sample_row,
    sample_rows,
    standalone_row,
)
from engine.mail.messages import as_bytes, headline, message_id, thread_index
from engine.mail.render import MailIdentity, Renderer

from ..conftest import ROOT

GOLDEN = Path(__file__).parent.parent / "golden"
TEMPLATES = ROOT / "templates"
SHIPPED = [
    "campaign",
    "checkin",
    "closure_returned",
    "closure_verified",
    "delivery_report",
    "digest",
    "escalation",
    "extension_granted",
    "extension_refused",
    "extension_requested",
    "final_reminder",
    "not_mine",
    "overdue",
    "reminder",
    "stale",
    "verification_overdue",
    "verification_request",
]
IDENTITY = MailIdentity(
    sender="Plan Watch <planwatch@example.org>", base_url="https://plans.example.org/", secret_key="test-key"
)


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def build(row: dict, title: str = "Circulate the implementation plan", identity: MailIdentity = IDENTITY) -> bytes:  # type: ignore[type-arg]
    return as_bytes(sample_message(Renderer([TEMPLATES], identity), row, sample_facts(title)))


@pytest.mark.parametrize(
    ("kind", "payload", "today", "words"),
    [
        ("reminder", {"date": "2000-04-30"}, date(2000, 4, 23), "Due in 7 days (30 April 2000)"),
        ("reminder", {"date": "2000-04-30"}, date(2000, 4, 29), "Due tomorrow (30 April 2000)"),
        ("reminder", {"date": "2000-04-30"}, date(2000, 4, 30), "Due today (30 April 2000)"),
        ("reminder", {"date": "2000-04-30", "what": "starts"}, date(2000, 4, 28), "Starts in 2 days (30 April 2000)"),
        ("overdue", {"date": "2000-04-30"}, date(2000, 5, 12), "12 days overdue (due 30 April 2000)"),
        ("escalation", {"date": "2000-04-30"}, date(2000, 5, 1), "1 day overdue (due 30 April 2000)"),
        ("overdue", {"date": "2000-04-30"}, date(2000, 4, 30), "Overdue (due 30 April 2000)"),
        ("reminder", {"date": "2000-04-30", "days_left": 3}, None, "Due in 3 days (30 April 2000)"),
    ],
    ids=["week", "tomorrow", "today", "starts", "twelve-late", "one-late", "same-day", "planned-days"],
)
def test_the_headline_says_what_changed_in_words_next_to_the_date(
    kind: str, payload: dict, today: date | None, words: str
) -> None:  # type: ignore[type-arg]
    assert headline(kind, payload, today) == words


def test_event_uid_is_the_documented_scheme() -> None:
    assert event_uid("gb276-tc2", "I.1a.1", "due", date(2000, 3, 31)) == "gb276-tc2-i.1a.1-due-2000-03-31@planwatch"
    assert event_uid("GB 276/TC", "II.3(b)", "starts", "2000-01-01") == "gb-276-tc-ii.3-b--start-2000-01-01@planwatch"


def test_a_message_has_every_header_and_part() -> None:
    msg = parse(build(sample_row("reminder", "reminder")))
    for name in (
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Thread-Topic",
        "Thread-Index",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    ):
        assert msg[name], name
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"].startswith("<https://plans.example.org/preferences/")
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()  # type: ignore[misc]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert attachment.get_content_type() == "text/calendar" and attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "gb276-tc2-i.1a.1-due-2000-03-31.ics"
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert body.splitlines()[0] == "Due in 7 days (31 March 2000)"
    assert msg["Date"] == "Fri, 24 Mar 2000 09:00:00 +0100"  # the recipient's own zone


def test_the_ics_attachment_is_one_all_day_published_event_with_the_feed_uid() -> None:
    msg = parse(build(sample_row("reminder", "reminder")))
    part = next(msg.iter_attachments())
    calendar = Calendar.from_ical(part.get_content())
    assert str(calendar["METHOD"]) == "PUBLISH"
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["UID"]) == event_uid("gb276-tc2", "I.1a.1", "due", date(2000, 3, 31))
    assert event.decoded("DTSTART") == date(2000, 3, 31) and event.decoded("DTEND") == date(2000, 4, 1)
    assert event.decoded("DTSTAMP") == datetime(1999, 9, 28, 9, 0, tzinfo=UTC)  # from the data, not the clock


def test_no_attachment_for_an_escalation_or_a_digest() -> None:
    for row in (sample_row("escalation", "escalation", "supervisor"), standalone_row("digest")):
        msg = parse(build(row))
        assert msg.get_content_type() == "multipart/alternative"
        assert list(msg.iter_attachments()) == []


def test_message_id_follows_the_outbox_key_and_a_resend_is_identical() -> None:
    row = sample_row("reminder", "reminder")
    first, again = build(row), build(row)
    assert first == again
    assert parse(first)["Message-ID"] == message_id(row["key"], "example.org")
    other = parse(build(row | {"key": row["key"] + "x"}))
    assert other["Message-ID"] != parse(first)["Message-ID"]


def test_one_action_threads_together_and_supervisors_have_their_own_thread() -> None:
    owner = [
        parse(build(sample_row(name, kind)))
        for name, kind in (
            ("reminder", "reminder"),
            ("final_reminder", "reminder"),
            ("overdue", "overdue"),
            ("checkin", "checkin"),
        )
    ]
    boss = [
        parse(build(sample_row("escalation", "escalation", "supervisor", level=n) | {"key": f"escalate:{n}"}))
        for n in (1, 2, 3)
    ]
    assert len({m["Subject"] for m in owner}) == 1 and len({m["In-Reply-To"] for m in owner}) == 1
    assert len({m["Subject"] for m in boss}) == 1 and len({m["References"] for m in boss}) == 1
    assert owner[0]["In-Reply-To"] != boss[0]["In-Reply-To"]
    assert owner[0]["Subject"] == "[I.1a.1] Circulate the implementation plan"
    assert boss[0]["Subject"] == "[I.1a.1] Escalation: Circulate the implementation plan"
    assert len({m["Message-ID"] for m in owner + boss}) == 7
    indexes = [base64.b64decode(str(m["Thread-Index"])) for m in owner]
    assert all(len(i) == 27 for i in indexes)  # a 22-byte header block and one 5-byte child block
    assert len({i[:22] for i in indexes}) == 1  # Outlook groups on the header block
    assert str(owner[0]["Thread-Topic"]) == str(owner[0]["Subject"])


def test_thread_index_child_block_counts_time_from_the_root() -> None:
    start = datetime(2000, 1, 1, tzinfo=UTC)
    later = base64.b64decode(thread_index("k", start, start + timedelta(days=30)))
    sooner = base64.b64decode(thread_index("k", start, start + timedelta(days=1)))
    assert later[:22] == sooner[:22]
    assert int.from_bytes(later[22:26], "big") > int.from_bytes(sooner[22:26], "big")


def test_cr_lf_and_non_ascii_never_make_a_header() -> None:
    evil = "Zoë\r\nBcc: evil@example.org\r\n\r\nfake body"
    row = sample_row("reminder", "reminder")
    facts = sample_facts("Réunion\r\nBcc: evil@example.org")
    facts = type(facts)(
        facts.action, facts.plan, facts.section, facts.part, dict(facts.owner or {}) | {"name": evil}, facts.history
    )
    raw = as_bytes(sample_message(Renderer([TEMPLATES], IDENTITY), row, facts))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # non-ASCII goes in encoded words
    assert b"\r\nBcc:" not in head and b"\nBcc:" not in raw.split(b"\r\n\r\n", 1)[0]
    msg = parse(raw)
    assert msg["Bcc"] is None
    assert msg["To"].addresses[0].display_name == "Zoë Bcc: evil@example.org fake body"
    assert msg["To"].addresses[0].addr_spec == "jonas.lindqvist@example.org"
    assert str(msg["Subject"]) == "[I.1a.1] Réunion Bcc: evil@example.org"


def test_a_bad_address_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="not a usable e-mail address"):
        build(
            sample_row("reminder", "reminder")
            | {"recipient": "zora@example.org\r\nBcc: evil@example.org", "recipient_id": None}
        )


def test_links_are_signed_expire_and_tell_their_kind() -> None:
    sent = datetime(2000, 3, 24, 8, tzinfo=UTC)
    links = action_links("https://plans.example.org/", "key", "gb276-tc2", "I.1a.1", "program", sent)
    assert set(links) == set(OWNER_VERBS)
    supervisor = action_links("https://plans.example.org/", "key", "gb276-tc2", "I.1a.1", "mid", sent, "supervisor")
    assert set(supervisor) == {"acknowledge", "grant", "refuse", "reassign", "view"}
    assert read_link("key", supervisor["acknowledge"].split("/")[-2], sent).role == "supervisor"
    assert action_links("https://plans.example.org/", "key", "gb276-tc2", "I.1a.1", "x@example.org", sent, "") == {}
    plain = action_links("https://plans.example.org/", "key", "gb276-tc2", "I.1a.1", "x@example.org", sent, "viewer")
    assert list(plain) == ["view"] and read_link("key", plain["view"].split("/")[-2], sent).role == "viewer"
    token = links["done"].split("/a/", 1)[1].rsplit("/", 1)[0]
    assert links["done"].endswith("/done") and links["not_mine"].endswith("/not_mine")
    link = read_link("key", token, sent + timedelta(days=1))
    assert (link.plan_id, link.ref, link.recipient) == ("gb276-tc2", "I.1a.1", "program")
    with pytest.raises(LinkError, match="expired"):
        read_link("key", token, sent + timedelta(days=61))
    with pytest.raises(LinkError, match="another planwatch installation"):
        read_link("other key", token, sent)
    with pytest.raises(LinkError, match="cut short"):
        read_link("key", token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], sent)
    prefs = preferences_url("https://plans.example.org", "key", "program", sent).rsplit("/", 1)[1]
    with pytest.raises(LinkError, match="not a planwatch act link"):
        read_link("key", prefs, sent)
    assert read_link("key", prefs, sent, "preferences").recipient == "program"
    same = sign_link("key", "act", "p", "r", "u", sent)
    assert same == sign_link("key", "act", "p", "r", "u", sent) != sign_link("key", "act", "p", "r", "v", sent)


GOLDEN_CASES = [
    (name, i)
    for name in SHIPPED
    for i in (
        [0] if name in {"digest", "delivery_report", "campaign"} else [0, 1, 2, 3] if name == "escalation" else [0, 1]
    )
]


def golden_row(name: str, variant: int) -> dict:  # type: ignore[type-arg]
    """The owner's message (0), the supervisor's (1); for escalations also a plain address's (2) and a
    supervisor's about an unanswered check-in (3)."""
    rows = list(sample_rows(name))
    if variant == 2:
        return rows[3] | {"recipient": "committee@example.org", "recipient_id": None}
    return rows[{0: 0, 1: 3, 3: 5}[variant]]


@pytest.mark.parametrize(("name", "variant"), GOLDEN_CASES, ids=[f"{n}-{v}" for n, v in GOLDEN_CASES])
def test_rendered_messages_match_the_golden_files(name: str, variant: int) -> None:
    """Byte for byte; after a deliberate change: PLANWATCH_UPDATE_GOLDEN=1 pytest tests/mail/test_messages.py,
    then read each changed file as its recipient would."""
    raw = as_bytes(sample_message(Renderer([TEMPLATES], IDENTITY), golden_row(name, variant), now=SAMPLE_NOW))
    path = GOLDEN / f"{name}-{variant}.eml"
    if os.environ.get("PLANWATCH_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(raw)
    assert raw == path.read_bytes()


def test_every_shipped_template_has_golden_files_and_every_golden_file_is_checked() -> None:
    assert sorted(Renderer([TEMPLATES]).names()) == sorted(SHIPPED)
    assert sorted(p.name for p in GOLDEN.glob("*.eml")) == sorted(f"{n}-{v}.eml" for n, v in GOLDEN_CASES)


def test_a_body_with_a_line_too_long_for_8bit_is_quoted_printable() -> None:
    msg = parse(build(sample_row("reminder", "reminder"), title="x" * 1200))
    plain_part = msg.get_body(("plain",))
    assert plain_part is not None and plain_part["Content-Transfer-Encoding"] == "quoted-printable"
    assert "x" * 1200 in plain_part.get_content()
    short = parse(build(sample_row("reminder", "reminder")))
    assert short.get_body(("plain",))["Content-Transfer-Encoding"] == "8bit"  # type: ignore[index]


def _icalendar_text(event):  # type: ignore[no-untyped-def]
    """The attachment as the icalendar library writes it: the reference for planwatch's writer."""
    from icalendar import Event

    from engine.mail.messages import one_line

    cal = Calendar()
    cal.add("prodid", "-//planwatch//planwatch//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    item = Event()
    item.add("uid", event.uid)
    item.add("dtstamp", event.stamp.astimezone(UTC))
    item.add("dtstart", event.day)
    item.add("dtend", event.day + timedelta(days=1))
    if event.recurrence_id is not None:
        item.add("recurrence-id", event.recurrence_id)
    item.add("summary", one_line(event.summary))
    item.add("description", event.description)
    item.add("transp", "TRANSPARENT")
    cal.add_component(item)
    return cal.to_ical().decode("utf-8")


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from('\n,;\\:"é—'), max_size=200)


@settings(max_examples=150, deadline=None)
@given(
    summary=TEXT,
    description=TEXT,
    day=st.dates(date(1990, 1, 1), date(2100, 12, 31)),
    uid=st.from_regex(r"[a-z0-9.-]{1,120}@planwatch", fullmatch=True),
    occurrence=st.booleans(),
)
def test_the_ics_attachment_is_written_exactly_as_icalendar_writes_it(
    summary: str, description: str, day: date, uid: str, occurrence: bool
) -> None:
    from engine.mail.messages import CalendarEvent, calendar_text

    stamp = datetime(1999, 9, 28, 12, tzinfo=UTC)
    event = CalendarEvent(uid, day, summary, description, stamp, "a.ics", day if occurrence else None)
    assert calendar_text(event) == _icalendar_text(event)


@settings(max_examples=150, deadline=None)
@given(subject=TEXT, name=TEXT, text=TEXT, html=st.none() | TEXT, event=st.booleans(), long=st.booleans())
def test_messages_go_on_the_wire_exactly_as_the_stdlib_generator_writes_them(
    subject: str, name: str, text: str, html: str | None, event: bool, long: bool
) -> None:
    from engine.mail.messages import CalendarEvent, Envelope, build_message, generated, seven_bit
    from engine.mail.render import Rendered

    stamp = datetime(1999, 9, 28, 12, tzinfo=UTC)
    ics = CalendarEvent("a-1@planwatch", date(2000, 4, 30), subject, text, stamp, "a.ics") if event else None
    body = text + ("é" * 400 if long else "")
    envelope = Envelope("k|1", (name, "who@example.org"), stamp, "https://x.example/p", "t", stamp, ics)
    msg = build_message(Rendered(subject, body, html), envelope, IDENTITY)
    assert as_bytes(msg) == generated(msg)
    again = seven_bit(msg)  # a copy whose 8bit parts (the shared .ics one too) became quoted-printable
    assert as_bytes(again) == generated(again)
    assert as_bytes(msg) == generated(msg)  # the shared part is untouched


def test_a_message_of_a_shape_planwatch_does_not_build_is_written_by_the_stdlib_generator() -> None:
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    from engine.mail.messages import generated

    msg = MIMEMultipart("mixed", boundary="b1")
    msg.preamble = "This is a MIME message.\n"
    msg.attach(MIMEText("hello\nworld\n", "plain", "utf-8"))
    assert as_bytes(msg) == generated(msg) and b"This is a MIME message." in as_bytes(msg)


@pytest.mark.parametrize(
    ("kind", "payload", "language", "words"),
    [
        # the owner's reminder of a long silence, held for a digest or in the history: never a due date
        (
            "reminder",
            {"date": "2027-04-06", "occurrence": "stale 2027-04-06", "since": "2027-01-15"},
            "en",
            "No update since 15 January 2027",
        ),
        (
            "reminder",
            {"date": "2027-04-06", "occurrence": "stale 2027-04-06", "since": "2027-01-15"},
            "es",
            "Sin información actualizada desde el 15 de enero de 2027",
        ),
        # the ladder after it: no news since the reminder
        (
            "escalation",
            {"date": "2027-04-06", "days_overdue": 15, "missed": "update"},
            "en",
            "No update since the reminder of 6 April 2027",
        ),
        # an unanswered check-in is unanswered, not days overdue
        (
            "escalation",
            {"date": "2026-06-02", "days_overdue": 59, "missed": "check-in"},
            "en",
            "Check-in of 2 June 2026 unanswered",
        ),
        (
            "overdue",
            {"date": "2026-06-02", "days_overdue": 59, "missed": "check-in"},
            "fr",
            "Point d'étape du 2 juin 2026 sans réponse",
        ),
    ],
    ids=["stale", "stale-es", "stale-ladder", "check-in", "check-in-fr"],
)
def test_a_notice_that_asked_for_news_never_reads_as_a_deadline(
    kind: str,
    payload: dict,
    language: str,
    words: str,  # type: ignore[type-arg]
) -> None:
    said = headline(kind, payload, date(2027, 4, 6), language)
    assert said == words
    assert "overdue" not in said and "Due" not in said


@given(
    kind=st.sampled_from(["reminder", "overdue", "escalation"]),
    missed=st.sampled_from(["check-in", "update"]),
    late=st.integers(0, 400),
    language=st.sampled_from(["en", "fr", "es"]),
)
@settings(max_examples=60, deadline=None, derandomize=True)
def test_no_notice_about_a_check_in_or_a_silence_says_overdue(kind: str, missed: str, late: int, language: str) -> None:
    occurrence = "stale 2027-04-06" if missed == "update" else "check-in 2027-04-06"
    payload = {"date": "2027-04-06", "days_overdue": late, "occurrence": occurrence, "since": "2027-01-15"}
    if kind != "reminder":
        payload["missed"] = missed
    elif missed == "check-in":
        return  # a check-in is its own kind of message, never a reminder
    said = headline(kind, payload, date(2027, 4, 6) + timedelta(days=late), language)
    for overdue in ("overdue", "retard", "retraso", "Due ", "Échéance", "Vence"):
        assert overdue not in said


def test_a_check_in_calls_a_start_work_under_way_and_ongoing_work_ongoing() -> None:
    from dataclasses import replace

    facts = sample_facts()
    renderer = Renderer([TEMPLATES], IDENTITY)
    row = sample_row("checkin", "checkin")

    def text(kind: str) -> str:
        changed = replace(facts, action=dict(facts.action) | {"kind": kind, "timeframe": "As soon as possible"})
        body = parse(as_bytes(sample_message(renderer, row, changed))).get_body(("plain",))
        assert body is not None
        return str(body.get_content())

    started = text("start")
    assert "has started and is under way." in started and "ongoing work" not in started
    assert "is ongoing work." in text("continuous")
