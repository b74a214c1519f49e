"""``engine.web.common``: a workflow's refusal becomes a 400 page, a form's date is read or refused."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import InputError, Location, OperationalError
from engine.web.auth import PageError
from engine.web.common import parse_day, refusing_bad_input


def test_parse_day_reads_an_iso_date_around_spaces() -> None:
    assert parse_day(" 2000-09-30\n", "New due date") == date(2000, 9, 30)


@pytest.mark.parametrize("text", ["soon", "30/09/2000", "2000-02-30", ""])
def test_parse_day_refuses_anything_else_with_a_400_naming_the_field(text: str) -> None:
    with pytest.raises(PageError) as refused:
        parse_day(text, "New due date")
    assert refused.value.status == 400
    assert refused.value.message == f"New due date: expected a date like 2000-09-30, got {text!r}."


def test_a_planwatch_refusal_becomes_a_400_page_with_its_words() -> None:
    with pytest.raises(PageError) as refused, refusing_bad_input():
        raise InputError("2000-01-01 is not after the current due date 2000-06-30")
    assert (refused.value.status, refused.value.title) == (400, "That could not be done")
    assert refused.value.message == "2000-01-01 is not after the current due date 2000-06-30."
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_every_kind_of_planwatch_error_is_refused_and_its_place_is_kept() -> None:
    with pytest.raises(PageError) as refused, refusing_bad_input():
        raise OperationalError("the database is locked", Location("plan.yaml", 3))
    assert refused.value.message == "plan.yaml:3: the database is locked."


def test_other_exceptions_pass_through_untouched() -> None:
    with pytest.raises(KeyError), refusing_bad_input():
        raise KeyError("not a refusal")
    with refusing_bad_input():
        value = 1  # nothing raised: nothing changes
    assert value == 1
