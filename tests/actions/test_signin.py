"""Sign-in links (signed, expiring, single use), the hourly cap on e-mailed links, and signed-in sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import Engine
from sqlmodel import select

from engine.actions.links import ACT, LinkError, sign_link
from engine.actions.signin import (
    SALT,
    allow_signin_mail,
    close_session,
    digest,
    find_session,
    mark_used,
    open_session,
    read_signin,
    reader_language,
    require_secret,
    signin_mail,
    signin_message,
    signin_url,
    used,
)
from engine.errors import InputError
from engine.settings import Settings
from engine.store import make_engine, transaction, upgrade
from engine.store.models import Action, Owner, Plan
from engine.store.web_models import WebSession

SECRET = "a-test-secret-that-is-long-enough"
NOW = datetime(2000, 6, 1, 12, tzinfo=UTC)
SETTINGS = Settings(base_url="https://pw.example.org/", secret_key=SECRET, signin_link_seconds=900)


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    """A database with two owners."""
    engine = make_engine(database_url)
    upgrade(engine)
    with transaction(engine) as session:
        session.add(Owner(id="codev", name="Mei Tanaka", email="mei.tanaka@example.org", timezone="Europe/Zurich"))
        session.add(Owner(id="norms", name="Ingrid Solberg", email="ingrid@example.org", timezone="Europe/Zurich"))
    yield engine
    engine.dispose()


def test_a_secret_key_is_required() -> None:
    assert require_secret(SETTINGS) == SECRET
    with pytest.raises(InputError, match="PLANWATCH_SECRET_KEY is not set") as caught:
        signin_url(Settings(), "codev", NOW)
    assert caught.value.exit_code == 2


def test_a_signin_link_names_its_owner_and_expires_after_the_configured_time() -> None:
    url = signin_url(SETTINGS, "codev", NOW)
    assert url.startswith("https://pw.example.org/signin/")
    claim = read_signin(SECRET, url.rsplit("/", 1)[1], NOW)
    assert (claim.owner_id, claim.expires) == ("codev", NOW + timedelta(minutes=15))
    assert claim.digest == digest("signin", claim.nonce) and claim.nonce not in claim.digest
    again = read_signin(SECRET, signin_url(SETTINGS, "codev", NOW).rsplit("/", 1)[1], NOW)
    assert again.nonce != claim.nonce  # every link is its own, used once
    with pytest.raises(LinkError, match="this sign-in link expired on 2000-06-01 12:15 UTC; ask for a new one"):
        read_signin(SECRET, url.rsplit("/", 1)[1], NOW + timedelta(minutes=15))


def test_other_tokens_are_not_signin_links() -> None:
    token = signin_url(SETTINGS, "codev", NOW).rsplit("/", 1)[1]
    with pytest.raises(LinkError, match="this sign-in link is not valid"):
        read_signin("another-secret-of-some-length", token, NOW)
    action = sign_link(SECRET, ACT, "p", "I.1", "codev", NOW + timedelta(days=1))  # another salt
    with pytest.raises(LinkError, match="this sign-in link is not valid"):
        read_signin(SECRET, action, NOW)
    odd = URLSafeSerializer(SECRET, salt=SALT).dumps({"u": "codev"})
    with pytest.raises(LinkError, match="this is not a planwatch sign-in link"):
        read_signin(SECRET, str(odd), NOW)


def test_a_link_is_marked_used_once(store: Engine) -> None:
    key = digest("signin", "nonce-1")
    with transaction(store) as session:
        assert used(session, key) is None
        assert mark_used(session, key, "signin", "codev", NOW) is True
    with transaction(store) as session:
        assert mark_used(session, key, "signin", "codev", NOW + timedelta(seconds=1)) is False
        record = used(session, key)
        assert record is not None and (record.kind, record.used_by, record.used_at) == ("signin", "codev", NOW)
        assert mark_used(session, digest("signin", "nonce-2"), "signin", "codev", NOW) is True


def test_an_owner_is_mailed_at_most_so_many_links_an_hour(store: Engine) -> None:
    with transaction(store) as session:
        assert [allow_signin_mail(session, "codev", NOW + timedelta(minutes=m), 2) for m in (0, 10, 20)] == [
            True,
            True,
            False,
        ]
        assert allow_signin_mail(session, "norms", NOW + timedelta(minutes=20), 2) is True  # counted per owner
        assert allow_signin_mail(session, "codev", NOW + timedelta(minutes=61), 2) is True  # the first has aged out
        assert allow_signin_mail(session, "norms", NOW, 0) is False


def test_a_session_lives_until_it_expires_or_is_closed(store: Engine) -> None:
    with transaction(store) as session:
        token, row = open_session(session, "codev", NOW, timedelta(hours=12))
        assert row.token_hash == digest("session", token) and token not in row.token_hash
        assert row.expires_at == NOW + timedelta(hours=12) and len(row.csrf) >= 24
    with transaction(store) as session:
        found = find_session(session, token, NOW + timedelta(hours=11))
        assert found is not None and found.owner_id == "codev"
        assert find_session(session, token, NOW + timedelta(hours=12)) is None
        assert find_session(session, "not-a-token", NOW) is None
        other, _ = open_session(session, "norms", NOW, timedelta(hours=1))
        close_session(session, token)
    with transaction(store) as session:
        assert find_session(session, token, NOW) is None
        assert find_session(session, other, NOW) is not None
        open_session(session, "norms", NOW + timedelta(days=1), timedelta(hours=1))  # tidies expired ones
    with transaction(store) as session:
        assert [s.expires_at for s in session.exec(select(WebSession)).all()] == [NOW + timedelta(days=1, hours=1)]


def test_the_signin_message_carries_the_link_and_its_lifetime() -> None:
    owner = Owner(id="codev", name="Mei Tanaka", email="mei.tanaka@example.org", timezone="Europe/Zurich")
    msg = signin_message(owner, "https://pw.example.org/signin/TOKEN", SETTINGS, NOW)
    assert (msg["To"], msg["From"], msg["Subject"]) == (
        "mei.tanaka@example.org",
        SETTINGS.sender,
        "Your planwatch sign-in link",
    )
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Date"] == "Thu, 01 Jun 2000 14:00:00 +0200"  # Zurich
    assert (
        msg["Message-ID"].endswith("@example.org>")
        and msg["Message-ID"]
        != signin_message(owner, "https://pw.example.org/signin/TOKEN", SETTINGS, NOW)["Message-ID"]
    )
    body = msg.get_content()
    assert body.startswith("Hello Mei Tanaka,")
    assert "https://pw.example.org/signin/TOKEN" in body and "within 15 minutes" in body


def test_the_signin_message_is_in_the_language_its_reader_reads(store: Engine) -> None:
    amelie = Owner(id="rh", name="Amélie Dubois", email="a@example.org", timezone="Europe/Paris", language="fr")
    french = signin_message(amelie, "https://pw.example.org/signin/T", SETTINGS, NOW)
    assert french["Subject"] == "Votre lien de connexion à planwatch"
    assert french.get_content().startswith("Bonjour Amélie Dubois,\n\nOuvrez ce lien pour vous connecter")
    assert "dans les 15 minutes :" in french.get_content() and "https://pw.example.org/signin/T" in french.get_content()
    spanish = signin_message(amelie, "https://pw.example.org/signin/T", SETTINGS, NOW, "es")
    assert spanish["Subject"] == "Su enlace para iniciar sesión en planwatch"
    assert spanish.get_content().startswith("Hola, Amélie Dubois:") and "durante 15 minutos" in spanish.get_content()
    with transaction(store) as session:  # no language of their own: their plan's
        session.add(
            Plan(
                id="p",
                title="Plan",
                ref_date=NOW.date(),
                timezone="Europe/Madrid",
                language="es",
                imported_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()
        session.add(
            Action(
                plan_id="p",
                ref="R1",
                section_key="A",
                ordinal=1,
                title="Hacer",
                owner_id="norms",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.flush()
        assert reader_language(session, session.get(Owner, "norms")) == "es"
        mail = signin_mail(session, "ingrid@example.org", SETTINGS, NOW)[1]
        assert mail is not None and mail["Subject"] == "Su enlace para iniciar sesión en planwatch"


def test_only_a_known_address_under_the_limit_gets_a_mail(store: Engine) -> None:
    settings = Settings(base_url="https://pw.example.org", secret_key=SECRET, signin_mails_per_hour=1)
    with transaction(store) as session:
        assert signin_mail(session, "nobody@example.org", settings, NOW) == (None, None)
        assert signin_mail(session, "  ", settings, NOW) == (None, None)
        owner, message = signin_mail(session, " Mei.Tanaka@example.org ", settings, NOW)
        assert owner is not None and owner.id == "codev" and message is not None
        assert message["To"] == "mei.tanaka@example.org" and "https://pw.example.org/signin/" in message.get_content()
        owner, message = signin_mail(session, "codev", settings, NOW)  # the second link this hour
        assert owner is not None and owner.id == "codev" and message is None
