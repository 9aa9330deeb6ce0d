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


def message_key_of(pk: str) -> Key:
    """The full key of the message item whose partition key is ``pk``."""
    return {"pk": pk, "sk": MESSAGE_SK}


def message_identity(pk: str) -> tuple[str, str, str]:
    """(provider, account, message_id) of a message item's ``pk``: not stored again beside it."""
    _, provider, account, message_id = pk.split("#", 3)
    return provider, account, message_id


def with_identity(item: dict[str, Any]) -> dict[str, Any]:
    """A plain message item with ``provider``, ``account`` and ``message_id`` read off its key."""
    provider, account, message_id = message_identity(item["pk"])
    return {**item, "provider": provider, "account": account, "message_id": message_id}


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


#: A history entry is one string, ``status|source|received_at|provider_time|raw_status``
#: (provider_time empty when the provider gave none; raw_status last, as it may hold ``|``):
#: about half the bytes of a map with named fields, so a typical life stays one write unit.
HISTORY_FIELDS = ("status", "source", "received_at", "provider_time", "raw_status")


def history_entry(status: str, source: str, received_at: str, provider_time: str | None, raw_status: str) -> str:
    return "|".join((status, source, received_at, provider_time or "", raw_status))


def read_history_entry(entry: str | dict[str, Any]) -> dict[str, Any]:
    """A stored history entry as named fields, ``event_time`` included; a map (items written
    before entries were strings) is read as it is."""
    if isinstance(entry, dict):
        return entry
    found = dict(zip(HISTORY_FIELDS, entry.split("|", len(HISTORY_FIELDS) - 1), strict=True))
    provider_time = found.pop("provider_time")
    if provider_time:
        found["provider_time"] = provider_time
    found["event_time"] = provider_time or found["received_at"]
    return found


def read_message(item: dict[str, Any]) -> dict[str, Any]:
    """A plain message item as readers see it: its identity from the key, its history named."""
    found = with_identity(item)
    if "history" in found:
        found["history"] = [read_history_entry(entry) for entry in found["history"]]
    return found


def typed_key(key: Key) -> dict[str, dict[str, str]]:
    return {name: {"S": value} for name, value in key.items()}
