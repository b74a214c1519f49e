"""E-mail links for follow-up under the project's two-step closure: the owner's "done" reports the action
implemented (with a note and links), "delay" records why it is late, and the verifier confirms or returns a report
through ``verify``; each GET changes nothing, each POST needs the form's token and acts once, in its role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from engine.actions.followup import report_implemented
from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.followup_models import ClosureReport
from engine.store.models import Action, Outbox
from engine.web import create_app

from ..web_support import NOW, csrf_of, link_path, web_settings, web_world


@pytest.fixture
def site(database_url: str) -> Iterator[tuple[TestClient, Engine, Settings]]:
    engine = web_world(database_url)
    settings = web_settings(database_url)
    with TestClient(create_app(settings, clock=FixedClock(NOW), engine=engine)) as client:
        yield client, engine, settings
    engine.dispose()


def _action(engine: Engine, ref: str) -> Action:
    with transaction(engine) as session:
        return session.exec(select(Action).where(Action.ref == ref)).one()


def _reported(engine: Engine, ref: str = "III.a.1") -> int:
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == ref)).one()
        report = report_implemented(session, action, NOW, who="pardev", via="cli", note="sent the letter").report
        assert report is not None and report.id is not None
        return report.id


def test_the_owners_done_link_reports_it_implemented_with_links(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    path = link_path(settings, "III.a.1", "pardev", "done")
    shown = client.get(path)
    assert shown.status_code == 200 and "Report this action implemented" in shown.text
    assert 'name="links"' in shown.text and "To attach files, open the action in planwatch" in shown.text
    assert _action(engine, "III.a.1").status == "open"
    refused = client.post(path, data={"note": "sent"})  # no form token
    assert refused.status_code == 403 and _action(engine, "III.a.1").status == "open"
    bad = client.post(path, data={"csrf": csrf_of(shown.text), "links": "javascript:alert(1)"})
    assert bad.status_code == 400 and _action(engine, "III.a.1").status == "open"
    done = client.post(path, data={"csrf": csrf_of(shown.text), "note": "sent", "links": "https://example.org/l\n"})
    assert done.status_code == 200 and "Reported the action implemented: Amara Okafor verifies it" in done.text
    assert "Undo it" not in done.text
    assert _action(engine, "III.a.1").status == "reported"
    with transaction(engine) as session:
        report = session.exec(select(ClosureReport)).one()
        assert (report.reported_by, report.via, report.note, report.links) == (
            "pardev",
            "email link",
            "sent",
            ["https://example.org/l"],
        )
    assert client.post(path, data={"csrf": csrf_of(shown.text)}).status_code == 410  # each button works once


def test_the_delay_link_records_a_cause_from_the_rules(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    with transaction(engine) as session:  # a cause of delay is for overdue actions
        late = session.exec(select(Action).where(Action.ref == "III.a.1")).one()
        late.due = date(2000, 5, 15)
        session.add(late)
    path = link_path(settings, "III.a.1", "pardev", "delay")
    shown = client.get(path)
    assert shown.status_code == 200 and "Say why the action is late" in shown.text
    for cause in ("resources", "depends on another action", "awaiting a decision", "external factors", "other"):
        assert f'<option value="{cause}"' in shown.text
    token = csrf_of(shown.text)
    assert client.post(path, data={"cause": "resources"}).status_code == 403  # no form token
    unknown = client.post(path, data={"csrf": token, "cause": "weather"})
    assert unknown.status_code == 400 and "unknown cause of delay" in unknown.text and "weather" in unknown.text
    bare = client.post(path, data={"csrf": token, "cause": "other"})
    assert bare.status_code == 400 and "needs a few words" in bare.text
    assert not _action(engine, "III.a.1").delay_cause
    done = client.post(path, data={"csrf": token, "cause": "other", "note": "the donor's review"})
    assert done.status_code == 200 and "cause of delay of III.a.1 is recorded" in done.text
    action = _action(engine, "III.a.1")
    assert (action.delay_cause, action.delay_note) == ("other", "the donor's review")
    supervisor = client.get(
        link_path(settings, "III.a.1", "ed-devcoop", "view", role="supervisor").removesuffix("view") + "delay"
    )
    assert supervisor.status_code == 403  # the owner says why it is late


def test_the_verifier_confirms_through_the_link_and_the_owner_is_told(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    report_id = _reported(engine)
    path = link_path(settings, "III.a.1", "ed-devcoop", "verify", role="verifier")
    shown = client.get(path)
    assert shown.status_code == 200 and "Verify the report of implementation" in shown.text
    assert "sent the letter" in shown.text and 'value="confirm"' in shown.text and 'value="return"' in shown.text
    assert _action(engine, "III.a.1").status == "reported"  # the GET changes nothing
    assert client.post(path, data={"decision": "confirm"}).status_code == 403  # no form token
    token = csrf_of(shown.text)
    assert client.post(path, data={"csrf": token, "decision": "maybe"}).status_code == 400
    done = client.post(path, data={"csrf": token, "decision": "confirm", "rating": "partially_implemented"})
    assert done.status_code == 200 and "Confirmed: III.a.1 counts as implemented" in done.text
    assert _action(engine, "III.a.1").status == "done"
    with transaction(engine) as session:
        report = session.get(ClosureReport, report_id)
        assert report is not None
        assert (report.status, report.decided_by, report.verifier_rating) == (
            "verified",
            "ed-devcoop",
            "partially_implemented",
        )
        [told] = session.exec(select(Outbox).where(Outbox.template == "closure_verified")).all()
        assert told.recipient_id == "pardev"


def test_the_verifier_returns_through_the_link_with_a_comment(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    _reported(engine)
    path = link_path(settings, "III.a.1", "ed-devcoop", "verify", role="verifier")
    token = csrf_of(client.get(path).text)
    empty = client.post(path, data={"csrf": token, "decision": "return", "comment": " "})
    assert empty.status_code == 400 and "Say what is missing" in empty.text
    assert _action(engine, "III.a.1").status == "reported"
    back = client.post(path, data={"csrf": token, "decision": "return", "comment": "attach the letter"})
    assert back.status_code == 200 and "Returned III.a.1 to Rafael Quispe" in back.text
    assert _action(engine, "III.a.1").status == "open"
    again = client.get(path)
    assert again.status_code == 410  # the button was used


def test_only_the_verifier_the_report_waits_for_may_use_the_link(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    _reported(engine)
    stranger = client.get(link_path(settings, "III.a.1", "hrd", "verify", role="verifier"))
    assert stranger.status_code == 403 and "waits for someone else" in stranger.text
    as_owner = client.get(link_path(settings, "III.a.1", "pardev", "view").removesuffix("view") + "verify")
    assert as_owner.status_code == 403  # the owner's link does not verify
    as_supervisor = client.get(
        link_path(settings, "III.a.1", "ed-devcoop", "view", role="supervisor").removesuffix("view") + "verify"
    )
    assert as_supervisor.status_code == 403
    assert _action(engine, "III.a.1").status == "reported"
