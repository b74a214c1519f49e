"""Writing a plan into the store and reading it back, with every change to an action recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from engine.plandoc import ActionRow, PlanInfo, SectionRow
from engine.store import Action, ActionChange, Owner, Plan, Section, ensure_schema, make_engine, transaction
from engine.store.models import Escalation, Outbox
from engine.store.plans import (
    SCHEDULE_FIELDS,
    Resolved,
    active_actions,
    read_document,
    replan,
    stored_refs,
    write_actions,
    write_plan,
    write_sections,
)

T0 = datetime(2000, 1, 10, 9, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)
INFO = PlanInfo("p", "The plan", "GB.276/TC/2", date(1999, 11, 1), "Europe/Zurich")
SECTIONS = [SectionRow("I", None, "part", "I", "Part I"), SectionRow("I.1", "I", "issue", "1", "Issue one")]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'planwatch.db'}")
    ensure_schema(engine)
    with transaction(engine) as session:
        session.add(Owner(id="o1", name="One", email="o1@example.org", timezone="UTC"))
        session.add(Owner(id="o2", name="Two", email="o2@example.org", timezone="UTC"))
    yield engine
    engine.dispose()


def resolved(ref: str, ordinal: int, timeframe: str, *, title: str = "", owner: str | None = None) -> Resolved:
    schedule: dict[str, Any] = dict.fromkeys(SCHEDULE_FIELDS)
    schedule.update(kind="deadline", due=date(2000, 6, 30), milestones=[], needs_review=False, reason="by June")
    row = ActionRow(ref=ref, section_key="I.1", ordinal=ordinal, title=title or f"Action {ref}", timeframe=timeframe)
    return Resolved(row, owner, "plan" if owner else "", schedule)


def import_plan(engine: Engine, items: list[Resolved], now: datetime):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        write_plan(session, INFO, now)
        write_sections(session, "p", SECTIONS)
        return write_actions(session, "p", items, now, "file")


def test_write_plan_creates_once_and_touches_updated_at_only_on_a_change(engine: Engine) -> None:
    with transaction(engine) as session:
        assert write_plan(session, INFO, T0) is True
    with transaction(engine) as session:
        assert write_plan(session, INFO, T1) is False
    with transaction(engine) as session:
        plan = session.get(Plan, "p")
        assert plan is not None and (plan.imported_at, plan.updated_at) == (T1, T0)
        changed = PlanInfo("p", "A new title", INFO.symbol, INFO.ref_date, INFO.timezone)
        assert write_plan(session, changed, T2) is False
    with transaction(engine) as session:
        plan = session.get(Plan, "p")
    assert plan is not None and (plan.title, plan.updated_at, plan.imported_at) == ("A new title", T2, T2)


def test_write_sections_makes_the_plan_hold_exactly_the_rows(engine: Engine) -> None:
    import_plan(engine, [], T0)
    with transaction(engine) as session:
        write_sections(session, "p", [SECTIONS[0], SectionRow("I.2", "I", "issue", "2", "Issue two")])
    with transaction(engine) as session:
        rows = session.exec(select(Section.key, Section.parent_key, Section.ordinal).order_by(Section.ordinal)).all()
    assert [tuple(r) for r in rows] == [("I", None, 1), ("I.2", "I", 2)]


def test_a_second_import_reports_and_records_every_change(engine: Engine) -> None:
    first = import_plan(engine, [resolved("I.1.1", 1, "By June 2000"), resolved("I.1.2", 2, "Ongoing")], T0)
    assert (first.added, first.total, first.changed) == (["I.1.1", "I.1.2"], 2, True)
    again = import_plan(engine, [resolved("I.1.1", 1, "By June 2000"), resolved("I.1.2", 2, "Ongoing")], T1)
    assert again.changed is False
    second = import_plan(engine, [resolved("I.1.1", 1, "By July 2000", title="Renamed", owner="o2")], T2)
    assert second.timeframe_changed == [("I.1.1", "By June 2000", "By July 2000")]
    assert (second.title_changed, second.owner_changed, second.removed) == (
        ["I.1.1"],
        [("I.1.1", None, "o2")],
        ["I.1.2"],
    )
    with transaction(engine) as session:
        changes = session.exec(select(ActionChange).order_by(col(ActionChange.id))).all()
        removed = session.exec(select(Action).where(Action.ref == "I.1.2")).one()
    assert [(c.field, c.old, c.new, c.at, c.who, c.via) for c in changes] == [
        ("timeframe", "By June 2000", "By July 2000", T2, "import", "file"),
        ("title", "Action I.1.1", "Renamed", T2, "import", "file"),
        ("owner", None, "o2", T2, "import", "file"),
        ("removed", None, "removed from the plan file", T2, "import", "file"),
    ]
    assert (removed.removed_at, removed.next_fire_at) == (T2, None)


def test_a_removed_action_comes_back_and_read_document_gives_the_active_plan(engine: Engine) -> None:
    import_plan(engine, [resolved("I.1.1", 1, "By June 2000", owner="o1"), resolved("I.1.2", 2, "Ongoing")], T0)
    import_plan(engine, [resolved("I.1.1", 1, "By June 2000", owner="o1")], T1)
    with transaction(engine) as session:
        assert stored_refs(session, "p") == [
            ("I.1.1", "I.1", "By June 2000", True),
            ("I.1.2", "I.1", "Ongoing", False),
        ]
        document = read_document(session, "p")
        assert read_document(session, "nope") is None
    assert document is not None
    assert (document.plan.title, document.plan.symbol, [s.key for s in document.sections]) == (
        "The plan",
        "GB.276/TC/2",
        ["I", "I.1"],
    )
    assert [(a.ref, a.owner, a.timeframe) for a in document.actions] == [("I.1.1", "o1", "By June 2000")]
    report = import_plan(
        engine, [resolved("I.1.1", 1, "By June 2000", owner="o1"), resolved("I.1.2", 2, "Ongoing")], T2
    )
    assert report.restored == ["I.1.2"]
    with transaction(engine) as session:
        assert [a.ref for a in active_actions(session, "p")] == ["I.1.1", "I.1.2"]
        back = session.exec(select(Action).where(Action.ref == "I.1.2")).one()
    assert (back.removed_at, back.next_fire_at) == (None, T2)


def outbox(key: str, action_id: int | None, due: datetime, status: str) -> Outbox:
    return Outbox(
        key=key,
        action_id=action_id,
        occurrence="",
        step="s",
        type="reminder",
        recipient="o1@example.org",
        template="reminder",
        due_at=due,
        created_at=T0,
        status=status,
    )


def test_replan_takes_back_what_was_planned_ahead_and_keeps_what_is_due_or_said(engine: Engine) -> None:
    import_plan(engine, [resolved("I.1.1", 1, "By June 2000")], T0)
    now = T0 + timedelta(days=5)
    with transaction(engine) as session:
        action = session.exec(select(Action)).one()
        action.planned_through = now + timedelta(days=60)
        action.next_fire_at = None
        session.add(action)
        ahead = now + timedelta(days=9)
        for key, due, status in [("past", T1, "pending"), ("ahead", ahead, "pending"), ("held", ahead, "held")]:
            session.add(outbox(key, action.id, due, status))
        session.add(outbox("sent", action.id, ahead, "sent"))
        for key, at in [("e-past", T1), ("e-ahead", ahead)]:
            session.add(
                Escalation(
                    key=key, at=at, action_id=action.id, occurrence="", level=1, step="s", policy="x", days_overdue=1
                )
            )
        action_id = action.id
    assert action_id is not None
    with engine.begin() as conn:
        replan(conn, [action_id], now)
    with transaction(engine) as session:
        kept = sorted(session.exec(select(Outbox.key)).all())
        escalations = session.exec(select(Escalation.key)).all()
        action = session.exec(select(Action)).one()
    assert kept == ["past", "sent"]
    assert escalations == ["e-past"]
    assert (action.planned_through, action.next_fire_at) == (now, now)


def test_new_actions_inserted_in_parts_among_stored_ones_are_all_kept_and_the_missing_removed(engine: Engine) -> None:
    import_plan(engine, [resolved("I.1.2", 2, "Ongoing"), resolved("I.1.5", 5, "Ongoing")], T0)
    items = [resolved(f"I.1.{n}", n, "By June 2000") for n in (1, 2, 3, 4, 6, 7, 8)]
    with transaction(engine) as session:
        write_plan(session, INFO, T1)
        report = write_actions(session, "p", items, T1, "file", part=2)
    assert (report.added, report.removed, report.total) == (
        ["I.1.1", "I.1.3", "I.1.4", "I.1.6", "I.1.7", "I.1.8"],
        ["I.1.5"],
        7,
    )
    with transaction(engine) as session:
        rows = session.exec(select(Action.ref, Action.timeframe, Action.removed_at).order_by(col(Action.ref))).all()
    assert [(ref, tf, gone is not None) for ref, tf, gone in rows] == [
        *((f"I.1.{n}", "By June 2000", False) for n in (1, 2, 3, 4)),
        ("I.1.5", "Ongoing", True),
        *((f"I.1.{n}", "By June 2000", False) for n in (6, 7, 8)),
    ]


def _action_indexes(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'action' ORDER BY name"
        ).all()
    return [(name, sql) for name, sql in found]


def _watched(session: Any, count: int, seen: list[int], plan: str = "I.1") -> Iterator[Resolved]:
    """Yield ``count`` rows; before each, note how many indexes the action table has, seen from inside the write."""
    for n in range(1, count + 1):
        seen.append(
            session.connection()
            .exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'action'")
            .scalar()
        )
        yield resolved(f"{plan}.{n}", n, "By June 2000")


def _write_in_parts(engine: Engine, info: PlanInfo, rows: Any, now: datetime):  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        write_plan(session, info, now)
        write_sections(session, info.id, SECTIONS)
        return write_actions(session, info.id, rows(session), now, "file", part=2)


def test_a_large_first_import_builds_the_action_indexes_after_its_rows_and_the_queries_use_them(engine: Engine) -> None:
    before = _action_indexes(engine)
    assert len([sql for _, sql in before if sql]) >= 5  # the table's own indexes, beside its unique constraint
    seen: list[int] = []
    report = _write_in_parts(engine, INFO, lambda session: _watched(session, 7, seen), T0)
    assert report.total == 7
    assert seen == [len(before)] * 2 + [1] * 5  # set aside when the first part goes in, after two rows
    assert _action_indexes(engine) == before
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN SELECT id FROM action WHERE ref = 'I.1.3'").all()
        assert any("ix_action_ref" in str(step) for step in plan)
        count = conn.exec_driver_sql("SELECT count(*) FROM action INDEXED BY ix_action_plan_ordinal").scalar()
    assert count == 7


def test_an_error_after_the_indexes_were_set_aside_leaves_them_and_the_table_as_they_were(engine: Engine) -> None:
    before = _action_indexes(engine)
    seen: list[int] = []

    def rows(session: Any) -> Iterator[Resolved]:
        yield from _watched(session, 5, seen)
        raise ValueError("the file ends in the middle of a row")

    with pytest.raises(ValueError, match="middle of a row"):
        _write_in_parts(engine, INFO, rows, T0)
    assert seen[-1] == 1  # the indexes were set aside when the error came
    assert _action_indexes(engine) == before
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM action").scalar() == 0


def test_a_large_import_beside_stored_actions_keeps_the_indexes_in_place(engine: Engine) -> None:
    import_plan(engine, [resolved("I.1.1", 1, "Ongoing")], T0)
    before = _action_indexes(engine)
    other = PlanInfo("q", "Another plan", "GB.277/TC/1", date(2000, 3, 1), "UTC")
    seen: list[int] = []
    report = _write_in_parts(engine, other, lambda session: _watched(session, 5, seen), T1)
    assert report.added == [f"I.1.{n}" for n in range(1, 6)]
    assert seen == [len(before)] * 5
    assert _action_indexes(engine) == before
