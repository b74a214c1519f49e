"""Update campaigns the rules start (``engine.drive.campaign_rules``), through the tick with the injected clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col, select

from engine.drive.campaign_rules import catch_up_until, due_period, start_day, start_due_campaigns
from engine.drive.tick import run_tick
from engine.rules.durations import BusinessCalendar
from engine.rules.loader import load_rules
from engine.rules.policy import CampaignRule
from engine.store import transaction
from engine.store.followup_models import Campaign, CampaignRequest
from engine.store.models import Action
from engine.zones import zone

from .conftest import DATA, outbox

MAY_DAY = date(2000, 5, 1)  # a Monday, a holiday in these rules


def rules_with_campaigns(tmp_path: Path, campaigns: str) -> Any:
    """The small plan's rules, with a holiday on 1 May and ``campaigns`` (YAML) added."""
    text = (DATA / "rules" / "policies.yaml").read_text()
    text = text.replace("    business_days: true\n", f"    business_days: true\n    holidays: [{MAY_DAY}]\n", 1)
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "policies.yaml").write_text(text + f"campaigns: {campaigns}\n")
    return load_rules(folder)


def campaigns(engine: Any) -> list[tuple[str | None, date, list[str]]]:
    """Each campaign: its month, the plan's day it started, the owners asked."""
    with transaction(engine) as session:
        found = []
        for c in session.exec(select(Campaign).order_by(col(Campaign.id))).all():
            asked = session.exec(select(CampaignRequest.owner_id).where(CampaignRequest.campaign_id == c.id)).all()
            found.append((c.period, c.created_at.astimezone(zone("Europe/Zurich")).date(), sorted(asked)))
        return found


