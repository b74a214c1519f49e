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
- *Responsible unit*: the owner's department: the top-most supervisor in the owner's chain below the
  organisation's head (the person with no supervisor), so that a head of department's unit holds the actions of
  all their people; an owner directly below the head, or with no supervisor, is their own unit. When that puts
  every action of the report in one unit (a single person below the head, as the Executive Director under the
  Director-General's office in the example plan), the units are taken one step further down, and so on, unless
  the owners file names that one unit (``unit:``). An owner is counted under the nearest ``unit:`` the owners
  file gives, from their own entry up their chain to the owner heading their unit; with none, the unit is shown
  by that owner's name.
- *Overdue*: accepted, open (not reported, done, dropped or on hold), not recurring, and its due date in force
  on the day (after the extensions granted by then) is before the day.

Read-only; datetimes aware UTC; dates plan-local.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, select, type_coerce
from sqlmodel import Session

from engine.importers.owners import supervisor_chain
from engine.read.extension_history import EXTENDED, Change, Extension, extensions_of, granted_requests
from engine.store import tables
from engine.store.models import Plan
from engine.store.types import UTCDateTime
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
_FIELDS = ("status", "acceptance", "delay cause", "extended")
_OPEN = frozenset({"open", "in_progress"})
_STATUS_WORDS = {"done": "implemented", "reported": "reported", "dropped": "dropped", "on_hold": "on hold"}


class Update(NamedTuple):
    """An action's latest dated update as of the report's day: its day (plan-local), percent, text and who."""

    day: date
    percent: int | None
    text: str
    who: str  # the person's name


class Row(NamedTuple):
    """One action as it stood at the end of the report's day: the report's underlying table (a named tuple:
    100,000 of them are made at once)."""

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
    band: str  # the overdue action's age band ("" when not overdue)
    delay_cause: str
    owner_rating: str
    verifier_rating: str
    verified_on: date | None
    update: Update | None = None  # the latest dated update as of the day

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
    """Return the whole months from ``start`` to ``end`` (``end`` after ``start``), as ``dateutil.relativedelta``
    counts them: a month from 31 January is 29 February, or 28 February in a year without a 29th."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and (end + timedelta(days=1)).month == end.month:
        months -= 1  # the day of the month is not reached yet (the last day of a month always is)
    return months


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
    asked: date | None = None  # the day asked for, when planwatch has no record of the plan that early


@dataclass
class ImplementationReport:
    """The report's figures for a day, optionally compared with an earlier one."""

    plan: Plan
    as_of: date
    rows: list[Row]
    changes: Changes | None = None
    granted: list[tuple[str, Extension]] = field(default_factory=list)  # (ref, extension), oldest first
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # figures asked for again

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
        if "total" not in self._memo:
            self._memo["total"] = tally("whole plan", self.rows)
        return self._memo["total"]  # type: ignore[no-any-return]

    def by(self, what: str) -> list[Tally]:
        """Return the figures per ``part``, ``unit`` or ``owner``, in the order they first appear."""
        if what not in self._memo:
            groups: dict[str, list[Row]] = defaultdict(list)
            for row in self.rows:
                groups[getattr(row, what)].append(row)
            self._memo[what] = [tally(label, rows) for label, rows in groups.items()]
        return list(self._memo[what])

    def acceptance(self) -> Counter[str]:
        """Return how many actions have each acceptance decision (every action, whatever its status)."""
        return Counter(r.acceptance for r in self.rows)

    def overdue(self) -> list[Row]:
        """Return the overdue rows, most overdue first."""
        if "overdue" not in self._memo:
            self._memo["overdue"] = sorted(
                (r for r in self.rows if r.overdue_days), key=lambda r: (-r.overdue_days, r.ref)
            )
        return list(self._memo["overdue"])

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


def tally(label: str, rows: Iterable[Row | _State]) -> Tally:
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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while hundreds of thousands of small objects, none of them cyclic, are
    made: it would scan them all again and again (a third of the report's time)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What was made meanwhile goes straight to the oldest generation (freeze, then unfreeze: two list
        # moves): otherwise the first collection after this scans all of it as the youngest generation.
        gc.freeze()
        gc.unfreeze()
        if collecting:
            gc.enable()


def build_implementation(
    session: Session, plan_id: str, as_of: date, since: date | None = None, scope: frozenset[str] | None = None
) -> ImplementationReport:
    """Return the report of ``plan_id`` at the end of ``as_of``, compared with the end of ``since`` when given.

    ``scope`` keeps the actions of those owners only (a supervisor's view); None keeps all.
    """
    plan = session.get(Plan, plan_id)
    assert plan is not None
    asked = None
    if since is not None and since < (first := first_day(session, plan)):
        asked, since = since, min(first, as_of)  # nothing is invented for the days before the record
    days = [as_of] if since is None else [since, as_of]
    with collector_paused():
        history = _History.load(session, plan, scope, [end_of(plan, d) for d in days])
        last = len(days) - 1
        rows = [history.row(f, last, as_of) for f in history.facts]
        changes = None
        if since is not None:
            moved = history.moved
            earlier = [
                history.state(f, 0, since) if f.id in moved else _state_of(row, since)
                for f, row in zip(history.facts, rows, strict=True)
            ]
            changes = replace(_changes(since, earlier, rows, history.returned), asked=asked)
        granted = _granted(session, history, last, end_of(plan, as_of))
    return ImplementationReport(plan, as_of, rows, changes, granted)


def first_day(session: Session, plan: Plan) -> date:
    """Return the first day (plan-local) planwatch has a record of the plan: its import, its actions' creation,
    their first recorded change or its first message (a replayed history begins before the import), whichever
    is earliest."""
    A, C, M = tables.ACTION, tables.ACTION_CHANGE, tables.OUTBOX
    ids = select(A.c.id).where(A.c.plan_id == plan.id)
    found = [plan.imported_at]
    for query in (
        select(A.c.created_at).where(A.c.plan_id == plan.id).order_by(A.c.created_at).limit(1),
        select(type_coerce(C.c.at, UTCDateTime())).where(C.c.action_id.in_(ids)).order_by(C.c.at).limit(1),
        select(M.c.created_at).where(M.c.plan_id == plan.id).order_by(M.c.created_at).limit(1),
    ):
        found += [at for at in session.connection().execute(query).scalars() if at is not None]
    return min(found).astimezone(zone(plan.timezone)).date()


def _name(names: dict[str, str], who: str) -> str:
    return names.get(who, who) if who else ""


def _granted(session: Session, history: _History, k: int, cut: datetime) -> list[tuple[str, Extension]]:
    """Return every extension granted before instant ``k`` (``cut``) to the report's actions, oldest first, with
    its ref; who asked and who granted are named."""
    refs, names = {f.id: f.ref for f in history.facts}, history.owners
    changes = {a: [c for bucket, c in found if bucket <= k] for a, found in history.extended.items()}
    steps = extensions_of(changes, granted_requests(session, cut))
    found = [
        (refs[action_id], replace(e, granted_by=_name(names, e.granted_by), requested_by=_name(names, e.requested_by)))
        for action_id, extensions in steps.items()
        for e in extensions
    ]
    return sorted(found, key=lambda pair: pair[1].at)


class _State(NamedTuple):
    """An action on the earlier day: what the comparison needs."""

    ref: str
    counted: bool
    implemented: bool
    status: str
    overdue: bool
    extensions: int


def _state_of(row: Row, day: date) -> _State:
    """Return the earlier state of an action nothing happened to since: as in ``row``, overdue as of ``day``."""
    due, status, accepted = row.extended_to or row.due, row.status, row.acceptance in ACCEPTED
    late = status == "open" and accepted and not row.recurring and due is not None and due < day
    # ``Row.counted`` and ``Row.implemented`` spelt out: 100,000 property calls cost a tenth of a second
    counted = accepted and status != "dropped" and not row.recurring
    return _State(row.ref, counted, status == "implemented", status, late, row.extensions)


def _changes(since: date, earlier: list[_State], rows: list[Row], returned: set[int]) -> Changes:
    pairs = list(zip(rows, earlier, strict=True))
    return Changes(
        since,
        implemented=tuple(r.ref for r, e in pairs if r.implemented and not e.implemented),
        overdue=tuple(r.ref for r, e in pairs if r.overdue and not e.overdue),
        extended=tuple(r.ref for r, e in pairs if r.extensions > e.extensions),
        returned=tuple(r.ref for i, r in enumerate(rows) if i in returned),
        earlier=tally("whole plan", earlier),
    )


class _Facts(NamedTuple):
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


class _Closure(NamedTuple):
    owner_rating: str
    status: str
    verifier_rating: str
    reported: int  # the bucket of reported_at: how many of the report's instants it is at or after
    decided: int  # the bucket of decided_at (a bucket past the last when undecided)


Event = tuple[int, str | None, str | None]  # (bucket, old, new)
DoneAt = dict[int, list[tuple[int, datetime]]]  # action id -> (bucket, when) each time the action became done
_UNSET: Any = object()
_HOUR = timedelta(hours=1, microseconds=-1)  # the last instant of an hour, from its start


@dataclass
class _History:
    """What the report reads once, to compute the rows at the report's instants (``buckets``: an event's bucket
    is how many of those instants it is at or after, so it happened before instant ``k`` when bucket <= k)."""

    facts: list[_Facts]
    tz: ZoneInfo
    parts: dict[str, str]
    owners: dict[str, str]
    units: dict[str, str]
    events: dict[int, dict[str, list[Event]]]  # action id -> field -> its changes in order
    extended: dict[int, list[tuple[int, Change]]]  # action id -> (bucket, extension granted) in order
    moved: set[int]  # the actions with a change after the first instant: their earlier state is their own
    done_at: DoneAt
    closures: dict[int, list[_Closure]]
    updates: dict[int, Update]  # action id -> its latest dated update before the last instant
    returned: set[int]  # positions in ``facts`` of the actions whose report was returned between the two days

    @classmethod
    def load(cls, session: Session, plan: Plan, scope: frozenset[str] | None, cuts: list[datetime]) -> _History:
        facts = _facts(session, plan.id, scope)
        position = {f.id: i for i, f in enumerate(facts)}
        owners, supervisors, named = _owners(session)
        closures = _closures(session, position, cuts)
        events, extended, done_at = _events(session, position, cuts)
        updates = _updates(session, plan.id, position, cuts[-1], owners, zone(plan.timezone))
        moved = {a for a, fields in events.items() if any(e[0] > 0 for found in fields.values() for e in found)}
        returned = {
            position[i]
            for i, found in closures.items()
            if any(c.status == "returned" and c.decided == 1 for c in found)
        }
        return cls(
            facts=facts,
            tz=zone(plan.timezone),
            parts=_parts(session, plan.id),
            owners=owners,
            units=unit_names(
                units_of({f.owner_id for f in facts if f.owner_id}, supervisors, frozenset(named)),
                owners,
                named,
                supervisors,
            ),
            events=events,
            extended=extended,
            moved=moved,
            done_at=done_at,
            closures=closures,
            updates=updates,
            returned=returned if len(cuts) > 1 else set(),
        )

    def _core(self, f: _Facts, k: int, day: date) -> tuple[str, str, str, list[Event], date | None, int]:
        """Return (status, acceptance, cause, extensions, due in force, days overdue) before instant ``k``."""
        events = self.events.get(f.id)
        if events is None:  # never changed: as it is now
            late = f.status in _OPEN and f.acceptance in ACCEPTED and f.kind != "recurring"
            overdue = (day - f.due).days if late and f.due is not None and f.due < day else 0
            return _STATUS_WORDS.get(f.status, "open"), f.acceptance, f.delay_cause, [], f.due, overdue
        get = events.get
        status = _STATUS_WORDS.get(_value_at(get("status"), k, f.status) or "open", "open")
        acceptance = _value_at(get("acceptance"), k, f.acceptance) or "accepted"
        cause = _value_at(get("delay cause"), k, f.delay_cause) or "" if status == "open" else ""
        extended = [e for e in get("extended", ()) if e[0] <= k and e[2]]
        due = date.fromisoformat(str(extended[-1][2])) if extended else f.due
        late = status == "open" and acceptance in ACCEPTED and f.kind != "recurring" and due is not None and due < day
        return status, acceptance, cause, extended, due, (day - due).days if late and due is not None else 0

    def state(self, f: _Facts, k: int, day: date) -> _State:
        if f.id not in self.events and not self.closures.get(f.id):  # as it is now, only the day differs
            late = f.status in _OPEN and f.acceptance in ACCEPTED and f.kind != "recurring"
            overdue = late and f.due is not None and f.due < day
            counted = f.acceptance in ACCEPTED and f.status != "dropped" and f.kind != "recurring"
            return _State(f.ref, counted, f.status == "done", _STATUS_WORDS.get(f.status, "open"), overdue, 0)
        status, acceptance, _, extended, _, days = self._core(f, k, day)
        counted = acceptance in ACCEPTED and status != "dropped" and f.kind != "recurring"
        return _State(f.ref, counted, status == "implemented", status, days > 0, len(extended))

    def row(self, f: _Facts, k: int, day: date) -> Row:
        status, acceptance, cause, extended, due, overdue = self._core(f, k, day)
        closures = self.closures.get(f.id)
        closure = _last_closure(closures, k) if closures else None
        done = [at for bucket, at in self.done_at.get(f.id, ()) if bucket <= k] if status == "implemented" else None
        owner = f.owner_id or ""
        return Row(  # positional, in the fields' order: 100,000 rows are made at once
            f.ref,
            f.title,
            self.parts.get(f.section_key, ""),
            self.owners.get(owner, "(no owner)"),
            owner,
            self.units.get(owner, "(no owner)"),
            acceptance,
            status,
            f.kind == "recurring",
            f.due,
            date.fromisoformat(str(extended[-1][2])) if extended else None,
            len(extended),
            sum(_days(old, new) for _, old, new in extended) if extended else 0,
            overdue,
            band_of(due, overdue) if overdue else "",
            cause if overdue else "",
            closure.owner_rating if closure else "",
            closure.verifier_rating if closure and closure.decided <= k else "",
            done[-1].astimezone(self.tz).date() if done else None,
            self.updates.get(f.id),  # rows are made for the last instant only
        )


def _days(old: str | None, new: str | None) -> int:
    return (date.fromisoformat(new) - date.fromisoformat(old)).days if old and new else 0


def _value_at(events: list[Event] | None, k: int, current: str) -> str | None:
    """Return a field's value before instant ``k``: the last change before it, else what the first change after
    it changed from, else (never changed) the current value."""
    if not events:
        return current
    before: Any = _UNSET
    for bucket, old, new in events:
        if bucket > k:
            return old if before is _UNSET else before
        before = new
    return before  # type: ignore[no-any-return]


def _last_closure(closures: list[_Closure] | None, k: int) -> _Closure | None:
    """Return the newest closure report made before instant ``k`` (its verdict counts only if given by then)."""
    last = None
    for c in closures or ():
        if c.reported > k:
            break
        last = c
    if last is None or last.decided <= k:
        return last if last is None or last.status != "returned" else last._replace(verifier_rating="")
    return last._replace(status="reported", verifier_rating="")


def units_of(
    owner_ids: Iterable[str], supervisors: dict[str, str | None], named: frozenset[str] = frozenset()
) -> dict[str, str]:
    """Return each owner's responsible unit (an owner id): their top-most supervisor below the head of their chain,
    or one step further down while that would leave a single unit for all the owners under that head, unless the
    owners file names that unit (``named``: the ids whose entry gives a ``unit``; see the module's definition)."""
    by_head: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for o in owner_ids:
        chain = _top_down(o, supervisors)
        by_head[chain[0]][o] = chain
    found: dict[str, str] = {}
    for chains in by_head.values():
        found |= _units_under_one_head(chains, named)
    return found


def unit_names(
    units: dict[str, str], names: dict[str, str], named: dict[str, str], supervisors: dict[str, str | None]
) -> dict[str, str]:
    """Return each owner's unit as the report shows it: the nearest ``unit`` the owners file gives, from the owner
    up their chain to the owner heading their unit (``units``: owner id to unit owner id), else that owner's name."""
    shown = {}
    for o, u in units.items():
        label = None
        for person in (o, *supervisor_chain(o, supervisors)):  # nearest first
            label = named.get(person)
            if label or person == u:
                break
        shown[o] = label or names.get(u, u)
    return shown


def _units_under_one_head(chains: dict[str, list[str]], named: frozenset[str] = frozenset()) -> dict[str, str]:
    def at(depth: int) -> dict[str, str]:
        return {o: chain[depth] if len(chain) > depth else o for o, chain in chains.items()}

    for depth in range(1, max(len(chain) for chain in chains.values())):
        found = at(depth)
        if len(set(found.values())) > 1 or set(found.values()) & named:  # several units, or one the file names
            return found
    return at(1)


def _top_down(owner_id: str, supervisors: dict[str, str | None]) -> list[str]:
    """Return the owner's supervisor chain from its head down to the owner (a loop is cut where it closes)."""
    chain = [owner_id]
    while (boss := supervisors.get(chain[-1])) and boss not in chain and len(chain) < 50:
        chain.append(boss)
    return chain[::-1]


def _facts(session: Session, plan_id: str, scope: frozenset[str] | None) -> list[_Facts]:
    A = tables.ACTION
    query = select(*(A.c[name] for name in _Facts._fields)).where(A.c.plan_id == plan_id, A.c.removed_at.is_(None))
    if scope is not None:
        query = query.where(A.c.owner_id.in_(sorted(scope)))
    return [_Facts(*row) for row in session.connection().execute(query.order_by(A.c.ordinal)).all()]


def _owners(session: Session) -> tuple[dict[str, str], dict[str, str | None], dict[str, str]]:
    """Return the owners' names, supervisors and the units the owners file names, by owner id."""
    W = tables.OWNER
    rows = session.connection().execute(select(W.c.id, W.c.name, W.c.supervisor_id, W.c.unit)).all()
    return {i: n for i, n, _, _ in rows}, {i: s for i, _, s, _ in rows}, {i: u for i, _, _, u in rows if u}


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


def _bucket(column: Any, cuts: list[datetime]) -> Any:
    """Return SQL giving how many of ``cuts`` the instant in ``column`` is at or after (NULL: past them all)."""
    return case(*((column < cut, k) for k, cut in enumerate(cuts)), else_=len(cuts))


def _events(
    session: Session, position: dict[int, int], cuts: list[datetime]
) -> tuple[
    dict[int, dict[str, list[Event]]], dict[int, list[tuple[int, Change]]], dict[int, list[tuple[int, datetime]]]
]:
    """Read the change log once, in order: return the changes of the fields the report reads, by action and field;
    the extensions granted, by action, as ``extension_history`` reads them (when, who, from, to, note); and when
    each action became done. Each comes with its bucket."""
    C = tables.ACTION_CHANGE
    became_done = and_(C.c.field == "status", C.c.new == "done")
    # the instant itself is converted only where it is used: extensions and closures
    when = type_coerce(case((C.c.field == EXTENDED, C.c.at), (became_done, C.c.at)), UTCDateTime())
    query = select(C.c.action_id, C.c.field, _bucket(C.c.at, cuts), C.c.old, C.c.new, when, C.c.who, C.c.note).where(
        C.c.field.in_(_FIELDS)
    )
    found: dict[int, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    extended: dict[int, list[tuple[int, Change]]] = defaultdict(list)
    done_at: DoneAt = defaultdict(list)
    rows = session.connection().execute(query.order_by(C.c.at, C.c.id)).all()
    for action_id, name, bucket, old, new, at, who, note in rows:
        if action_id in position:
            found[action_id][name].append((bucket, old, new))
            if at is not None and new:
                if name == EXTENDED:
                    extended[action_id].append((bucket, (at, who, old, new, note or "")))
                else:
                    done_at[action_id].append((bucket, at))
    return found, extended, done_at


def _closures(session: Session, position: dict[int, int], cuts: list[datetime]) -> dict[int, list[_Closure]]:
    R = tables.CLOSURE_REPORT
    query = select(
        R.c.action_id,
        R.c.owner_rating,
        R.c.status,
        R.c.verifier_rating,
        _bucket(R.c.reported_at, cuts),
        _bucket(R.c.decided_at, cuts),
    ).where(R.c.occurrence == "")
    found: dict[int, list[_Closure]] = defaultdict(list)
    for action_id, *rest in session.connection().execute(query.order_by(R.c.reported_at, R.c.id)).all():
        if action_id in position:
            found[action_id].append(_Closure(*rest))
    return found


def _updates(
    session: Session, plan_id: str, position: dict[int, int], cut: datetime, names: dict[str, str], tz: ZoneInfo
) -> dict[int, Update]:
    """Return each action's latest dated update made before ``cut``, in one query: per action of the plan, the
    newest ``progress_update`` row before the instant (found through the index on action and time)."""
    P, A = tables.PROGRESS_UPDATE, tables.ACTION
    Q = P.alias("newest")
    newest = (
        select(Q.c.id)
        .where(Q.c.action_id == A.c.id, Q.c.at < cut)
        .order_by(Q.c.at.desc(), Q.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    ids = select(newest).where(A.c.plan_id == plan_id, A.c.removed_at.is_(None))
    # the instant as the driver gives it (SQLite: text, PostgreSQL: an aware datetime), turned into the plan's day
    # once per hour where it can be: 100,000 parsed datetimes cost a fifth of a second
    query = select(P.c.action_id, type_coerce(P.c.at, String()), P.c.percent, P.c.text, P.c.who)
    found: dict[int, Update] = {}
    days: dict[str, date] = {}
    for action_id, when, percent, text, who in session.connection().execute(query.where(P.c.id.in_(ids))).all():
        if action_id in position:
            found[action_id] = Update(_local_day(when, tz, days), percent, text or "", _name(names, who))
    return found


def _local_day(when: str | datetime, tz: ZoneInfo, days: dict[str, date]) -> date:
    """Return the day in ``tz`` of an instant read as the driver gives it (UTC text without a zone, or aware).

    The text's day is worked out once per UTC hour when the whole hour falls on one day in ``tz`` (the usual case),
    else for the instant itself (zones whose offset is not whole hours).
    """
    if isinstance(when, datetime):
        return when.astimezone(tz).date()
    hour = when[:13]
    found = days.get(hour)
    if found is None:
        start = datetime.fromisoformat(hour + ":00").replace(tzinfo=UTC)
        first, last = start.astimezone(tz).date(), (start + _HOUR).astimezone(tz).date()
        found = days[hour] = first if first == last else date.min
    if found == date.min:
        return datetime.fromisoformat(when).replace(tzinfo=UTC).astimezone(tz).date()
    return found
