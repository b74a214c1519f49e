"""One tick: plan what has come due, bundle digests, dispatch the outbox. The clock is a parameter.

An idle tick is a single indexed query; a busy one costs in proportion to what is due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, exists, or_, select

from engine.channels import Channel
from engine.drive.dispatch import DispatchStats, dispatch
from engine.drive.planning import TickStats, plan_due
from engine.mail.digest import build_digests
from engine.mail.render import Renderer
from engine.rules.loader import RuleSet
from engine.store import tables

A = tables.ACTION
OUT = tables.OUTBOX


@dataclass
class TickReport:
    """What one tick did."""

    at: datetime
    planned: TickStats = field(default_factory=TickStats)
    digests: int = 0
    dispatched: DispatchStats = field(default_factory=DispatchStats)
    idle: bool = False


def work_waiting(engine: Engine, now: datetime, until: datetime | None = None) -> tuple[bool, bool, bool]:
    """Return (actions due by ``until``, messages due at ``now``, notices held for digests): one query."""
    due_actions = exists().where(A.c.next_fire_at <= (until or now))
    due_messages = exists().where(
        and_(
            OUT.c.status == "pending",
            OUT.c.due_at <= now,
            or_(OUT.c.next_attempt_at.is_(None), OUT.c.next_attempt_at <= now),
        )
    )
    held = exists().where(OUT.c.status == "held")
    with engine.connect() as conn:
        row = conn.execute(select(due_actions, due_messages, held)).one()
    return bool(row[0]), bool(row[1]), bool(row[2])


def run_tick(
    engine: Engine,
    rules: RuleSet,
    channel: Channel,
    renderer: Renderer,
    now: datetime,
    *,
    ahead: timedelta = timedelta(0),
) -> TickReport:
    """Plan, bundle and send everything due at ``now`` (aware UTC).

    With ``ahead`` (the service: two tick intervals) what falls due before ``now + ahead`` is
    planned now and queued with its own instant, so the tick at that instant only sends it.
    """
    report = TickReport(now)
    actions, messages, held = work_waiting(engine, now, now + ahead)
    if not (actions or messages or held):
        report.idle = True
        return report
    if actions:
        report.planned = plan_due(engine, rules, now, ahead=ahead)
    if held:
        report.digests = build_digests(engine, now)
    if actions or messages or report.digests:
        report.dispatched = dispatch(engine, channel, renderer, now)
    return report
