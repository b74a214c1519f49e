"""Follow-up pages over HTTP: the owner's report with evidence, the verifier's queue (confirm, return), evidence
downloads, the bulk update page (signed in and from a campaign's link) and the secretariat's campaigns; each verb
with its role refusals and its CSRF check."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from engine.actions.links import updates_url
from engine.clock import FixedClock
from engine.settings import Settings
from engine.store import transaction
from engine.store.followup_models import Campaign, ClosureReport, Evidence, ProgressUpdate
from engine.store.models import Action, Outbox, Owner
from engine.web import create_app

from ..web_support import NOW, XSS, action_id, csrf_of, link_path, sign_in
from .conftest import Client, status_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
Site = tuple[Client, Engine, Settings, FixedClock]


def _report(client: TestClient, ident: int, files: list[tuple[str, bytes]] | None = None, **fields: str) -> object:
    page = client.get(f"/actions/{ident}")
    data = {"csrf": csrf_of(page.text), "note": "Circulated to all offices", "links": "", "rating": "implemented"}
    sent = [("evidence", (name, body, "application/octet-stream")) for name, body in files or []]
    return client.post(f"/actions/{ident}/report", data=data | fields, files=sent or None, follow_redirects=False)


def _reports(engine: Engine) -> list[ClosureReport]:
    with transaction(engine) as session:
        return list(session.exec(select(ClosureReport)).all())


def _evidence(engine: Engine) -> list[Evidence]:
    with transaction(engine) as session:
        return list(session.exec(select(Evidence)).all())


def test_the_owner_reports_with_a_file_and_a_link_and_the_supervisor_confirms(site: Site) -> None:
    client, engine, _, _ = site
    ident = action_id(engine, "II.2.2")  # codev's; Amara Okafor (ed-devcoop) is above her
    owner = client("codev")
    assert "Report II.2.2 implemented" in owner.get(f"/actions/{ident}").text
    sent = _report(owner, ident, [("minutes.pdf", PDF)], links="https://example.org/minutes\n")
    assert sent.status_code == 303 and sent.headers["location"].endswith("ok=reported&action=" + str(ident))  # type: ignore[attr-defined]
    assert status_of(engine, "II.2.2") == "reported"
    [report] = _reports(engine)
    assert (report.verifier_id, report.links, report.note) == (
        "ed-devcoop",
        ["https://example.org/minutes"],
        "Circulated to all offices",
    )
    [file] = _evidence(engine)
    assert (file.closure_id, file.name, file.size) == (report.id, "minutes.pdf", len(PDF))
    sheet = owner.get(f"/actions/{ident}?ok=reported&action={ident}").text
    assert "waiting for Amara Okafor to verify it" in sheet and "Report II.2.2 implemented" not in sheet
    boss = client("ed-devcoop")
    queue = boss.get("/verify").text
    assert "II.2.2" in queue and "Circulated to all offices" in queue and f'href="/evidence/{file.id}"' in queue
    assert "https://example.org/minutes" in queue
    assert f"minutes.pdf</a> ({len(PDF)} bytes)" in queue  # the size in words, as the e-mails give it, not "1 KB"
    assert "Owner’s rating: implemented" in queue
    got = boss.get(f"/evidence/{file.id}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="minutes.pdf"')
    assert got.headers["x-content-type-options"] == "nosniff"
    done = boss.post(
        f"/verify/{report.id}/confirm",
        data={"csrf": csrf_of(queue), "rating": "partially_implemented"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/verify?ok=verified"
    assert status_of(engine, "II.2.2") == "done"
    [report] = _reports(engine)
    assert (report.status, report.decided_by, report.verifier_rating, report.owner_rating) == (
        "verified",
        "ed-devcoop",
        "partially_implemented",
        "implemented",
    )
    assert "Nothing waits for your verification" in boss.get("/verify").text


def test_a_return_needs_a_comment_and_opens_the_action_again(site: Site) -> None:
    client, engine, _, _ = site
    ident = action_id(engine, "II.2.2")
    assert _report(client("codev"), ident).status_code == 303  # type: ignore[attr-defined]
    [report] = _reports(engine)
    boss = client("ed-devcoop")
    token = csrf_of(boss.get("/verify").text)
    empty = boss.post(f"/verify/{report.id}/return", data={"csrf": token, "comment": "  "})
    assert empty.status_code == 400 and "Say what is missing" in empty.text
    assert status_of(engine, "II.2.2") == "reported"
    back = boss.post(
        f"/verify/{report.id}/return", data={"csrf": token, "comment": "Attach the minutes"}, follow_redirects=False
    )
    assert back.status_code == 303 and back.headers["location"] == "/verify?ok=returned"
    assert status_of(engine, "II.2.2") == "open"
    [report] = _reports(engine)
    assert (report.status, report.comment) == ("returned", "Attach the minutes")
    with transaction(engine) as session:
        told = session.exec(select(Outbox).where(Outbox.template == "closure_returned")).one()
        assert told.recipient_id == "codev"
    sheet = client("codev").get(f"/actions/{ident}").text
    assert "Returned" in sheet and "Attach the minutes" in sheet and "Report II.2.2 implemented" in sheet
    again = boss.post(f"/verify/{report.id}/confirm", data={"csrf": token})
    assert again.status_code == 409  # already decided


def test_only_the_named_verifier_or_the_secretariat_may_decide(site: Site) -> None:
    client, engine, _, _ = site
    ident = action_id(engine, "II.2.2")
    assert _report(client("codev"), ident, [("m.pdf", PDF)]).status_code == 303  # type: ignore[attr-defined]
    [report] = _reports(engine)
    [file] = _evidence(engine)
    stranger = client("ro-lima")  # below codev: sees none of her own actions' reports to verify
    assert "No hay nada pendiente de su verificación" in stranger.get("/verify").text  # Lucía reads Spanish
    token = csrf_of(stranger.get("/my").text)
    refused = stranger.post(f"/verify/{report.id}/confirm", data={"csrf": token})
    assert refused.status_code == 403 and "No le corresponde verificarlo" in refused.text
    assert stranger.post(f"/verify/{report.id}/return", data={"csrf": token, "comment": "x"}).status_code == 403
    assert stranger.get(f"/evidence/{file.id}").status_code == 404  # codev's action is not hers to see
    owner = client("codev")
    assert owner.post(f"/verify/{report.id}/confirm", data={"csrf": csrf_of(owner.get("/my").text)}).status_code == 403
    assert status_of(engine, "II.2.2") == "reported"
    staff = client("secretariat")
    assert "II.2.2" in staff.get("/verify").text
    assert staff.get(f"/evidence/{file.id}").status_code == 200
    assert client(None).get("/verify").status_code == 401
    assert client(None).get(f"/evidence/{file.id}").status_code == 401
    assert stranger.post("/verify/999999/confirm", data={"csrf": token}).status_code == 404


def test_only_the_owner_reports_and_a_bad_file_changes_nothing(site: Site) -> None:
    client, engine, _, _ = site
    ident = action_id(engine, "II.2.2")
    boss = client("ed-devcoop")
    assert "Report II.2.2 implemented" not in boss.get(f"/actions/{ident}").text
    refused = _report(boss, ident)
    assert refused.status_code == 403  # type: ignore[attr-defined]
    owner = client("codev")
    bad = _report(owner, ident, [("tool.pdf", b"MZ\x90\x00" + b"\x00" * 60)])
    assert bad.status_code == 400 and "tool.pdf: the name says PDF, but its content is a .exe file" in bad.text  # type: ignore[attr-defined]
    link = _report(owner, ident, links="javascript:alert(1)")
    assert link.status_code == 400 and "is not a web address" in link.text  # type: ignore[attr-defined]
    assert status_of(engine, "II.2.2") == "open" and _reports(engine) == [] and _evidence(engine) == []


def test_a_refused_file_is_explained_in_the_owners_language_under_their_navigation(site: Site) -> None:
    client, engine, _, _ = site
    ident = action_id(engine, "II.2.2")
    with transaction(engine) as session:
        person = session.get(Owner, "codev")
        assert person is not None
        person.language = "fr"
        session.add(person)
    owner = client("codev")
    bad = _report(owner, ident, [("list.pdf", b"MZ\x90\x00" + b"\x00" * 60)])
    assert bad.status_code == 400  # type: ignore[attr-defined]
    said = bad.text  # type: ignore[attr-defined]
    assert "list.pdf : le nom indique PDF, mais le contenu est un fichier .exe" in said and "the name says" not in said
    assert "Se déconnecter" in said and 'href="/signin"' not in said  # signed in: their navigation, no "Sign in"
    big = _report(owner, ident, [("big.txt", b"a" * (11 * 1024 * 1024))])
    assert "big.txt : le fichier fait 11 MB, au-delà des 10 MB acceptés" in big.text  # type: ignore[attr-defined]


def test_every_verb_refuses_a_form_without_its_token(site: Site) -> None:
    client, engine, settings, _ = site
    ident = action_id(engine, "II.2.2")
    owner, staff = client("codev"), client("secretariat")
    for who, path in [
        (owner, f"/actions/{ident}/report"),
        (owner, "/updates"),
        (staff, "/verify/1/confirm"),
        (staff, "/verify/1/return"),
        (staff, "/campaigns/preview"),
        (staff, "/campaigns/start"),
    ]:
        answer = who.post(path, data={"csrf": "wrong", "note": "x", "comment": "x", f"text-{ident}": "x"})
        assert answer.status_code == 403 and "Form refused" in answer.text, path
    token = updates_url(settings.base_url, settings.secret_key, "gb276-tc2", 1, "codev", NOW).rsplit("/", 1)[1]
    anonymous = client(None)
    anonymous.get(f"/updates/{token}")
    assert anonymous.post(f"/updates/{token}", data={"csrf": "wrong", f"text-{ident}": "x"}).status_code == 403
    assert status_of(engine, "II.2.2") == "open" and _reports(engine) == []
    with transaction(engine) as session:
        assert session.exec(select(ProgressUpdate)).all() == [] and session.exec(select(Campaign)).all() == []


def _updates(engine: Engine) -> list[tuple[str, str, int | None, str, str]]:
    with transaction(engine) as session:
        rows = session.exec(select(ProgressUpdate, Action).join(Action)).all()
        return sorted((a.ref, u.text, u.percent, u.state, u.via) for u, a in rows)


def test_the_bulk_page_saves_every_filled_row_at_once(site: Site) -> None:
    client, engine, _, _ = site
    owner = client("hrd")
    shown = owner.get("/updates")
    assert shown.status_code == 200
    assert re.findall(r'name="text-(\d+)"', shown.text) == [
        str(action_id(engine, r)) for r in ("II.3.1", "II.3.2", "II.3.4")
    ]
    first, second = action_id(engine, "II.3.1"), action_id(engine, "II.3.4")
    data = {
        "csrf": csrf_of(shown.text),
        f"text-{first}": "Twelve offices trained",
        f"percent-{first}": "60",
        f"state-{first}": "on track",
        f"text-{second}": "",
        f"percent-{second}": "10",
        f"state-{second}": "at risk",
        f"text-{action_id(engine, 'II.3.2')}": "",
    }
    files = [(f"file-{first}", ("list.csv", b"office,trained\nLima,12\n", "text/csv"))]
    saved = owner.post("/updates", data=data, files=files, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/updates?ok=updated"
    assert _updates(engine) == [
        ("II.3.1", "Twelve offices trained", 60, "on track", "web"),
        ("II.3.4", "", 10, "at risk", "web"),
    ]
    [file] = _evidence(engine)
    assert file.name == "list.csv" and file.update_id is not None
    sheet = owner.get(f"/actions/{first}").text
    assert "Twelve offices trained" in sheet and "60%" in sheet and f'href="/evidence/{file.id}"' in sheet
    assert "Your updates are saved" in owner.get("/updates?ok=updated").text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("percent", "150", "Percent complete: expected a whole number from 0 to 100, got &#39;150&#39;"),
        ("percent", "half", "Percent complete: expected a whole number from 0 to 100, got &#39;half&#39;"),
        ("state", "late", "II.3.1: choose on track or at risk"),
        ("other", "x", "is not one of yours; reload the page"),
    ],
)
def test_one_bad_row_refuses_the_whole_bulk_page(site: Site, field: str, value: str, message: str) -> None:
    client, engine, _, _ = site
    owner = client("hrd")
    token = csrf_of(owner.get("/updates").text)
    good, bad = action_id(engine, "II.3.4"), action_id(engine, "II.3.1")
    data = {"csrf": token, f"text-{good}": "fine", f"text-{bad}": "x"}
    if field == "other":
        data[f"text-{action_id(engine, 'I.1a.1')}"] = value  # Jonas Lindqvist's, not hers
    else:
        data[f"{field}-{bad}"] = value
    refused = owner.post("/updates", data=data)
    assert refused.status_code == 400 and message in refused.text
    assert _updates(engine) == []


def test_the_link_in_a_campaign_message_opens_the_owners_page_only(site: Site) -> None:
    client, engine, settings, clock = site
    staff = client("secretariat")
    form = {"csrf": csrf_of(staff.get("/campaigns").text), "within": "45", "overdue": "yes"}
    staff.post("/campaigns/start", data=form)
    with transaction(engine) as session:
        campaign = session.exec(select(Campaign)).one()
    url = updates_url(settings.base_url, settings.secret_key, "gb276-tc2", campaign.id or 0, "pardev", NOW)
    path = url.removeprefix(settings.base_url)
    visitor = client(None)
    shown = visitor.get(path)
    assert shown.status_code == 200 and "Rafael Quispe" in shown.text
    assert XSS not in shown.text and "&lt;script&gt;" in shown.text  # III.d.1's title, escaped
    ident = action_id(engine, "III.d.1")
    saved = visitor.post(
        path,
        data={"csrf": csrf_of(shown.text), f"text-{ident}": "Agreement signed", f"percent-{ident}": "90"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?ok=updated"
    assert _updates(engine) == [("III.d.1", "Agreement signed", 90, "on track", "campaign link")]
    assert "1 of 5 answered" in staff.get("/campaigns").text
    assert visitor.get("/my").status_code == 401  # the link signs in for that page only
    assert visitor.get("/updates").status_code == 401
    assert visitor.get(path[:-3] + "abc").status_code == 400
    later = client(None)
    clock.set(NOW + timedelta(days=61))
    expired = later.get(path)
    assert expired.status_code == 400 and "expired" in expired.text


def test_the_campaign_link_page_speaks_the_owners_language(site: Site) -> None:
    client, engine, settings, _ = site
    with transaction(engine) as session:
        owner = session.get(Owner, "pardev")
        assert owner is not None
        owner.language = "fr"
        session.add(owner)
    url = updates_url(settings.base_url, settings.secret_key, "gb276-tc2", 1, "pardev", NOW)
    shown = client(None).get(url.removeprefix(settings.base_url), headers={"accept-language": "en"})
    assert shown.status_code == 200
    assert "Mettre à jour vos actions" in shown.text or "Tout enregistrer" in shown.text
    assert "Save all" not in shown.text and "Update your actions" not in shown.text


def test_the_bulk_page_shows_as_far_ahead_as_asked(site: Site) -> None:
    client, engine, _, _ = site
    owner = client("pardev")
    near = re.findall(r'name="text-(\d+)"', owner.get("/updates?within=1").text)
    assert near == [str(action_id(engine, "III.d.1"))]  # only the overdue one
    far = re.findall(r'name="text-(\d+)"', owner.get("/updates?within=45").text)
    assert len(far) == 6 and owner.get("/updates?within=nonsense").text.count('name="text-') == 6


def test_files_go_to_the_configured_folder_and_the_size_limit_holds(site: Site, tmp_path: Path) -> None:
    _, engine, settings, clock = site
    folder = tmp_path / "evidence"
    app = create_app(replace(settings, evidence_dir=folder, evidence_max_bytes=100), clock=clock, engine=engine)
    with TestClient(app) as owner:
        sign_in(owner, settings, "codev")
        ident = action_id(engine, "II.2.2")
        big = _report(owner, ident, [("big.pdf", PDF + b"0" * 200)])
        assert big.status_code == 400 and "big.pdf: the file is 233 bytes, more than the 100 bytes accepted" in big.text  # type: ignore[attr-defined]
        assert _reports(engine) == []
        assert _report(owner, ident, [("small.pdf", PDF)]).status_code == 303  # type: ignore[attr-defined]
        [file] = _evidence(engine)
        assert file.data is None and (folder / file.stored_path).read_bytes() == PDF
        got = owner.get(f"/evidence/{file.id}")
        assert got.status_code == 200 and got.content == PDF
        (folder / file.stored_path).unlink()
        gone = owner.get(f"/evidence/{file.id}")
        assert gone.status_code == 410 and "missing from the evidence folder" in gone.text


def test_a_progress_report_on_the_action_page_is_a_dated_update_with_its_percent(site: Site) -> None:
    client, engine, _, _ = site
    owner = client("hrd")
    ident = action_id(engine, "II.3.1")
    token = csrf_of(owner.get(f"/actions/{ident}").text)
    bad = owner.post(f"/actions/{ident}/progress", data={"csrf": token, "note": "x", "percent": "101"})
    assert bad.status_code == 400 and "Percent complete: expected a whole number from 0 to 100" in bad.text
    sent = owner.post(f"/actions/{ident}/progress", data={"csrf": token, "note": "Halfway", "percent": "50"})
    assert sent.status_code == 200
    assert _updates(engine) == [("II.3.1", "Halfway", 50, "on track", "web")]


def test_a_messages_progress_link_records_the_percent_too(site: Site) -> None:
    client, engine, settings, _ = site
    path = link_path(settings, "II.3.1", "hrd", "progress")
    visitor = client(None)
    shown = visitor.get(path)
    assert 'name="percent"' in shown.text
    used = visitor.post(path, data={"csrf": csrf_of(shown.text), "note": "Most offices", "percent": "80"})
    assert used.status_code == 200
    assert _updates(engine) == [("II.3.1", "Most offices", 80, "on track", "email link")]
