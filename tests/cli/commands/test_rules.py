"""``planwatch rules check`` and ``planwatch rules explain``: exit codes, exact lines, the database untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rules.loader import load_rules

from ...conftest import snapshot

PLAN = "plans/gb276-tc2-implementation-plan.txt"
BAD = """\
policies:
  - name: deadlines
    match:
      kind: deadline
    remind:
      - before: 30 dayz
    escalate:
      - after: 1d
        to: boss
"""


def test_check_shipped_rules(cli) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(cli.url)
    result = cli("rules", "check")
    assert result.code == 0
    assert result.out.splitlines() == [
        "rules/default.yaml: 5 policies OK",
        "rules/holidays.yaml: holiday list OK (1999 to 2002)",
        "rules/holidays-bangkok.yaml: holiday list OK (1999 to 2002)",
        "rules/holidays-lima.yaml: holiday list OK (1999 to 2002)",
    ]
    # the example's holiday files cover its own years; today's plans would get no holidays, and are told so
    assert [line.split(": warning: ")[0] for line in result.err.splitlines()] == [
        "rules/holidays.yaml",
        "rules/holidays-bangkok.yaml",
        "rules/holidays-lima.yaml",
    ]
    assert "its holidays end with 2002, so from 2003 on no day counts as a holiday" in result.err
    assert snapshot(cli.url) == before  # for SQLite: None, no database file was created


def test_a_holiday_file_that_covers_this_year_gives_no_warning(cli) -> None:  # type: ignore[no-untyped-def]
    from engine.cli.common import current_time

    this_year = current_time().year  # the CLI reads the real clock; the warning is about the years to come
    Path("own").mkdir()
    Path("own/rules.yaml").write_text(
        "defaults:\n  delivery: {holidays: holidays.yaml}\npolicies:\n  - name: all\n    match: {kind: deadline}\n"
        "    remind:\n      - before: 7d\n",
        encoding="utf-8",
    )
    Path("own/holidays.yaml").write_text(
        f"holidays:\n  - {this_year}-01-01\n  - {this_year + 1}-01-01\n", encoding="utf-8"
    )
    result = cli("rules", "check", "own")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[-1] == f"own/holidays.yaml: holiday list OK ({this_year} to {this_year + 1})"


def test_check_one_file(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "check", "rules/default.yaml")
    assert result.code == 0
    assert result.out.splitlines()[0] == "rules/default.yaml: 5 policies OK"


def test_check_lists_every_error_and_exits_2(cli) -> None:  # type: ignore[no-untyped-def]
    Path("bad").mkdir()
    Path("bad/rules.yaml").write_text(BAD, encoding="utf-8")
    before = snapshot(cli.url)
    result = cli("rules", "check", "bad")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        'bad/rules.yaml:6:17: policies[0].remind[0].before: expected a duration like "30d", "2w", "3mo", "1y", "36h", '
        '"5bd" (business days) or "P1M", got \'30 dayz\'',
        "bad/rules.yaml:9:13: policies[0].escalate[0].to[0]: unknown recipient 'boss'; "
        "expected owner, delegate, supervisor, "
        "supervisor.supervisor (one '.supervisor' per level up), secretariat, or an e-mail address",
    ]
    assert "Traceback" not in result.err
    assert snapshot(cli.url) == before


def test_check_uses_the_rules_option(cli) -> None:  # type: ignore[no-untyped-def]
    Path("bad").mkdir()
    Path("bad/rules.yaml").write_text("policies:\n  - name: x\n    remnd: []\n", encoding="utf-8")
    result = cli("--rules", "bad", "rules", "check")
    assert result.code == 2
    assert result.err.splitlines() == [
        "bad/rules.yaml:3:5: policies[0].remnd: unknown key 'remnd' (did you mean 'remind'?); "
        "expected one of name, match, remind, checkin, escalate, delivery, limits, recurrence, closure, stale, "
        "acceptance",
    ]


def test_check_missing_path(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("rules", "check", "nope")
    assert result.code == 2
    assert result.err == (
        f"nope: no such rules folder or file (looked for {Path('nope').resolve()}); expected a folder of *.yaml rule"
        " files or one rule file (`planwatch init DIR` writes a project folder with the default rules)\n"
    )


def test_check_empty_folder_is_valid(cli) -> None:  # type: ignore[no-untyped-def]
    Path("empty").mkdir()
    result = cli("rules", "check", "empty")
    assert (result.code, result.out) == (0, "empty: no rule files, so no policy applies to any action\n")


def test_check_refuses_a_template_that_does_not_exist(cli) -> None:  # type: ignore[no-untyped-def]
    text = Path("rules/default.yaml").read_text(encoding="utf-8")
    assert "template: final_reminder" in text
    Path("rules/default.yaml").write_text(text.replace("template: final_reminder", "template: final_remindr", 1))
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "template: final_reminder" in row)
    col = text.splitlines()[line - 1].index("final_reminder") + 1
    before = snapshot(cli.url)
    result = cli("rules", "check")
    assert (result.code, result.out) == (2, "")
    (error,) = result.err.splitlines()
    assert error.startswith(
        f"rules/default.yaml:{line}:{col}: policies[1].remind[2].template: unknown template 'final_remindr' "
        "(did you mean 'final_reminder'?): no email/final_remindr.txt.j2 in "
    )
    assert snapshot(cli.url) == before


def test_check_renders_every_template_a_rule_names(cli) -> None:  # type: ignore[no-untyped-def]
    Path("templates/email/final_reminder.txt.j2").write_text(
        "{% block subject %}Due soon{% endblock %}\n{{ nosuch.thing }}\n", encoding="utf-8"
    )
    text = Path("rules/default.yaml").read_text(encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "template: final_reminder" in row)
    result = cli("rules", "check")
    assert (result.code, result.out) == (2, "")
    (error,) = result.err.splitlines()
    assert error.startswith(f"rules/default.yaml:{line}:")
    assert "template 'final_reminder' does not render: " in error
    assert error.endswith("templates/email/final_reminder.txt.j2:2: 'nosuch' is undefined")


def place(name: str) -> str:
    """Return where the shipped policy ``name`` starts, as FILE:LINE:COL."""
    rules = load_rules("rules")
    return next(str(where) for policy, where in zip(rules.policies, rules.places, strict=True) if policy.name == name)


@pytest.fixture
def imported(cli):  # type: ignore[no-untyped-def]
    assert cli("import", "plans/owners.yaml", PLAN).code == 0
    return cli


def test_explain_a_deadline(imported) -> None:  # type: ignore[no-untyped-def]
    result = imported("rules", "explain", "I.1a.1")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[:5] == [
        "I.1a.1 (deadline, due 2000-04-30, owner program): time frame 'Completed by April 2000'",
        f"policy 'deadlines' ({place('deadlines')}) applies: kind deadline fits deadline or window; "
        "earlier: 'recurring' does not apply: kind deadline is not recurring",
        "reminders: 30d before the due date → owner (reminder); 7d before the due date → owner (reminder); "
        "1bd before the due date → owner (final_reminder)",
        "check-in: none",
        "escalation (counted from the missed date): 1d → owner (overdue), again every 1d until 14d; "
        "14d → supervisor (escalation), again every 14d until 45d; "
        "45d → supervisor.supervisor, secretariat (escalation)",
    ]


def test_explain_a_recurring_action(imported) -> None:  # type: ignore[no-untyped-def]
    out = imported("rules", "explain", "I.1a.2").out.splitlines()
    assert out[1] == f"policy 'recurring' ({place('recurring')}) applies: kind recurring fits recurring"
    assert "recurrence: counted from the last completion; escalates only 24mo after it" in out


def test_explain_when_no_policy_applies(imported) -> None:  # type: ignore[no-untyped-def]
    Path("rules/default.yaml").write_text(
        "policies:\n  - name: part-two\n    match:\n      section: 'II.*'\n", encoding="utf-8"
    )
    for name in ("holidays.yaml", "holidays-bangkok.yaml", "holidays-lima.yaml"):
        Path("rules", name).unlink()  # no longer named by a rule file, it would be read as one
    result = imported("rules", "explain", "I.1a.1")
    assert result.code == 0
    assert result.out.splitlines()[1:] == [
        "no policy applies: 'part-two' does not apply: section I.1a is not II.*",
        "Nothing is sent for this action.",
    ]


def test_explain_with_bad_rules_stops_before_the_database(imported) -> None:  # type: ignore[no-untyped-def]
    Path("rules/default.yaml").write_text(BAD, encoding="utf-8")
    before = snapshot(imported.url)
    result = imported("rules", "explain", "I.1a.1")
    assert result.code == 2
    assert result.err.splitlines()[0].startswith(
        "rules/default.yaml:6:17: policies[0].remind[0].before: expected a duration"
    )
    assert snapshot(imported.url) == before


def test_explain_unknown_action(imported) -> None:  # type: ignore[no-untyped-def]
    result = imported("rules", "explain", "I.1a.9")
    assert result.code == 2
    assert result.err.startswith("planwatch: no action 'I.1a.9'; did you mean ")
