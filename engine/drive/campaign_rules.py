"""Update campaigns the rules start (``campaigns:`` of the rule files): on the rule's day of the month (or the next
business day of the plan's zone), each plan gets one campaign for that month, asking every owner in one message
to update their open actions due within the rule's days (and the overdue ones).

Once per plan and month: the campaign keeps the month it is for (``Campaign.period``, unique per plan), so a
second tick, a second node or a restart starts nothing more. A plan with nobody to ask that day gets none.
Datetimes are aware UTC; days are the plan's local days.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from engine.actions.campaigns import plan_today, start_campaign
from engine.errors import UsageError
from engine.mail.digest import DIGEST_HOUR
from engine.rules.durations import BusinessCalendar
from engine.rules.loader import RuleSet
from engine.rules.policy import CampaignRule
from engine.store import transaction
from engine.store.followup_models import Campaign
from engine.store.models import Plan
from engine.zones import zone

log = logging.getLogger("planwatch.campaigns")
WHO = "rules"


def start_day(rule: CampaignRule, year: int, month: int, calendar: BusinessCalendar) -> date | None:
    """Return the day a campaign of ``rule`` starts in ``month`` of ``year``: its day of the month, or the next
    business day; None when the rule skips that month or the month has no business day from then on."""
    if not rule.starts_in(year, month):
        return None
    day = date(year, month, rule.day)
    while day.month == month:
        if calendar.is_business_day(day):
            return day
        day += timedelta(days=1)
    return None


def start_due_campaigns(engine: Engine, rules: RuleSet, now: datetime) -> int:
    """Start the campaigns the rules say are due at ``now`` (from the digests' hour of the plan's start day), at
    most one per plan and month; return how many were started."""
    if not rules.campaigns:
        return 0
    started = 0
    with transaction(engine) as session:
        plans = session.exec(select(Plan).order_by(col(Plan.id))).all()
    for plan in plans:
        due = _due_rule(rules, plan, now)
        if due is not None and _start(engine, plan.id, due, now):
            started += 1
    return started


def _due_rule(rules: RuleSet, plan: Plan, now: datetime) -> CampaignRule | None:
    """Return the first rule whose campaign starts on the plan's day at ``now`` (None before the digests' hour)."""
    local = now.astimezone(zone(plan.timezone))
    if local.time() < DIGEST_HOUR:
        return None
    today = plan_today(plan, now)
    calendar = rules.calendar_of(plan.timezone)
    return next((r for r in rules.campaigns if start_day(r, today.year, today.month, calendar) == today), None)


def _start(engine: Engine, plan_id: str, rule: CampaignRule, now: datetime) -> bool:
    """Start this month's campaign of the plan unless it has one; return True when one was started."""
    try:
        with transaction(engine) as session:
            plan = session.get(Plan, plan_id)
            if plan is None:
                return False
            period = plan_today(plan, now).strftime("%Y-%m")
            taken = select(Campaign.id).where(Campaign.plan_id == plan_id, Campaign.period == period)
            if session.exec(taken).first() is not None:
                return False
            try:
                campaign = start_campaign(
                    session, plan, now, who=WHO, within_days=rule.within.days, include_overdue=rule.overdue
                )
            except UsageError:  # nobody to ask this month: no campaign, and no reason to stop the tick
                return False
            campaign.period = period
            session.add(campaign)
            session.flush()
    except IntegrityError:  # another node started it a moment ago
        return False
    log.info("campaign for %s of %s started by the rules", period, plan_id)
    return True
