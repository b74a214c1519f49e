"""Owner assignment rules (``rules/owners.yaml``): first match wins, unknown owners, section chains."""

from __future__ import annotations

import random
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from engine.errors import InputError, ValidationErrors
from engine.rules.owners import AssignRule, OwnerRules, load, section_chain

RULES = """\
assign:
  - match: "II.3"
    owner: eval
  - match: "II.*"
    owner: codev
  - match: "I.1"
    owner: hrd
"""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "owners.yaml").write_text(RULES, encoding="utf-8")
    return tmp_path


def test_the_first_matching_rule_wins_and_is_numbered(here: Path) -> None:
    rules = load("owners.yaml")
    assert rules.owner_for("II.3.2", ["II.3", "II"]) == ("eval", 1)
    assert rules.owner_for("II.4.1", ["II.4", "II"]) == ("codev", 2)
    assert rules.owner_for("I.1b.1", ["I.1b", "I.1", "I"]) == ("hrd", 3)  # an enclosing section counts
    assert rules.owner_for("I.2.1", ["I.2", "I"]) is None
    assert [str(p) for p in rules.places] == ["owners.yaml:2:5", "owners.yaml:4:5", "owners.yaml:6:5"]


def test_a_missing_file_means_no_rules(here: Path) -> None:
    assert load(here / "nope.yaml") == OwnerRules()
    assert OwnerRules().owner_for("I.1.1", ["I.1", "I"]) is None


def test_unknown_owners_are_each_reported_at_their_rule(here: Path) -> None:
    rules = load("owners.yaml")
    rules.check_owners(["eval", "codev", "hrd"])
    with pytest.raises(ValidationErrors) as caught:
        rules.check_owners(["codev"])
    assert caught.value.exit_code == 2
    assert str(caught.value).splitlines() == [
        "owners.yaml:2:5: assign[0].owner: unknown owner id 'eval'; add it to the owners directory",
        "owners.yaml:6:5: assign[2].owner: unknown owner id 'hrd'; add it to the owners directory",
    ]


def test_an_unknown_owner_is_refused_only_where_its_rule_gives_an_action(here: Path) -> None:
    rules = load("owners.yaml")
    assert rules.check_used(["eval", "codev", "hrd"], {1: ["II.3.1"]}) == ""
    warning = rules.check_used(["codev"], {2: ["II.4.1"]})  # the rules naming eval and hrd give nothing
    assert warning.startswith("owners.yaml:2:5: 2 rule(s) name owners your owners directory does not have (eval, hrd)")
    with pytest.raises(ValidationErrors) as caught:
        rules.check_used(["codev"], {2: ["II.4.1"], 3: [f"I.1.{n}" for n in range(1, 8)]})
    assert caught.value.exit_code == 2
    assert str(caught.value).splitlines() == [
        "owners.yaml:6:5: assign[2].owner: unknown owner id 'hrd': the rule (match 'I.1') would give it "
        "I.1.1, I.1.2, I.1.3, I.1.4, I.1.5 and 2 more, and your owners directory has no 'hrd'; "
        "remove the rule or add the owner"
    ]


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("- match: x\n", "owners.yaml:1:1: expected a mapping with an 'assign:' list", id="a-list"),
        pytest.param(
            "assign:\n  - match: ''\n    owner: x\n", "owners.yaml:2:12: assign[0].match: ", id="empty-pattern"
        ),
        pytest.param(
            "assign:\n  - match: I\n", "owners.yaml:2:5: assign[0]: missing required key 'owner'", id="no-owner"
        ),
    ],
)
def test_bad_owner_rules_file_is_one_line_at_its_place(here: Path, text: str, start: str) -> None:
    (here / "owners.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load("owners.yaml")
    (line,) = str(caught.value).splitlines()
    assert line.startswith(start), line


def test_section_chain_goes_up_to_the_part_and_stops_on_a_loop() -> None:
    parents = {"I.1b": "I.1", "I.1": "I", "I": None, "X": "Y", "Y": "X"}
    assert section_chain("I.1b", parents) == ["I.1b", "I.1", "I"]
    assert section_chain("X", parents) == ["X", "Y"]
    assert section_chain("Z", parents) == ["Z"]


def test_a_plans_matcher_agrees_with_rule_by_rule_matching_and_an_action_id_can_win(here: Path) -> None:
    (here / "owners.yaml").write_text(
        RULES + '  - match: "I.2.[!1]"\n    owner: gender\n  - match: "I.2.*"\n    owner: norms\n'
        '  - match: "*"\n    owner: secretariat\n',
        encoding="utf-8",
    )
    rules = load("owners.yaml")
    parents = {"I": None, "I.1": "I", "I.1b": "I.1", "I.2": "I", "II": None, "II.3": "II", "II.4": "II"}
    matcher = rules.matcher(parents)
    cases = [
        ("II.3.2", "II.3", ("eval", 1)),
        ("II.4.1", "II.4", ("codev", 2)),
        ("I.1b.1", "I.1b", ("hrd", 3)),
        ("I.2.2", "I.2", ("gender", 4)),  # the action's own id matches before the section's chain does
        ("I.2.1", "I.2", ("norms", 5)),
        ("I.2x", "I.2", ("secretariat", 6)),
        ("I.2.3", "I.2", ("gender", 4)),  # asked again: the section's chain is remembered, the id is not
    ]
    for ref, section, expected in cases:
        assert matcher.owner_for(ref, section) == expected, ref
        assert rules.owner_for(ref, section_chain(section, parents)) == expected, ref
    assert OwnerRules().matcher(parents).owner_for("I.1.1", "I.1") is None


def test_the_compiled_rules_agree_with_matching_each_pattern_in_turn() -> None:
    patterns = ["I.1", "I.*", "II.?", "II.[12]*", "III.[!a]", "*b", "I.2a.3", "*.1*", "[I]*.4", "*"]
    parents = {"I": None, "I.1": "I", "I.1b": "I.1", "I.2a": "I", "II": None, "II.1": "II", "III.a": None}
    for seed in range(200):
        pick = random.Random(seed)
        chosen = pick.sample(patterns, pick.randint(1, 6))
        rules = OwnerRules(tuple(AssignRule(match=p, owner=f"o{n}") for n, p in enumerate(chosen, 1)))
        matcher = rules.matcher(parents)
        for section in parents:
            ref = f"{section}.{pick.randint(1, 12)}"
            keys = [ref, *section_chain(section, parents)]
            first = next((n for n, p in enumerate(chosen, 1) if any(fnmatchcase(k, p) for k in keys)), None)
            expected = None if first is None else (f"o{first}", first)
            assert matcher.owner_for(ref, section) == expected, (seed, chosen, ref)
            assert rules.owner_for(ref, keys[1:]) == expected, (seed, chosen, ref)
