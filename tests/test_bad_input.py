"""Bad input gets one clear line naming file:line(:col), exit code 2, and the database unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import snapshot

PLAN = "plans/gb276-tc2-implementation-plan.txt"


@pytest.fixture
def loaded(cli):  # type: ignore[no-untyped-def]
    """A database holding the seed plan and the example owners, and its snapshot."""
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    cli("export", "plan.yaml")
    return cli, snapshot(cli.url)


def check(loaded, args: list[str], pattern: str) -> str:  # type: ignore[no-untyped-def]
    cli, before = loaded
    result = cli(*args)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert re.fullmatch(pattern, lines[0]), lines[0]
    assert "Traceback" not in result.err
    assert snapshot(cli.url) == before
    return lines[0]


def write(name: str, text: str | bytes) -> str:
    path = Path(name)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return name


def yaml_plan(edit_from: str, edit_to: str) -> str:
    text = Path("plan.yaml").read_text()
    assert edit_from in text
    return write("edited.yaml", text.replace(edit_from, edit_to, 1))


def test_missing_file(loaded) -> None:  # type: ignore[no-untyped-def]
    check(loaded, ["import", "nope.txt"], r"nope\.txt: no such plan or owners file")


def test_empty_file(loaded) -> None:  # type: ignore[no-untyped-def]
    check(loaded, ["import", write("empty.txt", "  \n\n")], r"empty\.txt:1: is empty; expected a plan or owners file")


def test_binary_file(loaded) -> None:  # type: ignore[no-untyped-def]
    check(
        loaded,
        ["import", write("plan.bin", b"%PDF-1.4\n\x00\x01\x02binary")],
        r"plan\.bin:2: is a binary file; expected a plan or owners file in text \(UTF-8\)",
    )


def test_not_utf8(loaded) -> None:  # type: ignore[no-untyped-def]
    check(
        loaded,
        ["import", write("latin.txt", "GB.1/X\nCaf\xe9\n".encode("latin-1"))],
        r"latin\.txt:2: is not UTF-8 text \(byte 0xe9\); expected a plan or owners file in UTF-8",
    )


def test_file_in_neither_format(loaded) -> None:  # type: ignore[no-untyped-def]
    check(
        loaded,
        ["import", write("notes.txt", "Meeting notes\nNothing to see.\n")],
        r"notes\.txt:1: not a file planwatch can import; expected the plan's own text format .*",
    )


def test_truncated_table(loaded) -> None:  # type: ignore[no-untyped-def]
    text = Path(PLAN).read_text()
    cut = text[: text.index("First results by October 2000") + len("First results by Oct")]
    check(
        loaded,
        ["import", write("cut.txt", cut)],
        r"cut\.txt:160: the table ends here; expected the rest of this row, ending in '\|' \(is the file truncated\?\)",
    )


def test_yaml_plan_with_duplicate_action_ids(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan("- id: I.1a.2\n", "- id: I.1a.1\n")
    check(
        loaded,
        ["import", path],
        r"edited\.yaml:\d+:\d+: actions\[1\]\.id: duplicate action id 'I\.1a\.1' \(first at line \d+\); "
        r"each action needs its own id",
    )


def test_yaml_plan_with_unknown_owner(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan(
        "  title: 1(a) action 3 (text not in source)", "  title: 1(a) action 3 (text not in source)\n    owner: nobody"
    )
    check(
        loaded,
        ["import", path],
        r"edited\.yaml:\d+: actions\[2\]\.owner: unknown owner id 'nobody'; "
        r"expected an id from the owners directory \(`planwatch owners`\)",
    )


def test_yaml_plan_with_bad_time_zone(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan("timezone: Europe/Zurich", "timezone: Europe/Geneva")
    check(
        loaded,
        ["import", path],
        r"edited\.yaml:\d+:13: plan\.timezone: unknown time zone 'Europe/Geneva'; "
        r"expected an IANA name like 'Europe/Zurich'",
    )


def test_yaml_plan_with_unknown_key(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan("  timeframe: Completed by April 2000", "  timeframe: Completed by April 2000\n    ower: codev")
    check(loaded, ["import", path], r"edited\.yaml:\d+:5: actions\[0\]\.ower: unknown key 'ower'")


def test_yaml_plan_with_bad_override_date(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan(
        "  timeframe: Completed by April 2000", "  timeframe: Completed by April 2000\n    schedule:\n      due: soon"
    )
    check(
        loaded,
        ["import", path],
        r"edited\.yaml:\d+:12: actions\[0\]\.schedule\.due: expected a date like 2000-04-30, got 'soon'",
    )


def test_yaml_syntax_error(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan("plan:\n", "plan: [\n")
    check(loaded, ["import", path], r"edited\.yaml:\d+:\d+: invalid YAML: .*")


def test_yaml_duplicate_key(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan("  symbol: GB.276/TC/2\n", "  symbol: GB.276/TC/2\n  symbol: X\n")
    check(
        loaded,
        ["import", path],
        r"edited\.yaml:\d+:3: duplicate key 'symbol' \(first at line \d+\); each key may appear once",
    )


def test_owners_with_bad_time_zone(loaded) -> None:  # type: ignore[no-untyped-def]
    text = Path("plans/owners.yaml").read_text().replace("Asia/Bangkok", "ICT")
    check(
        loaded,
        ["import", write("o.yaml", text)],
        r"o\.yaml:\d+:15: owners\[10\]\.timezone: 'ICT' is not an IANA time-zone name; "
        r"expected a name like 'Europe/Zurich' or 'America/Lima' \(abbreviations such as CET or EST are ambiguous\)",
    )


def test_owners_with_supervisor_loop(loaded) -> None:  # type: ignore[no-untyped-def]
    text = (
        Path("plans/owners.yaml")
        .read_text()
        .replace("    email: dg-office@example.org\n", "    email: dg-office@example.org\n    supervisor: codev\n")
    )
    check(
        loaded,
        ["import", write("o.yaml", text)],
        r"o\.yaml:\d+:\d+: supervisor loop: \S+ -> \S+ -> \S+ -> \S+; "
        r"a chain must end with someone who has no supervisor",
    )


def test_owners_with_unknown_supervisor(loaded) -> None:  # type: ignore[no-untyped-def]
    text = (
        "id,name,email,timezone,supervisor\n"
        "x1,Ann,ann@example.org,Europe/Paris,\n"
        "x2,Bob,bob@example.org,Europe/Paris,nobody\n"
    )
    check(
        loaded,
        ["import", write("o.csv", text)],
        r"o\.csv:3: unknown supervisor 'nobody' for 'x2'; expected an owner id",
    )


def test_owners_csv_with_bad_email(loaded) -> None:  # type: ignore[no-untyped-def]
    text = "id,name,email,timezone,supervisor\nx1,Ann,ann-at-example,Europe/Paris,\n"
    check(
        loaded,
        ["import", write("o.csv", text)],
        r"o\.csv:2: email: expected an e-mail address like name@example\.org, got 'ann-at-example'",
    )


def test_bad_tz_flag(loaded) -> None:  # type: ignore[no-untyped-def]
    check(
        loaded,
        ["import", "--tz", "Mars/Olympus", PLAN],
        r"planwatch: --tz: unknown time zone 'Mars/Olympus'; expected an IANA name like 'Europe/Zurich'",
    )


def test_owner_rule_with_unknown_owner(loaded) -> None:  # type: ignore[no-untyped-def]
    rules = Path("rules/owners.yaml")
    rules.write_text(rules.read_text().replace("owner: hrd", "owner: hr-department"))
    check(
        loaded,
        ["import", PLAN],
        r"rules/owners\.yaml:\d+:5: assign\[9\]\.owner: unknown owner id 'hr-department': the rule \(match 'II\.3'\) "
        r"would give it II\.3\.1, .* and your owners directory has no 'hr-department'; "
        r"remove the rule or add the owner",
    )


def test_a_bad_file_among_good_ones_writes_nothing(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan("- id: I.1a.2\n", "- id: I.1a.1\n")
    check(loaded, ["import", "plans/owners.yaml", PLAN, path], r"edited\.yaml:.*duplicate action id.*")


def test_bad_date_option(loaded) -> None:  # type: ignore[no-untyped-def]
    check(
        loaded,
        ["set", "I.1a.1", "--due", "30/04/2000"],
        r"planwatch: --due: expected a date YYYY-MM-DD, got '30/04/2000'",
    )


def test_missing_file_on_empty_database_creates_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("import", "nope.txt")
    assert result.code == 2
    if cli.url.startswith("sqlite"):
        assert snapshot(cli.url) is None


def test_yaml_plan_with_an_impossible_date(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan("date: 1999-09-28", "date: 1999-13-28")
    check(
        loaded,
        ["import", path],
        r"edited\.yaml:\d+:9: 1999-13-28 is not a date \(month must be in 1\.\.12\); expected a date like 2000-04-30",
    )


def test_yaml_plan_with_a_deadline_without_a_date(loaded) -> None:  # type: ignore[no-untyped-def]
    path = yaml_plan(
        "  timeframe: Under negotiation", "  timeframe: Under negotiation\n    schedule:\n      kind: deadline"
    )
    check(
        loaded,
        ["import", path],
        r"edited\.yaml:\d+:13: actions\[\d+\]\.schedule\.kind: a deadline needs its date; "
        r"add 'due: YYYY-MM-DD' \(or 'after:' another action's id\)",
    )


def test_set_kind_deadline_without_a_date(loaded) -> None:  # type: ignore[no-untyped-def]
    check(
        loaded,
        ["set", "III.d.2", "--kind", "deadline"],
        r"planwatch: --kind deadline needs a due date: add --due YYYY-MM-DD \(or --after ID\)",
    )


def test_owners_yaml_without_a_time_zone(loaded) -> None:  # type: ignore[no-untyped-def]
    text = Path("plans/owners.yaml").read_text().replace("    timezone: Asia/Bangkok\n", "", 1)
    check(loaded, ["import", write("o.yaml", text)], r"o\.yaml:\d+:5: owners\[10\]: missing required key 'timezone'")


def test_owners_csv_without_the_time_zone_column(loaded) -> None:  # type: ignore[no-untyped-def]
    check(
        loaded,
        ["import", write("o.csv", "id,name,email,delegate\ncodev,Mei Tanaka,mei.tanaka@example.org,\n")],
        r"o\.csv:1:1: missing required column\(s\) timezone; expected the header "
        r"id,name,email,timezone,supervisor,delegate,digest,role,away_from,away_to,deputy,country,language,unit "
        r"\(only supervisor, delegate, digest, role, away_from, away_to, deputy, country, language, unit "
        r"may be left out\)",
    )


def away(deputy: str, first: str, last: str) -> str:
    """The example owners with codev away for a period, a deputy receiving in their place."""
    text = Path("plans/owners.yaml").read_text()
    entry = "    email: mei.tanaka@example.org\n"
    assert entry in text
    return text.replace(entry, f"{entry}    away: {{from: {first}, to: {last}, deputy: {deputy}}}\n")


def line_of(text: str, start: str) -> int:
    """Return the number of the first line of ``text`` that starts with ``start`` (after its indentation)."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith(start))


def test_owners_away_with_an_unknown_deputy(loaded) -> None:  # type: ignore[no-untyped-def]
    text = away("nobody", "2000-07-01", "2000-07-21")
    check(
        loaded,
        ["import", write("o.yaml", text)],
        rf"o\.yaml:{line_of(text, '- id: codev')}:5: away: unknown deputy 'nobody' for 'codev'; "
        r"expected another owner's id",
    )


def test_owners_away_ending_before_it_starts(loaded) -> None:  # type: ignore[no-untyped-def]
    text = away("program", "2000-07-21", "2000-07-01")
    check(
        loaded,
        ["import", write("o.yaml", text)],
        rf"o\.yaml:{line_of(text, 'away:')}:\d+: owners\[3\]\.away: 'to' \(2000-07-01\) is before 'from' "
        r"\(2000-07-21\); expected the last day away",
    )


def test_owners_csv_away_without_its_last_day(loaded) -> None:  # type: ignore[no-untyped-def]
    text = "id,name,email,timezone,away_from,away_to,deputy\nx1,Ann,ann@example.org,Europe/Paris,2000-07-01,,codev\n"
    check(loaded, ["import", write("o.csv", text)], r"o\.csv:2: away\.to: required, got an empty cell")
