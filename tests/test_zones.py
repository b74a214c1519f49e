"""Time-zone names are IANA names, refused with advice otherwise; datetimes from the store become aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, ValidationError

from engine.zones import ZoneName, aware_utc, zone, zone_problem


def test_an_iana_name_gives_its_zone() -> None:
    lima = zone("America/Lima")
    assert datetime(2000, 1, 1, 12, tzinfo=lima).utcoffset() == timedelta(hours=-5)
    assert zone("America/Lima") is lima  # looked up once
    assert zone("UTC").utcoffset(None) == timedelta(0)
    assert zone_problem("Europe/Zurich") is None


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("CET", "'CET' is not an IANA time-zone name; expected a name like 'Europe/Zurich'"),
        ("", "'' is not an IANA time-zone name"),
        ("Europe/Atlantis", "unknown time zone 'Europe/Atlantis'; expected an IANA name like 'Europe/Zurich'"),
        ("../etc/passwd", "unknown time zone '../etc/passwd'"),
    ],
)
def test_other_names_are_refused_with_advice(name: str, advice: str) -> None:
    problem = zone_problem(name)
    assert problem is not None and problem.startswith(advice)
    with pytest.raises(ValueError, match="IANA"):
        zone(name)


def test_a_zone_name_field_checks_its_value() -> None:
    class Owner(BaseModel):
        timezone: ZoneName

    assert Owner(timezone="Asia/Bangkok").timezone == "Asia/Bangkok"
    with pytest.raises(ValidationError, match="abbreviations such as CET or EST are ambiguous"):
        Owner(timezone="EST")


def test_aware_utc_reads_naive_values_as_utc_and_keeps_aware_ones() -> None:
    naive = datetime(2000, 1, 1, 8)  # noqa: DTZ001 - as SQLite hands it back
    assert aware_utc(naive) == datetime(2000, 1, 1, 8, tzinfo=UTC)
    assert aware_utc(naive).tzinfo is UTC
    plus2 = datetime(2000, 1, 1, 8, tzinfo=timezone(timedelta(hours=2)))
    assert aware_utc(plus2) is plus2
    assert aware_utc("2000-01-01 08:30:00") == datetime(2000, 1, 1, 8, 30, tzinfo=UTC)
    assert aware_utc("2000-01-01T08:30:00+01:00") == datetime(2000, 1, 1, 7, 30, tzinfo=UTC)
    assert aware_utc(None) is None
    assert aware_utc(946_728_000) is None
