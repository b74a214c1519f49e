"""The commands' renderer keeps its compiled templates in planwatch's cache folder (XDG_CACHE_HOME/planwatch)."""

from __future__ import annotations

from pathlib import Path

PLAN = "plans/gb276-tc2-implementation-plan.txt"
SIMULATE = ("simulate", "--from", "1999-09-28", "--until", "2000-04-15", "--replay", "plans/progress.yaml")


def test_a_simulation_keeps_the_templates_it_checks_and_the_next_one_says_the_same(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    first = cli(*SIMULATE)
    assert first.code == 0, first.err
    kept = sorted((workdir / ".cache" / "planwatch" / "templates").iterdir())
    assert any(p.name.startswith("en-") for p in kept)
    second = cli(*SIMULATE)
    assert (second.code, second.out, second.err) == (first.code, first.out, first.err)
    assert sorted((workdir / ".cache" / "planwatch" / "templates").iterdir()) == kept  # read back, none written
