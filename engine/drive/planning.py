"""Planning: the actions whose ``next_fire_at`` has come -> planner -> the outbox's enqueue, in one transaction.

The hot path is SQLAlchemy Core over an index on ``next_fire_at``: an idle tick is one index
lookup, and a busy one costs in proportion to what is due, not to the size of the plan.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, Connection, Engine, Integer, Select, Text, any_, bindparam, case, cast, func, select

from engine.drive.people import Directory, load_directory
from engine.outbox import enqueue, outbox_row
from engine.plandoc import effective_due
from engine.planner import ActionView, Away, History, Notice, PendingReport, Person, PlanResult, plan_action
from engine.rules.durations import BusinessCalendar
from engine.rules.loader import RuleSet, calendar_for
from engine.rules.owners import section_chain
from engine.rules.policy import Policy, PolicyChooser, matching_kind
from engine.store import tables
from engine.store.bulk import insert_ignoring_duplicates, paused_gc, update_by_id

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
    cast(A.c.tags, Text).label("tags"),  # JSON text, read once per distinct text (``_Memo.tags``)
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
    """Return the planner's columns (``VIEW_COLUMNS``, as rows of values in that order) of the actions whose
    next_fire_at has come, in id order (the index finds them).

    On PostgreSQL the rows are claimed (FOR UPDATE SKIP LOCKED) until the batch commits, so
    several nodes plan disjoint batches; SQLite has one writer anyway.
    """
    query = _due_query(conn.dialect.name, limit)
    return sorted(conn.execute(query, {"until": now}).all(), key=itemgetter(0))


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
    memo: _Memo | None = None
    while True:
        with engine.begin() as conn:
            rows = due_actions(conn, until, batch)
            if not rows:
                return total
            memo = memo or _Memo(rules, load_directory(conn))
            stats, writes = _plan_batch(conn, rows, memo, now, until)
            writes.apply(conn)
            total.add(stats)
        if len(rows) < batch and not writes.due_again(until):
            return total  # every due action was in this batch, and none of them is due again: no query to ask


def _plan_overlapped(engine: Engine, rules: RuleSet, now: datetime, until: datetime, batch: int) -> TickStats:
    """PostgreSQL: while one batch's writes run and commit on a thread (in the batch's own
    transaction, which holds its actions' row locks), the next batch is read and planned on another
    connection; SKIP LOCKED keeps the batches disjoint. Ends when nothing is due and nothing in flight."""
    total = TickStats()
    memo: _Memo | None = None
    in_flight: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="planwatch-plan-writes") as writer:
        try:
            while True:
                conn = engine.connect()
                try:
                    conn.begin()
                    rows = due_actions(conn, until, batch)
                    if rows:
                        memo = memo if memo is not None else _Memo(rules, load_directory(conn))
                        stats, writes = _plan_batch(conn, rows, memo, now, until)
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
    conn: Connection, rows: Sequence[Any], memo: _Memo, now: datetime, until: datetime
) -> tuple[TickStats, _Writes]:
    ids = {"ids": [r.id for r in rows]}
    queries = _queries(conn.dialect.name)
    in_plans = {"plans": sorted({r.plan_id for r in rows})}
    plans = {r["id"]: r for r in conn.execute(queries.plans, in_plans).mappings()}
    parents = _parents(conn, queries, in_plans)
    history = _history(conn, queries, ids)
    completed = _completions(conn, queries, ids)
    reopened, returned = _reopenings(conn, queries, ids)
    reports = _pending_reports(conn, queries, ids, memo.directory)
    stats = TickStats(actions=len(rows))
    writes = _Writes()
    outbox, log, actions = writes.outbox, writes.log, writes.actions
    nothing = History()
    memo.chains.clear()  # the sections as this batch read them
    # Planning makes many short-lived objects and no reference cycles: the collector's passes over them were a fifth
    # of the planner's CPU (0.07 s of 0.35 s for 10,000 actions on SQLite).
    with paused_gc():
        for row in rows:
            action_id, plan_id = row[0], row[1]
            reopened_at = reopened.get(action_id)
            result, policy = _plan_one(
                row,
                plans[plan_id],
                parents[plan_id],
                history.get(action_id, nothing),
                completed.get(action_id, frozenset()),
                now,
                until,
                memo,
                reopened_at,
                reports.get(action_id, ()),
                returned=action_id in returned and returned[action_id] == reopened_at,
            )
            name = ""
            if policy is not None:
                name = policy.name
                if result.notices:
                    cap = policy.limits.max_per_day
                    outbox.extend(notice_row(n, name, now, cap) for n in result.notices)
                    _count(stats, result)
                if result.escalations:
                    log.extend(_log_row(e) for e in result.escalations)
                    stats.escalations += len(result.escalations)
            actions.append(
                {"id": action_id, "next_fire_at": result.next_fire_at, "planned_through": until, "policy": name}
            )
    return stats, writes


def _count(stats: TickStats, result: PlanResult) -> None:
    for notice in result.notices:
        setattr(stats, notice.status, getattr(stats, notice.status) + 1)


def _plan_one(
    row: Any,
    plan: Any,
    parents: dict[str, str | None],
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
    (
        action_id,
        plan_id,
        ref,
        section_key,
        kind,
        status,
        start,
        due,
        extended_to,
        rrule,
        title,
        owner_id,
        tags,
        last_completed,
        progress,
        planned_through,
        acceptance,
        created,
    ) = row  # VIEW_COLUMNS, in order
    chain = memo.chain(plan_id, section_key, parents)
    policy = memo.chooser.policy_of(ref, chain, matching_kind(kind, due), owner_id, memo.tags(tags))
    if policy is None:
        return PlanResult((), (), None), None
    people, away = memo.people(owner_id)
    # the latest of the last progress report, the action's arrival (never NULL) and its reopening
    last_update = progress if progress is not None and progress >= created else created
    if reopened_at is not None and reopened_at > last_update:
        last_update = reopened_at
    view = ActionView(
        action_id=action_id,
        plan_id=plan_id,
        ref=ref,
        kind=kind,
        status=status,
        plan_tz=plan["timezone"],
        plan_date=plan["ref_date"],
        start=start,
        due=effective_due(due, extended_to),
        rrule=rrule,
        title=title,
        last_completed=last_completed,
        last_progress_at=progress,
        # an occurrence reported implemented is the verifier's now: its owner hears no more of it
        completed=completed | {r.occurrence for r in reports if r.occurrence} if reports else completed,
        people=people,
        away=away,
        addresses=memo.directory.addresses,
        reopened_at=reopened_at,
        returned=returned,
        acceptance=acceptance or "accepted",
        last_update_at=last_update,
        reports=reports,
    )
    since = planned_through or now - policy.limits.catch_up.delta()
    return plan_action(view, policy, memo.calendar(policy), history, since, now, until), policy


class _Memo:
    """What the actions of one planning run share, worked out once each: the rules' choice of policy (per kind,
    sections, owner and tags), section chains, business-day calendars, and each owner's roles and away period."""

    def __init__(self, rules: RuleSet, directory: Directory) -> None:
        self.directory = directory
        self.chooser = PolicyChooser(rules.policies)
        self.chains: dict[tuple[str, str], tuple[str, ...]] = {}
        self.calendars: dict[int, tuple[Policy, BusinessCalendar]] = {}
        self.owners: dict[str | None, tuple[dict[str, list[Person]], Away | None]] = {}
        self.tag_lists: dict[str | None, tuple[str, ...]] = {}

    def chain(self, plan_id: str, section_key: str, parents: dict[str, str | None]) -> tuple[str, ...]:
        """Return the section and its ancestors."""
        found = self.chains.get((plan_id, section_key))
        if found is None:
            found = self.chains[(plan_id, section_key)] = tuple(section_chain(section_key, parents))
        return found

    def calendar(self, policy: Policy) -> BusinessCalendar:
        """Return the policy's business-day calendar (the entry holds the policy, so its id is not reused)."""
        found = self.calendars.get(id(policy))
        if found is None or found[0] is not policy:
            found = self.calendars[id(policy)] = (policy, calendar_for(policy.delivery))
        return found[1]

    def tags(self, text: str | None) -> tuple[str, ...]:
        """Return the tags whose JSON text is ``text`` (the actions of a batch share a few lists of tags)."""
        found = self.tag_lists.get(text)
        if found is None:
            found = self.tag_lists[text] = tuple((json.loads(text) if text is not None else None) or ())
        return found

    def people(self, owner_id: str | None) -> tuple[dict[str, list[Person]], Away | None]:
        """Return who each role means for an action of ``owner_id``, and the owner's away period (the planner only
        reads them, so the actions of one owner share them)."""
        found = self.owners.get(owner_id)
        if found is None:
            found = self.owners[owner_id] = (self.directory.roles(owner_id), self.directory.away_of(owner_id))
        return found


def notice_row(n: Notice, policy: str, now: datetime, cap: int | None = None) -> dict[str, Any]:
    """Return the outbox row of a notice; ``cap`` is the policy's messages-per-day limit for dispatch."""
    payload = {**n.payload, "policy": policy, "role_tz": n.recipient.tz}
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


def _history(conn: Connection, queries: _Queries, ids: dict[str, Any]) -> dict[int, History]:
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
    conn: Connection, queries: _Queries, ids: dict[str, Any]
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


def _completions(conn: Connection, queries: _Queries, ids: dict[str, Any]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for action_id, occurrence in conn.execute(queries.completions, ids):
        found[action_id].add(occurrence)
    return {k: frozenset(v) for k, v in found.items()}


def _pending_reports(
    conn: Connection, queries: _Queries, ids: dict[str, Any], directory: Directory
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
