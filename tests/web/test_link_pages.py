"""Action links from e-mails: GET confirms and changes nothing, POST acts once; bad links get a clear page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from engine.actions.extensions import request_extension
from engine.actions.links import ACT, ACTIONS, LINK_LIFETIME, action_links, preferences_url, sign_link
from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.models import Action, ActionChange, Escalation, Outbox, Owner
from engine.store.web_models import ExtensionRequest
from engine.web import create_app

from ..web_support import NOW, XSS, add_escalation, csrf_of, link_path, web_settings, web_world
from .one_step import changed_rules


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Engine, Settings]]:
    """The app over one-step closure (the owner's "done" closes at once); test_link_pages_followup has two steps."""
    engine = web_world(database_url)
    settings = web_settings(database_url, rules_dir=changed_rules(tmp_path / "rules", "    steps: 2", "    steps: 1"))
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
    action = _action(engine, "III.a.1")
    assert action.status == "done"
    assert f'href="/actions/{action.id}?ok=done&amp;action={action.id}">Undo it in planwatch' in done.text
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
    recorded = client.post(progress, data={"csrf": token, "state": "at risk", "note": "late partner"})
    assert recorded.status_code == 200 and "Progress on III.a.2 recorded." in recorded.text
    assert _action(engine, "III.a.2").status == "in_progress"
    extension = link_path(settings, "III.a.2", "pardev", "extension")
    bad = client.post(extension, data={"csrf": token, "to": "2000-01-01", "reason": "x"})
    assert bad.status_code == 400 and "not after" in bad.text
    asked = client.post(extension, data={"csrf": token, "to": "2000-09-30", "reason": "partner"})
    assert asked.status_code == 200 and "III.a.2 to 30 September 2000 requested; Amara Okafor decides" in asked.text
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
    assert late.status_code == 403 and "does not own III.a.3" in late.text  # handed back: older links stop working
    assert _action(engine, "III.a.3").status == "open"


def test_bad_links_get_a_clear_page(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings = site
    path = link_path(settings, "III.a.1", "pardev", "done")
    token = path.split("/")[2]
    forged = client.get(f"/a/{token[:-3]}abc/done")
    assert forged.status_code == 400 and "cannot be checked here" in forged.text
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


def _token_path(settings: Settings, ref: str, recipient: str, verb: str, role: str = "") -> str:
    """A link as an older message (no role) or a forger holding the key would make it."""
    return f"/a/{sign_link(settings.secret_key, ACT, 'gb276-tc2', ref, recipient, NOW + LINK_LIFETIME, role)}/{verb}"


def test_a_supervisors_link_never_acts_as_the_owner(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    assert set(
        action_links(settings.base_url, settings.secret_key, "p", "III.a.3", "ed-devcoop", NOW, "supervisor")
    ) == {"acknowledge", "grant", "refuse", "reassign", "view"}
    shown = client.get(link_path(settings, "III.a.3", "ed-devcoop", "acknowledge", role="supervisor"))
    token = csrf_of(shown.text)
    for verb in ("not_mine", "done", "progress", "extension"):
        path = _token_path(settings, "III.a.3", "ed-devcoop", verb, "supervisor")
        assert client.get(path).status_code == 403
        refused = client.post(path, data={"csrf": token, "to": "2000-09-30", "reason": "x", "note": "x"})
        assert refused.status_code == 403 and "only its owner can do that" in refused.text
    action = _action(engine, "III.a.3")
    assert (action.owner_id, action.status) == ("pardev", "open")
    with transaction(engine) as session:
        assert session.exec(select(Outbox).where(Outbox.template == "not_mine")).first() is None


def test_a_supervisors_link_acknowledges_the_steps_sent_to_her(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    mine = add_escalation(engine, "k-mine", "III.d.1", 2, ["ed-devcoop"])
    above = add_escalation(engine, "k-above", "III.d.1", 3, ["dg-office"])
    path = link_path(settings, "III.d.1", "ed-devcoop", "acknowledge", role="supervisor")
    shown = client.get(path)
    assert shown.status_code == 200 and "Acknowledge the escalation" in shown.text
    done = client.post(path, data={"csrf": csrf_of(shown.text), "note": "calling Rafael"})
    assert done.status_code == 200 and "Acknowledged 2 open steps about III.d.1." in done.text
    with transaction(engine) as session:
        acked = {e.id: e.acknowledged_by for e in session.exec(select(Escalation)).all()}
    assert acked[mine] == "ed-devcoop" and acked[above] is None  # the step over her head stays open
    owner_link = link_path(settings, "III.d.1", "pardev", "done")
    assert "acknowledge" not in owner_link
    assert client.get(_token_path(settings, "III.d.1", "pardev", "acknowledge", "owner")).status_code == 403


def test_a_recipient_who_is_not_an_owner_gets_no_acting_link(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    assert (
        action_links(settings.base_url, settings.secret_key, "gb276-tc2", "III.a.1", "committee@example.org", NOW, "")
        == {}
    )
    token = csrf_of(client.get(link_path(settings, "III.a.1", "pardev", "progress")).text)
    for role in ("", "owner", "supervisor"):
        for verb in ("done", "extension", "acknowledge"):
            path = _token_path(settings, "III.a.1", "committee@example.org", verb, role)
            answer = client.post(path, data={"csrf": token, "to": "2000-09-30", "reason": "x"})
            assert answer.status_code == 403 and "not in the owners directory" in answer.text, (role, verb)
    assert _action(engine, "III.a.1").status == "open"
    with transaction(engine) as session:
        assert session.exec(select(ExtensionRequest)).first() is None


def test_an_old_link_without_a_role_acts_only_for_the_owner(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    token = csrf_of(client.get(link_path(settings, "III.a.1", "pardev", "progress")).text)
    foreign = client.post(_token_path(settings, "III.a.1", "ed-devcoop", "not_mine"), data={"csrf": token})
    assert foreign.status_code == 403 and "does not own III.a.1" in foreign.text
    assert _action(engine, "III.a.1").owner_id == "pardev"
    delegate = client.post(_token_path(settings, "III.a.1", "secretariat", "progress"), data={"csrf": token})
    assert delegate.status_code == 200  # pardev's delegate
    own = client.post(_token_path(settings, "III.a.1", "pardev", "done"), data={"csrf": token})
    assert own.status_code == 200 and _action(engine, "III.a.1").status == "done"


def test_a_link_for_a_done_or_dropped_action_offers_nothing(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    token = csrf_of(client.get(link_path(settings, "III.a.1", "pardev", "progress")).text)
    with transaction(engine) as session:
        session.exec(select(Action).where(Action.ref == "III.a.2")).one().status = "dropped"
    assert client.post(link_path(settings, "III.a.1", "pardev", "done"), data={"csrf": token}).status_code == 200
    for ref, state in (("III.a.1", "done"), ("III.a.2", "dropped")):
        for verb in ("progress", "extension", "not_mine", "done"):
            path = link_path(settings, ref, "pardev", verb, sent=NOW - timedelta(days=1))
            shown = client.get(path)
            assert shown.status_code == 200 and f"This action is {state}" in shown.text
            assert "<form" not in shown.text.split("<main", 1)[-1], (ref, verb)
            used = client.post(path, data={"csrf": token, "to": "2000-09-30", "reason": "x", "state": "at risk"})
            assert used.status_code == 409 and f"is {state}" in used.text
    with transaction(engine) as session:
        assert session.exec(select(ExtensionRequest)).first() is None
        assert _action(engine, "III.a.2").status == "dropped"


OWNERS_VERBS = {"done", "progress", "extension", "not_mine", "delay", "view"}
# who the message went to, the role its link was sent in, and the verbs that link may use
ROLES = {
    "owner": ("pardev", "owner", OWNERS_VERBS),
    "delegate": ("secretariat", "owner", OWNERS_VERBS),
    "supervisor": ("ed-devcoop", "supervisor", {"acknowledge", "grant", "refuse", "reassign", "view"}),
    "plain address": ("committee@example.org", "viewer", {"view"}),
    "verifier": ("ed-devcoop", "verifier", {"verify", "view"}),
}


def _ask(engine: Engine, ref: str = "III.a.1", to: date = date(2000, 8, 31)) -> None:
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == ref)).one()
        request_extension(session, action, to, NOW, who="pardev", via="email link", reason="waiting for the donors")


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_uses_exactly_its_verbs_and_is_refused_the_others(site, role: str) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    recipient, sent_as, allowed = ROLES[role]
    _ask(engine)
    add_escalation(engine, "k-matrix", "III.a.1", 1, ["ed-devcoop"])
    token = csrf_of(client.get(link_path(settings, "III.a.2", "pardev", "progress")).text)
    for verb in ACTIONS:
        path = _token_path(settings, "III.a.1", recipient, verb, sent_as)
        shown = client.get(path, follow_redirects=False)
        if verb not in allowed:
            assert shown.status_code == 403, (role, verb)
            form = {"csrf": token, "to": "hrd", "note": "x", "reason": "x", "state": "at risk"}
            refused = client.post(path, data=form)
            assert refused.status_code == 403 and "<h1>" in refused.text, (role, verb)
        elif verb == "view":
            assert shown.status_code == 303, role
        elif verb == "verify":
            assert shown.status_code == 409 and "Nothing waits for verification" in shown.text  # no report yet
        else:
            assert shown.status_code == 200 and "<form" in shown.text, (role, verb)
    action = _action(engine, "III.a.1")
    assert (action.status, action.owner_id, action.extended_to) == ("open", "pardev", None)
    with transaction(engine) as session:
        assert session.exec(select(ExtensionRequest)).one().status == "pending"
        assert all(e.acknowledged_by is None for e in session.exec(select(Escalation)).all() if e.key == "k-matrix")


def test_a_view_link_opens_the_page_that_asks_for_sign_in(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings = site
    supervisor = client.get(
        link_path(settings, "III.a.1", "ed-devcoop", "view", role="supervisor"), follow_redirects=False
    )
    assert supervisor.status_code == 303 and supervisor.headers["location"] == "/escalations?action=III.a.1"
    plain = client.get(
        link_path(settings, "III.a.1", "committee@example.org", "view", role="viewer"), follow_redirects=False
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/actions/gb276-tc2/III.a.1"
    assert client.get(plain.headers["location"]).status_code == 401  # the page asks who you are first
    token = csrf_of(client.get(link_path(settings, "III.a.2", "pardev", "progress")).text)
    path = link_path(settings, "III.a.1", "committee@example.org", "view", role="viewer")
    assert client.post(path, data={"csrf": token}).status_code == 404  # opening acts on nothing


def test_a_supervisor_grants_a_pending_extension_and_the_owner_is_told(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    _ask(engine)
    path = link_path(settings, "III.a.1", "ed-devcoop", "grant", role="supervisor")
    shown = client.get(path)
    assert shown.status_code == 200 and "Rafael Quispe asked on" in shown.text
    assert "30 June 2000" in shown.text and "31 August 2000" in shown.text and "waiting for the donors" in shown.text
    done = client.post(path, data={"csrf": csrf_of(shown.text), "note": "fine"})
    assert done.status_code == 200 and "III.a.1 is now due on 31 August 2000. Rafael Quispe is told." in done.text
    assert _action(engine, "III.a.1").extended_to == date(2000, 8, 31)
    with transaction(engine) as session:
        request = session.exec(select(ExtensionRequest)).one()
        assert (request.status, request.decided_by, request.via) == ("granted", "ed-devcoop", "email link")
        told = session.exec(select(Outbox).where(Outbox.template == "extension_granted")).one()
        assert told.recipient_id == "pardev"
    refuse = link_path(settings, "III.a.1", "ed-devcoop", "refuse", role="supervisor")
    late = client.get(refuse)
    assert late.status_code == 409 and "no undecided extension request" in late.text


def test_a_supervisor_refuses_a_pending_extension_and_the_owner_is_told(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    _ask(engine)
    path = link_path(settings, "III.a.1", "ed-devcoop", "refuse", role="supervisor")
    shown = client.get(path)
    done = client.post(path, data={"csrf": csrf_of(shown.text), "note": "the board meets in July"})
    assert done.status_code == 200 and "Extension of III.a.1 refused" in done.text
    assert _action(engine, "III.a.1").extended_to is None
    with transaction(engine) as session:
        told = session.exec(select(Outbox).where(Outbox.template == "extension_refused")).one()
        assert (told.recipient_id, told.payload["by"], told.payload["note"]) == (
            "pardev",
            "Amara Okafor",
            "the board meets in July",
        )


def test_a_supervisor_reassigns_only_to_someone_below_her(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    path = link_path(settings, "III.a.1", "ed-devcoop", "reassign", role="supervisor")
    shown = client.get(path)
    assert shown.status_code == 200 and ">Kwame Mensah</option>" in shown.text
    assert "Office of the Director-General" not in shown.text and ">Rafael Quispe</option>" not in shown.text
    token = csrf_of(shown.text)
    above = client.post(path, data={"csrf": token, "to": "dg-office"})
    assert above.status_code == 400 and "those who report to you" in above.text
    assert _action(engine, "III.a.1").owner_id == "pardev"
    done = client.post(path, data={"csrf": token, "to": "hrd", "note": "Kwame leads this now"})
    assert done.status_code == 200 and "III.a.1 now belongs to Kwame Mensah." in done.text
    assert 'href="/actions/gb276-tc2/III.a.1"' in done.text
    assert _action(engine, "III.a.1").owner_id == "hrd"
    with transaction(engine) as session:
        assert session.exec(select(Outbox).where(Outbox.template == "not_mine")).first() is None


def test_a_supervisor_who_is_not_above_the_owner_decides_nothing(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    _ask(engine)
    token = csrf_of(client.get(link_path(settings, "III.a.2", "pardev", "progress")).text)
    for verb in ("grant", "refuse", "reassign"):  # Mei Tanaka (codev) supervises others, not Rafael Quispe
        path = link_path(settings, "III.a.1", "codev", verb, role="supervisor")
        assert client.get(path).status_code == 403
        refused = client.post(path, data={"csrf": token, "to": "ro-bangkok"})
        assert refused.status_code == 403 and "not above the owner of III.a.1" in refused.text
    action = _action(engine, "III.a.1")
    assert (action.owner_id, action.extended_to) == ("pardev", None)


def test_the_secretariat_gives_an_action_handed_back_to_anyone(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    token = csrf_of(client.get(link_path(settings, "III.a.2", "pardev", "progress")).text)
    assert client.post(link_path(settings, "III.a.3", "pardev", "not_mine"), data={"csrf": token}).status_code == 200
    path = link_path(settings, "III.a.3", "secretariat", "reassign", role="supervisor")
    shown = client.get(path)
    assert shown.status_code == 200 and ">Office of the Director-General</option>" in shown.text
    done = client.post(path, data={"csrf": csrf_of(shown.text), "to": "eval"})
    assert done.status_code == 200 and "III.a.3 now belongs to Nadia Haddad." in done.text
    assert _action(engine, "III.a.3").owner_id == "eval"


def test_an_action_without_a_due_date_has_nothing_to_extend(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings = site
    with transaction(engine) as session:
        action = session.exec(select(Action).where(Action.ref == "III.a.2")).one()
        action.kind, action.due, action.extended_to = "start", None, None
        session.add(action)
        owner = session.get(Owner, "pardev")
        assert owner is not None
        owner.language = "es"  # the link's person reads Spanish
        session.add(owner)
    extension = link_path(settings, "III.a.2", "pardev", "extension")
    token = csrf_of(client.get(link_path(settings, "III.a.2", "pardev", "progress")).text)
    refused = client.post(extension, data={"csrf": token, "to": "2000-09-30"})
    assert refused.status_code == 400
    assert "III.a.2 no tiene fecha límite" in refused.text and "has no due date" not in refused.text
    with transaction(engine) as session:
        assert session.exec(select(ExtensionRequest)).first() is None
