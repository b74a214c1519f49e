"""Helpers the page modules share: refusals turned into 400 pages, dates read from forms, ids read from paths.

A database id in a path is declared ``RowId`` (``def page(action_id: RowId)``): anything that is not a
whole number an id column can hold (``99999999999999999999999``, ``-1``, ``x``) is the site's 404 page,
never a lookup that overflows into a 500. A path part that is an id or something else (``/actions/{key}``,
a number or a reference) reads the number with ``row_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

from fastapi import Path

from engine.errors import PlanwatchError
from engine.web.auth import PageError
from engine.web.templating import N_


@contextmanager
def refusing_bad_input() -> Iterator[None]:
    """Turn a workflow's refusal (a date not after the due date, ...) into a 400 page."""
    try:
        yield
    except PlanwatchError as exc:
        template, values = getattr(exc, "template", None), getattr(exc, "values", {})
        if isinstance(template, str):  # a refusal marked for translation: said in the reader's language
            raise PageError(400, N_("That could not be done"), template, **values) from None
        raise PageError(400, N_("That could not be done"), f"{exc}.") from None


def parse_day(text: str, label: str) -> date:
    """Return the date of a form field, or a 400 page that says what was expected."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PageError(
            400,
            N_("That could not be done"),
            N_("%(label)s: expected a date like 2000-09-30, got %(value)s."),
            label=label,
            value=repr(text),
        ) from None


MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER column holds (32 bits on PostgreSQL)

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
"""A database id in a path: out of range or not a number, FastAPI refuses it and the site answers 404."""


def row_id(text: str) -> int | None:
    """Return the database id ``text`` names (ASCII digits, 1 to ``MAX_ROW_ID``), else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROW_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None
