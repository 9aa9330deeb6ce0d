"""Stored times are one fixed-width UTC text, so they compare and sort as strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlrhub.domain.times import iso

UTC_TIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


def test_iso_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 11, 25, 14, 2, 3, 123999, tzinfo=timezone(timedelta(hours=3)))
    assert iso(moment) == "2026-11-25T11:02:03.123Z"


@pytest.mark.parametrize(("year", "text"), [(1, "0001"), (999, "0999"), (2026, "2026"), (9999, "9999")])
def test_iso_pads_every_year_to_four_digits(year: int, text: str) -> None:
    assert iso(datetime(year, 6, 1, tzinfo=UTC)) == f"{text}-06-01T00:00:00.000Z"


def to_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@given(first=UTC_TIMES, second=UTC_TIMES)
def test_iso_text_sorts_as_the_times_do(first: datetime, second: datetime) -> None:
    assert len(iso(first)) == len(iso(second)) == 24
    assert (iso(first) < iso(second)) is (to_millis(first) < to_millis(second))


def test_iso_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone"):
        iso(datetime(2026, 11, 25))
