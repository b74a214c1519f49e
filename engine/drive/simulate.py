"""The simulator: the very same tick (``run_tick``: plan, digest and dispatch steps), driven by a simulated clock.

It jumps from one instant at which something can happen to the next (``next_fire_at``,
pending messages, digests, replayed events), not minute by minute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, exists, func, select, update
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from engine.actions.workflow import (
    acknowledge,
    complete,
    extend,
    hold,
    not_mine,
    progress,
    set_status,
)
from engine.channels import Channel
from engine.drive.replay import FOLLOW_UP, ReplayEvent, apply_follow_up
from engine.drive.tick import run_tick
from engine.mail.checks import render_problems
from engine.mail.digest import DIGEST_HOUR, WEEKENDS, CalendarOf, digest_due
from engine.mail.render import Renderer
from engine.read.queries import find_action
from engine.rules.loader import RuleSet
from engine.store import tables
from engine.store.models import Action, Escalation, Plan
from engine.zones import aware_utc, zone

A = tables.ACTION
OUT = tables.OUTBOX
W = tables.OWNER


@dataclass
class SimulationResult:
    """What a simulation did: the notifications sent (contract objects), ticks run, events replayed."""

    notifications: list[dict[str, Any]] = field(default_factory=list)
    ticks: int = 0
    replayed: int = 0
    unrenderable: list[dict[str, Any]] = field(default_factory=list)  # messages whose template does not render
    already_sent: int = 0  # messages of the period sent before this run (an earlier --commit): not repeated here


def start_cursors(engine: Engine, start: datetime) -> None:
    """Make every action due for planning at ``start``, as if the service had run until then."""
    with engine.begin() as conn:
        conn.execute(update(A).where(A.c.removed_at.is_(None)).values(next_fire_at=start, planned_through=start))


def simulate(
    engine: Engine,
    rules: RuleSet,
    channel: Channel,
    renderer: Renderer,
    start: datetime,
    until: datetime,
    replay: Sequence[ReplayEvent] = (),
    on_tick: Callable[[datetime], None] | None = None,
) -> SimulationResult:
    """Run the plan from ``start`` to ``until`` (aware UTC); return what was sent."""
    result = SimulationResult()
    before = {n["key"] for n in notifications(engine, start, until)}
    result.already_sent = len(before)
    start_cursors(engine, start)
    named = _named_actions(engine, replay)
    ids = {ident: found[0] for ident, found in named.items()}
    events = sorted(
        ((at, i, e) for i, (at, e) in enumerate(zip(_event_times(named, replay), replay, strict=True))),
        key=lambda t: (t[0], t[1]),
    )
    now = start
    broken: dict[str, str] = {}
    while now <= until:
        batch = []
        while events and events[0][0] <= now:
            batch.append(events.pop(0)[2])
        apply_events(engine, batch, now, rules, ids)
        result.replayed += len(batch)
        report = run_tick(engine, rules, channel, renderer, now)
        if not channel.needs_message and report.dispatched.sent:
            # Nothing was rendered: a message whose template would fail fails here.
            fail_unrenderable(engine, renderer, now, broken)
        result.ticks += 1
        if on_tick is not None:
            on_tick(now)
        wake = [
            t for t in (next_wake(engine, now, rules.calendar_of), events[0][0] if events else None) if t is not None
        ]
        if not wake or min(wake) > until:
            break
        now = max(min(wake), now + timedelta(microseconds=1))
    result.notifications = [n for n in notifications(engine, start, until) if n["key"] not in before]
    result.unrenderable = unrenderable(engine, start, until)
    return result


CANNOT_BUILD = "cannot build the message: "  # how the dispatcher starts the error of a message it could not build


# Built once (each tick that sends runs them): the templates of the messages sent at ``now`` or later, and marking
# failed those of one template that does not render.
SENT_TEMPLATES = select(OUT.c.template).where(OUT.c.status == "sent", OUT.c.sent_at >= bindparam("now")).distinct()
UNBUILT = (
    update(OUT)
    .where(OUT.c.status == "sent", OUT.c.sent_at >= bindparam("now"), OUT.c.template == bindparam("name"))
    .values(status="failed", sent_at=None, attempts=OUT.c.attempts + 1, last_error=bindparam("error"))
)


def fail_unrenderable(engine: Engine, renderer: Renderer, now: datetime, broken: dict[str, str]) -> None:
    """Mark failed the messages the tick at ``now`` counted as sent whose template does not render its samples.

    For a channel that reads nothing the dispatcher renders nothing; without this such a message would
    count as sent. ``broken`` keeps each template's verdict (its first problem, or "") between ticks.
    """
    with engine.begin() as conn:
        names = conn.execute(SENT_TEMPLATES, {"now": now}).scalars().all()
        for name in names:
            if name not in broken:
                broken[name] = next(iter(render_problems(renderer, name)), "")
            if broken[name]:
                conn.execute(UNBUILT, {"now": now, "name": name, "error": CANNOT_BUILD + broken[name]})


def unrenderable(engine: Engine, start: datetime, until: datetime) -> list[dict[str, Any]]:
    """Return the messages due between ``start`` and ``until`` that were not sent because they could not be built."""
    query = (
        select(OUT, A.c.ref)
        .outerjoin(A, A.c.id == OUT.c.action_id)
        .where(
            OUT.c.status != "sent",
            OUT.c.due_at >= start,
            OUT.c.due_at <= until,
            OUT.c.last_error.startswith(CANNOT_BUILD),
        )
        .order_by(OUT.c.due_at, OUT.c.key)
    )
    with engine.connect() as conn:
        return [
            {
                "at": _iso(r["due_at"]),
                "action": r["ref"],
                "plan": r["plan_id"],
                "recipient": r["recipient"],
                "recipient_id": r["recipient_id"],
                "type": r["type"],
                "step": r["step"],
                "template": r["template"],
                "status": r["status"],
                "error": r["last_error"],
                "key": r["key"],
            }
            for r in conn.execute(query).mappings()
        ]


# Built once (each tick runs it): the next planning, pending message and retry after ``now``, and whether any
# notice is held for a digest (if none, no digest can be due).
NEXT_WAKE = select(
    select(func.min(A.c.next_fire_at)).where(A.c.next_fire_at > bindparam("now")).scalar_subquery(),
    select(func.min(OUT.c.due_at)).where(OUT.c.status == "pending", OUT.c.due_at > bindparam("now")).scalar_subquery(),
    select(func.min(OUT.c.next_attempt_at))
    .where(OUT.c.status == "pending", OUT.c.next_attempt_at > bindparam("now"))
    .scalar_subquery(),
    exists().where(OUT.c.status == "held"),
)


def next_wake(engine: Engine, now: datetime, calendar_of: CalendarOf | None = None) -> datetime | None:
    """Return the next instant after ``now`` at which a tick can do anything (``calendar_of``: each
    digest recipient's business days, from their zone)."""
    with engine.connect() as conn:
        fire, due, retry, held = conn.execute(NEXT_WAKE, {"now": now}).one()  # one statement: it runs every tick
        digest = _next_digest(conn, now, calendar_of) if held else None
    found = [aware_utc(t) for t in (fire, due, retry, digest) if t is not None]
    return min(found, default=None)


HELD_BY_PEOPLE = (
    select(W.c.timezone, W.c.digest, W.c.country, func.min(OUT.c.due_at))
    .join(OUT, OUT.c.recipient_id == W.c.id)
    .where(OUT.c.status == "held", W.c.digest.in_(["daily", "weekly"]))
    .group_by(W.c.timezone, W.c.digest, W.c.country)
)


def _next_digest(conn: Any, now: datetime, calendar_of: CalendarOf | None = None) -> datetime | None:
    """The first digest instant after ``now`` that takes a held notice: a digest day of the recipient at
    ``DIGEST_HOUR``, or the notice's own instant when it is held later that day."""
    rows = conn.execute(HELD_BY_PEOPLE).all()
    times = []
    for tz, period, country, first in rows:
        calendar = calendar_of(tz, country) if calendar_of is not None else WEEKENDS
        start = max(aware_utc(first), now)
        day = start.astimezone(zone(tz)).date()
        for _ in range(400):  # a year of holidays at most
            at = max(datetime.combine(day, DIGEST_HOUR, zone(tz)).astimezone(UTC), aware_utc(first))
            if at > now and digest_due(period, at.astimezone(zone(tz)), calendar):
                times.append(at)
                break
            day += timedelta(days=1)
    return min(times, default=None)


def _named_actions(engine: Engine, events: Sequence[ReplayEvent]) -> dict[str, tuple[int, str]]:
    """Return the id and the plan's zone of each action the replayed events name, each looked up once (an action
    that does not exist stops the simulation here, before it starts)."""
    with Session(engine) as session:
        zones = {plan.id: plan.timezone for plan in session.exec(orm_select(Plan)).all()}
        named: dict[str, tuple[int, str]] = {}
        for e in events:
            if e.action not in named:
                action = find_action(session, e.action)
                assert action.id is not None
                named[e.action] = (action.id, zones[action.plan_id])
        return named


def _event_times(named: Mapping[str, tuple[int, str]], events: Sequence[ReplayEvent]) -> list[datetime]:
    """Return when each replayed event happens: noon of its day in its plan's zone (``named``), in UTC."""
    return [datetime.combine(e.at, time(12, 0), zone(named[e.action][1])).astimezone(UTC) for e in events]


def apply_events(
    engine: Engine,
    events: Sequence[ReplayEvent],
    now: datetime,
    rules: RuleSet | None = None,
    ids: Mapping[str, int] | None = None,
) -> None:
    """Apply the replayed events that happen at ``now``, in their order, in one transaction (``rules``: how each
    action is closed; ``ids``: the id of each action named, else each is looked up by its reference)."""
    if not events:
        return
    with Session(engine, expire_on_commit=False) as session, session.begin():
        for event in events:
            apply_event(session, event, now, rules, None if ids is None else ids[event.action])


def apply_event(
    session: Session, event: ReplayEvent, now: datetime, rules: RuleSet | None = None, action_id: int | None = None
) -> None:
    """Apply one replayed event at ``now`` through the workflow functions, in ``session`` (``action_id``: the
    action's, when known)."""
    found = session.get(Action, action_id) if action_id is not None else None
    action = found if found is not None else find_action(session, event.action)
    who, note = event.by, event.note
    match event.event:
        case "done":
            complete(session, action, now, who=who, via="replay", note=note, occurrence=event.occurrence)
        case "progress":
            progress(session, action, now, who=who, via="replay", note=note, state=event.state)
        case "extend":
            assert event.to is not None
            extend(session, action, event.to, now, who=who, via="replay", reason=note)
        case "hold":
            hold(session, action, now, who=who, via="replay", reason=note or "on hold")
        case "reopen":
            set_status(session, action, "open", now, who=who, via="replay", note=note)
        case "drop":
            set_status(session, action, "dropped", now, who=who, via="replay", note=note)
        case "not_mine":
            not_mine(session, action, now, who=who, via="replay", note=note)
        case name if name in FOLLOW_UP:
            apply_follow_up(session, action, event, now, rules)
        case "ack":
            query = orm_select(Escalation).where(
                Escalation.action_id == action.id, col(Escalation.acknowledged_at).is_(None)
            )
            if event.level is not None:
                query = query.where(Escalation.level == event.level)
            entry = session.exec(query.order_by(col(Escalation.at).desc())).first()
            if entry is not None and entry.id is not None:
                acknowledge(session, entry.id, now, who=who, note=note, scoped=False)


def notifications(engine: Engine, start: datetime, until: datetime) -> list[dict[str, Any]]:
    """Return the messages sent between ``start`` and ``until`` as the simulate contract's objects."""
    query = (
        select(OUT, A.c.ref)
        .outerjoin(A, A.c.id == OUT.c.action_id)
        .where(OUT.c.status == "sent", OUT.c.sent_at >= start, OUT.c.sent_at <= until)
        .order_by(OUT.c.sent_at, OUT.c.key)
    )
    with engine.connect() as conn:
        return [
            {
                "at": _iso(r["due_at"]),
                "sent_at": _iso(r["sent_at"]),
                "action": r["ref"],
                "plan": r["plan_id"],
                "recipient": r["recipient"],
                "recipient_id": r["recipient_id"],
                "type": r["type"],
                "level": r["level"],
                "step": r["step"],
                "occurrence": r["occurrence"],
                "key": r["key"],
            }
            for r in conn.execute(query).mappings()
        ]


def _iso(value: datetime) -> str:
    return aware_utc(value).astimezone(UTC).isoformat().replace("+00:00", "Z")
