"""The feeds' reads and writes: the store's data in one go, and the registry of published events.

The registry remembers, per event, the day its UID was made from, its SEQUENCE, its
LAST-MODIFIED and a fingerprint of its content. A changed fingerprint raises SEQUENCE and moves
LAST-MODIFIED to the action's last change (at least one second later than before: never the
wall clock); an event no longer produced is marked gone and published as CANCELLED.
SQLAlchemy Core throughout: a 100,000-action plan is read in one query per table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from engine.calendars.build import RegistryEntry, spec_snapshot
from engine.calendars.cache import EventEntry
from engine.calendars.model import (
    ActionInfo,
    EscalationInfo,
    ExtensionInfo,
    FeedData,
    OwnerInfo,
    PlanInfo,
    SectionInfo,
)
from engine.store import tables
from engine.store.bulk import insert_ignoring_duplicates

A = tables.ACTION
P = tables.PLAN
S = tables.SECTION
W = tables.OWNER
C = tables.COMPLETION
H = tables.ACTION_CHANGE
E = tables.ESCALATION
R = tables.FEED_EVENT
TICK = timedelta(seconds=1)

ACTION_COLUMNS = (
    A.c.id,
    A.c.plan_id,
    A.c.ref,
    A.c.ordinal,
    A.c.section_key,
    A.c.title,
    A.c.timeframe,
    A.c.kind,
    A.c.status,
    A.c.owner_id,
    A.c.updated_at,
    A.c.start,
    A.c.due,
    A.c.extended_to,
    A.c.rrule,
    A.c.tags,
    A.c.milestones,
    A.c.last_completed,
    A.c.removed_at,
)


def load_feed_data(conn: Connection) -> FeedData:
    """Return every plan, section, owner, action (removed ones too) and open escalation."""
    plans = {
        r.id: PlanInfo(r.id, r.title, r.symbol or "", r.timezone, r.ref_date, r.updated_at)
        for r in conn.execute(select(P.c.id, P.c.title, P.c.symbol, P.c.timezone, P.c.ref_date, P.c.updated_at))
    }
    sections = {
        (r.plan_id, r.key): SectionInfo(r.key, r.parent_key, r.level, r.number or "", r.title, r.context or "")
        for r in conn.execute(
            select(S.c.plan_id, S.c.key, S.c.parent_key, S.c.level, S.c.number, S.c.title, S.c.context)
        )
    }
    owners = {
        r.id: OwnerInfo(r.id, r.name, r.email, r.timezone, r.supervisor_id)
        for r in conn.execute(select(W.c.id, W.c.name, W.c.email, W.c.timezone, W.c.supervisor_id))
    }
    completed: dict[int, list[str]] = defaultdict(list)
    for action_id, occurrence in conn.execute(select(C.c.action_id, C.c.occurrence).order_by(C.c.occurrence)):
        completed[action_id].append(occurrence)
    query = (
        select(H.c.action_id, func.max(H.c.at))
        .where(H.c.field == "status", H.c.new.in_(["done", "dropped"]))
        .group_by(H.c.action_id)
    )
    finished: dict[int, Any] = {action_id: at for action_id, at in conn.execute(query)}
    rows = conn.execute(select(*ACTION_COLUMNS).where(A.c.plan_id.in_(list(plans))).order_by(A.c.plan_id, A.c.ordinal))
    extended = _extensions(conn, {k: o.name for k, o in owners.items()})
    actions = [_action(r, completed.get(r.id, ()), finished.get(r.id), extended.get(r.id, ())) for r in rows]
    return FeedData(plans, sections, owners, actions, _open_escalations(conn))


def _extensions(conn: Connection, names: Mapping[str, str]) -> dict[int, tuple[ExtensionInfo, ...]]:
    """Return each action's extensions granted (the change log's ``extended``), with who asked and why from the
    granted request for the same new date, if any."""
    X = tables.EXTENSION_REQUEST
    asked: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    requests = select(X.c.action_id, X.c.wanted, X.c.requested_by, X.c.reason).where(X.c.status == "granted")
    for action_id, wanted, who, reason in conn.execute(requests.order_by(X.c.requested_at, X.c.id)):
        asked[(action_id, wanted.isoformat())].append((who, reason or ""))
    found: dict[int, list[ExtensionInfo]] = defaultdict(list)
    changes = select(H.c.action_id, H.c.at, H.c.who, H.c.old, H.c.new, H.c.note).where(H.c.field == "extended")
    for action_id, at, who, old, new, note in conn.execute(changes.order_by(H.c.at, H.c.id)):
        if not new:
            continue
        waiting = asked.get((action_id, new))
        by, reason = waiting.pop(0) if waiting else ("", note or "")
        found[action_id].append(
            ExtensionInfo(
                day=_utc(at).date(),
                old=date.fromisoformat(old) if old else None,
                new=date.fromisoformat(new),
                granted_by=names.get(who, who),
                asked_by=names.get(by, by),
                reason=reason or note or "",
            )
        )
    return {k: tuple(v) for k, v in found.items()}


def _action(r: Any, completed: Iterable[str], finished: Any, extensions: tuple[ExtensionInfo, ...] = ()) -> ActionInfo:
    milestones = tuple(
        (str(m.get("label") or ""), m.get("due"), m.get("start"))
        for m in (r.milestones or ())
        if isinstance(m, Mapping)
    )
    finished_at = _utc(finished) if finished is not None and r.status in {"done", "dropped"} else None
    return ActionInfo(
        id=r.id,
        plan_id=r.plan_id,
        ref=r.ref,
        ordinal=r.ordinal,
        section_key=r.section_key,
        title=r.title,
        timeframe=r.timeframe or "",
        kind=r.kind,
        status=r.status,
        owner_id=r.owner_id,
        updated_at=r.updated_at,
        start=r.start,
        due=r.due,
        extended_to=r.extended_to,
        rrule=r.rrule,
        tags=tuple(r.tags or ()),
        milestones=milestones,
        last_completed=r.last_completed,
        completed=tuple(completed),
        finished_at=finished_at,
        removed_at=r.removed_at,
        extensions=extensions,
    )


def _utc(value: Any) -> datetime:
    """An aggregate (``max``) bypasses the column type on SQLite: read it back as aware UTC."""
    from engine.store.types import UTCDateTime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    result = UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]
    assert result is not None
    return result


def _open_escalations(conn: Connection) -> list[EscalationInfo]:
    query = (
        select(E.c.id, E.c.action_id, E.c.at, E.c.level, E.c.step, E.c.occurrence, E.c.days_overdue)
        .where(E.c.acknowledged_at.is_(None), E.c.resolved_at.is_(None))
        .order_by(E.c.at, E.c.id)
    )
    return [
        EscalationInfo(r.id, r.action_id, r.at, r.level, r.step, r.occurrence, r.days_overdue)
        for r in conn.execute(query)
    ]


# ----------------------------------------------------------------------------------- registry


def sync_registry(conn: Connection, entries: list[EventEntry], data: FeedData) -> dict[str, RegistryEntry]:
    """Record new, changed and vanished events; return the registry as it now stands."""
    existing = _registry_rows(conn, data)
    touched = {a.id: a.updated_at for a in data.actions}
    ids = {(a.plan_id, a.ref): a.id for a in data.actions}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    live: set[str] = set()
    for entry in entries:
        spec = entry.spec
        live.add(spec.key)
        row = existing.get(spec.key)
        if row is None:
            inserts.append(
                {
                    "key": spec.key,
                    "plan_id": spec.plan_id,
                    "action_id": ids.get((spec.plan_id, spec.ref)),
                    "uid_day": spec.uid_day or spec.day,
                    "sequence": 0,
                    "fingerprint": entry.fingerprint,
                    "modified_at": spec.modified,
                    "gone_at": None,
                    "snapshot": spec_snapshot(spec),
                }
            )
        elif row.fingerprint != entry.fingerprint or row.gone_at is not None:
            updates.append(
                _change(row, entry.fingerprint, max(spec.modified, row.modified_at + TICK), None, spec_snapshot(spec))
            )
    vanished = [row for key, row in existing.items() if key not in live and row.gone_at is None]
    query = select(R.c.id, R.c.snapshot).where(R.c.id.in_([r.id for r in vanished]))
    snapshots = {row_id: snap for row_id, snap in conn.execute(query)} if vanished else {}
    for row in vanished:
        when = max(touched.get(row.action_id, row.modified_at), row.modified_at + TICK)
        updates.append(_change(row, row.fingerprint, when, when, snapshots.get(row.id)))
    if not inserts and not updates:
        return {k: _entry(r) for k, r in existing.items()}
    inserted = insert_ignoring_duplicates(conn, R, inserts)
    changed = _apply(conn, updates)
    if inserted == len(inserts) and changed == len(updates):
        merged = {k: _entry(r) for k, r in existing.items()}
        merged.update({r["key"]: _entry_from(r) for r in inserts})
        merged.update({u["key"]: _entry_from(u) for u in updates})
        return merged
    # Another process published at the same time: take what the store now holds.
    return {k: _entry(r) for k, r in _registry_rows(conn, data).items()}


def _registry_rows(conn: Connection, data: FeedData) -> dict[str, Any]:
    """The registry rows of the plans; the snapshot (JSON) only of gone events, the only ones that need it."""
    plans = list(data.plans)
    columns = [c for c in R.c if c.name != "snapshot"]
    rows: dict[str, Any] = {r.key: r for r in conn.execute(select(*columns).where(R.c.plan_id.in_(plans)))}
    for r in conn.execute(select(R).where(R.c.plan_id.in_(plans), R.c.gone_at.is_not(None))):
        rows[r.key] = r
    return rows


def _change(row: Any, fingerprint: str, modified: datetime, gone: datetime | None, snapshot: Any) -> dict[str, Any]:
    return {
        "b_id": row.id,
        "b_old": row.fingerprint,
        "b_seq": row.sequence,
        "key": row.key,
        "uid_day": row.uid_day,
        "sequence": row.sequence + 1,
        "fingerprint": fingerprint,
        "modified_at": modified,
        "gone_at": gone,
        "snapshot": snapshot,
    }


def _apply(conn: Connection, updates: list[dict[str, Any]]) -> int:
    """Compare-and-set each change: a row another process changed meanwhile is left alone."""
    if not updates:
        return 0
    stmt = (
        update(R)
        .where(
            and_(R.c.id == bindparam("b_id"), R.c.fingerprint == bindparam("b_old"), R.c.sequence == bindparam("b_seq"))
        )
        .values(
            sequence=bindparam("sequence"),
            fingerprint=bindparam("fingerprint"),
            modified_at=bindparam("modified_at"),
            gone_at=bindparam("gone_at"),
            snapshot=bindparam("snapshot"),
        )
    )
    params = [
        {k: u[k] for k in ("b_id", "b_old", "b_seq", "sequence", "fingerprint", "modified_at", "gone_at", "snapshot")}
        for u in updates
    ]
    done = 0
    for one in params:  # rowcount of an executemany is not reliable on every driver
        done += max(conn.execute(stmt, one).rowcount, 0)
    return done


def _entry(r: Any) -> RegistryEntry:
    return RegistryEntry(r.uid_day, r.sequence, r.modified_at, r.gone_at, getattr(r, "snapshot", None) or {})


def _entry_from(values: Mapping[str, Any]) -> RegistryEntry:
    return RegistryEntry(
        values["uid_day"], values["sequence"], values["modified_at"], values["gone_at"], values["snapshot"] or {}
    )
