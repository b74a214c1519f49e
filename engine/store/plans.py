"""Writing a plan into the store and reading it back; every change to an action is recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from itertools import islice
from operator import itemgetter
from typing import Any, NamedTuple

from pydantic_core import PydanticUndefined
from sqlalchemy import Connection, Dialect, delete, update
from sqlmodel import Session, col, select

from engine.plandoc import ActionRow, PlanDocument, PlanInfo, SectionRow
from engine.store.bulk import INSERT_ROWS, insert_values, stored_values
from engine.store.models import Action, ActionChange, Plan, Section
from engine.store.tables import ACTION as _ACT
from engine.store.tables import ESCALATION as _ESC
from engine.store.tables import OUTBOX as _OUT
from engine.store.tables import SECTION as _SEC

SCHEDULE_FIELDS = ("kind", "start", "due", "rrule", "milestones", "event", "after_ref", "needs_review", "reason")
SECTION_ROW = ("key", "parent_key", "level", "number", "title", "context", "ordinal")  # a new section's columns


@dataclass
class ImportReport:
    """What one import changed; lists hold action ids."""

    plan_id: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    timeframe_changed: list[tuple[str, str, str]] = field(default_factory=list)
    title_changed: list[str] = field(default_factory=list)
    owner_changed: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    schedule_changed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    total: int = 0
    readings: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)  # by id, for a preview

    @property
    def changed(self) -> bool:
        """Return True when the import changed any action."""
        return bool(
            self.added
            or self.removed
            or self.restored
            or self.timeframe_changed
            or self.title_changed
            or self.owner_changed
            or self.schedule_changed
        )


class Resolved(NamedTuple):
    """An action row ready to store: owner and schedule decided (a tuple: a large import makes one per row)."""

    row: ActionRow
    owner_id: str | None
    owner_source: str
    schedule: dict[str, Any]


def stored_refs(session: Session, plan_id: str) -> list[tuple[str, str, str, bool]]:
    """Return (ref, section key, time frame, active) of every action ever stored for a plan."""
    rows = session.exec(
        select(Action.ref, Action.section_key, Action.timeframe, Action.removed_at)
        .where(Action.plan_id == plan_id)
        .order_by(col(Action.ordinal))
    ).all()
    return [(ref, sec, tf, removed is None) for ref, sec, tf, removed in rows]


def actions_by_ref(session: Session, plan_id: str) -> dict[str, Action]:
    """Return every action of a plan (removed ones too) by id."""
    return {a.ref: a for a in session.exec(select(Action).where(Action.plan_id == plan_id)).all()}


def write_plan(session: Session, info: PlanInfo, now: datetime) -> bool:
    """Insert or update the plan row; return True when it was created."""
    plan = session.get(Plan, info.id)
    created = plan is None
    values: dict[str, Any] = dict(
        title=info.title,
        symbol=info.symbol,
        body=info.body,
        ref_date=info.ref_date,
        timezone=info.timezone,
        fy_start=info.fy_start,
        source=info.source,
        source_format=info.source_format,
    )
    if plan is None:
        plan = Plan(id=info.id, imported_at=now, updated_at=now, **values)
    elif any(getattr(plan, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(plan, k, v)
        plan.updated_at = now
    plan.imported_at = now
    session.add(plan)
    return created


def write_sections(session: Session, plan_id: str, rows: Sequence[SectionRow]) -> None:
    """Make the plan's sections exactly ``rows`` (matched by key)."""
    existing = {s.key: s for s in session.exec(select(Section).where(Section.plan_id == plan_id)).all()}
    if not existing:  # a new plan's: one Core insert (an ORM object costs about 0.2 ms; a large plan has hundreds)
        session.flush()  # the plan first: the sections refer to it
        insert_values(
            session.connection(),
            _SEC,
            SECTION_ROW,
            [
                (row.key, row.parent_key, row.level, row.number, row.title, row.context, ordinal)
                for ordinal, row in enumerate(rows, 1)
            ],
            same={"plan_id": plan_id},
        )
        return
    for ordinal, row in enumerate(rows, 1):
        section = existing.pop(row.key, None) or Section(
            plan_id=plan_id, key=row.key, level=row.level, title=row.title, ordinal=ordinal
        )
        section.parent_key, section.level, section.number = row.parent_key, row.level, row.number
        section.title, section.context, section.ordinal = row.title, row.context, ordinal
        session.add(section)
    for stale in existing.values():
        session.delete(stale)


