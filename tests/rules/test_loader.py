"""Rule files: loading, every error with its exact FILE:LINE:COL text, defaults, holiday references, matching."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from dateutil.easter import easter
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.rules.durations import parse_duration
from engine.rules.loader import RuleSet, calendar_for, describe_policy, load_rules, working_instant
from engine.rules.policy import KINDS, ActionFacts, Delivery
from engine.zones import zone

ROOT = Path(__file__).resolve().parent.parent.parent

POLICY = """\
policies:
  - name: deadlines
    match:
      kind: deadline
    remind:
      - before: 30d
"""


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``rules/`` folder under a working directory of its own."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").mkdir()
    return Path("rules")


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_rules(path)
    return str(caught.value).splitlines()


def replaced(old: str, new: str) -> str:
    assert old in POLICY
    return POLICY.replace(old, new)


DURATION = 'expected a duration like "30d", "2w", "3mo", "1y", "36h", "5bd" (business days) or "P1M"'

ERROR_CASES = [
    pytest.param(
        replaced("    remind:", "    remnd:"),
        "rules/x.yaml:5:5: policies[0].remnd: unknown key 'remnd' (did you mean 'remind'?); "
        "expected one of name, match, remind, checkin, escalate, delivery, limits, recurrence, closure, stale, "
        "acceptance",
        id="unknown-key-typo",
    ),
    pytest.param(
        replaced("30d", "30 dayz"),
        f"rules/x.yaml:6:17: policies[0].remind[0].before: {DURATION}, got '30 dayz'",
        id="duration-typo",
    ),
    pytest.param(
        replaced("30d", "-5d"),
        "rules/x.yaml:6:17: policies[0].remind[0].before: a duration cannot be negative, got '-5d'; "
        "expected '5d': 'before' counts back from the date and 'after' forward by themselves",
        id="negative-offset",
    ),
    pytest.param(
        replaced("30d", "30"),
        f"rules/x.yaml:6:17: policies[0].remind[0].before: {DURATION}, got a bare number 30 (add a unit: 30d)",
        id="bare-number",
    ),
    pytest.param(
        replaced("30d", "30m"),
        "rules/x.yaml:6:17: policies[0].remind[0].before: '30m' is ambiguous; "
        'expected "30mo" for months (rules count no minutes)',
        id="ambiguous-minutes-or-months",
    ),
    pytest.param(
        POLICY + "    escalate:\n      - after: 1d\n        to: boss\n",
        "rules/x.yaml:9:13: policies[0].escalate[0].to[0]: unknown recipient 'boss'; "
        "expected owner, delegate, supervisor, "
        "supervisor.supervisor (one '.supervisor' per level up), secretariat, or an e-mail address",
        id="unknown-recipient-role",
    ),
    pytest.param(
        POLICY + "    escalate:\n      - {after: 14d, to: supervisor}\n      - {after: 7d, to: owner}\n",
        "rules/x.yaml:9:17: policies[0].escalate[1].after: 7d is not later than the step before (14d), "
        "so the ladder can never reach it; "
        "expected the steps in order, each 'after' later than the one before",
        id="escalation-steps-out-of-order",
    ),
    pytest.param(
        POLICY + "    escalate:\n      - {after: 14d, to: owner, repeat: 1d, until: 14d}\n",
        "rules/x.yaml:8:52: policies[0].escalate[0].until: 14d is not later than after (14d), "
        "so this step can never fire; expected a bound later than 14d",
        id="until-not-after-after",
    ),
    pytest.param(
        POLICY + "    escalate:\n      - {after: 1d, to: owner, repeat: 0d}\n",
        "rules/x.yaml:8:40: policies[0].escalate[0].repeat: a zero interval would repeat forever; "
        "expected an interval like 1d or 1w",
        id="zero-repeat",
    ),
    pytest.param(
        POLICY + "    checkin:\n      every: 3mo\n",
        "rules/x.yaml:8:7: policies[0].checkin: can never fire: deadline actions get no check-ins; "
        "expected checkin only on policies matching continuous, start, event or unscheduled actions",
        id="checkin-on-deadlines-only",
    ),
    pytest.param(
        replaced("kind: deadline", "kind: continuous"),
        "rules/x.yaml:6:9: policies[0].remind[0]: can never fire: "
        "continuous actions have no due date to remind before; "
        "expected reminders before a due date only on policies matching deadline, window, recurring or event actions",
        id="remind-on-continuous-only",
    ),
    pytest.param(
        replaced("- before: 30d", "- {before: 30d, anchor: start}"),
        "rules/x.yaml:6:9: policies[0].remind[0]: can never fire: "
        "deadline actions have no start date to remind before; "
        "expected reminders with anchor: start only on policies matching start or window actions",
        id="remind-before-start-on-deadlines",
    ),
    pytest.param(
        POLICY + "    recurrence:\n      completion_based: true\n",
        "rules/x.yaml:8:7: policies[0].recurrence: can never apply: deadline actions do not recur; "
        "expected recurrence only on policies matching recurring actions",
        id="recurrence-on-deadlines",
    ),
    pytest.param(
        replaced("kind: deadline", "kind: continuous").replace(
            "    remind:\n      - before: 30d\n", "    checkin:\n      every: 3mo\n      escalate_after: 14d\n"
        ),
        "rules/x.yaml:7:23: policies[0].checkin.escalate_after: "
        "a missed check-in has nowhere to escalate: the policy has no "
        "escalate ladder; expected an escalate: list of steps (the first may be 'after: 0d'), or no escalate_after",
        id="escalate-after-without-ladder",
    ),
    pytest.param(
        replaced("kind: deadline", "kind: [deadline, deadlin]"),
        "rules/x.yaml:4:24: policies[0].match.kind[1]: unknown kind 'deadlin' (did you mean 'deadline'?); "
        f"expected one of {', '.join(KINDS)}",
        id="unknown-kind",
    ),
    pytest.param(
        replaced("kind: deadline", "kind: []"),
        "rules/x.yaml:4:13: policies[0].match.kind: an empty list matches nothing; expected at least one value, "
        "or leave the key out to match all",
        id="empty-match-list",
    ),
    pytest.param(
        POLICY + "    delivery:\n      hour: '25:00'\n",
        """rules/x.yaml:8:13: policies[0].delivery.hour: expected a time of day like "09:00", got '25:00'""",
        id="bad-hour",
    ),
    pytest.param(
        POLICY + "    delivery:\n      holidays: [2000-08-01, 2000-02-30]\n",
        "rules/x.yaml:8:30: 2000-02-30 is not a date (day is out of range for month); expected a date like 2000-04-30",
        id="impossible-holiday-date",
    ),
    pytest.param(
        POLICY + "    delivery:\n      digest: dayly\n",
        "rules/x.yaml:8:15: policies[0].delivery.digest: expected none, daily or weekly, got 'dayly'",
        id="bad-digest",
    ),
    pytest.param(
        "defaults:\n  limits:\n    max_per_day: 0\n" + POLICY,
        "rules/x.yaml:3:18: defaults.limits.max_per_day: expected a whole number of messages, at least 1, got 0",
        id="bad-default",
    ),
    pytest.param(
        POLICY + "  - remind: []\n",
        "rules/x.yaml:7:5: policies[1]: missing required key 'name'",
        id="policy-without-name",
    ),
    pytest.param(
        POLICY + "  - name: deadlines\n",
        "rules/x.yaml:7:11: policies[1].name: policy name 'deadlines' is already used at rules/x.yaml:2:5; "
        "expected each policy to have a name of its own",
        id="duplicate-name-in-one-file",
    ),
    pytest.param(
        "policies: [\n",
        "rules/x.yaml:2:1: invalid YAML: expected the node content, but found '<stream end>'",
        id="yaml-syntax-error",
    ),
    pytest.param(
        replaced("    match:", "    name: again\n    match:"),
        "rules/x.yaml:3:5: duplicate key 'name' (first at line 2); each key may appear once",
        id="yaml-duplicate-key",
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00",
        "rules/x.yaml:3: is a binary file; expected a rule file in text (UTF-8)",
        id="binary-file",
    ),
    pytest.param(
        "", "rules/x.yaml:1: is empty; expected a rule file with 'policies:' (a list of policies)", id="empty-file"
    ),
    pytest.param(
        "# reminders: to do\n",
        "rules/x.yaml:1: is empty; expected a rule file with 'policies:' (a list of policies)",
        id="comments-only",
    ),
    pytest.param(
        "- name: deadlines\n",
        "rules/x.yaml:1:1: expected a mapping with 'policies:' (and optionally 'defaults:'), got a list",
        id="not-a-mapping",
    ),
    pytest.param(
        "defaults: {}\n",
        "rules/x.yaml:1:1: missing required key 'policies'; "
        "expected a list of policies (it may be empty: 'policies: []')",
        id="no-policies-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES)
def test_bad_rule_file(rules: Path, text: str | bytes, expected: str) -> None:
    write(rules / "x.yaml", text)
    assert errors(rules) == [expected]


def test_missing_rules_path(rules: Path) -> None:
    assert errors(Path("nope")) == [
        f"nope: no such rules folder or file (looked for {Path('nope').resolve()}); expected a folder of *.yaml rule"
        " files or one rule file (`planwatch init DIR` writes a project folder with the default rules)"
    ]


def test_every_error_of_every_file_is_listed_in_order(rules: Path) -> None:
    write(rules / "b.yaml", replaced("30d", "soon").replace("kind: deadline", "kind: dedline"))
    write(rules / "a.yaml", "policies: [\n")
    write(rules / "c.yaml", POLICY)
    lines = errors(rules)
    assert [line.split(": ")[0] for line in lines] == [
        "rules/a.yaml:2:1",
        "rules/b.yaml:4:13",
        "rules/b.yaml:6:17",
        "rules/c.yaml:2:11",
    ]
    assert lines[3] == (
        "rules/c.yaml:2:11: policies[0].name: policy name 'deadlines' is already used at rules/b.yaml:2:5; "
        "expected each policy to have a name of its own"
    )


def test_a_file_may_be_loaded_alone(rules: Path) -> None:
    path = write(rules / "only.yml", POLICY)
    ruleset = load_rules(path)
    assert ruleset.files == ("rules/only.yml",)
    assert [str(p) for p in ruleset.places] == ["rules/only.yml:2:5"]


def test_other_loaders_files_are_skipped(rules: Path) -> None:
    write(rules / "owners.yaml", "assign: []\n")
    write(rules / "events.yaml", "events: []\n")
    write(rules / "notes.txt", "not yaml")
    write(rules / "b.yml", POLICY.replace("deadlines", "b"))
    write(rules / "a.yaml", POLICY.replace("deadlines", "a"))
    ruleset = load_rules(rules)
    assert ruleset.files == ("rules/a.yaml", "rules/b.yml")
    assert [p.name for p in ruleset.policies] == ["a", "b"]


def test_an_empty_rule_set_is_valid_but_applies_to_nothing(rules: Path) -> None:
    ruleset = load_rules(rules)
    assert ruleset == RuleSet()
    assert ruleset.policy_for(ActionFacts("I.1a.1", ("I.1a", "I.1", "I"), "deadline", "program")) == (
        None,
        "no policy applies: the rules hold no policies",
    )
    write(rules / "x.yaml", "policies: []\n")
    assert load_rules(rules).policies == ()


# ------------------------------------------------------------------------------------- defaults


def test_defaults_fill_what_a_policy_leaves_unsaid(rules: Path) -> None:
    write(
        rules / "a.yaml",
        """\
        defaults:
          delivery:
            hour: "08:30"
            digest: weekly
          limits:
            max_per_day: 3
        policies:
          - name: own-delivery
            delivery:
              business_days: false
              digest: none
          - name: own-limits
            limits:
              max_per_day: 7
    """,
    )
    write(rules / "b.yaml", "policies:\n  - name: other-file\n")
    own_delivery, own_limits, other = load_rules(rules).policies
    assert (
        own_delivery.delivery.hour.isoformat(),
        own_delivery.delivery.business_days,
        own_delivery.delivery.digest,
    ) == ("08:30:00", False, "none")
    assert own_delivery.limits.max_per_day == 3
    assert (own_limits.delivery.hour.isoformat(), own_limits.delivery.digest, own_limits.delivery.business_days) == (
        "08:30:00",
        "weekly",
        True,
    )
    assert (own_limits.limits.max_per_day, str(own_limits.limits.backoff_after)) == (7, "7d")
    assert other.delivery == Delivery() and other.limits.max_per_day == 10  # defaults stay in their file


# ------------------------------------------------------------------------------------- holidays


HOLIDAY_POLICY = """\
defaults:
  delivery:
    holidays: {ref}
