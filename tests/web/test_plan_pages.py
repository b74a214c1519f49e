"""The plan page, its review queue and the printable report (``engine.web.plan_pages``)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import select

from engine.store import transaction
from engine.store.models import Action, Escalation

from ..web_support import action_id, add_escalation, csrf_of


def test_the_plan_page_shows_counts_timeline_and_the_review_queue(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    admin = client("secretariat")
    page = admin.get("/plan").text
    assert "<svg" in page and "Part I" in page and "Whole plan" in page
    assert "Needs review (13)" in page
    assert "FREQ=MONTHLY;INTERVAL=6 every six months" in page  # the form's help says what a rule means
    ident = action_id(engine, "I.3b.2")
    token = csrf_of(page)
    bad = admin.post(f"/plan/review/{ident}", data={"csrf": token, "kind": "deadline", "due": "31/12/2000"})
    assert bad.status_code == 400
    fixed = admin.post(
        f"/plan/review/{ident}",
        data={"csrf": token, "kind": "deadline", "due": "2000-12-31", "note": "agreed"},
        follow_redirects=False,
    )
    assert fixed.status_code == 303
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == "I.3b.2")).one()
        assert (action.due, action.needs_review) == (date(2000, 12, 31), False)
    assert "Needs review (12)" in admin.get("/plan").text
    owner = client("pardev")
    assert "Needs review" not in owner.get("/plan").text
    assert (
        owner.post(
            f"/plan/review/{ident}", data={"csrf": csrf_of(owner.get("/my").text), "due": "2001-01-01"}
        ).status_code
        == 403
    )


def test_the_plan_and_report_are_cut_to_the_viewers_scope(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    full = client("secretariat").get("/report?as_of=2000-06-01").text
    lima = client("ro-lima").get("/report?as_of=2000-06-01").text
    assert "I.2c.1" in full and "III.d.1" in full
    assert "I.2c.1" in lima and "III.d.1" not in lima and "II.3.1" not in lima


def test_the_report_page_is_the_cli_report(site, cli) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    page = client("secretariat").get("/report?as_of=2000-12-31")
    printed = cli("report", "--as-of", "2000-12-31", "--format", "html")
    assert printed.code == 0
    assert page.text == printed.out
    assert "@media print" in page.text
    assert client("secretariat").get("/report?as_of=soon").status_code == 400


def test_an_unknown_plan_shows_the_first_and_an_unknown_action_is_404(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    admin = client("secretariat")
    assert admin.get("/plan?plan=no-such-plan").text == admin.get("/plan").text
    token = csrf_of(admin.get("/plan").text)
    missing = admin.post("/plan/review/999999", data={"csrf": token, "kind": "deadline", "due": "2000-12-31"})
    assert missing.status_code == 404 and "No such action" in missing.text
    bad_day = admin.get("/report?as_of=2000-13-01")
    assert bad_day.status_code == 400 and "expected a date like 2000-12-31" in bad_day.text


def test_an_open_escalation_is_never_on_track_on_the_plan_page_or_the_report(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    ident = add_escalation(engine, "k-ci", "I.1a.4", 1, ["supervisor"])
    with transaction(engine) as session:
        entry = session.get(Escalation, ident)
        assert entry is not None
        entry.occurrence = "check-in 2000-05-20"
        session.add(entry)
    admin = client("secretariat")
    page = admin.get("/plan").text
    tip = re.search(r"<title>I\.1a\.4 [^<]*</title>", page)
    assert tip is not None and ": check-in unanswered" in tip.group(0) and "on track" not in tip.group(0)
    report = admin.get("/report").text
    row = report[report.rindex("I.1a.4") :].split("</tr>")[0]
    assert "check-in unanswered" in row and "on track" not in row


def test_the_day_the_plan_is_shown_as_of_is_chosen_with_a_form(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    admin = client("secretariat")
    page = admin.get("/plan").text
    form = page[page.index('<form method="get" action="/plan"') :].split("</form>")[0]
    assert 'name="as_of" type="date" value="2000-06-01"' in form and 'name="plan" value="gb276-tc2"' in form
    earlier = admin.get("/plan?plan=gb276-tc2&as_of=2000-01-31").text  # what the form sends
    assert 'value="2000-01-31"' in earlier and "as of <strong>31 January 2000</strong>" in earlier
    assert 'href="#after-timeline"' in page and 'id="after-timeline"' in page  # the marks can be skipped
    assert admin.get("/plan?as_of=31/01/2000").status_code == 400


@pytest.mark.parametrize(("language", "opening"), [("fr", "Lu comme "), ("es", "Leído como ")])
def test_the_review_queue_says_how_each_time_frame_was_read_in_the_readers_language(  # type: ignore[no-untyped-def]
    site, language: str, opening: str
) -> None:
    from markupsafe import escape

    from engine.store.models import Owner
    from engine.web.templating import reading_sentence

    client, engine, *_ = site
    assert "Read as" in client("secretariat").get("/plan").text  # English readers: the reader's own sentences
    with transaction(engine) as session:
        queue = session.exec(select(Action).where(Action.needs_review == True)).all()  # noqa: E712
        said = [reading_sentence(action, language) for action in queue]
        person = session.get(Owner, "secretariat")
        assert person is not None and len(said) == 13
        person.language = language
        session.add(person)
    page = client("secretariat").get("/plan").text
    for sentence in said:
        assert sentence.startswith(opening) and f'<p class="hint">{escape(sentence)}</p>' in page
    assert "Read as" not in page
