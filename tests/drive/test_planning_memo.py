"""What planning works out once per run and shares between actions chooses as the rules choose, action by action."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from engine.drive.planning import plan_due
from engine.drive.simulate import start_cursors
from engine.importing import import_paths
from engine.rules.loader import RuleSet, load_rules
from engine.rules.policy import ActionFacts, Match, Policy, PolicyChooser
from engine.settings import Settings
from engine.store import make_engine, tables, upgrade

from ..conftest import ROOT

DATA = Path(__file__).parent.parent / "data"
T0 = datetime(2000, 1, 3, 12, tzinfo=UTC)
A, OUT = tables.ACTION, tables.OUTBOX

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


RULES_BY_TAG = """\
policies:
  - name: board
    match: {tag: board}
    remind:
      - before: 14d
  - name: others
    remind:
      - before: 7d
"""

PLAN_WITH_TAGS = """\
plan: {id: tagged, title: Tags, symbol: T/2, date: 2000-01-03, timezone: Europe/Zurich}
sections:
  - {key: I, number: I, title: Part one}
actions:
  - {id: I.1, section: I, title: For the board, timeframe: By March 2000, owner: zora}
  - {id: I.2, section: I, title: Also the board, timeframe: By March 2000, owner: zora}
  - {id: I.3, section: I, title: Not tagged, timeframe: By March 2000, owner: zora}
  - {id: I.4, section: I, title: Other tags, timeframe: By March 2000, owner: zora}
"""
TAGGED = {"I.1": ["board"], "I.2": ["hr", "board"], "I.3": [], "I.4": ["hr"]}


def test_actions_get_the_policy_their_tags_match(database_url: str, tmp_path: Path) -> None:
    """The tags read from the database (as JSON text, decoded once per distinct list) choose the policy."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "policies.yaml").write_text(RULES_BY_TAG, encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(PLAN_WITH_TAGS, encoding="utf-8")
    engine = make_engine(database_url)
    upgrade(engine)
    settings = Settings(
        database_url=database_url,
        rules_dir=tmp_path / "rules",
        templates_dir=ROOT / "templates",
        maildir=tmp_path / "mail",
    )
    import_paths(engine, [DATA / "small-owners.yaml", tmp_path / "plan.yaml"], settings, T0)
    with engine.begin() as conn:  # a plan file's tags are not stored by a first import (as of this writing)
        for ref, tags in TAGGED.items():
            conn.execute(update(A).where(A.c.ref == ref).values(tags=tags))
    start_cursors(engine, T0)
    plan_due(engine, load_rules(tmp_path / "rules"), datetime(2000, 3, 27, 12, tzinfo=UTC))  # both reminders have come
    with engine.connect() as conn:
        policies = dict(conn.execute(select(A.c.ref, A.c.policy)).all())
        steps = dict(conn.execute(select(A.c.ref, OUT.c.step).join(OUT, OUT.c.action_id == A.c.id)).all())
    engine.dispose()
    assert policies == {"I.1": "board", "I.2": "board", "I.3": "others", "I.4": "others"}
    assert steps == {"I.1": "remind:due:14d", "I.2": "remind:due:14d", "I.3": "remind:due:7d", "I.4": "remind:due:7d"}
