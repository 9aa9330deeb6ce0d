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
#: Listing entries of one account (``by_account``), and of one customer reference (``by_ref``), are
#: spread over this many index partitions: one partition takes 1,000 writes a second, and one
#: account's (or one campaign's) registration burst is more (docs/data-model.md, "Hot keys").
LISTING_SHARDS = 16

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


def listing_shard(message_id: str) -> int:
    return zlib.crc32(message_id.encode()) % LISTING_SHARDS


def account_partition(provider: str, account: str, message_id: str) -> str:
    """The ``by_account`` index partition of one message."""
    return f"{provider}#{account}#{listing_shard(message_id)}"


def account_partitions(provider: str, account: str) -> list[str]:
    """Every ``by_account`` index partition of one account, to be read together."""
    return [f"{provider}#{account}#{shard}" for shard in range(LISTING_SHARDS)]


def ref_partition(customer_ref: str, message_id: str) -> str:
    """The ``by_ref`` index partition of one message."""
    return f"{customer_ref}#{listing_shard(message_id)}"


def ref_partitions(customer_ref: str) -> list[str]:
    return [f"{customer_ref}#{shard}" for shard in range(LISTING_SHARDS)]


def listing_sort_key(moment: str, message_id: str) -> str:
    """A listing index's sort key: the time, then the id. Unique in its partition, so a cursor (the
    last entry given out) resumes every shard of a listing at once, even inside one moment that
    thousands of a campaign's messages share (an index orders equal sort keys, but a start key
    made for a partition that does not hold that entry is not honoured: DynamoDB Local restarts)."""
    return f"{moment}#{message_id}"


#: Appended to a range's last moment: above ``#`` and any id after it.
LISTING_SORT_END = "#\uffff"


# -- other items -----------------------------------------------------------------------


def counter_partition(provider: str, account: str) -> str:
    """Delivery counters of one account; the sort key is the bucket start and its writer (docs/statistics.md)."""
    return f"STATS#{provider}#{account}"


#: The writer of counters that the recount tool rebuilt (in place of every stream shard's).
RECOUNT_SLOT = "recount"


def counter_key(provider: str, account: str, bucket: str, slot: str) -> Key:
    """One writer's counters of one bucket: ``slot`` is the stream shard that counted them, so no two
    shards ever write one item (concurrent transactions on one item fail with TransactionConflict)."""
    return {"pk": counter_partition(provider, account), "sk": f"{bucket}#{slot}"}


def counter_bucket(sort_key: str) -> str:
    """The bucket of a counter item's sort key (items written before slots have the bucket alone)."""
    return sort_key.split("#", 1)[0]


def stream_position_key(shard: str) -> Key:
    """The last stream sequence number counted for a shard."""
    return {"pk": f"STREAMPOS#{shard}", "sk": "POS"}


def scorecard_position_key(shard: str) -> Key:
    """The last stream sequence number a shard added to the scorecard (written once a window, apart
    from the counters' position)."""
    return {"pk": f"STREAMPOS#{shard}", "sk": "CARD"}


def scorecard_partition(hour: str) -> str:
    """Every scorecard row of one hour of submission (docs/statistics.md, "Provider scorecard")."""
    return f"CARD#{hour}"


def scorecard_key(provider: str, account: str, country: str, hour: str, writer: str) -> Key:
    """One writer's figures of one row: ``writer`` is the stream shard that added them (no two shards
    ever write one item), or ``recount``."""
    return {"pk": scorecard_partition(hour), "sk": f"{provider}#{account}#{country}#{writer}"}


def scorecard_prefix(provider: str | None = None, account: str | None = None) -> str:
    """The sort-key prefix of an hour's rows of one provider (and account): ``""`` for every row."""
    if provider is None:
        return ""
    return f"{provider}#" if account is None else f"{provider}#{account}#"


def scorecard_row_of(key: Key) -> tuple[str, str, str, str, str]:
    """(provider, account, country, hour, writer) of a scorecard item's key."""
    provider, account, country, writer = key["sk"].split("#", 3)
    return provider, account, country, key["pk"].removeprefix("CARD#"), writer


def lease_key(name: str) -> Key:
    return {"pk": f"LEASE#{name}", "sk": "LEASE"}


def cursor_key(name: str) -> Key:
    """A checkpoint: how far a feed has been read (Huawei window, monitor report)."""
    return {"pk": f"CURSOR#{name}", "sk": "CURSOR"}


# -- codec -----------------------------------------------------------------------------

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def typed(value: Any) -> dict[str, Any]:
    """One plain value as DynamoDB's typed value: the kinds the hub writes (text, whole numbers,
    lists and maps of them) directly, anything else through boto3's serializer. On the hot path:
    a report's update is a dozen values, and this is several times quicker than the serializer."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int:
        return {"N": str(value)}
    if kind is list:
        return {"L": [typed(item) for item in value]}
    if kind is dict:
        return {"M": {key: typed(item) for key, item in value.items()}}
    return _serialize(value)


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values -> DynamoDB's typed attribute values."""
    return {key: typed(value) for key, value in values.items()}


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
    """A plain message item as readers see it: its identity read off the key, its history named,
    and what the history already says of the latest report (``received_at``, ``source``,
    ``provider_time``) and of the first sight (``first_seen_at``) filled in: an item does not
    store them twice. Items written before keep the attributes they have."""
    found = with_identity(item)
    history = [read_history_entry(entry) for entry in found.get("history") or []]
    if "history" in found:
        found["history"] = history
    if history:
        latest = history[-1]
        for name in ("received_at", "source", "provider_time"):
            if latest.get(name):
                found.setdefault(name, latest[name])
    seen = [moment for moment in (found.get("registered_at"), history[0]["received_at"] if history else None) if moment]
    if seen:
        found.setdefault("first_seen_at", min(seen))
    return found


def read_image(image: dict[str, Any]) -> dict[str, Any]:
    """A stream record's (or a raw item's) typed attributes as plain values; a message as read_message reads it."""
    plain = from_item(image)
    return read_message(plain) if is_message(plain) else plain


def typed_key(key: Key) -> dict[str, dict[str, str]]:
    return {name: {"S": value} for name, value in key.items()}
