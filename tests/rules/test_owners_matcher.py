"""The owner rules compiled for one plan (``OwnerMatcher``) give every action what the rules read one by one give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import Location
from engine.rules.owners import AssignRule, OwnerRules, section_chain

SECTIONS = {"I": None, "I.1": "I", "I.1a": "I.1", "I.10": "I", "I.10a": "I.10", "II": None, "II.1": "II", "III": None}
PIECES = ["I", "II", "III", ".", "1", "10", "a", "*", "?", "[ab]", "[", "x"]


@st.composite
def rules(draw: st.DrawFn) -> OwnerRules:
    patterns = draw(st.lists(st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join), max_size=6))
    assign = tuple(AssignRule(match=p, owner=f"o{n}") for n, p in enumerate(patterns, 1))
    return OwnerRules(assign, tuple(Location("rules/owners.yaml", n) for n in range(1, len(assign) + 1)))


@settings(max_examples=400, deadline=None)
@given(rules(), st.sampled_from(sorted(SECTIONS)), st.sampled_from(["1", "2", "10", "x"]))
def test_the_matcher_gives_each_action_the_first_rule_that_matches_it_or_a_section_around_it(
    found: OwnerRules, section: str, number: str
) -> None:
    matcher = found.matcher(SECTIONS)
    ref = f"{section}.{number}"
    assert matcher.owner_for(ref, section) == found.owner_for(ref, section_chain(section, SECTIONS))


def test_a_rule_for_one_action_wins_over_a_later_rule_for_its_section() -> None:
    assign = (AssignRule(match="I.10a.2", owner="one"), AssignRule(match="I.1*", owner="part"))
    found = OwnerRules(assign, (Location("r", 1), Location("r", 2)))
    matcher = found.matcher(SECTIONS)
    assert matcher.owner_for("I.10a.2", "I.10a") == ("one", 1)
    assert matcher.owner_for("I.10a.3", "I.10a") == ("part", 2)
    assert matcher.owner_for("I.1a.2", "I.1a") == ("part", 2)  # begins as rule 1 does, yet does not match it
