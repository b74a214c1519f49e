"""Update campaigns the rules start (``campaigns:`` of the rule files): on the rule's day of the month (or the next
business day of the plan's zone), each plan gets one campaign for that month, asking every owner in one message
to update their open actions due within the rule's days (and the overdue ones).

A campaign the service missed (it was down on the day, from the digests' hour to midnight) starts on the first
tick of a business day after it, from the digests' hour, asking about actions due within the rule's days of the
day it starts, as ``planwatch campaign start`` would that day; unless half of its period has gone by since its
day (about 15 days for a monthly campaign, 45 for a quarterly one): then the next one is near, and the missed
one is left out.

Once per plan and period: the campaign keeps the month it is for (``Campaign.period``, unique per plan), so a
second tick, a second node or a restart starts nothing more. A plan with nobody to ask gets none that day; the
next business day it is looked at again while the campaign may still start (``service_state`` keeps the day
nobody was found, so an idle tick does not look again).
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
from engine.store.state import set_state
from engine.store.tables import SERVICE_STATE as STATE
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


def catch_up_until(rule: CampaignRule, year: int, month: int, start: date) -> date:
    """Return the first plan day on which a campaign of ``rule`` for ``month`` of ``year`` that started on
    ``start`` has not started (it is missed for good): half its period after ``start``."""
    after = year * 12 + month - 1 + rule.every.months
    period_days = (date(after // 12, after % 12 + 1, 1) - date(year, month, 1)).days
    return start + timedelta(days=period_days // 2)


def due_period(rule: CampaignRule, today: date, calendar: BusinessCalendar) -> str | None:
    """Return the period (``"2000-05"``: the month it is for) of the campaign of ``rule`` due on the plan's
    business day ``today``: the latest whose start day is ``today`` or, missed, before it and less than half its
    period ago; None when none is due."""
    if not calendar.is_business_day(today):
        return None
    months = today.year * 12 + today.month - 1
    for back in range(12):  # every is at most 12 months
        year, month = divmod(months - back, 12)
        month += 1
        start = start_day(rule, year, month, calendar)
        if start is None or start > today:
            continue
        return f"{year}-{month:02d}" if today < catch_up_until(rule, year, month, start) else None
    return None


def start_due_campaigns(engine: Engine, rules: RuleSet, now: datetime) -> int:
    """Start the campaigns the rules say are due at ``now`` (from the digests' hour of the plan's start day, or
    of a business day soon after it when the service missed it), at most one per plan and period; return how
    many were started."""
    if not rules.campaigns:
        return 0
    waiting: dict[str, tuple[date, CampaignRule, str]] = {}
    tried: dict[str, str] = {}
    with transaction(engine) as session:
        plans = session.exec(select(Plan).order_by(col(Plan.id))).all()
        due = {p.id: (plan_today(p, now), found) for p in plans if (found := _due_rules(rules, p, now))}
        if due:  # those started already (the usual case after the start day): one query
            query = select(Campaign.plan_id, Campaign.period).where(col(Campaign.plan_id).in_(due))
            taken = set(session.exec(query).all())
            for plan_id, (today, found) in due.items():
                left = [(rule, period) for rule, period in found if (plan_id, period) not in taken]
                if left:
                    waiting[plan_id] = (today, *left[0])
        if waiting:  # not started yet: found nobody to ask today already? (one query)
            keys = [_nobody_key(plan_id, period) for plan_id, (_, _, period) in waiting.items()]
            found_state = select(STATE.c.key, STATE.c.value).where(STATE.c.key.in_(keys))
            tried = {k: v for k, v in session.connection().execute(found_state).all()}
    started = 0
    for plan_id, (today, rule, period) in sorted(waiting.items()):
        key = _nobody_key(plan_id, period)
        if tried.get(key) == today.isoformat():
            continue  # asked again the next day: by then someone may have an action to update
        outcome = _start(engine, plan_id, rule, period, now, rules)
        if outcome == STARTED:
            started += 1
        elif outcome == NOBODY:
            set_state(engine, key, today.isoformat(), now)
    return started


def _nobody_key(plan_id: str, period: str) -> str:
    """The ``service_state`` key of the plan day a campaign for ``period`` last found nobody to ask."""
    return f"campaign-nobody:{plan_id}|{period}"


def _due_rules(rules: RuleSet, plan: Plan, now: datetime) -> list[tuple[CampaignRule, str]]:
    """Return the rules with a campaign due for the plan at ``now``, each with its period, in the rules' order
    (none before the digests' hour)."""
    local = now.astimezone(zone(plan.timezone))
    if local.time() < DIGEST_HOUR:
        return []
    today = plan_today(plan, now)
    calendar = rules.calendar_of(plan.timezone)
    found = ((rule, due_period(rule, today, calendar)) for rule in rules.campaigns)
    return [(rule, period) for rule, period in found if period is not None]


STARTED, NOBODY, TAKEN = "started", "nobody to ask", "taken"


def _start(engine: Engine, plan_id: str, rule: CampaignRule, period: str, now: datetime, rules: RuleSet) -> str:
    """Start the plan's campaign for ``period`` unless it has one; return STARTED, NOBODY (no owner to ask: no
    campaign) or TAKEN (it has one, or another node started it a moment ago)."""
    try:
        with transaction(engine) as session:
            plan = session.get(Plan, plan_id)
            if plan is None:
                return TAKEN
            taken = select(Campaign.id).where(Campaign.plan_id == plan_id, Campaign.period == period)
            if session.exec(taken).first() is not None:
                return TAKEN
            try:
                campaign = start_campaign(
                    session,
                    plan,
                    now,
                    who=WHO,
                    within_days=rule.within.days,
                    include_overdue=rule.overdue,
                    rules=rules,  # each owner's request waits for their working day
                )
            except UsageError:  # nobody to ask: no campaign, and no reason to stop the tick
                return NOBODY
            campaign.period = period
            session.add(campaign)
            session.flush()
    except IntegrityError:  # another node started it a moment ago
        return TAKEN
    log.info("campaign for %s of %s started by the rules", period, plan_id)
    return STARTED
