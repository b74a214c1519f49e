"""The core tables on a real SQLite file: rows round-trip (aware UTC, JSON), constraints refuse what they must."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from engine.store import Action, Owner, Plan, Section, ensure_schema, make_engine, transaction
from engine.store.models import Completion, Escalation, Outbox

AT = datetime(2000, 3, 26, 1, 30, tzinfo=ZoneInfo("Europe/Zurich"))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'planwatch.db'}")
    ensure_schema(engine)
    with transaction(engine) as session:
        session.add(Plan(id="p", title="T", ref_date=date(1999, 9, 28), timezone="UTC", imported_at=AT, updated_at=AT))
        session.add(Owner(id="o1", name="One", email="o1@example.org", timezone="UTC"))
    yield engine
    engine.dispose()


def _action(ref: str = "I.1.1", **changes: object) -> Action:
    values: dict[str, object] = dict(
        plan_id="p", ref=ref, section_key="I.1", ordinal=1, title="Do it", created_at=AT, updated_at=AT
    )
    return Action(**(values | changes))


def test_an_action_round_trips_with_its_json_columns_and_utc_instants(engine: Engine) -> None:
    milestones = [{"on": "2000-06-30", "what": "draft"}]
    with transaction(engine) as session:
        session.add(
            _action(owner_id="o1", kind="deadline", due=date(2000, 6, 30), milestones=milestones, tags=["board", "é"])
        )
    with transaction(engine) as session:
        stored = session.exec(select(Action)).one()
    assert (stored.kind, stored.due, stored.owner_id, stored.status) == ("deadline", date(2000, 6, 30), "o1", "open")
    assert (stored.milestones, stored.tags, stored.override) == (milestones, ["board", "é"], {})
    assert stored.created_at == AT and stored.created_at.tzinfo is UTC
    assert stored.removed_at is None and stored.needs_review is True


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(lambda: [_action("I.1.1"), _action("I.1.1", ordinal=2)], id="action-ref-per-plan"),
        pytest.param(
            lambda: [
                Section(plan_id="p", key="I", level="part", title="I", ordinal=1),
                Section(plan_id="p", key="I", level="part", title="again", ordinal=2),
            ],
            id="section-key-per-plan",
        ),
        pytest.param(lambda: [_action(owner_id="nobody")], id="action-owner-must-exist"),
        pytest.param(lambda: [_action(plan_id="no-such-plan")], id="action-plan-must-exist"),
    ],
)
def test_constraints_refuse_duplicates_and_dangling_references(engine: Engine, rows) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction(engine) as session:
        for row in rows():
            session.add(row)
            session.flush()
    with transaction(engine) as session:  # nothing of the failed transaction stays
        assert session.exec(select(Action)).all() == [] and session.exec(select(Section)).all() == []


def test_outbox_escalation_and_completion_keys_are_unique(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(_action())
    with transaction(engine) as session:
        action_id = session.exec(select(Action.id)).one()

    def outbox() -> Outbox:
        return Outbox(key="k", occurrence="", step="remind#1", type="reminder", recipient="a@b.org",
                      template="reminder", due_at=AT, created_at=AT, action_id=action_id)  # fmt: skip

    def escalation() -> Escalation:
        return Escalation(key="e", at=AT, action_id=action_id, occurrence="", level=1, step="s", policy="x",
                          days_overdue=1)  # fmt: skip

    def completion() -> Completion:
        return Completion(action_id=action_id, occurrence="2000-03", at=AT, who="o1", via="web")

    for make in (outbox, escalation, completion):
        with transaction(engine) as session:
            session.add(make())
        with pytest.raises(IntegrityError), transaction(engine) as session:
            session.add(make())
    with transaction(engine) as session:
        out = session.exec(select(Outbox)).one()
        assert (out.status, out.attempts, out.payload, out.due_at) == ("pending", 0, {}, AT)
        assert session.exec(select(Escalation)).one().recipients == []
        assert len(session.exec(select(Completion)).all()) == 1


def test_an_owner_gets_its_defaults_and_may_have_a_supervisor(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(Owner(id="o2", name="Two", email="o2@example.org", timezone="Asia/Bangkok", supervisor_id="o1"))
    with transaction(engine) as session:
        two = session.get(Owner, "o2")
    assert two is not None and (two.supervisor_id, two.digest, two.role, two.delegate_id) == (
        "o1",
        "none",
        "owner",
        None,
    )
