"""Infin8linx's signed password ("Important note 3")."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from dlrhub.providers.infin8linx import sign


def test_the_published_vector() -> None:
    # testspid + 00000000 + testpwd + 1601029303 -> md5, lower-case hex (docs/providers.md#infin8linx).
    assert sign("testspid", "testpwd", 1601029303) == "a14e201f22aafbae74c4d72030ad5a8d"


def test_the_timestamp_is_part_of_the_signature() -> None:
    assert sign("testspid", "testpwd", 1601029304) != sign("testspid", "testpwd", 1601029303)


@given(spid=st.text(max_size=20), password=st.text(max_size=20), timestamp=st.integers(0, 2**40))
def test_always_32_lower_case_hex_digits(spid: str, password: str, timestamp: int) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", sign(spid, password, timestamp))
