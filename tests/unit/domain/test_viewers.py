"""Viewer codes kept by analytics: the edge's country, validated against ISO 3166-1."""

from __future__ import annotations

import pytest

from chalicelib.domain.viewers import country, country_codes


@pytest.mark.parametrize(
    ("header", "expected"),
    [("DE", "DE"), ("de", "DE"), (" US ", "US"), ("XX", None), ("ZZ", None), ("DEU", None), ("", None), (None, None)],
)
def test_country_is_an_iso_alpha_2_code_or_nothing(header: str | None, expected: str | None) -> None:
    assert country(header) == expected


def test_the_code_list_is_iso_3166_1() -> None:
    codes = country_codes()
    assert len(codes) == 249 and {"DE", "US", "JP", "AQ"} <= codes
