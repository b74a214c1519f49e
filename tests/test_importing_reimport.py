"""Importing a plan again after people changed it by hand: reassignments, hand-backs and date decisions."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import SEED

PLAN = "plans/gb276-tc2-implementation-plan.txt"


def _plan_file(cli, workdir: Path, owners: dict[str, str], replace: tuple[str, str] | None = None) -> Path:  # type: ignore[no-untyped-def]
    """Export the stored plan as a plan file naming ``owners`` (action id: owner id) and return its path."""
    path = workdir / "plan.yaml"
    assert cli("export", str(path)).code == 0
    lines = []
    current = ""
    for line in path.read_text().splitlines():
        if line.startswith("  - id: "):
            current = line.removeprefix("  - id: ").strip()
        lines.append(line)
        if line.startswith("    timeframe: ") and current in owners:
            lines.append(f"    owner: {owners[current]}")
    text = "\n".join(lines) + "\n"
    if replace:
        text = text.replace(*replace)
    path.write_text(text)
    return path


def _owner(cli, ref: str) -> str | None:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in cli("actions", "--json").out.splitlines()]
    return {r["id"]: r for r in rows}[ref]["owner"]


def _changes(out: str) -> list[str]:
    """The lines of an import's (or a dry-run's) report that say what changed, as printed."""
    keys = ("added:", "removed:", "restored:", "title changed:", "schedule re-read:", "time frame changed:")
    keys += ("owner changed:", "warning:")
    return [" ".join(line.split()) for line in out.splitlines() if line.strip().startswith(keys)]


def test_a_reassignment_is_kept_when_the_plan_files_owner_is_unchanged(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    plan = _plan_file(cli, workdir, {"I.2a.2": "codev", "I.2a.3": "codev"})
    assert cli("import", str(plan)).code == 0
    assert cli("reassign", "I.2a.2", "hrd").code == 0
    assert cli("not-mine", "I.2a.3", "--by", "codev").code == 0
    dry = cli("import", "--dry-run", str(plan))
    assert dry.code == 0, dry.err
    real = cli("import", str(plan))
    assert real.code == 0, real.err
    assert "owner changed" not in real.out
    assert (_owner(cli, "I.2a.2"), _owner(cli, "I.2a.3")) == ("hrd", None)
    assert _changes(dry.out) == _changes(real.out)
    assert "Against the stored plan: nothing would change." in dry.out and "Nothing changed." in real.out
    # a second import of the same file keeps them too
    assert "owner changed" not in cli("import", str(plan)).out
    assert _owner(cli, "I.2a.2") == "hrd"


def test_a_plan_file_that_changes_a_reassigned_actions_owner_wins_and_says_so(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    plan = _plan_file(cli, workdir, {"I.2a.2": "codev"})
    assert cli("import", str(plan)).code == 0
    assert cli("reassign", "I.2a.2", "hrd").code == 0
    plan = _plan_file(cli, workdir, {"I.2a.2": "eval"})
    dry = cli("import", "--dry-run", str(plan))
    real = cli("import", str(plan))
    assert real.code == 0, real.err
    assert "owner changed: I.2a.2: hrd → eval" in _changes(real.out)
    assert _changes(dry.out) == _changes(real.out)
    assert _owner(cli, "I.2a.2") == "eval"
    review = " ".join(cli("review").out.split())
    assert "I.2a.2" in review
    row = [json.loads(line) for line in cli("review", "--json").out.splitlines()]
    reason = {r["id"]: r for r in row}["I.2a.2"]["reason"]
    assert "the plan now names" in reason and "you had given it to" in reason


def test_a_date_decision_stays_in_force_when_the_plan_files_phrase_changes(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    plan = _plan_file(cli, workdir, {})
    assert cli("import", str(plan)).code == 0
    assert cli("set", "I.2a.2", "--due", "2000-11-20", "--by", "secretariat").code == 0
    plan = _plan_file(cli, workdir, {}, ("First outputs by September 2000", "First outputs by December 2000"))
    text = plan.read_text()
    # the file as the user keeps it: no schedule written for the action
    assert "First outputs by December 2000" in text
    dry = cli("import", "--dry-run", str(plan))
    real = cli("import", str(plan))
    assert real.code == 0, real.err
    assert _changes(dry.out) == _changes(real.out)
    rows = {r["id"]: r for r in (json.loads(line) for line in cli("actions", "--json").out.splitlines())}
    assert (rows["I.2a.2"]["due"], rows["I.2a.2"]["needs_review"]) == ("2000-11-20", True)
    reason = rows["I.2a.2"]["reason"]
    assert reason.startswith("The source changed after your decision")
    assert "'First outputs by September 2000'" in reason and "'First outputs by December 2000'" in reason
    assert "deadline due 2000-12-31" in reason  # the new text's own reading, offered


def test_a_dry_run_says_what_the_real_import_says_for_a_revised_text(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    revised = workdir / "revised.txt"
    text = SEED.read_text().replace("First outputs by September 2000", "First outputs by December 2000")
    revised.write_text(text.replace("|\nBy March 2000 | |\n", "", 1))
    dry = cli("import", "--dry-run", str(revised))
    real = cli("import", str(revised))
    assert real.code == 0, real.err
    assert _changes(dry.out) == _changes(real.out)
    assert any(line.startswith("removed:") for line in _changes(real.out))


def test_a_schedule_only_a_plan_file_gave_goes_when_the_file_drops_it(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    plan = _plan_file(cli, workdir, {})
    plain = plan.read_text()
    marker = "    timeframe: First outputs by September 2000\n"
    plan.write_text(plain.replace(marker, marker + "    schedule:\n      kind: deadline\n      due: 2000-11-20\n"))
    assert cli("import", str(plan)).code == 0
    rows = {r["id"]: r for r in (json.loads(line) for line in cli("actions", "--json").out.splitlines())}
    assert rows["I.2a.2"]["due"] == "2000-11-20"
    plan.write_text(plain)
    assert cli("import", str(plan)).code == 0
    rows = {r["id"]: r for r in (json.loads(line) for line in cli("actions", "--json").out.splitlines())}
    assert (rows["I.2a.2"]["due"], rows["I.2a.2"]["needs_review"]) == ("2000-09-30", False)
