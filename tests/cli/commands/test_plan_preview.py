"""``planwatch import --dry-run``: what an import would store and change, with nothing stored."""

from __future__ import annotations

from pathlib import Path

from ...conftest import ROOT, snapshot

PLAN = "plans/gb276-tc2-implementation-plan.txt"
SECOND = str(ROOT / "tests" / "data" / "gb350-pfa7-plan-of-action.txt")


def _file_bytes(url: str) -> bytes | None:
    path = Path(url.removeprefix("sqlite:///"))
    return path.read_bytes() if url.startswith("sqlite:///") and path.exists() else None


def test_a_preview_of_a_new_plan_lists_parts_issues_actions_and_readings(cli) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(cli.url)
    result = cli("import", "--dry-run", SECOND)
    assert result.code == 0, result.err
    out = result.out
    assert "nothing is stored" in out
    assert "gb350-pfa7: GB.350/PFA/7 Follow-up to the recommendations of the External Auditor" in out
    assert "17 actions, 1 to review" in out
    assert "Part A — Financial management and reporting" in out
    assert "  A.1 Strengthen the budgetary control of extrabudgetary projects" in out
    assert "A.1.1      By June 2024 → deadline due 2024-06-30" in out
    assert "Introduce a monthly expenditure report for every project above US$1 million" in out
    assert "B.1.2      (empty cell; proposed: By September 2024) → deadline due 2024-09-30 needs review" in out
    assert "To review (1):\n  B.1.2: The time-frame cell is empty in the source" in out
    assert "Against the stored plan: a new plan" in out
    assert snapshot(cli.url) == before  # a SQLite file that did not exist is not created either
    assert cli("actions").out.count("gb350") == 0


def test_a_preview_against_the_stored_plan_says_what_would_change_and_stores_nothing(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", PLAN).code == 0
    text = Path(PLAN).read_text(encoding="utf-8")
    revised = text.replace("Completed by April 2000 | |", "Completed by June 2000 | |", 1)
    revised = revised.replace("|\nBy March 2000 | |\n", "", 1)  # the last row of 3(b) goes
    Path("revised.txt").write_text(revised, encoding="utf-8")
    before, raw = snapshot(cli.url), _file_bytes(cli.url)
    result = cli("import", "--dry-run", "revised.txt")
    assert result.code == 0, result.err
    assert "time frame changed: I.1a.1: 'Completed by April 2000' → 'Completed by June 2000'" in result.out
    assert "removed: I.3b.3" in result.out
    assert "I.1a.1     Completed by June 2000 → deadline due 2000-06-30" in result.out
    assert snapshot(cli.url) == before
    assert _file_bytes(cli.url) == raw
    same = cli("import", "--dry-run", PLAN)
    assert "Against the stored plan: nothing would change." in same.out


def test_a_preview_warns_of_a_place_with_no_known_zone(cli) -> None:  # type: ignore[no-untyped-def]
    text = Path(PLAN).read_text(encoding="utf-8")
    Path("atlantis.txt").write_text(text.replace("Geneva, 28 September 1999.", "Atlantis, 28 September 1999."))
    result = cli("import", "--dry-run", "atlantis.txt")
    assert result.code == 0, result.err
    assert "time zone UTC (from 'Atlantis')" in result.out
    assert "To review: the plan's time zone: 'Atlantis' is not a place planwatch knows" in result.out
    assert "warning: the date line's place 'Atlantis' has no time zone planwatch knows" in result.out
    assert "--tz ZONE" in result.out


def test_a_bad_file_in_a_preview_is_one_line_and_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    text = Path(PLAN).read_text(encoding="utf-8")
    Path("bad.txt").write_text(text.replace("Part II -- Improving", "Part: Improving", 1))
    before = snapshot(cli.url)
    result = cli("import", "--dry-run", "bad.txt")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bad.txt:"), result.err
    assert "expected a Part line" in lines[0]
    assert snapshot(cli.url) == before


def test_a_preview_of_an_owners_file_validates_it_as_the_import_does(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    text = Path("plans/owners.yaml").read_text(encoding="utf-8")
    assert "  - id: codev\n" in text
    bad = text.replace("  - id: codev\n", "  - id: codev\n    away: {from: 2000-07-21, to: 2000-07-01}\n", 1)
    Path("owners-bad.yaml").write_text(bad, encoding="utf-8")
    before = snapshot(cli.url)
    dry = cli("import", "--dry-run", "owners-bad.yaml")
    assert snapshot(cli.url) == before  # a SQLite file that did not exist is not created either
    real = cli("import", "owners-bad.yaml")
    assert (dry.code, real.code) == (2, 2)
    assert dry.err == real.err and real.err.startswith("owners-bad.yaml:")


def test_a_preview_of_an_owners_file_says_what_would_change_in_the_directory(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    text = Path("plans/owners.yaml").read_text(encoding="utf-8")
    extra = "  - id: newbie\n    name: New Person\n    email: new@example.org\n    timezone: Europe/Zurich\n"
    Path("more.yaml").write_text(text.replace("name: Mei Tanaka", "name: Mei Tanaka-Ito") + extra, encoding="utf-8")
    before = snapshot(cli.url)
    dry = cli("import", "--dry-run", "more.yaml")
    assert dry.code == 0, dry.err
    out = " ".join(dry.out.split())
    assert "more.yaml: 1 owner(s) would be added, 1 would be updated" in out
    assert "added: newbie" in out and "updated: codev" in out
    assert "Nothing was stored" in out
    assert snapshot(cli.url) == before


def test_a_preview_of_a_csv_takes_its_date_from_date_and_says_when_the_file_wins(cli) -> None:  # type: ignore[no-untyped-def]
    Path("follow.csv").write_text("Reference,Action,Deadline\nR1,Publish the report,within six months\n", "utf-8")
    refused = cli("import", "--dry-run", "follow.csv")
    assert refused.code == 2 and refused.err.strip().endswith("or give the plan's date with --date YYYY-MM-DD")
    result = cli("import", "--dry-run", "--date", "2024-03-04", "follow.csv")
    assert result.code == 0, result.err
    assert "dated 2024-03-04" in result.out and "R1         within six months → deadline due 2024-09-04" in result.out
    assert "\nfollow\n" in result.out and "Part  —" not in result.out  # a sheet without Parts: its name alone
    dated = Path("dated.csv")
    dated.write_text("Geneva, 28 September 1999.\nReference,Action,Deadline\nR1,Publish,within six months\n", "utf-8")
    result = cli("import", "--dry-run", "--date", "2024-03-04", "dated.csv")
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    assert "dated 1999-09-28" in out
    assert "warning: the file gives the plan's date as 1999-09-28; --date 2024-03-04 was not used" in out
