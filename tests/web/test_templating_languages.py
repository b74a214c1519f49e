"""The pages in the reader's language: French and Spanish owners read their pages, dates in words and in their
language; the plan's language when the owner has none; the browser's before sign-in; the choice on the
preferences page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import docx
import pytest
from sqlmodel import select

from engine.actions.extensions import request_extension
from engine.actions.followup import report_implemented
from engine.actions.links import preferences_url
from engine.read.queries import find_action
from engine.store import transaction
from engine.store.models import Owner, Plan
from engine.web.templating import browser_language, resolution_words

from ..web_support import NOW, action_id, csrf_of, link_path


def _speaks(engine, owner: str, language: str | None) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        person = s.get(Owner, owner)
        assert person is not None
        person.language = language
        s.add(person)


def _plan_speaks(engine, language: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        for plan in s.exec(select(Plan)).all():
            plan.language = language
            s.add(plan)


def test_a_french_owner_reads_her_pages_in_french(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    _speaks(engine, "hrd", "fr")
    hrd = client("hrd")
    my = hrd.get("/my").text
    assert '<html lang="fr">' in my and "<h1>Mes actions</h1>" in my and "Se déconnecter" in my
    assert "Échéance le <strong>31 mai 2000</strong>" in my and "1 jour de retard" in my
    with transaction(engine) as s:
        asked = request_extension(
            s, find_action(s, "II.3.2"), date(2000, 9, 30), NOW, who="hrd", via="web", reason="budget"
        )
        assert asked is not None
    assert "prorogation demandée au 30 septembre 2000" in hrd.get("/my").text  # what is open, in her words
    assert "Délai indiqué dans le plan" in my and "Signaler l'avancement" in my and "My actions" not in my
    sheet = hrd.get(f"/actions/{action_id(engine, 'II.3.1')}").text
    assert '<html lang="fr">' in sheet and "<h2>Historique</h2>" in sheet and "Demander une prorogation" in sheet
    assert "31 mai 2000" in sheet and "Déclarer II.3.1 mise en œuvre" in sheet and "Schedule" not in sheet
    assert "<dt>Lu comme</dt><dd>date butoir, échéance le 31 mai 2000" in sheet
    bulk = hrd.get("/updates").text
    assert "<h1>Mettre à jour vos actions</h1>" in bulk and "Tout enregistrer" in bulk
    assert bulk.count("1 jour de retard") == 3 and "Ce qui a été fait pour II.3.1" in bulk
    done = hrd.get(f"/actions/{action_id(engine, 'II.3.1')}?ok=progress").text
    assert "Avancement enregistré pour II.3.1" in done  # the notice after a verb, in her language
    links = hrd.post("/my/calendar", data={"csrf": csrf_of(my)}, follow_redirects=True).text
    assert "<strong>Vos actions</strong>" in links and "S'abonner dans votre application de calendrier" in links
    assert "My actions" in client("pardev").get("/my").text  # the others keep English


def test_a_spanish_supervisor_reads_escalations_and_the_verifier_queue_in_spanish(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    with transaction(engine) as s:
        report_implemented(s, find_action(s, "II.2.2"), datetime(2000, 5, 30, tzinfo=UTC), who="codev", via="web")
    _speaks(engine, "ed-devcoop", "es")
    boss = client("ed-devcoop")
    queue = boss.get("/verify").text
    assert '<html lang="es">' in queue and "<h1>Por verificar</h1>" in queue
    assert "1 informe de aplicación espera su verificación." in queue and "Confirmar la aplicación de II.2.2" in queue
    assert "Devolver II.2.2 a su responsable" in queue and "Lo que falta (obligatorio)" in queue
    assert "Mei Tanaka la notificó como «aplicada» el" in queue and ">aplicada parcialmente</option>" in queue
    escalations = boss.get("/escalations").text
    assert "<h1>Escalamientos</h1>" in escalations and "Filtrar" in escalations and "Exportar en CSV" in escalations
    assert "Vencimiento del 31 de diciembre de 1999, no realizada — enviado a usted (nivel 2)" in escalations
    assert "Escalations" not in escalations.split("<main", 1)[1]


def test_the_progress_report_page_is_in_the_readers_language(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    _speaks(engine, "secretariat", "fr")
    report = client("secretariat").get("/report?as_of=2000-04-30").text
    assert '<html lang="fr">' in report and "Rapport d'avancement : GB.276/TC/2" in report
    assert "Au <strong>30 avril 2000</strong>." in report and "Ensemble du plan" in report
    assert '<th scope="col">en bonne voie</th>' in report and "Partie I" in report
    paper = client("secretariat").get("/implementation?as_of=2000-06-01&since=2000-02-01")
    assert paper.status_code == 200 and "<h1>Rapport sur la mise en œuvre : GB.276/TC/2</h1>" in paper.text
    assert "comparé au <strong>1er février 2000</strong>" in paper.text and "Mise en œuvre par partie" in paper.text
    word = client("secretariat").get("/implementation.docx?as_of=2000-06-01")
    texts = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert "Date\u00a0: 1er juin 2000\nOriginal\u00a0: anglais" in texts  # the plan is in English


def test_an_owner_without_a_language_reads_the_plans(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    _plan_speaks(engine, "es")
    my = client("hrd").get("/my").text
    assert '<html lang="es">' in my and "<h1>Mis acciones</h1>" in my and "31 de mayo de 2000" in my
    _speaks(engine, "hrd", "en")  # her own choice wins over the plan's
    assert "<h1>My actions</h1>" in client("hrd").get("/my").text


@pytest.mark.parametrize(
    ("header", "language", "words"),
    [
        ("es-ES,es;q=0.9,en;q=0.5", "es", "Enviarme un enlace de inicio de sesión"),
        ("fr-CH, fr;q=0.9", "fr", "M'envoyer un lien de connexion"),
        ("de-DE,de;q=0.9", "en", "Send me a sign-in link"),
        ("de;q=1, fr;q=0.4, es;q=0.6", "es", "Enviarme un enlace"),
        ("", "en", "Send me a sign-in link"),
    ],
)
def test_before_sign_in_the_browsers_language_is_read(site, header: str, language: str, words: str) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    shown = client(None).get("/signin", headers={"Accept-Language": header})
    assert shown.status_code == 200 and f'<html lang="{language}">' in shown.text and words in shown.text
    missing = client(None).get("/no/such/page", headers={"Accept-Language": header})
    assert missing.status_code == 404 and f'<html lang="{language}">' in missing.text


def test_the_accept_language_header_is_read_safely() -> None:
    assert browser_language("fr;q=abc, es;q=0.2") == "es"  # a damaged weight counts as zero
    assert browser_language("es;q=0, fr") == "fr"  # q=0 means "not this one"
    assert browser_language("," * 500 + "fr") == "en"  # only the first twenty choices are read
    assert browser_language("FR-ca") == "fr"


def test_a_link_page_speaks_the_language_of_whom_it_was_sent_to(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings, _ = site
    _speaks(engine, "hrd", "es")
    shown = client(None).get(link_path(settings, "II.3.1", "hrd", "extension"))
    assert shown.status_code == 200 and '<html lang="es">' in shown.text
    assert (
        "<h1>Solicitar una prórroga</h1>" in shown.text and "vence el <strong>31 de mayo de 2000</strong>" in shown.text
    )
    assert "Por qué se necesita más tiempo" in shown.text
    path = link_path(settings, "II.3.1", "hrd", "progress")
    browser = client(None)
    token = csrf_of(browser.get(path).text)
    done = browser.post(path, data={"csrf": token, "state": "on track", "note": "avanza"})
    assert done.status_code == 200 and "Avance de II.3.1 registrado. Gracias." in done.text
    again = browser.post(path, data={"csrf": token, "state": "on track"})
    assert again.status_code == 410 and "<h1>Este enlace ya se utilizó</h1>" in again.text
    assert "Este botón del mensaje ya se utilizó (1 de junio de 2000, 12:00 UTC)." in again.text


def test_the_preferences_page_saves_the_language_chosen(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings, _ = site
    path = preferences_url(settings.base_url, settings.secret_key, "pardev", NOW).removeprefix(settings.base_url)
    browser = client(None)
    shown = browser.get(path)
    assert '<select id="language" name="language">' in shown.text and ">français</option>" in shown.text
    assert '<option value="en" lang="en" selected>English</option>' in shown.text
    refused = browser.post(path, data={"csrf": csrf_of(shown.text), "digest": "daily", "language": "de"})
    assert refused.status_code == 400 and "Choose one of the offered languages." in refused.text
    with transaction(engine) as s:
        assert s.get(Owner, "pardev").language is None  # type: ignore[union-attr]
    saved = browser.post(path, data={"csrf": csrf_of(shown.text), "digest": "daily", "language": "fr"})
    assert saved.status_code == 200 and '<html lang="fr">' in saved.text
    assert "Enregistré : vous recevez désormais un récapitulatif quotidien, en français." in saved.text
    with transaction(engine) as s:
        person = s.get(Owner, "pardev")
        assert person is not None and (person.language, person.digest) == ("fr", "daily")
    assert "<h1>Mes actions</h1>" in client("pardev").get("/my").text
    kept = browser.post(path, data={"csrf": csrf_of(shown.text), "digest": "weekly"})  # no language: unchanged
    assert kept.status_code == 200
    with transaction(engine) as s:
        assert s.get(Owner, "pardev").language == "fr"  # type: ignore[union-attr]


def _preview(client, path, **fields: str) -> str:  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/import").text)
    with path.open("rb") as handle:
        answer = client.post(
            "/import", data={"csrf": token, **fields}, files={"plan": (path.name, handle, "application/octet-stream")}
        )
    assert answer.status_code == 200, answer.text
    return str(answer.text)


@pytest.mark.parametrize(
    ("language", "heading", "reading"),
    [
        ("en", "Read as", "deadline due 4 September 2024"),
        ("fr", "Lu comme", "date butoir, échéance le 4 septembre 2024"),
        ("es", "Interpretado como", "plazo, vence el 4 de septiembre de 2024"),
    ],
)
def test_the_import_preview_says_how_each_time_frame_reads_in_the_readers_language(  # type: ignore[no-untyped-def]
    site, tmp_path, language: str, heading: str, reading: str
) -> None:
    client, engine, *_ = site
    _speaks(engine, "secretariat", language)
    sheet = tmp_path / "suivi.csv"
    sheet.write_text("Action,Deadline\nPublish the audit report,within six months\n", encoding="utf-8")
    html = _preview(client("secretariat"), sheet, date="2024-03-04")
    assert f'<th scope="col">{heading}</th>' in html and f"<td>{reading}</td>" in html
    assert language == "en" or "deadline due" not in html


def test_the_escalations_csv_has_its_headings_in_the_readers_language_and_stays_defused(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    with transaction(engine) as s:
        action = find_action(s, "I.2b.1")
        action.title = '=HYPERLINK("http://evil.example")'
        s.add(action)
    english = list(csv.reader(io.StringIO(client("codev").get("/escalations.csv?state=all").text)))
    assert english[0][:4] == ["id", "fired_utc", "plan", "action"]  # the column names scripts read
    _speaks(engine, "codev", "es")
    rows = list(csv.reader(io.StringIO(client("codev").get("/escalations.csv?state=all").text)))
    assert rows[0] == [
        "número", "activado el (UTC)", "plan", "acción", "título", "responsable", "nivel", "paso", "ocurrencia",
        "días de retraso", "destinatarios", "recibo acusado por", "recibo acusado el (UTC)", "nota",
        "resuelto el (UTC)", "resolución",
    ]  # fmt: skip
    assert rows[1:] == english[1:]  # the same entries, formulas defused
    assert any(row[3] == "I.2b.1" and row[4].startswith("'=HYPERLINK") for row in rows[1:])
    _speaks(engine, "codev", "fr")
    french = next(csv.reader(io.StringIO(client("codev").get("/escalations.csv?state=all").text)))
    assert french[:4] == ["numéro", "déclenchée le (UTC)", "plan", "action"] and french[9] == "jours de retard"


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_red_badge_marks_the_same_actions_whatever_the_language(site, language: str) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    with transaction(engine) as s:
        asked = request_extension(s, find_action(s, "II.3.2"), date(2000, 9, 30), NOW, who="hrd", via="web", reason="x")
        assert asked is not None
    pages = [
        ("ed-devcoop", "/escalations?state=all"),
        ("hrd", "/my"),
        ("hrd", f"/actions/{action_id(engine, 'II.3.2')}"),
    ]

    def badges() -> list[tuple[int, int]]:
        shown = [client(who).get(path).text for who, path in pages]
        return [(html.count('class="badge overdue"'), html.count('class="badge"')) for html in shown]

    english = badges()
    assert english[0][0] > 0 and english[1][1] > 0 and english[2][1] > 0  # red for late, plain for an extension asked
    for who in ("ed-devcoop", "hrd"):
        _speaks(engine, who, language)
    assert badges() == english


@pytest.mark.parametrize(
    ("closed", "language", "words"),
    [
        ("extended to 2000-09-30", "en", "extended to 30 September 2000"),
        ("extended to 2000-09-30", "fr", "prorogée au 30 septembre 2000"),
        ("extended to 2000-09-01", "es", "prorrogada hasta el 1 de septiembre de 2000"),
        ("action done", "fr", "action réalisée"),
        ("report returned", "es", "informe devuelto"),
        ("action on_hold", "en", "action put on hold"),
    ],
)
def test_why_an_escalation_closed_in_the_readers_words(closed: str, language: str, words: str) -> None:
    assert resolution_words(closed, language) == words
