"""The messages table's layout, in one place: keys, indexes, shards, and the item codec.

Every module that reads or writes the table (the store, the counters, leases and
checkpoints, the stream, the local stack, the tests) builds keys here. See
docs/data-model.md for the item attributes.
"""

from __future__ import annotations

import zlib
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

#: The sort key of every message item; other items (counters, leases, ...) have other ones.
MESSAGE_SK = "MSG"
PENDING_INDEX = "pending"
ACCOUNT_INDEX = "by_account"
REF_INDEX = "by_ref"
#: Pending messages of one account are spread over this many index partitions.
PENDING_SHARDS = 8

Key = dict[str, str]


# -- message items ---------------------------------------------------------------------


def message_key(provider: str, account: str, message_id: str) -> Key:
    return {"pk": f"MSG#{provider}#{account}#{message_id}", "sk": MESSAGE_SK}


def is_message(item: dict[str, Any]) -> bool:
    """Whether a plain item (or its keys) is a message, not a counter, lease or checkpoint."""
    return item.get("sk") == MESSAGE_SK


def pending_shard(message_id: str) -> int:
    return zlib.crc32(message_id.encode()) % PENDING_SHARDS


def pending_partition(provider: str, account: str, shard: int) -> str:
    return f"PENDING#{provider}#{account}#{shard}"


def pending_partition_of(provider: str, account: str, message_id: str) -> str:
    """The ``pending`` index partition of one message."""
    return pending_partition(provider, account, pending_shard(message_id))


def timed_sort_key(moment: str, message_id: str) -> str:
    """``{time}#{message_id}``: oldest first, unique per message (``pending_sk``, ``acct_sk``)."""
    return f"{moment}#{message_id}"


def message_id_of_sort_key(sort_key: str) -> str:
    return sort_key.split("#", 1)[1]


def account_partition(provider: str, account: str) -> str:
    return f"{provider}#{account}"


def ref_sort_key(submitted: str, provider: str, account: str, message_id: str) -> str:
    return f"{submitted}#{provider}#{account}#{message_id}"


# -- other items -----------------------------------------------------------------------


def counter_partition(provider: str, account: str) -> str:
    """Delivery counters of one account; the sort key is the bucket start (docs/statistics.md)."""
    return f"STATS#{provider}#{account}"


def counter_key(provider: str, account: str, bucket: str) -> Key:
    return {"pk": counter_partition(provider, account), "sk": bucket}


def stream_position_key(shard: str) -> Key:
    """The last stream sequence number counted for a shard."""
    return {"pk": f"STREAMPOS#{shard}", "sk": "POS"}


def lease_key(name: str) -> Key:
    return {"pk": f"LEASE#{name}", "sk": "LEASE"}


def cursor_key(name: str) -> Key:
    """A checkpoint: how far a feed has been read (Huawei window, monitor report)."""
    return {"pk": f"CURSOR#{name}", "sk": "CURSOR"}


# -- codec -----------------------------------------------------------------------------

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values -> DynamoDB's typed attribute values."""
    return {key: _serialize(value) for key, value in values.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed attribute values -> plain values (numbers come back as Decimal)."""
    return {key: _deserialize(value) for key, value in item.items()}


def typed_key(key: Key) -> dict[str, dict[str, str]]:
    return {name: {"S": value} for name, value in key.items()}
