"""Planning: the actions whose ``next_fire_at`` has come -> planner -> the outbox's enqueue, in one transaction.

The hot path is SQLAlchemy Core over an index on ``next_fire_at``: an idle tick is one index
lookup, and a busy one costs in proportion to what is due, not to the size of the plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ARRAY, Connection, Engine, Integer, Select, any_, bindparam, case, func, select

from engine.drive.people import Directory, load_directory
from engine.outbox import enqueue, outbox_row
from engine.plandoc import effective_due
from engine.planner import ActionView, History, Notice, PendingReport, PlanResult, plan_action
from engine.rules.durations import BusinessCalendar
from engine.rules.loader import RuleSet, calendar_for
from engine.rules.owners import section_chain
from engine.rules.policy import ActionFacts, Policy, matching_kind
from engine.store import tables
from engine.store.bulk import insert_ignoring_duplicates, update_by_id

A = tables.ACTION
OUT = tables.OUTBOX
E = tables.ESCALATION
C = tables.COMPLETION
P = tables.PLAN
CH = tables.ACTION_CHANGE
S = tables.SECTION
CR = tables.CLOSURE_REPORT

VIEW_COLUMNS = (
    A.c.id,
    A.c.plan_id,
    A.c.ref,
    A.c.section_key,
    A.c.kind,
    A.c.status,
    A.c.start,
    A.c.due,
    A.c.extended_to,
    A.c.rrule,
    A.c.title,
    A.c.owner_id,
    A.c.tags,
    A.c.last_completed,
    A.c.last_progress_at,
    A.c.planned_through,
    A.c.acceptance,
    A.c.created_at,
)


@dataclass
class TickStats:
    """What one tick planned."""

    actions: int = 0
    pending: int = 0
    suppressed: int = 0
    held: int = 0
    escalations: int = 0

    def add(self, other: TickStats) -> None:
        """Add ``other``'s counts to these."""
        for name in ("actions", "pending", "suppressed", "held", "escalations"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def due_actions(conn: Connection, now: datetime, limit: int) -> list[Any]:
    """Return the planner's columns of the actions whose next_fire_at has come, in id order (the index finds them).

    On PostgreSQL the rows are claimed (FOR UPDATE SKIP LOCKED) until the batch commits, so
    several nodes plan disjoint batches; SQLite has one writer anyway.
    """
    query = _due_query(conn.dialect.name, limit)
    return sorted(conn.execute(query, {"until": now}).mappings().all(), key=lambda row: row["id"])


@lru_cache(maxsize=8)
def _due_query(dialect: str, limit: int) -> Select[Any]:
    query = select(*VIEW_COLUMNS).where(A.c.next_fire_at <= bindparam("until")).order_by(A.c.next_fire_at).limit(limit)
    return query.with_for_update(skip_locked=True) if dialect == "postgresql" else query


def plan_due(
    engine: Engine, rules: RuleSet, now: datetime, *, batch: int = 1000, ahead: timedelta = timedelta(0)
) -> TickStats:
    """Plan every action that has come due by ``now + ahead`` (UTC), batch by batch; return the counts.

    ``ahead`` plans ahead (the service uses two tick intervals): notices falling due before
    ``now + ahead`` are queued now with their own instants, so when they come the tick only sends.
    """
    until = now + ahead
    if engine.dialect.name == "postgresql":
        return _plan_overlapped(engine, rules, now, until, batch)
    total = TickStats()
    directory: Directory | None = None
    while True:
        with engine.begin() as conn:
            rows = due_actions(conn, until, batch)
            if not rows:
                return total
            directory = directory or load_directory(conn)
            stats, writes = _plan_batch(conn, rows, rules, directory, now, until)
            writes.apply(conn)
            total.add(stats)
        if len(rows) < batch and not writes.due_again(until):
            return total  # every due action was in this batch, and none of them is due again: no query to ask


def _plan_overlapped(engine: Engine, rules: RuleSet, now: datetime, until: datetime, batch: int) -> TickStats:
    """PostgreSQL: while one batch's writes run and commit on a thread (in the batch's own
    transaction, which holds its actions' row locks), the next batch is read and planned on another
    connection; SKIP LOCKED keeps the batches disjoint. Ends when nothing is due and nothing in flight."""
    total = TickStats()
    directory: Directory | None = None
    in_flight: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="planwatch-plan-writes") as writer:
        try:
            while True:
                conn = engine.connect()
                try:
                    conn.begin()
                    rows = due_actions(conn, until, batch)
                    if rows:
                        directory = directory if directory is not None else load_directory(conn)
                        stats, writes = _plan_batch(conn, rows, rules, directory, now, until)
                    done, in_flight = in_flight, None
                    if done is not None:
                        done.result()
                except BaseException:
                    conn.close()
                    raise
                if not rows:
                    conn.close()
                    if done is None:
                        return total
                    continue  # the batch that was in flight has committed: its actions may be due again
                in_flight = writer.submit(_apply_and_commit, conn, writes)
                total.add(stats)
        finally:
            if in_flight is not None:
                in_flight.result()


