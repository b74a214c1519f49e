"""The web tables on a real SQLite file: sessions, used links, sign-in mails, extension requests, review indexes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from engine.store import (
    Action,
    ExtensionRequest,
    Owner,
    Plan,
    SigninMail,
    UsedLink,
    WebSession,
    ensure_schema,
    make_engine,
    transaction,
)

AT = datetime(2000, 10, 29, 1, 30, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'planwatch.db'}")
    ensure_schema(engine)
    with transaction(engine) as session:
        session.add(Plan(id="p", title="T", ref_date=date(1999, 9, 28), timezone="UTC", imported_at=AT, updated_at=AT))
        session.add(Owner(id="o1", name="One", email="o1@example.org", timezone="UTC"))
        session.flush()
        session.add(
            Action(plan_id="p", ref="I.1.1", section_key="I.1", ordinal=1, title="x", created_at=AT, updated_at=AT)
        )
    yield engine
    engine.dispose()


def test_a_session_round_trips_and_belongs_to_a_known_owner(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(
            WebSession(token_hash="t", owner_id="o1", csrf="c", created_at=AT, expires_at=AT + timedelta(days=7))
        )
    with transaction(engine) as session:
        stored = session.get(WebSession, "t")
    assert stored is not None and (stored.owner_id, stored.csrf) == ("o1", "c")
    assert stored.expires_at - stored.created_at == timedelta(days=7) and stored.expires_at.tzinfo is UTC
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(WebSession(token_hash="u", owner_id="nobody", csrf="c", created_at=AT, expires_at=AT))


def test_a_link_can_be_marked_used_only_once(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(UsedLink(digest="d", kind="signin", used_by="o1", used_at=AT))
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(UsedLink(digest="d", kind="signin", used_at=AT))
    with transaction(engine) as session:
        assert [(u.digest, u.used_by, u.used_at) for u in session.exec(select(UsedLink)).all()] == [("d", "o1", AT)]


def test_an_extension_request_starts_pending_and_sign_in_mails_are_counted(engine: Engine) -> None:
    with transaction(engine) as session:
        action_id = session.exec(select(Action.id)).one()
        session.add(
            ExtensionRequest(action_id=action_id, requested_by="o1", requested_at=AT, wanted=date(2000, 12, 31))
        )
        session.add_all(SigninMail(owner_id="o1", sent_at=AT + timedelta(minutes=n)) for n in range(3))
    with transaction(engine) as session:
        request = session.exec(select(ExtensionRequest)).one()
        mails = session.exec(select(SigninMail.sent_at).order_by(SigninMail.sent_at)).all()
    assert (request.status, request.via, request.decided_by, request.decided_at) == ("pending", "web", None, None)
    assert request.wanted == date(2000, 12, 31)
    assert mails == [AT, AT + timedelta(minutes=1), AT + timedelta(minutes=2)]


def test_the_review_indexes_declared_here_exist_in_the_migrated_database(engine: Engine) -> None:
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("escalation")}
    assert indexes["ix_escalation_review"] == ["action_id", "resolved_at", "acknowledged_at", "level", "at"]
    assert indexes["ix_escalation_lateness"][:3] == ["days_overdue", "at", "id"]
    signin = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("signin_mail")}
    assert signin["ix_signin_mail_owner_sent"] == ["owner_id", "sent_at"]