def write_actions(
    session: Session, plan_id: str, resolved: Iterable[Resolved], now: datetime, via: str, *, part: int = INSERT_ROWS
) -> ImportReport:
    """Insert, update, restore and remove actions so the plan holds exactly ``resolved``; new actions are
    inserted ``part`` rows at a time, as they come."""
    report = ImportReport(plan_id)
    existing = actions_by_ref(session, plan_id)
    seen: set[str] = set()
    added: list[tuple[Any, ...]] = []
    changed: list[int] = []
    same = _new_base(plan_id, now)
    make = _NewRows(session.get_bind().dialect)
    flushed = False
    total = 0
    indexes: list[str] = []
    if not existing:  # every row is new: made a part at a time (the loop below, without its questions per row)
        rows = iter(resolved)
        while made := list(map(make, islice(rows, part))):
            total += len(made)
            report.added.extend(map(itemgetter(0), made))  # their ids
            if len(made) == part and not flushed:
                indexes = _set_indexes_aside(session)
            flushed = _insert_new(session, made, flushed, same)
            make.clear()
        resolved = ()
    for item in resolved:
        total += 1
        action = existing.get(item.row.ref)
        if action is None:
            added.append(make(item))
            report.added.append(item.row.ref)
            if len(added) == part:  # in parts: a large plan's new rows are never all held at once
                if not flushed and not existing:
                    indexes = _set_indexes_aside(session)
                flushed = _insert_new(session, added, flushed, same)
                added = []
                make.clear()
            continue
        seen.add(item.row.ref)  # only the stored ones: what is not seen among them is removed
        if _update(session, action, item, now, via, report) and action.id is not None:
            changed.append(action.id)
    if added:
        _insert_new(session, added, flushed, same)
    for sql in indexes:
        session.connection().exec_driver_sql(sql)
    removed: list[int] = []
    for ref, action in existing.items():
        if ref not in seen and action.removed_at is None:
            action.removed_at = action.updated_at = now
            action.next_fire_at = None
            record_change(session, action, now, "import", via, "removed", None, "removed from the plan file")
            report.removed.append(ref)
            if action.id is not None:
                changed.append(action.id)
                removed.append(action.id)
    if changed:
        forget_planned_ahead(session.connection(), changed, now)
    if removed:  # what waits to be sent, or is held for a digest, about a removed action is never sent
        session.connection().execute(
            update(_OUT)
            .where(_OUT.c.action_id.in_(removed), _OUT.c.status.in_(["pending", "held"]))
            .values(status="suppressed", reason="the action was removed from the plan file before it was sent")
        )
    report.total = total
    return report


def _insert_new(session: Session, rows: list[tuple[Any, ...]], flushed: bool, same: dict[str, Any]) -> bool:
    """Insert new actions' rows (``_NewRows``'s; ``same`` the values of every new row) with one Core insert;
    return True (the session has been flushed).

    An ORM object would cost about 1 ms per action (pydantic defaults).
    """
    if not flushed:
        session.flush()  # the plan and its sections first: the new rows refer to them
    insert_values(session.connection(), _ACT, ROW, rows, same=same, stored=True)
    return True


def _set_indexes_aside(session: Session) -> list[str]:
    """Drop the action table's own indexes for a large first import on SQLite, and return the statements that
    make them again once its rows are in; return [] and drop nothing when the table holds any action.

    SQLite builds an index faster from the whole table than row by row (a tenth of the insert time of
    100,000 rows); the drop and the build are in the import's transaction, so an error leaves the indexes
    as they were. The unique constraint stays: it is what refuses an id twice.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite" or conn.exec_driver_sql("SELECT 1 FROM action LIMIT 1").first() is not None:
        return []
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'action' AND sql IS NOT NULL"
    ).all()
    for name, _ in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


@cache
def _defaults() -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    """Return the model's column defaults: (plain values, factories such as ``list``)."""
    values: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, info in Action.model_fields.items():
        if name == "id":
            continue
        if info.default_factory is not None:
            factories[name] = info.default_factory  # type: ignore[assignment]
        elif info.default is not PydanticUndefined:
            values[name] = info.default
    return values, factories


NEW_ROW = (
    "ref",
    "section_key",
    "subheading",
    "ordinal",
    "title",
    "description",
    "timeframe",
    "timeframe_proposed",
    "owner_id",
    "owner_source",
)
# The columns of a new action's row, in the action table's order: the driver gets each row as it is made.
ROW = (*NEW_ROW, *SCHEDULE_FIELDS, "override", "tags")


