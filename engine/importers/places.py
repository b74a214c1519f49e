"""The time zone of a plan's place of adoption, when the plan does not name one."""

from __future__ import annotations

import unicodedata
from functools import cache
from zoneinfo import available_timezones

# The cities where plans of action are adopted and their organisations sit, as English, French,
# Spanish and German texts name them, mapped to IANA zones. Accents, case and hyphens are ignored
# (``_key``); a city that is itself a zone's name (Tokyo, Lima, Dakar ...) is found without a row here.
_GAZETTEER = {
    "Europe/Zurich": "geneva, geneve, genf, ginebra, ginevra, bern, berne, berna",
    "America/New_York": "new york, nueva york, new york city, washington, washington, d.c., washington d.c., "
    "washington dc, washington, dc",
    "Europe/Rome": "rome, roma, rom, turin, torino, turín",
    "Europe/Paris": "paris, parís, parigi, strasbourg, estrasburgo, strassburg",
    "Europe/Vienna": "vienna, wien, vienne, viena",
    "Africa/Nairobi": "nairobi",
    "Asia/Bangkok": "bangkok",
    "America/Lima": "lima",
    "Europe/Berlin": "bonn, berlin, berlín",
    "America/Toronto": "montreal, montréal, ottawa",
    "America/Santiago": "santiago, santiago de chile",
    "Africa/Addis_Ababa": "addis ababa, addis abeba, adis abeba",
    "Asia/Manila": "manila, manille",
    "Africa/Abidjan": "abidjan",
    "Asia/Beirut": "beirut, beyrouth",
    "Africa/Dakar": "dakar",
    "Africa/Cairo": "cairo, le caire, el cairo, kairo",
    "Africa/Johannesburg": "pretoria, johannesburg",
    "Europe/Brussels": "brussels, bruxelles, bruselas, brüssel",
    "Europe/Amsterdam": "the hague, la haye, la haya, den haag, amsterdam",
    "Europe/London": "london, londres",
    "Europe/Copenhagen": "copenhagen, copenhague, kopenhagen",
    "Europe/Madrid": "madrid",
    "Asia/Tokyo": "tokyo, tokio",
    "Asia/Jakarta": "jakarta, djakarta, yakarta",
    "Asia/Kolkata": "new delhi, nouvelle-delhi, nueva delhi, neu-delhi, delhi",
    "Asia/Amman": "amman, ammán",
    "Europe/Lisbon": "lisbon, lisbonne, lisboa",
    "Europe/Warsaw": "warsaw, varsovie, varsovia",
    "Africa/Algiers": "algiers, alger, argel",
    "America/Mexico_City": "mexico, mexico city, ciudad de mexico, mexico df",
    "Asia/Shanghai": "beijing, pekin, pékin, shanghai",
    "America/Sao_Paulo": "brasilia, brasília, sao paulo",
    "America/Costa_Rica": "san jose, san josé",
    "Africa/Douala": "yaounde, yaoundé",
    "Europe/Istanbul": "ankara, istanbul",
    "Asia/Karachi": "islamabad, karachi",
    "Pacific/Fiji": "suva",
    "Africa/Tunis": "tunis, tunez, túnez",
    "Africa/Casablanca": "rabat, casablanca",
    "Asia/Riyadh": "riyadh, riyad, ryad",
    "Asia/Dubai": "dubai, abu dhabi",
    "America/Port_of_Spain": "port of spain",
    "Europe/Luxembourg": "luxembourg, luxemburgo",
    "Europe/Budapest": "budapest",
    "Europe/Moscow": "moscow, moscou, moscú",
}
# How a place name is folded for matching: no accents, lower case, hyphens, dots and runs of spaces as one space.
_FOLD = str.maketrans({"-": " ", ".": " ", ",": " "})


def _key(place: str) -> str:
    """Return a place name folded for matching: no accents, lower case, hyphens and runs of spaces as one space."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", place) if not unicodedata.combining(c))
    return " ".join(plain.translate(_FOLD).casefold().split())


@cache
def _seats() -> dict[str, str]:
    return {_key(name): zone for zone, names in _GAZETTEER.items() for name in names.split(", ")}


@cache
def _by_city() -> dict[str, str]:
    zones: dict[str, str] = {}
    for name in sorted(available_timezones()):
        zones.setdefault(_key(name.rsplit("/", 1)[-1].replace("_", " ")), name)
    return zones


def known_zone(place: str) -> str | None:
    """Return the IANA zone for a city name (any case, with or without accents), or None when it is not known."""
    key = _key(place)
    return _seats().get(key) or _by_city().get(key)


def zone_for_place(place: str) -> str:
    """Return the IANA zone for a city name, or ``UTC`` when it is not known.

    An importer that falls back to UTC says so: the import warns, names the place and suggests ``--tz``.
    """
    return known_zone(place) or "UTC"
