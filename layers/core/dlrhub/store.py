"""The DynamoDB store: one table, one item per message.

A report is applied with ONE conditional ``UpdateItem`` and no read. The condition is
built from :mod:`dlrhub.status`, so DynamoDB itself refuses a report that would move a
message backwards, whoever writes concurrently. The old item comes back with a refused
write (``ReturnValuesOnConditionCheckFailure``), which tells the caller why at no extra
cost.

Item layout (see docs/data-model.md):

``pk`` ``MSG#{provider}#{account}#{message_id}``, ``sk`` ``MSG``; ``status``,
``raw_status``, ``provider_time``, ``received_at``, ``event_time``, ``source``,
``history`` (list, bounded by :data:`dlrhub.status.HISTORY_LIMIT`), ``first_seen_at``,
``expires_at`` (TTL), and while the status is not final ``pending_pk``/``pending_sk``,
the keys of the sparse ``pending`` index.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from dlrhub.models import StatusReport
from dlrhub.status import HISTORY_LIMIT, Status, replaceable_by
from dlrhub.timefmt import iso

MESSAGE_SK = "MSG"
PENDING_INDEX = "pending"
PENDING_SHARDS = 8


def message_key(provider: str, account: str, message_id: str) -> dict[str, str]:
    return {"pk": f"MSG#{provider}#{account}#{message_id}", "sk": MESSAGE_SK}


def pending_partition(provider: str, account: str, message_id: str, shards: int = PENDING_SHARDS) -> str:
    """Pending messages of one account are spread over ``shards`` index partitions."""
    shard = zlib.crc32(message_id.encode()) % shards
    return f"PENDING#{provider}#{account}#{shard}"


class Outcome(StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"


@dataclass(frozen=True)
class ApplyResult:
    outcome: Outcome
    #: For an ignored report: the stored status that outranked it.
    stored_status: Status | None = None


def build_status_update(report: StatusReport, retention: timedelta) -> dict[str, Any]:
    """The ``UpdateItem`` arguments (less table and key) that apply ``report``. Pure."""
    event_time = iso(report.event_time)
    received_at = iso(report.received_at)
    entry: dict[str, Any] = {
        "status": report.status.value,
        "raw_status": report.raw_status,
        "event_time": event_time,
        "received_at": received_at,
        "source": report.source.value,
    }
    if report.details:
        entry["details"] = dict(report.details)
    names = {
        "#status": "status",
        "#raw": "raw_status",
        "#event_time": "event_time",
        "#received_at": "received_at",
        "#source": "source",
        "#history": "history",
        "#provider": "provider",
        "#account": "account",
        "#message_id": "message_id",
        "#first_seen": "first_seen_at",
        "#expires": "expires_at",
        "#ppk": "pending_pk",
        "#psk": "pending_sk",
    }
    values: dict[str, Any] = {
        ":status": report.status.value,
        ":raw": report.raw_status,
        ":event_time": event_time,
        ":received_at": received_at,
        ":source": report.source.value,
        ":entry": [entry],
        ":empty": [],
        ":provider": report.provider,
        ":account": report.account,
        ":message_id": report.message_id,
        ":expires": int((report.received_at + retention).timestamp()),
    }
    sets = [
        "#status = :status",
        "#raw = :raw",
        "#event_time = :event_time",
        "#received_at = :received_at",
        "#source = :source",
        "#history = list_append(if_not_exists(#history, :empty), :entry)",
        "#provider = :provider",
        "#account = :account",
        "#message_id = :message_id",
        "#first_seen = if_not_exists(#first_seen, :received_at)",
        "#expires = if_not_exists(#expires, :expires)",
    ]
    removes: list[str] = []
    if report.provider_time is not None:
        names["#provider_time"] = "provider_time"
        values[":provider_time"] = iso(report.provider_time)
        sets.append("#provider_time = :provider_time")
    if report.destination:
        names["#destination"] = "destination"
        values[":destination"] = report.destination
        sets.append("#destination = if_not_exists(#destination, :destination)")
    if report.details:
        names["#details"] = "provider_details"
        values[":details"] = dict(report.details)
        sets.append("#details = :details")
    if report.status.is_final:
        removes += ["#ppk", "#psk"]
    else:
        values[":ppk"] = pending_partition(report.provider, report.account, report.message_id)
        values[":psk"] = f"{received_at}#{report.message_id}"
        sets += ["#ppk = :ppk", "#psk = if_not_exists(#psk, :psk)"]

    condition = ["attribute_not_exists(#status)"]
    allowed = sorted(replaceable_by(report.status) - {Status.PENDING})
    if Status.PENDING in replaceable_by(report.status):
        values[":pending"] = Status.PENDING.value
        if report.status is Status.PENDING:
            values[":history_limit"] = HISTORY_LIMIT
            condition.append(
                "(#status = :pending AND #event_time < :event_time"
                " AND (attribute_not_exists(#history) OR size(#history) < :history_limit))"
            )
        else:
            condition.append("#status = :pending")
    for index, status in enumerate(allowed):
        values[f":from{index}"] = status.value
        condition.append(f"#status = :from{index}")

    expression = "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return {
        "UpdateExpression": expression,
        "ConditionExpression": " OR ".join(condition),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _serialize(value) for key, value in values.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserialize(value) for key, value in item.items()}


class MessageStore:
    """Messages and their statuses in one DynamoDB table. Thread-safe (boto3 clients are)."""

    def __init__(self, table_name: str, *, retention_days: int = 90, client: Any = None) -> None:
        self._client = client or boto3.client("dynamodb")
        self._table = table_name
        self._retention = timedelta(days=retention_days)

    def apply(self, report: StatusReport) -> ApplyResult:
        """Apply one report: stored if the rules let it in, ignored (not an error) if not."""
        key = message_key(report.provider, report.account, report.message_id)
        update = build_status_update(report, self._retention)
        update["ExpressionAttributeValues"] = to_item(update["ExpressionAttributeValues"])
        try:
            self._client.update_item(TableName=self._table, Key=to_item(key), **update)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old = error.response.get("Item") or {}
            stored = old.get("status", {}).get("S")
            return ApplyResult(Outcome.IGNORED, Status(stored) if stored else None)
        return ApplyResult(Outcome.APPLIED)

    def get(self, provider: str, account: str, message_id: str) -> dict[str, Any] | None:
        reply = self._client.get_item(
            TableName=self._table, Key=to_item(message_key(provider, account, message_id)), ConsistentRead=True
        )
        return from_item(reply["Item"]) if "Item" in reply else None
