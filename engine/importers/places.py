"""The time zone of a plan's place of adoption, when the plan does not name one."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

# Seats of organisations whose city is not itself an IANA zone name.
SEATS = {
    "geneva": "Europe/Zurich",
    "new york": "America/New_York",
    "washington": "America/New_York",
    "washington, d.c.": "America/New_York",
    "the hague": "Europe/Amsterdam",
    "bonn": "Europe/Berlin",
    "turin": "Europe/Rome",
    "montreal": "America/Toronto",
    "nairobi": "Africa/Nairobi",
    "addis ababa": "Africa/Addis_Ababa",
    "manila": "Asia/Manila",
    "strasbourg": "Europe/Paris",
}


@cache
def _by_city() -> dict[str, str]:
    zones: dict[str, str] = {}
    for name in sorted(available_timezones()):
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        zones.setdefault(city, name)
    return zones


def zone_for_place(place: str) -> str:
    """Return the IANA zone for a city name, or ``UTC`` when it is not known."""
    key = place.strip().lower()
    return SEATS.get(key) or _by_city().get(key) or "UTC"
