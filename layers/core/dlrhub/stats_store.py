"""Counters in the messages table (keys: :func:`dlrhub.table.counter_key`).

A stream batch is applied in ONE transaction together with the shard's checkpoint (the
last sequence number applied), conditional on the batch being newer than it: a retried
or re-delivered batch changes nothing, so each transition is counted exactly once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dlrhub import aws
from dlrhub.stats import CounterKey
from dlrhub.table import counter_key, counter_partition, stream_position_key, typed_key
from dlrhub.timefmt import utc_now

#: Sequence numbers are compared as zero-padded text.
SEQUENCE_WIDTH = 64
MAX_COUNTER_ITEMS = 99  # a transaction holds 100 items, one is the checkpoint


def padded(sequence: str) -> str:
    return sequence.zfill(SEQUENCE_WIDTH)


class StatsStore:
    def __init__(self, table_name: str, *, client: Any = None) -> None:
        self._client = client or aws.client("dynamodb")
        self._table = table_name

    @property
    def client(self) -> Any:
        """The DynamoDB client, to share with the table's other stores (one per function)."""
        return self._client

    def apply_batch(self, shard: str, first: str, last: str, counts: dict[CounterKey, Counter[str]]) -> bool:
        """Add the batch's counts once. False when this batch was applied before."""
        if len(counts) > MAX_COUNTER_ITEMS:
            raise ValueError(f"a batch may touch at most {MAX_COUNTER_ITEMS} counters")
        expires = int((utc_now() + timedelta(days=2)).timestamp())
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": typed_key(stream_position_key(shard)),
                    "UpdateExpression": "SET #seq = :last, expires_at = :ttl",
                    "ConditionExpression": "attribute_not_exists(#seq) OR #seq < :first",
                    "ExpressionAttributeNames": {"#seq": "sequence"},
                    "ExpressionAttributeValues": {
                        ":last": {"S": padded(last)},
                        ":first": {"S": padded(first)},
                        ":ttl": {"N": str(expires)},
                    },
                }
            }
        ]
        for key, counter in counts.items():
            fields = sorted(counter)
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": typed_key(counter_key(key.provider, key.account, key.bucket)),
                        "UpdateExpression": "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(fields))),
                        "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(fields)},
                        "ExpressionAttributeValues": {
                            f":v{i}": {"N": str(counter[name])} for i, name in enumerate(fields)
                        },
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    def buckets(self, provider: str, account: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The counter items of buckets starting in ``[start, end)``."""
        items: list[dict[str, Any]] = []
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": {"S": counter_partition(provider, account)},
                ":from": {"S": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
                ":to": {"S": (end - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            },
            "ConsistentRead": True,
        }
        while True:
            reply = self._client.query(**args)
            for item in reply.get("Items", []):
                plain = {"bucket": item["sk"]["S"]}
                plain |= {k: int(v["N"]) for k, v in item.items() if "N" in v}
                items.append(plain)
            if "LastEvaluatedKey" not in reply:
                return items
            args["ExclusiveStartKey"] = reply["LastEvaluatedKey"]
