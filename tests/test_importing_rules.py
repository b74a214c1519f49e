"""Importing one's own owners and plan into a project made by ``planwatch init``, whose rules/owners.yaml is the
example plan's: rules naming owners the directory lacks matter only where they would give an action its owner."""

from __future__ import annotations

import json
from pathlib import Path

OWNERS = """owners:
  - id: ann
    name: Ann Lee
    email: ann@example.org
    timezone: Europe/Zurich
"""

PLAN = """plan:
  id: own-plan
  title: Our own plan
  symbol: OWN/1
  date: 2026-01-15
  timezone: Europe/Zurich
sections:
  - key: I
    number: I
    title: Part one
  - key: I.1
    parent: I
    number: '1'
    title: The first issue
actions:
  - id: I.1.1
    section: I.1
    title: Write the handbook
    timeframe: By June 2026
    owner: ann
  - id: I.1.2
    section: I.1
    title: Train the staff
    timeframe: By December 2026
{owner}"""


def test_the_example_rules_do_not_stop_a_new_users_own_plan(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "mine.yaml").write_text(OWNERS)
    (workdir / "plan.yaml").write_text(PLAN.format(owner="    owner: ann\n"))
    result = cli("import", "mine.yaml", "plan.yaml")
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    assert "rules/owners.yaml" in out and "name owners your owners directory does not have" in out
    assert "program" in out and "match no action of this plan" in out
    rows = [json.loads(line) for line in cli("actions", "--json").out.splitlines()]
    assert [(r["id"], r["owner"]) for r in rows] == [("I.1.1", "ann"), ("I.1.2", "ann")]


def test_a_rule_naming_an_unknown_owner_is_refused_where_it_would_give_an_action(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    (workdir / "mine.yaml").write_text(OWNERS)
    (workdir / "plan.yaml").write_text(PLAN.format(owner=""))
    result = cli("import", "mine.yaml", "plan.yaml")
    assert result.code == 2
    err = " ".join(result.err.split())
    assert "rules/owners.yaml:5:5: assign[0].owner: unknown owner id 'program'" in err
    assert "I.1.2" in err and "remove the rule or add the owner" in err
    assert len(result.err.strip().splitlines()) == 1  # the one rule that matters, not the example's fourteen
    assert cli("actions", "--json").out.strip() == ""
