"""The time zone of a plan's place of adoption."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from engine.importers.places import _GAZETTEER, known_zone, zone_for_place


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        ("Geneva", "Europe/Zurich"),  # a seat whose city is not a zone name
        ("  the hague ", "Europe/Amsterdam"),
        ("Washington, D.C.", "America/New_York"),
        ("Tokyo", "Asia/Tokyo"),  # a city that is a zone name
        ("buenos aires", "America/Argentina/Buenos_Aires"),  # underscores read as spaces, any depth
        ("Paris", "Europe/Paris"),
        ("Genève", "Europe/Zurich"),  # accents and French names: the plan's own language
        ("La Haye", "Europe/Amsterdam"),
        ("Montréal", "America/Toronto"),
        ("Addis-Abeba", "Africa/Addis_Ababa"),
        ("São Paulo", "America/Sao_Paulo"),
    ],
)
def test_known_places(place: str, zone: str) -> None:
    assert zone_for_place(place) == zone


@pytest.mark.parametrize(
    ("names", "zone"),
    [
        ("Geneva Genève Genf Ginebra", "Europe/Zurich"),
        ("Rome Roma Turin Torino", "Europe/Rome"),
        ("Vienna Wien Vienne Viena", "Europe/Vienna"),
        ("Brussels Bruxelles Bruselas", "Europe/Brussels"),
        ("Copenhagen Copenhague", "Europe/Copenhagen"),
        ("Beirut Beyrouth", "Asia/Beirut"),
        ("Cairo Kairo", "Africa/Cairo"),
        ("Nairobi", "Africa/Nairobi"),
        ("Bangkok", "Asia/Bangkok"),
        ("Lima", "America/Lima"),
        ("Bonn", "Europe/Berlin"),
        ("Santiago", "America/Santiago"),
        ("Manila Manille", "Asia/Manila"),
        ("Abidjan", "Africa/Abidjan"),
        ("Dakar", "Africa/Dakar"),
        ("Pretoria", "Africa/Johannesburg"),
        ("London Londres", "Europe/London"),
        ("Madrid", "Europe/Madrid"),
        ("Jakarta", "Asia/Jakarta"),
        ("Amman", "Asia/Amman"),
    ],
)
def test_the_gazetteer_in_the_languages_of_the_plans(names: str, zone: str) -> None:
    assert {known_zone(name) for name in names.split()} == {zone}


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        ("New York", "America/New_York"),
        ("Nueva York", "America/New_York"),
        ("Washington D.C.", "America/New_York"),
        ("Washington DC", "America/New_York"),
        ("The Hague", "Europe/Amsterdam"),
        ("Den Haag", "Europe/Amsterdam"),
        ("Montreal", "America/Toronto"),
        ("Addis Ababa", "Africa/Addis_Ababa"),
        ("New Delhi", "Asia/Kolkata"),
        ("Nouvelle-Delhi", "Asia/Kolkata"),
        ("TOKYO", "Asia/Tokyo"),
    ],
)
def test_names_of_several_words(place: str, zone: str) -> None:
    assert known_zone(place) == zone


def test_every_zone_of_the_gazetteer_exists() -> None:
    for zone in _GAZETTEER:
        assert ZoneInfo(zone).key == zone


def test_an_unknown_place_is_not_known() -> None:
    assert known_zone("Atlantis") is None
    assert known_zone("") is None


def test_an_unknown_place_is_utc() -> None:
    assert zone_for_place("Atlantis") == "UTC"
    assert zone_for_place("") == "UTC"
