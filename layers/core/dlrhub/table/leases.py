"""Leases and checkpoints kept in the messages table (keys: :mod:`dlrhub.table.keys`).

A lease keeps two runs from working the same account at once: it is taken with a
conditional write (free, expired, or already ours) and given back at the end; a run that
dies leaves it to expire. A checkpoint remembers how far a feed has been read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dlrhub.domain.times import iso
from dlrhub.runtime import clients as aws
from dlrhub.table.keys import cursor_key, from_item, lease_key, to_item, typed_key


class Coordination:
    def __init__(self, table_name: str, *, client: Any = None) -> None:
        self._client = client or aws.client("dynamodb")
        self._table = table_name

    def acquire(self, name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **typed_key(lease_key(name)),
                    "owner": {"S": owner},
                    "until": {"S": iso(now + ttl)},
                    "expires_at": {"N": str(int((now + ttl + timedelta(days=1)).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk) OR #until < :now OR #owner = :owner",
                ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
                ExpressionAttributeValues={":now": {"S": iso(now)}, ":owner": {"S": owner}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, name: str, owner: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=typed_key(lease_key(name)),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def checkpoint(self, name: str) -> str | None:
        value = self.cursor(name).get("value")
        return value if isinstance(value, str) else None

    def save_checkpoint(self, name: str, value: str) -> None:
        self.save_cursor(name, {"value": value})

    def cursor(self, name: str) -> dict[str, Any]:
        """A checkpoint's fields as plain values (``value``, and whatever else its feed keeps); {} when none."""
        reply = self._client.get_item(TableName=self._table, Key=typed_key(cursor_key(name)), ConsistentRead=True)
        return {k: v for k, v in from_item(reply.get("Item", {})).items() if k not in ("pk", "sk")}

    def save_cursor(self, name: str, fields: dict[str, Any]) -> None:
        """Replace a checkpoint's fields (text, whole numbers, maps of text)."""
        self._client.put_item(TableName=self._table, Item={**typed_key(cursor_key(name)), **to_item(fields)})