class _NewRows:
    """Makes the rows of new actions (the columns ``ROW``, stored values): what ``Action(...)`` and ``_fill`` would
    set. A reading's schedule, shared by the rows read alike, is made into stored values once with the row's
    override (an empty one is stored as every other): by identity, held beside its values (``made``, emptied
    after each part). The override goes to the INSERT as read: it is never changed."""

    def __init__(self, dialect: Dialect) -> None:
        self.store = stored_values(dialect, _ACT, (*SCHEDULE_FIELDS, "override"))
        self.made: dict[tuple[int, int], tuple[dict[str, Any], dict[str, Any], tuple[Any, ...]]] = {}
        self.store_tags = stored_values(dialect, _ACT, ("tags",))
        self.tags: dict[int, tuple[Sequence[str], tuple[Any, ...]]] = {}  # a row's tags (mostly one shared list)

    def clear(self) -> None:
        """Forget the values made for the rows so far (after each part)."""
        self.made.clear()
        self.tags.clear()

    def __call__(self, item: Resolved) -> tuple[Any, ...]:
        row, owner_id, owner_source, schedule = item
        override = row.override
        key = (id(schedule), id(override) if override else 0)
        held = self.made.get(key)
        if held is None or held[0] is not schedule or (override and held[1] is not override):
            held = self.made[key] = (schedule, override, self.store((*map(schedule.get, SCHEDULE_FIELDS), override)))
        tags = row.tags
        kept = self.tags.get(id(tags))
        if kept is None or kept[0] is not tags:
            kept = self.tags[id(tags)] = (tags, self.store_tags((list(tags),)))
        return (
            (
                row.ref,
                row.section_key,
                row.subheading,
                row.ordinal,
                row.title,
                row.description,
                row.timeframe,
                row.timeframe_proposed,
                owner_id,
                owner_source,
            )
            + held[2]
            + kept[1]
        )


def _new_base(plan_id: str, now: datetime) -> dict[str, Any]:
    """Return the values every new action of an import starts with (the columns not in ``ROW``).

    The list and dict values are shared by the rows: they go to one INSERT and are never changed.
    """
    plain, factories = _defaults()
    values = plain | {name: make() for name, make in factories.items()}
    values.update(plan_id=plan_id, created_at=now, updated_at=now, next_fire_at=now)
    return {name: value for name, value in values.items() if name not in ROW}


def _fill(action: Action, item: Resolved) -> None:
    row = item.row
    action.section_key, action.subheading, action.ordinal = row.section_key, row.subheading, row.ordinal
    action.title, action.description, action.timeframe = row.title, row.description, row.timeframe
    action.timeframe_proposed = row.timeframe_proposed
    action.owner_id, action.owner_source = item.owner_id, item.owner_source
    action.override = dict(row.override)
    action.tags = list(row.tags)
    for key in SCHEDULE_FIELDS:
        setattr(action, key, item.schedule.get(key))


def _update(session: Session, action: Action, item: Resolved, now: datetime, via: str, report: ImportReport) -> bool:
    """Bring ``action`` up to date with ``item``; return True when it changed (and must be planned again)."""
    row = item.row
    before = {k: getattr(action, k) for k in ("timeframe", "title", "owner_id", *SCHEDULE_FIELDS)}
    before["other"] = (
        action.section_key,
        action.subheading,
        action.ordinal,
        action.description,
        action.timeframe_proposed,
        action.owner_source,
        action.override,
        action.tags,
    )
    was_removed = action.removed_at is not None
    _fill(action, item)
    after = {k: getattr(action, k) for k in ("timeframe", "title", "owner_id", *SCHEDULE_FIELDS)}
    after["other"] = (
        action.section_key,
        action.subheading,
        action.ordinal,
        action.description,
        action.timeframe_proposed,
        action.owner_source,
        action.override,
        action.tags,
    )
    if was_removed:
        action.removed_at = None
        report.restored.append(row.ref)
        record_change(session, action, now, "import", via, "restored", None, "back in the plan file")
    if before["timeframe"] != after["timeframe"]:
        report.timeframe_changed.append((row.ref, before["timeframe"], after["timeframe"]))
        record_change(session, action, now, "import", via, "timeframe", before["timeframe"], after["timeframe"])
    if before["title"] != after["title"]:
        report.title_changed.append(row.ref)
        record_change(session, action, now, "import", via, "title", before["title"], after["title"])
    if before["owner_id"] != after["owner_id"]:
        report.owner_changed.append((row.ref, before["owner_id"], after["owner_id"]))
        record_change(session, action, now, "import", via, "owner", before["owner_id"], after["owner_id"])
    if any(before[k] != after[k] for k in SCHEDULE_FIELDS) and before["timeframe"] == after["timeframe"]:
        report.schedule_changed.append(row.ref)
    if before != after or was_removed:
        action.updated_at = now
        # The next tick plans it again; finished actions stay quiet.
        action.next_fire_at = None if action.status in {"done", "dropped", "on_hold"} else now
        session.add(action)
        return True
    return False


