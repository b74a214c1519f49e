"""The time zone of a plan's place of adoption."""

from __future__ import annotations

import pytest

from engine.importers.places import zone_for_place


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


def test_an_unknown_place_is_utc() -> None:
    assert zone_for_place("Atlantis") == "UTC"
    assert zone_for_place("") == "UTC"
