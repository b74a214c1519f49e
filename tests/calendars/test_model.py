"""The feed's data types: value semantics (the text cache keys on them), the due date in force, a VEVENT's STATUS."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from engine.calendars.model import ActionInfo, EventSpec, PlanInfo

AT = datetime(2000, 3, 1, 9, tzinfo=UTC)


def action(**changes: object) -> ActionInfo:
    base: dict[str, object] = {
        "id": 1,
        "plan_id": "p",
        "ref": "I.1.1",
        "ordinal": 1,
        "section_key": "I.1",
        "title": "Write the report",
        "timeframe": "by 30 April 2000",
        "kind": "deadline",
        "status": "open",
        "owner_id": "zv",
        "updated_at": AT,
        "due": date(2000, 4, 30),
    }
    base.update(changes)
    return ActionInfo(**base)  # type: ignore[arg-type]


def spec(state: str) -> EventSpec:
    return EventSpec("k", "p", "I.1.1", "due", "u", date(2000, 4, 30), "s", "d", "", (), state, AT)


def test_the_due_date_in_force_is_the_extension_when_one_was_granted() -> None:
    assert action().due_day == date(2000, 4, 30)
    assert action(extended_to=date(2000, 6, 30)).due_day == date(2000, 6, 30)
    assert action(due=None).due_day is None


@pytest.mark.parametrize(
    ("state", "status"),
    [("open", "CONFIRMED"), ("done", "CONFIRMED"), ("hold", "TENTATIVE"), ("cancelled", "CANCELLED")],
)
def test_the_vevent_status_follows_the_state(state: str, status: str) -> None:
    assert spec(state).status == status


def test_equal_data_is_one_key_and_a_change_is_another() -> None:
    """The event cache keys on these values: equal content must hash alike, and any change must not."""
    plan = PlanInfo("p", "A plan", "P/1", "Europe/Zurich", date(2000, 1, 1), AT)
    same = PlanInfo("p", "A plan", "P/1", "Europe/Zurich", date(2000, 1, 1), AT)
    assert plan == same and hash(plan) == hash(same)
    assert len({action(), action(), action(status="done"), action(tags=("x",))}) == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.title = "changed"  # type: ignore[misc]
