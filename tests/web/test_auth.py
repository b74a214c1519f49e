"""``engine.web.auth`` through the pages: no session is 401, a forged or expired cookie is no session, CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.web.auth import MAX_FORM, SESSION_COOKIE, PageError, same_token

from ..web_support import action_id, csrf_of
from .conftest import PAGES, status_of


@pytest.mark.parametrize("path", [*PAGES, "/actions/1"])
def test_a_page_without_a_session_answers_401_and_shows_no_data(site, path: str) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    answer = client(None).get(path)
    assert answer.status_code == 401
    assert "Sign in" in answer.text
    for secret in ("III.d.1", "I.2b.1", "Rafael", "escalate:", "<svg"):
        assert secret not in answer.text


def test_a_post_without_a_session_changes_nothing(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    answer = client(None).post(f"/actions/{action_id(engine, 'III.1.2')}/done", data={"csrf": "x"})
    assert answer.status_code == 401
    assert status_of(engine, "III.1.2") == "open"


def test_a_forged_or_expired_session_cookie_is_no_session(site) -> None:  # type: ignore[no-untyped-def]
    client, _, settings, clock = site
    anonymous = client(None)
    anonymous.cookies.set("pw_session", "forged-token")
    assert anonymous.get("/my").status_code == 401
    signed = client("pardev")
    assert signed.get("/my").status_code == 200
    clock.advance(timedelta(seconds=settings.session_seconds + 1))
    assert signed.get("/my").status_code == 401


def test_a_post_without_the_csrf_token_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    pardev = client("pardev")
    target = f"/actions/{action_id(engine, 'III.1.2')}/done"
    assert pardev.post(target, data={}).status_code == 403
    assert pardev.post(target, data={"csrf": "guessed"}).status_code == 403
    other = client("hrd")  # another session's token is no good either
    assert pardev.post(target, data={"csrf": csrf_of(other.get("/my").text)}).status_code == 403
    assert pardev.post("/signout", data={}).status_code == 403
    assert status_of(engine, "III.1.2") == "open"
    assert (
        pardev.post(target, data={"csrf": csrf_of(pardev.get("/my").text)}, follow_redirects=False).status_code == 303
    )
    assert status_of(engine, "III.1.2") == "reported"  # two-step closure: its verifier confirms it


def test_same_token_needs_two_equal_tokens() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abc", "abd")
    assert not same_token(None, None) and not same_token("", "") and not same_token("abc", None)


def test_an_overlong_session_cookie_is_no_session(site) -> None:  # type: ignore[no-untyped-def]
    client, *_ = site
    anonymous = client(None)
    anonymous.cookies.set(SESSION_COOKIE, "x" * 129)
    assert anonymous.get("/my").status_code == 401


def test_a_form_larger_than_planwatch_accepts_is_refused(site) -> None:  # type: ignore[no-untyped-def]
    client, engine, *_ = site
    pardev = client("pardev")
    token = csrf_of(pardev.get("/my").text)
    target = f"/actions/{action_id(engine, 'III.1.2')}/done"
    answer = pardev.post(target, data={"csrf": token, "note": "x" * MAX_FORM})
    assert answer.status_code == 413 and "Form too large" in answer.text
    assert status_of(engine, "III.1.2") == "open"


def test_a_page_error_carries_its_status_title_and_message() -> None:
    error = PageError(404, "No such action", "There is none.")
    assert (error.status, error.title, error.message, str(error)) == (
        404,
        "No such action",
        "There is none.",
        "There is none.",
    )
