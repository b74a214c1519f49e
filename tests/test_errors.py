"""The error tree: exit codes (2 for what the user can fix, 1 for outages) and places printed as file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import (
    InputError,
    Location,
    NotFoundError,
    OperationalError,
    PlanwatchError,
    UsageError,
    ValidationErrors,
    display_path,
)


def test_a_location_prints_as_file_line_col() -> None:
    assert str(Location("plans/plan.yaml")) == "plans/plan.yaml"
    assert str(Location("plans/plan.yaml", 12)) == "plans/plan.yaml:12"
    assert str(Location("plans/plan.yaml", 12, 5)) == "plans/plan.yaml:12:5"
    assert str(Location("plans/plan.yaml", None, 5)) == "plans/plan.yaml"  # a column without a line means nothing


def test_an_error_prints_its_place_before_its_message() -> None:
    error = InputError("unknown key 'owner_id'", Location("rules/default.yaml", 3, 1))
    assert str(error) == "rules/default.yaml:3:1: unknown key 'owner_id'"
    assert error.message == "unknown key 'owner_id'"
    assert str(OperationalError("database error: locked")) == "database error: locked"


def test_exit_codes_say_who_can_fix_it() -> None:
    assert [cls.exit_code for cls in (InputError, UsageError, NotFoundError, ValidationErrors)] == [2, 2, 2, 2]
    assert PlanwatchError.exit_code == 1 and OperationalError.exit_code == 1
    assert issubclass(NotFoundError, UsageError) and issubclass(UsageError, InputError)
    assert not issubclass(OperationalError, InputError)
    with pytest.raises(PlanwatchError):
        raise NotFoundError("no action 'X.1'")


def test_validation_errors_report_each_error_on_its_own_line() -> None:
    errors = ValidationErrors(
        [InputError("bad date", Location("plan.yaml", 4)), UsageError("no owner 'bob'", Location("owners.yaml", 9, 3))]
    )
    assert str(errors) == "plan.yaml:4: bad date\nowners.yaml:9:3: no owner 'bob'"
    assert len(errors.errors) == 2 and errors.location is None and errors.exit_code == 2


def test_display_path_is_relative_below_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "here" / "plans").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "here")
    assert display_path(tmp_path / "here" / "plans" / "plan.yaml") == "plans/plan.yaml"
    assert display_path("plans/plan.yaml") == "plans/plan.yaml"
    outside = tmp_path / "elsewhere" / "plan.yaml"
    assert display_path(outside) == str(outside)
