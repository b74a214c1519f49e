"""Holiday lists named by rule files: YAML (a mapping or a plain list) and iCalendar, and their errors."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.rules.holidays import ics_dates, read_holidays
from engine.rules.loader import calendar_for, load_rules


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``rules/`` folder under a working directory of its own."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").mkdir()
    return Path("rules")


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_rules(path)
    return str(caught.value).splitlines()


HOLIDAY_POLICY = """\
defaults:
  delivery:
    holidays: {ref}
policies:
  - name: any
"""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("holidays:\n  - 2000-08-01\n  - 2000-12-25\n", id="mapping"),
        pytest.param("- 2000-12-25\n- 2000-08-01\n", id="plain-list"),
    ],
)
def test_holidays_from_a_yaml_file(rules: Path, text: str) -> None:
    write(rules / "days.yaml", text)
    write(rules / "r.yaml", HOLIDAY_POLICY.format(ref="days.yaml"))
    ruleset = load_rules(rules)
    assert ruleset.files == ("rules/r.yaml",)  # the holiday list is data, not a rule file
    assert ruleset.holiday_files == ("rules/days.yaml",)
    assert sorted(ruleset.policies[0].delivery.holidays) == [date(2000, 8, 1), date(2000, 12, 25)]


ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//holidays//EN
BEGIN:VEVENT
UID:national@test
SUMMARY:Swiss National Day
DTSTART;VALUE=DATE:19950801
RRULE:FREQ=YEARLY
END:VEVENT
BEGIN:VEVENT
UID:easter-2000@test
SUMMARY:Good Friday to Easter Monday
DTSTART;VALUE=DATE:20000421
DTEND;VALUE=DATE:20000425
END:VEVENT
BEGIN:VEVENT
UID:meeting@test
SUMMARY:A meeting, not a holiday
DTSTART:20000510T090000Z
END:VEVENT
END:VCALENDAR
"""


def test_holidays_from_an_icalendar_file(rules: Path) -> None:
    write(rules / "geneva.ics", ICS.replace("\n", "\r\n"))
    write(rules / "r.yaml", HOLIDAY_POLICY.format(ref="geneva.ics"))
    days = load_rules(rules).policies[0].delivery.holidays
    national = [date(y, 8, 1) for y in range(1995, 2041)]
    assert days == sorted([*national, date(2000, 4, 21), date(2000, 4, 22), date(2000, 4, 23), date(2000, 4, 24)])


def test_bad_date_in_holiday_file_is_reported_in_that_file(rules: Path) -> None:
    write(rules / "days.yaml", "holidays:\n  - 2000-08-01\n  - 2000-13-01\n")
    write(rules / "r.yaml", HOLIDAY_POLICY.format(ref="days.yaml") + "    delivery:\n      holidays: days.yaml\n")
    assert errors(rules) == [
        "rules/days.yaml:3:5: 2000-13-01 is not a date (month must be in 1..12); expected a date like 2000-04-30"
    ]
    write(rules / "days.yaml", "holidays:\n  - 2000-08-01\n  - 1 August\n")
    assert errors(rules) == ["rules/days.yaml:3:5: holidays[1]: expected a date like 2000-04-30, got '1 August'"]


def test_bad_icalendar_file(rules: Path) -> None:
    write(rules / "bad.ics", "BEGIN:VCALENDAR\nthis is not a calendar\n")
    write(rules / "r.yaml", HOLIDAY_POLICY.format(ref="bad.ics"))
    (line,) = errors(rules)
    assert line.startswith("rules/bad.ics: not an iCalendar file (")
    assert line.endswith("); expected BEGIN:VCALENDAR with all-day events")


def test_read_holidays_directly_from_either_yaml_shape(rules: Path) -> None:
    path = rules / "days.yaml"
    assert read_holidays(path, "holidays: [2000-12-25, 2000-08-01]\n") == [date(2000, 12, 25), date(2000, 8, 1)]
    assert read_holidays(path, "- 2000-08-01\n") == [date(2000, 8, 1)]


