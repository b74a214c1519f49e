"""The implementation report a governing body reads: how many accepted actions are implemented, by Part, by
responsible unit and by owner; overdue actions by age and cause of delay; the owner's rating beside the
verifier's; extensions; what changed since an earlier report; the long-overdue list.

Everything is read "as of" the end of a day in the plan's zone from the history (the change log, the closure
reports and the extensions), never from the actions' current state, so a report for an earlier day comes out
the same whenever it is made. Definitions, as the report states them:

- *Implemented*: the action is done as of the day: its closure verified (or, where the rules keep one-step
  closure, the owner marked it done). An action reported implemented but not yet verified is *reported*.
- *Implementation rate*: implemented over accepted, where accepted counts "partially accepted" too; dropped
  actions and standing (recurring) actions are left out of both.
- *Responsible unit*: the owner's department, the person two steps below the top of the owner's supervisor
  chain (in the example plan the departments under the Executive Director); an owner within two steps of
  the top is their own unit.
- *Overdue*: accepted, open (not reported, done, dropped or on hold), not recurring, and its due date in force
  on the day (after the extensions granted by then) is before the day.

Read-only; datetimes aware UTC; dates plan-local.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlmodel import Session

from engine.read.extension_history import ExtensionHistory, extension_histories
from engine.store import tables
from engine.store.models import Plan
from engine.zones import zone

ACCEPTED = ("accepted", "partially_accepted")
ACCEPTANCE_WORDS = {
    "accepted": "accepted",
    "partially_accepted": "partially accepted",
    "not_accepted": "not accepted",
    "under_consideration": "under consideration",
}
BANDS = ("under 6 months", "6 to 12 months", "12 to 24 months", "over 24 months")
LONG_OVERDUE_MONTHS = 12
NO_CAUSE = "not given"
_FIELDS = ("status", "acceptance", "delay cause")
_STATUS_WORDS = {"done": "implemented", "reported": "reported", "dropped": "dropped", "on_hold": "on hold"}


@dataclass(frozen=True, slots=True)
class Row:
    """One action as it stood at the end of the report's day: the report's underlying table."""

    ref: str
    title: str
    part: str
    owner: str
    owner_id: str
    unit: str
    acceptance: str  # accepted, partially_accepted, not_accepted, under_consideration
    status: str  # implemented, reported, open, on hold, dropped
    recurring: bool
    due: date | None  # the plan's due date
    extended_to: date | None
    extensions: int
    days_added: int
    overdue_days: int  # 0 when not overdue
    delay_cause: str
    owner_rating: str
    verifier_rating: str
    verified_on: date | None
    reported_on: date | None

    @property
    def counted(self) -> bool:
        """Return True when the action counts in the rate: accepted (fully or partly), not dropped, not standing."""
        return self.acceptance in ACCEPTED and self.status != "dropped" and not self.recurring

    @property
    def implemented(self) -> bool:
        """Return True when the action is implemented (verified, or done where closure takes one step)."""
        return self.status == "implemented"

    @property
    def overdue(self) -> bool:
        """Return True when the action is overdue on the report's day."""
        return self.overdue_days > 0

    @property
    def band(self) -> str:
        """Return the overdue action's age band ("" when not overdue)."""
        return band_of(self.due_in_force, self.overdue_days) if self.overdue else ""

    @property
    def due_in_force(self) -> date | None:
        """Return the due date in force: the last extension's, else the plan's."""
        return self.extended_to or self.due


def band_of(due: date | None, overdue_days: int) -> str:
    """Return the age band of an action ``overdue_days`` past ``due``."""
    if due is None:
        return ""
    months = months_between(due, due + timedelta(days=overdue_days))
    return BANDS[0] if months < 6 else BANDS[1] if months < 12 else BANDS[2] if months < 24 else BANDS[3]


def months_between(start: date, end: date) -> int:
    """Return the whole months from ``start`` to ``end``."""
    gap = relativedelta(end, start)
    return gap.years * 12 + gap.months


@dataclass(frozen=True, slots=True)
class Tally:
    """The figures of one group (a Part, a unit, an owner, or the whole plan)."""

    label: str
    accepted: int = 0
    implemented: int = 0
    reported: int = 0
    overdue: int = 0

    @property
    def rate(self) -> float | None:
        """Return implemented over accepted (None when nothing is accepted)."""
        return self.implemented / self.accepted if self.accepted else None

    @property
    def percent(self) -> str:
        """Return the rate as a whole percentage ("-" when nothing is accepted)."""
        return "-" if self.rate is None else f"{round(self.rate * 100)}%"


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed between the earlier day and the report's day (refs, in plan order)."""

    since: date
    implemented: tuple[str, ...] = ()
    overdue: tuple[str, ...] = ()
    extended: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    earlier: Tally = field(default_factory=lambda: Tally("whole plan"))


