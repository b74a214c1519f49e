"""The pages through the real app (FastAPI's TestClient): every page, role scoping, CSRF, escaping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from engine.calendars.build import Feed, FeedOptions
from engine.calendars.feeds import FeedService
from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Action, ActionChange, Escalation, Outbox
from engine.store.web_models import ExtensionRequest
from engine.web import create_app

from ..web_support import NOW, action_id, csrf_of, sign_in, web_settings, web_world

Client = Callable[[str | None], TestClient]
PAGES = ["/my", "/escalations", "/plan", "/report", "/escalations.csv"]


@pytest.fixture
def site(database_url: str) -> Iterator[tuple[Client, Engine, Settings, FixedClock]]:
    """The app over the example world; ``client(owner)`` returns a client signed in as ``owner`` (None: nobody)."""
    engine = web_world(database_url)
    settings = web_settings(database_url)
    clock = FixedClock(NOW)
    app = create_app(settings, clock=clock, engine=engine)
    clients: list[TestClient] = []

    def client(owner: str | None) -> TestClient:
        made = TestClient(app)
        clients.append(made)
        if owner is not None:
            sign_in(made, settings, owner)
        return made

    yield client, engine, settings, clock
    for made in clients:
        made.close()
    engine.dispose()


def _status(engine: Engine, ref: str) -> str:
    with transaction(engine) as session:
        return session.exec(select(Action.status).where(Action.ref == ref)).one()


def _escalation_id(engine: Engine, ref: str) -> int:
    with transaction(engine) as session:
        found = session.exec(select(Escalation.id).join(Action).where(Action.ref == ref)).first()
        assert found is not None
        return found


@pytest.mark.parametrize("path", [*PAGES, "/actions/1"])
def test_a_page_without_a_session_answers_401_and_shows_no_data(site, path: str) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    answer = client(None).get(path)
    assert answer.status_code == 401
    assert "Sign in" in answer.text
    for secret in ("III.d.1", "I.2b.1", "Rafael", "escalate:", "<svg"):
        assert secret not in answer.text


def test_a_post_without_a_session_changes_nothing(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    answer = client(None).post(f"/actions/{action_id(engine, 'III.1.2')}/done", data={"csrf": "x"})
    assert answer.status_code == 401
    assert _status(engine, "III.1.2") == "open"


def test_a_forged_or_expired_session_cookie_is_no_session(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings, clock = site
    anonymous = client(None)
    anonymous.cookies.set("pw_session", "forged-token")
    assert anonymous.get("/my").status_code == 401
    signed = client("pardev")
    assert signed.get("/my").status_code == 200
    clock.advance(timedelta(seconds=settings.session_seconds + 1))
    assert signed.get("/my").status_code == 401


@pytest.mark.parametrize("owner", ["secretariat", "ed-devcoop", "codev", "pardev"])
def test_every_page_renders_for_every_role(site, owner: str) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    signed = client(owner)
    for path in [*PAGES, f"/actions/{action_id(engine, 'I.2a.1' if owner == 'codev' else 'III.d.1')}"]:
        answer = signed.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.headers["cache-control"] == "no-store"
        assert "content-security-policy" in answer.headers


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
    assert _status(engine, "I.2a.1") == "open"
    escalations = pardev.get("/escalations?state=all").text
    assert "III.d.1" in escalations and "I.2a.1" not in escalations and "I.2b.1" not in escalations
    assert "Acknowledge" not in escalations  # nobody reports to pardev
    ack = pardev.post(f"/escalations/{_escalation_id(engine, 'I.2a.1')}/acknowledge", data={"csrf": token})
    assert ack.status_code == 404


def test_a_supervisor_sees_and_decides_only_for_their_subtree(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    codev = client("codev")  # ro-bangkok and ro-lima report to codev
    page = codev.get("/escalations?state=all").text
    assert "I.2b.1" in page and "I.2a.1" in page and "III.d.1" not in page and "I.3b.3" not in page
    assert codev.get(f"/actions/{action_id(engine, 'I.2b.1')}").status_code == 200
    assert codev.get(f"/actions/{action_id(engine, 'III.d.1')}").status_code == 404
    token = csrf_of(page)
    own = codev.post(f"/escalations/{_escalation_id(engine, 'I.2a.1')}/acknowledge", data={"csrf": token})
    assert own.status_code == 403  # one's own escalations are for one's supervisor
    foreign = codev.post(f"/escalations/{_escalation_id(engine, 'III.d.1')}/acknowledge", data={"csrf": token})
    assert foreign.status_code == 404
    done = codev.post(
        f"/escalations/{_escalation_id(engine, 'I.2b.1')}/acknowledge",
        data={"csrf": token, "note": "spoke to Somchai", "back_query": "state=all"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/escalations?state=all&ok=acknowledged"
    with transaction(engine) as session:
        entry = session.get(Escalation, _escalation_id(engine, "I.2b.1"))
        assert entry is not None and entry.acknowledged_by == "codev" and entry.ack_note == "spoke to Somchai"
        change = session.exec(select(ActionChange).where(ActionChange.field == "acknowledged")).one()
        assert change.via == "web"
    assert "Escalation acknowledged." in codev.get("/escalations?state=all&ok=acknowledged").text
    assert "acknowledged by codev" in codev.get("/escalations?state=acknowledged").text


def test_a_post_without_the_csrf_token_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    pardev = client("pardev")
    target = f"/actions/{action_id(engine, 'III.1.2')}/done"
    assert pardev.post(target, data={}).status_code == 403
    assert pardev.post(target, data={"csrf": "guessed"}).status_code == 403
    other = client("hrd")  # another session's token is no good either
    assert pardev.post(target, data={"csrf": csrf_of(other.get("/my").text)}).status_code == 403
    assert pardev.post("/signout", data={}).status_code == 403
    assert _status(engine, "III.1.2") == "open"
    assert (
        pardev.post(target, data={"csrf": csrf_of(pardev.get("/my").text)}, follow_redirects=False).status_code == 303
    )
    assert _status(engine, "III.1.2") == "done"


def test_markup_in_titles_is_escaped_on_every_page(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    for owner, paths in (
        ("pardev", ["/my", "/escalations?state=all", "/plan", "/report"]),
        ("secretariat", ["/escalations?state=all", "/plan", "/report", f"/actions/{action_id(engine, 'III.d.1')}"]),
    ):
        signed = client(owner)
        for path in paths:
            page = signed.get(path).text
            assert "&lt;script&gt;" in page, (owner, path)
            assert "<script>alert" not in page and "<b>bold" not in page, (owner, path)
    svg = client("secretariat").get("/plan").text
    start = svg.index("<svg")
    assert "<script" not in svg[start : svg.index("</svg>")]


def test_owner_forms_mark_done_report_progress_and_ask_for_an_extension(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    hrd = client("hrd")
    token = csrf_of(hrd.get("/my").text)
    ident = action_id(engine, "II.3.1")
    progress = hrd.post(
        f"/actions/{ident}/progress",
        data={"csrf": token, "state": "at risk", "note": "budget", "back": "my"},
        follow_redirects=False,
    )
    assert progress.headers["location"] == "/my?ok=progress"
    assert _status(engine, "II.3.1") == "in_progress"
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
    assert done.status_code == 303 and _status(engine, "II.3.2") == "done"
    with transaction(engine) as session:
        change = session.exec(
            select(ActionChange).where(ActionChange.field == "status", ActionChange.new == "done")
        ).one()
        assert (change.who, change.via, change.note) == ("hrd", "web", "filed")
    sheet = hrd.get(f"/actions/{ident}").text
    assert "extension requested" in sheet and "budget delay" in sheet and "pending" in sheet


def test_a_supervisor_grants_or_refuses_an_extension_request(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    hrd = client("hrd")
    token = csrf_of(hrd.get("/my").text)
    for ref, to in (("II.3.1", "2000-09-30"), ("II.3.4", "2001-06-30")):
        hrd.post(f"/actions/{action_id(engine, ref)}/extension", data={"csrf": token, "to": to, "reason": "more time"})
    boss = client("ed-devcoop")
    page = boss.get("/escalations").text
    assert "Extension requests waiting for you (2)" in page
    with transaction(engine) as session:
        first, second = session.exec(select(ExtensionRequest).order_by(ExtensionRequest.id)).all()
    assert (
        hrd.post(f"/extensions/{first.id}/grant", data={"csrf": token}).status_code == 404
    )  # not the owner's to decide
    boss_token = csrf_of(page)
    granted = boss.post(
        f"/extensions/{first.id}/grant", data={"csrf": boss_token, "note": "ok"}, follow_redirects=False
    )
    assert granted.status_code == 303
    refused = boss.post(
        f"/extensions/{second.id}/refuse", data={"csrf": boss_token, "note": "no"}, follow_redirects=False
    )
    assert refused.status_code == 303
    assert boss.post(f"/extensions/{first.id}/grant", data={"csrf": boss_token}).status_code == 400  # decided already
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == "II.3.1")).one()
        assert action.extended_to == date(2000, 9, 30)
        assert session.exec(select(Action.extended_to).where(Action.ref == "II.3.4")).one() is None
        mail = session.exec(select(Outbox).where(Outbox.template == "extension_granted")).all()
        assert [(m.recipient_id, m.payload["to"]) for m in mail] == [("hrd", "2000-09-30")]
    assert "Extension requests waiting" not in boss.get("/escalations").text


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
        entry = session.get(Escalation, _escalation_id(engine, "III.d.1"))
        assert entry is not None and entry.resolution == "extended to 2000-09-15"
    assert client("pardev").post(
        f"/actions/{ident}/extend", data={"csrf": csrf_of(client("pardev").get("/my").text), "to": "2002-01-01"}
    ).status_code in (403,)


def test_the_escalation_log_filters_pages_and_exports(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    with transaction(engine) as session:
        ident = action_id(engine, "II.5.1")
        for n in range(120):
            session.add(
                Escalation(
                    key=f"bulk{n}",
                    at=NOW - timedelta(hours=n),
                    action_id=ident,
                    occurrence="2000-01-31",
                    level=3,
                    step="escalate:3",
                    policy="default",
                    recipients=[],
                    days_overdue=n,
                )
            )
    admin = client("secretariat")
    first = admin.get("/escalations?level=3").text
    assert "123 entries" not in first and "120 entries, page 1 of 3" in first
    assert first.index(">119<") < first.index(">118<")  # most overdue first
    third = admin.get("/escalations?level=3&page=3").text
    assert "page 3 of 3" in third and ">0<" in third
    assert "page 3 of 3" in admin.get("/escalations?level=3&page=99").text  # clamped
    assert "123 entries, page 1 of 3" in admin.get("/escalations?state=open&level=").text  # an empty level: all
    part = admin.get("/escalations?state=all&part=III").text
    assert "III.d.1" in part and "I.2b.1" not in part and "II.5.1" not in part
    owner = admin.get("/escalations?state=all&owner=ro-bangkok").text
    assert "I.2b.1" in owner and "III.d.1" not in owner
    acknowledged = admin.get("/escalations?state=acknowledged").text
    assert "I.3b.3" in acknowledged and "I.2b.1" not in acknowledged
    dated = admin.get("/escalations?state=all&since=2000-05-29&until=2000-05-30").text
    assert "III.d.1" in dated and "I.2b.1" in dated and "I.2a.1" not in dated and "I.3b.3" not in dated
    assert "no escalations" not in admin.get("/escalations?level=x&state=bogus&since=not-a-date").text.lower()
    csv_text = admin.get("/escalations.csv?level=3").text
    lines = csv_text.splitlines()
    assert lines[0].startswith("id,fired_utc,plan,action,title,owner,level")
    assert len(lines) == 121
    scoped = client("codev").get("/escalations.csv?state=all").text
    assert "I.2b.1" in scoped and "III.d.1" not in scoped and "II.5.1" not in scoped


def test_the_plan_page_shows_counts_timeline_and_the_review_queue(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    admin = client("secretariat")
    page = admin.get("/plan").text
    assert "<svg" in page and "Part I" in page and "Whole plan" in page
    assert "Needs review (13)" in page
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
        "codev → ed-devcoop → dg-office",
        "remind:due:14d",
        "somchai.prasert@example.org",
        "escalate:2",
        "Calendar UID",
        "@planwatch",
        "Part I",
    ):
        assert expected in page, expected


def test_unknown_addresses_get_a_page_not_a_stack_trace(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    signed = client("pardev")
    for path, status in (("/actions/abc", 404), ("/nowhere", 404), ("/static/secrets.txt", 404)):
        answer = signed.get(path)
        assert answer.status_code == status and "Traceback" not in answer.text, path
    assert signed.get("/static/planwatch.css").headers["content-type"].startswith("text/css")
    wrong = signed.put("/my")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]
