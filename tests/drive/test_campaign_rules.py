"""Update campaigns the rules start (``engine.drive.campaign_rules``), through the tick with the injected clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from engine.drive.campaign_rules import start_day, start_due_campaigns
from engine.drive.tick import run_tick
from engine.rules.durations import BusinessCalendar
from engine.rules.loader import load_rules
from engine.rules.policy import CampaignRule
from engine.store import transaction
from engine.store.followup_models import Campaign, CampaignRequest
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
    assert start_due_campaigns(engine, rules, at + timedelta(days=1)) == 0  # the 11th is not the start day
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
