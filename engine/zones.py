"""IANA time-zone names: checked once, with a message that says what to write instead; aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Annotated, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


@cache
def zone(name: str) -> ZoneInfo:
    """Return the ``ZoneInfo`` for an IANA name; raise ``ValueError`` with advice otherwise."""
    problem = zone_problem(name)
    if problem:
        raise ValueError(problem)
    return ZoneInfo(name)


def zone_problem(name: str) -> str | None:
    """Return why ``name`` is not a usable IANA zone name, or None when it is one."""
    if not name or ("/" not in name and name != "UTC"):
        return (
            f"{name!r} is not an IANA time-zone name; expected a name like "
            "'Europe/Zurich' or 'America/Lima' (abbreviations such as CET or EST are ambiguous)"
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}; expected an IANA name like 'Europe/Zurich'"
    return None


def _checked(name: str) -> str:
    problem = zone_problem(name)
    if problem:
        raise ValueError(problem)
    return name


ZoneName = Annotated[str, AfterValidator(_checked)]
"""A pydantic field type: an IANA zone name, refused with advice otherwise."""


@overload
def aware_utc(value: datetime | str) -> datetime: ...
@overload
def aware_utc(value: object) -> datetime | None: ...
def aware_utc(value: object) -> datetime | None:
    """Return ``value`` as an aware datetime: naive ones (as SQLite hands them back) are UTC, text is read as ISO.

    Anything that is neither a datetime nor text (None) gives None.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
