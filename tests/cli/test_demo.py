"""``planwatch demo``: the example plan's life, and figures that agree with the database."""

from __future__ import annotations

import mailbox
import re
import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from engine.cli.demo import Busiest, DemoSummary, check_delivery, print_summary, signing_key
from engine.cli.main import run
from engine.clock import FixedClock
from engine.read.queries import SentMessage
from engine.rules.loader import load_rules
from engine.settings import Settings
from engine.store import make_engine, upgrade
from engine.store.state import recorded_link_key
from engine.web import create_app


@pytest.mark.slow
def test_demo_summary_matches_the_database_and_the_maildir(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["demo"]) == 0
    out = capsys.readouterr().out
    for heading in ("Part I", "Part II", "Part III", "1(a)", "(e) With the private sector"):
        assert heading in out
    assert "Completed by April 2000" in out and "First initiatives first half 2000" in out
    messages = re.search(
        r"Messages sent: (\d+) reminders, (\d+) check-ins, (\d+) overdue notices, (\d+) escalations, (\d+) digests", out
    )
    deadlines = re.search(r"Deadlines: (\d+) done on time, (\d+) done late, (\d+) still overdue", out)
    log = re.search(r"Escalation log: (\d+) steps \(level 0: (\d+), level 1: (\d+), level 2: (\d+)\)", out)
    maildir = re.search(r"(\d+) messages are in the Maildir (\S+)", out)
    assert messages and deadlines and log and maildir, out
    assert "report implementation --as-of 2001-12-31 --since 2001-06-30 --out report.docx" in out
    db = sqlite3.connect(workdir / "out" / "planwatch-demo.db")
    sent = dict(db.execute("select type, count(*) from outbox where status='sent' group by type").fetchall())
    assert [int(n) for n in messages.groups()] == [
        sent.get(k, 0) for k in ("reminder", "checkin", "overdue", "escalation", "digest")
    ]
    levels = dict(db.execute("select level, count(*) from escalation group by level").fetchall())
    assert [int(n) for n in log.groups()[1:]] == [levels.get(k, 0) for k in (0, 1, 2)]  # owner, supervisor, above
    assert int(maildir[1]) == sum(sent.values()) == len(mailbox.Maildir(workdir / "out" / "maildir", create=False))
    on_time, late, overdue = map(int, deadlines.groups())
    assert on_time >= 20 and late >= 1 and overdue >= 1
    done = db.execute("select count(*) from action where status='done'").fetchone()[0]
    assert done >= on_time + late
    # the replayed extension moved II.3.4, which was then done within it
    assert db.execute("select extended_to, status from action where ref='II.3.4'").fetchone() == ("2000-07-31", "done")
    # timely, in business hours, and the owner first
    checkins = re.search(r"^Check-ins on time: (\d+) of (\d+) \(none more than a business day late\)\.$", out, re.M)
    assert checkins and checkins[1] == checkins[2] == str(sent["checkin"]), out
    assert re.search(r"^Sent outside business hours: none\.$", out, re.M), out
    assert re.search(r"^Escalations before the owner was told: none\.$", out, re.M), out
    zones = dict(db.execute("select id, timezone from owner").fetchall())
    rows = db.execute("select recipient_id, sent_at from outbox where status='sent'").fetchall()
    for recipient, sent_at in rows:  # never on a weekend in the recipient's own zone
        local = datetime.fromisoformat(sent_at).replace(tzinfo=UTC).astimezone(ZoneInfo(zones[recipient]))
        assert local.weekday() < 5 and local.hour >= 9, (recipient, local)
    # quiet: nobody hears of escalations more than five times in a week (a digest that carries any counts once)
    busiest = re.search(r"^Most escalation messages to one person in a week: (\d+) \((.+), week of ", out, re.M)
    assert busiest and int(busiest[1]) <= 5, out
    weeks: Counter[tuple[str, str]] = Counter()
    query = "select recipient_id, type, sent_at, payload from outbox where status='sent' and type in (?, ?)"
    for recipient, kind, sent_at, payload in db.execute(query, ("escalation", "digest")):
        if kind == "digest" and '"type": "escalation"' not in payload:
            continue
        local = datetime.fromisoformat(sent_at).replace(tzinfo=UTC).astimezone(ZoneInfo(zones[recipient]))
        weeks[(recipient, local.strftime("%G-%V"))] += 1
    most = max(weeks.values())
    names = dict(db.execute("select id, name from owner").fetchall())
    assert int(busiest[1]) == most and busiest[2] in {names[r] for (r, _), n in weeks.items() if n == most}
    digested = db.execute("select count(*) from outbox where status='digested' and type='escalation'").fetchone()[0]
    assert digested > 0  # the example's busiest supervisor takes her escalations in a daily digest
    db.close()