def _apply_and_commit(conn: Connection, writes: _Writes) -> None:
    with conn:
        writes.apply(conn)
        conn.commit()


@dataclass
class _Writes:
    """What planning one batch writes: outbox rows, escalation log rows, the actions' new cursors."""

    outbox: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, conn: Connection) -> None:
        """Enqueue the notices and insert the log rows (known keys skipped), and move the actions' cursors."""
        enqueue(conn, self.outbox)
        insert_ignoring_duplicates(conn, E, self.log)
        update_by_id(conn, A, self.actions)

    def due_again(self, until: datetime) -> bool:
        """Return whether an action of the batch has its next planning at or before ``until`` (planned again now)."""
        return any(a["next_fire_at"] is not None and a["next_fire_at"] <= until for a in self.actions)


def _plan_batch(
    conn: Connection, rows: Sequence[Any], rules: RuleSet, directory: Directory, now: datetime, until: datetime
) -> tuple[TickStats, _Writes]:
    ids = {"ids": [r["id"] for r in rows]}
    queries = _queries(conn.dialect.name)
    in_plans = {"plans": sorted({r["plan_id"] for r in rows})}
    plans = {r["id"]: r for r in conn.execute(queries.plans, in_plans).mappings()}
    parents = _parents(conn, queries, in_plans)
    history = _history(conn, queries, ids)
    completed = _completions(conn, queries, ids)
    reopened, returned = _reopenings(conn, queries, ids)
    reports = _pending_reports(conn, queries, ids, directory)
    stats = TickStats(actions=len(rows))
    writes = _Writes()
    memo = _Memo()
    for row in rows:
        result, policy = _plan_one(
            row,
            plans[row["plan_id"]],
            parents[row["plan_id"]],
            rules,
            directory,
            history.get(row["id"], History()),
            completed.get(row["id"], frozenset()),
            now,
            until,
            memo,
            reopened.get(row["id"]),
            reports.get(row["id"], ()),
            returned=row["id"] in returned and returned[row["id"]] == reopened.get(row["id"]),
        )
        policy_name = policy.name if policy else ""
        cap = policy.limits.max_per_day if policy else None
        writes.outbox.extend(notice_row(n, policy_name, now, cap) for n in result.notices)
        writes.log.extend(_log_row(e) for e in result.escalations)
        writes.actions.append(
            {"id": row["id"], "next_fire_at": result.next_fire_at, "planned_through": until, "policy": policy_name}
        )
        _count(stats, result)
    return stats, writes


def _count(stats: TickStats, result: PlanResult) -> None:
    for notice in result.notices:
        setattr(stats, notice.status, getattr(stats, notice.status) + 1)
    stats.escalations += len(result.escalations)