@dataclass
class ImplementationReport:
    """The report's figures for a day, optionally compared with an earlier one."""

    plan: Plan
    as_of: date
    rows: list[Row]
    changes: Changes | None = None

    @property
    def symbol(self) -> str:
        """Return the report's own symbol: the plan's, with an addendum mark."""
        return f"{self.plan.symbol}(Add.1)" if self.plan.symbol else "Implementation report"

    @property
    def counted(self) -> list[Row]:
        """Return the rows that count in the rate."""
        return [r for r in self.rows if r.counted]

    def total(self) -> Tally:
        """Return the whole plan's figures."""
        return tally("whole plan", self.rows)

    def by(self, what: str) -> list[Tally]:
        """Return the figures per ``part``, ``unit`` or ``owner``, in the order they first appear."""
        groups: dict[str, list[Row]] = defaultdict(list)
        for row in self.rows:
            groups[getattr(row, what)].append(row)
        return [tally(label, rows) for label, rows in groups.items()]

    def acceptance(self) -> Counter[str]:
        """Return how many actions have each acceptance decision (every action, whatever its status)."""
        return Counter(r.acceptance for r in self.rows)

    def overdue(self) -> list[Row]:
        """Return the overdue rows, most overdue first."""
        return sorted((r for r in self.rows if r.overdue), key=lambda r: (-r.overdue_days, r.ref))

    def bands(self) -> dict[str, Counter[str]]:
        """Return, per age band, how many overdue actions have each cause of delay."""
        found: dict[str, Counter[str]] = {band: Counter() for band in BANDS}
        for row in self.overdue():
            found[row.band][row.delay_cause or NO_CAUSE] += 1
        return found

    def long_overdue(self) -> list[Row]:
        """Return the actions overdue for more than twelve months, most overdue first."""
        return [r for r in self.overdue() if r.band in BANDS[2:]]

    def ratings(self) -> Counter[tuple[str, str]]:
        """Return how many closures have each (owner's rating, verifier's rating) pair; "" when not yet verified."""
        return Counter((r.owner_rating, r.verifier_rating) for r in self.rows if r.owner_rating)

    def extensions(self) -> tuple[int, int, int]:
        """Return (actions extended, extensions granted, days added) up to the report's day."""
        extended = [r for r in self.rows if r.extensions]
        return len(extended), sum(r.extensions for r in extended), sum(r.days_added for r in extended)


def tally(label: str, rows: Iterable[Row]) -> Tally:
    """Return the figures of ``rows``: accepted, implemented and reported count only rows in the rate."""
    accepted = implemented = reported = overdue = 0
    for row in rows:
        overdue += row.overdue
        if row.counted:
            accepted += 1
            implemented += row.implemented
            reported += row.status == "reported"
    return Tally(label, accepted, implemented, reported, overdue)


def end_of(plan: Plan, day: date) -> datetime:
    """Return the instant the plan's ``day`` ends (aware UTC)."""
    return datetime.combine(day + timedelta(days=1), time(0), zone(plan.timezone)).astimezone(UTC)


def build_implementation(
    session: Session, plan_id: str, as_of: date, since: date | None = None, scope: frozenset[str] | None = None
) -> ImplementationReport:
    """Return the report of ``plan_id`` at the end of ``as_of``, compared with the end of ``since`` when given.

    ``scope`` keeps the actions of those owners only (a supervisor's view); None keeps all.
    """
    plan = session.get(Plan, plan_id)
    assert plan is not None
    history = _History.load(session, plan, scope)
    rows = history.rows(end_of(plan, as_of), as_of)
    changes = None
    if since is not None:
        earlier = history.rows(end_of(plan, since), since)
        changes = _changes(since, earlier, rows, history.returned(end_of(plan, since), end_of(plan, as_of)))
    return ImplementationReport(plan, as_of, rows, changes)


