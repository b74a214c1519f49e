"""``planwatch feeds build|url|revoke|rotate``: files written, secret links issued, revoked and replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from engine.calendars.feeds import feed_for_token

PLAN = "plans/gb276-tc2-implementation-plan.txt"
BASE = "https://plans.example.org"


@pytest.fixture
def plan(cli, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PLANWATCH_BASE_URL", BASE)
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli


def tokens(out: str) -> list[str]:
    """Return the token of every https:// address printed."""
    return [
        line.strip().removeprefix(f"{BASE}/feeds/").removesuffix(".ics")
        for line in out.splitlines()
        if line.strip().startswith(BASE)
    ]


def opens(url: str, token: str) -> str | None:
    """Return the id of the feed ``token`` opens now, or None."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            feed = feed_for_token(conn, token)
    finally:
        engine.dispose()
    return feed.id if feed else None


def test_build_writes_the_feeds_then_rewrites_only_what_changed(plan) -> None:  # type: ignore[no-untyped-def]
    first = plan("feeds", "build", "--out", "cal")
    assert first.code == 0, first.err
    files = sorted(Path("cal").glob("*.ics"))
    assert len(files) > 3
    assert all(f.read_bytes().startswith(b"BEGIN:VCALENDAR") for f in files)
    assert first.out.strip() == f"{len(files)} feed(s) in cal/, {len(files)} rewritten, 0 unchanged."
    again = plan("feeds", "build", "--out", "cal")
    assert again.out.strip() == f"{len(files)} feed(s) in cal/, 0 rewritten, {len(files)} unchanged."


def test_url_prints_a_link_that_opens_the_owners_feed_once(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("feeds", "url", "pardev")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "owner:pardev"
    [token] = tokens(result.out)
    assert lines[2].strip() == f"webcal://plans.example.org/feeds/{token}.ics"
    assert opens(plan.url, token) == "owner:pardev"
    again = plan("feeds", "url", "pardev")
    assert again.code == 2 and "cannot be shown again" in again.err and "feeds rotate pardev" in again.err


def test_url_of_a_team_and_of_a_part(plan) -> None:  # type: ignore[no-untyped-def]
    team = plan("feeds", "url", "ed-devcoop", "--team")
    assert team.out.splitlines()[0] == "team:ed-devcoop"
    part = plan("feeds", "url", "pardev", "--plan", "gb276-tc2", "--part", "II")
    assert part.code == 0, part.err
    assert opens(plan.url, tokens(part.out)[0]) == "part:gb276-tc2:II"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--part", "II"], "planwatch: --part needs --plan: e.g. --plan gb276-tc2 --part II"),
        (["--team", "--plan", "gb276-tc2"], "planwatch: choose one of --team and --plan"),
    ],
)
def test_url_refuses_options_that_do_not_go_together(plan, options: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = plan("feeds", "url", "pardev", *options)
    assert (result.code, result.err.strip()) == (2, message)


def test_url_for_an_unknown_owner_exits_2(plan) -> None:  # type: ignore[no-untyped-def]
    result = plan("feeds", "url", "nobody")
    assert result.code == 2
    assert result.err.strip() == "planwatch: no owner 'nobody'; `planwatch owners` lists them"


def test_rotate_replaces_the_links_and_revoke_ends_them(plan) -> None:  # type: ignore[no-untyped-def]
    [old] = tokens(plan("feeds", "url", "pardev").out)
    rotated = plan("feeds", "rotate", "pardev")
    assert rotated.code == 0, rotated.err
    [new] = tokens(rotated.out)
    assert new != old
    assert (opens(plan.url, old), opens(plan.url, new)) == (None, "owner:pardev")
    revoked = plan("feeds", "revoke", "pardev")
    assert revoked.out.strip() == "Revoked 1 link(s) of pardev: owner:pardev."
    assert opens(plan.url, new) is None
    assert plan("feeds", "revoke", "pardev").out.strip() == "Revoked 0 link(s) of pardev."
