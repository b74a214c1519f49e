"""``planwatch users login-link``: a signed sign-in link for an owner, printed or e-mailed. (``serve`` runs
uvicorn until stopped; the web pages are tested through the app in tests/web/.)"""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.actions.signin import read_signin

PLAN = "plans/gb276-tc2-implementation-plan.txt"
SECRET = "a-cli-test-secret-that-is-long-enough"
BASE = "https://plans.example.org"


@pytest.fixture
def plan(cli, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    monkeypatch.setenv("PLANWATCH_SECRET_KEY", SECRET)
    monkeypatch.setenv("PLANWATCH_BASE_URL", BASE)
    return cli


def test_login_link_prints_a_signed_link_for_the_owner(plan) -> None:  # type: ignore[no-untyped-def]
    before = datetime.now(UTC)
    result = plan("users", "login-link", "pardev")
    assert result.code == 0, result.err
    url = result.out.strip()
    assert url.startswith(f"{BASE}/signin/")
    claim = read_signin(SECRET, url.removeprefix(f"{BASE}/signin/"), before)
    assert claim.owner_id == "pardev"
    assert 1700 <= (claim.expires - before).total_seconds() <= 1860  # the default half hour


def test_login_link_send_mails_it_to_the_owner(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("users", "login-link", "pardev", "--send")
    assert result.code == 0, result.err
    assert result.out.strip() == "Sent a sign-in link to rafael.quispe@example.org."
    [message] = list(mailbox.Maildir(Path("out/maildir"), create=False))
    assert message["To"] == "rafael.quispe@example.org"
    assert message["Subject"] == "Your planwatch sign-in link"
    assert f"{BASE}/signin/" in message.get_payload(decode=True).decode()


def test_login_link_for_an_unknown_owner_exits_2(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("users", "login-link", "nobody")
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("planwatch: no owner 'nobody'")


def test_login_link_without_a_secret_key_says_which_variable(plan, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PLANWATCH_SECRET_KEY")
    result = plan("users", "login-link", "pardev", "--send")
    assert result.code == 2 and "PLANWATCH_SECRET_KEY" in result.err
    assert not Path("out/maildir").exists()