def test_a_monthly_campaign_starts_once_a_month_on_the_plans_business_day(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, _, channel, renderer = world
    rules = rules_with_campaigns(tmp_path, "[{every: 1mo, day: 1, within: 45d}]")
    day = datetime(2000, 3, 31, 12, tzinfo=UTC)
    while day < datetime(2000, 6, 6, tzinfo=UTC):
        early = run_tick(engine, rules, channel, renderer, day.replace(hour=6))  # 08:00 in Geneva: not yet
        assert early.campaigns == 0
        run_tick(engine, rules, channel, renderer, day)
        again = run_tick(engine, rules, channel, renderer, day + timedelta(hours=3))  # the same day: nothing more
        assert again.campaigns == 0
        day += timedelta(days=1)
    # April: the 1st is a Saturday, so Monday the 3rd; May: the 1st is a holiday, so the 2nd; June: the 1st
    owners = ["boon", "luz", "zora"]  # each with an overdue action (I.1.4 has no due date: not asked)
    assert campaigns(engine) == [
        ("2000-04", date(2000, 4, 3), owners),
        ("2000-05", date(2000, 5, 2), owners),
        ("2000-06", date(2000, 6, 1), owners),
    ]
    messages = [r for r in outbox(engine) if r.type == "campaign"]
    assert len(messages) == 9 and all(r.status == "sent" for r in messages)


def test_a_second_start_the_same_month_starts_nothing(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = world[0]
    rules = rules_with_campaigns(tmp_path, "[{every: 1mo, day: 10, within: 45d}]")
    at = datetime(2000, 4, 10, 12, tzinfo=UTC)  # a Monday
    assert start_due_campaigns(engine, rules, at) == 1
    assert start_due_campaigns(engine, rules, at + timedelta(minutes=5)) == 0
    assert start_due_campaigns(engine, rules, at + timedelta(days=1)) == 0  # the 11th: April's has started
    assert [c[0] for c in campaigns(engine)] == ["2000-04"]


def test_without_anyone_to_ask_no_campaign_starts(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = world[0]
    rules = rules_with_campaigns(tmp_path, "[{every: 1mo, day: 3, within: 10d, overdue: false}]")
    assert start_due_campaigns(engine, rules, datetime(2000, 1, 3, 12, tzinfo=UTC)) == 0  # due in March only
    assert start_due_campaigns(engine, rules, datetime(2000, 4, 3, 12, tzinfo=UTC)) == 0  # overdue: not asked
    assert campaigns(engine) == []


def test_rules_without_campaigns_start_none(world) -> None:  # type: ignore[no-untyped-def]
    engine, rules, *_ = world
    assert rules.campaigns == ()
    assert start_due_campaigns(engine, rules, datetime(2000, 4, 3, 12, tzinfo=UTC)) == 0


def test_the_start_day_is_the_rules_day_or_the_next_business_day() -> None:
    monthly = CampaignRule.model_validate({"every": "1mo", "day": 1})
    quarterly = CampaignRule.model_validate({"every": "3mo", "day": 15})
    calendar = BusinessCalendar([MAY_DAY])
    assert start_day(monthly, 2000, 4, calendar) == date(2000, 4, 3)
    assert start_day(monthly, 2000, 5, calendar) == date(2000, 5, 2)
    assert [m for m in range(1, 13) if start_day(quarterly, 2000, m, calendar)] == [1, 4, 7, 10]
    assert start_day(quarterly, 2000, 4, calendar) == date(2000, 4, 17)  # the 15th is a Saturday


def test_a_campaign_missed_while_the_service_was_down_starts_on_the_next_business_day(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, _, channel, renderer = world
    rules = rules_with_campaigns(tmp_path, "[{every: 1mo, day: 1, within: 45d}]")
    # down on Thursday 1 June (the start day), up on Saturday the 3rd: ticks every two hours, then daily
    at = datetime(2000, 6, 3, tzinfo=UTC)
    while at < datetime(2000, 7, 1, tzinfo=UTC):
        run_tick(engine, rules, channel, renderer, at)
        at += timedelta(hours=2) if at.day < 8 else timedelta(days=1)
    # not on the weekend: Monday the 5th, once, from 09:00 in Geneva, asking about what is due within 45 days
    assert campaigns(engine) == [("2000-06", date(2000, 6, 5), ["boon", "luz", "zora"])]
    messages = [r for r in outbox(engine) if r.type == "campaign"]
    assert sorted(r.recipient_id for r in messages) == ["boon", "luz", "zora"]
    local = {r.due_at.astimezone(zone("Europe/Zurich")) for r in messages}
    assert {t.date() for t in local} == {date(2000, 6, 5)} and all(t.hour >= 9 for t in local)
    with transaction(engine) as session:
        assert [c.within_days for c in session.exec(select(Campaign)).all()] == [45]


def test_a_campaign_missed_for_half_its_month_waits_for_the_next(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = world[0]
    rules = rules_with_campaigns(tmp_path, "[{every: 1mo, day: 1, within: 45d}]")
    # back on Friday 16 June, 15 days after June's day (half of June gone): June's is left out
    assert start_due_campaigns(engine, rules, datetime(2000, 6, 16, 12, tzinfo=UTC)) == 0
    assert start_due_campaigns(engine, rules, datetime(2000, 6, 19, 12, tzinfo=UTC)) == 0
    assert start_due_campaigns(engine, rules, datetime(2000, 7, 3, 12, tzinfo=UTC)) == 1  # July's, on its day
    assert [c[0] for c in campaigns(engine)] == ["2000-07"]


def test_a_late_campaign_is_for_its_own_period_not_the_month_it_starts_in(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = world[0]
    rules = rules_with_campaigns(tmp_path, "[{every: 1mo, day: 28, within: 45d}]")
    # April's day is Friday the 28th; the service comes back on Tuesday 2 May (the 1st is a holiday)
    assert start_due_campaigns(engine, rules, datetime(2000, 5, 2, 12, tzinfo=UTC)) == 1
    assert start_due_campaigns(engine, rules, datetime(2000, 5, 29, 12, tzinfo=UTC)) == 1  # May's own, on the 29th
    assert [c[0] for c in campaigns(engine)] == ["2000-04", "2000-05"]


def test_a_period_taken_by_one_rule_leaves_the_next_rule_due_its_turn(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = world[0]
    rules = rules_with_campaigns(tmp_path, "[{every: 3mo, day: 28, within: 45d}, {every: 1mo, day: 1, within: 45d}]")
    assert start_due_campaigns(engine, rules, datetime(2000, 4, 3, 12, tzinfo=UTC)) == 1  # the monthly rule's April
    # Tuesday 2 May: the quarterly rule's April (its day was Friday the 28th) is taken; the monthly rule's May is not
    assert start_due_campaigns(engine, rules, datetime(2000, 5, 2, 12, tzinfo=UTC)) == 1
    assert [c[0] for c in campaigns(engine)] == ["2000-04", "2000-05"]


def test_nobody_to_ask_is_looked_at_again_the_next_business_day_not_every_tick(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = world[0]
    rules = rules_with_campaigns(tmp_path, "[{every: 1mo, day: 3, within: 10d, overdue: false}]")
    assert start_due_campaigns(engine, rules, datetime(2000, 1, 3, 9, tzinfo=UTC)) == 0  # all due in March
    with transaction(engine) as session:  # then an action comes due within ten days
        action = session.exec(select(Action).where(Action.ref == "I.1.1")).one()
        action.due = date(2000, 1, 12)
        session.add(action)
    assert start_due_campaigns(engine, rules, datetime(2000, 1, 3, 15, tzinfo=UTC)) == 0  # not again that day
    assert campaigns(engine) == []
    assert start_due_campaigns(engine, rules, datetime(2000, 1, 4, 9, tzinfo=UTC)) == 1  # the next day
    assert campaigns(engine) == [("2000-01", date(2000, 1, 4), ["zora"])]


CALENDAR = BusinessCalendar([MAY_DAY])


@pytest.mark.parametrize(
    ("rule", "today", "expected"),
    [
        ({"every": "1mo", "day": 1}, date(2000, 6, 1), "2000-06"),
        ({"every": "1mo", "day": 1}, date(2000, 6, 2), "2000-06"),  # a day late
        ({"every": "1mo", "day": 1}, date(2000, 6, 3), None),  # Saturday
        ({"every": "1mo", "day": 1}, date(2000, 6, 15), "2000-06"),  # the last day it may still start
        ({"every": "1mo", "day": 1}, date(2000, 6, 16), None),
        ({"every": "1mo", "day": 1}, date(2000, 5, 31), None),  # May's started on the 2nd: 29 days ago
        ({"every": "1mo", "day": 28}, date(2001, 1, 2), "2000-12"),  # across the year's end
        ({"every": "3mo", "day": 15}, date(2000, 4, 14), None),  # January's is too old, April's not yet
        ({"every": "3mo", "day": 15}, date(2000, 5, 31), "2000-04"),  # 44 days after the 17th
        ({"every": "3mo", "day": 15}, date(2000, 6, 1), None),  # 45 days: half of April to June
    ],
    ids=[
        "on-its-day",
        "a-day-late",
        "not-on-a-weekend",
        "last-day-of-catch-up",
        "half-the-month-gone",
        "last-months-is-too-old",
        "december-in-january",
        "quarterly-before-its-day",
        "quarterly-late",
        "quarterly-half-gone",
    ],
)
def test_the_due_period_table(rule: dict[str, Any], today: date, expected: str | None) -> None:
    assert due_period(CampaignRule.model_validate(rule), today, CALENDAR) == expected


@given(
    every=st.sampled_from([1, 2, 3, 4, 6, 12]),
    day=st.integers(1, 28),
    today=st.dates(date(1999, 1, 1), date(2030, 12, 31)),
)
def test_a_due_period_started_on_or_before_today_and_less_than_half_its_length_ago(
    every: int, day: int, today: date
) -> None:
    rule = CampaignRule.model_validate({"every": f"{every}mo", "day": day})
    period = due_period(rule, today, CALENDAR)
    if period is None:
        return
    year, month = (int(x) for x in period.split("-"))
    start = start_day(rule, year, month, CALENDAR)
    assert start is not None and CALENDAR.is_business_day(today)
    assert start <= today < catch_up_until(rule, year, month, start)
    assert (catch_up_until(rule, year, month, start) - start).days in range(14 * every, 16 * every + 1)