def _changes(since: date, earlier: list[Row], rows: list[Row], returned: set[str]) -> Changes:
    then = {r.ref: r for r in earlier}

    def newly(test: str) -> tuple[str, ...]:
        return tuple(r.ref for r in rows if getattr(r, test) and not getattr(then[r.ref], test))

    extended = tuple(r.ref for r in rows if r.extensions > then[r.ref].extensions)
    return Changes(
        since,
        implemented=newly("implemented"),
        overdue=newly("overdue"),
        extended=extended,
        returned=tuple(r.ref for r in rows if r.ref in returned),
        earlier=tally("whole plan", earlier),
    )


@dataclass(frozen=True, slots=True)
class _Facts:
    id: int
    ref: str
    title: str
    section_key: str
    owner_id: str | None
    kind: str
    due: date | None
    status: str
    acceptance: str
    delay_cause: str


@dataclass(frozen=True, slots=True)
class _Closure:
    reported_at: datetime
    owner_rating: str
    status: str
    decided_at: datetime | None
    verifier_rating: str


@dataclass
class _History:
    """What the report reads once, to compute the rows at any instant."""

    facts: list[_Facts]
    tz: ZoneInfo
    parts: dict[str, str]
    owners: dict[str, str]
    units: dict[str, str]
    changes: dict[int, list[tuple[datetime, str, str | None, str | None]]]  # (at, field, old, new)
    closures: dict[int, list[_Closure]]
    extensions: dict[int, ExtensionHistory]

    @classmethod
    def load(cls, session: Session, plan: Plan, scope: frozenset[str] | None) -> _History:
        facts = _facts(session, plan.id, scope)
        ids = {f.id for f in facts}
        owners, supervisors = _owners(session)
        return cls(
            facts=facts,
            tz=zone(plan.timezone),
            parts=_parts(session, plan.id),
            owners=owners,
            units={o: owners.get(unit_of(o, supervisors), o) for o in owners},
            changes=_changes_of(session, ids),
            closures=_closures(session, ids),
            extensions=extension_histories(session, None) if ids else {},
        )

    def rows(self, cutoff: datetime, day: date) -> list[Row]:
        return [self._row(f, cutoff, day) for f in self.facts]

    def returned(self, start: datetime, end: datetime) -> set[str]:
        refs = {f.id: f.ref for f in self.facts}
        return {
            refs[i]
            for i, closures in self.closures.items()
            if any(c.status == "returned" and c.decided_at and start <= c.decided_at < end for c in closures)
        }

    def _row(self, f: _Facts, cutoff: datetime, day: date) -> Row:
        changes = self.changes.get(f.id, [])
        status, done_at = self._status(f, changes, cutoff)
        acceptance = _value_at(changes, "acceptance", cutoff, f.acceptance) or "accepted"
        cause = _value_at(changes, "delay cause", cutoff, f.delay_cause) or ""
        closure = _last_closure(self.closures.get(f.id, []), cutoff)
        history = self.extensions.get(f.id)
        granted = [e for e in history.extensions if e.at < cutoff] if history else []
        extended_to = granted[-1].to if granted else None
        due = extended_to or f.due
        recurring = f.kind == "recurring"
        late = status == "open" and acceptance in ACCEPTED and not recurring and due is not None and due < day
        verified = closure.decided_at if closure and closure.status == "verified" and closure.decided_at else None
        return Row(
            ref=f.ref,
            title=f.title,
            part=self.parts.get(f.section_key, ""),
            owner=self.owners.get(f.owner_id or "", "(no owner)"),
            owner_id=f.owner_id or "",
            unit=self.units.get(f.owner_id or "", "(no owner)"),
            acceptance=acceptance,
            status=status,
            recurring=recurring,
            due=f.due,
            extended_to=extended_to,
            extensions=len(granted),
            days_added=sum(e.days for e in granted),
            overdue_days=(day - due).days if late and due is not None else 0,
            delay_cause=cause if late else "",
            owner_rating=closure.owner_rating if closure else "",
            verifier_rating=closure.verifier_rating if closure and verified else "",
            verified_on=_local_day(verified or (done_at if status == "implemented" else None), self.tz),
            reported_on=_local_day(closure.reported_at if closure else None, self.tz),
        )

    def _status(
        self, f: _Facts, changes: list[tuple[datetime, str, str | None, str | None]], cutoff: datetime
    ) -> tuple[str, datetime | None]:
        """Return the status at ``cutoff`` in the report's words, and when it became done (if it is)."""
        raw = _value_at(changes, "status", cutoff, f.status) or "open"
        done_at = None
        if raw == "done":
            done_at = max(
                (at for at, name, _, new in changes if name == "status" and new == "done" and at < cutoff), default=None
            )
        return _STATUS_WORDS.get(raw, "open"), done_at