def _plan_one(
    row: Any,
    plan: Any,
    parents: dict[str, str | None],
    rules: RuleSet,
    directory: Directory,
    history: History,
    completed: frozenset[str],
    now: datetime,
    until: datetime,
    memo: _Memo,
    reopened_at: datetime | None = None,
    reports: tuple[PendingReport, ...] = (),
    *,
    returned: bool = False,
) -> tuple[PlanResult, Policy | None]:
    chain = memo.chain(row["plan_id"], row["section_key"], parents)
    kind = matching_kind(row["kind"], row["due"])
    facts = ActionFacts(row["ref"], chain, kind, row["owner_id"], tuple(row["tags"] or ()))
    policy = rules.policy_of(facts)
    view = ActionView(
        action_id=row["id"],
        plan_id=row["plan_id"],
        ref=row["ref"],
        kind=row["kind"],
        status=row["status"],
        plan_tz=plan["timezone"],
        plan_date=plan["ref_date"],
        start=row["start"],
        due=effective_due(row["due"], row["extended_to"]),
        rrule=row["rrule"],
        title=row["title"],
        last_completed=row["last_completed"],
        last_progress_at=row["last_progress_at"],
        # an occurrence reported implemented is the verifier's now: its owner hears no more of it
        completed=completed | {r.occurrence for r in reports if r.occurrence},
        people=directory.roles(row["owner_id"]),
        away=directory.away_of(row["owner_id"]),
        addresses=directory.addresses,
        reopened_at=reopened_at,
        returned=returned,
        acceptance=row["acceptance"] or "accepted",
        last_update_at=max(t for t in (row["last_progress_at"], row["created_at"], reopened_at) if t is not None),
        reports=reports,
    )
    if policy is None:
        return PlanResult((), (), None), None
    since = row["planned_through"] or now - policy.limits.catch_up.delta()
    return plan_action(view, policy, memo.calendar(policy), history, since, now, until), policy


@dataclass
class _Memo:
    """What the actions of one batch share: section chains and business-day calendars."""

    chains: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    calendars: dict[int, BusinessCalendar] = field(default_factory=dict)

    def chain(self, plan_id: str, section_key: str, parents: dict[str, str | None]) -> tuple[str, ...]:
        """Return the section and its ancestors."""
        found = self.chains.get((plan_id, section_key))
        if found is None:
            found = self.chains[(plan_id, section_key)] = tuple(section_chain(section_key, parents))
        return found

    def calendar(self, policy: Policy) -> BusinessCalendar:
        """Return the policy's business-day calendar (the batch holds the rules, so ids are stable)."""
        found = self.calendars.get(id(policy))
        if found is None:
            found = self.calendars[id(policy)] = calendar_for(policy.delivery)
        return found


def notice_row(n: Notice, policy: str, now: datetime, cap: int | None = None) -> dict[str, Any]:
    """Return the outbox row of a notice; ``cap`` is the policy's messages-per-day limit for dispatch."""
    payload = dict(n.payload) | {"policy": policy, "role_tz": n.recipient.tz}
    if cap is not None:
        payload["cap"] = cap
    return outbox_row(
        n.key,
        plan_id=n.plan_id,
        action_id=n.action_id,
        occurrence=n.occurrence,
        step=n.step,
        type=n.type,
        level=n.level,
        recipient=n.recipient.email,
        recipient_id=n.recipient.id,
        template=n.template,
        due_at=n.at,
        now=now,
        payload=payload,
        status=n.status,
        reason=n.reason,
    )


def _log_row(e: Any) -> dict[str, Any]:
    return {
        "key": e.key,
        "at": e.at,
        "action_id": e.action_id,
        "occurrence": e.occurrence,
        "level": e.level,
        "step": e.step,
        "policy": e.policy,
        "recipients": list(e.recipients),
        "days_overdue": e.days_overdue,
        "acknowledged_by": None,
        "acknowledged_at": None,
        "ack_note": "",
        "resolved_at": None,
        "resolution": "",
    }


@dataclass(frozen=True)
class _Queries:
    """The statements planning a batch runs, built once per dialect (building one costs more than running it);
    ``ids`` (the batch's action ids) and ``plans`` (their plans' ids) are given when each runs."""

    plans: Select[Any]
    parents: Select[Any]
    sent: Select[Any]
    acked: Select[Any]
    reopened: Select[Any]
    completions: Select[Any]
    reports: Select[Any]


