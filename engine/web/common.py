"""Helpers the page modules share: refusals turned into 400 pages, dates read from forms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from engine.errors import PlanwatchError
from engine.web.auth import PageError


@contextmanager
def refusing_bad_input() -> Iterator[None]:
    """Turn a workflow's refusal (a date not after the due date, ...) into a 400 page."""
    try:
        yield
    except PlanwatchError as exc:
        raise PageError(400, "That could not be done", f"{exc}.") from None


def parse_day(text: str, label: str) -> date:
    """Return the date of a form field, or a 400 page that says what was expected."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PageError(
            400, "That could not be done", f"{label}: expected a date like 2000-09-30, got {text!r}."
        ) from None
