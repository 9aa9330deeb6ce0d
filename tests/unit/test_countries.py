"""Destination countries (pure): calling codes checked against libphonenumber, MCCs, ISO codes."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers.phonemetadata import PhoneMetadata

from dlrhub.domain.countries import (
    CALLING_CODES,
    MOBILE_COUNTRY_CODES,
    NANP_AREA_CODES,
    UNKNOWN,
    country_of_mcc,
    country_of_number,
    iso_country,
)


def test_every_geographic_calling_code_is_libphonenumbers_main_region() -> None:
    expected = {
        str(code): regions[0]
        for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        if regions[0] != phonenumbers.UNKNOWN_REGION and regions[0] != "001"
    }
    assert expected == CALLING_CODES


def test_every_nanp_area_code_is_where_libphonenumber_puts_it() -> None:
    for area in range(200, 1000):
        region = phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{area}2345678"))
        assert NANP_AREA_CODES.get(str(area), "US") == (region if region and region != "US" else "US"), area


@pytest.mark.parametrize("region", ["GB", "DE", "ID", "IN", "BR", "CA", "JM", "KZ", "RU", "ZA", "AU", "FR", "CN"])
def test_an_example_mobile_number_of_a_country_is_that_country(region: str) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert country_of_number(number) == region
    assert country_of_number(number.removeprefix("+")) == region
    assert country_of_number("00" + number.removeprefix("+")) == region


@given(st.from_regex(r"\A\+?[0-9]{5,20}\Z"))
def test_any_registrable_number_gets_a_country_or_zz(number: str) -> None:
    country = country_of_number(number)
    assert country == UNKNOWN or country in set(CALLING_CODES.values()) | set(NANP_AREA_CODES.values()) | {"KZ"}


def test_numbers_without_a_geographic_code_are_zz() -> None:
    assert country_of_number("+80012345678") == UNKNOWN  # international freephone
    assert country_of_number("+88216123456") == UNKNOWN  # international networks
    assert country_of_number("+1") == UNKNOWN
    assert country_of_number("+12x") == UNKNOWN


def test_mobile_country_codes() -> None:
    assert (country_of_mcc("510"), country_of_mcc("51010"), country_of_mcc("302720")) == ("ID", "ID", "CA")
    assert (country_of_mcc("310"), country_of_mcc("234"), country_of_mcc("250")) == ("US", "GB", "RU")
    assert country_of_mcc("") is None
    assert country_of_mcc("abc") is None
    assert country_of_mcc("999") is None
    regions = set(PhoneMetadata._region_available) | {"XK"}  # every region libphonenumber knows
    assert set(MOBILE_COUNTRY_CODES.values()) <= regions


def test_iso_codes_as_providers_give_them() -> None:
    assert (iso_country("id"), iso_country(" GB "), iso_country("IDN"), iso_country("")) == ("ID", "GB", None, None)
