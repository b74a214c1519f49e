"""Country codes: ISO 3166-1 alpha-2, refused with advice otherwise."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from engine.countries import CODES, CountryCode, country_problem


def test_every_assigned_code_and_only_those() -> None:
    assert len(CODES) == 249 and {"TH", "PE", "CH", "FR", "GB"} <= CODES
    assert country_problem("TH") is None


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("th", "expected the code in capitals, 'TH'"),
        ("XX", "unknown country 'XX'; expected an ISO 3166 alpha-2 code"),
        ("Thailand", "unknown country 'Thailand'"),
        ("UK", "unknown country 'UK'"),
    ],
)
def test_a_code_that_is_not_one_is_refused_with_what_to_write(code: str, said: str) -> None:
    assert said in (country_problem(code) or "")


def test_the_field_type_refuses_an_unknown_code() -> None:
    class Row(BaseModel):
        country: CountryCode

    assert Row(country="PE").country == "PE"
    with pytest.raises(ValidationError, match="unknown country 'ZZ'"):
        Row(country="ZZ")
