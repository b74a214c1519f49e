"""What planning works out once per run and shares between actions chooses as the rules choose, action by action."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules.loader import RuleSet
from engine.rules.policy import ActionFacts, Match, Policy, PolicyChooser

KINDS = ["deadline", "window", "continuous", "recurring"]
CHAINS = [("I",), ("I.1", "I"), ("I.1a", "I.1", "I"), ("II",), ("II.2", "II")]  # a section and its ancestors
SECTIONS = [chain[0] for chain in CHAINS]
REFS = ["I.1a.1", "I.1a.2", "I.1.3", "II.2.6", "II.2.7"]
OWNERS = ["codev", "eval", None]
TAGS = ["board", "hr"]


patterns = st.one_of(st.sampled_from(SECTIONS + REFS), st.sampled_from(["I.1a.*", "II*", "*.7", "I.1?"]))
matches = st.builds(
    Match,
    kind=st.none() | st.lists(st.sampled_from(KINDS), min_size=1, max_size=2),
    section=st.none() | st.lists(patterns, min_size=1, max_size=2),
    owner=st.none() | st.lists(st.sampled_from(["codev", "eval", "e*"]), min_size=1, max_size=2),
    tag=st.none() | st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
)
facts = st.builds(
    lambda ref, chain, kind, owner, tags: ActionFacts(ref, chain, kind, owner, tuple(tags)),
    st.sampled_from(REFS),
    st.sampled_from(CHAINS),
    st.sampled_from(KINDS),
    st.sampled_from(OWNERS),
    st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(matches, max_size=4), st.lists(facts, min_size=1, max_size=12))
def test_the_chooser_picks_the_policy_the_rules_pick_for_every_action(
    matches: list[Match], actions: list[ActionFacts]
) -> None:
    rules = RuleSet(tuple(Policy(name=f"p{i}", match=m) for i, m in enumerate(matches)))
    chooser = PolicyChooser(rules.policies)
    for action in actions * 2:  # the second time from what the chooser remembered
        chosen = chooser.policy_of(action.ref, tuple(action.sections), action.kind, action.owner, tuple(action.tags))
        assert chosen is rules.policy_of(action)


def test_actions_alike_but_for_their_ref_get_the_policy_their_ref_matches() -> None:
    by_ref = Policy(name="by-ref", match=Match(section=["I.1a.2"]))
    by_kind = Policy(name="by-kind", match=Match(kind=["deadline"]))
    chooser = PolicyChooser((by_ref, by_kind))
    chain = ("I.1a", "I.1", "I")
    assert chooser.policy_of("I.1a.1", chain, "deadline", "codev", ()) is by_kind
    assert chooser.policy_of("I.1a.2", chain, "deadline", "codev", ()) is by_ref
    assert chooser.policy_of("I.1a.1", chain, "continuous", "codev", ()) is None
    assert chooser.policy_of("I.1a.2", chain, "continuous", "codev", ()) is by_ref
