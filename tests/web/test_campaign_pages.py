"""The secretariat's campaigns over HTTP: the preview that sends nothing, the start, who answered, closing;
refused to others and without the form's token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.followup_models import Campaign, CampaignRequest, ProgressUpdate
from engine.store.models import Outbox, Plan

from ..web_support import action_id, csrf_of
from .conftest import Client

Site = tuple[Client, Engine, Settings, FixedClock]


def test_a_campaign_is_previewed_then_started_and_shows_who_answered(site: Site) -> None:
    client, engine, _, _ = site
    assert client("codev").get("/campaigns").status_code == 403
    staff = client("secretariat")
    page = staff.get("/campaigns")
    assert page.status_code == 200 and "No campaign yet" in page.text
    form = {
        "csrf": csrf_of(page.text),
        "within": "45",
        "overdue": "yes",
        "respond_by": "2000-06-15",
        "note": "For the report",
    }
    preview = staff.post("/campaigns/preview", data=form)
    assert preview.status_code == 200 and "Send 5 messages" in preview.text
    assert "Kwame Mensah" in preview.text and "II.3.1, II.3.2, II.3.4" in preview.text
    with transaction(engine) as session:
        assert session.exec(select(Campaign)).all() == []  # the preview sends nothing
    started = staff.post("/campaigns/start", data=form, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == "/campaigns?ok=campaign"
    with transaction(engine) as session:
        assert len(session.exec(select(CampaignRequest)).all()) == 5
        assert len(session.exec(select(Outbox).where(Outbox.template == "campaign")).all()) == 5
    assert "0 of 5 answered" in staff.get("/campaigns").text
    owner = client("hrd")
    ident = action_id(engine, "II.3.1")
    owner.post("/updates", data={"csrf": csrf_of(owner.get("/updates").text), f"text-{ident}": "On the way"})
    listed = staff.get("/campaigns").text
    assert "1 of 5 answered" in listed and "For the report" in listed
    assert "Started by Technical Cooperation Secretariat on" in listed  # who started it, by name
    with transaction(engine) as session:
        assert session.exec(select(ProgressUpdate)).one().campaign_id == session.exec(select(Campaign)).one().id
    codev = client("codev")
    assert codev.post("/campaigns/start", data=form | {"csrf": csrf_of(codev.get("/my").text)}).status_code == 403
    bad = staff.post("/campaigns/preview", data=form | {"within": "many"})
    assert bad.status_code == 400 and "Due within: expected a number of days" in bad.text


def test_the_secretariat_closes_a_campaign_and_later_updates_no_longer_count(site: Site) -> None:
    client, engine, _, clock = site
    staff = client("secretariat")
    token = csrf_of(staff.get("/campaigns").text)
    staff.post("/campaigns/start", data={"csrf": token, "within": "45", "overdue": "yes"})
    with transaction(engine) as session:
        ident = session.exec(select(Campaign)).one().id
    owner = client("codev")
    assert owner.post(f"/campaigns/{ident}/close", data={"csrf": csrf_of(owner.get("/my").text)}).status_code == 403
    assert staff.post(f"/campaigns/{ident}/close", data={"csrf": "wrong"}).status_code == 403
    closed = staff.post(f"/campaigns/{ident}/close", data={"csrf": token}, follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == "/campaigns?ok=closed"
    hrd = client("hrd")
    clock.advance(timedelta(hours=1))
    first = action_id(engine, "II.3.1")
    hrd.post("/updates", data={"csrf": csrf_of(hrd.get("/updates").text), f"text-{first}": "Late answer"})
    shown = staff.get("/campaigns").text
    assert "0 of 5 answered" in shown and "closed " in shown and "Close Update of" not in shown
    assert staff.post("/campaigns/999/close", data={"csrf": token}).status_code == 404


def test_a_campaign_the_rules_started_says_so_and_for_which_month(site: Site) -> None:
    client, engine, _, clock = site
    with transaction(engine) as session:
        plan_id = session.exec(select(Plan.id)).first()
        session.add(
            Campaign(
                plan_id=plan_id, title="Update of May", created_by="rules", created_at=clock.now(), period="2000-05"
            )
        )
    english = client("secretariat").get("/campaigns").text
    assert "Started by the rules on" in english and "for May 2000" in english and "Started by rules" not in english
