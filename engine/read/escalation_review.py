"""The supervisor's review of the escalation log: scoped, filtered, sorted by lateness, paged, CSV.

Read-only, in SQLAlchemy Core so that a page of 50 among 100,000 entries costs two indexed
queries (the page and its count). Dates in filters are days in the viewer's zone; times in
rows are aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, func, or_, select, true

from engine.read.csv_text import csv_chunks
from engine.store import tables
from engine.zones import zone

E = tables.ESCALATION
A = tables.ACTION
STATES = ("open", "acknowledged", "resolved", "all")
SORTS = ("late", "recent")
COLUMNS = (
    E.c.id,
    E.c.at,
    E.c.level,
    E.c.step,
    E.c.occurrence,
    E.c.days_overdue,
    E.c.recipients,
    E.c.acknowledged_by,
    E.c.acknowledged_at,
    E.c.ack_note,
    E.c.resolved_at,
    E.c.resolution,
    E.c.action_id,
    A.c.plan_id,
    A.c.ref,
    A.c.title,
    A.c.owner_id,
    A.c.section_key,
    A.c.status,
)
CSV_HEADER = (
    "id",
    "fired_utc",
    "plan",
    "action",
    "title",
    "owner",
    "level",
    "step",
    "occurrence",
    "days_overdue",
    "recipients",
    "acknowledged_by",
    "acknowledged_utc",
    "note",
    "resolved_utc",
    "resolution",
)


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    """Which entries to show; None means any. ``since``/``until`` are inclusive days in ``tz``."""

    level: int | None = None
    state: str = "open"
    part: str | None = None
    owner: str | None = None
    since: date | None = None
    until: date | None = None
    sort: str = "late"
    page: int = 1
    per_page: int = 50
    tz: str = "UTC"


@dataclass
class ReviewPage:
    """One page of entries, the total that pass the filter, and the page count."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))


def _where(scope: frozenset[str] | None, flt: ReviewFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = _on_action(scope, flt)
    if flt.level is not None:
        found.append(E.c.level == flt.level)
    return found + _state(flt.state) + _dates(flt)


def _on_action(scope: frozenset[str] | None, flt: ReviewFilter) -> list[ColumnElement[bool]]:
    """Return the conditions on the action (scope, owner, Part); without them no join is needed."""
    found: list[ColumnElement[bool]] = []
    if scope is not None:
        found.append(A.c.owner_id.in_(sorted(scope)))
    if flt.owner:
        found.append(A.c.owner_id == flt.owner)
    if flt.part:
        found.append(or_(A.c.section_key == flt.part, A.c.section_key.startswith(f"{flt.part}.", autoescape=True)))
    return found


def _state(state: str) -> list[ColumnElement[bool]]:
    if state == "open":
        return [E.c.acknowledged_at.is_(None), E.c.resolved_at.is_(None)]
    if state == "acknowledged":
        return [E.c.acknowledged_at.is_not(None)]
    if state == "resolved":
        return [E.c.resolved_at.is_not(None)]
    return []


def _dates(flt: ReviewFilter) -> list[ColumnElement[bool]]:
    tz = zone(flt.tz)
    found: list[ColumnElement[bool]] = []
    if flt.since is not None:
        found.append(E.c.at >= datetime.combine(flt.since, time(0), tz))
    if flt.until is not None:
        found.append(E.c.at < datetime.combine(flt.until + timedelta(days=1), time(0), tz))
    return found


def _order(flt: ReviewFilter) -> tuple[Any, ...]:
    if flt.sort == "late":
        return (E.c.days_overdue.desc(), E.c.at.desc(), E.c.id.desc())
    return (E.c.at.desc(), E.c.id.desc())


def _source(scope: frozenset[str] | None, flt: ReviewFilter) -> Any:
    return E.join(A, A.c.id == E.c.action_id) if _on_action(scope, flt) else E


def _query(scope: frozenset[str] | None, flt: ReviewFilter) -> Select[Any]:
    return (
        select(*COLUMNS)
        .select_from(E.join(A, A.c.id == E.c.action_id))
        .where(true(), *_where(scope, flt))
        .order_by(*_order(flt))
    )


def review_page(conn: Connection, scope: frozenset[str] | None, flt: ReviewFilter) -> ReviewPage:
    """Return one page of the log for the owners in ``scope`` (None: everyone), most overdue first.

    The page's ids come from the indexes alone (joined to actions only to filter by them); only
    those rows are then read in full.
    """
    where = _where(scope, flt)
    total = conn.execute(select(func.count()).select_from(_source(scope, flt)).where(true(), *where)).scalar_one()
    page = max(1, min(flt.page, max(1, -(-total // flt.per_page))))
    ids = list(
        conn.execute(
            select(E.c.id)
            .select_from(_source(scope, flt))
            .where(true(), *where)
            .order_by(*_order(flt))
            .limit(flt.per_page)
            .offset((page - 1) * flt.per_page)
        ).scalars()
    )
    rows: list[dict[str, Any]] = []
    if ids:
        rows = [
            dict(r)
            for r in conn.execute(
                select(*COLUMNS)
                .select_from(E.join(A, A.c.id == E.c.action_id))
                .where(E.c.id.in_(ids))
                .order_by(*_order(flt))
            ).mappings()
        ]
    return ReviewPage(rows, total, page, flt.per_page)


def review_csv(engine: Engine, scope: frozenset[str] | None, flt: ReviewFilter) -> Iterator[str]:
    """Yield the whole filtered log as CSV text in chunks (header first; times ISO UTC; formulas defused)."""
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=2000).execute(_query(scope, flt)).mappings()
        yield from csv_chunks(CSV_HEADER, (_csv_row(row) for row in result))


def _iso(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


def _csv_row(row: Any) -> list[Any]:
    return [
        row["id"],
        _iso(row["at"]),
        row["plan_id"],
        row["ref"],
        row["title"],
        row["owner_id"] or "",
        row["level"],
        row["step"],
        row["occurrence"],
        row["days_overdue"],
        " ".join(row["recipients"] or []),
        row["acknowledged_by"] or "",
        _iso(row["acknowledged_at"]),
        row["ack_note"],
        _iso(row["resolved_at"]),
        row["resolution"],
    ]


def owner_choices(conn: Connection, scope: frozenset[str] | None) -> list[tuple[str, str]]:
    """Return (id, name) of the owners in ``scope`` (None: everyone) by id, for the filter's choices."""
    W = tables.OWNER
    rows = conn.execute(select(W.c.id, W.c.name).order_by(W.c.id)).all()
    return [(i, n) for i, n in rows if scope is None or i in scope]


def parts(conn: Connection, plan_id: str | None = None) -> list[tuple[str, str]]:
    """Return (key, "Part N: title") of every Part, for the filter's choices."""
    S = tables.SECTION
    query = select(S.c.key, S.c.number, S.c.title).where(S.c.level == "part").order_by(S.c.plan_id, S.c.ordinal)
    if plan_id is not None:
        query = query.where(S.c.plan_id == plan_id)
    return [(r.key, f"Part {r.number}: {r.title}") for r in conn.execute(query)]
