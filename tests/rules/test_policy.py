"""Policy models built in code: their checks, matching with and without the sentence, and check-in kinds."""

from __future__ import annotations

from datetime import date

import pytest

from engine.rules.policy import ActionFacts, Match, Policy, explain_match, fits, wants_checkin


def test_policies_built_in_code_are_checked_too() -> None:
    with pytest.raises(ValueError, match=r"can never fire: deadline actions get no check-ins"):
        Policy.model_validate({"name": "x", "match": {"kind": "deadline"}, "checkin": {"every": "3mo"}})


FACTS = ActionFacts("II.2.6", ("II.2", "II"), "deadline", "codev", ("board",))


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        pytest.param({}, (True, "it matches every action"), id="empty-match"),
        pytest.param(
            {"section": "II", "tag": ["board", "hr"]},
            (True, "section II.2 fits II; tag board fits board or hr"),
            id="enclosing-section-and-tag",
        ),
        pytest.param({"kind": "deadline", "owner": "eval"}, (False, "owner codev is not eval"), id="second-key-fails"),
        pytest.param({"tag": "hr"}, (False, "tag board is not hr"), id="tag-fails"),
    ],
)
def test_explain_match_says_why_and_fits_agrees(match: dict[str, object], expected: tuple[bool, str]) -> None:
    model = Match.model_validate(match)
    assert explain_match(model, FACTS) == expected
    assert fits(model, FACTS) is expected[0]


def test_an_action_without_owner_or_tags_fits_only_matches_that_ask_nothing_of_them() -> None:
    bare = ActionFacts("I.1b.1", ("I.1b", "I.1", "I"), "continuous", None)
    assert explain_match(Match(owner=["codev"]), bare) == (False, "owner (none) is not codev")
    assert explain_match(Match(tag=["board"]), bare) == (False, "tag (none) is not board")
    assert fits(Match(section=["I.1"], kind=["continuous"]), bare)
    assert fits(Match(section=["I.1b.1"]), bare)  # the action's own id counts too
    assert not fits(Match(section=["I.1a*"]), bare)


@pytest.mark.parametrize(
    ("kind", "due", "expected"),
    [
        ("continuous", None, True),
        ("start", date(2000, 1, 1), True),
        ("unscheduled", None, True),
        ("event", None, True),
        ("event", date(2000, 3, 31), False),
        ("deadline", date(2000, 3, 31), False),
        ("recurring", None, False),
    ],
)
def test_wants_checkin(kind: str, due: date | None, expected: bool) -> None:
    assert wants_checkin(kind, due) is expected


def test_recipients_are_roles_or_addresses() -> None:
    policy = Policy.model_validate(
        {"name": "x", "escalate": [{"after": "1d", "to": "supervisor.supervisor"}, {"after": "2d", "to": "a@b.org"}]}
    )
    assert [step.to for step in policy.escalate] == [["supervisor.supervisor"], ["a@b.org"]]
    with pytest.raises(ValueError, match=r"unknown recipient 'superviser'"):
        Policy.model_validate({"name": "x", "escalate": [{"after": "1d", "to": ["owner", "superviser"]}]})


def test_a_policy_serialises_durations_and_hours_as_written() -> None:
    policy = Policy.model_validate({"name": "x", "remind": [{"before": "P1M"}], "delivery": {"hour": 8}})
    dumped = policy.model_dump(mode="json")
    assert dumped["remind"][0]["before"] == "1mo"
    assert dumped["delivery"]["hour"] == "08:00"
    assert dumped["limits"]["backoff_every"] == "7d"
