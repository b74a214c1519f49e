"""``engine.web.common``: a workflow's refusal becomes a 400 page, a form's date is read or refused, a path's id
is one an id column can hold or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.errors import InputError, Location, OperationalError
from engine.web.auth import PageError
from engine.web.common import MAX_ROW_ID, RowId, parse_day, refusing_bad_input, row_id


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


@pytest.mark.parametrize("text", ["1", "42", "0042", str(MAX_ROW_ID)])
def test_row_id_reads_a_whole_number_an_id_column_holds(text: str) -> None:
    assert row_id(text) == int(text)


@pytest.mark.parametrize(
    "text", ["", "0", "-1", "+1", " 1", "1.0", "1e3", "x", "²", "٣", "１", str(MAX_ROW_ID + 1), "9" * 23]
)
def test_row_id_is_none_for_anything_else(text: str) -> None:
    assert row_id(text) is None


def test_a_rowid_path_parameter_refuses_what_no_id_column_holds() -> None:
    app = FastAPI()

    @app.get("/things/{thing}")
    def thing(thing: RowId) -> int:
        return thing

    with TestClient(app) as client:
        assert client.get(f"/things/{MAX_ROW_ID}").json() == MAX_ROW_ID
        for bad in ("99999999999999999999999", str(MAX_ROW_ID + 1), "0", "-5", "x", "1.5"):
            assert client.get(f"/things/{bad}").status_code == 422, bad  # the site answers these with its 404 page