def test_the_summary_counts_late_checkins_off_hours_messages_and_escalations_before_the_owner(
    workdir: Path,
) -> None:
    """The three delivery lines count what breaks them: a late check-in, a Sunday message, an early escalation."""
    rules = load_rules(workdir / "rules")
    utc = UTC
    checkin = SentMessage(
        1,
        "c1",
        "checkin",
        "owner",
        "Asia/Bangkok",
        datetime(2000, 4, 7, 2, tzinfo=utc),
        datetime(2000, 4, 7, 2, tzinfo=utc),
    )
    late = replace(checkin, occurrence="c2", sent_at=datetime(2000, 4, 11, 2, tzinfo=utc))  # Fri planned, Tue sent
    songkran = replace(
        checkin,
        occurrence="c3",
        due_at=datetime(2000, 4, 12, 2, tzinfo=utc),
        sent_at=datetime(2000, 4, 13, 2, tzinfo=utc),
    )
    sunday = SentMessage(
        2,
        "d1",
        "reminder",
        "boss",
        "Europe/Zurich",
        datetime(2000, 4, 9, 7, tzinfo=utc),
        datetime(2000, 4, 9, 7, tzinfo=utc),
    )
    early = SentMessage(
        3,
        "e1",
        "escalation",
        "boss",
        "Europe/Zurich",
        datetime(2000, 4, 5, 7, tzinfo=utc),
        datetime(2000, 4, 5, 7, tzinfo=utc),
    )
    told_late = SentMessage(
        3,
        "e1",
        "overdue",
        "owner",
        "Asia/Bangkok",
        datetime(2000, 4, 6, 2, tzinfo=utc),
        datetime(2000, 4, 10, 2, tzinfo=utc),
    )
    told_first = replace(early, occurrence="e2", type="overdue", recipient_id="owner")
    after = replace(early, occurrence="e2", sent_at=datetime(2000, 4, 5, 8, tzinfo=utc))
    summary = DemoSummary()
    messages = [checkin, late, songkran, sunday, early, told_late, told_first, after]
    check_delivery(summary, messages, {1: {"owner"}, 2: {"owner"}, 3: {"owner"}}, rules, "Europe/Zurich")
    assert (summary.checkins, summary.checkins_late) == (3, 1)  # Songkran (13-15 April) counts no business day
    assert summary.outside_hours == 2  # the Sunday reminder, and the Bangkok check-in sent on Songkran
    assert summary.escalations_before_owner == 1
    console = Console(record=True, width=200)
    print_summary(console, summary, workdir / "x.db")
    text = console.export_text()
    assert "Check-ins on time: 2 of 3 (1 more than a business day late)." in text
    assert "Sent outside business hours: 2." in text and "Escalations before the owner was told: 1." in text
    assert "Most escalation messages to one person in a week: none." in text
    summary.busiest = Busiest(4, "Amara Okafor", date(2001, 1, 29))
    console = Console(record=True, width=200)
    print_summary(console, summary, workdir / "x.db")
    assert (
        "Most escalation messages to one person in a week: 4 (Amara Okafor, week of 29 January 2001; a digest counts"
        " as one)." in console.export_text()
    )


@pytest.mark.slow
def test_the_demos_links_work_against_the_web_app_serving_its_database(workdir: Path) -> None:
    """No key configured: the demo signs with a key of its own, kept in its database, where the web app finds it."""
    assert run(["demo", "--out", str(workdir / "demo")]) == 0
    box = mailbox.Maildir(workdir / "demo" / "maildir", create=False)
    found = [(m, _plain(m)) for m in box if str(m["Subject"]).startswith("[I.1a.1]")]
    # a reminder before the due date carries the link to report it done (the verifier's answer carries none)
    message, text = next((m, t) for m, t in found if "/done" in t)
    link = re.search(r"http://localhost:8000(/a/[\w.-]+/done)", text)
    assert link, text
    sent = parsedate_to_datetime(str(message["Date"])).astimezone(UTC)
    app = create_app(
        Settings(database_url=f"sqlite:///{workdir / 'demo' / 'planwatch-demo.db'}"), clock=FixedClock(sent)
    )
    with TestClient(app) as client:
        page = client.get(link[1])
        assert page.status_code == 200, page.text
        assert "I.1a.1" in page.text and "This link does not work" not in page.text
        other = create_app(
            Settings(database_url=f"sqlite:///{workdir / 'demo' / 'planwatch-demo.db'}", secret_key="another key"),
            clock=FixedClock(sent),
        )
        with TestClient(other) as elsewhere:  # a planwatch with a key of its own does not take them
            refused = elsewhere.get(link[1])
            assert refused.status_code == 400 and "made by another planwatch installation" in refused.text


def _plain(message: mailbox.MaildirMessage) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return bytes(part.get_payload(decode=True)).decode()


def test_with_a_key_configured_the_demo_signs_with_it_and_keeps_no_key(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    at = datetime(2026, 1, 5, tzinfo=UTC)
    assert signing_key(engine, Settings(secret_key="configured"), at) == (Settings(secret_key="configured"), False)
    assert recorded_link_key(engine) == ""
    made, own = signing_key(engine, Settings(), at)
    assert own and len(made.secret_key) >= 32 and recorded_link_key(engine) == made.secret_key
    engine.dispose()
