"""The escalation log, acknowledging, extension decisions and the CSV export (``engine.web.escalation_pages``)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlmodel import col, select

from engine.read.escalation_review import ReviewFilter
from engine.store import transaction
from engine.store.models import Action, ActionChange, Escalation, Outbox, Owner
from engine.store.web_models import ExtensionRequest
from engine.web.escalation_pages import query_of, read_filter

from ..web_support import ESCALATIONS, NOW, action_id, add_escalation, csrf_of
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
    acknowledged = codev.get("/escalations?state=acknowledged").text
    assert "Acknowledged by Mei Tanaka" in acknowledged and "spoke to Somchai" in acknowledged
    assert '<span class="badge">acknowledged</span>' in acknowledged  # nothing open: not shown as late


def test_a_supervisor_grants_or_refuses_an_extension_request(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    hrd = client("hrd")
    token = csrf_of(hrd.get("/my").text)
    for ref, to in (("II.3.1", "2000-09-30"), ("II.3.4", "2001-06-30")):
        hrd.post(f"/actions/{action_id(engine, ref)}/extension", data={"csrf": token, "to": to, "reason": "more time"})
    boss = client("ed-devcoop")
    page = boss.get("/escalations").text
    assert "Extension requests waiting for you (2)" in page
    assert "Extension requests waiting for you (1)" in boss.get("/escalations?action=II.3.4").text  # its own only
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


def test_the_page_groups_by_action_filters_pages_and_exports(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    with transaction(engine) as session:
        taken = {ref for ref, *_ in ESCALATIONS}
        refs = [a.id for a in session.exec(select(Action).order_by(Action.id)).all() if a.ref not in taken][:60]
        for n, ident in enumerate(refs):
            for repeat in (0, 1):  # a step and its repeat: one line of one row
                session.add(
                    Escalation(
                        key=f"bulk{n}-{repeat}",
                        at=NOW - timedelta(hours=n, days=repeat),
                        action_id=ident,
                        occurrence="2000-01-31",
                        level=3,
                        step="escalate:3" + ("#1" if repeat else ""),
                        policy="default",
                        recipients=["dg-office"],
                        days_overdue=n,
                    )
                )
    assert len(refs) == 60
    admin = client("secretariat")
    first = admin.get("/escalations?level=3").text
    assert "60 actions (120 messages sent), page 1 of 2" in first
    assert first.count('<tr id="a-') == 50 and len(re.findall(r"<li>[^<]*31 January 2000", first)) == 50
    assert "sent to Office of the Director-General (3rd level), 2 times" in first
    rows = re.findall(r'<tr id="a-(\d+)"', first)
    assert [int(r) for r in rows[:2]] == [refs[59], refs[58]]  # most overdue first
    second = admin.get("/escalations?level=3&page=2").text
    assert "page 2 of 2" in second and second.count('<tr id="a-') == 10
    assert "page 2 of 2" in admin.get("/escalations?level=3&page=99").text  # clamped
    assert "63 actions (123 messages sent), page 1 of 2" in admin.get("/escalations?state=open&level=").text
    part = admin.get("/escalations?state=all&part=III").text
    assert "III.d.1" in part and "I.2b.1" not in part and "II.5.1" not in part
    owner = admin.get("/escalations?state=all&owner=ro-bangkok").text
    assert "I.2b.1" in owner and "III.d.1" not in owner
    acknowledged = admin.get("/escalations?state=acknowledged").text
    assert "I.3b.3" in acknowledged and "I.2b.1" not in acknowledged
    dated = admin.get("/escalations?state=all&since=2000-05-29&until=2000-05-30").text
    assert "III.d.1" in dated and "I.2b.1" in dated and "I.2a.1" not in dated and "I.3b.3" not in dated
    assert "no escalations" not in admin.get("/escalations?level=x&state=bogus&since=not-a-date").text.lower()
    lines = admin.get("/escalations.csv?level=3").text.splitlines()
    assert lines[0].startswith("id,fired_utc,plan,action,title,owner,level")
    assert len(lines) == 121  # the CSV has every entry, one a line
    scoped = client("codev").get("/escalations.csv?state=all").text
    assert "I.2b.1" in scoped and "III.d.1" not in scoped and "II.5.1" not in scoped


def test_one_action_by_its_reference_as_the_escalation_mails_link(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    amara = client("ed-devcoop")
    only = amara.get("/escalations?action=III.d.1").text
    assert only.count('<tr id="a-') == 1 and "III.d.1" in only and "I.2a.1" not in only
    assert "Only the escalations of III.d.1" in only and 'href="/escalations?">Show every action' in only
    assert 'name="action" value="III.d.1"' in only  # the filters keep to the action
    assert amara.get("/escalations?action=gb276-tc2/III.d.1").text.count('<tr id="a-') == 1
    assert amara.get("/escalations?action=other-plan/III.d.1").text.count('<tr id="a-') == 0
    done = amara.get("/escalations?action=I.3b.3").text  # acknowledged already
    assert "No open escalations of I.3b.3" in done and "Show them all" in done
    assert amara.get("/escalations?action=I.3b.3&state=all").text.count('<tr id="a-') == 1
    assert client("codev").get("/escalations?action=III.d.1").text.count('<tr id="a-') == 0  # not in her scope


def test_rows_speak_in_names_and_plain_words(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    add_escalation(engine, "ci", "II.5.1", 2, ["supervisor"], at=NOW - timedelta(days=4))
    with transaction(engine) as session:
        entry = session.exec(select(Escalation).where(Escalation.key == "ci")).one()
        entry.occurrence = "check-in 2000-03-28"
        session.add(entry)
    owner = _owner_of(engine, "II.5.1")
    boss = _supervisor_of(engine, owner)
    page = client(boss).get("/escalations?action=II.5.1").text
    assert "Check-in of 28 March 2000 unanswered — sent to you (2nd level)" in page
    assert "check-in unanswered" in page and "overdue" not in page.split('id="a-')[1]
    assert "Grant extension" not in page  # nothing dated is late: nothing to extend
    assert '<span class="vh">not dated</span>' in page  # no days late for a check-in
    assert "escalate:2" not in page and "occurrence" not in page.lower().split("<table")[1]
    amara = client("ed-devcoop")
    dated = amara.get("/escalations?action=III.d.1").text
    assert "Due 31 December 1999, not done — sent to you (2nd level)" in dated
    assert '<td class="num">153</td>' in dated and "overdue by 153 days" in dated  # 1 June 2000
    assert "Rafael Quispe" in dated and ">pardev<" not in dated  # the owner by name
    assert "Grant extension" in dated
    granted = amara.post(
        f"/actions/{action_id(engine, 'III.d.1')}/extend",
        data={"csrf": csrf_of(dated), "to": "2000-12-31", "back": "escalations", "back_query": "action=III.d.1"},
        follow_redirects=False,
    )
    assert granted.headers["location"] == "/escalations?action=III.d.1&ok=extended"  # back to the same filter


def test_acknowledge_selected_takes_each_actions_open_steps_sent_to_you(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    repeat = add_escalation(engine, "k-rep", "III.d.1", 2, ["ed-devcoop"], at=NOW - timedelta(hours=1))
    other = add_escalation(engine, "k-dg", "III.d.1", 3, ["dg-office"], at=NOW - timedelta(hours=2))
    amara = client("ed-devcoop")
    page = amara.get("/escalations").text
    assert (
        f'name="pick-{action_id(engine, "III.d.1")}"' in page and f'name="pick-{action_id(engine, "I.2a.1")}"' in page
    )
    assert f'name="pick-{action_id(engine, "I.2b.1")}"' not in page  # sent to codev: no checkbox for her
    assert "Acknowledge this step" in page  # codev's step, below her, one by one
    picked = {
        "csrf": csrf_of(page),
        f"pick-{action_id(engine, 'III.d.1')}": "1",
        f"pick-{action_id(engine, 'I.2a.1')}": "1",
        "note": "on it",
        "back_query": "state=open",
    }
    answer = amara.post("/escalations/acknowledge", data=picked, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/escalations?state=open&ok=acknowledged"
    with transaction(engine) as session:
        mine = [escalation_id(engine, "III.d.1"), repeat, escalation_id(engine, "I.2a.1")]
        for ident in mine:
            entry = session.get(Escalation, ident)
            assert entry is not None and entry.acknowledged_by == "ed-devcoop" and entry.ack_note == "on it"
        over = session.get(Escalation, other)
        assert over is not None and over.acknowledged_at is None  # sent over her head: not hers
    nothing = amara.post("/escalations/acknowledge", data={"csrf": picked["csrf"]})
    assert nothing.status_code == 400 and "Tick the actions" in nothing.text
    not_hers = {"csrf": picked["csrf"], f"pick-{action_id(engine, 'I.2b.1')}": "1"}
    refused = amara.post("/escalations/acknowledge", data=not_hers)
    assert refused.status_code == 403 and "sent to you" in refused.text
    unseen = client("codev").post(
        "/escalations/acknowledge",
        data={"csrf": csrf_of(client("codev").get("/my").text), f"pick-{action_id(engine, 'III.d.1')}": "1"},
    )
    assert unseen.status_code in (403, 404)


def test_a_step_is_acknowledged_with_its_repeats(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    first = escalation_id(engine, "I.2b.1")
    with transaction(engine) as session:
        entry = session.get(Escalation, first)
        assert entry is not None
        session.add(
            Escalation(
                key="k-again",
                at=entry.at + timedelta(days=1),
                action_id=entry.action_id,
                occurrence=entry.occurrence,
                level=2,
                step="escalate:2#1",
                policy="default",
                recipients=["codev"],
                days_overdue=21,
            )
        )
    codev = client("codev")
    page = codev.get("/escalations").text
    assert "sent to you (2nd level), 2 times" in page
    done = codev.post(f"/escalations/{first}/acknowledge", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert done.status_code == 303
    with transaction(engine) as session:
        open_left = session.exec(
            select(Escalation).where(
                Escalation.action_id == action_id(engine, "I.2b.1"), col(Escalation.acknowledged_at).is_(None)
            )
        ).all()
    assert open_left == []


def _owner_of(engine, ref: str) -> str:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        owner = session.exec(select(Action.owner_id).where(Action.ref == ref)).one()
        assert owner is not None
        return owner


def _supervisor_of(engine, owner: str) -> str:  # type: ignore[no-untyped-def]
    from engine.store.models import Owner

    with transaction(engine) as session:
        person = session.get(Owner, owner)
        assert person is not None and person.supervisor_id is not None
        return person.supervisor_id


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
    assert "1 action (1 message sent)" in page and "(to the owner)" in page
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


def test_an_escalated_action_set_aside_or_reopened_reads_in_peoples_words(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    with transaction(engine) as session:
        aside = session.exec(select(Action).where(Action.ref == "III.d.1")).one()
        aside.acceptance, aside.acceptance_note = "not_accepted", "outside the mandate"
        aside.due = date(2000, 1, 31)
        again = session.exec(select(Action).where(Action.ref == "II.3.2")).one()
        again.due = date(2000, 3, 31)
        session.add_all([aside, again])
    add_escalation(engine, "k-aside", "III.d.1", 2, ["ed-devcoop"], at=NOW - timedelta(hours=1))
    reopened = add_escalation(engine, "k-again", "II.3.2", 1, ["ed-devcoop"], at=NOW - timedelta(hours=2))
    with transaction(engine) as session:
        entry = session.get(Escalation, reopened)
        assert entry is not None
        entry.occurrence = "2000-03-31 reopened 2000-04-20"
        session.add(entry)
    page = client("secretariat").get("/escalations").text
    row = page[page.index('<tr id="a-') :]
    aside_row = page.split(f'<tr id="a-{action_id(engine, "III.d.1")}"')[1].split("</tr>")[0]
    assert "not accepted" in aside_row and "overdue by" not in aside_row and "Grant extension" not in aside_row
    again_row = page.split(f'<tr id="a-{action_id(engine, "II.3.2")}"')[1].split("</tr>")[0]
    assert "Due 31 March 2000, reopened 20 April 2000, not done" in again_row and "due 31 March 2000" in again_row
    assert "not dated" not in again_row and "reopened 2000-04-20" not in row


def test_the_state_filter_agrees_with_escalations_in_spanish(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    with transaction(engine) as session:
        admin = session.get(Owner, "secretariat")
        assert admin is not None
        admin.language = "es"
        session.add(admin)
    page = client("secretariat").get("/escalations").text
    states = re.findall(r'<option value="(open|acknowledged|resolved|all)"[^>]*>([^<]+)</option>', page)
    assert states == [
        ("open", "abiertos"),
        ("acknowledged", "con recibo acusado"),
        ("resolved", "cerrados"),
        ("all", "todos"),
    ]
