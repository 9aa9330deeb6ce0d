"""Leases and checkpoints kept in the messages table (keys: :mod:`dlrhub.table`).

A lease keeps two runs from working the same account at once: it is taken with a
conditional write (free, expired, or already ours) and given back at the end; a run that
dies leaves it to expire. A checkpoint remembers how far a feed has been read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dlrhub import aws
from dlrhub.table import cursor_key, lease_key, typed_key
from dlrhub.timefmt import iso


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
        reply = self._client.get_item(TableName=self._table, Key=typed_key(cursor_key(name)), ConsistentRead=True)
        return reply.get("Item", {}).get("value", {}).get("S")

    def save_checkpoint(self, name: str, value: str) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={**typed_key(cursor_key(name)), "value": {"S": value}},
        )
