"""The escalation log, acknowledging, extension decisions and the CSV export (``engine.web.escalation_pages``)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from engine.read.escalation_review import ReviewFilter
from engine.store import transaction
from engine.store.models import Action, ActionChange, Escalation, Outbox
from engine.store.web_models import ExtensionRequest
from engine.web.escalation_pages import query_of, read_filter

from ..web_support import NOW, action_id, add_escalation, csrf_of
from .conftest import escalation_id


def test_a_supervisor_sees_and_decides_only_for_their_subtree(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    codev = client("codev")  # ro-bangkok and ro-lima report to codev
    page = codev.get("/escalations?state=all").text
    assert "I.2b.1" in page and "I.2a.1" in page and "III.d.1" not in page and "I.3b.3" not in page
    assert codev.get(f"/actions/{action_id(engine, 'I.2b.1')}").status_code == 200
    assert codev.get(f"/actions/{action_id(engine, 'III.d.1')}").status_code == 404
    token = csrf_of(page)
    own = codev.post(f"/escalations/{escalation_id(engine, 'I.2a.1')}/acknowledge", data={"csrf": token})
    assert own.status_code == 403  # one's own escalations are for one's supervisor
    foreign = codev.post(f"/escalations/{escalation_id(engine, 'III.d.1')}/acknowledge", data={"csrf": token})
    assert foreign.status_code == 404
    done = codev.post(
        f"/escalations/{escalation_id(engine, 'I.2b.1')}/acknowledge",
        data={"csrf": token, "note": "spoke to Somchai", "back_query": "state=all"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/escalations?state=all&ok=acknowledged"
    with transaction(engine) as session:
        entry = session.get(Escalation, escalation_id(engine, "I.2b.1"))
        assert entry is not None and entry.acknowledged_by == "codev" and entry.ack_note == "spoke to Somchai"
        change = session.exec(select(ActionChange).where(ActionChange.field == "acknowledged")).one()
        assert change.via == "web"
    assert "Escalation acknowledged." in codev.get("/escalations?state=all&ok=acknowledged").text
    assert "acknowledged by codev" in codev.get("/escalations?state=acknowledged").text


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


def test_read_filter_keeps_what_makes_sense_and_ignores_the_rest() -> None:
    flt = read_filter(
        {
            "level": "2",
            "state": "acknowledged",
            "part": "III",
            "owner": "pardev",
            "since": "2000-05-01",
            "until": "2000-05-31",
            "sort": "recent",
            "page": "3",
        },
        "Asia/Bangkok",
    )
    assert flt == ReviewFilter(
        level=2,
        state="acknowledged",
        part="III",
        owner="pardev",
        since=date(2000, 5, 1),
        until=date(2000, 5, 31),
        sort="recent",
        page=3,
        tz="Asia/Bangkok",
    )
    junk = read_filter(
        {
            "level": "x",
            "state": "bogus",
            "part": "",
            "since": "not-a-date",
            "until": "2000-02-30",
            "sort": "?",
            "page": "9999999",
        },
        "UTC",
    )
    assert junk == ReviewFilter(tz="UTC")
    assert read_filter({"level": "999", "page": "-1"}, "UTC") == ReviewFilter(tz="UTC")


def test_query_of_keeps_only_the_filters_keys_and_applies_changes() -> None:
    params = {"level": "2", "state": "all", "evil": "<x>", "owner": "", "page": "4"}
    assert query_of(params) == "level=2&state=all&page=4"
    assert query_of(params, page="1", ok="acknowledged") == "level=2&state=all&page=1&ok=acknowledged"
    assert query_of({"part": "I & II"}) == "part=I+%26+II"


def test_an_extension_is_granted_or_refused_nothing_else(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    hrd = client("hrd")
    token = csrf_of(hrd.get("/my").text)
    hrd.post(f"/actions/{action_id(engine, 'II.3.1')}/extension", data={"csrf": token, "to": "2000-09-30"})
    with transaction(engine) as session:
        request = session.exec(select(ExtensionRequest)).one()
    boss = client("ed-devcoop")
    answer = boss.post(f"/extensions/{request.id}/approve", data={"csrf": csrf_of(boss.get("/escalations").text)})
    assert answer.status_code == 404 and "granted or refused" in answer.text
    with transaction(engine) as session:
        assert session.exec(select(Action.extended_to).where(Action.ref == "II.3.1")).one() is None


def test_the_level_filter_offers_the_owners_rung_zero(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    with transaction(engine) as session:
        session.add(
            Escalation(
                key="owner-rung",
                at=NOW - timedelta(hours=1),
                action_id=action_id(engine, "II.5.1"),
                occurrence="2000-01-31",
                level=0,
                step="escalate:1",
                policy="default",
                recipients=["owner"],
                days_overdue=1,
            )
        )
    admin = client("secretariat")
    page = admin.get("/escalations?level=0").text
    assert '<option value="0" selected>0</option>' in page
    assert "1 entries" in page or "1 entry" in page
    assert read_filter({"level": "0"}, "UTC") == ReviewFilter(level=0, tz="UTC")


def test_a_supervisor_cannot_acknowledge_a_step_sent_over_her_head(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    over = add_escalation(engine, "k-over", "I.2b.1", 3, ["dg-office"])
    amara = client("ed-devcoop")  # above ro-bangkok and codev, below dg-office
    token = csrf_of(amara.get("/escalations?state=all").text)
    refused = amara.post(f"/escalations/{over}/acknowledge", data={"csrf": token})
    assert refused.status_code == 403 and "only the people it was sent to" in refused.text
    ident = escalation_id(engine, "I.2b.1")
    below = amara.post(f"/escalations/{ident}/acknowledge", data={"csrf": token}, follow_redirects=False)
    assert below.status_code == 303  # sent to codev, who reports to her
    dg = client("dg-office")
    dg_token = csrf_of(dg.get("/escalations").text)
    assert (
        dg.post(f"/escalations/{over}/acknowledge", data={"csrf": dg_token}, follow_redirects=False).status_code == 303
    )
    with transaction(engine) as session:
        entry = session.get(Escalation, over)
        assert entry is not None and entry.acknowledged_by == "dg-office"
