"""The tick, composed once: four steps, and ``run_tick``, which chains them.

- ``campaign_step``: the update campaigns the rules start (``campaigns:``) -> one message per owner asked;
- ``plan_step``: the actions that have come due -> the planner -> the outbox (and the escalation log);
- ``digest_step``: held notices -> one digest per recipient whose digest time has come;
- ``dispatch_step``: the outbox's due rows -> messages -> the channel.

``run_tick`` runs them in that order at one instant (``planwatch tick``, the simulator, the tests);
``planwatch run`` (``service``) schedules the same steps on APScheduler's metronome. The
clock is a parameter: an instant (``now``, aware UTC) or, for the dispatch step's passes, a ``Clock``.
An idle tick is a single indexed query (and one over the plans when the rules start campaigns); a busy one
costs in proportion to what is due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, bindparam, exists, or_, select

from engine.channels import Channel
from engine.clock import Clock, FixedClock
from engine.drive.campaign_rules import start_due_campaigns
from engine.drive.dispatch import DispatchStats, Later, dispatch
from engine.drive.planning import TickStats, plan_due
from engine.mail.context import Row
from engine.mail.digest import build_digests
from engine.mail.render import Renderer
from engine.rules.loader import RuleSet
from engine.store import tables
from engine.zones import zone

A = tables.ACTION
OUT = tables.OUTBOX
DISPATCH_BATCH = 200  # rows one dispatch pass leases in the service
MAX_PASSES = 50  # passes in one run of the service's dispatch step (10,000 rows), then its next run goes on
TICK_LIMIT = 10_000  # rows the one dispatch pass of ``run_tick`` takes


@dataclass
class TickReport:
    """What one tick did."""

    at: datetime
    planned: TickStats = field(default_factory=TickStats)
    digests: int = 0
    campaigns: int = 0
    dispatched: DispatchStats = field(default_factory=DispatchStats)
    idle: bool = False


# Built once: it runs every tick, and building a statement costs more than running this one.
WORK_WAITING = select(
    exists().where(A.c.next_fire_at <= bindparam("until")),
    exists().where(
        and_(
            OUT.c.status == "pending",
            OUT.c.due_at <= bindparam("now"),
            or_(OUT.c.next_attempt_at.is_(None), OUT.c.next_attempt_at <= bindparam("now")),
        )
    ),
    exists().where(OUT.c.status == "held"),
)


def work_waiting(engine: Engine, now: datetime, until: datetime | None = None) -> tuple[bool, bool, bool]:
    """Return (actions due by ``until``, messages due at ``now``, notices held for digests): one query."""
    with engine.connect() as conn:
        row = conn.execute(WORK_WAITING, {"now": now, "until": until or now}).one()
    return bool(row[0]), bool(row[1]), bool(row[2])


def plan_step(engine: Engine, rules: RuleSet, now: datetime, *, ahead: timedelta = timedelta(0)) -> TickStats:
    """Plan every action come due by ``now + ahead`` (aware UTC); return the counts.

    With ``ahead`` (the service: two tick intervals) what falls due before ``now + ahead`` is
    planned now and queued with its own instant, so the dispatch step at that instant only sends it.
    """
    return plan_due(engine, rules, now, ahead=ahead)


def digest_step(engine: Engine, now: datetime, rules: RuleSet | None = None) -> int:
    """Bundle held notices into the digests due at ``now`` (aware UTC), on each recipient's business days
    (those ``rules`` give their zone); return how many were made."""
    return build_digests(engine, now, rules.calendar_of if rules is not None else None)


def campaign_step(engine: Engine, rules: RuleSet, now: datetime) -> int:
    """Start the update campaigns the rules say are due at ``now`` (aware UTC), one per plan and month, on the
    plan's business day; return how many were started (their messages are queued)."""
    return start_due_campaigns(engine, rules, now)


def dispatch_step(
    engine: Engine,
    channel: Channel,
    renderer: Renderer,
    clock: Clock,
    *,
    batch: int = DISPATCH_BATCH,
    passes: int = MAX_PASSES,
    rules: RuleSet | None = None,
) -> DispatchStats:
    """Send what is due at ``clock``'s time, ``batch`` rows per dispatch pass, for up to ``passes`` passes
    or until nothing waits; return the totals.

    Small passes let several nodes share a burst: each pass leases only ``batch`` rows, so the
    next rows stay free for the other nodes instead of one node leasing thousands at once. With ``rules``,
    a message past its recipient's daily cap waits for their next business day, not merely a day.
    """
    total = DispatchStats()
    later = business_later(rules) if rules is not None else None
    try:
        for left in reversed(range(passes)):  # the channel's connections stay open from pass to pass
            stats = dispatch(engine, channel, renderer, clock.now(), limit=batch, keep_open=True, later=later)
            total.add(stats)
            # A short pass may only have lost a race for rows another node leased first: ask the queue.
            if not left or stats.paused or (stats.handled < batch and not work_waiting(engine, clock.now())[1]):
                break
    finally:
        channel.close()
    return total


def business_later(rules: RuleSet) -> Later:
    """Return when rows past their recipients' daily cap go: the same local time on each recipient's next
    business day (their zone and country's holidays, from the owners directory; UTC for an address it lacks)."""

    def later(conn: Connection, rows: list[Row], now: datetime) -> dict[int, datetime]:
        addresses = {r["recipient"] for r in rows}
        people = {
            email: (tz, country)
            for email, tz, country in conn.execute(
                select(tables.OWNER.c.email, tables.OWNER.c.timezone, tables.OWNER.c.country).where(
                    tables.OWNER.c.email.in_(sorted(addresses))
                )
            )
        }
        found = {}
        for address in addresses:
            tz, country = people.get(address, ("UTC", None))
            calendar = rules.calendar_of(tz, country)
            local = now.astimezone(zone(tz))
            day = local.date() + timedelta(days=1)
            for _ in range(366):  # a calendar with no business day at all leaves the day as it is
                if calendar.is_business_day(day):
                    break
                day += timedelta(days=1)
            found[address] = datetime.combine(day, local.timetz()).astimezone(UTC)
        return {r["id"]: found[r["recipient"]] for r in rows}

    return later


def run_tick(
    engine: Engine,
    rules: RuleSet,
    channel: Channel,
    renderer: Renderer,
    now: datetime,
    *,
    ahead: timedelta = timedelta(0),
) -> TickReport:
    """Plan, bundle and send everything due at ``now`` (aware UTC): the three steps, each when it has work.

    ``ahead`` is ``plan_step``'s; the dispatch step makes one pass of up to ``TICK_LIMIT`` rows.
    """
    report = TickReport(now)
    report.campaigns = campaign_step(engine, rules, now)  # its messages are queued for the dispatch below
    actions, messages, held = work_waiting(engine, now, now + ahead)
    if not (actions or messages or held):
        report.idle = True
        return report
    if actions:
        report.planned = plan_step(engine, rules, now, ahead=ahead)
        held = held or report.planned.held > 0  # a notice held just now can go in a digest due now
    if held:
        report.digests = digest_step(engine, now, rules)
    if actions or messages or report.digests:
        report.dispatched = dispatch_step(
            engine, channel, renderer, FixedClock(now), batch=TICK_LIMIT, passes=1, rules=rules
        )
    return report