policies:
  - name: any
"""


def test_holiday_path_is_relative_to_the_rule_file(rules: Path) -> None:
    Path("shared").mkdir()
    write(Path("shared/days.yaml"), "- 2000-08-01\n")
    write(
        rules / "r.yaml",
        HOLIDAY_POLICY.format(ref="../shared/days.yaml") + "    delivery:\n      holidays: [2001-08-01]\n",
    )
    (policy,) = load_rules(rules / "r.yaml").policies
    assert policy.delivery.holidays == [date(2001, 8, 1)]  # the policy's own list wins over the default


def test_a_holiday_list_nobody_names_is_read_as_rules(rules: Path) -> None:
    write(rules / "days.yaml", "holidays:\n  - 2000-08-01\n")
    assert errors(rules) == [
        "rules/days.yaml:1:1: holidays: unknown key 'holidays' (a holiday list is read only when a rule file names it "
        "under delivery: holidays:); expected one of defaults, policies, delay_causes, campaigns",
    ]


@pytest.mark.parametrize("days", ["holidays:\n  - 2000-08-01\n", "- 2000-08-01\n"], ids=["mapping", "list"])
def test_a_broken_rule_file_does_not_make_its_holiday_list_an_error(rules: Path, days: str) -> None:
    write(rules / "days.yaml", days)
    write(rules / "r.yaml", HOLIDAY_POLICY.format(ref="days.yaml") + "    remind: [\n")
    found = errors(rules)
    assert len(found) == 1 and found[0].startswith("rules/r.yaml:"), found  # no word about days.yaml


def test_missing_holiday_file_is_an_error_at_the_key(rules: Path) -> None:
    write(rules / "r.yaml", HOLIDAY_POLICY.format(ref="holidayz.yaml"))
    assert errors(rules) == [
        "rules/r.yaml:3:5: defaults.delivery.holidays: "
        "cannot read 'holidayz.yaml' (rules/holidayz.yaml: no such holiday file); "
        "expected the path, relative to this rule file, of a YAML list of dates or an iCalendar (.ics) file",
    ]


# ------------------------------------------------------------------------------------ templates


def test_every_template_a_policy_names_must_exist(rules: Path) -> None:
    Path("tpl/email").mkdir(parents=True)
    for name in ("reminder", "escalation", "_base"):
        write(Path(f"tpl/email/{name}.txt.j2"), "x\n")
    write(
        rules / "r.yaml",
        POLICY
        + "        template: remindr\n"
        + "    escalate:\n      - {after: 1d, to: supervisor}\n      - {after: 2d, to: supervisor, template: x}\n",
    )
    assert load_rules(rules).templates[0][0] == "remindr"  # without folders, names are not checked
    with pytest.raises(InputError) as caught:
        load_rules(rules, [Path("tpl")])
    assert str(caught.value).splitlines() == [
        "rules/r.yaml:7:19: policies[0].remind[0].template: unknown template 'remindr' (did you mean 'reminder'?): "
        "no email/remindr.txt.j2 in tpl/email; expected one of escalation, reminder",
        "rules/r.yaml:10:47: policies[0].escalate[1].template: unknown template 'x': "
        "no email/x.txt.j2 in tpl/email; expected one of escalation, reminder",
    ]
    write(rules / "r.yaml", POLICY)
    (named,) = load_rules(rules, [Path("tpl")]).templates  # the default name, placed at its step
    assert (named[0], str(named[1]), named[2]) == ("reminder", "rules/r.yaml:6:9", "policies[0].remind[0].template")


# ------------------------------------------------------------------------------------- matching


def three_policies(rules: Path) -> RuleSet:
    write(
        rules / "r.yaml",
        """\
        policies:
          - name: recurring
            match:
              kind: recurring
          - name: part-two
            match:
              section: "II.*"
              owner: [codev, eval]
          - name: deadlines
            match:
              kind: [deadline, window]
    """,
    )
    return load_rules(rules)


def test_first_matching_policy_wins_and_says_why(rules: Path) -> None:
    ruleset = three_policies(rules)
    policy, why = ruleset.policy_for(ActionFacts("II.2.6", ("II.2", "II"), "deadline", "codev"))
    assert policy is not None and policy.name == "part-two"
    assert why == (
        "policy 'part-two' (rules/r.yaml:5:5) applies: section II.2 fits II.*; owner codev fits codev or eval; "
        "earlier: 'recurring' does not apply: kind deadline is not recurring"
    )


def test_later_policy_applies_when_earlier_ones_do_not(rules: Path) -> None:
    ruleset = three_policies(rules)
    policy, why = ruleset.policy_for(ActionFacts("II.2.6", ("II.2", "II"), "deadline", "hrd"))
    assert policy is not None and policy.name == "deadlines"
    assert why == (
        "policy 'deadlines' (rules/r.yaml:9:5) applies: kind deadline fits deadline or window; "
        "earlier: 'recurring' does not apply: kind deadline is not recurring; "
        "'part-two' does not apply: owner hrd is not codev or eval"
    )


def test_no_policy_applies(rules: Path) -> None:
    policy, why = three_policies(rules).policy_for(ActionFacts("I.1b.1", ("I.1b", "I.1", "I"), "continuous", None))
    assert policy is None
    assert why == (
        "no policy applies: 'recurring' does not apply: kind continuous is not recurring; "
        "'part-two' does not apply: section I.1b is not II.*; "
        "'deadlines' does not apply: kind continuous is not deadline or window"
    )


@pytest.mark.parametrize(
    "facts",
    [
        ActionFacts("II.2.6", ("II.2", "II"), "deadline", "codev"),
        ActionFacts("II.2.6", ("II.2", "II"), "deadline", "hrd"),
        ActionFacts("I.1b.1", ("I.1b", "I.1", "I"), "continuous", None),
        ActionFacts("III.1.2", ("III.1", "III"), "recurring", "eval", ("board",)),
    ],
)
def test_the_planners_quick_match_agrees_with_the_explained_one(rules: Path, facts: ActionFacts) -> None:
    ruleset = three_policies(rules)
    assert ruleset.policy_of(facts) is ruleset.policy_for(facts)[0]


# ------------------------------------------------------------------------------ shipped rules


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_rules(ROOT / "rules")


def durations(values: object) -> list[str]:
    return [str(v) for v in values]  # type: ignore[attr-defined]


def test_shipped_rules_load_in_order(shipped: RuleSet) -> None:
    assert [p.name for p in shipped.policies] == ["recurring", "deadlines", "starts", "continuous", "unscheduled"]
    assert [sorted(p.match.kind or ()) for p in shipped.policies] == [
        ["recurring"],
        ["deadline", "window"],
        ["start"],
        ["continuous", "event"],
        ["unscheduled"],
    ]
    covered = {k for p in shipped.policies for k in p.match.kind or ()}
    assert covered == set(KINDS)  # every action gets a policy


def test_shipped_defaults(shipped: RuleSet) -> None:
    for policy in shipped.policies:
        d, lim = policy.delivery, policy.limits
        assert (d.hour.isoformat(), d.business_days, d.digest, d.quiet_hours) == ("09:00:00", True, "none", None)
        assert len(d.holidays) == 36
        assert (lim.max_per_day, str(lim.backoff_after), str(lim.backoff_every), str(lim.catch_up)) == (
            5,
            "7d",
            "7d",
            "30d",
        )


def test_shipped_recurring(shipped: RuleSet) -> None:
    p = shipped.policies[0]
    assert (p.recurrence.completion_based, str(p.recurrence.bound)) == (True, "24mo")
    assert [(str(s.before), s.anchor, s.template, s.to) for s in p.remind] == [
        ("30d", "due", "reminder", ["owner"]),
        ("7d", "due", "reminder", ["owner"]),
    ]
    assert [(str(s.after), s.to) for s in p.escalate] == [
        ("1d", ["owner", "supervisor"]),
        ("45d", ["supervisor.supervisor", "secretariat"]),
    ]
    assert p.checkin is None


def test_shipped_deadlines(shipped: RuleSet) -> None:
    p = shipped.policies[1]
    assert [(str(s.before), s.template) for s in p.remind] == [
        ("30d", "reminder"),
        ("7d", "reminder"),
        ("1bd", "final_reminder"),
    ]
    assert [(str(s.after), s.to, s.template, str(s.repeat), str(s.until)) for s in p.escalate] == [
        ("1d", ["owner"], "overdue", "1d", "14d"),
        ("14d", ["supervisor"], "escalation", "14d", "45d"),
        ("45d", ["supervisor.supervisor", "secretariat"], "escalation", "None", "None"),
    ]
    assert p.checkin is None and not p.recurrence.completion_based


@pytest.mark.parametrize(
    ("index", "remind", "every"), [(2, [("14d", "start")], "3mo"), (3, [], "3mo")], ids=["starts", "continuous"]
)
def test_shipped_checkin_policies(shipped: RuleSet, index: int, remind: list[tuple[str, str]], every: str) -> None:
    p = shipped.policies[index]
    assert [(str(s.before), s.anchor) for s in p.remind] == remind
    assert p.checkin is not None
    assert (str(p.checkin.every), str(p.checkin.escalate_after), p.checkin.to, p.checkin.template) == (
        every,
        "14d",
        ["owner"],
        "checkin",
    )
    assert [(str(s.after), s.to) for s in p.escalate] == [
        ("0d", ["supervisor"]),
        ("45d", ["supervisor.supervisor", "secretariat"]),
    ]


def test_shipped_unscheduled(shipped: RuleSet) -> None:
    p = shipped.policies[4]
    assert (p.remind, p.escalate) == ([], [])
    assert p.checkin is not None and (str(p.checkin.every), p.checkin.escalate_after) == ("6mo", None)


def test_shipped_templates_are_the_known_ones(shipped: RuleSet) -> None:
    used = {s.template for p in shipped.policies for s in [*p.remind, *p.escalate]}
    used |= {p.checkin.template for p in shipped.policies if p.checkin}
    assert used == {"reminder", "final_reminder", "overdue", "escalation", "checkin"}


def test_shipped_holidays_are_the_real_geneva_dates(shipped: RuleSet) -> None:
    expected = set()
    for y in range(1999, 2003):
        e = easter(y)
        first_sunday = date(y, 9, 1) + timedelta(days=(6 - date(y, 9, 1).weekday()) % 7)
        expected |= {date(y, 1, 1), date(y, 8, 1), date(y, 12, 25), date(y, 12, 31), first_sunday + timedelta(days=4)}
        expected |= {e + timedelta(days=n) for n in (-2, 1, 39, 50)}
    assert set(shipped.policies[0].delivery.holidays) == expected
    assert date(2000, 9, 7) in expected and date(2000, 4, 21) in expected  # Jeûne genevois, Good Friday 2000


def test_shipped_rules_give_bangkok_and_lima_their_own_holidays(shipped: RuleSet) -> None:
    delivery = shipped.policies[0].delivery
    bangkok, lima = set(delivery.holidays_for("Asia/Bangkok")), set(delivery.holidays_for("America/Lima"))
    for y in range(1999, 2003):
        thai = {date(y, 4, 6), date(y, 4, 13), date(y, 4, 14), date(y, 4, 15), date(y, 5, 5), date(y, 12, 5)}
        peru = {date(y, 1, 1), date(y, 5, 1), date(y, 6, 29), date(y, 7, 28), date(y, 7, 29), date(y, 8, 30)}
        peru |= {date(y, 10, 8), date(y, 11, 1), date(y, 12, 8), date(y, 12, 25)}
        assert thai <= bangkok and peru <= lima, y
    assert date(2000, 12, 25) not in bangkok and date(2000, 8, 1) not in lima  # Geneva's days are not theirs
    assert {date(2000, 4, 20), date(2000, 4, 21)} <= lima  # Maundy Thursday, Good Friday
    assert set(delivery.holidays_for("Europe/Zurich")) == set(delivery.holidays)
    assert all(p.delivery.holidays_by_zone == delivery.holidays_by_zone for p in shipped.policies)


def test_describe_policy(shipped: RuleSet) -> None:
    assert describe_policy(shipped.policies[1])[:3] == [
        "reminders: 30d before the due date → owner (reminder); 7d before the due date → owner (reminder); "
        "1bd before the due date → owner (final_reminder)",
        "check-in: none",
        "escalation (counted from the missed date): 1d → owner (overdue), again every 1d until 14d; "
        "14d → supervisor (escalation), again every 14d until 45d; "
        "45d → supervisor.supervisor, secretariat (escalation)",
    ]
    assert describe_policy(shipped.policies[3])[1:3] == [
        "check-in: every 3mo → owner (checkin); unanswered after 14d, the escalation ladder starts",
        "escalation (counted from the missed date): at once → supervisor (escalation), again every 28d until 45d; "
        "45d → supervisor.supervisor, secretariat (escalation)",
    ]


# ------------------------------------------------------------------------------ business-day calendars


def test_business_days_can_be_switched_off() -> None:
    anyday = calendar_for(Delivery(business_days=False, holidays=[date(2000, 8, 1)]))
    assert parse_duration("5bd").before(date(2000, 3, 13), anyday) == date(2000, 3, 8)
    assert anyday.on_or_before(date(2000, 8, 1)) == date(2000, 8, 1)


def test_calendar_is_shared_between_equal_deliveries() -> None:
    a = calendar_for(Delivery(holidays=[date(2000, 8, 1), date(2000, 12, 25)]))
    b = calendar_for(Delivery.model_validate({"holidays": [date(2000, 12, 25), date(2000, 8, 1)], "hour": "10:00"}))
    assert a is b
    assert calendar_for(Delivery()) is not a


FOLLOW_UP_ERRORS = [
    pytest.param(
        "    closure: {steps: 3}\n",
        "rules/x.yaml:7:22: policies[0].closure.steps: "
        "expected 1 (the owner closes) or 2 (the owner reports, a verifier confirms), got 3",
        id="closure-steps",
    ),
    pytest.param(
        "    closure: {verifier: 'the boss'}\n",
        "rules/x.yaml:7:25: policies[0].closure.verifier: "
        "expected supervisor, secretariat or an owner id, got 'the boss'",
        id="closure-verifier",
    ),
    pytest.param(
        "    closure: {remind_after: 14d, escalate_after: 7d}\n",
        "rules/x.yaml:7:50: policies[0].closure.escalate_after: "
        "7d is not later than remind_after (14d); expected a delay longer than 14d",
        id="closure-order",
    ),
    pytest.param(
        "    stale: {after: 0d}\n",
        "rules/x.yaml:7:20: policies[0].stale.after: an action cannot be stale at once; expected a delay like 60d",
        id="stale-zero",
    ),
    pytest.param(
        "    acceptance: {remind: [accepted, maybe]}\n",
        "rules/x.yaml:7:26: policies[0].acceptance.remind: unknown acceptance 'maybe'; "
        "expected some of accepted, partially_accepted, not_accepted, under_consideration",
        id="acceptance-state",
    ),
    pytest.param(
        "delay_causes: []\n",
        "rules/x.yaml:7:15: delay_causes: an empty list leaves nothing to choose; "
        "expected at least one cause, or leave it out",
        id="causes-empty",
    ),
    pytest.param(
        "delay_causes: [money, money]\n",
        "rules/x.yaml:7:15: delay_causes: a cause is named twice; expected each cause once",
        id="causes-twice",
    ),
]


@pytest.mark.parametrize(("added", "expected"), FOLLOW_UP_ERRORS)
def test_bad_follow_up_option(rules: Path, added: str, expected: str) -> None:
    write(rules / "x.yaml", POLICY + added)
    assert errors(rules) == [expected]


def test_a_misspelt_stale_key_is_named_with_the_keys_it_may_be(rules: Path) -> None:
    write(rules / "x.yaml", POLICY + "    stale: {aftr: 60d}\n")
    assert errors(rules) == [
        "rules/x.yaml:7:12: policies[0].stale: missing required key 'after'",
        "rules/x.yaml:7:13: policies[0].stale.aftr: unknown key 'aftr' (did you mean 'after'?); "
        "expected one of after, escalate_after, template",
    ]


def test_follow_up_options_default_to_two_steps_the_supervisor_and_no_staleness(rules: Path) -> None:
    write(rules / "x.yaml", POLICY)
    [policy] = load_rules(rules).policies
    assert (policy.closure.steps, policy.closure.verifier, policy.stale) == (2, "supervisor", None)
    assert policy.acceptance.remind == ["accepted", "partially_accepted"]
    assert load_rules(rules).delay_causes[0] == "resources"


def test_file_defaults_give_closure_stale_and_acceptance_to_every_policy_that_says_nothing(rules: Path) -> None:
    write(
        rules / "a.yaml",
        """\
        defaults:
          closure: {steps: 1}
          stale: {after: 60d}
          acceptance: {remind: [accepted]}
        policies:
          - name: mine
            closure: {verifier: secretariat}
          - name: own
            stale: {after: 30d}
        delay_causes: [money, weather]
        """,
    )
    write(rules / "b.yaml", "policies: []\ndelay_causes: [weather, strikes]\n")
    loaded = load_rules(rules)
    mine, own = loaded.policies
    assert (mine.closure.steps, mine.closure.verifier, own.closure.verifier) == (1, "secretariat", "supervisor")
    assert mine.stale is not None and own.stale is not None
    assert (str(mine.stale.after), str(own.stale.after), own.acceptance.remind) == ("60d", "30d", ["accepted"])
    assert loaded.delay_causes == ("money", "weather", "strikes")


def test_the_shipped_rules_close_in_two_steps_verified_by_the_supervisor(shipped: RuleSet) -> None:
    assert {(p.closure.steps, p.closure.verifier) for p in shipped.policies} == {(2, "supervisor")}
    said = (
        "closure: the owner reports it implemented, the owner's supervisor verifies it; reminded every 7d, "
        "the verifier's supervisor told after 21d"
    )
    assert said in describe_policy(shipped.policies[1])


def test_the_stale_template_is_checked_where_it_is_named(rules: Path) -> None:
    Path("tpl/email").mkdir(parents=True)
    for name in ("reminder", "stale", "_base"):
        write(Path(f"tpl/email/{name}.txt.j2"), "x\n")
    write(rules / "r.yaml", POLICY + "    stale: {after: 60d, template: stail}\n")
    with pytest.raises(InputError) as caught:
        load_rules(rules, [Path("tpl")])
    assert str(caught.value).splitlines() == [
        "rules/r.yaml:7:35: policies[0].stale.template: unknown template 'stail' (did you mean 'stale'?): "
        "no email/stail.txt.j2 in tpl/email; expected one of reminder, stale",
    ]
    write(rules / "r.yaml", "defaults:\n  stale: {after: 60d}\n" + POLICY)
    named = load_rules(rules, [Path("tpl")]).templates
    assert [(n, str(place)) for n, place, _ in named] == [
        ("reminder", "rules/r.yaml:8:9"),
        ("stale", "rules/r.yaml:2:10"),
    ]


@pytest.mark.parametrize(
    ("added", "expected"),
    [
        pytest.param(
            "campaigns: [{every: 2w}]\n",
            "rules/x.yaml:7:21: campaigns[0].every: expected a number of months from 1mo to 12mo (like 1mo or 3mo), "
            "got 14d",
            id="every-weeks",
        ),
        pytest.param(
            "campaigns:\n  - {every: 1mo, day: 31}\n",
            "rules/x.yaml:8:23: campaigns[0].day: expected a day of the month from 1 to 28 (every month has those), "
            "got 31",
            id="day-31",
        ),
        pytest.param(
            "campaigns:\n  - {every: 1mo, within: 2mo}\n",
            "rules/x.yaml:8:26: campaigns[0].within: expected a number of days from 1d to 366d (like 45d), got 2mo",
            id="within-months",
        ),
        pytest.param(
            "campaigns:\n  - {every: 1mo, withn: 45d}\n",
            "rules/x.yaml:8:18: campaigns[0].withn: unknown key 'withn' (did you mean 'within'?); "
            "expected one of every, day, within, overdue",
            id="misspelt",
        ),
    ],
)
def test_bad_campaign_rule(rules: Path, added: str, expected: str) -> None:
    write(rules / "x.yaml", POLICY + added)
    assert errors(rules) == [expected]


def test_campaign_rules_are_read_in_file_order(rules: Path) -> None:
    added = "campaigns:\n  - {every: 1mo, day: 1, within: 45d}\n  - {every: 3mo, overdue: false}\n"
    write(rules / "x.yaml", POLICY + added)
    found = load_rules(rules).campaigns
    assert [(c.every.months, c.day, c.within.days, c.overdue) for c in found] == [(1, 1, 45, True), (3, 1, 45, False)]


# When a message nobody is waiting for reaches its recipient: their working day, as reminders go.


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        # a tick at 09:30 UTC: 04:30 in Bogota, so the owner gets it at 09:00 there
        ("2027-11-01T09:30:00+00:00", "America/Bogota", "2027-11-01T09:00:00-05:00"),
        # 07:00 in Geneva, before the delivery hour: at 09:00
        ("2027-11-02T07:00:00+01:00", "Europe/Zurich", "2027-11-02T09:00:00+01:00"),
        # within the working day: at once
        ("2027-11-02T10:30:00+01:00", "Europe/Zurich", "2027-11-02T10:30:00+01:00"),
        # a Friday evening: Monday morning
        ("2027-11-05T18:30:00+01:00", "Europe/Zurich", "2027-11-08T09:00:00+01:00"),
        # a Saturday: Monday morning
        ("2027-11-06T11:00:00+07:00", "Asia/Bangkok", "2027-11-08T09:00:00+07:00"),
    ],
    ids=["bogota-dawn", "geneva-early", "geneva-working", "friday-evening", "saturday"],
)
def test_a_message_nobody_waits_for_goes_out_in_the_recipients_working_day(now: str, tz: str, expected: str) -> None:
    assert working_instant(_at(now), tz) == _at(expected)


def test_the_rules_give_the_working_days_hour_and_holidays(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text(
        "defaults:\n  delivery: {hour: '08:00', holidays: [2027-11-01]}\npolicies: [{name: all}]\n"
    )
    rules = load_rules(tmp_path)
    # 1 November is a holiday: the next business day, at eight
    assert working_instant(_at("2027-11-01T10:00:00+01:00"), "Europe/Zurich", None, rules) == _at(
        "2027-11-02T08:00:00+01:00"
    )


@given(
    minutes=st.integers(0, 60 * 24 * 21),
    tz=st.sampled_from(["America/Bogota", "Europe/Zurich", "Asia/Bangkok", "Pacific/Auckland", "UTC"]),
)
@settings(max_examples=200, deadline=None, derandomize=True)
def test_never_before_the_delivery_hour_nor_on_a_weekend_and_never_more_than_three_days_late(
    minutes: int, tz: str
) -> None:
    now = datetime(2027, 10, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    at = working_instant(now, tz)
    local = at.astimezone(zone(tz))
    assert at >= now and at - now <= timedelta(days=3, hours=1)
    assert local.weekday() < 5 and time(9, 0) <= local.time() < time(17, 0)
