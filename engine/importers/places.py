"""The time zone of a plan's place of adoption, when the plan does not name one."""

from __future__ import annotations

import unicodedata
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
    # The same seats and capitals as French (and German) texts name them; accents are ignored.
    "geneve": "Europe/Zurich",
    "genf": "Europe/Zurich",
    "la haye": "Europe/Amsterdam",
    "torino": "Europe/Rome",
    "addis abeba": "Africa/Addis_Ababa",
    "bruxelles": "Europe/Brussels",
    "vienne": "Europe/Vienna",
    "wien": "Europe/Vienna",
    "rome": "Europe/Rome",
    "londres": "Europe/London",
    "lisbonne": "Europe/Lisbon",
    "varsovie": "Europe/Warsaw",
    "le caire": "Africa/Cairo",
    "alger": "Africa/Algiers",
    "mexico": "America/Mexico_City",
}


def _key(place: str) -> str:
    """Return a place name folded for matching: no accents, lower case, hyphens and runs of spaces as one space."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", place) if not unicodedata.combining(c))
    return " ".join(plain.replace("-", " ").casefold().split())


@cache
def _by_city() -> dict[str, str]:
    zones: dict[str, str] = {}
    for name in sorted(available_timezones()):
        zones.setdefault(_key(name.rsplit("/", 1)[-1].replace("_", " ")), name)
    return zones


def known_zone(place: str) -> str | None:
    """Return the IANA zone for a city name (any case, with or without accents), or None when it is not known."""
    key = _key(place)
    return SEATS.get(key) or _by_city().get(key)


def zone_for_place(place: str) -> str:
    """Return the IANA zone for a city name, or ``UTC`` when it is not known."""
    return known_zone(place) or "UTC"