@lru_cache(maxsize=4)
def _queries(dialect: str) -> _Queries:
    def among_ids(column: Any) -> Any:  # PostgreSQL: one array parameter, not one per id
        if dialect == "postgresql":
            return column == any_(bindparam("ids", type_=ARRAY(Integer)))
        return column.in_(bindparam("ids", expanding=True))

    returned_at = func.max(case((CH.c.old == "reported", CH.c.at)), type_=CH.c.at.type)
    return _Queries(
        plans=select(P.c.id, P.c.timezone, P.c.ref_date).where(P.c.id.in_(bindparam("plans", expanding=True))),
        parents=select(S.c.plan_id, S.c.key, S.c.parent_key).where(S.c.plan_id.in_(bindparam("plans", expanding=True))),
        sent=select(
            OUT.c.action_id, OUT.c.key, OUT.c.status, OUT.c.due_at, OUT.c.created_at, OUT.c.occurrence, OUT.c.payload
        ).where(among_ids(OUT.c.action_id)),
        acked=select(E.c.action_id, E.c.occurrence, E.c.step).where(
            among_ids(E.c.action_id), E.c.acknowledged_at.is_not(None)
        ),
        reopened=select(CH.c.action_id, func.max(CH.c.at), returned_at)
        .where(
            among_ids(CH.c.action_id),
            CH.c.field == "status",
            CH.c.old.in_(["done", "dropped", "reported"]),
            CH.c.new.in_(["open", "in_progress"]),
        )
        .group_by(CH.c.action_id),
        completions=select(C.c.action_id, C.c.occurrence).where(among_ids(C.c.action_id)),
        reports=select(
            CR.c.id, CR.c.action_id, CR.c.occurrence, CR.c.reported_at, CR.c.verifier_id, CR.c.reported_by, CR.c.note
        )
        .where(among_ids(CR.c.action_id), CR.c.status == "reported")
        .order_by(CR.c.id),
    )


def _parents(conn: Connection, queries: _Queries, plans: dict[str, list[str]]) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = defaultdict(dict)
    for plan_id, key, parent in conn.execute(queries.parents, plans):
        out[plan_id][key] = parent
    return out


def _history(conn: Connection, queries: _Queries, ids: dict[str, list[int]]) -> dict[int, History]:
    """What the batch's actions were sent before: keys, when each was planned for, which were never sent, and the
    acknowledged steps (one query for the outbox, one for the log)."""
    keys: dict[int, set[str]] = defaultdict(set)
    sent_at: dict[int, dict[str, datetime]] = defaultdict(dict)
    quiet: dict[int, set[str]] = defaultdict(set)
    answered: dict[int, dict[str, date]] = defaultdict(dict)
    for action_id, key, status, due_at, created_at, occurrence, payload in conn.execute(queries.sent, ids):
        keys[action_id].add(key)
        sent_at[action_id][key] = max(due_at, created_at)  # a row queued after its instant went out when queued
        if status == "suppressed":
            quiet[action_id].add(key)
            if isinstance(payload, dict) and payload.get("answered_on"):  # a check-in skipped as answered early
                answered[action_id][occurrence] = date.fromisoformat(payload["answered_on"])
    acked: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for action_id, occurrence, step in conn.execute(queries.acked, ids):
        acked[action_id].add((occurrence, step))
    return {
        i: History(
            frozenset(keys.get(i, ())),
            frozenset(acked.get(i, ())),
            sent_at.get(i, {}),
            frozenset(quiet.get(i, ())),
            answered.get(i, {}),
        )
        for i in set(keys) | set(acked)
    }


def _reopenings(
    conn: Connection, queries: _Queries, ids: dict[str, list[int]]
) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """Return, per action of the batch, when it was last reopened after being done, dropped or reported, and
    when it was last returned by its verifier (reopened from "reported"): one query for both."""
    reopened: dict[int, datetime] = {}
    returned: dict[int, datetime] = {}
    for action_id, at, returned_on in conn.execute(queries.reopened, ids):
        reopened[action_id] = at
        if returned_on is not None:
            returned[action_id] = returned_on
    return reopened, returned


def _completions(conn: Connection, queries: _Queries, ids: dict[str, list[int]]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for action_id, occurrence in conn.execute(queries.completions, ids):
        found[action_id].add(occurrence)
    return {k: frozenset(v) for k, v in found.items()}


def _pending_reports(
    conn: Connection, queries: _Queries, ids: dict[str, list[int]], directory: Directory
) -> dict[int, tuple[PendingReport, ...]]:
    """Return, per action of the batch, its reports of implementation waiting for a verifier the directory knows."""
    found: dict[int, list[PendingReport]] = defaultdict(list)
    for report_id, action_id, occurrence, reported_at, verifier_id, reporter, note in conn.execute(
        queries.reports, ids
    ):
        verifier = directory.people.get(verifier_id) if verifier_id else None
        if verifier is None:
            continue
        boss = directory.bosses.get(verifier_id)
        above = (directory.people[boss],) if boss is not None and boss in directory.people else ()
        name = directory.people[reporter].name if reporter in directory.people else reporter
        found[action_id].append(PendingReport(report_id, occurrence, reported_at, verifier, above, name, note))
    return {k: tuple(v) for k, v in found.items()}
