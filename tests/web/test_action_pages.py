"""*My actions*, the action sheet and the owner's forms (``engine.web.action_pages``), through the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from sqlmodel import select

from engine.calendars.build import Feed, FeedOptions
from engine.calendars.feeds import FeedService
from engine.clock import FixedClock
from engine.plandoc import KINDS
from engine.store import transaction
from engine.store.models import Action, ActionChange, Escalation, Outbox

from ..web_support import NOW, action_id, add_escalation, csrf_of
from .conftest import escalation_id, status_of
from .one_step import Site
from .one_step import one_step_site as one_step


@pytest.fixture
def one_step_site(database_url: str, tmp_path: Path) -> Iterator[Site]:
    """The site with one-step closure: the owner's "done" closes the action at once."""
    yield from one_step(database_url, tmp_path)


def test_my_actions_lists_the_owners_open_actions_by_due_date(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    page = client("hrd").get("/my").text
    refs = [ref for ref in ("II.3.1", "II.3.2", "II.3.3", "II.3.4", "II.3.5", "II.3.6") if ref in page]
    assert len(refs) == 6
    assert "III.d.1" not in page and "I.2a.1" not in page
    positions = sorted((page.index(f">{ref}</a>"), ref) for ref in refs)
    assert positions[0][1] == "II.3.1" or "overdue" in page  # earliest due first


def test_an_owner_cannot_see_or_change_another_owners_action(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    pardev = client("pardev")
    other = action_id(engine, "I.2a.1")  # codev's
    assert pardev.get(f"/actions/{other}").status_code == 404
    assert pardev.get("/actions/999999").status_code == 404
    token = csrf_of(pardev.get("/my").text)
    for verb, data in (
        ("done", {}),
        ("progress", {"state": "at risk"}),
        ("extension", {"to": "2001-01-01", "reason": "x"}),
        ("extend", {"to": "2001-01-01"}),
        ("not-mine", {}),
    ):
        answer = pardev.post(f"/actions/{other}/{verb}", data={"csrf": token, **data}, follow_redirects=False)
        assert answer.status_code == 404, verb
    assert status_of(engine, "I.2a.1") == "open"
    escalations = pardev.get("/escalations?state=all").text
    assert "III.d.1" in escalations and "I.2a.1" not in escalations and "I.2b.1" not in escalations
    assert "Acknowledge" not in escalations  # nobody reports to pardev
    ack = pardev.post(f"/escalations/{escalation_id(engine, 'I.2a.1')}/acknowledge", data={"csrf": token})
    assert ack.status_code == 404


def test_owner_forms_mark_done_report_progress_and_ask_for_an_extension(one_step_site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = one_step_site
    hrd = client("hrd")
    token = csrf_of(hrd.get("/my").text)
    ident = action_id(engine, "II.3.1")
    progress = hrd.post(
        f"/actions/{ident}/progress",
        data={"csrf": token, "state": "at risk", "note": "budget", "back": "my"},
        follow_redirects=False,
    )
    assert progress.headers["location"] == f"/my?ok=progress&action={ident}"
    assert "Progress recorded for II.3.1 “" in hrd.get(progress.headers["location"]).text
    assert "Progress recorded for II.3.1 “" in hrd.get(f"/actions/{ident}?ok=progress").text
    assert "Progress recorded." in client("codev").get(f"/my?ok=progress&action={ident}").text  # not codev's
    assert status_of(engine, "II.3.1") == "in_progress"
    ask = hrd.post(
        f"/actions/{ident}/extension",
        data={"csrf": token, "to": "2000-09-30", "reason": "budget delay"},
        follow_redirects=False,
    )
    assert ask.status_code == 303
    assert "extension requested" in hrd.get("/my").text
    bad = hrd.post(f"/actions/{ident}/extension", data={"csrf": token, "to": "1999-01-01", "reason": "x"})
    assert bad.status_code == 400 and "is not after the current due date" in bad.text
    worse = hrd.post(f"/actions/{ident}/extension", data={"csrf": token, "to": "soon", "reason": "x"})
    assert worse.status_code == 400 and "expected a date" in worse.text
    done = hrd.post(
        f"/actions/{action_id(engine, 'II.3.2')}/done", data={"csrf": token, "note": "filed"}, follow_redirects=False
    )
    assert done.status_code == 303 and status_of(engine, "II.3.2") == "done"
    with transaction(engine) as session:
        change = session.exec(
            select(ActionChange).where(ActionChange.field == "status", ActionChange.new == "done")
        ).one()
        assert (change.who, change.via, change.note) == ("hrd", "web", "filed")
    sheet = hrd.get(f"/actions/{ident}").text
    assert "extension requested" in sheet and "budget delay" in sheet and "pending" in sheet


def test_a_supervisor_extends_directly_from_the_log(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    boss = client("ed-devcoop")
    token = csrf_of(boss.get("/escalations").text)
    ident = action_id(engine, "III.d.1")
    answer = boss.post(
        f"/actions/{ident}/extend", data={"csrf": token, "to": "2000-09-15", "reason": "agreed"}, follow_redirects=False
    )
    assert answer.status_code == 303
    with transaction(engine) as session:
        entry = session.get(Escalation, escalation_id(engine, "III.d.1"))
        assert entry is not None and entry.resolution == "extended to 2000-09-15"
    assert client("pardev").post(
        f"/actions/{ident}/extend", data={"csrf": csrf_of(client("pardev").get("/my").text), "to": "2002-01-01"}
    ).status_code in (403,)


def test_the_action_sheet_shows_everything_about_an_action(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings, _ = site
    ident = action_id(engine, "I.2b.1")
    with transaction(engine) as session:
        session.add(
            Outbox(
                key="m1",
                plan_id="gb276-tc2",
                action_id=ident,
                occurrence="",
                step="remind:due:14d",
                type="reminder",
                recipient="somchai.prasert@example.org",
                recipient_id="ro-bangkok",
                template="reminder",
                due_at=NOW - timedelta(days=20),
                status="sent",
                sent_at=NOW - timedelta(days=20),
                created_at=NOW,
            )
        )
    before = client("codev").get(f"/actions/{ident}").text
    # Before the feeds publish it, the sheet shows the UID they will publish it with.
    assert "gb276-tc2-i.2b.1-recurring-1999-09-28@planwatch" in before
    FeedService(engine, settings, FixedClock(NOW)).document(Feed("owner", "ro-bangkok"), FeedOptions())
    page = client("codev").get(f"/actions/{ident}").text
    assert "gb276-tc2-i.2b.1-recurring-1999-09-28@planwatch" in page
    for expected in (
        "I.2b.1",
        "Time frame as printed",
        "Read as",
        "Somchai Prasert",
        "Mei Tanaka → Amara Okafor → Office of the Director-General",
        "reminder 14 days before",  # the step in words, not remind:due:14d
        "somchai.prasert@example.org",
        "2nd level",
        "Calendar UID",
        "@planwatch",
        "Part I",
    ):
        assert expected in page, expected


def test_only_the_owner_hands_an_action_back_and_the_secretariat_is_told(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    ident = action_id(engine, "II.3.1")  # hrd's, and hrd reports to ed-devcoop
    boss = client("ed-devcoop")
    refused = boss.post(f"/actions/{ident}/not-mine", data={"csrf": csrf_of(boss.get("/my").text)})
    assert refused.status_code == 403 and "Not yours to hand back" in refused.text
    hrd = client("hrd")
    answer = hrd.post(
        f"/actions/{ident}/not-mine",
        data={"csrf": csrf_of(hrd.get("/my").text), "note": "belongs to finance"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/my?ok=not_mine"
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == "II.3.1")).one()
        assert action.owner_id is None
        told = session.exec(select(Outbox).where(Outbox.template == "not_mine")).one()
        assert (told.recipient_id, told.payload["from_owner"], told.payload["note"]) == (
            "secretariat",
            "hrd",
            "belongs to finance",
        )
    assert ">II.3.1</a>" not in hrd.get("/my").text


def test_the_forms_send_the_owner_back_where_they_came_from(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    hrd = client("hrd")
    token = csrf_of(hrd.get("/my").text)
    ident = action_id(engine, "II.3.3")
    for back, where in (
        ("escalations", "/escalations?ok=progress"),
        ("nowhere", f"/actions/{ident}?ok=progress&action={ident}"),
        ("", f"/actions/{ident}?ok=progress&action={ident}"),
    ):
        answer = hrd.post(
            f"/actions/{ident}/progress",
            data={"csrf": token, "state": "on track", "back": back},
            follow_redirects=False,
        )
        assert answer.headers["location"] == where, back


FEED_LINK = re.compile(r"http://testserver/feeds/([A-Za-z0-9_-]+)\.ics")


def test_an_owner_gets_and_rotates_calendar_links_on_my_actions(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    hrd = client("hrd")
    page = hrd.get("/my").text
    assert "Get my calendar links" in page and "/feeds/" not in page
    token = csrf_of(page)
    assert hrd.post("/my/calendar", data={}).status_code == 403  # no CSRF token
    made = hrd.post("/my/calendar", data={"csrf": token})
    assert made.status_code == 200 and "shown only this once" in made.text
    (first,) = FEED_LINK.findall(made.text)  # hrd supervises nobody: one feed
    assert f"webcal://testserver/feeds/{first}.ics" in made.text
    feed = client(None).get(f"/feeds/{first}.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    again = hrd.get("/my").text
    assert "/feeds/" not in again and "Rotate: make new calendar links" in again  # shown once only
    rotated = hrd.post("/my/calendar", data={"csrf": csrf_of(again)})
    (second,) = FEED_LINK.findall(rotated.text)
    assert second != first
    assert client(None).get(f"/feeds/{first}.ics").status_code == 404  # the old link stopped working
    assert client(None).get(f"/feeds/{second}.ics").status_code == 200


def test_a_supervisor_also_gets_the_team_feed(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    boss = client("ed-devcoop")
    made = boss.post("/my/calendar", data={"csrf": csrf_of(boss.get("/my").text)})
    assert "Your team" in made.text and len(set(FEED_LINK.findall(made.text))) == 2


def test_the_action_page_opens_by_reference(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    hrd = client("hrd")
    for path in ("/actions/gb276-tc2/II.3.1", "/actions/II.3.1"):
        answer = hrd.get(path)
        assert answer.status_code == 200 and "II.3.1" in answer.text, path
    assert hrd.get("/actions/gb276-tc2/I.2a.1").status_code == 404  # codev's
    assert hrd.get("/actions/I.2a.1").status_code == 404
    assert hrd.get("/actions/other-plan/II.3.1").status_code == 404
    assert hrd.get("/actions/II.9.9").status_code == 404


def test_every_feed_event_links_to_an_action_page_that_opens(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    hrd = client("hrd")
    made = hrd.post("/my/calendar", data={"csrf": csrf_of(hrd.get("/my").text)})
    (token,) = FEED_LINK.findall(made.text)
    calendar = Calendar.from_ical(client(None).get(f"/feeds/{token}.ics").content)
    urls = {str(event["URL"]) for event in calendar.walk("VEVENT")}
    assert urls and all(url.startswith("http://testserver/actions/gb276-tc2/") for url in urls)
    for url in sorted(urls):
        answer = hrd.get(url.removeprefix("http://testserver"))
        assert answer.status_code == 200 and url.rsplit("/", 1)[1] in answer.text, url


def test_an_action_with_an_open_escalation_says_what_is_open_never_on_track(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    checkin = add_escalation(engine, "k-checkin", "II.3.2", 1, ["supervisor"])
    with transaction(engine) as session:
        entry = session.get(Escalation, checkin)
        assert entry is not None
        entry.occurrence = "check-in 2000-05-20"
        session.add(entry)
    hrd = client("hrd")
    token = csrf_of(hrd.get("/my").text)
    hrd.post(f"/actions/{action_id(engine, 'II.3.1')}/extension", data={"csrf": token, "to": "2000-09-30"})
    page = hrd.get("/my").text
    card = page[page.index(">II.3.2</a>") :].split('class="meta">')[1].split("</p>")[0]
    assert "check-in unanswered" in card and "on track" not in card  # the card's state line
    asked = page[page.index(">II.3.1</a>") :].split("</article>")[0]
    assert "extension requested to 30 September 2000" in asked
    sheet = hrd.get(f"/actions/{action_id(engine, 'II.3.2')}").text
    assert "Needs attention" in sheet and "check-in unanswered" in sheet
    assert "/escalations?action=gb276-tc2%2FII.3.2&amp;state=open" in sheet
    calm = hrd.get(f"/actions/{action_id(engine, 'II.3.3')}").text
    assert "Needs attention" not in calm
    with transaction(engine) as session:  # acknowledged: nothing open any more
        entry = session.get(Escalation, checkin)
        assert entry is not None
        entry.acknowledged_at, entry.acknowledged_by = NOW, "hrd-boss"
        session.add(entry)
    assert "check-in unanswered" not in hrd.get(f"/actions/{action_id(engine, 'II.3.2')}").text


def test_marked_done_names_the_action_and_offers_to_reopen_it(one_step_site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = one_step_site
    hrd = client("hrd")
    token = csrf_of(hrd.get("/my").text)
    ident = action_id(engine, "II.3.1")
    hrd.post(f"/actions/{ident}/progress", data={"csrf": token, "note": "halfway", "back": "my"})
    done = hrd.post(f"/actions/{ident}/done", data={"csrf": token, "back": "my"}, follow_redirects=False)
    assert done.headers["location"] == f"/my?ok=done&action={ident}"
    page = hrd.get(done.headers["location"]).text
    assert "Marked II.3.1" in page and f'action="/actions/{ident}/reopen"' in page and "Undo: reopen II.3.1" in page
    assert status_of(engine, "II.3.1") == "done"
    other = client("pardev")  # not hers: no undo, and the reopen is refused as for no such action
    assert "Undo" not in other.get(f"/my?ok=done&action={ident}").text
    refused = other.post(f"/actions/{ident}/reopen", data={"csrf": csrf_of(other.get("/my").text)})
    assert refused.status_code == 404 and status_of(engine, "II.3.1") == "done"
    undone = hrd.post(f"/actions/{ident}/reopen", data={"csrf": token, "back": "my"}, follow_redirects=False)
    assert undone.status_code == 303 and undone.headers["location"] == f"/my?ok=reopened&action={ident}"
    assert status_of(engine, "II.3.1") == "in_progress"  # as it was before it was marked done
    assert "Reopened II.3.1" in hrd.get(undone.headers["location"]).text
    again = hrd.post(f"/actions/{ident}/reopen", data={"csrf": token})
    assert again.status_code == 400 and "not done" in again.text  # nothing to undo any more
    assert "Undo" not in hrd.get(f"/my?ok=done&action={ident}").text  # it is not done now
    boss = client("ed-devcoop")  # hrd's supervisor may take it back too, from the action page
    boss_token = csrf_of(boss.get("/my").text)
    boss.post(f"/actions/{ident}/done", data={"csrf": boss_token})
    sheet = boss.get(f"/actions/{ident}?ok=done&action={ident}").text
    assert "Undo: reopen II.3.1" in sheet and 'name="back" value="sheet"' in sheet
    bangkok = client("ro-bangkok")  # I.2b.1 is recurring: done one occurrence at a time, no undo offered
    recurring = action_id(engine, "I.2b.1")
    bangkok.post(f"/actions/{recurring}/done", data={"csrf": csrf_of(bangkok.get("/my").text), "back": "my"})
    assert "Undo" not in bangkok.get(f"/my?ok=done&action={recurring}").text


def test_the_action_sheet_names_people_and_says_its_escalations_in_plain_words(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    sheet = client("ed-devcoop").get(f"/actions/{action_id(engine, 'I.3b.3')}").text
    table = sheet[sheet.index("<h2>Escalations</h2>") :]
    assert "escalate:1" not in table and "1st level" in table
    assert "Acknowledged" in table and "Amara Okafor, " in table and ">ed-devcoop" not in table
    assert "you" in table.split("<tbody>")[1]  # the step was sent to the viewer


def test_the_action_page_shows_the_extension_history(site) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, date, datetime

    from engine.actions.extensions import decide, request_extension
    from engine.actions.workflow import extend
    from engine.read.queries import find_action

    client, engine, *_ = site
    with transaction(engine) as s:
        action = find_action(s, "II.3.1")
        asked = request_extension(
            s, action, date(2000, 9, 30), datetime(2000, 5, 2, 10, tzinfo=UTC), who="hrd", via="web",
            reason="budget <late>",
        )  # fmt: skip
        decide(s, asked, True, datetime(2000, 5, 4, 10, tzinfo=UTC), who="ed-devcoop", via="web")
        extend(s, action, date(2000, 12, 31), datetime(2000, 5, 20, tzinfo=UTC), who="secretariat", via="cli",
               reason="new cycle")  # fmt: skip
    page = client("hrd").get(f"/actions/{action_id(engine, 'II.3.1')}").text
    assert "Extensions (2)" in page and "Originally due 31 May 2000; now due 31 December 2000, 214 days later." in page
    assert "budget &lt;late&gt;" in page and "nobody: granted directly" in page and "Amara Okafor" in page
    untouched = client("hrd").get(f"/actions/{action_id(engine, 'II.3.2')}").text
    assert "Extensions (" not in untouched


def test_under_two_step_closure_the_owners_done_reports_it_for_the_verifier(site) -> None:  # type: ignore[no-untyped-def]
    from engine.store.followup_models import ClosureReport

    client, engine, *_ = site
    hrd = client("hrd")
    mine = hrd.get("/my").text
    ident = action_id(engine, "II.3.2")
    assert "Report II.3.2 implemented" in mine and "Mark II.3.2 done" not in mine
    token = csrf_of(mine)
    refused = hrd.post(f"/actions/{ident}/done", data={"note": "filed"})  # no CSRF token
    assert refused.status_code == 403 and status_of(engine, "II.3.2") == "open"
    boss = client("ed-devcoop")  # hrd's supervisor: the owner reports, the supervisor verifies
    sheet = boss.get(f"/actions/{ident}").text
    assert "Mark II.3.2 done" not in sheet and "Report II.3.2 implemented" not in sheet
    not_boss = boss.post(f"/actions/{ident}/done", data={"csrf": csrf_of(sheet)})
    assert not_boss.status_code == 403 and status_of(engine, "II.3.2") == "open"
    done = hrd.post(
        f"/actions/{ident}/done", data={"csrf": token, "note": "filed", "back": "my"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/my?ok=reported&action={ident}"
    assert status_of(engine, "II.3.2") == "reported"  # not done: the verifier confirms it
    with transaction(engine) as session:
        report = session.exec(select(ClosureReport)).one()
        assert (report.reported_by, report.via, report.note, report.verifier_id) == (
            "hrd",
            "web",
            "filed",
            "ed-devcoop",
        )
        asked = session.exec(select(Outbox).where(Outbox.template == "verification_request")).one()
        assert asked.recipient_id == "ed-devcoop"
    after = hrd.get(done.headers["location"]).text
    assert "Reported implemented" in after and "Report II.3.2 implemented" not in after  # nothing to press twice
    assert "Undo" not in after


def test_under_one_step_closure_the_my_page_marks_done(one_step_site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = one_step_site
    page = client("hrd").get("/my").text
    assert "Mark II.3.2 done" in page and "Report II.3.2 implemented" not in page


def test_the_action_page_records_the_cause_of_delay(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    ident = action_id(engine, "II.3.2")
    hrd = client("hrd")
    sheet = hrd.get(f"/actions/{ident}").text
    assert f'action="/actions/{ident}/delay"' in sheet and '<option value="awaiting a decision"' in sheet
    token = csrf_of(sheet)
    assert hrd.post(f"/actions/{ident}/delay", data={"cause": "resources"}).status_code == 403  # no form token
    bare = hrd.post(f"/actions/{ident}/delay", data={"csrf": token, "cause": "other"})
    assert bare.status_code == 400 and "needs a few words" in bare.text
    unknown = hrd.post(f"/actions/{ident}/delay", data={"csrf": token, "cause": "weather"})
    assert unknown.status_code == 400 and "Unknown cause of delay “weather”" in unknown.text
    stranger = client("pardev")  # not hers to see, so not hers to explain
    assert stranger.post(f"/actions/{ident}/delay", data={"csrf": csrf_of(stranger.get("/my").text)}).status_code == 404
    done = hrd.post(
        f"/actions/{ident}/delay",
        data={"csrf": token, "cause": "other", "note": "the survey is late"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/actions/{ident}?ok=delay&action={ident}"
    with transaction(engine) as session:
        action = session.get(Action, ident)
        assert action is not None and (action.delay_cause, action.delay_note) == ("other", "the survey is late")
        change = session.exec(select(ActionChange).where(ActionChange.field == "delay cause")).one()
        assert (change.who, change.via, change.new) == ("hrd", "web", "other")
    shown = hrd.get(done.headers["location"]).text
    assert "Cause of delay recorded" in shown and "the survey is late" in shown


def test_the_secretariat_records_the_acceptance_on_the_action_page(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    ident = action_id(engine, "II.3.2")
    hrd, staff = client("hrd"), client("secretariat")
    assert f'action="/actions/{ident}/acceptance"' not in hrd.get(f"/actions/{ident}").text
    owner_token = csrf_of(hrd.get(f"/actions/{ident}").text)
    refused = hrd.post(f"/actions/{ident}/acceptance", data={"csrf": owner_token, "acceptance": "not_accepted"})
    assert refused.status_code == 403  # the owner cannot decide it
    sheet = staff.get(f"/actions/{ident}").text
    assert f'action="/actions/{ident}/acceptance"' in sheet and '<option value="partially_accepted"' in sheet
    token = csrf_of(sheet)
    assert staff.post(f"/actions/{ident}/acceptance", data={"acceptance": "accepted"}).status_code == 403  # no token
    bare = staff.post(f"/actions/{ident}/acceptance", data={"csrf": token, "acceptance": "not_accepted"})
    assert bare.status_code == 400 and "needs the reason" in bare.text
    unknown = staff.post(f"/actions/{ident}/acceptance", data={"csrf": token, "acceptance": "maybe"})
    assert unknown.status_code == 400 and "unknown acceptance" in unknown.text
    with transaction(engine) as session:
        action = session.get(Action, ident)
        assert action is not None and action.acceptance == "accepted"  # nothing refused changed it
    done = staff.post(
        f"/actions/{ident}/acceptance",
        data={"csrf": token, "acceptance": "not_accepted", "note": "outside the Office's mandate"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/actions/{ident}?ok=acceptance&action={ident}"
    with transaction(engine) as session:
        action = session.get(Action, ident)
        assert action is not None
        assert (action.acceptance, action.acceptance_note) == ("not_accepted", "outside the Office's mandate")
        change = session.exec(select(ActionChange).where(ActionChange.field == "acceptance")).one()
        assert (change.who, change.via, change.old, change.new) == ("secretariat", "web", "accepted", "not_accepted")
    shown = staff.get(done.headers["location"]).text
    assert "Acceptance recorded" in shown and "not accepted — outside the Office&#39;s mandate" in shown
    assert "not accepted — outside the Office&#39;s mandate" in hrd.get(f"/actions/{ident}").text  # the owner sees why


def test_my_actions_sets_apart_actions_not_followed_and_lists_reports_waiting_or_returned(site) -> None:  # type: ignore[no-untyped-def]
    from engine.store.followup_models import ClosureReport

    client, engine, *_ = site
    aside, pondered = action_id(engine, "II.3.2"), action_id(engine, "II.3.3")
    waiting, returned = action_id(engine, "II.3.4"), action_id(engine, "II.3.5")
    with transaction(engine) as session:
        for ident, state, note in (
            (aside, "not_accepted", "outside the mandate"),
            (pondered, "under_consideration", ""),
        ):
            action = session.get(Action, ident)
            assert action is not None
            action.acceptance, action.acceptance_note, action.due = state, note, (NOW - timedelta(days=159)).date()
            session.add(action)
    hrd, boss = client("hrd"), client("ed-devcoop")
    token = csrf_of(hrd.get("/my").text)
    for ident in (waiting, returned):
        hrd.post(f"/actions/{ident}/done", data={"csrf": token, "note": "filed", "back": "my"})
    with transaction(engine) as session:
        report = session.exec(select(ClosureReport).where(ClosureReport.action_id == returned)).one()
    boss.post(f"/verify/{report.id}/return", data={"csrf": csrf_of(boss.get("/verify").text), "comment": "no minutes"})
    page = hrd.get("/my").text
    listed = page[page.index('id="set-aside"') :]
    assert "II.3.2" in listed and "not accepted: outside the mandate" in listed and "under consideration" in listed
    assert f'id="a-{aside}"' not in page and f'id="a-{pondered}"' not in page  # no overdue count, no forms
    assert f'action="/actions/{aside}/' not in page and f'action="/actions/{pondered}/' not in page
    assert "159 days overdue" not in page
    shown = page[page.index(f'id="reported-{waiting}"') :]
    assert "waiting for verification by Amara Okafor" in shown.split("</li>")[0]
    assert "Returned by Amara Okafor on" in page and "“no minutes”" in page
    assert "Returned by Amara Okafor on" in hrd.get(f"/actions/{returned}").text
    sheet = hrd.get(f"/actions/{aside}").text  # its page: not followed up, nothing to press, nothing overdue
    assert "marked “not accepted”: it is not followed up, so it is neither late nor to be worked on" in sheet
    assert f'action="/actions/{aside}/done"' not in sheet and f'action="/actions/{aside}/report"' not in sheet
    assert "overdue" not in sheet.split("<h2>History</h2>")[0]


def test_the_action_page_refuses_a_cause_of_delay_for_an_action_not_overdue(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    ident = action_id(engine, "II.3.2")
    with transaction(engine) as session:
        action = session.get(Action, ident)
        assert action is not None
        action.extended_to = date(2099, 1, 31)
        session.add(action)
    hrd = client("hrd")
    token = csrf_of(hrd.get(f"/actions/{ident}").text)
    refused = hrd.post(f"/actions/{ident}/delay", data={"csrf": token, "cause": "resources"})
    assert refused.status_code == 400 and "II.3.2 is not overdue (due 31 January 2099)" in refused.text
    with transaction(engine) as session:
        action = session.get(Action, ident)
        assert action is not None and action.delay_cause in (None, "")


def test_a_refused_cause_of_delay_is_said_in_the_readers_language(site) -> None:  # type: ignore[no-untyped-def]
    from engine.store.models import Owner

    client, engine, *_ = site
    with transaction(engine) as session:
        person = session.get(Owner, "hrd")
        assert person is not None
        person.language = "es"
        session.add(person)
    ident = action_id(engine, "II.3.2")
    hrd = client("hrd")
    token = csrf_of(hrd.get(f"/actions/{ident}").text)
    unknown = hrd.post(f"/actions/{ident}/delay", data={"csrf": token, "cause": "cosmic rays"})
    assert unknown.status_code == 400 and "Causa de retraso desconocida «cosmic rays»" in unknown.text
    assert "unknown cause" not in unknown.text.lower() and "Iniciar sesión" not in unknown.text


def test_the_action_pages_history_and_messages_are_in_the_readers_words(site) -> None:  # type: ignore[no-untyped-def]
    from engine.store.models import Owner

    client, engine, *_ = site
    with transaction(engine) as session:
        person = session.get(Owner, "hrd")
        assert person is not None
        person.language = "fr"
        session.add(person)
    ident = action_id(engine, "II.3.2")
    hrd, staff = client("hrd"), client("secretariat")
    token = csrf_of(hrd.get(f"/actions/{ident}").text)
    hrd.post(f"/actions/{ident}/progress", data={"csrf": token, "state": "at risk", "note": "short of staff"})
    staff_token = csrf_of(staff.get(f"/actions/{ident}").text)
    staff.post(f"/actions/{ident}/acceptance", data={"csrf": staff_token, "acceptance": "partially_accepted"})
    history = hrd.get(f"/actions/{ident}").text.split("<h2>Historique</h2>")[1].split("</table>")[0]
    assert "partially_accepted" not in history and "in_progress" not in history and "at risk" not in history
    assert "partiellement acceptée" in history and "à risque" in history and "acceptée" in history


# How each kind of reading is said, from the stored fields: English without the reader's own sentence, French and
# Spanish always (the reader's sentence is English, so they never see it).
READINGS = [
    (
        {"kind": "deadline", "due": "2026-06-30"},
        "Read as a deadline: 30 June 2026.",
        "Lu comme une échéance : 30 juin 2026.",
        "Leído como plazo: 30 de junio de 2026.",
    ),
    (
        {"kind": "window", "start": "2027-01-01", "due": "2027-12-31"},
        "Read as a window from 1 January 2027 to 31 December 2027.",
        "Lu comme une période du 1er janvier 2027 au 31 décembre 2027.",
        "Leído como periodo del 1 de enero de 2027 al 31 de diciembre de 2027.",
    ),
    (
        {"kind": "window", "due": "2026-09-04"},
        "Read as a window ending on 4 September 2026.",
        "Lu comme une période se terminant le 4 septembre 2026.",
        "Leído como periodo que termina el 4 de septiembre de 2026.",
    ),
    (
        {"kind": "start", "start": date(2025, 1, 1)},
        "Read as a start: 1 January 2025.",
        "Lu comme un début : 1er janvier 2025.",
        "Leído como inicio: 1 de enero de 2025.",
    ),
    (
        {"kind": "recurring", "start": "2027-01-15", "rrule": "FREQ=MONTHLY;INTERVAL=6"},
        "Read as recurring, every six months, first on 15 January 2027.",
        "Lu comme récurrent, tous les six mois, la première fois le 15 janvier 2027.",
        "Leído como recurrente, cada seis meses, la primera vez el 15 de enero de 2027.",
    ),
    (
        {"kind": "recurring", "rrule": "FREQ=YEARLY"},
        "Read as recurring, every year.",
        "Lu comme récurrent, tous les ans.",
        "Leído como recurrente, cada año.",
    ),
    (
        {"kind": "recurring", "needs_review": True},
        "Read as recurring, with no calendar rule. Needs review: someone should confirm this reading.",
        "Lu comme récurrent, sans règle de calendrier. À examiner : quelqu'un doit confirmer cette lecture.",
        "Leído como recurrente, sin regla de calendario. Por examinar: alguien debe confirmar esta lectura.",
    ),
    (
        {"kind": "continuous"},
        "Read as continuous work with no end date.",
        "Lu comme un travail continu sans date de fin.",
        "Leído como trabajo continuo sin fecha de fin.",
    ),
    (
        {"kind": "continuous", "start": "2026-03-01", "rrule": "FREQ=MONTHLY"},
        "Read as continuous work with no end date, from 1 March 2026. Its rhythm: every month.",
        "Lu comme un travail continu sans date de fin, à partir du 1er mars 2026. Son rythme : tous les mois.",
        "Leído como trabajo continuo sin fecha de fin, desde el 1 de marzo de 2026. Su ritmo: cada mes.",
    ),
    (
        {"kind": "continuous", "due": "2026-12-31"},
        "Read as continuous work until 31 December 2026.",
        "Lu comme un travail continu jusqu'au 31 décembre 2026.",
        "Leído como trabajo continuo hasta el 31 de diciembre de 2026.",
    ),
    (
        {"kind": "event", "event": "the next General Assembly", "needs_review": True},
        "Read as tied to an event, “the next General Assembly”, not to a date."
        " Needs review: someone should confirm this reading.",
        "Lu comme lié à un événement, «\u00a0the next General Assembly\u00a0», et non à une date."
        " À examiner : quelqu'un doit confirmer cette lecture.",
        "Leído como vinculado a un acontecimiento, «the next General Assembly», no a una fecha."
        " Por examinar: alguien debe confirmar esta lectura.",
    ),
    (
        {"kind": "unscheduled", "needs_review": True},
        "Read as unscheduled: no date could be taken from it. Needs review: someone should confirm this reading.",
        "Lu comme non programmé : aucune date n'a pu en être tirée."
        " À examiner : quelqu'un doit confirmer cette lecture.",
        "Leído como sin programar: no se pudo sacar ninguna fecha. Por examinar: alguien debe confirmar esta lectura.",
    ),
    (
        {"kind": "deadline", "due": "2026-06-30", "after_ref": "II.3.1"},
        "Read as a deadline: 30 June 2026. It follows II.3.1.",
        "Lu comme une échéance : 30 juin 2026. Elle fait suite à II.3.1.",
        "Leído como plazo: 30 de junio de 2026. Sigue a II.3.1.",
    ),
]


@pytest.mark.parametrize("language", ["en", "fr", "es"])
@pytest.mark.parametrize(
    ("fields", "en", "fr", "es"), READINGS, ids=lambda v: v.get("kind") if isinstance(v, dict) else ""
)
def test_each_kind_of_reading_has_its_words_in_each_language(
    fields: dict[str, object], en: str, fr: str, es: str, language: str
) -> None:
    from engine.web.templating import reading_sentence

    said = reading_sentence(fields, language)
    assert said == {"en": en, "fr": fr, "es": es}[language]
    if language != "en":
        assert "Read as" not in said and "review" not in said and "FREQ" not in said


def test_an_english_reader_keeps_the_readers_own_sentence_and_no_one_else_sees_it() -> None:
    from engine.web.templating import reading_sentence

    fields = {"kind": "deadline", "due": date(2026, 6, 30), "reason": "Read as a deadline on 2026-06-30 ('juin 2026')."}
    assert reading_sentence(fields, "en") == "Read as a deadline on 2026-06-30 ('juin 2026')."
    assert reading_sentence(fields, "fr") == "Lu comme une échéance : 30 juin 2026."
    assert reading_sentence(fields, "es") == "Leído como plazo: 30 de junio de 2026."


@pytest.mark.parametrize(("language", "opening"), [("fr", "Lu comme "), ("es", "Leído como ")])
def test_the_action_page_says_why_it_was_read_so_in_the_readers_language(site, language: str, opening: str) -> None:  # type: ignore[no-untyped-def]
    from markupsafe import escape

    from engine.store.models import Owner
    from engine.web.templating import reading_sentence

    client, engine, *_ = site
    ident = action_id(engine, "II.3.2")
    english = client("hrd").get(f"/actions/{ident}").text
    with transaction(engine) as session:
        action = session.get(Action, ident)
        person = session.get(Owner, "hrd")
        assert action is not None and person is not None and action.reason.startswith("Read as")
        assert str(escape(action.reason)) in english  # English readers: the reader's own sentence
        said = reading_sentence(action, language)
        person.language = language
        session.add(person)
    page = client("hrd").get(f"/actions/{ident}").text
    assert said.startswith(opening) and f"<dd>{escape(said)}</dd>" in page
    assert "Read as" not in page


def test_a_review_asked_for_by_a_change_of_owner_says_so_in_the_readers_language() -> None:
    from engine.importing import OWNER_CHANGED
    from engine.web.templating import reading_sentence

    reason = (
        f"{OWNER_CHANGED}: the plan now names Amélie Roux; you had given it to nobody (it was handed back). "
        "Amélie Roux owns it now; reassign it if nobody (it was handed back) should keep it. "
        "The time frame reads: Read as a deadline on 2026-06-30 ('June 2026')."
    )
    fields = {"kind": "deadline", "due": "2026-06-30", "needs_review": True, "reason": reason}
    assert reading_sentence(fields, "en") == reason
    french = reading_sentence(fields, "fr")
    assert french.startswith("Le fichier du plan a changé le responsable que vous aviez choisi : il nomme désormais")
    assert "Amélie Roux" in french and "personne (elle avait été rendue)" in french
    assert french.endswith("Lu comme une échéance : 30 juin 2026.") and "À examiner" not in french
    spanish = reading_sentence(fields, "es")
    assert "ahora nombra a Amélie Roux" in spanish and "nadie (se había devuelto)" in spanish
    assert spanish.endswith("Leído como plazo: 30 de junio de 2026.")
    assert "plan now names" not in french + spanish and "Read as" not in french + spanish


@given(
    kind=st.sampled_from(KINDS),
    start=st.none() | st.dates(date(1990, 1, 1), date(2100, 12, 31)),
    due=st.none() | st.dates(date(1990, 1, 1), date(2100, 12, 31)),
    rrule=st.none() | st.sampled_from(["FREQ=MONTHLY;INTERVAL=3", "FREQ=YEARLY;BYMONTH=3", "FREQ=WEEKLY"]),
    event=st.none() | st.text(min_size=1, max_size=30),
    needs_review=st.booleans(),
    language=st.sampled_from(["fr", "es"]),
)
@settings(max_examples=300, deadline=None)
def test_any_reading_is_said_in_french_or_spanish_with_no_english_and_its_dates_in_words(
    kind: str,
    start: date | None,
    due: date | None,
    rrule: str | None,
    event: str | None,
    needs_review: bool,
    language: str,
) -> None:
    from engine.languages import day
    from engine.web.templating import reading_sentence

    fields = dict(kind=kind, start=start, due=due, rrule=rrule, event=event, needs_review=needs_review)
    fields["reason"] = "Read as something ('the words')."
    said = reading_sentence(fields, language)
    assert said.startswith({"fr": "Lu comme ", "es": "Leído como "}[language]) and said.endswith(".")
    assert "Read as" not in said and "%(" not in said and "FREQ" not in said and "review" not in said
    if kind in ("deadline", "window") and due:
        assert day(due, language) in said
    if kind in ("start", "window") and start and (kind == "start" or due):
        assert day(start, language) in said
    assert needs_review == ({"fr": "À examiner", "es": "Por examinar"}[language] in said)
