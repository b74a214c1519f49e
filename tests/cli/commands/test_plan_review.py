"""``planwatch review``: a plan whose date line names a place with no known time zone is in review, never silently
in UTC, until it is imported with ``--tz`` (or from a place planwatch knows)."""

from __future__ import annotations

from pathlib import Path

from ...conftest import ROOT

SECOND = ROOT / "tests" / "data" / "gb350-pfa7-plan-of-action.txt"
NOT_RECOGNISED = "gb350-pfa7: its time zone was not recognised: the date line's place 'Atlantis' has no time zone"


def _atlantis() -> str:
    path = Path("atlantis.txt")
    path.write_text(SECOND.read_text(encoding="utf-8").replace("Geneva, 4 March", "Atlantis, 4 March"), "utf-8")
    return str(path)


def test_an_unknown_place_puts_the_plan_in_review_until_a_zone_is_given(cli) -> None:  # type: ignore[no-untyped-def]
    plan = _atlantis()
    assert cli("import", plan).code == 0
    shown = cli("review")
    assert shown.code == 0
    assert NOT_RECOGNISED in shown.out and "--tz ZONE" in shown.out
    assert "B.1.2" in shown.out  # the actions to review are listed after it
    exported = cli("export", "plan.yaml")
    assert exported.code == 0
    assert cli("import", "plan.yaml").code == 0  # the plan file says UTC and no place: still in review
    assert NOT_RECOGNISED in cli("review").out
    assert cli("import", "--tz", "Europe/Zurich", plan).code == 0
    assert "not recognised" not in cli("review").out


def test_a_known_place_is_never_in_review_for_its_zone(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", _atlantis()).code == 0
    assert cli("import", str(SECOND)).code == 0  # the same plan from Geneva
    shown = cli("review")
    assert "not recognised" not in shown.out and "B.1.2" in shown.out
