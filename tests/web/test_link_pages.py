"""Action links from e-mails: GET confirms and changes nothing, POST acts once; bad links get a clear page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from engine.actions.links import preferences_url
from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Action, ActionChange, Outbox, Owner
from engine.store.web_models import ExtensionRequest
from engine.web import create_app

from ..web_support import NOW, XSS, csrf_of, link_path, web_settings, web_world


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


def _changes(engine: Engine) -> int:
    with transaction(engine) as session:
        return len(session.exec(select(ActionChange)).all())


def test_get_confirms_and_changes_nothing_post_acts_once(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    path = link_path(settings, "III.a.1", "pardev", "done")
    before = _changes(engine)
    shown = client.get(path)
    assert shown.status_code == 200 and "Mark this action done" in shown.text and "III.a.1" in shown.text
    client.get(path)
    assert _changes(engine) == before and _action(engine, "III.a.1").status == "open"
    done = client.post(path, data={"csrf": csrf_of(shown.text), "note": "sent"})
    assert done.status_code == 200 and "Marked the action done." in done.text
    assert _action(engine, "III.a.1").status == "done"
    with transaction(engine) as session:
        change = session.exec(select(ActionChange).where(ActionChange.field == "status")).one()
        assert (change.who, change.via, change.note) == ("pardev", "email link", "sent")
    again = client.post(path, data={"csrf": csrf_of(shown.text)})
    assert again.status_code == 410 and "already used" in again.text
    assert client.get(path).status_code == 410


def test_each_verb_of_a_message_works_once(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    progress = link_path(settings, "III.a.2", "pardev", "progress")
    token = csrf_of(client.get(progress).text)
    assert client.post(progress, data={"csrf": token, "state": "at risk", "note": "late partner"}).status_code == 200
    assert _action(engine, "III.a.2").status == "in_progress"
    extension = link_path(settings, "III.a.2", "pardev", "extension")
    bad = client.post(extension, data={"csrf": token, "to": "2000-01-01", "reason": "x"})
    assert bad.status_code == 400 and "not after" in bad.text
    asked = client.post(extension, data={"csrf": token, "to": "2000-09-30", "reason": "partner"})
    assert asked.status_code == 200 and "requested" in asked.text
    with transaction(engine) as session:
        request = session.exec(select(ExtensionRequest)).one()
        assert (request.requested_by, request.via, request.wanted.isoformat()) == ("pardev", "email link", "2000-09-30")
    not_mine = link_path(settings, "III.a.3", "rafael.quispe@example.org", "not_mine")
    assert client.post(not_mine, data={"csrf": token, "note": "belongs to CODEV"}).status_code == 200
    assert _action(engine, "III.a.3").owner_id is None
    with transaction(engine) as session:
        told = session.exec(select(Outbox).where(Outbox.template == "not_mine")).one()
        assert told.recipient_id == "secretariat"
    late = client.post(link_path(settings, "III.a.3", "pardev", "done"), data={"csrf": token})
    assert late.status_code == 403 and "no longer yours" in late.text  # handed back: older links stop working
    assert _action(engine, "III.a.3").status == "open"


def test_bad_links_get_a_clear_page(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings = site
    path = link_path(settings, "III.a.1", "pardev", "done")
    token = path.split("/")[2]
    forged = client.get(f"/a/{token[:-3]}abc/done")
    assert forged.status_code == 400 and "not valid" in forged.text
    assert client.get(f"/a/{token}/delete").status_code == 404
    expired = client.get(link_path(settings, "III.a.1", "pardev", "done", sent=NOW - timedelta(days=61)))
    assert expired.status_code == 400 and "expired" in expired.text
    preferences_as_action = preferences_url(settings.base_url, settings.secret_key, "pardev", NOW).split("/")[-1]
    assert client.get(f"/a/{preferences_as_action}/done").status_code == 400
    gone = client.get(link_path(settings, "NO.SUCH.1", "pardev", "done"))
    assert gone.status_code == 404
    for answer in (forged, expired, gone):
        assert "Traceback" not in answer.text and "<h1>" in answer.text


def test_a_link_post_without_the_token_changes_nothing(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    path = link_path(settings, "III.a.1", "pardev", "done")
    assert client.post(path, data={}).status_code == 403
    assert _action(engine, "III.a.1").status == "open"
    assert client.get(path).status_code == 200  # still unused


def test_the_confirmation_page_escapes_the_title(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings = site
    page = client.get(link_path(settings, "III.d.1", "pardev", "progress")).text
    assert "&lt;script&gt;" in page and XSS not in page


def test_preferences_change_delivery_and_one_click_unsubscribe_switches_to_weekly(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    path = preferences_url(settings.base_url, settings.secret_key, "pardev", NOW).removeprefix(settings.base_url)
    shown = client.get(path)
    assert shown.status_code == 200 and "rafael.quispe@example.org" in shown.text
    assert client.post(path, data={"digest": "daily"}).status_code == 403
    saved = client.post(path, data={"csrf": csrf_of(shown.text), "digest": "daily"})
    assert saved.status_code == 200 and "one daily digest" in saved.text
    with TestClient(client.app) as mail_provider:  # RFC 8058: a POST from the provider, no cookie, no form token
        assert mail_provider.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with transaction(engine) as session:
        owner = session.get(Owner, "pardev")
        assert owner is not None and owner.digest == "weekly"
