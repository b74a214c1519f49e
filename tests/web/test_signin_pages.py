"""Sign-in links (signed, expiring, single use), the session cookie, sign-out, ``users login-link``."""

from __future__ import annotations

import mailbox
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from engine.actions.signin import signin_url
from engine.clock import FixedClock
from engine.settings import Settings
from engine.web import create_app
from engine.web.signin_pages import SigninMailer, mailer_of

from ..web_support import NOW, SECRET, csrf_of, sign_in, web_settings, web_world


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Engine, Settings, FixedClock]]:
    engine = web_world(database_url)
    settings = web_settings(database_url, maildir=tmp_path / "mail")
    clock = FixedClock(NOW)
    with TestClient(create_app(settings, clock=clock, engine=engine)) as client:
        yield client, engine, settings, clock
    engine.dispose()


def _mailer(client: TestClient) -> SigninMailer:
    app = client.app
    assert isinstance(app, FastAPI)
    return mailer_of(app)


def _path(settings: Settings, owner: str = "pardev") -> str:
    return signin_url(settings, owner, NOW).removeprefix(settings.base_url)


def test_a_link_signs_in_once_with_a_safe_cookie(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings, _ = site
    path = _path(settings)
    shown = client.get(path)
    assert shown.status_code == 200 and "Sign in as Rafael Quispe" in shown.text
    assert client.get(path).status_code == 200  # opening it (a mail scanner) does not use it up
    used = client.post(path, data={"csrf": csrf_of(shown.text)}, follow_redirects=False)
    assert used.status_code == 303 and used.headers["location"] == "/my"
    cookie = used.headers["set-cookie"].lower()
    assert "pw_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert "Rafael Quispe" in client.get("/my").text
    again = client.post(path, data={"csrf": csrf_of(shown.text)})
    assert again.status_code == 410 and "already used" in again.text
    assert client.get(path).status_code == 410


def test_the_cookie_is_secure_behind_https(database_url: str) -> None:
    engine = web_world(database_url)
    settings = replace(web_settings(database_url), base_url="https://planwatch.example.org")
    with TestClient(
        create_app(settings, clock=FixedClock(NOW), engine=engine), base_url="https://planwatch.example.org"
    ) as client:
        sign = signin_url(settings, "pardev", NOW).removeprefix(settings.base_url)
        shown = client.get(sign)
        used = client.post(sign, data={"csrf": csrf_of(shown.text)}, follow_redirects=False)
        assert "secure" in used.headers["set-cookie"].lower()
    engine.dispose()


def test_expired_forged_and_foreign_links_get_a_clear_page(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings, clock = site
    path = _path(settings)
    token = path.rsplit("/", 1)[1]
    forged = client.get(f"/signin/{token[:-2]}xx")
    assert forged.status_code == 400 and "not valid" in forged.text
    other_key = signin_url(replace(settings, secret_key="another-key-altogether"), "pardev", NOW).removeprefix(
        settings.base_url
    )
    assert client.get(other_key).status_code == 400
    action_token = "/signin/" + "e30.bad"
    assert client.get(action_token).status_code == 400
    clock.advance(timedelta(seconds=settings.signin_link_seconds + 1))
    expired = client.get(path)
    assert expired.status_code == 400 and "expired" in expired.text
    assert "Traceback" not in expired.text
    french = client.get(path, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "Ce lien de connexion a expiré le 1er juin 2000 à 12:30 (UTC)." in french.text
    spanish = client.get(path, headers={"Accept-Language": "es"})
    assert "Este enlace de inicio de sesión caducó el 1 de junio de 2000, 12:30 (UTC)." in spanish.text


def test_a_sign_in_post_needs_the_double_submit_token(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings, _ = site
    path = _path(settings)
    client.get(path)
    refused = client.post(path, data={"csrf": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get(path).status_code == 200  # still unused


def test_signing_out_ends_the_session(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings, _ = site
    sign_in(client, settings, "pardev")
    old = client.cookies.get("pw_session")
    token = csrf_of(client.get("/my").text)
    out = client.post("/signout", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("pw_session", old or "")
    assert client.get("/my").status_code == 401


def test_asking_for_a_link_by_email_sends_one_to_known_owners_only(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings, _ = site
    form = client.get("/signin")
    token = csrf_of(form.text)
    known = client.post("/signin", data={"csrf": token, "who": "Rafael.Quispe@example.org"})
    unknown = client.post("/signin", data={"csrf": token, "who": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text  # nothing tells which addresses exist
    _mailer(client).wait()  # the link goes out a moment later, off the request path
    messages = list(mailbox.Maildir(str(settings.maildir), create=False))
    assert len(messages) == 1 and messages[0]["To"] == "rafael.quispe@example.org"
    payload = messages[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    link = next(word for word in body.split() if word.startswith("http://testserver/signin/"))
    shown = client.get(link.removeprefix("http://testserver"))
    assert shown.status_code == 200 and "Rafael Quispe" in shown.text
    assert client.post("/signin", data={"who": "pardev"}).status_code == 403  # no CSRF token


def test_without_a_secret_key_nobody_signs_in(database_url: str) -> None:
    engine = web_world(database_url)
    settings = replace(web_settings(database_url), secret_key="")
    with TestClient(create_app(settings, clock=FixedClock(NOW), engine=engine)) as client:
        token = csrf_of(client.get("/signin").text)
        answer = client.post("/signin", data={"csrf": token, "who": "pardev"})
        assert answer.status_code == 503 and "PLANWATCH_SECRET_KEY" in answer.text
        assert client.get("/signin/anything").status_code == 503
        assert client.get("/a/anything/done").status_code == 503
    engine.dispose()


def test_users_login_link_prints_a_working_link(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    web_world(cli.url).dispose()
    missing = cli("users", "login-link", "pardev")
    assert missing.code == 2 and "PLANWATCH_SECRET_KEY" in missing.err
    monkeypatch.setenv("PLANWATCH_SECRET_KEY", SECRET)
    monkeypatch.setenv("PLANWATCH_BASE_URL", "http://testserver")
    printed = cli("users", "login-link", "pardev")
    assert printed.code == 0 and printed.out.startswith("http://testserver/signin/")
    assert cli("users", "login-link", "nobody").code == 2


def _ask(client: TestClient, who: str) -> str:
    token = csrf_of(client.get("/signin").text)
    answer = client.post("/signin", data={"csrf": token, "who": who})
    assert answer.status_code == 200
    _mailer(client).wait()
    return answer.text


def _mails(settings: Settings) -> int:
    return len(list(mailbox.Maildir(str(settings.maildir), create=False))) if settings.maildir.exists() else 0


def test_the_public_form_cannot_flood_an_inbox(site, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings, clock = site
    limit = settings.signin_mails_per_hour
    assert limit == 5
    pages = [_ask(client, "pardev") for _ in range(limit + 3)]
    assert _mails(settings) == limit  # the three after the fifth send nothing
    assert len(set(pages)) == 1 and "At most 5 links an hour" in pages[0]  # and look the same as the others
    assert any("sign-in link to pardev not sent" in r.getMessage() for r in caplog.records)
    assert _ask(client, "Rafael.Quispe@example.org") == pages[0]  # by address: the same owner, the same limit
    assert _mails(settings) == limit
    clock.advance(timedelta(minutes=61))
    _ask(client, "pardev")
    assert _mails(settings) == limit + 1  # an hour on, one more
    clock.advance(timedelta(days=2))
    _ask(client, "pardev")
    with engine.connect() as conn:  # what is over a day old is tidied away
        assert conn.exec_driver_sql("SELECT count(*) FROM signin_mail").scalar_one() == 1


def test_a_limit_of_zero_mails_no_links(database_url: str, tmp_path: Path) -> None:
    engine = web_world(database_url)
    settings = web_settings(database_url, maildir=tmp_path / "mail", signin_mails_per_hour=0)
    with TestClient(create_app(settings, clock=FixedClock(NOW), engine=engine)) as client:
        assert "sends no sign-in links by e-mail" in _ask(client, "pardev")
    assert _mails(settings) == 0
    engine.dispose()


def test_a_limit_that_is_not_a_number_is_refused(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    web_world(cli.url).dispose()
    monkeypatch.setenv("PLANWATCH_SECRET_KEY", SECRET)
    monkeypatch.setenv("PLANWATCH_SIGNIN_MAILS_PER_HOUR", "lots")
    refused = cli("users", "login-link", "pardev")
    assert refused.code == 2
    assert (
        "PLANWATCH_SIGNIN_MAILS_PER_HOUR: expected a whole number of sign-in links an hour, got 'lots'" in refused.err
    )


@contextmanager
def _statements(engine: Engine, requests: list[str], mailer: list[str]) -> Iterator[None]:
    """Record the statements run on ``engine``: by the request's threads, and by the mailer's own thread."""

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        mine = threading.current_thread().name == SigninMailer.THREAD_NAME
        (mailer if mine else requests).append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", seen)


@pytest.mark.parametrize("known", ["pardev", "Rafael.Quispe@example.org"])
def test_a_known_and_an_unknown_address_do_the_same_work_and_get_the_same_answer(site, known: str) -> None:  # type: ignore[no-untyped-def]
    client, engine, settings, _ = site
    token = csrf_of(client.get("/signin").text)
    answers, statements, behind = [], [], []
    for who in (known, "nobody@example.org", known):  # the known one twice: a link sent before changes nothing
        ran: list[str] = []
        later: list[str] = []
        with _statements(engine, ran, later):
            answer = client.post("/signin", data={"csrf": token, "who": who})
            _mailer(client).wait()
        answers.append(answer)
        statements.append(ran)
        behind.append(later)
    assert statements[0] == statements[1] == statements[2]
    assert all(any("owner" in statement for statement in later) for later in behind)  # the lookup ran, elsewhere
    assert len(behind[0]) > len(behind[1])  # and only for the known address did it count and record a link
    shapes = [(a.status_code, a.text, sorted(a.headers.items())) for a in answers]
    assert shapes[0] == shapes[1] == shapes[2] and shapes[0][0] == 200
    assert "If that address or id is in the owners directory" in answers[1].text
    assert _mails(settings) == 2  # the mailer did the work the requests did not: two links to the known owner
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM signin_mail").scalar_one() == 2


def test_the_signin_mail_is_dated_in_the_recipients_zone_with_a_message_id(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings, _ = site
    _ask(client, "pardev")
    (message,) = list(mailbox.Maildir(str(settings.maildir), create=False))
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@example.org>")
    assert message["Date"] == "Thu, 01 Jun 2000 14:00:00 +0200"  # 12:00 UTC in Zurich, where Rafael Quispe works
