"""Pure parts of the store: pending shards and listing cursors. What a write does is tested on
DynamoDB itself (tests/integration/test_store.py, test_registration_store.py), not on its text."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from dlrhub.table.keys import pending_partition_of, typed
from dlrhub.table.messages import decode_cursor, encode_cursor


def test_pending_shards_spread_messages() -> None:
    partitions = {pending_partition_of("p", "a", str(i)) for i in range(1000)}
    assert len(partitions) == 8


def test_cursor_round_trip_and_garbage() -> None:
    key = {"pk": {"S": "MSG#a"}, "sk": {"S": "MSG"}}
    assert decode_cursor(encode_cursor(key)) == key
    for bad in ("%%%", "bm90IGpzb24", encode_cursor({"pk": "plain"})):
        try:
            decode_cursor(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.text() | st.integers(-(10**30), 10**30) | st.booleans() | st.none(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )
)
def test_the_item_codec_types_values_as_boto3_does(value: Any) -> None:
    assert typed(value) == TypeSerializer().serialize(value)
