"""Time frames inside the plan: the CLI contract, the review queue, decisions and event links."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from ...conftest import ROOT

PLAN = "plans/gb276-tc2-implementation-plan.txt"
KEYS = ["text", "kind", "start", "due", "rrule", "milestones", "event", "needs_review", "reason"]


def planwatch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_timeframe_command_prints_the_contract_object() -> None:
    out = planwatch("timeframe", "First outputs by September 2000", "--ref", "1999-09-28", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert list(obj) == KEYS
    assert (obj["kind"], obj["due"], obj["milestones"][0]["label"]) == ("deadline", "2000-09-30", "First outputs")


def test_timeframe_batch_is_json_lines_in_input_order() -> None:
    phrases = ["Annually or at least biennially", "", "Linked to review of field structure", "By September"]
    out = planwatch("timeframe", "--ref", "1999-09-28", "--json", stdin="\n".join(phrases) + "\n")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["text"] for r in rows] == phrases
    assert [r["kind"] for r in rows] == ["recurring", "unscheduled", "event", "deadline"]
    assert rows[0]["rrule"] == "FREQ=YEARLY" and rows[3]["due"] == "2000-09-30" and rows[3]["needs_review"]


def test_timeframe_with_a_bad_reference_date_is_a_usage_error() -> None:
    out = planwatch("timeframe", "By June 2000", "--ref", "28/09/1999", "--json")
    assert out.returncode == 2
    assert out.stderr.strip() == "planwatch: --ref: expected a date YYYY-MM-DD, got '28/09/1999'"


def test_every_action_stores_its_reading(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    rows = {r["id"]: r for r in map(json.loads, cli("actions", "--json").out.splitlines())}
    assert (rows["I.1a.1"]["kind"], rows["I.1a.1"]["due"], rows["I.1a.1"]["needs_review"]) == (
        "deadline",
        "2000-04-30",
        False,
    )
    assert (rows["I.1a.2"]["kind"], rows["I.1a.2"]["rrule"]) == ("recurring", "FREQ=YEARLY")
    assert "biennially" in rows["I.1a.2"]["reason"]
    assert (rows["III.d.2"]["kind"], rows["III.d.2"]["needs_review"]) == ("unscheduled", True)
    table = cli("actions").out
    assert "deadline due 2000-04-30" in table  # the reading next to the phrase


def test_event_linked_actions_are_proposed_to_follow_the_heading_they_name(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    rows = {r["id"]: r for r in map(json.loads, cli("actions", "--json").out.splitlines())}
    linked = rows["II.2.6"]
    assert (linked["kind"], linked["event"], linked["after"], linked["due"]) == (
        "event",
        "review of field structure",
        "II.1.1",
        "2000-12-31",
    )
    assert linked["needs_review"] is True
    assert "confirm that it follows II.1.1, or give it a date of its own." in linked["reason"]


def test_review_lists_what_needs_a_decision_and_set_resolves_it(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    queue = [json.loads(line) for line in cli("review", "--json").out.splitlines()]
    ids = {r["id"] for r in queue}
    assert {"II.1.2", "II.1.3", "II.2.6", "III.d.2", "I.3b.2"} <= ids
    assert all(r["reason"] for r in queue)
    assert cli("set", "III.d.2", "--due", "2000-12-31", "--note", "agreed with PARDEV", "--by", "mei").code == 0
    assert cli("set", "II.2.6", "--after", "II.1.1", "--by", "mei").code == 0
    after = {r["id"] for r in map(json.loads, cli("review", "--json").out.splitlines())}
    assert after == ids - {"III.d.2", "II.2.6"}
    rows = {r["id"]: r for r in map(json.loads, cli("actions", "--json").out.splitlines())}
    assert (rows["III.d.2"]["due"], rows["III.d.2"]["needs_review"]) == ("2000-12-31", False)
    assert (rows["II.2.6"]["after"], rows["II.2.6"]["due"], rows["II.2.6"]["needs_review"]) == (
        "II.1.1",
        "2000-12-31",
        False,
    )
    sheet = cli("show", "III.d.2").out
    assert "mei" in sheet and "due=2000-12-31" in sheet and "agreed with PARDEV" in sheet


def test_a_due_date_makes_an_unscheduled_or_event_reading_a_deadline(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/owners.yaml", PLAN)
    result = cli("set", "III.d.2", "--due", "2000-12-31")
    assert result.code == 0, result.err
    assert "III.d.2 is now a deadline (it was unscheduled)." in result.out
    linked = cli("set", "II.2.6", "--due", "2001-03-31")
    assert "II.2.6 is now a deadline (it was event)." in linked.out
    rows = {r["id"]: r for r in map(json.loads, cli("actions", "--json").out.splitlines())}
    assert (rows["III.d.2"]["kind"], rows["III.d.2"]["due"], rows["III.d.2"]["needs_review"]) == (
        "deadline",
        "2000-12-31",
        False,
    )
    assert (rows["II.2.6"]["kind"], rows["II.2.6"]["due"]) == ("deadline", "2001-03-31")
    plain = cli("set", "I.1a.1", "--due", "2000-05-31")  # already a deadline: only the date moves
    assert "is now a" not in plain.out.split("read as")[0]
    reminders = cli("preview", "--date", "2000-12-01")
    assert reminders.code == 0 and "III.d.2" in reminders.out


def test_set_refuses_loops_and_bad_values(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    assert cli("set", "II.1.1", "--after", "II.2.6").code == 0
    loop = cli("set", "II.2.6", "--after", "II.1.1")
    assert loop.code == 2 and "dependency loop: II.2.6 -> II.1.1 -> II.2.6" in loop.err
    bad = cli("set", "I.1a.1", "--rrule", "FREQ=SOMETIMES")
    assert bad.code == 2 and bad.err.startswith("planwatch: --rrule: expected an RFC 5545 rule like FREQ=YEARLY")
    order = cli("set", "I.1a.1", "--start", "2000-05-01", "--due", "2000-04-01")
    assert order.code == 2 and "before start" in order.err


def test_a_plan_file_override_wins_and_clears_review(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    cli("export", "plan.yaml")
    text = (
        Path("plan.yaml")
        .read_text()
        .replace(
            "timeframe: Under negotiation",
            "timeframe: Under negotiation\n    schedule:\n      kind: deadline\n      due: 2001-06-30",
        )
    )
    Path("plan.yaml").write_text(text)
    assert cli("import", "plan.yaml").code == 0
    row = {r["id"]: r for r in map(json.loads, cli("actions", "--json").out.splitlines())}["III.d.2"]
    assert (row["kind"], row["due"], row["needs_review"], row["timeframe"]) == (
        "deadline",
        "2001-06-30",
        False,
        "Under negotiation",
    )
    assert row["reason"] == "Set in the plan file: kind deadline, due 2001-06-30."


def test_named_events_date_event_linked_actions(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    events = Path("rules/events.yaml")
    events.write_text(
        events.read_text()
        + '  - name: Field structure review\n    aka: ["review of field structure"]\n    date: 2000-10-31\n'
    )
    cli("import", PLAN)
    row = {r["id"]: r for r in map(json.loads, cli("actions", "--json").out.splitlines())}["II.2.6"]
    assert (row["due"], row["needs_review"]) == ("2000-10-31", False)
    assert "rules/events.yaml" in row["reason"]


def test_actions_refuses_an_unknown_status_and_names_the_statuses(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    result = cli("actions", "--status", "bogus")
    assert (result.code, result.out) == (2, "")
    assert result.err.strip() == (
        "planwatch: --status: expected one of open, in_progress, reported, done, dropped, on_hold, got 'bogus'"
    )


def test_an_empty_list_says_what_is_true(cli) -> None:  # type: ignore[no-untyped-def]
    assert "No actions. Import a plan first" in cli("actions").out
    assert "No actions. Import a plan first" in cli("review").out
    cli("import", PLAN)
    nobody = cli("actions", "--owner", "nobody")
    assert nobody.code == 0 and "No action matches these filters." in nobody.out and "Import" not in nobody.out
    for row in map(json.loads, cli("review", "--json").out.splitlines()):
        assert cli("set", row["id"], "--kind", "unscheduled").code == 0
    queue = cli("review").out
    assert "Nothing to review: no time frame needs a decision." in queue and "Import" not in queue


def test_a_french_place_name_gives_its_zone_and_an_unknown_one_is_a_warning(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    text = Path(PLAN).read_text(encoding="utf-8")
    Path("geneve.txt").write_text(text.replace("Geneva, 28 September 1999.", "Genève, 28 September 1999."))
    result = cli("import", "geneve.txt")
    assert result.code == 0, result.err
    assert "warning" not in result.out
    assert "timezone: Europe/Zurich" in cli("export", "-").out
    Path("atlantis.txt").write_text(text.replace("Geneva, 28 September 1999.", "Atlantis, 28 September 1999."))
    unknown = cli("import", "atlantis.txt", "--plan-id", "atlantis")
    assert unknown.code == 0, unknown.err
    assert "warning: the date line's place 'Atlantis' has no time zone planwatch knows" in unknown.out
    assert "--tz ZONE" in unknown.out


def test_importing_without_a_rules_folder_warns_and_names_the_folder(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("--rules", "elsewhere", "import", "plans/owners.yaml", PLAN)
    assert result.code == 0, result.err
    assert "warning: no rules folder at elsewhere: no owner rules were applied" in result.out
    assert "no rules folder" not in cli("import", PLAN).out  # rules/ is there


def test_a_session_in_an_unnamed_season_is_read_for_review() -> None:
    out = planwatch("timeframe", "Before the spring session of Parliament", "--ref", "1999-09-28", "--json")
    obj = json.loads(out.stdout)
    assert (obj["kind"], obj["due"], obj["needs_review"]) == ("deadline", "2000-02-29", True)
    assert "no year is given, so the next one after the reference date is assumed" in obj["reason"]


def test_owners_shows_an_away_period_and_its_deputy(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    owners = workdir / "plans" / "owners.yaml"
    text = owners.read_text(encoding="utf-8")
    away = "    timezone: Asia/Bangkok\n    away: {from: 2000-07-01, to: 2000-07-31, deputy: ro-lima}\n"
    owners.write_text(text.replace("    timezone: Asia/Bangkok\n", away, 1), encoding="utf-8")
    assert cli("import", "plans/owners.yaml").code == 0
    listed = {r["id"]: r for r in map(json.loads, cli("owners", "--json").out.splitlines())}
    assert {k: listed["ro-bangkok"][k] for k in ("away_from", "away_to", "deputy")} == {
        "away_from": "2000-07-01",
        "away_to": "2000-07-31",
        "deputy": "ro-lima",
    }
    assert listed["ro-lima"]["away_from"] is None and listed["ro-lima"]["deputy"] is None
    result = cli("owners")
    assert result.code == 0, result.err
    assert "away (deputy)" in result.out
    lines = result.out.splitlines()
    row = next(i for i, line in enumerate(lines) if "ro-bangkok" in line)
    folded = [row] + [i for i in range(row + 1, row + 3) if lines[i].split("│")[1].strip() == ""]  # a cell may fold
    cells = [lines[i].split("│")[-3].strip() for i in folded]
    assert " ".join(cells).strip() == "2000-07-01 to 2000-07-31, deputy ro-lima", result.out


def test_show_and_why_tell_of_an_action_removed_from_the_plan(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    from ...conftest import SEED

    assert cli("import", "plans/owners.yaml", "plans/gb276-tc2-implementation-plan.txt").code == 0
    revised = workdir / "revised.txt"
    revised.write_text(SEED.read_text().replace("|\nBy March 2000 | |\n", "", 1))
    assert "removed: I.3b.3" in cli("import", str(revised)).out
    shown = cli("show", "I.3b.3")
    assert shown.code == 0, shown.err
    said = " ".join(shown.out.split())
    assert re.search(r"I\.3b\.3 was removed from the plan on \d{4}-\d\d-\d\d by the import of revised\.txt;", said)
    assert "By March 2000" in said  # the sheet itself follows
    why = cli("why", "I.3b.3")
    assert why.code == 0, why.err
    assert "by the import of revised.txt" in " ".join(why.out.split())
    assert cli("show", "I.3b.9").code == 2  # an id never used is still unknown


def test_owners_shows_each_owners_digest(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    text = Path("plans/owners.yaml").read_text(encoding="utf-8")
    Path("owners.yaml").write_text(text.replace("name: Mei Tanaka\n", "name: Mei Tanaka\n    digest: weekly\n"))
    assert cli("import", "owners.yaml").code == 0
    table = cli("owners").out
    assert "digest" in table
    mei = next(line for line in table.splitlines() if "codev" in line and "Mei" in line)
    assert "weekly" in mei
    rows = {r["id"]: r for r in map(json.loads, cli("owners", "--json").out.splitlines())}
    assert (rows["codev"]["digest"], rows["program"]["digest"]) == ("weekly", "none")
