"""Importing plans and owners through the CLI into a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import create_engine, text

from .conftest import SEED, snapshot
from .importers.test_gbtext import seed_timeframe_cells

PLAN = "plans/gb276-tc2-implementation-plan.txt"


def actions_json(cli) -> list[dict]:  # type: ignore[no-untyped-def]
    result = cli("actions", "--json")
    assert result.code == 0, result.err
    return [json.loads(line) for line in result.out.splitlines()]


def test_seed_import_gives_every_cell_as_one_action(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("import", PLAN)
    assert result.code == 0, result.err
    assert "gb276-tc2: plan created, 69 actions." in result.out
    rows = actions_json(cli)
    assert [r["timeframe"] for r in rows if r["timeframe"]] == seed_timeframe_cells()
    assert len(rows) == 69
    empty = [r for r in rows if not r["timeframe"]]
    assert [r["id"] for r in empty] == ["II.1.2", "II.1.3"]
    assert all(r["needs_review"] for r in empty)
    assert {r["timeframe_proposed"] for r in empty} == {
        "Planning of review to begin January 2000 and to finish end 2000"
    }
    for row in rows:
        assert {
            "id",
            "section",
            "title",
            "owner",
            "timeframe",
            "kind",
            "start",
            "due",
            "rrule",
            "status",
            "needs_review",
        } <= row.keys()
        assert row["status"] == "open"
        assert row["id"].startswith(row["section"] + ".")


def test_second_import_keeps_ids_and_reports_nothing_changed(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    first = actions_json(cli)
    result = cli("import", PLAN)
    assert result.code == 0
    assert "Nothing changed." in result.out
    assert actions_json(cli) == first


def test_revised_plan_keeps_ids_owners_and_statuses(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/owners.yaml", PLAN)
    assert cli("done", "I.2a.2", "--note", "outputs published").code == 0
    text = SEED.read_text()
    text = text.replace("First outputs by September 2000", "First outputs by December 2000")
    # insert a new row at the top of 1(b): ids after it must not shift
    text = text.replace(
        "through the international focus (InFocus) programmes: |\n|\n",
        "through the international focus (InFocus) programmes: |\n|\n|\nBy June 2000 | |\n",
        1,
    )
    revised = workdir / "revised.txt"
    revised.write_text(text)
    result = cli("import", str(revised))
    assert result.code == 0, result.err
    assert (
        "time frame changed: I.2a.2: 'First outputs by September 2000' → 'First outputs by December 2000'" in result.out
    )
    assert "added: I.1b.4" in result.out
    rows = {r["id"]: r for r in actions_json(cli)}
    assert rows["I.2a.2"]["status"] == "reported"  # reported implemented, waiting for its verifier
    assert rows["I.2a.2"]["due"] == "2000-12-31"
    assert rows["I.1b.1"]["timeframe"] == "Continuously"
    assert rows["I.1b.4"]["timeframe"] == "By June 2000"
    assert rows["I.1b.3"]["timeframe"] == "Starting immediately"
    assert rows["I.2a.2"]["owner"] == "codev"
    order = [r["id"] for r in actions_json(cli)]
    assert order.index("I.1b.4") < order.index("I.1b.1")
    shown = cli("show", "I.2a.2")
    assert "First outputs by September 2000" in shown.out and "outputs published" in shown.out


def test_removed_row_is_reported_and_hidden(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    revised = workdir / "revised.txt"
    revised.write_text(SEED.read_text().replace("|\nBy March 2000 | |\n", "", 1))
    result = cli("import", str(revised))
    assert "removed: I.3b.3" in result.out
    assert "I.3b.3" not in [r["id"] for r in actions_json(cli)]
    restored = cli("import", PLAN)
    assert "restored: I.3b.3" in restored.out


def test_a_decision_whose_source_changed_goes_back_to_review(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/owners.yaml", PLAN)
    assert cli("set", "I.2a.2", "--due", "2000-10-31", "--note", "agreed").code == 0
    revised = workdir / "revised.txt"
    revised.write_text(SEED.read_text().replace("First outputs by September 2000", "First outputs by March 2001"))
    result = cli("import", str(revised))
    assert result.code == 0, result.err
    assert (
        "warning: I.2a.2: the source changed after your decision (due 2000-10-31): "
        "'First outputs by September 2000' → 'First outputs by March 2001'; back in review"
    ) in " ".join(result.out.split())
    row = {r["id"]: r for r in actions_json(cli)}["I.2a.2"]
    assert (row["due"], row["needs_review"]) == ("2000-10-31", True)  # kept in force, but to be confirmed
    assert row["reason"].startswith("The source changed after your decision: the time frame was ")
    assert "'First outputs by September 2000'" in row["reason"] and "'First outputs by March 2001'" in row["reason"]
    review = [json.loads(line) for line in cli("review", "--json").out.splitlines()]
    assert "I.2a.2" in {r["id"] for r in review}
    assert "source changed after your decision" in " ".join(cli("review").out.split())
    # neither importing the same text again nor deciding another action clears it
    assert "warning" not in cli("import", str(revised)).out
    assert cli("set", "III.d.2", "--due", "2000-12-31").code == 0
    assert {r["id"]: r for r in actions_json(cli)}["I.2a.2"]["needs_review"] is True
    # deciding it again does
    assert cli("set", "I.2a.2", "--due", "2001-03-31").code == 0
    row = {r["id"]: r for r in actions_json(cli)}["I.2a.2"]
    assert (row["due"], row["needs_review"]) == ("2001-03-31", False)
    assert "warning" not in cli("import", str(revised)).out


def test_an_owners_file_that_leaves_optional_keys_out_keeps_what_is_stored(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml").code == 0
    before = {o["id"]: o for o in map(json.loads, cli("owners", "--json").out.splitlines())}
    csv = workdir / "names.csv"
    csv.write_text("id,name,email,timezone\npardev,Rafael Q. Quispe,rafael.quispe@example.org,Europe/Zurich\n")
    result = cli("import", str(csv))
    assert result.code == 0, result.err
    assert "0 owner(s) added, 1 updated" in result.out
    yaml = workdir / "names.yaml"
    yaml.write_text(
        "owners:\n  - {id: ro-bangkok, name: Bangkok office, email: ro-bangkok@example.org, timezone: Asia/Bangkok}\n"
    )
    assert cli("import", str(yaml)).code == 0, cli("import", str(yaml)).err
    after = {o["id"]: o for o in map(json.loads, cli("owners", "--json").out.splitlines())}
    assert after["pardev"]["name"] == "Rafael Q. Quispe"
    assert after["pardev"]["supervisor"] == before["pardev"]["supervisor"] == "ed-devcoop"
    assert after["ro-bangkok"]["supervisor"] == before["ro-bangkok"]["supervisor"] is not None
    assert after["ro-bangkok"]["timezone"] == "Asia/Bangkok"
    engine = create_engine(cli.url)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, delegate_id FROM owner WHERE id = 'pardev'")).one()._mapping)
    engine.dispose()
    assert stored["delegate_id"] == "secretariat"
    # an empty cell of a column that is there says "none"
    csv.write_text(
        "id,name,email,timezone,delegate\npardev,Rafael Q. Quispe,rafael.quispe@example.org,Europe/Zurich,\n"
    )
    assert cli("import", str(csv)).code == 0
    engine = create_engine(cli.url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT delegate_id FROM owner WHERE id = 'pardev'")).scalar_one() is None
    engine.dispose()


def test_identical_rows_are_both_kept_when_the_match_is_ambiguous(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    doubled = workdir / "doubled.txt"
    doubled.write_text(SEED.read_text().replace("|\nBy March 2000 | |\n", "|\nBy March 2000 | |\n" * 2, 1))
    assert cli("import", str(doubled)).code == 0
    assert cli("done", "I.3b.3").code == 0
    assert "Nothing changed." in cli("import", str(doubled)).out
    result = cli("import", PLAN)
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    assert (
        "warning: I.3b.4: the file has one row fewer with the time frame 'By March 2000' in I.3b, "
        "and I.3b.3 and I.3b.4 cannot be told apart, so both are kept"
    ) in out
    assert "removed" not in out
    rows = {r["id"]: r for r in actions_json(cli)}
    assert (rows["I.3b.3"]["status"], rows["I.3b.4"]["status"]) == ("reported", "open")
    assert [r["id"] for r in actions_json(cli) if r["section"] == "I.3b"] == ["I.3b.1", "I.3b.2", "I.3b.3", "I.3b.4"]


def test_yaml_round_trip_changes_nothing(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/owners.yaml", PLAN)
    assert cli("export", "plan.yaml").code == 0
    before = snapshot(cli.url)
    result = cli("import", "plan.yaml")
    assert result.code == 0, result.err
    assert "Nothing changed." in result.out
    after = snapshot(cli.url)
    assert before is not None and after is not None
    before["plan"] = after["plan"] = []  # imported_at moves; nothing else may
    assert before == after
    assert cli("export", "again.yaml").code == 0
    assert Path("plan.yaml").read_text() == Path("again.yaml").read_text()


def test_yaml_edits_owner_title_and_schedule(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/owners.yaml", PLAN)
    cli("export", "plan.yaml")
    text = Path("plan.yaml").read_text()
    text = text.replace(
        "title: (d) action 2 (text not in source)",
        "title: Negotiate the EU framework agreement\n    owner: ro-lima\n    schedule:\n      due: 2000-12-31",
        1,
    )
    Path("plan.yaml").write_text(text)
    result = cli("import", "plan.yaml")
    assert result.code == 0, result.err
    assert "owner changed: III.d.2: pardev → ro-lima" in result.out
    row = {r["id"]: r for r in actions_json(cli)}["III.d.2"]
    assert (row["title"], row["owner"], row["due"], row["needs_review"]) == (
        "Negotiate the EU framework agreement",
        "ro-lima",
        "2000-12-31",
        False,
    )
    # the text format imported again keeps what was edited in the plan file
    cli("import", PLAN)
    row = {r["id"]: r for r in actions_json(cli)}["III.d.2"]
    assert (row["title"], row["owner"], row["due"]) == ("Negotiate the EU framework agreement", "ro-lima", "2000-12-31")


def test_owner_rules_first_match_and_plan_file_wins(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN, "plans/owners.yaml")  # order of files does not matter
    rows = {r["id"]: r for r in actions_json(cli)}
    assert rows["I.1a.1"]["owner"] == "program"  # "I.1" covers I.1a
    assert rows["I.2b.1"]["owner"] == "ro-bangkok"
    assert rows["III.c.1"]["owner"] == "pardev"  # "III.*"
    assert rows["II.3.1"]["owner"] == "hrd"
    rules = Path("rules/owners.yaml")
    rules.write_text(
        rules.read_text().replace(
            "  - match: I.1\n    owner: program\n",
            "  - match: I.1a.1\n    owner: eval\n  - match: I.1\n    owner: program\n",
        )
    )
    cli("import", PLAN)
    rows = {r["id"]: r for r in actions_json(cli)}
    assert rows["I.1a.1"]["owner"] == "eval"
    assert rows["I.1a.2"]["owner"] == "program"


def test_owners_lists_supervisor_chains(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", "plans/owners.yaml")
    result = cli("owners", "--json")
    rows = {r["id"]: r for r in map(json.loads, result.out.splitlines())}
    assert rows["ro-lima"]["chain"] == ["codev", "ed-devcoop", "dg-office"]
    assert rows["dg-office"]["chain"] == []
    assert "Asia/Bangkok" in cli("owners").out


def test_done_and_reopen_are_recorded(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    said = cli("done", "I.1a.1", "--note", "circulated", "--by", "mei").out.strip()
    assert said == "I.1a.1 is reported implemented; the secretariat is asked to verify it."
    assert cli("done", "I.1a.1").out.strip().startswith("I.1a.1 was already reported implemented")
    assert cli("reopen", "I.1a.1", "--by", "mei").code == 0
    assert cli("actions", "--status", "open", "--json").out.count('"I.1a.1"') == 1
    sheet = cli("show", "I.1a.1").out
    assert "circulated" in sheet and "mei" in sheet


def test_unknown_action_suggests_close_ids(cli) -> None:  # type: ignore[no-untyped-def]
    cli("import", PLAN)
    result = cli("show", "I.1a.9")
    assert result.code == 2
    assert re.match(r"planwatch: no action 'I.1a.9'; did you mean I\.1a\.\d", result.err)


def test_the_plan_files_schedule_takes_exactly_the_override_keys() -> None:
    from engine.importers.planyaml import ScheduleOverride
    from engine.plandoc import OVERRIDE_KEYS

    assert tuple(ScheduleOverride.model_fields) == OVERRIDE_KEYS


def test_an_import_written_in_parts_stores_what_one_part_stores(cli, workdir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from engine.store import bulk

    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    whole = snapshot(cli.url)
    assert whole is not None
    one = sorted(whole["action"])
    assert len(one) == 69 and all("'rule:" in repr(row) for row in one)  # every action has its rule's owner
    other = workdir / "parts.db"
    monkeypatch.setattr(bulk, "INSERT_ROWS", 7)  # 10 parts, the last of 6 rows
    assert cli("import", "plans/owners.yaml", PLAN, db=f"sqlite:///{other}").code == 0
    parts = snapshot(f"sqlite:///{other}")
    assert parts is not None

    def same(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:  # the import's instant differs
        return sorted(tuple(v for v in row if not str(v).startswith("datetime.datetime(")) for row in rows)

    assert same(parts["action"]) == same(whole["action"])


def test_an_error_late_in_a_large_plan_names_its_line_and_leaves_the_database_as_it_was(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    before = snapshot(cli.url)
    lines = SEED.read_text(encoding="utf-8").splitlines()
    lines = [*lines[: lines.index("Appendix") + 1], "| ||", "Part IV -- Field offices | ||", "| ||"]
    for issue in range(1, 11):
        lines += [
            f"{issue}. Offices of region {issue} | ||",
            f"{issue}(a) Staffing |",
            "Context and elements for action |",
        ]
        for n in range(2_500):  # 25,000 rows: more than one part of the write
            lines += ["|", "Ongoing | |" if n % 3 else "By 31 December 2000 | |"]
        lines.append("| ||")
    lines.append("Part IV -- Field offices again | ||")  # the last line: a Part read twice
    big = workdir / "plans" / "large.txt"
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("import", "plans/owners.yaml", str(big))
    assert result.code == 2
    assert f"large.txt:{len(lines)}:" in result.err
    assert "Part 'IV' appears twice (first at line 35)" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert snapshot(cli.url) == before


def test_a_plan_files_tags_are_stored_by_its_first_import_as_by_a_later_one(cli, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    from .importers.test_planyaml import PLAN as SMALL

    Path("small.yaml").write_text(SMALL)  # I.1.1 is tagged [report]; I.1.2 has no tags
    assert cli("import", "plans/owners.yaml", "small.yaml").code == 0
    first = _tags_of(cli.url)
    assert first == [("I.1.1", ["report"]), ("I.1.2", [])]  # the rules' `tags:` match from the first import on
    Path("small.yaml").write_text(SMALL.replace("tags: [report]", "tags: [report, board]"))
    assert cli("import", "small.yaml").code == 0
    again = _tags_of(cli.url)
    assert again == [("I.1.1", ["report", "board"]), ("I.1.2", [])]


def _tags_of(url: str) -> list[tuple[str, list[str]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT ref, tags FROM action WHERE plan_id = 'small' ORDER BY ref")).all()
    finally:
        engine.dispose()
    return [(ref, json.loads(tags) if isinstance(tags, str) else tags) for ref, tags in rows]