def record_change(
    session: Session,
    action: Action,
    now: datetime,
    who: str,
    via: str,
    fieldname: str,
    old: Any,
    new: Any,
    note: str = "",
) -> None:
    """Append one entry to an action's history."""
    if action.id is None:
        session.flush()
    assert action.id is not None
    session.add(
        ActionChange(
            action_id=action.id, at=now, who=who, via=via, field=fieldname, old=_str(old), new=_str(new), note=note
        )
    )


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def read_document(session: Session, plan_id: str) -> PlanDocument | None:
    """Return the stored plan as a ``PlanDocument`` (active actions only), or None."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        return None
    info = PlanInfo(
        plan.id,
        plan.title,
        plan.symbol,
        plan.ref_date,
        plan.timezone,
        plan.body,
        plan.fy_start,
        plan.source,
        plan.source_format,
        language="" if plan.language in ("", "en") else plan.language,  # English, the default, goes unsaid
    )
    sections = [
        SectionRow(s.key, s.parent_key, s.level, s.number, s.title, s.context, s.ordinal)
        for s in session.exec(select(Section).where(Section.plan_id == plan_id).order_by(col(Section.ordinal))).all()
    ]
    actions = [
        ActionRow(
            ref=a.ref,
            section_key=a.section_key,
            ordinal=a.ordinal,
            title=a.title,
            timeframe=a.timeframe,
            subheading=a.subheading,
            description=a.description,
            timeframe_proposed=a.timeframe_proposed,
            owner=a.owner_id if a.owner_source == "plan" else None,
            override=dict(a.override or {}),
            tags=list(a.tags or []),
        )
        for a in active_actions(session, plan_id)
    ]
    return PlanDocument(info, sections, actions)


def active_actions(session: Session, plan_id: str | None = None) -> list[Action]:
    """Return the actions not removed from their plan, in plan order."""
    query = select(Action).where(col(Action.removed_at).is_(None))
    if plan_id is not None:
        query = query.where(Action.plan_id == plan_id)
    return list(session.exec(query.order_by(col(Action.plan_id), col(Action.ordinal))).all())


def forget_planned_ahead(conn: Connection, action_ids: list[int], now: datetime) -> None:
    """Take back what was planned ahead for these actions and is not due yet at ``now``.

    After a change (done, an extension, an acknowledgement, a new owner) the queued future
    messages may no longer be true: they are deleted, not suppressed (nothing was said yet, and
    their keys must stay free to be planned again), with the escalation steps that had not yet
    come, and the actions' ``planned_through`` comes back to ``now``.
    """
    for start in range(0, len(action_ids), 500):
        chunk = action_ids[start : start + 500]
        # Only an action planned past ``now`` can have anything queued ahead (most changes find none).
        ids = list(conn.execute(select(_ACT.c.id).where(_ACT.c.id.in_(chunk), _ACT.c.planned_through > now)).scalars())
        if not ids:
            continue
        conn.execute(
            delete(_OUT).where(_OUT.c.action_id.in_(ids), _OUT.c.status.in_(["pending", "held"]), _OUT.c.due_at > now)
        )
        conn.execute(delete(_ESC).where(_ESC.c.action_id.in_(ids), _ESC.c.at > now))
        conn.execute(update(_ACT).where(_ACT.c.id.in_(ids), _ACT.c.planned_through > now).values(planned_through=now))


def replan(conn: Connection, action_ids: Iterable[int], now: datetime) -> None:
    """Make these actions due for planning at ``now`` (UTC), taking back what was planned ahead for them."""
    ids = list(action_ids)
    if ids:
        forget_planned_ahead(conn, ids, now)
        conn.execute(update(_ACT).where(_ACT.c.id.in_(ids)).values(next_fire_at=now))
