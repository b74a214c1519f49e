"""Signed action links: one token for a message's four verbs, checked against the ``now`` given; forged,
damaged, expired and wrong-kind links are refused with a clear message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.actions.links import (
    ACT,
    DEV_SECRET,
    LINK_LIFETIME,
    OWNER_VERBS,
    PREFERENCES,
    PREFERENCES_LIFETIME,
    LinkError,
    action_links,
    preferences_url,
    read_link,
    sign_link,
)

SECRET = "a-test-secret-that-is-long-enough"
SENT = datetime(2000, 3, 1, 9, 30, tzinfo=UTC)
BASE = "https://planwatch.example.org/"


def _token(url: str) -> str:
    return url.rsplit("/", 2)[-2] if "/a/" in url else url.rsplit("/", 1)[-1]


def test_a_message_gets_one_token_for_its_verbs() -> None:
    links = action_links(BASE, SECRET, "gb276-tc2", "III.a.1", "pardev", SENT)
    assert list(links) == list(OWNER_VERBS) == ["done", "progress", "extension", "not_mine", "delay", "view"]
    tokens = {_token(url) for url in links.values()}
    assert len(tokens) == 1
    token = tokens.pop()
    assert links == {verb: f"https://planwatch.example.org/a/{token}/{verb}" for verb in OWNER_VERBS}
    link = read_link(SECRET, token, SENT)
    assert (link.kind, link.plan_id, link.ref, link.recipient) == (ACT, "gb276-tc2", "III.a.1", "pardev")
    assert link.expires == SENT + LINK_LIFETIME
    assert action_links(BASE, SECRET, "gb276-tc2", "III.a.1", "pardev", SENT) == links  # byte for byte the same


def test_a_link_expires_at_its_time_not_the_wall_clocks() -> None:
    token = sign_link(SECRET, ACT, "p", "I.1", "codev", SENT)
    assert read_link(SECRET, token, SENT - timedelta(seconds=1)).ref == "I.1"
    with pytest.raises(LinkError, match="this link expired on 2000-03-01 09:30 UTC; use the newest message"):
        read_link(SECRET, token, SENT)


@pytest.mark.parametrize("damage", ["forged", "truncated", "other key"])
def test_a_changed_link_is_not_valid(damage: str) -> None:
    token = sign_link(SECRET, ACT, "p", "I.1", "codev", SENT + LINK_LIFETIME)
    if damage == "forged":
        signature = token.rsplit(".", 1)[1]  # codev's signature on a payload naming norms
        token = sign_link(SECRET, ACT, "p", "I.1", "norms", SENT + LINK_LIFETIME).rsplit(".", 1)[0] + "." + signature
    elif damage == "truncated":
        token = token[:-3]
    secret = "another-secret-of-some-length" if damage == "other key" else SECRET
    with pytest.raises(LinkError, match=r"this link was made by another planwatch installation") as caught:
        read_link(secret, token, SENT)
    assert caught.value.exit_code == 2


def test_preferences_and_action_links_are_not_interchangeable() -> None:
    url = preferences_url(BASE, SECRET, "ro-lima", SENT)
    token = _token(url)
    assert url == f"https://planwatch.example.org/preferences/{token}"
    link = read_link(SECRET, token, SENT, PREFERENCES)
    assert (link.plan_id, link.ref, link.recipient) == ("", "", "ro-lima")
    assert link.expires == SENT + PREFERENCES_LIFETIME
    with pytest.raises(LinkError, match="this is not a planwatch act link"):
        read_link(SECRET, token, SENT)
    act = _token(action_links(BASE, SECRET, "p", "I.1", "ro-lima", SENT)["done"])
    with pytest.raises(LinkError, match="this is not a planwatch preferences link"):
        read_link(SECRET, act, SENT, PREFERENCES)
    with pytest.raises(ValueError, match="unknown link kind 'signin'"):
        sign_link(SECRET, "signin", "p", "I.1", "ro-lima", SENT)


def test_without_a_secret_links_use_the_development_key() -> None:
    token = sign_link("", ACT, "p", "I.1", "codev", SENT + LINK_LIFETIME)
    assert read_link(DEV_SECRET, token, SENT).recipient == "codev"
    with pytest.raises(LinkError):
        read_link(SECRET, token, SENT)


def test_a_link_carries_the_role_it_was_sent_in() -> None:
    owner = action_links(BASE, SECRET, "gb276-tc2", "III.a.1", "pardev", SENT, "owner")
    assert read_link(SECRET, _token(owner["done"]), SENT).role == ""  # an owner's token reads as before roles
    supervisor = action_links(BASE, SECRET, "gb276-tc2", "III.a.1", "ed-devcoop", SENT, "supervisor")
    assert list(supervisor) == ["acknowledge", "grant", "refuse", "reassign", "view"]  # never "not_mine"
    assert read_link(SECRET, _token(supervisor["acknowledge"]), SENT).role == "supervisor"
    assert action_links(BASE, SECRET, "gb276-tc2", "III.a.1", "committee@example.org", SENT, "") == {}
    plain = action_links(BASE, SECRET, "gb276-tc2", "III.a.1", "committee@example.org", SENT, "viewer")
    assert list(plain) == ["view"]  # a plain address only opens the action, after signing in
    assert read_link(SECRET, _token(plain["view"]), SENT).role == "viewer"
    with pytest.raises(ValueError, match="unknown link role"):
        sign_link(SECRET, ACT, "p", "r", "u", SENT, "boss")


def test_a_verifiers_message_gets_verify_and_view_only() -> None:
    from engine.actions.links import VERIFIER, VERIFIER_VERBS

    links = action_links(BASE, SECRET, "gb276-tc2", "III.a.1", "ed-devcoop", SENT, VERIFIER)
    assert list(links) == list(VERIFIER_VERBS) == ["verify", "view"]
    token = _token(links["verify"])
    assert read_link(SECRET, token, SENT).role == VERIFIER
