"""One tick: plan what has come due, bundle digests, dispatch the outbox. The clock is a parameter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from engine.channels import Channel
from engine.digest import build_digests
from engine.outbox import DispatchStats, dispatch
from engine.planning import TickStats, plan_due
from engine.render import Renderer
from engine.rules.loader import RuleSet
from engine.store.state import set_state


@dataclass
class TickReport:
    """What one tick did."""

    at: datetime
    planned: TickStats = field(default_factory=TickStats)
    digests: int = 0
    dispatched: DispatchStats = field(default_factory=DispatchStats)


def run_tick(engine: Engine, rules: RuleSet, channel: Channel, renderer: Renderer, now: datetime) -> TickReport:
    """Plan, bundle and send everything due at ``now`` (aware UTC)."""
    report = TickReport(now)
    report.planned = plan_due(engine, rules, now)
    report.digests = build_digests(engine, now)
    report.dispatched = dispatch(engine, channel, renderer, now)
    set_state(engine, "last_tick", now.isoformat(), now)
    return report
