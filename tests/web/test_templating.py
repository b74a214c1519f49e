"""``engine.web.templating``: sandboxed, autoescaped pages, fixed notices, security headers, the anonymous CSRF
cookie; a user's template that the sandbox refuses gets a readable page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.responses import Response
from fastapi.testclient import TestClient
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.clock import FixedClock
from engine.store import make_engine, upgrade
from engine.web import create_app
from engine.web.templating import (
    ANON_CSRF,
    CSP,
    NOTICES,
    SHIPPED,
    data_words,
    environment,
    folders_for,
    local_time,
    reading_words,
    secure_headers,
)

from ..read.test_report_templates import PAYLOADS
from ..web_support import NOW, action_id, sign_in, web_settings, web_world


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


def test_a_recurring_action_is_read_as_words_not_as_its_rule() -> None:
    action = {"kind": "recurring", "start": "2027-01-15", "rrule": "FREQ=MONTHLY;INTERVAL=6"}
    assert reading_words(action, "es") == "recurrente, desde el 15 de enero de 2027, cada seis meses"
    assert "tous les six mois" in reading_words(action, "fr") and "FREQ" not in reading_words(action, "fr")
    assert reading_words(action, "en").endswith("every six months")


def test_local_time_shows_an_aware_moment_in_the_viewers_zone() -> None:
    moment = datetime(2000, 6, 1, 12, 0, tzinfo=UTC)
    assert local_time(moment) == "1 June 2000, 12:00"
    assert local_time(moment, "Asia/Bangkok") == "1 June 2000, 19:00"
    assert local_time(moment, "America/Lima") == "1 June 2000, 07:00"
    assert local_time(moment, "Asia/Bangkok", "fr") == "1er juin 2000 à 19:00"  # running text, not ISO
    assert local_time(moment, "America/Lima", "es") == "1 de junio de 2000, 07:00"
    assert local_time(None, "Asia/Bangkok") == ""


def test_the_users_templates_come_first_and_each_folder_once(tmp_path: Path) -> None:
    settings = web_settings("sqlite://", user_templates_dir=tmp_path)
    folders = folders_for(settings)
    assert folders[0] == str(tmp_path.resolve() / "web")
    assert folders[-1] == str(SHIPPED.resolve() / "web")
    assert len(folders) == len(set(folders))
    assert str(tmp_path.resolve() / "web") not in folders_for(web_settings("sqlite://"))


def test_a_users_template_replaces_the_shipped_one_and_is_still_escaped(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "signin.html.j2").write_text("<p>Our own sign-in {{ sent }} {{ '<b>' }}</p>\n")
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    app = create_app(web_settings(url, user_templates_dir=tmp_path), clock=FixedClock(NOW))
    with TestClient(app) as client:
        answer = client.get("/signin")
    assert answer.text.strip() == "<p>Our own sign-in False &lt;b&gt;</p>"
    app.state.engine.dispose()


def test_notices_are_fixed_texts_chosen_by_code_never_words_from_the_url(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    anonymous = client(None)
    assert NOTICES["signed_out"] in anonymous.get("/signin?ok=signed_out").text
    forged = anonymous.get("/signin", params={"ok": "<script>alert(1)</script>"}).text
    assert "alert(1)" not in forged and 'class="notice"' not in forged
    assert NOTICES["done"] in client("pardev").get("/my?ok=done").text


def test_every_page_carries_the_security_headers(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    for answer in (client(None).get("/signin"), client("pardev").get("/my"), client(None).get("/my")):
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
    bare = secure_headers(Response("x"))
    assert bare.headers["content-security-policy"] == CSP and bare.headers["cache-control"] == "no-store"


def test_a_browser_without_a_session_gets_one_double_submit_token(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    browser = client(None)
    first = browser.get("/signin")
    token = first.cookies.get(ANON_CSRF)
    assert token and f'name="csrf" value="{token}"' in first.text
    assert "httponly" in first.headers["set-cookie"].lower() and "samesite=lax" in first.headers["set-cookie"].lower()
    again = browser.get("/signin")
    assert "set-cookie" not in again.headers  # the browser keeps the token it has
    assert f'name="csrf" value="{token}"' in again.text


def test_the_environment_is_the_immutable_sandbox() -> None:
    assert isinstance(environment(folders_for(web_settings("sqlite://"))), ImmutableSandboxedEnvironment)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_users_page_template_reaching_for_pythons_insides_is_refused_with_a_readable_page(
    tmp_path: Path, payload: str
) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "message.html.j2").write_text(f"<h1>{{{{ title }}}}</h1>\n<p>{payload}</p>\n")
    (tmp_path / "web" / "signin.html.j2").write_text(f"{payload}\n")
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    upgrade(make_engine(url))
    app = create_app(web_settings(url, user_templates_dir=tmp_path), clock=FixedClock(NOW))
    with TestClient(app) as client:
        for path, name, line in (("/no/such/page", "message.html.j2", 2), ("/signin", "signin.html.j2", 1)):
            answer = client.get(path)
            assert answer.status_code == 500 and "uid=" not in answer.text, path
            assert "<h1>This page cannot be shown</h1>" in answer.text, path
            assert f"web/{name}, line {line}: it uses something templates may not use (" in answer.text, path
            assert "is unsafe" in answer.text and str(tmp_path) not in answer.text, path
            assert answer.headers["content-security-policy"] == CSP
    app.state.engine.dispose()


def test_a_users_template_cannot_change_what_it_is_given_and_a_failing_one_says_where(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "signin.html.j2").write_text("{% set seen = [] %}{{ seen.append(1) }}\n")
    (tmp_path / "web" / "message.html.j2").write_text("<p>\n{{ no_such_value }}</p>\n")
    url = f"sqlite:///{tmp_path / 'planwatch.db'}"
    upgrade(make_engine(url))
    app = create_app(web_settings(url, user_templates_dir=tmp_path), clock=FixedClock(NOW))
    with TestClient(app) as client:
        mutating = client.get("/signin")
        failing = client.get("/no/such/page")
    assert mutating.status_code == 500
    assert "web/signin.html.j2, line 1: it uses something templates may not use (" in mutating.text
    assert "append" in mutating.text
    assert failing.status_code == 500
    assert "web/message.html.j2, line 2: it failed (&#39;no_such_value&#39; is undefined)" in failing.text
    app.state.engine.dispose()


@pytest.mark.parametrize("payload", PAYLOADS[:2])
def test_a_users_report_template_is_sandboxed_on_the_report_page(
    database_url: str, tmp_path: Path, payload: str
) -> None:
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.html.j2").write_text(f"<h1>Our report</h1>\n{payload}\n")
    engine = web_world(database_url)
    settings = web_settings(database_url, user_templates_dir=tmp_path)
    app = create_app(settings, clock=FixedClock(NOW), engine=engine)
    with TestClient(app) as client:
        sign_in(client, settings, "secretariat")
        answer = client.get("/report")
    assert answer.status_code == 500 and "uid=" not in answer.text
    assert "<h1>This page cannot be shown</h1>" in answer.text
    assert "report/report.html.j2, line 2: the report template uses something templates may not use: " in answer.text
    assert str(tmp_path) not in answer.text
    engine.dispose()


def test_data_words_say_days_in_words_and_notes_in_the_readers_language() -> None:
    assert data_words("extended to 2026-09-30", "fr") == "prorogée au 30 septembre 2026"
    assert data_words("sent in digest|direction|2026-07-14", "fr") == "envoyé dans le récapitulatif du 14 juillet 2026"
    assert data_words("sent in digest|direction|2026-07-14", "en") == "sent in the digest of 14 July 2026"
    assert [data_words(w, "es") for w in ("closure_verified", "action done", "digested")] == [
        "aplicación confirmada",
        "acción realizada",
        "incluido en un resumen",
    ]
    assert data_words(None, "fr") == ""
    steps = ("escalate:2", "escalate:1#3", "remind:due:30d", "remind:due:1bd", "remind:start:0d")
    assert [data_words(step, "fr") for step in steps] == [
        "remontée, étape 2",
        "remontée, étape 1 (répétée)",
        "rappel 30 jours avant",
        "rappel 1 jour ouvrable avant",
        "rappel le jour même",
    ]
    assert data_words("remind:due:7d", "es") == "recordatorio 7 días antes"
