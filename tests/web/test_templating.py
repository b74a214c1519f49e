"""``engine.web.templating``: autoescaped pages, fixed notices, security headers, the anonymous CSRF cookie."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.responses import Response
from fastapi.testclient import TestClient

from engine.clock import FixedClock
from engine.web import create_app
from engine.web.templating import ANON_CSRF, CSP, NOTICES, SHIPPED, folders_for, local_time, secure_headers

from ..web_support import NOW, action_id, web_settings


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


def test_local_time_shows_an_aware_moment_in_the_viewers_zone() -> None:
    moment = datetime(2000, 6, 1, 12, 0, tzinfo=UTC)
    assert local_time(moment) == "2000-06-01 12:00"
    assert local_time(moment, "Asia/Bangkok") == "2000-06-01 19:00"
    assert local_time(moment, "America/Lima") == "2000-06-01 07:00"
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