def _value_at(
    changes: list[tuple[datetime, str, str | None, str | None]], name: str, cutoff: datetime, current: str
) -> str | None:
    """Return a field's value at ``cutoff``: the last change before it, else what the first change after it
    changed from, else (never changed) the current value."""
    before = after = None
    for at, field_name, old, new in changes:
        if field_name != name:
            continue
        if at < cutoff:
            before = (new,)
        elif after is None:
            after = (old,)
            break
    if before is not None:
        return before[0]
    if after is not None:
        return after[0]
    return current


def _last_closure(closures: list[_Closure], cutoff: datetime) -> _Closure | None:
    """Return the newest closure report made before ``cutoff``, as it stood then (undecided if decided later)."""
    made = [c for c in closures if c.reported_at < cutoff]
    if not made:
        return None
    last = made[-1]
    if last.decided_at is not None and last.decided_at >= cutoff:
        return _Closure(last.reported_at, last.owner_rating, "reported", None, "")
    return last


def _local_day(at: datetime | None, tz: ZoneInfo) -> date | None:
    return at.astimezone(tz).date() if at is not None else None


def unit_of(owner_id: str, supervisors: dict[str, str | None]) -> str:
    """Return the owner's responsible unit: the person two steps below the top of their chain (or themselves)."""
    chain = [owner_id]
    while (boss := supervisors.get(chain[-1])) and boss not in chain and len(chain) < 50:
        chain.append(boss)
    return chain[-3] if len(chain) > 3 else owner_id


def _facts(session: Session, plan_id: str, scope: frozenset[str] | None) -> list[_Facts]:
    A = tables.ACTION
    query = select(
        A.c.id,
        A.c.ref,
        A.c.title,
        A.c.section_key,
        A.c.owner_id,
        A.c.kind,
        A.c.due,
        A.c.status,
        A.c.acceptance,
        A.c.delay_cause,
    ).where(A.c.plan_id == plan_id, A.c.removed_at.is_(None))
    if scope is not None:
        query = query.where(A.c.owner_id.in_(sorted(scope)))
    return [_Facts(**row) for row in session.connection().execute(query.order_by(A.c.ordinal)).mappings()]


def _owners(session: Session) -> tuple[dict[str, str], dict[str, str | None]]:
    W = tables.OWNER
    rows = session.connection().execute(select(W.c.id, W.c.name, W.c.supervisor_id)).all()
    return {i: n for i, n, _ in rows}, {i: s for i, _, s in rows}


def _parts(session: Session, plan_id: str) -> dict[str, str]:
    """Return each section's Part as "Part N: title", by section key."""
    S = tables.SECTION
    rows = (
        session.connection()
        .execute(select(S.c.key, S.c.parent_key, S.c.number, S.c.title).where(S.c.plan_id == plan_id))
        .all()
    )
    parent = {key: up for key, up, _, _ in rows}
    label = {key: f"Part {number}: {title}" if number else title for key, _, number, title in rows}
    found: dict[str, str] = {}
    for key in parent:
        top, seen = key, set()
        while parent.get(top) is not None and top not in seen:
            seen.add(top)
            top = parent[top] or top
        found[key] = label.get(top, "")
    return found


def _changes_of(session: Session, ids: set[int]) -> dict[int, list[tuple[datetime, str, str | None, str | None]]]:
    C = tables.ACTION_CHANGE
    query = select(C.c.action_id, C.c.at, C.c.field, C.c.old, C.c.new).where(C.c.field.in_(_FIELDS))
    found: dict[int, list[tuple[datetime, str, str | None, str | None]]] = defaultdict(list)
    for action_id, at, name, old, new in session.connection().execute(query.order_by(C.c.at, C.c.id)):
        if action_id in ids:
            found[action_id].append((at, name, old, new))
    return found


def _closures(session: Session, ids: set[int]) -> dict[int, list[_Closure]]:
    R = tables.CLOSURE_REPORT
    query = select(
        R.c.action_id, R.c.reported_at, R.c.owner_rating, R.c.status, R.c.decided_at, R.c.verifier_rating
    ).where(R.c.occurrence == "")
    found: dict[int, list[_Closure]] = defaultdict(list)
    for action_id, *rest in session.connection().execute(query.order_by(R.c.reported_at, R.c.id)):
        if action_id in ids:
            found[action_id].append(_Closure(*rest))
    return found