def test_a_scalar_is_not_a_holiday_list(rules: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_holidays(rules / "days.yaml", "2000-08-01\n")
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith("rules/days.yaml")  # a scalar document is placed by file only
    assert str(caught.value).endswith(": expected a holiday list: 'holidays:' followed by lines like '- 2000-01-01'")


def test_an_unknown_key_in_a_holiday_mapping_is_refused(rules: Path) -> None:
    with pytest.raises(InputError, match=r"^rules/days\.yaml:2:1: .*extra"):
        read_holidays(rules / "days.yaml", "holidays: [2000-08-01]\nextra: 1\n")


def test_a_bad_rrule_names_the_event_and_the_file() -> None:
    text = ICS.replace("RRULE:FREQ=YEARLY", "RRULE:FREQ=SOMETIMES")
    with pytest.raises(InputError) as caught:
        ics_dates(text.replace("\n", "\r\n"), "geneva.ics")
    message = str(caught.value)
    assert message == (
        "geneva.ics: RRULE 'FREQ=SOMETIMES' of Swiss National Day: invalid 'FREQ': SOMETIMES; "
        "expected a yearly rule like FREQ=YEARLY"
    )


def test_holidays_by_zone_name_a_file_for_each_zone(rules: Path) -> None:
    write(rules / "geneva.yaml", "holidays:\n  - 2000-08-01\n")
    write(rules / "lima.yaml", "holidays:\n  - 2000-07-28\n  - 2000-12-25\n")
    write(
        rules / "r.yaml",
        """\
        defaults:
          delivery:
            holidays: geneva.yaml
            holidays_by_zone: {America/Lima: lima.yaml, Asia/Bangkok: [2000-12-05]}
        policies:
          - name: any
        """,
    )
    ruleset = load_rules(rules)
    assert ruleset.files == ("rules/r.yaml",)
    assert set(ruleset.holiday_files) == {"rules/geneva.yaml", "rules/lima.yaml"}
    delivery = ruleset.policies[0].delivery
    assert delivery.holidays_for("America/Lima") == [date(2000, 7, 28), date(2000, 12, 25)]
    assert delivery.holidays_for("Asia/Bangkok") == [date(2000, 12, 5)]
    assert delivery.holidays_for("Europe/Zurich") == [date(2000, 8, 1)]
    lima = calendar_for(delivery, "America/Lima")
    assert lima.is_business_day(date(2000, 8, 1)) and not lima.is_business_day(date(2000, 12, 25))


def test_holidays_by_zone_errors_name_the_zone_and_the_file(rules: Path) -> None:
    write(
        rules / "r.yaml",
        """\
        defaults:
          delivery:
            holidays_by_zone: {America/Lima: missing.yaml, Mars/Olympus: [2000-01-01]}
        policies:
          - name: any
        """,
    )
    text = "\n".join(errors(rules))
    assert "rules/r.yaml:3" in text and "holidays_by_zone.America/Lima: cannot read 'missing.yaml'" in text
    assert "Mars/Olympus" in text


def test_holidays_by_country_come_before_the_zones_and_the_policys(rules: Path) -> None:
    write(rules / "geneva.yaml", "holidays:\n  - 2000-08-01\n")
    write(rules / "bangkok.yaml", "holidays:\n  - 2000-04-13\n")
    write(
        rules / "r.yaml",
        """\
        defaults:
          delivery:
            holidays: geneva.yaml
            holidays_by_zone: {Asia/Bangkok: [2000-12-05]}
            holidays_by_country: {TH: bangkok.yaml, PE: [2000-07-28], FR: package}
        policies:
          - name: any
        """,
    )
    ruleset = load_rules(rules)
    assert set(ruleset.holiday_files) == {"rules/geneva.yaml", "rules/bangkok.yaml"}
    delivery = ruleset.policies[0].delivery
    assert delivery.holidays_for("Asia/Bangkok", "TH") == [date(2000, 4, 13)]  # the country's, not the zone's
    assert delivery.holidays_for("Asia/Bangkok", None) == [date(2000, 12, 5)]  # no country: the zone's
    assert delivery.holidays_for("Asia/Bangkok", "CH") == [date(2000, 12, 5)]  # a country not named: the zone's
    assert delivery.holidays_for("America/Lima", "PE") == [date(2000, 7, 28)]
    assert delivery.holidays_for("Europe/Zurich", None) == [date(2000, 8, 1)]  # neither: the policy's
    # FR: the holidays package's calendar (Bastille Day, Christmas; Whit Monday 2000 was 12 June)
    france = calendar_for(delivery, "Europe/Paris", "FR")
    assert not france.is_business_day(date(2000, 7, 14)) and not france.is_business_day(date(2000, 12, 25))
    assert france.is_business_day(date(2000, 8, 1))  # Geneva's National Day is not France's
    assert not calendar_for(delivery, "Europe/Zurich").is_business_day(date(2000, 8, 1))


def test_a_bad_country_code_is_an_error_at_its_key(rules: Path) -> None:
    write(
        rules / "r.yaml",
        """\
        defaults:
          delivery:
            holidays_by_country:
              TH: [2000-04-13]
              Thailand: [2000-04-13]
              pe: [2000-07-28]
        policies:
          - name: any
        """,
    )
    assert errors(rules) == [
        "rules/r.yaml:5:7: defaults.delivery.holidays_by_country: unknown country 'Thailand'; expected an ISO 3166 "
        "alpha-2 code such as 'TH', 'PE' or 'CH'",
        "rules/r.yaml:6:7: defaults.delivery.holidays_by_country: country 'pe' is written in small letters; "
        "expected the code in capitals, 'PE'",
    ]
